"""A run, end to end: scenario → initial state → simulation → Dataset → results folder."""

from __future__ import annotations

import contextlib
import datetime as dt
import platform
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import numpy as np
import xarray as xr

from model import __version__
from model.engine.etat_initial import etat_final, etat_initial, reconstruct
from model.engine.reprise import Reprise, prolonger, reprise_de
from model.engine.simulation import simulate
from model.params.calendrier import AGGREGATS, HORIZON_DEFAUT, ORGANISMES, Horizon
from model.params.catalogue import catalogue_files
from model.params.errors import InputError, Problem
from model.params.incertitude import LoiParametres, description, loi_calibree, tirages, tire
from model.params.inducteurs import description as description_inducteurs
from model.params.scenario import Scenario, file_hash, load_scenario
from model.results.cibles import RespectCibles, avec_probabilites
from model.results.dataset import REGISTRE, StatistiquesReplicates, build_dataset
from model.params.effectifs import EtatInitial, texte_csv
from model.results.writers import claim_output, git_commit, write_results_into, write_text

# a run of more replicates than these is simulated in blocks of BLOC_REPLICATES replicates (replicate r
# has the same streams whatever its block), and its Dataset keeps the per-replicate values of the first
# REPLICATES_GARDES replicates only, with statistics over all of them (model.results.dataset.StatistiquesReplicates):
# memory stays bounded (≈ 360 MiB) up to the catalogue's 100 000 replicates
BLOC_REPLICATES = 1000
REPLICATES_GARDES = 1000


@dataclass(frozen=True)
class RunResult:
    scenario: Scenario
    dataset: xr.Dataset
    manifest: dict[str, Any]
    out: Path | None


def run_id(scenario: Scenario, overrides: dict[str, Any]) -> str:
    """A folder name that encodes the run's inputs: the scenario name plus any command-line change."""
    parts = [scenario.name]
    if overrides.get("simulation.mode") == "deterministic":
        parts.append("deterministe")
    if "simulation.replicates" in overrides:
        parts.append(f"r{overrides['simulation.replicates']}")
    if "simulation.seed" in overrides:
        parts.append(f"s{overrides['simulation.seed']}")
    return "-".join(parts)


def simulation_overrides(replicates: int | None = None, seed: int | None = None,
                         deterministic: bool = False) -> dict[str, Any]:
    """The command-line options as ``simulation.*`` overrides of a scenario (validated like its values)."""
    overrides: dict[str, Any] = {}
    if replicates is not None:
        overrides["simulation.replicates"] = replicates
    if seed is not None:
        overrides["simulation.seed"] = seed
    if deterministic:
        overrides["simulation.mode"] = "deterministic"
    return overrides


def run_scenario(path: str | Path, *, out: str | Path | None = None, replicates: int | None = None,
                 seed: int | None = None, deterministic: bool = False, results_dir: str | Path = "results",
                 write: bool = True, on_warnings: Callable[[list], None] | None = None,
                 on_notice: Callable[[str], None] | None = None, export_state: int | None = None) -> RunResult:
    """Run one scenario file and (by default) write ``results/<run-id>/``.

    Command-line options override the scenario's ``simulation.*`` values and are validated the same
    way. In deterministic mode one replicate is run (they would all be equal). ``on_warnings`` is
    called with the scenario's warnings before the simulation starts, ``on_notice`` with what a run in
    blocks will use (:func:`blocks_plan`).

    Runs of more than ``BLOC_REPLICATES`` (or ``REPLICATES_GARDES``) replicates are simulated in blocks
    (:func:`simulate_in_blocks`): the Dataset keeps the first ``REPLICATES_GARDES`` replicates and
    statistics over all of them; the manifest's ``replicates_kept`` and ``statistics`` say so.

    A first year after 2013 without a staff file starts from the model's own state at 31 December of the
    year before (:func:`depart_tardif`; the manifest's ``etat_initial`` says so). ``export_state``: a year
    of the horizon; the run folder also gets ``etat_31dec_<year>.csv``, the expected (deterministic) state
    at its 31 December in the format of ``etat_initial.fichier``, with the mean pay per cell, from which a
    run of the following years starts (:func:`etat_fin_du_scenario`).
    """
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    overrides = simulation_overrides(replicates, seed, deterministic)
    sc = load_scenario(path, overrides)
    par = sc.parametres
    if export_state is not None and export_state not in par.horizon:
        raise InputError([Problem("arguments", "export_state", export_state,
                                  f"outside the horizon {par.horizon}",
                                  f"a year from {par.horizon.premiere} to {par.horizon.derniere}")])
    depart = depart_tardif(path, sc, overrides)
    etat0 = depart.etat0 if depart is not None else etat_initial(par, base_dir=Path(path).parent)
    timings["load_s"] = time.perf_counter() - t0
    if on_warnings is not None:
        on_warnings(sc.warnings)  # before the run: a long run is not a reason to hear of them late
    plan = blocks_plan(1 if par["simulation.mode"] == "deterministic" else par["simulation.replicates"], par.horizon)
    if plan is not None:
        check_blocks_plan(plan)
        if on_notice is not None:
            on_notice(plan["message"])
    with contextlib.ExitStack() as stack:
        target = None
        claim = None
        if write:  # the destination is checked, locked and proved writable before the simulation
            target = Path(out) if out else Path(results_dir) / run_id(sc, overrides)
            claim = stack.enter_context(claim_output(target, "run"))
        ds, manifest = _simulate(path, sc, etat0, timings, depart)
        if claim is not None:
            manifest["run_id"] = target.name
            ds.attrs["run_id"] = target.name
            if export_state is not None:
                fin = etat_fin_du_scenario(sc, etat0, export_state, depart)
                nom = f"etat_31dec_{export_state}.csv"
                write_text(claim.tmp / nom, texte_csv(fin))
                manifest["etat_exporte"] = {"fichier": nom, "source": fin.source}
            write_results_into(ds, manifest, claim.tmp)
            claim.publish()
    timings["total_s"] = time.perf_counter() - t0
    return RunResult(sc, ds, manifest, target)


def _simulate(path, sc: Scenario, etat0, timings: dict[str, float],
              depart: DepartTardif | None = None) -> tuple[xr.Dataset, dict[str, Any]]:
    """Simulate and post-process a loaded scenario: the Dataset and the run's manifest."""
    par = sc.parametres
    mode = par["simulation.mode"]
    n_rep = 1 if mode == "deterministic" else par["simulation.replicates"]
    seed_used = par["simulation.seed"]
    kept = min(n_rep, REPLICATES_GARDES)
    loi = loi_calibree(horizon=par.horizon) if tire(par, mode) else None  # parameter uncertainty (model.params.incertitude)
    loi_complete = None if loi is None or depart is None else loi_calibree(horizon=depart.complet.parametres.horizon)

    inputs = {str(f): h for f, h in sc.hashes.items()}
    for cat_file in catalogue_files():
        inputs[cat_file.name] = file_hash(cat_file)
    if par["etat_initial.fichier"]:
        p = Path(par["etat_initial.fichier"])
        p = p if p.is_absolute() else Path(path).parent / p
        inputs[str(p)] = file_hash(p)
    manifest: dict[str, Any] = {
        "run_id": None,
        "created_utc": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "command": sys.argv,
        "scenario": {"file": str(path), "header": dict(sc.header), "chain": [str(f) for f in sc.chain]},
        "seed": seed_used,
        "mode": mode,
        "replicates": n_rep,
        "replicates_kept": kept,
        "statistics": _statistics_note(n_rep, kept),
        "random_streams": "numpy SeedSequence(seed, spawn_key=(replicate, flow)), flows: "
                          "retraite, autres_departs, fins_cdd, recrutement, ages_entrants, transferts, allocation",
        "incertitude_parametres": description(par, mode, seed_used, loi),
        "incertitude_inducteurs": description_inducteurs(par, tire(par, mode) and loi is not None, seed_used),
        "horizon": {"premiere_annee": par.horizon.premiere, "derniere_annee": par.horizon.derniere},
        "etat_initial": {"source": etat0.source, "estimated": etat0.estimated,
                         "au": f"{par.horizon.premiere - 1}-12-31", "avec_remuneration": etat0.indice is not None,
                         "historique": None if depart is None else (
                             f"the results' years {HORIZON_DEFAUT.premiere}-{par.horizon.premiere - 1} are the model's "
                             "history (the scenario from 2013, deterministic): base years of the ceilings, budget "
                             "and targets" + ("; the RMPP of the first year is not computed (a staff file)"
                                              if par["etat_initial.fichier"] else ""))},
        "code": {"cogsim": __version__, **git_commit(), "python": platform.python_version(),
                 "numpy": np.__version__, "xarray": xr.__version__},
        "inputs_sha256": inputs,
        "warnings": [w.as_dict() for w in sc.warnings],
        "parameters": par.to_json(),
        "timings_s": timings,
    }
    attrs = {
        "title": sc.header.get("title", sc.name),
        "scenario": str(path),
        "seed": seed_used,
        "mode": mode,
        "replicates": n_rep,
        "cogsim_version": __version__,
        "git_commit": manifest["code"]["commit"] or "unknown",
        "etat_initial": etat0.source,
        "warnings": [str(w) for w in sc.warnings],
        "incertitude_parametres": _attribut_incertitude(manifest["incertitude_parametres"]),
        "Conventions": "CF-1.8 (units as COG documents write them)",
    }
    t1 = time.perf_counter()
    if in_one_batch(n_rep):
        lot = tirages(par, mode, seed_used, n_rep, loi=loi)
        traj = simulate(lot, etat0, replicates=n_rep, seed=seed_used, mode=mode,
                        reprise=None if depart is None else depart.reprise)
        if depart is not None:
            lot, traj = depart.lot_et_trajectoire(traj, mode, seed_used, n_rep, 0, loi_complete)
        t2 = time.perf_counter()
        timings["simulate_s"] = t2 - t1
        ds = build_dataset(traj, lot, attrs)
        ds = avec_probabilites(ds, RespectCibles().add(ds), mode)
        timings["dataset_s"] = time.perf_counter() - t2
    else:  # simulation and Dataset interleaved, block by block
        ds = simulate_in_blocks(par, etat0, n_rep, seed_used, mode, attrs, loi=loi, depart=depart,
                                loi_complete=loi_complete)
        timings["simulate_and_dataset_s"] = time.perf_counter() - t1
    return ds, manifest


@dataclass(frozen=True)
class DepartTardif:
    """A run whose first year is after 2013 (:mod:`model.engine.reprise`): its initial state (the staff
    file, or the model's own state at 31 December of the year before), the model's history ``hist`` (the
    scenario from 2013, deterministic) and what the run takes over from it; ``complet``: the scenario's
    parameters from 2013 (the results cover 2013 to the last year, the years before the first one being
    the history)."""

    etat0: EtatInitial
    complet: Scenario
    hist: Any
    reprise: Reprise
    mois: int

    def lot_et_trajectoire(self, traj, mode: str, seed: int, replicates: int, first: int,
                           loi: LoiParametres | None):
        """The parameters (with the same draws) and the trajectory over 2013 to the last year."""
        lot = tirages(self.complet.parametres, mode, seed, replicates, first, loi)
        return lot, prolonger(self.hist, traj, self.mois)


def depart_tardif(path: str | Path, sc: Scenario, overrides: dict[str, Any] | None = None) -> DepartTardif | None:
    """For a first year after 2013: the history and the initial state (the staff file, else the model's own
    state at 31 December of the year before, :func:`model.engine.etat_initial.etat_final`); None otherwise."""
    par = sc.parametres
    h = par.horizon
    if h.premiere == HORIZON_DEFAUT.premiere:
        return None
    complet = load_scenario(path, {**(overrides or {}), "simulation.premiere_annee": HORIZON_DEFAUT.premiere,
                                   "etat_initial.fichier": ""})  # the history starts from the reconstruction
    pc = complet.parametres
    hist = simulate(pc, reconstruct(pc), replicates=1, seed=par["simulation.seed"], mode="deterministic",
                    etat_au=h.premiere - 1)
    if par["etat_initial.fichier"]:
        etat0 = etat_initial(par, base_dir=Path(path).parent, tardif=True)
    else:
        etat0 = etat_final(hist, 0, f"simulated by cogsim from 2013 to 31 December {h.premiere - 1} (the "
                                    f"deterministic run of {sc.name} from 2013; estimated)")
    mois = 12 * (h.premiere - HORIZON_DEFAUT.premiere)
    return DepartTardif(etat0, complet, hist, reprise_de(hist, mois, not par["etat_initial.fichier"]), mois)


def etat_fin_du_scenario(sc: Scenario, etat0: EtatInitial, annee: int,
                         depart: DepartTardif | None = None) -> EtatInitial:
    """The expected state at 31 December ``annee`` of ``sc`` started from ``etat0`` (one deterministic
    replicate at the scenario's seed, over the whole horizon: a year's ceilings glide towards the next
    year's), with the mean pay per cell."""
    par = sc.parametres
    traj = simulate(par, etat0, replicates=1, seed=par["simulation.seed"], mode="deterministic", etat_au=annee,
                    reprise=None if depart is None else depart.reprise)
    return etat_final(traj, 0, f"simulated by cogsim: {sc.name} at 31 December {annee} (deterministic; from "
                               f"{etat0.source})")


def in_one_batch(replicates: int) -> bool:
    """Whether a run of ``replicates`` replicates is simulated in one batch (else in blocks)."""
    return replicates <= min(BLOC_REPLICATES, REPLICATES_GARDES)


def blocks_plan(replicates: int, horizon: Horizon = HORIZON_DEFAUT) -> dict[str, Any] | None:
    """What a run of ``replicates`` replicates in blocks will use, or None for a run in one batch.

    The statistics over all replicates go through a temporary file of at most ``variables × years ×
    (organismes + aggregates) × 8`` bytes per replicate (:class:`model.results.dataset.StatistiquesReplicates`)
    in the system's temporary folder (``TMPDIR``); memory is that of one block.
    """
    if in_one_batch(replicates):
        return None
    per_replicate = len(REGISTRE) * horizon.n_annees * (len(ORGANISMES) + len(AGGREGATS)) * 8
    folder = tempfile.gettempdir()
    disk = replicates * per_replicate
    free = shutil.disk_usage(folder).free
    kept = min(replicates, REPLICATES_GARDES)
    return {"replicates": replicates, "block": BLOC_REPLICATES, "kept": kept, "temporary_folder": folder,
            "temporary_bytes": disk, "free_bytes": free,
            "message": f"{replicates} replicates, simulated in blocks of {BLOC_REPLICATES}: results.nc keeps the "
                       f"first {kept}, results.csv has exact statistics over all {replicates}; at most "
                       f"{disk / 1e9:.1f} GB of temporary disk in {folder} ({free / 1e9:.1f} GB free), "
                       f"deleted at the end; memory that of one block (about 0.4 GB)"}


def check_blocks_plan(plan: dict[str, Any]) -> None:
    """Refuse (exit 2) a run in blocks whose temporary file would not fit on its disk."""
    if plan["temporary_bytes"] > plan["free_bytes"]:
        raise InputError([Problem("arguments", "replicates", plan["replicates"],
                                  f"needs up to {plan['temporary_bytes'] / 1e9:.1f} GB of temporary disk in "
                                  f"{plan['temporary_folder']}, which has {plan['free_bytes'] / 1e9:.1f} GB free",
                                  "fewer replicates, or TMPDIR set to a folder on a disk with room")])


def _attribut_incertitude(d: dict[str, Any]) -> str:
    """The Dataset attribute of the parameter draws (one line; the manifest has the details)."""
    if not d["tirees"]:
        return f"no: {d['raison']}"
    return (f"yes: {len(d['tires'])} fitted scalars drawn per replicate from {d['source']} (sha256 {d['sha256'][:12]}), "
            f"seed {d['graine']}")


def _statistics_note(n_rep: int, kept: int) -> str:
    if kept == n_rep:
        return f"every replicate ({n_rep}) in results.nc; results.csv: mean and 5/50/95 % quantiles over them"
    return (f"results.nc keeps the per-replicate values of replicates 0-{kept - 1} of {n_rep}; its coordinate "
            f"'statistiques' (variable, year, organisme_agrege, statistique) and results.csv hold the exact mean, "
            f"5/50/95 % quantiles and standard deviation over all {n_rep} replicates")


def simulate_in_blocks(par, etat0, replicates: int, seed: int, mode: str,
                       attrs: dict[str, Any] | None = None, loi: LoiParametres | None = None,
                       depart: DepartTardif | None = None, loi_complete: LoiParametres | None = None) -> xr.Dataset:
    """Simulate ``replicates`` replicates in blocks of ``BLOC_REPLICATES``; the Dataset of the first
    ``REPLICATES_GARDES`` (each bit-identical to the same replicate of a run in one batch: its random
    streams and, with ``loi``, its parameter draws (:func:`model.params.incertitude.tirages`) depend on its
    index only) with, when some are dropped, the coordinate ``statistiques``:
    exact statistics over every replicate (:class:`model.results.dataset.StatistiquesReplicates`), and the
    probability of meeting each COG target over every replicate (:class:`model.results.cibles.RespectCibles`)."""
    kept = min(replicates, REPLICATES_GARDES)
    parts: list[xr.Dataset] = []
    stats: StatistiquesReplicates | None = None
    respect = RespectCibles()
    for r0 in range(0, replicates, BLOC_REPLICATES):
        rb = min(BLOC_REPLICATES, replicates - r0)
        lot = tirages(par, mode, seed, rb, r0, loi)
        traj = simulate(lot, etat0, replicates=rb, seed=seed, mode=mode, first_replicate=r0,
                        reprise=None if depart is None else depart.reprise)
        if depart is not None:
            lot, traj = depart.lot_et_trajectoire(traj, mode, seed, rb, r0, loi_complete)
        block = build_dataset(traj, lot)
        del lot
        del traj
        respect.add(block)
        if kept < replicates:
            if stats is None:
                stats = StatistiquesReplicates(list(block.data_vars))
            stats.add(block)
        if r0 < kept:
            parts.append(block.isel(replicate=slice(0, kept - r0)) if r0 + rb > kept else block)
        del block
    ds = parts[0] if len(parts) == 1 else xr.concat(parts, "replicate", data_vars="minimal", coords="minimal",
                                                      compat="override", join="exact")
    ds.attrs = dict(attrs or {})
    if stats is not None:
        ds = ds.assign_coords({"statistiques": stats.compute()})
        ds.attrs["replicates_kept"] = kept
        ds.attrs["statistics"] = _statistics_note(replicates, kept)
    return avec_probabilites(ds, respect, mode)
