"""The spec objects of the library (SweepSpec, SensitivitySpec): checked when built, and no option name
of the command line in the library's messages unless the command line passes its names."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

pytest.importorskip("zarr")
from model.analysis.sensitivity import SensitivitySpec, prepare_sensitivity  # noqa: E402
from model.analysis.sweep import SweepResult, SweepSpec, prepare, run_sweep  # noqa: E402
from model.analysis.taille import NOMS  # noqa: E402
from model.cli.sensitivity import OPTIONS as SENSITIVITY_OPTIONS  # noqa: E402
from model.cli.sweep import OPTIONS  # noqa: E402
from model.params.errors import InputError  # noqa: E402

from conftest import COG  # noqa: E402

TAU = "organismes.cnaf.taux_remplacement@2020"
MODEL = Path(__file__).resolve().parents[1] / "model"


def test_sweep_spec_normalises_sequences_and_names():
    spec = SweepSpec(COG, grid=[f"{TAU}=0.3,0.9"], outputs=["etpma"], precision=[])
    assert spec.grid == (f"{TAU}=0.3,0.9",) and spec.outputs == ("etpma",) and spec.precision == ()
    assert spec.names == NOMS  # generic names by default
    assert SweepSpec(COG, names={"grid": "--grid"}).names["grid"] == "--grid"
    assert SweepSpec(COG, out="x").target == Path("x")
    assert SweepSpec(COG, results_dir="r").target == Path("r") / f"{COG.stem}-sweep"
    with pytest.raises(Exception):  # frozen
        spec.replicates = 3  # type: ignore[misc]


@pytest.mark.parametrize("kwargs, match", [
    ({"grid": f"{TAU}=0.3,0.9"}, "grid must be a sequence of strings"),  # one string, not a list of axes
    ({"outputs": "etpma"}, "outputs must be a sequence"),
    ({"precision": [1]}, "precision must be a sequence of strings"),
    ({"replicates": 0}, "replicates must be a positive integer"),
    ({"replicates": True}, "replicates must be a positive integer"),
    ({"replicates": 2.5}, "replicates must be a positive integer"),
    ({"seed": -1}, "seed must be a non-negative integer"),
    ({"block_points": 0}, "block_points must be a positive"),
    ({"max_replicates": None}, "max_replicates must be a positive"),
    ({"workers": 2, "scheduler": "tcp://h:1"}, "exclude each other"),
    ({"grille": "a grid"}, "grille must be a Grille"),
    ({"names": {"gird": "--grid"}}, r"unknown input\(s\) \['gird'\]"),
])
def test_bad_sweep_specs_are_refused_when_built(kwargs, match):
    with pytest.raises((TypeError, ValueError), match=match):
        SweepSpec(COG, **kwargs)


@pytest.mark.parametrize("kwargs, match", [
    ({"params": f"{TAU}=0.3:0.9"}, "params must be a sequence of strings"),
    ({"samples": 0}, "samples must be a positive"),
    ({"levels": None}, "levels must be a positive"),
    ({"year": "2022"}, "year must be a positive"),
    ({"workers": 1, "scheduler": "tcp://h:1"}, "exclude each other"),
    ({"names": {"methode": "--method"}}, r"unknown input\(s\) \['methode'\]"),
])
def test_bad_sensitivity_specs_are_refused_when_built(kwargs, match):
    args = {"params": (f"{TAU}=0.3:0.9",), **kwargs}
    with pytest.raises((TypeError, ValueError), match=match):
        SensitivitySpec(COG, "oat", **args)


def test_library_messages_name_the_inputs_generically_and_the_cli_its_options():
    bad = SweepSpec(COG, grid=("organismes.cnaf.taux_remplacemen=0.4,0.5",), outputs=("etpam",),
                    precision=("etpma:cnaf:2022",))
    with pytest.raises(InputError) as exc:
        prepare(bad)
    text = str(exc.value)
    assert "arguments: grid = " in text and "arguments: outputs = 'etpam'" in text
    assert "arguments: precision = " in text and "--" not in text
    with pytest.raises(InputError) as exc:
        prepare(SweepSpec(COG, grid=bad.grid, outputs=bad.outputs, precision=bad.precision, names=OPTIONS))
    text = str(exc.value)
    assert "command line: --grid = " in text and "command line: --outputs = 'etpam'" in text
    assert "command line: --precision = " in text
    with pytest.raises(InputError, match="arguments: grid: nothing to sweep .allowed: grid "
                                         "PATH=V1,V2,... .repeatable. or sweep_file SWEEP.toml."):
        prepare(SweepSpec(COG))
    spec = SensitivitySpec(COG, "fast", (f"{TAU}=0.3:0.9",), year=2040, organisme="lyon")
    with pytest.raises(InputError) as exc:
        prepare_sensitivity(spec)
    assert [p.path for p in exc.value.problems] == ["method", "year", "organisme"]
    with pytest.raises(InputError) as exc:
        prepare_sensitivity(SensitivitySpec(COG, "fast", (f"{TAU}=0.3:0.9",), year=2040, organisme="lyon",
                                            names=SENSITIVITY_OPTIONS))
    assert [p.path for p in exc.value.problems] == ["--method", "--year", "--organisme"]


def test_the_library_does_not_print_and_reports_what_it_found(tmp_path, capsys):
    """run_sweep returns its estimate and its precision report (and hands them to on_start before it
    computes) instead of printing them."""
    seen: list[SweepResult] = []
    res = run_sweep(SweepSpec(COG, grid=(f"{TAU}=0.3,0.9",), precision=("etpma:cnaf:2022=200",), replicates=4,
                              outputs=("etpma",), out=tmp_path / "p", command=["cogsim", "sweep", "x"]),
                    progress=False, on_start=seen.append)
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == ""
    assert res.out == tmp_path / "p" and res.out.is_dir() and not res.already_done
    assert seen == [res]
    assert res.precision is not None and res.precision["message"].startswith("precision: 4 pilot replicates")
    assert res.estimate.points == 2 and res.estimate.replicates == res.precision["chosen"]
    # the manifest records the command line the spec was given, not the process's sys.argv
    assert json.loads((res.out / "manifest.json").read_text())["command"] == ["cogsim", "sweep", "x"]


def test_no_print_and_no_option_name_below_the_command_line():
    """Only model/cli/ prints; option names (--grid, --out...) in messages are the command line's (docstrings
    and comments may name them): a string of any module below model/cli/ naming an option fails."""
    import re

    option = re.compile(r"(?<!\")\"(?!\")[^\"\n]*--(grid|file|outputs|precision|deterministic|resume|out|scheduler|"
                        r"samples|param|method|year|organisme|levels|seed|target|lever|tolerance|replicates|window|"
                        r"data|lang|compare|workers|charts|changed|max-replicates|block-points|second-order)\b")
    printing, options = [], []
    for f in MODEL.rglob("*.py"):
        rel = f.relative_to(MODEL)
        if rel.parts[0] == "cli":
            continue
        text = f.read_text(encoding="utf-8")
        if rel.parts[0] != "outputs" and re.search(r"(?<![\w.])print\(", text):  # outputs: being rewritten apart
            printing.append(str(rel))
        if option.search(text):
            options.append(str(rel))
    assert printing == [] and options == []


def test_simulate_leaves_the_allocator_alone_and_the_command_line_chooses(monkeypatch, tmp_path):
    """No process-wide mallopt hidden in simulate(); the command line calls keep_freed_memory (unless
    COGSIM_MALLOC=system)."""
    import model.cli.main as cli_main
    import model.engine.simulation as sim
    from model.engine.etat_initial import etat_initial
    from model.params.scenario import load_scenario

    calls: list[str] = []
    monkeypatch.setattr(sim, "keep_freed_memory", lambda: calls.append("engine"))
    monkeypatch.setattr(cli_main, "keep_freed_memory", lambda: calls.append("cli"))
    par = load_scenario(COG).parametres
    sim.simulate(par, etat_initial(par, base_dir=COG.parent), replicates=1, seed=1)
    assert calls == []
    assert cli_main.main(["check", str(COG)]) == 0 and calls == ["cli"]
    monkeypatch.setenv("COGSIM_MALLOC", "system")
    assert cli_main.main(["check", str(COG)]) == 0 and calls == ["cli"]
