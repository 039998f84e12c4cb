"""Scenario grids at scale (``cogsim sweep``): one Dataset with one dimension per swept parameter.

A sweep runs every point of a :class:`~model.analysis.grille.Grille` with ``replicates`` stochastic replicates
(common random numbers: replicate r uses the same random streams at every point, so differences
between points are the parameters' and not the dice's) and stores, for every result variable, year and
organisme (régime général and total included), the mean, the 5/50/95 % quantiles and the standard
deviation over the replicates. The blocks, their statistics and the Zarr store are
:mod:`model.analysis.sweep_blocks`'; this module validates the inputs and runs the blocks.

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

import importlib.util
import logging
import re
import shutil
import sys
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

import numpy as np

from model.analysis.grille import Grille, check_grid, load_sweep_file, parse_grid
from model.analysis.precision import (MAX_REPLICATES, PILOT_REPLICATES, Precision, choose, parse_precision,
                                      replicates_needed)
from model.analysis.sweep_blocks import (BATCH_TARGET, DONE_DIR, MANIFEST, STORE, Sweep, blocks_done, choose_chunks,
                                         evaluate_block, fingerprint_of, mark_done, open_sweep, store_attrs,
                                         sweep_manifest, template, write_block)
from model.analysis.taille import Estimation, check_estimate, estimate, noms
from model.engine.simulation import keep_freed_memory
from model.params.calendrier import ORGANISMES_SORTIE
from model.params.errors import MISSING, InputError, Problem, unknown_name
from model.params.scenario import load_scenario
from model.results.dataset import REGISTRE, STATISTIQUES
from model.results.run import simulation_overrides
from model.results.writers import check_target, claim_output, write_json

__all__ = ["DEFAULT_REPLICATES", "SweepSpec", "SweepResult", "prepare", "run_sweep", "choose_replicates",
           "check_optional_dependencies", "scheduler_problem", "SCHEDULER_ALLOWED",
           # the blocks and the store, for the callers of a sweep (model.analysis.sweep_blocks)
           "BATCH_TARGET", "STORE", "Sweep", "open_sweep"]

DEFAULT_REPLICATES = 10


# ----------------------------------------------------------------------------- the spec
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
    command : the command line that asked for the sweep, recorded in ``manifest.json`` (the caller's: the
        library does not read ``sys.argv``).
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
    command: tuple[str, ...] = ()
    names: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for name in ("grid", "precision", "outputs", "command"):
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
        object.__setattr__(self, "names", noms(self.names, "SweepSpec.names"))

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
        precisions = parse_precision(spec.precision, option=n["precision"], source=cl, horizon=par.horizon)
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
    check_estimate(estimate(grille.size, R, len(outs), horizon=par.horizon), scheduler=spec.scheduler, names=n,
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
                                                    parse_precision(spec.precision, horizon=sweep.horizon),
                                                    spec.max_replicates,
                                                    spec.block_points)
    size = estimate(sweep.grille.size, sweep.replicates, len(sweep.outputs), spec.workers, sweep.horizon)
    check_estimate(size, scheduler=scheduler, names=n)
    target = spec.target
    result = SweepResult(target, size, precision_report)
    if on_start is not None:
        on_start(result)
    partial = target.with_name(target.name + ".partial")
    fingerprint = sweep.fingerprint()
    manifest = sweep_manifest(sweep, fingerprint, spec.command)
    if precision_report is not None:
        manifest["precision"] = precision_report
    store = partial / STORE
    if spec.resume and not partial.exists() and target.exists():
        if fingerprint_of(target) == fingerprint:
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
                before = fingerprint_of(partial)
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
                template(sweep, store_attrs(sweep, fingerprint)).to_zarr(store, compute=False, mode="w", zarr_format=2)
                write_json(partial / MANIFEST, manifest)
            done = blocks_done(partial)
            todo = [b for b in range(sweep.n_blocks) if b not in done]
            bar = _progress(len(todo), sweep.n_blocks - len(todo), sweep.n_blocks, progress)
            try:
                if client is not None:
                    _run_distributed(client, sweep, fingerprint, todo, store, partial, bar, on_block)
                else:
                    for b in todo:
                        write_block(store, sweep, b, evaluate_block(sweep, b))
                        mark_done(partial, b)
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
        cell = res[p.variable][..., sweep.horizon.index(p.year), ORGANISMES_SORTIE.index(p.organisme), :]
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
        write_block(store, sweep, b, fut.result())
        mark_done(partial, b)
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
