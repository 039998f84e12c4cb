"""Layer 7: bad scenario files (tests/fixtures/) and the exact messages they produce.

Every message has the form ``FILE: KEY.PATH = VALUE: MESSAGE (allowed: ...)``. Files are loaded from the
fixtures folder (the working directory), so FILE is the bare file name.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from conftest import COG, FIXTURES
from model.params.catalogue import load_catalogue
from model.params.errors import InputError
from model.params.scenario import check_scenarios, load_scenario

NUMBER_0_3 = "a number in [0, 3] (or a table {year = value})"


def organisme_parameters() -> str:
    return ", ".join(sorted(p.path.split(".")[2] for p in load_catalogue().values()
                            if p.path.startswith("organismes.*.")))


def sections() -> str:
    return ", ".join(sorted({p.path.split(".")[0] for p in load_catalogue().values()} | {"scenario"}))


EXPECTED = {
    "unknown_key.toml": [
        "unknown_key.toml: organismes.cnaf.taux_remplacment = 0.5: unknown key; did you mean "
        "'taux_remplacement'? (allowed: {orgp})",
    ],
    "out_of_range.toml": [
        f"out_of_range.toml: organismes.cnav.taux_remplacement = 3.5: out of range (allowed: {NUMBER_0_3})",
    ],
    "bad_year.toml": [
        "bad_year.toml: organismes.cnaf.taux_remplacement.2030 = 0.5: year outside the horizon 2013-2022 "
        "(allowed: a year from 2013 to 2022)",
    ],
    "wrong_type.toml": [
        "wrong_type.toml: organismes.acoss.taux_autres_departs = 'high': wrong type "
        "(allowed: a number in [0, 0.5] (or a table {year = value}))",
    ],
    "duplicate_key.toml": [
        "duplicate_key.toml: organismes.cnam.taux_remplacement: duplicate key (line 6) (allowed: each key once)",
    ],
    "unknown_organisme.toml": [
        "unknown_organisme.toml: organismes.cnaff: unknown organisme; did you mean 'cnaf'? "
        "(allowed: cnam, cnaf, cnav, acoss, msa, rsi, tous)",
    ],
    "circular_a.toml": [
        "circular_b.toml: scenario.baseline = 'circular_a.toml': circular baseline "
        "(circular_a.toml -> circular_b.toml -> circular_a.toml) (allowed: a chain of baselines without a loop)",
    ],
    "missing_baseline.toml": [
        "missing_baseline.toml: scenario.baseline = 'no_such_baseline.toml': baseline file not found "
        "(allowed: an existing file relative to .)",
    ],
    "cross_bound_age.toml": [
        "cross_bound_age.toml: recrutement.age_moyen_entrants = 62.0: violates a cross-parameter bound "
        "(allowed: <= recrutement.age_max_entrants = 60)",
    ],
    "cross_bound_dates.toml": [  # one conflict, reported once
        "cross_bound_dates.toml: transfert_rsi.date_principale = 2020-01-01: violates a cross-parameter bound "
        "(allowed: >= transfert_rsi.date_gie = 2020-07-01)",
    ],
    "shares_sum.toml": [
        "shares_sum.toml: transfert_rsi.repartition = {cnam = 0.3, cnav = 0.3, acoss = 0.3}: shares sum to 0.9 "
        "(allowed: shares summing to 1)",
    ],
    "several_problems.toml": [
        "several_problems.toml: organismes.cnaf.taux_remplacment = 0.5: unknown key; did you mean "
        "'taux_remplacement'? (allowed: {orgp})",
        "several_problems.toml: organismes.cnaf.taux_autres_departs.2030 = 0.01: year outside the horizon 2013-2022 "
        "(allowed: a year from 2013 to 2022)",
        f"several_problems.toml: organismes.msa.taux_remplacement = -0.1: out of range (allowed: {NUMBER_0_3})",
        "several_problems.toml: organismes.msa.delai_recrutement = 2.5: wrong type (allowed: an integer in [0, 24])",
        "several_problems.toml: transfert_rsi.repartition = {cnam = 0.5, cnav = 0.6}: shares sum to 1.1 "
        "(allowed: shares summing to 1)",
        "several_problems.toml: gels_recrutement[0].fin = 2018-01-01: ends before it starts "
        "(allowed: a date after debut = 2019-01-01)",
    ],
    "chain_child.toml": [
        f"chain_child.toml: organismes.cnaf.taux_remplacement = 9: out of range (allowed: {NUMBER_0_3})",
        f"chain_base.toml: organismes.cnam.taux_remplacement = 'half': wrong type (allowed: {NUMBER_0_3})",
    ],
    "missing_header.toml": [
        "missing_header.toml: scenario: missing header table [scenario] (allowed: a [scenario] table with a title)",
    ],
    "unknown_section.toml": [
        "unknown_section.toml: transfert_rsii: unknown key; did you mean 'transfert_rsi'? (allowed: {sections})",
    ],
    "event_problems.toml": [
        "event_problems.toml: mutualisations[0].cout_transition: missing field "
        "(allowed: a number: Transition cost, spread evenly over the ramp-up)",
        "event_problems.toml: mutualisations[0].organisme = 'cnaff': unknown organisme "
        "(allowed: cnam, cnaf, cnav, acoss, msa, rsi)",
        "event_problems.toml: mutualisations[0].debut = 2019-01-15: not the first day of a month "
        "(the clock is monthly) (allowed: a date YYYY-MM-01 from 2013-01-01 to 2022-12-01)",
        "event_problems.toml: mutualisations[0].montee_en_charge_mois = 0: out of range "
        "(allowed: an integer in [1, 120])",
    ],
    "rsi_mutualisation_after_closure.toml": [
        "rsi_mutualisation_after_closure.toml: mutualisations[1].debut = 2020-01-01: the ex-RSI has no staff "
        "after the bulk transfer (allowed: a date before transfert_rsi.date_principale = 2020-01-01)",
    ],
}


@pytest.fixture(autouse=True)
def in_fixtures(monkeypatch):
    monkeypatch.chdir(FIXTURES)


def _messages(name: str) -> list[str]:
    with pytest.raises(InputError) as info:
        load_scenario(name)
    return [str(p) for p in info.value.problems]


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_exact_messages(name):
    expected = [m.format(orgp=organisme_parameters(), sections=sections()) if "{orgp}" in m or "{sections}" in m
                else m for m in EXPECTED[name]]
    assert _messages(name) == expected


def test_problem_fields_are_structured():
    with pytest.raises(InputError) as info:
        load_scenario("unknown_key.toml")
    (p,) = info.value.problems
    assert (p.file, p.path, p.value, p.severity) == ("unknown_key.toml", "organismes.cnaf.taux_remplacment", 0.5,
                                                     "error")
    assert str(info.value) == str(p)


def test_check_lists_the_problems_of_every_file():
    errors, warnings = check_scenarios(["unknown_key.toml", "out_of_range.toml", "good_minimal.toml",
                                        "soft_bound.toml"])
    assert [e.file for e in errors] == ["unknown_key.toml", "out_of_range.toml"]
    assert [w.file for w in warnings] == ["soft_bound.toml"]


def test_good_file_with_a_baseline_chain():
    sc = load_scenario("good_minimal.toml")
    assert sc.warnings == ()
    assert [p.name for p in sc.chain] == ["cog_2018_2022.toml", "good_minimal.toml"]
    # the baseline's value until 2018 (history: the calibrated 2018), the file's from 2019
    base = sc.baseline["organismes.cnaf.taux_remplacement"]
    assert sc.parametres["organismes.cnaf.taux_remplacement"][5:].tolist() == [base[5], 0.55, 0.55, 0.55, 0.55]
    assert base[6:].tolist() == [0.6] * 4


def test_command_line_overrides_are_validated():
    with pytest.raises(InputError) as info:
        load_scenario(COG, {"simulation.replicates": 0, "simulation.seed": -1})
    msgs = [str(p) for p in info.value.problems]
    assert msgs[0] == "command line: simulation.replicates = 0: out of range (allowed: an integer in [1, 100000])"
    # the upper bound is printed as 1.84467e+19 (see the report), so only the start is pinned
    assert msgs[1].startswith("command line: simulation.seed = -1: out of range (allowed: an integer in [0, ")
    assert len(msgs) == 2


def test_duplicate_year_in_an_inline_table_is_reported_with_its_line():
    # tomllib's own wording: it names the line and the key, but not the key path (see the report)
    assert _messages("duplicate_inline_key.toml") == [
        "duplicate_inline_key.toml: invalid TOML at line 5: Duplicate inline table key '2018' "
        "(allowed: TOML syntax (https://toml.io))"]


# ----------------------------------------------------------------------------- soft bounds
SOFT = ("soft_bound.toml: organismes.cnaf.taux_remplacement.2019 = 1.5: outside the usual range "
        "(allowed: a number <= 1.2)")


def test_soft_bound_is_a_warning_not_an_error():
    sc = load_scenario("soft_bound.toml")
    assert [str(w) for w in sc.warnings] == [SOFT]
    assert sc.warnings[0].severity == "warning"
    assert sc.parametres["organismes.cnaf.taux_remplacement"][6] == 1.5


def test_soft_bound_warning_is_recorded_in_the_run(tmp_path):
    from model.results.run import run_scenario

    res = run_scenario("soft_bound.toml", out=tmp_path / "run", deterministic=True)
    manifest = json.loads((tmp_path / "run" / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["warnings"] == [{
        "file": "soft_bound.toml", "path": "organismes.cnaf.taux_remplacement.2019", "value": "1.5",
        "message": "outside the usual range", "allowed": "a number <= 1.2", "severity": "warning"}]
    assert res.manifest["warnings"] == manifest["warnings"]
    assert SOFT in json.dumps(res.dataset.attrs["warnings"], ensure_ascii=False)


# ----------------------------------------------------------------------------- known gaps
def test_cross_bounds_are_reported_with_the_other_problems():
    msgs = _messages("mixed_cross_bound.toml")
    assert len(msgs) == 2
    assert msgs[1] == ("mixed_cross_bound.toml: recrutement.age_moyen_entrants = 62.0: violates a cross-parameter "
                       "bound (allowed: <= recrutement.age_max_entrants = 60)")


def test_freeze_through_december_2022_can_be_written(make_etat):
    from model.engine.simulation import simulate

    sc = load_scenario("freeze_to_end_of_2022.toml")
    etat = make_etat({("cnav", "cdi", 40): (100, 100.0)})
    par = sc.parametres.with_values({"organismes.cnav.taux_remplacement": np.ones(10)})
    tr = simulate(par, etat, mode="deterministic")
    assert tr.flux["recrutements"][108:, 0, 2].sum() == 0.0


def test_check_reports_a_missing_initial_state_file():
    errors, _ = check_scenarios(["missing_state_file.toml"])
    assert [e.path for e in errors] == ["etat_initial.fichier"]
