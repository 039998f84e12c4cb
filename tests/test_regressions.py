"""Regressions: two plausible bugs that once survived the suite, and golden values of the shipped scenarios.

1. The legal retirement age by generation (``departs.age_legal_par_generation``) is looked up with the
   year of birth ``year − age attained in the year``. An off-by-one there (the generation before or
   after) moved CNAF's 2015 retirements from 982 to 1 136 and no test failed. Checked here against the
   law directly (the catalogue's table, then the age the engine applies to each generation, read back
   from a tiny run), and end to end (January 2013 retirements of the default scenario by hand from the
   initial pyramid).
2. The backlog's processing delay is Little's law, mean stock / mean *throughput*; computed from the
   inflow instead, nothing failed because the shipped scenarios keep stocks stable (inflow ≈
   throughput). Checked on a backlog that grows then drains, by hand.
3. Golden values (``tests/golden/scenarios.json``): key outputs of the shipped scenarios at their own
   seed, deterministic and stochastic, at the file's relative tolerance (1e-6). After an intended change
   of results, run ``python tests/golden/update.py`` and explain the change in the commit message.
"""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

from conftest import by_year
from golden import update as golden
from model.engine.simulation import simulate
from model.params.calendrier import AGES, CONTRATS, HORIZON_DEFAUT, ORGANISMES
from model.params.scenario import default_parametres
from model.service.dossiers import JOURS_PAR_MOIS, backlog

# the default horizon (2013-2022) the tests' fixtures are built on
ANNEES = HORIZON_DEFAUT.annees

# ----------------------------------------------------------------------------- legal retirement age
# Loi 2010-1330 du 9 novembre 2010 (art. 18, code de la sécurité sociale L.161-17-2) as accelerated by
# LFSS 2012 art. 88 (décret 2011-2034): 60 for those born before 1 July 1951, 60 y 4 m for those born
# from 1 July to 31 December 1951, 60 y 9 m for 1952, 61 y 2 m for 1953, 61 y 7 m for 1954, 62 from 1955.
# One value per year of birth: the 1951 generation is half at 60 and half at 60 y 4 m.
AGE_LEGAL_LOI = {
    1950: 60.0,
    1951: (60.0 + (60.0 + 4 / 12)) / 2,
    1952: 60.0 + 9 / 12,
    1953: 61.0 + 2 / 12,
    1954: 61.0 + 7 / 12,
    1955: 62.0,
}
ARRONDI_CATALOGUE = 1e-4  # the catalogue writes the ages with four decimals (60.1667 for 60 y 2 m)


def age_legal_loi(naissance: int) -> float:
    """The legal age of a year of birth: 60 before 1951, 62 from 1955."""
    return AGE_LEGAL_LOI[min(max(naissance, 1950), 1955)]


@pytest.mark.parametrize("source", ["catalogue", "scenario"])
def test_the_legal_age_table_is_the_law(source, cog):
    par = default_parametres() if source == "catalogue" else cog.parametres
    keys, values = par.table("departs.age_legal_par_generation")
    assert dict(zip(keys.astype(int).tolist(), values.tolist())) == pytest.approx(AGE_LEGAL_LOI, abs=ARRONDI_CATALOGUE)
    # constant outside the listed generations (np.interp, as the engine and the catalogue's source say)
    assert np.interp([1930, 1949, 1956, 1990], keys, values).tolist() == [60.0, 60.0, 62.0, 62.0]


# a retirement hazard linear in the distance to the legal age, h = (d + 20) / 40: the number of
# retirements of a generation in a year tells the engine's distance d = age − legal age, hence the legal
# age it applied
HAZARD_LINEAIRE = ((-20.0, 0.0), (20.0, 1.0))
GROUPES_DE_GENERATIONS = [
    (1949, 1950, 1951, 1952, 1953),  # 60 up to 1950; the first rises
    (1954, 1955, 1956, 1958, 1962),  # the last rise (1955) and the constant 62 after it
]


def ages_legaux_du_moteur(make_par, make_etat, naissances) -> dict[tuple[int, int], float]:
    """{(year of birth, year): legal age applied by the engine}, one generation of 1 000 CDI per
    organisme, every other flow switched off, deterministic."""
    orgs = ORGANISMES[:len(naissances)]
    assert "rsi" not in orgs  # the ex-RSI's staff is transferred in 2019-2020
    n0 = 1000.0
    etat = make_etat({(o, "cdi", 2012 - b): (n0, n0) for o, b in zip(orgs, naissances)})
    par = make_par({"departs.hazard_retraite": HAZARD_LINEAIRE})
    tr = simulate(par, etat, mode="deterministic")
    retraites = tr.flux["departs_retraite"][:, 0].reshape(len(ANNEES), 12, -1).sum(1)  # (year, organisme)
    vus = {}
    for o, b in zip(orgs, naissances):
        i, n = ORGANISMES.index(o), n0
        for y, annee in enumerate(ANNEES):
            age = annee - b  # age attained in the year
            if age >= par["departs.age_limite"]:  # retired on 1 January by the age limit, whatever the hazard
                break
            h = retraites[y, i] / n  # no other exit: 12 months at 1 − (1 − h)^(1/12) leave h of the January stock
            vus[(b, annee)] = age - (40.0 * h - 20.0)
            n -= retraites[y, i]
    return vus


@pytest.mark.parametrize("naissances", GROUPES_DE_GENERATIONS, ids=lambda g: f"{g[0]}-{g[-1]}")
def test_the_engine_applies_each_generations_legal_age(make_par, make_etat, naissances):
    vus = ages_legaux_du_moteur(make_par, make_etat, naissances)
    assert {b for b, _ in vus} == set(naissances)
    faux = {k: (round(v, 4), round(age_legal_loi(k[0]), 4)) for k, v in vus.items()
            if abs(v - age_legal_loi(k[0])) > ARRONDI_CATALOGUE}
    assert not faux, f"(year of birth, year): (legal age applied, legal age of the law): {faux}"


def test_january_2013_retirements_of_the_default_scenario_by_hand(cog, cog_etat0):
    """Month 0 (January 2013) of the default scenario, deterministic, against the initial pyramid: on
    1 January everybody gets one year older and those reaching the age limit (70) retire (CDI and CDD);
    then each CDI of age a (attained in 2013, born in 2012 − age in 2012) retires with the monthly
    probability 1 − (1 − h)^(1/12), h the annual hazard at a − legal age of the generation (the law)."""
    par = cog.parametres
    tr = simulate(par, cog_etat0, mode="deterministic")
    kh, vh = par.table("departs.hazard_retraite")
    limite = par["departs.age_limite"]
    n = cog_etat0.effectif  # (organisme, contrat, age attained in 2012)
    age_2012 = np.array(AGES)
    age = age_2012 + 1
    naissance = 2012 - age_2012
    legal = np.array([age_legal_loi(b) for b in naissance])
    h = np.clip(np.interp(age - legal, kh, vh, left=0.0, right=vh[-1]), 0.0, 1.0)
    p = 1.0 - (1.0 - h) ** (1.0 / 12.0)
    a_la_limite = n[:, :, age >= limite].sum((1, 2))
    au_taux = (n[:, CONTRATS.index("cdi")] * np.where(age < limite, p, 0.0)).sum(-1)
    attendu = a_la_limite + au_taux
    assert au_taux.sum() > 100  # (the reconstructed pyramid has nobody aged 69 or more in 2012)
    # the catalogue rounds the legal ages to 1e-4 year: a relative gap of ~1e-6 on the count
    assert tr.flux["departs_retraite"][0, 0] == pytest.approx(attendu, rel=1e-5)


# ----------------------------------------------------------------------------- backlog delay
def test_backlog_delay_is_stock_over_throughput_not_inflow():
    """A backlog that grows for five years then drains for five, by hand.

    Every month 10 units arrive (120 a year, flat seasonality); the capacity is 8 a month in 2013-2017
    (96 ETPMA, nobody absent or on the phone, one unit per ETPMA-year) and 12 a month in 2018-2022; no
    incompressible delay, so the stock starts at 0 and its month-end values are 2, 4, ..., 120 (end of
    2017), then 118, ..., 0 (end of 2022). Year y ≤ 2017 (k = y − 2013): mean stock 24 k + 13,
    throughput 8 a month; year y ≥ 2018 (k = y − 2018): mean stock 107 − 24 k, throughput 12 a month.
    Little's law: delay = mean stock / monthly throughput (months), × 365.25/12 days. The inflow (10 a
    month) is never the throughput, so a delay computed from it is wrong every year.
    """
    plat = tuple((m, 1.0) for m in range(1, 13))
    changes = {"service.saisonnalite_charge": plat, "service.profil_capacite": plat}
    for o in ORGANISMES:
        changes[f"organismes.{o}.taux_absenteisme"] = by_year(0.0)
        changes[f"organismes.{o}.part_telephonie"] = by_year(0.0)
        changes[f"organismes.{o}.part_entraide_pretee"] = by_year(0.0)
        changes[f"organismes.{o}.delai_incompressible"] = 0.0
    par = default_parametres().with_values(changes)
    Y, O, R = len(ANNEES), len(ORGANISMES), 2
    coords = {"year": list(ANNEES), "organisme": list(ORGANISMES)}
    etpma = xr.DataArray(np.broadcast_to(np.repeat([96.0, 144.0], 5)[:, None, None], (Y, O, R)).copy(),
                         coords={**coords, "replicate": list(range(R))}, dims=("year", "organisme", "replicate"))
    charge = xr.DataArray(np.full((Y, O), 120.0), coords=coords, dims=("year", "organisme"))
    productivite = xr.DataArray(np.ones((Y, O)), coords=coords, dims=("year", "organisme"))

    b = backlog(etpma, par, charge, productivite)

    k = np.arange(5.0)
    stock = np.concatenate([24 * k + 13, 107 - 24 * k])
    debit = np.repeat([8.0, 12.0], 5)  # per month
    monthly = np.concatenate([2.0 * np.arange(1, 61), 120.0 - 2.0 * np.arange(1, 61)])
    assert b["monthly"][:, :, :] == pytest.approx(np.broadcast_to(monthly[:, None, None], (12 * Y, O, R)), abs=1e-9)
    assert b["stock"] == pytest.approx(np.broadcast_to(stock[:, None, None], (Y, O, R)), rel=1e-12)
    assert b["traites"] == pytest.approx(np.broadcast_to(12 * debit[:, None, None], (Y, O, R)), rel=1e-12)
    delai = stock / debit * JOURS_PAR_MOIS
    assert delai[0] == pytest.approx(49.4609375) and delai[9] == pytest.approx(11 / 12 * 30.4375)  # 13/8 and 11/12 months
    assert b["delai"] == pytest.approx(np.broadcast_to(delai[:, None, None], (Y, O, R)), rel=1e-12)


# ----------------------------------------------------------------------------- golden values
ACCEPTER = ("If the change of results is intended, run `python tests/golden/update.py` (it rewrites "
            "tests/golden/scenarios.json and prints what moved) and explain each change in the commit message.")


@pytest.fixture(scope="session")
def golden_document():
    return golden.read()


@pytest.fixture(scope="session")
def golden_actual():
    """The golden figures of this code: 5 runs (the default scenario deterministic and stochastic at its
    seed, the 3 others deterministic), about 5 s."""
    return golden.golden_values()


def test_golden_file_states_its_tolerance(golden_document):
    assert golden_document["relative_tolerance"] == golden.RELATIVE_TOLERANCE == 1e-6
    assert set(golden_document["values"]) == {f"{golden.COG} deterministic", f"{golden.COG} stochastic"} | {
        f"{p.stem} deterministic" for p in golden.SCENARIOS.glob("*.toml") if p.stem != golden.COG}


@pytest.mark.parametrize("run", ["deterministic", "stochastic"])
def test_golden_values_of_the_default_scenario(golden_document, golden_actual, run):
    key = f"{golden.COG} {run}"
    diff = golden.differences({key: golden_document["values"][key]}, {key: golden_actual[key]},
                              golden_document["relative_tolerance"], golden_document["absolute_tolerance"])
    assert not diff, "figures moved (numpy %s, golden made with numpy %s):\n%s\n%s" % (
        np.__version__, golden_document["numpy"], "\n".join(diff), ACCEPTER)


def test_golden_values_of_the_other_scenarios(golden_document, golden_actual):
    keys = [k for k in golden_document["values"] if not k.startswith(f"{golden.COG} ")]
    diff = golden.differences({k: golden_document["values"][k] for k in keys}, {k: golden_actual.get(k, {}) for k in keys},
                              golden_document["relative_tolerance"], golden_document["absolute_tolerance"])
    assert not diff, "figures moved:\n%s\n%s" % ("\n".join(diff), ACCEPTER)


def test_golden_comparison_sees_a_small_change(golden_document):
    """The comparison itself: a change of 1e-5 relative on one figure is reported, 1e-7 is not."""
    values = golden_document["values"]
    moved = {k: dict(v) for k, v in values.items()}
    key = f"{golden.COG} deterministic"
    moved[key]["departs_retraite|cnaf|2015"] *= 1 + 1e-5
    assert golden.differences(values, moved, 1e-6, 1e-9) == [
        f"{key}: departs_retraite|cnaf|2015 = {moved[key]['departs_retraite|cnaf|2015']!r}, golden "
        f"{values[key]['departs_retraite|cnaf|2015']!r} (+1.000e-05 relative)"]
    moved[key]["departs_retraite|cnaf|2015"] = values[key]["departs_retraite|cnaf|2015"] * (1 + 1e-7)
    assert golden.differences(values, moved, 1e-6, 1e-9) == []
