"""The SimPy processes of a batch run: the monthly clock and the dated events (the ex-RSI transfer,
mutualisation waves, hiring freezes). Each acts on the batch state of :mod:`model.engine.simulation`
(``s``) through its methods; SimPy owns the calendar, the state owns the arithmetic."""

from __future__ import annotations

import simpy

from model.params.calendrier import ORGANISMES
from model.params.parametres import Parametres

RSI = ORGANISMES.index("rsi")
CDI, CDD = 0, 1  # contract indices of the state (model.params.calendrier.CONTRATS)

# ----------------------------------------------------------------------------- SimPy processes
def tick(env: simpy.Environment, s):
    """The monthly clock. Dated events happen at whole months (the 1st, 00:00); the month's own
    flows run half a month later, so that every event dated that month, however many steps it takes,
    has happened before. Flows are booked on the month ``t``."""
    for t in range(s.horizon.n_mois):
        yield env.timeout(t + 0.5 - env.now)
        if t % 12 == 0:
            s.fixer_plafonds(t // 12)
            s.taux_annee(t // 12)
            s.vieillir(t)
            s.log(t, "vieillissement", "", 1)
        s.departs(t)
        s.recruter(t)
        s.gvt(t)
        s.enregistrer(t)


def transfert_rsi(env: simpy.Environment, s, par: Parametres):
    """The ex-RSI transfer; a step dated before the horizon is in the initial state already."""
    t_gie = par.horizon.mois_depuis_debut(par["transfert_rsi.date_gie"])
    t_bulk = par.horizon.mois_depuis_debut(par["transfert_rsi.date_principale"])
    if t_gie >= 0:
        yield env.timeout(t_gie)
        gie = dict(par["transfert_rsi.repartition_gie"])
        s.transferer(t_gie, RSI, gie, par["transfert_rsi.effectif_gie"], (CDI,), "transfert_gie")
    if t_bulk < 0:
        s.ferme[RSI] = True
        return
    yield env.timeout(t_bulk - env.now)
    s.transferer(t_bulk, RSI, dict(par["transfert_rsi.repartition"]), None, (CDI, CDD), "transfert_principal")
    s.ferme[RSI] = True
    s.log(t_bulk, "fermeture", "rsi", 0)


def mutualisation(env: simpy.Environment, s, vague):
    """A mutualisation wave; the months of its ramp-up before the horizon are in the initial state (the
    reference ETP of a wave begun before is then the ETP at the start of the horizon)."""
    o = ORGANISMES.index(vague["organisme"])
    t0 = s.horizon.mois_depuis_debut(vague["debut"])
    M = int(vague["montee_en_charge_mois"])
    if t0 + M <= 0:
        return
    yield env.timeout(max(t0, 0))
    reference = s.e[:, o].sum((-1, -2)).copy()  # ETP at the start of the wave
    gain_mensuel = vague["gain_productivite"] * vague["part_effectifs"] * reference / M
    cout_mensuel = vague["cout_transition"] / M
    s.log(env.now, "debut_mutualisation", vague["organisme"], vague["part_effectifs"])
    for i in range(max(-t0, 0), M):
        if env.now >= s.horizon.n_mois:
            return
        s.restitution[:, o] += gain_mensuel
        s.traj.cout_transition[int(env.now), :, o] += cout_mensuel
        if i < M - 1:
            yield env.timeout(1)
    s.log(env.now, "fin_montee_en_charge", vague["organisme"], vague["part_effectifs"])


def gel(env: simpy.Environment, s, gel):
    o = ORGANISMES.index(gel["organisme"])
    t0, t1 = s.horizon.mois_depuis_debut(gel["debut"]), s.horizon.mois_depuis_debut(gel["fin"])
    compteur = s.gels_tous if gel["contrats"] == "tous" else s.gels_cdi
    if t1 <= 0:  # over before the horizon
        return
    yield env.timeout(max(t0, 0))
    compteur[o] += 1
    s.log(env.now, "debut_gel", gel["organisme"], 2 if gel["contrats"] == "tous" else 1)
    if t1 < s.horizon.n_mois:
        yield env.timeout(t1 - env.now)
        compteur[o] -= 1
        s.log(env.now, "fin_gel", gel["organisme"], 0)


__all__ = ["tick", "transfert_rsi", "mutualisation", "gel"]
