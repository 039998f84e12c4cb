"""The fit charts (model/outputs/graphiques_ajustement.py): every chart drawn on a small run in French and in
English, the observed points drawn are exactly the rows of the observation tables (counted, and placed where
the tables say), the COG ETPMA target drawn only when the run carries it, the note's section, and what a
report does with missing or corrupt observation files."""

from __future__ import annotations

import csv
import dataclasses
import re
import shutil
from collections import Counter

import numpy as np
import pytest
from matplotlib.legend import Legend
from matplotlib.lines import Line2D
from pypdf import PdfReader

from model.analysis.observations import OBSERVATIONS_DIR
from model.outputs import graphiques as g
from model.outputs import graphiques_ajustement as ga
from model.outputs import note, rapport
from model.outputs.libelles import table
from model.params.errors import InputError
from test_graphiques import plain, saved_run, svg_text

TABLES = sorted(OBSERVATIONS_DIR.glob("*.csv"))


def table_rows() -> list[dict[str, str]]:
    """The rows of calibration/observations/*.csv, read with the csv module (not the code under test)."""
    rows = []
    for f in TABLES:
        with open(f, newline="", encoding="utf-8") as fh:
            rows += [r for r in csv.DictReader(fh) if any(v.strip() for v in r.values())]
    return rows


@pytest.fixture(scope="module")
def small_run(tmp_path_factory):
    """The default scenario, 8 replicates (seed 1)."""
    return g.load_run(saved_run(tmp_path_factory, "cog_2018_2022-s"))


@pytest.fixture(scope="module")
def obs():
    return ga.charger_observations()


def legend_texts(fig) -> list[str]:
    return [plain(t.get_text()) for leg in fig.findobj(Legend) for t in leg.get_texts()]


def drawn_ids(fig) -> list[str]:
    return [a.get_gid()[4:] for ax in fig.axes for a in ax.lines if (a.get_gid() or "").startswith("obs-")]


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_every_fit_chart_in_both_languages(small_run, obs, lang, tmp_path):
    A = table(lang)["ajustement"]
    assert [c.name for c in ga.applicable_fit(small_run, obs)] == [c.name for c in ga.FIT_CHARTS]
    for c in ga.FIT_CHARTS:
        fig = ga.chart_ajustement(small_run, c.name, obs, lang)
        svg = g.save_figure(fig, tmp_path, c.name, formats=("svg",))[0]
        text = plain(svg_text(svg))
        assert plain(A[c.title]) in text, (c.name, lang)
        assert plain(A["projection"].format(a=2013, b=2018)) in text
        assert plain(table(lang)["graphiques"]["fan"]) in text  # a stochastic run: its band
        assert "calibration/observations/*.csv" in text and obs.empreinte[:12] in text  # which tables
        assert ("8 réplications" if lang == "fr" else "8 replicates") in text  # the run's source line
        other = "fr" if lang == "en" else "en"
        assert plain(table(other)["ajustement"][c.title]) not in text


def test_the_points_drawn_are_the_rows_of_the_tables(small_run, obs, tmp_path):
    """Each chart draws every row of its indicators once (gid obs-<id>, also the id in the SVG), at the
    level the table gives, or the published change from the simulated base-year level, or the cumul's
    yearly mean; rows of other indicators are not drawn."""
    rows = table_rows()
    assert len(rows) == len(obs.observations)
    seen = []
    for c in ga.FIT_CHARTS:
        expected = [r["id"] for r in rows if r["indicator"] in c.indicators]
        fig = ga.chart_ajustement(small_run, c, obs, "fr")
        got = drawn_ids(fig)
        assert Counter(got) == Counter(expected) and expected, c.name
        svg = g.save_figure(fig, tmp_path, c.name, formats=("svg",))[0].read_text(encoding="utf-8")
        assert sorted(re.findall(r'id="obs-([^"]+)"', svg)) == sorted(expected)
        seen += got
        # where each one is drawn
        marker = {a.get_gid()[4:]: a for ax in fig.axes for a in ax.lines if (a.get_gid() or "").startswith("obs-")}
        for r in (r for r in rows if r["indicator"] in c.indicators):
            y = float(marker[r["id"]].get_ydata()[0])
            v = float(r["value"])
            var = {"recrutements_cdi": None, "effectif_moyen": None}.get(r["indicator"], r["indicator"])
            if r["kind"] == "level":
                assert y == pytest.approx(v), r["id"]
            elif r["kind"] == "cumul":
                assert y == pytest.approx(v / (int(r["year"]) - int(r["annee_base"]) + 1)), r["id"]
            elif var is not None:
                base = small_run.mean(var, r["organisme"])[int(r["annee_base"]) - 2013]
                want = base + v if r["kind"] == "change_abs" else base * (1 + v / 100)
                assert y == pytest.approx(want, rel=1e-9), r["id"]
            marker_style = marker[r["id"]]
            assert marker_style.get_marker() == ga.MARKERS[r["quality"]]
            assert (marker_style.get_markerfacecolor() == "white") == (r["estimated"] == "true")
    assert len(seen) == len(set(seen))  # no row on two charts
    # the summary of the note counts the same points
    summary = ga.fit_summary(small_run, obs, ga.FIT_CHARTS)
    assert sum(s["n"] for s in summary) == len(seen)


def test_derived_series_and_a_change_observation_by_hand(small_run, obs):
    """CDI hires = hires − CDD hires; a change_pct row of 10 % from 2014 sits at 1.1 × the simulated 2014 level;
    its simulated value is the run's own change."""
    m, lo, hi = ga.serie(small_run, "recrutements_cdi", "total")
    assert np.allclose(m, small_run.mean("recrutements", "total") - small_run.mean("recrutements_cdd", "total"))
    assert np.all(lo <= m + 1e-9) and np.all(m <= hi + 1e-9)
    o = dataclasses.replace(next(x for x in obs.observations if x.kind == "change_pct" and x.indicator == "effectif_moyen"),
                            value=10.0, annee_base=2014, year=2018)
    [p] = ga.points(small_run, [o], "effectif_moyen", o.organisme)
    mean, _, _ = ga.serie(small_run, "effectif_moyen", o.organisme)
    assert p.y == pytest.approx(1.1 * mean[1]) and p.anchor == (2014, pytest.approx(mean[1]))
    assert p.simule == pytest.approx(100 * (mean[5] / mean[1] - 1))
    assert p.err == pytest.approx(mean[1] * 2 * o.sigma / 100)


def test_the_cog_etpma_target_is_drawn_only_when_the_run_has_one(small_run, obs):
    L = table("fr")["ajustement"]

    def target_lines(fig):
        return [a for ax in fig.axes for a in ax.lines if a.get_color() == ga.TARGET_COLOUR]

    fig = ga.chart_ajustement(small_run, "ajustement_etpma", obs, "fr")
    assert target_lines(fig) == [] and L["cible_etpma"] not in legend_texts(fig)
    assert plain(table("fr")["graphiques"]["plafond"]) in legend_texts(fig)
    assert ga.cible_etpma(small_run, "cnaf") is None
    manifest = {**small_run.manifest, "parameters": {**small_run.manifest["parameters"],
                                                      "organismes.cnaf.cible_etpma": {"2018": 34500, "2022": "inf",
                                                                                      "2020": 33900.0}}}
    run = dataclasses.replace(small_run, manifest=manifest, _cache={})
    t = ga.cible_etpma(run, "cnaf")
    assert t[5] == 34500 and t[7] == 33900 and np.isnan(t[9]) and ga.cible_etpma(run, "cnam") is None
    fig = ga.chart_ajustement(run, "ajustement_etpma", obs, "fr")
    [line] = target_lines(fig)
    assert np.allclose(line.get_ydata(), t, equal_nan=True)
    assert L["cible_etpma"] in legend_texts(fig)


def test_a_deterministic_run_has_no_band(tmp_path_factory, obs):
    run = g.load_run(saved_run(tmp_path_factory, "cog_2018_2022"))
    m, lo, hi = ga.serie(run, "effectif_moyen", "total")
    assert lo is None and hi is None and np.isfinite(m).all()
    fig = ga.chart_ajustement(run, "ajustement_effectifs", obs, "en")
    assert not any(type(c).__name__ in ("PolyCollection", "FillBetweenPolyCollection")
                   for ax in fig.axes for c in ax.collections)
    assert isinstance(fig.axes[0].lines[0], Line2D)


def test_the_note_has_the_fit_section(small_run, obs, tmp_path):
    names = [c.name for c in ga.FIT_CHARTS]
    charts = {n: g.save_figure(note.draw_chart(n, small_run, "fr", observations=obs), tmp_path, n,
                               formats=("svg",))[0] for n in names}
    pdf = tmp_path / "note.pdf"
    note.write_note(small_run, pdf, "fr", charts=charts, observations=obs)
    text = plain(" ".join(p.extract_text() for p in PdfReader(pdf).pages))
    T = note.TEXTS["fr"]
    assert T["fit_title"] in text and T["fit_misses"] in text
    for c in ga.FIT_CHARTS:
        assert plain(table("fr")["ajustement"][c.title]) in text
    n = sum(s["n"] for s in ga.fit_summary(small_run, obs, ga.FIT_CHARTS))
    assert f"Sur les {n} chiffres tracés" in text
    # without observations given, no section
    pdf2 = tmp_path / "note2.pdf"
    note.write_note(small_run, pdf2, "fr", charts={})
    assert T["fit_title"] not in plain(" ".join(p.extract_text() for p in PdfReader(pdf2).pages))


def test_missing_tables_leave_the_fit_out_and_say_so(tmp_path_factory, monkeypatch):
    """A copy of cogsim without calibration/observations still writes its report; the note says why."""
    run_dir = saved_run(tmp_path_factory, "cog_2018_2022_transfert_2021")
    monkeypatch.setattr(g, "applicable", lambda run: [])  # only what this test is about: fast
    out = rapport.write_report(run_dir, workers=1, observations_dir=run_dir / "no-such-folder")
    assert not any("ajustement" in p.name for p in out.iterdir())
    text = plain(" ".join(p.extract_text() for p in PdfReader(out / f"{run_dir.name}_note.pdf").pages))
    assert note.TEXTS["fr"]["fit_title"] in text and "sont absentes de cette installation" in text
    empty = tmp_path_factory.mktemp("empty")
    assert ga.charger_observations(empty).absence == "files"


def test_a_corrupt_table_is_bad_input_naming_the_file(tmp_path_factory):
    """A table that is there but invalid stops the report before anything is written (exit 2 from the
    command line), with the file, row and column named; the previous report is kept."""
    run_dir = saved_run(tmp_path_factory, "cog_2018_2022_transfert_2021")
    bad = tmp_path_factory.mktemp("obs")
    for f in TABLES:
        shutil.copy(f, bad / f.name)
    path = bad / "effectifs.csv"
    lines = path.read_text(encoding="utf-8").splitlines()
    lines[3] = lines[3].replace(",level,", ",niveau,", 1)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    before = sorted(p.name for p in run_dir.iterdir())
    with pytest.raises(InputError) as e:
        rapport.write_report(run_dir, workers=1, observations_dir=bad)
    [p] = e.value.problems
    assert p.file == str(path) and p.path == "row 4, column kind" and p.value == "niveau"
    assert sorted(p.name for p in run_dir.iterdir()) == before


def test_the_command_line_says_why_and_exits_2_on_a_corrupt_table(tmp_path_factory, monkeypatch, capsys):
    """`cogsim report` on the project's tables: missing, it writes the report and says the fit charts were
    left out; corrupt, it exits 2 naming the file."""
    from model.cli.main import main

    run_dir = saved_run(tmp_path_factory, "cog_2018_2022_transfert_2021")
    monkeypatch.setattr(g, "applicable", lambda run: [])  # fast: only the note and the workbook
    monkeypatch.setattr(ga, "OBSERVATIONS_DIR", run_dir / "no-such-folder")
    assert main(["--lang", "fr", "report", str(run_dir)]) == 0
    out = capsys.readouterr().out
    assert "Graphiques d'ajustement omis : tables d'observations absentes" in out and "ajustement_" not in out
    bad = tmp_path_factory.mktemp("obs-cli")
    (bad / "effectifs.csv").write_text("id,indicator\nx,etpma\n", encoding="utf-8")
    monkeypatch.setattr(ga, "OBSERVATIONS_DIR", bad)
    assert main(["report", str(run_dir)]) == 2
    err = capsys.readouterr().err
    assert f"error: {bad / 'effectifs.csv'}: row 1, column year" in err and "missing column" in err
