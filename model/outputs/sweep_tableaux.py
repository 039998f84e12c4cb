"""The tables of a sweep a planner can open: a tidy CSV and an XLSX workbook, drawn from the saved sweep only.

A sweep (:mod:`model.analysis.sweep`) stores, for every result variable, year and organisme (régime général
and total included), the mean, the 5/50/95 % quantiles and the standard deviation over the replicates of
each grid point, in a Zarr store that a planner cannot open. This module writes the same numbers as:

``balayage.csv``
    one row per grid point × year × organisme × variable; one column per swept axis (its value), then the
    year, the organisme, the variable (code and label), its unit and the five statistics. French by
    default: French column headers and labels, ``;`` between fields and a decimal comma (what a French
    Excel opens without an import wizard), UTF-8 with a byte-order mark; English: ``,`` and ``.``.
``balayage.xlsx``
    a ``Lisez-moi`` sheet (the sweep, its axes, what each column means, what was left out and why), then
    one sheet per variable: one row per grid point × year × organisme, the statistics as columns, the
    unit in the headers.

Sizes are bounded before anything is written, and said before the sweep starts (:func:`plan_tableaux`,
from the size estimate): the CSV holds at most :data:`LIGNES_MAX_CSV` rows and the workbook
:data:`LIGNES_MAX_XLSX` (openpyxl writes about 10 000 rows a second). Variables are taken in the order
of :data:`PRIORITE` (the headline results first) while they fit; a workbook that cannot hold even one
variable for every year holds the last year only; a table that cannot hold one variable is not written,
and the plan says so. The Zarr store keeps everything.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import pandas as pd
import xarray as xr

from model.outputs.libelles import Lang, org_label, table, unit_label, variable_label
from model.outputs.texte import court
from model.params.catalogue import lookup
from model.results.dataset import STATISTIQUES

LIGNES_MAX_CSV = 500_000      # about 60 MB of text, 10 s to write; Excel opens at most 1 048 576 rows
LIGNES_MAX_XLSX = 20_000      # about 3 s to write, 2 MB; Excel's own limit is 1 048 576 rows a sheet
CSV = "balayage.csv"
XLSX = "balayage.xlsx"

# the headline results first: the tables keep variables in this order while they fit
PRIORITE: tuple[str, ...] = (
    "etpma", "masse_salariale", "depenses_limitatives", "depenses_personnel", "adf", "productivite",
    "saturation", "recrutements", "departs_retraite", "departs_autres", "effectif_31dec", "cout_unitaire",
    "delai_moyen", "taux_appels_aboutis", "rmpp", "etpma_cdi", "etpma_cdd", "plafond_emplois", "cible_etpma")


def ordre(variables: Sequence[str]) -> list[str]:
    """``variables`` with those of :data:`PRIORITE` first, in its order, then the others in theirs."""
    first = [v for v in PRIORITE if v in variables]
    return first + [v for v in variables if v not in first]


# ----------------------------------------------------------------------------- the plan
@dataclass(frozen=True)
class PlanTableaux:
    """What the tables of a sweep will hold, known before it starts.

    Attributes
    ----------
    points : grid points.
    lignes_par_point : rows of one variable at one point (years × organismes).
    annees_par_point : years of the horizon (the last-year-only workbook keeps 1 of them).
    variables : the variables of the sweep, in the tables' order (:func:`ordre`).
    csv_variables, xlsx_variables : the variables each table holds (possibly none).
    xlsx_derniere_annee : the workbook holds the last year only.
    """

    points: int
    lignes_par_point: int
    annees_par_point: int
    variables: tuple[str, ...]
    csv_variables: tuple[str, ...]
    xlsx_variables: tuple[str, ...]
    xlsx_derniere_annee: bool

    @property
    def lignes_csv(self) -> int:
        return self.points * self.lignes_par_point * len(self.csv_variables)

    @property
    def lignes_xlsx(self) -> int:
        per = self.lignes_par_point // (self.annees_par_point if self.xlsx_derniere_annee else 1)
        return self.points * per * len(self.xlsx_variables)

    def message(self, lang: Lang = "fr") -> str:
        """One line saying what the tables will hold (printed before the sweep starts)."""
        T = table(lang)["balayage"]
        n = len(self.variables)

        def part(name: str, kept: tuple[str, ...], rows: int, cap: int) -> str:
            if not kept:
                return T["plan_aucune"].format(table=name, cap=_entier(cap, lang))
            return T["plan_table"].format(table=name, k=len(kept), n=n, rows=_entier(rows, lang),
                                          cap=_entier(cap, lang))

        text = (" ; " if lang == "fr" else "; ").join((part(CSV, self.csv_variables, self.lignes_csv, LIGNES_MAX_CSV),
                          part(XLSX, self.xlsx_variables, self.lignes_xlsx, LIGNES_MAX_XLSX)))
        if self.xlsx_derniere_annee and self.xlsx_variables:
            text += T["plan_derniere"]
        return T["plan"].format(text=text)


def plan_tableaux(points: int, lignes_par_point: int, annees: int, variables: Sequence[str]) -> PlanTableaux:
    """The plan of the tables of a sweep of ``points`` grid points, ``lignes_par_point`` rows per variable
    and point (years × organismes, ``annees`` years), ``variables`` stored."""
    vs = tuple(ordre(list(variables)))
    per_var = points * lignes_par_point
    n_csv = min(len(vs), LIGNES_MAX_CSV // per_var) if per_var else len(vs)
    n_xlsx = min(len(vs), LIGNES_MAX_XLSX // per_var) if per_var else len(vs)
    last_only = False
    if n_xlsx == 0 and per_var:
        per_last = points * (lignes_par_point // max(1, annees))
        n_xlsx = min(len(vs), LIGNES_MAX_XLSX // per_last) if per_last else 0
        last_only = n_xlsx > 0
    return PlanTableaux(int(points), int(lignes_par_point), int(annees), vs, vs[:n_csv], vs[:n_xlsx], last_only)


def plan_du_sweep(ds: xr.Dataset) -> PlanTableaux:
    """The plan of the tables of a saved sweep (its axes, years, organismes and variables)."""
    axes = axes_du_sweep(ds)
    points = math.prod(ds.sizes[a] for a in axes) if axes else 1
    variables = [v for v in ds.data_vars if "statistique" in ds[v].dims]
    return plan_tableaux(points, ds.sizes["year"] * ds.sizes["organisme"], ds.sizes["year"], variables)


# ----------------------------------------------------------------------------- axes
def axes_du_sweep(ds: xr.Dataset) -> list[str]:
    """The swept dims of a sweep's Dataset, in the grid's order."""
    return [a["name"] for a in ds.attrs.get("grid", []) if a["name"] in ds.dims]


def axe_info(ds: xr.Dataset, name: str) -> dict[str, Any]:
    """The grid's record of the axis ``name`` (parameters, years from, units, values)."""
    for a in ds.attrs.get("grid", []):
        if a["name"] == name:
            return a
    return {"name": name, "parameters": [], "years_from": [], "units": []}


def axe_label(ds: xr.Dataset, name: str, lang: Lang = "fr", unit: bool = True) -> str:
    """What a table or a chart calls a swept axis: the parameter's title in ``lang`` (from the catalogue),
    the year it applies from, its unit; the axis name when it moves several parameters."""
    T = table(lang)["balayage"]
    info = axe_info(ds, name)
    params = info.get("parameters") or []
    if len(params) != 1:
        return name
    p = lookup(params[0])
    if p is None:
        return name
    title = p.title_fr if lang == "fr" else p.title
    org = params[0].split(".")[1] if params[0].startswith("organismes.") else None
    if org is not None:
        title = f"{title} — {org_label(org, lang) if org != 'tous' else T['tous']}"
    year = (info.get("years_from") or [None])[0]
    if year is not None:
        title = T["depuis"].format(titre=title, annee=year)
    u = unit_label(p.unit, lang)
    return court(title, 120) + (f" ({u})" if unit and u else "")


# ----------------------------------------------------------------------------- the frames
def colonnes(lang: Lang) -> dict[str, str]:
    """The column headers of the tables, in ``lang``."""
    T = table(lang)["balayage"]
    return {k: T[f"c_{k}"] for k in ("annee", "organisme", "code", "variable", "unite", *STATISTIQUES)}


def tableau(ds: xr.Dataset, variable: str, lang: Lang = "fr", derniere_annee: bool = False,
            avec_variable: bool = True) -> pd.DataFrame:
    """One variable of a sweep as a frame: one row per grid point × year × organisme, the swept axes'
    values, the year, the organisme's label (and the variable's code, label and unit with
    ``avec_variable``), then the statistics as columns."""
    C = colonnes(lang)
    axes = axes_du_sweep(ds)
    da = ds[variable]
    if derniere_annee:
        da = da.isel(year=[-1])
    da = da.transpose(*axes, "year", "organisme", "statistique")
    values = np.asarray(da.values, dtype=float)
    stats = [str(s) for s in da["statistique"].values]
    shape = values.shape[:-1]
    n = int(np.prod(shape))
    grids = np.meshgrid(*[np.arange(s) for s in shape], indexing="ij")
    cols: dict[str, Any] = {}
    for i, a in enumerate(axes):
        cols[axe_label(ds, a, lang)] = np.asarray(ds[a].values)[grids[i].ravel()]
    cols[C["annee"]] = np.asarray(da["year"].values)[grids[len(axes)].ravel()]
    orgs = np.array([org_label(str(o), lang) for o in da["organisme"].values], dtype=object)
    cols[C["organisme"]] = orgs[grids[len(axes) + 1].ravel()]
    if avec_variable:
        cols[C["code"]] = np.full(n, variable, dtype=object)
        cols[C["variable"]] = np.full(n, variable_label(variable, lang, da.attrs), dtype=object)
        cols[C["unite"]] = np.full(n, unit_label(da.attrs.get("units"), lang), dtype=object)
    flat = values.reshape(n, len(stats))
    for j, s in enumerate(stats):
        cols[C.get(s, s)] = flat[:, j]
    return pd.DataFrame(cols)


def ecrire_csv(ds: xr.Dataset, plan: PlanTableaux, path: Path, lang: Lang = "fr") -> Path | None:
    """Write the tidy CSV of the plan's variables to ``path`` (a file in a claimed folder); None when the
    plan holds no variable. French: ``;`` and a decimal comma; English: ``,`` and ``.``; UTF-8 with BOM."""
    if not plan.csv_variables:
        return None
    sep, dec = (";", ",") if lang == "fr" else (",", ".")
    with open(path, "w", encoding="utf-8-sig", newline="") as f:
        for i, v in enumerate(plan.csv_variables):
            tableau(ds, v, lang).to_csv(f, sep=sep, decimal=dec, index=False, header=(i == 0),
                                        float_format="%.6g")
    return path


def ecrire_classeur(ds: xr.Dataset, plan: PlanTableaux, path: Path, lang: Lang = "fr",
                    source: str = "") -> Path | None:
    """Write the workbook of the plan's variables to ``path``: a ``Lisez-moi`` sheet, then one sheet per
    variable (one row per point × year × organisme, statistics as columns, units in the headers); None
    when the plan holds no variable."""
    # lazy: openpyxl only when a workbook is written
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    if not plan.xlsx_variables:
        return None
    T = table(lang)["balayage"]
    C = colonnes(lang)
    wb = Workbook(write_only=True)
    bold = Font(bold=True)
    ws = wb.create_sheet(T["lisez_moi"])
    ws.column_dimensions["A"].width = 28
    ws.column_dimensions["B"].width = 110

    def row(sheet, values, header=False):
        cells = []
        for v in values:
            c = WriteOnlyCell(sheet, value=v)
            if header:
                c.font = bold
            cells.append(c)
        sheet.append(cells)

    row(ws, [T["titre"], court(ds.attrs.get("title", ""))], header=False)
    row(ws, [T["scenario"], str(ds.attrs.get("scenario", ""))])
    mode = ds.attrs.get("mode", "")
    row(ws, [T["replications"], T["mode_" + mode].format(n=ds.attrs.get("replicates", ""))
             if f"mode_{mode}" in T else str(mode)])
    row(ws, [T["graine"], ds.attrs.get("seed", "")])
    for a in axes_du_sweep(ds):
        row(ws, [T["axe"], f"{axe_label(ds, a, lang)} : {', '.join(_court_nombre(x) for x in ds[a].values)}"
                 if lang == "fr" else f"{axe_label(ds, a, lang)}: {', '.join(_court_nombre(x) for x in ds[a].values)}"])
    row(ws, [T["statistiques"], T["statistiques_texte"]])
    kept = ", ".join(plan.xlsx_variables)
    row(ws, [T["contenu"], T["contenu_texte"].format(k=len(plan.xlsx_variables), n=len(plan.variables), kept=kept,
                                                     cap=_entier(LIGNES_MAX_XLSX, lang))
             + (T["plan_derniere"] if plan.xlsx_derniere_annee else "")])
    row(ws, [T["source"], source or T["source_texte"].format(version=ds.attrs.get("cogsim_version", ""),
                                                             commit=str(ds.attrs.get("git_commit", ""))[:7])])
    used: set[str] = {T["lisez_moi"]}
    for v in plan.xlsx_variables:
        frame = tableau(ds, v, lang, derniere_annee=plan.xlsx_derniere_annee, avec_variable=False)
        unit = unit_label(ds[v].attrs.get("units"), lang)
        stat_cols = [C[s] for s in STATISTIQUES if C[s] in frame.columns]
        frame = frame.rename(columns={c: f"{c} ({unit})" for c in stat_cols} if unit else {})
        sheet = wb.create_sheet(_sheet_name(variable_label(v, lang, ds[v].attrs), used))
        for i, c in enumerate(frame.columns):
            sheet.column_dimensions[_col(i)].width = min(60, max(10, len(str(c)) + 2))
        sheet.freeze_panes = "A2"
        row(sheet, list(frame.columns), header=True)
        for rec in frame.itertuples(index=False, name=None):
            sheet.append([None if isinstance(x, float) and not math.isfinite(x) else
                          (x.item() if isinstance(x, np.generic) else x) for x in rec])
    wb.save(path)
    return path


def _sheet_name(label: str, used: set[str]) -> str:
    """A sheet name Excel accepts (31 characters, none of []:*?/\\), distinct from the others."""
    base = "".join(" " if ch in "[]:*?/\\" else ch for ch in label).strip()[:31] or "variable"
    name, i = base, 2
    while name.lower() in {u.lower() for u in used}:
        suffix = f" ({i})"
        name, i = base[:31 - len(suffix)] + suffix, i + 1
    used.add(name)
    return name


def _col(i: int) -> str:
    """The spreadsheet letter of the 0-based column ``i`` (openpyxl's, 1-based)."""
    # lazy: openpyxl only when a workbook is written or read
    from openpyxl.utils import get_column_letter

    return get_column_letter(i + 1)


def _entier(n: int, lang: Lang) -> str:
    return f"{n:,}".replace(",", "\u202f" if lang == "fr" else ",")


def _court_nombre(x: Any) -> str:
    return f"{x:g}" if isinstance(x, (float, np.floating)) else str(x)
