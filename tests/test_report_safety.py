"""``report`` on folders it must refuse (results.nc and manifest.json of different runs, a file missing)
and on very long scenario texts (shortened in every output, in bounded time)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import COG, copy_run_with_header
from model.cli.main import main, summary_table
from model.results.run import run_scenario
from model.outputs.texte import DESCRIPTION_MAX, ELLIPSE, TITRE_MAX, court, court_description

COGSIM = Path(sys.executable).parent / "cogsim"
LONG = 100_000


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    base = tmp_path_factory.mktemp("runs")
    a = run_scenario(COG, out=base / "a", deterministic=True).out
    b = run_scenario(COG, out=base / "b", replicates=2, seed=5).out
    return a, b


def _folder(tmp_path: Path, results: Path | None, manifest: Path | None) -> Path:
    d = tmp_path / "mixed"
    d.mkdir()
    if results is not None:
        shutil.copy(results / "results.nc", d)
    if manifest is not None:
        shutil.copy(manifest / "manifest.json", d)
    return d


def test_results_and_manifest_of_different_runs(runs, tmp_path, capsys):
    a, b = runs
    d = _folder(tmp_path, a, b)
    assert main(["report", str(d)]) == 2
    err = capsys.readouterr().err
    assert err.count("error: ") == 1
    assert f"{d / 'results.nc'} and {d / 'manifest.json'}" in err and "different runs" in err
    assert "run_id 'a' in results.nc, 'b' in manifest.json" in err
    assert "seed" in err and "replicates 1 in results.nc, 2 in manifest.json" in err
    assert not (d / "report").exists()


def test_same_run_id_other_seed(runs, tmp_path, capsys):
    """Two runs written to folders of the same name are told apart by their seed and mode."""
    a, _ = runs
    other = run_scenario(COG, out=tmp_path / "x" / "a", deterministic=True, seed=7).out
    d = _folder(tmp_path, a, other)
    assert main(["report", str(d)]) == 2
    assert "seed 20190701 in results.nc, 7 in manifest.json" in capsys.readouterr().err.replace("'", "")


@pytest.mark.parametrize("keep", ["results", "manifest", "nothing"])
def test_run_dir_with_a_file_missing(runs, tmp_path, capsys, keep):
    a, _ = runs
    d = _folder(tmp_path, a if keep == "results" else None, a if keep == "manifest" else None)
    assert main(["report", str(d)]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    for name, present in (("results.nc", keep == "results"), ("manifest.json", keep == "manifest")):
        assert (f"{d / name}: file not found" in err) != present
    assert not (d / "report").exists()


# ----------------------------------------------------------------------------- long texts
def test_court():
    assert court("COG 2018-2022") == "COG 2018-2022"
    assert court("a\n  b\tc") == "a b c"
    t = court("x" * LONG)
    assert len(t) == TITRE_MAX and t.endswith(ELLIPSE)
    assert court("abc" + " " * LONG).startswith("abc") and len(court("abc" + " " * LONG)) <= TITRE_MAX
    d = court_description("ligne\n" * LONG)
    assert len(d) == DESCRIPTION_MAX and d.endswith(ELLIPSE) and "\n" in d
    assert court(None) == ""


@pytest.fixture(scope="module")
def long_run(runs, tmp_path_factory):
    """Run ``a`` with a 100 000-character title, author, reference and description in both files."""
    src, _ = runs
    title = ("Un titre très long " * (LONG // 19 + 1))[:LONG]
    d = copy_run_with_header(src, tmp_path_factory.mktemp("long") / "a", title=title, author="A" * LONG,
                             reference="R" * LONG, description="Une description.\n" * (LONG // 17))
    return d, title


def test_long_texts_are_shortened_in_every_report_output(long_run):
    from openpyxl import load_workbook
    from pypdf import PdfReader

    d, title = long_run
    cmd = [str(COGSIM)] if COGSIM.exists() else [sys.executable, "-m", "model.cli.main"]
    r = subprocess.run([*cmd, "report", str(d)], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    report = d / "report"
    pages = PdfReader(next(report.glob("*_note.pdf"))).pages
    assert len(pages) < 20
    note = " ".join(" ".join(p.extract_text() for p in pages).split())
    assert "A" * (TITRE_MAX + 1) not in note and "R" * (TITRE_MAX + 1) not in note
    assert note.count("Une description.") <= DESCRIPTION_MAX // 16
    assert "Un titre très long " * (TITRE_MAX // 19 + 1) not in note  # every occurrence shortened
    wb = load_workbook(next(report.glob("*.xlsx")), read_only=True)
    for ws in wb.worksheets:
        for row in ws.iter_rows(values_only=True):
            for v in row:
                assert not isinstance(v, str) or len(v) <= max(DESCRIPTION_MAX, 2000), (ws.title, v[:80])


def test_long_title_in_charts_and_summary(long_run):
    from model.outputs import graphiques as g

    d, title = long_run
    run = g.load_run(d)
    assert len(run.title) == TITRE_MAX and run.title.endswith(ELLIPSE)
    assert len(g.source_note(run)) < 1000
    head = summary_table(run.ds).splitlines()[0]
    assert len(head) < TITRE_MAX + 120 and ELLIPSE in head


def test_long_title_scenario_run_summary(tmp_path, capsys):
    """A scenario with a 100 000-character title: the printed summary shows it shortened (or, if the
    scenario validation caps the title, the run is refused naming the title)."""
    sc = tmp_path / "long.toml"
    sc.write_text(f'[scenario]\ntitle = "{"T" * LONG}"\nbaseline = "{COG.as_posix()}"\n', encoding="utf-8")
    code = main(["run", str(sc), "--deterministic", "--out", str(tmp_path / "out")])
    out, err = capsys.readouterr()
    if code == 2:
        assert "title" in err
        return
    assert code == 0, err
    assert "T" * TITRE_MAX not in out and "T" * (TITRE_MAX - 1) + ELLIPSE in out
