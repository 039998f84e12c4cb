"""Scenario comparison as numbers: the differences "variante − référence" between saved runs, organisme
by organisme and for the published totals (régime général, ensemble).

The first run is the reference; every other run is a variant read against it. For each indicator of
:data:`INDICATEURS` (staff, flows, wage bill and the effects of its bridge, ADF, dépenses limitatives,
productivity, service quality) and each organisme and aggregate, year by year: the mean of the reference,
the mean of the variant, their difference and its relative size; when both runs are stochastic with the
same seed and replicates (common random numbers: the same draws meet the same people), the 90 % band of
the paired difference replicate by replicate. The probability of meeting each COG target
(``probabilite_respect``) is compared the same way (difference in points of probability).

Years and organismes are those the runs share (read from their Datasets, never from a calendar constant).
Everything is computed from the saved runs (:class:`model.outputs.lecture_run.Run`), never by re-running.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence

import numpy as np

from model.outputs.lecture_run import Run, nan_quantiles
from model.outputs.libelles import Lang, cible_label, org_label, table, unit_label, variable_label
from model.params.errors import MISSING, InputError, Problem
from model.results.dataset import CIBLE_DIM

# (variable, group) in the order of the table, the workbook and the note; a variable missing from a run
# is left out (older runs, or runs of a model without that layer)
INDICATEURS: tuple[tuple[str, str], ...] = (
    ("etpma", "effectifs"), ("effectif_31dec", "effectifs"), ("plafond_emplois", "effectifs"),
    ("saturation", "effectifs"),
    ("recrutements", "flux"), ("recrutements_cdi", "flux"), ("departs_retraite", "flux"),
    ("departs_autres", "flux"),
    ("masse_salariale", "masse_salariale"), ("effet_effectif", "masse_salariale"),
    ("effet_mesures_generales", "masse_salariale"), ("effet_gvt", "masse_salariale"),
    ("effet_noria", "masse_salariale"), ("effet_report", "masse_salariale"),
    ("depenses_personnel", "budget"), ("adf", "budget"), ("adf_hors_informatique", "budget"),
    ("depenses_limitatives", "budget"),
    ("productivite", "productivite"), ("productivite_ij", "productivite"),
    ("delai_traitement", "service"), ("taux_appels_aboutis", "service"), ("attente_moyenne", "service"),
)
PROBABILITE = "probabilite_respect"

# the columns of the differences table (CSV and workbook), in order
COLONNES = ("indicateur", "libelle", "unite", "organisme", "annee", "reference", "variante",
            "valeur_reference", "valeur_variante", "ecart", "ecart_relatif", "ecart_p05", "ecart_p95")


@dataclass(frozen=True)
class Comparaison:
    """Saved runs read against the first (the reference): their shared years and organismes."""

    reference: Run
    variantes: tuple[Run, ...]
    years: np.ndarray
    organismes: tuple[str, ...]   # organismes of the Datasets, then regime_general and total
    positions: tuple[np.ndarray, ...] = ()  # where each run (reference first) has the shared years

    def at(self, run: Run) -> np.ndarray:
        """Indices of the shared years in ``run``'s own years."""
        for r, idx in zip(self.runs, self.positions):
            if r is run:
                return idx
        own = [int(y) for y in run.years]
        return np.array([own.index(int(y)) for y in self.years])

    @property
    def runs(self) -> tuple[Run, ...]:
        return (self.reference, *self.variantes)

    def indicateurs(self) -> list[str]:
        """The indicators every run has, in the order of :data:`INDICATEURS`."""
        return [v for v, _ in INDICATEURS if all(v in r.ds for r in self.runs)]

    def niveau(self, run: Run, name: str, organisme: str) -> np.ndarray:
        """Mean of ``name`` over the replicates of ``run``, on the shared years."""
        return run.mean(name, organisme)[self.at(run)]

    def ecart(self, variante: Run, name: str, organisme: str) -> np.ndarray:
        """variante − référence of the means, by shared year."""
        return self.niveau(variante, name, organisme) - self.niveau(self.reference, name, organisme)

    def paired(self, variante: Run) -> bool:
        """Can the differences be taken replicate by replicate (common random numbers)?"""
        r = self.reference
        return (r.stochastic and variante.stochastic and r.manifest.get("seed") == variante.manifest.get("seed")
                and r.ds.sizes.get("replicate") == variante.ds.sizes.get("replicate"))

    def bande_ecart(self, variante: Run, name: str, organisme: str) -> tuple[np.ndarray, np.ndarray]:
        """The 90 % band of the paired difference (NaN when the runs cannot be paired)."""
        n = len(self.years)
        if not self.paired(variante):
            return np.full(n, np.nan), np.full(n, np.nan)
        d = variante.series(name, organisme)[self.at(variante)] - \
            self.reference.series(name, organisme)[self.at(self.reference)]
        q = nan_quantiles(d, [0.05, 0.95])
        return q[0], q[1]

    def probabilites(self, run: Run) -> dict[str, np.ndarray]:
        """``probabilite_respect`` of ``run`` by target: (shared year, organisme of the Datasets) arrays."""
        if PROBABILITE not in run.ds:
            return {}
        p = run.ds[PROBABILITE]
        own = [str(o) for o in run.ds["organisme"].values]
        orgs = [o for o in self.organismes if o in own]
        out = {}
        for c in p[CIBLE_DIM].values:
            sel = p.sel({CIBLE_DIM: c}).sel(year=[int(y) for y in self.years], organisme=orgs)
            out[str(c)] = sel.transpose("year", "organisme").values.astype(float)
        return out


def comparer(runs: Sequence[Run]) -> Comparaison:
    """Read ``runs[1:]`` against ``runs[0]`` (the reference).

    Raises
    ------
    InputError
        Fewer than two runs, the same run twice, or runs with no year in common.
    """
    runs = list(runs)
    if len(runs) < 2:
        raise InputError([Problem("arguments", "runs", len(runs), "a comparison needs at least two runs",
                                  "a reference run folder, then one or more variant run folders")])
    problems = []
    seen: dict[str, Run] = {}
    for r in runs:
        if r.path.resolve() in {s.path.resolve() for s in seen.values()}:
            problems.append(Problem(str(r.path), "", MISSING, "the same run folder is given twice",
                                    "each run folder once"))
        seen[str(r.path)] = r
    ref_years = [int(y) for y in runs[0].years]
    shared = [y for y in ref_years if all(y in [int(x) for x in r.years] for r in runs[1:])]
    if not shared:
        problems.append(Problem(str(runs[1].path), "year", MISSING, "no year in common with the reference "
                                f"{runs[0].path} ({ref_years[0]}–{ref_years[-1]})", "runs over overlapping years"))
    if problems:
        raise InputError(problems)
    own = [str(o) for o in runs[0].ds["organisme"].values]
    orgs = [o for o in own if all(o in [str(x) for x in r.ds["organisme"].values] for r in runs[1:])]
    aggregates = [o for o in runs[0].organismes if o not in own]
    positions = tuple(np.array([[int(x) for x in r.years].index(y) for y in shared]) for r in runs)
    return Comparaison(runs[0], tuple(runs[1:]), np.array(shared), tuple(orgs + aggregates), positions)


def check_organisme(comp: Comparaison, organisme: str | None) -> None:
    """An ``organisme`` the comparison has (or None); InputError naming the allowed ones otherwise."""
    if organisme is not None and organisme not in comp.organismes:
        raise InputError([Problem("arguments", "organisme", organisme, "unknown organisme",
                                  ", ".join(comp.organismes))])


def _unit(run: Run, name: str, organisme: str) -> str:
    units = run.units_of(name, organisme)
    own = {str(o) for o in run.ds["organisme"].values}
    if organisme not in own and ": " in str(run.ds[name].attrs.get("units", "")):
        return ""  # per-organisme units have no aggregate unit
    return units


def unite_lisible(run: Run, name: str, organisme: str, lang: Lang) -> str:
    """The unit of an indicator as the note writes it ("M€/an", "jours", "%" for a share)."""
    u = _unit(run, name, organisme)
    if u == "1":
        return "%"
    return unit_label(u, lang)


def table_ecarts(comp: Comparaison, lang: Lang = "fr", organismes: Sequence[str] | None = None) -> list[dict]:
    """The differences table: one row per variant × indicator × organisme × shared year (columns
    :data:`COLONNES`), the probabilities of meeting the COG targets included (indicator
    ``probabilite_respect:<cible>``, unit ``1``). Shares (unit ``1``) stay fractions."""
    ref = comp.reference
    orgs = list(organismes) if organismes is not None else list(comp.organismes)
    rows = []
    for var in comp.variantes:
        for name in comp.indicateurs():
            label = variable_label(name, lang, ref.ds[name].attrs)
            for o in orgs:
                a, b = comp.niveau(ref, name, o), comp.niveau(var, name, o)
                if not (np.isfinite(a).any() or np.isfinite(b).any()):
                    continue
                lo, hi = comp.bande_ecart(var, name, o)
                unit = _unit(ref, name, o)
                for i, y in enumerate(comp.years):
                    d = b[i] - a[i]
                    rel = d / a[i] if np.isfinite(a[i]) and a[i] != 0 and unit != "1" else math.nan
                    rows.append(_row(name, label, unit, o, int(y), ref, var, a[i], b[i], d, rel, lo[i], hi[i]))
        pr, pv = comp.probabilites(ref), comp.probabilites(var)
        own = [o for o in comp.organismes if o in {str(x) for x in ref.ds["organisme"].values}]
        for c in pr:
            if c not in pv:
                continue
            label = f"{table(lang)['comparaison']['proba']} — {cible_label(c, lang)}"
            for j, o in enumerate(own):
                if o not in orgs or not (np.isfinite(pr[c][:, j]).any() or np.isfinite(pv[c][:, j]).any()):
                    continue
                for i, y in enumerate(comp.years):
                    a, b = pr[c][i, j], pv[c][i, j]
                    rows.append(_row(f"{PROBABILITE}:{c}", label, "1", o, int(y), ref, var, a, b, b - a, math.nan,
                                     math.nan, math.nan))
    return rows


def _row(name, label, unit, o, y, ref, var, a, b, d, rel, lo, hi) -> dict:
    f = (lambda x: float(x) if x is not None and math.isfinite(float(x)) else math.nan)  # noqa: E731
    return dict(zip(COLONNES, (name, label, unit, o, y, ref.run_id, var.run_id, f(a), f(b), f(d), f(rel), f(lo),
                               f(hi))))


def ecrire_csv(rows: list[dict], path, lang: Lang = "fr") -> None:
    """The differences table as CSV (UTF-8, comma-separated, point as decimal mark, empty for undefined;
    the organisme column keeps its code, a ``libelle_organisme`` column its display name)."""
    # lazy: pandas only when the table is written
    import pandas as pd

    df = pd.DataFrame(rows, columns=list(COLONNES))
    df.insert(4, "libelle_organisme", [org_label(o, lang) for o in df["organisme"]])
    df.to_csv(path, index=False, float_format="%.10g", encoding="utf-8")


def synthese(comp: Comparaison, variante: Run, organisme: str) -> list[dict]:
    """The key differences of one variant for one organisme, for the note and the workbook: per
    indicator, the reference and variant values in the last shared year, their difference there, and
    the cumulated difference over the shared years for flows and money (``cumul``; NaN for levels and
    rates, where a sum means nothing)."""
    ref = comp.reference
    out = []
    for name in comp.indicateurs():
        a, b = comp.niveau(ref, name, organisme), comp.niveau(variante, name, organisme)
        if not (np.isfinite(a).any() and np.isfinite(b).any()):
            continue
        unit = _unit(ref, name, organisme)
        flow = unit.endswith("/an") or unit == "MEUR"
        with np.errstate(invalid="ignore"):
            cumul = float(np.nansum(b - a)) if flow else math.nan
        lo, hi = comp.bande_ecart(variante, name, organisme)
        out.append({"indicateur": name, "unit": unit, "reference": float(a[-1]), "variante": float(b[-1]),
                    "ecart": float(b[-1] - a[-1]), "p05": float(lo[-1]), "p95": float(hi[-1]), "cumul": cumul,
                    "flux": flow})
    return out


def premiere_annee_differente(comp: Comparaison, variante: Run, name: str = "etpma",
                              organisme: str = "total") -> int | None:
    """The first shared year where ``name`` differs between the reference and ``variante`` (None when it
    never does): where the variant's policy starts to bite."""
    d = comp.ecart(variante, name, organisme)
    scale = np.nanmax(np.abs(comp.niveau(comp.reference, name, organisme)), initial=1.0)
    idx = np.flatnonzero(np.abs(np.nan_to_num(d)) > 1e-9 * max(scale, 1.0))
    return int(comp.years[idx[0]]) if idx.size else None
