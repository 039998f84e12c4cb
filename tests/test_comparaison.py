"""Scenario comparison (``cogsim compare``, model/outputs/comparaison.py and its charts, workbook and note):
the differences read "variante − référence" against the named reference, organisme by organisme and for
the published totals; a run against itself differs by nothing; the CNAF freeze-and-mutualisation example
moves the CNAF's staff, hires, wage bill and service the right way and nothing outside the CNAF; the files
a planner attaches (note, workbook, table, charts) are written in one folder, in French or English; bad
input exits 2 naming what is allowed."""

from __future__ import annotations

import csv
import math
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from openpyxl import load_workbook

from conftest import SCENARIOS
from model.outputs import graphiques_comparaison as gc
from model.outputs.comparaison import COLONNES, comparer, premiere_annee_differente, synthese, table_ecarts
from model.outputs.lecture_run import load_run
from model.outputs.note_comparaison import content, parametres_differents
from model.outputs.rapport_comparaison import NOTE, TABLE, WORKBOOK, write_comparison
from model.params.errors import InputError
from model.results.run import run_scenario

ROOT = Path(__file__).resolve().parents[1]
EXEMPLE = SCENARIOS / "exemples" / "cnaf_gel_2020_mutualisation_2021.toml"


@pytest.fixture(scope="module")
def pair(tmp_path_factory):
    """The default scenario and the CNAF example, 8 replicates with the same seed (paired)."""
    base = tmp_path_factory.mktemp("compare")
    ref, var = base / "ref", base / "var"
    run_scenario(SCENARIOS / "cog_2018_2022.toml", out=ref, replicates=8, seed=3)
    run_scenario(EXEMPLE, out=var, replicates=8, seed=3)
    return ref, var


@pytest.fixture(scope="module")
def comp(pair):
    return comparer([load_run(p) for p in pair])


# ----------------------------------------------------------------------------- numbers
def test_a_run_against_itself_differs_by_nothing(pair, tmp_path):
    copy = tmp_path / "copie"
    shutil.copytree(pair[0], copy)
    c = comparer([load_run(pair[0]), load_run(copy)])
    rows = table_ecarts(c)
    assert rows and all(r["ecart"] == 0 or math.isnan(r["ecart"]) for r in rows)
    assert premiere_annee_differente(c, c.variantes[0]) is None


def test_differences_are_variant_minus_reference(comp):
    ref, var = comp.reference, comp.variantes[0]
    rows = [r for r in table_ecarts(comp) if r["indicateur"] == "etpma" and r["organisme"] == "cnaf"]
    assert [r["annee"] for r in rows] == [int(y) for y in ref.years]
    for r, a, b in zip(rows, ref.mean("etpma", "cnaf"), var.mean("etpma", "cnaf")):
        assert r["valeur_reference"] == pytest.approx(a) and r["valeur_variante"] == pytest.approx(b)
        assert r["ecart"] == pytest.approx(b - a)
        assert r["reference"] == ref.run_id and r["variante"] == var.run_id
    assert set(rows[0]) == set(COLONNES)


def test_the_cnaf_example_moves_the_cnaf_the_right_way(comp):
    """Freeze in 2020 → fewer CNAF hires and ETPMA in 2020, a lower wage bill, longer delays; the
    organismes it does not touch do not move (common random numbers: same draws)."""
    var = comp.variantes[0]
    years = [int(y) for y in comp.years]
    i20 = years.index(2020)
    assert premiere_annee_differente(comp, var, "etpma", "cnaf") == 2020
    assert comp.ecart(var, "recrutements", "cnaf")[i20] < -1000
    assert comp.ecart(var, "etpma", "cnaf")[i20] < -500
    assert comp.ecart(var, "masse_salariale", "cnaf")[i20] < 0
    assert comp.ecart(var, "delai_traitement", "cnaf")[i20] > 0
    for o in ("cnam", "cnav", "acoss", "msa"):
        assert np.allclose(comp.ecart(var, "etpma", o), 0.0), o
    # the totals move by the CNAF's difference
    assert np.allclose(comp.ecart(var, "etpma", "regime_general"), comp.ecart(var, "etpma", "cnaf"))
    lo, hi = comp.bande_ecart(var, "etpma", "cnaf")
    assert comp.paired(var) and np.all(lo[i20:] <= hi[i20:])


def test_target_probabilities_and_summary(comp):
    var = comp.variantes[0]
    rows = [r for r in table_ecarts(comp) if r["indicateur"].startswith("probabilite_respect:")]
    assert rows and all(r["unite"] == "1" for r in rows)
    assert all(0 <= r["valeur_reference"] <= 1 for r in rows if not math.isnan(r["valeur_reference"]))
    s = {r["indicateur"]: r for r in synthese(comp, var, "cnaf")}
    assert {"etpma", "recrutements", "masse_salariale", "adf", "delai_traitement", "taux_appels_aboutis"} <= set(s)
    assert s["recrutements"]["flux"] and not s["etpma"]["flux"] and math.isnan(s["etpma"]["cumul"])
    changed = dict(parametres_differents(comp))
    assert "gels_recrutement" in changed and "mutualisations" in changed


def test_years_come_from_the_runs(comp, pair, tmp_path):
    """A run over fewer years is compared over the years the runs share."""
    import xarray as xr

    short = tmp_path / "court"
    shutil.copytree(pair[1], short)
    with xr.open_dataset(short / "results.nc") as ds:
        ds = ds.load()
    ds.isel(year=slice(2, None)).to_netcdf(short / "results2.nc")
    (short / "results2.nc").replace(short / "results.nc")
    c = comparer([load_run(pair[0]), load_run(short)])
    assert [int(y) for y in c.years] == [int(y) for y in comp.years][2:]
    assert {r["annee"] for r in table_ecarts(c)} == set(int(y) for y in c.years)


# ----------------------------------------------------------------------------- charts and note text
@pytest.mark.parametrize("chart", gc.CHARTS)
def test_every_chart_names_the_reference_and_has_units(comp, chart):
    fig = gc.draw(chart, comp, "cnaf", "fr")
    texts = [t.get_text() for t in fig.findobj(lambda a: hasattr(a, "get_text")) if t.get_text()]
    joined = " ".join(" ".join(t.split()) for t in texts)
    assert "…" not in joined
    assert f"[{comp.reference.run_id}]" in joined or f"« {comp.reference.run_id} »" in joined.replace("\u202f", " ")
    for ax in fig.findobj(lambda a: hasattr(a, "get_ylabel") and hasattr(a, "has_data")):
        if ax.has_data() and ax.get_visible() and ax.axison and chart != "cibles":
            assert ax.get_ylabel(), (chart, ax.get_title())


def test_english_note_content_has_no_french_headings(comp):
    data = content(comp, ["cnaf"], [], "en")
    assert data["labels"]["l_runs"] == "Scenarios compared"
    assert "variant − reference" in data["convention"]
    assert any("CNAF" in line for line in data["sections"][0]["reading"])


# ----------------------------------------------------------------------------- the deliverable
def test_compare_writes_note_workbook_table_and_charts(pair, tmp_path):
    out = write_comparison(list(pair), organisme="cnaf", out=tmp_path / "cmp", workers=1)
    names = {p.name for p in out.iterdir()}
    assert {NOTE, WORKBOOK, TABLE} <= names
    stems = {p.stem for p in out.glob("*.png")}
    assert stems == {f"comparaison_{c}_cnaf" for c in gc.CHARTS}
    assert (out / NOTE).read_bytes()[:5] == b"%PDF-"
    with open(out / TABLE, encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert {"Régime général", "Ensemble", "CNAF"} <= {r["libelle_organisme"] for r in rows}
    wb = load_workbook(out / WORKBOOK)
    assert wb.sheetnames == ["Lisez-moi", "Synthèse", "Écarts", "Cibles COG", "Paramètres"]
    ws = wb["Synthèse"]
    assert ws.cell(row=2, column=1).value == "CNAF"
    ws = wb["Écarts"]
    orgs = {ws.cell(row=r, column=4).value for r in range(2, ws.max_row + 1)}
    assert "Régime général" in orgs and "regime_general" not in orgs


def test_compare_cli_in_english_and_bad_input(pair, tmp_path):
    cmd = [sys.executable, str(ROOT / "run_scenario.py")]
    r = subprocess.run(cmd + ["compare", str(pair[0]), str(pair[1]), "--out", str(tmp_path / "en"), "--lang", "en"],
                       capture_output=True, text=True, cwd=ROOT)
    assert r.returncode == 0, r.stderr
    assert "Comparison written to" in r.stdout and "variant − reference" in r.stdout
    assert {p.stem for p in (tmp_path / "en").glob("*.png")} >= {"comparaison_ecarts_regime_general",
                                                                 "comparaison_ecarts_total"}
    assert load_workbook(tmp_path / "en" / WORKBOOK).sheetnames[0] == "Read me"
    r = subprocess.run(cmd + ["compare", str(pair[0]), str(pair[1]), "--organisme", "caf", "--out",
                              str(tmp_path / "x")], capture_output=True, text=True, cwd=ROOT)
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert "--organisme" in r.stderr and "cnaf" in r.stderr and not (tmp_path / "x").exists()
    r = subprocess.run(cmd + ["compare", str(pair[0])], capture_output=True, text=True, cwd=ROOT)
    assert r.returncode == 2 and "at least two runs" in r.stderr
    (tmp_path / "occupe").mkdir()
    (tmp_path / "occupe" / "mine.txt").write_text("x")
    r = subprocess.run(cmd + ["compare", str(pair[0]), str(pair[1]), "--out", str(tmp_path / "occupe")],
                       capture_output=True, text=True, cwd=ROOT)
    assert r.returncode == 2 and (tmp_path / "occupe" / "mine.txt").exists()


def test_same_run_twice_is_refused(pair):
    with pytest.raises(InputError, match="twice"):
        comparer([load_run(pair[0]), load_run(pair[0])])


def test_compare_is_fast_enough(pair, tmp_path):
    """The whole deliverable for two runs in well under the 10 s of the benchmark (generous bound here:
    the test suite shares its cores)."""
    t = time.perf_counter()
    write_comparison(list(pair), organisme="cnaf", out=tmp_path / "t")
    assert time.perf_counter() - t < 40
