"""COG targets as probabilities (model/results/cibles.py): the probability over the replicates that each
target is met and the expected gap, computed by hand on small cases through the real code path; a run in
blocks equals the run in one batch; the Dataset variables, results.csv, the printed summary, the workbook
sheet and the note."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import xarray as xr
from openpyxl import load_workbook

from conftest import COG
from model.cli.main import main, summary_targets
from model.engine.etat_initial import etat_initial
from model.engine.simulation import simulate
from model.outputs import graphiques as g
from model.outputs import note
from model.outputs.classeur import write_workbook
from model.outputs.libelles import probabilite_label
from model.params.scenario import load_scenario
from model.results import run as run_module
from model.results.cibles import (CIBLES, PAR_CODE, Cible, RespectCibles, avec_probabilites, ecarts_respect,
                                  probabilites)
from model.results.dataset import UNITES_PAR_CIBLE, build_dataset, tidy_frame

NNBSP = "\u202f"


def scenario_with_etpma_target(folder, value: float, organisme: str = "cnaf", year: int = 2022):
    """A scenario: the default COG scenario with the CNAF's ETPMA target of ``year`` set to ``value``."""
    path = folder / "cible.toml"
    path.write_text(f'[scenario]\ntitle = "COG, cible ETPMA de test"\nbaseline = "{COG.as_posix()}"\n\n'
                    f"[organismes.{organisme}]\ncible_etpma = {{ 2018 = 35174, {year} = {value} }}\n",
                    encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def four(tmp_path_factory):
    """4 replicates whose CNAF target of 2022 is met by 3 of them: the target sits halfway between the
    third and the fourth smallest ETPMA of a first run (the engine does not read the ETPMA path, so the
    second run draws the same ETPMA). Returns (ETPMA by replicate, target, run result, its folder)."""
    folder = tmp_path_factory.mktemp("cible")
    first = run_module.run_scenario(COG, replicates=4, seed=7, write=False).dataset
    e = first["etpma"].sel(organisme="cnaf", year=2022).values
    s = np.sort(e)
    assert s[2] < s[3]
    target = float((s[2] + s[3]) / 2)
    res = run_module.run_scenario(scenario_with_etpma_target(folder, target), replicates=4, seed=7,
                                  out=folder / "run")
    return e, target, res, folder / "run"


# ----------------------------------------------------------------------------- by hand
def test_three_replicates_of_four_meet_the_target(four):
    e, target, res, _ = four
    ds = res.dataset
    np.testing.assert_array_equal(ds["etpma"].sel(organisme="cnaf", year=2022).values, e)  # same draws
    p = ds["probabilite_respect"].sel(cible="etpma", organisme="cnaf", year=2022).item()
    assert p == 0.75
    gap = ds["ecart_attendu"].sel(cible="etpma", organisme="cnaf", year=2022).item()
    assert gap == pytest.approx(sum(x - target for x in e) / 4, rel=1e-12)
    # no target before the path starts, none for the ex-RSI
    assert np.isnan(ds["probabilite_respect"].sel(cible="etpma", organisme="cnaf", year=2017).item())
    assert np.isnan(ds["probabilite_respect"].sel(cible="etpma", organisme="rsi").values).all()


def test_greater_or_equal_targets_missing_values_and_zero_as_none():
    """A ≥ target over 4 replicates, one of them undefined; a ≤ target where 0 means none."""
    coords = {"year": [2021, 2022], "organisme": ["cnam", "cnaf"], "replicate": [0, 1, 2, 3]}
    dims = ("year", "organisme", "replicate")
    valeur = np.array([[[10.0, 12.0, 8.0, np.nan], [1.0, 1.0, 1.0, 1.0]],
                       [[5.0, 5.0, 5.0, 5.0], [3.0, 4.0, 5.0, 6.0]]])
    cible = np.array([[9.0, np.nan], [5.0, 0.0]])  # (year, organisme)
    ds = xr.Dataset({"v": (dims, valeur, {"units": "1"}), "c": (("year", "organisme"), cible)}, coords=coords)
    ge = Cible("test_ge", "v", "c", (), ">=", "1", "test", "test")
    le = Cible("test_le", "v", "c", (), "<=", "1", "test", "test", zero_sans_cible=True)
    out = RespectCibles((ge, le)).add(ds).dataset()
    p, e = out["probabilite_respect"], out["ecart_attendu"]
    # 2021 cnam: 10, 12 >= 9 met, 8 missed, the 4th undefined -> 2/3; gaps +1, +3, -1 -> +1
    assert p.sel(cible="test_ge", year=2021, organisme="cnam").item() == pytest.approx(2 / 3, abs=0)
    assert e.sel(cible="test_ge", year=2021, organisme="cnam").item() == pytest.approx(1.0)
    assert np.isnan(p.sel(cible="test_ge", year=2021, organisme="cnaf").item())  # no target
    assert p.sel(cible="test_ge", year=2022, organisme="cnam").item() == 1.0  # 5 >= 5 exactly: met
    assert p.sel(cible="test_le", year=2022, organisme="cnam").item() == 1.0
    assert np.isnan(p.sel(cible="test_le", year=2022, organisme="cnaf").item())  # 0 = no target
    assert p.sel(cible="test_ge", year=2022, organisme="cnaf").item() == 1.0  # 3..6 >= 0
    # a gap of rounding size on the right side of the target counts as met, a real one does not
    c = PAR_CODE["plafond_emplois"]
    _, ok, met = ecarts_respect(np.array([35000.0 + 1e-8, 35000.01]), np.array([35000.0, 35000.0]), c)
    assert ok.all() and met.tolist() == [True, False]


# ----------------------------------------------------------------------------- blocks
def test_a_run_in_blocks_counts_every_replicate(tmp_path, monkeypatch):
    """12 replicates in blocks of 5 keeping the first 5: the probabilities of the run in one batch (exact
    counts), the expected gaps to rounding, and a probability strictly between 0 and 1."""
    par = load_scenario(COG).parametres
    etat0 = etat_initial(par)
    one = build_dataset(simulate(par, etat0, replicates=12, seed=3, mode="stochastic"), par)
    e = np.sort(one["etpma"].sel(organisme="cnaf", year=2022).values)
    path = scenario_with_etpma_target(tmp_path, float((e[6] + e[7]) / 2))  # 7 of 12 meet it
    par = load_scenario(path).parametres
    full = build_dataset(simulate(par, etat0, replicates=12, seed=3, mode="stochastic"), par)
    one = avec_probabilites(full, RespectCibles().add(full), "stochastic")
    assert one["probabilite_respect"].equals(probabilites(full)["probabilite_respect"])
    monkeypatch.setattr(run_module, "BLOC_REPLICATES", 5)
    monkeypatch.setattr(run_module, "REPLICATES_GARDES", 5)
    blocks = run_module.simulate_in_blocks(par, etat0, 12, 3, "stochastic")
    assert blocks.sizes["replicate"] == 5
    assert blocks["probabilite_respect"].attrs["replicates"] == 12
    assert blocks["probabilite_respect"].sel(cible="etpma", organisme="cnaf", year=2022).item() == 7 / 12
    np.testing.assert_array_equal(blocks["probabilite_respect"].values, one["probabilite_respect"].values)
    np.testing.assert_allclose(blocks["ecart_attendu"].values, one["ecart_attendu"].values, rtol=1e-12, atol=1e-9)
    # the printed summary reads the same figures
    assert summary_targets(blocks) == summary_targets(one)
    assert "CNAF, " in summary_targets(blocks) and "58 % de chances" in summary_targets(blocks)


# ----------------------------------------------------------------------------- the Dataset
@pytest.fixture(scope="module")
def deterministic(tmp_path_factory):
    out = tmp_path_factory.mktemp("det") / "run"
    return run_module.run_scenario(COG, deterministic=True, out=out), out


def test_dataset_variables(four, deterministic):
    ds = four[2].dataset
    codes = [c.code for c in CIBLES]
    assert len(set(codes)) == len(codes) and {"etpma", "plafond_emplois", "adf", "rmpp", "productivite", "lpfp",
                                               "taux_appels_aboutis", "delai"} <= set(codes)
    for name in ("probabilite_respect", "ecart_attendu"):
        da = ds[name]
        assert da.dims == ("cible", "year", "organisme")
        assert list(da["cible"].values) == codes
        for attr in ("units", "long_name", "long_name_fr", "aggregation"):
            assert da.attrs[attr], (name, attr)
        assert da.attrs["replicates"] == 4 and da.attrs["mode"] == "stochastic"
    assert ds["probabilite_respect"].attrs["units"] == "1"
    assert ds["ecart_attendu"].attrs["units"] == UNITES_PAR_CIBLE
    assert "simulated - target" in ds["ecart_attendu"].attrs["sign_convention"]
    units = dict(zip(ds["cible"].values, ds["cible_unite"].values))
    assert units["etpma"] == "ETPMA" and units["adf"] == "MEUR/an" and units["rmpp"] == "points de %"
    assert units["productivite"] == ds["productivite"].attrs["units"]  # per organisme
    assert list(ds["cible_sens"].values) == [c.sens for c in CIBLES]
    p = ds["probabilite_respect"].values
    assert np.nanmin(p) >= 0 and np.nanmax(p) <= 1 and np.isfinite(p).any()
    # the targets are those of the Dataset: the ceilings' gap is ecart_plafond
    ecart = ds["ecart_plafond"].mean("replicate").transpose("year", "organisme").values
    np.testing.assert_allclose(ds["ecart_attendu"].sel(cible="plafond_emplois").values, ecart, rtol=1e-12)
    # no target, no probability: no ceiling before 2018, no wage-bill envelope in this scenario
    assert np.isnan(ds["probabilite_respect"].sel(cible="plafond_emplois", year=2017, organisme="cnaf").item())
    assert np.isnan(ds["probabilite_respect"].sel(cible="masse_salariale").values).all()
    # a deterministic run: 1 or 0, said so
    det = deterministic[0].dataset["probabilite_respect"]
    assert set(np.unique(det.values[np.isfinite(det.values)])) <= {0.0, 1.0}
    assert det.attrs["mode"] == "deterministic" and det.attrs["replicates"] == 1
    assert "not a probability" in det.attrs["note"]


def test_results_nc_and_csv(four, deterministic):
    _, _, res, out = four
    with xr.open_dataset(out / "results.nc") as ds:
        assert ds["probabilite_respect"].sel(cible="etpma", organisme="cnaf", year=2022).item() == 0.75
        assert ds["probabilite_respect"].dims == ("cible", "year", "organisme")
    df = pd.read_csv(out / "results.csv")
    assert list(df.columns) == ["variable", "organisme", "year", "unit", "moyenne", "p05", "p50", "p95"]
    rows = df[df["variable"] == "probabilite_respect:etpma"].set_index(["organisme", "year"])
    assert rows.loc[("cnaf", 2022), "moyenne"] == 0.75 and rows.loc[("cnaf", 2022), "unit"] == "1"
    assert math.isnan(rows.loc[("cnaf", 2022), "p05"])
    assert set(rows.index.get_level_values("organisme")) == set(res.dataset["organisme"].values)  # no aggregate
    gaps = df[df["variable"] == "ecart_attendu:productivite"].set_index(["organisme", "year"])
    assert gaps.loc[("cnaf", 2022), "unit"] == "allocataires pondérés/ETPMA"
    assert gaps.loc[("cnaf", 2022), "moyenne"] == pytest.approx(
        res.dataset["ecart_attendu"].sel(cible="productivite", organisme="cnaf", year=2022).item(), rel=1e-5)
    assert not df.duplicated(["variable", "organisme", "year"]).any()
    assert {f"probabilite_respect:{c.code}" for c in CIBLES} <= set(df["variable"])
    det = tidy_frame(deterministic[0].dataset)
    row = det[(det["variable"] == "probabilite_respect:plafond_emplois") & (det["organisme"] == "cnaf")
              & (det["year"] == 2022)]
    assert list(det.columns)[-1] == "value" and row["value"].item() == 1.0


# ----------------------------------------------------------------------------- summary
def test_printed_summary(four, capsys, tmp_path):
    _, target, _, _ = four
    path = scenario_with_etpma_target(tmp_path, target)
    assert main(["run", str(path), "--replicates", "4", "--seed", "7", "--out", str(tmp_path / "fr")]) == 0
    text = capsys.readouterr().out
    assert "Cibles de la COG : probabilité d'être respectées (4 réplication(s))" in text
    line = next(x for x in text.splitlines() if x.startswith("CNAF, "))
    assert "ETPMA en 2022 par rapport à 2017" in line and line.split(" : ")[1].startswith("75 % de chances")
    assert "écart attendu" in line
    table = next(x for x in text.splitlines() if x.startswith("Trajectoire d'ETPMA de la COG (≤)"))
    assert "75 %" in table
    assert main(["--lang", "en", "run", str(path), "--deterministic", "--out", str(tmp_path / "en")]) == 0
    text = capsys.readouterr().out
    assert "COG targets: probability of being met (deterministic run: target met or missed, not a probability)" in text
    line = next(x for x in text.splitlines() if x.startswith("CNAF, "))
    assert "ETPMA in 2022 against 2017" in line and ("met, gap" in line or "missed, gap" in line)
    assert "%" not in line and "100 %" not in text.split("COG targets")[1]


def test_probability_labels():
    assert probabilite_label(0.75) == f"75{NNBSP}%" and probabilite_label(0.75, "en") == "75%"
    assert probabilite_label(0.001) == f"< 1{NNBSP}%" and probabilite_label(0.999) == f"> 99{NNBSP}%"
    assert probabilite_label(1.0) == f"100{NNBSP}%" and probabilite_label(0.0) == f"0{NNBSP}%"
    assert probabilite_label(1.0, deterministic=True) == "atteinte"
    assert probabilite_label(0.0, "en", deterministic=True) == "missed"
    assert probabilite_label(float("nan")) == "–"


# ----------------------------------------------------------------------------- workbook and note
def test_workbook_sheet(four, deterministic, tmp_path):
    _, target, _, out = four
    run = g.load_run(out)
    write_workbook(run, tmp_path / "fr.xlsx", "fr")
    wb = load_workbook(tmp_path / "fr.xlsx")
    ws = wb["Cibles COG"]
    head = [c.value for c in ws[1]]
    assert head == ["Cible", "Libellé", "Sens", "Unité", "Organisme", "Année", "Valeur simulée (moyenne)",
                    "Cible (moyenne)", "Écart attendu (simulé − cible)", "Probabilité de respect"]
    rows = {(r[0], r[4], r[5]): r for r in ws.iter_rows(min_row=2, values_only=True)}
    r = rows["etpma", "cnaf", 2022]
    assert r[1] == "Trajectoire d'ETPMA de la COG" and r[2] == "≤" and r[3] == "ETPMA"
    assert r[7] == pytest.approx(target) and r[9] == 0.75
    assert r[6] - r[7] == pytest.approx(r[8], rel=1e-9)
    assert ("etpma", "cnaf", 2017) not in rows and ("etpma", "rsi", 2022) not in rows  # no target, no row
    assert rows["productivite", "cnav", 2022][3] == "UO pondérées/ETPMA"
    assert ws.cell(row=2, column=10).number_format == "0%"
    # every row is a cell of the Dataset with a target
    p = run.ds["probabilite_respect"]
    assert len(rows) == int(np.isfinite(p.values).sum())
    det = g.load_run(deterministic[1])
    write_workbook(det, tmp_path / "en.xlsx", "en")
    ws = load_workbook(tmp_path / "en.xlsx")["COG targets"]
    assert ws.cell(row=1, column=10).value == "Met (a single path: 1 = yes, 0 = no)"
    assert {c.value for c in ws["J"][1:]} <= {0, 1}


def test_note_section(four, deterministic, tmp_path):
    run = g.load_run(four[3])
    content = note.note_content(run, "fr")
    t = content["targets"]
    assert content["labels"]["targets"] == "Cibles de la COG"
    assert "4 réplications" in t["text"]
    cnaf = next(x for x in t["lines"] if x.startswith("CNAF, "))
    assert f"75{NNBSP}% de chances" in cnaf
    row = next(r for r in t["table"]["rows"] if r[0] == "Trajectoire d'ETPMA de la COG (≤)")
    assert t["table"]["header"][2] == "CNAF" and row[2] == f"75{NNBSP}%"
    det = note.note_content(g.load_run(deterministic[1]), "en")["targets"]
    assert "Deterministic run" in det["text"] and "not a probability" in det["text"]
    assert all("%" not in cell for r in det["table"]["rows"] for cell in r[1:])
    # typeset: the section is in the PDF
    pdf = tmp_path / "note.pdf"
    note.write_note(run, pdf, "fr", charts={})
    from pypdf import PdfReader
    joined = " ".join(p.extract_text() for p in PdfReader(pdf).pages)
    assert "Cibles de la COG" in joined and "Probabilité de respecter chaque cible de la COG en 2022" in joined
    assert "Trajectoire d'ETPMA de la COG" in joined


def test_the_ceiling_is_the_etpma_path_when_the_scenario_states_no_other():
    """The default scenario states its ETPMA path as the ceilings (a change from the base year): the
    summary's "CNAF, -2 100 ETPMA en 2022" line reads them, with the ceiling's probability."""
    from model.results.cibles import trajectoires_etpma

    ds = run_module.run_scenario(COG, deterministic=True, write=False).dataset
    assert not np.isfinite(ds["cible_etpma"].values).any()
    lines = {t["organisme"]: t for t in trajectoires_etpma(ds)}
    assert set(lines) == {"cnam", "cnaf", "cnav", "acoss", "msa"}
    cnaf = lines["cnaf"]
    assert (cnaf["a"], cnaf["z"]) == (2017, 2022)
    assert cnaf["variation"] == pytest.approx(-2100, abs=1e-6)  # the COG's -2 100 from the 2017 ETPMA
    assert cnaf["probabilite"] == 1.0 and cnaf["ecart_attendu"] <= 0
    assert lines["msa"]["a"] == 2015


def test_a_target_set_inside_the_window_is_no_change_of_history(tmp_path):
    """Targets are checked against outcomes: setting one for 2018 (in the calibration window) warns of
    nothing, while a replacement rate of 2018 does."""
    sc = load_scenario(scenario_with_etpma_target(tmp_path, 33000.0))
    assert sc.warnings == ()
    p = tmp_path / "histoire.toml"
    p.write_text(f'[scenario]\ntitle = "t"\nbaseline = "{COG.as_posix()}"\n\n[organismes.cnaf]\n'
                 "taux_remplacement = { 2018 = 0.9 }\n", encoding="utf-8")
    [w] = load_scenario(p).warnings
    assert w.path == "organismes.cnaf.taux_remplacement" and "calibrated 2013-2018 history" in w.message


def test_the_replacement_target_is_read_against_cdi_hires_per_retirement(four):
    """``remplacement``: met in a replicate when its CDI hires per retirement of the year are at most the
    announced replacement of retirements; a rate of 1 or more is no target (NaN). By hand on the 4 replicates."""
    ds = four[2].dataset
    par = load_scenario(COG).parametres  # the run's scenario is COG with its own ETPMA path only
    for org, year in (("cnaf", 2020), ("cnam", 2022), ("msa", 2019)):
        cell = dict(organisme=org, year=year)
        hires = ds["recrutements_cdi"].sel(**cell).values
        ret = ds["departs_retraite"].sel(**cell).values
        tau = float(par[f"organismes.{org}.taux_remplacement"][year - 2013])
        assert tau < 1
        ratio = hires / ret
        np.testing.assert_allclose(ds["taux_remplacement_apparent"].sel(**cell).values, ratio, rtol=1e-12)
        p = ds["probabilite_respect"].sel(cible="remplacement", **cell).item()
        assert p == np.mean(ratio <= tau * (1 + 1e-9)), (org, year)
        gap = ds["ecart_attendu"].sel(cible="remplacement", **cell).item()
        assert gap == pytest.approx(np.mean(ratio - tau), rel=1e-12)
    # the CNAF replaced more than every retirement in 2013 (rate above 1): no target that year
    assert par["organismes.cnaf.taux_remplacement"][0] >= 1
    assert np.isnan(ds["probabilite_respect"].sel(cible="remplacement", organisme="cnaf", year=2013).item())
    assert ds["cible_unite"].sel(cible="remplacement").item() == "1"
