"""Workload drivers (model/params/inducteurs.py, model/budget/productivite.py): the workload follows named,
sourced drivers that a scenario changes (by year, or by dated shocks) and that stochastic replicates draw
within their stated ranges.

- a volume shock (+10 % allocataires CNAF from 2020) moves the CNAF workload by 1.1^elasticity, raises its
  productivity, lowers its unit cost and lengthens its backlog and delays, from 2020 only, and nothing else;
- the catalogue declares each driver with its elasticity and range, sourced, the reconstructed ones estimated;
- the draws are reproducible, the same in blocks and across the points of a lot (common random numbers),
  within the stated ranges, never in the history, and absent from a deterministic run;
- bad driver values in a scenario are refused with the file, the key and what is allowed (exit 2).
"""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from model.budget import productivite as P
from model.params import inducteurs as I
from model.params.calendrier import HORIZON_DEFAUT, ORGANISMES
from model.params.catalogue import load_catalogue
from model.params import incertitude
from model.params.incertitude import loi_calibree, tirages
from model.params.parametres import ParametresLot
from model.params.scenario import check_scenarios, default_parametres
from model.results.run import run_scenario

ROOT = Path(__file__).resolve().parent.parent
COG = ROOT / "scenarios" / "cog_2018_2022.toml"
# the default horizon (2013-2022) the tests' fixtures are built on
ANNEES = HORIZON_DEFAUT.annees
AVANT = [y for y in ANNEES if y < 2020]
APRES = [y for y in ANNEES if y >= 2020]


@pytest.fixture(scope="module")
def par():
    return default_parametres()


def scenario(tmp_path: Path, corps: str, nom: str = "choc.toml") -> Path:
    f = tmp_path / nom
    f.write_text(f'[scenario]\ntitle = "test"\nbaseline = "{COG}"\n\n{corps}', encoding="utf-8")
    return f


CHOC = """[[chocs_inducteurs]]
nom = "allocataires_plus_10"
inducteur = "cnaf_allocataires"
debut = 2020-01-01
variation = 0.1
"""


# ----------------------------------------------------------------------------- the catalogue
def test_every_driver_is_declared_with_elasticity_range_and_source():
    cat = load_catalogue()
    noms = I.noms_inducteurs()
    assert {I.organisme_inducteur(n) for n in noms} == set(ORGANISMES)
    for n in noms:
        serie = cat[f"{I.SECTION}.{n}"]
        assert serie.by_year and serie.unit and serie.source.strip() and serie.min == 0
        for section in (I.ELASTICITES, I.PLAGES):
            p = cat[f"{section}.{n}"]
            assert p.source.strip() and p.min == 0 and p.type == "float"
        # a series with no observed value for some year is reconstructed: flagged estimated
        assert serie.estimated
    assert set(cat["chocs_inducteurs"].fields["inducteur"]["choices"]) == set(noms)


def test_sourced_points_of_the_drivers(par):
    # caf_calls_2016: 12.55 M allocataires in 2016, +6.2 %; cnav_prod_chg_2016_2017: production -3 %
    a = par["inducteurs.cnaf_allocataires"]
    assert a[ANNEES.index(2016)] == 12.55
    assert a[ANNEES.index(2016)] / a[ANNEES.index(2015)] == pytest.approx(1.062, abs=1e-4)
    d = par["inducteurs.cnav_demandes_retraite"]
    assert d[ANNEES.index(2017)] / d[ANNEES.index(2016)] == pytest.approx(0.97, abs=1e-4)


# ----------------------------------------------------------------------------- the workload by hand
def test_workload_is_the_drivers_index_times_the_residual(par):
    p = par.with_values({"organismes.cnaf.croissance_charge_travail": np.full(len(ANNEES), 0.01),
                         "elasticites_charge.cnaf_allocataires": 0.5})
    x = p["inducteurs.cnaf_allocataires"]
    ref = ANNEES.index(2018)
    ch = P.charge_travail_propre(p).sel(organisme="cnaf")
    for y in (2014, 2018, 2021):
        i = ANNEES.index(y)
        attendu = (p["organismes.cnaf.charge_travail_reference"] * (x[i] / x[ref]) ** 0.5 * 1.01 ** (y - 2018))
        assert ch.sel(year=y).item() == pytest.approx(attendu, rel=1e-12)


def test_a_dated_shock_ramps_by_month(par):
    base = P.charge_travail_propre(par)
    p = par.with_values({"chocs_inducteurs": ({"nom": "c", "inducteur": "acoss_cotisants",
                                               "debut": dt.date(2020, 7, 1), "variation": 0.2},)})
    ratio = (P.charge_travail_propre(p) / base).sel(organisme="acoss")
    assert ratio.sel(year=2019).item() == pytest.approx(1.0, abs=1e-15)
    assert ratio.sel(year=2020).item() == pytest.approx(1.1, rel=1e-12)   # half the year at +20 %
    assert ratio.sel(year=2021).item() == pytest.approx(1.2, rel=1e-12)
    autres = (P.charge_travail_propre(p) - base).drop_sel(organisme="acoss")
    assert float(abs(autres).max()) == 0.0


def test_new_missions_as_dated_events(par):
    p = par.with_values({"nouvelles_missions": ({"nom": "artistes_auteurs", "organisme": "acoss",
                                                 "debut": dt.date(2019, 1, 1), "charge": 525.0,
                                                 "montee_en_charge_mois": 24},)})
    diff = (P.charge_travail_propre(p) - P.charge_travail_propre(par)).sel(organisme="acoss")
    # months 1..12 of the ramp: mean 6.5/24; months 13..24: mean 18.5/24; then full
    assert diff.sel(year=2018).item() == 0.0
    assert diff.sel(year=2019).item() == pytest.approx(525.0 * 6.5 / 24, rel=1e-12)
    assert diff.sel(year=2020).item() == pytest.approx(525.0 * 18.5 / 24, rel=1e-12)
    assert diff.sel(year=2022).item() == pytest.approx(525.0, rel=1e-12)


def test_a_driver_changed_in_the_reference_year_moves_the_workload(par):
    # the reference level is the catalogue's driver, not the scenario's: a higher path from 2017 on raises
    # the workload in 2017-2022 instead of being normalised away
    x = par["inducteurs.msa_beneficiaires"] * np.where(np.array(ANNEES) >= 2017, 1.05, 1.0)
    p = par.with_values({"inducteurs.msa_beneficiaires": x})
    r = (P.charge_travail_propre(p) / P.charge_travail_propre(par)).sel(organisme="msa")
    assert r.sel(year=2016).item() == pytest.approx(1.0)
    assert r.sel(year=2018).item() == pytest.approx(1.05) and r.sel(year=2022).item() == pytest.approx(1.05)


# ----------------------------------------------------------------------------- a volume shock, end to end
@pytest.fixture(scope="module")
def choc(tmp_path_factory):
    d = tmp_path_factory.mktemp("choc")
    base = run_scenario(COG, write=False, deterministic=True).dataset
    shock = run_scenario(scenario(d, CHOC), write=False, deterministic=True).dataset
    return base, shock


def test_volume_shock_moves_workload_productivity_unit_cost_and_delays(choc, par):
    base, shock = choc
    cnaf = dict(organisme="cnaf")
    assert np.array_equal(base["etpma"].values, shock["etpma"].values)  # staff do not follow (a policy would)
    e = par["elasticites_charge.cnaf_allocataires"]
    r = (shock["charge_travail_etp"] / base["charge_travail_etp"]).sel(**cnaf).mean("replicate")
    assert np.allclose(r.sel(year=AVANT), 1.0, rtol=0, atol=1e-14)
    assert np.allclose(r.sel(year=APRES), 1.1 ** e, rtol=1e-12)
    for var, sens in (("productivite", +1), ("cout_unitaire", -1), ("stock_dossiers", +1), ("delai_traitement", +1)):
        d = (shock[var] - base[var]).sel(**cnaf).mean("replicate")
        assert np.allclose(d.sel(year=AVANT), 0.0, atol=1e-9), var
        assert (sens * d.sel(year=APRES) > 0).all(), (var, d.values)
    pr = (shock["productivite"] / base["productivite"]).sel(**cnaf, year=APRES).mean("replicate")
    assert np.allclose(pr, 1.1 ** e, rtol=1e-12)
    cu = (shock["cout_unitaire"] / base["cout_unitaire"]).sel(**cnaf, year=APRES).mean("replicate")
    # the cost grows a little with the volume (printing and postage follow the workload, model/budget/adf.py):
    # the unit cost falls, by less than the workload rises
    assert ((cu > 1.1 ** -e) & (cu < 1.0)).all()
    ed = (shock["adf_editique"] / base["adf_editique"]).sel(**cnaf, year=APRES).mean("replicate")
    assert np.allclose(ed, 1.1 ** e, rtol=1e-12)
    # the share of CNAF work processed within its COG delay falls
    part = (shock["part_traitee_dans_delai"] - base["part_traitee_dans_delai"]).sel(**cnaf, year=APRES)
    assert (part < 0).all()
    # the other organismes do not move
    autres = [o for o in ORGANISMES if o != "cnaf"]
    for var in ("charge_travail_etp", "productivite", "delai_traitement"):
        np.testing.assert_array_equal(shock[var].sel(organisme=autres).values, base[var].sel(organisme=autres).values)


def test_shock_by_year_equals_the_dated_shock(tmp_path, choc, par):
    x = par["inducteurs.cnaf_allocataires"]
    corps = "[inducteurs]\ncnaf_allocataires = { " + ", ".join(
        f"{y} = {float(x[i] * (1.1 if y >= 2020 else 1.0))!r}" for i, y in enumerate(ANNEES) if y >= 2019) + " }\n"
    par_annee = run_scenario(scenario(tmp_path, corps, "par_annee.toml"), write=False, deterministic=True).dataset
    np.testing.assert_allclose(par_annee["charge_travail_etp"].values, choc[1]["charge_travail_etp"].values, rtol=1e-12)


# ----------------------------------------------------------------------------- the draws
def test_draws_are_reproducible_within_range_and_leave_the_history(par):
    a = I.avec_inducteurs_tires(par, 7, 50)
    b = I.avec_inducteurs_tires(par, 7, 50)
    c = I.avec_inducteurs_tires(par, 8, 50)
    ref = ANNEES.index(par["productivite.annee_reference"])
    for n in I.noms_inducteurs():
        path = f"inducteurs.{n}"
        va, base = a.lot(path), np.asarray(par[path])
        np.testing.assert_array_equal(va, b.lot(path))
        assert not np.array_equal(va, c.lot(path))
        np.testing.assert_array_equal(va[:, :ref + 1], np.broadcast_to(base[:ref + 1], (50, ref + 1)))
        ecart = (va[:, 1:] / va[:, :-1]) / (base[1:] / base[:-1]) - 1.0
        plage = par[f"plages_inducteurs.{n}"]
        assert np.all(np.abs(ecart[:, ref:]) <= plage * (1 + 1e-12))
        assert np.abs(ecart[:, ref:]).max() > 0.8 * plage  # the range is used, not a sliver of it
        # the same departure every projected year (a persistent trend)
        assert np.allclose(ecart[:, ref:], ecart[:, ref:ref + 1])


def test_the_drivers_have_their_own_stream():
    # the engine's flows use 0..6, the fitted parameters and the stated ranges their own keys
    assert I.ID_FLUX not in (incertitude.ID_FLUX, incertitude.ID_FLUX_PLAGES, *range(7))


def test_draws_are_the_same_in_blocks_and_across_points(par):
    tout = I.avec_inducteurs_tires(par, 3, 10)
    bloc = I.avec_inducteurs_tires(par, 3, 4, first=6)
    path = "inducteurs.acoss_cotisants"
    np.testing.assert_array_equal(tout.lot(path)[6:10], bloc.lot(path))
    # two grid points: replicate r draws the same departure at both (common random numbers)
    pts = ParametresLot([par, par.with_values({"plages_inducteurs.cnam_beneficiaires": 0.0})], 5,
                        ["plages_inducteurs.cnam_beneficiaires"])
    lot = I.avec_inducteurs_tires(pts, 3, 5)
    np.testing.assert_array_equal(lot.lot(path)[:5], lot.lot(path)[5:])
    cnam = lot.lot("inducteurs.cnam_beneficiaires")
    assert not np.array_equal(cnam[0], par["inducteurs.cnam_beneficiaires"])
    np.testing.assert_array_equal(cnam[5:], np.broadcast_to(par["inducteurs.cnam_beneficiaires"], (5, len(ANNEES))))


def test_a_shocked_scenario_draws_around_its_own_path(par):
    p = par.with_values({"inducteurs.cnaf_allocataires": par["inducteurs.cnaf_allocataires"] * 1.1})
    a = I.avec_inducteurs_tires(par, 11, 6).lot("inducteurs.cnaf_allocataires")
    b = I.avec_inducteurs_tires(p, 11, 6).lot("inducteurs.cnaf_allocataires")
    np.testing.assert_allclose(b / a, 1.1, rtol=1e-12)


def test_stochastic_runs_draw_the_drivers_deterministic_runs_do_not(par):
    loi = loi_calibree()
    assert tirages(par, "deterministic", 1, 4, loi=loi) is par
    lot = tirages(par, "stochastic", 1, 4, loi=loi)
    assert {f"inducteurs.{n}" for n in I.noms_inducteurs()} <= lot.varies
    # on top of the fitted parameters' draws, which they keep
    assert lot.varies > I.avec_inducteurs_tires(par, 1, 4).varies
    off = par.with_values({"simulation.incertitude_parametres": False})
    assert tirages(off, "stochastic", 1, 4, loi=loi) is off
    assert tirages(par, "stochastic", 1, 4) is par  # no law: no parameter draws at all


def test_drawn_drivers_spread_the_workload_of_a_stochastic_run():
    run = run_scenario(COG, write=False, replicates=8, seed=5)
    ds = run.dataset
    m = run.manifest["incertitude_inducteurs"]
    assert m["tirees"] and m["graine"] == 5 and set(m["plages"]) == set(I.noms_inducteurs())
    assert run_scenario(COG, write=False, deterministic=True).manifest["incertitude_inducteurs"] == {"tirees": False}
    ch = ds["charge_travail_etp"].sel(organisme="cnav")
    # the fitted parameters' draws move the level and the 2017-2018 growth; the drivers' the growth after 2018
    croissance = ch.sel(year=2022) / ch.sel(year=2018)
    assert float(croissance.std("replicate")) > 0.005
    det = run_scenario(COG, write=False, deterministic=True).dataset["charge_travail_etp"].sel(organisme="cnav")
    assert (det.sel(year=2022) / det.sel(year=2018)).item() == pytest.approx(float(croissance.mean()), rel=0.05)


# ----------------------------------------------------------------------------- bad input
def test_bad_driver_values_are_refused(tmp_path):
    f = scenario(tmp_path, '[inducteurs]\ncnaf_allocataires = { 2020 = -1.0 }\ncnaf_alocataires = 3.0\n\n'
                           '[elasticites_charge]\nacoss_cotisants = "un"\n\n'
                           '[[chocs_inducteurs]]\nnom = "x"\ninducteur = "caf"\ndebut = 2020-01-01\nvariation = 0.1\n')
    errors, _ = check_scenarios([f])
    by_key = {e.path: e for e in errors}
    assert set(by_key) == {"inducteurs.cnaf_allocataires.2020", "inducteurs.cnaf_alocataires",
                           "elasticites_charge.acoss_cotisants", "chocs_inducteurs[0].inducteur"}
    assert "[0, 100]" in by_key["inducteurs.cnaf_allocataires.2020"].allowed
    assert "cnaf_allocataires" in by_key["chocs_inducteurs[0].inducteur"].allowed
    r = subprocess.run([sys.executable, "run_scenario.py", "check", str(f)], cwd=ROOT, capture_output=True, text=True,
                       timeout=120)
    assert r.returncode == 2 and "Traceback" not in r.stderr
    lines = r.stderr.splitlines()
    assert len(lines) == 4 and all(line.startswith(f"error: {f}: ") for line in lines)
    assert any(": inducteurs.cnaf_allocataires.2020 " in line and "allowed" in line for line in lines)
