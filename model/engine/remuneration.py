"""Pay indices for the engine: the value of the point, the GVT positif per month, the initial index of each
cell and the RMPP factors (see :mod:`model.budget.masse_salariale` for the pay model and the wage-bill
bridge).
"""

from __future__ import annotations

import numpy as np

from model.params.calendrier import AGES, ANNEES, N_MOIS, ORGANISMES, mois_depuis_debut
from model.params.parametres import Parametres

Y = len(ANNEES)


def valeur_point(par: Parametres) -> np.ndarray:
    """Relative value of the point by month, shape (month,): 1 in January 2013, times (1 + taux) from
    the date of each general measure."""
    v = np.ones(N_MOIS)
    for mesure in par["mesures_generales"]:
        t = mois_depuis_debut(mesure["date"])
        v[t:] *= 1.0 + mesure["taux"]
    return v


def gvt_annuel(par: Parametres) -> np.ndarray:
    """Annual GVT positif rate of CDI staff, shape (year, organisme, age): experience + promotions."""
    k, v = par.table("remuneration.gvt_experience_par_age")
    exp = np.interp(np.array(AGES, float), k, v)  # (A,)
    promo = par.par_organisme("taux_gvt_promotions")  # (O, Y)
    return exp[None, None, :] + promo.T[:, :, None]


def gvt_mensuel(par: Parametres) -> np.ndarray:
    """Monthly GVT factor of CDI staff, shape (year, organisme, age)."""
    return (1.0 + gvt_annuel(par)) ** (1.0 / 12.0)


def indice_initial(par: Parametres, etp_initial: np.ndarray) -> np.ndarray:
    """Pay index per person at 31 December 2012, shape (organisme, contrat, age), in EUR/yr at full time.

    CDI: the career profile implied by the experience GVT (accumulated from age 20), scaled so that
    the ETP-weighted mean of each organisme is its ``salaire_moyen_initial``. CDD: ``ratio_salaire_cdd``
    times that mean.
    """
    k, v = par.table("remuneration.gvt_experience_par_age")
    ages = np.array(AGES, float)
    growth = np.log1p(np.interp(ages, k, v))
    profil = np.exp(np.cumsum(np.where(ages > 20, growth, 0.0)))  # relative pay by age
    moyen = par.par_organisme("salaire_moyen_initial")  # (O,)
    w = etp_initial[:, 0, :]
    norme = np.divide((w * profil).sum(-1), w.sum(-1), out=np.ones(len(ORGANISMES)), where=w.sum(-1) > 0)
    idx = np.empty((len(ORGANISMES), 2, len(AGES)))
    idx[:, 0, :] = moyen[:, None] * profil[None, :] / norme[:, None]
    idx[:, 1, :] = (moyen * par["remuneration.ratio_salaire_cdd"])[:, None]
    return idx


def facteurs_rmpp(v: np.ndarray, gm: np.ndarray, s: int) -> tuple[np.ndarray, np.ndarray]:
    """Pay per unit of January index of a CDI agent present all of years s and s+1, by organisme and
    age in year s: (F1 for year s, F2 for year s+1), each of shape (organisme, age), in the point
    value's unit. The engine applies the month's GVT before recording it, hence the powers m + 1."""
    m = np.arange(1, 13)
    g0 = gm[s]  # (O, A)
    f1 = (v[12 * s:12 * s + 12, None, None] * g0[None] ** m[:, None, None]).sum(0) / 12.0
    if s + 1 >= Y:
        return f1, np.full_like(f1, np.nan)
    g1 = np.empty_like(g0)
    g1[:, :-1] = gm[s + 1][:, 1:]  # the agent is one year older in year s+1
    g1[:, -1] = gm[s + 1][:, -1]
    f2 = g0 ** 12 * (v[12 * s + 12:12 * s + 24, None, None] * g1[None] ** m[:, None, None]).sum(0) / 12.0
    return f1, f2
