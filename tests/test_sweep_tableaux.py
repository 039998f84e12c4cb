"""Sweeps a planner can read: the tidy CSV, the XLSX workbook and the charts of SWEEP_DIR/report/, their
size caps (said before the sweep starts), and `cogsim report SWEEP_DIR` in either language."""

from __future__ import annotations

import numpy as np
import openpyxl
import pandas as pd
import pytest
from matplotlib.text import Text

from model.analysis.sweep import open_sweep
from model.cli.main import main
from model.outputs.graphiques_sweep import chart_carte, cible_de, organisme_du_sweep
from model.outputs.sweep_tableaux import (LIGNES_MAX_CSV, LIGNES_MAX_XLSX, colonnes, plan_du_sweep, plan_tableaux,
                                          tableau)

from conftest import COG

TAU = "organismes.cnaf.taux_remplacement@2020"
AUTRES = "organismes.tous.taux_autres_departs"


@pytest.fixture(scope="module")
def two_axes(tmp_path_factory):
    out = tmp_path_factory.mktemp("swt") / "grid"
    assert main(["--lang", "fr", "sweep", str(COG), "--grid", f"{TAU}=0.2,0.6,1.0", "--grid", f"{AUTRES}=0.015,0.035",
                 "--replicates", "3", "--outputs", "etpma,masse_salariale,plafond_emplois,cible_etpma",
                 "--out", str(out)]) == 0
    return out


def test_a_two_axis_sweep_writes_a_heatmap_a_csv_and_an_xlsx(two_axes, capsys):
    report = two_axes / "report"
    names = {p.name for p in report.iterdir()}
    assert {"balayage.csv", "balayage.xlsx"} <= names
    for v in ("etpma", "masse_salariale"):
        for fmt in ("png", "svg", "pdf"):
            assert f"balayage_carte_{v}.{fmt}" in names
    ds = open_sweep(two_axes)
    # the CSV: French by default (; and decimal comma), one row per point x year x organisme x variable
    df = pd.read_csv(report / "balayage.csv", sep=";", decimal=",", encoding="utf-8-sig")
    C = colonnes("fr")
    n_vars = len([v for v in ds.data_vars])
    assert len(df) == 3 * 2 * ds.sizes["year"] * ds.sizes["organisme"] * n_vars
    assert {C["annee"], C["organisme"], C["moyenne"], C["p05"], C["p95"], C["ecart_type"]} <= set(df.columns)
    row = df[(df[C["code"]] == "etpma") & (df[C["annee"]] == 2022) & (df[C["organisme"]] == "CNAF")]
    tau_col = [c for c in df.columns if "CNAF, à partir de 2020" in c][0]
    got = row[np.isclose(row[tau_col], 1.0) & np.isclose(row[[c for c in df.columns if "tous les" in c][0]], 0.015)]
    want = float(ds["etpma"].sel({TAU: 1.0, AUTRES: 0.015, "year": 2022, "organisme": "cnaf",
                                  "statistique": "moyenne"}))
    assert got[C["moyenne"]].item() == pytest.approx(want, rel=1e-5)
    # the workbook: a read-me sheet, then one sheet per variable with the unit in the headers
    wb = openpyxl.load_workbook(report / "balayage.xlsx", read_only=True)
    assert wb.sheetnames[0] == "Lisez-moi"
    ws = wb["ETPMA"]
    head = [c.value for c in next(ws.iter_rows(max_row=1))]
    assert "Moyenne (ETPMA)" in head and "Année" in head and "Organisme" in head
    assert sum(1 for _ in ws.iter_rows()) - 1 == 3 * 2 * ds.sizes["year"] * ds.sizes["organisme"]


def test_the_size_of_the_tables_is_said_before_the_sweep_starts(tmp_path, capsys):
    assert main(["--lang", "fr", "sweep", str(COG), "--grid", f"{TAU}=0.3,0.9", "--deterministic", "--outputs", "etpma",
                 "--out", str(tmp_path / "s")]) == 0
    err = capsys.readouterr().err
    assert "tableaux du balayage : balayage.csv : 1 variable(s) sur 1" in err
    assert err.index("taille : ") < err.index("tableaux du balayage")  # both before the sweep's summary


def test_big_sweeps_are_capped_variables_first_then_the_last_year_then_nothing():
    vs = ["cible_etpma", "etpma", "masse_salariale", "adf"]
    small = plan_tableaux(10, 80, 10, vs)
    assert small.csv_variables == ("etpma", "masse_salariale", "adf", "cible_etpma")  # headline first
    big = plan_tableaux(1000, 80, 10, vs)  # 80 000 rows a variable
    assert big.lignes_csv <= LIGNES_MAX_CSV and len(big.csv_variables) == 4
    assert big.xlsx_derniere_annee and big.lignes_xlsx <= LIGNES_MAX_XLSX and big.xlsx_variables[0] == "etpma"
    huge = plan_tableaux(10**6, 80, 10, vs)
    assert huge.csv_variables == () and huge.xlsx_variables == ()
    assert "non écrit" in huge.message("fr") and "not written" in huge.message("en")


def test_report_of_a_sweep_redraws_in_english(two_axes, capsys):
    assert main(["report", str(two_axes), "--lang", "en"]) == 0
    out = capsys.readouterr().out
    assert "Sweep tables and charts written to" in out and "balayage_carte_etpma" in out
    df = pd.read_csv(two_axes / "report" / "balayage.csv", sep=",")
    assert {"Year", "Organisme", "Mean", "Standard deviation"} <= set(df.columns)
    wb = openpyxl.load_workbook(two_axes / "report" / "balayage.xlsx", read_only=True)
    assert wb.sheetnames[0] == "Read me"


def test_heatmap_has_the_target_contour_where_the_grid_crosses_it(two_axes):
    ds = open_sweep(two_axes)
    assert organisme_du_sweep(ds) == "cnaf"
    cible = cible_de(ds, "etpma", "cnaf", int(ds["year"].values[-1]))
    assert cible is not None
    fig = chart_carte(ds, "etpma", lang="fr")
    texts = [t.get_text() for t in fig.findobj(Text)]
    assert any("Plafond d'emplois" in t or "Trajectoire d'ETPMA" in t for t in texts)
    # a fake target through the middle of the grid: its contour is drawn
    z = ds["etpma"].sel(organisme="cnaf", year=2022, statistique="moyenne")
    mid = float(np.median(z.values))
    fake = ds.load()
    fake["cible_etpma"] = ds["cible_etpma"].copy(data=np.full(ds["cible_etpma"].shape, mid))
    fig = chart_carte(fake, "etpma", lang="en")
    texts = [t.get_text() for t in fig.findobj(Text)]
    assert any(t.startswith("Where the mean equals the target") for t in texts)


def test_a_one_axis_sweep_gives_a_line_chart_with_its_band(tmp_path):
    out = tmp_path / "one"
    assert main(["sweep", str(COG), "--lang", "fr", "--grid", f"{TAU}=0.3,0.9", "--replicates", "2", "--outputs",
                 "etpma,masse_salariale", "--out", str(out)]) == 0
    names = {p.name for p in (out / "report").iterdir()}
    assert "balayage_ligne_etpma.png" in names and "balayage_ligne_masse_salariale.svg" in names
    svg = (out / "report" / "balayage_ligne_etpma.svg").read_text(encoding="utf-8")
    assert "Bande à 90" in svg and "Moyenne des réplications" in svg


def test_tableau_is_one_row_per_point_year_organisme(two_axes):
    ds = open_sweep(two_axes)
    df = tableau(ds, "etpma", "en", derniere_annee=True, avec_variable=False)
    assert len(df) == 3 * 2 * ds.sizes["organisme"] and set(df["Year"]) == {int(ds["year"].values[-1])}
    assert plan_du_sweep(ds).points == 6
