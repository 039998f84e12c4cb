"""The fitted-parameter file (``calibration/parametres_calibres.toml``, written by ``cogsim calibrate``):
read and validated like scenario values; its fitted scalars with their estimated covariance (what the
parameter draws of :mod:`model.params.incertitude` rest on)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from model.params.calendrier import HORIZON_DEFAUT, ORGANISMES
from model.params.catalogue import lookup
from model.params.errors import InputError, Problem
from model.params.lecture import lire_toml
from model.params.validation import Validator

ROOT = Path(__file__).resolve().parents[2]  # the project folder (model/<layer>/<module>.py)
CALIBRATION_FILE = ROOT / "calibration" / "parametres_calibres.toml"


FENETRE_DEFAUT = (2013, 2018)  # the calibration window when the file does not say


def fenetre_calibration(path: str | Path = CALIBRATION_FILE) -> tuple[int, int]:
    """The years the fitted parameters were calibrated on (``[provenance] fenetre``)."""
    path = Path(path)
    if not path.exists():
        return FENETRE_DEFAUT
    f = lire_toml(path, str(path), "TOML file").get("provenance", {}).get("fenetre", FENETRE_DEFAUT)
    return (int(f[0]), int(f[1])) if isinstance(f, list) and len(f) == 2 else FENETRE_DEFAUT


def parametres_calibres(path: str | Path = CALIBRATION_FILE) -> dict[str, Any]:
    """``{parameter path: raw TOML value}`` of the fitted parameters, validated like scenario values.

    Returns ``{}`` when the file does not exist (the baseline is then the catalogue defaults).

    Raises
    ------
    InputError
        An unreadable file, an unknown path or a value out of its catalogue bounds (file, key path,
        value and what is allowed).
    """
    path = Path(path)
    if not path.exists():
        return {}
    problems: list[Problem] = []
    raw = lire_toml(path, str(path), "TOML file")  # bounded: a regular UTF-8 file of at most 4 MiB
    vals = raw.get("parametres")
    if not isinstance(vals, dict):
        raise InputError([Problem(str(path), "parametres", "", "missing table", "a [parametres] table")])
    v = Validator(str(path), problems)
    out: dict[str, Any] = {}
    for k, x in vals.items():
        p = lookup(k)
        if p is None:
            problems.append(Problem(str(path), f"parametres.{k}", x, "unknown parameter", "a catalogue path"))
        elif v.check_value(p, k, x):
            out[k] = x
    if any(p.severity == "error" for p in problems):
        raise InputError(problems)
    return out


# --------------------------------------------------------------------------- fitted scalars and covariance
MODES = ("valeur", "decalage", "echelle")


@dataclass(frozen=True)
class ScalaireAjuste:
    """One fitted scalar θ of the file (an ``[ajustement.<nom>]`` block) and how it sets parameters.

    ``chemins``: the resolved parameter paths it sets; ``mode``: ``valeur`` (θ is the value),
    ``decalage`` (added to the catalogue value, except where that is 0) or ``echelle`` (multiplies it;
    a table is then clipped to the parameter's upper bound); ``annees``: the years it sets of a by-year
    parameter (None: every year); ``valeur``: the estimate θ̂; ``erreur_type``: its standard error;
    ``bornes``: the bounds θ was fitted within.
    """

    nom: str
    chemins: tuple[str, ...]
    mode: str
    valeur: float
    erreur_type: float
    bornes: tuple[float, float]
    annees: tuple[int, ...] | None = None


def ajustements_calibres(path: str | Path = CALIBRATION_FILE) -> tuple[list[ScalaireAjuste], np.ndarray] | None:
    """The fitted scalars of the file and the correlation matrix of their estimates (``[covariance]``), in
    the order of ``[covariance] ordre``; None when the file does not exist or predates the covariance.

    Raises
    ------
    InputError
        A block or matrix that is not what ``cogsim calibrate`` writes (file, key path, value and what is
        allowed): a missing field, an unknown path or mode, bounds or years out of range, a correlation
        matrix of the wrong shape, not symmetric or out of [-1, 1].
    """
    path = Path(path)
    if not path.exists():
        return None
    shown = str(path)
    raw = lire_toml(path, shown, "TOML file")
    cov = raw.get("covariance")
    if cov is None:
        return None
    problems: list[Problem] = []
    aj = raw.get("ajustement", {})
    ordre = cov.get("ordre") if isinstance(cov, dict) else None
    if not isinstance(ordre, list) or not all(isinstance(n, str) for n in ordre) or len(set(ordre)) != len(ordre):
        raise InputError([Problem(shown, "covariance.ordre", ordre, "not a list of distinct names",
                                  "the names of the [ajustement] blocks, each once")])
    out: list[ScalaireAjuste] = []
    for nom in ordre:
        b = aj.get(nom) if isinstance(aj, dict) else None
        if not isinstance(b, dict):
            problems.append(Problem(shown, f"ajustement.{nom}", "", "no such block", "an [ajustement] block per "
                                    "name of covariance.ordre"))
            continue
        sc = _scalaire(shown, nom, b, problems)
        if sc is not None:
            out.append(sc)
    corr = cov.get("correlation")
    n = len(ordre)
    try:
        c = np.array(corr, dtype=float)
    except (TypeError, ValueError):
        c = np.zeros(0)
    if c.shape != (n, n) or not np.allclose(c, c.T, atol=1e-3) or np.any(np.abs(c) > 1 + 1e-9) \
            or not np.allclose(np.diag(c), 1.0, atol=1e-3):
        problems.append(Problem(shown, "covariance.correlation", f"{c.shape} array", "not a correlation matrix",
                                f"{n} rows of {n} numbers in [-1, 1], symmetric, 1 on the diagonal"))
    if problems:
        raise InputError(problems)
    return out, c


def _resolu(path: str) -> bool:
    """A resolved catalogue path (``organismes.cnaf.marge_plafond``, ``remuneration.ratio_salaire_entrant``)?"""
    p = lookup(path)
    return p is not None and (not p.by_organisme or path.split(".")[1] in ORGANISMES)


def _scalaire(shown: str, nom: str, b: dict, problems: list[Problem]) -> ScalaireAjuste | None:
    """One ``[ajustement.<nom>]`` block, checked; its problems go to ``problems``."""
    key = f"ajustement.{nom}"
    n0 = len(problems)
    nombre = lambda x: isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)  # noqa: E731
    for champ in ("valeur", "erreur_type"):
        if not nombre(b.get(champ)):
            problems.append(Problem(shown, f"{key}.{champ}", b.get(champ, ""), "missing or not a finite number",
                                    "a number"))
    if nombre(b.get("erreur_type")) and b["erreur_type"] < 0:
        problems.append(Problem(shown, f"{key}.erreur_type", b["erreur_type"], "negative", ">= 0"))
    if b.get("mode") not in MODES:
        problems.append(Problem(shown, f"{key}.mode", b.get("mode", ""), "unknown mode", ", ".join(MODES)))
    chemins = b.get("chemins")
    if not isinstance(chemins, list) or not chemins or not all(isinstance(c, str) and _resolu(c) for c in chemins):
        problems.append(Problem(shown, f"{key}.chemins", chemins, "not a list of catalogue paths",
                                "resolved catalogue paths (organismes.cnaf.marge_plafond)"))
    bornes = b.get("bornes")
    if not (isinstance(bornes, list) and len(bornes) == 2 and all(nombre(x) for x in bornes) and bornes[0] <= bornes[1]):
        problems.append(Problem(shown, f"{key}.bornes", bornes, "not two increasing numbers", "[low, high]"))
    annees = b.get("annees")
    if annees is not None and not (isinstance(annees, list) and annees and
                                   all(isinstance(y, int) and y in HORIZON_DEFAUT for y in annees)):
        problems.append(Problem(shown, f"{key}.annees", annees, "not a list of model years",
                                f"years {HORIZON_DEFAUT}"))
    if len(problems) > n0:
        return None
    return ScalaireAjuste(nom, tuple(chemins), b["mode"], float(b["valeur"]), float(b["erreur_type"]),
                          (float(bornes[0]), float(bornes[1])), tuple(annees) if annees is not None else None)
