"""Layer 4: the ETPMA worked examples of the source document's footnote (section 5.2.2): each person
counts quotité x fraction of the year present — a full-timer hired on 1 July counts 0.5, a 4/5
part-timer present all year 0.8."""

from __future__ import annotations

import pytest

from conftest import d
from model.params.calendrier import HORIZON_DEFAUT
from model.engine.simulation import simulate
from model.results.dataset import build_dataset

# the default horizon (2013-2022) the tests' fixtures are built on
ANNEES = HORIZON_DEFAUT.annees

MODES = ["deterministic", "stochastic"]


def _yearly(par, etat, mode, org):
    tr = simulate(par, etat, mode=mode, seed=5)
    return build_dataset(tr, par).isel(replicate=0).sel(organisme=org)


@pytest.mark.parametrize("mode", MODES)
def test_four_fifths_part_timer_present_all_year_counts_0_8(make_par, make_etat, mode):
    etat = make_etat({("cnav", "cdi", 40): (1, 0.8)})
    ds = _yearly(make_par(), etat, mode, "cnav")
    assert ds["etpma"].values.tolist() == pytest.approx([0.8] * len(ANNEES), abs=1e-12)
    assert ds["etpma_cdi"].values.tolist() == pytest.approx([0.8] * len(ANNEES), abs=1e-12)
    assert ds["etpma_cdd"].values.tolist() == [0.0] * len(ANNEES)
    assert ds["effectif_31dec"].values.tolist() == [1.0] * len(ANNEES)
    assert ds["age_moyen"].sel(year=2022).item() == pytest.approx(50.5)  # 40 in 2012, +10 years, +0.5 exact


@pytest.mark.parametrize("mode", MODES)
def test_full_timer_transferred_in_on_1_july_counts_0_5(make_par, make_etat, mode):
    # one full-time ex-RSI agent moves to the CNAM with the GIE SI on 2019-07-01
    etat = make_etat({("rsi", "cdi", 40): (1, 1.0)})
    par = make_par({"transfert_rsi.effectif_gie": 1.0,
                    "transfert_rsi.repartition_gie": {"cnam": 1.0, "cnav": 0.0, "acoss": 0.0}})
    assert par["transfert_rsi.date_gie"] == d(2019, 7)
    cnam = _yearly(par, etat, mode, "cnam")
    rsi = _yearly(par, etat, mode, "rsi")
    assert cnam["etpma"].sel(year=2019).item() == pytest.approx(0.5, abs=1e-12)
    assert rsi["etpma"].sel(year=2019).item() == pytest.approx(0.5, abs=1e-12)
    assert cnam["etpma"].sel(year=2018).item() == 0.0
    assert cnam["etpma"].sel(year=2020).item() == pytest.approx(1.0, abs=1e-12)
    assert rsi["etpma"].sel(year=2020).item() == 0.0


@pytest.mark.parametrize("mode", MODES)
def test_full_timer_hired_on_1_july_counts_0_5(make_par, make_etat, mode):
    # a full-timer aged 63 in 2012 reaches the age limit (70) on 1 January 2019 and retires; with every
    # departure replaced after 6 months, a full-time entrant arrives on 1 July 2019
    etat = make_etat({("cnav", "cdi", 63): (1, 1.0)})
    par = make_par({"organismes.cnav.taux_remplacement": 1.0, "organismes.cnav.delai_recrutement": 6})
    assert par["departs.age_limite"] == 70 and par["recrutement.quotite_entrants"] == 1.0
    ds = _yearly(par, etat, mode, "cnav")
    assert ds["etpma"].sel(year=2018).item() == pytest.approx(1.0, abs=1e-12)
    assert ds["departs_retraite"].sel(year=2019).item() == pytest.approx(1.0)
    assert ds["recrutements"].sel(year=2019).item() == pytest.approx(1.0)
    assert ds["etpma"].sel(year=2019).item() == pytest.approx(0.5, abs=1e-12)
    assert ds["etpma"].sel(year=2020).item() == pytest.approx(1.0, abs=1e-12)
    assert ds["departs_retraite"].sum().item() == pytest.approx(1.0)
    assert ds["recrutements"].sum().item() == pytest.approx(1.0)


@pytest.mark.parametrize("mode", MODES)
def test_leaver_on_1_january_counts_nothing_that_year(make_par, make_etat, mode):
    # "people leave on the 1st and are absent that month": retired at the age limit on 1 January 2016
    etat = make_etat({("acoss", "cdi", 66): (2, 1.8)})
    ds = _yearly(make_par(), etat, mode, "acoss")
    assert ds["etpma"].values.tolist() == pytest.approx([1.8, 1.8, 1.8, 0, 0, 0, 0, 0, 0, 0], abs=1e-12)
    assert ds["departs_retraite"].sel(year=2016).item() == pytest.approx(2.0)
