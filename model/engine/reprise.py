"""A run that starts after 2013: what it takes over from the years before its horizon.

A scenario whose first year is later than 2013 (``simulation.premiere_annee``) starts from the staff at 31
December of the year before: the caisses' own file (``etat_initial.fichier``) or, without one, the model's
own state at that date. Either way, what a staff file cannot carry comes from the model's history, a
deterministic run of the same scenario from 2013 (:class:`Reprise`):

* the ceilings of the years of the horizon whose base year is before it (``plafond_annee_base``: the
  simulated ETPMA of the base year plus ``plafond_variation``, moved by the transfers before the start);
* the CDI departures of the months before the start that are replaced after it (``delai_recrutement``);
* the ETP the mutualisation waves still have to give back;

and the results keep the model's history before the first year (:func:`prolonger`), so that the base
years of the budget, productivity and target paths (2013 levels, the 2018 productivity reference, the
base years of the COG targets) exist; the manifest says which years are history. From the model's own
state the run continues the history exactly (same figures as one run from 2013); from a staff file the RMPP
of the first year is not computed (its population is the staff of both years; NaN).
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace

import numpy as np


@dataclass(frozen=True)
class Reprise:
    """What a run of the years ``premiere``.. takes over from the model's history (one deterministic
    element, broadcast to every batch element).

    ``plafond``: ceilings of the horizon's years, (organisme, year) (inf: none); ``departs_cdi``: CDI
    departures of the months before the start, (kind: 0 retirements 1 other exits, month, organisme), the
    last month last; ``restitution``: ETP still to give back through mutualisations, (organisme,);
    ``cohorte``: the RMPP population of the first year (the CDI staff of 1 January of the year before, with
    their pay factors), when the run starts from the history's own state (a staff file does not carry it:
    the first year's RMPP is then NaN).
    """

    plafond: np.ndarray
    departs_cdi: np.ndarray
    restitution: np.ndarray
    cohorte: dict[str, np.ndarray] | None = None


def reprise_de(hist, mois: int, avec_cohorte: bool = True) -> Reprise:
    """The :class:`Reprise` of a history run ``hist`` (a ``Trajectoire`` over 2013 to the horizon's last
    year, its state captured at the end of month ``mois - 1``): the run that takes over starts at month
    ``mois`` of ``hist``'s clock."""
    return Reprise(plafond=np.array(hist.plafond[mois // 12:, 0, :].T),
                   departs_cdi=np.array(hist.departs_cdi[:, :mois, 0, :]),
                   restitution=np.array(hist.restitution_instantane[0]),
                   cohorte=hist.cohorte_instantane if avec_cohorte else None)


# Trajectoire fields with a leading month axis, and with a leading year axis
MENSUELS = ("etp_cdi", "etp_cdd", "effectif", "gain_mutualisation", "cout_transition", "indice_etp")
ANNUELS = ("age_somme", "plus_50", "rmpp_num", "rmpp_den", "plafond")


def prolonger(hist, traj, mois: int):
    """The trajectory ``traj`` of a run that started at month ``mois`` of ``hist``'s clock, preceded by the
    first ``mois`` months of ``hist`` (one element, repeated over ``traj``'s batch): a trajectory over
    ``hist``'s years. The point value of the history's months is relative to January 2013 and the run's to
    its own January: the run's pay index is expressed in the history's unit (divided by the history's
    point value of the last month before the start), so that the wage bill (index × point value of the
    whole span) is the run's."""
    R = traj.replicates
    Y0 = mois // 12

    def rep(x: np.ndarray) -> np.ndarray:
        return np.broadcast_to(x[:, :1], (x.shape[0], R, *x.shape[2:]))

    changes = {}
    for name in MENSUELS + ANNUELS:
        a, b = getattr(hist, name), getattr(traj, name)
        if a is None or b is None:
            continue
        n = mois if name in MENSUELS else Y0
        if name == "indice_etp":
            b = b / hist.valeur_point_finale
        changes[name] = np.concatenate([rep(a[:n]), b], axis=0)
    changes["flux"] = {k: np.concatenate([rep(hist.flux[k][:mois]), v], 0) for k, v in traj.flux.items()}
    changes["flux_etp"] = {k: np.concatenate([rep(hist.flux_etp[k][:mois]), v], 0) for k, v in traj.flux_etp.items()}
    changes["effectif_initial"], changes["etp_initial"] = hist.effectif_initial, hist.etp_initial
    assert {f.name for f in fields(traj)} >= set(changes)
    return replace(traj, **changes)


__all__ = ["Reprise", "reprise_de", "prolonger"]
