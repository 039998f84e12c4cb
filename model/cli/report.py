"""``cogsim report``: charts, PDF note and XLSX workbook from a saved run."""

from __future__ import annotations

import argparse
from pathlib import Path

from model.cli.main import SOURCE
from model.cli.sweep import report_command as sweep_report
from model.outputs.graphiques_ajustement import FIT_CHARTS, charger_observations
from model.outputs.note import TEXTS
from model.outputs.rapport import write_report
from model.outputs.rapport_sweep import est_un_sweep

# what the library's messages call the inputs of this command: the report's folder is RUN_DIR/report
OPTIONS = {"source": SOURCE, "out": "RUN_DIR/report", "lang": "--lang", "organisme": "--organisme"}


# ----------------------------------------------------------------------------- command line
def register(subparsers) -> None:
    """Add ``report RUN_DIR [--lang fr|en] [--compare RUN_DIR ...]`` to an argparse subparsers object
    (its ``parser_class`` is the caller's); the parsed namespace carries ``func=command``."""
    p = subparsers.add_parser(
        "report", help="charts + PDF note + XLSX workbook from a saved run (writes RUN_DIR/report/)",
        description="Draw the charts, write a PDF note and an XLSX workbook from a saved run folder, into "
                    "RUN_DIR/report/ (replaced whole; nothing half-written on failure).")
    p.add_argument("run_dir", type=Path, metavar="RUN_DIR", help="a run folder written by `cogsim run`, or a sweep folder written by `cogsim sweep`")
    p.add_argument("--lang", choices=["fr", "en"], default=argparse.SUPPRESS,
                   help="language of the charts, note and workbook (default fr)")
    p.add_argument("--compare", type=Path, nargs="+", metavar="RUN_DIR", default=[],
                   help="other run folders drawn beside this one (one chart); for the differences organisme by "
                        "organisme (charts, table, workbook, note) use `cogsim compare REF_DIR RUN_DIR`")
    p.add_argument("--organisme", default=None, metavar="ORG",
                   help="draw the charts for this organisme or aggregate only (cnam, cnaf, ..., regime_general, "
                        "total) and read it in the note")
    p.set_defaults(func=command, options=OPTIONS)


def command(args: argparse.Namespace) -> int:
    """Run the ``report`` command; returns the exit code (bad input raises :class:`InputError`)."""
    lang = getattr(args, "lang", None) or "fr"
    if est_un_sweep(args.run_dir):  # a sweep's folder: its tables and charts (model.outputs.rapport_sweep)
        return sweep_report(args)
    out = write_report(args.run_dir, lang=lang, compare=getattr(args, "compare", None) or (),
                       organisme=getattr(args, "organisme", None))
    files = sorted(p.name for p in out.iterdir())
    charts = sorted({f.rsplit(".", 1)[0] for f in files if f.endswith(".svg")})
    print(f"{TEXTS[lang]['written']} {out}")
    for name in files:
        if name.endswith(("_note.pdf", ".xlsx")):
            print(f"  {name}")
    print("  " + TEXTS[lang]["charts_listed"].format(n=len(charts)))
    for name in charts:
        print(f"    {name}.png .svg .pdf")
    if not any(name.endswith(tuple(c.name for c in FIT_CHARTS)) for name in charts):
        observations = charger_observations()  # read again only to say why the fit charts are not there
        if observations.absence:
            print(TEXTS[lang]["fit_skipped"].format(dossier=observations.shown))
    return 0
