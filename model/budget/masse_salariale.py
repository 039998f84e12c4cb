"""Pay, wage bill (masse salariale), RMPP and the wage-bill bridge, from the simulated flows.

Pay model
    Every agent has a pay index in euros of January 2013 (gross annual pay at full time, bonuses
    included); pay = index × quotité × relative value of the point ``V(t)`` (1 on 1 January 2013, moved
    by the dated ``mesures_generales``). The engine raises the index of the CDI staff every month by the
    GVT positif (experience points by age + promotions), gives entrants the entrant index and removes
    leavers with their cell's mean index: the noria effect (leavers earn more than entrants) comes out
    of who leaves and who arrives.

RMPP
    Pay growth of the CDI agents present all of year y−1 and all of year y, at full time. The engine
    follows each January's CDI stock (by organisme and age) through the next 24 months, removing the
    share of each cell that leaves or is transferred; since leavers take their cell's mean index, the
    survivors' pay per head in each cell is known from the January index, the GVT factors and the
    point, and RMPP = Σ survivors × pay in y / Σ survivors × pay in y−1 − 1.

Bridge (effets), in MEUR, summing exactly to MS(y) − MS(y−1), with MS = V* × ETPMA × Ī (V* the
index-weighted mean point value of the year, Ī the mean index per ETPMA):
    effet_effectif          = V*(y−1) Ī(y−1) [ETPMA(y) − ETPMA(y−1)]   (transfers included)
    effet_report            = ETPMA(y) Ī(y−1) [V(Dec y−1) − V*(y−1)]     (carry-over of last year's measures)
    effet_mesures_generales = ETPMA(y) Ī(y−1) [V*(y) − V(Dec y−1)]       (this year's measures)
    effet_gvt               = ETPMA(y) V*(y) Ī(y−1) g(y), g = GVT positif = (1 + RMPP) / (V̄(y)/V̄(y−1)) − 1
    effet_noria             = ETPMA(y) V*(y) [Ī(y) − Ī(y−1)] − effet_gvt  (entries-exits and structure)

Personnel expenses (dépenses de personnel), each employer charge and tax by name, MEUR/an:
    depenses_personnel = masse_salariale + Σ charges, every charge a rate × its base (:data:`CHARGES`):
    cotisations_patronales    = MS × remuneration.taux_charges_patronales (sécurité sociale, chômage/AGS,
                                retraite complémentaire, prévoyance; their statutory rates in the catalogue)
    taxe_sur_les_salaires     = MS × charges.taux_taxe_sur_les_salaires (the organismes pay no VAT)
    versement_mobilite        = MS × charges.taux_versement_mobilite (versement transport)
    interessement             = MS × charges.taux_interessement (the UCANSS agreements' 2.5 % of payroll)
    forfait_social            = interessement × charges.taux_forfait_social
    formation                 = MS × remuneration.taux_formation
    autres_depenses_personnel = MS × remuneration.taux_autres_depenses_personnel (action sociale, ...)
"""

from __future__ import annotations

import numpy as np

from model.engine.remuneration import valeur_point
from model.params.parametres import Parametres

EUR_PER_MEUR = 1e6

# each charge of the personnel expenses: (rate parameter, base: "masse_salariale" or another charge)
CHARGES: dict[str, tuple[str, str]] = {
    "cotisations_patronales": ("remuneration.taux_charges_patronales", "masse_salariale"),
    "taxe_sur_les_salaires": ("charges.taux_taxe_sur_les_salaires", "masse_salariale"),
    "versement_mobilite": ("charges.taux_versement_mobilite", "masse_salariale"),
    "interessement": ("charges.taux_interessement", "masse_salariale"),
    "forfait_social": ("charges.taux_forfait_social", "interessement"),
    "formation": ("remuneration.taux_formation", "masse_salariale"),
    "autres_depenses_personnel": ("remuneration.taux_autres_depenses_personnel", "masse_salariale"),
}
# name: (units, long_name, long_name_fr, aggregation)
VARIABLES: dict[str, tuple[str, str, str, str]] = {
    "cotisations_patronales": ("MEUR/an", "Employer social contributions (sécurité sociale, unemployment, "
                               "complementary pension, prévoyance)", "Cotisations patronales (sécurité sociale, "
                               "assurance chômage, retraite complémentaire, prévoyance)", "sum"),
    "taxe_sur_les_salaires": ("MEUR/an", "Payroll tax (taxe sur les salaires)", "Taxe sur les salaires", "sum"),
    "versement_mobilite": ("MEUR/an", "Transport levy (versement mobilité, ex versement transport)",
                           "Versement mobilité (ex-versement transport)", "sum"),
    "interessement": ("MEUR/an", "Profit-sharing bonus (intéressement)", "Intéressement", "sum"),
    "forfait_social": ("MEUR/an", "Forfait social on the intéressement", "Forfait social sur l'intéressement",
                       "sum"),
    "formation": ("MEUR/an", "Training expenses", "Dépenses de formation", "sum"),
    "autres_depenses_personnel": ("MEUR/an", "Other personnel expenses (action sociale, occupational health, ...)",
                                  "Autres dépenses de personnel (action sociale, médecine du travail, ...)", "sum"),
}


def charges(masse: np.ndarray, par: Parametres) -> dict[str, np.ndarray]:
    """Each charge of :data:`CHARGES` (MEUR/an) on a wage bill ``masse`` (MEUR/an, (year, batch,
    organisme)): rate × base, the base the wage bill or an earlier charge (the forfait social is due on
    the intéressement)."""
    out: dict[str, np.ndarray] = {}
    for name, (path, base) in CHARGES.items():
        out[name] = (masse if base == "masse_salariale" else out[base]) * par.yro(path)
    return out


def bilan(indice_etp: np.ndarray, etpma: np.ndarray, rmpp_num: np.ndarray, rmpp_den: np.ndarray,
          par: Parametres) -> dict[str, np.ndarray]:
    """Yearly wage bill, SMPT, RMPP, the bridge and personnel expenses, arrays (year, replicate, organisme).

    Parameters
    ----------
    indice_etp : (month, replicate, organisme) Σ index × ETP present (EUR/yr at the January 2013 point).
    etpma : (year, replicate, organisme) ETPMA.
    rmpp_num, rmpp_den : (year, replicate, organisme) pay of the RMPP population in y and y−1 (EUR).
    """
    v = valeur_point(par)
    Y = par.horizon.n_annees
    P = indice_etp.reshape(Y, 12, *indice_etp.shape[1:])
    ms = (P * v.reshape(Y, 12)[:, :, None, None]).sum(1) / 12.0  # EUR
    p_bar = P.mean(1)
    with np.errstate(invalid="ignore", divide="ignore"):
        v_star = np.where(p_bar > 0, ms / p_bar, np.nan)
        i_bar = np.where(etpma > 0, p_bar / etpma, np.nan)
        smpt = np.where(etpma > 0, ms / etpma, np.nan)
        rmpp = np.where(rmpp_den > 0, rmpp_num / rmpp_den - 1.0, np.nan)
    v_mean = v.reshape(Y, 12).mean(1)
    v_dec = v.reshape(Y, 12)[:, -1]
    effets = {k: np.full_like(ms, np.nan) for k in
              ("effet_effectif", "effet_report", "effet_mesures_generales", "effet_gvt", "effet_noria")}
    for y in range(1, Y):
        e0, e1 = etpma[y - 1], etpma[y]
        has0, has1 = e0 > 0, e1 > 0
        i0 = np.where(has0, i_bar[y - 1], 0.0)
        i1 = np.where(has1, i_bar[y], 0.0)
        vs0 = np.where(has0, v_star[y - 1], 0.0)
        vs1 = np.where(has1, v_star[y], 0.0)
        effets["effet_effectif"][y] = vs0 * i0 * (e1 - e0)
        effets["effet_report"][y] = np.where(has0, e1 * i0 * (v_dec[y - 1] - vs0), 0.0)
        effets["effet_mesures_generales"][y] = np.where(has0 & has1, e1 * i0 * (vs1 - v_dec[y - 1]), 0.0)
        g = np.where(np.isfinite(rmpp[y]), (1.0 + rmpp[y]) / (v_mean[y] / v_mean[y - 1]) - 1.0, 0.0)
        gvt = np.where(has0 & has1, e1 * vs1 * i0 * g, 0.0)
        effets["effet_gvt"][y] = gvt
        # without staff in y-1 the whole level is an effet effectif (i0 = 0): Ī(y) enters nowhere else
        effets["effet_noria"][y] = np.where(has0 & has1, e1 * vs1 * (i1 - i0), 0.0) - gvt
        # when y-1 had no staff, what arrives is an effectif effect at this year's pay
        effets["effet_effectif"][y] += np.where(~has0 & has1, ms[y], 0.0)
    par_charge = charges(ms / EUR_PER_MEUR, par)
    out = {
        "masse_salariale": ms / EUR_PER_MEUR,
        "smpt": smpt,
        "rmpp": rmpp * 100.0,
        "masse_presents": rmpp_num / EUR_PER_MEUR,
        "masse_presents_prec": rmpp_den / EUR_PER_MEUR,
        "gvt_positif": np.where(np.isfinite(rmpp), ((1.0 + rmpp) / np.r_[np.nan, v_mean[1:] / v_mean[:-1]][:, None, None]
                                                    - 1.0) * 100.0, np.nan),
        "depenses_personnel": ms / EUR_PER_MEUR + sum(par_charge.values()),
        **par_charge,
    }
    out.update({k: x / EUR_PER_MEUR for k, x in effets.items()})
    return out
