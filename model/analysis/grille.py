"""Scenario grids: the axes of a sweep, from the command line (``--grid``) or a sweep file.

An **axe** sets one parameter (or a bundle of parameters moved together) to each of its values; a
**grille** is the cartesian product of its axes. Axes are named as scenario files name parameters, and
the same checks apply before anything runs: unknown path (with the closest valid name), value out of
bounds (cross-parameter bounds included, on every corner of the grid), empty range, duplicate values,
rows of the wrong length.

Command line
    ``PATH[@YEAR]=V1,V2,...`` or ``PATH[@YEAR]=LOW:HIGH:N`` (N values evenly spaced, ends included).
    ``PATH`` is any numeric parameter path (``organismes.cnaf.taux_remplacement``,
    ``organismes.tous.taux_autres_departs``, ``recrutement.age_moyen_entrants``). For a by-year parameter
    ``PATH`` alone sets every year and ``PATH@2020`` sets the value from 2020 on (the years before keep
    the scenario's values), as ``{2020 = x}`` would in a scenario file.

Sweep file (TOML)
    A header (``title``, ``author``, ``description``) and the axes, named as EMA Workbench names them:
    ``[[incertitude]]`` for what nobody controls (departure behaviour, workload growth) and
    ``[[levier]]`` for what the negotiators decide (the grid's dimensions: the levers, then the
    uncertainties, each in file order; then the ``--grid`` axes)::

        title = "Remplacement et départs"
        [[levier]]
        parametre = "organismes.cnaf.taux_remplacement@2020"
        valeurs = [0.4, 0.5, 0.6]
        [[incertitude]]
        parametre = "organismes.tous.taux_autres_departs"
        intervalle = "0.015:0.035:5"
        [[levier]]                       # a bundle: several parameters move together
        nom = "remplacement_rg"
        parametres = ["organismes.cnam.taux_remplacement", "organismes.cnav.taux_remplacement"]
        valeurs = [[0.4, 0.5], [0.6, 0.7]]   # one row per point, one column per parameter

Examples
--------
>>> from model.params.scenario import load_scenario
>>> par = load_scenario("scenarios/cog_2018_2022.toml").parametres
>>> g = Grille(tuple(parse_grid(["organismes.cnaf.taux_remplacement=0.4:0.6:3"], par)))
>>> g.shape, g.axes[0].values[:, 0].tolist()
((3,), [0.4, 0.5, 0.6])
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, Sequence

import numpy as np

from model.analysis.objectifs import ARGUMENTS, Lever, parse_lever
from model.params.errors import MISSING, InputError, Problem, unknown_name
from model.params.lecture import lire_toml
from model.params.parametres import Parametres
from model.params.validation import cross_checks

Kind = Literal["levier", "incertitude"]
KINDS: tuple[Kind, ...] = ("levier", "incertitude")
MAX_CORNERS = 4096  # cross-parameter bounds are checked on every corner of grids up to 12 axes
_HEADER = ("title", "author", "reference", "description")
_AXIS_KEYS = ("parametre", "parametres", "nom", "valeurs", "intervalle", "description")


@dataclass(frozen=True)
class Axe:
    """One dimension of a grid: ``levers`` (one, or a bundle moved together) and their values,
    shape (points of the axis, len(levers))."""

    name: str
    levers: tuple[Lever, ...]
    values: np.ndarray
    kind: Kind = "levier"
    description: str = ""

    @property
    def size(self) -> int:
        return self.values.shape[0]

    def changes(self, par: Parametres, i: int) -> dict[str, Any]:
        """Resolved parameter values of point ``i`` of this axis, on top of ``par``."""
        out: dict[str, Any] = {}
        for j, lever in enumerate(self.levers):
            out.update(lever.changes(par, [float(self.values[i, j])]))
        return out


@dataclass(frozen=True)
class Grille:
    """The cartesian product of ``axes`` (C order: the last axis varies fastest)."""

    axes: tuple[Axe, ...]
    source: str = ARGUMENTS
    header: tuple[tuple[str, str], ...] = ()

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(a.size for a in self.axes)

    @property
    def size(self) -> int:
        return math.prod(self.shape)

    @property
    def names(self) -> list[str]:
        return [a.name for a in self.axes]

    def indices(self, flat: int) -> tuple[int, ...]:
        return tuple(int(i) for i in np.unravel_index(flat, self.shape))

    def parametres(self, par: Parametres, index: Sequence[int]) -> Parametres:
        """The parameter set of the grid point ``index`` (one index per axis)."""
        changes: dict[str, Any] = {}
        for axe, i in zip(self.axes, index):
            changes.update(axe.changes(par, i))
        return par.with_values(changes)

    def describe(self) -> list[dict[str, Any]]:
        """The axes as JSON (for ``manifest.json``)."""
        return [{"name": a.name, "kind": a.kind, "parameters": [lv.path for lv in a.levers],
                 "years_from": [lv.years[0] if lv.years else None for lv in a.levers],
                 "units": [lv.parameter.unit for lv in a.levers], "values": a.values.tolist(),
                 "description": a.description} for a in self.axes]


# ----------------------------------------------------------------------------- command line
def parse_grid(texts: Sequence[str], par: Parametres, *, option: str = "grid",
               source: str = ARGUMENTS, kind: Kind = "levier") -> list[Axe]:
    """Parse ``PATH[@YEAR]=VALUES`` expressions; every problem is reported at once (``InputError``)."""
    problems: list[Problem] = []
    axes = [a for a in (_parse_axis(t, par, problems, option, source, kind) for t in texts) if a is not None]
    _check_distinct(axes, problems, source, option)
    if problems:
        raise InputError(problems)
    return axes


def _parse_axis(text: str, par: Parametres, problems: list[Problem], option: str, source: str,
                kind: Kind) -> Axe | None:
    def err(message: str, allowed: str) -> None:
        problems.append(Problem(source, option, text, message, allowed))

    body, eq, values_text = text.partition("=")
    if not eq or not values_text.strip():
        err("no values", "PATH=V1,V2,... or PATH=LOW:HIGH:N (e.g. organismes.cnaf.taux_remplacement=0.4,0.5,0.6)")
        return None
    lever = grid_lever(body.strip(), par, problems, option, source, text)
    if lever is None:
        return None
    values = _parse_values(values_text.strip(), lever, err)
    if values is None:
        return None
    return Axe(_axis_name(lever), (lever,), values[:, None], kind)


def grid_lever(path_text: str, par: Parametres, problems: list[Problem], option: str, source: str,
           shown: str) -> Lever | None:
    before = len(problems)
    lever = parse_lever(path_text, par, problems, option, source)
    for i in range(before, len(problems)):  # show the whole expression, not only its path part
        p = problems[i]
        problems[i] = Problem(p.file, p.path, shown, p.message, p.allowed)
    if lever is not None and lever.years is not None and len(lever.years) > 1:
        problems.append(Problem(source, option, shown, "one year per axis: PATH@YEAR sets the value from "
                                "YEAR on", "PATH or PATH@YEAR (a bundle in a sweep file for several years)"))
        return None
    return lever


def _axis_name(lever: Lever) -> str:
    return lever.path + (f"@{lever.years[0]}" if lever.years else "")


def _parse_values(text: str, lever: Lever, err) -> np.ndarray | None:
    p = lever.parameter
    allowed = f"numbers in [{num_text(lever.low)}, {num_text(lever.high)}]" + (", integers" if p.type == "int" else "")
    if ":" in text:
        bits = text.split(":")
        try:
            lo, hi, n = float(bits[0]), float(bits[1]), int(bits[2]) if len(bits) == 3 else -1
        except (ValueError, IndexError):
            err(f"bad range {text!r}", "LOW:HIGH:N with N an integer >= 1")
            return None
        if len(bits) != 3 or n < 1:
            err(f"bad range {text!r}", "LOW:HIGH:N with N an integer >= 1")
            return None
        if hi < lo or (hi == lo and n > 1) or (n == 1 and hi != lo):
            err(f"empty range {text!r}", "LOW < HIGH with N >= 2 values, or LOW = HIGH with N = 1")
            return None
        values = np.linspace(lo, hi, n)
        values = np.round(values, 12)  # 0.3:0.7:5 gives 0.4, not 0.39999999999999997
    else:
        try:
            values = np.array([float(v) for v in text.split(",")])
        except ValueError:
            err(f"bad value list {text!r}", "V1,V2,... numbers separated by commas")
            return None
    return _check_values(values, lever, err, allowed)


def _check_values(values: np.ndarray, lever: Lever, err, allowed: str) -> np.ndarray | None:
    if values.size == 0 or not np.all(np.isfinite(values)):
        err("empty or non-finite values", allowed)
        return None
    if lever.parameter.type == "int" and not np.all(values == np.round(values)):
        err(f"{lever.path} is an integer parameter", allowed)
        return None
    out = values[(values < lever.low) | (values > lever.high)]
    if out.size:
        err(f"value {num_text(out[0])} out of range", allowed)
        return None
    if np.unique(values).size != values.size:
        err("duplicate values", "each value once")
        return None
    return values


# ----------------------------------------------------------------------------- sweep files
def load_sweep_file(path: str | Path, par: Parametres) -> Grille:
    """Read and validate a sweep file (see the module docstring); every problem at once."""
    path = Path(path)
    shown = str(path)
    problems: list[Problem] = []
    if not path.exists():
        raise InputError([Problem(shown, "", MISSING, "sweep file not found", "an existing TOML file")])
    raw = lire_toml(path, shown, "TOML sweep file")  # bounded: a regular file of at most 4 MiB
    for key in raw:
        if key not in _HEADER + KINDS:
            problems.append(Problem(shown, key, raw[key], unknown_name("key", key, _HEADER + KINDS),
                                    ", ".join(_HEADER + KINDS)))
    axes: list[Axe] = []
    for kind in KINDS:
        entries = raw.get(kind, [])
        if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
            problems.append(Problem(shown, kind, entries, "not an array of tables", f"[[{kind}]] tables"))
            continue
        for i, entry in enumerate(entries):
            axe = _file_axis(entry, f"{kind}[{i}]", kind, par, shown, problems)
            if axe is not None:
                axes.append(axe)
    if not axes and not problems:
        problems.append(Problem(shown, "levier", MISSING, "no axis", "at least one [[levier]] or [[incertitude]]"))
    _check_distinct(axes, problems, shown, "")
    if problems:
        raise InputError(problems)
    header = tuple((k, str(raw[k])) for k in _HEADER if k in raw)
    return Grille(tuple(axes), shown, header)


def _file_axis(entry: dict, where: str, kind: Kind, par: Parametres, shown: str,
               problems: list[Problem]) -> Axe | None:
    n0 = len(problems)
    for key in entry:
        if key not in _AXIS_KEYS:
            problems.append(Problem(shown, f"{where}.{key}", entry[key], unknown_name("key", key, _AXIS_KEYS),
                                    ", ".join(_AXIS_KEYS)))
    single = "parametre" in entry
    if single == ("parametres" in entry):
        problems.append(Problem(shown, where, MISSING, "give either 'parametre' or 'parametres'",
                                "parametre = \"PATH[@YEAR]\" or parametres = [\"PATH\", ...] with nom"))
        return None
    paths = [entry["parametre"]] if single else entry["parametres"]
    if not isinstance(paths, list) or not paths or not all(isinstance(p, str) for p in paths):
        problems.append(Problem(shown, f"{where}.parametres", paths, "not a list of paths", "[\"PATH\", ...]"))
        return None
    key = "parametre" if single else "parametres"
    levers = [grid_lever(p, par, problems, f"{where}.{key}", shown, p) for p in paths]
    if len(problems) > n0 or any(lv is None for lv in levers):
        return None
    name = entry.get("nom") or (_axis_name(levers[0]) if single else None)
    if not isinstance(name, str) or not name:
        problems.append(Problem(shown, f"{where}.nom", entry.get("nom", MISSING), "a bundle needs a name",
                                "nom = \"a_name\""))
        return None
    k = len(levers)
    if ("valeurs" in entry) == ("intervalle" in entry):
        problems.append(Problem(shown, where, MISSING, "give either 'valeurs' or 'intervalle'",
                                "valeurs = [V1, V2, ...] or intervalle = \"LOW:HIGH:N\""))
        return None
    if "intervalle" in entry:
        if k > 1:
            problems.append(Problem(shown, f"{where}.intervalle", entry["intervalle"],
                                    "a bundle takes its rows in 'valeurs'", "valeurs = [[...], ...]"))
            return None
        vals = _parse_values(str(entry["intervalle"]), levers[0], lambda m, a: problems.append(
            Problem(shown, f"{where}.intervalle", entry["intervalle"], m, a)))
        return None if vals is None else Axe(name, tuple(levers), vals[:, None], kind, entry.get("description", ""))
    rows = entry["valeurs"]
    if not isinstance(rows, list) or not rows:
        problems.append(Problem(shown, f"{where}.valeurs", rows, "not a non-empty list", "[V1, V2, ...]"))
        return None
    if k == 1 and all(isinstance(r, (int, float)) and not isinstance(r, bool) for r in rows):
        rows = [[r] for r in rows]
    if not all(isinstance(r, list) and len(r) == k and all(isinstance(x, (int, float)) and not isinstance(x, bool)
                                                           for x in r) for r in rows):
        problems.append(Problem(shown, f"{where}.valeurs", rows,
                                f"mismatched dims: every row needs {k} number(s), one per parameter",
                                f"[[{', '.join(['x'] * k)}], ...]" if k > 1 else "[V1, V2, ...]"))
        return None
    values = np.array(rows, dtype=float)
    for j, lever in enumerate(levers):
        col = values[:, j] if k == 1 else np.unique(values[:, j])  # a bundle's column may repeat
        allowed = f"numbers in [{num_text(lever.low)}, {num_text(lever.high)}]"
        found: list[tuple[str, str]] = []
        if _check_values(col, lever, lambda m, a: found.append((m, a)), allowed) is None:
            m, a = found[0]
            problems.append(Problem(shown, f"{where}.valeurs", rows if k > 1 else col.tolist(),
                                    f"{lever.path}: {m}", a))
            return None
    if np.unique(values, axis=0).shape[0] != values.shape[0]:
        problems.append(Problem(shown, f"{where}.valeurs", rows, "duplicate rows", "each row once"))
        return None
    return Axe(name, tuple(levers), values, kind, entry.get("description", ""))


# ----------------------------------------------------------------------------- whole-grid checks
def _check_distinct(axes: list[Axe], problems: list[Problem], source: str, option: str) -> None:
    names: set[str] = set()
    owner: dict[str, str] = {}
    for axe in axes:
        if axe.name in names:
            problems.append(Problem(source, option or axe.name, axe.name, "two axes have the same name",
                                    "distinct axes"))
        names.add(axe.name)
        for lever in axe.levers:
            for path in lever.resolved_paths:
                if path in owner and owner[path] != axe.name:
                    problems.append(Problem(source, option or axe.name, lever.text,
                                            f"sets {path}, already set by axis {owner[path]}",
                                            "each parameter on one axis"))
                owner[path] = axe.name


def check_grid(grille: Grille, par: Parametres) -> None:
    """Cross-parameter bounds on every corner of the grid (the bounds are pairwise inequalities, so a
    grid that satisfies them at its corners satisfies them everywhere)."""
    problems: list[Problem] = []
    extremes = [sorted({int(np.argmin(a.values[:, 0])), int(np.argmax(a.values[:, 0]))}) if a.values.shape[1] == 1
                else list(range(a.size)) for a in grille.axes]
    corners = itertools.islice(itertools.product(*extremes), MAX_CORNERS)
    seen: set[str] = set()
    for idx in corners:
        found: list[Problem] = []
        cross_checks(grille.parametres(par, idx), grille.source, found)
        for p in found:
            if str(p) not in seen:
                seen.add(str(p))
                point = ", ".join(f"{a.name} = {num_text(a.values[i, 0])}" for a, i in zip(grille.axes, idx))
                problems.append(Problem(p.file, p.path, p.value, f"{p.message} at the grid point {point}",
                                        p.allowed))
    if problems:
        raise InputError(problems)


def num_text(x: float) -> str:
    x = float(x)
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    return f"{x:g}"
