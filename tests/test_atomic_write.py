"""A failed or interrupted write leaves nothing behind, and never damages an earlier result."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import pytest

from model.results import writers
from model.results.run import run_scenario

ROOT = Path(__file__).resolve().parent.parent
SCENARIO = ROOT / "scenarios" / "cog_2018_2022.toml"


def _leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def test_failure_while_writing_leaves_nothing(tmp_path, monkeypatch):
    def boom(ds):
        raise KeyboardInterrupt("interrupted in the middle of the CSV")

    monkeypatch.setattr(writers, "tidy_frame", boom)
    with pytest.raises(KeyboardInterrupt):
        run_scenario(SCENARIO, out=tmp_path / "run", deterministic=True)
    assert _leftovers(tmp_path) == []


def test_failure_keeps_the_previous_complete_result(tmp_path, monkeypatch):
    target = tmp_path / "run"
    run_scenario(SCENARIO, out=target, deterministic=True)
    before = {p.name: p.read_bytes() for p in target.iterdir()}
    monkeypatch.setattr(writers, "tidy_frame", lambda ds: 1 / 0)
    with pytest.raises(ZeroDivisionError):
        run_scenario(SCENARIO, out=target, replicates=2)
    assert _leftovers(tmp_path) == ["run"]
    assert {p.name: p.read_bytes() for p in target.iterdir()} == before


CHILD = r"""
import sys, time
from model.results import writers
real = writers.tidy_frame
def slow(ds):
    print("writing", flush=True)
    time.sleep(30)
    return real(ds)
writers.tidy_frame = slow
from model.cli.main import main
sys.exit(main(["run", sys.argv[1], "--deterministic", "--out", sys.argv[2]]))
"""


def test_sigterm_while_writing_leaves_nothing(tmp_path):
    out = tmp_path / "run"
    proc = subprocess.Popen([sys.executable, "-c", CHILD, str(SCENARIO), str(out)], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "writing"
    assert any(p.name.startswith(".run.") for p in tmp_path.iterdir())  # the temporary folder exists
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "Traceback" not in err
    assert _leftovers(tmp_path) == []
