"""How a caisse manages under a ceiling (issue 14): replacement of retirements (policy) and of the other
exits (behaviour), the aim at the ceiling less the execution margin, CDD as the margin, freezes, and
ceilings stated as a change from a base year that move with the perimeter. Tiny deterministic cases
whose expected values are computed by hand."""

from __future__ import annotations

import numpy as np
import pytest

from conftest import d, gel
from model.engine.simulation import simulate
from model.results.dataset import build_dataset

CNAV = 2  # index of the cnav in ORGANISMES


def _run(make_par, make_etat, cells, **changes):
    top = ("gels_recrutement", "mutualisations")
    par = make_par({f"organismes.cnav.{k}" if "." not in k and k not in top else k: v for k, v in changes.items()})
    tr = simulate(par, make_etat(cells), mode="deterministic")
    return tr, build_dataset(tr, par).isel(replicate=0).sel(organisme="cnav")


# ----------------------------------------------------------------------------- replacement
def test_replacement_rates_apply_to_retirements_and_to_other_exits_apart(make_par, make_etat):
    """100 agents at the age limit retire on 1 January 2013; 1 000 agents aged 40 leave at 12 %/yr
    (1 %/month). Retirements are replaced at 0.5, the other exits at 0.2, the same month: the month's
    CDI hires are 0.5 x its retirements + 0.2 x its other exits."""
    cells = {("cnav", "cdi", 69): (100, 100.0), ("cnav", "cdi", 40): (1000, 1000.0)}
    tr, ds = _run(make_par, make_etat, cells, taux_remplacement=0.5, taux_remplacement_autres_departs=0.2,
                 taux_autres_departs=0.12, delai_recrutement=0,
                 **{"departs.profil_age_autres_departs": ((15.0, 1.0), (75.0, 1.0))})
    ret = tr.flux["departs_retraite"][:, 0, CNAV]
    aut = tr.flux["departs_autres"][:, 0, CNAV] - tr.flux["fins_cdd"][:, 0, CNAV]
    cdi_hires = tr.flux["recrutements"][:, 0, CNAV] - tr.flux["recrutements_cdd"][:, 0, CNAV]
    assert ret[0] == pytest.approx(100.0)  # the age limit, January 2013
    assert aut[0] > 0 and ret[1:].sum() == 0.0
    np.testing.assert_allclose(cdi_hires, 0.5 * ret + 0.2 * aut, rtol=1e-12)
    # the Dataset's CDI hires and apparent replacement ratio (CDI hires per retirement; none without one)
    assert float(ds["recrutements_cdi"].sel(year=2013)) == pytest.approx(cdi_hires[:12].sum())
    assert float(ds["taux_remplacement_apparent"].sel(year=2013)) == pytest.approx(cdi_hires[:12].sum() / 100.0)
    assert np.isnan(ds["taux_remplacement_apparent"].sel(year=2014))


def test_replacement_follows_the_recruitment_delay(make_par, make_etat):
    """With a 3-month delay, the hires of month t replace the departures of month t - 3 (before 2013, the
    first month's departures stand for each month of late 2012)."""
    cells = {("cnav", "cdi", 40): (1200, 1200.0)}
    tr, _ = _run(make_par, make_etat, cells, taux_remplacement=1.0, taux_remplacement_autres_departs=0.5,
                 taux_autres_departs=0.1, delai_recrutement=3)
    aut = tr.flux["departs_autres"][:, 0, CNAV]
    hires = tr.flux["recrutements"][:, 0, CNAV]
    np.testing.assert_allclose(hires[3:], 0.5 * aut[:-3], rtol=1e-12)
    np.testing.assert_allclose(hires[:3], 0.5 * aut[0], rtol=1e-12)


# ----------------------------------------------------------------------------- the ceiling
def test_recruitment_tracks_the_ceiling_less_its_margin(make_par, make_etat):
    """A large hiring demand under a flat ceiling of 1 000 with a 5 % execution margin, from 800 agents:
    the CDI are hired up to the aim, 950; meanwhile CDD bridge the gap the month's CDI hires leave, never
    above the ceiling, and are not renewed once the CDI reach the aim, so the ETPMA settles at the aim."""
    cells = {("cnav", "cdi", 40): (800, 800.0)}
    tr, ds = _run(make_par, make_etat, cells, recrutements_supplementaires=600.0, plafond_emplois=1000.0,
                  marge_plafond=0.05, taux_autres_departs=0.05, taux_remplacement=1.0, delai_recrutement=0)
    assert float((tr.etp_cdi + tr.etp_cdd)[:, 0, CNAV].max()) <= 1000.0 + 1e-9  # the ceiling, every month
    assert float(ds["etpma_cdi"].max()) <= 950.0 + 1e-9  # the CDI never pass the aim
    assert float(ds["etpma_cdd"].sel(year=2013)) > 0  # the bridge
    np.testing.assert_allclose(ds["etpma"].sel(year=slice(2020, 2022)).values, 950.0, rtol=2e-3)
    assert float(ds["saturation"].sel(year=2022)) == pytest.approx(0.95, rel=2e-3)


def test_cdd_absorb_the_gap_between_the_cdi_and_the_aim(make_par, make_etat):
    """CDI leave at 12 %/yr and nobody is replaced on CDI; under a ceiling of 1 000 (no margin) the CDD
    close the gap, month after month, up to their cap (part_cdd_max of the aim): the ETPMA holds at the
    ceiling while the CDD share allows it, then falls with the CDI."""
    cells = {("cnav", "cdi", 40): (1000, 1000.0)}
    _, ds = _run(make_par, make_etat, cells, plafond_emplois=1000.0, marge_plafond=0.0, comblement_cdd=0.5,
                 part_cdd_max=0.2, taux_autres_departs=0.12, taux_renouvellement_cdd=1.0,
                 duree_moyenne_cdd=12.0, delai_recrutement=0)
    cdd = ds["etpma_cdd"].values
    assert cdd[0] > 0 and np.all(np.diff(cdd[:2]) > 0)  # CDD are hired as the CDI fall
    assert float(ds["etpma"].sel(year=2014)) == pytest.approx(1000.0, rel=0.01)
    assert float(cdd.max()) <= 0.2 * 1000.0 + 1e-6  # never above their cap
    # once the cap binds the ceiling is under-used: the CDI keep falling
    assert float(ds["etpma"].sel(year=2022)) < 0.9 * 1000.0
    assert float(ds["etpma_cdd"].sel(year=2022)) == pytest.approx(200.0, rel=0.02)


def test_without_a_ceiling_the_cdd_are_only_renewed(make_par, make_etat):
    cells = {("cnav", "cdi", 40): (1000, 1000.0), ("cnav", "cdd", 30): (50, 50.0)}
    _, ds = _run(make_par, make_etat, cells, comblement_cdd=0.5, taux_autres_departs=0.12,
                 taux_renouvellement_cdd=1.0, duree_moyenne_cdd=12.0, delai_recrutement=0)
    np.testing.assert_allclose(ds["etpma_cdd"].values, 50.0, rtol=1e-9)


def test_a_freeze_of_cdi_hires_leaves_the_cdd_margin(make_par, make_etat):
    """A CDI freeze under a ceiling: the CDI hires stop, the CDD close the gap (the caisses' margin), so
    the ETPMA holds; a freeze of every contract stops both."""
    cells = {("cnav", "cdi", 40): (1000, 1000.0)}
    common = dict(plafond_emplois=1000.0, marge_plafond=0.0, comblement_cdd=0.5, part_cdd_max=0.3,
                  taux_autres_departs=0.12, taux_remplacement=1.0, taux_remplacement_autres_departs=1.0,
                  taux_renouvellement_cdd=1.0, duree_moyenne_cdd=12.0, delai_recrutement=0)
    _, free = _run(make_par, make_etat, cells, **common)
    _, cdi = _run(make_par, make_etat, cells, gels_recrutement=(gel("g", "cnav", d(2016, 1), d(2018, 1), "cdi"),),
                  **common)
    _, tous = _run(make_par, make_etat, cells, gels_recrutement=(gel("g", "cnav", d(2016, 1), d(2018, 1), "tous"),),
                   **common)
    y = dict(year=2017)
    assert float(cdi["etpma_cdi"].sel(**y)) < float(free["etpma_cdi"].sel(**y)) - 50
    assert float(cdi["etpma_cdd"].sel(**y)) > float(free["etpma_cdd"].sel(**y)) + 50
    assert float(cdi["etpma"].sel(**y)) == pytest.approx(float(free["etpma"].sel(**y)), rel=0.01)
    assert float(tous["etpma"].sel(**y)) < float(cdi["etpma"].sel(**y)) - 50
    assert float(tous["recrutements"].sel(**y)) == 0.0


# ----------------------------------------------------------------------------- ceilings as changes
def test_a_ceiling_stated_as_a_change_from_the_base_year(make_par, make_etat):
    """plafond_annee_base = 2015, plafond_variation = -100 from 2016: the ceiling of 2016-2022 is the
    simulated ETPMA of 2015 minus 100, recorded in the Dataset."""
    cells = {("cnav", "cdi", 40): (1000, 1000.0)}
    _, ds = _run(make_par, make_etat, cells, plafond_annee_base=2015, plafond_variation=-100.0,
                 recrutements_supplementaires=200.0, taux_autres_departs=0.1)
    e2015 = float(ds["etpma"].sel(year=2015))
    assert e2015 > 1100  # 200 extra hires a year for about 100 exits, no ceiling before 2016
    assert np.isnan(ds["plafond_emplois"].sel(year=slice(2013, 2015)).values).all()
    np.testing.assert_allclose(ds["plafond_emplois"].sel(year=slice(2016, 2022)).values, e2015 - 100.0, rtol=1e-12)
    # the ceiling caps hires, it does not dismiss: the staff falls to it through the exits
    assert float(ds["etpma"].sel(year=2016)) > e2015 - 100.0
    np.testing.assert_allclose(ds["etpma"].sel(year=slice(2019, 2022)).values, e2015 - 100.0, rtol=2e-3)


def test_staff_received_in_a_transfer_raise_the_receiving_ceiling(make_par, make_etat):
    """The ex-RSI bulk transfer of 1 January 2020 brings staff to the cnav, whose ceiling is a change from
    2017: its ceiling rises by the ETP received, whole from 2020 (the transfer's first month)."""
    cells = {("cnav", "cdi", 40): (1000, 1000.0), ("rsi", "cdi", 40): (300, 300.0)}
    common = dict(plafond_annee_base=2017, plafond_variation=-50.0)
    par = make_par({**{f"organismes.cnav.{k}": v for k, v in common.items()},
                    "transfert_rsi.repartition": {"cnam": 0.0, "cnav": 1.0, "acoss": 0.0},
                    "transfert_rsi.effectif_gie": 0.0})
    tr = simulate(par, make_etat(cells), mode="deterministic")
    ds = build_dataset(tr, par).isel(replicate=0).sel(organisme="cnav")
    recu = float(tr.flux_etp["transferts_entrants"][:, 0, CNAV].sum())
    assert recu == pytest.approx(300.0)
    plafond = ds["plafond_emplois"]
    assert float(plafond.sel(year=2019)) == pytest.approx(1000.0 - 50.0)
    np.testing.assert_allclose(plafond.sel(year=slice(2020, 2022)).values, 1000.0 - 50.0 + recu, rtol=1e-12)
