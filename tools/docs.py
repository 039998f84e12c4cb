"""Generate the README's reference sections from the catalogue and the Dataset's metadata.

``python tools/docs.py --update README.md`` rewrites the text between the ``<!-- BEGIN X -->`` and
``<!-- END X -->`` markers; ``python tools/docs.py --check README.md`` exits 1 when the README is stale
(the test suite runs it). A developer tool: it is not part of the installed package.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from model.params.catalogue import load_catalogue  # noqa: E402
from model.results.dataset import REGISTRE  # noqa: E402


def outputs_table() -> str:
    lines = ["| variable | units | meaning | sens (fr) | régime général / total |", "|---|---|---|---|---|"]
    for name, (units, ln, ln_fr, agg) in REGISTRE.items():
        lines.append(f"| `{name}` | {units} | {ln} | {ln_fr} | {agg} |")
    return "\n".join(lines)


def parameters_table() -> str:
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


SECTIONS = {"OUTPUTS": outputs_table, "PARAMETERS": parameters_table}


def render(text: str) -> str:
    for name, fn in SECTIONS.items():
        pattern = re.compile(rf"(<!-- BEGIN {name} -->\n)(?:.*?\n)?(<!-- END {name} -->)", re.S)
        text = pattern.sub(lambda m: m.group(1) + fn() + "\n" + m.group(2), text)
    return text


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python tools/docs.py")
    ap.add_argument("readme", type=Path)
    g = ap.add_mutually_exclusive_group(required=True)
    g.add_argument("--update", action="store_true")
    g.add_argument("--check", action="store_true")
    args = ap.parse_args(argv)
    text = args.readme.read_text(encoding="utf-8")
    new = render(text)
    if args.check:
        if new != text:
            print(f"{args.readme} is stale: run python tools/docs.py --update {args.readme}", file=sys.stderr)
            return 1
        return 0
    args.readme.write_text(new, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
