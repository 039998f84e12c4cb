"""Parameter uncertainty: the fitted parameters that the replicates of a stochastic run draw, besides the dice.

What is drawn
    ``cogsim calibrate`` fits K scalars θ (``[ajustement.<nom>]`` of ``calibration/parametres_calibres.toml``:
    the replacement of other exits, the execution margin, the 2018 hires, the initial MSA and ex-RSI
    headcounts, the entrant pay, the retirement hazard, the promotion drift by year, the ADF and workload
    trends) and estimates the covariance Σ of the estimates (Jacobian at the optimum, ``[covariance]``).
    Replicate r of a stochastic run draws θ_r ~ N(θ̂, Σ), each scalar clipped to the bounds it was fitted
    within, and sets the parameters θ sets as the calibration does (:func:`valeurs_tirees`: a value, a
    shift or a scale of the catalogue default, on the years the scalar was fitted for), clipped to the
    catalogue's bounds. The engine and the budget, productivity and service layers read them per batch
    element (:class:`~model.params.parametres.ParametresLot`): one engine batch, no run per replicate.

Where a scenario keeps its own value
    A drawn value replaces the scenario's only where the scenario's value equals the calibrated baseline's
    (:func:`~model.params.scenario.default_parametres`), year by year for a by-year parameter: a scenario
    that sets a fitted parameter itself (a policy, a what-if) keeps its value, and a value equal to the
    calibrated one counts as the calibrated one. A grid point of a sweep (or of a sensitivity analysis) is
    treated as the scenario it stands for: its replicates draw what the run of that point's scenario file
    would, so a point equals its separate run. The initial headcounts are not drawn when the scenario's
    initial state is a staff file.

Common random numbers
    The normals of replicate r come from their own stream ``SeedSequence(seed, spawn_key=(r, ID_FLUX))``
    (the engine's flows use ``spawn_key=(r, 0..6)``, :mod:`model.engine.tirages`): replicate r draws the
    same θ whatever the batch size or the block it is run in, at every point of a sweep, and in every
    scenario run with the same seed and calibration, so that differences between scenarios are not
    differences of draws.

Bounds
    An estimate at a bound of its fit (the execution margin at 0, the replacement of other exits at its
    upper bound) has one-sided draws: half of them sit on the bound, so the replicates' mean departs from
    the deterministic (expected-value) path, which keeps θ̂. This is the honest reading of an estimate at a
    bound, not a bias of the sampler (see docs/methode.md).

Stated ranges
    The estimated parameters the calibration does not fit carry, where a source bounds them, a ``plage`` in
    the catalogue (``{echelle = [lo, hi]}``: a factor on the calibrated baseline's value; ``{decalage = [lo,
    hi]}``: added to it; its ``source`` says why these bounds). Replicate r draws each resolved path's factor
    (one per organisme) uniformly in its range from its own stream ``SeedSequence(seed, spawn_key=(r,
    ID_FLUX_PLAGES))``, independently of the fitted scalars, under the same rule for a scenario's own values.
    A path a fitted scalar sets is not drawn from a range.

When
    Stochastic runs with ``simulation.incertitude_parametres = true`` (the default); deterministic runs never
    draw. The estimated parameters with no stated range are not drawn (their effect is in the sensitivity
    analysis, ``cogsim sensitivity``).
"""

from __future__ import annotations

import functools
import hashlib
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from model.params.calendrier import HORIZON_DEFAUT, Horizon
from model.params.calibres import CALIBRATION_FILE, ScalaireAjuste, ajustements_calibres, parametres_calibres
from model.params.catalogue import PLAGE_MODES, load_catalogue, lookup
from model.params.inducteurs import avec_inducteurs_tires
from model.params.lecture import lire_octets
from model.params.parametres import Parametres, ParametresLot
from model.params.scenario import catalogue_defaults, default_parametres
from model.params.validation import resolve_value

# the spawn key of the parameter draws' stream, (replicate, ID_FLUX): far from the engine's flows (0..6)
ID_FLUX = 1000
# the spawn key of the stated ranges' stream, (replicate, ID_FLUX_PLAGES)
ID_FLUX_PLAGES = 1001
# parameters of the reconstructed initial state: a staff file replaces them (not drawn then)
ETAT_INITIAL = ("effectif_initial", "part_cdd_initiale", "quotite_moyenne_cdi")


@dataclass(frozen=True)
class Plage:
    """The stated range of an unfitted estimated parameter (catalogue ``plage``) for one resolved path:
    ``mode`` ``echelle`` (a factor on the value) or ``decalage`` (added to it), drawn uniformly in
    ``bornes``; ``source``: why these bounds."""

    chemin: str
    mode: str
    bornes: tuple[float, float]
    source: str


def plages_catalogue(exclus: set[str] | frozenset[str] = frozenset()) -> tuple[Plage, ...]:
    """The stated ranges of the catalogue, one per resolved path (catalogue order), except the paths
    ``exclus`` (those a fitted scalar sets)."""
    out = []
    for p in load_catalogue().values():
        if p.plage is None:
            continue
        mode = next(m for m in PLAGE_MODES if m in p.plage)
        lo, hi = p.plage[mode]
        out.extend(Plage(path, mode, (float(lo), float(hi)), p.plage["source"]) for path in p.paths()
                   if path not in exclus)
    return tuple(out)


@dataclass(frozen=True, eq=False)
class LoiParametres:
    """The law the fitted scalars are drawn from, and what they act on.

    ``scalaires``: the fitted scalars (how each sets parameters); ``centre``: θ̂ (K,); ``covariance``: Σ
    (K, K); ``base``: the parameter set the scalars act on (the catalogue defaults the calibration started
    from); ``reference``: the calibrated set (``base`` with θ̂), against which a scenario's value counts as
    kept; ``source`` and ``sha256``: the file the law was read from, for the manifest; ``plages``: the
    stated ranges of the unfitted estimated parameters (:func:`plages_catalogue`).
    """

    scalaires: tuple[ScalaireAjuste, ...]
    centre: np.ndarray
    covariance: np.ndarray
    base: Parametres
    reference: Parametres
    source: str = ""
    sha256: str = ""
    plages: tuple[Plage, ...] = ()

    @functools.cached_property
    def facteur(self) -> np.ndarray:
        """L with L Lᵀ = Σ (symmetric square root; eigenvalues below 0, rounding of the written
        correlations, taken as 0)."""
        lam, v = np.linalg.eigh(0.5 * (self.covariance + self.covariance.T))
        return v * np.sqrt(np.clip(lam, 0.0, None))[None, :] @ v.T

    @property
    def noms(self) -> list[str]:
        return [s.nom for s in self.scalaires]


def loi_calibree(path: str | Path = CALIBRATION_FILE, horizon: Horizon = HORIZON_DEFAUT) -> LoiParametres | None:
    """The law of the fitted-parameter file (default: the shipped one), or None when it has no
    covariance (a file written before ``cogsim calibrate`` wrote one) or does not exist; its parameter
    sets are resolved over ``horizon`` (the run's).

    Raises
    ------
    InputError
        A malformed ``[ajustement]`` block or ``[covariance]`` table (file, key path, value, what is allowed).
    """
    path = Path(path)
    lu = ajustements_calibres(path)
    if lu is None:
        return None
    scalaires, correlation = lu
    se = np.array([s.erreur_type for s in scalaires])
    cov = correlation * np.outer(se, se)
    base = catalogue_defaults(horizon)
    if path.resolve() == CALIBRATION_FILE.resolve():
        reference = default_parametres(horizon)
    else:
        values = dict(base)
        for p, raw in parametres_calibres(path).items():
            values[p] = resolve_value(lookup(p), raw, values[p], horizon)
        reference = Parametres(values)
    sha = hashlib.sha256(lire_octets(path, str(path))).hexdigest()
    ajustes = {c for s in scalaires for c in s.chemins}
    return LoiParametres(tuple(scalaires), np.array([s.valeur for s in scalaires]), cov, base, reference,
                         _montre(path), sha, plages_catalogue(ajustes))


def _montre(path: Path) -> str:
    root = CALIBRATION_FILE.parents[1]
    p = path.resolve()
    return str(p.relative_to(root)) if p.is_relative_to(root) else str(p)


# --------------------------------------------------------------------------- the draws
def normales(seed: int, replicates: int, first: int, k: int) -> np.ndarray:
    """Standard normals (replicates, k): row i from replicate ``first + i``'s own stream."""
    out = np.empty((replicates, k))
    for i in range(replicates):
        g = np.random.Generator(np.random.PCG64(np.random.SeedSequence(seed, spawn_key=(first + i, ID_FLUX))))
        out[i] = g.standard_normal(k)
    return out


def uniformes(seed: int, replicates: int, first: int, m: int) -> np.ndarray:
    """Uniforms in [0, 1) (replicates, m): row i from replicate ``first + i``'s stream of the stated ranges."""
    out = np.empty((replicates, m))
    for i in range(replicates):
        g = np.random.Generator(np.random.PCG64(np.random.SeedSequence(seed, spawn_key=(first + i, ID_FLUX_PLAGES))))
        out[i] = g.random(m)
    return out


def tirer_theta(loi: LoiParametres, seed: int, replicates: int, first: int = 0, bornes: bool = True) -> np.ndarray:
    """θ of replicates ``first`` to ``first + replicates - 1``: (replicates, K), θ̂ + L z, clipped to each
    scalar's bounds when ``bornes``. Row by row the same numbers whatever ``replicates`` and ``first``."""
    z = normales(seed, replicates, first, len(loi.scalaires))
    theta = loi.centre[None, :] + (z[:, None, :] * loi.facteur[None, :, :]).sum(-1)
    if bornes:
        lo = np.array([s.bornes[0] for s in loi.scalaires])
        hi = np.array([s.bornes[1] for s in loi.scalaires])
        theta = np.clip(theta, lo, hi)
    return theta


@dataclass(frozen=True)
class Tirage:
    """The values θ gives a parameter: ``valeurs`` (n, ...) in its resolved form (a number; an array over
    the horizon's years; a table's values over the keys of ``base``), and ``touche`` (...): where some scalar sets
    it (the years it was fitted for)."""

    valeurs: np.ndarray
    touche: np.ndarray


def _forme(par: Parametres, path: str) -> np.ndarray:
    """A parameter's resolved value as an array: a number, an array over the horizon's years, a table's values."""
    p = lookup(path)
    if p.type == "table":
        return par.table(path)[1]
    return np.asarray(par[path], float)


def valeurs_tirees(loi: LoiParametres, theta: np.ndarray) -> dict[str, Tirage]:
    """``{path: Tirage}``: the parameters the scalars set, for each row of ``theta`` (n, K), as the
    calibration sets them (``model.analysis.calibration.valeurs_brutes``, vectorised): ``valeur`` sets θ,
    ``decalage`` adds θ where the value is not 0, ``echelle`` multiplies by θ (a table clipped to its upper
    bound), scalar after scalar on ``loi.base``; then clipped to the catalogue bounds."""
    theta = np.atleast_2d(np.asarray(theta, float))
    n = theta.shape[0]
    out: dict[str, np.ndarray] = {}
    touche: dict[str, np.ndarray] = {}
    for k, sc in enumerate(loi.scalaires):
        t = theta[:, k]
        for path in sc.chemins:
            p = lookup(path)
            if path not in out:
                v0 = _forme(loi.base, path)
                out[path] = np.broadcast_to(v0, (n, *v0.shape)).copy()
                touche[path] = np.zeros(v0.shape, bool)
            cur = out[path]
            if p.by_year:
                h = loi.base.horizon
                years = h.annees if sc.annees is None else [y for y in sc.annees if y in h]
                idx = np.array([h.index(y) for y in years], dtype=int)
                tt = t[:, None]
                if sc.mode == "valeur":
                    cur[:, idx] = tt
                elif sc.mode == "decalage":
                    cur[:, idx] = np.where(cur[:, idx] != 0.0, cur[:, idx] + tt, 0.0)
                else:
                    cur[:, idx] = cur[:, idx] * tt
                touche[path][idx] = True
            else:
                tt = t.reshape((n,) + (1,) * (cur.ndim - 1))
                if sc.mode == "valeur":
                    cur[...] = tt
                elif sc.mode == "decalage":
                    cur[...] = cur + tt
                else:
                    cur[...] = cur * tt
                    if p.type == "table" and isinstance(p.max, (int, float)):
                        np.minimum(cur, p.max, out=cur)
                touche[path][...] = True
    return {path: Tirage(_borner(path, v), touche[path]) for path, v in out.items()}


def _borner(path: str, v: np.ndarray) -> np.ndarray:
    """``v`` clipped to the numeric catalogue bounds of ``path``."""
    p = lookup(path)
    lo = p.min if isinstance(p.min, (int, float)) else -math.inf
    hi = p.max if isinstance(p.max, (int, float)) else math.inf
    return np.clip(v, lo, hi)


def valeurs_plages(loi: LoiParametres, u: np.ndarray) -> dict[str, Tirage]:
    """``{path: Tirage}``: the values of the stated ranges for uniforms ``u`` (n, len(loi.plages)), on the
    calibrated baseline's value (``loi.reference``), every year and key; clipped to the catalogue bounds."""
    u = np.atleast_2d(np.asarray(u, float))
    res = {}
    for j, pl in enumerate(loi.plages):
        v0 = _forme(loi.reference, pl.chemin)
        f = pl.bornes[0] + u[:, j] * (pl.bornes[1] - pl.bornes[0])
        f = f.reshape((-1,) + (1,) * v0.ndim)
        v = v0[None] * f if pl.mode == "echelle" else v0[None] + f
        res[pl.chemin] = Tirage(_borner(pl.chemin, v), np.ones(v0.shape, bool))
    return res


# --------------------------------------------------------------------------- on top of a scenario
def _gardees(par: Parametres, loi: LoiParametres, path: str, touche: np.ndarray) -> np.ndarray:
    """Where the draws replace ``par``'s value of ``path``: (...) or (batch, ...) booleans."""
    p = lookup(path)
    if p.by_organisme and p.name in ETAT_INITIAL and (par["etat_initial.fichier"]
                                                      or par.horizon.premiere != HORIZON_DEFAUT.premiere):
        return np.zeros(touche.shape, bool)
    ref = _forme(loi.reference, path)
    if p.type == "table":
        if not np.array_equal(par.table(path)[0], loi.reference.table(path)[0]):
            return np.zeros(touche.shape, bool)
    lot = par.lot(path) if isinstance(par, ParametresLot) else None
    if p.type == "table" and lot is not None:
        return np.zeros(touche.shape, bool)  # a table that differs between points is the points'
    sc = _forme(par, path) if lot is None else lot
    return touche & (sc == ref)


def avec_tirages(par: Parametres, loi: LoiParametres, seed: int, replicates: int, first: int = 0) -> ParametresLot:
    """``par`` with the fitted parameters drawn for replicates ``first`` to ``first + replicates - 1``.

    Parameters
    ----------
    par : the scenario's parameters, or a ``ParametresLot`` of grid points (each point gets replicate r's
        draw for its replicate r, where the point keeps the calibrated value).
    loi : the law of the fitted scalars (:func:`loi_calibree`).
    seed : the run's seed (the draws' stream is ``SeedSequence(seed, spawn_key=(r, ID_FLUX))``).
    replicates : replicates per point; first : index of the first (a run in blocks).

    Returns
    -------
    ParametresLot
        Per-element values wherever a draw replaces the scenario's value (module docstring).
    """
    P = par.n_points if isinstance(par, ParametresLot) else 1
    theta = tirer_theta(loi, seed, replicates, first)
    tirs = valeurs_tirees(loi, theta)
    if loi.plages:
        tirs.update(valeurs_plages(loi, uniformes(seed, replicates, first, len(loi.plages))))
    per_element: dict[str, np.ndarray] = {}
    for path, tir in tirs.items():
        use = _gardees(par, loi, path, tir.touche)
        if not use.any():
            continue
        drawn = np.tile(tir.valeurs, (P,) + (1,) * (tir.valeurs.ndim - 1))
        lot = par.lot(path) if isinstance(par, ParametresLot) else None
        sc = _forme(par, path) if lot is None else lot
        per_element[path] = np.where(use, drawn, sc)
    return ParametresLot.par_element(par, replicates, per_element)


def partage(par: Parametres, loi: LoiParametres) -> dict[str, Any]:
    """What the draws replace in ``par``, for the manifest: the scalars drawn (some parameter-year of theirs
    replaced), the scalars not drawn, and the parameters (with years) where the scenario keeps its value."""
    tirs = valeurs_tirees(loi, loi.centre[None, :])
    h = loi.base.horizon
    gardes: dict[str, Any] = {}
    remplace: dict[str, np.ndarray] = {}
    for path, tir in tirs.items():
        use = _gardees(par, loi, path, tir.touche)
        use = use.reshape(-1, *tir.touche.shape).all(0) if use.shape != tir.touche.shape else use
        remplace[path] = use
        garde = tir.touche & ~use
        if garde.any():
            gardes[path] = ([h.annees[i] for i in np.flatnonzero(garde)] if lookup(path).by_year else True)
    tires, non_tires = [], []
    for sc in loi.scalaires:
        ok = any(remplace[p][[h.index(y) for y in (sc.annees or h.annees) if y in h]].any() if lookup(p).by_year
                 else remplace[p].any() for p in sc.chemins)
        (tires if ok else non_tires).append(sc.nom)
    plages, plages_gardees = {}, []
    for path, tir in valeurs_plages(loi, np.full((1, len(loi.plages)), 0.5)).items():
        use = _gardees(par, loi, path, tir.touche)
        if use.any():
            pl = next(x for x in loi.plages if x.chemin == path)
            plages[path] = {pl.mode: list(pl.bornes)}
        else:
            plages_gardees.append(path)
    return {"tires": tires, "non_tires": non_tires, "valeurs_du_scenario": gardes,
            "plages": plages, "plages_valeurs_du_scenario": plages_gardees}


def description(par: Parametres, mode: str, seed: int, loi: LoiParametres | None) -> dict[str, Any]:
    """The manifest's record of the parameter draws of a run: whether the parameters were drawn, from what
    (file and its sha256), with which seed and stream, and what the scenario kept."""
    if mode != "stochastic":
        return {"tirees": False, "raison": "deterministic run: the parameters keep their calibrated values"}
    if not par["simulation.incertitude_parametres"]:
        return {"tirees": False, "raison": "simulation.incertitude_parametres = false"}
    if loi is None:
        return {"tirees": False, "raison": f"no covariance in {_montre(CALIBRATION_FILE)} (run cogsim calibrate)"}
    return {"tirees": True, "source": loi.source, "sha256": loi.sha256, "graine": seed,
            "flux": f"numpy SeedSequence(seed, spawn_key=(replicate, {ID_FLUX})); theta ~ N(valeur, covariance), "
                    "clipped to each scalar's bounds",
            "flux_plages": f"numpy SeedSequence(seed, spawn_key=(replicate, {ID_FLUX_PLAGES})); uniform in each "
                           "stated range (catalogue plage), on the calibrated value",
            **partage(par, loi)}


def tire(par: Parametres, mode: str) -> bool:
    """Does a run of ``par`` in ``mode`` draw its parameters (stochastic, ``simulation.incertitude_parametres``)?"""
    return mode == "stochastic" and bool(par["simulation.incertitude_parametres"])


def tirages(par: Parametres, mode: str, seed: int, replicates: int, first: int = 0,
            loi: LoiParametres | None = None) -> Parametres:
    """``par`` with its draws when the run draws its parameters (:func:`tire`) and ``loi`` is given: the fitted
    parameters, then the workload drivers' projected growth within their stated ranges
    (:func:`model.params.inducteurs.avec_inducteurs_tires`); else ``par`` itself."""
    if loi is None or not tire(par, mode):
        return par
    return avec_inducteurs_tires(avec_tirages(par, loi, seed, replicates, first), seed, replicates, first)


__all__ = ["ID_FLUX", "ID_FLUX_PLAGES", "Plage", "plages_catalogue", "LoiParametres", "Tirage", "loi_calibree",
           "normales", "uniformes", "tirer_theta", "valeurs_tirees", "valeurs_plages",
           "avec_tirages", "partage", "description", "tire", "tirages"]
