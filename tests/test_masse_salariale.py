"""Pay, wage bill, RMPP and the wage-bill bridge: a hand-worked example and properties."""

from __future__ import annotations

import datetime as dt
from types import MappingProxyType

import numpy as np
import pytest

from model.params.calendrier import AGE_MIN, AGES, ORGANISMES
from model.engine.simulation import simulate
from model.engine.etat_initial import reconstruct
from model.params.effectifs import EtatInitial
from model.results.dataset import build_dataset
from model.results.run import run_scenario
from model.params.scenario import default_parametres, load_scenario

EFFETS = ["effet_effectif", "effet_mesures_generales", "effet_gvt", "effet_noria", "effet_report"]
S = 30000.0  # EUR/yr, the mean pay of the tiny case
G = 0.012  # annual GVT (promotions only, so every agent's index starts at S)


def _years(values: dict[int, float]) -> np.ndarray:
    out = np.zeros(10)
    for y, v in sorted(values.items()):
        out[y - 2013:] = v
    return out


def _tiny(mesures=()) -> tuple:
    """Ten CDI agents of the CNAM, full time: nine aged 40 and one aged 63 at 31/12/2012. With an
    age limit of 65 the older one retires on 1 January 2014, and a replacement rate of 2 brings two
    entrants at 70 % of S the same day. Nothing else moves."""
    par = default_parametres()
    zero_org = {f"organismes.{o}.{k}": _years({2013: 0.0}) for o in ORGANISMES
                for k in ("taux_autres_departs", "taux_renouvellement_cdd", "recrutements_supplementaires",
                          "taux_remplacement")}
    changes = {
        **zero_org,
        "organismes.cnam.taux_remplacement": _years({2013: 0.0, 2014: 2.0}),
        "departs.hazard_retraite": ((-10.0, 0.0), (10.0, 0.0)),
        "departs.age_limite": 65,
        "remuneration.gvt_experience_par_age": ((20.0, 0.0), (70.0, 0.0)),
        "organismes.cnam.taux_gvt_promotions": _years({2013: G}),
        "organismes.cnam.salaire_moyen_initial": S,
        "organismes.cnam.delai_recrutement": 0,
        "remuneration.ratio_salaire_entrant": 0.7,
        "mesures_generales": tuple(MappingProxyType(m) for m in mesures),
        "transfert_rsi.effectif_gie": 0.0,
    }
    par = par.with_values(changes)
    n = np.zeros((len(ORGANISMES), 2, len(AGES)))
    n[0, 0, 40 - AGE_MIN] = 9
    n[0, 0, 63 - AGE_MIN] = 1
    return par, EtatInitial(n, n.copy(), "test", False)


def test_hand_worked_rmpp_noria_and_bridge():
    par, etat = _tiny()
    ds = build_dataset(simulate(par, etat, mode="deterministic"), par).sel(organisme="cnam", replicate=0)
    gm = (1 + G) ** (1 / 12)
    a1 = np.mean([gm ** m for m in range(1, 13)])  # mean GVT factor over a year, applied monthly
    # 2013: ten agents at S all year; 2014: nine at S(1+G), two entrants at 0.7 S
    assert ds.etpma.sel(year=2013) == pytest.approx(10)
    assert ds.etpma.sel(year=2014) == pytest.approx(11)
    ms13, ms14 = 10 * S * a1, (9 * S * (1 + G) + 2 * 0.7 * S) * a1
    assert ds.masse_salariale.sel(year=2013) == pytest.approx(ms13 / 1e6, rel=1e-12)
    assert ds.masse_salariale.sel(year=2014) == pytest.approx(ms14 / 1e6, rel=1e-12)
    # RMPP 2014: the nine agents present in both years progress by G; the retiree is not in it
    assert ds.rmpp.sel(year=2014) == pytest.approx(100 * G, rel=1e-9)
    assert ds.departs_retraite.sel(year=2014) == pytest.approx(1)
    # bridge, by hand: one more ETPMA at last year's pay; GVT on the eleven at last year's mean;
    # noria = the rest: one leaver at S(1+G) replaced by two entrants at 0.7 S
    i13 = S * a1
    expected = {
        "effet_effectif": i13 * 1,
        "effet_gvt": 11 * i13 * G,
        "effet_noria": (9 * (1 + G) + 1.4) * S * a1 - 11 * i13 - 11 * i13 * G,
        "effet_mesures_generales": 0.0,
        "effet_report": 0.0,
    }
    assert expected["effet_noria"] == pytest.approx(S * a1 * (1.4 - 2 * (1 + G)))
    for k, v in expected.items():
        assert ds[k].sel(year=2014) == pytest.approx(v / 1e6, abs=1e-12), k
    assert sum(expected.values()) == pytest.approx(ms14 - ms13)


def test_hand_worked_measures_report():
    """+1 % from 1 May 2013: 8/12 of it in 2013, the report of the remaining 4/12 in 2014."""
    par, etat = _tiny([{"nom": "m", "date": dt.date(2013, 5, 1), "taux": 0.01}])
    ds = build_dataset(simulate(par, etat, mode="deterministic"), par).sel(organisme="cnam", replicate=0)
    gm = (1 + G) ** (1 / 12)
    v13 = np.array([1.0] * 4 + [1.01] * 8)
    ms13 = 10 * S * np.sum(v13 * gm ** np.arange(1, 13)) / 12
    assert ds.masse_salariale.sel(year=2013) == pytest.approx(ms13 / 1e6, rel=1e-12)
    # RMPP 2014 of the nine stayers = point growth over the year × GVT
    num = np.sum(1.01 * gm ** (12 + np.arange(1, 13)))
    den = np.sum(v13 * gm ** np.arange(1, 13))
    assert ds.rmpp.sel(year=2014) == pytest.approx(100 * (num / den - 1), rel=1e-9)
    # the report is positive, no new measure in 2014
    assert float(ds.effet_report.sel(year=2014)) > 0
    assert ds.effet_mesures_generales.sel(year=2014) == pytest.approx(0, abs=1e-12)
    total = sum(float(ds[k].sel(year=2014)) for k in EFFETS)
    assert total == pytest.approx(float(ds.masse_salariale.sel(year=2014) - ds.masse_salariale.sel(year=2013)))


@pytest.mark.parametrize("name", ["cog_2018_2022", "cog_2018_2022_un_sur_deux", "cog_2018_2022_transfert_2021"])
@pytest.mark.parametrize("deterministic", [True, False])
def test_bridge_sums_exactly_on_every_shipped_scenario(name, deterministic):
    ds = run_scenario(f"scenarios/{name}.toml", deterministic=deterministic, replicates=4, write=False).dataset
    change = ds.masse_salariale.diff("year")
    effets = sum(ds[k] for k in EFFETS).sel(year=change.year)
    np.testing.assert_allclose(effets.values, change.values, atol=1e-9)  # MEUR: residual below 1 €
    assert np.isnan(ds.effet_noria.sel(year=2013)).all()


def test_one_percent_on_the_point_gives_one_percent_on_the_wage_bill():
    sc = load_scenario("scenarios/cog_2018_2022.toml")
    par = sc.parametres
    plus = par.with_values({"mesures_generales": par["mesures_generales"] + (
        MappingProxyType({"nom": "plus_un", "date": dt.date(2013, 1, 1), "taux": 0.01}),)})
    a = build_dataset(simulate(par, reconstruct(par), mode="deterministic"), par)
    b = build_dataset(simulate(plus, reconstruct(plus), mode="deterministic"), plus)
    np.testing.assert_allclose(b.masse_salariale.values, 1.01 * a.masse_salariale.values, rtol=1e-12)
    np.testing.assert_allclose(b.depenses_personnel.values, 1.01 * a.depenses_personnel.values, rtol=1e-12)
    np.testing.assert_array_equal(a.etpma.values, b.etpma.values)  # staffing is untouched


def test_fewer_replacements_under_a_ceiling_are_made_up_by_cdd():
    # the CNAF under its COG ceiling: fewer CDI hires leave a gap that CDD close (behaviour), so the
    # ETPMA stays where the ceiling puts it while the CDI staff falls
    par = load_scenario("scenarios/cog_2018_2022.toml").parametres
    tau = np.array(par["organismes.cnaf.taux_remplacement"], float)
    tau[2019 - 2013:] = 0.3  # the history is kept: the same base year, the same ceilings
    tau.setflags(write=False)
    moins = par.with_values({"organismes.cnaf.taux_remplacement": tau})
    a = build_dataset(simulate(par, reconstruct(par), mode="deterministic"), par).sel(organisme="cnaf", year=2022)
    b = build_dataset(simulate(moins, reconstruct(moins), mode="deterministic"), moins).sel(organisme="cnaf", year=2022)
    assert b.etpma_cdi.item() < a.etpma_cdi.item() - 300
    assert b.etpma_cdd.item() > a.etpma_cdd.item() + 300
    # ... up to their cap (part_cdd_max of the aim): beyond it the ceiling is under-used
    cap = par["organismes.cnaf.part_cdd_max"] * a.plafond_emplois.item()
    assert b.etpma_cdd.item() <= cap + 1.0
    assert a.etpma.item() - 1000 < b.etpma.item() <= a.etpma.item()


def test_fewer_replacements_lower_the_wage_bill():
    # without a ceiling, fewer replacements mean fewer staff
    par = load_scenario("scenarios/cog_2018_2022.toml").parametres.with_values({"organismes.cnaf.plafond_annee_base": 0})
    moins = par.with_values({"organismes.cnaf.taux_remplacement": _years({2013: 0.8, 2018: 0.3})})
    a = build_dataset(simulate(par, reconstruct(par), mode="deterministic"), par).sel(organisme="cnaf")
    b = build_dataset(simulate(moins, reconstruct(moins), mode="deterministic"), moins).sel(organisme="cnaf")
    assert (b.masse_salariale.sel(year=slice(2018, 2022)) < a.masse_salariale.sel(year=slice(2018, 2022))).all()
    # fewer entrants at low pay: a smaller (less negative) noria, so a higher SMPT
    assert (b.smpt.sel(year=slice(2019, 2022)) > a.smpt.sel(year=slice(2019, 2022))).all()
    # same workload with fewer staff: higher productivity, lower personnel spending
    assert (b.productivite.sel(year=slice(2018, 2022)) > a.productivite.sel(year=slice(2018, 2022))).all()
    assert (b.depenses_limitatives.sel(year=slice(2018, 2022)) < a.depenses_limitatives.sel(year=slice(2018, 2022))).all()


def test_rmpp_cadrage_gap_and_aggregates():
    ds = run_scenario("scenarios/cog_2018_2022.toml", deterministic=True, write=False).dataset
    gap = ds.ecart_rmpp_cadrage.sel(year=2019)
    np.testing.assert_allclose(gap.values, (ds.rmpp.sel(year=2019) - 1.5).values)
    assert np.isnan(ds.rmpp_cadrage.sel(year=2015))  # no cadrage stated before 2018
    from model.results.dataset import aggregate_values

    orgs = list(ds.organisme.values) + ["regime_general", "total"]
    rmpp = aggregate_values(ds, "rmpp")
    num = ds.masse_presents.sel(organisme=["cnam", "cnaf", "cnav", "acoss"]).sum("organisme")
    den = ds.masse_presents_prec.sel(organisme=["cnam", "cnaf", "cnav", "acoss"]).sum("organisme")
    rg = orgs.index("regime_general")
    np.testing.assert_allclose(rmpp[1:, rg, 0], (100 * (num / den - 1)).values[1:, 0], rtol=1e-12)
    smpt = aggregate_values(ds, "smpt")
    np.testing.assert_allclose(smpt[:, orgs.index("total"), 0],
                               (ds.masse_salariale.sum("organisme") * 1e6 / ds.etpma.sum("organisme"))[:, 0])


@pytest.mark.slow
def test_deterministic_is_the_mean_of_stochastic_for_money(cog_sans_incertitude):
    det = run_scenario("scenarios/cog_2018_2022.toml", deterministic=True, write=False).dataset
    sto = run_scenario(cog_sans_incertitude, replicates=1000, write=False).dataset  # the dice only
    for k in ("masse_salariale", "depenses_personnel"):
        m = sto[k].mean("replicate")
        se = sto[k].std("replicate") / np.sqrt(sto.sizes["replicate"])
        d = det[k].isel(replicate=0)
        # within 5 standard errors, or 0.05 % (the binomial approximation's bias), whichever is larger
        tol = np.maximum(5 * se, 5e-4 * abs(d))
        assert (abs(m - d) <= tol).all(), k
