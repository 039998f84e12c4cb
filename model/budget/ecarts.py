"""Gaps to the COG targets per organisme × year: ETPMA vs plafond d'emplois, ADF vs target, productivity
vs target.

One sign convention for every gap: **gap = simulated − target**, so a positive gap means the simulated
value is above its target. For ``ecart_plafond`` and ``ecart_adf`` that is an overshoot (bad: more
staff than the ceiling, more spending than the target); for ``ecart_productivite`` it is a target
beaten (good). Each variable states its convention in the ``sign_convention`` attribute.

ADF targets (PLFSS 2020 annexe 2 sections 3.3.1 and 5.3, and ../shared/data/public_figures.csv):
``cible_adf[y] = ADF_hors_informatique[annee_base] × ∏ (1 + cible_adf_taux)`` from the base year on:
RG ≈ −20 % excl. IT over 2018-2022 (CNAV, ACOSS −4.365 %/yr), CNAF −5 %/yr, CNAM −3.15 %/yr (534 →
< 485 MEUR/yr), MSA −15 % over 2016-2019 then −5 % in 2020 and after. The targets are at constant
perimeter: the ex-RSI's base-year level moves into the receivers' bases with the transfer
(share of the year after ``transfert_rsi.date_principale`` × ``transfert_rsi.repartition``).

Examples
--------
>>> from model.results.run import run_scenario
>>> from model.params.scenario import load_scenario
>>> from model.budget import adf, productivite, ecarts
>>> run = run_scenario("scenarios/cog_2018_2022.toml", write=False)          # doctest: +SKIP
>>> par, ds = run.scenario.parametres, run.dataset                            # doctest: +SKIP
>>> g = ecarts.ecarts(ds["etpma"], ds["plafond_emplois"], adf.adf(ds["etpma"], par)["adf_hors_informatique"],
...                   productivite.productivite(ds["etpma"], par), par)      # doctest: +SKIP
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from model.budget.productivite import (RSI, decrire, fraction_transferee, indice_cumule, parametre_organisme,
                                       parts_accueil, sur, valeur_en)
from model.params.parametres import Parametres

CONVENTION = "gap = simulated - target; positive = above the target"

# name: (units, long_name, long_name_fr, aggregation)
VARIABLES: dict[str, tuple[str, str, str, str]] = {
    "ecart_plafond": ("ETPMA", "ETPMA minus the plafond d'emplois (positive = above the ceiling)",
                      "ETPMA moins le plafond d'emplois (positif = au-dessus du plafond)", "sum"),
    "cible_adf": ("MEUR/an", "COG target for ADF excluding IT, at constant perimeter (NaN = no target)",
                  "Cible COG des ADF hors informatique, à périmètre constant (NaN = aucune)", "sum"),
    "ecart_adf": ("MEUR/an", "ADF excluding IT minus the COG target (positive = overspending)",
                  "ADF hors informatique moins la cible COG (positif = dépassement)", "sum"),
    "ecart_productivite": ("%", "Productivity relative to the COG target, in % (positive = target beaten)",
                           "Écart relatif de productivité à la cible COG, en % (positif = cible dépassée)",
                           "none"),
    "ecart_productivite_ij": ("%", "CNAM IJ productivity relative to its COG target, in % (positive = target beaten)",
                              "Écart relatif de productivité IJ de la CNAM à sa cible, en % (positif = cible "
                              "dépassée)", "none"),
}


def ecart_plafond(etpma: xr.DataArray, plafond_emplois: xr.DataArray) -> xr.DataArray:
    """ETPMA minus the plafond d'emplois.

    Parameters
    ----------
    etpma : ETPMA, dims ``(year, organisme, replicate)``.
    plafond_emplois : ceiling in ETPMA, dims ``(year, organisme)`` or with ``replicate``; NaN or inf
        means no ceiling.

    Returns
    -------
    xr.DataArray
        ETPMA; positive = above the ceiling (overshoot); NaN where there is no ceiling.
    """
    plafond = plafond_emplois.where(np.isfinite(plafond_emplois))
    return decrire((etpma - plafond).transpose(*etpma.dims), "ecart_plafond", VARIABLES,
                   sign_convention=CONVENTION + " (overshoot of the ceiling)")


def cible_adf(adf_hors_informatique: xr.DataArray, par: Parametres) -> xr.DataArray:
    """COG target path for ADF excluding IT, at constant perimeter.

    ``base[o, y] = ADF[o, annee_base[o]] + f[y] × repartition[o] × ADF[rsi, annee_base[o]]`` for the
    receivers (``× (1 − f[y])`` for the ex-RSI itself), then ``cible = base × I[y] / I[annee_base]`` with
    ``I`` the compound index of ``cible_adf_taux``; NaN before the base year and where
    ``cible_adf_annee_base`` is 0.

    Parameters
    ----------
    adf_hors_informatique : MEUR/an, dims ``(year, organisme, replicate)``.
    par : parameters (``organismes.*.cible_adf_annee_base``, ``cible_adf_taux``, ``transfert_rsi.*``).

    Returns
    -------
    xr.DataArray
        MEUR/an.
    """
    x = adf_hors_informatique
    annee = sur(parametre_organisme(par, "cible_adf_annee_base").astype(int), x)
    f = sur(fraction_transferee(par), x)
    rsi_en_base = valeur_en(x.sel(organisme=RSI, drop=True), annee)
    est_rsi = x["organisme"] == RSI
    base = (valeur_en(x, annee) * xr.where(est_rsi, 1.0 - f, 1.0)
            + f * sur(parts_accueil(par), x) * rsi_en_base.fillna(0.0))
    idx = sur(indice_cumule(parametre_organisme(par, "cible_adf_taux")), x)
    c = base * idx / valeur_en(idx, annee)
    c = c.where((x["year"] >= annee) & (annee > 0))
    return decrire(c.transpose(*x.dims), "cible_adf", VARIABLES)


def ecart_adf(adf_hors_informatique: xr.DataArray, par: Parametres) -> xr.Dataset:
    """ADF excluding IT against the COG target: ``cible_adf`` and ``ecart_adf = ADF − cible`` (MEUR/an;
    positive = overspending)."""
    c = cible_adf(adf_hors_informatique, par)
    gap = decrire(adf_hors_informatique - c, "ecart_adf", VARIABLES,
                  sign_convention=CONVENTION + " (overspending)")
    return xr.Dataset({"cible_adf": c, "ecart_adf": gap.transpose(*c.dims)})


def ecart_productivite(productivite: xr.DataArray, cible_productivite: xr.DataArray,
                       name: str = "ecart_productivite") -> xr.DataArray:
    """Relative gap of a productivity indicator to its COG target.

    Parameters
    ----------
    productivite, cible_productivite : same indicator units, dims ``(year, organisme, replicate)``.
    name : ``ecart_productivite`` or ``ecart_productivite_ij``.

    Returns
    -------
    xr.DataArray
        ``100 × (productivite / cible − 1)`` in %; positive = target beaten; NaN where there is no
        target.
    """
    gap = 100.0 * (productivite / cible_productivite - 1.0)
    return decrire(gap.transpose(*productivite.dims), name, VARIABLES,
                   sign_convention=CONVENTION + " (target beaten)")


def ecarts(etpma: xr.DataArray, plafond_emplois: xr.DataArray, adf_hors_informatique: xr.DataArray,
           productivite: xr.Dataset, par: Parametres) -> xr.Dataset:
    """All the gaps to the COG targets in one Dataset.

    Parameters
    ----------
    etpma : ETPMA, dims ``(year, organisme, replicate)``.
    plafond_emplois : ceilings (ETPMA), NaN/inf = none.
    adf_hors_informatique : MEUR/an (from :func:`model.budget.adf.adf`).
    productivite : the Dataset of :func:`model.budget.productivite.productivite`.
    par : parameters.

    Returns
    -------
    xr.Dataset
        ``ecart_plafond`` (ETPMA), ``cible_adf`` and ``ecart_adf`` (MEUR/an), ``ecart_productivite``
        and ``ecart_productivite_ij`` (%), all with ``sign_convention`` attrs.
    """
    ds = ecart_adf(adf_hors_informatique, par)
    ds["ecart_plafond"] = ecart_plafond(etpma, plafond_emplois)
    ds["ecart_productivite"] = ecart_productivite(productivite["productivite"], productivite["cible_productivite"])
    ds["ecart_productivite_ij"] = ecart_productivite(productivite["productivite_ij"],
                                                     productivite["cible_productivite_ij"], "ecart_productivite_ij")
    return ds
