"""Service quality from staffing: stocks of pending work, processing delays, telephone answer rates.

Sections 1.1 and 8 of PLFSS 2020 annexe 2: a COG is judged on processing delays, stocks, the share of
calls answered (≥ 85 % for CNAM, CNAF, CNAV and ACOSS, section 1.1.1; also the MSA's COG target,
section 3.1.1). :func:`indicateurs_service` links them to the ETPMA of a run.

Backlog (monthly, per organisme and replicate)
----------------------------------------------
Work is counted in ETPMA-équivalents (``ETPMA_eq``, :mod:`model.budget.productivite`): additive across
organismes, so the ex-RSI and new-mission workloads arrive with the charge de travail, which follows the
organismes' volume drivers (allocataires, claims, contributors: ``catalogue_inducteurs.toml``). Capacity
follows the staff, not the workload: a volume shock at constant staff fills the stock and lengthens the
delays, year after year (``tests/test_inducteurs.py``).

* inflow ``entrees[m] = charge_travail_etp[y] / 12 × saisonnalite_charge[month]``;
* capacity ``capacite[m] = ETPMA × (1 − taux_absenteisme) × (1 − part_telephonie) ×
  productivite_service[y] × profil_capacite[month] / 12`` ± entraide;
* a file cannot be closed before ``delai_incompressible`` days (documents awaited, controls): the work
  that arrived in the last ``delai_incompressible`` days, ``encours_min``, stays in stock;
* ``traites[m] = min(capacite[m], stock[m−1] + entrees[m] − encours_min[m])`` (oldest first),
  ``stock[m] = stock[m−1] + entrees[m] − traites[m]``;
* ``delai_traitement = mean month-end stock / mean monthly throughput`` (Little's law), in days.

What productivity means here. ``charge_travail_etp`` is the ETPMA the workload needs *at the 2018
productivity*, so in 2018 an ETPMA processes ``capacite_par_etpma_reference`` ≈ 1.02 × the 2018
workload per ETPMA of the baseline (2 % of slack absorbs the seasonal peaks), i.e. a production agent
(neither absent nor on the phone) that divided by (1 − absentéisme)(1 − part_telephonie); it then grows
with the efficiency gains of the network (``gain_productivite_service``: dematerialisation, IT, work
organisation) and with the mutualisations (a wave's ``gain_productivite`` on ``part_effectifs`` of the
staff, ramped as in the engine: the engine gives the gain back as ETP not hired, this module gives it
back as output per ETPMA, so a mutualisation on its planned trajectory is neutral for service).
``gain_productivite_service`` is calibrated so that the stock is stable over 2013-2018 in the baseline
(the calibrated history): capacity tracks workload, the delay stays near ``delai_incompressible``, and
a scenario that cuts faster than the trend gains lengthens the delays. Entraide moves capacity: an
organisme lends ``part_entraide_pretee`` of its capacity, shared between the other organismes in
proportion to ``poids_entraide_recue`` (no-op when no other organisme has a weight).

Share processed within the COG delay: delays follow a gamma law with mean ``delai_traitement`` and
shape ``service.forme_delai``; ``part_traitee_dans_delai = P(delay ≤ delai_cible)`` where the COG sets
a delay (CNAV: pension claims processed within the four months before retirement, section 1.1.1).

Telephone (:mod:`model.service.telephonie`)
-----------------------------------
Agents logged in on a platform, on average over the opening hours =
``ETPMA × part_telephonie × (1 − taux_absenteisme) × heures_par_etpma × taux_connexion /
(jours_ouverture × heures d'ouverture × plateformes_telephoniques)``; calls per platform and day =
``appels_recus / (jours_ouverture × plateformes_telephoniques)`` (the ex-RSI's calls move with its
workload). The representative day is simulated once per distinct queue (SimPy, memoised) and its
response curve interpolated at every replicate's agents.

Calibration (targets → achieved; ``tests/test_service.py::test_calibration*``; deterministic default run)
--------------------------------------------------------------------------------------------------------
* CNMSS (one platform, section 4.1.1), fitting the handling time (4.5 min) and the patience (9 min),
  the platform's staff (13.3 agents logged in) being the same both years:
  2017 72.4 % answered, mean wait 2 min 39 s → 73.4 %, 2 min 34 s;
  2018 84.3 %, 1 min 25 s → 83.1 %, 1 min 31 s;
* benchmarking group FT200 (section 8.1), 87.13 % in 2017 and 86.34 % in 2018, for each of cnam, cnaf,
  cnav, acoss (``part_telephonie`` fitted per organisme on the mean of the two years) → 2017: 87.7,
  87.3, 87.4, 87.2 %; 2018: 85.7, 86.3, 86.1, 86.3 % (the model's fall comes from the ETPMA only);
* MSA (section 3.1.1), 84 % (2017) and 80.5 % (2018) → 84.3 % and 80.1 % (with 5.4 % more calls in
  2018, an estimate);
* SSI (ex-RSI, section 2.1), "above 92 %" from early 2019 → 92.5 % in 2019;
* CNAV, 52.2 % (2017) and 61.5 % (2018) of pension claims notified before the retirement date
  (section 1.1.1), read as processed within 120 days → 56.6 % and 57.0 % (the model does not
  reproduce the year-on-year gain, a process improvement);
* stock stable over 2013-2018 (delays within ±1.5 %; 2018: CNAM 4.0, CNAF 6.8, CNAV 119.5, ACOSS 10.8,
  MSA 10.7 days).

Sign convention of the gaps, as in :mod:`model.budget.ecarts`: **gap = simulated − target**; a positive
``ecart_taux_appels_aboutis`` is a target beaten, a positive ``ecart_delai_traitement`` a delay longer
than the target.

Examples
--------
>>> from model.results.run import run_scenario
>>> ds = run_scenario("scenarios/cog_2018_2022.toml", write=False, deterministic=True).dataset  # doctest: +SKIP
>>> ds["taux_appels_aboutis"].sel(organisme="cnaf", year=2022).item()                           # doctest: +SKIP
"""

from __future__ import annotations

import numpy as np
import xarray as xr
from scipy.special import gammainc

from model.budget.productivite import (charge_travail, decrire, indice_cumule, memo, parametre_organisme,
                                       parametre_scalaire, sur, transferer_rsi, unites)
from model.params.calendrier import ORGANISMES
from model.params.parametres import Parametres
from model.service import telephonie as tel

DIMS = ("year", "organisme", "replicate")
JOURS_PAR_MOIS = 365.25 / 12
CONVENTION = "gap = simulated - target; positive = above the target"

# name: (units or None when they vary by organisme, long_name, long_name_fr, aggregation)
VARIABLES: dict[str, tuple[str | None, str, str, str]] = {
    "stock_dossiers": (
        None, "Pending work, mean of the month-end stocks (unit of the organisme's workload indicator)",
        "Stock de travail en instance, moyenne des fins de mois (unité de la charge de travail)", "none"),
    "delai_traitement": (
        "jours", "Mean processing delay (Little's law: stock / throughput)",
        "Délai moyen de traitement (loi de Little : stock / débit)", "weighted_mean:charge_travail_etp"),
    "part_traitee_dans_delai": (
        "1", "Share of work processed within the COG delay (NaN = no COG delay)",
        "Part du travail traitée dans le délai de la COG (NaN = pas de délai COG)",
        "weighted_mean:charge_travail_etp"),
    "delai_cible": (
        "jours", "COG processing-delay target (NaN = none)",
        "Délai de traitement cible de la COG (NaN = aucun)", "none"),
    "ecart_delai_traitement": (
        "jours", "Processing delay minus the COG delay (positive = longer than the target)",
        "Délai de traitement moins le délai COG (positif = plus long que la cible)", "none"),
    "appels_recus": (
        "appels/an", "Telephone calls offered", "Appels téléphoniques reçus", "sum"),
    "appels_aboutis": (
        "appels/an", "Telephone calls answered", "Appels téléphoniques aboutis", "sum"),
    "agents_telephonie": (
        "ETPMA", "ETPMA assigned to telephony", "ETPMA affectés à la téléphonie", "sum"),
    "taux_appels_aboutis": (
        "1", "Share of calls answered (taux d'appels aboutis)",
        "Taux d'appels aboutis", "ratio:appels_aboutis/appels_recus"),
    "attente_moyenne": (
        "min", "Mean wait of answered calls", "Délai moyen d'attente des appels aboutis",
        "weighted_mean:appels_aboutis"),
    "cible_taux_appels_aboutis": (
        "1", "COG target on the share of calls answered (NaN = none)",
        "Cible COG du taux d'appels aboutis (NaN = aucune)", "same"),
    "ecart_taux_appels_aboutis": (
        "1", "Share of calls answered minus its COG target, a difference of shares (positive = target beaten)",
        "Taux d'appels aboutis moins sa cible COG, différence de parts (positif = cible dépassée)",
        "difference:taux_appels_aboutis-cible_taux_appels_aboutis"),
}


# ----------------------------------------------------------------------------- helpers
def _profil_mensuel(par: Parametres, path: str) -> np.ndarray:
    """A month → coefficient table as 12 values of mean 1."""
    k, v = par.table(path)
    x = np.interp(np.arange(1, 13), k, v)
    return x / x.mean()


def _yor(da: xr.DataArray | float, like: xr.DataArray) -> np.ndarray:
    """``da`` broadcast to ``like``'s (year, organisme, replicate) shape as a (read-only) numpy array."""
    if not isinstance(da, xr.DataArray):
        return np.full(like.shape, float(da))
    da = sur(da, like)
    x = da.transpose(*[d for d in DIMS if d in da.dims]).values
    return np.broadcast_to(x[tuple(slice(None) if d in da.dims else None for d in DIMS)], like.shape)


def facteur_mutualisation(par: Parametres) -> xr.DataArray:
    """Output per ETPMA from the mutualisation waves: ``1 / (1 − Σ gain × part × rampe)`` by year
    (mean of the months; the ramp as in the engine: linear over ``montee_en_charge_mois`` from
    ``debut``). Dims ``(year, organisme)``, unit 1."""
    h = par.horizon
    mois = np.arange(h.n_mois)
    restitue = np.zeros((len(mois), len(ORGANISMES)))
    for v in par["mutualisations"]:
        t0 = h.mois_depuis_debut(v["debut"])
        rampe = np.clip((mois - t0 + 1) / v["montee_en_charge_mois"], 0.0, 1.0)
        restitue[:, ORGANISMES.index(v["organisme"])] += v["gain_productivite"] * v["part_effectifs"] * rampe
    f = (1.0 / (1.0 - np.minimum(restitue, 0.9))).reshape(h.n_annees, 12, -1).mean(1)
    return xr.DataArray(f, coords={"year": list(h.annees), "organisme": list(ORGANISMES)}, dims=("year", "organisme"))


def file_attente_dossiers(entrees: np.ndarray, capacite: np.ndarray, delai_min: np.ndarray,
                          stock_initial: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The monthly backlog recursion, vectorised over trailing axes.

    Parameters
    ----------
    entrees : inflow per month, shape (months, ...) (any work unit).
    capacite : work that can be processed per month, same shape.
    delai_min : shortest processing time, in months, shape ``entrees.shape[1:]``: the work that arrived
        in the last ``delai_min`` months cannot be processed yet (arrivals spread evenly in a month;
        before the first month the inflow is taken equal to the first month's).
    stock_initial : stock before the first month (default: that minimal work in progress).

    Returns
    -------
    (stock, traites)
        Month-end stock and work processed in each month, shape of ``entrees``; processing is oldest
        first, so ``mean(stock) / mean(traites)`` is the mean delay in months (Little's law).
    """
    M = entrees.shape[0]
    K = int(np.ceil(np.nanmax(delai_min))) if np.size(delai_min) and np.nanmax(delai_min) > 0 else 0
    poids = np.clip(delai_min[None] - np.arange(K).reshape((K,) + (1,) * np.ndim(delai_min)), 0.0, 1.0)
    passe = np.concatenate([np.broadcast_to(entrees[:1], (K,) + entrees.shape[1:]), entrees])
    stock = np.empty_like(entrees)
    traites = np.empty_like(entrees)
    s = (poids * passe[K - np.arange(K)]).sum(0) if stock_initial is None else stock_initial
    for m in range(M):
        encours_min = (poids * passe[m + K - np.arange(K)]).sum(0) if K else 0.0
        t = np.clip(np.minimum(capacite[m], s + entrees[m] - encours_min), 0.0, None)
        s = s + entrees[m] - t
        stock[m], traites[m] = s, t
    return stock, traites


# ----------------------------------------------------------------------------- backlog
def _capacite_annuelle(etpma: xr.DataArray, par: Parametres, productivite_service: xr.DataArray | None):
    """Production capacity in ETPMA_eq per year, before entraide (numpy (Y, O, R))."""
    if productivite_service is None:
        productivite_service = productivite_capacite(par)
    return (etpma.values * (1.0 - _yor(parametre_organisme(par, "taux_absenteisme"), etpma))
            * (1.0 - _yor(parametre_organisme(par, "part_telephonie"), etpma)) * _yor(productivite_service, etpma))


def productivite_capacite(par: Parametres) -> xr.DataArray:
    """Output per production ETPMA, in ETPMA_eq per year: ``capacite_par_etpma_reference / ((1 −
    absentéisme)(1 − part_telephonie))`` in the reference year, times the compound index of
    ``gain_productivite_service`` and the mutualisation factor, both relative to the reference year.
    Dims ``(year, organisme[, replicate])``; built once per parameter set."""
    return memo(par, ("service", "productivite_capacite"), lambda: _productivite_capacite(par))


def _productivite_capacite(par: Parametres) -> xr.DataArray:
    ref = par["productivite.annee_reference"]
    absent = parametre_organisme(par, "taux_absenteisme")
    tel_ = parametre_organisme(par, "part_telephonie")
    base = parametre_organisme(par, "capacite_par_etpma_reference") / ((1.0 - absent) * (1.0 - tel_))
    base = base.sel(year=ref, drop=True) if "year" in base.dims else base
    idx = indice_cumule(parametre_organisme(par, "gain_productivite_service"))
    mut = facteur_mutualisation(par)
    return (base * idx / idx.sel(year=ref) * mut / mut.sel(year=ref)).transpose("year", "organisme", ...)


def _entraide(cap: np.ndarray, par: Parametres, like: xr.DataArray) -> np.ndarray:
    """Capacity (Y, O, R) after the loans between organismes (the total is unchanged)."""
    pret = _yor(parametre_organisme(par, "part_entraide_pretee"), like)
    if not np.any(pret):
        return cap
    w = _yor(parametre_organisme(par, "poids_entraide_recue"), like)
    out = cap.copy()
    for o in range(cap.shape[1]):
        autres = w.copy()
        autres[:, o] = 0.0
        tot = autres.sum(1)
        prete = np.where(tot > 0, pret[:, o] * cap[:, o], 0.0)
        out[:, o] -= prete
        out += prete[:, None] * np.divide(autres, tot[:, None], out=np.zeros_like(autres), where=tot[:, None] > 0)
    return out


def backlog(etpma: xr.DataArray, par: Parametres, charge_etp: xr.DataArray,
            productivite_service: xr.DataArray | None = None) -> dict[str, np.ndarray]:
    """Monthly backlog per organisme and replicate, summarised by year (numpy (Y, O, R) arrays).

    Returns ``stock`` (mean month-end stock, ETPMA_eq-years), ``traites`` (ETPMA_eq-years processed in
    the year), ``delai`` (days) and ``monthly`` (month-end stocks, (months, O, R)).
    """
    Y, O, R = etpma.shape
    saison = _profil_mensuel(par, "service.saisonnalite_charge")
    profil_cap = _profil_mensuel(par, "service.profil_capacite")
    charge = _yor(charge_etp, etpma)
    cap = _entraide(np.nan_to_num(_capacite_annuelle(etpma, par, productivite_service)), par, etpma)
    entrees = (charge[:, None] / 12.0 * saison[None, :, None, None]).reshape(Y * 12, O, R)
    capacite = (cap[:, None] / 12.0 * profil_cap[None, :, None, None]).reshape(Y * 12, O, R)
    delai_min = _yor(parametre_organisme(par, "delai_incompressible"), etpma)[0] / JOURS_PAR_MOIS
    stock, traites = file_attente_dossiers(entrees, capacite, delai_min)
    s_y = stock.reshape(Y, 12, O, R).mean(1)
    t_y = traites.reshape(Y, 12, O, R).sum(1)
    with np.errstate(invalid="ignore", divide="ignore"):
        delai = np.where(charge > 0, s_y / (t_y / 12.0) * JOURS_PAR_MOIS, np.nan)
    return {"stock": s_y, "traites": t_y, "delai": delai, "monthly": stock}


# ----------------------------------------------------------------------------- telephone
def _heures_ouverture(par: Parametres) -> int:
    return len(par["telephonie.profil_horaire"])


def agents_telephonie(etpma: xr.DataArray, par: Parametres) -> np.ndarray:
    """ETPMA on the telephone: ``ETPMA × part_telephonie`` (numpy, shape of ``etpma``)."""
    return etpma.values * _yor(parametre_organisme(par, "part_telephonie"), etpma)


def appels(par: Parametres) -> xr.DataArray:
    """Calls offered per year, the ex-RSI's calls moved to the receivers with the transfer (calls/yr,
    dims ``(year, organisme[, replicate])``; built once per parameter set)."""
    return memo(par, ("service", "appels"), lambda: transferer_rsi(
        parametre_organisme(par, "appels_recus").transpose("year", "organisme", ...), par))


def telephone(etpma: xr.DataArray, par: Parametres) -> dict[str, np.ndarray]:
    """Answer rate, mean wait (min), calls offered and answered per year (numpy (Y, O, R))."""
    heures = _heures_ouverture(par)
    jours = parametre_scalaire(par, "telephonie.jours_ouverture")
    plateformes = _yor(parametre_organisme(par, "plateformes_telephoniques"), etpma)
    recus = _yor(appels(par), etpma)
    conversion = (parametre_scalaire(par, "telephonie.heures_par_etpma") * parametre_scalaire(par, "telephonie.taux_connexion")
                  / (jours * heures))
    absent = _yor(parametre_organisme(par, "taux_absenteisme"), etpma)
    logged = agents_telephonie(etpma, par) * (1.0 - absent) * _yor(conversion, etpma) / plateformes
    par_jour = recus / (_yor(jours, etpma) * plateformes)
    duree = _yor(parametre_organisme(par, "duree_moyenne_appel"), etpma)
    patience = _yor(parametre_scalaire(par, "telephonie.patience_moyenne"), etpma)
    profil = np.array([v for _, v in par["telephonie.profil_horaire"]], float)
    profil = tuple(float(x) for x in profil / profil.sum())
    common = dict(profil=profil, adaptation=float(par["telephonie.adaptation_planning"]),
                  jours=int(par["telephonie.jours_representatifs"]), graine=int(par["telephonie.graine"]))
    taux = np.full(etpma.shape, np.nan)
    attente = np.full(etpma.shape, np.nan)
    cles = np.stack([np.round(par_jour, 6), duree, patience], -1)  # (Y, O, R, 3): one queue per key
    if np.array_equal(cles, np.broadcast_to(cles[:, :, :1], cles.shape)):  # the same for every replicate
        cles = cles[:, :, :1]
    uniques, inverse = np.unique(cles.reshape(-1, 3), axis=0, return_inverse=True)
    inverse = np.broadcast_to(inverse.reshape(cles.shape[:3]), etpma.shape)
    for i, (a, d, p) in enumerate(uniques):
        if not a > 0:
            continue
        sel = inverse == i
        c = tel.courbe_reponse(tel.Journee(appels_jour=float(a), duree=float(d), patience=float(p), **common))
        taux[sel], attente[sel] = tel.interpoler(c, logged[sel])
    taux = np.where(recus > 0, taux, np.nan)
    return {"taux": taux, "attente": np.where(recus > 0, attente, np.nan), "recus": recus,
            "aboutis": np.where(recus > 0, recus * taux, 0.0)}


# ----------------------------------------------------------------------------- public entry
def indicateurs_service(etpma: xr.DataArray, par: Parametres, *, charge: xr.Dataset | None = None,
                        productivite: xr.DataArray | None = None) -> xr.Dataset:
    """Service-quality indicators from the staffing of a run.

    Parameters
    ----------
    etpma : ETPMA, dims ``(year, organisme, replicate)``.
    par : parameters (``service.*``, ``telephonie.*``, the ``organismes.*`` entries of
        ``catalogue_service.toml``, and the workload parameters of :mod:`model.budget.productivite`).
    charge : the Dataset of :func:`model.budget.productivite.charge_travail` (default: computed from ``par``);
        its ``charge_travail_etp`` (ETPMA_eq) is the inflow of work.
    productivite : output per production ETPMA in ETPMA_eq/yr, dims ``(year, organisme[, replicate])``
        (default: :func:`productivite_capacite`).

    Returns
    -------
    xr.Dataset
        Dims ``(year, organisme, replicate)``: ``stock_dossiers`` (unit of the workload indicator),
        ``delai_traitement`` (days), ``part_traitee_dans_delai`` (1), ``delai_cible`` and
        ``ecart_delai_traitement`` (days), ``appels_recus``/``appels_aboutis`` (calls/yr),
        ``agents_telephonie`` (ETPMA), ``taux_appels_aboutis`` (1), ``attente_moyenne`` (min),
        ``cible_taux_appels_aboutis`` (1) and ``ecart_taux_appels_aboutis`` (1, the difference of two
        shares; positive = target beaten).
    """
    if charge is None:
        charge = charge_travail(par, like=etpma)
    etpma = etpma.transpose(*DIMS)
    b = backlog(etpma, par, charge["charge_travail_etp"], productivite)
    prod_ref = _yor(parametre_organisme(par, "productivite_reference"), etpma)
    cible_delai = _yor(parametre_organisme(par, "delai_cible"), etpma)
    cible_delai = np.where(cible_delai > 0, cible_delai, np.nan)
    k = _yor(parametre_scalaire(par, "service.forme_delai"), etpma)
    with np.errstate(invalid="ignore", divide="ignore"):
        part = np.where(np.isfinite(cible_delai), gammainc(k, k * cible_delai / b["delai"]), np.nan)
    t = telephone(etpma, par)
    cible_tel = _yor(parametre_organisme(par, "cible_taux_appels_aboutis"), etpma)
    cible_tel = np.where(cible_tel > 0, cible_tel, np.nan)
    data = {
        # no workload (the ex-RSI after the transfer): no stock to report (its last stock is not carried over)
        "stock_dossiers": np.where(np.isfinite(b["delai"]), b["stock"] * prod_ref, np.nan),
        "delai_traitement": b["delai"],
        "part_traitee_dans_delai": part,
        "delai_cible": cible_delai,
        "ecart_delai_traitement": b["delai"] - cible_delai,
        "appels_recus": t["recus"],
        "appels_aboutis": t["aboutis"],
        "agents_telephonie": agents_telephonie(etpma, par),
        "taux_appels_aboutis": t["taux"],
        "attente_moyenne": t["attente"],
        "cible_taux_appels_aboutis": cible_tel,
        "ecart_taux_appels_aboutis": t["taux"] - cible_tel,
    }
    coords = {d: etpma[d].values for d in DIMS}
    out = {}
    for name, x in data.items():
        extra = {}
        if name == "stock_dossiers":
            extra["units"] = unites(par)
        if name.startswith("ecart_"):
            extra["sign_convention"] = CONVENTION + (" (target beaten)" if "appels" in name else
                                                     " (delay longer than the target)")
        out[name] = decrire(xr.DataArray(np.array(x, float), coords=coords, dims=DIMS), name, VARIABLES, **extra)
    return xr.Dataset(out)
