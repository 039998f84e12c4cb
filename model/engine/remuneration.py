"""Pay indices for the engine: the value of the point, the GVT positif per month, the initial index of each
cell and the RMPP factors (see :mod:`model.budget.masse_salariale` for the pay model and the wage-bill
bridge).
"""

from __future__ import annotations

import numpy as np

from model.params.calendrier import AGES
from model.params.parametres import Parametres


def valeur_point(par: Parametres) -> np.ndarray:
    """Relative value of the point by month of the horizon, shape (month,): 1 in January of the first year,
    times (1 + taux) from the date of each general measure (a measure dated before the horizon is in the
    pay of the initial state)."""
    h = par.horizon
    v = np.ones(h.n_mois)
    for mesure in par["mesures_generales"]:
        t = h.mois_depuis_debut(mesure["date"])
        if t >= 0:
            v[t:] *= 1.0 + mesure["taux"]
    return v


def point_avant_horizon(par: Parametres) -> float:
    """The value of the point at the start of the horizon relative to January 2013: the product of the
    general measures dated before it (1 for a horizon from 2013). Pay amounts stated at the 2012 point
    (``salaire_moyen_initial``: the entrants' pay) are multiplied by it in a run that starts later."""
    h = par.horizon
    f = 1.0
    for mesure in par["mesures_generales"]:
        if h.mois_depuis_debut(mesure["date"]) < 0:
            f *= 1.0 + mesure["taux"]
    return f


def gvt_annuel(par: Parametres, promotions: np.ndarray | None = None) -> np.ndarray:
    """Annual GVT positif rate of CDI staff, shape (year, organisme, age): experience + promotions.

    ``promotions``: the promotion drift ``taux_gvt_promotions`` (an-1), shape (organisme, year), or
    (batch, organisme, year) when it differs between the elements of a batch (the result is then
    (year, batch, organisme, age)); default: ``par``'s."""
    k, v = par.table("remuneration.gvt_experience_par_age")
    exp = np.interp(np.array(AGES, float), k, v)  # (A,)
    promo = par.par_organisme("taux_gvt_promotions") if promotions is None else promotions  # ([batch,] O, Y)
    return exp + np.moveaxis(promo, -1, 0)[..., None]


def gvt_mensuel(par: Parametres, promotions: np.ndarray | None = None) -> np.ndarray:
    """Monthly GVT factor of CDI staff, shape (year, organisme, age), or (year, batch, organisme, age)
    with per-element ``promotions`` (:func:`gvt_annuel`)."""
    return (1.0 + gvt_annuel(par, promotions)) ** (1.0 / 12.0)


class GvtParElement:
    """The monthly GVT factors of :func:`gvt_mensuel` for promotions that differ between batch elements,
    indexed by year (``gvt[y]``: (batch, organisme, age)) and computed when first asked for, the last
    three years kept: the whole (year, batch, organisme, age) array would hold 29 MB for 1 000 elements.

    ``promotions``: (batch, organisme, year), an-1."""

    def __init__(self, par: Parametres, promotions: np.ndarray):
        k, v = par.table("remuneration.gvt_experience_par_age")
        self.experience = np.interp(np.array(AGES, float), k, v)  # (A,)
        self.promotions = np.asarray(promotions, float)
        self.annees: dict[int, np.ndarray] = {}

    def __getitem__(self, y: int) -> np.ndarray:
        if y not in self.annees:
            if len(self.annees) >= 3:
                del self.annees[min(self.annees)]
            # the arithmetic of gvt_annuel and gvt_mensuel, one year at a time
            self.annees[y] = (1.0 + (self.experience + self.promotions[..., y][..., None])) ** (1.0 / 12.0)
        return self.annees[y]


def indice_initial(par: Parametres, etp_initial: np.ndarray) -> np.ndarray:
    """Pay index per person at 31 December 2012, shape (organisme, contrat, age), in EUR/yr at full time
    (with a leading batch axis when ``etp_initial`` has one: an initial state per batch element).

    CDI: the career profile implied by the experience GVT (accumulated from age 20), scaled so that
    the ETP-weighted mean of each organisme is its ``salaire_moyen_initial``. CDD: ``ratio_salaire_cdd``
    times that mean.
    """
    k, v = par.table("remuneration.gvt_experience_par_age")
    ages = np.array(AGES, float)
    growth = np.log1p(np.interp(ages, k, v))
    profil = np.exp(np.cumsum(np.where(ages > 20, growth, 0.0)))  # relative pay by age
    moyen = par.par_organisme("salaire_moyen_initial")  # (O,)
    w = etp_initial[..., 0, :]  # ([batch,] O, A)
    norme = np.divide((w * profil).sum(-1), w.sum(-1), out=np.ones(w.shape[:-1]), where=w.sum(-1) > 0)
    idx = np.empty((*w.shape[:-1], 2, len(AGES)))
    idx[..., 0, :] = moyen[:, None] * profil[None, :] / norme[..., None]
    idx[..., 1, :] = (moyen * par["remuneration.ratio_salaire_cdd"])[:, None]
    return idx


def facteurs_rmpp(v: np.ndarray, gm: np.ndarray, s: int) -> tuple[np.ndarray, np.ndarray]:
    """Pay per unit of January index of a CDI agent present all of years s and s+1, by organisme and
    age in year s: (F1 for year s, F2 for year s+1), each of shape (organisme, age) — (batch, organisme,
    age) when ``gm`` differs between batch elements (:class:`GvtParElement`) — in the point value's unit.
    The engine applies the month's GVT before recording it, hence the powers m + 1."""
    g0 = gm[s]  # ([batch,] O, A)
    f1 = _somme_puissances(v[12 * s:12 * s + 12], g0) / 12.0
    if s + 1 >= len(v) // 12:
        return f1, np.full_like(f1, np.nan)
    g1 = np.empty_like(g0)
    g1[..., :-1] = gm[s + 1][..., 1:]  # the agent is one year older in year s+1
    g1[..., -1] = gm[s + 1][..., -1]
    f2 = g0 ** 12 * _somme_puissances(v[12 * s + 12:12 * s + 24], g1) / 12.0
    return f1, f2


def _somme_puissances(v: np.ndarray, g: np.ndarray) -> np.ndarray:
    """Σ_m v[m-1] g^m over the twelve months m = 1..12. Per batch element (``g`` with a batch axis) by
    successive products, in place: numpy's vectorised power with an array of exponents rounds an element
    differently depending on its position in the array, and a replicate must give the same numbers
    whatever the batch it is run in."""
    if g.ndim <= 2:
        mois = (12,) + (1,) * g.ndim
        return (v.reshape(mois) * g[None] ** np.arange(1, 13).reshape(mois)).sum(0)
    p = g.copy()
    out = v[0] * p
    for m in range(1, 12):
        p *= g
        out += v[m] * p
    return out
