"""The backtest (``model.analysis.backtest``, ``cogsim backtest``): its relative errors and summaries on cases
computed by hand, its indicators of a batch against the fit's, the post-2018 figures file, and the command
end to end on a fast configuration (one refit window, one optimiser step, 20 replicates); the full run is
slow (``tests/test_cli_e2e.py::test_backtest``)."""

from __future__ import annotations

import contextlib
import csv
import functools
import io
import math

import numpy as np
import pytest

from model.analysis import backtest as bt
from model.analysis import calibration as cal
from model.analysis.observations import (INDICATEURS, INDICATEURS_RUN, TOUS_INDICATEURS, Observation,
                                         load_observations)
from model.cli import calibrate as cli_calibrate
from model.cli.main import main
from model.engine.etat_initial import etat_initial
from model.engine.simulation import simulate
from model.outputs.ajustement import write_csv
from model.params.errors import InputError

GROUPS = {"staff", "flows", "pay", "budget", "productivity", "service"}
FAST = dict(fins=(2016,), replicates=20, max_nfev=1)  # one refit window: horizons 1 and 2


def _obs(indicator="etpma", kind="level", value=100.0, year=2019, base=None, organisme="cnaf", sigma=1.0):
    return Observation("x", indicator, organisme, year, base, kind, value, "", sigma, "official", False,
                       "validation", "x", value, 0.0, "")


# ----------------------------------------------------------------------------- errors and summaries by hand
def test_relative_error_of_each_kind():
    assert bt.erreur_relative(_obs(value=200.0), 210.0) == pytest.approx(0.05)
    assert bt.erreur_relative(_obs(kind="cumul", value=1000.0, base=2014), 900.0) == pytest.approx(-0.10)
    # a change in % and the RMPP: the error on the index, (1 + s) / (1 + o) - 1
    assert bt.erreur_relative(_obs(kind="change_pct", value=-5.0, base=2013), -3.0) == pytest.approx(0.97 / 0.95 - 1)
    assert bt.erreur_relative(_obs(indicator="rmpp", value=1.5), 1.7) == pytest.approx(1.017 / 1.015 - 1)
    # an absolute change: the error on the end level, the base level from the model
    o = _obs(kind="change_abs", value=-1000.0, base=2013)
    assert bt.erreur_relative(o, -500.0, niveau_base=21000.0) == pytest.approx(500.0 / 20000.0)
    assert math.isnan(bt.erreur_relative(o, -500.0))  # no base level: undefined, never invented
    assert math.isnan(bt.erreur_relative(_obs(value=0.0), 1.0))


def _row(group, indicator, horizon, observed, simulated, in_band, source="refit"):
    o = _obs(indicator=indicator, value=observed)
    return {"group": group, "indicator": indicator, "horizon": horizon, "observed": observed,
            "simulated": simulated, "error_rel": bt.erreur_relative(o, simulated), "in_band90": in_band,
            "source": source}


def test_summary_by_group_and_horizon_and_goals():
    rows = [_row("staff", "etpma", 1, 100.0, 101.0, True), _row("staff", "etpma", 1, 100.0, 98.5, False),
            _row("staff", "etpma", 2, 100.0, 102.0, True), _row("staff", "part_plus_50", 1, 40.0, 44.0, False),
            _row("pay", "rmpp", 1, 1.5, 1.7, False), _row("pay", "rmpp", 2, 1.5, 1.4, True),
            _row("flows", "departs_retraite", -1, 100.0, 150.0, "")]
    res = {(r["group"], r["horizon"]): r for r in bt.resume(rows)}
    s1 = res[("staff", "1")]
    assert s1["n"] == 3 and s1["mae"] == pytest.approx((1 + 1.5 + 10) / 3)
    assert s1["erreur_moyenne"] == pytest.approx((1 - 1.5 + 10) / 3)
    assert s1["couverture"] == pytest.approx(100 / 3) and s1["n_bande"] == 3
    assert res[("pay", "1")]["mae_points"] == pytest.approx(0.2)
    assert res[("flows", "<=0")]["n_bande"] == 0 and math.isnan(res[("flows", "<=0")]["couverture"])
    assert res[("all", "1")]["n"] == 4
    goals = {g["objectif"]: g for g in bt.objectifs(rows)}
    h1 = goals["staff (ETPMA, headcounts), horizon 1"]
    assert h1["n"] == 2 and h1["valeur"] == pytest.approx(1.25) and h1["atteint"] is True  # the age share is out
    assert goals["staff (ETPMA, headcounts), horizon 2"]["valeur"] == pytest.approx(2.0)
    rmpp = goals["RMPP"]
    assert rmpp["valeur"] == pytest.approx(0.15) and rmpp["n"] == 2 and rmpp["atteint"] is True
    assert goals["flows (hires, retirements)"]["atteint"] is None  # only an in-window figure: no goal measured
    cov = goals["90 % band coverage"]
    assert cov["n"] == 6 and cov["valeur"] == pytest.approx(50.0) and cov["atteint"] is False


def test_read_back_a_backtest_csv(tmp_path):
    rows = [{**dict.fromkeys(bt.COLONNES, ""), "group": "staff", "indicator": "etpma", "organisme": "cnaf",
             "year": 2018, "horizon": 1, "observed": 100.0, "simulated": 101.5, "error_rel": 0.015,
             "in_band90": False, "sigma": 2.0, "p05": 99.0, "p95": 100.5, "source": "refit"}]
    write_csv(tmp_path / "b.csv", rows)
    back = bt.lire_backtest(tmp_path / "b.csv")[0]
    assert back["horizon"] == 1 and back["in_band90"] is False and back["simulated"] == 101.5
    assert back["p05"] == 99.0 and back["sigma"] == 2.0 and back["group"] == "staff"


# ----------------------------------------------------------------------------- the indicators of a batch
def test_batch_indicators_are_the_fits_replicate_by_replicate():
    """Every indicator the fit simulates has the same value, read from a batch's Dataset (what the bands and
    the post-2018 figures use); a new indicator of ``simulate_observables`` must be added here too."""
    par = cal.parametres_de_base()
    ref = cal.simulate_observables(par, budget=True)
    got = bt.observables_run(simulate(par, etat_initial(par), replicates=1, mode="deterministic"), par)
    assert set(ref) <= set(got), set(ref) - set(got)
    for k, v in ref.items():
        np.testing.assert_allclose(got[k][..., 0], v, rtol=1e-9, atol=1e-9, equal_nan=True, err_msg=k)
    assert set(TOUS_INDICATEURS) <= set(got)


# ----------------------------------------------------------------------------- the post-2018 figures
def test_post_2018_figures_file():
    obs = load_observations(bt.OBSERVATIONS_POST_2018, TOUS_INDICATEURS)
    assert len(obs) >= 10
    assert {o.usage for o in obs} == {"validation"}
    assert any(o.year > 2018 for o in obs) and all(o.indicator in bt.GROUPES for o in obs)
    for o in obs:  # a figure on another perimeter is converted in the file, and flagged
        if o.part_hors_cog and o.kind in ("level", "change_abs", "cumul"):
            assert o.value == pytest.approx(o.valeur_publiee * (1 - o.part_hors_cog), rel=2e-3), o.id
            assert o.estimated, o.id
        assert o.note, o.id  # every mapping says what it assumes


def test_run_only_indicators_are_refused_in_the_calibration_tables(tmp_path):
    """The fit does not simulate them: a calibration table naming one is an input error, not a crash."""
    assert not set(INDICATEURS_RUN) & set(INDICATEURS)
    header = (bt.OBSERVATIONS_POST_2018.read_text(encoding="utf-8").splitlines()[0])
    (tmp_path / "o.csv").write_text(header + "\na,appels_recus,cnam,2016,,level,1,appels/an,1,secondary,false,fit,x,1,0,\n",
                                    encoding="utf-8")
    with pytest.raises(InputError, match="column indicator = 'appels_recus': unknown indicator"):
        load_observations(tmp_path)


# ----------------------------------------------------------------------------- end to end, fast
@pytest.fixture(scope="module")
def fast_run(tmp_path_factory):
    """``cogsim backtest`` in process, on the fast configuration (the command's spec patched)."""
    out = tmp_path_factory.mktemp("bt") / "backtest"
    printed = io.StringIO()
    with pytest.MonkeyPatch.context() as mp, contextlib.redirect_stdout(printed):
        mp.setattr(cli_calibrate, "SpecBacktest", functools.partial(bt.SpecBacktest, **FAST))
        code = main(["backtest", "--out", str(out), "--replicates", "20"])
    return code, out, printed.getvalue()


def test_backtest_command_writes_its_files(fast_run):
    code, out, _ = fast_run
    assert code == 0
    assert {"backtest.csv", "resume.csv", "backtest.json"} <= {p.name for p in out.iterdir()}


def test_backtest_csv_format(fast_run):
    _, out, _ = fast_run
    with open(out / "backtest.csv", newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        assert tuple(reader.fieldnames[:9]) == ("group", "indicator", "organisme", "year", "horizon", "observed",
                                                "simulated", "error_rel", "in_band90")
        rows = list(reader)
    assert {r["group"] for r in rows} <= GROUPS
    refit = [r for r in rows if r["source"] == "refit"]
    post = [r for r in rows if r["source"] != "refit"]
    assert {r["window"] for r in refit} == {"2013-2016"}
    for r in refit:  # horizon = year - end of the fit window, held-out years only
        assert int(r["horizon"]) == int(r["year"]) - int(r["window"][-4:]) >= 1
    assert {int(r["horizon"]) for r in refit} == {1, 2}
    assert post and all(r["source"] == "scenario:cog_2018_2022" for r in post)
    assert all(int(r["horizon"]) == int(r["year"]) - 2018 for r in post)
    assert any(int(r["horizon"]) >= 1 for r in post)
    assert {r["in_band90"] for r in rows} <= {"True", "False"}
    for r in rows:
        assert float(r["p05"]) <= float(r["p95"])
        if r["kind"] == "level" and r["indicator"] != "rmpp":
            assert float(r["error_rel"]) == pytest.approx(float(r["simulated"]) / float(r["observed"]) - 1)


def test_backtest_prints_the_summary_against_the_goals(fast_run):
    _, out, printed = fast_run
    for label, *_ in bt.OBJECTIFS:
        assert label in printed
    assert "≤ 2 %" in printed and "80–95 %" in printed and "in 90 % band" in printed
    summary = list(csv.DictReader(open(out / "resume.csv", encoding="utf-8")))
    assert {r["group"] for r in summary} >= {"staff", "flows", "pay", "all"}
    assert {r["horizon"] for r in summary if r["group"] == "all"} >= {"<=0", "1", "2"}


def test_backtest_replicates_option_is_checked(tmp_path, capsys):
    assert main(["backtest", "--out", str(tmp_path / "o"), "--replicates", "5"]) == 2
    assert "--replicates" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()
