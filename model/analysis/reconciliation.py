"""Reconciliation of the published totals with the model: published figure → perimeters summed → model
value → gap, row by row (``calibration/reconciliation.csv``; the table of ``calibration/README.md``).

Each row names a published figure (with its source id in ``../shared/data``), the model variable on the
same perimeter (a published-perimeter staff total, :mod:`model.budget.perimetres`; a budget block,
:mod:`model.budget.gestion`; a COG unit cost), the aggregate (an organisme, ``regime_general`` or
``total``), a tolerance (relative % for levels, points for shares) and whether the figure is reproduced
exactly by construction (a level parameter was set on it: ``construction``) or is out of any fit
(``hors_ajustement``), and whether it is one of the totals a planner quotes whose tolerance is a goal
(``goal``: the test suite holds the model to it; the other rows are informative, each miss explained in its
note). The budget totals of all COG régimes also cover the other COG régimes (régimes spéciaux
...), which the model does not simulate: they are added as a share ``perimetre.part_autres_regimes`` of the
all-régime total.

The model value is the mean over the replicates of the Dataset given (the shipped table is computed on the
expected-value run of the default scenario: :func:`reconciliation_par_defaut`).
"""

from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import xarray as xr

from model.params.lecture import lire_texte
from model.params.parametres import Parametres
from model.results.dataset import aggregate_values
from model.results.run import run_scenario

ROOT = Path(__file__).resolve().parents[2]
RECONCILIATION_FILE = ROOT / "calibration" / "reconciliation.csv"
DEFAULT_SCENARIO = ROOT / "scenarios" / "cog_2018_2022.toml"

# the parts each published-perimeter variable is the sum of (the rest are single blocks)
PARTIES: dict[str, tuple[str, ...]] = {
    "effectif_31dec_publie": ("effectif_31dec", "effectif_hors_cog"),
    "effectif_moyen_publie": ("effectif_moyen", "effectif_hors_cog"),
    "etpma_publie": ("etpma", "etp_hors_cog"),
    "depenses_gestion": ("depenses_personnel", "adf", "autres_depenses_limitatives", "investissement"),
    "depenses_limitatives": ("depenses_personnel", "adf", "autres_depenses_limitatives"),
}
AUTRES_REGIMES = "autres régimes COG"


@dataclass(frozen=True)
class Ligne:
    """One published figure and the model's value on its perimeter."""

    id: str
    figure: str
    variable: str
    organisme: str
    year: int
    publie: float
    unit: str
    kind: str  # level | share
    autres_regimes: bool
    tolerance: float  # % (level) or points (share)
    fit: str  # construction | hors_ajustement
    goal: bool  # a row of the issue-15 gap table: its tolerance is a goal (tests/test_perimetres_gestion.py)
    source_id: str
    note: str
    modele: float = math.nan
    parties: tuple[tuple[str, float], ...] = ()

    @property
    def ecart(self) -> float:
        """Relative gap in % (levels) or difference in points (shares)."""
        if self.kind == "share":
            return self.modele - self.publie
        return 100.0 * (self.modele / self.publie - 1.0)

    @property
    def dans_tolerance(self) -> bool:
        return bool(abs(self.ecart) <= self.tolerance)


def lire_lignes(path: Path = RECONCILIATION_FILE) -> list[Ligne]:
    """The rows of ``calibration/reconciliation.csv`` (bounded reader)."""
    rows = csv.DictReader(io.StringIO(lire_texte(path, path.name)))
    return [Ligne(id=r["id"], figure=r["figure"], variable=r["variable"], organisme=r["organisme"],
                  year=int(r["year"]), publie=float(r["value"]), unit=r["unit"], kind=r["kind"],
                  autres_regimes=r["autres_regimes"] == "true", tolerance=float(r["tolerance"]), fit=r["fit"],
                  goal=r["goal"] == "true",
                  source_id=r["source_id"], note=r["note"] or "") for r in rows]


def valeur(ds: xr.Dataset, variable: str, organisme: str, year: int) -> float:
    """Mean over the replicates of ``variable`` for an organisme or aggregate row, in a year."""
    orgs = list(ds["organisme"].values) + ["regime_general", "total"]
    values = aggregate_values(ds, variable)  # (year, organisme + aggregates, replicate)
    y = list(ds["year"].values).index(year)
    return float(np.nanmean(values[y, orgs.index(organisme)]))


def reconcilier(ds: xr.Dataset, par: Parametres, lignes: list[Ligne] | None = None) -> list[Ligne]:
    """Each published figure against the model on its perimeter.

    Parameters
    ----------
    ds : a run's Dataset (every variable of :mod:`model.results.dataset`).
    par : the run's parameters (``perimetre.part_autres_regimes``).
    lignes : the figures (default: :func:`lire_lignes`).

    Returns
    -------
    list[Ligne]
        The rows with ``modele`` (in the published unit: % for shares) and ``parties`` (each part of the
        perimeter summed, in the row's unit).
    """
    out = []
    part_autres = par["perimetre.part_autres_regimes"]
    for ligne in lignes if lignes is not None else lire_lignes():
        x = valeur(ds, ligne.variable, ligne.organisme, ligne.year)
        parties = tuple((p, valeur(ds, p, ligne.organisme, ligne.year)) for p in PARTIES.get(ligne.variable, ()))
        if ligne.kind == "share":
            x *= 100.0
        if ligne.autres_regimes:
            autres = x * part_autres / (1.0 - part_autres)
            parties = parties + ((AUTRES_REGIMES, autres),)
            x += autres
        out.append(Ligne(**{**ligne.__dict__, "modele": x, "parties": parties}))
    return out


def reconciliation_par_defaut() -> list[Ligne]:
    """The table on the expected-value (deterministic) run of the default scenario."""
    res = run_scenario(DEFAULT_SCENARIO, deterministic=True, write=False)
    return reconcilier(res.dataset, res.scenario.parametres)


def _nombre(x: float, unit: str) -> str:
    if unit in ("EUR",):
        return f"{x:.2f}"
    if unit == "pct":
        return f"{x:.1f} %"
    return f"{x:,.0f}".replace(",", " ")


def tableau_markdown(lignes: list[Ligne]) -> str:
    """The reconciliation table (markdown), one row per figure."""
    head = ("| figure | source | published | perimeters summed (model) | model | gap | tolerance | fit |\n"
            "|---|---|---|---|---|---|---|---|")
    rows = []
    for l in lignes:
        parts = " + ".join(f"{p} {_nombre(v, l.unit)}" for p, v in l.parties) or l.variable
        gap = f"{l.ecart:+.1f} pt" if l.kind == "share" else f"{l.ecart:+.1f} %"
        tol = f"± {l.tolerance:g} pt" if l.kind == "share" else f"± {l.tolerance:g} %"
        fit = "exact by construction" if l.fit == "construction" else "out of fit"
        flag = "" if l.dans_tolerance else " **miss**"
        rows.append(f"| {l.figure} | `{l.source_id}` | {_nombre(l.publie, l.unit)} {l.unit} | {parts} | "
                    f"{_nombre(l.modele, l.unit)} | {gap}{flag} | {tol} | {fit} |")
    return "\n".join([head, *rows])
