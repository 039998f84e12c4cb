"""Layer 6: a seed fixes the results; replicate r does not depend on the batch size (one SeedSequence
stream per replicate and flow, a design promise)."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

from model.engine.simulation import FLUX, simulate
from model.results.dataset import build_dataset
from model.results.run import run_scenario
from conftest import COG


def _ds(par, etat0, replicates, seed):
    return build_dataset(simulate(par, etat0, replicates=replicates, seed=seed), par)


def test_same_seed_gives_an_identical_dataset(cog, cog_etat0):
    a = _ds(cog.parametres, cog_etat0, 3, 123)
    b = _ds(cog.parametres, cog_etat0, 3, 123)
    xr.testing.assert_identical(a, b)


def test_different_seed_gives_a_different_dataset(cog, cog_etat0):
    a = _ds(cog.parametres, cog_etat0, 3, 123)
    b = _ds(cog.parametres, cog_etat0, 3, 124)
    with pytest.raises(AssertionError):
        xr.testing.assert_identical(a, b)
    # not just somewhere: the headcount differs in most organisme-years
    differs = (a["effectif_31dec"] != b["effectif_31dec"]).sel(organisme=["cnam", "cnaf", "cnav", "acoss", "msa"])
    assert float(differs.mean()) > 0.9


def test_replicates_of_one_batch_differ(cog, cog_etat0):
    a = _ds(cog.parametres, cog_etat0, 3, 123)
    e = a["effectif_31dec"].sel(organisme="cnam", year=2022).values
    assert len(set(e.tolist())) == 3


def test_replicate_does_not_depend_on_the_batch_size(cog, cog_etat0):
    # the default scenario exercises every random stream: departures, hires, entrant ages, both transfer
    # steps, the ceilings and the MSA mutualisation
    t5 = simulate(cog.parametres, cog_etat0, replicates=5, seed=99)
    t10 = simulate(cog.parametres, cog_etat0, replicates=10, seed=99)
    for arr in ("effectif", "etp_cdi", "etp_cdd", "age_somme", "plus_50", "gain_mutualisation"):
        np.testing.assert_array_equal(getattr(t5, arr)[:, 3], getattr(t10, arr)[:, 3], err_msg=arr)
    for name in FLUX:
        np.testing.assert_array_equal(t5.flux[name][:, 3], t10.flux[name][:, 3], err_msg=name)
        np.testing.assert_array_equal(t5.flux_etp[name][:, 3], t10.flux_etp[name][:, 3], err_msg=name)
    d5 = build_dataset(t5, cog.parametres).isel(replicate=[3])
    d10 = build_dataset(t10, cog.parametres).isel(replicate=[3])
    xr.testing.assert_identical(d5, d10)
    # and the first replicates of a bigger batch are the smaller batch
    xr.testing.assert_identical(build_dataset(t5, cog.parametres),
                                build_dataset(t10, cog.parametres).isel(replicate=slice(0, 5)))


def test_single_replicate_run_is_replicate_0_of_a_batch(cog, cog_etat0):
    t1 = simulate(cog.parametres, cog_etat0, replicates=1, seed=5)
    t4 = simulate(cog.parametres, cog_etat0, replicates=4, seed=5)
    np.testing.assert_array_equal(t1.effectif[:, 0], t4.effectif[:, 0])


def test_run_scenario_is_reproducible(tmp_path):
    a = run_scenario(COG, replicates=2, seed=42, write=False)
    b = run_scenario(COG, replicates=2, seed=42, write=False)
    xr.testing.assert_identical(a.dataset, b.dataset)
    assert a.manifest["seed"] == 42
    c = run_scenario(COG, replicates=2, seed=43, write=False)
    assert not a.dataset["etpma"].equals(c.dataset["etpma"])
