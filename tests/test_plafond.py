"""The plafond d'emplois (ETPMA ceiling): hires are capped so that the year's ETPMA stays under it; the
saturation variable and its régime général / total aggregates."""

from __future__ import annotations

import numpy as np
import pytest

from model.engine.simulation import simulate
from model.results.dataset import aggregate_values, build_dataset

PLAFOND = 110.0


def _cnav(make_par, make_etat, mode, **changes):
    """cnav: 100 full-timers aged 40, other exits 10 %/yr, replaced the same month; ceiling 110 ETPMA."""
    etat = make_etat({("cnav", "cdi", 40): (100, 100.0)})
    ch = {"organismes.cnav.taux_autres_departs": 0.1, "organismes.cnav.delai_recrutement": 0,
          "organismes.cnav.taux_remplacement": 1.0, "organismes.cnav.plafond_emplois": PLAFOND}
    ch.update({f"organismes.cnav.{k}": v for k, v in changes.items()})
    par = make_par(ch)
    tr = simulate(par, etat, mode=mode, seed=1)
    return tr, build_dataset(tr, par).isel(replicate=0).sel(organisme="cnav")


@pytest.mark.parametrize("mode", ["deterministic", "stochastic"])
def test_ceiling_caps_a_large_hiring_demand(make_par, make_etat, mode):
    # 600 extra hires a year wanted: the ceiling is what stops them
    tr, ds = _cnav(make_par, make_etat, mode, recrutements_supplementaires=600.0)
    assert float(ds["etpma"].max()) <= PLAFOND + 1e-9
    if mode == "deterministic":
        np.testing.assert_allclose(ds["etpma"].values, PLAFOND)
    else:  # whole persons: at most one full-timer below the ceiling
        assert float(ds["etpma"].min()) >= PLAFOND - 1
    np.testing.assert_allclose(ds["saturation"].values, ds["etpma"].values / PLAFOND)
    assert ds["recrutements"].sum() < 600 * 10 / 4


@pytest.mark.parametrize("mode", ["deterministic", "stochastic"])
def test_year_starting_under_the_ceiling_stays_under_it(make_par, make_etat, mode):
    _, ds = _cnav(make_par, make_etat, mode, taux_remplacement=3.0)
    # 2013 starts at 100 ETP < 110: the rule keeps the year's ETPMA at or under the ceiling
    assert ds["etpma"].sel(year=2013).item() <= PLAFOND + 1e-9


@pytest.mark.parametrize("mode", ["deterministic", "stochastic"])
def test_constant_ceiling_is_never_exceeded(make_par, make_etat, mode):
    _, ds = _cnav(make_par, make_etat, mode, taux_remplacement=3.0)
    assert float(ds["etpma"].max()) <= PLAFOND + 1e-9


def test_saturation_aggregates(cog, cog_etat0):
    par = cog.parametres
    ds = build_dataset(simulate(par, cog_etat0, mode="deterministic"), par)
    sat = aggregate_values(ds, "saturation")[..., 0]  # (year, 6 organismes + régime général + total)
    etpma = ds["etpma"].isel(replicate=0).values
    plafond = ds["plafond_emplois"].values
    years = list(ds["year"].values)
    rg = [0, 1, 2, 3]
    for i, y in enumerate(years):
        if y < 2018:  # no ceiling for the régime général before the COG 2018-2022
            assert np.isnan(sat[i, 6])
        else:
            assert sat[i, 6] == pytest.approx(etpma[i, rg].sum() / plafond[i, rg].sum())
        # the ex-RSI has staff and no ceiling until 2019: the total is undefined; empty afterwards: defined
        if y <= 2019:
            assert np.isnan(sat[i, 7])
        else:
            assert sat[i, 7] == pytest.approx(etpma[i].sum() / np.nansum(plafond[i]))
