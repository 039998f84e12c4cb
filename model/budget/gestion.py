"""The management budget as the COGs and the CCSS count it: other limitative spending, dépenses de
gestion, the personnel share and the numerator of the COG unit costs (PLFSS 2020 annexe 2, sections 5.1
and 5.4; CCSS fiche 2.8).

Blocks, MEUR/an, dims ``(year, organisme, replicate)``:

* ``depenses_personnel`` (the pay layer, :mod:`model.budget.masse_salariale`): the wage bill and each employer
  charge and tax by name;
* ``adf`` (:mod:`model.budget.adf`): ADF by component, the IT running costs included;
* ``autres_depenses_limitatives`` (this module): the other limitative spending of the COG budgets
  (contributions to the national and inter-branch bodies, taxes other than on pay, legal and banking
  fees, ...) = ``autres_depenses_limitatives_2013 × I(evolution_autres_depenses_limitatives)``, the
  ex-RSI's part moved with the transfer;
* ``depenses_limitatives`` = personnel + ADF + other limitative spending (investment excluded);
* ``depenses_gestion`` = dépenses limitatives + investment (the COG budgets' total, as the Sénat and the
  PLFSS annex quote it with investment);
* ``charges_personnel`` = depenses_personnel − the taxes on pay (taxe sur les salaires, versement mobilité):
  the personnel costs as the organismes' accounts book them (account 64, charges de personnel; the taxes
  on pay are account 63, impôts et taxes sur rémunérations);
* ``part_personnel`` = charges_personnel / depenses_limitatives: the personnel share the Sénat (68 % in
  2016, dl_all_2016) and the PLFSS annex ("presque 2/3" in 2018, personnel_share_2018) publish. Counting the
  taxes on pay as personnel, the share would be ≈ 5 points higher: the published shares and levels cannot
  both hold then with the statutory charges (calibration/README.md, reconciliation);
* ``cout_gestion_cog``: the numerator of the organisme's COG unit-cost indicator, dépenses limitatives,
  plus investment where the COG counts a "coût global" (``organismes.*.cout_unitaire_avec_investissement``);
  the unit cost itself is ``cout_gestion_cog / charge_travail`` (:func:`model.budget.productivite.cout_unitaire`).
"""

from __future__ import annotations

import xarray as xr

from model.budget.productivite import (conformer, decrire, indice_cumule, parametre_organisme, sur,
                                       transferer_rsi)
from model.params.parametres import Parametres

# name: (units, long_name, long_name_fr, aggregation)
VARIABLES: dict[str, tuple[str, str, str, str]] = {
    "autres_depenses_limitatives": (
        "MEUR/an", "Other limitative spending of the COG budgets (contributions to national and inter-branch "
        "bodies, other taxes, fees, ...)", "Autres dépenses limitatives des budgets COG (contributions aux "
        "organismes nationaux et interbranches, autres impôts, frais, ...)", "sum"),
    "depenses_gestion": (
        "MEUR/an", "Management expenditure: dépenses limitatives + investment",
        "Dépenses de gestion : dépenses limitatives + investissement", "sum"),
    "charges_personnel": (
        "MEUR/an", "Personnel costs as the accounts book them: personnel expenses less the taxes on pay "
        "(taxe sur les salaires, versement mobilité)", "Charges de personnel au sens des comptes : dépenses de "
        "personnel hors impôts sur les rémunérations (taxe sur les salaires, versement mobilité)", "sum"),
    "part_personnel": (
        "1", "Personnel share of the dépenses limitatives: charges_personnel / depenses_limitatives",
        "Part du personnel dans les dépenses limitatives : charges de personnel / dépenses limitatives",
        "ratio:charges_personnel/depenses_limitatives"),
    "cout_gestion_cog": (
        "MEUR/an", "Numerator of the COG unit cost: dépenses limitatives, plus investment where the COG counts "
        "a global cost (CNAV)", "Numérateur du coût unitaire COG : dépenses limitatives, plus l'investissement "
        "quand la COG compte un coût global (CNAV)", "sum"),
}


def autres_depenses_limitatives(like: xr.DataArray, par: Parametres) -> xr.DataArray:
    """Other limitative spending, MEUR/an: ``autres_depenses_limitatives_2013 ×
    I(evolution_autres_depenses_limitatives)``, the ex-RSI's part moved to cnam/cnav/acoss with the transfer
    (:func:`model.budget.productivite.transferer_rsi`). ``like`` gives the coordinates (ETPMA)."""
    propre = parametre_organisme(par, "autres_depenses_limitatives_2013") * indice_cumule(
        parametre_organisme(par, "evolution_autres_depenses_limitatives"))
    autres = transferer_rsi(propre.transpose("year", "organisme", ...), par)
    return decrire(conformer(autres, like), "autres_depenses_limitatives", VARIABLES)


def gestion(depenses_limitatives: xr.DataArray, depenses_personnel: xr.DataArray, investissement: xr.DataArray,
            par: Parametres, impots_sur_remunerations: xr.DataArray | float = 0.0) -> xr.Dataset:
    """Dépenses de gestion, the personnel share and the unit-cost numerator.

    Parameters
    ----------
    depenses_limitatives, depenses_personnel, investissement : MEUR/an, dims ``(year, organisme, replicate)``.
    par : parameters (``organismes.*.cout_unitaire_avec_investissement``).
    impots_sur_remunerations : taxe sur les salaires + versement mobilité, MEUR/an (same dims).

    Returns
    -------
    xr.Dataset
        ``depenses_gestion`` (MEUR/an), ``charges_personnel`` (MEUR/an), ``part_personnel`` (1),
        ``cout_gestion_cog`` (MEUR/an).
    """
    dg = depenses_limitatives + investissement
    charges_personnel = depenses_personnel - impots_sur_remunerations
    avec_inv = sur(parametre_organisme(par, "cout_unitaire_avec_investissement").astype(float), dg)
    return xr.Dataset({
        "depenses_gestion": decrire(conformer(dg, depenses_limitatives), "depenses_gestion", VARIABLES),
        "charges_personnel": decrire(conformer(charges_personnel, depenses_limitatives), "charges_personnel",
                                     VARIABLES),
        "part_personnel": decrire(conformer((charges_personnel / depenses_limitatives).where(depenses_limitatives > 0),
                                            depenses_limitatives), "part_personnel", VARIABLES),
        "cout_gestion_cog": decrire(conformer(depenses_limitatives + avec_inv * investissement, depenses_limitatives),
                                    "cout_gestion_cog", VARIABLES),
    })
