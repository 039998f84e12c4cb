"""The figures of ``calibration/README.md`` and the misses of ``calibration/DIFFERENCES.md`` are generated
(``tools/calibration_readme.py``, a developer tool outside the package, imported here by path and run as a
developer runs it) from the fitted-parameter file and the shipped backtest, and are current."""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
import sys
import tomllib

import pytest

from conftest import ROOT
from model.analysis.backtest import OBJECTIFS, lire_backtest

TOOL = ROOT / "tools" / "calibration_readme.py"


@pytest.fixture(scope="module")
def tool():
    spec = importlib.util.spec_from_file_location("cogsim_tools_calibration_readme", TOOL)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclass looks its module up
    spec.loader.exec_module(module)
    return module


def test_calibration_figures_are_generated_and_current(tool):
    """Fails when a figure was typed, or the shipped backtest or fitted file moved without the other:
    ``python tools/calibration_readme.py --regenerate``."""
    text = "".join(f.read_text(encoding="utf-8") for f in tool.FILES)
    for name in tool.SECTIONS:
        assert f"<!-- BEGIN {name} -->" in text and f"<!-- END {name} -->" in text, name
    assert not tool.stale(), tool.stale()


def test_sections_hold_every_parameter_goal_and_post_2018_figure(tool):
    src = tool.Sources()
    fit = tool.fit_section(src)
    for name in tomllib.loads(src.parametres.read_text(encoding="utf-8"))["ajustement"]:
        assert f"| `{name}` |" in fit, name
    bt = tool.backtest_section(src)
    for label, *_ in OBJECTIFS:
        assert f"| {label} |" in bt, label
    post = tool.post_2018_section(src)
    ids = {r["id"] for r in lire_backtest(src.backtest_csv) if r["source"] != "refit"}
    assert ids and all(f"| {i} |" in post for i in ids)


def test_check_names_a_stale_section_and_update_rewrites_it(tmp_path):
    f = tmp_path / "README.md"
    f.write_text("# t\n\nby hand\n\n<!-- BEGIN BACKTEST -->\n| typed | 1.0 % |\n<!-- END BACKTEST -->\n\nby hand too\n",
                 encoding="utf-8")
    run = lambda *a: subprocess.run([sys.executable, str(TOOL), *a, str(f)], cwd=ROOT, capture_output=True,  # noqa: E731
                                    text=True, timeout=120)
    r = run("--check")
    assert r.returncode == 1 and str(f) in r.stderr and "--regenerate" in r.stderr
    assert run("--update").returncode == 0
    assert run("--check").returncode == 0
    text = f.read_text(encoding="utf-8")
    assert "| typed |" not in text and "by hand\n" in text and "by hand too\n" in text
    assert "| staff (ETPMA, headcounts), horizon 1 |" in text


def test_check_fails_when_the_backtest_ran_on_another_calibration(tool, tmp_path):
    other = tmp_path / "parametres_calibres.toml"
    shutil.copyfile(tool.Sources().parametres, other)
    with open(other, "a", encoding="utf-8") as fh:
        fh.write("\n# recalibrated\n")
    bad = tool.stale(files=[], src=tool.Sources(parametres=other))
    assert len(bad) == 1 and "calibration_sha256" in bad[0] and "other inputs" in bad[0]
