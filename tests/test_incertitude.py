"""Parameter uncertainty (issue 14, item 5): stochastic replicates draw the fitted parameters from the
calibration's covariance (model/params/incertitude.py), as per-element batch parameters of the engine.

Reproducible draws (same seed, same θ; replicate r the same in blocks and in one batch), the covariance of
4 000 draws against the file's, the draws acting as a run of its own per replicate, what a scenario keeps,
sweeps, common random numbers across scenarios, the spread of a run, the manifest, a malformed file.
"""

from __future__ import annotations

import hashlib
import json
import math

import numpy as np
import pytest

from conftest import COG, SCENARIOS
from model.analysis.calibration import appliquer, parametres_a_ajuster, valeurs_brutes
from model.engine.etat_initial import etat_initial, reconstruct, reconstruct_par_element
from model.engine.lot import interp_lignes
from model.engine.simulation import simulate
from model.engine.tirages import FLOWS
from model.params.calendrier import HORIZON_DEFAUT, ORGANISMES
from model.params.calibres import CALIBRATION_FILE, ajustements_calibres
from model.params.catalogue import lookup
from model.params.errors import InputError
from model.engine.lot import HORS_MOTEUR, HORS_MOTEUR_ORGANISME, PARAMETRES_LOT, PARAMETRES_LOT_GLOBAUX
from model.params.catalogue import CatalogueError, Parameter, check_plage, load_catalogue
from model.params.incertitude import (ID_FLUX, avec_tirages, loi_calibree, partage, plages_catalogue, tirer_theta,
                                      tirages, uniformes, valeurs_tirees)
from model.params.parametres import ParametresLot
from model.params.scenario import catalogue_defaults, default_parametres, load_scenario
from model.results.dataset import build_dataset
from model.results.run import run_scenario

# the default horizon (2013-2022) the tests' fixtures are built on
ANNEES = HORIZON_DEFAUT.annees

SEED = 20190701


@pytest.fixture(scope="module")
def loi():
    law = loi_calibree()
    assert law is not None, "the shipped calibration has a [covariance] table (cogsim calibrate writes it)"
    return law


def _valeur(lot, par, path, i):
    """Element i's value of ``path`` in the resolved form a ``Parametres`` holds."""
    v = lot.lot(path)
    if v is None:
        return par[path]
    if lookup(path).type == "table":
        return tuple(zip(par.table(path)[0].tolist(), v[i].tolist()))
    return v[i] if lookup(path).by_year else float(v[i])


# ----------------------------------------------------------------------------- the law and its draws
def test_the_file_carries_the_covariance_of_every_fitted_scalar(loi):
    specs = parametres_a_ajuster()
    assert loi.noms == [s.nom for s in specs]
    for sc, sp in zip(loi.scalaires, specs):
        assert (sc.chemins, sc.mode, sc.bornes, sc.annees) == (sp.chemins, sp.mode, sp.bornes, sp.annees)
    cov = loi.covariance
    assert np.allclose(cov, cov.T) and np.linalg.eigvalsh(cov).min() > -1e-12 * np.abs(cov).max()
    assert np.allclose(np.sqrt(np.diag(cov)), [s.erreur_type for s in loi.scalaires])
    # the two fitting stages are estimated apart: no correlation between them
    etape = np.array([s.etape for s in specs])
    assert not cov[np.ix_(etape == 1, etape == 2)].any()
    assert loi.sha256 == hashlib.sha256(CALIBRATION_FILE.read_bytes()).hexdigest()


def test_draws_are_reproducible_and_replicate_r_is_the_same_in_any_block(loi):
    a = tirer_theta(loi, SEED, 2500)
    assert np.array_equal(a, tirer_theta(loi, SEED, 2500))
    assert not np.array_equal(a, tirer_theta(loi, SEED + 1, 2500))
    # blocks of 1 000 (as run.simulate_in_blocks), and odd blocks: the rows of one batch, bit for bit
    for taille in (1000, 7, 333):
        blocs = np.concatenate([tirer_theta(loi, SEED, min(taille, 2500 - r0), r0) for r0 in range(0, 2500, taille)])
        assert np.array_equal(blocs, a)
    assert ID_FLUX >= len(FLOWS)  # a stream of its own, apart from the engine's flows


def test_draws_have_the_covariance_of_the_fit(loi):
    n = 4000
    theta = tirer_theta(loi, 11, n, bornes=False)
    sigma = loi.covariance
    sd = np.sqrt(np.diag(sigma))
    # mean and covariance within 5 standard errors of their sampling distributions (normal theory:
    # var(s_ij) = (sigma_ij^2 + sigma_ii sigma_jj) / n)
    assert np.all(np.abs(theta.mean(0) - loi.centre) <= 5 * sd / math.sqrt(n))
    s = np.cov(theta, rowvar=False)
    tol = 5 * np.sqrt((sigma ** 2 + np.outer(np.diag(sigma), np.diag(sigma))) / n)
    assert np.all(np.abs(s - sigma) <= tol), np.max(np.abs(s - sigma) / tol)
    # within bounds: the clipped draws are those draws, else the bound
    clipped = tirer_theta(loi, 11, n)
    lo = np.array([s.bornes[0] for s in loi.scalaires])
    hi = np.array([s.bornes[1] for s in loi.scalaires])
    assert np.all((clipped >= lo) & (clipped <= hi))
    dedans = (theta >= lo) & (theta <= hi)
    assert np.array_equal(clipped[dedans], theta[dedans])
    # an estimate at a bound (the execution margin, fitted at 0) gives one-sided draws
    k = loi.noms.index("marge_plafond")
    assert loi.centre[k] - lo[k] < 1e-6 and 0.4 < (clipped[:, k] == lo[k]).mean() < 0.6


def test_drawn_values_are_the_calibrations_own_transformation(loi):
    """At θ̂ the draws give the calibrated baseline; at any θ what ``cogsim calibrate`` would write."""
    ref = default_parametres()
    at_hat = valeurs_tirees(loi, loi.centre[None])
    for path, t in at_hat.items():
        r = ref.table(path)[1] if lookup(path).type == "table" else np.asarray(ref[path], float)
        np.testing.assert_allclose(t.valeurs[0][t.touche], np.broadcast_to(r, t.touche.shape)[t.touche],
                                   rtol=1e-8, atol=1e-9, err_msg=path)
    specs = parametres_a_ajuster()
    base = catalogue_defaults()
    theta = tirer_theta(loi, 3, 3)
    drawn = valeurs_tirees(loi, theta)
    for i in range(3):
        par = appliquer(base, valeurs_brutes(specs, theta[i], base))
        for path, t in drawn.items():
            r = par.table(path)[1] if lookup(path).type == "table" else np.asarray(par[path], float)
            np.testing.assert_allclose(t.valeurs[i], r, rtol=1e-8, atol=1e-9, err_msg=path)


# ----------------------------------------------------------------------------- the engine, per element
def test_interpolation_by_rows_is_numpys_bit_for_bit():
    rng = np.random.default_rng(5)
    xp = np.array([-6.0, -4, -2, -1, 0, 1, 2, 3, 4, 5, 6, 8])
    x = np.concatenate([np.arange(-12.0, 12.0, 0.25), xp, [-6.0000001, 8.0000001]])
    fp = rng.random((40, xp.size))
    got = interp_lignes(x, xp, fp)
    for i in range(40):
        assert np.array_equal(got[i], np.interp(x, xp, fp[i], left=0.0, right=fp[i, -1]))


def test_a_drawn_initial_headcount_is_the_reconstruction_of_its_own(cog):
    par = cog.parametres
    eff = np.stack([par.par_organisme("effectif_initial") * f for f in (0.93, 1.0, 1.07)])
    n, e = reconstruct_par_element(par, eff)
    for i in range(3):
        own = reconstruct(par.with_values({f"organismes.{o}.effectif_initial": float(eff[i, k])
                                           for k, o in enumerate(ORGANISMES)}))
        assert np.array_equal(n[i], own.effectif) and np.array_equal(e[i], own.etp)


def test_each_replicate_runs_as_a_run_of_its_own(cog, loi):
    """Replicate r of a batch with drawn parameters = a one-replicate run of its parameters (its streams,
    first_replicate = r): the engine's stocks bit for bit, every Dataset variable to rounding."""
    par = cog.parametres
    lot = avec_tirages(par, loi, SEED, 3)
    assert {"departs.hazard_retraite", "remuneration.ratio_salaire_entrant", "organismes.msa.effectif_initial",
            "organismes.cnaf.taux_gvt_promotions", "organismes.cnaf.charge_travail_reference"} <= lot.varies
    tr = simulate(lot, etat_initial(par), replicates=3, seed=SEED)
    ds = build_dataset(tr, lot)
    for r in range(3):
        own = par.with_values({p: _valeur(lot, par, p, r) for p in lot.varies})
        t1 = simulate(own, etat_initial(own), replicates=1, seed=SEED, first_replicate=r)
        for k in ("etp_cdi", "etp_cdd", "effectif", "indice_etp"):
            assert np.array_equal(getattr(tr, k)[:, r], getattr(t1, k)[:, 0]), k
        for k in ("rmpp_num", "rmpp_den"):  # RMPP factors: products instead of powers per element
            np.testing.assert_allclose(getattr(tr, k)[:, r], getattr(t1, k)[:, 0], rtol=1e-12)
        d1 = build_dataset(t1, own)
        for v in d1.data_vars:
            mine = ds[v].isel(replicate=r) if "replicate" in ds[v].dims else ds[v]
            own_v = d1[v].isel(replicate=0) if "replicate" in d1[v].dims else d1[v]
            np.testing.assert_allclose(mine.transpose(*own_v.dims).values, own_v.values, rtol=1e-9, atol=1e-9,
                                       err_msg=v)


# ----------------------------------------------------------------------------- what a scenario keeps
def test_a_scenario_keeps_the_fitted_parameters_it_sets(tmp_path, loi):
    (tmp_path / "base.toml").write_text(COG.read_text(encoding="utf-8"), encoding="utf-8")
    (tmp_path / "sc.toml").write_text(
        '[scenario]\ntitle = "sets two fitted parameters"\nbaseline = "base.toml"\n'
        "[organismes.cnaf]\ntaux_remplacement_autres_departs = { 2019 = 0.8 }\nmarge_plafond = 0.03\n",
        encoding="utf-8")
    par = load_scenario(tmp_path / "sc.toml").parametres
    lot = avec_tirages(par, loi, SEED, 20)
    tau = lot.lot("organismes.cnaf.taux_remplacement_autres_departs")
    apres = [y >= 2019 for y in ANNEES]
    assert np.all(tau[:, apres] == 0.8)  # the scenario's own value, in every replicate
    assert np.all(tau[:, ~np.array(apres)].std(0) > 0)  # the calibrated years are drawn
    assert lot.lot("organismes.cnam.taux_remplacement_autres_departs")[:, apres].std(0).min() > 0
    assert lot.lot("organismes.cnaf.marge_plafond") is None  # never drawn for the CNAF
    assert lot.lot("organismes.cnam.marge_plafond").std() > 0
    kept = partage(par, loi)["valeurs_du_scenario"]
    assert kept == {"organismes.cnaf.taux_remplacement_autres_departs": [2019, 2020, 2021, 2022],
                    "organismes.cnaf.marge_plafond": True}
    # a staff file fixes the headcounts: the initial headcounts are not drawn
    fichier = par.with_values({"etat_initial.fichier": str(tmp_path / "etat.csv")})
    assert not any("effectif_initial" in p for p in avec_tirages(fichier, loi, SEED, 5).varies)
    assert "organismes.msa.effectif_initial" in partage(fichier, loi)["valeurs_du_scenario"]


def test_a_sweep_gives_every_point_replicate_rs_draw(cog, loi):
    """Element p × R + r of a batch of grid points draws replicate r's parameters, where point p keeps the
    calibrated value (as the run of its own scenario would): a swept 2018 value is the point's."""
    par = cog.parametres
    swept = ["organismes.cnaf.taux_remplacement"]
    calibre = np.asarray(par[swept[0]], float)
    points = [par.with_values({swept[0]: np.where(np.array(ANNEES) >= y, 0.4, calibre)}) for y in (2018, 2019)]
    lot = avec_tirages(ParametresLot(points, 3, swept), loi, SEED, 3)
    seul = avec_tirages(par, loi, SEED, 3)
    for p in ("remuneration.ratio_salaire_entrant", "organismes.msa.effectif_initial", "departs.hazard_retraite"):
        assert np.array_equal(lot.lot(p), np.concatenate([seul.lot(p)] * 2)), p
    i2018 = ANNEES.index(2018)
    tau = lot.lot(swept[0])
    assert np.all(tau[:3, i2018] == 0.4)  # point 0 sets 2018 itself
    assert np.array_equal(tau[3:, i2018], seul.lot(swept[0])[:, i2018])  # point 1 keeps it: drawn
    assert np.all(tau[:, i2018 + 1:] == 0.4)
    with pytest.raises(ValueError, match="starts at replicate 0"):
        simulate(avec_tirages(ParametresLot(points, 3, swept), loi, SEED, 3, first=3),
                 etat_initial(par), replicates=3, seed=SEED, first_replicate=3)


# ----------------------------------------------------------------------------- runs
@pytest.fixture(scope="module")
def sans_incertitude(cog_sans_incertitude):
    return cog_sans_incertitude


def test_a_stochastic_run_draws_and_its_bands_widen(tmp_path, sans_incertitude):
    avec = run_scenario(COG, replicates=60, out=tmp_path / "avec")
    sans = run_scenario(sans_incertitude, replicates=60, write=False)
    m = json.loads((tmp_path / "avec" / "manifest.json").read_text(encoding="utf-8"))["incertitude_parametres"]
    assert m["tirees"] and m["graine"] == SEED and m["source"] == "calibration/parametres_calibres.toml"
    assert m["sha256"] == hashlib.sha256(CALIBRATION_FILE.read_bytes()).hexdigest()
    assert m["tires"] == [s.nom for s in parametres_a_ajuster()] and m["valeurs_du_scenario"] == {}
    assert "yes: 24 fitted scalars" in avec.dataset.attrs["incertitude_parametres"]
    assert not sans.manifest["incertitude_parametres"]["tirees"]
    for v in ("etpma", "masse_salariale", "depenses_limitatives"):
        for o in ("cnam", "cnaf", "msa"):
            sd = lambda r: float(r.dataset[v].sel(year=2022, organisme=o).std("replicate"))  # noqa: E731
            assert sd(avec) > 2 * sd(sans), (v, o)
    # without draws, the run is the engine's run of the scenario's parameters
    par = sans.scenario.parametres
    tr = simulate(par, etat_initial(par), replicates=60, seed=SEED)
    assert np.array_equal(build_dataset(tr, par)["etpma"].values, sans.dataset["etpma"].values)


def test_deterministic_runs_never_draw(sans_incertitude):
    a = run_scenario(COG, deterministic=True, write=False)
    b = run_scenario(sans_incertitude, deterministic=True, write=False)
    assert not a.manifest["incertitude_parametres"]["tirees"]
    for v in a.dataset.data_vars:
        assert np.array_equal(a.dataset[v].values, b.dataset[v].values, equal_nan=True), v
    assert tirages(a.scenario.parametres, "deterministic", SEED, 5, loi=loi_calibree()) is a.scenario.parametres


def test_two_scenarios_share_their_draws(loi):
    """Common random numbers: replicate r of two scenarios draws the same parameters and the same dice, so
    their common history is equal replicate by replicate and their difference has little noise."""
    a = run_scenario(COG, replicates=40, write=False).dataset
    b = run_scenario(SCENARIOS / "cog_2018_2022_un_sur_deux.toml", replicates=40, write=False).dataset
    avant = [y for y in ANNEES if y <= 2018]  # the variant changes the policy from 2019 on
    for v in ("etpma", "masse_salariale", "recrutements", "depenses_limitatives"):
        assert np.array_equal(a[v].sel(year=avant).values, b[v].sel(year=avant).values), v
    x, y = (d["etpma"].sel(year=2022, organisme="cnaf").values for d in (a, b))  # 60 % -> 50 % replaced
    # independent draws would give var(x - y) = var(x) + var(y); shared ones, a small part of it
    assert not np.array_equal(x, y) and np.var(x - y) < 0.1 * (np.var(x) + np.var(y))


# ----------------------------------------------------------------------------- the file
def test_a_malformed_covariance_names_file_and_key(tmp_path):
    text = CALIBRATION_FILE.read_text(encoding="utf-8")
    debut = text.index("correlation = [")
    bad = tmp_path / "p.toml"
    bad.write_text(text[:debut] + "correlation = [[1, 0], [0, 1]]\n", encoding="utf-8")
    with pytest.raises(InputError) as e:
        loi_calibree(bad)
    assert "covariance.correlation" in str(e.value) and "24 rows of 24 numbers" in str(e.value)
    bad.write_text(text.replace('bornes = [0.0, 0.08]', 'bornes = [0.08, 0.0]'), encoding="utf-8")
    with pytest.raises(InputError, match=r"ajustement\.marge_plafond\.bornes.*not two increasing numbers"):
        ajustements_calibres(bad)
    # a file written before the covariance: no draws (the manifest says why)
    old = tmp_path / "old.toml"
    old.write_text(text[:text.index("[covariance]")], encoding="utf-8")
    assert loi_calibree(old) is None


# ----------------------------------------------------------------------------- stated ranges (catalogue plage)
def test_ranges_are_on_unfitted_parameters_the_engine_takes_per_element(loi):
    """Every stated range is drawn (not shadowed by a fitted scalar) and acts on a parameter a batch may
    vary per element (else a stochastic run would refuse its own draws)."""
    assert loi.plages, "the catalogue states ranges for some unfitted estimated parameters"
    ajustes = {c for s in loi.scalaires for c in s.chemins}
    libres = set(PARAMETRES_LOT + HORS_MOTEUR_ORGANISME)
    for pl in plages_catalogue():
        assert pl.chemin not in ajustes, pl.chemin
        p = lookup(pl.chemin)
        assert p.estimated and p.plage["source"].strip()
        assert (p.by_organisme and p.name in libres) or p.path in PARAMETRES_LOT_GLOBAUX + HORS_MOTEUR, pl.chemin
    assert {pl.chemin for pl in loi.plages} == {pl.chemin for pl in plages_catalogue()}


def test_range_draws_are_reproducible_uniform_and_inside_their_range(loi):
    par = default_parametres()
    u = uniformes(SEED, 400, 0, len(loi.plages))
    assert np.array_equal(uniformes(SEED, 3, 7, len(loi.plages)), u[7:10])  # replicate r alone = r in a batch
    lot = avec_tirages(par, loi, SEED, 400)
    for j, pl in enumerate(loi.plages):
        v0 = np.asarray(par[pl.chemin], float)
        x = np.asarray(lot.lot(pl.chemin), float)
        f = (x / v0 if pl.mode == "echelle" else x - v0).reshape(400, -1)[:, 0]
        lo, hi = pl.bornes
        assert f.min() >= lo - 1e-12 and f.max() <= hi + 1e-12, pl.chemin
        # uniform: the factor is an affine map of the stream's uniforms, and they cover the range
        np.testing.assert_allclose(f, lo + u[:, j] * (hi - lo), rtol=1e-12, err_msg=pl.chemin)
    # independent of the fitted scalars' stream, which keeps its numbers
    assert not np.array_equal(uniformes(SEED, 5, 0, 3), np.random.default_rng(
        np.random.SeedSequence(SEED, spawn_key=(0, ID_FLUX))).random(3))
    z = u[:, 0]
    assert abs(z.mean() - 0.5) < 0.05 and abs(z.var() - 1 / 12) < 0.015


def test_a_scenario_keeps_its_own_value_of_a_ranged_parameter(tmp_path, loi):
    (tmp_path / "base.toml").write_text(COG.read_text(encoding="utf-8"), encoding="utf-8")
    (tmp_path / "sc.toml").write_text(
        '[scenario]\ntitle = "sets a ranged parameter"\nbaseline = "base.toml"\n'
        "[organismes.cnaf]\ncomblement_cdd = 0.4\n", encoding="utf-8")
    par = load_scenario(tmp_path / "sc.toml").parametres
    lot = avec_tirages(par, loi, SEED, 10)
    assert lot.lot("organismes.cnaf.comblement_cdd") is None and par["organismes.cnaf.comblement_cdd"] == 0.4
    assert lot.lot("organismes.cnam.comblement_cdd").std() > 0
    d = partage(par, loi)
    assert "organismes.cnaf.comblement_cdd" in d["plages_valeurs_du_scenario"]
    assert d["plages"]["organismes.cnam.comblement_cdd"] == {"echelle": [0.5, 1.5]}


def test_a_malformed_range_is_a_catalogue_error():
    base = load_catalogue()["organismes.*.comblement_cdd"]
    fields = {k: getattr(base, k) for k in Parameter.__dataclass_fields__}
    for bad in ({"echelle": [1.2, 0.8], "source": "x"}, {"echelle": [0.8, 1.2]}, {"largeur": [0, 1], "source": "x"},
                {"echelle": [0.8, 1.2], "decalage": [0, 1], "source": "x"}):
        with pytest.raises(CatalogueError, match="plage"):
            check_plage("catalogue.toml", Parameter(**{**fields, "plage": bad}))
    with pytest.raises(CatalogueError, match="estimated"):  # only on estimated parameters
        check_plage("catalogue.toml", Parameter(**{**fields, "estimated": False}))
