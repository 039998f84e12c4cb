"""Layer 9: the command line, as a user runs it (a subprocess from the project folder): exit codes, messages
and the files of a run."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from conftest import FIXTURES, ROOT
from model.params.calendrier import HORIZON_DEFAUT, ORGANISMES
from model.results.cibles import CIBLES

# the default horizon (2013-2022) the tests' fixtures are built on
ANNEES = HORIZON_DEFAUT.annees

GOOD = "scenarios/cog_2018_2022.toml"
BAD = "tests/fixtures/several_problems.toml"


def cli(*args, timeout=300):
    env = {k: v for k, v in os.environ.items() if k != "COGSIM_LANG"}  # as a user runs it: French by default
    return subprocess.run([sys.executable, "run_scenario.py", *map(str, args)], cwd=ROOT, capture_output=True,
                          text=True, timeout=timeout, env=env)


def test_check_good_scenario():
    r = cli("check", GOOD, "scenarios/cog_2018_2022_un_sur_deux.toml")
    assert r.returncode == 0, r.stderr
    assert r.stderr == ""
    assert r.stdout.splitlines() == [f"{GOOD}: valide", "scenarios/cog_2018_2022_un_sur_deux.toml: valide"]


def test_check_bad_scenario_lists_every_problem():
    r = cli("--lang", "en", "check", BAD, GOOD)
    assert r.returncode == 2
    assert "Traceback" not in r.stderr
    lines = r.stderr.splitlines()
    assert len(lines) == 6 and all(line.startswith(f"error: {BAD}: ") for line in lines)
    for key in ("organismes.cnaf.taux_remplacment", "organismes.cnaf.taux_autres_departs.2030",
                "organismes.msa.taux_remplacement", "organismes.msa.delai_recrutement", "transfert_rsi.repartition",
                "gels_recrutement[0].fin"):
        assert any(f": {key} " in line for line in lines), key
    assert "did you mean 'taux_remplacement'?" in lines[0]


def test_check_errors_are_in_french_by_default_without_english_words():
    r = cli("check", BAD, "scenarios/no_such_scenario.toml", "tests/fixtures/soft_bound.toml")
    assert r.returncode == 2
    lines = r.stderr.splitlines()
    assert lines[0].startswith("avertissement : tests/fixtures/soft_bound.toml : ") and "hors de la plage habituelle" in lines[0]
    assert all(line.startswith(("erreur : ", "avertissement : ")) for line in lines)
    text = r.stderr
    assert "vouliez-vous dire « taux_remplacement » ?" in text and "année hors de l'horizon 2013-2022" in text
    assert "scenarios/no_such_scenario.toml : fichier introuvable (autorisé : un fichier TOML existant)" in text
    for english in ("error", "warning", "allowed", "unknown", "did you mean", "out of range", "wrong type", "a number",
                    "an integer", "file not found", "ends before"):
        assert english not in text, english


def test_check_missing_file():
    r = cli("--lang", "en", "check", "scenarios/no_such_scenario.toml")
    assert r.returncode == 2
    assert r.stderr == ("error: scenarios/no_such_scenario.toml: file not found "
                        "(allowed: an existing TOML file)\n")


def test_check_warns_but_passes_a_soft_bound():
    r = cli("--lang", "en", "check", "tests/fixtures/soft_bound.toml")
    assert r.returncode == 0
    assert r.stderr.startswith("warning: tests/fixtures/soft_bound.toml: organismes.cnaf.taux_remplacement.2019")


@pytest.fixture(scope="module")
def good_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("cli") / "run"
    r = cli("run", GOOD, "--out", out, "--replicates", 3, "--seed", 11)
    return r, out


def test_run_writes_the_three_files(good_run):
    r, out = good_run
    assert r.returncode == 0, r.stderr
    assert sorted(p.name for p in out.iterdir()) == [".cogsim.json", "manifest.json", "results.csv", "results.nc"]
    assert "Traceback" not in r.stderr
    assert str(out) in r.stdout


def test_manifest_records_the_run(good_run):
    _, out = good_run
    m = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert m["seed"] == 11 and m["replicates"] == 3 and m["mode"] == "stochastic"
    assert m["parameters"]["simulation.seed"] == 11
    assert m["parameters"]["organismes.cnaf.taux_remplacement"]["2022"] == 0.6
    assert m["parameters"]["transfert_rsi.date_principale"] == "2020-01-01"
    assert m["code"]["cogsim"] == "0.1.0"
    assert "commit" in m["code"]
    assert m["warnings"] == []
    sha = m["inputs_sha256"]
    assert GOOD in sha and "catalogue.toml" in sha
    import hashlib
    assert sha[GOOD] == hashlib.sha256((ROOT / GOOD).read_bytes()).hexdigest()
    assert all(len(h) == 64 for h in sha.values())


def test_results_csv_has_aggregates_and_quantiles(good_run):
    _, out = good_run
    df = pd.read_csv(out / "results.csv")
    assert list(df.columns) == ["variable", "organisme", "year", "unit", "moyenne", "p05", "p50", "p95"]
    assert set(df["organisme"]) == set(ORGANISMES) | {"regime_general", "total"}
    e = df[df.variable == "etpma"].set_index(["organisme", "year"])
    assert sorted(set(e.index.get_level_values("year"))) == list(ANNEES)
    for y in ANNEES:
        rg = sum(e.loc[(o, y), "moyenne"] for o in ("cnam", "cnaf", "cnav", "acoss"))
        assert e.loc[("regime_general", y), "moyenne"] == pytest.approx(rg, rel=1e-5)
        tot = sum(e.loc[(o, y), "moyenne"] for o in ORGANISMES)
        assert e.loc[("total", y), "moyenne"] == pytest.approx(tot, rel=1e-5)
    assert (e["p05"] <= e["p50"] + 1e-9).all() and (e["p50"] <= e["p95"] + 1e-9).all()


def test_results_nc_reopens_with_metadata(good_run):
    _, out = good_run
    with xr.open_dataset(out / "results.nc", engine="netcdf4") as ds:
        assert dict(ds.sizes) == {"year": 10, "organisme": 6, "replicate": 3, "cible": len(CIBLES)}
        assert len(ds.data_vars) > 0
        for name, var in ds.data_vars.items():
            for attr in ("units", "long_name", "long_name_fr"):
                assert isinstance(var.attrs.get(attr), str) and var.attrs[attr], (name, attr)
        assert int(ds.attrs["seed"]) == 11
        assert np.isfinite(ds["etpma"].values).all()
        csv = pd.read_csv(out / "results.csv")
        m = csv[(csv.variable == "etpma") & (csv.organisme == "cnaf") & (csv.year == 2022)]["moyenne"].item()
        assert m == pytest.approx(float(ds["etpma"].sel(organisme="cnaf", year=2022).mean()), rel=1e-5)


def test_deterministic_run_csv_has_a_value_column(tmp_path):
    r = cli("run", GOOD, "--out", tmp_path / "det", "--deterministic")
    assert r.returncode == 0, r.stderr
    df = pd.read_csv(tmp_path / "det" / "results.csv")
    assert list(df.columns) == ["variable", "organisme", "year", "unit", "value"]


def test_run_of_a_bad_file_writes_nothing(tmp_path):
    out = tmp_path / "run"
    r = cli("run", BAD, "--out", out, "--replicates", 3)
    assert r.returncode == 2
    assert "Traceback" not in r.stderr
    assert "organismes.cnaf.taux_remplacment" in r.stderr
    assert list(tmp_path.iterdir()) == []


def test_run_with_a_missing_initial_state_file_writes_nothing(tmp_path):
    r = cli("--lang", "en", "run", FIXTURES / "missing_state_file.toml", "--out", tmp_path / "run")
    assert r.returncode == 2
    assert "Traceback" not in r.stderr
    assert "missing_state_file.toml: etat_initial.fichier = 'no_such_state.csv': file not found" in r.stderr
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("args, expected", [
    (("--replicates", "0"), "argument --replicates: 0 is not allowed (allowed: an integer >= 1)"),
    (("--replicates", "x"), "argument --replicates: 'x' is not an integer"),
    (("--seed", "-3"), "argument --seed: -3 is not allowed (allowed: an integer >= 0)"),
])
def test_bad_command_line_values(tmp_path, args, expected):
    r = cli("run", GOOD, "--out", tmp_path / "run", *args)
    assert r.returncode == 2
    assert r.stderr.splitlines()[-1] == f"error: {expected}"
    assert "Traceback" not in r.stderr
    assert list(tmp_path.iterdir()) == []


def test_describe():
    r = cli("--lang", "en", "describe", GOOD)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    i = next(k for k, line in enumerate(lines) if line.startswith("* organismes.cnaf.plafond_variation — "))
    # the baseline holds the 2018 ceiling (history); the scenario states the COG path after it
    assert lines[i + 1] == "    baseline: 2013-2017: 0; 2018-2022: -420"
    assert lines[i + 2].startswith("    scenario: ") and lines[i + 2].endswith("2021: -1680; 2022: -2100")
    assert lines[i + 3].split() == ["unit:", "ETPMA"]
    assert any(line.startswith("    source:   COG targets; ") for line in lines[i + 4:i + 6])
    names = {line.split(" — ")[0] for line in lines}
    assert "  organismes.cnaf.taux_remplacement" in names  # restated at its baseline value: unchanged
    assert "  organismes.cnaf.delai_recrutement" in names  # unchanged


def test_describe_in_french_by_default_with_events_as_tables():
    r = cli("describe", GOOD)
    assert r.returncode == 0, r.stderr
    out = r.stdout
    assert "\n    base :     " in out and "scénario :" in out and "unité :" in out and "\n    baseline: " not in out
    assert "{'nom'" not in out and "mappingproxy" not in out  # events as tables, not raw dicts
    lines = out.splitlines()
    i = next(k for k, line in enumerate(lines) if line.startswith("  mutualisations — Vagues de mutualisation"))
    assert lines[i + 2].split()[:3] == ["nom", "organisme", "debut"] and set(lines[i + 3]) <= {"-", " "}
    assert lines[i + 4].split()[:2] == ["msa_cog_2016_2020", "msa"]
    # a fitted value is named as such, next to the source text
    j = next(k for k, line in enumerate(lines) if line.startswith("  organismes.cnaf.taux_remplacement — "))
    assert any(line.startswith("    calibré :  ") and "2018" in line for line in lines[j:j + 6])


def test_describe_bad_file():
    r = cli("describe", "tests/fixtures/unknown_key.toml")
    assert r.returncode == 2
    assert "Traceback" not in r.stderr and "taux_remplacment" in r.stderr


def test_unknown_command():
    r = cli("frobnicate")
    assert r.returncode == 2
    assert "Traceback" not in r.stderr


def test_the_summary_speaks_one_language(tmp_path):
    fr = cli("run", GOOD, "--replicates", "2", "--out", tmp_path / "fr")
    assert fr.returncode == 0, fr.stderr
    head = fr.stdout.splitlines()[0]
    assert "2 réplications, stochastique)" in head and "stochastic" not in fr.stdout
    assert "régime général" in fr.stdout and "Résultats écrits dans" in fr.stdout
    en = cli("--lang", "en", "run", GOOD, "--deterministic", "--out", tmp_path / "en")
    assert en.returncode == 0, en.stderr
    assert "(1 replicate, deterministic)" in en.stdout.splitlines()[0]
    assert "régime général" not in en.stdout and "general scheme" in en.stdout and "réplication" not in en.stdout
