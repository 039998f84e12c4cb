"""The README's generated reference tables (parameters, outputs) match the code (model/docs.py)."""

from __future__ import annotations

from conftest import ROOT
from model import docs


def test_readme_reference_tables_are_up_to_date():
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    assert docs.render(text) == text, "README.md is stale: run python -m model.docs --update README.md"
