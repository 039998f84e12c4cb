"""The parameter catalogue: every parameter declared once, in data (``catalogue.toml``).

A parameter is addressed by its dotted path as written in scenario files. Parameters that vary by
organisme are declared with a ``*`` in place of the organisme (``organismes.*.taux_remplacement``) and
resolved per organisme (``organismes.cnaf.taux_remplacement``).
"""

from __future__ import annotations

import functools
import math
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from model.params.calendrier import ORGANISMES

CATALOGUE_FILE = Path(__file__).with_name("catalogue.toml")
TYPES = ("float", "int", "str", "date", "bool", "table", "shares", "events")


@dataclass(frozen=True)
class Parameter:
    """One catalogue entry (see the header of ``catalogue.toml`` for the fields)."""

    path: str
    title: str
    title_fr: str
    unit: str
    type: str
    default: Any
    source: str
    by_year: bool = False
    min: float | str | None = None
    max: float | str | None = None
    warn_min: float | None = None
    warn_max: float | None = None
    estimated: bool = False
    choices: tuple[str, ...] | None = None
    keys: tuple[str, ...] | None = None
    key_min: float | None = None
    key_max: float | None = None
    key: str | None = None
    fields: dict[str, dict] = field(default_factory=dict)
    plage: dict | None = None

    @property
    def by_organisme(self) -> bool:
        return self.path.startswith("organismes.*.")

    @property
    def name(self) -> str:
        """Last component of the path (``taux_remplacement``)."""
        return self.path.rsplit(".", 1)[-1]

    def paths(self) -> list[str]:
        """Resolved paths: one per organisme for organisme parameters."""
        if self.by_organisme:
            return [f"organismes.{o}.{self.name}" for o in ORGANISMES]
        return [self.path]

    def allowed(self) -> str:
        """Human description of what values are allowed."""
        kind = {"float": "a number", "int": "an integer", "str": "a string", "date": "a date YYYY-MM-01",
                "bool": "true or false", "table": "a table {key = number}",
                "shares": "a table of shares summing to 1", "events": "an array of tables"}[self.type]
        parts = [kind]
        if self.choices:
            parts = ["one of " + ", ".join(repr(c) for c in self.choices)]
        if self.type in ("float", "int", "table", "date"):
            lo = _fmt_bound(self.min)
            hi = _fmt_bound(self.max)
            if lo is not None and hi is not None:
                parts.append(f"in [{lo}, {hi}]")
            elif lo is not None:
                parts.append(f">= {lo}")
            elif hi is not None:
                parts.append(f"<= {hi}")
        if self.type == "shares" and self.keys:
            parts.append("keys " + ", ".join(self.keys))
        if self.by_year:
            parts.append("or a table {year = value} for years of the horizon (simulation.premiere_annee to derniere_annee)")
        return " ".join(parts)


def _fmt_bound(b: Any) -> str | None:
    if b is None:
        return None
    if isinstance(b, float) and math.isinf(b):
        return "inf" if b > 0 else "-inf"
    return str(b)


class CatalogueError(Exception):
    """The catalogue file itself is malformed (a bug in the package data, exit code 1)."""


def catalogue_files() -> list[Path]:
    """``catalogue.toml`` then the ``catalogue_*.toml`` files beside it (one per model layer)."""
    return [CATALOGUE_FILE] + sorted(CATALOGUE_FILE.parent.glob("catalogue_*.toml"))


@functools.cache
def load_catalogue() -> dict[str, Parameter]:
    """Read the catalogue files and return the parameters by declared path."""
    params: dict[str, Parameter] = {}
    for path in catalogue_files():
        with open(path, "rb") as f:
            raw = tomllib.load(f)
        _add_entries(path, raw, params)
    return params


def _add_entries(path: Path, raw: dict, params: dict[str, Parameter]) -> None:
    for entry in raw.get("parametre", []):
        entry = dict(entry)
        if entry.get("type") not in TYPES:
            raise CatalogueError(f"{path}: {entry.get('path')}: unknown type {entry.get('type')!r}")
        for tup in ("choices", "keys"):
            if tup in entry:
                entry[tup] = tuple(entry[tup])
        p = Parameter(**entry)
        check_plage(path, p)
        if p.path in params:
            raise CatalogueError(f"{path}: parameter {p.path} declared twice")
        params[p.path] = p


PLAGE_MODES = ("echelle", "decalage")


def check_plage(path: Path, p: Parameter) -> None:
    """A ``plage`` (the stated range of an estimated parameter that stochastic replicates draw from,
    ``model.params.incertitude``) is ``{echelle = [lo, hi], source = "..."}`` (a factor on the value) or
    ``{decalage = [lo, hi], source = "..."}`` (added to it), on an estimated float or table parameter."""
    if p.plage is None:
        return
    modes = [m for m in PLAGE_MODES if m in p.plage]
    ok = (isinstance(p.plage, dict) and len(modes) == 1 and set(p.plage) == {modes[0], "source"}
          and isinstance(p.plage["source"], str) and p.plage["source"].strip()
          and isinstance(p.plage[modes[0]], list) and len(p.plage[modes[0]]) == 2
          and all(isinstance(x, (int, float)) and math.isfinite(x) for x in p.plage[modes[0]])
          and p.plage[modes[0]][0] < p.plage[modes[0]][1])
    if not ok or not p.estimated or p.type not in ("float", "table"):
        raise CatalogueError(f"{path}: {p.path}: plage must be {{echelle|decalage = [low, high], source = \"...\"}} "
                             f"with low < high, on an estimated float or table parameter (got {p.plage!r})")


def lookup(path: str) -> Parameter | None:
    """The catalogue entry for a resolved path (``organismes.cnaf.taux_remplacement``)."""
    cat = load_catalogue()
    parts = path.split(".")
    if len(parts) == 3 and parts[0] == "organismes":
        return cat.get(f"organismes.*.{parts[2]}")
    return cat.get(path)


def organisme_names() -> list[str]:
    """Names of the parameters that vary by organisme."""
    return [p.name for p in load_catalogue().values() if p.by_organisme]


def section_names(section: str) -> list[str]:
    """Names of the parameters directly under a top-level section."""
    return [p.path.split(".", 1)[1] for p in load_catalogue().values()
            if "." in p.path and p.path.split(".", 1)[0] == section and not p.by_organisme]


def top_level_names() -> list[str]:
    names = {p.path.split(".", 1)[0] for p in load_catalogue().values()}
    return sorted(names)
