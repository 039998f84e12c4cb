"""The XLSX workbook of a report: ``<run-id>_tableaux.xlsx``, a workbook to paste from.

Sheets: read-me, key figures, the COG targets (probability of meeting each and expected gap, by
organisme × year: :mod:`model.results.cibles`), inputs (every resolved parameter), results by organisme ×
year (mean and 5/50/95 % quantiles, or the value of a deterministic run: the numbers of ``results.csv``),
main tables by organisme × year, and the ETPMA and wage-bill bridges; headers frozen, number formats set (Excel shows
them with the reader's regional separators: a French Excel writes ``12 345,6``). The texts are those of
the note (:data:`model.outputs.note.TEXTS`), and so are the key figures.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np

from model.outputs import graphiques as g
from model.outputs.libelles import cible_label, org_label, unit_label
from model.outputs.note import TEXTS, is_none, key_figures, targets_rows
from model.outputs.texte import court_description
from model.params.catalogue import load_catalogue
from model.results.dataset import STATISTIQUES_CSV, tidy_frame

# variables of the "Tableaux" sheet (organisme × year, mean over replicates)
TABLE_VARIABLES = ("etpma", "plafond_emplois", "saturation", "effectif_31dec", "departs_retraite",
                   "recrutements", "masse_salariale", "rmpp", "depenses_personnel", "adf_hors_informatique",
                   "cible_adf", "depenses_limitatives", "productivite", "cible_productivite",
                   "taux_appels_aboutis", "delai_traitement")


ZERO = 1e-9  # below this, a value is a rounding residue of a quantity that is zero by construction


def _excel_format(units: str, name: str = "") -> str:
    """Number format of a column of values in ``units`` (Excel shows it with the reader's separators)."""
    if units in ("1",) or name in ("saturation", "part_plus_50", "respect_lpfp", "evolution_ms"):
        return "0.0%" if name not in ("respect_lpfp",) else "0"
    if units in ("%", "points de %"):
        return "0.00"
    if units.startswith(("MEUR", "EUR per", "EUR/")) and not units.startswith("EUR/ETPMA"):
        return "#,##0.0" if units.startswith("MEUR") else "#,##0.00"
    if units in ("annees", "min", "jours"):
        return "0.0"
    return "#,##0"


def _signed_format(f: str) -> str:
    """A number format with an explicit sign (a gap: "+1,234" above the target, "-1,234" below)."""
    return f"+{f};-{f};{f}"


def _catalogue_entry(path: str):

    cat = load_catalogue()
    if path in cat:
        return cat[path]
    parts = path.split(".")
    if len(parts) == 3 and parts[0] == "organismes":
        return cat.get(f"organismes.*.{parts[2]}")
    return None


def write_workbook(run, path: str | Path, lang: str = "fr") -> None:
    """Write the XLSX workbook of a run (sheets described in the module docstring)."""
    # lazy: only when the workbook is written
    from openpyxl import Workbook
    # lazy: only when the workbook is written
    from openpyxl.styles import Alignment, Font, PatternFill
    # lazy: only when the workbook is written
    from openpyxl.utils import get_column_letter


    T = TEXTS[lang]
    wb = Workbook()
    bold = Font(bold=True)
    head_fill = PatternFill("solid", fgColor="E4E8EE")
    wrap = Alignment(wrap_text=True, vertical="top")

    def header(ws, row: int, values: list[str], widths: list[float] | None = None) -> None:
        for j, v in enumerate(values, start=1):
            c = ws.cell(row=row, column=j, value=v)
            c.font, c.fill, c.alignment = bold, head_fill, wrap
        if widths:
            for j, w in enumerate(widths, start=1):
                ws.column_dimensions[get_column_letter(j)].width = w

    def num(v):
        if v is None:
            return None
        v = float(v)
        if not math.isfinite(v):
            return None
        return 0.0 if abs(v) < ZERO else v  # zero by construction (a bridge's ±1e-15) written as 0

    def label(name: str) -> str:
        attrs = run.ds[name].attrs
        return str(attrs.get("long_name_fr" if lang == "fr" else "long_name", name))

    # read me
    ws = wb.active
    ws.title = T["s_readme"]
    m = run.manifest
    code = m.get("code") or {}
    sc = (m.get("scenario") or {})
    mode = m.get("mode", "")
    rows = [(T["note_title"], run.title), (T["k_run"], run.run_id), (T["scenario"], sc.get("file", "")),
            (T["description"], court_description((sc.get("header") or {}).get("description", ""))),
            (T["k_mode"], T.get(f"mode_{mode}", mode)), (T["k_replicates"], run.replicates),
            (T["k_seed"], m.get("seed", "")), (T["k_version"], code.get("cogsim", "")),
            (T["k_commit"], code.get("commit", "")), (T["k_created"], m.get("created_utc", "")),
            ("", ""), ("", T["readme_sheets"]),
            ("", T["readme_formats"]), ("", T["readme_agg"]), ("", g.source_note(run, lang).replace("\n", " "))]
    for i, (k, v) in enumerate(rows, start=1):
        ws.cell(row=i, column=1, value=k).font = bold
        ws.cell(row=i, column=2, value=v).alignment = wrap
    ws.column_dimensions["A"].width = 18
    ws.column_dimensions["B"].width = 110

    # key figures
    kf = key_figures(run)
    ws = wb.create_sheet(T["s_key"])
    fmt = dict(a=kf["a"], z=kf["z"], a1=kf["a"] + 1)
    cols = [("etpma_a", T["c_etpma_a"], "#,##0"), ("etpma_z", T["c_etpma_z"], "#,##0"),
            ("p05", T["h_p05"] + f" {kf['z']}", "#,##0"), ("p95", T["h_p95"] + f" {kf['z']}", "#,##0"),
            ("variation", T["c_variation"], "+#,##0;-#,##0;0"), ("plafond", T["c_plafond"], "#,##0"),
            ("saturation", T["c_saturation"], "0.0%")]
    bcols = [("masse_salariale", T["c_ms"] + " (M€)", "#,##0.0"), ("evolution_ms", T["c_ms_evol"], "0.00%"),
             ("rmpp", T["c_rmpp"] + " (%)", "0.00"), ("depenses_limitatives", T["c_dl"] + " (M€)", "#,##0.0"),
             ("ecart_adf", T["c_ecart_adf"] + " (M€)", "+#,##0.0;-#,##0.0;0.0"),
             ("ecart_productivite", T["c_ecart_prod"] + " (%)", "+0.0;-0.0;0.0")]
    header(ws, 1, [T["organisme"]] + [c[1].format(**fmt) for c in cols] + [c[1].format(**fmt) for c in bcols],
           [18] + [14] * (len(cols) + len(bcols)))
    for i, o in enumerate(kf["rows"], start=2):
        ws.cell(row=i, column=1, value=org_label(o, lang))
        for j, (key, _, f) in enumerate(cols, start=2):
            c = ws.cell(row=i, column=j, value=num(kf["staff"][i - 2][key]))
            c.number_format = f
        for j, (key, _, f) in enumerate(bcols, start=2 + len(cols)):
            c = ws.cell(row=i, column=j, value=num(kf["budget"][i - 2][key]))
            c.number_format = f
    ws.freeze_panes = "B2"

    # COG targets: probability of meeting each, expected gap (every organisme and year with a target)
    targets = targets_rows(run)
    if targets is not None:
        ws = wb.create_sheet(T["s_targets"])
        det = targets["deterministic"]
        header(ws, 1, [T["h_cible"], T["h_label"], T["h_sens"], T["h_unit"], T["organisme"], T["h_year"],
                       T["h_simule"], T["h_cible_valeur"], T["h_ecart"], T["h_respect_det"] if det else T["h_proba"]],
               [20, 36, 8, 22, 10, 8, 14, 14, 16, 16])
        for i, row in enumerate(targets["rows"], start=2):
            f = _excel_format(row["unit"], row["variable"])
            for j, v in enumerate((row["cible"], cible_label(row["cible"], lang), row["sens"],
                                   unit_label(row["unit"], lang), org_label(row["organisme"], lang), row["year"]),
                                  start=1):
                ws.cell(row=i, column=j, value=v)
            for j, (v, fj) in enumerate(((row["simule"], f), (row["valeur_cible"], f),
                                         (row["ecart"], _signed_format(f)),
                                         (row["probabilite"], "0" if det else "0%")), start=7):
                c = ws.cell(row=i, column=j, value=num(v))
                c.number_format = fj
        ws.freeze_panes = "C2"
        ws.auto_filter.ref = f"A1:J{len(targets['rows']) + 1}"

    # inputs
    ws = wb.create_sheet(T["s_inputs"])
    years = [int(y) for y in run.years]
    header(ws, 1, [T["h_param"], T["h_label"], T["h_unit"], T["h_value"]] + [str(y) for y in years],
           [46, 60, 14, 22] + [10] * len(years))
    r = 2
    for p, v in (m.get("parameters") or {}).items():
        entry = _catalogue_entry(p)
        ws.cell(row=r, column=1, value=p)
        if entry is not None:
            ws.cell(row=r, column=2, value=entry.title_fr if lang == "fr" else entry.title)
            ws.cell(row=r, column=3, value=entry.unit)
        if isinstance(v, dict) and v and all(str(k).isdigit() and len(str(k)) == 4 for k in v):
            for y, x in v.items():
                if int(y) in years:
                    cell = ws.cell(row=r, column=5 + years.index(int(y)))
                    if is_none(x):
                        cell.value = T["none"]
                    else:
                        cell.value = x
                        cell.number_format = "General"
        elif isinstance(v, (dict, list)):
            ws.cell(row=r, column=4, value=json.dumps(v, ensure_ascii=False))
        elif is_none(v):
            ws.cell(row=r, column=4, value=T["none"])
        else:
            ws.cell(row=r, column=4, value=v)
        r += 1
    ws.freeze_panes = "B2"
    ws.auto_filter.ref = f"A1:{get_column_letter(4 + len(years))}{r - 1}"

    # results (the numbers of results.csv)
    ws = wb.create_sheet(T["s_results"])
    df = tidy_frame(run.ds)
    value_cols = ["value"] if "value" in df.columns else list(STATISTIQUES_CSV)
    heads = {"value": T["h_value"], "moyenne": T["h_mean"], "p05": T["h_p05"], "p50": T["h_p50"], "p95": T["h_p95"]}
    header(ws, 1, [T["h_variable"], T["h_label"], T["h_unit"], T["organisme"], T["h_year"]]
           + [heads[c] for c in value_cols], [26, 60, 22, 16, 8] + [14] * len(value_cols))
    labels = {n: label(n) for n in run.ds.data_vars}
    for var in dict.fromkeys(v for v in df["variable"] if v not in labels):  # COG targets: "variable:cible"
        name, _, code = var.partition(":")
        short = {"probabilite_respect": T["h_proba"], "ecart_attendu": T["h_ecart"]}.get(name) or label(name)
        labels[var] = f"{short} — {cible_label(code, lang)}"
    own = set(run.ds["organisme"].values)
    units_of: dict[tuple[str, str], str] = {}
    for var in run.ds.data_vars:
        u = str(run.ds[var].attrs.get("units", ""))
        for org in run.organismes:  # per-organisme units ("cnam: UO FSE; ...") have no aggregate unit
            units_of[var, org] = run.units_of(var, org) if org in own else ("" if ": " in u and ";" in u else u)
    formats = {var: _excel_format(str(run.ds[var].attrs.get("units", "")), var) for var in run.ds.data_vars}
    values = df[value_cols].to_numpy(dtype=float)
    deterministic = not run.stochastic
    for i, (var, org, year, unit) in enumerate(zip(df["variable"], df["organisme"], df["year"], df["unit"])):
        rr = i + 2
        ws.cell(row=rr, column=1, value=var)
        ws.cell(row=rr, column=2, value=labels[var])
        ws.cell(row=rr, column=3, value=unit_label(units_of.get((var, org), unit), lang))
        ws.cell(row=rr, column=4, value=org_label(org, lang))
        ws.cell(row=rr, column=5, value=int(year))
        if var in formats:
            f = formats[var]
        elif var.startswith("probabilite_respect:"):  # a share of replicates; 1/0 in a deterministic run
            f = "0" if deterministic else "0%"
        else:
            f = _excel_format(str(unit), var)
        for j, x in enumerate(values[i], start=6):
            c = ws.cell(row=rr, column=j, value=num(x))
            c.number_format = f
    ws.freeze_panes = "F2"
    ws.auto_filter.ref = f"A1:{get_column_letter(5 + len(value_cols))}{len(df) + 1}"

    # main tables, organisme × year (means)
    ws = wb.create_sheet(T["s_tables"])
    ws.column_dimensions["A"].width = 18
    for j in range(len(years)):
        ws.column_dimensions[get_column_letter(2 + j)].width = 11
    r = 1
    for name in TABLE_VARIABLES:
        if name not in run.ds:
            continue
        units = str(run.ds[name].attrs.get("units", ""))
        per_org = ": " in units and ";" in units
        ws.cell(row=r, column=1, value=f"{labels[name]} ({name}" + ("" if per_org else f", {unit_label(units, lang)}")
                + ")").font = bold
        r += 1
        header(ws, r, [T["organisme"]] + [str(y) for y in years] + ([T["h_unit"]] if per_org else []))
        r += 1
        for o in run.organismes:
            mean = run.mean(name, o)
            if per_org and not np.isfinite(mean).any():
                continue
            ws.cell(row=r, column=1, value=org_label(o, lang))
            f = _excel_format(units, name)
            for j, x in enumerate(mean, start=2):
                c = ws.cell(row=r, column=j, value=num(x))
                c.number_format = f
            if per_org:
                ws.cell(row=r, column=2 + len(years), value=unit_label(run.units_of(name, o), lang))
            r += 1
        r += 1
    ws.freeze_panes = "B1"

    # bridges (means over replicates)
    for sheet, fn, parts, level, f in (
            (T["s_bridge_etpma"], g.etpma_bridge, g.ETPMA_PARTS, "etpma", "#,##0"),
            (T["s_bridge_ms"], g.masse_salariale_bridge, g.MS_EFFETS, "masse_salariale", "#,##0.0")):
        if not all(v in run.ds for v in ((level,) + (g.MS_EFFETS if level == "masse_salariale" else
                                                     ("departs_retraite", "recrutements")))):
            continue
        ws = wb.create_sheet(sheet)
        L = g.LABELS[lang]
        vname = "ETPMA" if level == "etpma" else L["masse_salariale"]
        unit = " (ETPMA)" if level == "etpma" else " (M€)"
        heads_b = [T["organisme"], T["h_year"], T["h_prev"].format(v=vname) + unit] + \
                  [L[k] for k in parts] + [T["h_change"], T["h_level"].format(v=vname) + unit]
        if level == "etpma":
            heads_b.append(T["mem_mutualisation"])
        header(ws, 1, heads_b, [16, 8, 16] + [16] * len(parts) + [14, 16] + ([22] if level == "etpma" else []))
        r = 2
        for o in run.organismes:
            b = fn(run, o)
            lev = b[level]
            for i in range(1, len(years)):
                vals = [lev[i - 1]] + [b[k][i] for k in parts] + [b["net"][i], lev[i]]
                if level == "etpma":
                    vals.append(b["mutualisation"][i])
                ws.cell(row=r, column=1, value=org_label(o, lang))
                ws.cell(row=r, column=2, value=years[i])
                for j, x in enumerate(vals, start=3):
                    c = ws.cell(row=r, column=j, value=num(x))
                    c.number_format = f
                r += 1
        ws.freeze_panes = "C2"
        ws.auto_filter.ref = f"A1:{get_column_letter(len(heads_b))}{r - 1}"
    wb.save(path)
