"""The telephone response curves read from disk (the cache under COGSIM_CACHE_DIR and the shipped file)
are checked before use: a malformed or poisoned file is never used, it is recomputed and replaced."""

from __future__ import annotations

import json

import numpy as np
import pytest

from model.service import telephonie as tel

# a small platform (a handful of agents): its curve simulates in a fraction of a second
J = tel.Journee(appels_jour=300.0, profil=(0.25, 0.25, 0.25, 0.25), duree=4.0, patience=6.0, adaptation=0.5,
                jours=1, graine=7)


@pytest.fixture
def cache(tmp_path, monkeypatch):
    """A temporary cache folder, an empty memo and no shipped curves."""
    monkeypatch.setenv(tel.CACHE_ENV, str(tmp_path))
    monkeypatch.setattr(tel, "_MEMOIRE", {})
    monkeypatch.setattr(tel, "_shipped", lambda: {})
    return tmp_path


@pytest.fixture(scope="module")
def reference():
    """The curve of J, simulated without any cache."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(tel.CACHE_ENV, "off")
        mp.setattr(tel, "_MEMOIRE", {})
        mp.setattr(tel, "_shipped", lambda: {})
        return tel.courbe_reponse(J)


def _same(a: tel.Courbe, b: tel.Courbe) -> bool:
    return all(np.array_equal(getattr(a, k), getattr(b, k)) for k in ("agents", "taux_aboutis", "attente"))


def _fresh(monkeypatch):
    monkeypatch.setattr(tel, "_MEMOIRE", {})


def test_cache_written_then_read(cache, reference, monkeypatch):
    c = tel.courbe_reponse(J)
    assert _same(c, reference)
    fichier = tel._cache_file(J)
    assert fichier.parent.parent == cache and fichier.exists()
    _fresh(monkeypatch)
    monkeypatch.setattr(tel, "simuler_journee", lambda *a: pytest.fail("a valid cache file was not used"))
    assert _same(tel.courbe_reponse(J), reference)


def _poisoned(reference: tel.Courbe, **changes) -> str:
    d = {k: getattr(reference, k).tolist() for k in ("agents", "taux_aboutis", "attente")}
    d.update(changes)
    return json.dumps(d)


@pytest.mark.parametrize("content", [
    "{not json",
    "",
    "[1, 2, 3]",
    '{"agents": [1, 2], "taux_aboutis": [0.5, 0.6], "attente": [1, 0.5]}',  # wrong shape / grid
    "POISON_RATE",  # 750 % answer rate
    "NEGATIVE_WAIT",
    "NAN",
    "STRINGS",
    "MISSING_KEY",
])
def test_bad_cache_file_is_not_used_and_replaced(cache, reference, monkeypatch, content):
    tel.courbe_reponse(J)
    fichier = tel._cache_file(J)
    n = len(reference.agents)
    content = {
        "POISON_RATE": _poisoned(reference, taux_aboutis=[7.5] * n),
        "NEGATIVE_WAIT": _poisoned(reference, attente=[-1.0] * n),
        "NAN": _poisoned(reference, taux_aboutis=[float("nan")] * n),
        "STRINGS": _poisoned(reference, agents=[str(a) for a in reference.agents]),
        "MISSING_KEY": json.dumps({"agents": reference.agents.tolist()}),
    }.get(content, content)
    fichier.write_text(content, encoding="utf-8")
    _fresh(monkeypatch)
    c = tel.courbe_reponse(J)
    assert _same(c, reference)
    assert (c.taux_aboutis <= 1).all() and (c.attente >= 0).all()
    # the bad file was replaced by the recomputed curve, and no temporary file is left behind
    assert tel.courbe_valide(json.loads(fichier.read_text(encoding="utf-8")), J) is not None
    assert [p.name for p in fichier.parent.iterdir()] == [fichier.name]


def test_oversized_cache_file_is_not_read(cache, reference, monkeypatch):
    tel.courbe_reponse(J)
    fichier = tel._cache_file(J)
    fichier.write_text(" " * (tel.CACHE_MAX_BYTES + 1) + _poisoned(reference, taux_aboutis=[7.5] * len(reference.agents)))
    _fresh(monkeypatch)
    assert _same(tel.courbe_reponse(J), reference)


def test_poisoned_shipped_curve_is_not_used(cache, reference, monkeypatch):
    n = len(reference.agents)
    bad = json.loads(_poisoned(reference, taux_aboutis=[7.5] * n))
    monkeypatch.setattr(tel, "_shipped", lambda: {tel.cle(J): bad})
    c = tel.courbe_reponse(J)
    assert _same(c, reference)


def test_the_shipped_curves_are_valid():
    """Every shipped curve passes the checks (else the shipped scenarios would recompute them)."""
    data = json.loads(tel.SHIPPED.read_text(encoding="utf-8"))
    assert data
    for key, d in data.items():
        j = tel.Journee(**{k: tuple(v) if isinstance(v, list) else v for k, v in d["journee"].items()})
        assert tel.cle(j) == key
        assert tel.courbe_valide(d, j) is not None, key


def test_poisoned_cache_does_not_reach_a_run(tmp_path, monkeypatch):
    """End to end: a scenario whose curves are not shipped, with every cached curve poisoned (750 %)."""
    from model.results.run import run_scenario

    scenario = tmp_path / "appels.toml"
    scenario.write_text('[scenario]\ntitle = "appels"\nbaseline = "%s"\n[organismes.cnaf]\nduree_moyenne_appel = 7.5\n'
                        % (tel.SHIPPED.parents[2] / "scenarios" / "cog_2018_2022.toml").as_posix(),
                        encoding="utf-8")
    monkeypatch.setenv(tel.CACHE_ENV, str(tmp_path / "cache"))
    monkeypatch.setattr(tel, "_MEMOIRE", {})
    good = run_scenario(scenario, deterministic=True, write=False).dataset["taux_appels_aboutis"]
    cached = sorted((tmp_path / "cache" / "telephonie").glob("*.json"))
    assert cached  # the CNAF platform's curves were simulated and cached
    for f in cached:
        d = json.loads(f.read_text())
        f.write_text(json.dumps({**d, "taux_aboutis": [7.5] * len(d["agents"])}))
    monkeypatch.setattr(tel, "_MEMOIRE", {})
    again = run_scenario(scenario, deterministic=True, write=False).dataset["taux_appels_aboutis"]
    assert float(np.nanmax(again.values)) <= 1.0
    np.testing.assert_array_equal(again.values, good.values)
