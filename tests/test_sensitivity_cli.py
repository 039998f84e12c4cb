"""``cogsim sensitivity`` on the model: design -> sweep -> indices, checked against separate runs."""

from __future__ import annotations

import json

import numpy as np
import pytest

from model.cli.main import main
from model.results.dataset import tidy_frame
from model.results.run import run_scenario
from model.analysis.sensibilite_resultat import lire
from model.analysis.sensitivity import SensitivitySpec
from model.cli.sensitivity import write_sensitivity

from conftest import COG

TAU = "organismes.cnaf.taux_remplacement@2020"
IMMO = "adf.cout_immobilier_m2"
COMMAND = ("cogsim", "sensitivity", "(the test's command line)")


@pytest.fixture(scope="module")
def oat(tmp_path_factory):
    out = tmp_path_factory.mktemp("sens") / "oat"
    return write_sensitivity(SensitivitySpec(COG, "oat", (f"{TAU}=0.4:0.8", f"{IMMO}=150:250"),
                                             outputs=("etpma", "depenses_limitatives"), command=COMMAND),
                             out, progress=False)


def _run_with(tmp_path, body: str) -> "object":
    path = tmp_path / "p.toml"
    path.write_text(f'[scenario]\ntitle = "p"\nbaseline = "{COG}"\n{body}', encoding="utf-8")
    df = tidy_frame(run_scenario(path, deterministic=True, write=False).dataset)
    return df.set_index(["variable", "organisme", "year"])["value"]


def test_oat_swing_is_the_difference_of_two_runs(oat, tmp_path):
    res = lire(oat / "sensibilite.nc")
    hi = _run_with(tmp_path, "[organismes.cnaf]\ntaux_remplacement = {2020 = 0.8}\n")
    lo = _run_with(tmp_path, "[organismes.cnaf]\ntaux_remplacement = {2020 = 0.4}\n")
    for var, org in (("etpma", "cnaf"), ("depenses_limitatives", "total")):
        cell = res[var].sel(facteur=TAU, year=2022, organisme=org)
        np.testing.assert_allclose(float(cell.sel(indice="swing")), hi[(var, org, 2022)] - lo[(var, org, 2022)],
                                   rtol=1e-9)
    # the lever acts from 2020: no swing before
    assert float(res["etpma"].sel(facteur=TAU, year=2019, organisme="cnaf", indice="swing")) == 0.0
    # the real-estate price moves the budget but not the staff
    assert float(res["etpma"].sel(facteur=IMMO, year=2022, organisme="total", indice="swing")) == 0.0
    assert float(res["depenses_limitatives"].sel(facteur=IMMO, year=2022, organisme="total", indice="swing")) > 0


def test_outputs_of_a_sensitivity_folder(oat):
    manifest = json.loads((oat / "manifest.json").read_text())
    assert manifest["method"] == "oat" and manifest["points"] == 5 and manifest["mode"] == "deterministic"
    # the command line the spec was given (the library does not read sys.argv), here and in the evaluations'
    evaluations = json.loads((oat / "evaluations" / "manifest.json").read_text())
    assert manifest["command"] == evaluations["command"] == list(COMMAND)
    assert (oat / "sensibilite.csv").stat().st_size > 0
    assert (oat / "evaluations" / "sweep.zarr").is_dir()
    charts = {p.name for p in (oat / "charts").glob("*.png")}
    assert {"etpma_tornado.png", "etpma_par_annee.png", "depenses_limitatives_tornado.png"} <= charts
    # one sensitivity file: the headline cell the report shows is recorded in sensibilite.nc itself
    assert not (oat / "sensitivity.nc").exists()
    assert json.loads(lire(oat / "sensibilite.nc").attrs["headline"]) == {"variable": "etpma", "year": 2022,
                                                                           "organisme": "total"}
    assert manifest["headline"] == {"variable": "etpma", "year": 2022, "organisme": "total"}
    assert not (oat.parent / "oat.evaluations").exists()


def test_sobol_on_the_model_small(tmp_path):
    spec = SensitivitySpec(COG, "sobol", (f"{TAU}=0.4:0.8", "organismes.tous.taux_autres_departs=0.015:0.03",
                                          IMMO + "=150:250"), samples=32, outputs=("etpma", "depenses_limitatives"))
    out = write_sensitivity(spec, tmp_path / "s", progress=False)
    res = lire(out / "sensibilite.nc")
    st = res["etpma"].sel(year=2022, organisme="cnaf", indice="ST")
    assert float(st.sel(facteur=IMMO)) == pytest.approx(0.0, abs=1e-9)  # no effect on staff
    assert float(st.sel(facteur="organismes.tous.taux_autres_departs")) > 0.05
    # before 2020 only the departure rate acts on CNAF's staff: the others' total indices are exactly 0
    st18 = res["etpma"].sel(year=2018, organisme="cnaf", indice="ST")
    assert float(st18.sel(facteur=TAU)) == 0.0 and float(st18.sel(facteur=IMMO)) == 0.0
    assert float(st18.sel(facteur="organismes.tous.taux_autres_departs")) > 0.5


@pytest.mark.parametrize("args, expected", [
    (["--method", "oat", "--param", "organismes.cnaf.taux_remplacemen=0.4:0.8"], "did you mean"),
    (["--method", "oat", "--param", f"{TAU}=0.8:0.4"], "is empty"),
    (["--method", "oat", "--param", f"{TAU}=0.4:9"], "out of range"),
    (["--method", "oat"], "no factor"),
    (["--method", "sobol", "--param", f"{TAU}=0.4:0.8", "--samples", "100"], "power of 2"),
    (["--method", "oat", "--param", f"{TAU}=0.4:0.8", "--outputs", "etpam"], "did you mean 'etpma'"),
])
def test_bad_sensitivity_requests_exit_2(args, expected, capsys, tmp_path):
    code = main(["sensitivity", str(COG), *args, "--out", str(tmp_path / "x")])
    err = capsys.readouterr().err
    assert code == 2 and expected in err and "Traceback" not in err, err
    assert not list(tmp_path.iterdir())
