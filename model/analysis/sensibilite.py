"""Sensitivity analysis of any output of the model: one-at-a-time (tornado), Morris and Sobol'.

The machinery is independent of the model: :func:`plan` gives the parameter values to evaluate,
the caller runs the model once per row (the engine's batch axis makes that cheap) and stacks the
outputs along a leading dim ``point``, :func:`analyser` turns them into indices **for every output
variable and every cell of it** (typically year × organisme: the sensitivity of ETPMA in 2019 is not
the one in 2022), with confidence intervals, and :func:`ecrire` writes them (NetCDF, tidy CSV, charts)
atomically. Sampling and estimators are SALib's (:mod:`SALib.sample.morris`,
:mod:`SALib.sample.sobol`, :mod:`SALib.analyze.morris`, :mod:`SALib.analyze.sobol`).

Methods
-------
``oat``
    One at a time: the scenario's values (the *base*), then each factor at its low and at its high
    value with the others at base; ``1 + 2·D`` evaluations. Indices: ``low``, ``high`` (output at the
    factor's low / high value), ``swing`` = high − low, ``base`` (output at the base point; the same
    for every factor), ``elasticity`` = (swing / base output) / ((high − low) / base value of the
    factor) (arc elasticity, unitless; NaN when the base output or the factor's base value is 0).
    Deterministic: no confidence interval.
``morris``
    Elementary effects on ``n`` trajectories of ``levels`` grid levels (``n·(D + 1)`` evaluations).
    SALib's convention, which we keep: an elementary effect is Δy / Δ where Δ = levels / (2·(levels
    − 1)) is the step *in the unit hypercube*, so with the inputs in their own units an effect is in
    **output units per full range of the factor**: for y = c·x with x in [low, high], every effect
    is c·(high − low), μ = c·(high − low), μ* = |c|·(high − low), σ = 0. Indices: ``mu``,
    ``mu_star``, ``mu_star_conf`` (half-width of the bootstrap confidence interval of μ*), ``sigma``.
``sobol``
    Saltelli's scheme on a scrambled Sobol' sequence of ``n`` base samples (a power of 2),
    ``n·(D + 2)`` evaluations (``n·(2D + 2)`` with ``second_order``); inputs uniform on [low, high].
    Indices: ``S1``, ``S1_conf``, ``ST``, ``ST_conf`` (unitless shares of the output variance;
    ``_conf`` = half-width of the bootstrap confidence interval); with ``second_order`` also
    ``S2``/``S2_conf`` in separate variables ``<var>__S2`` and ``<var>__S2_conf`` with dims
    (facteur, facteur_2, ...), filled for facteur < facteur_2 only (NaN elsewhere), as SALib does.

The result's layout (one variable per output with dims ``(facteur, indice, ...)``, units, constant
cells) is :mod:`model.analysis.sensibilite_resultat`'s.

Speed
-----
The point estimates of Sobol' indices are SALib's estimators (``first_order``, ``total_order``,
``second_order`` of :mod:`SALib.analyze.sobol`) applied to every cell at once; Morris elementary
effects are SALib's (:func:`SALib.analyze.morris.analyze` on each trajectory alone, the effects being
linear in the outputs: applied once to unit vectors to get the matrix that maps outputs to effects).
The bootstrap confidence intervals are the same statistics as SALib's, on the same resamples (the same
seeded draws), written as resampling
weight matrices so that one matrix product serves all cells: results equal SALib's per-cell
``analyze`` to rounding (tested), ≈ 50 times faster (see ``benchmarks/bench_sensibilite.py``).

Examples
--------
>>> import numpy as np, xarray as xr
>>> from model.analysis.sensibilite import Facteur, plan, analyser
>>> facteurs = [Facteur("a", 0.0, 1.0), Facteur("b", 0.0, 1.0)]
>>> X = plan(facteurs, "sobol", n=256, seed=1)
>>> Y = xr.Dataset({"y": (("point", "year"), np.outer(X[:, 0] + 2 * X[:, 1], [1.0, 1.0]))},
...                coords={"year": [2021, 2022]})
>>> res = analyser(facteurs, "sobol", X, Y, seed=2)
>>> res["y"].sel(indice="S1", year=2022).round(1).values.tolist()   # 1/5 and 4/5 of the variance
[0.2, 0.8]
"""

from __future__ import annotations

import math
import warnings
from typing import Any, Mapping, Sequence

import numpy as np
import xarray as xr
from scipy.stats import norm

from model.analysis.sensibilite_resultat import (INDICES, INDICES_S2, METHODES, RTOL_CONSTANTE, Facteur, Methode,
                                                 assembler)
from model.params.errors import MISSING, InputError, Problem, noms_des_entrees

__all__ = ["Facteur", "Methode", "METHODES", "NOMS", "plan", "taille_plan", "analyser"]

# what error messages call each argument: its own name; a caller passes its names (the command line its
# options, see model.cli.sensitivity.OPTIONS)
NOMS: dict[str, str] = {"source": "arguments", "facteur": "facteurs", "methode": "methode", "n": "n",
                        "seed": "seed", "levels": "levels", "conf_level": "conf_level",
                        "num_resamples": "num_resamples"}
MIN_N: dict[str, int] = {"morris": 2, "sobol": 2}   # σ and bootstrap need 2 trajectories / base samples
_CHUNK = 4_000_000      # elements of the (points × factors × cells) work arrays processed at once


# ----------------------------------------------------------------------------- validation
def _is_number(x: Any) -> bool:
    return isinstance(x, (int, float, np.integer, np.floating)) and not isinstance(x, bool) and math.isfinite(x)


def _noms(names: Mapping[str, str] | None) -> dict[str, str]:
    return noms_des_entrees(NOMS, names)


def _check_facteurs(facteurs: Sequence[Facteur], noms: dict[str, str]) -> list[Problem]:
    opt = noms["facteur"]
    CLI = noms["source"]
    problems: list[Problem] = []
    if len(facteurs) == 0:
        problems.append(Problem(CLI, opt, MISSING, "no factor", "at least one PATH=LOW:HIGH"))
    seen: set[str] = set()
    for f in facteurs:
        if not isinstance(f, Facteur):
            problems.append(Problem(CLI, opt, repr(f), "not a factor", "a Facteur(path, low, high)"))
            continue
        if not isinstance(f.path, str) or not f.path:
            problems.append(Problem(CLI, opt, str(f), "empty parameter path", "a dotted parameter path"))
        elif f.path in seen:
            problems.append(Problem(CLI, opt, str(f), f"factor {f.path} given twice", "each parameter once"))
        seen.add(str(f.path))
        if not (_is_number(f.low) and _is_number(f.high)):
            problems.append(Problem(CLI, opt, str(f), f"{f.path}: low and high must be finite numbers",
                                    "PATH=LOW:HIGH with LOW < HIGH"))
            continue
        if not f.low < f.high:
            problems.append(Problem(CLI, opt, str(f), f"{f.path}: low ({f.low}) is not below high ({f.high})",
                                    "PATH=LOW:HIGH with LOW < HIGH"))
        if f.base is not None and not (_is_number(f.base) and f.low <= f.base <= f.high):
            problems.append(Problem(CLI, opt, str(f), f"{f.path}: base value {f.base} outside [{f.low}, {f.high}]",
                                    "a base value within the range"))
    return problems


def _check_options(methode: Any, n: Any, seed: Any, levels: Any, second_order: Any,
                   noms: dict[str, str]) -> list[Problem]:
    OPTIONS, CLI = noms, noms["source"]
    problems: list[Problem] = []
    if methode not in METHODES:
        problems.append(Problem(CLI, OPTIONS["methode"], methode, "unknown method", ", ".join(METHODES)))
        return problems
    if methode == "oat":
        return problems
    if seed is None or not isinstance(seed, (int, np.integer)) or isinstance(seed, bool) or seed < 0:
        problems.append(Problem(CLI, OPTIONS["seed"], MISSING if seed is None else seed,
                                f"the {methode} design is random: a seed is needed", "an integer ≥ 0"))
    least = MIN_N[methode]
    what = "trajectories" if methode == "morris" else "base samples"
    if not isinstance(n, (int, np.integer)) or isinstance(n, bool) or n < least:
        problems.append(Problem(CLI, OPTIONS["n"], MISSING if n is None else n,
                                f"too few {what} for {methode}", f"an integer ≥ {least}"))
    elif methode == "sobol" and n & (n - 1):
        problems.append(Problem(CLI, OPTIONS["n"], n, "not a power of 2 (the Sobol' sequence loses its balance)",
                                "a power of 2 ≥ 2, e.g. 512"))
    if methode == "morris" and (not isinstance(levels, (int, np.integer)) or isinstance(levels, bool)
                                or levels < 2 or levels % 2):
        problems.append(Problem(CLI, OPTIONS["levels"], levels, "bad number of Morris grid levels",
                                "an even integer ≥ 2 (4 is usual)"))
    if second_order and methode != "sobol":
        problems.append(Problem(CLI, OPTIONS["methode"], methode, "second-order indices exist only for sobol",
                                "second_order=False"))
    return problems


def _problem(facteurs: Sequence[Facteur]) -> dict[str, Any]:
    return {"num_vars": len(facteurs), "names": [f.path for f in facteurs],
            "bounds": [[float(f.low), float(f.high)] for f in facteurs]}


# ----------------------------------------------------------------------------- design
def plan(facteurs: Sequence[Facteur], methode: Methode, n: int | None = None, seed: int | None = None, *,
         levels: int = 4, second_order: bool = False, names: Mapping[str, str] | None = None) -> np.ndarray:
    """The design: the parameter values at which to evaluate the model, in the order SALib expects.

    Parameters
    ----------
    facteurs : the inputs and their ranges.
    methode : ``"oat"``, ``"morris"`` or ``"sobol"``.
    n : Morris: number of trajectories (≥ 2; 10–50 is usual); Sobol': number of base samples (a power
        of 2, e.g. 512); ignored for OAT.
    seed : seed of the random design (Morris, Sobol'); ignored for OAT.
    levels : Morris grid levels (even; 4 is usual).
    second_order : Sobol' only: the design for second-order indices too (``n·(2D + 2)`` points).
    names : what error messages call the arguments (keys of :data:`NOMS`; default their own names).

    Returns
    -------
    numpy.ndarray
        ``(n_points, D)``, one row per evaluation, one column per factor in the factors' order, in
        the factors' own units: OAT ``1 + 2·D`` rows (base, then factor 1 low, factor 1 high, factor 2
        low, ...); Morris ``n·(D + 1)``; Sobol' ``n·(D + 2)`` or ``n·(2D + 2)``.

    Raises
    ------
    InputError
        Every problem at once: a factor with ``low >= high`` or a base outside its range, a duplicate
        factor, an unknown method, ``n`` too small (or not a power of 2 for Sobol'), no seed, bad levels.
    """
    noms = _noms(names)
    problems = _check_facteurs(facteurs, noms) + _check_options(methode, n, seed, levels, second_order, noms)
    if problems:
        raise InputError(problems)
    if methode == "oat":
        return _plan_oat(facteurs)
    problem = _problem(facteurs)
    if methode == "morris":
        # lazy: SALib only for sensitivity designs and indices
        from SALib.sample import morris as morris_sample
        return morris_sample.sample(problem, int(n), num_levels=int(levels), seed=int(seed))
    # lazy: SALib only for sensitivity designs and indices
    from SALib.sample import sobol as sobol_sample
    return sobol_sample.sample(problem, int(n), calc_second_order=bool(second_order), seed=int(seed))


def _plan_oat(facteurs: Sequence[Facteur]) -> np.ndarray:
    base = np.array([f.pivot for f in facteurs], dtype=float)
    X = np.tile(base, (1 + 2 * len(facteurs), 1))
    for i, f in enumerate(facteurs):
        X[1 + 2 * i, i] = f.low
        X[2 + 2 * i, i] = f.high
    return X


def taille_plan(D: int, methode: Methode, n: int | None = None, second_order: bool = False) -> int:
    """Number of model evaluations of a design: ``1 + 2·D`` (OAT), ``n·(D + 1)`` (Morris), ``n·(D + 2)``
    or ``n·(2D + 2)`` (Sobol')."""
    if methode == "oat":
        return 1 + 2 * D
    if methode == "morris":
        return int(n) * (D + 1)
    return int(n) * (2 * D + 2 if second_order else D + 2)


# ----------------------------------------------------------------------------- analysis
def analyser(facteurs: Sequence[Facteur], methode: Methode, X: np.ndarray, Y: xr.Dataset, *,
             seed: int | None = None, conf_level: float = 0.95, num_resamples: int = 100,
             second_order: bool = False, levels: int = 4, names: Mapping[str, str] | None = None) -> xr.Dataset:
    """Sensitivity indices of every output variable, for every cell (year, organisme, ...).

    Parameters
    ----------
    facteurs : the factors of the design, in the same order.
    methode : ``"oat"``, ``"morris"`` or ``"sobol"``; as for :func:`plan`.
    X : ``(n_points, D)`` the design returned by :func:`plan` (factors' units).
    Y : the outputs: every variable has the leading dim ``point`` (length ``n_points``, row ``i`` of
        ``X``) and any other dims (typically ``year``, ``organisme``); ``units``, ``long_name`` and
        ``long_name_fr`` attrs are carried over.
    seed : seed of the bootstrap resampling of the confidence intervals (Morris, Sobol'); the same
        resamples serve every cell, as SALib's ``analyze`` with this seed would draw them.
    conf_level : level of the confidence intervals, in (0, 1).
    num_resamples : bootstrap resamples (≥ 2).
    second_order : Sobol' only, as in :func:`plan` (the design must have been drawn with it).
    levels : Morris grid levels, as in :func:`plan`.
    names : as in :func:`plan`.

    Returns
    -------
    xarray.Dataset
        One variable per output variable with dims ``(facteur, indice, <its other dims>)`` (layout,
        units and the treatment of constant cells in the module docstring); Sobol' with
        ``second_order``: also ``<var>__S2``, ``<var>__S2_conf`` with dims ``(facteur, facteur_2, ...)``.
        Attributes: ``method``, ``n`` (trajectories / base samples; 0 for OAT), ``n_points``, ``seed``,
        ``conf_level``, ``num_resamples``, ``levels``, ``second_order``, ``facteurs`` (JSON),
        ``cellules_constantes``, ``cogsim_version``, ``salib_version``.

    Raises
    ------
    InputError
        Every problem at once: bad factors or options (as :func:`plan`), ``X`` not ``(n_points, D)``
        or not a design of this method (wrong number of rows, OAT rows not at base/low/high), a
        variable of ``Y`` without a leading ``point`` dim or whose length differs from ``X``'s, no
        seed for Morris/Sobol', a confidence level outside (0, 1), fewer than 2 resamples.
    """
    D = len(facteurs)
    OPTIONS = _noms(names)
    CLI = OPTIONS["source"]
    problems = _check_facteurs(facteurs, OPTIONS)
    n_points = None
    X = np.asarray(X)
    if methode not in METHODES:
        problems.append(Problem(CLI, OPTIONS["methode"], methode, "unknown method", ", ".join(METHODES)))
    if not (_is_number(conf_level) and 0 < conf_level < 1):
        problems.append(Problem(CLI, OPTIONS["conf_level"], conf_level, "out of range", "a number in (0, 1)"))
    if not isinstance(num_resamples, (int, np.integer)) or num_resamples < 2:
        problems.append(Problem(CLI, OPTIONS["num_resamples"], num_resamples, "too few resamples", "an integer ≥ 2"))
    if methode in ("morris", "sobol") and (seed is None or not isinstance(seed, (int, np.integer)) or seed < 0):
        problems.append(Problem(CLI, OPTIONS["seed"], MISSING if seed is None else seed,
                                "a seed is needed for the confidence intervals", "an integer ≥ 0"))
    if methode == "morris" and (not isinstance(levels, (int, np.integer)) or levels < 2 or levels % 2):
        problems.append(Problem(CLI, OPTIONS["levels"], levels, "bad number of Morris grid levels",
                                "an even integer ≥ 2 (4 is usual)"))
    if second_order and methode != "sobol":
        problems.append(Problem(CLI, OPTIONS["methode"], methode, "second-order indices exist only for sobol",
                                "second_order=False"))
    if X.ndim != 2 or (D and X.shape[1] != D) or not np.issubdtype(X.dtype, np.number):
        problems.append(Problem("X", "shape", X.shape, "not a design for these factors",
                                f"an array (n_points, {D}) of numbers (see plan)"))
    else:
        n_points = X.shape[0]
        if methode in METHODES and D:
            problems += _check_design(facteurs, methode, X, second_order)
    if not isinstance(Y, xr.Dataset) or not Y.data_vars:
        problems.append(Problem("Y", "", type(Y).__name__, "no output variables",
                                "an xarray.Dataset with a leading dim 'point'"))
    else:
        for name, da in Y.data_vars.items():
            if not da.dims or da.dims[0] != "point":
                problems.append(Problem("Y", f"{name}.dims", tuple(da.dims), "the leading dim must be 'point'",
                                        "('point', ...)"))
            elif n_points is not None and da.sizes["point"] != n_points:
                problems.append(Problem("Y", f"{name}.point", da.sizes["point"],
                                        "length differs from the number of rows of the design X",
                                        f"{n_points} points"))
            elif not np.issubdtype(da.dtype, np.number) or np.issubdtype(da.dtype, np.complexfloating):
                problems.append(Problem("Y", name, str(da.dtype), "not a real number variable", "float or int"))
            elif "indice" in da.dims or str(name).endswith(("__S2", "__S2_conf")):
                problems.append(Problem("Y", name, tuple(da.dims), "name or dims clash with the result layout",
                                        "no dim 'indice', no name ending in __S2"))
    if problems:
        raise InputError(problems)

    names = list(Y.data_vars)
    blocks = [Y[v].values.reshape(n_points, -1).astype(float, copy=False) for v in names]
    sizes = [b.shape[1] for b in blocks]
    M = np.concatenate(blocks, axis=1) if blocks else np.empty((n_points, 0))
    finite = np.isfinite(M).all(axis=0)
    with np.errstate(invalid="ignore"):
        ptp = np.where(finite, np.ptp(np.where(finite, M, 0.0), axis=0), np.nan)
        scale = np.abs(np.where(finite, M, 0.0)).max(axis=0)
    constant = finite & (ptp <= RTOL_CONSTANTE * scale)
    varying = finite & ~constant

    if methode == "oat":
        out, out2 = _oat(facteurs, M, finite, constant), {}
    elif methode == "morris":
        out, out2 = _morris(facteurs, X, M, varying, constant, int(levels), seed, conf_level, int(num_resamples)), {}
    else:
        out, out2 = _sobol(D, M, varying, seed, conf_level, int(num_resamples), bool(second_order))
    return assembler(facteurs, methode, Y, names, sizes, out, out2, constant, finite, n_points,
                     seed=seed, conf_level=conf_level, num_resamples=num_resamples, levels=levels,
                     second_order=second_order)


def _check_design(facteurs: Sequence[Facteur], methode: Methode, X: np.ndarray, second_order: bool) -> list[Problem]:
    D = len(facteurs)
    P = X.shape[0]
    if methode == "oat":
        expected = 1 + 2 * D
        if P != expected:
            return [Problem("X", "shape", X.shape, "not a one-at-a-time design", f"{expected} rows (1 + 2·D)")]
        ref = _plan_oat(facteurs)
        bad = [f.path for i, f in enumerate(facteurs)
               if not np.allclose(X[[0, 1 + 2 * i, 2 + 2 * i]], ref[[0, 1 + 2 * i, 2 + 2 * i]], rtol=1e-12, atol=0)]
        return [Problem("X", "rows", ", ".join(bad), "rows are not at base/low/high for these factors",
                        "the design of plan(facteurs, 'oat')")] if bad else []
    per = D + 1 if methode == "morris" else (2 * D + 2 if second_order else D + 2)
    n = P // per
    problems = []
    if P % per or n < MIN_N[methode]:
        form = "n·(D + 1)" if methode == "morris" else ("n·(2D + 2)" if second_order else "n·(D + 2)")
        problems.append(Problem("X", "shape", X.shape, f"not a {methode} design for {D} factors",
                                f"{form} rows with n ≥ {MIN_N[methode]}"))
    lo = np.array([f.low for f in facteurs])
    hi = np.array([f.high for f in facteurs])
    tol = 1e-9 * (hi - lo)
    outside = [f.path for i, f in enumerate(facteurs)
               if not np.all((X[:, i] >= lo[i] - tol[i]) & (X[:, i] <= hi[i] + tol[i]))]
    if outside:
        problems.append(Problem("X", "values", ", ".join(outside), "design values outside the factor's range",
                                "the design of plan() for these factors"))
    return problems


def _oat(facteurs, M, finite, constant) -> dict[str, np.ndarray]:
    y0 = M[0]
    low, high = M[1::2], M[2::2]                         # (D, C)
    low = np.where(constant, y0, low)
    high = np.where(constant, y0, high)
    swing = high - low
    rel_dx = np.array([(f.high - f.low) / f.pivot if f.pivot != 0 else np.nan for f in facteurs])[:, None]
    with np.errstate(divide="ignore", invalid="ignore"):
        elasticity = np.where(y0 != 0, swing / y0, np.nan) / rel_dx
    base = np.broadcast_to(y0, swing.shape)
    out = {"low": low, "high": high, "swing": swing, "elasticity": elasticity, "base": base}
    return {k: np.where(finite, v, np.nan) for k, v in out.items()}


def _counts(rng_draws: np.ndarray, n: int) -> np.ndarray:
    """Resampling weights: row k = how often each of the ``n`` items is drawn in resample k, over n.

    ``rng_draws`` is ``(num_resamples, n)`` of indices in ``[0, n)``."""
    R = rng_draws.shape[0]
    flat = (rng_draws + n * np.arange(R)[:, None]).ravel()
    return np.bincount(flat, minlength=n * R).reshape(R, n) / n


def _morris(facteurs, X, M, varying, constant, levels, seed, conf_level, num_resamples) -> dict[str, np.ndarray]:

    # lazy: SALib only for sensitivity designs and indices
    from SALib.analyze import morris as morris_analyze

    D = len(facteurs)
    P, C = M.shape
    T = P // (D + 1)
    out = {k: np.full((D, C), np.nan) for k in INDICES["morris"]}
    for k in out:
        out[k][:, constant] = 0.0
    # elementary effects are linear in the outputs of their own trajectory: EE[j, t] = Σ_k L[j, t, k] ·
    # y[t, k] (point k of trajectory t), with SALib's public analyze on trajectory t alone (its μ, the
    # mean over one trajectory, is that trajectory's effect; σ and the bootstrap are not used). Factor j
    # moves between two consecutive points k, k + 1 of a trajectory, so L[j, t] is ±c at k + 1 and ∓c
    # at k (c = 1 / Δ): y = 2^k tells k and the sign (effect ±2^k / Δ) in one call per trajectory, and
    # y = 1 at the last point of trajectory 0 gives c as SALib computes it (checked bit for bit against
    # SALib with unit vectors in tests/test_sensibilite.py).
    problem = _problem(facteurs)

    def effects(Xt: np.ndarray, y: np.ndarray) -> np.ndarray:
        return np.asarray(morris_analyze.analyze(problem, Xt, y, num_resamples=2, num_levels=levels,
                                                 seed=0)["mu"], float)

    L = np.zeros((D, T, D + 1))
    powers = 2.0 ** np.arange(D + 1)
    rows = np.arange(D)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # σ of a single trajectory
        c = np.abs(effects(X[:D + 1], np.eye(D + 1)[D])).max()
        for t in range(T):
            e = effects(X[t * (D + 1):(t + 1) * (D + 1)], powers)
            k = np.rint(np.log2(np.abs(e) / c)).astype(int)
            L[rows, t, k + 1] = np.sign(e) * c
            L[rows, t, k] = -np.sign(e) * c
    cols = np.flatnonzero(varying)
    if cols.size == 0:
        return out
    EE = np.einsum("jtk,tkc->jtc", L, M[:, cols].reshape(T, D + 1, -1))  # (D, T, Cv): per full range
    out["mu"][:, cols] = EE.mean(axis=1)
    absEE = np.abs(EE)
    out["mu_star"][:, cols] = absEE.mean(axis=1)
    out["sigma"][:, cols] = EE.std(axis=1, ddof=1)
    # bootstrap of μ*: the draws of SALib's _compute_mu_star_confidence (one per factor, in order)
    rng = np.random.default_rng(seed)
    z = norm.ppf(0.5 + conf_level / 2)
    for j in range(D):
        W = _counts(rng.integers(T, size=(num_resamples, T)), T)   # (R, T)
        out["mu_star_conf"][j, cols] = z * (W @ absEE[j]).std(axis=0, ddof=1)
    return out


def _sobol(D, M, varying, seed, conf_level, num_resamples, second_order):
    # lazy: SALib only for sensitivity designs and indices
    from SALib.analyze.sobol import first_order
    from SALib.analyze.sobol import second_order as second_order_estimator
    from SALib.analyze.sobol import total_order

    P, C = M.shape
    step = 2 * D + 2 if second_order else D + 2
    N = P // step
    out = {k: np.full((D, C), np.nan) for k in INDICES["sobol"]}
    out2 = {k: np.full((D, D, C), np.nan) for k in INDICES_S2} if second_order else {}
    cols = np.flatnonzero(varying)
    if cols.size == 0:
        return out, out2
    # the resamples of SALib's sobol.analyze(seed=seed): r[:, k] is resample k
    r = np.random.default_rng(seed).integers(N, size=(N, num_resamples))
    W = _counts(r.T, N)                                    # (R, N)
    z = norm.ppf(0.5 + conf_level / 2)
    eps = np.finfo(float).eps
    chunk = max(1, _CHUNK // (N * (2 * D + 2)))
    for c0 in range(0, cols.size, chunk):
        cc = cols[c0:c0 + chunk]
        Y = M[:, cc]
        Y = (Y - Y.mean(axis=0)) / Y.std(axis=0)          # SALib normalises the output (per cell here)
        A, B = Y[0::step], Y[step - 1::step]               # (N, c)
        AB = np.stack([Y[j + 1::step] for j in range(D)])  # (D, N, c)
        BA = np.stack([Y[j + 1 + D::step] for j in range(D)]) if second_order else None
        for j in range(D):                                 # point estimates: SALib's estimators
            out["S1"][j, cc] = first_order(A, AB[j], B)
            out["ST"][j, cc] = total_order(A, AB[j], B)
        # bootstrap: the same estimators on the same resamples, as weighted means (one product per term)
        mean_y = 0.5 * (W @ A + W @ B)                     # (R, c)
        var_y = 0.5 * (W @ (A * A) + W @ (B * B)) - mean_y ** 2

        def ratio(num):
            return np.divide(num, var_y, out=np.zeros_like(num), where=var_y > eps)

        s1_r = ratio(np.einsum("rn,jnc->jrc", W, B * (AB - A)))          # (D, R, c)
        st_r = ratio(np.einsum("rn,jnc->jrc", W, 0.5 * (A - AB) ** 2))
        out["S1_conf"][:, cc] = z * s1_r.std(axis=1, ddof=1)
        out["ST_conf"][:, cc] = z * st_r.std(axis=1, ddof=1)
        if second_order:
            for j in range(D):
                for k in range(j + 1, D):
                    out2["S2"][j, k, cc] = second_order_estimator(A, AB[j], AB[k], BA[j], B)
                    v_r = ratio(W @ (BA[j] * AB[k] - A * B))
                    out2["S2_conf"][j, k, cc] = z * (v_r - s1_r[j] - s1_r[k]).std(axis=0, ddof=1)
    return out, out2
