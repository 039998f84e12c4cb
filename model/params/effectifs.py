"""A staff file: the initial state by organisme × contract × age (``etat_initial.fichier``), read and checked,
or written as a template.
"""

from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from model.params.calendrier import AGE_MIN, AGES, CONTRATS, ORGANISMES
from model.params.errors import MAX_COLLECTES, MISSING, InputError, Problem
from model.params.lecture import lire_texte


@dataclass(frozen=True)
class EtatInitial:
    """Persons and ETP at 31 December of the year before the horizon, arrays of shape (organisme, contrat,
    age); ``indice``: the mean pay per person at full time in each cell (EUR/yr, the pay of 31 December),
    or None (the engine then derives it from ``salaire_moyen_initial``).

    ``source`` says where it comes from; ``estimated`` is True for the reconstruction.
    """

    effectif: np.ndarray
    etp: np.ndarray
    source: str
    estimated: bool
    indice: np.ndarray | None = None


def read_csv(path: str | Path, fermes: tuple[str, ...] = ()) -> EtatInitial:
    """Read a user-supplied initial state. Raises InputError naming file, row and column.

    The file is read through the bounded reader (a regular UTF-8 file of at most 4 MiB, byte-order mark
    allowed); every organisme × contract must have staff (a row with a positive headcount), except the
    organismes in ``fermes`` (closed before the start: the ex-RSI after its transfer), which may have none.
    """
    path = Path(path)
    shown = str(path)
    problems: list[Problem] = []
    n = np.zeros((len(ORGANISMES), len(CONTRATS), len(AGES)))
    e = np.zeros_like(n)
    w = np.full_like(n, np.nan)
    text = lire_texte(path, shown, "CSV file")
    reader = csv.DictReader(io.StringIO(text, newline=""))
    try:
        fieldnames = reader.fieldnames or []
        missing = [c for c in COLONNES if c not in fieldnames]
        if missing:  # the received header is not quoted: the file may be anything
            raise InputError([Problem(shown, "header", MISSING, f"missing column(s) {', '.join(missing)}",
                                      ",".join(COLONNES))])
        seen = set()
        paye = SALAIRE in fieldnames
        for i, row in enumerate(reader, start=2):
            if len(problems) >= MAX_COLLECTES:
                break
            _read_row(row, f"row {i}", shown, problems, seen, n, e, w if paye else None)
    except csv.Error as exc:  # e.g. a field larger than the csv module's limit (128 KiB)
        problems.append(Problem(shown, f"line {reader.reader.line_num}", MISSING, f"unreadable CSV ({exc})",
                                "a CSV file with fields of a reasonable size"))
    if not problems:
        _check_complete(n, shown, problems, fermes)
    if problems:
        raise InputError(problems)
    return EtatInitial(n, e, f"user file {shown}", False, np.nan_to_num(w) if SALAIRE in fieldnames else None)


COLONNES = ("organisme", "contrat", "age", "effectif", "etp")
# optional: the mean pay per person at full time in the cell (EUR/yr at 31 December, bonuses included)
SALAIRE = "salaire_moyen"


def _read_row(row: dict, where: str, shown: str, problems: list[Problem], seen: set,
              n: np.ndarray, e: np.ndarray, w: np.ndarray | None = None) -> None:
    """Check one row and store it in ``n`` (persons), ``e`` (ETP) and ``w`` (mean pay, when the file
    has the column)."""
    required = COLONNES + ((SALAIRE,) if w is not None else ())
    if None in row:  # more fields than columns (e.g. a decimal comma)
        problems.append(Problem(shown, where, ",".join(row[None]), "more fields than columns",
                                f"{len(required)} fields: {','.join(required)} (decimal point, not comma)"))
        return
    short = [c for c in required if row.get(c) is None]
    if short:
        problems.append(Problem(shown, f"{where}, column {short[0]}", MISSING, "missing value",
                                f"{len(required)} fields: {','.join(required)}"))
        return
    org, con = row["organisme"].strip(), row["contrat"].strip()
    ok = True
    if org not in ORGANISMES:
        problems.append(Problem(shown, f"{where}, column organisme", org, "unknown organisme",
                                ", ".join(ORGANISMES)))
        ok = False
    if con not in CONTRATS:
        problems.append(Problem(shown, f"{where}, column contrat", con, "unknown contract",
                                ", ".join(CONTRATS)))
        ok = False
    try:
        age = int(row["age"])
        if not AGES[0] <= age <= AGES[-1]:
            raise ValueError
    except ValueError:
        problems.append(Problem(shown, f"{where}, column age", row["age"], "bad age",
                                f"an integer from {AGES[0]} to {AGES[-1]}"))
        ok = False
    vals = {}
    for col in ("effectif", "etp") + ((SALAIRE,) if w is not None else ()):
        try:
            x = float(row[col])
            if not math.isfinite(x) or x < 0:
                raise ValueError
            vals[col] = x
        except (TypeError, ValueError):
            problems.append(Problem(shown, f"{where}, column {col}", row[col], "bad number",
                                    "a finite number >= 0"))
            ok = False
    if not ok:
        return
    if vals["etp"] > vals["effectif"] + 1e-9:
        problems.append(Problem(shown, f"{where}, column etp", row["etp"], "more ETP than persons",
                                f"<= effectif = {row['effectif']}"))
        return
    key = (org, con, age)
    if key in seen:
        problems.append(Problem(shown, where, f"{org},{con},{age}", "duplicate row",
                                "one row per organisme, contrat and age"))
        return
    seen.add(key)
    o, c, a = ORGANISMES.index(org), CONTRATS.index(con), age - AGE_MIN
    n[o, c, a], e[o, c, a] = vals["effectif"], vals["etp"]
    if w is not None:
        w[o, c, a] = vals[SALAIRE]


def _check_complete(n: np.ndarray, shown: str, problems: list[Problem], fermes: tuple[str, ...] = ()) -> None:
    """Every organisme × contract needs staff: an empty cell would start a network from nothing."""
    empty = [f"{org} {con}" for o, org in enumerate(ORGANISMES) for c, con in enumerate(CONTRATS)
             if n[o, c].sum() <= 0 and org not in fermes]
    if not empty:
        return
    listed = ", ".join(empty[:6]) + (f" and {len(empty) - 6} more" if len(empty) > 6 else "")
    total = len(ORGANISMES) * len(CONTRATS)
    problems.append(Problem(shown, "", MISSING,
                            f"no staff for {len(empty)} of the {total} organisme × contract cells ({listed})",
                            "rows with a positive effectif for every organisme "
                            f"({', '.join(ORGANISMES)}) and contract ({', '.join(CONTRATS)})"))


def write_csv(etat: EtatInitial, path: str | Path) -> None:
    """Write an initial state in the format ``read_csv`` reads (a template for users)."""
    with open(path, "w", newline="", encoding="utf-8") as f:
        f.write(texte_csv(etat))


def texte_csv(etat: EtatInitial) -> str:
    """A state as the CSV ``read_csv`` reads: one row per non-empty cell, with the column
    ``salaire_moyen`` when the state carries its pay; values in full (``repr``), so that a state read
    back is the state written."""
    f = io.StringIO(newline="")
    w = csv.writer(f, lineterminator="\n")
    w.writerow(list(COLONNES) + ([SALAIRE] if etat.indice is not None else []))
    for o, org in enumerate(ORGANISMES):
        for c, con in enumerate(CONTRATS):
            for a, age in enumerate(AGES):
                if etat.effectif[o, c, a] > 0:
                    row = [org, con, age, repr(float(etat.effectif[o, c, a])), repr(float(etat.etp[o, c, a]))]
                    if etat.indice is not None:
                        row.append(repr(float(etat.indice[o, c, a])))
                    w.writerow(row)
    return f.getvalue()
