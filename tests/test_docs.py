"""The documentation is current and holds together.

- The generated reference tables of ``docs/reference/`` match the code (``tools/docs.py``, a developer
  tool outside the package, imported here by path and run as a user runs it).
- Every relative link of the project's markdown files points to an existing file, and every ``#anchor``
  to a heading of the target (GitHub's heading ids).
"""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ROOT

TOOL = ROOT / "tools" / "docs.py"


def _load_tool():
    spec = importlib.util.spec_from_file_location("cogsim_tools_docs", TOOL)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_reference_tables_are_up_to_date():
    docs = _load_tool()
    assert all(f.exists() for f in docs.FILES), docs.FILES
    stale = docs.stale()
    assert not stale, f"stale: {[str(f.relative_to(ROOT)) for f in stale]}: run python tools/docs.py --update"


def test_reference_tables_hold_every_parameter_and_output():
    docs = _load_tool()
    text = "".join(f.read_text(encoding="utf-8") for f in docs.FILES)
    for marker in ("PARAMETERS", "OUTPUTS"):
        assert f"<!-- BEGIN {marker} -->" in text and f"<!-- END {marker} -->" in text
    assert "| `etpma` |" in text and "| `organismes.*.taux_remplacement` |" in text


def test_tool_check_exits_1_on_a_stale_file(tmp_path):
    """``python tools/docs.py --check FILE`` as a developer runs it: 1 and the file named when stale, 0
    once ``--update`` has rewritten it."""
    f = tmp_path / "sorties.md"
    f.write_text("# t\n\n<!-- BEGIN OUTPUTS -->\n| old |\n<!-- END OUTPUTS -->\n", encoding="utf-8")
    run = lambda *a: subprocess.run([sys.executable, str(TOOL), *a, str(f)], cwd=ROOT, capture_output=True,
                                    text=True, timeout=120)
    r = run("--check")
    assert r.returncode == 1 and str(f) in r.stderr and "tools/docs.py --update" in r.stderr
    assert run("--update").returncode == 0
    assert run("--check").returncode == 0
    assert "| `etpma` |" in f.read_text(encoding="utf-8")


# ----------------------------------------------------------------------------- links
def markdown_files() -> list[Path]:
    files = [ROOT / "README.md", ROOT / "CONTRIBUTING.md", *sorted((ROOT / "docs").rglob("*.md")),
             *sorted((ROOT / "calibration").glob("*.md")), *sorted((ROOT / "results").glob("*.md"))]
    return [f for f in files if f.exists()]


def _prose(text: str) -> str:
    """``text`` without fenced blocks and inline code (where brackets are not links)."""
    text = re.sub(r"^```.*?^```", "", text, flags=re.M | re.S)
    return re.sub(r"`[^`\n]*`", "", text)


def anchors(path: Path) -> set[str]:
    """GitHub's ids of the headings of ``path``: lower case, punctuation dropped, spaces to hyphens,
    ``-1``, ``-2`` ... on repeats."""
    text = re.sub(r"^```.*?^```", "", path.read_text(encoding="utf-8"), flags=re.M | re.S)
    seen: dict[str, int] = {}
    out = set()
    for title in re.findall(r"^#{1,6}\s+(.*?)\s*#*\s*$", text, re.M):
        slug = re.sub(r"[^\w\- ]", "", title.strip().lower()).replace(" ", "-")
        n = seen.get(slug, 0)
        seen[slug] = n + 1
        out.add(slug if n == 0 else f"{slug}-{n}")
    return out


def links(path: Path) -> list[str]:
    return re.findall(r"\]\(([^)\s]+)\)", _prose(path.read_text(encoding="utf-8")))


def test_the_link_checker_sees_the_readme_links():
    targets = links(ROOT / "README.md")
    assert "docs/methode.md" in targets and "CONTRIBUTING.md" in targets
    assert "7-balayer-des-hypothèses--sweep-sensitivity---precision" in anchors(ROOT / "docs" / "guide.md")


@pytest.mark.parametrize("path", markdown_files(), ids=lambda p: str(p.relative_to(ROOT)))
def test_every_relative_link_points_to_an_existing_file(path):
    broken = []
    for target in links(path):
        if re.match(r"[a-z][a-z0-9+.-]*:", target):  # https:, mailto:
            continue
        file, _, anchor = target.partition("#")
        dest = (path.parent / file).resolve() if file else path
        if not dest.exists():
            broken.append(f"{target}: no such file")
        elif anchor and dest.suffix == ".md" and anchor not in anchors(dest):
            broken.append(f"{target}: no heading #{anchor} in {dest.relative_to(ROOT)}")
    assert not broken, f"{path.relative_to(ROOT)}: " + "; ".join(broken)
