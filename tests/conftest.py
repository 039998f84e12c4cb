"""Shared fixtures of the cogsim test suite.

Tiny cases are built directly: an ``EtatInitial`` with a handful of persons (``make_etat``) and a
parameter set in which nothing happens unless a test asks for it (``make_par``: no retirement, no
other exit, no hire; the catalogue's transfer and calendar parameters are kept).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
from pathlib import Path

import numpy as np
import pytest

from model.params.calendrier import AGES, CONTRATS, HORIZON_DEFAUT, ORGANISMES
from model.engine.etat_initial import reconstruct
from model.params.effectifs import EtatInitial
from model.params.scenario import default_parametres, load_scenario

# the command line speaks French unless told otherwise (--lang, COGSIM_LANG): most tests check the messages
# as the library writes them, in English; the tests of the French texts pass --lang fr (or clear this)
os.environ["COGSIM_LANG"] = "en"

# the default horizon (2013-2022) the tests' fixtures are built on
ANNEES = HORIZON_DEFAUT.annees

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = ROOT / "scenarios"
FIXTURES = Path(__file__).resolve().parent / "fixtures"
COG = SCENARIOS / "cog_2018_2022.toml"
Y = len(ANNEES)


def by_year(value: float) -> np.ndarray:
    """A by-year parameter value (read-only array over 2013-2022), as the scenario loader makes them."""
    a = np.full(Y, float(value))
    a.setflags(write=False)
    return a


def quiet_changes() -> dict:
    """Parameter changes that switch every flow off: no retirement before the age limit, no other exit,
    no hire of any kind, no ceiling, no mutualisation."""
    ch: dict = {"departs.hazard_retraite": ((-20.0, 0.0), (20.0, 0.0)), "mutualisations": ()}
    for o in ORGANISMES:
        ch[f"organismes.{o}.taux_autres_departs"] = by_year(0.0)
        ch[f"organismes.{o}.taux_remplacement"] = by_year(0.0)
        ch[f"organismes.{o}.taux_remplacement_autres_departs"] = by_year(0.0)
        ch[f"organismes.{o}.plafond_annee_base"] = 0
        ch[f"organismes.{o}.marge_plafond"] = 0.0
        ch[f"organismes.{o}.taux_renouvellement_cdd"] = by_year(0.0)
        ch[f"organismes.{o}.recrutements_supplementaires"] = by_year(0.0)
        ch[f"organismes.{o}.plafond_emplois"] = by_year(np.inf)
    return ch


def _make_par(changes: dict | None = None):
    """Catalogue defaults with every flow switched off, then ``changes`` (already resolved values;
    plain numbers for by-year parameters are turned into by-year arrays). A test that sets an
    organisme's ``taux_remplacement`` (retirements) and not its ``taux_remplacement_autres_departs``
    gets the same rate for the other exits: "every departure replaced" in the tiny cases."""
    base = default_parametres()
    ch = quiet_changes()
    changes = dict(changes or {})
    for k, v in list(changes.items()):
        if k.endswith(".taux_remplacement"):
            changes.setdefault(k + "_autres_departs", v)
    for k, v in changes.items():
        if isinstance(base[k], np.ndarray) and np.ndim(v) == 0:
            v = by_year(v)
        ch[k] = v
    return base.with_values(ch)


def _make_etat(cells: dict) -> EtatInitial:
    """``{(organisme, contrat, age attained in 2012): (persons, etp)}`` -> EtatInitial."""
    n = np.zeros((len(ORGANISMES), len(CONTRATS), len(AGES)))
    e = np.zeros_like(n)
    for (org, con, age), (persons, etp) in cells.items():
        i = (ORGANISMES.index(org), CONTRATS.index(con), AGES.index(age))
        n[i] += persons
        e[i] += etp
    return EtatInitial(n, e, "tiny test state", False)


def gel(nom, organisme, debut, fin, contrats="cdi"):
    return {"nom": nom, "organisme": organisme, "debut": debut, "fin": fin, "contrats": contrats}


def vague(nom, organisme, debut, mois, part, gain, cout):
    return {"nom": nom, "organisme": organisme, "debut": debut, "montee_en_charge_mois": mois,
            "part_effectifs": part, "gain_productivite": gain, "cout_transition": cout}


def d(y: int, m: int) -> dt.date:
    return dt.date(y, m, 1)


@pytest.fixture(scope="session")
def make_par():
    return _make_par


@pytest.fixture(scope="session")
def make_etat():
    return _make_etat


@pytest.fixture(scope="session")
def cog():
    """The default scenario, loaded."""
    return load_scenario(COG)


@pytest.fixture(scope="session")
def cog_sans_incertitude(tmp_path_factory) -> Path:
    """The default scenario with the dice only: its replicates keep the fitted parameters at their
    estimates (``simulation.incertitude_parametres = false``), so their mean converges to the deterministic
    run (with the parameters drawn it does not: some estimates sit at a bound, docs/methode.md)."""
    path = tmp_path_factory.mktemp("sans_incertitude") / "cog_sans_incertitude.toml"
    path.write_text(f'[scenario]\ntitle = "COG 2018-2022, dice only"\nbaseline = "{COG}"\n'
                    "[simulation]\nincertitude_parametres = false\n", encoding="utf-8")
    return path


@pytest.fixture(scope="session")
def cog_etat0(cog):
    return reconstruct(cog.parametres)


def copy_run_with_header(src: Path, dest: Path, **header: str) -> Path:
    """A copy of the saved run ``src`` at ``dest`` whose scenario header (in ``manifest.json``, and the
    title in ``results.nc``) holds ``header``: a planted long title, author, description..."""
    import xarray as xr

    shutil.copytree(src, dest)
    m = json.loads((dest / "manifest.json").read_text(encoding="utf-8"))
    m["scenario"]["header"].update(header)
    (dest / "manifest.json").write_text(json.dumps(m), encoding="utf-8")
    if "title" in header:
        with xr.open_dataset(dest / "results.nc") as ds:
            ds = ds.load()
        ds.attrs["title"] = header["title"]
        ds.to_netcdf(dest / "results.tmp.nc")
        (dest / "results.tmp.nc").replace(dest / "results.nc")
    return dest
