"""The model's calendar and structural constants.

The clock is monthly: time ``t`` (a SimPy time) counts months since 1 January of the first year of the
run's horizon (:class:`Horizon`, carried by the parameters: ``simulation.premiere_annee`` and
``simulation.derniere_annee``), and every dated event happens on the first day of a month.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

ORGANISMES: tuple[str, ...] = ("cnam", "cnaf", "cnav", "acoss", "msa", "rsi")
REGIME_GENERAL: tuple[str, ...] = ("cnam", "cnaf", "cnav", "acoss")
# the aggregates of the results (rows after the organismes): name -> the organismes it sums
AGGREGATS: dict[str, tuple[str, ...]] = {"regime_general": REGIME_GENERAL, "total": ORGANISMES}
# the organisme rows of the results: every organisme, then the aggregates
ORGANISMES_SORTIE: tuple[str, ...] = ORGANISMES + tuple(AGGREGATS)
CONTRATS: tuple[str, ...] = ("cdi", "cdd")
AGE_MIN = 16
AGE_MAX = 75  # last age row of the state arrays; departs.age_limite empties the rows above it
AGES: tuple[int, ...] = tuple(range(AGE_MIN, AGE_MAX + 1))



@dataclass(frozen=True)
class Horizon:
    """The simulated years of a run, ``premiere`` to ``derniere`` inclusive: the initial state is at 31
    December of ``premiere - 1``, month 0 of the clock is January of ``premiere``.

    >>> h = Horizon(2013, 2022)
    >>> h.n_mois, h.annees[-1], h.mois_depuis_debut(dt.date(2019, 7, 1)), h.date_du_mois(12)
    (120, 2022, 78, datetime.date(2014, 1, 1))
    """

    premiere: int
    derniere: int

    def __post_init__(self) -> None:
        if not (isinstance(self.premiere, int) and isinstance(self.derniere, int) and self.premiere <= self.derniere):
            raise ValueError(f"not a horizon: {self.premiere}-{self.derniere}")

    @property
    def annees(self) -> tuple[int, ...]:
        return tuple(range(self.premiere, self.derniere + 1))

    @property
    def n_annees(self) -> int:
        return self.derniere - self.premiere + 1

    @property
    def n_mois(self) -> int:
        return 12 * self.n_annees

    def __contains__(self, year: object) -> bool:
        return isinstance(year, int) and not isinstance(year, bool) and self.premiere <= year <= self.derniere

    def index(self, year: int) -> int:
        """Position of ``year`` on the year axis (ValueError outside the horizon)."""
        if year not in self:
            raise ValueError(f"{year} is outside the horizon {self}")
        return year - self.premiere

    def mois_depuis_debut(self, date: dt.date) -> int:
        """Month index of ``date`` on the clock (0 = January of the first year; negative before it)."""
        return (date.year - self.premiere) * 12 + date.month - 1

    def date_du_mois(self, t: int) -> dt.date:
        """First day of the month ``t`` of the clock."""
        return dt.date(self.premiere + t // 12, t % 12 + 1, 1)

    def __str__(self) -> str:
        return f"{self.premiere}-{self.derniere}"


# the horizon of the shipped 2018-2022 scenarios and of the calibration history (31/12/2012 initial state)
HORIZON_DEFAUT = Horizon(2013, 2022)
