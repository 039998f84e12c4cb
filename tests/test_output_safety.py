"""No command ever destroys a user's files: every ``--out`` goes through one writer that replaces only a
folder cogsim itself wrote for the same kind of output, and refuses anything else before computing."""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from model.results import writers
from model.cli.main import main
from model.results.writers import OWNER_FILE, check_target, claim_output

ROOT = Path(__file__).resolve().parent.parent
SCENARIO = ROOT / "scenarios" / "cog_2018_2022.toml"
RUN = ["run", str(SCENARIO), "--deterministic"]


@pytest.fixture
def no_simulation(monkeypatch):
    """Any simulation fails the test: refusals must come before the computation."""
    import model.results.run

    def forbidden(*a, **k):
        raise AssertionError("the simulation ran before the destination was refused")

    monkeypatch.setattr(model.results.run, "simulate", forbidden)


def _refused(capsys, argv: list[str], *needles: str) -> str:
    assert main(["--lang", "en", *map(str, argv)]) == 2  # the messages as the library writes them
    err = capsys.readouterr().err
    assert "Traceback" not in err
    for n in needles:
        assert n in err, err
    return err


# ----------------------------------------------------------------------------- what is at the path
def test_folder_with_foreign_content_is_refused_and_kept(tmp_path, capsys, no_simulation):
    out = tmp_path / "mes-notes"
    out.mkdir()
    (out / "notes.txt").write_text("négociation CNAF, ne pas perdre")
    _refused(capsys, RUN + ["--out", str(out)], str(out), "did not write", "notes.txt")
    assert (out / "notes.txt").read_text() == "négociation CNAF, ne pas perdre"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mes-notes"]  # no lock or temporary folder left


def test_the_writer_names_its_argument_and_the_command_line_its_option(tmp_path):
    """Below model/cli/ the destination is the argument ``out`` of the caller; the command line maps it to
    its option (model.cli.main.as_options)."""
    from model.cli.main import OPTIONS, as_options
    from model.params.errors import InputError, Problem

    out = tmp_path / "f"
    out.write_text("x")
    with pytest.raises(InputError) as exc:
        check_target(out, "run")
    (p,) = exc.value.problems
    assert (p.file, p.path, p.value) == ("arguments", "out", out) and "--" not in str(p)
    (shown,) = as_options([p], OPTIONS)
    assert (shown.file, shown.path, shown.message) == ("command line", "--out", p.message)
    other = Problem("scenario.toml", "out", 1, "not an argument")  # another source: left as it is
    assert as_options([other], OPTIONS) == [other]


def test_existing_file_is_refused_and_kept(tmp_path, capsys, no_simulation):
    out = tmp_path / "budget.xlsx"
    out.write_bytes(b"the planner's workbook")
    _refused(capsys, RUN + ["--out", str(out)], "regular file")
    assert out.read_bytes() == b"the planner's workbook"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["budget.xlsx"]


@pytest.mark.parametrize("kind", ["device", "fifo"])
def test_device_like_paths_are_refused(tmp_path, capsys, no_simulation, kind):
    if kind == "device":
        out = Path("/dev/null")
        before = os.stat(out)
        _refused(capsys, RUN + ["--out", str(out)], "/dev/null", "a device")
        after = os.stat(out)
        assert stat.S_ISCHR(after.st_mode) and after.st_rdev == before.st_rdev
    else:
        out = tmp_path / "pipe"
        os.mkfifo(out)
        _refused(capsys, RUN + ["--out", str(out)], "named pipe")
        assert stat.S_ISFIFO(os.stat(out).st_mode)


def test_symbolic_link_is_refused(tmp_path, capsys, no_simulation):
    real = tmp_path / "real"
    real.mkdir()
    (real / "keep.txt").write_text("x")
    link = tmp_path / "link"
    link.symlink_to(real)
    _refused(capsys, RUN + ["--out", str(link)], "symbolic link")
    assert link.is_symlink() and (real / "keep.txt").exists()


def test_current_folder_home_and_ancestors_are_refused(tmp_path, capsys, monkeypatch, no_simulation):
    work = tmp_path / "home" / "work"
    work.mkdir(parents=True)
    monkeypatch.chdir(work)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    _refused(capsys, RUN + ["--out", "."], "'.'", "current folder")
    _refused(capsys, RUN + ["--out", str(work)], "current folder")
    _refused(capsys, RUN + ["--out", str(tmp_path / "home")], "home folder")
    _refused(capsys, RUN + ["--out", str(tmp_path)], "holds the current folder")
    _refused(capsys, RUN + ["--out", "/"], "root of the file system")
    assert sorted(os.listdir(work)) == []


def test_output_of_another_kind_is_refused(tmp_path, capsys, no_simulation):
    out = tmp_path / "x"
    with claim_output(out, "sweep") as claim:
        (claim.tmp / "sweep.zarr").mkdir()
        claim.publish()
    _refused(capsys, RUN + ["--out", str(out)], "wrote for a sweep, not for a run")
    assert (out / "sweep.zarr").is_dir()


def test_own_run_folder_is_replaced_but_not_with_a_user_file_added(tmp_path, capsys):
    out = tmp_path / "run"
    assert main(RUN + ["--out", str(out)]) == 0
    record = json.loads((out / OWNER_FILE).read_text())
    assert record["kind"] == "run" and record["entries"] == ["manifest.json", "results.csv", "results.nc"]
    assert main(RUN + ["--out", str(out)]) == 0  # cogsim's own run folder: replaced
    capsys.readouterr()
    (out / "commentaire.txt").write_text("mes remarques")
    _refused(capsys, RUN + ["--out", str(out)], "commentaire.txt", "would be lost")
    assert (out / "commentaire.txt").read_text() == "mes remarques"


def test_a_run_folder_with_its_charts_and_report_is_still_cogsims(tmp_path):
    out = tmp_path / "run"
    with claim_output(out, "run") as claim:
        (claim.tmp / "results.nc").write_text("x")
        claim.publish()
    with claim_output(out / "report", "report") as claim:
        (claim.tmp / "note.pdf").write_text("x")
        claim.publish()
    assert check_target(out, "run") == out
    (out / "report" / "annotations.docx").write_text("user")
    with pytest.raises(writers.InputError, match="report/annotations.docx"):
        check_target(out, "run")


def test_empty_folder_is_accepted(tmp_path):
    out = tmp_path / "vide"
    out.mkdir()
    assert main(RUN + ["--out", str(out)]) == 0
    assert (out / "results.nc").is_file()


# ----------------------------------------------------------------------------- writability, permissions
def test_unwritable_destination_is_refused_before_the_simulation(tmp_path, capsys, no_simulation):
    blocker = tmp_path / "un-fichier"
    blocker.write_text("x")
    _refused(capsys, RUN + ["--out", str(blocker / "sous-dossier")], "cannot be created")


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes anywhere")
def test_read_only_parent_is_refused_before_the_simulation(tmp_path, capsys, no_simulation):
    parent = tmp_path / "lecture-seule"
    parent.mkdir()
    parent.chmod(0o555)
    try:
        _refused(capsys, RUN + ["--out", str(parent / "run")], "cannot be written")
    finally:
        parent.chmod(0o755)


def test_results_folder_gets_the_users_normal_permissions(tmp_path):
    old = os.umask(0o022)
    try:
        assert main(RUN + ["--out", str(tmp_path / "run")]) == 0
    finally:
        os.umask(old)
    assert stat.S_IMODE(os.stat(tmp_path / "run").st_mode) == 0o755
    assert stat.S_IMODE(os.stat(tmp_path / "run" / "results.csv").st_mode) == 0o644


# ----------------------------------------------------------------------------- concurrent and killed writers
SLOW_WRITER = r"""
import sys, time
from model.results import writers
real = writers.tidy_frame
def slow(ds):
    print("writing", flush=True)
    time.sleep(float(sys.argv[3]))
    return real(ds)
writers.tidy_frame = slow
from model.cli.main import main
sys.exit(main(["run", sys.argv[1], "--deterministic", "--out", sys.argv[2]]))
"""


def _slow_writer(out: Path, seconds: float) -> subprocess.Popen:
    proc = subprocess.Popen([sys.executable, "-c", SLOW_WRITER, str(SCENARIO), str(out), str(seconds)], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "writing"
    return proc


def test_two_writers_of_one_folder_one_wins_the_other_exits_2(tmp_path, capsys, no_simulation):
    out = tmp_path / "run"
    first = _slow_writer(out, 8)
    try:
        err = _refused(capsys, RUN + ["--out", str(out)], "being written by another cogsim command",
                       f"process {first.pid}")
        assert "written to" not in err.lower()
    finally:
        _, err = first.communicate(timeout=120)
    assert first.returncode == 0, err
    assert (out / OWNER_FILE).is_file()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]


def test_a_killed_writer_leaves_a_temporary_folder_that_the_next_writer_cleans(tmp_path):
    out = tmp_path / "run"
    proc = _slow_writer(out, 60)
    proc.send_signal(signal.SIGKILL)
    proc.communicate(timeout=30)
    left = sorted(p.name for p in tmp_path.iterdir())
    assert any(n.startswith(".run.") and n.endswith(".tmp") for n in left), left
    stranger = tmp_path / ".run.12345.tmp.notes"  # not cogsim's: same prefix, never touched
    stranger.write_text("x")
    assert main(RUN + ["--out", str(out)]) == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == [".run.12345.tmp.notes", "run"]


def test_a_temporary_folder_without_cogsims_record_is_not_removed(tmp_path):
    out = tmp_path / "run"
    look_alike = tmp_path / ".run.999.tmp"
    look_alike.mkdir()
    (look_alike / "data.csv").write_text("user data")
    assert main(RUN + ["--out", str(out)]) == 0
    assert (look_alike / "data.csv").read_text() == "user data"


# ----------------------------------------------------------------------------- every command
def _foreign(tmp_path: Path) -> Path:
    out = tmp_path / "dossier-du-planificateur"
    out.mkdir()
    (out / "notes.txt").write_text("à garder")
    return out


COMMANDS = {
    "sweep": lambda out: ["sweep", str(SCENARIO), "--grid", "organismes.cnaf.taux_remplacement@2020=0.5,0.6",
                          "--deterministic", "--out", str(out)],
    "solve": lambda out: ["solve", str(SCENARIO), "--target", "etpma:cnaf:2022=33000",
                          "--lever", "organismes.cnaf.taux_remplacement@2020", "--out", str(out)],
    "sensitivity": lambda out: ["sensitivity", str(SCENARIO), "--method", "oat", "--param",
                                "organismes.cnaf.taux_remplacement@2020=0.4:0.8", "--out", str(out)],
    "calibrate": lambda out: ["calibrate", "--out", str(out)],
    "backtest": lambda out: ["backtest", "--out", str(out)],
}


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_every_command_refuses_a_foreign_folder_before_computing(tmp_path, capsys, monkeypatch, command):
    import importlib

    def forbidden(*a, **k):
        raise AssertionError("the model ran before the destination was refused")

    # imported first, so that their own `simulate` names are the real one when the patch is undone
    modules = [importlib.import_module(n) for n in ("model.engine.simulation", "model.analysis.sweep", "model.analysis.solve",
                                                     "model.analysis.calibration", "model.analysis.backtest", "model.results.run",
                                                     "model.cli.sensitivity")]
    for module in modules:
        if hasattr(module, "simulate"):
            monkeypatch.setattr(module, "simulate", forbidden)
    out = _foreign(tmp_path)
    # the writer names its argument "out"; every command shows its option
    _refused(capsys, COMMANDS[command](out), f"error: command line: --out = '{out}': is a folder that cogsim did not "
             "write", "notes.txt")
    assert (out / "notes.txt").read_text() == "à garder"
    assert sorted(p.name for p in tmp_path.iterdir()) == [out.name]


def test_report_refuses_a_foreign_report_folder(tmp_path, capsys):
    run = tmp_path / "run"
    assert main(RUN + ["--out", str(run)]) == 0
    (run / "report").mkdir()
    (run / "report" / "ma-note.docx").write_text("à garder")
    _refused(capsys, ["report", str(run)], f"error: command line: RUN_DIR/report = '{run / 'report'}'", "ma-note.docx")
    assert (run / "report" / "ma-note.docx").read_text() == "à garder"


def test_resume_over_a_finished_sweep_of_other_inputs_is_refused(tmp_path, capsys):
    pytest.importorskip("zarr")
    out = tmp_path / "s"
    grid = ["sweep", str(SCENARIO), "--deterministic", "--out", str(out), "--grid"]
    assert main(grid + ["organismes.cnaf.taux_remplacement@2020=0.5,0.6"]) == 0
    before = json.loads((out / "manifest.json").read_text())["fingerprint"]
    capsys.readouterr()
    _refused(capsys, grid + ["organismes.cnaf.taux_remplacement@2020=0.4,0.7", "--resume"],
             "finished sweep of other inputs")
    assert json.loads((out / "manifest.json").read_text())["fingerprint"] == before
