"""Validation of raw parameter values against the catalogue (types, bounds, by-year tables, events), and the
bounds that tie several parameters together; every problem is collected, none raised alone.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any, Sequence

import numpy as np

from model.params.calendrier import HORIZON_DEFAUT, ORGANISMES, Horizon
from model.params.catalogue import Parameter, load_catalogue, organisme_names, section_names, top_level_names
from model.params.errors import MISSING, Problem, unknown_name
from model.params.parametres import horizon_de, jsonable

HEADER_KEYS = ("title", "author", "reference", "baseline", "description")


TOUS = "tous"  # organismes.tous.X sets X for every organisme (specific organismes override it)


def resolve_value(p: Parameter, v: Any, previous: Any, horizon: Horizon = HORIZON_DEFAUT) -> Any:
    """Turn a validated raw value into its resolved form, on top of ``previous`` for by-year values.

    A by-year table sets each listed year's value until the next listed year, and to the end of
    ``horizon`` after the last one; a year listed before the horizon gives the value in force at its
    start (until the next listed year), a year after it is not simulated."""
    if p.by_year:
        n = horizon.n_annees
        base = np.full(n, np.nan) if previous is None else np.array(previous, dtype=float)
        if base.shape != (n,):
            raise ValueError(f"{p.path}: {base.shape} values for the horizon {horizon}")
        if isinstance(v, dict):
            items = sorted((int(k), float(x)) for k, x in v.items())
            for i, (year, x) in enumerate(items):
                end = items[i + 1][0] if i + 1 < len(items) else horizon.derniere + 1
                lo, hi = max(year, horizon.premiere) - horizon.premiere, min(end, horizon.derniere + 1) - horizon.premiere
                if lo < hi:
                    base[lo:hi] = x
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


# ----------------------------------------------------------------------------- validation
class Validator:
    """Checks one scenario file's raw dict against the catalogue, collecting problems."""

    def __init__(self, shown: str, problems: list[Problem], horizon: Horizon = HORIZON_DEFAUT,
                 passe: bool = False, futur: bool = False):
        """``horizon``: the run's years (a by-year key or a date after it is refused, naming it);
        ``passe``: years and dates before the horizon are accepted (a baseline file of the chain, written
        for an earlier horizon: what it says before the first year is history, in the initial state)."""
        self.shown = shown
        self.problems = problems
        self.horizon = horizon
        self.passe = passe
        self.futur = futur  # years and dates after the horizon accepted (not simulated)

    @property
    def date_min(self) -> dt.date:
        return dt.date(1900, 1, 1) if self.passe else self.horizon.date_du_mois(0)

    @property
    def date_max(self) -> dt.date:
        return dt.date(2100, 12, 1) if self.futur else self.horizon.date_du_mois(self.horizon.n_mois - 1)

    def annees_permises(self) -> str:
        h = self.horizon
        return f"a year up to {h.derniere}" if self.passe else f"a year from {h.premiere} to {h.derniere}"

    def err(self, path: str, value: Any, message: str, allowed: str = "") -> None:
        self.problems.append(Problem(self.shown, path, value, message, allowed))

    def warn(self, path: str, value: Any, message: str, allowed: str = "") -> None:
        self.problems.append(Problem(self.shown, path, value, message, allowed, "warning"))

    def unknown(self, path: str, value: Any, name: str, candidates: list[str]) -> None:
        self.err(path, value, unknown_name("key", name, candidates, show_name=False), ", ".join(sorted(candidates)))

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
                self.err(f"organismes.{org}", MISSING, unknown_name("organisme", org, ORGANISMES, show_name=False),
                         ", ".join(ORGANISMES + (TOUS,)))
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
                d0, d1 = as_date(e["debut"]), as_date(e["fin"])
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
            fin = self.horizon.date_du_mois(self.horizon.n_mois) if path.endswith(".fin") and not self.futur \
                else self.date_max
            return self._check_date(path, v, self.date_min, fin)
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
                    self.err(f"{path}.{k}", x, "bad year", self.annees_permises())
                    ok = False
                    continue
                if (year > self.horizon.derniere and not self.futur) or (year < self.horizon.premiere and not self.passe):
                    self.err(f"{path}.{k}", x, f"year outside the horizon {self.horizon}", self.annees_permises())
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
            return self._check_date(path, v, self.date_min, self.date_max)
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
                    self.err(f"{path}.{k}", x, unknown_name("key", k, p.keys, show_name=False), ", ".join(p.keys))
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
        allowed = range_text(t, lo, hi) + (" (or a table {year = value})" if by_year else "")
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
            self.warn(path, v, "outside the usual range", range_text(t, wlo, whi))
        return True

    def _check_date(self, path: str, v: Any, lo: dt.date, hi: dt.date) -> bool:
        d = as_date(v)
        allowed = f"a date YYYY-MM-01 from {lo} to {hi}"
        if d is None:
            self.err(path, v, "wrong type", allowed)
            return False
        if d.day != 1:
            self.err(path, v, "not the first day of a month (the clock is monthly)", allowed)
            return False
        if not lo <= d <= hi:
            self.err(path, v, f"out of range (the horizon is {self.horizon})", allowed)
            return False
        return True


def as_date(v: Any) -> dt.date | None:
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


def range_text(t: str, lo, hi) -> str:
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
def cross_checks(values: Mapping[str, Any], shown: str, problems: list[Problem]) -> None:
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
                    shown_v = v if isinstance(v, (dt.date, int, float)) else jsonable(v, horizon_de(values))
                    problems.append(Problem(shown, path, shown_v, "violates a cross-parameter bound",
                                            f"{rel} {o_path} = {jsonable(o, horizon_de(values))}"))
    for e_path in ("mutualisations", "gels_recrutement"):
        for i, e in enumerate(values[e_path]):
            if e_path == "mutualisations" and values["transfert_rsi.date_principale"] <= e["debut"] \
                    and e["organisme"] == "rsi":
                problems.append(Problem(shown, f"{e_path}[{i}].debut", e["debut"],
                                        "the ex-RSI has no staff after the bulk transfer",
                                        f"a date before transfert_rsi.date_principale = "
                                        f"{values['transfert_rsi.date_principale']}"))
    check_pooled_shares(values["mutualisations"], shown, problems)


def check_pooled_shares(waves: Sequence[Mapping[str, Any]], shown: str, problems: list[Problem]) -> None:
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
