"""Sweeps: grid validation, agreement with separate runs, streaming/resume, dask scale-out."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from model.cli.main import main
from model.params.errors import InputError
from model.analysis.grille import load_sweep_file
from model.results.dataset import tidy_frame
from model.results.run import run_scenario
from model.params.scenario import load_scenario
from model.analysis.sweep import SweepSpec, choose_chunks, open_sweep, run_sweep
from model.results.dataset import STATISTIQUES

from conftest import COG, ROOT

TAU = "organismes.cnaf.taux_remplacement@2020"
AUTRES = "organismes.tous.taux_autres_departs"
GRID = [f"{TAU}=0.3,0.9", f"{AUTRES}=0.02,0.03"]
OUTS = ["etpma", "etpma_cdi", "masse_salariale", "saturation", "depenses_limitatives", "part_plus_50"]


@pytest.fixture(scope="module")
def sweep_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("sw") / "grid"
    return _sweep(COG, grid=GRID, replicates=4, outputs=OUTS, out=out, progress=False, block_points=2)


def _sweep(scenario, *, progress=False, on_block=None, **spec):
    """A sweep of ``SweepSpec(scenario, **spec)``: its output folder."""
    return run_sweep(SweepSpec(scenario, **spec), progress=progress, on_block=on_block).out


def _scenario_with(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "point.toml"
    path.write_text(f'[scenario]\ntitle = "point"\nbaseline = "{COG}"\n{body}', encoding="utf-8")
    return path


def test_a_grid_point_equals_a_separate_run(sweep_dir, tmp_path):
    """The point (0.9, 0.02) of the sweep is the run of a scenario file with these values, to the digit:
    same statistics over the same replicates (common random numbers)."""
    ds = open_sweep(sweep_dir)
    sc = _scenario_with(tmp_path, "[organismes.cnaf]\ntaux_remplacement = {2020 = 0.9}\n"
                                  "[organismes.tous]\ntaux_autres_departs = 0.02\n")
    run = run_scenario(sc, replicates=4, write=False)
    df = tidy_frame(run.dataset).set_index(["variable", "organisme", "year"])
    point = ds.sel({TAU: 0.9, AUTRES: 0.02})
    for var in OUTS:
        for org in ("cnaf", "total", "regime_general"):
            for year in (2018, 2022):
                row = df.loc[(var, org, year)]
                got = point[var].sel(organisme=org, year=year)
                for stat in ("moyenne", "p05", "p50", "p95"):  # one name per statistic: the sweep's and the csv's
                    np.testing.assert_allclose(float(got.sel(statistique=stat)), row[stat], rtol=1e-12,
                                               err_msg=f"{var} {org} {year} {stat}")


def test_the_swept_lever_moves_the_outputs_the_right_way(sweep_dir):
    ds = open_sweep(sweep_dir)
    # the CNAF's CDI staff: its ETPMA is held by its ceiling (the CDD are the margin)
    m = ds["etpma_cdi"].sel(organisme="cnaf", year=2020, statistique="moyenne")
    assert float(m.sel({TAU: 0.9, AUTRES: 0.02})) > float(m.sel({TAU: 0.3, AUTRES: 0.02})) + 100
    # (more other exits no longer mean fewer staff: they are replaced at the fitted rate, and under the
    # ceiling the CDD close what remains; the sweep's second lever moves the outputs, in no fixed direction)
    assert float(m.sel({TAU: 0.3, AUTRES: 0.02})) != float(m.sel({TAU: 0.3, AUTRES: 0.03}))
    # 2019 is before the lever acts: the same for both replacement rates (common random numbers)
    early = ds["etpma"].sel(organisme="cnaf", year=2019, statistique="moyenne", **{AUTRES: 0.02})
    assert float(early.sel({TAU: 0.3})) == float(early.sel({TAU: 0.9}))


def test_dataset_describes_itself(sweep_dir):
    ds = open_sweep(sweep_dir)
    assert ds["etpma"].dims == (TAU, AUTRES, "year", "organisme", "statistique")
    assert list(ds["statistique"].values) == list(STATISTIQUES)
    assert ds["etpma"].attrs["units"] == "ETPMA"
    assert ds[TAU].attrs["parametre"] == "organismes.cnaf.taux_remplacement"
    assert ds[TAU].attrs["annee_debut"] == 2020
    assert ds.attrs["replicates"] == 4
    manifest = json.loads((sweep_dir / "manifest.json").read_text())
    assert manifest["shape"] == [2, 2] and manifest["blocks"]["total"] == 2
    q = ds["etpma"].sel(organisme="total", year=2022)
    assert bool((q.sel(statistique="p05") <= q.sel(statistique="p50")).all())
    assert bool((q.sel(statistique="p50") <= q.sel(statistique="p95")).all())
    assert not (sweep_dir.parent / "grid.partial").exists()


def test_points_that_differ_outside_the_engine_batch_are_grouped_correctly(tmp_path):
    """An axis the engine cannot batch (entrant age) crossed with one it can: every point still equals
    its own run."""
    out = _sweep(COG, grid=["recrutement.age_moyen_entrants=28,34", "organismes.cnav.plafond_emplois@2021=11500,12000"],
                    deterministic=True, outputs=["etpma", "saturation", "age_moyen"], out=tmp_path / "g",
                    progress=False)
    ds = open_sweep(out)
    sc = _scenario_with(tmp_path, "[recrutement]\nage_moyen_entrants = 34\n"
                                  "[organismes.cnav]\nplafond_emplois = {2021 = 11500}\n")
    df = tidy_frame(run_scenario(sc, deterministic=True, write=False).dataset).set_index(
        ["variable", "organisme", "year"])
    point = ds.sel({"recrutement.age_moyen_entrants": 34, "organismes.cnav.plafond_emplois@2021": 11500}).sel(
        statistique="moyenne")
    for var in ("etpma", "saturation", "age_moyen"):
        for org in ("cnav", "total"):
            np.testing.assert_allclose(float(point[var].sel(organisme=org, year=2022)),
                                       df.loc[(var, org, 2022), "value"], rtol=1e-12)


def test_resume_finishes_without_recomputing(tmp_path, sweep_dir):
    out = tmp_path / "r"
    seen: list[int] = []

    def stop_after_first(b, client):
        seen.append(b)
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        _sweep(COG, grid=GRID, replicates=4, outputs=OUTS, out=out, progress=False, block_points=2,
                  on_block=stop_after_first)
    assert not out.exists() and (tmp_path / "r.partial").is_dir()
    again: list[int] = []
    _sweep(COG, grid=GRID, replicates=4, outputs=OUTS, out=out, progress=False, block_points=2,
              resume=True, on_block=lambda b, c: again.append(b))
    assert seen == [0] and again == [1]
    a, b = open_sweep(out), open_sweep(sweep_dir)
    for var in OUTS:
        np.testing.assert_array_equal(a[var].values, b[var].values)
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["blocks"] == {"total": 2, "resumed_from": 1}
    # resuming a finished sweep of the same inputs computes nothing
    none: list[int] = []
    assert _sweep(COG, grid=GRID, replicates=4, outputs=OUTS, out=out, progress=False, block_points=2,
                     resume=True, on_block=lambda b, c: none.append(b)) == out and none == []


def test_resume_refuses_other_inputs(tmp_path):
    out = tmp_path / "r"
    with pytest.raises(KeyboardInterrupt):
        _sweep(COG, grid=GRID, replicates=4, outputs=OUTS, out=out, progress=False, block_points=2,
                  on_block=lambda b, c: (_ for _ in ()).throw(KeyboardInterrupt))
    with pytest.raises(InputError, match="started with other inputs"):
        _sweep(COG, grid=GRID, replicates=5, outputs=OUTS, out=out, progress=False, block_points=2, resume=True)


def test_dask_cluster_with_a_killed_worker_loses_and_duplicates_nothing(tmp_path, sweep_dir):
    """Two local worker processes; one is killed after the first block is written. The nanny restarts
    it, the scheduler reruns what it held, the client writes each block once: same numbers as the
    in-process sweep."""
    written: list[int] = []
    killed: list[str] = []

    def kill_one(b, client):
        written.append(b)
        if not killed:
            addr = sorted(client.scheduler_info()["workers"])[0]
            pid = client.run(os.getpid, workers=[addr])[addr]
            killed.append(addr)
            os.kill(pid, signal.SIGKILL)

    grid = [f"{TAU}=0.3,0.5,0.7,0.9", f"{AUTRES}=0.02,0.03"]
    out = _sweep(COG, grid=grid, replicates=4, outputs=OUTS, out=tmp_path / "d", progress=False,
                    block_points=1, workers=2, on_block=kill_one)
    assert killed and sorted(written) == list(range(8))
    ds = open_sweep(out).sel({TAU: [0.3, 0.9]})
    ref = open_sweep(sweep_dir)
    for var in OUTS:
        np.testing.assert_array_equal(ds[var].values, ref[var].values)


# ----------------------------------------------------------------------------- bad grids
@pytest.mark.parametrize("grid, expected", [
    ("organismes.cnaf.taux_remplacemen=0.4,0.5", "did you mean 'organismes.cnaf.taux_remplacement'"),
    ("organismes.cnaf.taux_remplacement=0.7:0.3:5", "empty range '0.7:0.3:5'"),
    ("organismes.cnaf.taux_remplacement=0.3:0.7:0", "bad range"),
    ("organismes.cnaf.taux_remplacement=0.5,7", "value 7 out of range (allowed: numbers in [0, 3])"),
    ("recrutement.age_moyen_entrants=12,30", "value 12 out of range"),
    ("organismes.cnfa.taux_remplacement=0.5", "unknown organisme 'cnfa'"),
    ("organismes.cnaf.taux_remplacement", "no values"),
    ("organismes.cnaf.taux_remplacement=0.4,x", "bad value list"),
    ("departs.age_limite=66.5,67", "integer parameter"),
    ("simulation.seed=1,2", "simulation setting"),
    ("organismes.cnaf.taux_remplacement@2030=0.5", "bad year"),
])
def test_bad_grids_exit_2_with_a_clear_message(grid, expected, capsys, tmp_path):
    code = main(["sweep", str(COG), "--grid", grid, "--out", str(tmp_path / "x")])
    err = capsys.readouterr().err
    assert code == 2
    assert "command line: --grid" in err and expected in err
    assert "Traceback" not in err
    assert not list(tmp_path.iterdir())


def test_every_grid_problem_is_reported_at_once(capsys, tmp_path):
    code = main(["sweep", str(COG), "--grid", "organismes.cnaf.taux_remplacemen=1", "--grid",
                 "recrutement.age_moyen_entrants=5", "--outputs", "etpam", "--out", str(tmp_path / "x")])
    err = capsys.readouterr().err
    assert code == 2 and err.count("error:") == 3 and "did you mean 'etpma'" in err


def test_cross_parameter_bounds_are_checked_on_the_grid_corners(capsys, tmp_path):
    code = main(["sweep", str(COG), "--grid", "recrutement.age_min_entrants=20,27", "--grid",
                 "recrutement.age_moyen_entrants_cdd=24,30", "--out", str(tmp_path / "x")])
    err = capsys.readouterr().err
    assert code == 2 and "violates a cross-parameter bound" in err and "at the grid point" in err


def test_sweep_file_with_uncertainties_levers_and_a_bundle(tmp_path):
    f = tmp_path / "s.toml"
    f.write_text('title = "essai"\n'
                 '[[levier]]\nparametre = "organismes.cnaf.taux_remplacement@2020"\nvaleurs = [0.4, 0.6]\n'
                 '[[incertitude]]\nparametre = "organismes.tous.taux_autres_departs"\nintervalle = "0.02:0.03:3"\n'
                 '[[levier]]\nnom = "rg"\nparametres = ["organismes.cnam.taux_remplacement", '
                 '"organismes.cnav.taux_remplacement"]\nvaleurs = [[0.4, 0.5], [0.6, 0.7]]\n', encoding="utf-8")
    g = load_sweep_file(f, load_scenario(COG).parametres)
    # levers first, then uncertainties, each in file order
    assert g.shape == (2, 2, 3) and [a.kind for a in g.axes] == ["levier", "levier", "incertitude"]
    assert g.names == ["organismes.cnaf.taux_remplacement@2020", "rg", "organismes.tous.taux_autres_departs"]
    p = g.parametres(load_scenario(COG).parametres, (1, 1, 2))
    assert p["organismes.cnav.taux_remplacement"][0] == 0.7 and p["organismes.msa.taux_autres_departs"][3] == 0.03
    assert dict(g.header)["title"] == "essai"


@pytest.mark.parametrize("body, expected", [
    ('[[levier]]\nnom = "rg"\nparametres = ["organismes.cnam.taux_remplacement", '
     '"organismes.cnav.taux_remplacement"]\nvaleurs = [[0.4, 0.5], [0.6]]\n', "levier[0].valeurs"),
    ('[[levier]]\nparametre = "organismes.cnaf.taux_remplacement"\nvaleur = [0.4]\n', "did you mean 'valeurs'"),
    ('[[levers]]\nparametre = "organismes.cnaf.taux_remplacement"\nvaleurs = [0.4]\n', "did you mean 'levier'"),
    ('[[incertitude]]\nparametre = "organismes.cnaf.taux_autres_depart"\nvaleurs = [0.4]\n',
     "incertitude[0].parametre"),
    ('[[levier]]\nparametre = "organismes.cnaf.taux_remplacement"\nvaleurs = [0.4, 9]\n', "out of range"),
])
def test_bad_sweep_files(body, expected, tmp_path, capsys):
    f = tmp_path / "bad.toml"
    f.write_text(body, encoding="utf-8")
    code = main(["sweep", str(COG), "--file", str(f), "--out", str(tmp_path / "x")])
    err = capsys.readouterr().err
    assert code == 2 and str(f) in err and expected in err, err
    if "mismatched" in body or "[0.6]" in body:
        assert "mismatched dims" in err


def test_chunks_follow_the_batch_target():
    assert choose_chunks((10, 10, 10), 10) == (1, 10, 10)
    assert choose_chunks((7, 13), 10) == (7, 13)
    assert choose_chunks((3, 1000), 10) == (1, 100)
    assert choose_chunks((5,), 5000) == (1,)


def test_cli_sweep_end_to_end(tmp_path):
    out = tmp_path / "cli"
    r = subprocess.run([sys.executable, str(ROOT / "run_scenario.py"), "sweep", str(COG), "--grid",
                        f"{TAU}=0.4,0.6", "--deterministic", "--outputs", "etpma", "--out", str(out)],
                       capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert r.returncode == 0, r.stderr
    assert "organismes.cnaf.taux_remplacement@2020 (2)" in r.stdout
    ds = open_sweep(out)
    assert ds.attrs["mode"] == "deterministic" and list(ds.data_vars) == ["etpma"]


def test_precision_picks_the_replicates_that_reach_the_half_width(tmp_path):
    out = _sweep(COG, grid=[f"{TAU}=0.3,0.9"], precision=["etpma:cnaf:2022=25"], outputs=["etpma"],
                    out=tmp_path / "p", progress=False)
    manifest = json.loads((out / "manifest.json").read_text())
    rep = manifest["precision"]
    R = manifest["replicates"]
    assert rep["pilot_replicates"] == 20 and rep["chosen"] == R and not rep["capped"]
    sd_pilot = rep["needed"]["etpma:cnaf:2022=25"]["pilot_sd_max"]
    assert 1.959963984540054 * sd_pilot / np.sqrt(R) <= 25 < 1.959963984540054 * sd_pilot / np.sqrt(R - 1)
    # the half-width reached with the final replicates is close to the target (sampling error of sd)
    sd = open_sweep(out)["etpma"].sel(organisme="cnaf", year=2022, statistique="ecart_type").values
    assert np.all(1.959963984540054 * sd / np.sqrt(R) < 25 * 1.5)


@pytest.mark.parametrize("text, expected", [
    ("etpma:cnaf:2022", "not understood"), ("etpam:cnaf:2022=5", "did you mean 'etpma'"),
    ("etpma:cnaf:2031=5", "bad year"), ("etpma:cnaf:2022=-1", "bad half-width"),
    ("etpma:lyon:2022=5", "unknown organisme 'lyon'"),
])
def test_bad_precision_targets(text, expected, capsys, tmp_path):
    code = main(["sweep", str(COG), "--grid", f"{TAU}=0.3,0.9", "--precision", text, "--out", str(tmp_path / "x")])
    err = capsys.readouterr().err
    assert code == 2 and "command line: --precision" in err and expected in err


def test_every_batchable_parameter_gives_the_runs_of_its_own(tmp_path):
    """Three points that differ in every parameter the sweep batches (the engine's batch parameters and
    every parameter the engine does not read), run as one engine batch and one Dataset, equal three
    separate runs, variable by variable."""
    from model.engine.simulation import HORS_MOTEUR, HORS_MOTEUR_ORGANISME, PARAMETRES_LOT
    from model.engine.etat_initial import etat_initial
    from model.engine.simulation import simulate
    from model.analysis.grille import Axe, Grille
    from model.results.dataset import REGISTRE, Tableaux, aggregate_values, build_dataset
    from model.analysis.objectifs import parse_levers
    from model.analysis.sweep_blocks import Sweep, evaluate_block, statistiques
    from model.params.incertitude import loi_calibree, tirages

    par = load_scenario(COG).parametres
    paths = [f"organismes.tous.{n}" for n in PARAMETRES_LOT + HORS_MOTEUR_ORGANISME] + list(HORS_MOTEUR)
    levers = parse_levers(paths, par)
    rows = []
    for k in range(3):
        row = []
        for lv in levers:
            base = float(np.nanmean([np.nanmean(np.where(np.isfinite(par[p]), par[p], np.nan))
                                     if np.any(np.isfinite(par[p])) else 0.0 for p in lv.resolved_paths]))
            v = base * (1.0 + 0.08 * (k - 1)) + 0.001 * k
            row.append(float(np.clip(v, lv.low, min(lv.high, 1e9))))
        rows.append(row)
    axe = Axe("point", tuple(levers), np.array(rows))
    sweep = Sweep(str(COG), Grille((axe,)), 3, 11, "stochastic", tuple(REGISTRE), (3,))
    got = evaluate_block(sweep, 0)
    etat0 = etat_initial(par, base_dir=COG.parent)
    loi = loi_calibree()  # the replicates of every point draw the fitted parameters, as its own run would
    for k in range(3):
        pk = tirages(sweep.grille.parametres(par, (k,)), "stochastic", 11, 3, loi=loi)
        ds = build_dataset(simulate(pk, etat0, replicates=3, seed=11), pk)
        tab = Tableaux(ds)
        for v in REGISTRE:
            np.testing.assert_allclose(got[v][k], statistiques(aggregate_values(ds, v, tab), 3)[0],
                                       rtol=1e-10, atol=1e-9, err_msg=f"{v}, point {k}")


def test_run_with_precision_picks_its_replicates(tmp_path, capsys):
    import xarray as xr

    code = main(["run", str(COG), "--precision", "etpma:cnaf:2022=40", "--out", str(tmp_path / "run")])
    err = capsys.readouterr().err
    assert code == 0 and "precision: 20 pilot replicates ->" in err
    R = json.loads((tmp_path / "run" / "manifest.json").read_text())["replicates"]
    assert R == int(err.split("->")[1].split()[0])
    x = xr.open_dataset(tmp_path / "run" / "results.nc")["etpma"].sel(organisme="cnaf", year=2022).values
    assert 1.959963984540054 * np.std(x, ddof=1) / np.sqrt(R) < 40 * 1.5


def test_existing_scheduler_is_used_and_left_running(tmp_path, sweep_dir):
    import logging

    from dask.distributed import Client, LocalCluster

    with LocalCluster(n_workers=1, threads_per_worker=1, processes=True, dashboard_address=None,
                      silence_logs=logging.ERROR) as cluster:
        out = _sweep(COG, grid=GRID, replicates=4, outputs=OUTS, out=tmp_path / "s", progress=False,
                        block_points=2, scheduler=cluster.scheduler_address)
        with Client(cluster.scheduler_address, timeout="10s") as client:  # still up after the sweep
            assert len(client.scheduler_info()["workers"]) == 1
    a, b = open_sweep(out), open_sweep(sweep_dir)
    for var in OUTS:
        np.testing.assert_array_equal(a[var].values, b[var].values)


def test_unreachable_scheduler_exits_2(capsys, tmp_path):
    code = main(["sweep", str(COG), "--grid", f"{TAU}=0.4,0.6", "--scheduler", "tcp://127.0.0.1:1",
                 "--out", str(tmp_path / "x")])
    err = capsys.readouterr().err
    assert code == 2 and "command line: --scheduler = 'tcp://127.0.0.1:1': cannot connect" in err
    assert not list(tmp_path.iterdir())  # neither x nor x.partial


def test_without_the_optional_dependencies_a_sweep_says_how_to_install_them(monkeypatch, capsys, tmp_path):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "zarr" else real(name, *a))
    for cmd in (["sweep", str(COG), "--grid", f"{TAU}=0.4,0.6"],
                ["sensitivity", str(COG), "--method", "oat", "--param", f"{TAU}=0.4:0.6"]):
        code = main([*cmd, "--out", str(tmp_path / "x")])
        err = capsys.readouterr().err
        assert code == 2 and "optional dependencies = 'zarr'" in err and "pip install -e '.[sweep]'" in err
    assert not list(tmp_path.iterdir())


def test_the_engine_refuses_a_lot_whose_points_differ_in_what_it_reads():
    from model.engine.simulation import simulate
    from model.engine.etat_initial import etat_initial
    from model.params.parametres import ParametresLot

    par = load_scenario(COG).parametres
    pts = [par.with_values({"recrutement.age_moyen_entrants": a}) for a in (30.0, 34.0)]
    with pytest.raises(ValueError, match="recrutement.age_moyen_entrants"):
        simulate(ParametresLot(pts, 2, ["recrutement.age_moyen_entrants"]), etat_initial(par, base_dir=COG.parent),
                 replicates=2)
