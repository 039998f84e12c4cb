"""The staffing engine: one SimPy Environment simulates a whole batch (replicates, later grid points).

SimPy owns the calendar: a monthly tick process and one process per dated event (the ex-RSI
transfers, each mutualisation wave, each hiring freeze). numpy owns the arithmetic: the state is
persons, ETP and paid pay index (Σ index × quotité) of shape (batch, organisme, contrat, age), so one
step moves every replicate at once.

Timing within a month ``t`` (the first day of the month): dated events first (SimPy time t), then
(at SimPy time t + 0.5, booked on month t) the month's departures (people leave on the 1st and are
absent that month), recruitment (present from the 1st), pay drift, and the month is recorded. ETPMA is the mean over the twelve months of the ETP present, so a
full-timer hired on 1 July counts 6/12 = 0.5 and a 4/5 part-timer present all year 0.8, as in the
footnote of section 5.2.2 of the source document.

Randomness (stochastic mode)
    For each organisme and flow, the number of leavers in a month is binomial with the headcount and
    the headcount-weighted monthly hazard (drawn by inversion: exact up to an expected count of 20,
    Cornish-Fisher normal quantile above); it is then allocated to ages by systematic sampling in
    proportion to the expected leavers of each age (never more than a cell holds). The expectation is
    exact for every cell; the variance of the total exceeds the exact sum-of-binomials variance by
    ``sum_a n_a (p_a - p̄)²``, below 1 % here. Hire counts are stochastically rounded (unbiased), entrant
    ages drawn by systematic sampling on the age profile. Every flow of every replicate has its own
    stream: ``SeedSequence(seed, spawn_key=(replicate, flow))``, so replicate r sees the same numbers
    whatever the batch size, and two scenarios share their random numbers (common random numbers).
    Deterministic mode runs the same code with every draw replaced by its expectation. The parameters
    themselves may differ between batch elements (a ``ParametresLot``: grid points of a sweep, or the
    fitted parameters each replicate draws, :mod:`model.params.incertitude`); the lists of what may differ
    are in :mod:`model.engine.lot`.
"""

from __future__ import annotations

import ctypes
import datetime as dt
import functools
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import simpy

from model.engine.evenements import gel, mutualisation, tick, transfert_rsi
from model.engine.lot import (HORS_MOTEUR, HORS_MOTEUR_ORGANISME,
                              PARAMETRES_LOT, PARAMETRES_LOT_ETAT,
                              PARAMETRES_LOT_GLOBAUX, check_lot,
                              etat_par_element, interp_lignes)
from model.engine.remuneration import (GvtParElement, facteurs_rmpp,
                                       gvt_mensuel, indice_initial,
                                       point_avant_horizon, valeur_point)
from model.engine.reprise import Reprise
from model.engine.tirages import FLOWS, Esperances, Tirages
from model.params.calendrier import AGES, ORGANISMES
from model.params.effectifs import EtatInitial
from model.params.errors import MISSING, InputError, Problem
from model.params.parametres import Parametres, ParametresLot

Mode = Literal["stochastic", "deterministic"]
O = len(ORGANISMES)
A = len(AGES)
CDI, CDD = 0, 1
RSI = ORGANISMES.index("rsi")
# monthly flow records (persons, and their ETP where it matters for the identities)
FLUX = ("departs_retraite", "departs_autres", "fins_cdd", "recrutements", "recrutements_cdd",
        "transferts_entrants", "transferts_sortants")


@dataclass
class Trajectoire:
    """What a batch run produces: monthly stocks and flows by (month, batch, organisme).

    ``etp_cdi``/``etp_cdd``/``effectif``: ETP and persons present during month t, after its events.
    ``flux[name]`` / ``flux_etp[name]``: persons / ETP of each flow in month t (``departs_autres``
    includes the CDD endings, also given alone as ``fins_cdd``; ``recrutements`` includes
    ``recrutements_cdd``). ``age_somme``/``plus_50``: sum of exact ages and persons aged ≥ 50 in
    December of each year (year, batch, organisme). ``indice_etp``: Σ pay index × ETP present in
    month t (EUR/yr at the January 2013 point). ``rmpp_num``/``rmpp_den``: pay in y and in y−1 of the
    CDI agents present all of both years (year, batch, organisme; EUR, NaN for 2013). ``trace``: the
    event log of replicate 0 when asked for: (time in months, event, organisme, value).
    ``effectif_initial``/``etp_initial``: the state at the start, (organisme, contrat, age), or (batch,
    organisme, contrat, age) when the initial headcounts differ between batch elements.
    """

    mode: Mode
    seed: int
    replicates: int
    etp_cdi: np.ndarray
    etp_cdd: np.ndarray
    effectif: np.ndarray
    flux: dict[str, np.ndarray]
    flux_etp: dict[str, np.ndarray]
    age_somme: np.ndarray
    plus_50: np.ndarray
    gain_mutualisation: np.ndarray
    cout_transition: np.ndarray
    effectif_initial: np.ndarray
    etp_initial: np.ndarray
    indice_etp: np.ndarray
    rmpp_num: np.ndarray
    rmpp_den: np.ndarray
    plafond: np.ndarray | None = None  # ceilings in force (year, batch, organisme); inf = none
    trace: list[tuple[float, str, str, float]] = field(default_factory=list)
    first_replicate: int = 0  # index of the batch's first replicate (a run in blocks of replicates)
    # at the end of the horizon or of `etat_au` (what a run of the next years takes over, model.engine.reprise):
    # persons, ETP, paid index (batch, O, C, A); point value; mutualisation ETP to give back; next RMPP population
    etat_final: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None
    valeur_point_finale: float = 1.0
    restitution_instantane: np.ndarray | None = None
    cohorte_instantane: dict[str, np.ndarray] | None = None
    departs_cdi: np.ndarray | None = None  # CDI departures by kind and month (2, month, batch, organisme)


# ----------------------------------------------------------------------------- the batch state
class _Etat:
    """The mutable state of one batch during a run (private to the engine)."""

    def __init__(self, par: Parametres, etat0: EtatInitial, mode: Mode, replicates: int, seed: int,
                 trace: bool, first: int = 0, reprise: Reprise | None = None):
        lot = par if isinstance(par, ParametresLot) else None
        P = 1 if lot is None else lot.n_points
        R = replicates * P  # the batch: P blocks of `replicates`, point-major
        self.par = par
        self.horizon = h = par.horizon
        self.mode = mode
        self.R = R
        self.tirages = (Tirages if mode == "stochastic" else Esperances)(seed, replicates, P, first)
        # parameters that may differ between the elements of a batch (grid points, parameter draws):
        # (O, ...) or (batch, O, ...) for an organisme parameter, None or (batch, ...) for another one
        def lot_par(name: str) -> np.ndarray:
            per_element = None if lot is None else lot.lot_organisme(name)
            return par.par_organisme(name) if per_element is None else per_element

        def lot_global(path: str) -> np.ndarray | None:
            return None if lot is None else lot.lot(path)

        # logical shape (batch, organisme, contrat, age), stored contract-major so that the slice of a
        # contract, which every flow works on, is one contiguous block
        O_, C_, A_ = etat0.effectif.shape
        n0, e0 = etat0.effectif, etat0.etp
        eff = None if lot is None else lot.lot_organisme("effectif_initial")
        if eff is not None:  # a reconstruction per batch element (drawn initial headcounts)
            n0, e0 = etat_par_element(par, etat0, eff)
        self.n = np.zeros((C_, R, O_, A_)).transpose(1, 2, 0, 3)
        self.n[...] = n0
        # ETP and paid index (Σ index × quotité) move with the persons: one stacked array, two views
        self.q = np.zeros((2, C_, R, O_, A_)).transpose(0, 2, 3, 1, 4)
        self.e, self.w = self.q[0], self.q[1]
        self.e[...] = e0
        T, Y = h.n_mois, h.n_annees
        z = lambda: np.zeros((T, R, O))  # noqa: E731
        self.traj = Trajectoire(
            mode=mode, seed=seed, replicates=R, etp_cdi=z(), etp_cdd=z(), effectif=z(),
            flux={k: z() for k in FLUX}, flux_etp={k: z() for k in FLUX},
            age_somme=np.zeros((Y, R, O)), plus_50=np.zeros((Y, R, O)),
            gain_mutualisation=z(), cout_transition=z(),
            effectif_initial=n0.copy(), etp_initial=e0.copy(), indice_etp=z(),
            rmpp_num=np.full((Y, R, O), np.nan), rmpp_den=np.full((Y, R, O), np.nan),
            first_replicate=first)
        # pay: index mass per cell (Σ persons' index, EUR/yr at full time at the January 2013 point)
        self.w[...] = self.e * (indice_initial(par, e0) if etat0.indice is None else etat0.indice)
        promo = None if lot is None else lot.lot_organisme("taux_gvt_promotions")
        # self.gm[y]: (O, A), or (batch, O, A) when the promotions differ between elements
        self.gm = gvt_mensuel(par) if promo is None else GvtParElement(par, promo)
        self.v = valeur_point(par)
        moyen = par.par_organisme("salaire_moyen_initial") * point_avant_horizon(par)
        ratio = lot_global("remuneration.ratio_salaire_entrant")
        ratio = par["remuneration.ratio_salaire_entrant"] if ratio is None else ratio[:, None]
        self.idx_ent = np.stack(np.broadcast_arrays(moyen * ratio, moyen * par["remuneration.ratio_salaire_cdd"]),
                                axis=-1)  # (O, C), or (batch, O, C)
        self.hazard_lot = lot_global("departs.hazard_retraite")  # None, or (batch, keys)
        self.cohortes: dict[int, dict[str, np.ndarray]] = {}  # RMPP populations by starting year
        self.tracing = trace
        # recruitment state
        # CDI leavers by month and kind (0 retirements, 1 other exits), for the recruitment delay
        self.departs_cdi = np.zeros((2, T, R, O))
        self.departs_avant = np.zeros((2, R, O))  # monthly CDI leavers before 2013 (set in month 0)
        self.restitution = np.zeros((R, O))  # ETP still to give back through mutualisations
        self.gels_cdi = np.zeros(O, dtype=int)  # number of active freezes of CDI hires
        self.gels_tous = np.zeros(O, dtype=int)  # number of active freezes of CDI and CDD hires
        self.ferme = np.zeros(O, dtype=bool)  # organismes closed (the ex-RSI after its transfer)
        # parameters in array form
        self.tau = lot_par("taux_remplacement")  # policy: replacement of retirements
        self.tau_aut = lot_par("taux_remplacement_autres_departs")  # behaviour: of the other CDI exits
        self.marge = lot_par("marge_plafond")  # behaviour: share of the ceiling left unused
        self.comblement = lot_par("comblement_cdd")  # behaviour: share of the gap CDD close in a month
        self.part_cdd_max = lot_par("part_cdd_max")
        self.tau_cdd = lot_par("taux_renouvellement_cdd")
        self.supp = lot_par("recrutements_supplementaires")
        # ceilings per batch element and year: the absolute plafond_emplois, and where a base year is set,
        # the simulated ETPMA of that year plus plafond_variation (filled in when the base year ends)
        self.plafond = np.broadcast_to(lot_par("plafond_emplois"), (R, O, Y)).copy()
        self.plafond_base = par.par_organisme("plafond_annee_base").astype(int)  # (O,)
        self.plafond_variation = np.broadcast_to(lot_par("plafond_variation"), (R, O, Y))
        self.delai = par.par_organisme("delai_recrutement").astype(int)
        self.autres = lot_par("taux_autres_departs")
        self.p_cdd = 1.0 - np.exp(-1.0 / lot_par("duree_moyenne_cdd"))
        self.q_ent = par["recrutement.quotite_entrants"]
        ages = np.array(AGES, float)
        k, v = par.table("departs.profil_age_autres_departs")
        self.profil_autres = np.interp(ages, k, v)
        self.age_limite = par["departs.age_limite"]
        self.profil_cdi = _profil_entrants(par["recrutement.age_moyen_entrants"],
                                           par["recrutement.ecart_type_age_entrants"], par)
        self.profil_cdd = _profil_entrants(par["recrutement.age_moyen_entrants_cdd"],
                                           par["recrutement.ecart_type_age_entrants"], par)
        self.mois_instantane = -1
        self.reprise = reprise
        if reprise is not None:  # ceilings set by base years before the horizon, ETP still to give back
            avant = self.plafond_base < h.premiere
            self.plafond[:, avant, :] = reprise.plafond[avant][None]
            self.restitution[...] = reprise.restitution
            if reprise.cohorte is not None:  # the RMPP population of the first year (popped in its December)
                self.cohortes[-1] = {k: np.broadcast_to(x[:1], (R, *x.shape[1:])).copy()
                                     for k, x in reprise.cohorte.items()}

    def instantane(self, t: int) -> None:
        """Keep the state at the end of month t (what a run of the following years starts from)."""
        self.traj.etat_final = (self.n.copy(), self.e.copy(), self.w.copy())
        self.traj.valeur_point_finale = float(self.v[t])
        self.traj.restitution_instantane = self.restitution.copy()
        coh = self.cohortes.get(t // 12)
        self.traj.cohorte_instantane = None if coh is None else {k: x.copy() for k, x in coh.items()}

    def departs_du_mois(self, k: int, s: np.ndarray) -> np.ndarray:
        """CDI departures of kind k (0 retirements, 1 other exits) of months ``s`` (O,), (batch, O):
        before the start, the history's (a :class:`Reprise`), else the first month's."""
        cur = self.departs_cdi[k, np.clip(s, 0, self.horizon.n_mois - 1), :, np.arange(O)].T
        M = 0 if self.reprise is None else self.reprise.departs_cdi.shape[1]
        avant = self.departs_avant[k] if M == 0 else self.reprise.departs_cdi[k, np.clip(M + s, 0, M - 1), np.arange(O)]
        return np.where(s >= 0, cur, avant)

    def log(self, t: float, what: str, org: str, value: float) -> None:
        if self.tracing:
            self.traj.trace.append((t, what, org, float(value)))

    def fixer_plafonds(self, y: int) -> None:
        """1 January of year y: the organismes whose ceiling base year has just ended get their ceilings
        for the years after it (base-year ETPMA + plafond_variation), never above plafond_emplois."""
        if y == 0:  # a base year before the horizon: its ceilings come with a Reprise
            return
        for o in np.flatnonzero(self.plafond_base == self.horizon.annees[y] - 1):
            b = y - 1
            etpma = (self.traj.etp_cdi[12 * b:12 * b + 12, :, o] + self.traj.etp_cdd[12 * b:12 * b + 12, :, o]).mean(0)
            rel = etpma[:, None] + self.plafond_variation[:, o, y:]
            self.plafond[:, o, y:] = np.minimum(self.plafond[:, o, y:], rel)

    # -- rates of a year
    def taux_annee(self, y: int) -> None:
        year = self.horizon.annees[y]
        ages = np.array(AGES, float)
        reforme = year >= self.par["departs.date_reforme_2023"].year  # the legal ages in force that year
        kc, vc = self.par.table("departs.age_legal_par_generation_2023" if reforme else "departs.age_legal_par_generation")
        legal = np.interp(year - ages, kc, vc)
        kh, vh = self.par.table("departs.hazard_retraite")
        if self.hazard_lot is None:
            h = np.interp(ages - legal, kh, vh, left=0.0, right=vh[-1])
        else:  # one table per batch element: (batch, 1, A), against (batch, O, A) stocks
            h = interp_lignes(ages - legal, kh, self.hazard_lot)[:, None, :]
        h = np.where(ages >= self.age_limite, 1.0, h)
        self.p_ret = 1.0 - (1.0 - np.clip(h, 0.0, 1.0)) ** (1.0 / 12.0)  # (A,) or (batch, 1, A)
        positif = (self.p_ret > 0).reshape(-1, A).any(0)
        self.ret_lo = int(np.argmax(positif)) if positif.any() else A
        h_aut = np.clip(self.autres[..., y][..., None] * self.profil_autres, 0.0, 1.0)
        self.p_aut = 1.0 - (1.0 - h_aut) ** (1.0 / 12.0)  # ([batch,] O, A)
        # one year of allocation/rounding uniforms per replicate: 4 departure slots, 4 hiring slots
        self.u_bloc = self.tirages.uniforms("allocation", (12, 3, O))
        self.u_dep = np.stack([self.tirages.uniforms(f, (12, O))
                               for f in ("retraite", "autres_departs", "fins_cdd")], axis=2)
        self.u_rec = self.tirages.uniforms("recrutement", (12, 2, O))
        self.u_age = self.tirages.uniforms("ages_entrants", (12, 2, O))

    # -- flows
    def vieillir(self, t: int) -> None:
        """1 January: everybody is one year older; those reaching the age limit retire."""
        n, e = self.n, self.e
        last_n, last_e = n[..., -1].copy(), e[..., -1].copy()
        lim = self.age_limite - AGES[0]
        for x in (n, e, self.w):
            x[..., 1:] = x[..., :-1].copy()
            x[..., 0] = 0.0
        out_n = n[..., lim:].sum(-1) + last_n
        out_e = e[..., lim:].sum(-1) + last_e
        for x in (n, e, self.w):
            x[..., lim:] = 0.0
        for coh in self.cohortes.values():
            for x in coh.values():
                x[..., 1:] = x[..., :-1].copy()
                x[..., 0] = 0.0
                x[..., lim:] = 0.0
        y = t // 12
        if y + 1 < self.horizon.n_annees:  # the RMPP population of year y + 1: the CDI staff of 1 January y
            f1, f2 = facteurs_rmpp(self.v, self.gm, y)
            cdi_e = e[:, :, CDI]
            idx = np.divide(self.w[:, :, CDI], cdi_e, out=np.zeros_like(cdi_e), where=cdi_e > 0)
            self.cohortes[y] = {"n": n[:, :, CDI].copy(), "w1": idx * f1, "w2": idx * f2}
        self.traj.flux["departs_retraite"][t] += out_n.sum(-1)
        self.traj.flux_etp["departs_retraite"][t] += out_e.sum(-1)
        self.departs_cdi[0, t] += out_n[:, :, CDI]

    def _sortir(self, t: int, c: int, p: np.ndarray, lo: int, flow: str, slot: int) -> tuple[np.ndarray, np.ndarray]:
        """Remove leavers of contract c with monthly hazard p: (A[lo:],), ([batch,] O, A[lo:]) or (batch, 1, A[lo:])."""
        n = self.n[:, :, c, lo:]
        q = self.q[:, :, :, c, lo:]
        expected = n * p
        N = n.sum(-1)
        lam = expected.sum(-1)
        pbar = np.divide(lam, N, out=np.zeros_like(lam), where=N > 0)
        X = self.tirages.binomial(flow, N, pbar, self.u_dep[:, t % 12, slot, :])
        u = self.u_bloc[:, t % 12, slot, :]
        k = self.tirages.allocate(X, expected, n, u)
        part = k / np.where(n > 0, n, 1.0)  # share of each cell leaving
        dq = q * part  # leavers take their cell's mean quotité and pay index
        n -= k
        q -= dq
        if c == CDI and self.cohortes:  # the RMPP populations lose the same share
            for coh in self.cohortes.values():
                coh["n"][..., lo:] *= 1.0 - part
        return k.sum(-1), dq[0].sum(-1)

    def departs(self, t: int) -> None:
        tr = self.traj
        lo = self.ret_lo
        kr, er = self._sortir(t, CDI, self.p_ret[..., lo:], lo, "retraite", 0)
        ka, ea = self._sortir(t, CDI, self.p_aut, 0, "autres_departs", 1)
        kc, ec = self._sortir(t, CDD, self.p_cdd[..., None], 0, "fins_cdd", 2)
        tr.flux["departs_retraite"][t] += kr
        tr.flux_etp["departs_retraite"][t] += er
        tr.flux["departs_autres"][t] += ka + kc
        tr.flux_etp["departs_autres"][t] += ea + ec
        tr.flux["fins_cdd"][t] += kc
        tr.flux_etp["fins_cdd"][t] += ec
        self.departs_cdi[0, t] += kr
        self.departs_cdi[1, t] += ka
        if t == 0:
            self.departs_avant = np.stack([kr, ka])
        if self.tracing:
            for o, org in enumerate(ORGANISMES):
                if kr[0, o]:
                    self.log(t, "depart_retraite", org, kr[0, o])
                if ka[0, o]:
                    self.log(t, "autre_depart", org, ka[0, o])
                if kc[0, o]:
                    self.log(t, "fin_cdd", org, kc[0, o])

    def recruter(self, t: int) -> None:
        """The month's hires: CDI by policy and behaviour, CDD as the margin under the ceiling.

        CDI: the retirements of ``delai`` months ago replaced at the policy rate ``taux_remplacement``,
        the other CDI exits at the calibrated ``taux_remplacement_autres_departs``, plus the extra hires
        of new missions. CDD: the contracts ending this month renewed at ``taux_renouvellement_cdd``.
        Under a ceiling (plafond d'emplois) the caisse aims at the ceiling less its execution margin
        ``marge_plafond``: CDI hires stop where the CDI staff would pass the aim (or the ETP present the
        ceiling), and CDD hires close a share ``comblement_cdd`` of what remains between the ETP present
        and the aim each month, up to ``part_cdd_max`` of the aim; above the aim no CDD is hired.
        """
        y, m = divmod(t, 12)
        tr = self.traj
        # the departures replaced now are those of `delai` months ago; before 2013 (no history) the
        # first month's departures, age-limit retirements aside, stand for each month of late 2012
        src = t - self.delai  # (O,)
        ret, aut = self.departs_du_mois(0, src), self.departs_du_mois(1, src)
        voulu_cdi = self.tau[..., y] * ret + self.tau_aut[..., y] * aut + self.supp[..., y] / 12.0
        voulu_cdd = self.tau_cdd[..., y] * tr.flux["fins_cdd"][t]
        plafond = self.plafond[:, :, y]
        limite = np.isfinite(plafond)
        if np.any(limite):
            # the ceiling glides towards next year's when it is lower, so that neither year's ETPMA
            # can exceed its ceiling; the caisse aims at it less its execution margin
            suivant = self.plafond[:, :, min(y + 1, self.horizon.n_annees - 1)]
            glisse = np.zeros(np.broadcast_shapes(plafond.shape, suivant.shape))
            np.subtract(suivant, plafond, out=glisse, where=np.isfinite(suivant) & limite)
            cap = np.where(limite, np.minimum(plafond, plafond + glisse * (m + 1) / 12.0), np.inf)
            vise = cap * (1.0 - self.marge)
            e_c = self.e.sum(-1)  # (R, O, C)
            etp = e_c.sum(-1)
            # the CDI hires already decided (departures of the last `delai` months, replaced later)
            # come first: CDD close only the gap they leave
            attendus = np.zeros_like(etp)
            for k in range(1, int(self.delai.max()) + 1):
                s_k = t - self.delai + k  # (O,): months whose departures are replaced after this one
                ok = (k <= self.delai) & ((s_k >= 0) | (self.reprise is not None)) & (s_k < t + 1)
                r_k = np.where(ok, self.departs_du_mois(0, s_k), 0.0)
                a_k = np.where(ok, self.departs_du_mois(1, s_k), 0.0)
                attendus += self.tau[..., y] * r_k + self.tau_aut[..., y] * a_k
            ecart = np.where(limite, vise - etp - attendus * self.q_ent, 0.0)  # the gap CDD may close
            voulu_cdd = voulu_cdd + np.where(limite, self.comblement * np.maximum(ecart, 0.0) / self.q_ent, 0.0)
            place_cdd = np.where(limite, (self.part_cdd_max * vise - e_c[:, :, CDD]) / self.q_ent, np.inf)
        voulu_cdi = np.where((self.gels_cdi + self.gels_tous > 0) | self.ferme, 0.0, voulu_cdi)
        voulu_cdd = np.where((self.gels_tous > 0) | self.ferme, 0.0, voulu_cdd)
        h_cdi = self.tirages.round(voulu_cdi, self.u_rec[:, m, 0, :])
        h_cdd = self.tirages.round(voulu_cdd, self.u_rec[:, m, 1, :])
        if np.any(limite):
            arrondi = np.floor if self.mode == "stochastic" else (lambda x: x)
            marge_cdi = np.minimum(vise - e_c[:, :, CDI], cap - etp) / self.q_ent
            h_cdi = np.minimum(h_cdi, np.maximum(arrondi(np.where(limite, marge_cdi, np.inf)), 0.0))
            reste = np.minimum((vise - etp) / self.q_ent - h_cdi, place_cdd)
            h_cdd = np.minimum(h_cdd, np.maximum(arrondi(np.where(limite, reste, np.inf)), 0.0))
        # mutualisation: the ETP to give back are CDI hires that are not made
        rendu = np.minimum(h_cdi, self.restitution / self.q_ent)
        if self.mode == "stochastic":
            rendu = np.floor(rendu)
        h_cdi = h_cdi - rendu
        self.restitution -= rendu * self.q_ent
        tr.gain_mutualisation[t] += rendu * self.q_ent
        for c, h, profil, slot in ((CDI, h_cdi, self.profil_cdi, 0), (CDD, h_cdd, self.profil_cdd, 1)):
            k = self.tirages.allocate_profile(h, profil, self.u_age[:, m, slot, :])
            self.n[:, :, c] += k
            self.e[:, :, c] += k * self.q_ent
            self.w[:, :, c] += k * (self.q_ent * self.idx_ent[..., c])[..., None]
        tot = h_cdi + h_cdd
        tr.flux["recrutements"][t] += tot
        tr.flux_etp["recrutements"][t] += tot * self.q_ent
        tr.flux["recrutements_cdd"][t] += h_cdd
        tr.flux_etp["recrutements_cdd"][t] += h_cdd * self.q_ent
        if self.tracing:
            for o, org in enumerate(ORGANISMES):
                if h_cdi[0, o]:
                    self.log(t, "recrutement_cdi", org, h_cdi[0, o])
                if h_cdd[0, o]:
                    self.log(t, "recrutement_cdd", org, h_cdd[0, o])

    def gvt(self, t: int) -> None:
        """Individual progressions of the month (CDI staff)."""
        self.w[:, :, CDI] *= self.gm[t // 12]

    def enregistrer(self, t: int) -> None:
        y, m = divmod(t, 12)
        tr = self.traj
        tr.indice_etp[t] = self.w.sum((-1, -2))
        e_c = self.e.sum(-1)  # (R, O, C)
        tr.etp_cdi[t] = e_c[:, :, CDI]
        tr.etp_cdd[t] = e_c[:, :, CDD]
        tr.effectif[t] = self.n.sum((-1, -2))
        if t == self.mois_instantane:
            self.instantane(t)
        if m == 11:
            ages = np.array(AGES, float) + 0.5  # mean exact age at 31 December
            nn = self.n.sum(-2)
            tr.age_somme[y] = (nn * ages).sum(-1)
            tr.plus_50[y] = nn[..., np.array(AGES) >= 50].sum(-1)
            coh = self.cohortes.pop(y - 1, None)
            if coh is not None:
                tr.rmpp_num[y] = (coh["n"] * coh["w2"]).sum(-1)
                tr.rmpp_den[y] = (coh["n"] * coh["w1"]).sum(-1)

    # -- transfers
    def suivre_perimetre(self, t: int, o: int, etp: np.ndarray) -> None:
        """A transfer moves the perimeter: the receiving organisme's ceiling (a COG ceiling is 'à
        périmètre constant') rises by the ETP received, pro rata of the months left in the year of the
        transfer (its ETPMA effect) and whole in the later years. ``etp``: (batch,)."""
        y, m = divmod(t, 12)
        part = np.ones(self.horizon.n_annees - y)
        part[0] = (12 - m) / 12.0
        self.plafond[:, o, y:] += etp[:, None] * part[None, :]

    def transferer(self, t: int, source: int, parts: dict[str, float], effectif: float | None,
                   contrats: tuple[int, ...], label: str) -> None:
        """Move staff of ``source`` to the organismes of ``parts``; all of it when ``effectif`` is None.
        Transferred staff keep their age and quotité."""
        tr = self.traj
        dests = [ORGANISMES.index(d) for d in parts]
        shares = np.array([parts[d] for d in parts])
        u = self.tirages.uniforms("transferts", (len(contrats) + 1, A))
        C = np.array(contrats)
        n_src = self.n[:, source][:, C]  # (R, C', A)
        e_src = self.e[:, source][:, C]
        p_src = self.w[:, source][:, C]
        if effectif is None:
            k = n_src.copy()
        else:
            total = np.minimum(np.full(self.R, float(effectif)), n_src.sum((-1, -2)))
            flat = self.tirages.allocate(total, n_src.reshape(self.R, -1), n_src.reshape(self.R, -1),
                                         u[:, 0, 0])
            k = flat.reshape(n_src.shape)
        ratio = np.divide(e_src, n_src, out=np.zeros_like(e_src), where=n_src > 0)
        ratio_p = np.divide(p_src, n_src, out=np.zeros_like(p_src), where=n_src > 0)
        if CDI in contrats and self.cohortes:  # transferred agents leave the RMPP populations
            ci = contrats.index(CDI)
            reste = n_src[:, ci] - k[:, ci]
            frac = np.divide(reste, n_src[:, ci], out=np.ones_like(reste), where=n_src[:, ci] > 0)
            for coh in self.cohortes.values():
                coh["n"][:, source] *= frac
        # split each cell's movers across destinations
        parts_k = self.tirages.allocate(k, np.broadcast_to(shares, (*k.shape, len(dests))), None, u[:, 1:, :])
        moved_n = np.zeros(self.R)
        moved_e = np.zeros(self.R)
        for j, d in enumerate(dests):
            kd = parts_k[..., j]
            ed = kd * ratio
            if effectif is None and j == len(dests) - 1:
                ed = e_src - sum(parts_k[..., i] * ratio for i in range(j))  # exact: the source ends at zero
            self.n[:, d][:, C] += kd
            self.e[:, d][:, C] += ed
            self.w[:, d][:, C] += kd * ratio_p
            tr.flux["transferts_entrants"][t, :, d] += kd.sum((-1, -2))
            tr.flux_etp["transferts_entrants"][t, :, d] += ed.sum((-1, -2))
            moved_n += kd.sum((-1, -2))
            moved_e += ed.sum((-1, -2))
            self.suivre_perimetre(t, d, ed.sum((-1, -2)))
            self.log(t, label, ORGANISMES[d], kd[0].sum())
        if effectif is None:
            self.n[:, source][:, C] = 0.0
            self.e[:, source][:, C] = 0.0
            self.w[:, source][:, C] = 0.0
        else:
            self.n[:, source][:, C] -= k
            self.e[:, source][:, C] -= k * ratio
            self.w[:, source][:, C] -= k * ratio_p
        tr.flux["transferts_sortants"][t, :, source] += moved_n
        tr.flux_etp["transferts_sortants"][t, :, source] += moved_e


def _profil_entrants(mean: float, sd: float, par: Parametres) -> np.ndarray:
    ages = np.array(AGES, float)
    lo, hi = par["recrutement.age_min_entrants"], par["recrutement.age_max_entrants"]
    w = np.where((ages >= lo) & (ages <= hi), np.exp(-0.5 * ((ages - mean) / sd) ** 2), 0.0)
    return w / w.sum()


@functools.cache
def keep_freed_memory() -> None:
    """Ask glibc to keep freed memory for reuse instead of returning it to the system at once.

    A monthly step makes temporaries of a few MB; by default glibc maps and unmaps each of them,
    and the kernel zero-fills every page again: about a fifth of the CPU time of a 1 000-replicate run
    (the system time drops from about 2.1 s to 0.3 s, for about 17 MiB more peak memory). Keeping up to
    256 MB in the heap avoids it. No effect (and no error) where glibc is not the allocator.

    This changes the allocator of the whole process, so :func:`simulate` never calls it: the command
    line does (``model.cli.main``, and the workers of the dask clusters it starts); a program that
    uses the library chooses for itself.
    """
    try:
        libc = ctypes.CDLL("libc.so.6")
        M_TRIM_THRESHOLD, M_TOP_PAD, M_MMAP_THRESHOLD = -1, -2, -3
        libc.mallopt(M_MMAP_THRESHOLD, 256 * 2**20)
        libc.mallopt(M_TRIM_THRESHOLD, 512 * 2**20)
        libc.mallopt(M_TOP_PAD, 64 * 2**20)
    except (OSError, AttributeError):
        pass


def simulate(par: Parametres, etat0: EtatInitial, *, replicates: int = 1, seed: int = 0,
             mode: Mode = "stochastic", trace: bool = False, first_replicate: int = 0,
             reprise: Reprise | None = None, etat_au: int | None = None) -> Trajectoire:
    """Simulate the years of ``par.horizon`` month by month for a batch of ``replicates`` (× the points of a lot).

    Parameters
    ----------
    par : resolved parameters (``Scenario.parametres``), or a ``ParametresLot``: the parameter sets of
        several grid points run in one batch (a sweep), and/or values drawn per replicate
        (:mod:`model.params.incertitude`). Its elements may differ only in the parameters of
        ``PARAMETRES_LOT``, ``PARAMETRES_LOT_GLOBAUX`` and ``PARAMETRES_LOT_ETAT`` (the last with a
        reconstructed initial state only) and in parameters the engine does not read; the batch is
        then ``n_points × replicates``, point-major (element ``p × replicates + r`` is replicate r of
        point p), and replicate r uses the same random streams at every point.
    etat0 : the state at 31 December of the year before the horizon.
    replicates : batch size; in deterministic mode every replicate is the same expected path.
    seed : root of the random streams.
    mode : "stochastic" (binomial draws) or "deterministic" (expected values).
    trace : record the event log of replicate 0 (for tests and debugging).
    first_replicate : index of the batch's first replicate: the batch is replicates ``first_replicate``
        to ``first_replicate + replicates - 1``, each with its own streams, so a run in blocks of
        replicates gives every replicate the draws of a run in one batch (a lot of several grid points
        starts at 0).
    reprise : a first year after 2013: what the run takes over from the model's history (model.engine.reprise).
    etat_au : the year at whose 31 December the state is kept (``Trajectoire.etat_final``; default the last).

    Returns
    -------
    Trajectoire
        Monthly stocks and flows, shape (month, batch, organisme).
    """
    if mode == "stochastic" and not np.allclose(etat0.effectif, np.round(etat0.effectif)):
        raise InputError([Problem(etat0.source, "column effectif", MISSING,
                                  "fractional persons: the stochastic mode needs whole persons",
                                  "integers in column effectif, or the deterministic mode")])
    env = simpy.Environment()
    if isinstance(par, ParametresLot):
        check_lot(par, replicates, etat0)
    if first_replicate and isinstance(par, ParametresLot) and par.n_points > 1:
        raise ValueError("a batch of grid points starts at replicate 0")
    s = _Etat(par, etat0, mode, replicates, seed, trace, first_replicate, reprise)
    if etat_au is not None:
        s.mois_instantane = s.horizon.mois_depuis_debut(dt.date(etat_au, 12, 1))
    # dated events are created before the tick so that they run first within a month
    env.process(transfert_rsi(env, s, par))
    for v in par["mutualisations"]:
        env.process(mutualisation(env, s, v))
    for g in par["gels_recrutement"]:
        env.process(gel(env, s, g))
    env.process(tick(env, s))
    env.run(until=s.horizon.n_mois)
    s.traj.plafond = np.transpose(s.plafond, (2, 0, 1))
    if s.traj.etat_final is None:
        s.instantane(s.horizon.n_mois - 1)
    s.traj.departs_cdi = s.departs_cdi
    return s.traj


__all__ = ["PARAMETRES_LOT", "PARAMETRES_LOT_GLOBAUX", "PARAMETRES_LOT_ETAT", "HORS_MOTEUR", "HORS_MOTEUR_ORGANISME",
           "simulate", "Trajectoire", "FLOWS", "FLUX"]
