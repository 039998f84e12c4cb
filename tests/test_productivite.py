"""Charge de travail, productivité, COG targets and coûts unitaires (model/budget/productivite.py).

Hand-worked examples, conservation of the ex-RSI workload across the transfer (the sum over organismes
in ETPMA-equivalents does not depend on the transfer date), directions (fewer ETPMA ⇒ higher
productivity), the COG targets of section 5.4 recomputed by hand, and a default run whose 2018
productivity is within 2 % of the published indicators (prod_*_2018): the workload reference is the
rounded simulated 2018 ETPMA, so the residual is the rounding plus the replicate noise.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

from model.budget import productivite as P
from model.params.calendrier import HORIZON_DEFAUT, ORGANISMES
from model.results.run import run_scenario
from model.params.scenario import default_parametres

# the default horizon (2013-2022) the tests' fixtures are built on
ANNEES = HORIZON_DEFAUT.annees

ROOT = Path(__file__).resolve().parent.parent
COG = ROOT / "scenarios" / "cog_2018_2022.toml"
HISTORIQUE = ROOT / "scenarios" / "tendanciel.toml"  # the calibrated 2013-2018 history
Y = len(ANNEES)
ATTRS = {"units", "long_name", "long_name_fr", "aggregation"}
RECEVEURS = ("cnam", "cnav", "acoss")


def by_year(v) -> np.ndarray:
    return np.full(Y, float(v))


def etpma_de(values: dict | float, replicates: int = 2) -> xr.DataArray:
    if not isinstance(values, dict):
        values = {o: values for o in ORGANISMES}
    arr = np.array([[values.get(o, 0.0)] * replicates for o in ORGANISMES], float)
    arr = np.broadcast_to(arr, (Y, len(ORGANISMES), replicates)).copy()
    return xr.DataArray(arr, dims=("year", "organisme", "replicate"),
                        coords={"year": list(ANNEES), "organisme": list(ORGANISMES), "replicate": np.arange(replicates)})


def v(da: xr.DataArray, org: str, year: int) -> float:
    x = da.sel(organisme=org, year=year)
    return float(x.isel(replicate=0) if "replicate" in x.dims else x)


@pytest.fixture(scope="module")
def par():
    return default_parametres()


@pytest.fixture(scope="module")
def run():
    return run_scenario(HISTORIQUE, write=False)


# ----------------------------------------------------------------------------- the transfer
@pytest.mark.parametrize("date, expected", [
    (dt.date(2020, 1, 1), {2019: 0.0, 2020: 1.0, 2021: 1.0}),
    (dt.date(2020, 7, 1), {2019: 0.0, 2020: 0.5, 2021: 1.0}),
    (dt.date(2019, 10, 1), {2018: 0.0, 2019: 0.25, 2020: 1.0}),
])
def test_fraction_transferee(par, date, expected):
    f = P.fraction_transferee(par.with_values({"transfert_rsi.date_principale": date}))
    for year, share in expected.items():
        assert float(f.sel(year=year)) == pytest.approx(share)


def test_transferer_rsi_hand_example(par):
    # 100 on the ex-RSI row, 10 elsewhere; transfer on 2020-07-01: half of 2020 moves
    p = par.with_values({"transfert_rsi.date_principale": dt.date(2020, 7, 1)})
    x = xr.DataArray(np.where(np.array(ORGANISMES) == "rsi", 100.0, 10.0)[None, :].repeat(Y, 0),
                     dims=("year", "organisme"), coords={"year": list(ANNEES), "organisme": list(ORGANISMES)})
    out = P.transferer_rsi(x, p)
    rep = p["transfert_rsi.repartition"]
    assert v(out, "rsi", 2020) == pytest.approx(50.0)
    assert v(out, "rsi", 2021) == pytest.approx(0.0)
    assert v(out, "cnav", 2020) == pytest.approx(10 + 50 * rep["cnav"])
    assert v(out, "cnaf", 2021) == pytest.approx(10.0)
    assert v(out, "cnam", 2019) == pytest.approx(10.0)
    np.testing.assert_allclose(out.sum("organisme").values, x.sum("organisme").values)


@pytest.mark.parametrize("date", [dt.date(2019, 7, 1), dt.date(2021, 4, 1), dt.date(2022, 12, 1)])
def test_ex_rsi_workload_is_conserved(par, date):
    assert par["transfert_rsi.date_principale"] == dt.date(2020, 1, 1)
    base = P.charge_travail(par)["charge_travail_etp"]
    moved = P.charge_travail(par.with_values({"transfert_rsi.date_principale": date}))["charge_travail_etp"]
    np.testing.assert_allclose(moved.sum("organisme").values, base.sum("organisme").values, rtol=1e-12)
    # ... and it does move: the receivers' workload depends on the date, the others' does not
    assert not np.allclose(moved.sel(organisme=list(RECEVEURS)).values, base.sel(organisme=list(RECEVEURS)).values)
    xr.testing.assert_identical(moved.sel(organisme=["cnaf", "msa"]), base.sel(organisme=["cnaf", "msa"]))


def test_workload_split_follows_repartition(par):
    ch = P.charge_travail(par)["charge_travail_etp"]
    propre = P.charge_travail_propre(par)
    rep = par["transfert_rsi.repartition"]
    for o in RECEVEURS:
        recu = v(ch, o, 2021) - v(propre, o, 2021)
        assert recu == pytest.approx(rep[o] * v(propre, "rsi", 2021), rel=1e-12)
    assert v(ch, "rsi", 2021) == 0.0


# ----------------------------------------------------------------------------- workload and productivity by hand
def test_charge_travail_hand_example(par):
    p = par.with_values({"organismes.cnaf.charge_travail_reference": 30000.0,
                         "organismes.cnaf.croissance_charge_travail": by_year(0.02),
                         "organismes.cnaf.charge_nouvelles_missions": by_year(0.0),
                         "organismes.cnaf.productivite_reference": 400.0,
                         "elasticites_charge.cnaf_allocataires": 0.0,  # the drivers apart (tests/test_inducteurs.py)
                         "productivite.annee_reference": 2018})
    ch = P.charge_travail(p)
    assert v(ch["charge_travail_etp"], "cnaf", 2020) == pytest.approx(30000 * 1.02 ** 2, rel=1e-12)
    assert v(ch["charge_travail_etp"], "cnaf", 2016) == pytest.approx(30000 / 1.02 ** 2, rel=1e-12)
    assert v(ch["charge_travail"], "cnaf", 2020) == pytest.approx(400 * 30000 * 1.02 ** 2, rel=1e-12)
    assert "allocataires pondérés" in ch["charge_travail"].attrs["units"]


def test_nouvelles_missions_add_workload(par):
    p = par.with_values({"organismes.acoss.charge_nouvelles_missions": np.where(np.array(ANNEES) >= 2019, 500.0, 0.0)})
    a, b = P.charge_travail(par)["charge_travail_etp"], P.charge_travail(p)["charge_travail_etp"]
    assert v(b, "acoss", 2020) - v(a, "acoss", 2020) == pytest.approx(500.0)
    assert v(b, "acoss", 2018) == pytest.approx(v(a, "acoss", 2018))


def test_productivite_is_charge_over_etpma(par):
    ref = {o: par[f"organismes.{o}.charge_travail_reference"] for o in ORGANISMES}
    e = etpma_de(ref)
    e = e.where(~((e["organisme"] == "rsi") & (e["year"] >= 2020)), 0.0)  # the ex-RSI staff have left
    pr = P.productivite(e, par)["productivite"]
    # in the reference year, with ETPMA = the reference workload, productivity = the published indicator
    for o in ("cnam", "cnaf", "cnav", "acoss"):
        assert v(pr, o, 2018) == pytest.approx(par[f"organismes.{o}.productivite_reference"], rel=1e-12)
    ch = P.charge_travail(par, like=e)["charge_travail"]
    np.testing.assert_allclose(pr.sel(organisme="cnav").values, (ch / e).sel(organisme="cnav").values)
    assert pr.sel(organisme="rsi", year=slice(2020, 2022)).isnull().all()  # no staff, no workload


def test_fewer_etpma_higher_productivity(par):
    plus, moins = etpma_de(10000.0), etpma_de(9000.0)
    p_plus, p_moins = P.productivite(plus, par), P.productivite(moins, par)
    for k in ("productivite", "productivite_ij"):
        ok = p_plus[k] > 0  # NaN where no target organisme (ij), 0 for the ex-RSI with staff but no workload
        assert ok.any()
        assert (p_moins[k].where(ok) > p_plus[k].where(ok)).sum() == ok.sum(), k
    xr.testing.assert_identical(p_plus["cible_productivite"], p_moins["cible_productivite"])


def test_cout_unitaire_hand_example(par):
    e = etpma_de(1.0)
    cout = xr.full_like(e, 100.0)       # MEUR/an
    charge = xr.full_like(e, 1e6)       # units of workload
    cu = P.cout_unitaire(cout, charge, par)
    assert v(cu, "cnaf", 2018) == pytest.approx(100.0)  # 100 MEUR / 1 M allocataires pondérés = 100 EUR
    assert v(cu, "cnav", 2018) == pytest.approx(100.0)
    assert cu.sel(organisme=["cnam", "msa", "rsi"]).isnull().all()  # no such COG indicator


# ----------------------------------------------------------------------------- COG targets (section 5.4)
def test_cibles_section_5_4(par):
    c = P.cible_productivite(par)
    assert v(c, "cnam", 2022) == pytest.approx(529556 * 1.03 ** 5, rel=1e-9)                       # FSE +3 %/yr
    assert v(c, "cnav", 2022) == pytest.approx(15605 * 1.05 * 0.97 * 1.03 * 1.04 * 1.08, rel=1e-9)  # +5/-3/+3/+4/+8
    assert v(c, "cnaf", 2022) == pytest.approx(406.6, abs=0.01)                                     # up to 406.6
    assert v(c, "cnaf", 2018) == pytest.approx(397.79)
    np.testing.assert_allclose(c.sel(organisme="acoss", year=slice(2018, 2022)).values, 680.6)      # rising
    assert c.sel(organisme=["msa", "rsi"]).isnull().all()
    assert c.sel(year=slice(2013, 2016)).isnull().all()
    ij = P.productivite(etpma_de(60000.0), par)["cible_productivite_ij"]
    assert v(ij, "cnam", 2022) == pytest.approx(11011 * 1.025 ** 2 * 1.05 ** 3, rel=1e-9)         # +2.5,+2.5,+5,+5,+5
    assert ij.sel(organisme="cnaf").isnull().all()


# ----------------------------------------------------------------------------- default run
def test_default_run(run):
    par, e = run.scenario.parametres, run.dataset["etpma"]
    ind = P.indicateurs(e, par, cout=e * 0.07)
    for name, da in ind.data_vars.items():
        assert ATTRS <= set(da.attrs), name
        assert da.dims == ("year", "organisme", "replicate"), name
    pr = ind["productivite"].mean("replicate")
    rg = pr.sel(organisme=["cnam", "cnaf", "cnav", "acoss", "msa"])
    assert np.isfinite(rg.values).all()
    assert np.isfinite(ind["charge_travail_etp"].values).all()
    published = {"cnam": 601734, "cnaf": 397.79, "cnav": 16404, "acoss": 680.6}  # prod_*_2018
    for o, value in published.items():
        assert float(pr.sel(organisme=o, year=2018)) == pytest.approx(value, rel=0.02), o
    assert np.isfinite(ind["cout_unitaire"].sel(organisme=["cnaf", "cnav", "acoss"]).values).all()


def test_the_parameter_set_is_not_written_into_by_the_memo_cache():
    """Parametres is immutable: the DataArray forms are cached beside it, not in it, and the cache
    entry goes with the set."""
    import gc

    from model.budget import productivite as prod
    from model.params.scenario import load_scenario

    par = load_scenario(COG).parametres
    before = dict(vars(par))
    a = prod.parametre_organisme(par, "taux_remplacement")
    assert prod.parametre_organisme(par, "taux_remplacement") is a  # built once
    prod.parametre_annuel(par, "adf.evolution_cout_immobilier")
    assert vars(par).keys() == before.keys() and all(vars(par)[k] is v for k, v in before.items())
    other = par.with_values({})
    assert prod.parametre_organisme(other, "taux_remplacement") is not a  # one cache per set
    n = len(prod._FORMES)
    del other
    gc.collect()
    assert len(prod._FORMES) == n - 1
