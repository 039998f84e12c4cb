"""The observations the calibration fits and the backtest scores: CSV files of published figures (level,
change, cumul) with their uncertainty and quality, read through the bounded reader and validated row by row
(every problem at once), and the indicators they may name.
"""

from __future__ import annotations

import csv
import hashlib
import io
import itertools
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator, Mapping, Sequence

from model.params.calendrier import HORIZON_DEFAUT, ORGANISMES_SORTIE
from model.params.errors import MAX_COLLECTES, MISSING, InputError, Problem
from model.params.lecture import lire_octets, lire_texte

ROOT = Path(__file__).resolve().parents[2]  # the project folder (model/<layer>/<module>.py)


OBSERVATIONS_DIR = ROOT / "calibration" / "observations"


MAX_LIGNES = 100_000  # rows of one observation file (a real one has a few hundred)


# --------------------------------------------------------------------------- observations
COLONNES = ("id", "indicator", "organisme", "year", "annee_base", "kind", "value", "unit", "sigma",
            "quality", "estimated", "usage", "source_id", "valeur_publiee", "part_hors_cog", "note")


KINDS = ("level", "change_pct", "change_abs", "cumul")


QUALITES = {"official": 1.0, "secondary": 0.5, "derived": 0.25}  # variance weights


POIDS_ESTIME = 0.5  # a reconstructed (estimated) figure counts half


USAGES = ("fit", "validation")


# indicator -> (model unit, factor from the model unit to the observation's unit when kind = level)
INDICATEURS: dict[str, tuple[str, float]] = {
    "etpma": ("ETPMA", 1.0),
    "etpma_cdi": ("ETPMA", 1.0),
    "etpma_cdd": ("ETPMA", 1.0),
    "effectif_moyen": ("personnes", 1.0),
    "effectif_31dec": ("personnes", 1.0),
    "part_plus_50": ("pct", 100.0),
    "age_moyen": ("annees", 1.0),
    "departs_retraite": ("personnes/an", 1.0),
    "recrutements_cdi": ("personnes/an", 1.0),
    "rmpp": ("pct", 1.0),
    "depenses_personnel": ("MEUR", 1.0),
    "charges_personnel": ("MEUR", 1.0),
    "masse_salariale": ("MEUR", 1.0),
    "adf": ("MEUR", 1.0),
    "adf_immobilier": ("MEUR", 1.0),
    "depenses_limitatives": ("MEUR", 1.0),
    "productivite": ("indicator units/ETPMA", 1.0),
    "productivite_ij": ("UO IJ/ETPMA", 1.0),
    "cout_unitaire": ("EUR", 1.0),
}


# indicators read from a run's Dataset only (the backtest's post-2018 figures, model.analysis.backtest): the
# fit does not simulate them, so a calibration table may not name them (load_observations' default)
INDICATEURS_RUN: dict[str, tuple[str, float]] = {
    "recrutements": ("personnes/an", 1.0),
    "taux_appels_aboutis": ("pct", 100.0),
    "appels_recus": ("appels/an", 1.0),
}


TOUS_INDICATEURS: dict[str, tuple[str, float]] = {**INDICATEURS, **INDICATEURS_RUN}


BUDGET = {"adf", "adf_immobilier", "depenses_limitatives", "productivite", "productivite_ij", "cout_unitaire"}


@dataclass(frozen=True)
class Observation:
    """One reference figure, expressed on the model's perimeter.

    ``kind``: ``level`` (value in ``year``), ``change_pct`` (100 × (x[year] / x[annee_base] − 1)),
    ``change_abs`` (x[year] − x[annee_base]) or ``cumul`` (Σ x over annee_base..year).
    ``value`` = ``valeur_publiee`` × (1 − ``part_hors_cog``) for levels and absolute changes.
    """

    id: str
    indicator: str
    organisme: str
    year: int
    annee_base: int | None
    kind: str
    value: float
    unit: str
    sigma: float
    quality: str
    estimated: bool
    usage: str
    source_id: str
    valeur_publiee: float
    part_hors_cog: float
    note: str
    file: str = ""

    @property
    def poids(self) -> float:
        """Variance weight from the quality and the estimated flag."""
        return QUALITES[self.quality] * (POIDS_ESTIME if self.estimated else 1.0)

    @property
    def premiere_annee(self) -> int:
        return self.annee_base if self.annee_base is not None else self.year


def load_observations(data: str | Path | None = None,
                      indicateurs: Mapping[str, tuple[str, float]] | None = None) -> list[Observation]:
    """Read every ``*.csv`` of ``data`` (default ``calibration/observations``), or the one CSV file ``data``.

    ``indicateurs``: the indicators a row may name (default :data:`INDICATEURS`, those the calibration
    simulates; the backtest's post-2018 figures may name more, read from a run's Dataset).

    Raises
    ------
    InputError
        Every problem at once, each naming the file, the row (``row N``, header = row 1), the column,
        the value and what is allowed.
    """
    d = Path(data) if data is not None else OBSERVATIONS_DIR
    indicateurs = INDICATEURS if indicateurs is None else indicateurs
    problems: list[Problem] = []
    if d.is_file() and d.suffix == ".csv":
        files = [d]
    elif not d.is_dir():
        raise InputError([Problem(str(d), "", str(d), "observation folder not found",
                                  "a folder of CSV files (see calibration/README.md)")])
    else:
        files = sorted(d.glob("*.csv"))
    if not files:
        raise InputError([Problem(str(d), "", str(d), "no observation file", "one or more *.csv files")])
    out: list[Observation] = []
    seen: dict[str, str] = {}
    for f in files:
        shown = str(f)
        if len(problems) >= MAX_COLLECTES:
            break
        try:
            text = lire_texte(f, shown, "CSV file")  # bounded: a regular UTF-8 file of at most 4 MiB
        except InputError as exc:
            problems.extend(exc.problems)
            continue
        try:
            rows = list(itertools.islice(_rows(text), MAX_LIGNES + 1))
        except csv.Error as exc:  # e.g. a field larger than the csv module's limit (128 KiB)
            problems.append(Problem(shown, f"line {exc.args[1] if len(exc.args) > 1 else '?'}", MISSING,
                                    f"unreadable CSV ({exc.args[0]})", "a CSV file with fields of a reasonable size"))
            continue
        if len(rows) > MAX_LIGNES:
            problems.append(Problem(shown, "", MISSING, f"more than {MAX_LIGNES} rows",
                                    f"at most {MAX_LIGNES} observations a file"))
            continue
        if not rows:
            problems.append(Problem(shown, "row 1", "", "empty file", f"a header: {','.join(COLONNES)}"))
            continue
        header = [h.strip() for h in rows[0]]
        missing = [c for c in COLONNES if c not in header]
        unknown = [c for c in header if c not in COLONNES]
        for c in missing:
            problems.append(Problem(shown, f"row 1, column {c}", "", "missing column", ", ".join(COLONNES)))
        for c in unknown:
            problems.append(Problem(shown, f"row 1, column {c}", c, "unknown column", ", ".join(COLONNES)))
        if missing:
            continue
        for n, row in enumerate(rows[1:], start=2):
            if len(problems) >= MAX_COLLECTES:
                break
            if not any(x.strip() for x in row):
                continue
            if len(row) != len(header):
                problems.append(Problem(shown, f"row {n}", f"{len(row)} fields", "wrong number of fields",
                                        f"{len(header)} fields, as in the header"))
                continue
            rec = dict(zip(header, (x.strip() for x in row)))
            obs = _parse_row(rec, shown, n, problems, indicateurs)
            if obs is None:
                continue
            if obs.id in seen:
                problems.append(Problem(shown, f"row {n}, column id", obs.id, f"duplicate id (also in {seen[obs.id]})",
                                        "a unique id"))
                continue
            seen[obs.id] = shown
            out.append(obs)
    if not problems and not out:
        problems.append(Problem(str(d), "", MISSING, "no observation (the files have no data row)",
                                "one or more rows under the header of a *.csv file"))
    if any(p.severity == "error" for p in problems):
        raise InputError(problems)
    return out


def _rows(text: str) -> Iterator[list[str]]:
    """The CSV rows of ``text``; a csv.Error carries the physical line it was raised at."""
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        yield from reader
    except csv.Error as exc:
        raise csv.Error(str(exc), reader.line_num) from None


def observations_du_fit(observations: Sequence[Observation], fenetre: tuple[int, int]) -> list[Observation]:
    """The ``fit`` observations whose years are within ``fenetre``; none is an input error."""
    obs = [o for o in observations if o.usage == "fit" and fenetre[0] <= o.premiere_annee and o.year <= fenetre[1]]
    if not obs:
        files = sorted({o.file for o in observations}) or ["observations"]
        raise InputError([Problem(files[0] if len(files) == 1 else "observations", "", MISSING,
                                  f"no observation to fit in the window {fenetre[0]}-{fenetre[1]}",
                                  "rows with usage = fit whose annee_base and year are within the window")])
    return obs


def _parse_row(rec: dict[str, str], shown: str, n: int, problems: list[Problem],
               indicateurs: Mapping[str, tuple[str, float]] = INDICATEURS) -> Observation | None:
    start = len(problems)

    def err(col: str, value: Any, message: str, allowed: str) -> None:
        problems.append(Problem(shown, f"row {n}, column {col}", value, message, allowed))

    def num(col: str, required: bool = True, lo: float = -math.inf, hi: float = math.inf) -> float | None:
        v = rec[col]
        if v == "":
            if required:
                err(col, v, "missing value", "a number")
            return None
        try:
            x = float(v)
        except ValueError:
            err(col, v, "not a number", "a number")
            return None
        if not math.isfinite(x):
            err(col, v, "not a finite number", "a finite number")
            return None
        if not (lo <= x <= hi):
            err(col, v, "out of range", f"[{lo}, {hi}]")
            return None
        return x

    def year(col: str, required: bool) -> int | None:
        v = rec[col]
        if v == "" and (not required or rec["kind"] == "level"):
            return None
        try:
            y = int(v)
        except ValueError:
            err(col, v, "not a year", f"an integer year in {HORIZON_DEFAUT}")
            return None
        if y not in HORIZON_DEFAUT.annees:
            err(col, v, "year outside the simulated period", f"{HORIZON_DEFAUT}")
            return None
        return y

    if not rec["id"]:
        err("id", "", "missing id", "a unique identifier")
    if rec["indicator"] not in indicateurs:
        err("indicator", rec["indicator"], "unknown indicator", ", ".join(indicateurs))
    if rec["organisme"] not in ORGANISMES_SORTIE:
        err("organisme", rec["organisme"], "unknown organisme", ", ".join(ORGANISMES_SORTIE))
    if rec["kind"] not in KINDS:
        err("kind", rec["kind"], "unknown kind", ", ".join(KINDS))
    if rec["quality"] not in QUALITES:
        err("quality", rec["quality"], "unknown quality", ", ".join(QUALITES))
    if rec["usage"] not in USAGES:
        err("usage", rec["usage"], "unknown usage", ", ".join(USAGES))
    if rec["estimated"].lower() not in ("true", "false"):
        err("estimated", rec["estimated"], "not a boolean", "true or false")
    y = year("year", True)
    b = year("annee_base", rec["kind"] == "level")
    value = num("value")
    sigma = num("sigma", lo=0.0)
    if sigma == 0.0:
        err("sigma", rec["sigma"], "sigma must be positive", "a number > 0")
    pub = num("valeur_publiee", required=False)
    hors = num("part_hors_cog", required=False, lo=0.0, hi=0.99)
    if rec["kind"] in ("change_pct", "change_abs", "cumul") and rec["annee_base"] == "":
        err("annee_base", "", f"a {rec['kind']} needs a base year", f"a year in {HORIZON_DEFAUT}")
    if rec["kind"] == "level" and rec["annee_base"] != "":
        err("annee_base", rec["annee_base"], "a level has no base year", "empty")
    if y is not None and b is not None and b >= y and rec["kind"] != "level":
        err("annee_base", rec["annee_base"], "base year not before the year", f"a year before {y}")
    if len(problems) > start:
        return None
    return Observation(
        id=rec["id"], indicator=rec["indicator"], organisme=rec["organisme"], year=y,
        annee_base=b if rec["kind"] != "level" else None, kind=rec["kind"], value=value, unit=rec["unit"],
        sigma=sigma, quality=rec["quality"], estimated=rec["estimated"].lower() == "true", usage=rec["usage"],
        source_id=rec["source_id"], valeur_publiee=value if pub is None else pub,
        part_hors_cog=0.0 if hors is None else hors, note=rec["note"], file=shown)


def data_hash(data: str | Path | None = None) -> str:
    """sha256 over the observation files (names and bytes), for provenance."""
    d = Path(data) if data is not None else OBSERVATIONS_DIR
    h = hashlib.sha256()
    for f in sorted(d.glob("*.csv")):
        h.update(f.name.encode())
        h.update(lire_octets(f, str(f), "CSV file"))
    return h.hexdigest()
