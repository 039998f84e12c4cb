"""Scenario files: load, validate (every problem at once), chain baselines, resolve parameters.

A scenario file is TOML: a ``[scenario]`` header (title, author, reference, baseline, description) and
only the changes against its baseline. ``baseline = "other.toml"`` (relative to the file) chains
scenarios; with no baseline the catalogue defaults are the baseline. For a parameter that varies by
year, a scalar sets every year and a table ``{2018 = 0.5, 2020 = 0.4}`` sets the value from each listed
year until the next listed year (and to the last year of the horizon after the last one); years before
the first listed year keep the baseline's values. The horizon (``simulation.premiere_annee`` and
``simulation.derniere_annee``, 2013-2022 by default) is read first: a year after it is refused, and so is
a year before it in the scenario itself (a baseline of the chain may state earlier years: history).

Examples
--------
>>> from model.params.scenario import load_scenario
>>> sc = load_scenario("scenarios/cog_2018_2022.toml")            # doctest: +SKIP
>>> sc.parametres["organismes.cnaf.taux_remplacement"]            # doctest: +SKIP
array([1.05, 0.95, 0.8 , 0.8 , 0.8 , 0.6 , 0.6 , 0.6 , 0.6 , 0.6 ])
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any

import numpy as np

from model.params.calendrier import HORIZON_DEFAUT, ORGANISMES, Horizon
from model.params.calibres import fenetre_calibration, parametres_calibres
from model.params.catalogue import load_catalogue, lookup
from model.params.classeur_scenario import est_un_classeur, lire_classeur, placer
from model.params.effectifs import read_csv
from model.params.errors import InputError, Problem
from model.params.lecture import lire_octets, lire_toml
from model.params.parametres import Parametres, horizon_de
from model.params.validation import (TOUS, Validator, cross_checks,
                                     resolve_value)


# ----------------------------------------------------------------------------- the scenario
@dataclass(frozen=True)
class Scenario:
    """A loaded, validated scenario.

    Attributes
    ----------
    file : the scenario file.
    header : the ``[scenario]`` table.
    chain : the files read, from the root baseline to this file.
    parametres : the fully resolved parameters.
    baseline : the parameters of the baseline (catalogue defaults, or the named baseline file).
    warnings : soft-bound warnings, recorded with the results.
    hashes : sha256 of every file read.
    """

    file: Path
    header: Mapping[str, str]
    chain: tuple[Path, ...]
    parametres: Parametres
    baseline: Parametres
    warnings: tuple[Problem, ...]
    hashes: Mapping[str, str]

    @property
    def name(self) -> str:
        return self.file.stem


@functools.cache
def default_parametres(horizon: Horizon = HORIZON_DEFAUT) -> Parametres:
    """The baseline: the catalogue defaults, resolved over ``horizon``, with the fitted parameters of
    ``calibration/parametres_calibres.toml`` on top (written by ``cogsim calibrate``)."""

    values = dict(catalogue_defaults(horizon))
    for path, raw in parametres_calibres().items():
        values[path] = resolve_value(lookup(path), raw, values[path], horizon)
    return Parametres(values)


@functools.cache
def catalogue_defaults(horizon: Horizon = HORIZON_DEFAUT) -> Parametres:
    """The catalogue defaults alone, resolved over ``horizon`` (before calibration)."""
    values: dict[str, Any] = {}
    for p in load_catalogue().values():
        if p.by_organisme:
            d = p.default
            for o in ORGANISMES:
                v = d[o] if isinstance(d, dict) and o in d else d
                values[f"organismes.{o}.{p.name}"] = resolve_value(p, v, None, horizon)
        else:
            values[p.path] = resolve_value(p, p.default, None, horizon)
    values["simulation.premiere_annee"], values["simulation.derniere_annee"] = horizon.premiere, horizon.derniere
    return Parametres(values)


def horizon_du_scenario(raws: list[dict], overrides: Mapping[str, Any] | None = None) -> Horizon:
    """The horizon a chain of raw scenario files sets (this file first, its baselines after; then the
    command-line ``overrides``): the last valid word on ``simulation.premiere_annee`` and
    ``simulation.derniere_annee``, the default horizon's years otherwise. An invalid value is left for
    the validation to report; a last year before the first is reported by the cross-parameter bounds."""
    annees = {"premiere_annee": HORIZON_DEFAUT.premiere, "derniere_annee": HORIZON_DEFAUT.derniere}
    for raw in reversed(raws):
        section = raw.get("simulation")
        if isinstance(section, dict):
            for k in annees:
                if _annee_valide(section.get(k)):
                    annees[k] = section[k]
    for k in annees:
        if overrides and _annee_valide(overrides.get(f"simulation.{k}")):
            annees[k] = overrides[f"simulation.{k}"]
    return Horizon(annees["premiere_annee"], max(annees["derniere_annee"], annees["premiere_annee"]))


def _annee_valide(v: Any) -> bool:
    p = lookup("simulation.premiere_annee")
    return isinstance(v, int) and not isinstance(v, bool) and p.min <= v <= p.max


# ----------------------------------------------------------------------------- reading files
def _read_toml(path: Path, shown: str, problems: list[Problem],
               cellules: dict[str, dict[str, str]] | None = None) -> dict | None:
    """Read a scenario file through the bounded reader; its problems go to ``problems``. A workbook
    (``.xlsx``, :mod:`model.params.classeur_scenario`) gives the same dict, and where each key came from
    (``cellules[shown]``)."""
    try:
        if est_un_classeur(path):
            raw, cells = lire_classeur(path, shown)
            if cellules is not None:
                cellules[shown] = cells
            return raw
        return lire_toml(path, shown, "TOML file")
    except InputError as exc:
        problems.extend(exc.problems)
        return None


def _places(problems: list[Problem], cellules: Mapping[str, Mapping[str, str]]) -> list[Problem]:
    """The problems of the workbooks of the chain placed in their sheet and cell."""
    for shown, cells in cellules.items():
        problems = placer(problems, shown, cells)
    return list(problems)


def file_hash(path: Path) -> str:
    """sha256 of a file, read through the bounded reader."""
    return hashlib.sha256(lire_octets(path, _shown(path))).hexdigest()


# ----------------------------------------------------------------------------- loading
def load_scenario(path: str | Path, overrides: Mapping[str, Any] | None = None,
                  overrides_source: str = "command line", jusqu_a: int | None = None) -> Scenario:
    """Load, validate and resolve a scenario file and its baseline chain.

    Parameters
    ----------
    path : the scenario file: TOML, or a workbook written by ``cogsim template`` (.xlsx).
    overrides : extra ``{path: raw value}`` changes applied last (command-line options), validated
        like file values and reported under ``overrides_source``.
    jusqu_a : the scenario's years from 2013 to ``jusqu_a`` only, whatever its horizon (years after it
        are accepted and not simulated): the run that hands its state at 31 December of ``jusqu_a`` to a
        scenario whose first year is the next one and that has no staff file.

    Raises
    ------
    InputError
        With every problem found in every file of the chain.
    """
    path = Path(path)
    problems: list[Problem] = []
    cellules: dict[str, dict[str, str]] = {}  # a workbook's key paths -> their sheet and cell
    raws: list[tuple[Path, str, dict]] = []
    seen: list[Path] = []
    current: Path | None = path
    referrer: tuple[str, str] | None = None
    while current is not None:
        shown = _shown(current)
        resolved = current.resolve()
        if resolved in seen:
            cycle = " -> ".join(_shown(s) for s in seen + [resolved])
            problems.append(Problem(referrer[0], "scenario.baseline", referrer[1], f"circular baseline ({cycle})",
                                    "a chain of baselines without a loop"))
            break
        seen.append(resolved)
        if referrer is not None and not current.exists():
            problems.append(Problem(referrer[0], "scenario.baseline", referrer[1], "baseline file not found",
                                    f"an existing file relative to {Path(referrer[0]).parent or '.'}"))
            break
        raw = _read_toml(current, shown, problems, cellules)
        if raw is None:
            break
        raws.append((current, shown, raw))
        head = raw.get("scenario")
        base = head.get("baseline") if isinstance(head, dict) and isinstance(head.get("baseline"), str) else None
        if base:
            referrer = (shown, base)
            current = current.parent / base
        else:
            current = None
    # the horizon first (the last word of the chain, then the command line): every year is checked against it
    horizon = horizon_du_scenario([raw for _, _, raw in raws], overrides)
    if jusqu_a is not None:
        horizon = Horizon(HORIZON_DEFAUT.premiere, jusqu_a)
    chain: list[tuple[Path, dict, list]] = []
    for i, (current, shown, raw) in enumerate(raws):
        v = Validator(shown, problems, horizon, passe=i > 0 or jusqu_a is not None, futur=jusqu_a is not None)
        header, changes = v.check_file(raw)
        chain.append((current, header, changes))
    override_changes: list = []
    if overrides:
        v = Validator(overrides_source, problems, horizon)
        for opath, value in overrides.items():
            p = lookup(opath)
            if p is None:
                v.unknown(opath, value, opath, [q for p in load_catalogue().values() for q in p.paths()])
            elif v.check_value(p, opath, value):
                parts = opath.split(".")
                if p.by_organisme and parts[1] == TOUS:  # every organisme, as in scenario files
                    override_changes.extend((p, f"organismes.{o}.{parts[2]}", value) for o in ORGANISMES)
                else:
                    override_changes.append((p, opath, value))

    # a file of the chain that could not be read leaves nothing to cross-check; otherwise the
    # cross-parameter bounds are checked on the valid values, so every problem is reported at once
    if any(p.severity == "error" and (not p.path or p.path == "scenario.baseline" or "duplicate key" in p.message)
           for p in problems):
        raise InputError(_places(problems, cellules))

    files = list(reversed(chain))  # root baseline first, this scenario last
    values = dict(default_parametres(horizon))
    baseline_values = dict(values)
    state_set_by: tuple[str, str] | None = None
    for i, (f, _header, changes) in enumerate(files + [(Path.cwd() / "_", {}, override_changes)]):
        if i == len(files) - 1:
            baseline_values = dict(values)
        for p, cpath, raw in changes:
            if cpath == "etat_initial.fichier" and raw:
                # a data file is relative to the scenario file that names it
                state_set_by = (overrides_source if i == len(files) else _shown(f), raw)
                raw = str(Path(raw) if Path(raw).is_absolute() else (f.parent / raw).resolve())
            values[cpath] = resolve_value(p, raw, values[cpath], horizon)
    if jusqu_a is not None:
        values["simulation.premiere_annee"], values["simulation.derniere_annee"] = horizon.premiere, horizon.derniere
        values["etat_initial.fichier"] = ""
    cross_checks(values, _shown(path), problems)
    if state_set_by is not None and values["etat_initial.fichier"]:
        _check_state_file(values["etat_initial.fichier"], state_set_by, problems,
                          ("rsi",) if horizon.mois_depuis_debut(values["transfert_rsi.date_principale"]) <= 0 else ())
    errors = [p for p in problems if p.severity == "error"]
    if errors:
        raise InputError(_places(problems, cellules))
    problems.extend(changements_dans_la_fenetre(values, _shown(path)))
    problems = _places(problems, cellules)
    header = chain[0][1]
    hashes = {_shown(f): file_hash(f) for f, _, _ in files}
    return Scenario(
        file=path,
        header=MappingProxyType(dict(header)),
        chain=tuple(f for f, _, _ in files),
        parametres=Parametres(values),
        baseline=Parametres(baseline_values),
        warnings=tuple(p for p in problems if p.severity == "warning"),
        hashes=MappingProxyType(hashes),
    )


# parameters that only say how to run, not what happened: never a change of the calibrated history
HORS_HISTOIRE = ("simulation.",)
# targets: what outcomes are checked against, never an input of the history (model/results/cibles.py)
CIBLES_NOMS = ("cible_", "delai_cible", "enveloppe_masse_salariale", "rmpp_cadrage")
CIBLES_CHEMINS = ("lpfp.",)


def est_une_cible(path: str) -> bool:
    """Whether ``path`` is a COG target (checked against outcomes) rather than policy or behaviour."""
    name = path.rsplit(".", 1)[-1]
    return name.startswith(CIBLES_NOMS) or path.startswith(CIBLES_CHEMINS)


def changements_dans_la_fenetre(values: Mapping[str, Any], shown: str) -> list[Problem]:
    """Warnings for every parameter whose value differs from the calibrated baseline inside the
    calibration window (by-year values up to its last year, events or dates in it, any other value):
    a scenario states policy from the end of the window on and inherits the calibrated behaviour and
    history, so a change there is named (``check``, ``run`` and the manifest show it)."""
    debut, fin = fenetre_calibration()
    h = horizon_de(values)
    base = default_parametres(h)
    out: list[Problem] = []
    connus = set(base)
    for path, v in values.items():
        if path.startswith(HORS_HISTOIRE) or est_une_cible(path) or path not in connus:
            continue
        b = base[path]
        p = lookup(path)
        if p.by_year:
            n = max(fin - h.premiere + 1, 0)
            va, vb = np.asarray(v, float)[:n], np.asarray(b, float)[:n]
            diff = [h.premiere + i for i in range(len(va)) if not (va[i] == vb[i] or (np.isnan(va[i]) and np.isnan(vb[i])))]
            if diff:
                out.append(_avertir(shown, path, {str(y): float(va[y - h.premiere]) for y in diff}, debut, fin))
        elif p.type == "events":
            dates = [x for e in v if e not in b for x in e.values() if isinstance(x, dt.date)]
            dates += [x for e in b if e not in v for x in e.values() if isinstance(x, dt.date)]
            if any(d.year <= fin for d in dates):
                out.append(_avertir(shown, path, [dict(e) for e in v if e not in b], debut, fin))
        elif p.type == "date":
            if v != b and min(v, b).year <= fin:
                out.append(_avertir(shown, path, v, debut, fin))
        elif v != b:
            out.append(_avertir(shown, path, v, debut, fin))
    return out


def _avertir(shown: str, path: str, value: Any, debut: int, fin: int) -> Problem:
    return Problem(shown, path, value, f"changes the calibrated {debut}-{fin} history: this parameter is "
                   "behaviour or past policy the calibration fitted or used",
                   f"policy changes after {fin}; change the calibration data to change the history",
                   severity="warning")


def _check_state_file(fichier: str, set_by: tuple[str, str], problems: list[Problem],
                      fermes: tuple[str, ...] = ()) -> None:
    """Read the initial-state CSV a scenario names, so that ``check`` reports its problems too."""

    if not Path(fichier).exists():  # anything else that is not a regular file is refused by read_csv
        problems.append(Problem(set_by[0], "etat_initial.fichier", set_by[1], f"file not found ({fichier})",
                                "a CSV file, relative to the scenario file that names it"))
        return
    try:
        read_csv(fichier, fermes)
    except InputError as exc:
        problems.extend(exc.problems)


def _shown(path: Path) -> str:
    """A path as the user should read it: relative to the working directory when possible."""
    try:
        return str(Path(path).resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def check_scenarios(paths: list[str | Path]) -> tuple[list[Problem], list[Problem]]:
    """Validate several files; returns (errors, warnings) over all of them."""
    errors: list[Problem] = []
    warnings: list[Problem] = []
    for p in paths:
        try:
            sc = load_scenario(p)
            warnings.extend(sc.warnings)
        except InputError as exc:
            errors.extend(exc.problems)
    return errors, warnings
