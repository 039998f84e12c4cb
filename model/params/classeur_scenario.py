"""Scenarios in Excel: the template a planner edits (``cogsim template``) and its reader.

A scenario workbook holds every parameter of the catalogue with the values of its baseline, one sheet per
section of the catalogue (``simulation``, ``recrutement``, ``organismes``...), one row per parameter (and per
organisme): its path as scenario files write it, its French title, its unit, its value (a ``Valeur``
column, or one column per year for a by-year parameter), the allowed range and the source; dated events
(mutualisations, hiring freezes, pay measures) are tables on sheets of their own, one row per event; the
``Scénario`` sheet holds the header (title, author, reference, baseline, description).

Reading (:func:`lire_classeur`) turns the workbook into the dict the TOML reader produces for the
equivalent scenario file: the header, and only what the planner changed against the values the template
was written with (kept in very hidden twin sheets ``_<sheet>``): a by-year row from its first changed year
on (as ``{2020 = 0.3, 2021 = ...}`` would), a value, an event row (whole). So the workbook and its TOML
twin go through the same validation and give the same results; every problem found names the sheet and
the cell (:func:`placer`).

Tables and shares (a table ``{key = number}``) are written in their cell as a TOML inline table
(``{"2018" = 0.5, "2019" = 0.6}``) and read back the same way.
"""

from __future__ import annotations

import datetime as dt
import io
import math
import re
from dataclasses import replace
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

import numpy as np

from model.params.catalogue import Parameter, load_catalogue
from model.params.errors import MISSING, InputError, Problem
from model.params.lecture import lire_octets, parse_toml
from model.params.parametres import Parametres
from model.params.validation import HEADER_KEYS

SUFFIXES = (".xlsx", ".xlsm")
HEADER_SHEET = "Scénario"
TWIN = "_"  # prefix of the very hidden twin sheets (the values the template was written with)
COLUMNS = ("Chemin", "Titre", "Unité", "Valeur")  # then the years, then PLAGE, SOURCE
PLAGE, SOURCE = "Plage autorisée", "Source"
MAX_ROWS = 5000  # rows read from a sheet: far above the catalogue's (~400); a bigger sheet is refused
HEADER_HELP = {"title": "Titre du scénario (obligatoire)", "author": "Auteur", "reference": "Référence (note, COG)",
               "baseline": "Scénario de base (chemin relatif à ce classeur ; vide : catalogue et calibrage)",
               "description": "Description"}


def est_un_classeur(path: str | Path) -> bool:
    """Whether ``path`` names a scenario workbook (by its suffix)."""
    return Path(path).suffix.lower() in SUFFIXES


# ----------------------------------------------------------------------------- layout
def section_of(p: Parameter) -> str:
    """The sheet of a parameter: its events' own sheet, else the first component of its path."""
    return p.path if p.type == "events" else p.path.split(".", 1)[0]


def _rows(cat: Mapping[str, Parameter]) -> dict[str, list[tuple[Parameter, str]]]:
    """Sheet -> [(parameter, resolved path)] in catalogue order (events sheets hold no rows)."""
    sheets: dict[str, list[tuple[Parameter, str]]] = {}
    for p in cat.values():
        sheets.setdefault(section_of(p), [])
        if p.type != "events":
            sheets[section_of(p)].extend((p, path) for path in p.paths())
    return sheets


def _cell_value(p: Parameter, v: Any) -> Any:
    """A scalar value as its cell holds it."""
    if p.type in ("table", "shares"):
        items = v.items() if isinstance(v, Mapping) else v
        return "{" + ", ".join(f'"{_key(k)}" = {_num(x)}' for k, x in items) + "}"
    if p.type == "date":
        return v.isoformat() if isinstance(v, dt.date) else str(v)
    if isinstance(v, (np.floating, np.integer)):
        return v.item()
    if isinstance(v, float) and not math.isfinite(v):
        return None
    return v


def _key(k: Any) -> str:
    return f"{k:g}" if isinstance(k, float) else str(k)


def _num(x: Any) -> str:
    return repr(float(x)) if isinstance(x, (float, np.floating)) else str(x)


# ----------------------------------------------------------------------------- writing the template
def ecrire_modele(path: str | Path, parametres: Parametres, annees: Sequence[int],
                  header: Mapping[str, str], texte: Callable[[str], str] | None = None) -> None:
    """Write the scenario template to ``path`` (a new file in a folder being written): every parameter of
    the catalogue at its value in ``parametres`` (the baseline's), ``annees`` the years of the by-year
    columns (the horizon of ``parametres``), ``header`` the ``Scénario`` sheet (``baseline`` a path
    relative to the workbook); ``texte`` puts the catalogue's "allowed" texts (English) in the workbook's
    language (the command line passes :func:`model.outputs.libelles.traduire`)."""
    texte = texte or (lambda t: t)
    # lazy: openpyxl only when a workbook is written or read
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill

    cat = load_catalogue()
    wb = Workbook()
    ws = wb.active
    ws.title = HEADER_SHEET
    bold = Font(bold=True)
    ws.append(["Clé", "Valeur", "Explication"])
    for k in HEADER_KEYS:
        ws.append([k, header.get(k, ""), HEADER_HELP[k]])
    ws.append([])
    ws.append(["", "Changez les cellules jaunes des autres feuilles ; une ligne laissée telle quelle garde la "
                   "valeur du scénario de base. Les événements datés (mutualisations, gels, mesures) : une "
                   "ligne par événement ; ajoutez des lignes.", ""])
    for c in ws[1]:
        c.font = bold
    ws.column_dimensions["A"].width, ws.column_dimensions["B"].width, ws.column_dimensions["C"].width = 14, 60, 70
    editable = PatternFill("solid", fgColor="FFF6D5")
    for sheet, rows in _rows(cat).items():
        p0 = cat[sheet] if sheet in cat and cat[sheet].type == "events" else None
        visible = wb.create_sheet(sheet[:31])
        twin = wb.create_sheet((TWIN + sheet)[:31])
        twin.sheet_state = "veryHidden"
        if p0 is not None:
            head = list(p0.fields)
            body = [[_cell_value(Parameter("", "", "", "", p0.fields[f]["type"] if p0.fields[f]["type"] != "organisme"
                                           else "str", None, ""), e.get(f)) for f in head]
                    for e in parametres[p0.path]]
            titles = [p0.fields[f].get("title", f) + (f" ({p0.fields[f]['unit']})" if p0.fields[f].get("unit") else "")
                      for f in head]
            for target in (visible, twin):
                target.append(head)
                for r in body:
                    target.append(r)
            visible.append([])
            visible.append([f"{p0.title_fr} — {' '.join(p0.source.split())}"])
            visible.append(["; ".join(f"{f} : {t}" for f, t in zip(head, titles))])
            for c in visible[1]:
                c.font = bold
            for i in range(len(head)):
                visible.column_dimensions[_col(i)].width = 18
            continue
        years = [int(y) for y in annees]
        head = [*COLUMNS, *years, PLAGE, SOURCE]
        visible.append(head)
        twin.append(head)
        for p, rpath in rows:
            v = parametres[rpath]
            if p.by_year:
                vals = [None, *[_cell_value(p, float(x)) for x in np.asarray(v, float)]]
            else:
                vals = [_cell_value(p, v), *([None] * len(years))]
            line = [rpath, p.title_fr, p.unit, *vals, texte(p.allowed()), ("estimé ; " if p.estimated else "") +
                    " ".join(p.source.split())]
            visible.append(line)
            twin.append(line)
        for c in visible[1]:
            c.font = bold
        for row in visible.iter_rows(min_row=2, min_col=4, max_col=4 + len(years)):
            for c in row:
                c.fill = editable
        widths = [42, 50, 12, 16, *([9] * len(years)), 36, 80]
        for i, w in enumerate(widths):
            visible.column_dimensions[_col(i)].width = w
        for row in visible.iter_rows(min_row=2, min_col=len(head), max_col=len(head)):
            for c in row:
                c.alignment = Alignment(wrap_text=False)
        visible.freeze_panes = "D2"
    wb.save(path)


def _col(i: int) -> str:
    """The spreadsheet letter of the 0-based column ``i`` (openpyxl's, 1-based)."""
    # lazy: openpyxl only when a workbook is written or read
    from openpyxl.utils import get_column_letter

    return get_column_letter(i + 1)


def cellule(sheet: str, row: int, col: int) -> str:
    """How messages name a cell: ``sheet 'organismes', cell F12``."""
    return f"sheet '{sheet}', cell {_col(col)}{row}"


# ----------------------------------------------------------------------------- reading
def lire_classeur(path: str | Path, shown: str) -> tuple[dict, dict[str, str]]:
    """The dict the TOML reader gives for the equivalent scenario file, and where each key path came from
    (key path -> :func:`cellule`), for :func:`placer`.

    Raises
    ------
    InputError
        Not a readable workbook (bounded read: :func:`model.params.lecture.lire_octets`), a sheet too big,
        a cell that cannot be read as its parameter's type; naming the sheet and the cell.
    """
    # lazy: openpyxl only when a workbook is written or read
    from openpyxl import load_workbook

    data = lire_octets(path, shown, "XLSX workbook")
    try:
        wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds (zipfile, KeyError, XML) for a file that is not one
        raise InputError([Problem(shown, "", MISSING, f"not a readable XLSX workbook ({type(exc).__name__})",
                                  "a workbook written by cogsim template (Excel, LibreOffice: .xlsx)")]) from None
    problems: list[Problem] = []
    cells: dict[str, str] = {}
    raw: dict[str, Any] = {}
    try:
        sheets = {ws.title: _grid(ws, shown, problems) for ws in wb.worksheets}
    finally:
        wb.close()
    if problems:
        raise InputError(problems)
    if HEADER_SHEET not in sheets:
        raise InputError([Problem(shown, "", MISSING, f"no sheet '{HEADER_SHEET}'",
                                  "a workbook written by cogsim template")])
    header: dict[str, Any] = {}
    for r, row in enumerate(sheets[HEADER_SHEET], start=1):
        if r == 1 or not row or row[0] not in HEADER_KEYS:
            continue
        value = row[1] if len(row) > 1 else None
        if value not in (None, ""):
            header[row[0]] = value if not isinstance(value, (int, float)) or isinstance(value, bool) else str(value)
        cells[f"scenario.{row[0]}"] = cellule(HEADER_SHEET, r, 1)
    raw["scenario"] = header
    cat = load_catalogue()
    for name, grid in sheets.items():
        if name == HEADER_SHEET or name.startswith(TWIN):
            continue
        twin = sheets.get((TWIN + name)[:31])
        if twin is None:
            problems.append(Problem(shown, "", name, "a sheet cogsim template did not write (or its hidden twin "
                                    "was removed)", f"the sheets of the template: {HEADER_SHEET}, "
                                    + ", ".join(sorted({section_of(p) for p in cat.values()}))))
            continue
        p = cat.get(name)
        if p is not None and p.type == "events":
            _lire_evenements(p, name, grid, twin, raw, cells)
        else:
            _lire_parametres(name, grid, twin, raw, cells, shown, problems)
    if problems:
        raise InputError(problems)
    return raw, cells


def _grid(ws, shown: str, problems: list[Problem]) -> list[list[Any]]:
    rows: list[list[Any]] = []
    for i, row in enumerate(ws.iter_rows(values_only=True)):
        if i >= MAX_ROWS:
            problems.append(Problem(shown, "", ws.title, f"sheet longer than {MAX_ROWS} rows",
                                    f"at most {MAX_ROWS} rows a sheet"))
            break
        rows.append([_plain(x) for x in row[:200]])
    while rows and all(x is None for x in rows[-1]):
        rows.pop()
    return rows


def _plain(x: Any) -> Any:
    if isinstance(x, dt.datetime):
        return x.date() if x.time() == dt.time(0) else x
    if isinstance(x, str):
        s = x.strip()
        return s if s else None
    return x


def _at(row: Sequence[Any], i: int) -> Any:
    return row[i] if i < len(row) else None


def _lire_parametres(name: str, grid: list, twin: list, raw: dict, cells: dict, shown: str,
                     problems: list[Problem]) -> None:
    if not grid:
        return
    head = grid[0]
    years = {i: int(h) for i, h in enumerate(head) if isinstance(h, (int, float)) and not isinstance(h, bool)}
    value_col = head.index(COLUMNS[3]) if COLUMNS[3] in head else 3
    twin_rows = {row[0]: row for row in twin[1:] if row and row[0]}
    cat = load_catalogue()
    for r, row in enumerate(grid[1:], start=2):
        rpath = _at(row, 0)
        if not rpath:
            continue
        base = twin_rows.get(rpath)
        p = _lookup(cat, str(rpath))
        if p is None or base is None:
            problems.append(Problem(shown, str(rpath), MISSING, f"a row cogsim template did not write "
                                    f"({cellule(name, r, 0)})", "the rows of the template (change values, not paths)"))
            continue
        if p.by_year:
            changed = [i for i in sorted(years) if _at(row, i) != _at(base, i)]
            if not changed:
                continue
            first = changed[0]
            table: dict[str, Any] = {}
            for i in sorted(years):
                if i < first:
                    continue
                v = _at(row, i)
                key = str(years[i])
                cells[f"{rpath}.{key}"] = cellule(name, r, i)
                if v is None and _at(base, i) is None:
                    continue
                table[key] = "" if v is None else v
            cells[str(rpath)] = cellule(name, r, first)
            _put(raw, str(rpath), table)
        else:
            v, b = _at(row, value_col), _at(base, value_col)
            if v == b:
                continue
            cells[str(rpath)] = cellule(name, r, value_col)
            if p.type in ("table", "shares") and isinstance(v, str):
                try:
                    v = parse_toml(f"v = {v}", shown)["v"]
                except InputError:
                    problems.append(Problem(shown, str(rpath), v, f"not a table ({cellule(name, r, value_col)})",
                                            p.allowed() + ', written {"key" = number, ...}'))
                    continue
            elif p.type == "date" and isinstance(v, dt.date):
                v = v.isoformat()
            _put(raw, str(rpath), "" if v is None else v)


def _lire_evenements(p: Parameter, name: str, grid: list, twin: list, raw: dict, cells: dict) -> None:
    if not grid:
        return
    head = [h for h in grid[0] if h is not None]
    base = [tuple(_at(r, i) for i in range(len(head))) for r in twin[1:]]
    events = []
    for r, row in enumerate(grid[1:], start=2):
        values = tuple(_at(row, i) for i in range(len(head)))
        if all(v is None for v in values):
            break  # the notes under the table
        if values in base:
            continue
        e = {}
        for i, f in enumerate(head):
            v = values[i]
            if v is None:
                continue
            if isinstance(v, dt.date):
                v = v.isoformat()
            e[str(f)] = v
            cells[f"{p.path}[{len(events)}].{f}"] = cellule(name, r, i)
        cells.setdefault(f"{p.path}[{len(events)}]", cellule(name, r, 0))
        events.append(e)
    if events:
        raw[p.path] = events


def _lookup(cat: Mapping[str, Parameter], rpath: str) -> Parameter | None:
    parts = rpath.split(".")
    if parts[0] == "organismes" and len(parts) == 3:
        return cat.get(f"organismes.*.{parts[2]}")
    return cat.get(rpath)


def _put(raw: dict, path: str, value: Any) -> None:
    parts = path.split(".")
    d = raw
    for k in parts[:-1]:
        d = d.setdefault(k, {})
    d[parts[-1]] = value


# ----------------------------------------------------------------------------- messages
_INDEX = re.compile(r"^(.*?)(\.[^.\[]+)?$")


def placer(problems: Sequence[Problem], shown: str, cells: Mapping[str, str]) -> list[Problem]:
    """``problems`` with those of the workbook ``shown`` placed in their sheet and cell: the file becomes
    ``shown, sheet 'X', cell F12`` (the key path found in ``cells``, else its longest known prefix)."""
    out = []
    for p in problems:
        where = None
        if p.file == shown and p.path:
            path = p.path
            while path:
                if path in cells:
                    where = cells[path]
                    break
                cut = max(path.rfind("."), path.rfind("["))
                path = path[:cut] if cut > 0 else ""
        out.append(replace(p, file=f"{p.file}, {where}") if where else p)
    return out
