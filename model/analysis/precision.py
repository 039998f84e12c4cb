"""How many replicates? ``--precision VAR:ORGANISME:YEAR=HALF_WIDTH[%]``.

The mean over N stochastic replicates estimates the expected value with a 95 % confidence interval of
half-width ``z · s / √N`` (``z`` = 1.96, ``s`` the standard deviation over replicates). Given the
half-width a planner can live with on the outputs that matter (``etpma:total:2022=50``: ± 50 ETPMA;
``masse_salariale:regime_general:2022=0.1%``: ± 0.1 % of the mean), a pilot of a few replicates at the
grid's corners estimates ``s`` and the sweep then runs ``N = ⌈(z · s / h)²⌉`` replicates (the largest
over the targets and the pilot points), within ``[2, max_replicates]``.

Examples
--------
>>> p = parse_precision(["etpma:total:2022=50", "masse_salariale:regime_general:2022=0.1%"])
>>> [(x.variable, x.organisme, x.year, x.half_width, x.relative) for x in p]
[('etpma', 'total', 2022, 50.0, False), ('masse_salariale', 'regime_general', 2022, 0.1, True)]
>>> replicates_needed(sd=120.0, mean=150_000.0, target=p[0])
23
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Sequence

import numpy as np
from scipy.special import ndtri

from model.params.calendrier import AGGREGATS, HORIZON_DEFAUT, ORGANISMES_SORTIE, Horizon
from model.params.errors import InputError, Problem, unknown_name
from model.results.dataset import REGISTRE, Tableaux, aggregate_values
from model.results.run import run_scenario

Z95 = float(ndtri(0.975))  # standard normal quantile of 0.975 (1.959963984540054)
PILOT_REPLICATES = 20
MAX_REPLICATES = 1000
SYNTAX = "VAR:ORGANISME:YEAR=HALF_WIDTH or =HALF_WIDTH% (e.g. etpma:total:2022=50, masse_salariale:cnaf:2022=0.1%)"
_RE = re.compile(r"^\s*([^:\s]+)\s*:\s*([^:\s]+)\s*:\s*(\d+)\s*=\s*([^%\s]+)\s*(%?)\s*$")


@dataclass(frozen=True)
class Precision:
    """A target half-width of the 95 % confidence interval of a mean (absolute, or % of the mean)."""

    text: str
    variable: str
    organisme: str
    year: int
    half_width: float
    relative: bool

    def absolute(self, mean: float) -> float:
        return abs(mean) * self.half_width / 100.0 if self.relative else self.half_width


def parse_precision(texts: Sequence[str], option: str = "precision", source: str = "arguments",
                    horizon: Horizon = HORIZON_DEFAUT) -> list[Precision]:
    """``VAR:ORGANISME:YEAR=HALF_WIDTH[%]`` targets, YEAR in ``horizon`` (the run's); every problem is
    reported at once (``InputError``), under ``source`` and ``option`` (what the caller calls these inputs)."""
    problems: list[Problem] = []
    out: list[Precision] = []
    for text in texts:
        m = _RE.match(text)
        if not m:
            problems.append(Problem(source, option, text, "not understood", SYNTAX))
            continue
        var, org, year, value, pct = m.groups()
        bad = False
        if var not in REGISTRE:
            problems.append(Problem(source, option, text, unknown_name("variable", var, REGISTRE),
                                    "a result variable"))
            bad = True
        if org not in ORGANISMES_SORTIE:
            problems.append(Problem(source, option, text, f"unknown organisme '{org}'",
                                    ", ".join(ORGANISMES_SORTIE)))
            bad = True
        if int(year) not in horizon:
            problems.append(Problem(source, option, text, f"bad year {year}: outside the horizon {horizon}",
                                    f"a year from {horizon.premiere} to {horizon.derniere}"))
            bad = True
        try:
            h = float(value)
        except ValueError:
            h = math.nan
        if not (h > 0 and math.isfinite(h)):
            problems.append(Problem(source, option, text, f"bad half-width {value!r}",
                                    "a positive number (in the variable's units, or % of the mean)"))
            bad = True
        if not bad:
            out.append(Precision(text, var, org, int(year), h, pct == "%"))
    if problems:
        raise InputError(problems)
    return out


def replicates_for_run(path, precisions: Sequence[Precision], *, pilot: int = PILOT_REPLICATES,
                       seed: int | None = None, max_replicates: int = MAX_REPLICATES) -> tuple[int, dict]:
    """The replicates a run of the scenario ``path`` needs: a pilot of ``pilot`` replicates, then
    ``⌈(z · s / h)²⌉`` for the largest ratio over ``precisions``. Returns (replicates, report)."""


    ds = run_scenario(path, replicates=pilot, seed=seed, write=False).dataset
    tab = Tableaux(ds)
    orgs = list(ds["organisme"].values) + list(AGGREGATS)
    needed = {}
    for p in precisions:
        x = aggregate_values(ds, p.variable, tab)[list(ds["year"].values).index(p.year), orgs.index(p.organisme)]
        sd, mean = float(np.std(x, ddof=1)), float(np.mean(x))
        needed[p.text] = {"replicates": replicates_needed(sd, mean, p), "pilot_sd": sd, "pilot_mean": mean}
    return choose(needed, pilot, max_replicates)


def choose(needed: dict[str, dict], pilot: int, max_replicates: int, where: str = "") -> tuple[int, dict]:
    """The replicates for every target (``needed[text]["replicates"]``), capped: (replicates, report)."""
    n = max(v["replicates"] for v in needed.values())
    chosen = min(n, max_replicates)
    message = (f"precision: {pilot} pilot replicates{where} -> {chosen} replicates"
               + (f" (capped at {max_replicates}; {n} would be needed)" if n > max_replicates else ""))
    return chosen, {"pilot_replicates": pilot, "confidence": 0.95, "needed": needed, "chosen": chosen,
                    "capped": n > max_replicates, "message": message}


def replicates_needed(sd: float, mean: float, target: Precision, z: float = Z95) -> int:
    """⌈(z · sd / h)²⌉, at least 2 (NaN sd: a deterministic output, 2)."""
    h = target.absolute(mean)
    if not math.isfinite(sd) or sd == 0.0:
        return 2
    if h == 0.0:
        return MAX_REPLICATES
    return max(2, math.ceil((z * sd / h) ** 2))
