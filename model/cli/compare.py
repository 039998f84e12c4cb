"""``cogsim compare``: scenario comparison — charts, differences table, workbook and note from saved runs."""

from __future__ import annotations

import argparse
from pathlib import Path

from model.cli.main import SOURCE
from model.outputs.rapport_comparaison import NOTE, TABLE, WORKBOOK, write_comparison

# what the library's messages call the inputs of this command
OPTIONS = {"source": SOURCE, "out": "--out", "lang": "--lang", "organisme": "--organisme", "runs": "RUN_DIR"}

TEXTS = {
    "fr": {"written": "Comparaison écrite dans", "reading": "Lecture : variante − référence ; référence : « {ref} »",
           "note": "note", "workbook": "classeur", "table": "tableau des écarts", "charts": "{n} graphiques (PNG, SVG, PDF)"},
    "en": {"written": "Comparison written to", "reading": "Reading: variant − reference; reference: \u201c{ref}\u201d",
           "note": "note", "workbook": "workbook", "table": "differences table", "charts": "{n} charts (PNG, SVG, PDF)"},
}


def register(subparsers) -> None:
    """Add ``compare RUN_DIR RUN_DIR... [--organisme ORG] [--out DIR] [--lang fr|en]``."""
    p = subparsers.add_parser(
        "compare", help="differences between saved runs (the first is the reference): charts, table, workbook, note",
        description="Compare saved runs, organisme by organisme: the differences 'variant - reference' (the first "
                    "RUN_DIR is the reference) on staff, flows, wage bill and its bridge, ADF, dépenses limitatives, "
                    "productivity, service quality and the probability of meeting each COG target; written as "
                    "charts, ecarts.csv, an XLSX workbook and a PDF note.")
    p.add_argument("runs", type=Path, nargs="+", metavar="RUN_DIR",
                   help="run folders written by `cogsim run`; the first is the reference")
    p.add_argument("--organisme", default=None, metavar="ORG",
                   help="organisme or aggregate drawn and read in the note (cnam, cnaf, ..., regime_general, "
                        "total; default: régime général and total)")
    p.add_argument("--out", type=Path, default=None,
                   help="output folder (default: beside the reference, comparaison_<ref>_<variant>)")
    p.add_argument("--lang", choices=["fr", "en"], default=argparse.SUPPRESS,
                   help="language of the charts, note and workbook (default fr)")
    p.set_defaults(func=command, options=OPTIONS)


def command(args: argparse.Namespace) -> int:
    """Run the ``compare`` command; returns the exit code (bad input raises InputError)."""
    lang = getattr(args, "lang", None) or "fr"
    T = TEXTS[lang]
    out = write_comparison(args.runs, organisme=args.organisme, out=args.out, lang=lang)
    charts = sorted(p.stem for p in out.glob("*.svg"))
    print(f"{T['written']} {out}")
    print("  " + T["reading"].format(ref=args.runs[0]))
    print(f"  {NOTE} ({T['note']}), {WORKBOOK} ({T['workbook']}), {TABLE} ({T['table']})")
    print("  " + T["charts"].format(n=len(charts)))
    for c in charts:
        print(f"    {c}.png .svg .pdf")
    return 0
