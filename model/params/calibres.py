"""The fitted-parameter file (``calibration/parametres_calibres.toml``, written by ``cogsim calibrate``):
read and validated like scenario values."""

from __future__ import annotations

from pathlib import Path
from typing import Any

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
