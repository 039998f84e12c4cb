"""Layer 10: the initial state at 31 December 2012 — the reconstruction honours its parameters, a user CSV
round-trips, a malformed CSV is refused with file, row and column."""

from __future__ import annotations

import numpy as np
import pytest

from model.params.calendrier import AGES, ORGANISMES
from model.engine.simulation import simulate
from model.params.errors import InputError
from model.engine.etat_initial import etat_initial, reconstruct
from model.params.effectifs import write_csv
from model.params.effectifs import read_csv
from model.results.dataset import build_dataset
from model.results.run import run_scenario
from model.params.scenario import default_parametres

AGE = np.array(AGES, float)
EXACT = AGE + 0.5  # ages are ages attained in 2012; the exact age at 31 December is half a year more


@pytest.fixture(scope="module")
def par():
    return default_parametres()


@pytest.fixture(scope="module")
def etat(par):
    return reconstruct(par)


def test_whole_persons(etat):
    assert np.array_equal(etat.effectif, np.round(etat.effectif))
    assert etat.effectif.min() >= 0 and etat.estimated


def test_headcount_per_organisme_is_the_catalogue_s(par, etat):
    # whole persons: the (possibly calibrated, fractional) headcount rounded once per organisme
    np.testing.assert_array_equal(etat.effectif.sum((1, 2)), np.rint(par.par_organisme("effectif_initial")))


@pytest.mark.parametrize("org", ORGANISMES)
def test_headcount_per_organisme_within_one_person(par, etat, org):
    o = ORGANISMES.index(org)
    assert abs(etat.effectif[o].sum() - par[f"organismes.{org}.effectif_initial"]) <= 1


@pytest.mark.parametrize("total, part_cdd", [(1001.0, 0.5), (1003.0, 0.5), (1006.0, 0.25), (6150.0, 0.03)])
def test_headcount_kept_for_any_split(par, total, part_cdd):
    p = par.with_values({"organismes.cnav.effectif_initial": total, "organismes.cnav.part_cdd_initiale": part_cdd})
    assert reconstruct(p).effectif[ORGANISMES.index("cnav")].sum() == total


@pytest.mark.parametrize("org", ORGANISMES)
def test_cdi_pyramid_has_the_parameters_mean_age_and_share_over_50(par, etat, org):
    o = ORGANISMES.index(org)
    cdi = etat.effectif[o, 0]
    # rounding to whole persons moves the moments a little: 0.01 year and 0.1 point are far below any
    # effect on the results, and far above the rounding of even the smallest organisme (≈ 6 000 CDI)
    assert (cdi * EXACT).sum() / cdi.sum() == pytest.approx(par["etat_initial.age_moyen_cdi"], abs=0.01)
    assert cdi[AGE >= 50].sum() / cdi.sum() == pytest.approx(par["etat_initial.part_plus_50_cdi"], abs=0.001)
    # CDD share and quotités
    assert etat.effectif[o, 1].sum() / etat.effectif[o].sum() == pytest.approx(
        par[f"organismes.{org}.part_cdd_initiale"], abs=1e-3)
    assert etat.etp[o, 0].sum() / cdi.sum() == pytest.approx(par[f"organismes.{org}.quotite_moyenne_cdi"])
    assert etat.etp[o, 1].sum() / etat.effectif[o, 1].sum() == pytest.approx(par["etat_initial.quotite_moyenne_cdd"])


@pytest.mark.parametrize("age_moyen, part", [(44.0, 0.35), (46.3, 0.48), (48.0, 0.55)])
def test_cdi_pyramid_follows_other_parameter_values(par, age_moyen, part):
    etat = reconstruct(par.with_values({"etat_initial.age_moyen_cdi": age_moyen, "etat_initial.part_plus_50_cdi": part}))
    cdi = etat.effectif[:, 0].sum(0)
    assert (cdi * EXACT).sum() / cdi.sum() == pytest.approx(age_moyen, abs=0.01)
    assert cdi[AGE >= 50].sum() / cdi.sum() == pytest.approx(part, abs=0.001)


def test_cdd_pyramid_has_the_parameters_mean_age(par, etat):
    cdd = etat.effectif[:, 1].sum(0)
    assert (cdd * EXACT).sum() / cdd.sum() == pytest.approx(par["etat_initial.age_moyen_cdd"], abs=0.1)


# ----------------------------------------------------------------------------- user CSV
def test_csv_round_trip(etat, tmp_path):
    path = tmp_path / "etat.csv"
    write_csv(etat, path)
    back = read_csv(path)
    np.testing.assert_allclose(back.effectif, etat.effectif, atol=1e-6)
    np.testing.assert_allclose(back.etp, etat.etp, atol=1e-6)
    assert not back.estimated and str(path) in back.source


def test_csv_state_is_used_by_a_run(etat, tmp_path):
    write_csv(etat, tmp_path / "mon_etat.csv")
    (tmp_path / "sc.toml").write_text('[scenario]\ntitle = "state from a CSV"\nbaseline = "base.toml"\n'
                                      '[etat_initial]\nfichier = "mon_etat.csv"\n', encoding="utf-8")
    from conftest import COG
    (tmp_path / "base.toml").write_text(COG.read_text(encoding="utf-8"), encoding="utf-8")
    res = run_scenario(tmp_path / "sc.toml", deterministic=True, write=False)
    ref = run_scenario(tmp_path / "base.toml", deterministic=True, write=False)
    np.testing.assert_allclose(res.dataset["etpma"].values, ref.dataset["etpma"].values, rtol=1e-9)
    assert res.manifest["etat_initial"]["estimated"] is False
    assert any(k.endswith("mon_etat.csv") for k in res.manifest["inputs_sha256"])


# one person aged 50 in every organisme × contract: the smallest state read_csv accepts
ONE_EACH = "".join(f"{o},{c},50,1,1\n" for o in ORGANISMES for c in ("cdi", "cdd"))


def test_tiny_csv_state(tmp_path, par):
    path = tmp_path / "tiny.csv"
    path.write_text("organisme,contrat,age,effectif,etp\n" + ONE_EACH + "cnav,cdi,40,3,2.4\nmsa,cdd,25,1,1\n",
                    encoding="utf-8")
    e = read_csv(path)
    assert e.effectif.sum() == 12 + 4 and e.etp.sum() == pytest.approx(12 + 3.4)
    assert e.effectif[ORGANISMES.index("cnav"), 0, AGES.index(40)] == 3
    p = par.with_values({"etat_initial.fichier": "tiny.csv"})
    assert etat_initial(p, base_dir=tmp_path).effectif.sum() == 12 + 4


BAD_CSV = """organisme,contrat,age,effectif,etp
cnaf,cdi,40,10,9.5
cnaff,cdi,41,10,9
cnaf,cdx,42,3,3
cnaf,cdi,12,1,1
cnaf,cdi,43,abc,1
cnaf,cdi,44,2,3
cnaf,cdi,40,1,1
cnaf,cdd,30,-1,0
"""


def test_malformed_csv_names_file_row_and_column(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "bad.csv").write_text(BAD_CSV, encoding="utf-8")
    with pytest.raises(InputError) as info:
        read_csv("bad.csv")
    assert [str(p) for p in info.value.problems] == [
        "bad.csv: row 3, column organisme = 'cnaff': unknown organisme (allowed: cnam, cnaf, cnav, acoss, msa, rsi)",
        "bad.csv: row 4, column contrat = 'cdx': unknown contract (allowed: cdi, cdd)",
        "bad.csv: row 5, column age = '12': bad age (allowed: an integer from 16 to 75)",
        "bad.csv: row 6, column effectif = 'abc': bad number (allowed: a finite number >= 0)",
        "bad.csv: row 7, column etp = '3': more ETP than persons (allowed: <= effectif = 2)",
        "bad.csv: row 8 = 'cnaf,cdi,40': duplicate row (allowed: one row per organisme, contrat and age)",
        "bad.csv: row 9, column effectif = '-1': bad number (allowed: a finite number >= 0)",
    ]


def test_csv_with_a_missing_column(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "bad.csv").write_text("organisme,contrat,age,persons,etp\ncnaf,cdi,40,1,1\n", encoding="utf-8")
    with pytest.raises(InputError) as info:
        read_csv("bad.csv")
    assert [str(p) for p in info.value.problems] == [  # the received header is not quoted (it may be a secret)
        "bad.csv: header: missing column(s) effectif (allowed: organisme,contrat,age,effectif,etp)"]


def test_csv_short_row_is_an_input_error(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "bad.csv").write_text("organisme,contrat,age,effectif,etp\ncnaf,cdi,40,1\n", encoding="utf-8")
    with pytest.raises(InputError) as info:
        read_csv("bad.csv")
    (p,) = info.value.problems
    assert (p.file, p.path) == ("bad.csv", "row 2, column etp")  # the message itself says "= None" (see report)


def test_csv_missing_file(tmp_path):
    with pytest.raises(InputError) as info:
        read_csv(tmp_path / "none.csv")
    assert str(info.value) == f"{tmp_path / 'none.csv'}: file not found (allowed: an existing CSV file)"


def test_fractional_persons_need_the_deterministic_mode(tmp_path, par):
    path = tmp_path / "frac.csv"
    path.write_text("organisme,contrat,age,effectif,etp\n" + ONE_EACH + "cnav,cdi,40,1.5,1.5\n", encoding="utf-8")
    e = read_csv(path)
    with pytest.raises(InputError) as info:
        simulate(par, e, mode="stochastic")
    assert "whole persons" in str(info.value) and "frac.csv" in str(info.value)
    tr = simulate(par, e, mode="deterministic")
    assert build_dataset(tr, par)["effectif_31dec"].sel(organisme="cnav", year=2013).item() > 0


def test_csv_row_with_too_many_fields_is_refused(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "comma.csv").write_text("organisme,contrat,age,effectif,etp\ncnaf,cdi,40,10,9,5\n", encoding="utf-8")
    with pytest.raises(InputError) as info:
        read_csv("comma.csv")
    assert info.value.problems[0].path.startswith("row 2")


def test_state_file_set_in_a_baseline_is_relative_to_that_baseline(etat, tmp_path):
    (tmp_path / "A").mkdir()
    (tmp_path / "B").mkdir()
    write_csv(etat, tmp_path / "A" / "state.csv")
    (tmp_path / "A" / "base.toml").write_text('[scenario]\ntitle = "base"\n[etat_initial]\nfichier = "state.csv"\n',
                                              encoding="utf-8")
    (tmp_path / "B" / "child.toml").write_text('[scenario]\ntitle = "child"\nbaseline = "../A/base.toml"\n',
                                               encoding="utf-8")
    assert run_scenario(tmp_path / "A" / "base.toml", deterministic=True, write=False)  # works from its folder
    res = run_scenario(tmp_path / "B" / "child.toml", deterministic=True, write=False)
    assert res.manifest["etat_initial"]["estimated"] is False
