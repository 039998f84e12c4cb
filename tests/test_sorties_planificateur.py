"""Issue 16 items 2, 3 and 7 — the outputs as a planner reads them: the service chart on linear axes with
each organisme's delay target and the last year's tick, the ex-RSI told apart from the CNAV, the
saturation's points on their years, the MSA's productivity as an index (no "1,025" read as thousands), an
aggregate's late ceiling explained, every chart drawn for one organisme on request; the workbook's units
clean in both languages, minutes with decimals, zeros by construction written as 0, organismes named as
the note names them, the read-me in the workbook's language; ``run --report`` and the hint of a run."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from matplotlib.lines import Line2D
from openpyxl import load_workbook

from model.outputs import graphiques as g
from model.outputs import style
from model.outputs.classeur import write_workbook
from model.outputs.libelles import unit_label
from test_graphiques import saved_run

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    return g.load_run(saved_run(tmp_path_factory, "cog_2018_2022-s"))


def texts(fig) -> list[str]:
    return [t.get_text() for t in fig.findobj(lambda a: hasattr(a, "get_text")) if t.get_text()]


# ----------------------------------------------------------------------------- charts
def test_service_linear_axes_targets_and_last_year(run):
    fig = g.chart_service(run, "fr")
    axes = [ax for ax in fig.findobj(lambda a: hasattr(a, "get_yscale")) if ax.axison and ax.has_data()]
    assert axes and all(ax.get_yscale() == "linear" for ax in axes)
    for ax in axes:  # the horizon's last year is labelled on every panel
        assert str(int(run.years[-1])) in [t.get_text() for t in ax.get_xticklabels()], ax.get_title()
    cnaf = next(ax for ax in axes if ax.get_title(loc="left") == "CNAF")
    targets = [ln for ln in cnaf.get_lines() if np.allclose(ln.get_ydata(), 15.0)]
    assert targets, "the CNAF's 15-day target line"
    assert any("15 jours" in t for t in texts(fig))
    assert style.SERIES["cnav"][:2] != style.SERIES["rsi"][:2] and style.SERIES["cnav"][2] != style.SERIES["rsi"][2]


def test_saturation_points_on_their_years(run):
    fig = g.chart_saturation(run, "fr")
    lines = [ln for ln in fig.findobj(Line2D) if len(ln.get_xdata()) == len(run.years)]
    assert lines
    for ln in lines:
        assert np.allclose(np.asarray(ln.get_xdata(), float), run.years)


def test_productivity_of_a_few_units_is_an_index(run):
    fig = g.chart_productivite(run, "fr")
    msa = next(ax for ax in fig.findobj(lambda a: hasattr(a, "get_yticklabels")) if ax.get_title(loc="left") == "MSA")
    assert "indice, base 100" in msa.get_ylabel()
    labels = [t.get_text() for t in msa.get_yticklabels() if t.get_text()]
    assert labels and not any("," in t for t in labels)


def test_aggregate_ceiling_start_is_explained(run):
    fig = g.chart_trajectoire_etpma(run, "fr")
    assert any("Plafond défini à partir de 2020" in " ".join(t.split()) and "ex-RSI" in t for t in texts(fig))


@pytest.mark.parametrize("spec", g.CHARTS, ids=[c.name for c in g.CHARTS])
def test_every_chart_for_one_organisme(run, spec):
    fig = spec.draw(run, "fr", organisme="cnaf")
    t = " ".join(texts(fig))
    assert "CNAF" in t and "CNAM" not in t and "ACOSS" not in t


def test_band_visible_at_print_size(run):
    """The 90 % band fill is darker than the grid: it shows on paper."""
    from matplotlib.colors import to_rgb

    assert sum(to_rgb(style.FAN[0])) / 3 < 0.75


# ----------------------------------------------------------------------------- workbook
@pytest.mark.parametrize("lang", ["fr", "en"])
def test_workbook_units_formats_zeros_and_labels(run, tmp_path, lang):
    path = tmp_path / f"t_{lang}.xlsx"
    write_workbook(run, path, lang)
    wb = load_workbook(path)
    readme = wb.worksheets[0]
    keys = [readme.cell(row=i, column=1).value for i in range(1, 11)]
    if lang == "fr":
        assert {"Réplications", "Graine", "Mode"} <= set(keys) and "replicates" not in keys
        assert readme.cell(row=keys.index("Mode") + 1, column=2).value == "stochastique"
    else:
        assert {"Replicates", "Seed"} <= set(keys)
    res = wb.worksheets[4]
    units, formats, orgs = {}, {}, set()
    for row in res.iter_rows(min_row=2):
        var, org = row[0].value, row[3].value
        orgs.add(org)
        if var == "cout_unitaire":
            units[org] = row[2].value
        if var == "attente_moyenne":
            formats[org] = row[5].number_format
    assert units["CNAF"] == "€/allocataires pondérés" and units["CNAM"] == "€/UO FSE"
    assert units["MSA"] == ("€/ETPMA-éq." if lang == "fr" else "€/ETPMA-eq.")
    assert not any(u and ("(" in u or "EUR" in u or "ETPMA_eq" in u) for u in units.values())
    assert set(formats.values()) == {"0.0"}
    assert "regime_general" not in orgs and "Régime général" in orgs
    bridge = wb.worksheets[-1]
    values = [c.value for row in bridge.iter_rows(min_row=2) for c in row[2:] if isinstance(c.value, float)]
    assert values and not any(v != 0 and abs(v) < 1e-6 for v in values)


# ----------------------------------------------------------------------------- first hour
def test_run_says_where_and_run_report_does_both(tmp_path):
    cmd = [sys.executable, str(ROOT / "run_scenario.py"), "run", "scenarios/cog_2018_2022.toml", "--deterministic"]
    # as a user runs it: French by default (the suite's conftest sets COGSIM_LANG=en for the library's messages)
    env = {k: v for k, v in os.environ.items() if k != "COGSIM_LANG"}
    r = subprocess.run(cmd + ["--out", str(tmp_path / "a")], capture_output=True, text=True, cwd=ROOT, env=env)
    assert r.returncode == 0, r.stderr
    assert f"Résultats écrits dans {tmp_path / 'a'}" in r.stdout
    assert f"report {tmp_path / 'a'}" in r.stdout and "--report" in r.stdout
    r = subprocess.run(cmd + ["--out", str(tmp_path / "b"), "--report"], capture_output=True, text=True, cwd=ROOT,
                       env=env)
    assert r.returncode == 0, r.stderr
    report = tmp_path / "b" / "report"
    assert (report / "b_note.pdf").exists() and (report / "b_tableaux.xlsx").exists()
    assert (report / "b_trajectoire_etpma.png").exists()
    assert str(report) in r.stdout


def test_unit_label_of_a_unit_per_workload():
    assert unit_label("EUR/ETPMA_eq", "fr") == "€/ETPMA-éq."
    assert unit_label("EUR/allocataires pondérés", "en") == "€/allocataires pondérés"
