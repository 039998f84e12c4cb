"""The one "unknown name, did you mean" helper, and the one definition of the output organismes."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from model.params.calendrier import AGGREGATS, ORGANISMES, ORGANISMES_SORTIE, REGIME_GENERAL
from model.params.errors import unknown_name

MODEL = Path(__file__).resolve().parents[1] / "model"


@pytest.mark.parametrize("kind, name, candidates, show, expected", [
    ("variable", "etmpa", ["etpma", "masse_salariale"], True, "unknown variable 'etmpa'; did you mean 'etpma'?"),
    ("variable", "zzz", ["etpma", "masse_salariale"], True, "unknown variable 'zzz'"),
    ("key", "taux_remplacment", ("taux_remplacement", "age"), False,
     "unknown key; did you mean 'taux_remplacement'?"),
    ("organisme", "cnamm", ORGANISMES, False, "unknown organisme; did you mean 'cnam'?"),
    ("organisme", "xyz", ORGANISMES, False, "unknown organisme"),
    ("parameter", "a.b", iter(["a.c", "q"]), True, "unknown parameter 'a.b'; did you mean 'a.c'?"),  # any iterable
])
def test_unknown_name(kind, name, candidates, show, expected):
    assert unknown_name(kind, name, candidates, show_name=show) == expected


def test_unknown_name_picks_the_closest():
    assert unknown_name("variable", "masse_salarial", ["masse_salariale", "masse_salariale_cdd"]) == \
        "unknown variable 'masse_salarial'; did you mean 'masse_salariale'?"


def test_did_you_mean_written_once():
    """Only model/params/errors.py spells the hint or calls difflib: every other check uses unknown_name."""
    found = []
    for f in MODEL.rglob("*.py"):
        text = f.read_text(encoding="utf-8")
        if f.name != "errors.py" and ("did you mean" in text or "get_close_matches" in text):
            found.append(str(f.relative_to(MODEL)))
    assert found == []


def test_output_organismes_defined_once():
    assert ORGANISMES_SORTIE == ORGANISMES + ("regime_general", "total")
    assert AGGREGATS["regime_general"] == REGIME_GENERAL and AGGREGATS["total"] == ORGANISMES
    names = ("ZONES", "ORGANISMES_SORTIE", "AGGREGATS", "STATISTIQUES")
    where: dict[str, list[str]] = {n: [] for n in names}
    for f in MODEL.rglob("*.py"):
        for node in ast.walk(ast.parse(f.read_text(encoding="utf-8"))):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target] \
                if isinstance(node, ast.AnnAssign) else []
            for t in targets:
                if isinstance(t, ast.Name) and t.id in names and node.col_offset == 0:
                    where[t.id].append(str(f.relative_to(MODEL)))
    assert where == {"ZONES": [], "ORGANISMES_SORTIE": ["params/calendrier.py"],
                     "AGGREGATS": ["params/calendrier.py"], "STATISTIQUES": ["results/dataset.py"]}
