"""The XLSX workbook of a comparison (``cogsim compare``): read-me, summary by perimeter, every difference
(the table of ``ecarts.csv``), the probability of meeting each COG target run by run, and the parameters
that differ. Labels are the note's (:mod:`model.outputs.libelles`, section ``comparaison``); organismes
are named as the note names them; shares are formatted as percentages, differences of shares in points.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Sequence

from model.outputs.comparaison import COLONNES, Comparaison, synthese
from model.outputs.libelles import Lang, org_label, table, variable_label
from model.outputs.note_comparaison import catalogue_title, parametres_differents, tableau_cibles, valeur_courte
from model.outputs.texte import court


def excel_format(unit: str, ecart: bool = False) -> str:
    """Number format of a value in ``unit`` (Excel shows it with the reader's separators)."""
    if unit == "1":
        return "+0.0%;-0.0%;0.0%" if ecart else "0.0%"
    if unit.startswith("MEUR") or unit in ("jours", "min", "%", "points de %"):
        return "+#,##0.0;-#,##0.0;0.0" if ecart else "#,##0.0"
    return "+#,##0;-#,##0;0" if ecart else "#,##0"


def zero(v: float, scale: float = 1.0) -> float | None:
    """A cell value: None for undefined, 0 for a value that is zero up to rounding (±1e-12 of the scale)."""
    if v is None or not math.isfinite(float(v)):
        return None
    v = float(v)
    return 0.0 if abs(v) <= 1e-9 * max(1.0, abs(scale)) else v


def write_workbook(comp: Comparaison, rows: list[dict], perimetres: Sequence[str], path: str | Path,
                   lang: Lang = "fr") -> None:
    """Write the comparison's workbook (sheets described in the module docstring)."""
    # lazy: only when the workbook is written
    from openpyxl import Workbook
    # lazy: only when the workbook is written
    from openpyxl.styles import Alignment, Font, PatternFill
    # lazy: only when the workbook is written
    from openpyxl.utils import get_column_letter

    C = table(lang)["comparaison"]
    wb = Workbook()
    bold = Font(bold=True)
    fill = PatternFill("solid", fgColor="E4E8EE")
    wrap = Alignment(wrap_text=True, vertical="top")

    def header(ws, values, widths):
        for j, v in enumerate(values, start=1):
            c = ws.cell(row=1, column=j, value=v)
            c.font, c.fill, c.alignment = bold, fill, wrap
        for j, w in enumerate(widths, start=1):
            ws.column_dimensions[get_column_letter(j)].width = w

    ref = comp.reference
    ws = wb.active
    ws.title = C["s_readme"]
    lines = [(C["k_titre"], C["n_title"].format(perimetre=", ".join(org_label(p, lang) for p in perimetres))),
             (C["k_reference"], f"{ref.title} [{ref.run_id}]")]
    lines += [(C["k_variante"], f"{v.title} [{v.run_id}]") for v in comp.variantes]
    lines += [(C["k_annees"], f"{int(comp.years[0])}–{int(comp.years[-1])}"),
              (C["k_perimetre"], ", ".join(org_label(p, lang) for p in perimetres)),
              (C["k_lecture"], C["n_convention"].format(ref=ref.run_id)),
              (C["k_feuilles"], C["readme_feuilles"])]
    for i, (k, v) in enumerate(lines, start=1):
        ws.cell(row=i, column=1, value=k).font = bold
        ws.cell(row=i, column=2, value=v).alignment = wrap
    ws.column_dimensions["A"].width = 16
    ws.column_dimensions["B"].width = 110

    # summary: one block per perimeter and variant
    ws = wb.create_sheet(C["s_synthese"])
    z, a = int(comp.years[-1]), int(comp.years[0])
    head = [C["h_organisme"], C["c_variante"], C["h_indicateur"], C["h_unite"], C["h_ref"].format(z=z),
            C["h_var"].format(z=z), C["h_ecart"].format(z=z), C["c_ecart_p05"], C["c_ecart_p95"],
            C["h_cumul"].format(a=a, z=z)]
    header(ws, head, [16, 14, 34, 20, 14, 14, 14, 14, 14, 16])
    r = 2
    for p in perimetres:
        for v in comp.variantes:
            for s in synthese(comp, v, p):
                unit = s["unit"]
                cells = [org_label(p, lang), v.run_id, variable_label(s["indicateur"], lang, ref.ds[s["indicateur"]].attrs),
                         "%" if unit == "1" else unit]
                for j, x in enumerate(cells, start=1):
                    ws.cell(row=r, column=j, value=x)
                scale = abs(s["reference"]) if math.isfinite(s["reference"]) else 1.0
                for j, (x, e) in enumerate(((s["reference"], False), (s["variante"], False), (s["ecart"], True),
                                            (s["p05"], True), (s["p95"], True),
                                            (s["cumul"] if s["flux"] else math.nan, True)), start=5):
                    c = ws.cell(row=r, column=j, value=zero(x, scale))
                    c.number_format = excel_format(unit, e)
                r += 1
    ws.freeze_panes = "C2"
    ws.auto_filter.ref = f"A1:{get_column_letter(len(head))}{max(2, r - 1)}"

    # every difference
    ws = wb.create_sheet(C["s_ecarts"])
    cols = list(COLONNES)
    head = [C["c_" + c] if "c_" + c in C else c for c in cols]
    header(ws, head, [26, 44, 20, 16, 8, 14, 14, 14, 14, 12, 12, 14, 14])
    num = {"valeur_reference", "valeur_variante", "ecart", "ecart_relatif", "ecart_p05", "ecart_p95"}
    for i, row in enumerate(rows, start=2):
        unit = row["unite"]
        scale = abs(row["valeur_reference"]) if math.isfinite(row["valeur_reference"]) else 1.0
        for j, c in enumerate(cols, start=1):
            v = row[c]
            if c == "organisme":
                v = org_label(v, lang)
            elif c == "unite":
                v = "%" if v == "1" else v
            if c in num:
                cell = ws.cell(row=i, column=j, value=zero(v, scale if c != "ecart_relatif" else 1.0))
                cell.number_format = ("+0.0%;-0.0%;0.0%" if c == "ecart_relatif" else
                                      excel_format(unit, c.startswith("ecart")))
            else:
                ws.cell(row=i, column=j, value=v)
    ws.freeze_panes = "F2"
    ws.auto_filter.ref = f"A1:{get_column_letter(len(cols))}{len(rows) + 1}"

    # COG targets
    ws = wb.create_sheet(C["s_cibles"])
    r = 1
    for p in perimetres:
        t = tableau_cibles(comp, p, lang)
        if t is None:
            continue
        ws.cell(row=r, column=1, value=f"{org_label(p, lang)} — {t['caption']}").font = bold
        r += 1
        for j, h in enumerate(t["header"], start=1):
            c = ws.cell(row=r, column=j, value=h)
            c.font, c.fill, c.alignment = bold, fill, wrap
        r += 1
        for row in t["rows"]:
            for j, v in enumerate(row, start=1):
                ws.cell(row=r, column=j, value=v)
            r += 1
        r += 1
    ws.column_dimensions["A"].width = 48
    for j in range(2, 8):
        ws.column_dimensions[get_column_letter(j)].width = 22

    # parameters that differ
    ws = wb.create_sheet(C["s_parametres"])
    header(ws, [C["h_parametre"], C["c_libelle"], C["reference"]] +
           [C["variante"] if len(comp.variantes) == 1 else C["variante_n"].format(n=j + 1)
            for j in range(len(comp.variantes))], [40, 50] + [50] * len(comp.runs))
    for i, (key, vals) in enumerate(parametres_differents(comp), start=2):
        ws.cell(row=i, column=1, value=key)
        ws.cell(row=i, column=2, value=catalogue_title(key, lang)[0])
        for j, v in enumerate(vals, start=3):
            ws.cell(row=i, column=j, value=court(valeur_courte(v, lang), 500)).alignment = wrap
    ws.freeze_panes = "B2"
    wb.save(path)
