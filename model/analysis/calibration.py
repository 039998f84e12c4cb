"""Calibration on 2013-2018: observations, objective, fit and its diagnostics, the fitted-parameter file.

The observations (``calibration/observations/*.csv``, one figure a row: organisme × year ×
indicator, with value, unit, sigma, quality, estimated flag, source id and the perimeter
reconciliation) are compared with the deterministic simulation of the catalogue baseline. The fit
is a weighted non-linear least squares (``scipy.optimize.least_squares``) in two stages, because the
model is one-way coupled (staffing and pay do not depend on the budget parameters):

1. **effectifs et rémunération** — historical replacement rates (one shift per organisme), the
   retirement-hazard scale and the promotion drift by year, against staff, ages, retirements, hires,
   RMPP and personnel expenses;
2. **budget et productivité** — other-ADF trends, the real-estate cost trend, the workload levels and
   the CNAV/ACOSS workload growth of 2017-2018, against ADF changes and productivity levels.

Each residual is ``(simulated − observed) / sigma × sqrt(weight)``, the weight coming from the
quality (official, secondary, derived) and the estimated flag; each fitted parameter also carries a
weak prior centred on the catalogue value (``prior_sigma``) so that a parameter the window does not
inform stays at the catalogue value instead of drifting (and is flagged as not identified).
Standard errors come from the Jacobian at the optimum, ``cov = (JᵀJ)⁻¹ × max(1, χ²/dof)``. A parameter is
identified when its standard error is at most half its prior sigma, exactly determined when the
observations it rests on are fit by construction (leverage ≈ 1): see the diagnostics section. The backtest
(refits on shorter windows) is :mod:`model.analysis.backtest`.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import subprocess
import time
from dataclasses import dataclass, field
from importlib.metadata import version
from pathlib import Path
from typing import Any, Literal, Mapping, Sequence

import numpy as np

from model.analysis.observations import (BUDGET, ROOT, TOUS_INDICATEURS, Observation, data_hash, load_observations,
                                         observations_du_fit)
from model.budget.masse_salariale import bilan
from model.engine.etat_initial import etat_initial
from model.engine.simulation import simulate
from model.params.calendrier import HORIZON_DEFAUT, ORGANISMES, ORGANISMES_SORTIE, REGIME_GENERAL
from model.params.calibres import CALIBRATION_FILE, parametres_calibres
from model.params.catalogue import lookup
from model.params.scenario import catalogue_defaults
from model.params.validation import resolve_value
from model.results.dataset import aggregate_values, annuel, build_dataset

FENETRE = (2013, 2018)
DIFF_STEP = 0.02  # finite-difference step, in prior sigmas (the model is smooth at that scale)


# --------------------------------------------------------------------------- simulation of the indicators
def _zones(x: np.ndarray, kind: str = "sum", poids: np.ndarray | None = None) -> np.ndarray:
    """(Y, O) -> (Y, O + 2): organismes, then régime général and total."""
    rg = [ORGANISMES.index(o) for o in REGIME_GENERAL]
    if kind == "sum":
        return np.column_stack([x, x[:, rg].sum(1), x.sum(1)])
    w = poids
    with np.errstate(invalid="ignore", divide="ignore"):
        mrg = np.nansum(x[:, rg] * w[:, rg], 1) / w[:, rg].sum(1)
        mt = np.nansum(x * w, 1) / w.sum(1)
    return np.column_stack([x, mrg, mt])


def simulate_observables(par, etat0=None, budget: bool = False) -> dict[str, np.ndarray]:
    """Deterministic simulation of the indicators the observations use.

    Returns ``{indicator: array (year, zone)}`` with zones ``ORGANISMES_SORTIE`` (every organisme, then the aggregates).
    The budget and productivity layer (xarray) is only built when ``budget`` is true.
    """

    e0 = etat0 if etat0 is not None else etat_initial(par)
    tr = simulate(par, e0, replicates=1, seed=0, mode="deterministic")
    a = annuel(tr)  # (Y, R, O): the same yearly figures as the Dataset's
    b = bilan(tr.indice_etp, a["etpma"], tr.rmpp_num, tr.rmpp_den, par)
    n31 = a["effectif_31dec"][:, 0]
    out = {k: _zones(a[k][:, 0]) for k in ("etpma", "etpma_cdi", "etpma_cdd", "effectif_moyen", "effectif_31dec",
                                           "departs_retraite", "recrutements_cdi")}
    out.update({
        "depenses_personnel": _zones(b["depenses_personnel"][:, 0]),
        # the personnel costs as the accounts book them (the published figures): less the taxes on pay
        "charges_personnel": _zones((b["depenses_personnel"] - b["taxe_sur_les_salaires"]
                                     - b["versement_mobilite"])[:, 0]),
        "masse_salariale": _zones(b["masse_salariale"][:, 0]),
    })
    with np.errstate(invalid="ignore", divide="ignore"):
        out["part_plus_50"] = _zones(tr.plus_50[:, 0] / n31, "mean", n31)
        out["age_moyen"] = _zones(tr.age_somme[:, 0] / n31, "mean", n31)
    out["rmpp"] = _zones(b["rmpp"][:, 0], "mean", np.nan_to_num(b["masse_presents_prec"][:, 0]))
    if budget:
        ds = build_dataset(tr, par)
        for k in BUDGET:
            out[k] = aggregate_values(ds, k)[:, :, 0]
    return out


def valeur_simulee(sim: Mapping[str, np.ndarray], o: Observation) -> float:
    """The model's value of an observation, in the observation's unit."""
    x = sim[o.indicator][:, ORGANISMES_SORTIE.index(o.organisme)]
    i = o.year - HORIZON_DEFAUT.premiere
    if o.kind == "level":
        return float(x[i] * TOUS_INDICATEURS[o.indicator][1])
    j = o.annee_base - HORIZON_DEFAUT.premiere
    if o.kind == "change_pct":
        return float(100.0 * (x[i] / x[j] - 1.0))
    if o.kind == "change_abs":
        return float(x[i] - x[j])
    return float(x[j:i + 1].sum())


# --------------------------------------------------------------------------- fitted parameters
Mode = Literal["valeur", "decalage", "echelle"]


@dataclass(frozen=True)
class ParametreAjuste:
    """One fitted scalar θ and how it sets catalogue parameters.

    ``chemins``: resolved parameter paths it sets; ``annees``: years it sets for by-year parameters
    (None = every year); ``mode``: ``valeur`` (set θ), ``decalage`` (add θ to the catalogue value,
    except where that value is 0, e.g. the closed ex-RSI) or ``echelle`` (multiply by θ; tables are
    clipped to the parameter's bounds). ``prior_sigma``: sigma of the weak prior centred on ``initial``.
    ``etape``: 1 = effectifs et rémunération, 2 = budget et productivité.
    """

    nom: str
    chemins: tuple[str, ...]
    mode: Mode
    initial: float
    bornes: tuple[float, float]
    prior_sigma: float
    etape: int
    annees: tuple[int, ...] | None = None
    unite: str = "1"
    pourquoi: str = ""


def _tous(name: str, orgs: Sequence[str] = ORGANISMES) -> tuple[str, ...]:
    return tuple(f"organismes.{o}.{name}" for o in orgs)


def parametres_a_ajuster(fin: int = FENETRE[1], base=None) -> list[ParametreAjuste]:
    """The fitted parameter set for a window ending in ``fin`` (a year-specific parameter whose
    year is after ``fin`` is not fitted; the last fitted year's value holds after it)."""
    base = base if base is not None else catalogue_defaults()
    ps: list[ParametreAjuste] = []
    # behaviour: the replacement of the other CDI exits (the COGs state replacement on retirements only)
    ps.append(ParametreAjuste(
        "taux_remplacement_autres_departs", _tous("taux_remplacement_autres_departs"), "echelle", 1.0, (0.0, 1.0 / 0.7),
        0.4, 1, pourquoi="scale of the replacement of other CDI exits (resignations, dismissals...), all organismes"))
    ps.append(ParametreAjuste(
        "marge_plafond", _tous("marge_plafond"), "valeur", float(base["organismes.cnam.marge_plafond"]), (0.0, 0.08),
        0.02, 1, pourquoi="execution margin under the ceilings (MSA 2016-2018, régime général 2018)"))
    if fin >= 2018:
        ps.append(ParametreAjuste(
            "remplacement.echelle_2018", _tous("taux_remplacement") + _tous("taux_remplacement_autres_departs"),
            "echelle", 1.0, (0.2, 1.5), 0.3, 1, annees=(2018,),
            pourquoi="2018 hires relative to the announced policy and the usual behaviour (year of the COG negotiations)"))
    for o in ("msa", "rsi"):
        ps.append(ParametreAjuste(f"effectif_initial.{o}", (f"organismes.{o}.effectif_initial",), "echelle", 1.0,
                                  (0.8, 1.2), 0.05, 1, pourquoi="initial headcount (Cour des comptes 2015 staff)"))
    ps.append(ParametreAjuste("ratio_salaire_entrant", ("remuneration.ratio_salaire_entrant",), "valeur",
                              float(base["remuneration.ratio_salaire_entrant"]), (0.5, 1.0), 0.1, 1,
                              pourquoi="entrant pay / 2012 mean: the noria, seen in personnel expenses vs staff"))
    ps.append(ParametreAjuste("hazard_retraite.echelle", ("departs.hazard_retraite",), "echelle", 1.0, (0.5, 1.6),
                              0.2, 1, pourquoi="scale of the retirement hazard by distance to the legal age"))
    promo0 = float(np.asarray(base["organismes.cnam.taux_gvt_promotions"])[0])
    ans = [y for y in range(2014, min(fin, 2018) + 1)]
    for k, y in enumerate(ans):
        # each fitted year holds until the next one; after the window the catalogue's long-run drift
        # holds (the last observed year alone is too noisy to project)
        years = tuple(range(HORIZON_DEFAUT.premiere if k == 0 else y, (ans[k + 1] if k + 1 < len(ans) else y + 1)))
        ps.append(ParametreAjuste(f"taux_gvt_promotions.{y}", _tous("taux_gvt_promotions"), "valeur", promo0,
                                  (0.0, 0.03), 0.005, 1, annees=years, unite="an-1",
                                  pourquoi=f"promotion drift of {y} (all organismes; RMPP observed for the RG only)"))
    groupes = {"rg": REGIME_GENERAL, "msa": ("msa",), "rsi": ("rsi",)}
    for g, orgs in groupes.items():
        v0 = float(np.asarray(base[f"organismes.{orgs[0]}.evolution_adf_autres"])[0])
        ps.append(ParametreAjuste(f"evolution_adf_autres.{g}", _tous("evolution_adf_autres", orgs), "valeur", v0,
                                  (-0.3, 0.1), 0.05, 2, unite="an-1", pourquoi="trend of the other ADF items"))
    v0 = float(np.asarray(base["adf.evolution_cout_immobilier"])[0])
    ps.append(ParametreAjuste("evolution_cout_immobilier", ("adf.evolution_cout_immobilier",), "valeur", v0,
                              (-0.1, 0.1), 0.02, 2, unite="an-1", pourquoi="real-estate cost per m2 trend"))
    for o in ("cnam", "cnaf", "cnav", "acoss"):
        ps.append(ParametreAjuste(f"charge_travail_reference.{o}", (f"organismes.{o}.charge_travail_reference",),
                                  "echelle", 1.0, (0.7, 1.3), 0.1, 2, pourquoi="workload level (2018 productivity)"))
    for o in ("cnav", "acoss"):
        for y in (2017, 2018):
            if y > fin:
                continue
            v0 = float(np.asarray(base[f"organismes.{o}.croissance_charge_travail"])[y - HORIZON_DEFAUT.premiere])
            ps.append(ParametreAjuste(f"croissance_charge_travail.{o}.{y}", (f"organismes.{o}.croissance_charge_travail",),
                                      "valeur", v0, (-0.2, 0.2), 0.05, 2, annees=(y,), unite="an-1",
                                      pourquoi=f"workload growth of {y} (productivity series)"))
    return ps


def valeurs_brutes(specs: Sequence[ParametreAjuste], theta: Sequence[float], base) -> dict[str, Any]:
    """``{path: raw TOML value}`` that the fitted θ give, on top of the parameter set ``base``."""
    out: dict[str, Any] = {}
    for sp, t in zip(specs, theta):
        for path in sp.chemins:
            p = lookup(path)
            cur = out.get(path, base[path])
            if p.type == "table":
                keys = [k for k, _ in cur] if not isinstance(cur, dict) else list(cur)
                vals = [v for _, v in cur] if not isinstance(cur, dict) else list(cur.values())
                hi = p.max if isinstance(p.max, (int, float)) else math.inf
                newv = [min(hi, v * t) if sp.mode == "echelle" else (v + t if sp.mode == "decalage" else t)
                        for v in vals]
                out[path] = {_fmt(k): round(float(v), 9) for k, v in zip(keys, newv)}
            elif p.by_year:
                annees = HORIZON_DEFAUT.annees
                arr = np.array([float(cur[str(y)]) for y in annees]) if isinstance(cur, dict) else np.array(cur, float)
                years = sp.annees if sp.annees is not None else HORIZON_DEFAUT.annees
                idx = [y - HORIZON_DEFAUT.premiere for y in years]
                if sp.mode == "valeur":
                    arr[idx] = t
                elif sp.mode == "decalage":
                    arr[idx] = np.where(arr[idx] != 0.0, arr[idx] + t, 0.0)
                else:
                    arr[idx] = arr[idx] * t
                out[path] = {str(y): round(float(v), 9) for y, v in zip(HORIZON_DEFAUT.annees, arr)}
            else:
                v = float(cur)
                out[path] = round(t if sp.mode == "valeur" else (v + t if sp.mode == "decalage" else v * t), 9)
    return {k: _compact(v) for k, v in out.items()}


def _fmt(k: float) -> str:
    return str(int(k)) if float(k).is_integer() else str(k)


def _compact(v: Any) -> Any:
    """A by-year table with only the years where the value changes."""
    if isinstance(v, dict) and all(k.isdigit() and int(k) in HORIZON_DEFAUT.annees for k in v):
        out, last = {}, None
        for k, x in v.items():
            if x != last:
                out[k] = x
            last = x
        return out if len(out) > 1 else next(iter(out.values()))
    return v


def appliquer(base, raw: Mapping[str, Any]):
    """``base.with_values`` of validated raw values (resolved like scenario values)."""
    return base.with_values({k: resolve_value(lookup(k), v, None if lookup(k).by_year else base[k])
                             for k, v in raw.items()})


# --------------------------------------------------------------------------- diagnostics
# A parameter is "identified" when the data shrink its standard error to at most half its prior sigma. The
# posterior variance is then at most a quarter of the prior's: the data carry at least three times the
# prior's information (posterior precision = prior + data) and at least 75 % of the weight of the estimate
# (1 - (se/sigma)^2), so its value says what the data say, not what the catalogue said. A standard error
# inflated by chi2/dof counts too: data that disagree among themselves do not identify a parameter.
SEUIL_IDENTIFIE = 0.5
# The same rule for a direction of the parameter space: the data determine it when their information
# there is at least INFORMATION_MIN times the prior's (posterior s.e. <= SEUIL_IDENTIFIE x prior sigma).
INFORMATION_MIN = 1.0 / SEUIL_IDENTIFIE ** 2 - 1.0
# An observation is fit by construction when at least SEUIL_LEVIER of it lies in the span of the
# data-determined directions (its leverage there, the diagonal of the hat matrix of those directions): the
# fit has a free parameter for it, so its residual is about 0 whatever the truth and says nothing of the
# model. A parameter is exactly determined when at least SEUIL_LEVIER of the data variance of its estimate
# comes from such observations: as many free parameters as observations in that corner of the data.
SEUIL_LEVIER = 0.99


@dataclass(frozen=True)
class Diagnostics:
    """What the data say about each fitted parameter and observation.

    ``retrecissement``: standard error / prior sigma, per parameter (identified when at most
    ``SEUIL_IDENTIFIE``); ``exactement_determine``: per parameter (:func:`determination_exacte`);
    ``levier``: leverage of each fit observation in the data-determined directions (id -> [0, 1]).
    """

    retrecissement: np.ndarray
    exactement_determine: np.ndarray
    levier: dict[str, float]

    @property
    def n_exactes(self) -> int:
        """Fit observations reproduced by construction (leverage at least ``SEUIL_LEVIER``)."""
        return sum(h >= SEUIL_LEVIER for h in self.levier.values())


def identifies(se: np.ndarray, prior_sigma: np.ndarray, seuil: float = SEUIL_IDENTIFIE) -> np.ndarray:
    """Per parameter: is the standard error at most ``seuil`` times the prior sigma (same unit)?"""
    return np.asarray(se, float) <= seuil * np.asarray(prior_sigma, float)


def leviers(J: np.ndarray, n_obs: int) -> np.ndarray:
    """Leverage of each observation (the first ``n_obs`` rows of ``J``; the prior rows follow) in the
    directions the data determine.

    In coordinates where the prior is a unit sphere (``J_d R^-1``, ``R^T R`` = the prior rows' precision),
    the singular directions whose squared singular value (data information over prior information) is at
    least ``INFORMATION_MIN`` are the data's; an observation's leverage is its squared norm in their left
    singular vectors. Without prior rows every direction of non-zero information counts.
    """
    Jd, P = np.asarray(J[:n_obs], float), np.asarray(J[n_obs:], float)
    if n_obs == 0:
        return np.zeros(0)
    if P.shape[0]:
        R = np.linalg.cholesky(P.T @ P).T
        Jd = np.linalg.solve(R.T, Jd.T).T
    U, s, _ = np.linalg.svd(Jd, full_matrices=False)
    keep = s ** 2 >= INFORMATION_MIN if P.shape[0] else s > 1e-9 * max(s.max(initial=0.0), 1e-300)
    return np.clip((U[:, keep] ** 2).sum(1), 0.0, 1.0)


def determination_exacte(J: np.ndarray, n_obs: int) -> tuple[np.ndarray, np.ndarray]:
    """(leverage per observation, exactly determined per parameter) of a Jacobian ``J`` whose first
    ``n_obs`` rows are the (weighted) observations and the others the priors.

    The estimate moves with the observations as ``A = (J^T J)^+ J_d^T``; ``A[k, i]^2`` is observation
    i's share of the data variance of parameter k. A parameter is exactly determined when at least
    ``SEUIL_LEVIER`` of it comes from observations fit by construction (:func:`leviers`).
    """
    h = leviers(J, n_obs)
    A2 = (np.linalg.pinv(J.T @ J) @ J[:n_obs].T) ** 2
    total = A2.sum(1)
    part = A2[:, h >= SEUIL_LEVIER].sum(1) / np.where(total > 0, total, 1.0)
    # informed at all: data variance against the prior variance (or the largest, without priors), so that
    # rounding noise on a parameter the data do not see is never read as a share
    P = J[n_obs:]
    echelle = np.diag(np.linalg.pinv(P.T @ P)) if P.shape[0] else np.full(total.shape, total.max(initial=0.0))
    return h, (total > 1e-12 * echelle) & (part >= SEUIL_LEVIER)


# --------------------------------------------------------------------------- the fit
@dataclass
class ResultatAjustement:
    """What a fit returns: parameters, errors, diagnostics and the simulated indicators."""

    specs: list[ParametreAjuste]
    theta: np.ndarray
    se: np.ndarray
    correlation: np.ndarray
    raw: dict[str, Any]
    observations: list[Observation]
    simule: dict[str, float]
    sim: dict[str, np.ndarray]
    avertissements: list[str]
    chi2: float
    n_evaluations: int
    secondes: float
    fenetre: tuple[int, int]
    identifie: np.ndarray = field(default_factory=lambda: np.array([]))
    diagnostics: "Diagnostics | None" = None
    covariance: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))


def _residus(sim, obs: Sequence[Observation]) -> np.ndarray:
    return np.array([(valeur_simulee(sim, o) - o.value) / o.sigma * math.sqrt(o.poids) for o in obs])


def ajuster(specs: Sequence[ParametreAjuste], observations: Sequence[Observation], base, *,
            budget: bool = False, max_nfev: int = 30,
            theta0: Sequence[float] | None = None) -> tuple[np.ndarray, np.ndarray, int]:
    """Weighted least squares of ``specs`` to ``observations`` on top of ``base`` (one stage).

    The optimiser works on z = (θ − prior centre) / prior sigma, with forward differences of
    ``DIFF_STEP`` prior sigmas. Returns (θ, Jacobian d residual / d θ with the prior rows last,
    number of model evaluations).
    """
    # lazy: scipy.optimize loads in about 0.3 s: only when fitting or solving
    from scipy.optimize import least_squares

    prior_c = np.array([s.initial for s in specs])
    prior_s = np.array([s.prior_sigma for s in specs])
    # the initial state depends on the parameters only through effectif_initial & co.
    rebuild = any(p.split(".")[-1] in ("effectif_initial", "part_cdd_initiale", "quotite_moyenne_cdi")
                  or p.startswith("etat_initial.") for s in specs for p in s.chemins)
    e0 = None if rebuild else etat_initial(base)
    n_eval = 0

    def f(z):
        nonlocal n_eval
        n_eval += 1
        th = prior_c + z * prior_s
        par = appliquer(base, valeurs_brutes(specs, th, base))
        sim = simulate_observables(par, e0, budget=budget)
        return np.concatenate([_residus(sim, observations), z])

    lo = (np.array([s.bornes[0] for s in specs]) - prior_c) / prior_s
    hi = (np.array([s.bornes[1] for s in specs]) - prior_c) / prior_s
    memo: dict[bytes, np.ndarray] = {}

    def fm(z):
        key = np.asarray(z, float).tobytes()
        if key not in memo:
            memo.clear()
            memo[key] = f(z)
        return memo[key]

    def jac(z):
        # forward differences of DIFF_STEP prior sigmas (backward at an upper bound); scipy's relative
        # steps vanish at z = 0
        f0 = fm(z)
        J = np.empty((f0.size, z.size))
        for k in range(z.size):
            h = DIFF_STEP if z[k] + DIFF_STEP <= hi[k] else -DIFF_STEP
            zk = z.copy()
            zk[k] += h
            J[:, k] = (f(zk) - f0) / h
        return J

    z0 = (np.asarray(theta0 if theta0 is not None else prior_c, float) - prior_c) / prior_s
    r = least_squares(fm, np.clip(z0, lo, hi), jac=jac, bounds=(lo, hi), method="trf", max_nfev=max_nfev,
                      x_scale=1.0)
    return prior_c + r.x * prior_s, r.jac / prior_s[None, :], n_eval


def calibrer(observations: Sequence[Observation] | None = None, fenetre: tuple[int, int] = FENETRE,
             base=None, max_nfev: int = 30) -> ResultatAjustement:
    """Fit the parameters of :func:`parametres_a_ajuster` to the ``fit`` observations of ``fenetre``.

    Parameters
    ----------
    observations : the observations (default: :func:`load_observations`).
    fenetre : (first, last) year; an observation enters the fit when its years are within it.
    base : the parameter set to start from (default: the catalogue defaults).
    max_nfev : cap on the model evaluations of each stage's optimiser.
    """

    t0 = time.perf_counter()
    obs_all = list(observations) if observations is not None else load_observations()
    base = base if base is not None else catalogue_defaults()  # fit from the catalogue, not on top of a fit
    obs_fit = observations_du_fit(obs_all, fenetre)
    specs = parametres_a_ajuster(fenetre[1], base)
    theta = np.array([s.initial for s in specs])
    n_eval = 0
    current = base
    jac_blocks: dict[int, np.ndarray] = {}
    for etape in (1, 2):
        idx = [i for i, s in enumerate(specs) if s.etape == etape]
        sp = [specs[i] for i in idx]
        obs = [o for o in obs_fit if (o.indicator in BUDGET) == (etape == 2)]
        th, J, nf = ajuster(sp, obs, current, budget=(etape == 2), max_nfev=max_nfev, theta0=theta[idx])
        n_eval += nf
        theta[idx] = th
        jac_blocks[etape] = J
        current = appliquer(current, valeurs_brutes(sp, th, current))
    raw = valeurs_brutes(specs, theta, base)
    par = appliquer(base, raw)
    sim = simulate_observables(par, None, budget=True)
    # standard errors, correlations, identification, exact determination: block-diagonal Jacobian by stage
    n = len(specs)
    cov = np.full((n, n), 0.0)
    avert: list[str] = []
    exact = np.zeros(n, bool)
    levier: dict[str, float] = {}
    chi2_total = 0.0
    for etape, J in jac_blocks.items():
        idx = [i for i, s in enumerate(specs) if s.etape == etape]
        obs = [o for o in obs_fit if (o.indicator in BUDGET) == (etape == 2)]
        n_obs = len(obs)
        res = _residus(sim, obs)
        chi2 = float(res @ res)
        chi2_total += chi2
        dof = max(1, n_obs - len(idx))
        cov[np.ix_(idx, idx)] = np.linalg.pinv(J.T @ J) * max(1.0, chi2 / dof)
        h, ex = determination_exacte(J, n_obs)
        exact[idx] = ex
        levier.update({o.id: float(x) for o, x in zip(obs, h)})
        sv = np.linalg.svd(J[:n_obs], compute_uv=False) if n_obs else np.array([1.0])
        if sv.size and sv[-1] < 1e-6 * sv[0]:
            avert.append(f"stage {etape}: the data alone do not identify every parameter (condition number "
                         f"{sv[0] / max(sv[-1], 1e-300):.3g}); the priors resolve it")
    se = np.sqrt(np.clip(np.diag(cov), 0, None))
    prior = np.array([s.prior_sigma for s in specs])
    identifie = identifies(se, prior)
    faibles = [f"{s.nom} ({e / s.prior_sigma:.2f})" for s, e, ok in zip(specs, se, identifie) if not ok]
    if faibles:
        avert.append(f"not identified (standard error / prior sigma above {SEUIL_IDENTIFIE}; the value stays near "
                     f"the catalogue's): {', '.join(faibles)}")
    if exact.any():
        avert.append(f"exactly determined (they rest on observations fit by construction: no test of fit): "
                     f"{', '.join(s.nom for s, ex in zip(specs, exact) if ex)}")
    with np.errstate(invalid="ignore", divide="ignore"):
        corr = cov / np.outer(se, se)
    for i in range(n):
        for j in range(i + 1, n):
            if abs(corr[i, j]) > 0.9:
                avert.append(f"{specs[i].nom} and {specs[j].nom} strongly correlated ({corr[i, j]:+.2f})")
    simule = {o.id: valeur_simulee(sim, o) for o in obs_all}
    return ResultatAjustement(specs, theta, se, corr, raw, obs_all, simule, sim, avert, chi2_total, n_eval,
                              time.perf_counter() - t0, fenetre, identifie,
                              Diagnostics(se / prior, exact, levier), cov)


# --------------------------------------------------------------------------- the fitted-parameter file
def code_version() -> str:
    try:
        v = version("cogsim")
    except Exception:  # noqa: BLE001 - not installed: the version is unknown
        v = "unknown"
    try:
        commit = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True,
                                text=True, timeout=5).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        commit = ""
    return f"{v}+{commit}" if commit else v


def _toml_value(v: Any) -> str:
    if isinstance(v, dict):
        return "{ " + ", ".join(f'"{k}" = {_toml_value(x)}' for k, x in v.items()) + " }"
    if isinstance(v, str):
        return json.dumps(v, ensure_ascii=False)
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float) and math.isnan(v):
        return "nan"
    return repr(float(v)) if isinstance(v, float) else str(v)


def ecrire_parametres(res: ResultatAjustement, path: str | Path = CALIBRATION_FILE,
                      data: str | Path | None = None) -> Path:
    """Write the fitted parameters with provenance (atomic: a temporary file renamed into place)."""
    path = Path(path)
    lines = [
        "# Fitted parameters (cogsim calibrate). Written by model/analysis/calibration.py; do not edit by hand.",
        "# [parametres]: {catalogue path = raw value} applied on top of the catalogue defaults by the baseline.",
        "# [ajustement.<name>]: each fitted scalar with its standard error (Jacobian at the optimum), its prior",
        f"# sigma and bounds; identifie = standard error <= {SEUIL_IDENTIFIE} x prior sigma; exactement_determine = its",
        f"# observations are fit by construction (leverage >= {SEUIL_LEVIER}): no test of fit. [covariance]: the",
        "# correlation of the estimates, which stochastic runs draw the fitted scalars from (model/params/incertitude.py).",
        "# See model/analysis/calibration.py.",
        "",
        "[provenance]",
        f'date = "{dt.datetime.now().replace(microsecond=0).isoformat()}"',
        f'code_version = "{code_version()}"',
        f'data_hash = "sha256:{data_hash(data)}"',
        f'data = "{Path(data) if data is not None else "calibration/observations"}"',
        f"fenetre = [{res.fenetre[0]}, {res.fenetre[1]}]",
        f"chi2 = {res.chi2:.4f}",
        f"n_observations = {sum(1 for o in res.observations if o.usage == 'fit' and o.year <= res.fenetre[1])}",
        f"n_evaluations = {res.n_evaluations}",
        f"secondes = {res.secondes:.1f}",
    ]
    diag = res.diagnostics
    if diag is not None:
        lines.append(f"n_observations_exactes = {diag.n_exactes}")
    lines += ["", "[parametres]"]
    for k, v in sorted(res.raw.items()):
        lines.append(f'"{k}" = {_toml_value(v)}')
    for k, (s, t, e, ok) in enumerate(zip(res.specs, res.theta, res.se, res.identifie)):
        lines += ["", f'[ajustement."{s.nom}"]', f"valeur = {_nombre(t, 10)}", f"erreur_type = {_nombre(e, 6)}",
                  f"initial = {s.initial:.6g}", f"prior_sigma = {s.prior_sigma:.6g}",
                  f"bornes = [{_nombre(s.bornes[0], 17)}, {_nombre(s.bornes[1], 17)}]"]
        if s.annees is not None:
            lines.append(f"annees = [{', '.join(str(y) for y in s.annees)}]")
        lines += [f'mode = "{s.mode}"', f'unite = "{s.unite}"', f"identifie = {'true' if ok else 'false'}"]
        if diag is not None:
            lines += [f"exactement_determine = {'true' if diag.exactement_determine[k] else 'false'}"]
        lines += [f"chemins = {json.dumps(list(s.chemins))}", f"description = {json.dumps(s.pourquoi, ensure_ascii=False)}"]
    lines += _lignes_covariance(res)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text("\n".join(lines) + "\n", encoding="utf-8")
    tmp.replace(path)
    return path


def _nombre(x: float, chiffres: int) -> str:
    """A TOML float with ``chiffres`` significant digits (``nan``/``inf`` as TOML writes them)."""
    x = float(x)
    if not math.isfinite(x):
        return "nan" if math.isnan(x) else ("inf" if x > 0 else "-inf")
    t = f"{x:.{chiffres}g}"
    if chiffres >= 17:
        t = repr(x)  # the shortest text that reads back as x
    return t if any(c in t for c in ".en") else t + ".0"


def _lignes_covariance(res: ResultatAjustement) -> list[str]:
    """The ``[covariance]`` table: the correlation matrix of the estimates, a row per fitted scalar."""
    cov = np.asarray(res.covariance, float)
    if cov.shape != (len(res.specs),) * 2:
        return []
    se = np.sqrt(np.clip(np.diag(cov), 0.0, None))
    with np.errstate(invalid="ignore", divide="ignore"):
        corr = np.where(np.outer(se, se) > 0, cov / np.outer(se, se), 0.0)
    np.fill_diagonal(corr, 1.0)
    lines = ["", "[covariance]",
             "# The estimated covariance of the fitted scalars (Jacobian at the optimum, one block per stage), as",
             "# correlations: cov(i, j) = erreur_type(i) x erreur_type(j) x correlation[i][j]; rows and columns in",
             "# the order of `ordre`. Stochastic runs draw the scalars from N(valeur, cov) within their bounds.",
             "ordre = [" + ", ".join(json.dumps(s.nom) for s in res.specs) + "]", "correlation = ["]
    for s, row in zip(res.specs, corr):
        cells = ", ".join(f"{x:+.4f}" if round(x, 4) else " 0     " for x in row)
        lines.append(f"  [{cells}],  # {s.nom}")
    lines.append("]")
    return lines


def parametres_de_base(path: str | Path = CALIBRATION_FILE):
    """The catalogue defaults with the fitted parameters applied (what the calibrated baseline is)."""
    return appliquer(catalogue_defaults(), parametres_calibres(path))


__all__ = ["ParametreAjuste", "ResultatAjustement", "simulate_observables",
           "valeur_simulee", "parametres_a_ajuster", "ajuster", "valeurs_brutes", "appliquer", "calibrer",
           "ecrire_parametres", "identifies", "leviers", "determination_exacte", "Diagnostics", "parametres_calibres", "parametres_de_base",
           "CALIBRATION_FILE"]
