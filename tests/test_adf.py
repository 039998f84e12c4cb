"""ADF by component, IT, investment, dépenses limitatives and the LPFP check (model/budget/adf.py).

Hand-worked examples on tiny inputs, directions, exact additivity, conservation of the ex-RSI budgets
across the transfer, and a default run against the reference figures of section 5.3:

* RG ADF incl. IT 2013 -> 2018: -11 % (adf_rg_chg), tolerance 1.5 points;
* MSA -19.47 %, ex-RSI -12.10 % (adf_msa_chg, adf_rsi_chg), tolerance 1.5 points;
* immobilier RG + MSA + ex-RSI 719 MEUR in 2014, 689 in 2018 (immo_2014, immo_2018), tolerance 3 %;
* IT ≈ 1/4 of RG ADF in 2018 (it_share_adf), tolerance 3 points;
* CNAM ADF excl. IT ≈ 534 MEUR/yr over 2014-2017 (cnam_fonct_budget_prev), tolerance 3 %;
* RG COG IT budgets > 2 600 MEUR over 2014-2017 and > 3 000 over 2018-2022 (it_budget_*).
The residuals are the calibration residuals of the estimated defaults (catalogue_budget.toml); the
stochastic noise on these ratios is far below the tolerances (means over 100 replicates).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

from model.budget import adf as A
from model.params.calendrier import HORIZON_DEFAUT, ORGANISMES, REGIME_GENERAL
from model.results.run import run_scenario
from model.params.scenario import default_parametres

# the default horizon (2013-2022) the tests' fixtures are built on
ANNEES = HORIZON_DEFAUT.annees

ROOT = Path(__file__).resolve().parent.parent
COG = ROOT / "scenarios" / "cog_2018_2022.toml"
HISTORIQUE = ROOT / "scenarios" / "tendanciel.toml"  # the calibrated 2013-2018 history
Y = len(ANNEES)
ATTRS = {"units", "long_name", "long_name_fr", "aggregation"}


def by_year(v) -> np.ndarray:
    return np.full(Y, float(v)) if np.ndim(v) == 0 else np.asarray(v, float)


def tous(name: str, v) -> dict:
    """The same value of an organisme parameter for every organisme."""
    return {f"organismes.{o}.{name}": v for o in ORGANISMES}


def etpma_de(values: dict | float, replicates: int = 2) -> xr.DataArray:
    """ETPMA DataArray (year, organisme, replicate): a number per organisme (constant over years), or one
    number for all."""
    if not isinstance(values, dict):
        values = {o: values for o in ORGANISMES}
    arr = np.array([[values.get(o, 0.0)] * replicates for o in ORGANISMES], float)
    arr = np.broadcast_to(arr, (Y, len(ORGANISMES), replicates)).copy()
    return xr.DataArray(arr, dims=("year", "organisme", "replicate"),
                        coords={"year": list(ANNEES), "organisme": list(ORGANISMES), "replicate": np.arange(replicates)},
                        name="etpma", attrs={"units": "ETPMA"})


def v(da: xr.DataArray, org: str, year: int) -> float:
    return float(da.sel(organisme=org, year=year).isel(replicate=0))


@pytest.fixture(scope="module")
def par():
    return default_parametres()


@pytest.fixture(scope="module")
def run():
    return run_scenario(HISTORIQUE, write=False)


@pytest.fixture(scope="module")
def stand_in_personnel(run):
    """A stand-in for the pay layer: 57 000 EUR per ETPMA in 2013 (RG dépenses de personnel 7.3 Md€ in
    2015 for ≈ 128 000 simulated ETPMA, pers_exp_2015_rg), +0.5 %/yr."""
    e = run.dataset["etpma"]
    return (e * 0.057 * 1.005 ** (e["year"] - 2013)).rename("depenses_personnel")


@pytest.fixture(scope="module")
def budget_defaut(run, stand_in_personnel):
    ds = run.dataset
    return A.budget(ds["etpma"], run.scenario.parametres, depenses_personnel=stand_in_personnel,
                    cout_transition_mutualisation=ds["cout_transition_mutualisation"])


# ----------------------------------------------------------------------------- hand-worked examples
def test_immobilier_hand_example(par):
    p = par.with_values({**tous("surface_par_etpma", by_year(20.0)), **tous("part_teletravail", by_year(0.1)),
                         "adf.economie_surface_teletravail": 0.5, "adf.cout_immobilier_m2": 200.0,
                         "adf.evolution_cout_immobilier": by_year(0.01)})
    immo = A.adf_immobilier(etpma_de(1000.0), p)
    # 1000 ETPMA x 20 m2 x (1 - 0.1 x 0.5) x 200 EUR/m2 x 1.01^2 (2015) = 3.87638 MEUR
    assert v(immo, "cnaf", 2015) == pytest.approx(1000 * 20 * 0.95 * 200 * 1.01 ** 2 / 1e6, rel=1e-12)
    assert v(immo, "cnaf", 2013) == pytest.approx(3.8, rel=1e-12)
    assert immo.attrs["units"] == "MEUR/an"


def test_achats_hand_example(par):
    p = par.with_values({**tous("achats_par_etpma", 2000.0), "adf.evolution_prix_achats": by_year(-0.02)})
    achats = A.adf_achats(etpma_de(1000.0), p)
    assert v(achats, "cnav", 2013) == pytest.approx(2.0, rel=1e-12)
    assert v(achats, "cnav", 2016) == pytest.approx(2.0 * 0.98 ** 3, rel=1e-12)


def test_editique_hand_example(par):
    # cnaf is not touched by the ex-RSI transfer: 100 x workload index 1.05^2 x dematerialisation 0.9^2
    p = par.with_values({"organismes.cnaf.adf_editique_2013": 100.0,
                         "organismes.cnaf.evolution_editique": by_year(-0.1),
                         "organismes.cnaf.croissance_charge_travail": by_year(0.05),
                         "elasticites_charge.cnaf_allocataires": 0.0,  # the drivers apart (tests/test_inducteurs.py)
                         "organismes.cnaf.charge_nouvelles_missions": by_year(0.0)})
    ed = A.adf_editique(etpma_de(1000.0), p)
    assert v(ed, "cnaf", 2015) == pytest.approx(100 * 1.05 ** 2 * 0.9 ** 2, rel=1e-12)
    # éditique does not depend on staff
    xr.testing.assert_identical(ed, A.adf_editique(etpma_de(500.0), p))


def test_informatique_fonctionnement_hand_example(par):
    p = par.with_values({"organismes.cnaf.informatique_fonctionnement_2013": 50.0,
                         "adf.environnement_utilisateur_par_etpma": 500.0,
                         "organismes.cnaf.evolution_informatique_fonctionnement": by_year(0.02)})
    it = A.adf_informatique_fonctionnement(etpma_de(1000.0), p)
    # (50 MEUR fixed + 1000 ETPMA x 500 EUR) x 1.02^2
    assert v(it, "cnaf", 2015) == pytest.approx((50 + 0.5) * 1.02 ** 2, rel=1e-12)


def test_autres_hand_example_with_transition_cost(par):
    p = par.with_values({"organismes.cnaf.adf_autres_2013": 40.0,
                         "organismes.cnaf.evolution_adf_autres": by_year(-0.05)})
    e = etpma_de(1000.0)
    cout = xr.zeros_like(e).where(e["organisme"] != "cnaf", 3.0)
    autres = A.adf_autres(e, p, cout)
    assert v(autres, "cnaf", 2014) == pytest.approx(40 * 0.95 + 3.0, rel=1e-12)
    assert v(A.adf_autres(e, p), "cnaf", 2014) == pytest.approx(40 * 0.95, rel=1e-12)


def test_lpfp_hand_example(par):
    p = par.with_values({"lpfp.annee_base": 2017, "lpfp.taux_evolution_max": -0.015})
    years = np.array(ANNEES)
    # cnam falls 2 %/yr, cnaf exactly 1.5 %/yr (the boundary), cnav is flat; msa 100 then 98.6 in 2019
    dl = {"cnam": 100 * 0.98 ** (years - 2017), "cnaf": 100 * 0.985 ** (years - 2017), "cnav": np.full(Y, 100.0),
          "acoss": np.full(Y, 100.0), "msa": np.full(Y, 100.0), "rsi": np.zeros(Y)}
    arr = np.stack([dl[o] for o in ORGANISMES], 1)[:, :, None]
    da = xr.DataArray(arr, dims=("year", "organisme", "replicate"),
                      coords={"year": list(ANNEES), "organisme": list(ORGANISMES), "replicate": [0]})
    ctl = A.controle_lpfp(da, p)
    assert v(ctl["enveloppe_lpfp"], "cnav", 2019) == pytest.approx(100 * 0.985 ** 2, rel=1e-12)
    assert v(ctl["ecart_lpfp"], "cnav", 2019) == pytest.approx(100 - 97.0225, rel=1e-9)  # positive = missed
    assert v(ctl["respect_lpfp"], "cnav", 2019) == 0.0
    assert v(ctl["respect_lpfp"], "cnam", 2022) == 1.0
    assert v(ctl["ecart_lpfp"], "cnam", 2022) < 0
    assert (ctl["respect_lpfp"].sel(organisme="cnaf", year=slice(2018, 2022)) == 1.0).all()
    assert ctl["respect_lpfp"].sel(year=slice(2013, 2017)).isnull().all()
    assert ctl["respect_lpfp"].sel(organisme="rsi").isnull().all()  # no perimeter


# ----------------------------------------------------------------------------- properties
def test_components_sum_exactly_to_adf(budget_defaut):
    b = budget_defaut
    total = sum(b[k] for k in A.COMPOSANTES)
    np.testing.assert_array_equal(total.values, b["adf"].values)
    np.testing.assert_allclose((b["adf"] - b["adf_informatique_fonctionnement"]).values,
                               b["adf_hors_informatique"].values, rtol=1e-14, atol=1e-12)


def test_depenses_limitatives_are_personnel_plus_adf_without_investment(budget_defaut, stand_in_personnel, run):
    b = budget_defaut
    np.testing.assert_allclose(b["depenses_limitatives"].values,
                               (stand_in_personnel + b["adf"] + b["autres_depenses_limitatives"]).values, rtol=1e-14)
    # investment does not enter the dépenses limitatives
    p = run.scenario.parametres
    p2 = p.with_values(tous("investissement_autre", by_year(500.0)))
    b2 = A.budget(run.dataset["etpma"], p2, depenses_personnel=stand_in_personnel,
                  cout_transition_mutualisation=run.dataset["cout_transition_mutualisation"])
    assert (b2["investissement"] > b["investissement"]).all()
    xr.testing.assert_allclose(b2["depenses_limitatives"], b["depenses_limitatives"])


def test_informatique_is_running_plus_it_investment(budget_defaut):
    b = budget_defaut
    np.testing.assert_allclose(b["informatique"].values,
                               (b["adf_informatique_fonctionnement"] + b["investissement_informatique"]).values)


def test_fewer_etpma_lower_per_agent_costs(par):
    plus, moins = etpma_de(1000.0), etpma_de(900.0)
    a_plus, a_moins = A.adf(plus, par), A.adf(moins, par)
    for k in ("adf_immobilier", "adf_achats", "adf_informatique_fonctionnement", "adf"):
        assert (a_moins[k] < a_plus[k]).all(), k
    for k in ("adf_editique", "adf_autres"):  # not staff-driven
        xr.testing.assert_identical(a_moins[k], a_plus[k])


def test_teletravail_lowers_immobilier(par):
    e = etpma_de(1000.0)
    low = A.adf_immobilier(e, par.with_values(tous("part_teletravail", by_year(0.0))))
    high = A.adf_immobilier(e, par.with_values(tous("part_teletravail", by_year(0.3))))
    assert (high < low).all()
    np.testing.assert_allclose((high / low).values, 1 - 0.3 * par["adf.economie_surface_teletravail"])


@pytest.mark.parametrize("date", [dt.date(2019, 7, 1), dt.date(2021, 1, 1)])
def test_ex_rsi_budgets_are_conserved_by_the_transfer(par, date):
    e = etpma_de(1000.0)
    base, moved = A.adf(e, par), A.adf(e, par.with_values({"transfert_rsi.date_principale": date}))
    for k in ("adf_editique", "adf_autres"):
        np.testing.assert_allclose(moved[k].sum("organisme").values, base[k].sum("organisme").values, rtol=1e-12)
        assert not np.allclose(moved[k].values, base[k].values)
    # after the transfer the ex-RSI keeps nothing of its éditique
    assert (base["adf_editique"].sel(organisme="rsi", year=slice(2020, 2022)) == 0).all()


def test_every_variable_is_described(budget_defaut):
    for name, da in budget_defaut.data_vars.items():
        assert ATTRS <= set(da.attrs), name
        assert da.dims == ("year", "organisme", "replicate"), name
        agg = da.attrs["aggregation"]
        assert agg.split(":")[0] in ("sum", "none", "same", "weighted_mean", "ratio", "difference", "respect", "sum_if_staffed"), name


# ----------------------------------------------------------------------------- default run vs the reference figures
def _rg(x: xr.DataArray) -> xr.DataArray:
    return x.sel(organisme=list(REGIME_GENERAL)).sum("organisme").mean("replicate")


def _chg(x: xr.DataArray, y0: int, y1: int) -> float:
    return float(x.sel(year=y1) / x.sel(year=y0) - 1)


def test_default_run_is_finite(budget_defaut):
    b = budget_defaut
    for name in ("adf", "adf_hors_informatique", "informatique", "investissement", "depenses_limitatives"):
        assert np.isfinite(b[name].values).all(), name
    for name in A.COMPOSANTES + ("adf",):
        assert (b[name] >= 0).all(), name
    # the LPFP outputs are finite over 2018-2022 where a perimeter exists
    assert np.isfinite(b["ecart_lpfp"].sel(year=slice(2018, 2022)).values).all()


def test_default_run_adf_change_2013_2018(budget_defaut):
    b = budget_defaut
    assert _chg(_rg(b["adf"]), 2013, 2018) == pytest.approx(-0.11, abs=0.015)            # adf_rg_chg
    msa = b["adf"].sel(organisme="msa").mean("replicate")
    rsi = b["adf"].sel(organisme="rsi").mean("replicate")
    assert _chg(msa, 2013, 2018) == pytest.approx(-0.1947, abs=0.015)                   # adf_msa_chg
    assert _chg(rsi, 2013, 2018) == pytest.approx(-0.1210, abs=0.015)                   # adf_rsi_chg
    assert float(_rg(b["adf"]).sel(year=2013)) == pytest.approx(1900, rel=0.03)         # adf_rg_chg_abs


def test_default_run_components_against_the_figures(budget_defaut):
    b = budget_defaut
    immo = b["adf_immobilier"].sum("organisme").mean("replicate")
    assert float(immo.sel(year=2014)) == pytest.approx(719, rel=0.03)                   # immo_2014
    assert float(immo.sel(year=2018)) == pytest.approx(689, rel=0.03)                   # immo_2018
    part_it = float(_rg(b["adf_informatique_fonctionnement"]).sel(year=2018) / _rg(b["adf"]).sel(year=2018))
    assert part_it == pytest.approx(0.25, abs=0.03)                                     # it_share_adf
    cnam = b["adf_hors_informatique"].sel(organisme="cnam").mean("replicate")
    assert float(cnam.sel(year=slice(2014, 2017)).mean()) == pytest.approx(534, rel=0.03)  # cnam_fonct_budget_prev


def test_default_run_it_budgets(budget_defaut):
    it = budget_defaut["informatique"].sel(organisme=list(REGIME_GENERAL)).sum("organisme").mean("replicate")
    prev = float(A.cumul(it, 2014, 2017))
    new = float(A.cumul(it, 2018, 2022))
    assert 2600 <= prev <= 2600 * 1.05                                                  # it_budget_prev_cog
    assert 3000 <= new <= 3000 * 1.05                                                   # it_budget_new_cog
