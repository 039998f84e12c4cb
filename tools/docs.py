"""Generate the reference tables of ``docs/reference/`` from the catalogue and the Dataset's metadata.

A developer tool, not part of the package. Run it from the project root with the project's interpreter:

``python tools/docs.py --update`` rewrites, in every file of :data:`FILES`, the text between the
``<!-- BEGIN X -->`` and ``<!-- END X -->`` markers; ``python tools/docs.py --check`` exits 1 naming the
stale files (the test suite runs it). Files may be given explicitly (``python tools/docs.py --check
docs/reference/sorties.md``).
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

# The two sources of the tables: the parameter catalogue and the registry of the Dataset's variables.
from model.params.catalogue import load_catalogue
from model.results.cibles import CIBLES
from model.results.cibles import VARIABLES as VARIABLES_CIBLES
from model.results.dataset import COLONNES_CSV, REGISTRE

ROOT = Path(__file__).resolve().parent.parent
REFERENCE = ROOT / "docs" / "reference"
FILES = (REFERENCE / "parametres.md", REFERENCE / "sorties.md")


def outputs_table() -> str:
    """Markdown table of every variable of a run's Dataset: units, meaning (en, fr), aggregation."""
    lines = ["| variable | units | meaning | sens (fr) | régime général / total |", "|---|---|---|---|---|"]
    for name, (units, ln, ln_fr, agg) in {**REGISTRE, **VARIABLES_CIBLES}.items():
        lines.append(f"| `{name}` | {units} | {ln} | {ln_fr} | {agg} |")
    return "\n".join(lines)


def csv_columns_table() -> str:
    """Markdown table of the columns of ``results.csv``, as ``tidy_frame`` names them."""
    lines = ["| column | holds |", "|---|---|"]
    for name, meaning in COLONNES_CSV.items():
        lines.append(f"| `{name}` | {meaning} |")
    return "\n".join(lines)


def targets_table() -> str:
    """Markdown table of the COG targets of ``probabilite_respect`` and ``ecart_attendu`` (model/results/cibles.py)."""
    lines = ["| cible | checks | against | met when | unit of the gap | parameters | target (fr) |",
             "|---|---|---|---|---|---|---|"]
    for c in CIBLES:
        sens = "≤" if c.sens == "<=" else "≥"
        lines.append(f"| `{c.code}` | `{c.variable}` | `{c.reference}` | {c.variable} {sens} {c.reference} | "
                     f"{c.unite or 'per organisme (as ' + c.variable + ')'} | "
                     f"{', '.join(f'`{x}`' for x in c.parametres)} | {c.libelle_fr} |")
    return "\n".join(lines)


def parameters_table() -> str:
    """Markdown table of every catalogue parameter: unit, type, by year, bounds, estimated, title."""
    lines = ["| path | unit | type | by year | bounds | estimated | title |", "|---|---|---|---|---|---|---|"]
    for p in load_catalogue().values():
        bounds = ""
        if p.min is not None or p.max is not None:
            bounds = f"[{_b(p.min)}, {_b(p.max)}]"
        if p.warn_min is not None or p.warn_max is not None:
            bounds += f" (warn outside [{_b(p.warn_min)}, {_b(p.warn_max)}])"
        lines.append(f"| `{p.path}` | {p.unit} | {p.type} | {'yes' if p.by_year else ''} | {bounds} | "
                     f"{'yes' if p.estimated else ''} | {p.title} |")
    return "\n".join(lines)


def _b(v) -> str:
    if v is None:
        return ""
    if isinstance(v, str):
        return f"`{v}`"
    return f"{v:g}" if isinstance(v, float) else str(v)


SECTIONS = {"OUTPUTS": outputs_table, "CSV": csv_columns_table, "TARGETS": targets_table,
            "PARAMETERS": parameters_table}


def render(text: str) -> str:
    """``text`` with every marked section regenerated (text without markers is returned unchanged)."""
    for name, fn in SECTIONS.items():
        pattern = re.compile(rf"(<!-- BEGIN {name} -->\n)(?:.*?\n)?(<!-- END {name} -->)", re.S)
        text = pattern.sub(lambda m: m.group(1) + fn() + "\n" + m.group(2), text)
    return text


def stale(files=FILES) -> list[Path]:
    """The files among ``files`` whose marked sections differ from what :func:`render` makes."""
    out = []
    for f in map(Path, files):
        text = f.read_text(encoding="utf-8")
        if render(text) != text:
            out.append(f)
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python tools/docs.py", description=__doc__.splitlines()[0])
    ap.add_argument("files", nargs="*", type=Path, help="files to check or update (default: docs/reference/*.md)")
    g = ap.add_mutually_exclusive_group(required=True)
    g.add_argument("--update", action="store_true", help="rewrite the marked sections")
    g.add_argument("--check", action="store_true", help="exit 1 if a marked section is stale")
    args = ap.parse_args(argv)
    files = args.files or list(FILES)
    if args.check:
        bad = stale(files)
        for f in bad:
            print(f"{f} is stale: run python tools/docs.py --update", file=sys.stderr)
        return 1 if bad else 0
    for f in files:
        text = f.read_text(encoding="utf-8")
        new = render(text)
        if new != text:
            f.write_text(new, encoding="utf-8")
            print(f"updated {f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
