"""Issue 12, nothing grows without bound: sweeps and sensitivity designs are sized before they start
(and refused past the limits), and runs of many replicates are simulated in blocks with the
per-replicate values of the first replicates only and exact statistics over all of them."""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pytest
import xarray as xr

import model.results.run as run
from model.cli.main import main, summary_table
from model.params.errors import InputError
from model.outputs.lecture_run import load_run
from model.results.dataset import REGISTRE, STATISTIQUES, STATISTIQUES_COORD, aggregate_values, \
    statistiques_replicates, statistiques_replicates_valeurs, tidy_frame
from model.analysis.sensibilite import taille_plan

from conftest import COG

pytest.importorskip("zarr")
from model.analysis import sweep as sw  # noqa: E402  (needs the sweep extra)
from model.analysis import taille  # noqa: E402

HUGE_GRID = ["--grid", "organismes.cnaf.taux_remplacement=0:1:1000",
             "--grid", "organismes.cnav.taux_remplacement=0:1:1000",
             "--grid", "organismes.cnam.taux_remplacement=0:1:1000"]


# ----------------------------------------------------------------------------- sweeps
def test_a_grid_of_a_billion_points_is_refused_before_anything_runs(tmp_path, capsys, monkeypatch):
    def never(*args, **kwargs):
        raise AssertionError("nothing may run or be built for a refused grid")

    monkeypatch.setattr(sw, "choose_chunks", never)  # the Sweep (and its blocks) is never made
    monkeypatch.setattr(sw, "template", never)
    out = tmp_path / "sw"
    rc = main(["sweep", str(COG), *HUGE_GRID, "--out", str(out)])
    err = capsys.readouterr().err
    assert rc == 2
    assert "1.00e9 points x 10 replicates = 1.00e10 batch elements" in err
    assert "results store 243 TB" in err and "over 8 GB" in err
    for way_out in ("--outputs", "fewer points", "--scheduler"):
        assert way_out in err
    assert "Traceback" not in err
    assert not out.exists() and not out.with_name("sw.partial").exists()


def test_the_estimate_counts_points_replicates_variables_years_organismes_statistics():
    est = taille.estimate(1000, 50, 72)
    assert est.elements == 50_000
    assert est.store_bytes == 1000 * 72 * 10 * 8 * 5 * 8
    assert "1 000 points x 50 replicates = 50 000 batch elements" in str(est)
    taille.check_estimate(est)  # the shipped use: a 1 000-point sweep with 50 replicates
    # the Sobol' design of the README (8 factors, 512 base samples, deterministic, 6 outputs), second order too
    taille.check_estimate(taille.estimate(taille_plan(8, "sobol", 512, second_order=True), 1, 6))
    # past the work limit on this machine, within it with a cluster
    big = taille.estimate(10**6, 20, 1)
    with pytest.raises(InputError, match="batch elements"):
        taille.check_estimate(big)
    taille.check_estimate(big, scheduler="tcp://somewhere:8786")
    with pytest.raises(InputError, match="results store"):  # a store too large even with a cluster
        taille.check_estimate(taille.estimate(10**6, 1, 72), scheduler="tcp://somewhere:8786")


def test_a_normal_grid_is_accepted():
    sweep = sw.prepare(sw.SweepSpec(COG, grid=("organismes.cnaf.taux_remplacement@2020=0.3:0.9:1000",), replicates=50))
    assert sweep.grille.size == 1000 and sweep.replicates == 50


def test_a_too_large_sensitivity_design_is_refused_before_it_is_sampled(tmp_path, monkeypatch):
    import model.analysis.sensitivity as sensitivity
    from model.cli.sensitivity import OPTIONS

    monkeypatch.setattr(sensitivity, "plan", lambda *a, **k: (_ for _ in ()).throw(AssertionError("sampled")))
    spec = sensitivity.SensitivitySpec(COG, "sobol", ("organismes.cnaf.taux_remplacement=0.3:0.9",
                                                      "organismes.cnam.taux_remplacement=0.3:0.9"), samples=2**30)
    with pytest.raises(InputError, match=r"arguments: samples.*too large to start: 4\.29e9 points"):
        sensitivity.prepare_sensitivity(spec)
    # the command line names its option
    with pytest.raises(InputError, match=r"command line: --samples.*too large to start: 4\.29e9 points"):
        sensitivity.prepare_sensitivity(replace(spec, names=OPTIONS))


# ----------------------------------------------------------------------------- runs in blocks
@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """30 replicates in one batch, and in blocks of 8 keeping the first 10 (written and read back)."""
    full = run.run_scenario(COG, replicates=30, write=False).dataset
    mp = pytest.MonkeyPatch()
    mp.setattr(run, "BLOC_REPLICATES", 8)
    mp.setattr(run, "REPLICATES_GARDES", 10)
    try:
        out = tmp_path_factory.mktemp("blocs") / "r30"
        res = run.run_scenario(COG, replicates=30, out=out)
        small = run.run_scenario(COG, replicates=8, write=False).dataset
    finally:
        mp.undo()
    return full, res, small, out


def test_replicates_in_blocks_are_those_of_one_batch(runs):
    full, res, _, _ = runs
    ds = res.dataset
    assert ds.sizes["replicate"] == 10
    assert list(ds["replicate"].values) == list(range(10))
    for name in full.data_vars:
        a, b = full[name], ds[name]
        assert a.dims == b.dims, name
        if "replicate" in a.dims:
            a = a.isel(replicate=slice(0, 10))
        if name == "ecart_attendu":  # a mean over all 30 replicates: sums of block sums, equal to rounding
            np.testing.assert_allclose(a.values, b.values, rtol=1e-12, atol=1e-9)
            continue
        # bit-identical (probabilite_respect: over all 30 replicates, exact counts)
        assert np.array_equal(a.values, b.values, equal_nan=True), name


def test_statistics_are_over_all_replicates(runs):
    full, res, _, out = runs
    ds = res.dataset
    for name in REGISTRE:  # the targets' probabilities are over all replicates already (test above)
        expected = statistiques_replicates_valeurs(np.ascontiguousarray(aggregate_values(full, name)))
        assert np.array_equal(statistiques_replicates(ds, name), expected, equal_nan=True), name
    # results.csv, the summary and the report's means and bands are those of the 30 replicates
    a, b = tidy_frame(full), tidy_frame(ds)
    assert list(a["variable"]) == list(b["variable"])
    rounding = a["variable"].str.startswith("ecart_attendu:").to_numpy()  # means of 30 gaps, to rounding
    for col in ("moyenne", "p05", "p50", "p95"):
        assert np.array_equal(a[col].to_numpy()[~rounding], b[col].to_numpy()[~rounding], equal_nan=True), col
        np.testing.assert_allclose(a[col].to_numpy()[rounding], b[col].to_numpy()[rounding], rtol=1e-12, atol=1e-9)
    assert summary_table(full) == summary_table(ds)
    saved = load_run(out)
    assert saved.replicates == 30
    tot = statistiques_replicates_valeurs(np.ascontiguousarray(aggregate_values(full, "etpma")))[:, -1]
    assert np.array_equal(saved.mean("etpma", "total"), tot[:, STATISTIQUES.index("moyenne")])
    lo, hi = saved.band("etpma", "total")
    assert np.array_equal(lo, tot[:, STATISTIQUES.index("p05")]) and np.array_equal(hi, tot[:, STATISTIQUES.index("p95")])


def test_the_dataset_and_the_manifest_say_what_is_kept(runs):
    _, res, small, out = runs
    assert res.dataset.attrs["replicates"] == 30 and res.dataset.attrs["replicates_kept"] == 10
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["replicates"] == 30 and manifest["replicates_kept"] == 10
    assert "all 30 replicates" in manifest["statistics"]
    with xr.open_dataset(out / "results.nc") as saved:
        assert STATISTIQUES_COORD in saved.coords and saved.sizes["replicate"] == 10
    # a run within the limits is one batch, as before: no statistics coordinate
    assert STATISTIQUES_COORD not in small.coords and "replicates_kept" not in small.attrs


def test_the_usual_range_warning_comes_before_the_run(monkeypatch, capsys):
    class Stop(Exception):
        pass

    def simulate(*args, **kwargs):
        assert "simulation.replicates = 6000: outside the usual range" in capsys.readouterr().err
        raise Stop

    monkeypatch.setattr(run, "simulate", simulate)
    with pytest.raises(Stop):
        main(["run", str(COG), "--replicates", "6000", "--out", "unused"])


def test_a_run_in_blocks_says_what_it_will_use_before_it_starts(monkeypatch, capsys, tmp_path):
    class Stop(Exception):
        pass

    def simulate(*args, **kwargs):
        err = capsys.readouterr().err
        assert "20000 replicates, simulated in blocks of 1000" in err and "GB of temporary disk" in err
        raise Stop

    monkeypatch.setattr(run, "simulate", simulate)
    with pytest.raises(Stop):
        main(["run", str(COG), "--replicates", "20000", "--out", str(tmp_path / "r")])


def test_a_run_in_blocks_without_room_for_its_temporary_file_is_refused(monkeypatch, capsys, tmp_path):
    import shutil
    from collections import namedtuple

    usage = namedtuple("usage", "total used free")
    monkeypatch.setattr(shutil, "disk_usage", lambda path: usage(10**9, 10**9 - 10**6, 10**6))
    monkeypatch.setattr(run, "simulate", lambda *a, **k: pytest.fail("simulated without room on disk"))
    assert main(["run", str(COG), "--replicates", "20000", "--out", str(tmp_path / "r")]) == 2
    err = capsys.readouterr().err
    assert "--replicates = 20000" in err and "0.0 GB free" in err and "TMPDIR" in err
    assert list(tmp_path.iterdir()) == []
