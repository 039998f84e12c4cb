"""Autres dépenses de fonctionnement (ADF) by component, IT budget, investment, dépenses limitatives
and the LPFP check (PLFSS 2020 annexe 2, sections 1.3.2, 3.3, 5.1 and 5.3).

Pure vectorised functions of the yearly state (no SimPy): inputs are ``xarray`` DataArrays with dims
``(year, organisme, replicate)`` and a :class:`~model.params.scenario.Parametres`; outputs have the same dims,
money in MEUR/an, and every variable carries ``units``, ``long_name``, ``long_name_fr`` and
``aggregation``.

The components
--------------
* ``adf_immobilier`` = ETPMA × surface par ETPMA × (1 − part de télétravailleurs × surface libérée par
  télétravailleur) × coût immobilier par m² (indexed): a per-agent part times the real-estate
  density, télétravail being the lever on density;
* ``adf_achats`` = ETPMA × achats par ETPMA (indexed by ``adf.evolution_prix_achats``);
* ``adf_editique`` (éditique et affranchissement) = 2013 level × own-workload volume index ×
  dematerialisation index (``evolution_editique``);
* ``adf_informatique_fonctionnement`` = (2013 level excl. user environment + ETPMA × environnement
  utilisateur par ETPMA) × IT price index;
* ``adf_autres`` = 2013 level × exogenous trend (+ the mutualisation transition costs when given).

The budgets of the ex-RSI that do not follow its staff (éditique, autres, the fixed IT part) move to
cnam/cnav/acoss with the transfer, like its workload (:func:`model.budget.productivite.transferer_rsi`); the
per-agent parts follow the staff the engine transfers.

``informatique`` is the IT budget as the COGs count it (section 1.3.2: running costs and IT investment,
excluding internal staff); ``investissement`` (IT and other investment) is outside the dépenses
limitatives. ``depenses_limitatives`` = dépenses de personnel + ADF + other limitative spending, the ADF
including the IT running costs (section 5.3: IT ≈ 1/4 of ADF); the other limitative spending, the dépenses
de gestion (investment included), the personnel share and the unit-cost numerator are in
:mod:`model.budget.gestion`. The LPFP 2018-2022 asks the management expenditure to fall by at
least 1.5 %/yr on average at constant perimeter: :func:`controle_lpfp` compares the dépenses
limitatives with the envelope ``DL[annee_base] × (1 + taux)^(y − annee_base)``, the ex-RSI's envelope
moving with the transfer so that receivers are judged at constant perimeter.

Examples
--------
>>> from model.params.scenario import default_parametres
>>> from model.results.run import run_scenario
>>> par = default_parametres()
>>> ds = run_scenario("scenarios/cog_2018_2022.toml", write=False).dataset   # doctest: +SKIP
>>> b = budget(ds["etpma"], par, cout_transition_mutualisation=ds["cout_transition_mutualisation"])  # doctest: +SKIP
>>> b["adf"].sel(organisme=["cnam", "cnaf", "cnav", "acoss"]).sum("organisme").mean("replicate")  # doctest: +SKIP
"""

from __future__ import annotations

import xarray as xr

from model.budget import gestion as _gestion
from model.budget.productivite import (charge_travail_propre, conformer, decrire, indice_cumule, parametre_annuel,
                                       parametre_organisme, parametre_scalaire, transferer_rsi, valeur_en)
from model.params.parametres import Parametres

EUR_PAR_MEUR = 1e6
PREMIERE_ANNEE_LPFP = 2018

# name: (units, long_name, long_name_fr, aggregation)
VARIABLES: dict[str, tuple[str, str, str, str]] = {
    "adf_immobilier": ("MEUR/an", "Other operating expenditure: real estate",
                       "ADF : immobilier", "sum"),
    "adf_editique": ("MEUR/an", "Other operating expenditure: printing and postage",
                     "ADF : éditique et affranchissement", "sum"),
    "adf_achats": ("MEUR/an", "Other operating expenditure: per-agent purchases",
                   "ADF : achats", "sum"),
    "adf_informatique_fonctionnement": ("MEUR/an", "Other operating expenditure: IT running costs",
                                        "ADF : informatique de fonctionnement", "sum"),
    "adf_autres": ("MEUR/an", "Other operating expenditure: other items (incl. mutualisation transition costs)",
                   "ADF : autres postes (y compris coûts de transition des mutualisations)", "sum"),
    "adf": ("MEUR/an", "Other operating expenditure (ADF), IT running costs included",
            "Autres dépenses de fonctionnement (ADF), informatique de fonctionnement comprise", "sum"),
    "adf_hors_informatique": ("MEUR/an", "Other operating expenditure excluding IT running costs",
                              "ADF hors informatique", "sum"),
    "investissement_informatique": ("MEUR/an", "IT investment", "Investissement informatique", "sum"),
    "informatique": ("MEUR/an", "IT budget as the COGs count it: IT running costs + IT investment, "
                     "excl. internal staff", "Budget informatique au sens des COG : fonctionnement + "
                     "investissement informatiques, hors charges internes", "sum"),
    "investissement": ("MEUR/an", "Investment (IT and other), outside the dépenses limitatives",
                       "Investissement (informatique et autre), hors dépenses limitatives", "sum"),
    "depenses_limitatives": ("MEUR/an", "Capped management budget: personnel + ADF (IT running costs "
                             "included) + other limitative spending, investment excluded", "Dépenses limitatives : "
                             "personnel + ADF (informatique de fonctionnement comprise) + autres dépenses "
                             "limitatives, hors investissement", "sum"),
    "enveloppe_lpfp": ("MEUR/an", "LPFP envelope: dépenses limitatives of the base year falling at the "
                       "LPFP minimum rate, at constant perimeter (ex-RSI envelope moved with the transfer)",
                       "Enveloppe LPFP : dépenses limitatives de l'année de base diminuant au rythme "
                       "minimal de la LPFP, à périmètre constant", "sum"),
    "ecart_lpfp": ("MEUR/an", "Dépenses limitatives minus the LPFP envelope (positive = above the envelope, "
                   "the LPFP floor on savings is missed)", "Dépenses limitatives moins l'enveloppe LPFP "
                   "(positif = au-dessus, l'effort minimal de la LPFP n'est pas atteint)", "sum"),
    "respect_lpfp": ("1", "LPFP check: 1 = average yearly change since the base year at or below the LPFP "
                     "rate, 0 = not, NaN = outside the LPFP period", "Respect de la LPFP : 1 = évolution "
                     "annuelle moyenne depuis l'année de base inférieure ou égale au taux LPFP, 0 = non, "
                     "NaN = hors période", "respect:ecart_lpfp"),
}
COMPOSANTES = ("adf_immobilier", "adf_editique", "adf_achats", "adf_informatique_fonctionnement", "adf_autres")


def _d(da: xr.DataArray, name: str, like: xr.DataArray, **extra: str) -> xr.DataArray:
    return decrire(conformer(da, like), name, VARIABLES, **extra)


# ----------------------------------------------------------------------------- components
def adf_immobilier(etpma: xr.DataArray, par: Parametres) -> xr.DataArray:
    """Real-estate costs: a per-agent part times the real-estate density.

    ``etpma × surface_par_etpma × (1 − part_teletravail × adf.economie_surface_teletravail) ×
    adf.cout_immobilier_m2 × I(adf.evolution_cout_immobilier)``.

    Parameters
    ----------
    etpma : ETPMA, dims ``(year, organisme, replicate)``.
    par : parameters.

    Returns
    -------
    xr.DataArray
        MEUR/an.
    """
    densite = parametre_organisme(par, "surface_par_etpma") * (
        1.0 - parametre_organisme(par, "part_teletravail") * parametre_scalaire(par, "adf.economie_surface_teletravail"))
    prix_m2 = parametre_scalaire(par, "adf.cout_immobilier_m2") * indice_cumule(parametre_annuel(par, "adf.evolution_cout_immobilier"))
    return _d(etpma * conformer(densite * prix_m2, etpma) / EUR_PAR_MEUR, "adf_immobilier", etpma)


def adf_achats(etpma: xr.DataArray, par: Parametres) -> xr.DataArray:
    """Per-agent purchases: ``etpma × achats_par_etpma × I(adf.evolution_prix_achats)``, MEUR/an."""
    par_etpma = parametre_organisme(par, "achats_par_etpma") * indice_cumule(
        parametre_annuel(par, "adf.evolution_prix_achats"))
    return _d(etpma * conformer(par_etpma, etpma) / EUR_PAR_MEUR, "adf_achats", etpma)


def adf_editique(etpma: xr.DataArray, par: Parametres) -> xr.DataArray:
    """Printing and postage: ``adf_editique_2013 × (own workload / own workload 2013) ×
    I(evolution_editique)`` (the dematerialisation trend), the ex-RSI's part moved with the transfer.

    ``etpma`` only gives the coordinates; returns MEUR/an.
    """
    volume = charge_travail_propre(par)
    volume = volume / volume.isel(year=0)
    demat = indice_cumule(parametre_organisme(par, "evolution_editique"))
    propre = parametre_organisme(par, "adf_editique_2013") * volume * demat
    return _d(transferer_rsi(propre.transpose("year", "organisme", ...), par), "adf_editique", etpma)


def adf_informatique_fonctionnement(etpma: xr.DataArray, par: Parametres) -> xr.DataArray:
    """IT running costs: ``(informatique_fonctionnement_2013 [moved with the ex-RSI transfer] + etpma ×
    adf.environnement_utilisateur_par_etpma / 1e6) × I(evolution_informatique_fonctionnement)``,
    MEUR/an (the user environment is the per-agent part)."""
    idx = indice_cumule(parametre_organisme(par, "evolution_informatique_fonctionnement"))
    fixe = transferer_rsi((parametre_organisme(par, "informatique_fonctionnement_2013") * idx)
                          .transpose("year", "organisme", ...), par)
    env = etpma * parametre_scalaire(par, "adf.environnement_utilisateur_par_etpma") / EUR_PAR_MEUR * conformer(idx, etpma)
    return _d(conformer(fixe, etpma) + env, "adf_informatique_fonctionnement", etpma)


def adf_autres(etpma: xr.DataArray, par: Parametres,
               cout_transition_mutualisation: xr.DataArray | None = None) -> xr.DataArray:
    """Other items: ``adf_autres_2013 × I(evolution_adf_autres)`` (moved with the ex-RSI transfer),
    plus ``cout_transition_mutualisation`` (MEUR/an) when given. ``etpma`` gives the coordinates."""
    propre = parametre_organisme(par, "adf_autres_2013") * indice_cumule(
        parametre_organisme(par, "evolution_adf_autres"))
    autres = conformer(transferer_rsi(propre.transpose("year", "organisme", ...), par), etpma)
    if cout_transition_mutualisation is not None:
        autres = autres + conformer(cout_transition_mutualisation, etpma).fillna(0.0)
    return _d(autres, "adf_autres", etpma)


def adf(etpma: xr.DataArray, par: Parametres, *,
        cout_transition_mutualisation: xr.DataArray | None = None) -> xr.Dataset:
    """ADF by component, their total and the total excluding IT.

    Parameters
    ----------
    etpma : ETPMA, dims ``(year, organisme, replicate)``.
    par : parameters (``adf.*`` and the organisme parameters of ``catalogue_budget.toml``).
    cout_transition_mutualisation : optional MEUR/an (the engine's variable), added to ``adf_autres``.

    Returns
    -------
    xr.Dataset
        ``adf_immobilier``, ``adf_editique``, ``adf_achats``, ``adf_informatique_fonctionnement``,
        ``adf_autres``, ``adf`` (their sum) and ``adf_hors_informatique``, all MEUR/an.
    """
    ds = xr.Dataset({
        "adf_immobilier": adf_immobilier(etpma, par),
        "adf_editique": adf_editique(etpma, par),
        "adf_achats": adf_achats(etpma, par),
        "adf_informatique_fonctionnement": adf_informatique_fonctionnement(etpma, par),
        "adf_autres": adf_autres(etpma, par, cout_transition_mutualisation),
    })
    total = sum(ds[k] for k in COMPOSANTES)
    ds["adf"] = _d(total, "adf", etpma)
    ds["adf_hors_informatique"] = _d(total - ds["adf_informatique_fonctionnement"], "adf_hors_informatique", etpma)
    return ds


# ----------------------------------------------------------------------------- IT and investment
def informatique(etpma: xr.DataArray, par: Parametres,
                 adf_informatique: xr.DataArray | None = None) -> xr.Dataset:
    """IT budget (COG sense) and investment.

    Parameters
    ----------
    etpma : ETPMA, dims ``(year, organisme, replicate)``.
    par : parameters (``organismes.*.investissement_informatique``, ``investissement_autre``).
    adf_informatique : ``adf_informatique_fonctionnement`` (MEUR/an) if already computed.

    Returns
    -------
    xr.Dataset
        ``investissement_informatique``, ``informatique`` (running + IT investment) and
        ``investissement`` (IT + other investment), MEUR/an.
    """
    if adf_informatique is None:
        adf_informatique = adf_informatique_fonctionnement(etpma, par)
    inv_it = conformer(parametre_organisme(par, "investissement_informatique"), etpma)
    inv_autre = conformer(parametre_organisme(par, "investissement_autre"), etpma)
    return xr.Dataset({
        "investissement_informatique": _d(inv_it, "investissement_informatique", etpma),
        "informatique": _d(adf_informatique + inv_it, "informatique", etpma),
        "investissement": _d(inv_it + inv_autre, "investissement", etpma),
    })


def cumul(x: xr.DataArray, debut: int, fin: int) -> xr.DataArray:
    """Sum of a MEUR/an variable over the years ``debut``..``fin`` inclusive (MEUR), e.g. a COG IT
    budget (``it_budget_prev_cog``: > 2 600 MEUR over 2014-2017 for the régime général)."""
    out = x.sel(year=slice(debut, fin)).sum("year")
    out.attrs = {**x.attrs, "units": "MEUR", "long_name": f"{x.attrs.get('long_name', x.name)}, "
                 f"total {debut}-{fin}", "long_name_fr": f"{x.attrs.get('long_name_fr', x.name)}, "
                 f"cumul {debut}-{fin}"}
    return out


# ----------------------------------------------------------------------------- dépenses limitatives, LPFP
def depenses_limitatives(depenses_personnel: xr.DataArray, adf_total: xr.DataArray,
                         autres: xr.DataArray | float = 0.0) -> xr.DataArray:
    """Dépenses limitatives = dépenses de personnel + ADF (IT running costs included) + other limitative
    spending (investment excluded).

    Parameters
    ----------
    depenses_personnel : MEUR/an, dims ``(year, organisme, replicate)``.
    adf_total : the ``adf`` variable of :func:`adf`, MEUR/an.
    autres : ``autres_depenses_limitatives`` (:func:`model.budget.gestion.autres_depenses_limitatives`), MEUR/an.

    Returns
    -------
    xr.DataArray
        MEUR/an.
    """
    return _d(depenses_personnel + adf_total + autres, "depenses_limitatives", adf_total)


def controle_lpfp(depenses_limitatives: xr.DataArray, par: Parametres) -> xr.Dataset:
    """The LPFP 2018-2022 check: at least ``lpfp.taux_evolution_max`` a year on average since
    ``lpfp.annee_base``, at constant perimeter.

    An average rate since the base year at or below ``t`` is the same as ``DL[y] ≤ DL[base] × (1 +
    t)^(y − base)``: the right-hand side is the envelope. The ex-RSI's envelope moves to the receivers
    with the transfer (constant perimeter); other new missions are not neutralised.

    Parameters
    ----------
    depenses_limitatives : MEUR/an, dims ``(year, organisme, replicate)``.
    par : parameters (``lpfp.annee_base``, ``lpfp.taux_evolution_max``, ``transfert_rsi.*``).

    Returns
    -------
    xr.Dataset
        ``enveloppe_lpfp`` (MEUR/an), ``ecart_lpfp`` = DL − envelope (MEUR/an; positive = above the
        envelope, the LPFP floor on savings missed) and ``respect_lpfp`` (1/0; NaN before 2018, and
        where the envelope is undefined or zero, e.g. the ex-RSI after the transfer).
    """
    base = par["lpfp.annee_base"]
    dl = depenses_limitatives
    annees = dl["year"] - base
    propre = valeur_en(dl, base) * (1.0 + parametre_scalaire(par, "lpfp.taux_evolution_max")) ** annees
    enveloppe = transferer_rsi(propre.transpose(*dl.dims), par)
    dans_periode = (dl["year"] >= max(PREMIERE_ANNEE_LPFP, base + 1))
    enveloppe = enveloppe.where(dans_periode)
    ecart = dl - enveloppe
    respect = xr.where(ecart <= 1e-9, 1.0, 0.0).where(ecart.notnull() & (enveloppe > 0))
    convention = "ecart = depenses_limitatives - enveloppe_lpfp; positive = overshoot (LPFP missed)"
    return xr.Dataset({
        "enveloppe_lpfp": _d(enveloppe, "enveloppe_lpfp", dl),
        "ecart_lpfp": _d(ecart, "ecart_lpfp", dl, sign_convention=convention),
        "respect_lpfp": _d(respect, "respect_lpfp", dl, sign_convention="1 = respected",
                           note="régime général / total: 1 when the sum of ecart_lpfp <= 0"),
    })


def budget(etpma: xr.DataArray, par: Parametres, *, depenses_personnel: xr.DataArray | None = None,
           cout_transition_mutualisation: xr.DataArray | None = None,
           impots_sur_remunerations: xr.DataArray | float = 0.0) -> xr.Dataset:
    """Everything of this module in one Dataset: ADF by component, IT, investment, other limitative
    spending and, when ``depenses_personnel`` (MEUR/an) is given, dépenses limitatives, the LPFP check,
    dépenses de gestion, the personnel share and the unit-cost numerator (:mod:`model.budget.gestion`;
    ``impots_sur_remunerations``, MEUR/an, the taxes on pay the personnel share leaves out)."""
    ds = adf(etpma, par, cout_transition_mutualisation=cout_transition_mutualisation)
    ds = ds.merge(informatique(etpma, par, ds["adf_informatique_fonctionnement"]))
    ds["autres_depenses_limitatives"] = _gestion.autres_depenses_limitatives(etpma, par)
    if depenses_personnel is not None:
        ds["depenses_limitatives"] = depenses_limitatives(depenses_personnel, ds["adf"],
                                                          ds["autres_depenses_limitatives"])
        ds = ds.merge(controle_lpfp(ds["depenses_limitatives"], par))
        ds = ds.merge(_gestion.gestion(ds["depenses_limitatives"], depenses_personnel, ds["investissement"], par,
                                       impots_sur_remunerations))
    return ds
