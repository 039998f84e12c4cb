"""The report (model/outputs/rapport.py): RUN_DIR/report/ with the charts, the PDF note (A4 pages, expected
sections) and the XLSX workbook (its numbers are the Dataset's), the `report` subcommand, `draw_charts`,
English, bad input and atomicity."""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pytest
import xarray as xr
from openpyxl import load_workbook
from pypdf import PdfReader

from model.outputs import graphiques as g
from model.outputs import rapport
from model.outputs.graphiques_ajustement import FIT_CHARTS
from model.params.errors import InputError
from model.results.dataset import tidy_frame, with_aggregates
from model.params.scenario import load_scenario
from model.results.writers import OWNER_FILE, atomic_dir
from test_graphiques import plain, saved_run, svg_text, synthetic_sensitivity

COG_FILE = Path(__file__).resolve().parent.parent / "scenarios" / "cog_2018_2022.toml"

A4_POINTS = (595.4, 841.7)


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    """A French report of a small stochastic default run, with a sensitivity result and a comparison."""
    run_dir = saved_run(tmp_path_factory, "cog_2018_2022-s")
    synthetic_sensitivity().to_netcdf(run_dir / rapport.SENSITIVITY_FILE, engine="netcdf4")
    other = saved_run(tmp_path_factory, "cog_2018_2022_un_sur_deux")
    try:
        out = rapport.write_report(run_dir, "fr", compare=[other], workers=2)
    finally:
        (run_dir / rapport.SENSITIVITY_FILE).unlink()
    return run_dir, out


def page_texts(pdf: Path) -> list[str]:
    return [plain(p.extract_text()) for p in PdfReader(pdf).pages]


def joined_page(texts: list[str], label: str) -> int:
    """The first page whose text holds ``label``."""
    return next(i for i, t in enumerate(texts) if label in t)


def test_report_files(report):
    run_dir, out = report
    assert out == run_dir / "report"
    rid = run_dir.name
    names = {p.name for p in out.iterdir()}
    charts = [s.name for s in g.CHARTS] + ["comparaison", "tornado"] + [c.name for c in FIT_CHARTS]
    expected = {f"{rid}_{c}.{ext}" for c in charts for ext in ("png", "svg", "pdf")}
    assert names == expected | {f"{rid}_note.pdf", f"{rid}_tableaux.xlsx", OWNER_FILE}
    # nothing temporary left beside the report
    assert sorted(p.name for p in run_dir.iterdir()) == [OWNER_FILE, "manifest.json", "report", "results.csv",
                                                         "results.nc"]


def test_chart_files_carry_french_labels(report):
    run_dir, out = report
    rid = run_dir.name
    expected = {
        "pont_etpma": ["Pont d'ETPMA — Régime général", "Départs en retraite", "Recrutements (CDI et CDD)",
                       "Transferts (solde)", "Effet calendrier et quotité", "Variation nette", "Cumul 2017–2022"],
        "pont_masse_salariale": ["Pont de masse salariale — Régime général (M€)", "Effet effectif",
                                 "Mesures générales", "GVT positif", "Effet de noria et de structure", "Effet report"],
        "adf": ["Autres dépenses de fonctionnement (ADF) par poste et cible COG (M€/an)", "Immobilier",
                "Éditique et affranchissement", "Informatique de fonctionnement", "Cible COG (ADF hors informatique)"],
        "productivite": ["Productivité et cible de la COG", "Cible COG", "allocataires pondérés/ETPMA",
                         "pas de cible COG", "CNAM (FSE)"],
        "saturation": ["Saturation du plafond d'emplois (ETPMA / plafond)", "100 %", "Plafond d'emplois (100 %)"],
        "comparaison": ["Comparaison de scénarios — Ensemble", "Masse salariale", "Dépenses limitatives",
                        "un départ sur deux remplacé partout"],
        "tornado": ["Sensibilité (un facteur à la fois) : ETPMA 2022 — Ensemble", "Facteur à sa valeur basse",
                    "organismes.cnam.taux_remplacement"],
    }
    for name, labels in expected.items():
        text = plain(svg_text(out / f"{rid}_{name}.svg"))
        for label in labels:
            assert label in text, f"{name}.svg lacks {label!r}"
        assert f"run « {rid} »" in text or f"« {rid} »" in text, name
    # French numbers: a decimal comma on the wage-bill bridge, narrow no-break spaces in thousands
    raw = svg_text(out / f"{rid}_pont_masse_salariale.svg")
    assert any(w[0] in "+−0123456789" and "," in w and "." not in w for w in raw.split())
    assert "\u202f" in svg_text(out / f"{rid}_pont_etpma.svg")


def test_note_pages(report):
    run_dir, out = report
    pdf = out / f"{run_dir.name}_note.pdf"
    reader = PdfReader(pdf)
    n = len(reader.pages)
    assert 8 <= n <= 13  # 11: two text pages, the nine charts over five pages, the fit over four
    for page in reader.pages:  # A4 portrait
        assert (float(page.mediabox.width), float(page.mediabox.height)) == pytest.approx(A4_POINTS, abs=1)
    texts = page_texts(pdf)
    assert "Hypothèses principales" in texts[0] and "Taux de remplacement des départs en retraite (CDI)" in texts[0]
    assert "8 réplications (graine 1)" in texts[0]
    # in force: the simulated 2017 ETPMA + the COG's change, mean over the replicates
    with xr.open_dataset(run_dir / "results.nc") as ds:
        c = ds["plafond_emplois"].sel(organisme="cnam")
        cnam = (c.mean("replicate") if "replicate" in c.dims else c).values
    assert f"CNAM : {cnam[5]:,.0f} en 2018 → {cnam[-1]:,.0f} en 2022".replace(",", " ") in texts[0]
    assert "350 agents le 1er juillet 2019" in texts[0]
    # page 2: the key figures, their reading, the uncertainty and the top drivers of the sensitivity result
    assert "Chiffres clés" in texts[1] and "Régime général" in texts[1] and "Lecture" in texts[1]
    assert "Incertitude et limites" in texts[1] and "Principaux déterminants" in texts[1]
    assert "organismes.cnam.taux_remplacement" in texts[1]
    # then the charts, in the report's order, their labels searchable in the note (vector, text kept)
    assert "Graphiques" in texts[2] and "ETPMA simulés et plafonds d'emplois de la COG" in texts[2]
    assert "Pont d'ETPMA" in texts[3] and "Pont de masse salariale" in texts[3]
    joined = " ".join(texts)
    titles = ("ETPMA simulés et plafonds d'emplois de la COG", "Pont d'ETPMA", "Autres dépenses de fonctionnement",
              "Productivité et cible de la COG", "Saturation du plafond d'emplois", "Qualité de service : taux",
              "Comparaison de scénarios", "Sensibilité (un facteur à la fois) : ETPMA 2022")
    assert [joined.index(t) for t in titles] == sorted(joined.index(t) for t in titles)
    # the fit to the published figures, after the charts: its text, then its five charts
    fit = next(i for i, t in enumerate(texts) if "Ajustement aux données publiées" in t)
    assert fit > joined_page(texts, "Sensibilité (un facteur à la fois) : ETPMA 2022") and "Chiffres tracés" in texts[fit]
    pages = [joined_page(texts, t) for t in ("Ajustement — ETPMA", "Ajustement — effectifs",
                                             "Ajustement — recrutements en CDI", "Ajustement — départs en retraite",
                                             "Ajustement — masse salariale")]
    assert fit <= pages[0] and pages == sorted(pages)
    assert "Avertissements de validation" in texts[-1] and "Provenance" in texts[-1]
    for i, text in enumerate(texts, start=1):
        assert f"page {i}/{n}" in text and f"run « {run_dir.name} »" in text
    # the key figure of the régime général is the Dataset's
    run = g.load_run(run_dir)
    etpma_rg = with_aggregates(run.ds["etpma"], run.ds).sel(organisme="regime_general", year=2022).mean().item()
    assert g.format_number(etpma_rg, 0).replace("\u202f", " ") in texts[1]
    # French numbers keep their narrow no-break spaces (the font has the glyph; the text layer keeps it)
    raw = reader.pages[1].extract_text()
    assert g.format_number(etpma_rg, 0) in raw and "\u202f%" in raw


def test_workbook_numbers_are_the_datasets(report):
    run_dir, out = report
    run = g.load_run(run_dir)
    wb = load_workbook(out / f"{run_dir.name}_tableaux.xlsx")
    assert wb.sheetnames == ["Lisez-moi", "Chiffres clés", "Cibles COG", "Hypothèses", "Résultats", "Tableaux",
                             "Pont ETPMA", "Pont masse salariale"]
    for name in wb.sheetnames[1:]:
        assert wb[name].freeze_panes is not None, name
    # results: every row equals results.csv's (the tidy frame of the Dataset)
    ws = wb["Résultats"]
    head = [c.value for c in ws[1]]
    assert head == ["Variable", "Libellé", "Unité", "Organisme", "Année", "Moyenne", "5ᵉ centile", "Médiane",
                    "95ᵉ centile"]
    rows = list(ws.iter_rows(min_row=2, values_only=True))
    df = tidy_frame(run.ds)
    assert len(rows) == len(df)
    got = np.array([[np.nan if v is None else v for v in r[5:]] for r in rows], dtype=float)
    # to the precision of the file (openpyxl writes 16 significant digits; Excel keeps 15); values that are
    # zero by construction (a residue below 1e-9, such as a bridge's ±1e-15) are written as 0
    np.testing.assert_allclose(got, df[["moyenne", "p05", "p50", "p95"]].to_numpy(dtype=float), rtol=1e-14, atol=1e-9)
    assert np.array_equal(np.isnan(got), np.isnan(df[["moyenne", "p05", "p50", "p95"]].to_numpy(dtype=float)))
    assert [r[0] for r in rows] == list(df["variable"])
    assert [r[3] for r in rows] == [g.org_label(o) for o in df["organisme"]]  # named as the note names them
    # and, directly from the Dataset: ETPMA of CNAM in 2022 and the wage bill of the régime général
    by_key = {(r[0], r[3], r[4]): r for r in rows}
    assert by_key["etpma", "CNAM", 2022][5] == pytest.approx(run.ds["etpma"].sel(organisme="cnam", year=2022).mean().item(),
                                                             rel=1e-12)
    ms = with_aggregates(run.ds["masse_salariale"], run.ds).sel(organisme="regime_general", year=2020)
    assert by_key["masse_salariale", "Régime général", 2020][5] == pytest.approx(ms.mean().item(), rel=1e-12)
    assert by_key["masse_salariale", "Régime général", 2020][8] == pytest.approx(ms.quantile(0.95).item(), rel=1e-12)
    assert ws.cell(row=2, column=6).number_format == "#,##0"
    # the wage-bill bridge: the Dataset's effects, and previous level + effects = level
    ws = wb["Pont masse salariale"]
    for r in ws.iter_rows(min_row=2, values_only=True):
        org, year, prev, *effects, change, level = r
        assert prev + sum(effects) == pytest.approx(level, rel=1e-9)
        if org == "CNAF" and year == 2021:
            assert effects[2] == pytest.approx(run.ds["effet_gvt"].sel(organisme="cnaf", year=2021).mean().item(),
                                               rel=1e-12)
    ws = wb["Pont ETPMA"]
    for r in ws.iter_rows(min_row=2, values_only=True):
        org, year, prev, *parts, change, level, memo = r
        assert prev + sum(parts) == pytest.approx(level, rel=1e-9)
    # key figures and inputs
    ws = wb["Chiffres clés"]
    kf = {r[0]: r for r in ws.iter_rows(min_row=2, values_only=True)}
    total = with_aggregates(run.ds["etpma"], run.ds).sel(organisme="total", year=2022)
    assert kf["Ensemble"][2] == pytest.approx(total.mean().item(), rel=1e-12)
    ws = wb["Hypothèses"]
    inputs = {r[0]: r for r in ws.iter_rows(min_row=2, values_only=True)}
    plafond = inputs["organismes.cnam.plafond_variation"]  # the COG's change from the 2017 ETPMA
    assert plafond[2] == "ETPMA" and plafond[4] == 0 and \
        plafond[4 + 2022 - 2013] == load_scenario(COG_FILE).parametres["organismes.cnam.plafond_variation"][-1]
    assert inputs["simulation.replicates"][3] == 8


def test_deterministic_run_in_english_with_draw_charts(tmp_path_factory):
    run_dir = saved_run(tmp_path_factory, "cog_2018_2022")
    paths = rapport.draw_charts(run_dir, "en", workers=2)
    charts = run_dir / rapport.CHARTS_DIR
    assert len(paths) == 3 * len(g.CHARTS) and all(p.parent == charts and p.is_file() for p in paths)
    text = plain(svg_text(charts / f"{run_dir.name}_pont_masse_salariale.svg"))
    assert "Wage-bill bridge" in text and "deterministic" in text and "Masse salariale" not in text
    assert "90 % band" not in plain(svg_text(charts / f"{run_dir.name}_trajectoire_etpma.svg"))
    run = g.load_run(run_dir)
    note = tmp_path_factory.mktemp("en") / "note.pdf"
    pages = rapport.write_note(run, note, "en", charts={c.name: charts / f"{run_dir.name}_{c.name}.svg"
                                                         for c in g.CHARTS})
    texts = page_texts(note)
    assert len(texts) == pages
    assert "Main assumptions" in texts[0] and "Deterministic simulation" in texts[0]
    assert "Key figures" in texts[1] and "Deterministic run" in texts[1] and "No sensitivity analysis" in texts[1]
    assert "Tableaux" not in " ".join(texts) and "Hypothèses" not in " ".join(texts)
    book = note.with_suffix(".xlsx")
    rapport.write_workbook(run, book, "en")
    wb = load_workbook(book)
    assert wb.sheetnames[:5] == ["Read me", "Key figures", "COG targets", "Inputs", "Results"]
    head = [c.value for c in wb["Results"][1]]
    assert head[-1] == "Value"
    row = next(r for r in wb["Results"].iter_rows(min_row=2, values_only=True)
               if r[0] == "etpma" and r[3] == "MSA" and r[4] == 2019)
    # equal to the last bits that a NetCDF and an XLSX round trip keep
    assert row[5] == pytest.approx(run.ds["etpma"].sel(organisme="msa", year=2019, replicate=0).item(), rel=1e-12)


def test_the_report_subcommand(tmp_path):
    parser = argparse.ArgumentParser(prog="cogsim")
    parser.add_argument("--lang", default="fr")
    sub = parser.add_subparsers(dest="command", parser_class=argparse.ArgumentParser)
    from model.cli import report as cli_report

    cli_report.register(sub)
    args = parser.parse_args(["report", str(tmp_path / "missing"), "--lang", "en", "--compare", "a", "b"])
    assert args.func is cli_report.command and args.lang == "en" and args.compare == [Path("a"), Path("b")]
    with pytest.raises(InputError) as e:
        args.func(args)
    assert str(e.value).startswith(f"{tmp_path / 'missing'}: run folder not found")
    args = parser.parse_args(["report", str(tmp_path)])
    assert args.lang == "fr"
    with pytest.raises(InputError) as e:  # a folder that is not a run: both files reported
        args.func(args)
    assert len(e.value.problems) == 2
    with pytest.raises(SystemExit):
        parser.parse_args(["report", str(tmp_path), "--lang", "de"])


def test_bad_compare_and_sensitivity_are_reported_together(tmp_path_factory):
    run_dir = saved_run(tmp_path_factory, "cog_2018_2022")
    bad = run_dir / rapport.SENSITIVITY_FILE
    xr.Dataset({"x": ("parameter", [1.0])}, coords={"parameter": ["a"]}).to_netcdf(bad, engine="netcdf4")
    try:
        with pytest.raises(InputError) as e:
            rapport.write_report(run_dir, compare=[run_dir / "nope"])
    finally:
        bad.unlink()
    assert [p.message for p in e.value.problems] == ["run folder not found", "not a sensitivity result"]


def test_a_failed_report_leaves_the_previous_one(tmp_path_factory, monkeypatch):
    run_dir = saved_run(tmp_path_factory, "cog_2018_2022_transfert_2021")
    previous = run_dir / rapport.REPORT_DIR
    with atomic_dir(previous, "report") as tmp:  # an earlier report, written by cogsim
        (tmp / "old.txt").write_text("previous report", encoding="utf-8")

    def broken(*args, **kwargs):
        raise RuntimeError("disk full")
    monkeypatch.setattr(g, "applicable", lambda run: [])  # no chart: fail fast
    monkeypatch.setattr(rapport, "write_workbook", broken)
    with pytest.raises(RuntimeError, match="disk full"):
        rapport.write_report(run_dir, workers=1)
    assert sorted(p.name for p in previous.iterdir()) == [".cogsim.json", "old.txt"]
    assert sorted(p.name for p in run_dir.iterdir()) == [".cogsim.json", "manifest.json", "report", "results.csv",
                                                         "results.nc"]
