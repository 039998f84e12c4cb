"""The README's generated reference tables (parameters, outputs) match the code (tools/docs.py)."""

from __future__ import annotations

import importlib.util

from conftest import ROOT

_spec = importlib.util.spec_from_file_location("cogsim_docs_tool", ROOT / "tools" / "docs.py")
docs = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(docs)


def test_readme_reference_tables_are_up_to_date():
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    assert docs.render(text) == text, "README.md is stale: run python tools/docs.py --update README.md"
