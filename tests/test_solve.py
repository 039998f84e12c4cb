"""Goal seek (``model/analysis/solve.py``): solve, write, run the written scenario again; infeasible and ill-posed
requests refused with their reason; targets and levers validated like scenario files, with exact messages.

The model's values move with the calibration, so no test pins a simulated figure: expectations are
either exact messages about inputs, figures from the scenario files (ceilings), or values recomputed
here from a deterministic run.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import re
from pathlib import Path
import subprocess
import sys

import numpy as np
import pytest
import xarray as xr

from conftest import COG, ROOT
from model.params.catalogue import load_catalogue
from model.params.errors import InputError
from model.results.dataset import aggregate_values
from model.results.run import run_scenario
from model.params.scenario import load_scenario
from model.analysis.solve import Evaluator, Solution, SolveSpec, solve, target_values
from model.analysis.objectifs import NOMS, parse_levers, parse_targets
from model.analysis.solution import scenario_toml
from model.cli.solve import OPTIONS, register

CNAF = "organismes.cnaf.taux_remplacement"
# the messages as the command line shows them: the library's inputs named after its options
CLI = {k: OPTIONS[k] for k in NOMS}
CNAF_2022 = "etpma:cnaf:2022"
# the CNAF ceiling of 2022 in scenarios/cog_2018_2022.toml, and a target above it
# the ceiling in force: the CNAF's is stated as a change from its simulated 2017 ETPMA (plafond_variation)
CEILING_CNAF_2022 = float(run_scenario(Path(__file__).resolve().parent.parent / "scenarios" / "cog_2018_2022.toml",
                                       deterministic=True, write=False)
                          .dataset["plafond_emplois"].sel(organisme="cnaf", year=2022))
ABOVE = f"{CEILING_CNAF_2022 + 400:.0f}"


def cogsim_solve(*argv: str) -> tuple[int, str]:
    """``cogsim solve ARGV`` in process, through the subcommand's own parser: (exit code, stdout)."""
    p = argparse.ArgumentParser()
    register(p.add_subparsers(dest="command"))
    args = p.parse_args(["solve", *map(str, argv)])
    args.argv = ["cogsim", "solve", *map(str, argv)]  # as model.cli.main.main records it
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        rc = args.func(args)
    return rc, out.getvalue()


def solve_as_cli(scenario, targets, levers, **kwargs) -> Solution:
    """``solve`` with the command line's names for its inputs (as ``cogsim solve`` calls it)."""
    return solve(SolveSpec(scenario, tuple(targets), tuple(levers), names=CLI, **kwargs))


def problems_of(exc: pytest.ExceptionInfo) -> list[str]:
    return [str(p) for p in exc.value.problems]


def deterministic_value(path, target: str) -> float:
    """A target's value in a deterministic run of a scenario file."""
    ds = run_scenario(path, deterministic=True, write=False).dataset
    return float(target_values(ds, parse_targets([target]))[0, 0])


@pytest.fixture(scope="module")
def baseline_cnaf_2022() -> float:
    return deterministic_value(COG, f"{CNAF_2022}=0")


# ----------------------------------------------------------------------------- solve, write, run again
@pytest.fixture(scope="module")
def cnaf_solved(tmp_path_factory):
    out = tmp_path_factory.mktemp("solve") / "cnaf"
    rc, stdout = cogsim_solve(COG, "--target", f"{CNAF_2022}=32000", "--lever", f"{CNAF}@2018", "--out", out,
                              "--replicates", 40, "--lang", "en")
    assert rc == 0
    return out, stdout


def test_written_scenario_meets_the_target(cnaf_solved, baseline_cnaf_2022):
    out, _ = cnaf_solved
    toml = out / "cog_2018_2022-solve.toml"
    value = deterministic_value(toml, f"{CNAF_2022}=0")
    report = json.loads((out / "solve.json").read_text())
    (target,) = report["targets"]
    assert target["tolerance"] == pytest.approx(3.2)  # relative 1e-4 of 32 000
    assert abs(value - 32000) <= target["tolerance"]
    assert target["deterministic"] == value and target["met"] is True
    # direction: more staff than the scenario gives needs more replacements, and conversely
    solved = report["solution"][CNAF]["2018"]
    assert (solved > 0.6) == (baseline_cnaf_2022 < 32000)


def test_written_scenario_changes_only_the_lever(cnaf_solved, cog):
    out, _ = cnaf_solved
    sc = load_scenario(out / "cog_2018_2022-solve.toml")
    assert (out / sc.header["baseline"]).resolve() == COG.resolve()  # relative to DIR, or absolute
    assert [f.resolve() for f in sc.chain] == [COG.resolve(), (out / "cog_2018_2022-solve.toml").resolve()]
    assert "etpma:cnaf:2022=32000" in sc.header["description"] and "Tolerance" in sc.header["description"]
    changed = [k for k in cog.parametres
               if not np.array_equal(np.asarray(sc.parametres[k], dtype=object), np.asarray(cog.parametres[k],
                                                                                           dtype=object))]
    assert changed == [CNAF]
    new, old = sc.parametres[CNAF], cog.parametres[CNAF]
    assert np.array_equal(new[:5], old[:5]) and np.all(new[5:] == new[5])  # {2018 = x}: 2013-2017 kept


def test_report_and_run_folder(cnaf_solved):
    out, stdout = cnaf_solved
    assert sorted(p.name for p in out.iterdir()) == [".cogsim.json", "cog_2018_2022-solve.toml", "run", "solve.json"]
    assert not any(p.name.startswith(".") for p in out.parent.iterdir())  # no temporary folder left
    report = json.loads((out / "solve.json").read_text())
    assert report["stochastic_check"]["replicates"] == 40 and report["stochastic_check"]["mode"] == "stochastic"
    sto = report["targets"][0]["stochastic"]
    for key in ("probability_at_or_below", "probability_at_or_above"):
        assert 0.0 <= sto[key] <= 1.0
    assert sto["probability_at_or_below"] + sto["probability_at_or_above"] >= 1.0
    assert sto["p05"] <= sto["moyenne"] <= sto["p95"]
    manifest_text = (out / "run" / "manifest.json").read_text()
    assert ".tmp" not in manifest_text and ".tmp" not in json.dumps(report)
    manifest = json.loads(manifest_text)
    assert manifest["scenario"]["file"].endswith("cnaf/cog_2018_2022-solve.toml")
    with xr.open_dataset(out / "run" / "results.nc", engine="netcdf4") as ds:
        assert ds.sizes["replicate"] == 40
        p = float(np.mean(aggregate_values(ds, "etpma")[-1, 1] <= 32000))
    assert p == sto["probability_at_or_below"]
    assert re.search(r"P\(≤ target\) = [01]\.\d\d, P\(≥ target\) = [01]\.\d\d", stdout)


def test_envelope_with_less_or_equal(tmp_path):
    """"The highest CNAF replacement rate within a wage-bill envelope of the régime général": the
    solution is the envelope's limit, and the written scenario stays within it."""
    envelope = round(deterministic_value(COG, "masse_salariale:regime_general:2022=0") - 20.0, 1)
    target = f"masse_salariale:regime_general:2022<={envelope}"
    rc, _ = cogsim_solve(COG, "--target", target, "--lever", f"{CNAF}@2018", "--out", tmp_path / "env",
                         "--replicates", 20)
    assert rc == 0
    report = json.loads((tmp_path / "env" / "solve.json").read_text())
    value = deterministic_value(tmp_path / "env" / "cog_2018_2022-solve.toml", target)
    assert value <= envelope  # met
    assert envelope - value <= 1e-4 * envelope  # at the limit, within the tolerance
    assert report["solution"][CNAF]["2018"] < 0.6  # a smaller wage bill: fewer replacements
    assert 0.0 <= report["targets"][0]["stochastic"]["probability_met"] <= 1.0


# ----------------------------------------------------------------------------- infeasible
def test_infeasible_above_the_ceiling_names_the_closest_value_and_bounds(tmp_path):
    out = tmp_path / "never"
    with pytest.raises(InputError) as exc:
        cogsim_solve(COG, "--target", f"{CNAF_2022}={ABOVE}", "--lever", f"{CNAF}@2018", "--out", out)
    (msg,) = problems_of(exc)
    m = re.fullmatch(rf"command line: --target = 'etpma:cnaf:2022={ABOVE}': infeasible: the closest achievable "
                     r"value of etpma:cnaf:2022 is (\S+), at its upper bound organismes\.cnaf\.taux_remplacement = 3"
                     r"(?: \(and already from \S+\))?; the plafond d'emplois binds there "
                     rf"\(organismes\.cnaf\.plafond_emplois in 2022 = {CEILING_CNAF_2022:g}\) "
                     r"\(allowed: a target between \S+ and (\S+) for this lever\)", msg)
    assert m, msg
    assert float(m.group(1)) == float(m.group(2)) == pytest.approx(CEILING_CNAF_2022, abs=0.05)
    assert not out.exists()  # nothing written


def test_infeasible_envelope_below_the_lever_range(cog):
    with pytest.raises(InputError) as exc:
        solve_as_cli(cog, ["masse_salariale:regime_general:2022<=3000"], [f"{CNAF}@2018"])
    (msg,) = problems_of(exc)
    m = re.search(r"infeasible: the closest achievable value of masse_salariale:regime_general:2022 is (\S+), "
                  r"at its lower bound organismes\.cnaf\.taux_remplacement = 0 \(allowed", msg)
    assert m, msg
    ev = Evaluator(cog, parse_levers([f"{CNAF}@2018"], cog.parametres),
                   parse_targets(["masse_salariale:regime_general:2022<=3000"]))
    assert float(m.group(1)) == pytest.approx(float(ev([0.0])[0]), rel=1e-5)


def test_search_range_narrower_than_the_bounds_is_not_clipped(cog):
    """A solution outside LOW:HIGH is infeasible, reported at the range's end."""
    with pytest.raises(InputError) as exc:
        solve_as_cli(cog, ["etpma_cdi:cnaf:2022=25000"], [f"{CNAF}@2018=0.5:1"])
    (msg,) = problems_of(exc)
    assert "at its lower bound organismes.cnaf.taux_remplacement = 0.5" in msg


# ----------------------------------------------------------------------------- ill-posed
def test_lever_that_does_not_move_the_target(cog):
    with pytest.raises(InputError) as exc:
        solve_as_cli(cog, ["etpma:cnam:2022=60000"], [f"{CNAF}@2018"])
    (msg,) = problems_of(exc)
    assert msg.startswith("command line: --lever = 'organismes.cnaf.taux_remplacement@2018': ill-posed: the lever "
                          "does not move etpma:cnam:2022=60000 (it stays at ")
    assert msg.endswith("from 0 to 3) (allowed: a lever that moves the target)")


def test_target_before_the_lever_acts(cog):
    with pytest.raises(InputError) as exc:
        solve_as_cli(cog, ["etpma:cnaf:2017=30000"], [f"{CNAF}@2018"])
    assert problems_of(exc) == [
        "command line: --lever = 'organismes.cnaf.taux_remplacement@2018': ill-posed: "
        "organismes.cnaf.taux_remplacement@2018 acts from 2018 on and moves no target (the last target year is 2017) "
        "(allowed: lever years up to 2017)",
        "command line: --target = 'etpma:cnaf:2017=30000': ill-posed: no lever moves etpma:cnaf:2017 (the levers act "
        "from 2018 on) (allowed: a year from 2018)",
    ]


def test_fewer_targets_than_lever_values(cog):
    with pytest.raises(InputError) as exc:
        solve_as_cli(cog, [f"{CNAF_2022}=32000"], [f"{CNAF}@2019..2022"])
    (msg,) = problems_of(exc)
    assert msg.startswith("command line: --lever = 'organismes.cnaf.taux_remplacement@2019..2022': ill-posed: "
                          "4 lever values for 1 target(s), the solution is not unique")


def test_more_targets_than_levers_that_cannot_be_met_jointly(cog):
    with pytest.raises(InputError) as exc:
        solve_as_cli(cog, ["etpma:cnaf:2020..2022=32000"], [f"{CNAF}@2018"])
    msgs = problems_of(exc)
    assert len(msgs) >= 1
    for msg in msgs:
        assert re.match(r"command line: --target = 'etpma:cnaf:2020\.\.2022=32000': ill-posed: 3 targets for 1 "
                        r"lever value\(s\) cannot be met jointly: closest achievable etpma:cnaf:20(20|21|22) = ", msg)


def test_undefined_target(cog):
    with pytest.raises(InputError) as exc:  # no ceiling before 2018: no saturation
        solve_as_cli(cog, ["saturation:cnaf:2015=0.9"], [f"{CNAF}@2013"])
    assert problems_of(exc) == [
        "command line: --target = 'saturation:cnaf:2015=0.9': ill-posed: saturation:cnaf:2015 is undefined in this "
        "scenario (NaN: no value for that organisme or year, or no aggregate) (allowed: a variable, organisme and "
        "year with a value in results.csv)"]


def test_integer_lever_only_alone(cog):
    with pytest.raises(InputError) as exc:
        solve_as_cli(cog, [f"{CNAF_2022}=32000", "etpma:cnav:2022=11800"],
              ["organismes.cnaf.delai_recrutement", f"{CNAF}@2018"])
    assert problems_of(exc) == [
        "command line: --lever = 'organismes.cnaf.delai_recrutement': organismes.cnaf.delai_recrutement is an "
        "integer parameter: it can only be solved alone (one lever value, one target) (allowed: float parameters "
        "in a joint solve)"]


# ----------------------------------------------------------------------------- validation (no simulation)
LEVER_PROBLEMS = [
    ("organismes.cnaf.taux_remplacment@2018",
     "unknown parameter 'organismes.cnaf.taux_remplacment'; did you mean 'organismes.cnaf.taux_remplacement'?",
     "a parameter path as in scenario files (cogsim describe SCENARIO lists them), e.g. "
     "organismes.cnaf.taux_remplacement"),
    ("organismes.caf.taux_remplacement", "unknown organisme 'caf'; did you mean 'cnaf'?",
     "cnam, cnaf, cnav, acoss, msa, rsi, tous"),
    ("departs.hazard_retraite", "departs.hazard_retraite is a table parameter, not a numeric lever",
     "a float or int parameter (e.g. organismes.cnaf.taux_remplacement, recrutement.age_moyen_entrants)"),
    ("simulation.seed", "simulation.seed is a simulation setting, not a lever",
     "a float or int parameter (e.g. organismes.cnaf.taux_remplacement, recrutement.age_moyen_entrants)"),
    ("recrutement.age_moyen_entrants@2018", "recrutement.age_moyen_entrants does not vary by year: @2018 is not "
     "allowed", "recrutement.age_moyen_entrants without @YEAR"),
    ("organismes.cnaf.taux_remplacement@2030", "bad year '2030': outside the horizon 2013-2022",
     "a year from 2013 to 2022; Y1,Y2,... increasing; or Y1..Y2"),
    ("organismes.cnaf.taux_remplacement@2020,2018", "bad year '2020,2018'",
     "a year from 2013 to 2022; Y1,Y2,... increasing; or Y1..Y2"),
    ("organismes.cnaf.taux_remplacement=-1:2", "search range '-1:2' out of range",
     "LOW:HIGH, each a number in [0, 3]"),
    ("organismes.cnaf.taux_remplacement=0.8:0.5", "search range '0.8:0.5' is empty", "LOW < HIGH"),
    ("organismes.cnaf.taux_remplacement=a:b", "bad search range 'a:b'", "LOW:HIGH, each a number in [0, 3]"),
    ("organismes.cnaf.delai_recrutement=0.5:3", "search range '0.5:3' is not made of integers",
     "LOW:HIGH, each an integer in [0, 24]"),
]


@pytest.mark.parametrize("text, message, allowed", LEVER_PROBLEMS, ids=[t for t, _, _ in LEVER_PROBLEMS])
def test_lever_problem_messages(cog, text, message, allowed):
    with pytest.raises(InputError) as exc:
        parse_levers([text], cog.parametres, names=CLI)
    assert problems_of(exc) == [f"command line: --lever = '{text}': {message} (allowed: {allowed})"]


def test_every_lever_problem_at_once_with_the_target_problems(cog):
    with pytest.raises(InputError) as exc:
        solve_as_cli(cog, ["etpm:cnaf:2022=1", "foo"], [t for t, _, _ in LEVER_PROBLEMS])
    problems = exc.value.problems
    assert [p.path for p in problems] == ["--target"] * 2 + ["--lever"] * len(LEVER_PROBLEMS)
    assert all(p.file == "command line" for p in problems)


def test_the_library_names_its_inputs_and_the_command_line_its_options(cog):
    """Without the command line's names, the library's messages name the inputs by their own names (no
    option of the command line below model/cli/); ``cogsim solve`` shows its options."""
    with pytest.raises(InputError) as exc:
        solve(SolveSpec(cog, ("etpm:cnaf:2022=1",), (f"{CNAF}@2018", "organismes.tous.taux_remplacement"),
                        tolerance=0.5))
    problems = exc.value.problems
    assert [(p.file, p.path) for p in problems] == [("arguments", "target"), ("arguments", "lever"),
                                                     ("arguments", "tolerance")]
    assert "already set by lever organismes.cnaf" in problems[1].message
    assert "--" not in str(exc.value)
    with pytest.raises(InputError) as exc:
        solve_as_cli(cog, ["etpm:cnaf:2022=1"], [f"{CNAF}@2018", "organismes.tous.taux_remplacement"],
                     tolerance=0.5)
    assert [(p.file, p.path) for p in exc.value.problems] == [("command line", "--target"),
                                                               ("command line", "--lever"),
                                                               ("command line", "--tolerance")]
    assert "already set by --lever organismes.cnaf" in exc.value.problems[1].message


@pytest.mark.parametrize("kwargs, match", [
    ({"targets": "etpma:cnaf:2022=1"}, "targets must be a sequence of strings"),  # one string, not a list
    ({"levers": [1]}, "levers must be a sequence of strings"),
    ({"replicates": 0}, "replicates must be a positive integer"),
    ({"seed": -1}, "seed must be a non-negative integer"),
    ({"tolerance": "1e-4"}, "tolerance must be a number"),
    ({"names": {"targets": "--target"}}, r"unknown input\(s\) \['targets'\]"),
])
def test_bad_solve_specs_are_refused_when_built(kwargs, match):
    args = {"targets": (f"{CNAF_2022}=32000",), "levers": (CNAF,), **kwargs}
    with pytest.raises((TypeError, ValueError), match=match):
        SolveSpec(COG, **args)


def test_solve_spec_default_folder_and_names():
    spec = SolveSpec(COG, [f"{CNAF_2022}=32000"], [f"{CNAF}@2018=0.3:0.9", "recrutement.age_moyen_entrants"])
    assert spec.targets == (f"{CNAF_2022}=32000",) and spec.names == NOMS and spec.command == ()
    assert spec.target == Path("results") / f"solve-cog_2018_2022-{CNAF}-2018+recrutement.age_moyen_entrants"
    assert SolveSpec(COG, (), (), out="x").target == Path("x")


def test_a_parameter_in_two_levers(cog):
    with pytest.raises(InputError) as exc:
        parse_levers(["organismes.tous.taux_remplacement", f"{CNAF}@2018"], cog.parametres, names=CLI)
    assert problems_of(exc) == [
        "command line: --lever = 'organismes.cnaf.taux_remplacement@2018': sets organismes.cnaf.taux_remplacement, "
        "already set by --lever organismes.tous.taux_remplacement (allowed: each parameter in one lever (several "
        "years: PATH@Y1,Y2))"]


def test_lever_bounds_come_from_the_catalogue(cog):
    par = cog.parametres
    (rate, age, ceiling) = parse_levers([f"{CNAF}@2018..2022", "recrutement.age_moyen_entrants",
                                         "organismes.cnaf.plafond_emplois@2022"], par)
    assert (rate.low, rate.high, rate.years, rate.size) == (0.0, 3.0, (2018, 2019, 2020, 2021, 2022), 5)
    # a cross-parameter bound, resolved on the scenario's values
    assert (age.low, age.high) == (par["recrutement.age_min_entrants"], par["recrutement.age_max_entrants"])
    assert (ceiling.low, ceiling.high) == (0.0, float("inf"))


def test_target_expressions():
    targets = parse_targets(["etpma:cnaf:2020..2022=33400,33000,32600", "masse_salariale:total:2022 <= 4400",
                             "productivite:cnam:2021>=1.5e3"])
    assert [(t.variable, t.organisme, t.year, t.op, t.value) for t in targets] == [
        ("etpma", "cnaf", 2020, "=", 33400.0), ("etpma", "cnaf", 2021, "=", 33000.0),
        ("etpma", "cnaf", 2022, "=", 32600.0), ("masse_salariale", "total", 2022, "<=", 4400.0),
        ("productivite", "cnam", 2021, ">=", 1500.0)]
    assert len(parse_targets(["etpma:regime_general:2019..2022=100000"])) == 4


TARGET_PROBLEMS = [
    ("etpm:cnaf:2022=1", "unknown result variable 'etpm'; did you mean 'etpma'?", None),
    ("etpma:caf:2022=1", "unknown organisme 'caf'; did you mean 'cnaf'?",
     "cnam, cnaf, cnav, acoss, msa, rsi, regime_general, total"),
    ("etpma:cnaf:2023=1", "bad year '2023': outside the horizon 2013-2022", "a year from 2013 to 2022, or Y1..Y2"),
    ("etpma:cnaf:2022=abc", "target value 'abc' is not a number",
     "a finite number, or one per year separated by commas"),
    ("etpma:cnaf:2020..2022=1,2", "2 values for 3 years", "one value, or 3 (one per year)"),
    ("etpma cnaf 2022 = 1", "not a target expression", None),
]


@pytest.mark.parametrize("text, message, allowed", TARGET_PROBLEMS, ids=[t for t, _, _ in TARGET_PROBLEMS])
def test_target_problem_messages(text, message, allowed):
    with pytest.raises(InputError) as exc:
        parse_targets([text], names=CLI)
    (problem,) = exc.value.problems
    assert (problem.file, problem.path, problem.value, problem.message) == ("command line", "--target", text, message)
    if allowed is not None:
        assert problem.allowed == allowed


# ----------------------------------------------------------------------------- the written file
def test_solved_scenario_round_trip(cog, tmp_path):
    """Every kind of lever (organismes.tous, several years, no year, an integer) written and read back gives
    exactly the solved parameters; the baseline is relative inside the project tree."""
    levers = parse_levers(["organismes.tous.taux_remplacement@2018,2020", "recrutement.age_moyen_entrants",
                           "organismes.cnaf.delai_recrutement"], cog.parametres)
    targets = parse_targets([f"{CNAF_2022}=32000"])
    x = [0.55, 0.1234567890123457, 31.3, 5.0]
    par = Evaluator(cog, levers, targets).parametres(x)
    sol = Solution(cog, targets, levers, x, [32000.0], 1e-4, "test", 0, 0.0, par)
    assert 'baseline = "../../scenarios/cog_2018_2022.toml"' in scenario_toml(sol, ROOT / "results" / "x")
    (tmp_path / "solved.toml").write_text(scenario_toml(sol, tmp_path))
    back = load_scenario(tmp_path / "solved.toml").parametres
    for p in load_catalogue().values():
        for path in p.paths():
            assert np.array_equal(np.asarray(back[path], dtype=object), np.asarray(par[path], dtype=object)), path
    assert back["organismes.msa.taux_remplacement"][7] == 0.1234567890123457
    assert isinstance(back["organismes.cnaf.delai_recrutement"], int)


# ----------------------------------------------------------------------------- the command line
def test_command_line_exit_codes(tmp_path):
    def cli(*args):
        return subprocess.run([sys.executable, "run_scenario.py", "solve", *map(str, args)], cwd=ROOT,
                              capture_output=True, text=True, timeout=120)

    r = cli("scenarios/cog_2018_2022.toml", "--target", "etpma:cnaf:2022=32000", "--lever", "organismes.cnaf.taux")
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert r.stderr.startswith("error: command line: --lever = 'organismes.cnaf.taux': unknown parameter")
    out = tmp_path / "never"
    r = cli("scenarios/cog_2018_2022.toml", "--target", f"etpma:cnaf:2022={ABOVE}", "--lever",
            "organismes.cnaf.taux_remplacement@2018", "--out", out)
    assert r.returncode == 2 and r.stderr.count("\n") == 1 and "infeasible" in r.stderr
    assert not out.exists()
    # the writer names its argument "out"; the command line shows its option, and records itself in solve.json
    blocker = tmp_path / "a-file"
    blocker.write_text("mine")
    r = cli("scenarios/cog_2018_2022.toml", "--target", "etpma:cnaf:2022=32000", "--lever", f"{CNAF}@2018",
            "--out", blocker)
    assert r.returncode == 2
    assert r.stderr == f"error: command line: --out = '{blocker}': is a regular file, not a folder cogsim wrote " \
                       "(allowed: a path where nothing exists yet, an empty folder, or a folder that cogsim itself " \
                       "wrote for the same kind of output)\n"
    assert blocker.read_text() == "mine"


def test_solve_json_records_the_command_line_it_is_given(cnaf_solved):
    out, _ = cnaf_solved
    report = json.loads((out / "solve.json").read_text())
    assert report["command"][:2] == ["cogsim", "solve"] and "--target" in report["command"]
    assert report["command"][-2:] == ["--lang", "en"]  # the command line given, not the test runner's sys.argv
