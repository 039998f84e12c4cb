"""The model's calendar and structural constants.

The clock is monthly: time ``t`` (a SimPy time) counts months since 1 January 2013, and every dated
event happens on the first day of a month.
"""

from __future__ import annotations

import datetime as dt

ORGANISMES: tuple[str, ...] = ("cnam", "cnaf", "cnav", "acoss", "msa", "rsi")
REGIME_GENERAL: tuple[str, ...] = ("cnam", "cnaf", "cnav", "acoss")
# the aggregates of the results (rows after the organismes): name -> the organismes it sums
AGGREGATS: dict[str, tuple[str, ...]] = {"regime_general": REGIME_GENERAL, "total": ORGANISMES}
# the organisme rows of the results: every organisme, then the aggregates
ORGANISMES_SORTIE: tuple[str, ...] = ORGANISMES + tuple(AGGREGATS)
CONTRATS: tuple[str, ...] = ("cdi", "cdd")
PREMIERE_ANNEE = 2013
DERNIERE_ANNEE = 2022
ANNEES: tuple[int, ...] = tuple(range(PREMIERE_ANNEE, DERNIERE_ANNEE + 1))
N_MOIS = 12 * len(ANNEES)
AGE_MIN = 16
AGE_MAX = 75  # last age row of the state arrays; departs.age_limite empties the rows above it
AGES: tuple[int, ...] = tuple(range(AGE_MIN, AGE_MAX + 1))


def mois_depuis_debut(date: dt.date) -> int:
    """Month index of ``date`` on the model clock (0 = January 2013)."""
    return (date.year - PREMIERE_ANNEE) * 12 + date.month - 1


def date_du_mois(t: int) -> dt.date:
    """First day of the month ``t`` of the model clock."""
    return dt.date(PREMIERE_ANNEE + t // 12, t % 12 + 1, 1)
