"""Yearly results as a self-describing xarray Dataset, and their aggregates.

Every variable carries ``units``, ``long_name``, ``long_name_fr`` and ``aggregation`` (how the
régime général and total rows are formed: ``sum``, ``weighted_mean:<weight>`` or
``ratio:<numerator>/<denominator>``).
"""

from __future__ import annotations

import tempfile
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from model.budget import adf as _adf
from model.budget import gestion as _gestion
from model.budget import perimetres as _perimetres
from model.budget import ecarts as _ecarts
from model.budget import productivite as _productivite
from model.budget import masse_salariale as _masse
from model.budget.masse_salariale import bilan
from model.engine.simulation import Trajectoire
from model.params.calendrier import AGGREGATS, ORGANISMES, ORGANISMES_SORTIE
from model.params.parametres import Parametres
from model.service import dossiers as _service

# name: (units, long_name, long_name_fr, aggregation)
VARIABLES: dict[str, tuple[str, str, str, str]] = {
    "etpma": ("ETPMA", "Annual mean full-time equivalent staff (CDI + CDD)",
              "Équivalent temps plein moyen annuel (CDI + CDD)", "sum"),
    "etpma_cdi": ("ETPMA", "Annual mean full-time equivalent staff on CDI",
                  "ETPMA en CDI", "sum"),
    "etpma_cdd": ("ETPMA", "Annual mean full-time equivalent staff on CDD",
                  "ETPMA en CDD", "sum"),
    "effectif_31dec": ("personnes", "Headcount at 31 December (CDI + CDD)",
                       "Effectif au 31 décembre (CDI + CDD)", "sum"),
    "effectif_moyen": ("personnes", "Annual mean headcount (mean of the monthly headcounts, CDI + CDD)",
                       "Effectif moyen annuel (moyenne des effectifs mensuels, CDI + CDD)", "sum"),
    "etp_31dec": ("ETP", "Full-time equivalent staff at 31 December",
                  "ETP au 31 décembre", "sum"),
    "departs_retraite": ("personnes/an", "Retirements during the year",
                         "Départs en retraite de l'année", "sum"),
    "departs_autres": ("personnes/an", "Other exits during the year (incl. CDD endings)",
                       "Autres départs de l'année (y compris fins de CDD)", "sum"),
    "fins_cdd": ("personnes/an", "CDD contracts ending during the year",
                 "Fins de CDD de l'année", "sum"),
    "recrutements": ("personnes/an", "Hires during the year (CDI + CDD)",
                     "Recrutements de l'année (CDI + CDD)", "sum"),
    "recrutements_cdd": ("personnes/an", "CDD hires during the year",
                         "Recrutements en CDD de l'année", "sum"),
    "recrutements_cdi": ("personnes/an", "CDI hires during the year",
                         "Recrutements en CDI de l'année", "sum"),
    "taux_remplacement_apparent": ("1", "CDI hires per retirement (the ratio a COG's replacement target is read "
                                   "against; it includes the replacement of other exits)",
                                   "Recrutements de CDI par départ en retraite (le ratio auquel on lit la cible de "
                                   "remplacement d'une COG ; il inclut le remplacement des autres départs)",
                                   "ratio:recrutements_cdi/departs_retraite"),
    "transferts_entrants": ("personnes/an", "Staff transferred in during the year",
                            "Transferts entrants de l'année", "sum"),
    "transferts_sortants": ("personnes/an", "Staff transferred out during the year",
                            "Transferts sortants de l'année", "sum"),
    "age_moyen": ("annees", "Mean exact age at 31 December",
                  "Âge moyen au 31 décembre", "weighted_mean:effectif_31dec"),
    "part_plus_50": ("1", "Share of staff aged 50 or more at 31 December",
                     "Part des agents de 50 ans ou plus au 31 décembre", "weighted_mean:effectif_31dec"),
    "plafond_emplois": ("ETPMA", "Ceiling on ETPMA (plafond d'emplois); NaN = none",
                        "Plafond d'emplois (ETPMA) ; NaN = aucun", "sum_if_staffed:etpma"),
    "cible_remplacement": ("1", "Replacement of retirements the COG announces (organismes.*.taux_remplacement, "
                           "read against CDI hires per retirement); NaN = none (a rate of 1 or more restricts nothing)",
                           "Remplacement des départs en retraite annoncé par la COG (organismes.*.taux_remplacement, "
                           "lu contre les recrutements de CDI par départ en retraite) ; NaN = aucun (un taux de 1 ou "
                           "plus ne restreint rien)", "weighted_mean:departs_retraite"),
    "cible_etpma": ("ETPMA", "COG target path of ETPMA (a target, not a constraint); NaN = none",
                    "Trajectoire cible d'ETPMA de la COG (une cible, pas une contrainte) ; NaN = aucune",
                    "sum_if_staffed:etpma"),
    "saturation": ("1", "Saturation of the ceiling: ETPMA / plafond d'emplois",
                   "Saturation du plafond : ETPMA / plafond d'emplois", "ratio:etpma/plafond_emplois"),
    "gain_mutualisation": ("ETP/an", "ETP given back through mutualisations (hires forgone)",
                           "ETP restitués par les mutualisations (recrutements non effectués)", "sum"),
    "cout_transition_mutualisation": ("MEUR/an", "Transition cost of mutualisations",
                                      "Coût de transition des mutualisations", "sum"),
    "masse_salariale": ("MEUR/an", "Wage bill (gross pay, employer charges excluded)",
                        "Masse salariale (rémunérations brutes, hors charges patronales)", "sum"),
    "smpt": ("EUR/ETPMA/an", "Mean wage per ETPMA (salaire moyen par tête)",
             "Salaire moyen par tête (SMPT)", "ratio:masse_salariale/etpma*1e6"),
    "rmpp": ("%", "Pay growth of the CDI staff present all of this year and last (RMPP)",
             "Rémunération moyenne des personnes en place (RMPP), évolution",
             "weighted_mean:masse_presents_prec"),
    "gvt_positif": ("%", "GVT positif: RMPP net of the growth of the mean point value",
                    "GVT positif : RMPP hors évolution de la valeur moyenne du point",
                    "weighted_mean:masse_presents_prec"),
    "masse_presents": ("MEUR/an", "Pay this year of the RMPP population (full time)",
                       "Rémunérations de l'année des personnes en place (temps plein)", "sum"),
    "masse_presents_prec": ("MEUR/an", "Pay last year of the RMPP population (full time)",
                            "Rémunérations de l'année précédente des personnes en place (temps plein)", "sum"),
    "rmpp_cadrage": ("%", "RMPP cadrage set by the State; NaN = none",
                     "Cadrage de la RMPP fixé par l'État ; NaN = aucun", "same"),
    "ecart_rmpp_cadrage": ("points de %", "RMPP minus its cadrage (positive = above the cadrage)",
                           "Écart de la RMPP à son cadrage (positif = au-dessus du cadrage)",
                           "difference:rmpp-rmpp_cadrage"),
    "effet_effectif": ("MEUR", "Wage-bill change from the change of ETPMA (transfers included)",
                       "Effet effectif sur la masse salariale", "sum"),
    "effet_mesures_generales": ("MEUR", "Wage-bill change from this year's general measures",
                                "Effet des mesures générales de l'année", "sum"),
    "effet_gvt": ("MEUR", "Wage-bill change from individual progressions (GVT positif)",
                  "Effet du GVT positif", "sum"),
    "effet_noria": ("MEUR", "Wage-bill change from entries and exits (noria) and structure",
                    "Effet de noria (entrées-sorties) et de structure", "sum"),
    "effet_report": ("MEUR", "Wage-bill change carried over from last year's measures",
                     "Effet report des mesures de l'année précédente", "sum"),
    "depenses_personnel": ("MEUR/an", "Personnel expenses: wage bill, employer charges, training, other",
                           "Dépenses de personnel : masse salariale, charges, formation, autres", "sum"),
    **_masse.VARIABLES,  # each charge of the personnel expenses by name
    "enveloppe_masse_salariale": ("MEUR/an", "Wage-bill envelope of the COG; NaN = none",
                                  "Enveloppe de masse salariale de la COG ; NaN = aucune", "sum"),
    "ecart_masse_salariale": ("MEUR/an", "Wage bill minus its envelope (positive = above the envelope)",
                              "Masse salariale moins son enveloppe (positif = dépassement)",
                              "difference:masse_salariale-enveloppe_masse_salariale"),
}

QUANTILES = (0.05, 0.50, 0.95)  # the 90 % band and the median over replicates (results.csv, sweeps)
# statistics over all the replicates of a run whose Dataset keeps only the first ones (as a sweep's)
STATISTIQUES = ("moyenne", "p05", "p50", "p95", "ecart_type")
STATISTIQUES_COORD = "statistiques"
# the COG targets (model/results/cibles.py): probabilite_respect and ecart_attendu have dims (cible, year,
# organisme), statistics over every replicate already; their rows of results.csv are named "variable:cible"
# (no aggregate rows), and ecart_attendu's unit is each target's, the coordinate cible_unite
CIBLE_DIM = "cible"
CIBLE_UNITE = "cible_unite"
UNITES_PAR_CIBLE = "unit of each target: coordinate cible_unite"
# every output variable, in the order of the results: staffing and pay here, then the budget,
# productivity, gaps and service modules (each declares its own metadata)
REGISTRE: dict[str, tuple[str | None, str, str, str]] = {
    **VARIABLES, **_adf.VARIABLES, **_gestion.VARIABLES, **_perimetres.VARIABLES,
    **_productivite.VARIABLES, **_ecarts.VARIABLES, **_service.VARIABLES}


def annuel(traj: Trajectoire) -> dict[str, np.ndarray]:
    """The yearly staffing figures of a batch trajectory, (year, batch, organisme) numpy arrays: the one
    place where months become years (the Dataset and the calibration's fast path both read it).

    ``etpma`` (and its CDI/CDD parts) is the mean over the twelve months of the ETP present;
    ``effectif_moyen`` the mean monthly headcount; ``effectif_31dec``/``etp_31dec`` December's; the flows
    are sums over the months (the mutualisations' gains and transition costs too); ``recrutements_cdi`` =
    hires − CDD hires."""
    Y = traj.etp_cdi.shape[0] // 12  # the years of the run's horizon

    def yearly(x: np.ndarray) -> np.ndarray:  # (T, R, O) -> (Y, 12, R, O)
        return x.reshape(Y, 12, *x.shape[1:])

    etp_total = traj.etp_cdi + traj.etp_cdd
    data: dict[str, np.ndarray] = {
        "etpma": yearly(etp_total).mean(1),
        "etpma_cdi": yearly(traj.etp_cdi).mean(1),
        "etpma_cdd": yearly(traj.etp_cdd).mean(1),
        "effectif_moyen": yearly(traj.effectif).mean(1),
        "effectif_31dec": yearly(traj.effectif)[:, 11],
        "etp_31dec": yearly(etp_total)[:, 11],
    }
    for k in ("departs_retraite", "departs_autres", "fins_cdd", "recrutements", "recrutements_cdd",
              "transferts_entrants", "transferts_sortants"):
        data[k] = yearly(traj.flux[k]).sum(1)
    data["recrutements_cdi"] = data["recrutements"] - data["recrutements_cdd"]
    data["gain_mutualisation"] = yearly(traj.gain_mutualisation).sum(1)
    data["cout_transition_mutualisation"] = yearly(traj.cout_transition).sum(1)
    return data


def build_dataset(traj: Trajectoire, par: Parametres, attrs: dict[str, Any] | None = None) -> xr.Dataset:
    """Yearly Dataset, dims (year, organisme, replicate), from a batch trajectory."""

    def to_yor(x: np.ndarray) -> np.ndarray:  # (Y, R, O) -> (Y, O, R)
        return np.transpose(x, (0, 2, 1))

    data = annuel(traj)
    with np.errstate(invalid="ignore", divide="ignore"):
        data["taux_remplacement_apparent"] = np.where(data["departs_retraite"] > 0,
                                                      data["recrutements_cdi"] / data["departs_retraite"], np.nan)
    n31 = data["effectif_31dec"]
    data["age_moyen"] = np.divide(traj.age_somme, n31, out=np.full_like(n31, np.nan), where=n31 > 0)
    data["part_plus_50"] = np.divide(traj.plus_50, n31, out=np.full_like(n31, np.nan), where=n31 > 0)
    data.update(bilan(traj.indice_etp, data["etpma"], traj.rmpp_num, traj.rmpp_den, par))
    finite = lambda x: np.where(np.isfinite(x), x, np.nan)  # noqa: E731  (inf = none -> NaN)
    # targets as (year, batch or 1, organisme or 1) arrays: per batch element when they differ
    # between the points of a batch (a sweep), else shared
    plafond = par.yro_organisme("plafond_emplois") if traj.plafond is None else traj.plafond
    if plafond.shape[1] > 1 and np.all(plafond == plafond[:, :1]):  # the same for the whole batch
        plafond = plafond[:, :1]
    cibles = {k: finite(v) for k, v in (("plafond_emplois", plafond),
                                        ("enveloppe_masse_salariale", par.yro_organisme("enveloppe_masse_salariale")),
                                        ("rmpp_cadrage", par.yro("remuneration.rmpp_cadrage")))}
    with np.errstate(invalid="ignore", divide="ignore"):
        data["saturation"] = data["etpma"] / cibles["plafond_emplois"]
        data["ecart_rmpp_cadrage"] = data["rmpp"] - cibles["rmpp_cadrage"]
        data["ecart_masse_salariale"] = data["masse_salariale"] - cibles["enveloppe_masse_salariale"]
    cibles["cible_etpma"] = finite(par.yro_organisme("cible_etpma"))  # a target only: model/results/cibles.py
    tau = par.yro_organisme("taux_remplacement")  # the announced replacement of retirements: a target below 1
    cibles["cible_remplacement"] = np.where(tau < 1.0, tau, np.nan)
    dims = ("year", "organisme", "replicate")
    variables = {k: (dims, to_yor(v)) for k, v in data.items()}
    for k, v in cibles.items():
        if v.shape[1] > 1:  # per batch element
            variables[k] = (dims, to_yor(np.broadcast_to(v, (v.shape[0], v.shape[1], len(ORGANISMES)))))
        elif k == "rmpp_cadrage":
            variables[k] = (("year",), v[:, 0, 0])
        else:
            variables[k] = (("year", "organisme"), v[:, 0, :])
    for k, (d, v) in variables.items():
        units, ln, ln_fr, agg = VARIABLES[k]
        variables[k] = (d, v, {"units": units, "long_name": ln, "long_name_fr": ln_fr, "aggregation": agg})
    coords = {
        "year": ("year", list(par.horizon.annees), {"units": "1", "long_name": "Calendar year", "long_name_fr": "Année civile"}),
        "organisme": ("organisme", list(ORGANISMES), {"long_name": "National network (caisse nationale)",
                                                      "long_name_fr": "Organisme"}),
        "replicate": ("replicate", np.arange(traj.first_replicate, traj.first_replicate + traj.replicates),
                      {"long_name": "Stochastic replicate",
                                                                 "long_name_fr": "Réplication stochastique"}),
    }
    ds = xr.Dataset(variables, coords=coords)
    # budget, productivity, gaps and service quality: pure functions of the yearly state
    budget = _adf.budget(ds["etpma"], par, depenses_personnel=ds["depenses_personnel"],
                         cout_transition_mutualisation=ds["cout_transition_mutualisation"],
                         impots_sur_remunerations=ds["taxe_sur_les_salaires"] + ds["versement_mobilite"])
    indicateurs = _productivite.indicateurs(ds["etpma"], par, cout=budget["cout_gestion_cog"])
    ecarts = _ecarts.ecarts(ds["etpma"], ds["plafond_emplois"], budget["adf_hors_informatique"], indicateurs, par)
    service = _service.indicateurs_service(ds["etpma"], par, charge=indicateurs)
    nouveaux = {}
    perimetres = _perimetres.perimetres(ds["etpma"], ds["effectif_31dec"], ds["effectif_moyen"],
                                        ds["depenses_personnel"], par)
    for part in (budget, perimetres, indicateurs, ecarts, service):  # same coordinates: plain arrays, no realignment
        part = part.reindex({d: ds[d].values for d in ("year", "organisme", "replicate")
                             if d in part.dims and not np.array_equal(part[d].values, ds[d].values)})
        for k in part.data_vars:
            da = part[k].transpose(*[d for d in ("year", "organisme", "replicate") if d in part[k].dims])
            nouveaux[k] = (da.dims, da.values, da.attrs)
    ds = ds.assign(nouveaux)
    ds.attrs = dict(attrs or {})
    return ds[[k for k in REGISTRE if k in ds]]


class Tableaux:
    """The Dataset's variables as (year, organisme, replicate) numpy arrays, converted once."""

    def __init__(self, ds: xr.Dataset):
        self.ds = ds
        self.shape = (ds.sizes["year"], ds.sizes["organisme"], ds.sizes["replicate"])
        self.cache: dict[str, np.ndarray] = {}

    def __call__(self, name: str) -> np.ndarray:
        if name not in self.cache:
            da = self.ds[name]
            order = [d for d in ("year", "organisme", "replicate") if d in da.dims]
            x = da.transpose(*order).values
            index = tuple(slice(None) if d in da.dims else None for d in ("year", "organisme", "replicate"))
            self.cache[name] = np.broadcast_to(x[index], self.shape)
        return self.cache[name]


def _values(ds, name: str) -> np.ndarray:
    """A variable as a (year, organisme, replicate) numpy array (parameters broadcast over replicates)."""
    return ds(name) if isinstance(ds, Tableaux) else Tableaux(ds)(name)


def aggregate_values(ds: xr.Dataset, name: str, tableaux: "Tableaux | None" = None) -> np.ndarray:
    """(year, organisme + régime général + total, replicate) values of ``name``, aggregated per its
    ``aggregation`` attribute."""
    tab = tableaux or Tableaux(ds)
    orgs = list(ds["organisme"].values)
    rows = [tab(name)]
    for members in AGGREGATS.values():
        idx = [orgs.index(o) for o in members]
        rows.append(_aggregate(tab, name, idx)[:, None])
    return np.concatenate(rows, axis=1)


def _aggregate(ds: "Tableaux", name: str, idx: list[int]) -> np.ndarray:
    """Aggregate of ``name`` over the organismes ``idx``: (year, replicate).

    ``none`` (no aggregate: NaN); ``sum``; ``sum_if_staffed:w`` (NaN when a member with ``w > 0``
    has no value); ``same`` (a value common to all); ``weighted_mean:w`` over the members where both are
    defined; ``ratio:num/den[*scale]`` of the sums, undefined when a member has a numerator but no
    denominator (e.g. staff but no ceiling); ``difference:a-b`` of the aggregates.
    """
    agg = ds.ds[name].attrs["aggregation"]
    x = _values(ds, name)[:, idx]
    with np.errstate(invalid="ignore", divide="ignore"):
        if agg == "none":  # units differ between organismes: no aggregate
            return np.full(x[:, 0].shape, np.nan)
        if agg == "sum":
            return np.where(np.isnan(x).all(1), np.nan, np.nansum(x, 1))
        if agg == "same":
            return x[:, 0]
        kind, _, arg = agg.partition(":")
        if kind == "sum_if_staffed":  # undefined when a member with staff has no value (no ceiling)
            staffed = _values(ds, arg)[:, idx] > 0
            return np.where((staffed & np.isnan(x)).any(1), np.nan, np.nansum(x, 1))
        if kind == "weighted_mean":
            w = _values(ds, arg)[:, idx]
            ok = np.isfinite(x) & np.isfinite(w)
            return np.nansum(np.where(ok, x * w, 0.0), 1) / np.where(ok, w, 0.0).sum(1)
        if kind == "ratio":
            frac, _, scale = arg.partition("*")
            num, den = (_values(ds, v)[:, idx] for v in frac.split("/"))
            undefined = ((num > 0) & np.isnan(den)).any(1)
            return np.where(undefined, np.nan, np.nansum(num, 1) / np.nansum(den, 1)) * float(scale or 1.0)
        if kind == "respect":  # 1 when the aggregate gap is at or below zero
            gap = _aggregate(ds, arg, idx)
            return np.where(np.isnan(gap), np.nan, (gap <= 0).astype(float))
        if kind == "difference":
            a, b = arg.split("-")
            return _aggregate(ds, a, idx) - _aggregate(ds, b, idx)
    raise ValueError(f"unknown aggregation {agg!r} of {name}")


def with_aggregates(da: xr.DataArray, ds: xr.Dataset) -> xr.DataArray:
    """``da`` (a variable of ``ds``) with two more organisme rows: ``regime_general`` and ``total``."""
    values = aggregate_values(ds, da.name)
    coords = {"year": ds["year"].values, "organisme": list(ds["organisme"].values) + list(AGGREGATS),
              "replicate": ds["replicate"].values}
    return xr.DataArray(values, coords=coords, dims=("year", "organisme", "replicate"), attrs=da.attrs,
                        name=da.name)


# the columns of results.csv (tidy_frame), with what they hold: the first four on every row, then ``value``
# for a run of one replicate, else the statistics over the replicates, named as the statistics of a sweep
# or of a run in blocks (STATISTIQUES, without the standard deviation)
COLONNES_CSV: dict[str, str] = {
    "variable": "the result variable (the table above); `probabilite_respect:CIBLE` and `ecart_attendu:CIBLE` for "
                "the COG targets (organismes only, the value in `moyenne` with empty quantiles, or in `value`)",
    "organisme": "an organisme, `regime_general` or `total`",
    "year": "the calendar year",
    "unit": "the variable's unit (for `regime_general` and `total` too)",
    "value": "the value, for a run of one replicate (deterministic, or a single stochastic replicate)",
    "moyenne": "the mean over the replicates",
    "p05": "the 5 % quantile over the replicates (low end of the 90 % band)",
    "p50": "the median over the replicates",
    "p95": "the 95 % quantile over the replicates (high end of the 90 % band)",
}
STATISTIQUES_CSV = STATISTIQUES[:4]  # moyenne, p05, p50, p95


def tidy_frame(ds: xr.Dataset):
    """A tidy pandas DataFrame (``results.csv``): one row per variable × organisme (incl. aggregates) × year,
    with the value (one replicate) or the mean (``moyenne``) and 5/50/95 % quantiles over replicates (over
    all the replicates of the run when its Dataset keeps only the first ones: ``statistiques_replicates``);
    columns :data:`COLONNES_CSV`."""

    years = ds["year"].values
    orgs = np.array(list(ds["organisme"].values) + list(AGGREGATS), dtype=object)
    n_rep = ds.sizes["replicate"]
    names = [n for n in ds.data_vars if CIBLE_DIM not in ds[n].dims]
    if STATISTIQUES_COORD in ds.coords:  # (V, Y, O+2, statistique), over every replicate
        values = np.stack([statistiques_replicates(ds, name) for name in names])
    else:
        tab = Tableaux(ds)
        values = np.stack([aggregate_values(ds, name, tab) for name in names])  # (V, Y, O+2, R)
    V, Y, Og, _ = values.shape
    cols: dict[str, np.ndarray] = {
        "variable": np.repeat(np.array(names, dtype=object), Y * Og),
        "organisme": np.tile(orgs, V * Y),
        "year": np.tile(np.repeat(years, Og), V),
        "unit": np.repeat(np.array([ds[n].attrs["units"] for n in names], dtype=object), Y * Og),
    }
    if STATISTIQUES_COORD in ds.coords:
        cols.update({s: values[..., STATISTIQUES.index(s)].reshape(-1) for s in STATISTIQUES_CSV})
    elif n_rep == 1:
        cols["value"] = values[..., 0].reshape(-1)
    else:
        with np.errstate(invalid="ignore"):
            cols["moyenne"] = values.mean(-1).reshape(-1)
            q = np.quantile(values, QUANTILES, axis=-1)
        cols.update(p05=q[0].reshape(-1), p50=q[1].reshape(-1), p95=q[2].reshape(-1))
    frame = pd.DataFrame(cols)
    par_cible = [n for n in ds.data_vars if CIBLE_DIM in ds[n].dims]
    if not par_cible:
        return frame
    return pd.concat([frame, _tidy_cibles(ds, par_cible, "moyenne" if "moyenne" in cols else "value")], ignore_index=True)


def _tidy_cibles(ds: xr.Dataset, names: list[str], column: str):
    """The rows of the variables over the COG targets: ``variable:cible`` × organisme × year, the value
    in ``column`` (``moyenne``: they are statistics over the replicates already; ``value`` for a run of one
    replicate), the other statistics empty; organismes only (a target is an organisme's)."""
    cibles = [str(c) for c in ds[CIBLE_DIM].values]
    orgs = np.array(list(ds["organisme"].values), dtype=object)
    years = ds["year"].values
    C, Y, O = len(cibles), len(years), len(orgs)
    parts = []
    for name in names:
        units = str(ds[name].attrs.get("units", ""))
        per_cible = [str(u) for u in ds[CIBLE_UNITE].values] if units == UNITES_PAR_CIBLE else [units] * C
        unit = np.array([[unite_organisme(u, o) for o in orgs] for u in per_cible], dtype=object)  # (C, O)
        parts.append(pd.DataFrame({
            "variable": np.repeat(np.array([f"{name}:{c}" for c in cibles], dtype=object), Y * O),
            "organisme": np.tile(orgs, C * Y), "year": np.tile(np.repeat(years, O), C),
            "unit": np.repeat(unit[:, None, :], Y, axis=1).reshape(-1),
            column: ds[name].transpose(CIBLE_DIM, "year", "organisme").values.reshape(-1)}))
    return pd.concat(parts, ignore_index=True)


def unite_organisme(units: str, organisme: str) -> str:
    """The unit of one organisme in a ``units`` attribute, per-organisme ones (``"cnam: UO FSE/ETPMA;
    cnaf: ..."``) included."""
    if ": " in units and ";" in units:
        parts = dict(p.strip().split(": ", 1) for p in units.split(";") if ": " in p)
        return parts.get(organisme, units)
    return units


# ----------------------------------------------------------------------------- runs in blocks
class StatistiquesReplicates:
    """Exact statistics over every replicate of a run made in blocks of replicates.

    Each block's values (every variable, year, organisme with régime général and total, replicate) are
    appended to an anonymous temporary file (45 kB per replicate with every variable: 0.9 GB for
    20 000 replicates, 4.5 GB for 100 000), then read back one variable at a time (80 values per
    replicate in memory: 64 MB for 100 000 replicates) to compute, exactly as for a Dataset that
    holds every replicate: the mean, the 5/50/95 % quantiles (``numpy.quantile``, linear
    interpolation) and the standard deviation (ddof = 1). Memory stays bounded whatever the number
    of replicates; the file is deleted when the statistics are computed (or the process ends).
    """

    def __init__(self, names: list[str]):
        self.names = list(names)
        self.file = tempfile.TemporaryFile(prefix="cogsim-replicates-")
        self.blocks: list[tuple[int, int]] = []  # (offset in the file, replicates)
        self.replicates = 0
        self.shape: tuple[int, int] | None = None  # (year, organisme + aggregates)
        self.annees: list[int] = []

    def add(self, ds: xr.Dataset) -> None:
        """Append the replicates of a block (a Dataset of ``build_dataset``)."""
        tab = Tableaux(ds)
        values = np.stack([aggregate_values(ds, name, tab) for name in self.names])  # (V, Y, O+2, Rb)
        self.shape = values.shape[1:3]
        self.annees = [int(y) for y in ds["year"].values]
        self.blocks.append((self.file.tell(), values.shape[-1]))
        values.tofile(self.file)
        self.replicates += values.shape[-1]

    def compute(self) -> xr.DataArray:
        """(variable, year, organisme_agrege, statistique) statistics over all the replicates added."""
        Y, Og = self.shape
        out = np.empty((len(self.names), Y, Og, len(STATISTIQUES)))
        for v in range(len(self.names)):
            x = np.empty((Y, Og, self.replicates))
            r = 0
            for offset, rb in self.blocks:
                self.file.seek(offset + v * Y * Og * rb * 8)
                x[..., r:r + rb] = np.fromfile(self.file, dtype=np.float64, count=Y * Og * rb).reshape(Y, Og, rb)
                r += rb
            out[v] = statistiques_replicates_valeurs(x)
        self.file.close()
        return xr.DataArray(out, dims=("variable", "year", "organisme_agrege", "statistique"), coords={
            "variable": self.names, "year": self.annees, "organisme_agrege": list(ORGANISMES_SORTIE),
            "statistique": list(STATISTIQUES)}, attrs={
            "long_name": f"Statistics over all {self.replicates} replicates: mean, 5/50/95 % quantiles, "
                         "standard deviation (the Dataset keeps the first replicates only)",
            "long_name_fr": f"Statistiques sur les {self.replicates} réplications : moyenne, quantiles "
                            "5/50/95 %, écart type (le Dataset ne garde que les premières)"})


def statistiques_replicates_valeurs(x: np.ndarray) -> np.ndarray:
    """(..., replicate) -> (..., statistique): mean, 5/50/95 % quantiles, standard deviation (ddof 1),
    as ``tidy_frame`` computes them over a Dataset's replicates."""
    out = np.empty((*x.shape[:-1], len(STATISTIQUES)))
    with np.errstate(invalid="ignore"):
        out[..., 0] = x.mean(-1)
        out[..., 1:4] = np.moveaxis(np.quantile(x, QUANTILES, axis=-1), 0, -1)
        out[..., 4] = x.std(-1, ddof=1) if x.shape[-1] > 1 else np.nan
    return out


def statistiques_replicates(ds: xr.Dataset, name: str) -> np.ndarray | None:
    """(year, organisme + régime général + total, statistique) statistics of ``name`` over all the
    replicates of the run when its Dataset keeps only the first ones (``STATISTIQUES``: mean, p05, p50,
    p95, ecart_type); None when the Dataset holds every replicate (summarise its ``replicate`` dim)."""
    if STATISTIQUES_COORD not in ds.coords:
        return None
    st = ds.coords[STATISTIQUES_COORD]
    if name not in st["variable"].values:
        return None
    return st.sel(variable=name).transpose("year", "organisme_agrege", "statistique").values
