"""Numbers as a planner writes them: French by default (narrow no-break space between thousands, decimal
comma, true minus sign, "98,5 %"), English on request; and the matching axis tick formatter."""

from __future__ import annotations

import numpy as np
from matplotlib import ticker

from model.outputs.libelles import Lang

NNBSP = "\u202f"      # narrow no-break space: French thousands separator and space before % and :
MINUS = "\u2212"


def format_number(x: float | None, decimals: int = 0, lang: Lang = "fr", sign: bool = False) -> str:
    """A number as a planner writes it.

    French: narrow no-break space between thousands, decimal comma, true minus sign
    (``format_number(-12345.67, 1) == "−12 345,7"``); English: ``-12,345.7`` with a true minus.
    NaN and None give an en dash. ``sign`` prefixes ``+`` to positive values.
    """
    if x is None or not np.isfinite(x):
        return "–"
    x = float(x)
    r = round(x, decimals)
    s = f"{abs(r):,.{decimals}f}"
    if lang == "fr":
        s = s.replace(",", NNBSP).replace(".", ",")
    if r < 0:
        s = MINUS + s
    elif sign and r > 0:
        s = "+" + s
    return s


def format_percent(fraction: float | None, decimals: int = 1, lang: Lang = "fr", sign: bool = False) -> str:
    """A fraction as a percentage: ``format_percent(0.985) == "98,5 %"`` (fr), ``"98.5%"`` (en)."""
    if fraction is None or not np.isfinite(fraction):
        return "–"
    return format_number(100 * fraction, decimals, lang, sign) + (NNBSP + "%" if lang == "fr" else "%")


def decimals_needed(values: np.ndarray, most: int = 4) -> int:
    """The fewest decimals that write every value exactly (tick values 0.975, 1.0, 1.025 need 3)."""
    values = np.asarray(values, float)
    values = values[np.isfinite(values)]
    for d in range(most + 1):
        scaled = values * 10 ** d
        if np.all(np.abs(scaled - np.round(scaled)) < 1e-6 * np.maximum(1.0, np.abs(scaled))):
            return d
    return most


class NumberFormatter(ticker.Formatter):
    """Axis tick labels in the note's number format, with as many decimals as the tick step needs.

    ``percent=True`` reads the values as fractions (0.98 → "98 %").
    """

    def __init__(self, lang: Lang = "fr", percent: bool = False, sign: bool = False):
        self.lang, self.percent, self.sign = lang, percent, sign
        self.decimals = 0

    def set_locs(self, locs):
        super().set_locs(locs)
        vals = np.asarray(locs, float) * (100 if self.percent else 1)
        self.decimals = decimals_needed(vals)

    def __call__(self, x, pos=None):
        if self.percent:
            return format_percent(x, self.decimals, self.lang, self.sign)
        return format_number(x, self.decimals, self.lang, self.sign)
