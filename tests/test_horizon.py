"""The horizon is a parameter of the run (issue 17): years, dates, levers, targets and outputs follow
``simulation.premiere_annee``/``derniere_annee``; a run may start in any year, from a staff file at 31
December of the year before or from the model's own state; the legal age after the 2023 reform."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys

import numpy as np
import pytest

from conftest import ROOT, SCENARIOS
from model.analysis.objectifs import parse_levers, parse_targets
from model.analysis.precision import parse_precision
from model.analysis.taille import estimate
from model.params.calendrier import HORIZON_DEFAUT, Horizon
from model.params.catalogue import lookup
from model.params.errors import InputError
from model.params.scenario import default_parametres, load_scenario
from model.params.validation import resolve_value
from model.results.run import run_scenario

COG_2327 = SCENARIOS / "cog_2023_2027.toml"


def scenario(tmp_path, body: str, name: str = "s.toml"):
    p = tmp_path / name
    p.write_text('[scenario]\ntitle = "test"\n' + body, encoding="utf-8")
    return p


def messages(exc: InputError) -> list[str]:
    return [str(p) for p in exc.problems if p.severity == "error"]


# ----------------------------------------------------------------------------- the horizon itself
def test_horizon_clock():
    h = Horizon(2023, 2027)
    assert h.annees == (2023, 2024, 2025, 2026, 2027) and h.n_mois == 60 and str(h) == "2023-2027"
    assert h.mois_depuis_debut(dt.date(2023, 1, 1)) == 0 and h.mois_depuis_debut(dt.date(2022, 12, 1)) == -1
    assert h.date_du_mois(59) == dt.date(2027, 12, 1)
    assert 2027 in h and 2028 not in h and 2022 not in h
    with pytest.raises(ValueError):
        Horizon(2025, 2024)


def test_a_by_year_value_holds_to_the_horizon_and_starts_from_the_value_in_force():
    p = lookup("organismes.cnaf.taux_remplacement")
    long = resolve_value(p, {2015: 0.5, 2019: 0.7}, None, Horizon(2013, 2032))
    assert long.shape == (20,) and np.isnan(long[:2]).all()  # before the first listed year: no value
    assert long[2:6].tolist() == [0.5] * 4 and long[6:].tolist() == [0.7] * 14
    tard = resolve_value(p, {2015: 0.5, 2019: 0.7, 2030: 0.2}, None, Horizon(2023, 2027))
    assert tard.tolist() == [0.7] * 5  # 2019's value in force in 2023; 2030 is not simulated


def test_the_default_horizon_and_its_parameters():
    par = default_parametres()
    assert par.horizon == HORIZON_DEFAUT == Horizon(2013, 2022)
    long = default_parametres(Horizon(2013, 2032))
    assert long.horizon == Horizon(2013, 2032)
    court, etendu = par["organismes.cnaf.taux_gvt_promotions"], long["organismes.cnaf.taux_gvt_promotions"]
    assert etendu.shape == (20,) and np.array_equal(etendu[:10], court) and (etendu[10:] == court[-1]).all()


# ----------------------------------------------------------------------------- years outside are refused
def test_a_year_outside_the_horizon_is_refused_naming_it(tmp_path):
    p = scenario(tmp_path, "[organismes.cnaf]\ntaux_remplacement = { 2025 = 0.5 }\n")
    with pytest.raises(InputError) as exc:
        load_scenario(p)
    assert [m.split("/")[-1] for m in messages(exc.value)] == ["s.toml: organismes.cnaf.taux_remplacement.2025 = 0.5: year outside the "
                                   "horizon 2013-2022 (allowed: a year from 2013 to 2022)"]
    ok = scenario(tmp_path, "[simulation]\nderniere_annee = 2027\n[organismes.cnaf]\n"
                            "taux_remplacement = { 2025 = 0.5 }\n", "ok.toml")
    tau = load_scenario(ok).parametres["organismes.cnaf.taux_remplacement"]
    assert tau.shape == (15,) and tau[-3:].tolist() == [0.5] * 3 and tau[-4] != 0.5


def test_a_date_outside_the_horizon_is_refused(tmp_path):
    p = scenario(tmp_path, '[[mesures_generales]]\nnom = "x"\ndate = 2024-01-01\ntaux = 0.01\n')
    with pytest.raises(InputError, match=r"mesures_generales\[0\]\.date = 2024-01-01: out of range \(the horizon is "
                                         r"2013-2022\)"):
        load_scenario(p)


def test_a_later_first_year_refuses_earlier_years_in_the_scenario_but_not_in_its_baselines(tmp_path):
    p = scenario(tmp_path, f'baseline = "{COG_2327}"\n[simulation]\npremiere_annee = 2023\n'
                           "[organismes.cnaf]\ntaux_remplacement = { 2020 = 0.5 }\n")
    with pytest.raises(InputError, match="2020 = 0.5: year outside the horizon 2023-2027"):
        load_scenario(p)
    p = scenario(tmp_path, f'baseline = "{COG_2327}"\n[simulation]\npremiere_annee = 2023\n', "ok.toml")
    sc = load_scenario(p)  # the baselines' 2019 values are the ones in force in 2023
    assert sc.parametres.horizon == Horizon(2023, 2027)
    assert sc.parametres["organismes.cnav.taux_remplacement"].tolist() == [0.5] * 5


def test_levers_targets_and_precisions_follow_the_horizon():
    longue = load_scenario(COG_2327).parametres
    (lever,) = parse_levers(["organismes.cnaf.taux_remplacement@2025"], longue)
    assert lever.years == (2025,) and lever.start(longue) == [1.0]
    assert parse_targets(["etpma:cnaf:2026..2027=33000,33100"], horizon=longue.horizon)[0].year == 2026
    assert parse_precision(["etpma:total:2027=50"], horizon=longue.horizon)[0].year == 2027
    courte = default_parametres()
    with pytest.raises(InputError, match="bad year '2025': outside the horizon 2013-2022"):
        parse_levers(["organismes.cnaf.taux_remplacement@2025"], courte)
    with pytest.raises(InputError, match="bad year '2027': outside the horizon 2013-2022"):
        parse_targets(["etpma:cnaf:2027=1"])
    with pytest.raises(InputError, match="bad year 2027: outside the horizon 2013-2022"):
        parse_precision(["etpma:total:2027=50"])


def test_the_size_of_a_sweep_grows_with_its_years():
    a, b = estimate(10, 10, 5), estimate(10, 10, 5, horizon=Horizon(2013, 2032))
    assert b.store_bytes == 2 * a.store_bytes and b.seconds == pytest.approx(2 * a.seconds)
    assert "20 years" in str(b)


def test_the_command_line_refuses_a_year_outside_the_horizon_with_exit_2(tmp_path):
    p = scenario(tmp_path, "[organismes.cnaf]\ntaux_remplacement = { 2030 = 0.5 }\n")
    r = subprocess.run([sys.executable, "run_scenario.py", "run", str(p), "--deterministic", "--out",
                        str(tmp_path / "out")], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert r.returncode == 2 and "horizon 2013-2022" in r.stderr and "Traceback" not in r.stderr
    assert not (tmp_path / "out").exists()


# ----------------------------------------------------------------------------- the horizon in the outputs
@pytest.fixture(scope="module")
def run_2327(tmp_path_factory):
    out = tmp_path_factory.mktemp("r") / "cog_2023_2027"
    return run_scenario(COG_2327, deterministic=True, out=out, export_state=2022)


def test_the_cog_2023_2027_runs_to_2027_everywhere(run_2327):
    ds, folder = run_2327.dataset, run_2327.out
    assert ds["year"].values.tolist() == list(range(2013, 2028))
    assert run_2327.manifest["horizon"] == {"premiere_annee": 2013, "derniere_annee": 2027}
    assert run_2327.manifest["parameters"]["organismes.cnaf.taux_remplacement"]["2027"] == 1.0
    csv = (folder / "results.csv").read_text(encoding="utf-8")
    assert ",2027," in csv
    # targets and their probabilities cover 2023-2027: the new COG's CNAF ceiling (+641 from 2022's)
    plafond = ds["plafond_emplois"].sel(organisme="cnaf")
    assert float(plafond.sel(year=2027) - plafond.sel(year=2022)) == pytest.approx(641.0)
    assert np.isfinite(ds["probabilite_respect"].sel(year=2027, organisme="cnaf")).any()
    # the CNAF grows under its new ceiling, the CNAM shrinks
    etpma = ds["etpma"].isel(replicate=0)
    assert etpma.sel(organisme="cnaf", year=2027) > etpma.sel(organisme="cnaf", year=2022)
    assert etpma.sel(organisme="cnam", year=2027) < etpma.sel(organisme="cnam", year=2022)


def test_the_variants_change_one_thing():
    base = load_scenario(COG_2327).parametres
    for name, path in (("cog_2023_2027_cnam_1750.toml", "organismes.cnam.plafond_variation"),
                       ("cog_2023_2027_cnaf_650.toml", "organismes.cnaf.plafond_variation")):
        var = load_scenario(SCENARIOS / name).parametres
        assert [k for k in base if not np.array_equal(np.asarray(base[k], dtype=object),
                                                       np.asarray(var[k], dtype=object))] == [path]


# ----------------------------------------------------------------------------- start from any year
def test_a_start_from_a_2022_staff_file_equals_the_models_own_handover(run_2327, tmp_path):
    """A run of 2023-2027 from the state exported at 31/12/2022 equals the run of 2023-2027 that takes
    the model's own simulated state at that date (same seed, deterministic), which equals the run from
    2013: the staff file carries persons, ETP and pay by cell exactly."""
    fichier = run_2327.out / "etat_31dec_2022.csv"
    assert fichier.read_text(encoding="utf-8").splitlines()[0] == "organisme,contrat,age,effectif,etp,salaire_moyen"
    propre = scenario(tmp_path, f'baseline = "{COG_2327}"\n[simulation]\npremiere_annee = 2023\n', "propre.toml")
    fich = scenario(tmp_path, f'baseline = "{COG_2327}"\n[simulation]\npremiere_annee = 2023\n'
                              f'[etat_initial]\nfichier = "{fichier}"\n', "fichier.toml")
    a = run_scenario(propre, deterministic=True, write=False)
    b = run_scenario(fich, deterministic=True, write=False)
    assert a.manifest["etat_initial"]["source"].startswith("simulated by cogsim from 2013 to 31 December 2022")
    assert b.manifest["etat_initial"]["source"].startswith("user file") and b.manifest["etat_initial"]["avec_remuneration"]
    assert a.manifest["horizon"] == {"premiere_annee": 2023, "derniere_annee": 2027}
    seul = run_2327.dataset
    # the first year's RMPP needs the population of both years, which a staff file does not carry
    premiere_rmpp = {"rmpp", "gvt_positif", "masse_presents", "masse_presents_prec", "ecart_rmpp_cadrage",
                     "effet_gvt", "effet_noria", "probabilite_respect", "ecart_attendu"}
    for v in seul.data_vars:
        if seul[v].dtype.kind != "f":
            continue
        x, y = (d[v].sel(year=slice(2023, 2027)).values for d in (seul, a.dataset))
        np.testing.assert_allclose(y, x, rtol=1e-9, atol=1e-6, err_msg=v)  # own handover == one run from 2013
        annees = slice(2024, 2027) if v in premiere_rmpp else slice(2023, 2027)
        y, z = (d[v].sel(year=annees).values for d in (a.dataset, b.dataset))
        np.testing.assert_allclose(z, y, rtol=1e-9, atol=1e-6, err_msg=v)  # staff file == own handover


def test_a_later_start_outside_cogsim_run_is_refused():
    from model.engine.etat_initial import etat_initial

    par = load_scenario(COG_2327, {"simulation.premiere_annee": 2023}).parametres
    with pytest.raises(InputError, match="a later first year needs the staff at 31 December of the year before "
                                         "and the model's history: cogsim run only"):
        etat_initial(par)


def test_export_state_outside_the_horizon_is_refused(tmp_path):
    with pytest.raises(InputError, match="export_state = 2030: outside the horizon 2013-2022"):
        run_scenario(SCENARIOS / "cog_2018_2022.toml", deterministic=True, out=tmp_path / "x", export_state=2030)


# ----------------------------------------------------------------------------- the legal age after 2022
AGE_2023 = {1955: 62.0, 1960: 62.0, 1961: 62 + 3 / 12 * 4 / 12, 1962: 62.5, 1963: 62.75, 1964: 63.0,
            1965: 63.25, 1966: 63.5, 1967: 63.75, 1968: 64.0}


def test_the_2023_reform_table_is_the_law():
    par = default_parametres()
    k, v = par.table("departs.age_legal_par_generation_2023")
    assert {int(a): b for a, b in zip(k, v) if a >= 1955} == pytest.approx(AGE_2023, abs=1e-4)
    assert np.interp([1958, 1970, 1990], k, v).tolist() == [62.0, 64.0, 64.0]
    # the earlier generations keep the 2010 law, and the reform applies from its date
    k0, v0 = par.table("departs.age_legal_par_generation")
    assert np.allclose(np.interp(np.arange(1940, 1961), k, v), np.interp(np.arange(1940, 1961), k0, v0))
    assert par["departs.date_reforme_2023"] == dt.date(2023, 9, 1)


def test_retirements_follow_the_reform(tmp_path):
    """Postponing the legal age lowers the retirements of 2023-2026 and changes nothing before 2023."""
    base = scenario(tmp_path, f'baseline = "{COG_2327}"\n', "avec.toml")
    sans = scenario(tmp_path, f'baseline = "{COG_2327}"\n[departs]\ndate_reforme_2023 = 2027-12-01\n', "sans.toml")
    r = {k: run_scenario(p, deterministic=True, write=False).dataset["departs_retraite"].sum("organisme")
         .isel(replicate=0) for k, p in (("avec", base), ("sans", sans))}
    np.testing.assert_array_equal(r["avec"].sel(year=slice(2013, 2022)), r["sans"].sel(year=slice(2013, 2022)))
    assert (r["avec"].sel(year=slice(2023, 2026)) < r["sans"].sel(year=slice(2023, 2026))).all()


def test_the_workbook_covers_the_horizon(run_2327, tmp_path):
    from openpyxl import load_workbook

    from model.outputs.classeur import write_workbook
    from model.outputs.lecture_run import load_run

    write_workbook(load_run(run_2327.out), tmp_path / "c.xlsx", "fr")
    wb = load_workbook(tmp_path / "c.xlsx", read_only=True)
    vus = {c for ws in wb.worksheets for row in ws.iter_rows(values_only=True) for c in row
           if isinstance(c, (int, float)) and c in (2026, 2027)}
    assert vus == {2026, 2027}


@pytest.mark.slow
def test_the_report_of_a_2013_2032_run(tmp_path):
    """A 20-year run and its report: charts, note and workbook, every year to 2032."""
    from openpyxl import load_workbook

    from model.outputs.rapport import write_report

    p = scenario(tmp_path, f'baseline = "{SCENARIOS / "cog_2018_2022.toml"}"\n[simulation]\nderniere_annee = 2032\n')
    res = run_scenario(p, replicates=10, out=tmp_path / "run")
    assert res.dataset["year"].values.tolist() == list(range(2013, 2033))
    write_report(tmp_path / "run")
    rep = tmp_path / "run" / "report"
    assert (rep / "run_trajectoire_etpma.png").exists() and (rep / "run_note.pdf").exists()
    wb = load_workbook(rep / "run_tableaux.xlsx", read_only=True)
    assert any(c == 2032 for ws in wb.worksheets for row in ws.iter_rows(values_only=True) for c in row)


def test_a_sweep_and_a_solve_with_2025_levers(tmp_path):
    import xarray as xr

    from model.analysis.objectifs import SolveSpec
    from model.analysis.solve import solve
    from model.analysis.sweep import SweepSpec, run_sweep

    res = run_sweep(SweepSpec(COG_2327, grid=("organismes.cnaf.taux_remplacement@2025=0.5,1.0",), deterministic=True,
                              outputs=("etpma_cdi",), out=tmp_path / "sweep"), progress=False)
    with xr.open_zarr(res.out / "sweep.zarr") as ds:
        assert ds["year"].values.tolist() == list(range(2013, 2028))
        e = ds["etpma_cdi"].sel(organisme="cnaf", statistique="moyenne").values  # (point, year)
        assert e[1, 2024 - 2013] == e[0, 2024 - 2013] and e[1, 2027 - 2013] > e[0, 2027 - 2013]
    sol = solve(SolveSpec(COG_2327, ("etpma_cdi:cnaf:2027=32000",), ("organismes.cnaf.taux_remplacement@2025",),
                          replicates=2, out=tmp_path / "solve"))
    assert sol.values[0] == pytest.approx(32000, rel=1e-3) and 0.0 < sol.x[0] <= 3.0
