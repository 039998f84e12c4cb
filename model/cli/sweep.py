"""``cogsim sweep``: a grid of scenarios from the command line."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from model.analysis.precision import MAX_REPLICATES
from model.analysis.sweep import (BATCH_TARGET, DEFAULT_REPLICATES, SCHEDULER_ALLOWED, STORE, SweepResult, SweepSpec,
                                  open_sweep, run_sweep, scheduler_problem)
from model.cli.main import SOURCE, command_line, keep_memory, non_negative_int, positive_int
from model.outputs.libelles import table, traduire
from model.outputs.rapport_sweep import RapportSweep, write_sweep_report
from model.outputs.sweep_tableaux import PlanTableaux, plan_tableaux
from model.params.calendrier import ORGANISMES_SORTIE
from model.results.dataset import REGISTRE, STATISTIQUES

# what the library's messages call each input: the options of this command line
OPTIONS = {"source": SOURCE, "grid": "--grid", "sweep_file": "--file", "param": "--param",
           "outputs": "--outputs", "precision": "--precision", "deterministic": "--deterministic",
           "resume": "--resume", "out": "--out", "scheduler": "--scheduler", "samples": "--samples"}


INTERRUPTED = {
    "fr": "interrompu : les blocs terminés sont gardés dans le dossier .partial à côté de la sortie ; la même "
          "commande avec --resume termine le balayage",
    "en": "interrupted: the blocks finished so far are kept in the .partial folder beside the output; the same "
          "command with --resume finishes the sweep"}


def scheduler_address(text: str) -> str:
    """argparse type of ``--scheduler``: the address checked before anything is computed or written."""
    if scheduler_problem(text) is not None:
        raise argparse.ArgumentTypeError(f"{text!r} is not a dask scheduler address; allowed: {SCHEDULER_ALLOWED}")
    return text


def print_start(result: SweepResult, lang: str = "fr") -> None:
    """What a sweep found before it starts: the pilot's choice of replicates, the size of the work, and
    what its tables (CSV, XLSX) will hold within their size caps."""
    if result.precision is not None:
        print(traduire(result.precision["message"], lang), file=sys.stderr)
    print(table(lang)["balayage"]["devis"] + traduire(str(result.estimate), lang), file=sys.stderr)
    print(plan_du_devis(result.estimate).message(lang), file=sys.stderr)


def plan_du_devis(est) -> PlanTableaux:
    """The plan of the sweep's tables from its size estimate (rows per variable and point = the estimate's
    cells per point / the statistics; the years from the same cells / the organismes)."""
    cells = est.store_bytes // max(1, est.points * est.variables * 8)
    rows = cells // len(STATISTIQUES)
    years = rows // len(ORGANISMES_SORTIE)
    return plan_tableaux(est.points, rows, years, list(REGISTRE)[:est.variables] if est.variables < len(REGISTRE)
                         else list(REGISTRE))


def print_report(rapport: RapportSweep, lang: str) -> None:
    """Where the sweep's tables and charts are."""
    T = table(lang)["balayage"]
    print(f"{T['ecrit']} {rapport.out}")
    for path in (rapport.csv, rapport.xlsx):
        if path is not None:
            print(f"  {path.name}")
    print("  " + T["graphiques_listes"].format(n=len(rapport.charts)))
    for name in rapport.charts:
        print(f"    {name}")


# ----------------------------------------------------------------------------- command line
def register(sub) -> None:

    p = sub.add_parser("sweep", help="run a grid of scenarios (cartesian product, streamed to Zarr)",
                       description="Cartesian grid over numeric parameters; one Dataset with one dimension per "
                                   "swept parameter, streamed to OUT/sweep.zarr block by block.")
    p.add_argument("scenario", type=Path)
    p.add_argument("--grid", action="append", default=[], metavar="PATH[@YEAR]=V1,V2,...|LOW:HIGH:N",
                   help="an axis of the grid (repeatable)")
    p.add_argument("--file", dest="sweep_file", type=Path, help="a sweep file (TOML) with [[levier]] and "
                   "[[incertitude]] axes")
    p.add_argument("--replicates", type=positive_int, help=f"replicates per point (default {DEFAULT_REPLICATES})")
    p.add_argument("--seed", type=non_negative_int)
    p.add_argument("--deterministic", action="store_true", help="expected values, one replicate per point")
    p.add_argument("--outputs", help="comma-separated result variables to keep (default: all)")
    p.add_argument("--out", type=Path, help="output folder (default results/<scenario>-sweep)")
    group = p.add_mutually_exclusive_group()
    group.add_argument("--workers", type=positive_int, help="start a local dask.distributed cluster of N workers")
    group.add_argument("--scheduler", type=scheduler_address, help="address of an existing dask.distributed "
                       "scheduler (tcp://HOST:PORT)")
    p.add_argument("--precision", action="append", default=[], metavar="VAR:ORGANISME:YEAR=HALF_WIDTH[%]",
                   help="pick the replicates so that the 95%% confidence half-width of these means is reached "
                        "(a pilot of --replicates, default 20, at the grid's corners); repeatable")
    p.add_argument("--max-replicates", type=positive_int, default=MAX_REPLICATES,
                   help=f"upper limit for --precision (default {MAX_REPLICATES})")
    p.add_argument("--resume", action="store_true", help="finish an interrupted sweep of the same inputs")
    p.add_argument("--block-points", type=positive_int, help="grid points per task (default: about "
                   f"{BATCH_TARGET} batch elements / replicates)")
    p.add_argument("--lang", choices=["fr", "en"], default=argparse.SUPPRESS,
                   help="language of the messages, tables and charts (default fr)")
    p.set_defaults(func=_cmd_sweep, options=OPTIONS)


def _cmd_sweep(args: argparse.Namespace) -> int:

    lang = getattr(args, "lang", None) or "fr"
    outputs = [o.strip() for o in args.outputs.split(",") if o.strip()] if args.outputs else None
    try:
        spec = SweepSpec(args.scenario, grid=tuple(args.grid), sweep_file=args.sweep_file, out=args.out,
                         replicates=args.replicates, seed=args.seed, deterministic=args.deterministic,
                         outputs=outputs, workers=args.workers, scheduler=args.scheduler, resume=args.resume,
                         block_points=args.block_points, precision=tuple(args.precision),
                         max_replicates=args.max_replicates, keep_freed_memory=keep_memory(),
                         command=command_line(args), names=OPTIONS)
        target = run_sweep(spec, on_start=lambda r: print_start(r, lang)).out
    except KeyboardInterrupt:
        print(INTERRUPTED[lang], file=sys.stderr)
        return 130
    ds = open_sweep(target)
    axes = ", ".join(f"{a['name']} ({len(a['values'])})" for a in ds.attrs["grid"])
    T = table(lang)["balayage"]
    print(T["zarr"].format(store=target / STORE, axes=axes, r=ds.attrs["replicates"], v=len(ds.data_vars),
                           stats=", ".join(STATISTIQUES)))
    print_report(write_sweep_report(target, lang), lang)
    return 0


def report_command(args: argparse.Namespace) -> int:
    """``cogsim report SWEEP_DIR [--lang fr|en]``: the sweep's tables and charts drawn again."""
    lang = getattr(args, "lang", None) or "fr"
    print_report(write_sweep_report(args.run_dir, lang), lang)
    return 0
