"""Charge de travail, productivité and coûts unitaires: the COG indicators of section 5.4.

Pure vectorised functions of the yearly state (no SimPy): inputs are ``xarray`` DataArrays with dims
``(year, organisme, replicate)`` and a :class:`~model.params.scenario.Parametres`; outputs have the same dims
and every variable carries ``units``, ``long_name``, ``long_name_fr`` and ``aggregation``.

The workload model
------------------
Workload follows named volume drivers (inducteurs: allocataires, cotisants, retirement claims, persons
covered; ``catalogue_inducteurs.toml``, :mod:`model.params.inducteurs`) that a scenario changes by year or
by dated shocks and that stochastic replicates draw within stated ranges. It is held in a unit common to
every organisme, the **ETPMA-équivalent** (``ETPMA_eq``): the ETPMA the workload needs at the productivity
of the reference year (``productivite.annee_reference``, 2018, the first year every published indicator
exists). In that unit workloads add up, so the ex-RSI workload can move with the transfer and be
conserved:

* own workload ``charge_propre[o, y] = charge_travail_reference[o] × D[o, y] × R[o, y] / R[o, ref]
  + charge_nouvelles_missions[o, y] + Σ nouvelles_missions[o, y]`` where
  ``D[o, y] = Π_k (X_k[y] × choc_k[y] / X̄_k[ref])^elasticite_k`` over the organisme's drivers k
  (:func:`indice_inducteurs`; ``X̄_k[ref]`` the catalogue's value in the reference year, so that a
  scenario's change of a driver moves the workload in every year it touches), ``choc_k`` the dated
  ``chocs_inducteurs`` (ramped by month), ``R`` the compound index of ``croissance_charge_travail`` (the
  growth per unit of driver that the drivers do not explain: care per person, the indicator's weighting;
  fitted for CNAV and ACOSS in 2017-2018), and the dated ``nouvelles_missions`` ramped up linearly by month
  (:func:`charge_missions_datees`);
* a volume shock (more allocataires at the same staff) raises the workload, hence the productivity
  (workload / ETPMA), lowers the unit cost (cost / workload), and fills the backlog of
  :mod:`model.service.dossiers`, whose capacity follows the staff, not the workload;
* the ex-RSI transfer moves the share of each year after ``transfert_rsi.date_principale``
  (:func:`fraction_transferee`) of the RSI's workload to cnam/cnav/acoss in the proportions of
  ``transfert_rsi.repartition`` (:func:`transferer_rsi`); the sum over organismes is unchanged;
* the workload in the unit of the organisme's COG indicator is ``charge_travail = charge_travail_etp ×
  productivite_reference`` (indicator units per ETPMA in the reference year), so that
  ``productivite = charge_travail / etpma`` reproduces the published 2018 level when the simulated
  2018 ETPMA equals ``charge_travail_reference``.

For the CNAM the COG indicators measure processes (feuilles de soins électroniques, indemnités
journalières), not the whole network: the model assumes the process's workload and staff move with
the branch's, so the headline ``productivite`` of the CNAM is the FSE indicator and ``productivite_ij``
the IJ one (the IJ volume may grow faster or slower: ``productivite.croissance_relative_charge_ij``).
The MSA and the ex-RSI have no published indicator: their productivity is ETPMA_eq per ETPMA (≈ 1 in
2018).

Examples
--------
>>> from model.params.scenario import default_parametres
>>> from model.results.run import run_scenario
>>> par = default_parametres()
>>> ds = run_scenario("scenarios/cog_2018_2022.toml", write=False).dataset   # doctest: +SKIP
>>> ind = indicateurs(ds["etpma"], par)                                     # doctest: +SKIP
>>> ind["productivite"].sel(organisme="cnav", year=2022).mean().item()      # doctest: +SKIP
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import xarray as xr

from model.params.calendrier import HORIZON_DEFAUT, ORGANISMES, Horizon
from model.params.inducteurs import ELASTICITES, SECTION, niveau_reference, noms_inducteurs, organisme_inducteur
from model.params.parametres import Parametres, ParametresLot

DIMS = ("year", "organisme", "replicate")
RSI = "rsi"
CNAM = "cnam"

# name: (units or None when they vary by organisme, long_name, long_name_fr, aggregation)
VARIABLES: dict[str, tuple[str | None, str, str, str]] = {
    "charge_travail_etp": (
        "ETPMA_eq", "Workload in ETPMA-equivalents at the reference year's productivity",
        "Charge de travail en ETPMA-équivalents (productivité de l'année de référence)", "sum"),
    "charge_travail": (
        None, "Workload in the unit of the organisme's COG productivity indicator",
        "Charge de travail dans l'unité de l'indicateur de productivité de la COG", "none"),
    "productivite": (
        None, "Productivity: charge de travail / ETPMA (headline COG indicator; CNAM: FSE process)",
        "Productivité : charge de travail / ETPMA (indicateur COG ; CNAM : processus FSE)", "none"),
    "cible_productivite": (
        None, "COG productivity target (section 5.4); NaN = no target",
        "Cible de productivité de la COG (section 5.4) ; NaN = aucune", "none"),
    "productivite_ij": (
        "UO IJ/ETPMA", "CNAM productivity on the indemnités journalières process (NaN elsewhere)",
        "Productivité CNAM du processus indemnités journalières (NaN ailleurs)", "none"),
    "cible_productivite_ij": (
        "UO IJ/ETPMA", "COG target of the CNAM IJ productivity (NaN elsewhere)",
        "Cible COG de productivité IJ de la CNAM (NaN ailleurs)", "none"),
    "cout_unitaire": (
        None, "Unit management cost: cost / charge de travail (COG indicators of CNAF, CNAV, ACOSS)",
        "Coût unitaire de gestion : coût / charge de travail (indicateurs COG CNAF, CNAV, ACOSS)", "none"),
}


# ----------------------------------------------------------------------------- parameters as arrays
# the DataArray forms of each live parameter set, keyed by its identity (a Parametres is a Mapping, so it
# is compared by value and not hashable; equal sets built apart get their own entry): the set itself is
# never written into, and an entry goes when its set is collected
_FORMES: dict[int, dict[tuple, Any]] = {}


def memo(par: Parametres, key: tuple, build: Callable[[], Any]) -> Any:
    """Parameters are immutable: their DataArray forms are built once per parameter set, and kept in a
    cache beside it (not in it) for as long as the set lives."""
    cache = _FORMES.get(id(par))
    if cache is None:
        cache = _FORMES[id(par)] = {}
        weakref.finalize(par, _FORMES.pop, id(par), None)
    if key not in cache:
        cache[key] = build()
    return cache[key]


def parametre_organisme(par: Parametres, name: str) -> xr.DataArray:
    """An organisme parameter as a DataArray: dims ``(organisme,)``, or ``(year, organisme)`` when it
    varies by year."""
    return memo(par, ("organisme", name), lambda: _parametre_organisme(par, name))


def _parametre_organisme(par: Parametres, name: str) -> xr.DataArray:
    lot = par.lot_organisme(name) if isinstance(par, ParametresLot) else None
    if lot is not None:  # differs between the points of a batch: one value per batch element
        dims = ("replicate", "organisme", "year")[:lot.ndim]
        coords = {"organisme": list(ORGANISMES), "year": list(par.horizon.annees)}
        da = xr.DataArray(lot, coords={d: coords[d] for d in dims[1:]}, dims=dims, name=name)
        return da.transpose(*[d for d in ("year", "organisme", "replicate") if d in dims])
    v = par.par_organisme(name)
    if v.ndim == 2:
        return xr.DataArray(v.T, coords={"year": list(par.horizon.annees), "organisme": list(ORGANISMES)},
                            dims=("year", "organisme"), name=name)
    return xr.DataArray(v, coords={"organisme": list(ORGANISMES)}, dims=("organisme",), name=name)


def parametre_annuel(par: Parametres, path: str) -> xr.DataArray:
    """A by-year parameter (not by organisme) as a DataArray with dim ``year`` (and ``replicate`` when
    it differs between the points of a batch)."""
    lot = par.lot(path) if isinstance(par, ParametresLot) else None
    if lot is not None:
        return memo(par, ("annuel", path), lambda: xr.DataArray(
            lot.T, coords={"year": list(par.horizon.annees)}, dims=("year", "replicate"), name=path))
    return memo(par, ("annuel", path), lambda: xr.DataArray(
        np.asarray(par[path], float), coords={"year": list(par.horizon.annees)}, dims=("year",), name=path))


def parametre_scalaire(par: Parametres, path: str) -> float | xr.DataArray:
    """A scalar parameter: a float, or a DataArray over ``replicate`` when it differs between the
    points of a batch."""
    lot = par.lot(path) if isinstance(par, ParametresLot) else None
    return par[path] if lot is None else xr.DataArray(lot, dims=("replicate",), name=path)


def indice_cumule(taux: xr.DataArray) -> xr.DataArray:
    """Compound index of annual rates: 1 in the first year, ``∏ (1 + taux[k])`` for k up to y.

    Parameters
    ----------
    taux : annual rates (an-1) with a ``year`` dim; the rate of year y applies from y-1 to y (the
        first year's rate is unused).

    Returns
    -------
    xr.DataArray
        Dimensionless index, same dims as ``taux``.
    """
    first = taux["year"].values[0]
    return (1.0 + taux).where(taux["year"] > first, 1.0).cumprod("year")


def valeur_en(x: xr.DataArray, annee: xr.DataArray | int) -> xr.DataArray:
    """The value of ``x`` in year ``annee`` (a scalar or a DataArray by organisme); NaN when that year
    is not in ``x``."""
    return x.where(x["year"] == annee).sum("year", min_count=1)


def sur(da: xr.DataArray, like: xr.DataArray) -> xr.DataArray:
    """``da`` selected on the ``year`` and ``organisme`` coordinates of ``like`` (a no-op, and cheap,
    when they already match)."""
    for dim in ("year", "organisme"):
        if dim in da.dims and dim in like.dims and not np.array_equal(da[dim].values, like[dim].values):
            da = da.sel({dim: like[dim].values})
    return da


def conformer(da: xr.DataArray, like: xr.DataArray | None) -> xr.DataArray:
    """``da`` on the coordinates of ``like`` (dims ``(year, organisme, replicate)``), broadcast over
    the dims it lacks; unchanged when ``like`` is None."""
    if like is None:
        return da
    da = sur(da, like)
    manque = {d: like[d].values for d in like.dims if d not in da.dims}
    if manque:
        da = da.expand_dims(manque)
    return da.transpose(*like.dims).copy()


def decrire(da: xr.DataArray, name: str, variables: Mapping[str, tuple], **extra: str) -> xr.DataArray:
    """``da`` named ``name`` with the attrs of ``variables[name]`` (plus ``extra`` attrs)."""
    units, ln, ln_fr, agg = variables[name]
    da = da.rename(name)
    da.attrs = {"units": extra.pop("units", units), "long_name": ln, "long_name_fr": ln_fr,
                "aggregation": agg, **extra}
    return da


# ----------------------------------------------------------------------------- ex-RSI transfer
def fraction_transferee(par: Parametres) -> xr.DataArray:
    """Share of each year after ``transfert_rsi.date_principale`` (months counted from the date).

    Returns
    -------
    xr.DataArray
        Dim ``year``, unit ``1``: 0 before the transfer year, (13 - month) / 12 in it, 1 after.

    Examples
    --------
    >>> import datetime as dt
    >>> from model.params.scenario import default_parametres
    >>> par = default_parametres().with_values({"transfert_rsi.date_principale": dt.date(2020, 7, 1)})
    >>> fraction_transferee(par).sel(year=[2019, 2020, 2021]).values.tolist()
    [0.0, 0.5, 1.0]
    """
    d = par["transfert_rsi.date_principale"]
    years = np.array(par.horizon.annees)
    f = np.clip((years + 1 - (d.year + (d.month - 1) / 12.0)), 0.0, 1.0)
    return xr.DataArray(f, coords={"year": list(par.horizon.annees)}, dims=("year",), name="fraction_transferee")


def parts_accueil(par: Parametres) -> xr.DataArray:
    """``transfert_rsi.repartition`` as a DataArray over ``ORGANISMES`` (0 for non-receivers)."""
    rep = par["transfert_rsi.repartition"]
    return xr.DataArray([float(rep.get(o, 0.0)) for o in ORGANISMES], coords={"organisme": list(ORGANISMES)},
                        dims=("organisme",))


def transferer_rsi(x: xr.DataArray, par: Parametres) -> xr.DataArray:
    """Move the ex-RSI's share of ``x`` after the bulk transfer to the receiving organismes.

    For each year, ``fraction_transferee × x[rsi]`` leaves the ``rsi`` row and is added to the
    receivers in the proportions of ``transfert_rsi.repartition``; the sum over organismes is unchanged.

    Parameters
    ----------
    x : an additive quantity (workload in ETPMA_eq, a budget in MEUR/an) with dims including ``year``
        and ``organisme``; trajectories of the RSI's own perimeter.
    par : parameters (``transfert_rsi.date_principale``, ``transfert_rsi.repartition``).

    Returns
    -------
    xr.DataArray
        Same dims and units as ``x``.
    """
    moved = x.sel(organisme=RSI, drop=True) * sur(fraction_transferee(par), x)
    est_rsi = xr.DataArray([o == RSI for o in x["organisme"].values], coords={"organisme": x["organisme"]},
                           dims=("organisme",))
    out = x - moved * est_rsi + moved * sur(parts_accueil(par), x)
    return out.transpose(*x.dims)


# ----------------------------------------------------------------------------- workload
def part_des_mois(debut, montee_en_charge_mois: int = 1, horizon: Horizon = HORIZON_DEFAUT) -> np.ndarray:
    """Mean over each year's months of a linear ramp from ``debut`` (0 before, 1 after
    ``montee_en_charge_mois`` months, as the engine ramps a mutualisation). Shape ``(years of horizon,)``, unit 1.

    Examples
    --------
    >>> import datetime as dt
    >>> part_des_mois(dt.date(2020, 7, 1))[HORIZON_DEFAUT.index(2020)]
    0.5
    """
    mois = np.arange(horizon.n_mois)
    t0 = horizon.mois_depuis_debut(debut)
    return np.clip((mois - t0 + 1) / montee_en_charge_mois, 0.0, 1.0).reshape(horizon.n_annees, 12).mean(1)


def facteur_chocs(par: Parametres, nom: str) -> np.ndarray:
    """The dated volume shocks (``chocs_inducteurs``) on driver ``nom`` as a factor by year: the product of
    ``1 + variation × (share of the year's months from debut)``. Shape ``(years of the horizon,)``, unit 1."""
    f = np.ones(par.horizon.n_annees)
    for c in par["chocs_inducteurs"]:
        if c["inducteur"] == nom:
            f = f * (1.0 + c["variation"] * part_des_mois(c["debut"], 1, par.horizon))
    return f


def indice_inducteurs(par: Parametres) -> xr.DataArray:
    """``D[o, y] = Π_k (X_k[y] × choc_k[y] / X̄_k[ref])^elasticite_k`` over the drivers of each organisme
    (1 for an organisme without a driver): the workload relative to its reference level
    ``charge_travail_reference``, unit 1, dims ``(year, organisme[, replicate])``; built once per parameter set.
    ``X̄_k[ref]`` is the catalogue's value in ``productivite.annee_reference``."""
    return memo(par, ("inducteurs", "indice"), lambda: _indice_inducteurs(par))


def _indice_inducteurs(par: Parametres) -> xr.DataArray:
    ref = int(par["productivite.annee_reference"])
    par_org: dict[str, Any] = {o: xr.DataArray(1.0) for o in ORGANISMES}
    for nom in noms_inducteurs():
        x = parametre_annuel(par, f"{SECTION}.{nom}")
        choc = xr.DataArray(facteur_chocs(par, nom), coords={"year": list(par.horizon.annees)}, dims=("year",))
        e = parametre_scalaire(par, f"{ELASTICITES}.{nom}")
        o = organisme_inducteur(nom)
        par_org[o] = par_org[o] * (x * choc / niveau_reference(nom, ref)) ** e
    annees = xr.DataArray(np.ones(par.horizon.n_annees), coords={"year": list(par.horizon.annees)}, dims=("year",))
    d = xr.concat([par_org[o] * annees for o in ORGANISMES], dim=xr.DataArray(list(ORGANISMES), dims="organisme",
                                                                               name="organisme"))
    return d.transpose("year", "organisme", ...)


def charge_missions_datees(par: Parametres) -> xr.DataArray:
    """The workload of the dated ``nouvelles_missions`` (ETPMA_eq by year, ramped up linearly by month),
    dims ``(year, organisme)``."""
    out = np.zeros((par.horizon.n_annees, len(ORGANISMES)))
    for m in par["nouvelles_missions"]:
        out[:, ORGANISMES.index(m["organisme"])] += m["charge"] * part_des_mois(m["debut"], m["montee_en_charge_mois"],
                                                                                par.horizon)
    return xr.DataArray(out, coords={"year": list(par.horizon.annees), "organisme": list(ORGANISMES)}, dims=("year", "organisme"))


def charge_travail_propre(par: Parametres) -> xr.DataArray:
    """Workload of each organisme's own perimeter, before the ex-RSI transfer (ETPMA_eq).

    ``charge_travail_reference × D × R / R[annee_reference] + charge_nouvelles_missions + nouvelles_missions``
    with ``D`` the drivers' index (:func:`indice_inducteurs`) and ``R`` the compound index of
    ``croissance_charge_travail`` (growth per unit of driver). Dims ``(year, organisme[, replicate])``.
    """
    idx = indice_cumule(parametre_organisme(par, "croissance_charge_travail"))
    ref = par["productivite.annee_reference"]
    charge = parametre_organisme(par, "charge_travail_reference") * indice_inducteurs(par) * idx / idx.sel(year=ref)
    missions = parametre_organisme(par, "charge_nouvelles_missions") + charge_missions_datees(par)
    return (charge + missions).transpose("year", "organisme", ...)


def unites(par: Parametres, suffixe: str = "") -> str:
    """The per-organisme units of the COG indicators, as one attribute string
    (``"cnam: UO FSE; cnaf: allocataires pondérés; ..."``)."""
    return "; ".join(f"{o}: {par[f'organismes.{o}.unite_charge_travail']}{suffixe}" for o in ORGANISMES)


def charge_travail(par: Parametres, like: xr.DataArray | None = None) -> xr.Dataset:
    """Charge de travail per organisme and year, the ex-RSI workload moved with the transfer.

    Parameters
    ----------
    par : parameters (``organismes.*.charge_travail_reference``, ``croissance_charge_travail``,
        ``charge_nouvelles_missions``, ``productivite_reference``, ``unite_charge_travail``;
        ``transfert_rsi.*``; ``productivite.annee_reference``).
    like : optional DataArray with dims ``(year, organisme, replicate)`` to broadcast onto.

    Returns
    -------
    xr.Dataset
        ``charge_travail_etp`` (ETPMA_eq, additive across organismes) and ``charge_travail`` (the unit
        of each organisme's COG indicator, e.g. allocataires pondérés for the CNAF).
    """
    etp = transferer_rsi(charge_travail_propre(par), par)
    branche = etp * parametre_organisme(par, "productivite_reference")
    return xr.Dataset({
        "charge_travail_etp": decrire(conformer(etp, like), "charge_travail_etp", VARIABLES),
        "charge_travail": decrire(conformer(branche, like), "charge_travail", VARIABLES, units=unites(par)),
    })


# ----------------------------------------------------------------------------- productivity
def cible(base: xr.DataArray, annee_base: xr.DataArray, taux: xr.DataArray) -> xr.DataArray:
    """A target path: ``base`` in ``annee_base``, then compounded by ``taux``; NaN before the base year
    and where ``base`` is 0 (no target).

    Parameters
    ----------
    base : level in the base year (indicator units), dim ``organisme`` (may carry more dims).
    annee_base : base year, dim ``organisme``.
    taux : annual target rates (an-1), dims ``(year, organisme)``; the rate of year y applies from y-1.
    """
    idx = indice_cumule(taux)
    chemin = base * idx / valeur_en(idx, annee_base)
    return chemin.where((chemin["year"] >= annee_base) & (base != 0))


def cible_productivite(par: Parametres, like: xr.DataArray | None = None) -> xr.DataArray:
    """COG productivity targets of section 5.4 (indicator units), NaN where there is none.

    CNAM FSE +3 %/yr from the 2017 level; CNAV +5/-3/+3/+4/+8 % from 2017; CNAF up to 406.6 in 2022
    from the 2018 level; ACOSS rising (at least the 2018 level); MSA, ex-RSI none. Values in the
    catalogue (``organismes.*.cible_productivite_*``).
    """
    c = cible(parametre_organisme(par, "cible_productivite_base"),
              parametre_organisme(par, "cible_productivite_annee_base"),
              parametre_organisme(par, "cible_productivite_taux"))
    return decrire(conformer(c.transpose("year", "organisme", ...), like), "cible_productivite", VARIABLES,
                   units=unites(par, "/ETPMA"))


def _seulement_cnam(x: xr.DataArray) -> xr.DataArray:
    return x.where(x["organisme"] == CNAM)


def productivite_ij(productivite_fse: xr.DataArray, par: Parametres) -> xr.Dataset:
    """The CNAM's indemnités journalières indicator and its target (NaN for other organismes).

    ``productivite_ij = productivite_fse × reference_ij / productivite_reference[cnam] × R / R[ref]``
    with ``R`` the compound index of ``productivite.croissance_relative_charge_ij``.
    """
    ref_year = par["productivite.annee_reference"]
    rel = indice_cumule(parametre_annuel(par, "productivite.croissance_relative_charge_ij"))
    rel = sur(rel / rel.sel(year=ref_year), productivite_fse)
    ratio = (parametre_scalaire(par, "productivite.reference_ij")
             / parametre_scalaire(par, f"organismes.{CNAM}.productivite_reference"))
    ij = _seulement_cnam(productivite_fse * ratio * rel)
    taux = parametre_annuel(par, "productivite.cible_ij_taux").expand_dims(organisme=list(ORGANISMES), axis=1)
    c = cible(xr.DataArray(parametre_scalaire(par, "productivite.cible_ij_base")),
              xr.DataArray(par["productivite.cible_ij_annee_base"]), taux)
    c = _seulement_cnam(conformer(c.transpose("year", "organisme", ...), productivite_fse))
    return xr.Dataset({
        "productivite_ij": decrire(ij.transpose(*productivite_fse.dims), "productivite_ij", VARIABLES),
        "cible_productivite_ij": decrire(c, "cible_productivite_ij", VARIABLES),
    })


def productivite(etpma: xr.DataArray, par: Parametres, charge: xr.DataArray | None = None) -> xr.Dataset:
    """Productivity indicators (charge de travail / ETPMA) and their COG targets.

    Parameters
    ----------
    etpma : ETPMA, dims ``(year, organisme, replicate)``.
    par : parameters.
    charge : ``charge_travail`` in indicator units (default: :func:`charge_travail` of ``par``).

    Returns
    -------
    xr.Dataset
        ``productivite`` and ``cible_productivite`` (indicator units per ETPMA, NaN where an organisme
        has no staff or no target), ``productivite_ij`` and ``cible_productivite_ij`` (CNAM only).
    """
    if charge is None:
        charge = charge_travail(par, like=etpma)["charge_travail"]
    prod = (charge / etpma).where(etpma > 0).transpose(*etpma.dims)
    prod = decrire(prod, "productivite", VARIABLES, units=unites(par, "/ETPMA"))
    ds = xr.Dataset({"productivite": prod, "cible_productivite": cible_productivite(par, like=etpma)})
    return ds.merge(productivite_ij(prod, par))


def cout_unitaire(cout: xr.DataArray, charge: xr.DataArray, par: Parametres) -> xr.DataArray:
    """Coût unitaire de gestion: cost per unit of workload, for the organismes whose COG has one.

    Parameters
    ----------
    cout : management cost in MEUR/an (e.g. ``depenses_limitatives``), dims ``(year, organisme,
        replicate)``.
    charge : ``charge_travail`` in indicator units, same dims (broadcast).
    par : parameters (``organismes.*.cout_unitaire_cog`` selects CNAV €/UO, ACOSS €/compte actif
        pondéré, CNAF €/allocataire pondéré).

    Returns
    -------
    xr.DataArray
        EUR per unit of ``charge_travail``; NaN where the organisme has no unit-cost indicator or no
        workload.
    """
    publie = sur(parametre_organisme(par, "cout_unitaire_cog").astype(bool), cout)
    cu = (cout * 1e6 / charge).where(publie & (charge > 0)).transpose(*cout.dims)
    return decrire(cu, "cout_unitaire", VARIABLES, units="EUR per unit of charge_travail (" + unites(par) + ")")


def indicateurs(etpma: xr.DataArray, par: Parametres, cout: xr.DataArray | None = None) -> xr.Dataset:
    """Workload, productivity, targets and (when ``cout`` in MEUR/an is given) unit costs, in one
    Dataset with dims ``(year, organisme, replicate)``."""
    ch = charge_travail(par, like=etpma)
    ds = ch.merge(productivite(etpma, par, ch["charge_travail"]))
    if cout is not None:
        ds["cout_unitaire"] = cout_unitaire(cout, ch["charge_travail"], par)
    return ds
