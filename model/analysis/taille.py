"""The size of a sweep or a sensitivity design, known before anything runs: batch elements (points ×
replicates), the bytes of the results store and a rough time, from the axis sizes alone (no grid point is
built), and the limits past which the work is refused with the estimate and the way out.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

from model.params.calendrier import HORIZON_DEFAUT, ORGANISMES_SORTIE, Horizon
from model.params.errors import InputError, Problem, noms_des_entrees
from model.results.dataset import STATISTIQUES

# ----------------------------------------------------------------------------- the size of the work
# limits checked before anything runs (from the axis sizes: no point of the grid is materialised)
MAX_STORE_BYTES = 8 * 10**9  # results store, uncompressed float64: 1 000 points x 72 variables = 0.23 GB


MAX_ELEMENTS = 10**7  # batch elements (points x replicates) on this machine: about 22 hours of one core


MAX_ELEMENTS_SCHEDULER = 10**8  # with --scheduler (an existing cluster): 10^5 tasks of 1 000 elements


SECONDS_PER_ELEMENT = 0.008  # engine + Dataset + statistics, one core (1 000 points x 10 replicates: 84 s)


# what messages call each input: the spec's own field names; the command line passes its option names
# (model.cli.sweep.OPTIONS), so that a message names what the user typed
NOMS: dict[str, str] = {
    "source": "arguments", "grid": "grid", "sweep_file": "sweep_file", "param": "param", "outputs": "outputs",
    "precision": "precision", "deterministic": "deterministic", "resume": "resume", "out": "out",
    "scheduler": "scheduler", "samples": "samples"}


def noms(names: Mapping[str, str] | None, owner: str | None = None) -> dict[str, str]:
    """:data:`NOMS` with the caller's names for its inputs; with ``owner`` (a spec checking its own
    names: :func:`noms_des_entrees`) a name that is not one of them is an error, without it the names of
    other inputs (a sensitivity passes all of its own) are carried along."""
    if owner is None:
        return {**NOMS, **(names or {})}
    return noms_des_entrees(NOMS, names, owner)


@dataclass(frozen=True)
class Estimation:
    """The size of a sweep before it starts: work (batch elements, time) and results (store bytes)."""

    points: int
    replicates: int
    variables: int
    elements: int
    store_bytes: int
    seconds: float  # of one core
    workers: int
    years: int = HORIZON_DEFAUT.n_annees

    def __str__(self) -> str:
        cells = f"{self.variables} variables x {self.years} years x {len(ORGANISMES_SORTIE)} organismes x " \
                f"{len(STATISTIQUES)} statistics"
        return (f"{_count(self.points)} points x {_count(self.replicates)} replicates = {_count(self.elements)} batch "
                f"elements, about {_duration(self.seconds / self.workers)}"
                f"{f' on {self.workers} workers' if self.workers > 1 else ' on one core'}; results store "
                f"{_bytes(self.store_bytes)} ({cells} per point)")


def estimate(points: int, replicates: int, variables: int, workers: int | None = None,
             horizon: Horizon = HORIZON_DEFAUT) -> Estimation:
    """The size of the work and of the results of ``points`` × ``replicates`` (plain integers) over the
    years of ``horizon`` (the time grows linearly with them)."""
    elements = int(points) * int(replicates)
    cell = horizon.n_annees * len(ORGANISMES_SORTIE) * len(STATISTIQUES) * 8
    seconds = elements * SECONDS_PER_ELEMENT * horizon.n_annees / HORIZON_DEFAUT.n_annees
    return Estimation(int(points), int(replicates), int(variables), elements, int(points) * int(variables) * cell,
                      seconds, max(1, int(workers or 1)), horizon.n_annees)


def check_estimate(est: Estimation, *, scheduler: str | None = None, what: str = "grid",
                   names: Mapping[str, str] | None = None) -> None:
    """Refuse (``InputError``, exit 2 on the command line) a sweep past the limits, with the estimate and
    the ways out. ``what`` is the input (a key of :data:`NOMS`) the size comes from; ``names`` what the
    caller calls its inputs."""
    n = noms(names)
    max_elements = MAX_ELEMENTS_SCHEDULER if scheduler else MAX_ELEMENTS
    past = []
    if est.store_bytes > MAX_STORE_BYTES:
        past.append(f"results store over {_bytes(MAX_STORE_BYTES)}")
    if est.elements > max_elements:
        past.append(f"over {_count(max_elements)} batch elements" + ("" if scheduler else " on this machine"))
    if past:
        raise InputError([Problem(
            n["source"], n.get(what, what), f"{_count(est.points)} points",
            f"too large to start: {est}; {', '.join(past)}",
            f"a results store of at most {_bytes(MAX_STORE_BYTES)} and at most {_count(MAX_ELEMENTS)} batch "
            f"elements (points x replicates; {_count(MAX_ELEMENTS_SCHEDULER)} with {n['scheduler']}): fewer "
            f"variables ({n['outputs']}), fewer points, fewer replicates, or {n['scheduler']} ADDR (an existing "
            "dask cluster)")])


def _count(n: int) -> str:
    return f"{n:,}".replace(",", " ") if n < 10**7 else f"{n:.2e}".replace("e+0", "e").replace("e+", "e")


def _bytes(n: float) -> str:
    for unit, size in (("TB", 1e12), ("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if n >= size:
            return f"{n / size:.3g} {unit}"
    return f"{int(n)} B"


def _duration(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    if seconds < 2 * 86400:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.3g} days"
