"""Scenario grids at scale (``cogsim sweep``): one Dataset with one dimension per swept parameter.

A sweep runs every point of a :class:`~model.analysis.grille.Grille` with ``replicates`` stochastic replicates
(common random numbers: replicate r uses the same random streams at every point, so differences
between points are the parameters' and not the dice's) and stores, for every result variable, year and
organisme (régime général and total included), the mean, the 5/50/95 % quantiles and the standard
deviation over the replicates.

Blocks and batches
    The grid is cut into blocks (a hyper-rectangle of about ``BATCH_TARGET / replicates`` points); a
    block is one task. Within a block, the points that differ only in the engine's batch parameters
    (``model.engine.simulation.PARAMETRES_LOT``: replacement rates, CDD renewal, extra hires, plafond d'emplois,
    other-exit rates, CDD duration) run in **one** engine batch of points × replicates; points that
    differ in any other parameter (entrant ages, the initial state, budget parameters...) need an
    engine batch or a Dataset of their own, so those grids cost about 0.4 s per distinct value.

Streaming, resuming, scale-out
    Results go to a Zarr store block by block (``sweep.zarr``, chunked like the blocks), so memory stays
    bounded whatever the grid size. The sweep is written in ``OUT.partial/`` and renamed to ``OUT`` when
    complete; ``--resume`` finishes an interrupted sweep: blocks already marked done (a marker written
    after the block's data) are neither recomputed nor written twice, and the inputs must be the same
    (their fingerprint is checked). With ``--workers N`` the blocks run on a local
    ``dask.distributed`` cluster of N processes; ``--scheduler ADDR`` uses an existing one (its
    workers must see the scenario files at the same paths). The client alone writes, once per block,
    so a worker killed mid-task only means the task is run again elsewhere.

Examples
--------
>>> from model.analysis.sweep import SweepSpec, run_sweep, open_sweep
>>> spec = SweepSpec("scenarios/cog_2018_2022.toml",
...                  grid=("organismes.cnaf.taux_remplacement@2020=0.3:0.9:4",), replicates=10,
...                  out="results/sweep-demo")
>>> done = run_sweep(spec)                                                      # doctest: +SKIP
>>> ds = open_sweep(done.out)                                                   # doctest: +SKIP
>>> ds["etpma"].sel(organisme="cnaf", year=2022, statistique="moyenne")        # doctest: +SKIP
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import importlib.util
import json
import logging
import math
import os
import re
import shutil
import sys
import time
import warnings
from collections import defaultdict
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

import numpy as np
import xarray as xr

from model import __version__
from model.analysis.grille import Grille, check_grid, load_sweep_file, parse_grid
from model.analysis.precision import (MAX_REPLICATES, PILOT_REPLICATES, Precision, choose, parse_precision,
                                      replicates_needed)
from model.analysis.taille import NOMS, Estimation, check_estimate, estimate, noms
from model.engine.etat_initial import etat_initial
from model.engine.simulation import (HORS_MOTEUR, HORS_MOTEUR_ORGANISME, PARAMETRES_LOT, Mode, keep_freed_memory,
                                     simulate)
from model.params.calendrier import ANNEES, ORGANISMES_SORTIE
from model.params.catalogue import catalogue_files
from model.params.calibres import CALIBRATION_FILE
from model.params.errors import MISSING, InputError, Problem, unknown_name
from model.params.incertitude import description, loi_calibree, tirages, tire
from model.params.parametres import Parametres, ParametresLot
from model.params.scenario import file_hash, load_scenario
from model.results.dataset import QUANTILES, REGISTRE, STATISTIQUES, Tableaux, aggregate_values, build_dataset
from model.results.run import simulation_overrides
from model.results.writers import check_target, claim_output, git_commit, write_json

BATCH_TARGET = 1000  # batch elements (points × replicates) per task: ≈ 250 MiB of engine state
DEFAULT_REPLICATES = 10
STORE = "sweep.zarr"
MANIFEST = "manifest.json"
DONE_DIR = "blocs"


# ----------------------------------------------------------------------------- the spec
@dataclass(frozen=True)
class Sweep:
    """Everything a worker needs to compute a block (picklable)."""

    scenario: str  # absolute path
    grille: Grille
    replicates: int
    seed: int
    mode: Mode
    outputs: tuple[str, ...]
    chunks: tuple[int, ...]

    @property
    def block_grid(self) -> tuple[int, ...]:
        return tuple(math.ceil(n / c) for n, c in zip(self.grille.shape, self.chunks))

    @property
    def n_blocks(self) -> int:
        return math.prod(self.block_grid)

    def block_slices(self, b: int) -> tuple[slice, ...]:
        pos = np.unravel_index(b, self.block_grid)
        return tuple(slice(int(i) * c, min((int(i) + 1) * c, n)) for i, c, n in zip(pos, self.chunks, self.grille.shape))

    def block_points(self, b: int) -> list[tuple[int, ...]]:
        """Grid indices of the points of block ``b``, in C order."""
        ranges = [range(s.start, s.stop) for s in self.block_slices(b)]
        grid = np.stack(np.meshgrid(*[np.array(r) for r in ranges], indexing="ij"), -1).reshape(-1, len(ranges))
        return [tuple(int(i) for i in row) for row in grid]

    def fingerprint(self) -> str:
        """A hash of the inputs: scenario chain and catalogue contents, grid, replicates, seed, outputs."""
        sc = load_scenario(self.scenario)
        files = {str(f): file_hash(Path(f)) for f in sc.chain}
        files.update({f.name: file_hash(f) for f in catalogue_files()})
        if CALIBRATION_FILE.exists():  # the baseline and the parameter draws come from it
            files[CALIBRATION_FILE.name] = file_hash(CALIBRATION_FILE)
        body = {"files": files, "grid": self.grille.describe(), "replicates": self.replicates,
                "seed": self.seed, "mode": self.mode, "outputs": list(self.outputs), "chunks": list(self.chunks),
                "cogsim": __version__}
        return hashlib.sha256(json.dumps(body, sort_keys=True, default=str).encode()).hexdigest()


def choose_chunks(shape: Sequence[int], replicates: int, target: int = BATCH_TARGET) -> tuple[int, ...]:
    """Block shape: about ``target / replicates`` points, whole along the last axes first."""
    points = max(1, target // max(replicates, 1))
    chunks = []
    room = points
    for n in reversed(shape):
        c = max(1, min(n, room))
        chunks.append(c)
        room = max(1, room // c)
    return tuple(reversed(chunks))


# ----------------------------------------------------------------------------- computing a block
@functools.lru_cache(maxsize=4)
def _scenario(path: str) -> Parametres:
    return load_scenario(path).parametres


# points that differ only in the engine's batch parameters or in parameters the engine never reads
# (which the post-processing reads per batch element, model.params.scenario.ParametresLot) share an engine
# batch and a Dataset; tests/test_sweep.py checks each against a run of its own
def en_lot(parameter) -> bool:
    """Can points that differ in this parameter share an engine batch and a Dataset?"""
    if parameter.by_organisme:
        return parameter.name in PARAMETRES_LOT or parameter.name in HORS_MOTEUR_ORGANISME
    return parameter.path in HORS_MOTEUR


def statistiques(values: np.ndarray, replicates: int) -> np.ndarray:
    """(..., points × replicates) -> (points, ..., statistique): mean, 5/50/95 % quantiles, std."""
    lead = values.shape[:-1]
    v = values.reshape(*lead, -1, replicates)
    v = np.moveaxis(v, -2, 0)  # (P, ..., R)
    out = np.empty((*v.shape[:-1], len(STATISTIQUES)))
    with np.errstate(invalid="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN cells (no target): NaN statistics
        out[..., 0] = v.mean(-1)
        out[..., 1:4] = np.moveaxis(np.quantile(v, QUANTILES, axis=-1), 0, -1)
        out[..., 4] = v.std(-1, ddof=1) if replicates > 1 else np.nan
    return out


def evaluate_block(sweep: Sweep, b: int) -> dict[str, np.ndarray]:
    """The statistics of block ``b``: variable -> array (*block shape, year, organisme, statistique)."""
    par = _scenario(sweep.scenario)
    base_dir = Path(sweep.scenario).parent
    points = sweep.block_points(b)
    grille = sweep.grille
    pars = [grille.parametres(par, idx) for idx in points]
    # one engine batch and one Dataset per group of points that differ only in batchable parameters
    fixed = [[not en_lot(lv.parameter) for lv in a.levers] for a in grille.axes]
    swept = [path for a in grille.axes for lv in a.levers for path in lv.resolved_paths]
    groups: dict[tuple, list[int]] = defaultdict(list)
    for k, idx in enumerate(points):
        groups[tuple(float(a.values[i, j]) for a, i, fx in zip(grille.axes, idx, fixed)
                     for j, f in enumerate(fx) if f)].append(k)
    R = sweep.replicates
    loi = loi_calibree() if tire(par, sweep.mode) else None  # parameter draws (model.params.incertitude)
    out = {v: np.empty((len(points), len(ANNEES), len(ORGANISMES_SORTIE), len(STATISTIQUES))) for v in sweep.outputs}
    for members in groups.values():
        lot = ParametresLot([pars[k] for k in members], R, swept) if len(members) > 1 else pars[members[0]]
        # replicate r of every point draws replicate r's fitted parameters where the point keeps the calibrated
        # value, as the run of the point's own scenario does
        lot = tirages(lot, sweep.mode, sweep.seed, R, loi=loi)
        etat0 = etat_initial(lot, base_dir=base_dir)
        traj = simulate(lot, etat0, replicates=R, seed=sweep.seed, mode=sweep.mode)
        ds = build_dataset(traj, lot)
        tab = Tableaux(ds)
        for v in sweep.outputs:
            out[v][members] = statistiques(aggregate_values(ds, v, tab), R)
    shape = tuple(s.stop - s.start for s in sweep.block_slices(b))
    return {v: x.reshape(*shape, *x.shape[1:]) for v, x in out.items()}


# ----------------------------------------------------------------------------- the store
def _template(sweep: Sweep, attrs: dict[str, Any]) -> xr.Dataset:
    # lazy: optional dependency (cogsim[sweep])
    import dask.array as da

    g = sweep.grille
    dims = (*g.names, "year", "organisme", "statistique")
    shape = (*g.shape, len(ANNEES), len(ORGANISMES_SORTIE), len(STATISTIQUES))
    chunks = (*sweep.chunks, len(ANNEES), len(ORGANISMES_SORTIE), len(STATISTIQUES))
    variables = {}
    for v in sweep.outputs:
        units, ln, ln_fr, agg = REGISTRE[v]
        variables[v] = (dims, da.full(shape, np.nan, chunks=chunks),
                        {"units": units, "long_name": ln, "long_name_fr": ln_fr, "aggregation": agg})
    coords: dict[str, Any] = {
        "year": ("year", list(ANNEES), {"long_name": "Calendar year", "long_name_fr": "Année civile"}),
        "organisme": ("organisme", list(ORGANISMES_SORTIE),
                      {"long_name": "Organisme, régime général and total", "long_name_fr": "Organisme"}),
        "statistique": ("statistique", list(STATISTIQUES),
                        {"long_name": "Statistic over the replicates: mean, 5/50/95 % quantiles, standard "
                                      "deviation", "long_name_fr": "Statistique sur les réplications"}),
    }
    for axe in g.axes:
        lv = axe.levers[0]
        if len(axe.levers) == 1:
            coords[axe.name] = (axe.name, axe.values[:, 0], {
                "units": lv.parameter.unit, "long_name": lv.parameter.title, "long_name_fr": lv.parameter.title_fr,
                "parametre": lv.path, "annee_debut": lv.years[0] if lv.years else "", "type_axe": axe.kind})
        else:
            coords[axe.name] = (axe.name, np.arange(axe.size), {"long_name": axe.description or axe.name,
                                                                "type_axe": axe.kind})
            for j, lever in enumerate(axe.levers):
                coords[f"{axe.name}:{lever.path}"] = (axe.name, axe.values[:, j], {
                    "units": lever.parameter.unit, "long_name": lever.parameter.title, "parametre": lever.path})
    return xr.Dataset(variables, coords=coords, attrs=attrs)


def _write_block(store: Path, sweep: Sweep, b: int, result: dict[str, np.ndarray]) -> None:
    g = sweep.grille
    dims = (*g.names, "year", "organisme", "statistique")
    ds = xr.Dataset({v: (dims, x) for v, x in result.items()})
    region = {name: s for name, s in zip(g.names, sweep.block_slices(b))}
    region.update(year=slice(None), organisme=slice(None), statistique=slice(None))
    ds.to_zarr(store, region=region, mode="r+", zarr_format=2)


def _mark_done(partial: Path, b: int) -> None:
    marker = partial / DONE_DIR / f"{b}.done"
    tmp = marker.with_suffix(".tmp")
    tmp.write_text(dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds") + "\n")
    os.replace(tmp, marker)


def _done(partial: Path) -> set[int]:
    d = partial / DONE_DIR
    return {int(p.stem) for p in d.glob("*.done")} if d.is_dir() else set()


def open_sweep(path: str | Path) -> xr.Dataset:
    """The Dataset of a finished sweep (lazily loaded from its Zarr store)."""
    ds = xr.open_zarr(Path(path) / STORE)
    for k, v in list(ds.attrs.items()):
        if isinstance(v, str) and v[:1] in "[{":
            try:
                ds.attrs[k] = json.loads(v)
            except ValueError:
                pass
    return ds


# ----------------------------------------------------------------------------- running
@dataclass(frozen=True)
class SweepSpec:
    """What to sweep and where to write it: the input of :func:`prepare` and :func:`run_sweep`.

    Parameters
    ----------
    scenario : the scenario file the grid varies.
    grid : ``PATH[@YEAR]=V1,V2,...|LOW:HIGH:N`` axes (see :mod:`model.analysis.grille`).
    sweep_file : a sweep file (TOML) with ``[[levier]]`` and ``[[incertitude]]`` axes.
    grille : a grid already built (``cogsim sensitivity`` passes its design as one bundle axis).
    out : the output folder (default ``results_dir/<scenario>-sweep``).
    replicates : replicates per point (default :data:`DEFAULT_REPLICATES`; with ``precision``, the pilot's).
    seed : overrides the scenario's seed.
    deterministic : expected values, one replicate per point.
    outputs : result variables to keep (default: all).
    workers : a local dask.distributed cluster of this many processes.
    scheduler : the address of an existing dask.distributed scheduler (not with ``workers``).
    resume : finish an interrupted sweep of the same inputs.
    block_points : grid points per task (default: about :data:`BATCH_TARGET` batch elements / replicates).
    precision : ``VAR:ORGANISME:YEAR=HALF_WIDTH[%]`` targets that pick the replicates
        (:mod:`model.analysis.precision`), at most ``max_replicates``.
    keep_freed_memory : the workers of the local cluster (``workers``) call
        :func:`~model.engine.simulation.keep_freed_memory` (the command line's choice for its processes).
    names : what messages call the inputs (keys of :data:`NOMS`: the command line passes its option names).
    """

    scenario: str | Path
    grid: tuple[str, ...] = ()
    sweep_file: str | Path | None = None
    grille: Grille | None = None
    out: str | Path | None = None
    results_dir: str | Path = "results"
    replicates: int | None = None
    seed: int | None = None
    deterministic: bool = False
    outputs: tuple[str, ...] | None = None
    workers: int | None = None
    scheduler: str | None = None
    resume: bool = False
    block_points: int | None = None
    precision: tuple[str, ...] = ()
    max_replicates: int = MAX_REPLICATES
    keep_freed_memory: bool = False
    names: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for name in ("grid", "precision", "outputs"):
            value = getattr(self, name)
            if value is None and name == "outputs":
                continue
            if isinstance(value, (str, bytes)) or not isinstance(value, Sequence) or \
                    not all(isinstance(x, str) for x in value):
                raise TypeError(f"SweepSpec.{name} must be a sequence of strings, not {value!r}")
            object.__setattr__(self, name, tuple(value))
        for name in ("replicates", "workers", "block_points", "max_replicates", "seed"):
            value = getattr(self, name)
            if value is None and name != "max_replicates":
                continue
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or \
                    value < (0 if name == "seed" else 1):
                raise ValueError(f"SweepSpec.{name} must be {'a non-negative' if name == 'seed' else 'a positive'} "
                                 f"integer, not {value!r}")
        if self.workers is not None and self.scheduler is not None:
            raise ValueError("SweepSpec: workers (a local cluster) and scheduler (an existing one) exclude "
                             "each other")
        if self.grille is not None and not isinstance(self.grille, Grille):
            raise TypeError(f"SweepSpec.grille must be a Grille, not {type(self.grille).__name__}")
        unknown = set(self.names) - set(NOMS)
        if unknown:
            raise ValueError(f"SweepSpec.names: unknown input(s) {sorted(unknown)}; known: {', '.join(NOMS)}")
        object.__setattr__(self, "names", noms(self.names))

    @property
    def target(self) -> Path:
        """The output folder."""
        return Path(self.out) if self.out else Path(self.results_dir) / f"{Path(self.scenario).stem}-sweep"


@dataclass(frozen=True)
class SweepResult:
    """What :func:`run_sweep` did: the finished sweep's folder, the size estimate it started from, and the
    report of the pilot that chose the replicates (with ``precision``; its ``message`` says it in one
    line)."""

    out: Path
    estimate: Estimation
    precision: dict[str, Any] | None = None
    already_done: bool = False  # resume of a sweep finished with the same inputs: nothing computed


def prepare(spec: SweepSpec) -> Sweep:
    """Validate everything (scenario, grid, outputs, precision targets, the size of the work:
    :func:`check_estimate`, from the axis sizes) before anything runs.

    Sweeps need the optional dependencies of ``cogsim[sweep]`` (dask, zarr): without them, a clear
    message (exit 2) says how to install them.
    """
    check_optional_dependencies()
    n = spec.names
    cl = n["source"]
    sc = load_scenario(spec.scenario, simulation_overrides(seed=spec.seed, deterministic=spec.deterministic))
    par = sc.parametres
    problems: list[Problem] = []
    grille = spec.grille
    axes = list(grille.axes) if grille is not None else []
    grille_file = None
    try:
        if spec.sweep_file is not None:
            grille_file = load_sweep_file(spec.sweep_file, par)
            axes.extend(grille_file.axes)
        axes.extend(parse_grid(list(spec.grid), par, option=n["grid"], source=cl))
    except InputError as exc:
        problems.extend(exc.problems)
    if not axes and not problems:
        problems.append(Problem(cl, n["grid"], MISSING, "nothing to sweep",
                                f"{n['grid']} PATH=V1,V2,... (repeatable) or {n['sweep_file']} SWEEP.toml"))
    try:
        precisions = parse_precision(spec.precision, option=n["precision"], source=cl)
    except InputError as exc:
        problems.extend(exc.problems)
        precisions = []
    if precisions and par["simulation.mode"] == "deterministic":
        problems.append(Problem(cl, n["precision"], spec.precision[0], "a deterministic sweep has no "
                                "sampling error", f"{n['precision']} without {n['deterministic']}"))
    names = [a.name for a in axes]
    if len(set(names)) != len(names):
        problems.append(Problem(cl, n["grid"], names, f"an axis is given twice (sweep file and {n['grid']})",
                                "each axis once"))
    outputs = spec.outputs
    outs = tuple(outputs) if outputs else tuple(REGISTRE)
    outs = outs + tuple(p.variable for p in precisions if p.variable not in outs) if outputs else outs
    for o in outs:
        if o not in REGISTRE:
            problems.append(Problem(cl, n["outputs"], o, unknown_name("variable", o, REGISTRE),
                                    "variables of results.csv (cogsim describe lists them in README)"))
    if problems:
        raise InputError(problems)
    built = grille is None
    if built:
        header = grille_file.header if grille_file is not None else ()
        grille = Grille(tuple(axes), grille_file.source if grille_file is not None and not spec.grid else cl,
                        header)
    mode = par["simulation.mode"]
    R = 1 if mode == "deterministic" else (spec.replicates or DEFAULT_REPLICATES)
    check_estimate(estimate(grille.size, R, len(outs)), scheduler=spec.scheduler, names=n,
                   what="grid" if spec.grid else "sweep_file" if spec.sweep_file is not None else "param")
    if built:
        check_grid(grille, par)
    target = BATCH_TARGET if spec.block_points is None else spec.block_points * R
    return Sweep(str(Path(spec.scenario).resolve()), grille, R, int(par["simulation.seed"]), mode, outs,
                 choose_chunks(grille.shape, R, target))


def check_optional_dependencies() -> None:

    missing = [m for m in ("dask", "distributed", "zarr") if importlib.util.find_spec(m) is None]
    if missing:
        raise InputError([Problem("installation", "optional dependencies", ", ".join(missing),
                                  "sweeps and sensitivity analyses need the optional dependencies of cogsim[sweep]",
                                  "pip install -e '.[sweep]' (from the project folder) or pip install 'cogsim[sweep]'")])


def run_sweep(spec: SweepSpec, *, progress: bool | None = None,
              on_start: Callable[[SweepResult], None] | None = None,
              on_block: Callable[[int, Any], None] | None = None) -> SweepResult:
    """Run a sweep and write ``OUT/`` (``sweep.zarr`` + ``manifest.json``).

    With ``spec.precision``, a pilot of ``spec.replicates`` (default 20) replicates at the grid's corners
    picks the number of replicates. ``on_start(result)`` is called once the work is sized, before
    anything is computed (the command line prints the estimate and the pilot's report there);
    ``on_block(b, client)`` after each block is written (tests use it to kill a worker); ``progress``
    shows a progress bar on stderr (None: when stderr is a terminal).
    """
    t0 = time.perf_counter()
    n = spec.names
    scheduler = spec.scheduler
    if scheduler is not None and scheduler_problem(scheduler, n) is not None:
        raise InputError([scheduler_problem(scheduler, n)])  # before anything is computed or written
    sweep = prepare(spec)
    precision_report = None
    if spec.precision:
        pilot = spec.replicates or PILOT_REPLICATES
        sweep, precision_report = choose_replicates(replace(sweep, replicates=pilot),
                                                    parse_precision(spec.precision), spec.max_replicates,
                                                    spec.block_points)
    size = estimate(sweep.grille.size, sweep.replicates, len(sweep.outputs), spec.workers)
    check_estimate(size, scheduler=scheduler, names=n)
    target = spec.target
    result = SweepResult(target, size, precision_report)
    if on_start is not None:
        on_start(result)
    partial = target.with_name(target.name + ".partial")
    fingerprint = sweep.fingerprint()
    manifest = _manifest(sweep, fingerprint)
    if precision_report is not None:
        manifest["precision"] = precision_report
    store = partial / STORE
    if spec.resume and not partial.exists() and target.exists():
        if _fingerprint_of(target) == fingerprint:
            return replace(result, already_done=True)  # finished already, with the same inputs
        raise InputError([Problem(n["source"], n["resume"], target, "a finished sweep of other inputs "
                                  "(scenario, grid, replicates, seed, outputs or code) is at this path; "
                                  f"{n['resume']} only finishes an interrupted sweep of the same inputs",
                                  f"the same inputs, or the command without {n['resume']} to replace that sweep, "
                                  f"or another {n['out']}")])
    check_target(target, "sweep")  # before anything is computed, connected or written
    # the cluster next: an unreachable scheduler is bad input, and nothing is on disk yet
    client, cluster = _client(spec.workers, scheduler, n) if (spec.workers or scheduler) else (None, None)
    if cluster is not None and spec.keep_freed_memory:  # our own workers, restarted ones included
        client.register_worker_callbacks(setup=keep_freed_memory)
    try:
        with claim_output(target, "sweep", resumable=True) as claim:
            resuming = spec.resume and claim.existed and (partial / MANIFEST).is_file()
            if resuming:
                before = _fingerprint_of(partial)
                if before != fingerprint:
                    raise InputError([Problem(str(partial), "fingerprint", before or MISSING,
                                              "the interrupted sweep was started with other inputs (scenario, grid, "
                                              "replicates, seed, outputs or code)",
                                              f"the same inputs ({fingerprint[:12]}), or the command without "
                                              f"{n['resume']} to start again")])
            else:
                if claim.existed:
                    claim.restart()  # an interrupted sweep of cogsim's own, started again from nothing
                (partial / DONE_DIR).mkdir()
                _template(sweep, _attrs(sweep, fingerprint)).to_zarr(store, compute=False, mode="w", zarr_format=2)
                write_json(partial / MANIFEST, manifest)
            done = _done(partial)
            todo = [b for b in range(sweep.n_blocks) if b not in done]
            bar = _progress(len(todo), sweep.n_blocks - len(todo), sweep.n_blocks, progress)
            try:
                if client is not None:
                    _run_distributed(client, sweep, fingerprint, todo, store, partial, bar, on_block)
                else:
                    for b in todo:
                        _write_block(store, sweep, b, evaluate_block(sweep, b))
                        _mark_done(partial, b)
                        bar.update(1)
                        if on_block:
                            on_block(b, None)
            finally:
                bar.close()
            manifest["timings_s"] = {"total_s": round(time.perf_counter() - t0, 3)}
            manifest["blocks"] = {"total": sweep.n_blocks, "resumed_from": len(done)}
            write_json(partial / MANIFEST, manifest)
            shutil.rmtree(partial / DONE_DIR)
            claim.publish()
    finally:
        if client is not None:
            client.close()
        if cluster is not None:
            cluster.close()
    return result


def choose_replicates(sweep: Sweep, precisions: Sequence[Precision], max_replicates: int,
                      block_points: int | None = None) -> tuple[Sweep, dict[str, Any]]:
    """Run ``sweep.replicates`` pilot replicates at the grid's corners (the two ends of the first four
    axes, the middle of the others) and return the sweep with the replicates that reach every target
    half-width at every pilot point, and a report."""
    axes = tuple(replace(a, values=a.values[[0, a.size - 1] if i < 4 and a.size > 1 else [a.size // 2]])
                 for i, a in enumerate(sweep.grille.axes))
    g = Grille(axes, sweep.grille.source, sweep.grille.header)
    variables = tuple(dict.fromkeys(p.variable for p in precisions))
    pilot = replace(sweep, grille=g, outputs=variables, chunks=g.shape)
    res = evaluate_block(pilot, 0)
    needed: dict[str, dict[str, float]] = {}
    for p in precisions:
        cell = res[p.variable][..., ANNEES.index(p.year), ORGANISMES_SORTIE.index(p.organisme), :]
        means, sds = cell[..., 0].ravel(), cell[..., STATISTIQUES.index("ecart_type")].ravel()
        n = max(replicates_needed(float(sd), float(m), p) for sd, m in zip(sds, means))
        needed[p.text] = {"replicates": n, "pilot_sd_max": float(np.nanmax(sds)) if np.isfinite(sds).any() else None}
    chosen, report = choose(needed, sweep.replicates, max_replicates, f" at {g.size} corner point(s)")
    report["pilot_points"] = g.size
    target = BATCH_TARGET if block_points is None else block_points * chosen
    return replace(sweep, replicates=chosen, chunks=choose_chunks(sweep.grille.shape, chosen, target)), report


def _run_distributed(client, sweep: Sweep, tag: str, todo: list[int], store: Path, partial: Path, bar,
                     on_block) -> None:
    """Submit the blocks to the cluster, a few per worker at a time (so that the scheduler's memory does
    not grow with the grid), and write each result as it arrives."""
    # lazy: optional dependency (cogsim[sweep])
    from dask.distributed import as_completed

    spec = client.scatter(sweep, broadcast=True)
    window = 2 * max(1, len(client.scheduler_info()["workers"])) + 2
    pending = iter(todo)
    futures = {}

    def submit_next(ac=None) -> None:
        b = next(pending, None)
        if b is None:
            return
        fut = client.submit(evaluate_block, spec, b, key=f"cogsim-bloc-{b}-{tag[:12]}", retries=3)
        futures[fut] = b
        if ac is not None:
            ac.add(fut)

    for _ in range(window):
        submit_next()
    ac = as_completed(list(futures))
    for fut in ac:
        b = futures.pop(fut)
        _write_block(store, sweep, b, fut.result())
        _mark_done(partial, b)
        fut.release()
        bar.update(1)
        submit_next(ac)
        if on_block:
            on_block(b, client)


SCHEDULER_ALLOWED = ("the address of a running dask scheduler: tcp://HOST:PORT (or HOST:PORT), tls://HOST:PORT, "
                     "ws://HOST:PORT, wss://HOST:PORT or ucx://HOST:PORT, e.g. tcp://10.0.0.5:8786")


def scheduler_problem(address: str, names: Mapping[str, str] | None = None) -> Problem | None:
    """What is wrong with a scheduler address (None if it has the form dask accepts)."""

    n = noms(names)
    m = re.fullmatch(r"(?:(tcp|tls|ws|wss|ucx)://)?(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?)"
                     r":([0-9]{1,5})", address)
    if m is None or not 1 <= int(m.group(3)) <= 65535:
        return Problem(n["source"], n["scheduler"], address, "not a dask scheduler address", SCHEDULER_ALLOWED)
    return None


def _client(workers: int | None, scheduler: str | None, names: Mapping[str, str]):

    # lazy: optional dependency (cogsim[sweep])
    from dask.distributed import Client, LocalCluster

    if scheduler:
        try:
            return Client(scheduler, timeout="10s"), None
        except (OSError, TimeoutError, ValueError) as exc:
            raise InputError([Problem(names["source"], names["scheduler"], scheduler, f"cannot connect: {exc}",
                                      "the address of a running dask scheduler, e.g. tcp://10.0.0.5:8786")])
    cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None,
                           silence_logs=logging.ERROR)
    return Client(cluster), cluster


def _progress(total: int, initial: int, n_blocks: int, enabled: bool | None):
    # lazy: only for the progress bar on a terminal
    from tqdm import tqdm

    return tqdm(total=n_blocks, initial=initial, unit="bloc", desc="sweep", file=sys.stderr,
                disable=(None if enabled is None else not enabled), dynamic_ncols=True)


def _attrs(sweep: Sweep, fingerprint: str) -> dict[str, Any]:
    g = sweep.grille
    return {"title": dict(g.header).get("title", f"Sweep of {Path(sweep.scenario).name}"),
            "scenario": sweep.scenario, "seed": sweep.seed, "mode": sweep.mode, "replicates": sweep.replicates,
            "grid": json.dumps(g.describe(), ensure_ascii=False), "cogsim_version": __version__,
            "git_commit": git_commit()["commit"] or "unknown", "fingerprint": fingerprint,
            "random_streams": "common random numbers: replicate r uses SeedSequence(seed, spawn_key=(r, flow)) "
                              "at every grid point, and draws the same fitted parameters there (manifest.json: "
                              "incertitude_parametres)"}


def _manifest(sweep: Sweep, fingerprint: str) -> dict[str, Any]:
    sc = load_scenario(sweep.scenario)
    return {"created_utc": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"), "command": sys.argv,
            "scenario": {"file": sweep.scenario, "header": dict(sc.header), "chain": [str(f) for f in sc.chain]},
            "grid": sweep.grille.describe(), "grid_source": sweep.grille.source, "shape": list(sweep.grille.shape),
            "replicates": sweep.replicates, "seed": sweep.seed, "mode": sweep.mode, "outputs": list(sweep.outputs),
            "statistics": list(STATISTIQUES), "chunks": list(sweep.chunks), "fingerprint": fingerprint,
            "warnings": [w.as_dict() for w in sc.warnings],
            "incertitude_parametres": description(
                sc.parametres, sweep.mode, sweep.seed, loi_calibree() if tire(sc.parametres, sweep.mode) else None),
            "code": {"cogsim": __version__, **git_commit()}}


def _fingerprint_of(folder: Path) -> str | None:
    try:
        return json.loads((folder / MANIFEST).read_text(encoding="utf-8")).get("fingerprint")
    except (OSError, ValueError):
        return None




