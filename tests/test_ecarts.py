"""Gaps to the COG targets (model/budget/ecarts.py): the stated sign convention (gap = simulated − target,
positive = above the target), hand-worked target paths, the constant-perimeter treatment of the ex-RSI
transfer, and a default run.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

from model.budget import adf as A
from model.budget import ecarts as G
from model.budget import productivite as P
from model.params.calendrier import HORIZON_DEFAUT, ORGANISMES
from model.results.run import run_scenario
from model.params.scenario import default_parametres

# the default horizon (2013-2022) the tests' fixtures are built on
ANNEES = HORIZON_DEFAUT.annees

ROOT = Path(__file__).resolve().parent.parent
COG = ROOT / "scenarios" / "cog_2018_2022.toml"
Y = len(ANNEES)
ATTRS = {"units", "long_name", "long_name_fr", "aggregation", "sign_convention"}
YEARS = np.array(ANNEES)


def cube(by_org: dict[str, np.ndarray | float], replicates: int = 1) -> xr.DataArray:
    """(year, organisme, replicate) from a series (or a constant) per organisme; 0 for those not given."""
    arr = np.stack([np.broadcast_to(np.asarray(by_org.get(o, 0.0), float), (Y,)) for o in ORGANISMES], 1)
    arr = np.repeat(arr[:, :, None], replicates, 2)
    return xr.DataArray(arr, dims=("year", "organisme", "replicate"),
                        coords={"year": list(ANNEES), "organisme": list(ORGANISMES), "replicate": np.arange(replicates)})


def v(da: xr.DataArray, org: str, year: int) -> float:
    return float(da.sel(organisme=org, year=year).isel(replicate=0))


@pytest.fixture(scope="module")
def par():
    return default_parametres()


def test_ecart_plafond_sign():
    e = cube({"cnam": 110.0, "cnaf": 90.0, "cnav": 100.0})
    plafond = xr.DataArray(np.tile([100.0, 100.0, np.inf, np.nan, 100.0, 100.0], (Y, 1)), dims=("year", "organisme"),
                           coords={"year": list(ANNEES), "organisme": list(ORGANISMES)})
    g = G.ecart_plafond(e, plafond)
    assert v(g, "cnam", 2020) == 10.0            # above the ceiling: positive
    assert v(g, "cnaf", 2020) == -10.0           # below: negative
    assert np.isnan(v(g, "cnav", 2020)) and np.isnan(v(g, "acoss", 2020))  # no ceiling (inf or NaN)
    assert g.dims == ("year", "organisme", "replicate")
    assert "positive = above" in g.attrs["sign_convention"]


def test_cible_adf_hand_example(par):
    # cnaf: base 2017, -5 %/yr; flat ADF of 100 overspends, ADF falling 10 %/yr does better than the target
    p = par.with_values({"organismes.cnaf.cible_adf_annee_base": 2017,
                         "organismes.cnaf.cible_adf_taux": np.full(Y, -0.05)})
    flat = cube({"cnaf": 100.0, "rsi": 0.0})
    g = G.ecart_adf(flat, p)
    assert v(g["cible_adf"], "cnaf", 2019) == pytest.approx(100 * 0.95 ** 2)
    assert v(g["ecart_adf"], "cnaf", 2019) == pytest.approx(100 - 90.25)  # positive = overspending
    assert v(g["ecart_adf"], "cnaf", 2017) == pytest.approx(0.0)
    assert g["cible_adf"].sel(organisme="cnaf", year=slice(2013, 2016)).isnull().all()
    falling = cube({"cnaf": 100 * 0.9 ** (YEARS - 2017)})
    assert (G.ecart_adf(falling, p)["ecart_adf"].sel(organisme="cnaf", year=slice(2018, 2022)) < 0).all()


def test_cible_adf_default_paths(par):
    flat = cube({o: 100.0 for o in ORGANISMES if o != "rsi"})  # no ex-RSI budget to move
    c = G.cible_adf(flat, par)
    assert v(c, "cnam", 2022) == pytest.approx(100 * (1 - 0.0315) ** 5, rel=1e-6)        # 534 -> < 485
    assert v(c, "cnaf", 2022) == pytest.approx(100 * 0.95 ** 5, rel=1e-6)                 # -5 %/yr
    assert v(c, "cnav", 2022) == pytest.approx(80.0, rel=1e-3)                            # ≈ -20 % over 2018-2022
    assert v(c, "msa", 2019) == pytest.approx(85.0, rel=1e-3)                             # -15 % over 2016-2019
    assert v(c, "msa", 2020) == pytest.approx(85.0 * 0.95, rel=1e-3)                      # then -5 % in 2020
    assert c.sel(organisme="rsi").isnull().all()                                         # no target


def test_cible_adf_constant_perimeter(par):
    # the ex-RSI's base-year ADF (10) joins the receivers' bases from the transfer year on
    x = cube({"cnav": 100.0, "rsi": 10.0})
    rep = par["transfert_rsi.repartition"]["cnav"]
    c = G.cible_adf(x, par)
    idx = (1 - 0.04365) ** 3
    assert v(c, "cnav", 2019) == pytest.approx(100 * (1 - 0.04365) ** 2, rel=1e-9)
    assert v(c, "cnav", 2020) == pytest.approx((100 + 10 * rep) * idx, rel=1e-9)
    late = G.cible_adf(x, par.with_values({"transfert_rsi.date_principale": dt.date(2021, 1, 1)}))
    assert v(late, "cnav", 2020) == pytest.approx(100 * idx, rel=1e-9)


def test_ecart_productivite_sign_and_value():
    prod = cube({"cnav": 110.0, "cnaf": 95.0})
    cib = cube({"cnav": 100.0, "cnaf": 100.0, "cnam": np.nan, "acoss": np.nan, "msa": np.nan, "rsi": np.nan})
    g = G.ecart_productivite(prod, cib)
    assert v(g, "cnav", 2020) == pytest.approx(10.0)   # above the target: positive (target beaten)
    assert v(g, "cnaf", 2020) == pytest.approx(-5.0)
    assert np.isnan(v(g, "msa", 2020))
    assert g.attrs["units"] == "%"


def test_default_run_gaps():
    run = run_scenario(COG, write=False)
    par, ds = run.scenario.parametres, run.dataset
    a = A.adf(ds["etpma"], par, cout_transition_mutualisation=ds["cout_transition_mutualisation"])
    pr = P.productivite(ds["etpma"], par)
    g = G.ecarts(ds["etpma"], ds["plafond_emplois"], a["adf_hors_informatique"], pr, par)
    assert set(g.data_vars) == {"cible_adf", "ecart_adf", "ecart_plafond", "ecart_productivite", "ecart_productivite_ij"}
    for name, da in g.data_vars.items():
        assert ATTRS - ({"sign_convention"} if name == "cible_adf" else set()) <= set(da.attrs), name
        assert da.dims == ("year", "organisme", "replicate"), name
    cog = dict(year=slice(2018, 2022), organisme=["cnam", "cnaf", "cnav", "acoss"])
    for name in ("ecart_adf", "ecart_plafond", "ecart_productivite"):
        assert np.isfinite(g[name].sel(**cog).values).all(), name
    assert np.isfinite(g["ecart_productivite_ij"].sel(year=slice(2018, 2022), organisme="cnam").values).all()
    assert g["ecart_productivite"].sel(organisme=["msa", "rsi"]).isnull().all()   # no published target
    assert g["ecart_adf"].sel(organisme="rsi").isnull().all()
    # the gap is the difference of the two sides, with the stated sign
    np.testing.assert_allclose(g["ecart_plafond"].sel(**cog).values,
                               (ds["etpma"] - ds["plafond_emplois"]).transpose(*ds["etpma"].dims).sel(**cog).values)
    np.testing.assert_allclose(g["ecart_adf"].values, (a["adf_hors_informatique"] - g["cible_adf"]).values)
