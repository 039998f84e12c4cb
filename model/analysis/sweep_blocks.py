"""The blocks of a sweep (:mod:`model.analysis.sweep` runs them): the work (:class:`Sweep`), a block computed
(the statistics over the replicates of each of its points), and the Zarr store the blocks are written to.

Blocks and batches
    The grid is cut into blocks (a hyper-rectangle of about ``BATCH_TARGET / replicates`` points); a
    block is one task. Within a block, the points that differ only in the engine's batch parameters
    (``model.engine.simulation.PARAMETRES_LOT``: replacement rates, CDD renewal, extra hires, plafond d'emplois,
    other-exit rates, CDD duration) run in **one** engine batch of points × replicates; points that
    differ in any other parameter (entrant ages, the initial state, budget parameters...) need an
    engine batch or a Dataset of their own, so those grids cost about 0.4 s per distinct value.

Statistics
    For every result variable, year and organisme (régime général and total included): the mean, the
    5/50/95 % quantiles and the standard deviation over the replicates (``statistique`` =
    :data:`~model.results.dataset.STATISTIQUES`).

Store
    ``OUT/sweep.zarr``, chunked like the blocks, created empty (:func:`template`) before the first block;
    each block is written into its own region (:func:`write_block`) then marked done (:func:`mark_done`:
    a marker in ``blocs/`` written after the block's data, so that a resumed sweep neither recomputes nor
    writes a block twice). :func:`open_sweep` opens a finished sweep.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import json
import math
import os
import warnings
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import xarray as xr

from model import __version__
from model.analysis.grille import Grille
from model.engine.etat_initial import etat_initial
from model.engine.lot import HORS_MOTEUR, HORS_MOTEUR_ORGANISME, PARAMETRES_LOT
from model.engine.simulation import Mode, simulate
from model.params.calendrier import ORGANISMES_SORTIE, Horizon
from model.params.calibres import CALIBRATION_FILE
from model.params.catalogue import catalogue_files
from model.params.incertitude import description, loi_calibree, tirages, tire
from model.params.parametres import Parametres, ParametresLot
from model.params.scenario import file_hash, load_scenario
from model.results.dataset import QUANTILES, REGISTRE, STATISTIQUES, Tableaux, aggregate_values, build_dataset
from model.results.writers import git_commit

__all__ = ["BATCH_TARGET", "STORE", "MANIFEST", "DONE_DIR", "Sweep", "choose_chunks", "en_lot", "statistiques",
           "evaluate_block", "template", "write_block", "mark_done", "blocks_done", "open_sweep", "store_attrs",
           "sweep_manifest", "fingerprint_of"]

BATCH_TARGET = 1000  # batch elements (points × replicates) per task: ≈ 250 MiB of engine state
STORE = "sweep.zarr"
MANIFEST = "manifest.json"
DONE_DIR = "blocs"


# ----------------------------------------------------------------------------- the work
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
    def horizon(self) -> Horizon:
        """The years of the sweep: its scenario's horizon (a grid never moves it)."""
        return _scenario(self.scenario).horizon

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
    out = {v: np.empty((len(points), par.horizon.n_annees, len(ORGANISMES_SORTIE), len(STATISTIQUES))) for v in sweep.outputs}
    loi = loi_calibree(horizon=par.horizon) if tire(par, sweep.mode) else None  # parameter draws (model.params.incertitude)
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
def template(sweep: Sweep, attrs: dict[str, Any]) -> xr.Dataset:
    """The empty store of ``sweep`` (NaN, lazily: dask arrays chunked like the blocks) with its coordinates
    and ``attrs`` (:func:`store_attrs`); ``template(...).to_zarr(path, compute=False)`` writes its metadata."""
    # lazy: optional dependency (cogsim[sweep])
    import dask.array as da

    g = sweep.grille
    h = sweep.horizon
    dims = (*g.names, "year", "organisme", "statistique")
    shape = (*g.shape, h.n_annees, len(ORGANISMES_SORTIE), len(STATISTIQUES))
    chunks = (*sweep.chunks, h.n_annees, len(ORGANISMES_SORTIE), len(STATISTIQUES))
    variables = {}
    for v in sweep.outputs:
        units, ln, ln_fr, agg = REGISTRE[v]
        variables[v] = (dims, da.full(shape, np.nan, chunks=chunks),
                        {"units": units, "long_name": ln, "long_name_fr": ln_fr, "aggregation": agg})
    coords: dict[str, Any] = {
        "year": ("year", list(h.annees), {"long_name": "Calendar year", "long_name_fr": "Année civile"}),
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


def write_block(store: Path, sweep: Sweep, b: int, result: dict[str, np.ndarray]) -> None:
    """Write the statistics of block ``b`` (:func:`evaluate_block`) into its region of the store."""
    g = sweep.grille
    dims = (*g.names, "year", "organisme", "statistique")
    ds = xr.Dataset({v: (dims, x) for v, x in result.items()})
    region = {name: s for name, s in zip(g.names, sweep.block_slices(b))}
    region.update(year=slice(None), organisme=slice(None), statistique=slice(None))
    ds.to_zarr(store, region=region, mode="r+", zarr_format=2)


def mark_done(partial: Path, b: int) -> None:
    """Mark block ``b`` of the sweep written in ``partial`` done (after its data: a marker file)."""
    marker = partial / DONE_DIR / f"{b}.done"
    tmp = marker.with_suffix(".tmp")
    tmp.write_text(dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds") + "\n")
    os.replace(tmp, marker)


def blocks_done(partial: Path) -> set[int]:
    """The blocks marked done in the sweep written in ``partial``."""
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


# ----------------------------------------------------------------------------- provenance
def store_attrs(sweep: Sweep, fingerprint: str) -> dict[str, Any]:
    """The global attributes of the store: title, scenario, seed, mode, replicates, grid, code, fingerprint."""
    g = sweep.grille
    return {"title": dict(g.header).get("title", f"Sweep of {Path(sweep.scenario).name}"),
            "scenario": sweep.scenario, "seed": sweep.seed, "mode": sweep.mode, "replicates": sweep.replicates,
            "grid": json.dumps(g.describe(), ensure_ascii=False), "cogsim_version": __version__,
            "git_commit": git_commit()["commit"] or "unknown", "fingerprint": fingerprint,
            "random_streams": "common random numbers: replicate r uses SeedSequence(seed, spawn_key=(r, flow)) "
                              "at every grid point, and draws the same fitted parameters there (manifest.json: "
                              "incertitude_parametres)"}


def sweep_manifest(sweep: Sweep, fingerprint: str, command: Sequence[str] = ()) -> dict[str, Any]:
    """``manifest.json`` of a sweep: its inputs, the command line that asked for it (``command``, given by
    the caller), the grid, statistics, blocks' shape, fingerprint, the scenario's warnings, the code."""
    sc = load_scenario(sweep.scenario)
    return {"created_utc": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"), "command": list(command),
            "scenario": {"file": sweep.scenario, "header": dict(sc.header), "chain": [str(f) for f in sc.chain]},
            "grid": sweep.grille.describe(), "grid_source": sweep.grille.source, "shape": list(sweep.grille.shape),
            "replicates": sweep.replicates, "seed": sweep.seed, "mode": sweep.mode, "outputs": list(sweep.outputs),
            "statistics": list(STATISTIQUES), "chunks": list(sweep.chunks), "fingerprint": fingerprint,
            "warnings": [w.as_dict() for w in sc.warnings],
            "incertitude_parametres": description(
                sc.parametres, sweep.mode, sweep.seed,
                loi_calibree(horizon=sc.parametres.horizon) if tire(sc.parametres, sweep.mode) else None),
            "code": {"cogsim": __version__, **git_commit()}}


def fingerprint_of(folder: Path) -> str | None:
    """The fingerprint recorded in the manifest of the sweep in ``folder`` (None when unreadable)."""
    try:
        return json.loads((folder / MANIFEST).read_text(encoding="utf-8")).get("fingerprint")
    except (OSError, ValueError):
        return None
