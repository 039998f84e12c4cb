"""Perimeters: the COG perimeter of each organisme and the bodies outside any COG, summed into the
perimeters on which the published staff totals are counted.

What a figure covers (``../shared/data/README.md``, "Perimeters differ between sources"):

* the **COG perimeter** of an organisme is what its ceilings and targets apply to: the engine's staff
  (``etpma``, ``effectif_31dec``, ``effectif_moyen``), on which every COG target is checked
  (:mod:`model.results.cibles`). The CARSAT staff, who work for several branches, are counted once, in the
  branch they work for (the maladie/AT-MP part, 6 152 ETP in 2018, int_etp_2018_carsat_maladie, in the
  CNAM's perimeter; the retraite part in the CNAV's), as the branches' intéressement counts do;
* the **bodies outside any COG** belong to a branch without being covered by its COG: the UGECAM (health
  and medico-social establishments of the maladie branch, 12 532 ETP in 2018, int_etp_2018_ugecam, financed
  by the ONDAM, not by the management budget), and the national and inter-branch bodies (UCANSS, EN3S, ...)
  that the four branches finance through their other limitative spending
  (:mod:`model.budget.gestion`), attached to cnam/cnaf/cnav/acoss in proportion to their ETPMA. Each has a
  simple dynamics: ``ETP(y) = ETP(annee_reference) × I(evolution)``, headcount = ETP × persons per ETP, and
  a personnel cost at the pay and charge rates of the organisme it is attached to;
* the **published perimeter** of an organisme = COG perimeter + its bodies outside the COG. Its
  ``regime_general`` and ``total`` rows (the Dataset's aggregates) are the régime général headcount
  and the three régimes' staff that the Cour des comptes, the UCANSS and the CIASSP publish.

Variables, dims ``(year, organisme, replicate)`` (see :data:`VARIABLES`): ``etp_hors_cog``,
``effectif_hors_cog``, ``depenses_personnel_hors_cog`` (outside the dépenses limitatives), and the
published-perimeter staff ``etpma_publie``, ``effectif_31dec_publie``, ``effectif_moyen_publie``.
"""

from __future__ import annotations

import xarray as xr

from model.budget.productivite import (conformer, decrire, indice_cumule, parametre_annuel, parametre_organisme,
                                       parametre_scalaire, valeur_en)
from model.params.parametres import Parametres

REGIME_GENERAL = ("cnam", "cnaf", "cnav", "acoss")

# name: (units, long_name, long_name_fr, aggregation)
VARIABLES: dict[str, tuple[str, str, str, str]] = {
    "etp_hors_cog": (
        "ETP", "Staff of the branch's bodies outside its COG (UGECAM; share of UCANSS and national "
        "inter-branch bodies)", "Effectifs des organismes de la branche hors COG (UGECAM ; quote-part de "
        "l'UCANSS et des organismes nationaux interbranches)", "sum"),
    "effectif_hors_cog": (
        "personnes", "Headcount of the branch's bodies outside its COG",
        "Effectif des organismes de la branche hors COG", "sum"),
    "depenses_personnel_hors_cog": (
        "MEUR/an", "Personnel expenses of the bodies outside the COG (not in the dépenses limitatives)",
        "Dépenses de personnel des organismes hors COG (hors dépenses limitatives)", "sum"),
    "etpma_publie": (
        "ETPMA", "Staff on the published perimeter: ETPMA of the COG perimeter + bodies outside the COG",
        "Effectifs au périmètre publié : ETPMA du périmètre COG + organismes hors COG", "sum"),
    "effectif_31dec_publie": (
        "personnes", "Headcount at 31 December on the published perimeter (COG perimeter + bodies outside "
        "the COG)", "Effectif au 31 décembre au périmètre publié (périmètre COG + organismes hors COG)", "sum"),
    "effectif_moyen_publie": (
        "personnes", "Annual mean headcount on the published perimeter (COG perimeter + bodies outside the "
        "COG; the CIASSP's effectif moyen annuel)", "Effectif moyen annuel au périmètre publié (périmètre COG "
        "+ organismes hors COG ; l'effectif moyen annuel du CIASSP)", "sum"),
}


def etp_hors_cog(etpma: xr.DataArray, par: Parametres) -> xr.DataArray:
    """ETP of the bodies outside the COG attached to each organisme.

    ``etp_hors_cog_reference[o] × I_o(y) / I_o(ref)`` (own bodies: the UGECAM for the cnam) +
    ``perimetre.etp_organismes_nationaux × J(y) / J(ref) × etpma[o] / Σ_RG etpma`` for the four branches of
    the régime général (the national and inter-branch bodies they finance), with ``I``, ``J`` the compound
    indices of ``organismes.*.evolution_etp_hors_cog`` and ``perimetre.evolution_etp_organismes_nationaux``
    and ``ref`` = ``perimetre.annee_reference``.

    Parameters
    ----------
    etpma : COG-perimeter ETPMA, dims ``(year, organisme, replicate)``.
    par : parameters.

    Returns
    -------
    xr.DataArray
        ETP, same dims.
    """
    ref = par["perimetre.annee_reference"]
    idx = indice_cumule(parametre_organisme(par, "evolution_etp_hors_cog"))
    propres = parametre_organisme(par, "etp_hors_cog_reference") * idx / valeur_en(idx, ref)
    jdx = indice_cumule(parametre_annuel(par, "perimetre.evolution_etp_organismes_nationaux"))
    nationaux = parametre_scalaire(par, "perimetre.etp_organismes_nationaux") * jdx / valeur_en(jdx, ref)
    est_rg = xr.DataArray([o in REGIME_GENERAL for o in etpma["organisme"].values],
                          coords={"organisme": etpma["organisme"]}, dims=("organisme",))
    rg = etpma.where(est_rg, 0.0)
    part = (rg / rg.sum("organisme")).fillna(0.0)
    out = conformer(propres.transpose("year", "organisme", ...), etpma) + conformer(nationaux, etpma) * part
    return decrire(out.transpose(*etpma.dims), "etp_hors_cog", VARIABLES)


def perimetres(etpma: xr.DataArray, effectif_31dec: xr.DataArray, effectif_moyen: xr.DataArray,
               depenses_personnel: xr.DataArray, par: Parametres) -> xr.Dataset:
    """The bodies outside the COG and the published-perimeter staff.

    Parameters
    ----------
    etpma, effectif_31dec, effectif_moyen : the COG perimeter's staff (ETPMA, persons), dims ``(year,
        organisme, replicate)``.
    depenses_personnel : the COG perimeter's MEUR/an, same dims: the bodies outside the COG are paid as the
        organisme's staff (personnel expenses per ETPMA: the same mean wage and charges).
    par : parameters (``organismes.*.etp_hors_cog_reference``, ``evolution_etp_hors_cog``, ``perimetre.*``).

    Returns
    -------
    xr.Dataset
        The variables of :data:`VARIABLES`.
    """
    etp = etp_hors_cog(etpma, par)
    personnes = etp * parametre_scalaire(par, "perimetre.personnes_par_etp_hors_cog")
    cout_par_etp = (depenses_personnel / etpma).where(etpma > 0, 0.0)  # MEUR per ETPMA, charges included
    return xr.Dataset({
        "etp_hors_cog": etp,
        "effectif_hors_cog": decrire(personnes, "effectif_hors_cog", VARIABLES),
        "depenses_personnel_hors_cog": decrire(etp * cout_par_etp, "depenses_personnel_hors_cog", VARIABLES),
        "etpma_publie": decrire(etpma + etp, "etpma_publie", VARIABLES),
        "effectif_31dec_publie": decrire(effectif_31dec + personnes, "effectif_31dec_publie", VARIABLES),
        "effectif_moyen_publie": decrire(effectif_moyen + personnes, "effectif_moyen_publie", VARIABLES),
    })
