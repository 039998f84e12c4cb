"""Layer 8: every shipped scenario loads and runs, and the variants move the results the right way."""

from __future__ import annotations

import numpy as np
import pytest

from conftest import COG, SCENARIOS
from model.results.run import run_scenario

SHIPPED = sorted(SCENARIOS.glob("*.toml"))


@pytest.fixture(scope="module")
def runs():
    cache = {}

    def get(name):
        if name not in cache:
            cache[name] = run_scenario(SCENARIOS / name, deterministic=True, write=False).dataset.isel(replicate=0)
        return cache[name]
    return get


def test_the_shipped_scenarios_are_there():
    assert {p.name for p in SHIPPED} >= {"cog_2018_2022.toml", "cog_2018_2022_un_sur_deux.toml",
                                          "cog_2018_2022_transfert_2021.toml"}


@pytest.mark.parametrize("path", SHIPPED, ids=[p.stem for p in SHIPPED])
def test_every_shipped_scenario_runs(runs, path):
    ds = runs(path.name)
    etpma = ds["etpma"].values
    assert np.isfinite(etpma).all()
    assert (etpma >= 0).all()
    # the régime général and MSA keep tens of thousands of ETPMA; the ex-RSI is absorbed by 2022
    assert ds["etpma"].sel(year=2022, organisme=["cnam", "cnaf", "cnav", "acoss", "msa"]).min() > 5000
    assert ds["etpma"].sel(year=2022, organisme="rsi").item() == 0.0
    for name in ("effectif_31dec", "recrutements", "departs_retraite", "departs_autres"):
        assert np.isfinite(ds[name].values).all(), name


def test_un_sur_deux_gives_less_cnaf_staff(runs):
    cog, variant = runs("cog_2018_2022.toml"), runs("cog_2018_2022_un_sur_deux.toml")
    # fewer CDI (the ETPMA itself is held near the ceiling by the CDD, the margin)
    assert variant["etpma_cdi"].sel(organisme="cnaf", year=2022) < cog["etpma_cdi"].sel(organisme="cnaf", year=2022)
    # identical before the policy change
    np.testing.assert_allclose(variant["etpma"].sel(year=slice(2013, 2017)), cog["etpma"].sel(year=slice(2013, 2017)))
    # organismes already at 0.5 in the COG are unchanged until the ex-RSI (0.6 -> 0.5 in 2018 in the variant)
    # sends them its staff
    for org in ("cnam", "cnav"):
        np.testing.assert_allclose(variant["etpma"].sel(organisme=org, year=slice(2013, 2018)),
                                   cog["etpma"].sel(organisme=org, year=slice(2013, 2018)))
    # the ex-RSI's 2018 replacement differs between the two (0.5 in the variant, the baseline's in the
    # COG scenario): more replacement, more staff to transfer in 2020
    from model.params.scenario import load_scenario
    tau = {k: load_scenario(SCENARIOS / f).parametres["organismes.rsi.taux_remplacement"][5]
           for k, f in (("cog", "cog_2018_2022.toml"), ("variant", "cog_2018_2022_un_sur_deux.toml"))}
    more = variant["transferts_sortants"].sel(organisme="rsi", year=2020) > \
        cog["transferts_sortants"].sel(organisme="rsi", year=2020)
    assert bool(more) == (tau["variant"] > tau["cog"])
    # the CNAF (0.6) and ACOSS (0.7) replace fewer retirements from 2019: fewer CDI every year, and
    # the CDD, the margin under the ceiling, make up for part of it
    for org in ("cnaf", "acoss"):
        period = slice(2019, 2022)
        assert (variant["etpma_cdi"].sel(organisme=org, year=period) < cog["etpma_cdi"].sel(organisme=org, year=period)).all()
        assert (variant["etpma_cdd"].sel(organisme=org, year=2022) > cog["etpma_cdd"].sel(organisme=org, year=2022)).all()
        # the ceiling holds both: the ETPMA differ by less than 0.2 %
        rel = np.abs(variant["etpma"].sel(organisme=org, year=period) / cog["etpma"].sel(organisme=org, year=period) - 1)
        assert float(rel.max()) < 2e-3


def test_transfer_one_year_later(runs):
    cog, late = runs("cog_2018_2022.toml"), runs("cog_2018_2022_transfert_2021.toml")
    assert cog["effectif_31dec"].sel(organisme="rsi", year=2019) > 0
    assert cog["etpma"].sel(organisme="rsi", year=2020) == 0
    assert late["etpma"].sel(organisme="rsi", year=2020) > 1000
    assert late["effectif_31dec"].sel(organisme="rsi", year=2020) > 1000
    assert late["etpma"].sel(organisme="rsi", year=2021) == 0
    for org in ("cnam", "cnav", "acoss"):
        # the bulk arrives in 2021 instead of 2020; in 2020 only the GIE SI agents (from July)
        assert late["transferts_entrants"].sel(organisme=org, year=2021) > 300
        assert cog["transferts_entrants"].sel(organisme=org, year=2021) == 0
        assert late["transferts_entrants"].sel(organisme=org, year=2020) < 200
    assert late["transferts_entrants"].sel(year=2020).sum() == pytest.approx(350)
    assert late["transferts_entrants"].sel(year=2019).sum() == 0
    # 2020: the receivers have fewer staff than in the COG scenario
    rg = ["cnam", "cnav", "acoss"]
    assert (late["etpma"].sel(organisme=rg, year=2020) < cog["etpma"].sel(organisme=rg, year=2020)).all()


def test_overrides_for_every_organisme():
    from model.params.calendrier import ORGANISMES
    from model.params.scenario import load_scenario

    par = load_scenario(COG, {"organismes.tous.taux_remplacement": 0.3}).parametres
    for o in ORGANISMES:
        assert list(par[f"organismes.{o}.taux_remplacement"]) == [0.3] * 10


@pytest.mark.parametrize("name", ["cog_2018_2022.toml", "cog_2018_2022_un_sur_deux.toml",
                                  "cog_2018_2022_transfert_2021.toml"])
def test_the_shipped_scenarios_inherit_the_calibrated_history(runs, name):
    """Issue 14: a shipped scenario states policy after the calibration window; its 2013-2017 results
    equal the calibrated baseline's (tendanciel), year by year, organisme by organisme, and loading it
    raises no warning of a change inside the window. 2018 differs by less than 1 %: under a ceiling that
    falls the next year, the caisses glide towards it (the anticipation of the 2019 ceiling)."""
    from model.params.scenario import load_scenario

    assert load_scenario(SCENARIOS / name).warnings == ()
    base, sc = runs("tendanciel.toml"), runs(name)
    for v in ("etpma", "etpma_cdi", "etpma_cdd", "effectif_31dec", "departs_retraite", "recrutements",
              "masse_salariale", "depenses_personnel", "rmpp", "plafond_emplois"):
        np.testing.assert_array_equal(sc[v].sel(year=slice(2013, 2017)).values,
                                      base[v].sel(year=slice(2013, 2017)).values, err_msg=v)
    np.testing.assert_allclose(sc["etpma"].sel(year=2018).values, base["etpma"].sel(year=2018).values, rtol=0.01)
