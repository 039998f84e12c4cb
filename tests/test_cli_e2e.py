"""Every command of the README's command table, end to end through the installed console script.

Each test runs the ``cogsim`` executable installed next to the interpreter (as a user runs it, from a
folder outside the project) on small inputs, with ``--out`` under ``tmp_path`` so that nothing is
written into the repository -- except the no-command default run, which writes ``results/cog_2018_2022/``
(``results/*`` is git-ignored) as documented. The long ones (``calibrate`` and ``backtest`` on the
default observations, about 30 s each) are marked slow.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import COG, ROOT

COGSIM = Path(sys.executable).parent / "cogsim"
TAU = "organismes.cnaf.taux_remplacement@2020"


def cogsim(*args, cwd: Path, timeout: float = 600) -> subprocess.CompletedProcess:
    """Run the console script (``python -m model.cli.main`` if it is not installed) from ``cwd``."""
    cmd = [str(COGSIM)] if COGSIM.exists() else [sys.executable, "-m", "model.cli.main"]
    env = {k: v for k, v in os.environ.items() if k != "COGSIM_LANG"}  # as a user runs it: French by default
    return subprocess.run([*cmd, *map(str, args)], cwd=cwd, capture_output=True, text=True, timeout=timeout, env=env)


def ok(r: subprocess.CompletedProcess) -> subprocess.CompletedProcess:
    assert r.returncode == 0, f"exit {r.returncode}\nstdout:\n{r.stdout[-2000:]}\nstderr:\n{r.stderr[-4000:]}"
    assert "Traceback" not in r.stderr
    return r


@pytest.fixture(scope="module")
def work(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("e2e")


@pytest.fixture(scope="module")
def det_run(work) -> Path:
    """``run --deterministic``: the saved run the report tests read."""
    out = work / "det"
    r = ok(cogsim("run", COG, "--deterministic", "--out", out, cwd=work))
    assert str(out) in r.stdout
    return out


@pytest.fixture(scope="module")
def two_replicates(work) -> Path:
    out = work / "r2"
    ok(cogsim("run", COG, "--replicates", 2, "--seed", 3, "--out", out, cwd=work))
    return out


def _files(out: Path) -> list[str]:
    return sorted(p.name for p in out.iterdir())


# ----------------------------------------------------------------------------- the command table
def test_every_command_of_the_readme_table_has_a_test():
    """The README's command table and the tests below name the same commands."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("## Command line", 1)[1].split("\n## ", 1)[0]
    commands = set()
    for code in re.findall(r"^\| `([^`]*)` \|", section, re.M):
        words = code.split()
        words = words[2:] if words[:2] == ["python", "run_scenario.py"] else words[1:]
        if words and words[0].startswith("--"):  # a global option
            commands.add(("", words[0]))
            continue
        name = words[0] if words else ""
        commands.add((name, words[2] if len(words) > 2 and words[1] == "..." else ""))
    assert commands == {("", ""), ("run", ""), ("check", ""), ("describe", ""), ("calibrate", ""),
                        ("backtest", ""), ("solve", ""), ("report", ""), ("compare", ""), ("sweep", ""),
                        ("sensitivity", ""), ("run", "--precision"), ("", "--lang"), ("template", "")}, commands


@pytest.mark.parametrize("command", ["run", "check", "describe", "calibrate", "backtest", "solve", "report",
                                     "compare", "sweep", "sensitivity", "template"])
def test_every_command_parses(command):
    """Every command's parser builds, whichever command is invoked (a module registering several
    commands, like calibration's calibrate and backtest, once crashed with 'conflicting subparser')."""
    from model.cli.main import build_parser

    parser = build_parser([command, "--help"])
    with pytest.raises(SystemExit) as exc:
        parser.parse_args([command, "--help"])
    assert exc.value.code == 0


# ----------------------------------------------------------------------------- run
def test_default_run_without_command(work):
    """``cogsim`` alone runs the default scenario into the project's results/ (git-ignored)."""
    r = ok(cogsim(cwd=work))
    out = ROOT / "results" / "cog_2018_2022"
    assert str(out) in r.stdout and "ETPMA moyen par organisme" in r.stdout
    assert {"manifest.json", "results.nc", "results.csv"} <= set(_files(out))
    assert "results/*" in (ROOT / ".gitignore").read_text(encoding="utf-8").split()


def test_run_replicates(two_replicates):
    assert _files(two_replicates) == [".cogsim.json", "manifest.json", "results.csv", "results.nc"]
    m = json.loads((two_replicates / "manifest.json").read_text(encoding="utf-8"))
    assert m["replicates"] == 2 and m["seed"] == 3 and m["mode"] == "stochastic"


def test_run_deterministic(det_run):
    m = json.loads((det_run / "manifest.json").read_text(encoding="utf-8"))
    assert m["mode"] == "deterministic"


def test_run_precision(work):
    out = work / "precision"
    r = ok(cogsim("run", COG, "--precision", "etpma:cnaf:2022=2%", "--replicates", 5, "--out", out, cwd=work))
    assert "précision : " in r.stderr  # French by default
    assert (out / "results.nc").exists()


def test_lang_en(work):
    r = ok(cogsim("--lang", "en", "run", COG, "--deterministic", "--out", work / "en", cwd=work))
    assert r.stdout.startswith("Mean ETPMA by organisme and year")


# ----------------------------------------------------------------------------- check, describe
def test_check(work):
    r = ok(cogsim("check", COG, cwd=work))
    assert r.stdout.strip() == f"{COG}: valide"


def test_describe(work):
    r = ok(cogsim("describe", COG, cwd=work))
    assert "organismes.cnaf.taux_remplacement" in r.stdout and "source :" in r.stdout and "unité :" in r.stdout


def test_describe_changed(work):
    full = ok(cogsim("describe", COG, cwd=work)).stdout
    changed = ok(cogsim("describe", COG, "--changed", cwd=work)).stdout
    assert "* organismes.cnaf.plafond_variation" in changed
    assert len(changed) < len(full)
    assert all(line.startswith("* ") for line in changed.splitlines()[3:] if line and not line.startswith(" "))


# ----------------------------------------------------------------------------- calibrate, backtest
@pytest.fixture(scope="module")
def small_observations(work) -> Path:
    """The staff observations only (a copy: the default data would rewrite calibration/parametres_calibres.toml)."""
    data = work / "observations"
    data.mkdir()
    shutil.copy(ROOT / "calibration" / "observations" / "effectifs.csv", data)
    return data


def test_calibrate_small_data(work, small_observations):
    out = work / "calibration"
    before = (ROOT / "calibration" / "parametres_calibres.toml").read_bytes()
    r = ok(cogsim("calibrate", "--data", small_observations, "--out", out, cwd=work))
    assert "fit targets within 2 sigma" in r.stdout
    assert (out / "parametres_calibres.toml").exists()
    assert (ROOT / "calibration" / "parametres_calibres.toml").read_bytes() == before


@pytest.mark.slow
def test_calibrate_default_data(work):
    """The default observations, copied (so that the shipped fitted file is not rewritten)."""
    data = work / "all_observations"
    shutil.copytree(ROOT / "calibration" / "observations", data)
    out = work / "calibration-all"
    r = ok(cogsim("calibrate", "--data", data, "--out", out, cwd=work))
    assert "fit targets within 2 sigma" in r.stdout


def test_backtest_starts(work):
    """``backtest`` parses and reaches its data (bad data: exit 2, one line, nothing written)."""
    empty = work / "no_observations"
    empty.mkdir()
    r = cogsim("backtest", "--data", empty, "--out", work / "bt-empty", cwd=work)
    assert r.returncode == 2, r.stderr
    assert "Traceback" not in r.stderr and "no observation file" in r.stderr
    assert not (work / "bt-empty").exists()


@pytest.mark.slow
def test_backtest(work):
    """The whole backtest from the console script (three refits, bands of 200 replicates, the post-2018
    figures on the default scenario); the fast configuration is in tests/test_backtest.py."""
    out = work / "backtest"
    r = ok(cogsim("backtest", "--out", out, cwd=work))
    assert "staff (ETPMA, headcounts), horizon 1" in r.stdout and "90 % band coverage" in r.stdout
    assert {"backtest.csv", "resume.csv", "backtest.json"} <= set(_files(out))
    rows = (out / "backtest.csv").read_text(encoding="utf-8").splitlines()
    assert rows[0].startswith("group,indicator,organisme,year,horizon,observed,simulated,error_rel,in_band90")
    windows = {line.split(",")[10] for line in rows[1:]}
    assert {"2013-2015", "2013-2016", "2013-2017", "2013-2018"} == windows


# ----------------------------------------------------------------------------- solve
def test_solve(work):
    out = work / "solve"
    r = ok(cogsim("solve", COG, "--target", "etpma:cnaf:2022=32000", "--lever",
                  "organismes.cnaf.taux_remplacement@2018", "--replicates", 3, "--out", out, cwd=work))
    assert "organismes.cnaf.taux_remplacement" in r.stdout
    assert (out / "solve.json").exists()


# ----------------------------------------------------------------------------- report
def test_report(work, det_run):
    r = ok(cogsim("report", det_run, cwd=work))
    files = {p.name for p in (det_run / "report").rglob("*")}
    assert any(f.endswith(".pdf") for f in files) and any(f.endswith(".xlsx") for f in files)
    # the fit charts (published figures against the run) are written and listed with the others
    assert f"{det_run.name}_ajustement_etpma.png" in files and "ajustement_masse_salariale.png" in r.stdout


def test_compare(work, det_run, two_replicates, tmp_path):
    """``compare REF RUN``: the deliverable in one folder; a deterministic reference and a stochastic variant
    are compared by their means (no band: they do not share their draws)."""
    r = ok(cogsim("compare", det_run, two_replicates, "--organisme", "cnaf", "--out", tmp_path / "cmp", cwd=work))
    assert "Comparaison écrite dans" in r.stdout and "variante − référence" in r.stdout
    names = {p.name for p in (tmp_path / "cmp").iterdir()}
    assert {"comparaison_note.pdf", "comparaison.xlsx", "ecarts.csv", "comparaison_ecarts_cnaf.png"} <= names


def test_report_compare(work, det_run, two_replicates):
    ok(cogsim("report", two_replicates, "--lang", "en", "--compare", det_run, cwd=work))
    assert any(p.suffix == ".xlsx" for p in (two_replicates / "report").rglob("*"))


# ----------------------------------------------------------------------------- sweep, sensitivity
def test_sweep(work):
    out = work / "sweep"
    r = ok(cogsim("sweep", COG, "--grid", f"{TAU}=0.4,0.6", "--deterministic", "--outputs", "etpma",
                  "--out", out, cwd=work))
    assert "sweep.zarr" in r.stdout and (out / "sweep.zarr").is_dir()


def test_sensitivity(work):
    """One sensitivity file: ``sensibilite.nc``, copied into a run folder, gives the report its tornado."""
    out = work / "sensitivity"
    r = ok(cogsim("sensitivity", COG, "--method", "oat", "--param", f"{TAU}=0.4:0.6", "--outputs", "etpma",
                  "--out", out, cwd=work))
    assert "oat" in r.stdout and "etpma total 2022 (swing):" in r.stdout and TAU in r.stdout
    assert (out / "sensibilite.nc").exists() and not (out / "sensitivity.nc").exists()
    run = work / "run-with-sensitivity"
    ok(cogsim("run", COG, "--deterministic", "--out", run, cwd=work))
    shutil.copy(out / "sensibilite.nc", run / "sensibilite.nc")
    ok(cogsim("report", run, cwd=work))
    assert (run / "report" / f"{run.name}_tornado.svg").exists()


@pytest.mark.parametrize("command", ["sweep", "sensitivity"])
def test_bad_scheduler_address_exits_2_before_anything(work, command):
    out = work / f"bad-scheduler-{command}"
    extra = (["--grid", f"{TAU}=0.4,0.6"] if command == "sweep" else
             ["--method", "oat", "--param", f"{TAU}=0.4:0.6"])
    r = cogsim(command, COG, *extra, "--scheduler", "not a url", "--out", out, cwd=work, timeout=60)
    assert r.returncode == 2, r.stderr
    assert "Traceback" not in r.stderr
    err = r.stderr.splitlines()[-1]
    assert err.startswith("error: argument --scheduler: 'not a url'") and "tcp://HOST:PORT" in err
    assert not any(p.name.startswith(out.name) for p in work.iterdir())


@pytest.mark.parametrize("address", ["not a url", "tcp://host", "tcp://10.0.0.5:99999", "http://10.0.0.5:8786",
                                     "tcp://10.0.0.5:8786 --x", ""])
def test_scheduler_address_is_checked(address, tmp_path):
    """The library checks it too, before the grid is prepared or anything is written."""
    from model.params.errors import InputError
    from model.analysis.sweep import SweepSpec, run_sweep, scheduler_problem

    assert scheduler_problem(address) is not None
    with pytest.raises(InputError, match="arguments: scheduler") as exc:  # no option name below the cli
        run_sweep(SweepSpec(COG, grid=(f"{TAU}=0.4,0.6",), out=tmp_path / "s", scheduler=address))
    assert "tcp://HOST:PORT" in str(exc.value)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("address", ["tcp://127.0.0.1:8786", "localhost:8786", "tls://[::1]:8786",
                                     "tcp://sched-1.example.org:1", "ucx://10.0.0.5:13337"])
def test_scheduler_address_accepted(address):
    from model.analysis.sweep import scheduler_problem

    assert scheduler_problem(address) is None
