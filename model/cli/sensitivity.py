"""``cogsim sensitivity``: which assumption drives the 2022 gap? Indices per output, year and organisme.

The command ties three parts together:

1. the design: :func:`model.analysis.sensibilite.plan` (one-at-a-time, Morris or Sobol' through SALib) over the
   ``--param PATH[@YEAR]=LOW:HIGH`` factors, validated like scenario files (unknown path with the closest
   name, range within the parameter's bounds, non-empty);
2. the evaluations: the design's rows are one bundle axis ``point`` of a sweep (:mod:`model.analysis.sweep`):
   the same batches (points that differ only in batchable parameters share one engine batch), the same
   Zarr streaming, ``--resume`` and dask scale-out (``--workers``, ``--scheduler``); they are kept in
   ``OUT/evaluations/``;
3. the indices: :func:`model.analysis.sensibilite.analyser` for every output variable and every year × organisme
   (régime général and total included), with bootstrap confidence intervals, written to
   ``OUT/sensibilite.nc`` and ``OUT/sensibilite.csv`` with tornado / index / index-by-year charts in
   ``OUT/charts/``; ``OUT/sensitivity.nc`` is the headline cell (``--year``, ``--organisme``, first
   output) in the format ``cogsim report`` reads from a run folder.

By default the model runs in expected-value (deterministic) mode: the indices then measure the
parameters' effect without sampling noise. ``--replicates N`` runs N stochastic replicates per point
instead (common random numbers) and analyses their mean.

Examples
--------
>>> from model.cli.sensitivity import run_sensitivity
>>> out = run_sensitivity("scenarios/cog_2018_2022.toml", "oat",
...                       ["organismes.cnaf.taux_remplacement@2020=0.3:0.9",
...                        "organismes.tous.taux_autres_departs=0.015:0.035"],
...                       out="results/sensibilite-demo")                       # doctest: +SKIP
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import os
import sys
import time
from pathlib import Path
from typing import Sequence

import numpy as np

from model import __version__
from model.params.calendrier import ANNEES, ORGANISMES
from model.params.errors import MISSING, InputError, Problem
from model.analysis.grille import Axe, Grille, grid_lever, num_text
from model.results.dataset import AGGREGATS, REGISTRE
from model.params.scenario import load_scenario
from model.analysis.sensibilite import METHODES, Facteur, analyser, plan, taille_plan, tranche_tornado
from model.outputs.graphiques_sensibilite import ecrire_dans
from model.analysis.sweep import (check_optional_dependencies, check_estimate, estimate, open_sweep, run_sweep, scheduler_address,
                    scheduler_problem)
from model.results.writers import claim_output

DEFAULT_OUTPUTS = ("etpma", "masse_salariale", "depenses_limitatives", "adf_hors_informatique", "ecart_plafond",
                   "ecart_lpfp")
DEFAULT_SAMPLES = {"morris": 20, "sobol": 256}
CLI = "command line"


def parse_factors(texts: Sequence[str], par, notes: list[str] | None = None) -> tuple[list[Facteur], list]:
    """``PATH[@YEAR]=LOW:HIGH`` -> factors and their levers. The base (the one-at-a-time pivot) is the
    scenario's value in the lever's first year (the last year for a lever on every year); when the
    scenario has several values (``organismes.tous`` over organismes that differ) or one outside the
    range, the pivot is their mean clipped into the range, and ``notes`` says so."""
    problems: list[Problem] = []
    facteurs: list[Facteur] = []
    levers = []
    for text in texts:
        before = len(problems)
        lever = grid_lever(text.strip(), par, problems, "--param", CLI, text)
        if lever is None:
            continue
        if "=" not in text and not (math.isfinite(lever.low) and math.isfinite(lever.high)):
            problems.append(Problem(CLI, "--param", text, "no range, and the parameter's bounds are not both finite",
                                    "PATH=LOW:HIGH"))
        if len(problems) > before:
            continue
        name = lever.path + (f"@{lever.years[0]}" if lever.years else "")
        base = lever.start(par)[0]
        year = lever.years[0] if lever.years else ANNEES[-1]
        values = [float(np.asarray(par[p], float)[ANNEES.index(year)]) if np.ndim(par[p]) else float(par[p])
                  for p in lever.resolved_paths]
        if notes is not None and (max(values) - min(values) > 1e-12 or not lever.low <= values[0] <= lever.high):
            notes.append(f"{name}: the scenario's value(s) {', '.join(num_text(v) for v in sorted(set(values)))} "
                         f"-> one-at-a-time pivot {num_text(base)} (mean, within [{num_text(lever.low)}, {num_text(lever.high)}])")
        facteurs.append(Facteur(name, lever.low, lever.high, base=base, label=name))
        levers.append(lever)
    owner: dict[str, str] = {}
    for f, lv in zip(facteurs, levers):
        for path in lv.resolved_paths:
            if path in owner:
                problems.append(Problem(CLI, "--param", f.path, f"sets {path}, already set by --param {owner[path]}",
                                        "each parameter in one factor"))
            owner[path] = f.path
    if not texts:
        problems.append(Problem(CLI, "--param", MISSING, "no factor", "--param PATH=LOW:HIGH (repeatable)"))
    if problems:
        raise InputError(problems)
    return facteurs, levers


def run_sensitivity(scenario: str | Path, method: str, params: Sequence[str], *, out: str | Path,
                    samples: int | None = None, levels: int = 4, second_order: bool = False,
                    outputs: Sequence[str] | None = None, year: int | None = None, organisme: str = "total",
                    replicates: int | None = None, seed: int | None = None, workers: int | None = None,
                    scheduler: str | None = None, resume: bool = False, lang: str = "fr",
                    progress: bool | None = None) -> Path:
    """Design, evaluate and analyse; write ``OUT/`` (see the module docstring). Returns ``OUT``."""
    t0 = time.perf_counter()
    check_optional_dependencies()
    sc = load_scenario(scenario, {"simulation.seed": seed} if seed is not None else None)
    par = sc.parametres
    problems: list[Problem] = []
    if method not in METHODES:
        problems.append(Problem(CLI, "--method", method, "unknown method", ", ".join(METHODES)))
    outs = tuple(outputs) if outputs else DEFAULT_OUTPUTS
    for o in outs:
        if o not in REGISTRE:
            import difflib
            close = difflib.get_close_matches(o, list(REGISTRE), n=1)
            problems.append(Problem(CLI, "--outputs", o, f"unknown variable '{o}'" +
                                    (f"; did you mean '{close[0]}'?" if close else ""), "a result variable"))
    year = ANNEES[-1] if year is None else year
    if year not in ANNEES:
        problems.append(Problem(CLI, "--year", year, "not a simulated year", f"{ANNEES[0]} to {ANNEES[-1]}"))
    if scheduler is not None and scheduler_problem(scheduler) is not None:
        problems.append(scheduler_problem(scheduler))
    if organisme not in ORGANISMES + tuple(AGGREGATS):
        problems.append(Problem(CLI, "--organisme", organisme, "unknown organisme",
                                ", ".join(ORGANISMES + tuple(AGGREGATS))))
    notes: list[str] = []
    try:
        facteurs, levers = parse_factors(params, par, notes)
    except InputError as exc:
        problems.extend(exc.problems)
        facteurs, levers = [], []
    if problems:
        raise InputError(problems)
    if method == "oat":
        for note in notes:
            print(f"warning: {note}", file=sys.stderr)
    seed_used = int(par["simulation.seed"])
    n = samples if samples is not None else DEFAULT_SAMPLES.get(method)
    # the size of the design from its formula, before the design exists (SALib would build it whole)
    check_estimate(estimate(taille_plan(len(facteurs), method, n, second_order), replicates or 1, len(outs)),
                   scheduler=scheduler, what="--samples")
    X = plan(facteurs, method, n, seed_used, levels=levels, second_order=second_order)
    for j, lv in enumerate(levers):  # the model sees whole values of integer parameters
        if lv.integer:
            X[:, j] = np.round(X[:, j])
    target = Path(out)
    evaluations = target.with_name(target.name + ".evaluations")
    # the destination is checked, locked and proved writable before the evaluations
    with claim_output(target, "sensitivity") as claim:
        axe = Axe("point", tuple(levers), X, "levier", f"{method} design: {X.shape[0]} points")
        run_sweep(scenario, grille=Grille((axe,), CLI), out=evaluations, replicates=replicates, seed=seed,
                  deterministic=replicates is None, outputs=outs, workers=workers, scheduler=scheduler,
                  resume=resume, progress=progress)
        ds = open_sweep(evaluations)
        Y = ds[list(outs)].sel(statistique="moyenne", drop=True)
        Y = Y.drop_vars([c for c in Y.coords if c.startswith("point:") or c == "point"]).load()
        res = analyser(facteurs, method, X, Y, seed=seed_used, second_order=second_order, levels=levels)
        res.attrs.update({"scenario": str(Path(scenario).resolve()), "seed": seed_used, "mode": ds.attrs["mode"],
                          "replicates": ds.attrs["replicates"], "cogsim_version": __version__})
        manifest = {"created_utc": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
                    "command": sys.argv,
                    "scenario": {"file": str(Path(scenario).resolve()), "header": dict(sc.header),
                                 "chain": [str(f) for f in sc.chain]},
                    "method": method, "samples": n, "levels": levels if method == "morris" else None,
                    "second_order": second_order, "points": int(X.shape[0]), "seed": seed_used,
                    "mode": ds.attrs["mode"], "replicates": ds.attrs["replicates"], "outputs": list(outs),
                    "factors": [{"name": f.path, "low": f.low, "high": f.high, "base": f.base,
                                 "unit": lv.parameter.unit} for f, lv in zip(facteurs, levers)],
                    "evaluations_fingerprint": ds.attrs["fingerprint"],
                    "warnings": notes if method == "oat" else [], "headline": {"year": year, "organisme": organisme}}
        cell = {"year": year, "organisme": organisme}
        tranche_tornado(res, outs[0], **cell).to_netcdf(claim.tmp / "sensitivity.nc", engine="netcdf4")
        manifest["timings_s"] = {"total_s": round(time.perf_counter() - t0, 3)}
        ecrire_dans(res, claim.tmp, manifest=manifest, lang=lang, cellule=cell)
        # the evaluations (a finished sweep of cogsim's own) move into the sensitivity folder
        os.replace(evaluations, claim.tmp / "evaluations")
        claim.publish()
    return target


def register(sub) -> None:
    from model.cli.main import positive_int, non_negative_int

    p = sub.add_parser("sensitivity", help="one-at-a-time, Morris or Sobol' indices per output, year and organisme",
                       description="Sensitivity of the outputs to the --param factors: indices for every output "
                                   "variable, year and organisme, with confidence intervals; tornado and index "
                                   "charts. Evaluations run as a sweep (batches, Zarr, dask).")
    p.add_argument("scenario", type=Path)
    p.add_argument("--method", required=True, choices=METHODES)
    p.add_argument("--param", action="append", default=[], metavar="PATH[@YEAR]=LOW:HIGH",
                   help="a factor and its range (repeatable)")
    p.add_argument("--samples", type=positive_int, help="Morris: trajectories (default 20); Sobol': base samples, "
                   "a power of 2 (default 256)")
    p.add_argument("--levels", type=positive_int, default=4, help="Morris grid levels (default 4)")
    p.add_argument("--second-order", action="store_true", help="Sobol': also the second-order indices")
    p.add_argument("--outputs", help=f"comma-separated result variables (default {','.join(DEFAULT_OUTPUTS)})")
    p.add_argument("--year", type=int, help=f"year of the headline charts (default {ANNEES[-1]}); indices are "
                   "computed for every year")
    p.add_argument("--organisme", default="total", help="organisme of the headline charts (default total)")
    p.add_argument("--replicates", type=positive_int, help="stochastic replicates per point (default: the "
                   "expected-value model)")
    p.add_argument("--seed", type=non_negative_int)
    p.add_argument("--out", type=Path, required=True)
    group = p.add_mutually_exclusive_group()
    group.add_argument("--workers", type=positive_int, help="start a local dask.distributed cluster of N workers")
    group.add_argument("--scheduler", type=scheduler_address, help="address of an existing dask.distributed "
                       "scheduler (tcp://HOST:PORT)")
    p.add_argument("--resume", action="store_true", help="finish interrupted evaluations of the same design")
    p.add_argument("--lang", choices=["fr", "en"], default=argparse.SUPPRESS, help="language of the charts")
    p.set_defaults(func=_cmd_sensitivity)


def _cmd_sensitivity(args: argparse.Namespace) -> int:
    outputs = [o.strip() for o in args.outputs.split(",") if o.strip()] if args.outputs else None
    target = run_sensitivity(args.scenario, args.method, args.param, out=args.out, samples=args.samples,
                             levels=args.levels, second_order=args.second_order, outputs=outputs, year=args.year,
                             organisme=args.organisme, replicates=args.replicates, seed=args.seed,
                             workers=args.workers, scheduler=args.scheduler, resume=args.resume,
                             lang=getattr(args, "lang", None) or "fr")
    import xarray as xr

    manifest = json.loads((target / "manifest.json").read_text(encoding="utf-8"))
    with xr.open_dataset(target / "sensitivity.nc") as head:  # the headline cell, written by the run
        head = head.load()
    print(f"{target}: {manifest['method']}, {manifest['points']} evaluations, indices for "
          f"{len(manifest['outputs'])} outputs x year x organisme")
    key = "swing" if manifest["method"] == "oat" else ("mu*" if manifest["method"] == "morris" else "ST")
    values = (head["high"] - head["low"]) if manifest["method"] == "oat" else head["index"]
    order = np.argsort(-np.abs(values.values))
    print(f"{manifest['outputs'][0]} {manifest['headline']['organisme']} {manifest['headline']['year']} ({key}):")
    for i in order:
        print(f"  {str(head['parameter'].values[i]):<50} {num_text(float(values.values[i]))}")
    return 0
