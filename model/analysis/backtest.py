"""Backtest: refit on shorter windows and score the held-out years; score the post-2018 figures on the
calibrated default scenario.

Two kinds of scored figures, one table (:data:`COLONNES`, one row a figure):

* **refits** — for each end year ``fin`` of :data:`FINS` the parameters are fitted again on 2013-``fin``
  (:func:`~model.analysis.calibration.calibrer`, from the catalogue) and every observation of the
  calibration tables dated after ``fin`` (fit and validation rows alike) is compared with the refit's
  deterministic value; horizon = year − fin.
* **post-2018** — the figures of ``calibration/observations_post_2018.csv`` (the public figures after 2018
  of ``../shared/data`` the model can produce, with their perimeter notes, and a few in-window figures of
  the same files the calibration does not use) are compared with the default COG scenario
  (``scenarios/cog_2018_2022.toml``) on the shipped calibration: a post-2018 outcome is the result of the
  policy of that period, which the scenario states, under the calibrated behaviour; horizon = year − the
  last year of the calibration window (negative or 0: in the window, not fitted).

Each figure also gets the 5-95 % band of the same parameter set's stochastic replicates
(:attr:`SpecBacktest.replicates`, common seed) and whether the observed value lies in it (``in_band90``).
As in a run, each replicate draws the fitted parameters (:mod:`model.params.incertitude`): a refit's
replicates from that refit's estimates and covariance, the post-2018 scenario's from the shipped
calibration's, so that the bands cover what the fit does not know as well as the dice.

``error_rel`` is the relative error of the level the figure implies, so that every kind is read on the
scale of the goals: ``simulated / observed − 1`` for a level or a cumul; for a growth rate in % (a
``change_pct`` or the RMPP) the error on the index, ``(1 + s/100) / (1 + o/100) − 1`` (≈ points / 100);
for an absolute change the error on the end level, the base year's level taken from the model,
``(s − o) / (base + o)``.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import math
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

import numpy as np

from model.analysis.calibration import FENETRE, ResultatAjustement, appliquer, calibrer, code_version, valeur_simulee
from model.analysis.observations import (ROOT, TOUS_INDICATEURS, Observation, data_hash, load_observations)
from model.engine.etat_initial import etat_initial
from model.engine.simulation import Trajectoire, simulate
from model.params.calendrier import HORIZON_DEFAUT, ORGANISMES, ORGANISMES_SORTIE, REGIME_GENERAL
from model.params.calibres import CALIBRATION_FILE, ScalaireAjuste
from model.params.incertitude import LoiParametres, loi_calibree, plages_catalogue, tirages
from model.params.lecture import lire_octets, lire_texte, lire_toml
from model.params.scenario import catalogue_defaults, file_hash, load_scenario
from model.results.dataset import Tableaux, aggregate_values, build_dataset

FINS = (2015, 2016, 2017)  # ends of the refit windows (2013-fin); the held-out years run to 2018
REPLICATES = 200  # stochastic replicates of each band (5-95 %)
GRAINE = 2018  # seed of the bands (common random numbers across windows)
SCENARIO = ROOT / "scenarios" / "cog_2018_2022.toml"
OBSERVATIONS_POST_2018 = ROOT / "calibration" / "observations_post_2018.csv"

COLONNES = ("group", "indicator", "organisme", "year", "horizon", "observed", "simulated", "error_rel", "in_band90",
            "id", "window", "source", "kind", "base_year", "unit", "sigma", "p05", "p95", "estimated", "usage")

# indicator -> group of the summary
GROUPES: dict[str, str] = {
    "etpma": "staff", "etpma_cdi": "staff", "etpma_cdd": "staff", "effectif_moyen": "staff",
    "effectif_31dec": "staff", "part_plus_50": "staff", "age_moyen": "staff",
    "departs_retraite": "flows", "recrutements_cdi": "flows", "recrutements": "flows",
    "rmpp": "pay", "masse_salariale": "pay", "depenses_personnel": "pay", "charges_personnel": "pay",
    "adf": "budget", "adf_immobilier": "budget", "depenses_limitatives": "budget",
    "productivite": "productivity", "productivite_ij": "productivity", "cout_unitaire": "productivity",
    "taux_appels_aboutis": "service", "appels_recus": "service",
}
GROUPES_ORDRE = ("staff", "flows", "pay", "budget", "productivity", "service")
TAUX = {"rmpp"}  # levels that are growth rates in %: error on the index, and the RMPP goal in points

# The goals of issue 14, each on its own scope, over the held-out horizons (>= 1): (label, group, indicators
# (None = the whole group), horizons (None = every horizon >= 1), measure, bound(s)). ``mae`` is the mean
# absolute relative error in %, ``mae_points`` the mean absolute error in points, ``couverture`` the share
# of observed values inside their 90 % band, in %.
STAFF = ("etpma", "etpma_cdi", "etpma_cdd", "effectif_moyen", "effectif_31dec")
OBJECTIFS: tuple[tuple[str, str, tuple[str, ...] | None, tuple[int, ...] | None, str, tuple[float, float]], ...] = (
    ("staff (ETPMA, headcounts), horizon 1", "staff", STAFF, (1,), "mae", (0.0, 2.0)),
    ("staff (ETPMA, headcounts), horizon 2", "staff", STAFF, (2,), "mae", (0.0, 3.0)),
    ("flows (hires, retirements)", "flows", ("departs_retraite", "recrutements_cdi", "recrutements"), None, "mae",
     (0.0, 15.0)),
    ("RMPP", "pay", ("rmpp",), None, "mae_points", (0.0, 0.2)),
    ("90 % band coverage", "", None, None, "couverture", (80.0, 95.0)),
)


@dataclass(frozen=True)
class SpecBacktest:
    """What a backtest does. ``fins``: ends of the refit windows; ``replicates`` and ``seed``: the bands;
    ``max_nfev``: cap on each fitting stage's evaluations; ``scenario`` and ``post_2018``: the run and the
    figures of the post-2018 scoring (None: none)."""

    fins: tuple[int, ...] = FINS
    replicates: int = REPLICATES
    seed: int = GRAINE
    max_nfev: int = 30
    scenario: Path | None = SCENARIO
    post_2018: Path | None = OBSERVATIONS_POST_2018


@dataclass
class ResultatBacktest:
    """The scored rows (:data:`COLONNES`), one record per refit window and the provenance."""

    lignes: list[dict[str, Any]]
    fenetres: list[dict[str, Any]]
    provenance: dict[str, Any]
    secondes: float = 0.0
    avertissements: list[str] = field(default_factory=list)


# --------------------------------------------------------------------------- simulated indicators of a batch
def observables_run(tr: Trajectoire, par) -> dict[str, np.ndarray]:
    """Every indicator of :data:`~model.analysis.observations.TOUS_INDICATEURS` of a simulated batch, as
    ``(year, zone, replicate)`` arrays, zones as ``ORGANISMES_SORTIE``, in the model's units (the same
    definitions as :func:`~model.analysis.calibration.simulate_observables`, replicate by replicate)."""
    ds = build_dataset(tr, par)
    tab = Tableaux(ds)
    out = {k: aggregate_values(ds, k, tab) for k in TOUS_INDICATEURS if k in ds}
    out["recrutements_cdi"] = aggregate_values(ds, "recrutements", tab) - aggregate_values(ds, "recrutements_cdd", tab)
    eff = np.moveaxis(tr.effectif.reshape(-1, 12, *tr.effectif.shape[1:]).mean(1), 1, 2)  # (Y, O, R)
    rg = [ORGANISMES.index(o) for o in REGIME_GENERAL]
    out["effectif_moyen"] = np.concatenate([eff, eff[:, rg].sum(1, keepdims=True), eff.sum(1, keepdims=True)], 1)
    return out


def valeurs_replicates(sims: Mapping[str, np.ndarray], o: Observation) -> np.ndarray:
    """The model's value of ``o`` in each replicate of ``sims`` (:func:`observables_run`)."""
    n = next(iter(sims.values())).shape[-1]
    arrays = {o.indicator: sims[o.indicator]}
    return np.array([valeur_simulee({k: v[..., r] for k, v in arrays.items()}, o) for r in range(n)])


def erreur_relative(o: Observation, s: float, niveau_base: float | None = None) -> float:
    """Relative error of the level ``o`` implies (module docstring); NaN when undefined.

    ``niveau_base``: the model's level in ``o.annee_base`` (for an absolute change), in ``o.unit``."""
    with np.errstate(divide="ignore", invalid="ignore"):
        if o.kind == "change_pct" or (o.kind == "level" and o.indicator in TAUX):
            den = 1.0 + o.value / 100.0
            return float((1.0 + s / 100.0) / den - 1.0) if den > 0 else math.nan
        if o.kind == "change_abs":
            den = (niveau_base if niveau_base is not None else math.nan) + o.value
            return float((s - o.value) / den) if den > 0 else math.nan
        return float(s / o.value - 1.0) if o.value else math.nan


def niveau(sim: Mapping[str, np.ndarray], o: Observation, annee: int) -> float:
    """The model's level of ``o``'s indicator and zone in ``annee``, in the observation's unit."""
    x = sim[o.indicator][annee - HORIZON_DEFAUT.premiere, ORGANISMES_SORTIE.index(o.organisme)]
    return float(x * TOUS_INDICATEURS[o.indicator][1])


def lignes(observations: Sequence[Observation], sim: Mapping[str, np.ndarray], sims: Mapping[str, np.ndarray],
           fin: int, window: str, source: str, simule: Callable[[Observation], float] | None = None
           ) -> list[dict[str, Any]]:
    """The scored rows of ``observations``: simulated values from the deterministic ``sim`` (or ``simule``),
    bands from the replicates ``sims``; horizon = year − ``fin``."""
    out = []
    for o in observations:
        s = simule(o) if simule is not None else valeur_simulee(sim, o)
        base = niveau(sim, o, o.annee_base) if o.kind == "change_abs" else None
        reps = valeurs_replicates(sims, o)
        reps = reps[np.isfinite(reps)]
        p05, p95 = (np.quantile(reps, [0.05, 0.95]) if reps.size else (math.nan, math.nan))
        dans = "" if not (reps.size and math.isfinite(o.value)) else bool(p05 <= o.value <= p95)
        out.append({"group": GROUPES.get(o.indicator, "other"), "indicator": o.indicator, "organisme": o.organisme,
                    "year": o.year, "horizon": o.year - fin, "observed": o.value, "simulated": s,
                    "error_rel": erreur_relative(o, s, base), "in_band90": dans, "id": o.id, "window": window,
                    "source": source, "kind": o.kind, "base_year": o.annee_base if o.annee_base is not None else "",
                    "unit": o.unit, "sigma": o.sigma, "p05": float(p05), "p95": float(p95), "estimated": o.estimated,
                    "usage": o.usage})
    return out


def _batch(par, seed: int, replicates: int, base_dir: Path | None = None,
           loi: LoiParametres | None = None) -> tuple[dict, dict]:
    """(deterministic indicators (year, zone), stochastic ones (year, zone, replicate)) of ``par``; the
    replicates draw the fitted parameters from ``loi`` (none: the dice only)."""
    e0 = etat_initial(par, base_dir=base_dir)
    det = observables_run(simulate(par, e0, replicates=1, seed=seed, mode="deterministic"), par)
    lot = tirages(par, "stochastic", seed, replicates, loi=loi)
    sto = observables_run(simulate(lot, e0, replicates=replicates, seed=seed, mode="stochastic"), lot)
    return {k: v[..., 0] for k, v in det.items()}, sto


def loi_de_l_ajustement(res: ResultatAjustement, par, source: str) -> LoiParametres:
    """The law of a fit's scalars (its estimates and covariance), acting on the catalogue defaults as the
    fit did; ``par``: the fitted parameter set (the values a replicate draws around)."""
    scalaires = tuple(ScalaireAjuste(s.nom, s.chemins, s.mode, float(t), float(e), s.bornes, s.annees)
                      for s, t, e in zip(res.specs, res.theta, res.se))
    ajustes = {c for s in scalaires for c in s.chemins}
    return LoiParametres(scalaires, np.asarray(res.theta, float), np.asarray(res.covariance, float),
                         catalogue_defaults(), par, source, plages=plages_catalogue(ajustes))


# --------------------------------------------------------------------------- the backtest
def fin_calibration(path: Path = CALIBRATION_FILE) -> int:
    """Last year of the window the fitted-parameter file was fitted on (its provenance), else 2018."""
    if not path.exists():
        return FENETRE[1]
    fen = lire_toml(path, str(path)).get("provenance", {}).get("fenetre", FENETRE)
    return int(fen[1])


def backtest(observations: Sequence[Observation] | None = None, spec: SpecBacktest = SpecBacktest(),
             data: str | Path | None = None) -> ResultatBacktest:
    """Refit on 2013-fin for each fin of ``spec.fins`` and score the held-out observations; score the
    post-2018 figures on ``spec.scenario``.

    Parameters
    ----------
    observations : the calibration observations (default: :func:`load_observations` of ``data``).
    spec : windows, bands and the post-2018 run.
    data : the folder the observations come from (provenance only).

    Returns
    -------
    ResultatBacktest
        One row per (window, held-out observation) and per post-2018 figure (:data:`COLONNES`).
    """
    t0 = time.perf_counter()
    obs = list(observations) if observations is not None else load_observations(data)
    # every input read and checked before the refits (minutes)
    post, sc = None, None
    if spec.scenario is not None and spec.post_2018 is not None:
        post = load_observations(spec.post_2018, TOUS_INDICATEURS)
        sc = load_scenario(spec.scenario)
    rows: list[dict[str, Any]] = []
    fenetres: list[dict[str, Any]] = []
    for fin in spec.fins:
        t = time.perf_counter()
        res = calibrer(obs, (FENETRE[0], fin), max_nfev=spec.max_nfev)
        par = appliquer(catalogue_defaults(), res.raw)
        sim, sims = _batch(par, spec.seed, spec.replicates, loi=loi_de_l_ajustement(res, par, f"refit {fin}"))
        tenus = [o for o in obs if o.year > fin]
        window = f"{FENETRE[0]}-{fin}"
        rows += lignes(tenus, sim, sims, fin, window, "refit", simule=lambda o: res.simule[o.id])
        fenetres.append({"window": window, "n_scored": len(tenus), "chi2": res.chi2, "secondes": time.perf_counter() - t,
                         "parametres": {s.nom: {"valeur": float(v), "erreur_type": float(e), "identifie": bool(ok)}
                                        for s, v, e, ok in zip(res.specs, res.theta, res.se, res.identifie)}})
    prov: dict[str, Any] = {"date": dt.datetime.now().replace(microsecond=0).isoformat(),
                            "code_version": code_version(), "data_hash": f"sha256:{data_hash(data)}",
                            "fins": list(spec.fins), "replicates": spec.replicates, "seed": spec.seed,
                            "max_nfev": spec.max_nfev,
                            "bandes": "5-95 % of the replicates, each drawing the fitted parameters from the estimates "
                                      "and covariance of its fit (refits: their own; post-2018: the shipped calibration)"}
    avert: list[str] = []
    if post is not None and sc is not None:
        fin = fin_calibration()
        loi = loi_calibree() if sc.parametres["simulation.incertitude_parametres"] else None
        sim, sims = _batch(sc.parametres, spec.seed, spec.replicates, Path(spec.scenario).parent, loi)
        rows += lignes(post, sim, sims, fin, f"{FENETRE[0]}-{fin}", f"scenario:{sc.name}")
        avert += [str(w) for w in sc.warnings]
        prov.update({"scenario": _montre(spec.scenario), "scenario_sha256": file_hash(Path(spec.scenario)),
                     "post_2018": _montre(spec.post_2018),
                     "post_2018_sha256": sha256_fichier(spec.post_2018),
                     "calibration_sha256": sha256_fichier(), "fin_calibration": fin})
    return ResultatBacktest(rows, fenetres, prov, time.perf_counter() - t0, avert)


def _montre(path: str | Path) -> str:
    """A path as the provenance records it: relative to the project when inside it."""
    p = Path(path).resolve()
    return str(p.relative_to(ROOT)) if p.is_relative_to(ROOT) else str(p)


def sha256_fichier(path: str | Path = CALIBRATION_FILE) -> str:
    """sha256 of a file read through the bounded reader (default: the fitted-parameter file the scenarios
    use); "" when there is none."""
    path = Path(path)
    return hashlib.sha256(lire_octets(path, str(path))).hexdigest() if path.exists() else ""


# --------------------------------------------------------------------------- summaries
def _bucket(h: int) -> str:
    return str(h) if h >= 1 else "<=0"


def _mesures(rs: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    e = np.array([float(r["error_rel"]) for r in rs], float)
    e = e[np.isfinite(e)] * 100.0
    band = [r["in_band90"] for r in rs if r["in_band90"] in (True, False)]
    pts = np.array([float(r["simulated"]) - float(r["observed"]) for r in rs if r["indicator"] in TAUX], float)
    return {"n": len(rs), "erreur_moyenne": float(e.mean()) if e.size else math.nan,
            "mae": float(np.abs(e).mean()) if e.size else math.nan,
            "mae_points": float(np.abs(pts).mean()) if pts.size else math.nan,
            "couverture": 100.0 * sum(band) / len(band) if band else math.nan, "n_bande": len(band)}


def resume(rows: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """By group and horizon (``<=0`` pools the in-window figures): n, mean and mean absolute relative
    error (%), mean absolute error in points of the RMPP, 90 % band coverage (%)."""
    out = []
    groupes = [g for g in GROUPES_ORDRE if any(r["group"] == g for r in rows)]
    groupes += sorted({r["group"] for r in rows} - set(groupes))
    hs = sorted({int(r["horizon"]) for r in rows})
    buckets = (["<=0"] if any(h < 1 for h in hs) else []) + [str(h) for h in hs if h >= 1]
    for g in groupes:
        for b in buckets:
            rs = [r for r in rows if r["group"] == g and _bucket(int(r["horizon"])) == b]
            if rs:
                out.append({"group": g, "horizon": b, **_mesures(rs)})
    for b in buckets:
        rs = [r for r in rows if _bucket(int(r["horizon"])) == b]
        out.append({"group": "all", "horizon": b, **_mesures(rs)})
    return out


def objectifs(rows: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Each goal of :data:`OBJECTIFS` measured on its scope: value, bounds, met (None: no figure)."""
    out = []
    for label, groupe, indicateurs, horizons, mesure, (lo, hi) in OBJECTIFS:
        rs = [r for r in rows if int(r["horizon"]) >= 1 and (not groupe or r["group"] == groupe)
              and (indicateurs is None or r["indicator"] in indicateurs)
              and (horizons is None or int(r["horizon"]) in horizons)]
        m = _mesures(rs)
        v = m[mesure]
        n = m["n_bande"] if mesure == "couverture" else m["n"]
        out.append({"objectif": label, "mesure": mesure, "valeur": v, "min": lo, "max": hi, "n": n,
                    "atteint": None if not math.isfinite(v) else bool(lo <= v <= hi)})
    return out


def lire_backtest(path: str | Path) -> list[dict[str, Any]]:
    """The rows of a ``backtest.csv`` (bounded read), typed back: numbers, horizon, in_band90."""
    text = lire_texte(path, str(path), "CSV file")
    out = []
    for r in csv.DictReader(io.StringIO(text, newline="")):
        r = dict(r)
        for k in ("observed", "simulated", "error_rel", "sigma", "p05", "p95"):
            r[k] = float(r[k]) if r[k] not in ("", "nan") else math.nan
        r["year"], r["horizon"] = int(r["year"]), int(r["horizon"])
        r["in_band90"] = {"True": True, "False": False}.get(r["in_band90"], "")
        out.append(r)
    return out


__all__ = ["FINS", "REPLICATES", "SCENARIO", "OBSERVATIONS_POST_2018", "COLONNES", "GROUPES", "OBJECTIFS",
           "SpecBacktest", "ResultatBacktest", "observables_run", "valeurs_replicates", "erreur_relative",
           "lignes", "backtest", "resume", "objectifs", "lire_backtest", "fin_calibration", "sha256_fichier"]
