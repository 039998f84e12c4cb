"""``cogsim sensitivity``: which assumption drives the 2022 gap? Indices per output, year and organisme.

The analysis (design → evaluations → indices) is :mod:`model.analysis.sensitivity`'s; this module parses
the options, writes the result and prints its headline. ``OUT/`` holds ``sensibilite.nc`` and
``sensibilite.csv`` (every output variable, year and organisme; the headline cell ``--year``,
``--organisme``, first output, in the attribute ``headline``: copied into a run folder, ``sensibilite.nc``
gives ``cogsim report`` its tornado) with tornado / index / index-by-year charts in ``OUT/charts/``,
``manifest.json`` and the evaluations (a sweep) in ``OUT/evaluations/``.

Examples
--------
>>> from model.analysis.sensitivity import SensitivitySpec
>>> from model.cli.sensitivity import write_sensitivity
>>> spec = SensitivitySpec("scenarios/cog_2018_2022.toml", "oat",
...                        ("organismes.cnaf.taux_remplacement@2020=0.3:0.9",
...                         "organismes.tous.taux_autres_departs=0.015:0.035"))
>>> out = write_sensitivity(spec, "results/sensibilite-demo")                  # doctest: +SKIP
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

from model.analysis.grille import num_text
from model.analysis.sensibilite_resultat import METHODES, lire
from model.analysis.sensitivity import DEFAULT_OUTPUTS, SensitivitySpec, prepare_sensitivity, run_sensitivity
from model.cli.main import command_line, keep_memory, non_negative_int, positive_int
from model.cli.sweep import OPTIONS as SWEEP_OPTIONS
from model.cli.sweep import print_start, scheduler_address
from model.outputs.graphiques_sensibilite import ecrire_dans, headline, top_drivers
from model.results.writers import claim_output

# what the library's messages call each input: the options of this command line
OPTIONS = {**SWEEP_OPTIONS, "method": "--method", "year": "--year", "organisme": "--organisme", "levels": "--levels",
           "seed": "--seed"}


def write_sensitivity(spec: SensitivitySpec, out: str | Path, *, lang: str = "fr",
                      progress: bool | None = None) -> Path:
    """Prepare, evaluate and analyse ``spec``; write ``OUT/`` (see the module docstring). Returns ``OUT``.

    The destination is checked, locked and proved writable before the evaluations; the one-at-a-time
    pivots that moved from the scenario's values are printed as warnings."""
    plan = prepare_sensitivity(spec)
    for note in plan.warnings:
        print(f"warning: {note}", file=sys.stderr)
    target = Path(out)
    evaluations = target.with_name(target.name + ".evaluations")
    with claim_output(target, "sensitivity") as claim:
        res = run_sensitivity(plan, evaluations, progress=progress, on_start=print_start)
        manifest = res.manifest
        manifest["timings_s"] = {"total_s": round(time.perf_counter() - plan.started, 3)}
        ecrire_dans(res.indices, claim.tmp, manifest=manifest, lang=lang,
                    cellule={"year": plan.year, "organisme": spec.organisme})
        # the evaluations (a finished sweep of cogsim's own) move into the sensitivity folder
        os.replace(evaluations, claim.tmp / "evaluations")
        claim.publish()
    return target


def register(sub) -> None:

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
    p.add_argument("--year", type=int, help="year of the headline charts (default: the scenario's last year); indices are "
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
    p.set_defaults(func=_cmd_sensitivity, options=OPTIONS)


def _cmd_sensitivity(args: argparse.Namespace) -> int:

    outputs = [o.strip() for o in args.outputs.split(",") if o.strip()] if args.outputs else None
    spec = SensitivitySpec(args.scenario, args.method, tuple(args.param), samples=args.samples,
                           levels=args.levels, second_order=args.second_order, outputs=outputs, year=args.year,
                           organisme=args.organisme, replicates=args.replicates, seed=args.seed,
                           workers=args.workers, scheduler=args.scheduler, resume=args.resume,
                           keep_freed_memory=keep_memory(), command=command_line(args), names=OPTIONS)
    target = write_sensitivity(spec, args.out, lang=getattr(args, "lang", None) or "fr")

    manifest = json.loads((target / "manifest.json").read_text(encoding="utf-8"))
    res = lire(target / "sensibilite.nc")  # as written: its headline cell is the report's
    print(f"{target}: {manifest['method']}, {manifest['points']} evaluations, indices for "
          f"{len(manifest['outputs'])} outputs x year x organisme")
    key = "swing" if manifest["method"] == "oat" else ("mu*" if manifest["method"] == "morris" else "ST")
    variable, cell = headline(res)
    print(f"{variable} {cell.get('organisme', '')} {cell.get('year', '')} ({key}):")
    for factor, a, b in top_drivers(res):  # largest first
        print(f"  {factor:<50} {num_text(b - a if manifest['method'] == 'oat' else a)}")
    return 0
