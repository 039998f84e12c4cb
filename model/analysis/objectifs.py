"""The request of a goal seek (:class:`SolveSpec`): ``VAR:ORGANISME:YEAR=VALUE`` targets (``=``, ``<=``, ``>=``,
year ranges) and ``PATH[@YEARS][=LOW:HIGH]`` levers, parsed and validated against the catalogue (every problem
at once).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Mapping, Sequence

import numpy as np

from model.params.calendrier import HORIZON_DEFAUT, ORGANISMES, ORGANISMES_SORTIE, Horizon
from model.params.catalogue import Parameter, load_catalogue, lookup
from model.params.errors import InputError, Problem, noms_des_entrees, unknown_name
from model.params.parametres import Parametres
from model.params.scenario import Scenario
from model.params.validation import range_text, resolve_value
from model.results.dataset import REGISTRE

Operator = Literal["=", "<=", ">="]


# where the library's messages place its caller's arguments, and what they call each input: its own name
# (the command line passes its option names, model.cli.solve.OPTIONS, so that a message names what the
# user typed)
ARGUMENTS = "arguments"


NOMS: dict[str, str] = {"source": ARGUMENTS, "target": "target", "lever": "lever", "tolerance": "tolerance"}


def noms(names: Mapping[str, str] | None, owner: str = "names") -> dict[str, str]:
    """:data:`NOMS` with the caller's names for its inputs (:func:`noms_des_entrees`)."""
    return noms_des_entrees(NOMS, names, owner)


DEFAULT_TOLERANCE = 1e-4  # relative to the target value
DEFAULT_REPLICATES = 200  # replicates of the stochastic check of a solution


# ----------------------------------------------------------------------------- the request
@dataclass(frozen=True)
class SolveSpec:
    """What to solve and where to write the solution: the input of :func:`model.analysis.solve.solve` and
    :func:`model.analysis.solution.write_solution`.

    Parameters
    ----------
    scenario : a scenario file (or an already loaded ``Scenario``).
    targets : ``VAR:ORGANISME:YEAR=VALUE`` expressions (also ``<=``, ``>=``; see :mod:`model.analysis.solve`).
    levers : ``PATH[@YEARS][=LOW:HIGH]`` expressions.
    tolerance : relative tolerance on equality targets (default 1e-4: ±3.2 ETPMA on 32 000), in (0, 0.1].
    replicates : stochastic replicates of the check of the solution (default :data:`DEFAULT_REPLICATES`).
    seed : root seed of the check (default: the scenario's).
    out : the output folder (default ``results_dir/solve-<scenario>-<lever>[+<lever>...]``).
    command : the command line that asked for it, recorded in ``solve.json`` (the caller's: the library
        does not read ``sys.argv``).
    names : what messages call the inputs (keys of :data:`NOMS`: the command line passes its option names).
    """

    scenario: str | Path | Scenario
    targets: tuple[str, ...]
    levers: tuple[str, ...]
    tolerance: float = DEFAULT_TOLERANCE
    replicates: int = DEFAULT_REPLICATES
    seed: int | None = None
    out: str | Path | None = None
    results_dir: str | Path = "results"
    command: tuple[str, ...] = ()
    names: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for name in ("targets", "levers", "command"):
            value = getattr(self, name)
            if isinstance(value, (str, bytes)) or not isinstance(value, Sequence) or \
                    not all(isinstance(x, str) for x in value):
                raise TypeError(f"SolveSpec.{name} must be a sequence of strings, not {value!r}")
            object.__setattr__(self, name, tuple(value))
        for name in ("replicates", "seed"):
            value = getattr(self, name)
            if value is None and name == "seed":
                continue
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or \
                    value < (0 if name == "seed" else 1):
                raise ValueError(f"SolveSpec.{name} must be {'a non-negative' if name == 'seed' else 'a positive'} "
                                 f"integer, not {value!r}")
        if isinstance(self.tolerance, bool) or not isinstance(self.tolerance, (int, float, np.number)):
            raise TypeError(f"SolveSpec.tolerance must be a number, not {self.tolerance!r}")
        object.__setattr__(self, "names", noms(self.names, "SolveSpec.names"))

    @property
    def target(self) -> Path:
        """The output folder: ``out``, else ``results_dir/solve-<scenario>-<lever>[+<lever>...]`` (known
        before solving, from the expressions alone)."""
        if self.out:
            return Path(self.out)
        file = self.scenario.file if isinstance(self.scenario, Scenario) else Path(self.scenario)
        levers = "+".join(re.sub(r"[^A-Za-z0-9._+-]+", "-", t.partition("=")[0]).strip("-") for t in self.levers)
        return Path(self.results_dir) / f"solve-{Path(file).stem}-{levers}"


TOUS = "tous"


TARGET_SYNTAX = ("VAR:ORGANISME:YEAR=VALUE, <= or >=; YEAR may be Y1..Y2 with one value or one value per year "
                 "(e.g. etpma:cnaf:2022=32000, masse_salariale:regime_general:2022<=4400, "
                 "etpma:cnaf:2020..2022=33400,33000,32600)")


_TARGET = re.compile(r"^\s*(?P<var>[^:\s]+)\s*:\s*(?P<org>[^:\s]+)\s*:\s*(?P<years>[^<>=]+?)\s*"
                     r"(?P<op><=|>=|=)\s*(?P<values>.*?)\s*$")


_YEARS_RANGE = re.compile(r"^(\d+)\s*\.\.\s*(\d+)$")


# ----------------------------------------------------------------------------- targets
@dataclass(frozen=True)
class Target:
    """One target: ``variable`` of ``organisme`` (or ``regime_general``/``total``) in ``year``.

    ``text`` is the command-line expression it comes from (a path of targets gives several).
    """

    text: str
    variable: str
    organisme: str
    year: int
    op: Operator
    value: float

    @property
    def label(self) -> str:
        return f"{self.variable}:{self.organisme}:{self.year}{self.op}{num_text(self.value)}"

    def tolerance(self, relative: float) -> float:
        """Absolute tolerance: ``relative`` × |value|, at least ``relative`` (targets near zero)."""
        return relative * max(abs(self.value), 1.0)

    def met(self, x: float, relative: float) -> bool:
        """Whether the deterministic value ``x`` meets the target."""
        if not math.isfinite(x):
            return False
        if self.op == "=":
            return abs(x - self.value) <= self.tolerance(relative)
        return x <= self.value if self.op == "<=" else x >= self.value

    def gap(self, x: np.ndarray) -> np.ndarray:
        """Signed gap: value − target for ``=`` and ``<=``, target − value for ``>=`` (≤ 0 = holds)."""
        return self.value - x if self.op == ">=" else x - self.value


def parse_targets(texts: Sequence[str], *, names: Mapping[str, str] | None = None,
                  horizon: Horizon = HORIZON_DEFAUT) -> list[Target]:
    """Parse target expressions; every problem is reported at once (``InputError``), under the caller's
    ``names`` (keys of :data:`NOMS`)."""
    n = noms(names)
    src, opt = n["source"], n["target"]
    problems: list[Problem] = []
    targets: list[Target] = []
    variables = list(REGISTRE)
    organismes = list(ORGANISMES_SORTIE)
    for text in texts:
        m = _TARGET.match(text)
        if not m:
            problems.append(Problem(src, opt, text, "not a target expression", TARGET_SYNTAX))
            continue
        var, org, years_text, op, values_text = m.group("var", "org", "years", "op", "values")
        ok = True
        if var not in REGISTRE:
            problems.append(Problem(src, opt, text, unknown_name("result variable", var, variables),
                                    ", ".join(variables)))
            ok = False
        if org not in organismes:
            problems.append(Problem(src, opt, text, unknown_name("organisme", org, organismes),
                                    ", ".join(organismes)))
            ok = False
        years = _parse_years(years_text, horizon, ranges=True)
        if years is None:
            problems.append(Problem(src, opt, text, f"bad year {years_text!r}{_hors(years_text, horizon)}",
                                    f"a year from {horizon.premiere} to {horizon.derniere}, or Y1..Y2"))
            ok = False
        values = []
        for v in values_text.split(","):
            try:
                values.append(float(v.replace(" ", "")))
            except ValueError:
                values.append(math.nan)
        if not values_text or not all(math.isfinite(v) for v in values):
            problems.append(Problem(src, opt, text, f"target value {values_text!r} is not a number",
                                    "a finite number, or one per year separated by commas"))
            ok = False
        elif years is not None and len(values) not in (1, len(years)):
            problems.append(Problem(src, opt, text,
                                    f"{len(values)} values for {len(years)} years",
                                    f"one value, or {len(years)} (one per year)"))
            ok = False
        if ok:
            values = values * len(years) if len(values) == 1 else values
            targets.extend(Target(text, var, org, y, op, v) for y, v in zip(years, values))
    seen: dict[tuple, Target] = {}
    for t in targets:
        key = (t.variable, t.organisme, t.year, t.op)
        if key in seen and seen[key].value != t.value:
            problems.append(Problem(src, opt, t.text,
                                    f"{t.variable}:{t.organisme}:{t.year} {t.op} given twice with different "
                                    f"values ({num_text(seen[key].value)} and {num_text(t.value)})",
                                    "each target once"))
        seen[key] = t
    if problems:
        raise InputError(problems)
    unique = {(t.variable, t.organisme, t.year, t.op): t for t in targets}
    return list(unique.values())


# ----------------------------------------------------------------------------- levers
@dataclass(frozen=True)
class Lever:
    """One lever: a numeric parameter and the years its unknown values start.

    ``years`` is ``None`` for a scalar (every year of a by-year parameter, or a parameter that does
    not vary by year); otherwise one unknown per listed year, each holding until the next (a
    ``{year = value}`` table in a scenario file). ``low``/``high`` are the search range (hard bounds).
    """

    text: str
    path: str  # as written in scenario files: organismes.<organisme or tous>.<name> or <section>.<name>
    parameter: Parameter
    years: tuple[int, ...] | None
    low: float
    high: float
    horizon: Horizon = HORIZON_DEFAUT  # the years of the scenario the lever acts on

    @property
    def size(self) -> int:
        return 1 if self.years is None else len(self.years)

    @property
    def integer(self) -> bool:
        return self.parameter.type == "int"

    @property
    def resolved_paths(self) -> list[str]:
        """The resolved parameter paths this lever sets (every organisme for ``organismes.tous``)."""
        parts = self.path.split(".")
        if parts[0] == "organismes" and parts[1] == TOUS:
            return [f"organismes.{o}.{parts[2]}" for o in ORGANISMES]
        return [self.path]

    def first_years(self) -> list[int]:
        """For each unknown, the first year it acts on."""
        return [self.horizon.premiere] if self.years is None else list(self.years)

    def unknown_labels(self) -> list[str]:
        return [self.path] if self.years is None else [f"{self.path}@{y}" for y in self.years]

    def raw(self, x: Sequence[float]) -> Any:
        """The value as a scenario file writes it: a number, or ``{year: number}``."""
        conv = (lambda v: int(round(v))) if self.integer else float  # noqa: E731
        if self.years is None:
            return conv(x[0])
        return {y: conv(v) for y, v in zip(self.years, x)}

    def changes(self, par: Parametres, x: Sequence[float]) -> dict[str, Any]:
        """Resolved parameter values with this lever at ``x``, on top of ``par``."""
        raw = self.raw(x)
        return {path: resolve_value(self.parameter, raw, par[path], par.horizon) for path in self.resolved_paths}

    def start(self, par: Parametres) -> list[float]:
        """Starting values: the scenario's own values (clipped into the search range)."""
        out = []
        for y in (self.years or (par.horizon.derniere,)):
            vals = []
            for path in self.resolved_paths:
                v = par[path]
                vals.append(float(v[par.horizon.index(y)]) if isinstance(v, np.ndarray) else float(v))
            v = float(np.mean(vals))
            if not math.isfinite(v):
                v = self.low if math.isfinite(self.low) else self.high if math.isfinite(self.high) else 0.0
            out.append(min(max(v, self.low), self.high))
        return out


def parse_levers(texts: Sequence[str], par: Parametres, *, names: Mapping[str, str] | None = None) -> list[Lever]:
    """Parse and validate lever expressions against the catalogue, like scenario-file keys.

    Every problem is reported at once (``InputError``), under the caller's ``names`` (keys of :data:`NOMS`).
    """
    n = noms(names)
    src, opt = n["source"], n["lever"]
    problems: list[Problem] = []
    levers: list[Lever] = []
    for text in texts:
        lever = parse_lever(text, par, problems, opt, src)
        if lever is not None:
            levers.append(lever)
    owner: dict[str, Lever] = {}
    for lever in levers:
        for path in lever.resolved_paths:
            if path in owner:
                problems.append(Problem(src, opt, lever.text,
                                        f"sets {path}, already set by {opt} {owner[path].text}",
                                        "each parameter in one lever (several years: PATH@Y1,Y2)"))
                break
            owner[path] = lever
    if problems:
        raise InputError(problems)
    return levers


def parse_lever(text: str, par: Parametres, problems: list[Problem], option: str = "lever",
                source: str = ARGUMENTS) -> Lever | None:
    """One ``PATH[@YEARS][=LOW:HIGH]`` expression; problems are reported as ``source: option``
    (``model.analysis.grille`` reads its grid axes with it)."""
    def err(message: str, allowed: str) -> None:
        problems.append(Problem(source, option, text, message, allowed))

    body, _, range_spec = text.partition("=")
    path, at, years_text = body.strip().partition("@")
    path = path.strip()
    parts = path.split(".")
    if parts[0] == "organismes" and len(parts) == 3 and parts[1] not in ORGANISMES + (TOUS,):
        err(unknown_name("organisme", parts[1], ORGANISMES + (TOUS,)), ", ".join(ORGANISMES + (TOUS,)))
        return None
    p = lookup(path) if path else None
    if p is None or (p.by_organisme and len(parts) != 3) or (not p.by_organisme and path != p.path):
        candidates = [q for prm in load_catalogue().values() for q in prm.paths()]
        err(unknown_name("parameter", path, candidates), "a parameter path as in scenario files "
            "(cogsim describe SCENARIO lists them), e.g. organismes.cnaf.taux_remplacement")
        return None
    if p.type not in ("float", "int") or path.startswith("simulation."):
        err(f"{path} is a {p.type} parameter, not a numeric lever" if not path.startswith("simulation.")
            else f"{path} is a simulation setting, not a lever", "a float or int parameter (e.g. "
            "organismes.cnaf.taux_remplacement, recrutement.age_moyen_entrants)")
        return None
    years: tuple[int, ...] | None = None
    if at:
        if not p.by_year:
            err(f"{path} does not vary by year: @{years_text} is not allowed", f"{path} without @YEAR")
            return None
        parsed = _parse_years(years_text, par.horizon, ranges=True, lists=True)
        if parsed is None:
            err(f"bad year {years_text!r}{_hors(years_text, par.horizon)}",
                f"a year from {par.horizon.premiere} to {par.horizon.derniere}; "
                "Y1,Y2,... increasing; or Y1..Y2")
            return None
        years = tuple(parsed)
    low, high = _bounds(p, path, par)
    if range_spec:
        bits = range_spec.split(":")
        nums = []
        for b in bits:
            try:
                nums.append(float(b))
            except ValueError:
                nums.append(math.nan)
        allowed = range_text(p.type, low, high)
        if len(bits) != 2 or any(math.isnan(v) for v in nums):
            err(f"bad search range {range_spec!r}", f"LOW:HIGH, each {allowed}")
            return None
        if p.type == "int" and not all(float(v).is_integer() for v in nums):
            err(f"search range {range_spec!r} is not made of integers", f"LOW:HIGH, each {allowed}")
            return None
        out = [v for v in nums if v < low or v > high]
        if out:
            err(f"search range {range_spec!r} out of range", f"LOW:HIGH, each {allowed}")
            return None
        if nums[0] >= nums[1]:
            err(f"search range {range_spec!r} is empty", "LOW < HIGH")
            return None
        low, high = nums
    if p.type == "int":
        low, high = math.ceil(low), math.floor(high)
    if not low < high:
        err(f"no room to search: the bounds of {path} here are [{num_text(low)}, {num_text(high)}]",
            "a parameter whose bounds leave a range")
        return None
    return Lever(text, path, p, years, float(low), float(high), par.horizon)


def _bounds(p: Parameter, path: str, par: Parametres) -> tuple[float, float]:
    """Hard bounds of a parameter, cross-parameter bounds resolved on ``par``, in both directions (a
    parameter whose own bound names this one bounds it too). For ``organismes.tous`` the bounds hold
    for every organisme."""
    org = path.split(".")[1] if p.by_organisme else None

    def others(ref: str) -> list[np.ndarray]:
        if org is None or "*" not in ref:
            return [np.asarray(par[ref], dtype=float)]
        orgs = ORGANISMES if org == TOUS else (org,)
        return [np.asarray(par[ref.replace("*", o)], dtype=float) for o in orgs]

    low = -math.inf if p.min is None else float(p.min) if not isinstance(p.min, str) else \
        max(float(np.max(v)) for v in others(p.min))
    high = math.inf if p.max is None else float(p.max) if not isinstance(p.max, str) else \
        min(float(np.min(v)) for v in others(p.max))
    for q in load_catalogue().values():  # reverse cross-parameter bounds
        for side in ("min", "max"):
            if getattr(q, side) != p.path:
                continue
            values = [np.asarray(par[r], dtype=float) for r in q.paths()]
            if side == "min":  # q >= this one: this one <= q
                high = min(high, min(float(np.min(v)) for v in values))
            else:  # q <= this one: this one >= q
                low = max(low, max(float(np.max(v)) for v in values))
    return low, high


def _hors(text: str, horizon: Horizon) -> str:
    """", outside the horizon H" when ``text`` is well-formed years of which one is outside ``horizon``."""
    years = _parse_years(text, None, ranges=True, lists=True)
    return f": outside the horizon {horizon}" if years and any(y not in horizon for y in years) else ""


def _parse_years(text: str, horizon: Horizon | None, ranges: bool = False, lists: bool = False) -> list[int] | None:
    """Years of ``text`` (Y, Y1..Y2 with ``ranges``, Y1,Y2,... with ``lists``), increasing and inside
    ``horizon`` (any year when None); None when they are not."""
    text = text.strip()
    m = _YEARS_RANGE.match(text)
    try:
        if m and ranges:
            a, b = int(m.group(1)), int(m.group(2))
            years = list(range(a, b + 1)) if a <= b else []
        elif lists and "," in text:
            years = [int(t) for t in text.split(",")]
        else:
            years = [int(text)]
    except ValueError:
        return None
    if not years or (horizon is not None and any(y not in horizon for y in years)):
        return None
    if any(b <= a for a, b in zip(years, years[1:])):
        return None
    return years


def num_text(v: float) -> str:
    """A number as messages and summaries show it (6 significant digits; ``inf`` spelled out)."""
    if isinstance(v, float) and math.isinf(v):
        return "inf" if v > 0 else "-inf"
    return f"{v:.6g}"
