"""Scenario files: load, validate (every problem at once), chain baselines, resolve parameters.

A scenario file is TOML: a ``[scenario]`` header (title, author, reference, baseline, description) and
only the changes against its baseline. ``baseline = "other.toml"`` (relative to the file) chains
scenarios; with no baseline the catalogue defaults are the baseline. For a parameter that varies by
year, a scalar sets every year and a table ``{2018 = 0.5, 2020 = 0.4}`` sets the value from each listed
year until the next listed year (and to 2022 after the last one); years before the first listed year
keep the baseline's values.

Examples
--------
>>> from model.scenario import load_scenario
>>> sc = load_scenario("scenarios/cog_2018_2022.toml")            # doctest: +SKIP
>>> sc.parametres["organismes.cnaf.taux_remplacement"]            # doctest: +SKIP
array([1.05, 0.95, 0.8 , 0.8 , 0.8 , 0.6 , 0.6 , 0.6 , 0.6 , 0.6 ])
"""

from __future__ import annotations

import datetime as dt
import difflib
import functools
import hashlib
import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any, Iterator, Sequence

import numpy as np

from .calendrier import ANNEES, DERNIERE_ANNEE, ORGANISMES, PREMIERE_ANNEE, date_du_mois, N_MOIS
from .catalogue import Parameter, load_catalogue, lookup, organisme_names, section_names, top_level_names
from .errors import MISSING, InputError, Problem
from .lecture import lire_octets, lire_toml

HEADER_KEYS = ("title", "author", "reference", "baseline", "description")
TOUS = "tous"  # organismes.tous.X sets X for every organisme (specific organismes override it)
DATE_MIN = date_du_mois(0)
DATE_MAX = date_du_mois(N_MOIS - 1)


# ----------------------------------------------------------------------------- resolved parameters
class Parametres(Mapping):
    """An immutable, fully resolved parameter set: resolved path -> value.

    Values: Python scalars (float, int, str, ``datetime.date``); read-only ``numpy`` arrays over
    ``ANNEES`` for parameters that vary by year; tuples of ``(key, value)`` pairs for tables;
    read-only mappings for shares; tuples of read-only mappings for event lists.
    """

    def __init__(self, values: Mapping[str, Any]):
        self._values = dict(values)

    def __getitem__(self, path: str) -> Any:
        return self._values[path]

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def par_organisme(self, name: str) -> np.ndarray:
        """Values of an organisme parameter stacked over ``ORGANISMES``: shape (organisme,) or
        (organisme, year) for parameters that vary by year."""
        return np.stack([np.asarray(self._values[f"organismes.{o}.{name}"], dtype=float) for o in ORGANISMES])

    def yro(self, path: str) -> np.ndarray:
        """A numeric parameter shaped to broadcast against (year, batch, organisme) arrays: (1, 1, 1), or
        (year, 1, 1) when it varies by year; ``ParametresLot`` gives (·, batch, 1) when it differs
        between the points of a batch."""
        v = np.asarray(self[path], dtype=float)
        return v.reshape(-1, 1, 1) if v.ndim else v.reshape(1, 1, 1)

    def yro_organisme(self, name: str) -> np.ndarray:
        """An organisme parameter shaped to broadcast against (year, batch, organisme) arrays:
        (1 or year, 1, organisme); ``ParametresLot`` gives (·, batch, organisme) when it differs."""
        v = self.par_organisme(name)
        return v.T[:, None, :] if v.ndim == 2 else v[None, None, :]

    def table(self, path: str) -> tuple[np.ndarray, np.ndarray]:
        """Keys and values of a table parameter, sorted by key."""
        pairs = self._values[path]
        return np.array([k for k, _ in pairs], float), np.array([v for _, v in pairs], float)

    def with_values(self, changes: Mapping[str, Any]) -> "Parametres":
        """A new parameter set with ``changes`` applied (values already resolved)."""
        new = dict(self._values)
        new.update(changes)
        return Parametres(new)

    def to_json(self) -> dict[str, Any]:
        """A JSON-serialisable copy (for ``manifest.json``)."""
        return {k: _jsonable(v) for k, v in self._values.items()}


class ParametresLot(Parametres):
    """The parameters of a batch of grid points (``points × replicates`` batch elements, point-major).

    Reads as the first point's parameters (``Parametres``); the paths in ``varies`` differ between the
    points, and the post-processing reads them per batch element through :meth:`lot` (and the
    DataArray helpers of :mod:`model.productivite`, which give them a ``replicate`` dim).
    """

    def __init__(self, points: Sequence[Parametres], replicates: int, paths: Sequence[str]):
        super().__init__(dict(points[0]))
        self.replicates = replicates
        self.n_points = len(points)
        self._lot: dict[str, np.ndarray] = {}
        for path in paths:
            rows = np.stack([np.asarray(p[path], dtype=float) for p in points])
            if not np.array_equal(rows, np.broadcast_to(rows[0], rows.shape), equal_nan=True):
                self._lot[path] = np.repeat(rows, replicates, axis=0)

    @property
    def varies(self) -> frozenset[str]:
        return frozenset(self._lot)

    def lot(self, path: str) -> np.ndarray | None:
        """Values per batch element, shape (batch, ...), or None when all points share the value."""
        return self._lot.get(path)

    def yro(self, path: str) -> np.ndarray:
        lot = self._lot.get(path)
        if lot is None:
            return super().yro(path)
        return lot.T[:, :, None] if lot.ndim == 2 else lot[None, :, None]

    def yro_organisme(self, name: str) -> np.ndarray:
        lot = self.lot_organisme(name)
        if lot is None:
            return super().yro_organisme(name)
        return np.transpose(lot, (2, 0, 1)) if lot.ndim == 3 else lot[None, :, :]

    def lot_organisme(self, name: str) -> np.ndarray | None:
        """``par_organisme`` per batch element, shape (batch, organisme[, year]), or None."""
        paths = [f"organismes.{o}.{name}" for o in ORGANISMES]
        if not any(p in self._lot for p in paths):
            return None
        base = self.par_organisme(name)
        return np.stack([self._lot[p] if p in self._lot else np.broadcast_to(base[i], (self.n_points * self.replicates,
                                                                                     *base.shape[1:]))
                         for i, p in enumerate(paths)], axis=1)


def _jsonable(v: Any) -> Any:
    if isinstance(v, np.ndarray):
        return {str(y): _jsonable(float(x)) for y, x in zip(ANNEES, v)}
    if isinstance(v, dt.date):
        return v.isoformat()
    if isinstance(v, float) and math.isinf(v):
        return "inf" if v > 0 else "-inf"
    if isinstance(v, Mapping):
        return {str(k): _jsonable(x) for k, x in v.items()}
    if isinstance(v, tuple):
        if v and isinstance(v[0], tuple):  # table pairs
            return {_fmt_key(k): _jsonable(x) for k, x in v}
        return [_jsonable(x) for x in v]
    return v


def _fmt_key(k: float) -> str:
    return str(int(k)) if float(k).is_integer() else str(k)


# ----------------------------------------------------------------------------- the scenario
@dataclass(frozen=True)
class Scenario:
    """A loaded, validated scenario.

    Attributes
    ----------
    file : the scenario file.
    header : the ``[scenario]`` table.
    chain : the files read, from the root baseline to this file.
    parametres : the fully resolved parameters.
    baseline : the parameters of the baseline (catalogue defaults, or the named baseline file).
    warnings : soft-bound warnings, recorded with the results.
    hashes : sha256 of every file read.
    """

    file: Path
    header: Mapping[str, str]
    chain: tuple[Path, ...]
    parametres: Parametres
    baseline: Parametres
    warnings: tuple[Problem, ...]
    hashes: Mapping[str, str]

    @property
    def name(self) -> str:
        return self.file.stem


@functools.cache
def default_parametres() -> Parametres:
    """The baseline: the catalogue defaults, resolved, with the fitted parameters of
    ``calibration/parametres_calibres.toml`` on top (written by ``cogsim calibrate``)."""
    from .calibration import parametres_calibres  # reads and validates the fitted file

    values = dict(catalogue_defaults())
    for path, raw in parametres_calibres().items():
        values[path] = _resolve_value(lookup(path), raw, values[path])
    return Parametres(values)


@functools.cache
def catalogue_defaults() -> Parametres:
    """The catalogue defaults alone, resolved (before calibration)."""
    values: dict[str, Any] = {}
    for p in load_catalogue().values():
        if p.by_organisme:
            d = p.default
            for o in ORGANISMES:
                v = d[o] if isinstance(d, dict) and o in d else d
                values[f"organismes.{o}.{p.name}"] = _resolve_value(p, v, None)
        else:
            values[p.path] = _resolve_value(p, p.default, None)
    return Parametres(values)


def _resolve_value(p: Parameter, v: Any, previous: Any) -> Any:
    """Turn a validated raw value into its resolved form, on top of ``previous`` for by-year values."""
    if p.by_year:
        base = np.full(len(ANNEES), np.nan) if previous is None else np.array(previous, dtype=float)
        if isinstance(v, dict):
            items = sorted((int(k), float(x)) for k, x in v.items())
            for i, (year, x) in enumerate(items):
                end = items[i + 1][0] if i + 1 < len(items) else DERNIERE_ANNEE + 1
                base[year - PREMIERE_ANNEE:end - PREMIERE_ANNEE] = x
        else:
            base[:] = float(v)
        base.setflags(write=False)
        return base
    if p.type == "float":
        return float(v)
    if p.type == "int":
        return int(v)
    if p.type == "date":
        return v if isinstance(v, dt.date) else dt.date.fromisoformat(v)
    if p.type == "table":
        return tuple(sorted((float(k), float(x)) for k, x in v.items()))
    if p.type == "shares":
        return MappingProxyType({k: float(v.get(k, 0.0)) for k in p.keys})
    if p.type == "events":
        merged = {e[p.key]: e for e in (previous or ())}
        for e in v:
            e = {k: (dt.date.fromisoformat(x) if p.fields[k]["type"] == "date" and isinstance(x, str) else x)
                 for k, x in e.items()}
            merged[e[p.key]] = MappingProxyType(e)
        return tuple(merged.values())
    return v


# ----------------------------------------------------------------------------- reading files
def _read_toml(path: Path, shown: str, problems: list[Problem]) -> dict | None:
    """Read a scenario file through the bounded reader; its problems go to ``problems``."""
    try:
        return lire_toml(path, shown, "TOML file")
    except InputError as exc:
        problems.extend(exc.problems)
        return None


def file_hash(path: Path) -> str:
    """sha256 of a file, read through the bounded reader."""
    return hashlib.sha256(lire_octets(path, _shown(path))).hexdigest()


# ----------------------------------------------------------------------------- validation
class _Validator:
    """Checks one scenario file's raw dict against the catalogue, collecting problems."""

    def __init__(self, shown: str, problems: list[Problem]):
        self.shown = shown
        self.problems = problems

    def err(self, path: str, value: Any, message: str, allowed: str = "") -> None:
        self.problems.append(Problem(self.shown, path, value, message, allowed))

    def warn(self, path: str, value: Any, message: str, allowed: str = "") -> None:
        self.problems.append(Problem(self.shown, path, value, message, allowed, "warning"))

    def unknown(self, path: str, value: Any, name: str, candidates: list[str]) -> None:
        close = difflib.get_close_matches(name, candidates, n=1, cutoff=0.6)
        hint = f"unknown key; did you mean '{close[0]}'?" if close else "unknown key"
        self.err(path, value, hint, ", ".join(sorted(candidates)))

    # -- the whole file: returns [(parameter, resolved path or None for organismes.tous, raw value)]
    def check_file(self, raw: dict) -> tuple[dict, list[tuple[Parameter, str, Any]]]:
        header = raw.get("scenario", MISSING)
        changes: list[tuple[Parameter, str, Any]] = []
        # a file without a [scenario] table is not a scenario (a wrong path, a secrets file): nothing
        # else of it is checked, so that no message quotes its content
        if header is MISSING:
            self.err("scenario", MISSING, "missing header table [scenario]", "a [scenario] table with a title")
            return {}, changes
        if not isinstance(header, dict):
            self.err("scenario", MISSING, "wrong type", "a table [scenario] with a title")
            return {}, changes
        else:
            for k, v in header.items():
                if k not in HEADER_KEYS:
                    self.unknown(f"scenario.{k}", v, k, list(HEADER_KEYS))
                elif not isinstance(v, str):
                    self.err(f"scenario.{k}", v, "wrong type", "a string")
            if "title" not in header:
                self.err("scenario.title", MISSING, "missing title", "a non-empty string")
            elif isinstance(header["title"], str) and not header["title"].strip():
                self.err("scenario.title", header["title"], "empty title", "a non-empty string")
        for top, value in raw.items():
            if top == "scenario":
                continue
            if top == "organismes":
                self._check_organismes(value, changes)
                continue
            p = load_catalogue().get(top)
            if p is not None and p.type == "events":
                self._check_events(p, top, value, changes)
                continue
            if top not in top_level_names() or top == "organismes":
                self.unknown(top, value if not isinstance(value, dict) else MISSING, top,
                             [n for n in top_level_names()] + ["scenario"])
                continue
            if not isinstance(value, dict):
                self.err(top, value, "wrong type", "a table of parameters")
                continue
            names = section_names(top)
            for name, v in value.items():
                path = f"{top}.{name}"
                p = load_catalogue().get(path)
                if p is None:
                    self.unknown(path, v if not isinstance(v, dict) else MISSING, name, names)
                elif self.check_value(p, path, v):
                    changes.append((p, path, v))
        return header, changes

    def _check_organismes(self, value: Any, changes: list) -> None:
        if not isinstance(value, dict):
            self.err("organismes", value, "wrong type", "a table of organismes")
            return
        names = organisme_names()
        # organismes.tous first, so that specific organismes override it
        for org in sorted(value, key=lambda o: o != TOUS):
            table = value[org]
            if org not in ORGANISMES and org != TOUS:
                close = difflib.get_close_matches(org, list(ORGANISMES), n=1)
                hint = f"unknown organisme; did you mean '{close[0]}'?" if close else "unknown organisme"
                self.err(f"organismes.{org}", MISSING, hint, ", ".join(ORGANISMES + (TOUS,)))
                continue
            if not isinstance(table, dict):
                self.err(f"organismes.{org}", table, "wrong type", "a table of parameters")
                continue
            for name, v in table.items():
                path = f"organismes.{org}.{name}"
                p = load_catalogue().get(f"organismes.*.{name}")
                if p is None:
                    self.unknown(path, v if not isinstance(v, dict) else MISSING, name, names)
                elif self.check_value(p, path, v):
                    targets = ORGANISMES if org == TOUS else (org,)
                    for o in targets:
                        changes.append((p, f"organismes.{o}.{name}", v))

    def _check_events(self, p: Parameter, path: str, value: Any, changes: list) -> None:
        if not isinstance(value, list) or not all(isinstance(e, dict) for e in value):
            self.err(path, value if not isinstance(value, list) else MISSING, "wrong type",
                     f"an array of tables [[{path}]]")
            return
        ok = True
        seen: set = set()
        for i, e in enumerate(value):
            where = f"{path}[{i}]"
            for fname, spec in p.fields.items():
                if fname not in e:
                    kind = {"str": "a string", "date": "a date YYYY-MM-01", "int": "an integer",
                            "float": "a number", "organisme": "an organisme"}[spec["type"]]
                    self.err(f"{where}.{fname}", MISSING, "missing field", f"{kind}: {spec.get('title', fname)}")
                    ok = False
            for fname, v in e.items():
                spec = p.fields.get(fname)
                if spec is None:
                    self.unknown(f"{where}.{fname}", v, fname, list(p.fields))
                    ok = False
                    continue
                ok &= self._check_field(f"{where}.{fname}", v, spec)
            k = e.get(p.key)
            if k in seen:
                self.err(f"{where}.{p.key}", k, "duplicate key", f"a {p.key} used once in [[{path}]]")
                ok = False
            seen.add(k)
            if "debut" in e and "fin" in e and ok:
                d0, d1 = _as_date(e["debut"]), _as_date(e["fin"])
                if d0 and d1 and d1 <= d0:
                    self.err(f"{where}.fin", e["fin"], "ends before it starts", f"a date after debut = {e['debut']}")
                    ok = False
        if ok:
            changes.append((p, path, value))

    def _check_field(self, path: str, v: Any, spec: dict) -> bool:
        t = spec["type"]
        if t == "organisme":
            if v not in ORGANISMES:
                self.err(path, v, "unknown organisme", ", ".join(ORGANISMES))
                return False
            return True
        if t == "str":
            if not isinstance(v, str):
                self.err(path, v, "wrong type", "a string")
                return False
            if "choices" in spec and v not in spec["choices"]:
                self.err(path, v, "not an allowed value", ", ".join(repr(c) for c in spec["choices"]))
                return False
            return True
        if t == "date":  # an end date ("first month no longer ...") may be 2023-01-01
            return self._check_date(path, v, DATE_MIN, date_du_mois(N_MOIS) if path.endswith(".fin") else DATE_MAX)
        return self._check_number(path, v, t, spec.get("min"), spec.get("max"),
                                  spec.get("warn_min"), spec.get("warn_max"))

    # -- one value
    def check_value(self, p: Parameter, path: str, v: Any) -> bool:
        if p.by_year and isinstance(v, dict):
            if not v:
                self.err(path, v, "empty table", "at least one year")
                return False
            ok = True
            keys: dict[int, str] = {}
            for k, x in v.items():
                try:
                    year = int(k)
                except ValueError:
                    self.err(f"{path}.{k}", x, "bad year", f"a year from {PREMIERE_ANNEE} to {DERNIERE_ANNEE}")
                    ok = False
                    continue
                if not PREMIERE_ANNEE <= year <= DERNIERE_ANNEE:
                    self.err(f"{path}.{k}", x, "bad year", f"a year from {PREMIERE_ANNEE} to {DERNIERE_ANNEE}")
                    ok = False
                    continue
                if year in keys:
                    self.err(f"{path}.{k}", x, f"year {year} given twice (keys '{keys[year]}' and '{k}')",
                             "each year once")
                    ok = False
                    continue
                keys[year] = k
                ok &= self._check_scalar(p, f"{path}.{k}", x)
            return ok
        return self._check_scalar(p, path, v)

    def _check_scalar(self, p: Parameter, path: str, v: Any) -> bool:
        t = p.type
        if t in ("float", "int"):
            lo = p.min if not isinstance(p.min, str) else None
            hi = p.max if not isinstance(p.max, str) else None
            return self._check_number(path, v, t, lo, hi, p.warn_min, p.warn_max, p.by_year)
        if t == "str":
            if not isinstance(v, str):
                self.err(path, v, "wrong type", p.allowed())
                return False
            if p.choices and v not in p.choices:
                self.err(path, v, "not an allowed value", p.allowed())
                return False
            return True
        if t == "bool":
            if not isinstance(v, bool):
                self.err(path, v, "wrong type", "true or false")
                return False
            return True
        if t == "date":
            return self._check_date(path, v, DATE_MIN, DATE_MAX)
        if t == "table":
            if not isinstance(v, dict) or not v:
                self.err(path, v, "wrong type", "a non-empty table {key = number}")
                return False
            ok = True
            keys: dict[float, str] = {}
            for k, x in v.items():
                try:
                    key = float(k)
                except ValueError:
                    self.err(f"{path}.{k}", x, "key is not a number", f"numbers in [{p.key_min}, {p.key_max}]")
                    ok = False
                    continue
                if key in keys:
                    self.err(f"{path}.{k}", x, f"key {key:g} given twice (keys '{keys[key]}' and '{k}')",
                             "each key once")
                    ok = False
                    continue
                keys[key] = k
                if not p.key_min <= key <= p.key_max:
                    self.err(f"{path}.{k}", x, "key out of range", f"[{p.key_min}, {p.key_max}]")
                    ok = False
                ok &= self._check_number(f"{path}.{k}", x, "float", p.min, p.max, p.warn_min, p.warn_max)
            return ok
        if t == "shares":
            if not isinstance(v, dict):
                self.err(path, v, "wrong type", p.allowed())
                return False
            ok = True
            for k, x in v.items():
                if k not in p.keys:
                    close = difflib.get_close_matches(k, list(p.keys), n=1)
                    hint = f"unknown key; did you mean '{close[0]}'?" if close else "unknown key"
                    self.err(f"{path}.{k}", x, hint, ", ".join(p.keys))
                    ok = False
                else:
                    ok &= self._check_number(f"{path}.{k}", x, "float", 0.0, 1.0, None, None)
            if ok:
                total = sum(float(x) for x in v.values())
                if abs(total - 1.0) > 1e-6:
                    self.err(path, v, f"shares sum to {total:g}", "shares summing to 1")
                    ok = False
            return ok
        raise AssertionError(t)

    def _check_number(self, path, v, t, lo, hi, wlo, whi, by_year=False) -> bool:
        allowed = _range_text(t, lo, hi) + (" (or a table {year = value})" if by_year else "")
        if isinstance(v, bool) or not isinstance(v, (int, float)) or (t == "int" and not isinstance(v, int)):
            self.err(path, v, "wrong type", allowed)
            return False
        if isinstance(v, float) and math.isnan(v):
            self.err(path, v, "not a number", allowed)
            return False
        if (lo is not None and v < lo) or (hi is not None and v > hi):
            self.err(path, v, "out of range", allowed)
            return False
        if (wlo is not None and v < wlo) or (whi is not None and v > whi):
            self.warn(path, v, "outside the usual range", _range_text(t, wlo, whi))
        return True

    def _check_date(self, path: str, v: Any, lo: dt.date, hi: dt.date) -> bool:
        d = _as_date(v)
        allowed = f"a date YYYY-MM-01 from {lo} to {hi}"
        if d is None:
            self.err(path, v, "wrong type", allowed)
            return False
        if d.day != 1:
            self.err(path, v, "not the first day of a month (the clock is monthly)", allowed)
            return False
        if not lo <= d <= hi:
            self.err(path, v, "out of range", allowed)
            return False
        return True


def _as_date(v: Any) -> dt.date | None:
    if isinstance(v, dt.datetime):
        return None
    if isinstance(v, dt.date):
        return v
    if isinstance(v, str):
        try:
            return dt.date.fromisoformat(v)
        except ValueError:
            return None
    return None


def _range_text(t: str, lo, hi) -> str:
    kind = "an integer" if t == "int" else "a number"
    fmt = (lambda b: str(int(b))) if t == "int" else (lambda b: f"{b:g}")  # noqa: E731
    lo_s = None if lo is None else ("-inf" if lo == -math.inf else fmt(lo))
    hi_s = None if hi is None else ("inf" if hi == math.inf else fmt(hi))
    if lo_s is not None and hi_s is not None:
        return f"{kind} in [{lo_s}, {hi_s}]"
    if lo_s is not None:
        return f"{kind} >= {lo_s}"
    if hi_s is not None:
        return f"{kind} <= {hi_s}"
    return kind


# ----------------------------------------------------------------------------- cross-parameter bounds
def _cross_checks(values: Mapping[str, Any], shown: str, problems: list[Problem]) -> None:
    cat = load_catalogue()
    for p in cat.values():
        for side in ("min", "max"):
            other = getattr(p, side)
            if not isinstance(other, str):
                continue
            for path in p.paths():
                v = values[path]
                o_path = other.replace("*", path.split(".")[1]) if "*" in other else other
                o = values[o_path]
                va, oa = (np.asarray(v), np.asarray(o)) if not isinstance(v, dt.date) else (v, o)
                bad = np.any(va < oa) if side == "min" else np.any(va > oa)
                if bad:
                    rel = ">=" if side == "min" else "<="
                    shown_v = v if isinstance(v, (dt.date, int, float)) else _jsonable(v)
                    problems.append(Problem(shown, path, shown_v, "violates a cross-parameter bound",
                                            f"{rel} {o_path} = {_jsonable(o)}"))
    for e_path in ("mutualisations", "gels_recrutement"):
        for i, e in enumerate(values[e_path]):
            if e_path == "mutualisations" and values["transfert_rsi.date_principale"] <= e["debut"] \
                    and e["organisme"] == "rsi":
                problems.append(Problem(shown, f"{e_path}[{i}].debut", e["debut"],
                                        "the ex-RSI has no staff after the bulk transfer",
                                        f"a date before transfert_rsi.date_principale = "
                                        f"{values['transfert_rsi.date_principale']}"))
    _check_pooled_shares(values["mutualisations"], shown, problems)


def _check_pooled_shares(waves: Sequence[Mapping[str, Any]], shown: str, problems: list[Problem]) -> None:
    """The waves of one organisme cannot pool more than all of its staff."""
    by_org: dict[str, list[Mapping[str, Any]]] = {}
    for e in waves:
        by_org.setdefault(e["organisme"], []).append(e)
    for org, es in by_org.items():
        total = sum(float(e["part_effectifs"]) for e in es)
        if total > 1.0 + 1e-9:
            shares = {e["nom"]: e["part_effectifs"] for e in es}
            problems.append(Problem(shown, "mutualisations.part_effectifs", shares,
                                    f"the waves of {org} pool {total:.0%} of its staff",
                                    "shares of one organisme's waves summing to at most 1"))


# ----------------------------------------------------------------------------- loading
def load_scenario(path: str | Path, overrides: Mapping[str, Any] | None = None,
                  overrides_source: str = "command line") -> Scenario:
    """Load, validate and resolve a scenario file and its baseline chain.

    Parameters
    ----------
    path : the scenario TOML file.
    overrides : extra ``{path: raw value}`` changes applied last (command-line options), validated
        like file values and reported under ``overrides_source``.

    Raises
    ------
    InputError
        With every problem found in every file of the chain.
    """
    path = Path(path)
    problems: list[Problem] = []
    chain: list[tuple[Path, dict, list]] = []
    seen: list[Path] = []
    current: Path | None = path
    referrer: tuple[str, str] | None = None
    while current is not None:
        shown = _shown(current)
        resolved = current.resolve()
        if resolved in seen:
            cycle = " -> ".join(_shown(s) for s in seen + [resolved])
            problems.append(Problem(referrer[0], "scenario.baseline", referrer[1], f"circular baseline ({cycle})",
                                    "a chain of baselines without a loop"))
            break
        seen.append(resolved)
        if referrer is not None and not current.exists():
            problems.append(Problem(referrer[0], "scenario.baseline", referrer[1], "baseline file not found",
                                    f"an existing file relative to {Path(referrer[0]).parent or '.'}"))
            break
        raw = _read_toml(current, shown, problems)
        if raw is None:
            break
        v = _Validator(shown, problems)
        header, changes = v.check_file(raw)
        chain.append((current, header, changes))
        base = header.get("baseline") if isinstance(header.get("baseline"), str) else None
        if base:
            referrer = (shown, base)
            current = current.parent / base
        else:
            current = None
    override_changes: list = []
    if overrides:
        v = _Validator(overrides_source, problems)
        for opath, value in overrides.items():
            p = lookup(opath)
            if p is None:
                v.unknown(opath, value, opath, [q for p in load_catalogue().values() for q in p.paths()])
            elif v.check_value(p, opath, value):
                parts = opath.split(".")
                if p.by_organisme and parts[1] == TOUS:  # every organisme, as in scenario files
                    override_changes.extend((p, f"organismes.{o}.{parts[2]}", value) for o in ORGANISMES)
                else:
                    override_changes.append((p, opath, value))

    # a file of the chain that could not be read leaves nothing to cross-check; otherwise the
    # cross-parameter bounds are checked on the valid values, so every problem is reported at once
    if any(p.severity == "error" and (not p.path or p.path == "scenario.baseline" or "duplicate key" in p.message)
           for p in problems):
        raise InputError(problems)

    files = list(reversed(chain))  # root baseline first, this scenario last
    values = dict(default_parametres())
    baseline_values = dict(values)
    state_set_by: tuple[str, str] | None = None
    for i, (f, _header, changes) in enumerate(files + [(Path.cwd() / "_", {}, override_changes)]):
        if i == len(files) - 1:
            baseline_values = dict(values)
        for p, cpath, raw in changes:
            if cpath == "etat_initial.fichier" and raw:
                # a data file is relative to the scenario file that names it
                state_set_by = (overrides_source if i == len(files) else _shown(f), raw)
                raw = str(Path(raw) if Path(raw).is_absolute() else (f.parent / raw).resolve())
            values[cpath] = _resolve_value(p, raw, values[cpath])
    _cross_checks(values, _shown(path), problems)
    if state_set_by is not None and values["etat_initial.fichier"]:
        _check_state_file(values["etat_initial.fichier"], state_set_by, problems)
    errors = [p for p in problems if p.severity == "error"]
    if errors:
        raise InputError(problems)
    header = chain[0][1]
    hashes = {_shown(f): file_hash(f) for f, _, _ in files}
    return Scenario(
        file=path,
        header=MappingProxyType(dict(header)),
        chain=tuple(f for f, _, _ in files),
        parametres=Parametres(values),
        baseline=Parametres(baseline_values),
        warnings=tuple(p for p in problems if p.severity == "warning"),
        hashes=MappingProxyType(hashes),
    )


def _check_state_file(fichier: str, set_by: tuple[str, str], problems: list[Problem]) -> None:
    """Read the initial-state CSV a scenario names, so that ``check`` reports its problems too."""
    from .etat_initial import read_csv  # the initial state builds on this module

    if not Path(fichier).exists():  # anything else that is not a regular file is refused by read_csv
        problems.append(Problem(set_by[0], "etat_initial.fichier", set_by[1], f"file not found ({fichier})",
                                "a CSV file, relative to the scenario file that names it"))
        return
    try:
        read_csv(fichier)
    except InputError as exc:
        problems.extend(exc.problems)


def _shown(path: Path) -> str:
    """A path as the user should read it: relative to the working directory when possible."""
    try:
        return str(Path(path).resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def check_scenarios(paths: list[str | Path]) -> tuple[list[Problem], list[Problem]]:
    """Validate several files; returns (errors, warnings) over all of them."""
    errors: list[Problem] = []
    warnings: list[Problem] = []
    for p in paths:
        try:
            sc = load_scenario(p)
            warnings.extend(sc.warnings)
        except InputError as exc:
            errors.extend(exc.problems)
    return errors, warnings
