"""Goal seek: the lever values that meet COG targets (``cogsim solve``).

In a negotiation the question is usually backwards: "what replacement rate keeps CNAF at 32 000
ETPMA in 2022?", "how many ETPMA fit in this wage-bill envelope?". ``solve`` answers it in three steps:

1. **Deterministic solve** (expected-value mode) of the targets for the levers, on the loaded scenario
   (loaded once; each evaluation is one deterministic simulation and Dataset, ≈ 0.25 s). One lever
   value and one target: secant steps from the scenario's own value, then root finding
   (``scipy.optimize.brentq``, or integer bisection for an integer parameter) in a bracket, the ends
   of the lever's range evaluated only when needed; the closest achievable value
   (``minimize_scalar``, bounded) when nothing meets the target. Otherwise ``least_squares`` with
   bounds, jointly (inequalities first as equalities, their limit, then as one-sided residuals).
2. **Stochastic check**: ``N`` replicates of the solved scenario; the probability of meeting each
   target under the model's uncertainty.
3. **Output** (atomically): ``DIR/<scenario>-solve.toml`` (the solved scenario: its baseline is the
   original file, its header says how it was obtained), ``DIR/solve.json`` (the report) and
   ``DIR/run/`` (the run of the solved scenario: ``results.nc``, ``results.csv``, ``manifest.json``).

Targets
    ``VAR:ORGANISME:YEAR=VALUE`` (also ``<=``, ``>=``): ``VAR`` a result variable (``etpma``,
    ``masse_salariale``, ...), ``ORGANISME`` an organisme, ``regime_general`` or ``total`` (aggregated as
    in ``results.csv``), ``YEAR`` a year or a range ``Y1..Y2`` with one value for every year or one value
    per year (``etpma:cnaf:2020..2022=33400,33000,32600``: a path of targets).
    An equality is met when the deterministic value is within the tolerance (``tolerance``, relative
    to the target value, at least ``tolerance`` in absolute terms for targets near zero). An
    inequality is met when it holds; the solver returns its *limit*: the lever value at which it holds
    with the least slack (e.g. the highest replacement rate within a wage-bill envelope), which is
    the lever's bound when the target holds over the whole range.

Levers
    ``PATH[@YEARS][=LOW:HIGH]``: any numeric parameter path of the scenario files
    (``organismes.cnaf.taux_remplacement``, ``organismes.tous.taux_remplacement``,
    ``recrutement.age_moyen_entrants``). For a by-year parameter, ``PATH`` alone sets every year (a
    scalar in a scenario file), ``PATH@2018`` sets the value from 2018 on (``{2018 = x}``),
    ``PATH@2018,2020`` one value from each listed year, ``PATH@2018..2022`` one value per year. The
    search range is the parameter's hard bounds (cross-parameter bounds included), or ``LOW:HIGH``
    within them. A solution outside the bounds is infeasible, never clipped.

Examples
--------
>>> from model.analysis.solve import SolveSpec, solve
>>> from model.analysis.solution import write_solution
>>> spec = SolveSpec("scenarios/cog_2018_2022.toml", ("etpma:cnaf:2022=32000",),
...                  ("organismes.cnaf.taux_remplacement@2018",), out="results/solve-demo")
>>> sol = solve(spec)                                                       # doctest: +SKIP
>>> sol.raw_values()             # the value depends on the calibration      # doctest: +SKIP
{'organismes.cnaf.taux_remplacement': {2018: 0.642...}}
>>> folder, checks, report = write_solution(sol)                            # doctest: +SKIP
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

import numpy as np

from model.analysis.objectifs import (DEFAULT_REPLICATES, DEFAULT_TOLERANCE, TARGET_SYNTAX, Lever, SolveSpec, Target,
                                      noms, num_text, parse_levers, parse_targets)
from model.engine.etat_initial import etat_initial, reconstruct
from model.engine.simulation import simulate
from model.params.calendrier import AGGREGATS, ORGANISMES
from model.params.errors import MISSING, InputError, Problem
from model.params.parametres import Parametres
from model.params.scenario import Scenario, load_scenario
from model.params.validation import cross_checks
from model.results.dataset import aggregate_values, build_dataset

_FLAT = 1e-9  # relative change below which a target does not move


# ----------------------------------------------------------------------------- evaluation
class Evaluator:
    """Deterministic target values as a function of the lever values, on a loaded scenario.

    The scenario is loaded once; the initial state is rebuilt per evaluation only when it is
    reconstructed from parameters (a few ms), read once from its file otherwise. Evaluations are cached.
    """

    def __init__(self, scenario: Scenario, levers: list[Lever], targets: list[Target]):

        self.scenario = scenario
        self.par = scenario.parametres
        self.levers = levers
        self.targets = targets
        self.fixed_etat0 = (etat_initial(self.par, base_dir=scenario.file.parent)
                            if self.par["etat_initial.fichier"] else None)
        self.cache: dict[tuple[float, ...], tuple[np.ndarray, Any]] = {}
        self.seconds = 0.0

    @property
    def evaluations(self) -> int:
        return len(self.cache)

    def parametres(self, x: Sequence[float]) -> Parametres:
        changes: dict[str, Any] = {}
        i = 0
        for lever in self.levers:
            changes.update(lever.changes(self.par, x[i:i + lever.size]))
            i += lever.size
        return self.par.with_values(changes)

    def key(self, x: Sequence[float]) -> tuple[float, ...]:
        out, i = [], 0
        for lever in self.levers:
            for v in x[i:i + lever.size]:
                out.append(float(round(v)) if lever.integer else float(v))
            i += lever.size
        return tuple(out)

    def __call__(self, x: Sequence[float]) -> np.ndarray:
        """Deterministic values of the targets (one per target)."""
        return self.evaluate(x)[0]

    def evaluate(self, x: Sequence[float]):
        """(target values, Dataset) at ``x``."""

        key = self.key(x)
        if key not in self.cache:
            t0 = time.perf_counter()
            par = self.parametres(key)
            etat0 = self.fixed_etat0 if self.fixed_etat0 is not None else reconstruct(par)
            traj = simulate(par, etat0, replicates=1, seed=par["simulation.seed"], mode="deterministic")
            ds = build_dataset(traj, par)
            self.cache[key] = (target_values(ds, self.targets)[:, 0], ds)
            self.seconds += time.perf_counter() - t0
        return self.cache[key]


def target_values(ds, targets: Sequence[Target]) -> np.ndarray:
    """Values of the targets in a results Dataset: shape (target, replicate)."""

    orgs = list(ds["organisme"].values) + list(AGGREGATS)
    years = [int(y) for y in ds["year"].values]
    cache: dict[str, np.ndarray] = {}
    rows = []
    for t in targets:
        if t.variable not in ds:  # not produced by this run: undefined
            rows.append(np.full(ds.sizes["replicate"], np.nan))
            continue
        if t.variable not in cache:
            cache[t.variable] = aggregate_values(ds, t.variable)
        rows.append(cache[t.variable][years.index(t.year), orgs.index(t.organisme)])
    return np.array(rows, dtype=float)


# ----------------------------------------------------------------------------- the solution
@dataclass
class Solution:
    """A solved goal seek (deterministic part).

    Attributes
    ----------
    scenario : the loaded original scenario.
    targets, levers : what was asked.
    x : the lever values (one per unknown, levers in order).
    values : deterministic target values at ``x`` (target units).
    tolerance : relative tolerance; ``Target.tolerance`` gives each absolute one.
    method : how it was solved.
    evaluations, seconds : deterministic simulations run, and the solve's wall time (s).
    notes : remarks for the user (a bound that binds, an inequality holding over the whole range).
    spec : what was asked (None for a solution built by hand: the defaults of :class:`SolveSpec` apply).
    """

    scenario: Scenario
    targets: list[Target]
    levers: list[Lever]
    x: list[float]
    values: list[float]
    tolerance: float
    method: str
    evaluations: int
    seconds: float
    parametres: Parametres
    notes: list[str] = field(default_factory=list)
    spec: SolveSpec | None = None

    def raw_values(self) -> dict[str, Any]:
        """Lever values as a scenario file writes them, by path."""
        out, i = {}, 0
        for lever in self.levers:
            out[lever.path] = lever.raw(self.x[i:i + lever.size])
            i += lever.size
        return out


def solve(spec: SolveSpec) -> Solution:
    """Find lever values that meet the targets of ``spec`` in a deterministic run of its scenario.

    Returns
    -------
    Solution

    Raises
    ------
    InputError
        Bad targets or levers (every problem at once), an ill-posed request (fewer targets than lever
        values, a lever that moves no target, a target no lever moves, an undefined target), or
        infeasible targets (with the closest achievable values and the binding bounds).
    """
    t0 = time.perf_counter()
    n = noms(spec.names)
    src = n["source"]
    tolerance = spec.tolerance
    sc = spec.scenario if isinstance(spec.scenario, Scenario) else load_scenario(spec.scenario)
    problems: list[Problem] = []
    parsed_targets: list[Target] = []
    parsed_levers: list[Lever] = []
    for parse, out in ((lambda: parse_targets(spec.targets, names=n, horizon=sc.parametres.horizon), parsed_targets),
                       (lambda: parse_levers(spec.levers, sc.parametres, names=n), parsed_levers)):
        try:
            out.extend(parse())
        except InputError as exc:
            problems.extend(exc.problems)
    if not spec.targets:
        problems.append(Problem(src, n["target"], MISSING, "no target", TARGET_SYNTAX))
    if not spec.levers:
        problems.append(Problem(src, n["lever"], MISSING, "no lever", "a numeric parameter path as in scenario files"))
    if not tolerance > 0 or not tolerance <= 0.1:
        problems.append(Problem(src, n["tolerance"], tolerance, "out of range", "a number in (0, 0.1]"))
    if problems:
        raise InputError(problems)
    _check_well_posed(parsed_targets, parsed_levers, n)
    ev = Evaluator(sc, parsed_levers, parsed_targets)
    size = sum(lv.size for lv in parsed_levers)
    if size == 1 and len(parsed_targets) == 1:
        x, method, notes = _solve_scalar(ev, parsed_levers[0], parsed_targets[0], tolerance, n)
    else:
        x, method, notes = _solve_joint(ev, parsed_levers, parsed_targets, tolerance, n)
    values, _ = ev.evaluate(x)
    par = ev.parametres(ev.key(x))
    _check_cross_bounds(par, parsed_levers, x, n)
    return Solution(sc, parsed_targets, parsed_levers, list(ev.key(x)), [float(v) for v in values], tolerance,
                    method, ev.evaluations, time.perf_counter() - t0, par, notes, spec)


def _check_well_posed(targets: list[Target], levers: list[Lever], n: Mapping[str, str]) -> None:
    """Refuse, before any simulation, what cannot have a unique answer."""
    problems: list[Problem] = []
    size = sum(lv.size for lv in levers)
    if len(targets) < size:
        problems.append(Problem(n["source"], n["lever"], " ".join(lv.text for lv in levers),
                                f"ill-posed: {size} lever values for {len(targets)} target(s), the solution is "
                                "not unique", "at most as many lever values as targets (e.g. a target per year "
                                "for a lever with one value per year, PATH@Y1..Y2 with VAR:ORG:Y1..Y2=...)"))
    last_target_year = max(t.year for t in targets)
    for lever in levers:
        for label, y in zip(lever.unknown_labels(), lever.first_years()):
            if y > last_target_year:
                problems.append(Problem(n["source"], n["lever"], lever.text,
                                        f"ill-posed: {label} acts from {y} on and moves no target "
                                        f"(the last target year is {last_target_year})",
                                        f"lever years up to {last_target_year}"))
    first_lever_year = min(y for lv in levers for y in lv.first_years())
    for t in targets:
        if t.year < first_lever_year:
            problems.append(Problem(n["source"], n["target"], t.text,
                                    f"ill-posed: no lever moves {t.variable}:{t.organisme}:{t.year} (the levers "
                                    f"act from {first_lever_year} on)", f"a year from {first_lever_year}"))
    if problems:
        raise InputError(problems)


# -- one lever value, one target
class _Met(Exception):
    def __init__(self, x: float):
        self.x = x


def _solve_scalar(ev: Evaluator, lever: Lever, target: Target, rel: float,
                  n: Mapping[str, str]) -> tuple[list[float], str, list[str]]:
    tol = target.tolerance(rel)

    def gap(x: float) -> float:
        return float(target.gap(ev([x]))[0])

    def met_here(g: float) -> bool:  # close enough to stop: equality within half the tolerance, the limit
        return abs(g) <= tol / 2 if target.op == "=" else -tol / 2 <= g <= 0

    x0 = lever.start(ev.par)[0]
    g0 = gap(x0)
    if math.isnan(g0):
        _undefined(target, n)
    points = {x0: g0}
    if met_here(g0):  # the scenario already meets it
        return [x0], "the scenario's own value", []

    def bracket_in(pts: dict) -> tuple[float, float] | None:  # adjacent points on either side of the target
        xs = sorted(pts)
        return next(((a, b) for a, b in zip(xs, xs[1:]) if pts[a] * pts[b] <= 0), None)

    # secant steps from the scenario's own value; the ends of the range only when they do not bracket
    met = _secant_start(gap, x0, lever, points, met_here)
    if met is not None:
        return [met], "secant", []
    bracket = bracket_in(points)
    lo, hi = min(points), max(points)
    if bracket is None:  # the upper end, then the lower end if needed
        hi = _search_end(lever.high, +1, x0, gap, points, lever)
        bracket = bracket_in(points)
        if bracket is None or (target.op != "=" and all(g <= 0 for g in points.values())):
            lo = _search_end(lever.low, -1, x0, gap, points, lever)
            bracket = bracket_in(points)
    values = [float(ev([x])[0]) for x in sorted(points)]
    if max(values) - min(values) <= _FLAT * max(1.0, abs(values[0])):
        raise InputError([Problem(n["source"], n["lever"], lever.text,
                                  f"ill-posed: the lever does not move {target.label} (it stays at "
                                  f"{num_text(values[0])} from {num_text(min(points))} to {num_text(max(points))})",
                                  "a lever that moves the target")])
    notes: list[str] = []
    if target.op != "=" and all(g <= 0 for g in points.values()):
        # the inequality holds over the whole range: its limit is the point with the least slack
        x = max(points, key=lambda v: points[v])
        end = "upper" if x == hi else "lower" if x == lo else None
        notes.append(f"{target.label} holds over the whole range of {lever.text}"
                     + (f"; the lever's {end} bound {num_text(x)} binds" if end else ""))
        return [x], "bound (the target holds over the whole range)", notes
    if bracket is None:
        _infeasible(ev, lever, target, points, lo, hi, n)
    a, b = bracket
    if met_here(points[a]) or met_here(points[b]):
        x = a if met_here(points[a]) else b
        return [x], "sampled point", notes
    if lever.integer:
        _integer_bisection(gap, a, b, points, met_here)
        method = "integer bisection"
    else:
        # lazy: scipy.optimize loads in about 0.3 s: only when fitting or solving
        from scipy.optimize import brentq

        def stop_when_met(x: float) -> float:
            g = gap(x)
            points[x] = g
            if met_here(g):
                raise _Met(x)
            return g

        try:
            brentq(stop_when_met, a, b, xtol=1e-12 * max(1.0, abs(b - a)), rtol=4 * np.finfo(float).eps,
                   maxiter=60)
        except _Met:
            pass
        method = "brentq"
    # the best evaluated point: nearest for an equality, least slack on the side that holds otherwise
    if target.op == "=":
        x = min(points, key=lambda v: abs(points[v]))
        ok = abs(points[x]) <= tol
    else:
        holding = [v for v in points if points[v] <= 0]
        x = max(holding, key=lambda v: points[v])
        ok = points[x] >= -tol
    if not ok:
        raise InputError([Problem(n["source"], n["target"], target.text,
                                  f"infeasible within the tolerance ±{num_text(tol)}: {target.variable} jumps across "
                                  f"the target near {lever.path} = {num_text(x)} (closest achievable value "
                                  f"{num_text(float(ev([x])[0]))})",
                                  f"a target the lever can reach continuously, or a larger {n['tolerance']}")])
    return [x], method, notes


def _secant_start(gap, x0: float, lever: Lever, points: dict, met_here, steps: int = 3) -> float | None:
    """Up to ``steps`` secant steps from ``x0`` (the first from a small move into the range), recorded
    in ``points``. Returns a point that meets the target, or None (the caller looks for a bracket)."""
    width = lever.high - lever.low if math.isfinite(lever.high - lever.low) else max(abs(x0), 1.0)
    step = 0.02 * width if x0 + 0.02 * width <= lever.high else -0.02 * width
    if lever.integer:
        step = math.copysign(max(1.0, round(abs(step))), step)
    xa, xb = x0, x0 + step
    if not lever.low <= xb <= lever.high:
        return None
    points[xb] = gap(xb)
    for _ in range(steps):
        ga, gb = points[xa], points[xb]
        if met_here(gb):
            return xb
        if ga * gb <= 0 or gb == ga:  # bracketed; or flat here (a ceiling binds): no prediction
            return None
        xn = min(max(xb - gb * (xb - xa) / (gb - ga), lever.low), lever.high)
        if lever.integer:
            xn = float(round(xn))
        if xn in points:
            return None
        points[xn] = gap(xn)
        xa, xb = xb, xn
    return xb if met_here(points[xb]) else None


def _search_end(bound: float, direction: int, x0: float, gap, points: dict, lever: Lever) -> float:
    """Evaluate the end of the search range; an infinite bound is replaced by doubling steps from
    ``x0`` until the gap changes sign or stops moving."""
    if math.isfinite(bound):
        if bound not in points:
            points[bound] = gap(bound)
        return bound
    g0 = points[x0]
    step = max(abs(x0), 1.0)
    prev = g0
    x = x0
    for k in range(30):
        x = x0 + direction * step * 2.0 ** k
        if lever.integer:
            x = float(round(x))
        g = gap(x)
        points[x] = g
        if g * g0 <= 0 or abs(g - prev) <= _FLAT * max(1.0, abs(g)):
            break
        prev = g
    return x


def _integer_bisection(gap, a: float, b: float, points: dict, met_here) -> None:
    a, b = int(round(a)), int(round(b))
    ga = points[float(a)]
    while b - a > 1:
        m = (a + b) // 2
        gm = gap(float(m))
        points[float(m)] = gm
        if met_here(gm):
            return
        if ga * gm <= 0:
            b = m
        else:
            a, ga = m, gm


def _infeasible(ev: Evaluator, lever: Lever, target: Target, points: dict, lo: float, hi: float,
                n: Mapping[str, str]) -> None:
    """No sampled point meets the target: report the closest achievable value and the binding bound.

    The closest sampled points form a plateau when several give the same value (another limit binds,
    e.g. a ceiling, or an unbounded lever that stopped acting); a strict interior extremum is refined
    with a bounded scalar minimisation.
    """
    def score(v: float) -> float:
        return abs(points[v]) if target.op == "=" else points[v]

    xs = sorted(points)
    closest = min(xs, key=score)
    value = float(ev([closest])[0])
    plateau = [v for v in xs if abs(float(ev([v])[0]) - value) <= _FLAT * max(1.0, abs(value))]
    if hi not in plateau and lo not in plateau and len(plateau) == 1 and not lever.integer:
        # lazy: scipy.optimize loads in about 0.3 s: only when fitting or solving
        from scipy.optimize import minimize_scalar

        i = xs.index(closest)
        a, b = xs[max(i - 1, 0)], xs[min(i + 1, len(xs) - 1)]
        res = minimize_scalar(lambda v: abs(float(target.gap(ev([v]))[0])) if target.op == "=" else
                              float(target.gap(ev([v]))[0]), bounds=(a, b), method="bounded",
                              options={"xatol": 1e-6 * max(1.0, b - a), "maxiter": 25})
        points[float(res.x)] = float(target.gap(ev([res.x]))[0])
        closest = min(points, key=score)
        value = float(ev([closest])[0])
        plateau = [closest]
    path = lever.path
    if hi in plateau and math.isfinite(lever.high):
        where = f"at its upper bound {path} = {num_text(hi)}" + \
            (f" (and already from {num_text(plateau[0])})" if len(plateau) > 1 else "")
    elif hi in plateau:
        where = f"{path} has no upper bound, but the value stays there from {num_text(plateau[0])} on"
    elif lo in plateau and math.isfinite(lever.low):
        where = f"at its lower bound {path} = {num_text(lo)}" + \
            (f" (and up to {num_text(plateau[-1])})" if len(plateau) > 1 else "")
    elif lo in plateau:
        where = f"{path} has no lower bound, but the value stays there from {num_text(plateau[-1])} down"
    else:
        where = f"at {path} = {num_text(closest)}, inside the lever's range [{num_text(lever.low)}, {num_text(lever.high)}]"
    message = (f"infeasible: the closest achievable value of {target.variable}:{target.organisme}:{target.year} "
               f"is {num_text(value)}, {where}")
    message += _ceiling_note(ev.evaluate([closest])[1], target)
    reached = _values(ev, points)
    raise InputError([Problem(n["source"], n["target"], target.text, message,
                              f"a target between {num_text(min(reached))} and {num_text(max(reached))} for this lever")])


def _values(ev: Evaluator, points: dict) -> list[float]:
    return [float(ev([x])[0]) for x in points]


def _ceiling_note(ds, target: Target) -> str:
    """'; the plafond d'emplois binds (...)' when the target's organismes sit at their ceiling."""
    members = {"regime_general": ("cnam", "cnaf", "cnav", "acoss"), "total": ORGANISMES}.get(
        target.organisme, (target.organisme,))
    sat = ds["saturation"].sel(year=target.year).isel(replicate=0)
    binding = [o for o in members if float(sat.sel(organisme=o)) >= 1 - 1e-6]
    if not binding:
        return ""
    ceilings = ", ".join(f"organismes.{o}.plafond_emplois in {target.year} = "
                         f"{num_text(float(ds['plafond_emplois'].sel(year=target.year, organisme=o)))}" for o in binding)
    return f"; the plafond d'emplois binds there ({ceilings})"


def _undefined(target: Target, n: Mapping[str, str]) -> None:
    raise InputError([Problem(n["source"], n["target"], target.text,
                              f"ill-posed: {target.variable}:{target.organisme}:{target.year} is undefined in this "
                              "scenario (NaN: no value for that organisme or year, or no aggregate)",
                              "a variable, organisme and year with a value in results.csv")])


# -- several lever values or several targets
def _solve_joint(ev: Evaluator, levers: list[Lever], targets: list[Target], rel: float, n: Mapping[str, str]
                 ) -> tuple[list[float], str, list[str]]:
    # lazy: scipy.optimize loads in about 0.3 s: only when fitting or solving
    from scipy.optimize import least_squares

    problems: list[Problem] = []
    for lever in levers:
        if lever.integer:
            problems.append(Problem(n["source"], n["lever"], lever.text,
                                    f"{lever.path} is an integer parameter: it can only be solved alone "
                                    "(one lever value, one target)", "float parameters in a joint solve"))
    if problems:
        raise InputError(problems)
    lo = np.array([lv.low for lv in levers for _ in range(lv.size)])
    hi = np.array([lv.high for lv in levers for _ in range(lv.size)])
    labels = [lab for lv in levers for lab in lv.unknown_labels()]
    x0 = np.array([v for lv in levers for v in lv.start(ev.par)])
    v0 = ev(x0)
    for t, v in zip(targets, v0):
        if math.isnan(v):
            _undefined(t, n)
    tol = np.array([t.tolerance(rel) for t in targets])
    ineq = np.array([t.op != "=" for t in targets])
    width = np.where(np.isfinite(hi - lo), hi - lo, np.maximum(np.abs(x0), 1.0))

    def all_met(x: np.ndarray, margin: float = 1.0) -> bool:
        return all(t.met(v, rel * margin) if t.op == "=" else t.met(v, rel)
                   for t, v in zip(targets, ev(x)))

    def residuals(x: np.ndarray, hinge: bool) -> np.ndarray:
        if all_met(x, margin=0.5):  # every target met (equalities within half the tolerance): stop
            raise _Met(x)
        g = np.array([t.gap(v) for t, v in zip(targets, ev(x))]) / tol
        if hinge:  # inequalities count only when they fail (aim half a tolerance inside)
            g = np.where(ineq, np.maximum(g + 0.5, 0.0), g)
        return g

    x = x0
    method = "least_squares"
    res = None
    for hinge in ((False, True) if ineq.any() else (False,)):
        try:
            res = least_squares(residuals, x, bounds=(lo, hi), x_scale=width, diff_step=1e-6, args=(hinge,),
                                xtol=1e-10, ftol=1e-10, gtol=1e-10, max_nfev=40)
            x = np.clip(res.x, lo, hi)
        except _Met as met:
            x = np.clip(np.asarray(met.x, dtype=float), lo, hi)
        if all_met(x):
            break
        if hinge:
            method = "least_squares (inequalities as one-sided residuals)"
    if all_met(x):
        notes = [f"{lab} is at its {'lower' if xi == a else 'upper'} bound {num_text(xi)}"
                 for lab, xi, a, b in zip(labels, x, lo, hi) if xi in (a, b)]
        return [float(v) for v in x], method, notes
    # failure: say why, with the closest achievable values
    values, ds = ev.evaluate(x)
    jac = np.asarray(res.jac) if res is not None and res.jac is not None else np.ones((len(targets), len(x)))
    still = [lab for j, lab in enumerate(labels) if not np.any(np.abs(jac[:, j]) > _FLAT)]
    at_bounds = [f"{lab} = {num_text(xi)} ({'lower' if xi == a else 'upper'} bound)"
                 for lab, xi, a, b in zip(labels, x, lo, hi) if xi in (a, b)]
    kind = (f"ill-posed: {len(targets)} targets for {len(x)} lever value(s) cannot be met jointly"
            if len(targets) > len(x) else "infeasible: the targets cannot be met jointly")
    tail = (f"; binding bounds: {', '.join(at_bounds)}" if at_bounds else "") + \
        (f"; the targets no longer move with {', '.join(still)} there" if still and not at_bounds else "")
    for t, v in zip(targets, values):
        if not t.met(float(v), rel):
            problems.append(Problem(n["source"], n["target"], t.text,
                                    f"{kind}: closest achievable {t.variable}:{t.organisme}:{t.year} = "
                                    f"{num_text(float(v))} (lever values {_fmt_x(labels, x)}){tail}"
                                    + _ceiling_note(ds, t),
                                    "targets the levers can meet together (or more lever values)"))
    raise InputError(problems)


def _check_cross_bounds(par: Parametres, levers: list[Lever], x: Sequence[float], n: Mapping[str, str]) -> None:
    problems: list[Problem] = []
    cross_checks(par, n["source"], problems)
    labels = [lab for lv in levers for lab in lv.unknown_labels()]
    if problems:
        raise InputError([Problem(n["source"], n["lever"], " ".join(lv.text for lv in levers),
                                  f"infeasible: the solution {_fmt_x(labels, x)} violates a cross-parameter "
                                  f"bound: {p.path} {p.allowed}", p.allowed)
                          for p in problems if p.severity == "error"])


def _fmt_x(labels: Sequence[str], x: Sequence[float]) -> str:
    return ", ".join(f"{lab} = {num_text(float(v))}" for lab, v in zip(labels, x))


# the spec is the request's (model.analysis.objectifs), given here with the search it feeds
__all__ = ["SolveSpec", "Solution", "Evaluator", "solve", "target_values", "DEFAULT_TOLERANCE", "DEFAULT_REPLICATES"]
