"""Chart kit: the charts of a COG negotiation note, drawn from a saved run only.

Every chart is drawn from a run folder written by ``cogsim run`` (``results.nc`` + ``manifest.json``),
never by re-running the model. Charts are French by default (decimal comma, narrow no-break space as
thousands separator, "M€", "ETPMA"), English on request; each carries a source note naming the run id,
the scenario title, the replicates and seed, and the code commit; they are sober and print-friendly
(grey scale readable: hatches, line styles and markers, not colour alone) and are saved as PNG (300 dpi),
SVG (text kept as text) and PDF.

Charts
------
=============================  ==============================================================================
``trajectoire_etpma``          ETPMA per organisme against the plafond d'emplois, 90 % fan (5th-95th
                               centiles over replicates; none for a deterministic run)
``pont_etpma``                 ETPMA bridge by year: départs retraite, autres départs, recrutements,
                               transferts (solde), calendar/quotité effect; hires forgone through
                               mutualisations for memory; cumulated over the COG period
``pont_masse_salariale``       wage-bill bridge by year: effet effectif, mesures générales, GVT, noria,
                               report (they sum exactly to the change); cumulated over the COG period
``adf``                        ADF by component (IT running costs on top) against the COG target on ADF
                               excluding IT
``productivite``               productivity against the COG target, one panel per indicator (units differ)
``saturation``                 saturation of the plafond d'emplois (ETPMA / plafond)
``comparaison``                several runs side by side (:func:`chart_comparaison`)
``tornado``                    one-at-a-time sensitivity (:func:`chart_tornado`, when a sensitivity result
                               exists)
=============================  ==============================================================================

Every ``chart_*`` function returns a :class:`matplotlib.figure.Figure`; given ``fig`` (a Figure or a
SubFigure) it draws into it instead (to compose several charts on one page of one's own).

Sensitivity input (tornado)
---------------------------
:func:`chart_tornado` reads an ``xarray.Dataset`` (conventionally ``RUN_DIR/sensitivity.nc``) with:

* one dimension ``parameter`` whose labels are the dotted parameter paths of scenario files
  (``organismes.cnaf.taux_remplacement``);
* for a one-at-a-time (``method = "oat"``) analysis, variables ``low`` and ``high``: the output when the
  parameter is set to its low / high value, all else at the scenario's values; optional ``value_low`` and
  ``value_high``: the parameter values themselves (shown in the labels);
* for a global analysis (``method = "morris"`` or ``"sobol"``), a variable ``index`` (e.g. μ* or the total
  Sobol index), drawn as one-sided bars;
* global attributes ``output`` (a results variable, e.g. ``etpma``), ``year`` (int), ``organisme`` (an
  organisme, ``regime_general`` or ``total``), ``units``, ``method``; for OAT ``baseline`` (the output
  at the scenario's values).

Examples
--------
>>> from model.outputs.graphiques import load_run, chart_trajectoire_etpma, save_figure   # doctest: +SKIP
>>> run = load_run("results/cog_2018_2022")                                       # doctest: +SKIP
>>> save_figure(chart_trajectoire_etpma(run), "out", "trajectoire_etpma", title=run.run_id)  # doctest: +SKIP
"""

from __future__ import annotations

import json
import math
import textwrap
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Literal, Sequence

import matplotlib
import numpy as np
import xarray as xr
from matplotlib import ticker
from matplotlib.figure import Figure, SubFigure
from matplotlib.layout_engine import ConstrainedLayoutEngine
from matplotlib.patches import Patch, PathPatch
from matplotlib.path import Path as _MplPath
from matplotlib.lines import Line2D

from model.params.errors import MISSING, InputError, Problem
from model.results.dataset import AGGREGATS, STATISTIQUES, STATISTIQUES_COORD, aggregate_values, statistiques_replicates
from model.outputs.texte import court

Lang = Literal["fr", "en"]
LANGS: tuple[str, ...] = ("fr", "en")
NNBSP = "\u202f"      # narrow no-break space: French thousands separator and space before % and :
MINUS = "\u2212"
FORMATS: tuple[str, ...] = ("png", "svg", "pdf")
DPI = 300
LARGEUR = 6.3         # inches: 16 cm, the text width of an A4 note
REQUIRED = ("etpma",)  # a results.nc without these is not a cogsim run

STYLE: dict[str, Any] = {
    "font.family": "DejaVu Sans", "font.size": 8, "axes.titlesize": 8, "axes.titleweight": "bold",
    "axes.labelsize": 7.5, "xtick.labelsize": 7, "ytick.labelsize": 7, "legend.fontsize": 7,
    "figure.titlesize": 9.5, "figure.titleweight": "bold", "axes.spines.top": False,
    "axes.spines.right": False, "axes.grid": True, "axes.grid.axis": "y", "axes.axisbelow": True,
    "grid.color": "0.86", "grid.linewidth": 0.5, "axes.linewidth": 0.6, "axes.edgecolor": "0.25",
    "xtick.color": "0.2", "ytick.color": "0.2", "xtick.major.width": 0.6, "ytick.major.width": 0.6,
    "hatch.linewidth": 0.5, "hatch.color": "0.2", "legend.frameon": False, "lines.linewidth": 1.3,
    "svg.fonttype": "none", "svg.hashsalt": "cogsim", "pdf.fonttype": 42, "savefig.dpi": DPI,
    "axes.formatter.use_locale": False, "axes.unicode_minus": True, "patch.linewidth": 0.5,
}

# fills of stacked components: luminance decreasing, hatches on every other one (readable in grey scale)
FILLS: tuple[tuple[str, str], ...] = (
    ("#1f3552", ""), ("#6f8fb4", "////"), ("#c5d3e3", ""), ("#ffffff", "...."),
    ("#8a8a8a", "xxxx"), ("#d8c9a3", "\\\\\\\\"))
# one line style per organisme, the same in every chart
SERIES: dict[str, tuple[str, str, str]] = {  # colour, line style, marker
    "cnam": ("#1f3552", "-", "o"), "cnaf": ("#4d6f99", "--", "s"), "cnav": ("#7a7a7a", ":", "^"),
    "acoss": ("#2b2b2b", "-.", "D"), "msa": ("#8c6d3f", (0, (5, 1, 1, 1, 1, 1)), "v"),
    "rsi": ("#9a9a9a", (0, (1, 2)), "P"), "regime_general": ("#000000", "-", None),
    "total": ("#000000", "-", None)}
SCENARIO_STYLES: tuple[tuple[str, str, str], ...] = (
    ("#000000", "-", "o"), ("#4d6f99", "--", "s"), ("#8c6d3f", ":", "^"), ("#7a7a7a", "-.", "D"),
    ("#1f3552", (0, (5, 1, 1, 1)), "v"), ("#9a9a9a", (0, (1, 2)), "P"))
FAN = ("#c9ced6", 0.6)    # fan fill colour, alpha

ORGANISME_LABELS = {
    "fr": {"cnam": "CNAM", "cnaf": "CNAF", "cnav": "CNAV", "acoss": "ACOSS", "msa": "MSA", "rsi": "ex-RSI",
           "regime_general": "Régime général", "total": "Ensemble"},
    "en": {"cnam": "CNAM", "cnaf": "CNAF", "cnav": "CNAV", "acoss": "ACOSS", "msa": "MSA", "rsi": "ex-RSI",
           "regime_general": "Régime général", "total": "All organismes"},
}

LABELS: dict[str, dict[str, str]] = {
    "fr": {
        "source": "Source : cogsim {version}, run « {run_id} » ({mode}{commit}) — scénario « {title} »",
        "stochastic": "{n} réplications, graine {seed}", "deterministic": "déterministe",
        "commit": ", commit {commit}", "source_runs": "Source : cogsim {version}, runs {runs}",
        "mean": "Moyenne des réplications", "det": "Trajectoire simulée",
        "fan": "Bande à 90 % (5ᵉ–95ᵉ centiles)", "plafond": "Plafond d'emplois (COG)",
        "t_trajectoire": "ETPMA simulés et plafonds d'emplois de la COG",
        "t_pont_etpma": "Pont d'ETPMA — {perimetre}",
        "t_pont_ms": "Pont de masse salariale — {perimetre}",
        "t_adf": "Autres dépenses de fonctionnement (ADF) par poste et cible COG",
        "t_productivite": "Productivité et cible de la COG",
        "t_saturation": "Saturation du plafond d'emplois (ETPMA / plafond)",
        "t_comparaison": "Comparaison de scénarios — {perimetre}",
        "t_tornado": "Sensibilité : {output} {year} — {perimetre}",
        "by_year": "Contributions annuelles ({unit})", "cumul": "Cumul {a}–{b} ({unit})",
        "net_etpma": "Variation de l'ETPMA", "net_ms": "Variation de la masse salariale",
        "net": "Variation nette",
        "departs_retraite": "Départs en retraite", "departs_autres": "Autres départs (y c. fins de CDD)",
        "recrutements": "Recrutements (CDI et CDD)", "transferts": "Transferts (solde)",
        "calendrier": "Effet calendrier et quotité",
        "mutualisation": "Recrutements évités par les mutualisations (pour mémoire, déjà déduits)",
        "effet_effectif": "Effet effectif", "effet_mesures_generales": "Mesures générales",
        "effet_gvt": "GVT positif", "effet_noria": "Effet de noria et de structure",
        "effet_report": "Effet report",
        "adf_immobilier": "Immobilier", "adf_editique": "Éditique et affranchissement", "adf_achats": "Achats",
        "adf_autres": "Autres postes", "adf_informatique_fonctionnement": "Informatique de fonctionnement",
        "cible_adf": "Cible COG (ADF hors informatique)",
        "productivite": "Productivité simulée", "cible_productivite": "Cible COG",
        "no_target": "pas de cible COG", "ij": "CNAM (IJ)",
        "fse": "CNAM (FSE)",
        "ceiling_100": "Plafond d'emplois (100 %)",
        "levels": "{v} :\n{a} en {ya} → {b} en {yb}",
        "fan_net": "Bande à 90 % de la variation",
        "tornado_low": "Valeur basse du paramètre", "tornado_high": "Valeur haute du paramètre",
        "tornado_ref": "Écart à la valeur du scénario ({v})", "tornado_index": "Indice de sensibilité ({method})",
        "etpma": "ETPMA", "masse_salariale": "Masse salariale", "depenses_limitatives": "Dépenses limitatives",
        "depenses_personnel": "Dépenses de personnel", "adf": "ADF",
        "adf_hors_informatique": "ADF hors informatique",
        "saturation": "Saturation du plafond",
        "t_service": "Qualité de service : taux d'appels aboutis et délai de traitement",
        "p_appels": "Taux d'appels aboutis", "p_delai": "Délai moyen de traitement", "log_days": "jours (échelle logarithmique)",
        "cible_85": "Cible COG ({v})",
    },
    "en": {
        "source": "Source: cogsim {version}, run \u201c{run_id}\u201d ({mode}{commit}) — scenario \u201c{title}\u201d",
        "stochastic": "{n} replicates, seed {seed}", "deterministic": "deterministic",
        "commit": ", commit {commit}", "source_runs": "Source: cogsim {version}, runs {runs}",
        "mean": "Mean of the replicates", "det": "Simulated path",
        "fan": "90 % band (5th–95th centiles)", "plafond": "Ceiling (plafond d'emplois, COG)",
        "t_trajectoire": "Simulated ETPMA and COG ceilings",
        "t_pont_etpma": "ETPMA bridge — {perimetre}",
        "t_pont_ms": "Wage-bill bridge — {perimetre}",
        "t_adf": "Other operating expenditure (ADF) by item and COG target",
        "t_productivite": "Productivity and COG target",
        "t_saturation": "Saturation of the ceiling (ETPMA / plafond d'emplois)",
        "t_comparaison": "Scenario comparison — {perimetre}",
        "t_tornado": "Sensitivity: {output} {year} — {perimetre}",
        "by_year": "Yearly contributions ({unit})", "cumul": "Cumulated {a}–{b} ({unit})",
        "net_etpma": "Change of ETPMA", "net_ms": "Change of the wage bill", "net": "Net change",
        "departs_retraite": "Retirements", "departs_autres": "Other exits (incl. CDD endings)",
        "recrutements": "Hires (CDI and CDD)", "transferts": "Transfers (net)",
        "calendrier": "Calendar and quotité effect",
        "mutualisation": "Hires forgone through mutualisations (for memory, already deducted)",
        "effet_effectif": "Staffing effect", "effet_mesures_generales": "General measures",
        "effet_gvt": "GVT positif (drift)", "effet_noria": "Noria and structure effect",
        "effet_report": "Carry-over effect",
        "adf_immobilier": "Real estate", "adf_editique": "Printing and postage", "adf_achats": "Purchases",
        "adf_autres": "Other items", "adf_informatique_fonctionnement": "IT running costs",
        "cible_adf": "COG target (ADF excl. IT)",
        "productivite": "Simulated productivity", "cible_productivite": "COG target",
        "no_target": "no COG target", "ij": "CNAM (IJ)",
        "fse": "CNAM (FSE)",
        "ceiling_100": "Ceiling (100 %)",
        "levels": "{v}:\n{a} in {ya} → {b} in {yb}",
        "fan_net": "90 % band of the change",
        "tornado_low": "Low value of the parameter", "tornado_high": "High value of the parameter",
        "tornado_ref": "Difference from the scenario value ({v})", "tornado_index": "Sensitivity index ({method})",
        "etpma": "ETPMA", "masse_salariale": "Wage bill", "depenses_limitatives": "Capped management budget",
        "depenses_personnel": "Personnel expenses", "adf": "ADF", "adf_hors_informatique": "ADF excl. IT",
        "saturation": "Saturation of the ceiling",
        "t_service": "Service quality: share of calls answered and processing delay",
        "p_appels": "Share of calls answered", "p_delai": "Mean processing delay", "log_days": "days (log scale)",
        "cible_85": "COG target ({v})",
    },
}

UNIT_LABELS = {
    "fr": {"MEUR/an": "M€/an", "MEUR": "M€", "ETPMA": "ETPMA", "personnes/an": "personnes/an",
           "ETP/an": "ETP/an", "1": "", "%": "%", "EUR/ETPMA/an": "€/ETPMA/an", "ETPMA_eq": "ETPMA-éq."},
    "en": {"MEUR/an": "€m/yr", "MEUR": "€m", "ETPMA": "ETPMA", "personnes/an": "persons/yr",
           "ETP/an": "FTE/yr", "1": "", "%": "%", "EUR/ETPMA/an": "€/ETPMA/yr", "ETPMA_eq": "ETPMA-eq."},
}


# ----------------------------------------------------------------------------- number formatting
def format_number(x: float | None, decimals: int = 0, lang: Lang = "fr", sign: bool = False) -> str:
    """A number as a planner writes it.

    French: narrow no-break space between thousands, decimal comma, true minus sign
    (``format_number(-12345.67, 1) == "−12 345,7"``); English: ``-12,345.7`` with a true minus.
    NaN and None give an en dash. ``sign`` prefixes ``+`` to positive values.
    """
    if x is None or not np.isfinite(x):
        return "–"
    x = float(x)
    r = round(x, decimals)
    s = f"{abs(r):,.{decimals}f}"
    if lang == "fr":
        s = s.replace(",", NNBSP).replace(".", ",")
    if r < 0:
        s = MINUS + s
    elif sign and r > 0:
        s = "+" + s
    return s


def format_percent(fraction: float | None, decimals: int = 1, lang: Lang = "fr", sign: bool = False) -> str:
    """A fraction as a percentage: ``format_percent(0.985) == "98,5 %"`` (fr), ``"98.5%"`` (en)."""
    if fraction is None or not np.isfinite(fraction):
        return "–"
    return format_number(100 * fraction, decimals, lang, sign) + (NNBSP + "%" if lang == "fr" else "%")


def unit_label(units: str | None, lang: Lang = "fr") -> str:
    """Display form of a results ``units`` attribute ("MEUR/an" → "M€/an")."""
    if units is None:
        return ""
    if units in UNIT_LABELS[lang]:
        return UNIT_LABELS[lang][units]
    return units.replace("ETPMA_eq", UNIT_LABELS[lang]["ETPMA_eq"])


def decimals_needed(values: np.ndarray, most: int = 4) -> int:
    """The fewest decimals that write every value exactly (tick values 0.975, 1.0, 1.025 need 3)."""
    values = np.asarray(values, float)
    values = values[np.isfinite(values)]
    for d in range(most + 1):
        scaled = values * 10 ** d
        if np.all(np.abs(scaled - np.round(scaled)) < 1e-6 * np.maximum(1.0, np.abs(scaled))):
            return d
    return most


class NumberFormatter(ticker.Formatter):
    """Axis tick labels in the note's number format, with as many decimals as the tick step needs.

    ``percent=True`` reads the values as fractions (0.98 → "98 %").
    """

    def __init__(self, lang: Lang = "fr", percent: bool = False, sign: bool = False):
        self.lang, self.percent, self.sign = lang, percent, sign
        self.decimals = 0

    def set_locs(self, locs):
        super().set_locs(locs)
        vals = np.asarray(locs, float) * (100 if self.percent else 1)
        self.decimals = decimals_needed(vals)

    def __call__(self, x, pos=None):
        if self.percent:
            return format_percent(x, self.decimals, self.lang, self.sign)
        return format_number(x, self.decimals, self.lang, self.sign)


# ----------------------------------------------------------------------------- a saved run
@dataclass
class Run:
    """A saved run: its Dataset (loaded in memory), its manifest and where it lives."""

    path: Path
    ds: xr.Dataset
    manifest: dict[str, Any]
    _cache: dict[str, np.ndarray] = field(default_factory=dict, repr=False)

    @property
    def run_id(self) -> str:
        return str(self.manifest.get("run_id") or self.ds.attrs.get("run_id") or self.path.name)

    @property
    def title(self) -> str:
        header = (self.manifest.get("scenario") or {}).get("header") or {}
        return court(header.get("title") or self.ds.attrs.get("title") or self.run_id)  # shortened for display

    @property
    def replicates(self) -> int:
        """Replicates of the run (its Dataset may keep the first ones only: ``statistiques_replicates``)."""
        kept = int(self.ds.sizes.get("replicate", 1))
        return int(self.ds.attrs.get("replicates", kept)) if STATISTIQUES_COORD in self.ds.coords else kept

    @property
    def stochastic(self) -> bool:
        return self.replicates > 1

    @property
    def years(self) -> np.ndarray:
        return self.ds["year"].values

    @property
    def organismes(self) -> list[str]:
        """The organismes of the Dataset, then ``regime_general`` and ``total``."""
        return list(self.ds["organisme"].values) + list(AGGREGATS)

    def values(self, name: str) -> np.ndarray:
        """(year, organisme + aggregates, replicate) values of ``name`` (cached)."""
        if name not in self._cache:
            self._cache[name] = aggregate_values(self.ds, name)
        return self._cache[name]

    def series(self, name: str, organisme: str) -> np.ndarray:
        """(year, replicate) values of ``name`` for one organisme or aggregate."""
        return self.values(name)[:, self.organismes.index(organisme)]

    def mean(self, name: str, organisme: str) -> np.ndarray:
        """Mean over replicates, by year (NaN where undefined); over all of them when the Dataset keeps
        the first ones only."""
        st = statistiques_replicates(self.ds, name)
        if st is not None:
            return st[:, self.organismes.index(organisme), STATISTIQUES.index("moyenne")]
        x = self.series(name, organisme)
        with np.errstate(invalid="ignore"):
            return np.where(np.isnan(x).all(1), np.nan, np.nanmean(np.where(np.isnan(x).all(1, keepdims=True),
                                                                            0.0, x), 1))

    def band(self, name: str, organisme: str, low: float = 0.05, high: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
        """Quantiles over replicates, by year (the 90 % band by default; over all of them when the
        Dataset keeps the first ones only)."""
        st = statistiques_replicates(self.ds, name)
        if st is not None and (low, high) == (0.05, 0.95):
            o = self.organismes.index(organisme)
            return st[:, o, STATISTIQUES.index("p05")], st[:, o, STATISTIQUES.index("p95")]
        x = self.series(name, organisme)
        with np.errstate(invalid="ignore"), _quiet():
            q = np.nanquantile(x, [low, high], axis=1)
        return q[0], q[1]

    def units_of(self, name: str, organisme: str) -> str:
        """The unit of ``name`` for one organisme (per-organisme units such as ``productivite``'s are
        written ``"cnam: UO FSE/ETPMA; cnaf: ..."``)."""
        units = str(self.ds[name].attrs.get("units", ""))
        if ": " in units and ";" in units:
            parts = dict(p.strip().split(": ", 1) for p in units.split(";") if ": " in p)
            return parts.get(organisme, units)
        return units

    def parameter(self, path: str, default: Any = None) -> Any:
        return (self.manifest.get("parameters") or {}).get(path, default)


class _quiet:
    def __enter__(self):
        import warnings
        self._w = warnings.catch_warnings()
        self._w.__enter__()
        warnings.simplefilter("ignore", RuntimeWarning)

    def __exit__(self, *exc):
        self._w.__exit__(*exc)


def _decode_attrs(attrs: dict) -> dict:
    """Global attributes as written: nested values were stored as JSON text."""
    out = {}
    for k, v in attrs.items():
        if isinstance(v, str) and v[:1] in "[{":
            try:
                v = json.loads(v)
            except ValueError:
                pass
        elif isinstance(v, np.generic):
            v = v.item()
        out[k] = v
    return out


def load_run(run_dir: str | Path) -> Run:
    """Open a run folder written by ``cogsim run``: ``results.nc`` (loaded in memory) and ``manifest.json``.

    Raises
    ------
    InputError
        Every problem at once: missing folder, missing or unreadable ``results.nc`` or ``manifest.json``,
        a NetCDF file that is not a cogsim run (no ``year``/``organisme``/``replicate`` dims or no ETPMA).
    """
    run_dir = Path(run_dir)
    allowed = "a run folder written by `cogsim run` (results.nc, manifest.json)"
    if not run_dir.is_dir():
        why = "not a folder" if run_dir.exists() else "run folder not found"
        raise InputError([Problem(str(run_dir), "", MISSING, why, allowed)])
    problems: list[Problem] = []
    ds = None
    nc = run_dir / "results.nc"
    if not nc.is_file():
        problems.append(Problem(str(nc), "", MISSING, "file not found", allowed))
    else:
        try:
            with xr.open_dataset(nc, engine="netcdf4") as opened:
                ds = opened.load()
        except Exception as exc:  # noqa: BLE001  (any reading failure is bad input, reported as such)
            problems.append(Problem(str(nc), "", MISSING, f"cannot be read as NetCDF ({type(exc).__name__})",
                                    "a results.nc written by `cogsim run`"))
        else:
            missing_dims = [d for d in ("year", "organisme", "replicate") if d not in ds.dims]
            missing_vars = [v for v in REQUIRED if v not in ds.data_vars]
            no_agg = [v for v in ds.data_vars if "aggregation" not in ds[v].attrs]
            if missing_dims or missing_vars or no_agg:
                what = "; ".join(filter(None, [
                    missing_dims and "missing dims " + ", ".join(missing_dims),
                    missing_vars and "missing variables " + ", ".join(missing_vars),
                    no_agg and "variables without an aggregation attribute: " + ", ".join(no_agg[:5])]))
                problems.append(Problem(str(nc), "", MISSING, f"not a cogsim run ({what})",
                                        "a results.nc written by `cogsim run`"))
            else:
                ds.attrs = _decode_attrs(ds.attrs)
    mf = run_dir / "manifest.json"
    manifest: dict[str, Any] = {}
    if not mf.is_file():
        problems.append(Problem(str(mf), "", MISSING, "file not found", allowed))
    else:
        try:
            manifest = json.loads(mf.read_text(encoding="utf-8"))
            if not isinstance(manifest, dict):
                raise ValueError("not an object")
        except ValueError as exc:
            problems.append(Problem(str(mf), "", MISSING, f"not valid JSON ({exc})", "the manifest of a cogsim run"))
    if not problems:
        problems.extend(_mismatch(ds, manifest, nc, mf))
    if problems:
        raise InputError(problems)
    return Run(run_dir, ds, manifest)


def _mismatch(ds: xr.Dataset, manifest: dict[str, Any], nc: Path, mf: Path) -> list[Problem]:
    """``results.nc`` and ``manifest.json`` must come from the same run: run id, seed, mode, number of
    replicates, scenario file and title are compared wherever both files record them."""
    scenario = manifest.get("scenario") if isinstance(manifest.get("scenario"), dict) else {}
    header = scenario.get("header") if isinstance(scenario.get("header"), dict) else {}
    pairs = (("run_id", ds.attrs.get("run_id"), manifest.get("run_id")),
             ("seed", ds.attrs.get("seed"), manifest.get("seed")),
             ("mode", ds.attrs.get("mode"), manifest.get("mode")),
             ("replicates", ds.sizes.get("replicate"), manifest.get("replicates_kept", manifest.get("replicates"))),
             ("scenario", ds.attrs.get("scenario"), scenario.get("file")),
             ("title", ds.attrs.get("title"), header.get("title")))
    diffs = [(k, a, b) for k, a, b in pairs if a is not None and b is not None and str(a) != str(b)]
    if not diffs:
        return []
    why = "; ".join(f"{k} {_short(a)} in {nc.name}, {_short(b)} in {mf.name}" for k, a, b in diffs)
    return [Problem(f"{nc} and {mf}", diffs[0][0], MISSING, f"the two files come from different runs ({why})",
                    "the results.nc and manifest.json one `cogsim run` wrote together")]


def _short(v: Any, n: int = 60) -> str:
    text = repr(v) if isinstance(v, str) else str(v)
    return text if len(text) <= n else text[:n - 1] + "…"


# ----------------------------------------------------------------------------- figure plumbing
def labels_for(lang: Lang) -> dict[str, str]:
    if lang not in LABELS:
        raise ValueError(f"lang must be one of {LANGS}, not {lang!r}")
    return LABELS[lang]


def org_label(organisme: str, lang: Lang = "fr") -> str:
    return ORGANISME_LABELS[lang].get(organisme, organisme)


def source_note(run: Run | Sequence[Run], lang: Lang = "fr") -> str:
    """The source line of a chart: "Source : cogsim 0.1.0, run « x » (60 réplications, graine 1, commit
    abc1234) — scénario « ... »"; for several runs, each run id with its mode and commit (their
    scenario titles are in the chart's legend)."""
    L = labels_for(lang)
    runs = [run] if isinstance(run, Run) else list(run)

    def describe(r: Run) -> tuple[str, str]:
        code = r.manifest.get("code") or {}
        mode = (L["stochastic"].format(n=r.replicates, seed=r.manifest.get("seed", r.ds.attrs.get("seed", "?")))
                if r.stochastic else L["deterministic"])
        commit = str(code.get("commit") or r.ds.attrs.get("git_commit") or "")
        if commit and commit != "unknown":
            mode += L["commit"].format(commit=commit[:7] + ("+" if code.get("dirty") else ""))
        return mode, str(code.get("cogsim") or r.ds.attrs.get("cogsim_version", ""))

    mode, version = describe(runs[0])
    if len(runs) == 1:
        text = L["source"].format(version=version, run_id=runs[0].run_id, mode=mode, commit="", title=runs[0].title)
    else:
        q = ("« ", " »") if lang == "fr" else ("\u201c", "\u201d")
        text = L["source_runs"].format(version=version, runs=", ".join(
            f"{q[0]}{r.run_id}{q[1]} ({describe(r)[0]})" for r in runs))
    if lang == "fr":  # no line break before a colon (French typography)
        text = text.replace(" :", NNBSP + ":")
    return "\n".join(textwrap.wrap(text, 118, break_on_hyphens=False, break_long_words=False))


def new_figure(height: float, width: float = LARGEUR) -> Figure:
    """A figure with constrained layout (the source note and legends are laid out, not overlapped)."""
    return Figure(figsize=(width, height), layout=ConstrainedLayoutEngine(h_pad=0.04, w_pad=0.04))


@dataclass
class _Frame:
    """A chart's frame: ``body`` (title and panels) above ``foot`` (legend and source note)."""

    root: Figure | SubFigure
    body: SubFigure
    foot: SubFigure

    def legend(self, handles, labels, ncols: int) -> None:
        self.foot.legend(handles, labels, loc="upper center", ncols=ncols, handlelength=3.0,
                         columnspacing=1.6, borderaxespad=0.1, borderpad=0.1, handleheight=0.9)


def frame_axes(fig: Figure | SubFigure | None, height: float, title: str, note: str,
           legend_rows: int = 1) -> _Frame:
    """Lay out a chart: title and panels (constrained layout), then a band for the legend
    (``legend_rows`` rows) and the source note, so that neither overlaps the panels nor each other."""
    if fig is None:
        fig = new_figure(height)
    else:
        height = fig.bbox.height / fig.figure.dpi
    foot_h = 0.2 * legend_rows + 0.1 * (note.count("\n") + 1) + 0.1
    body, foot = fig.subfigures(2, 1, height_ratios=[height - foot_h, foot_h])
    body.suptitle(title, x=0.005, ha="left", fontsize=STYLE["figure.titlesize"], fontweight="bold")
    foot.text(0.005, 0.02, note, ha="left", va="bottom", fontsize=6, color="0.3", linespacing=1.3,
              transform=foot.transSubfigure)
    return _Frame(fig, body, foot)


def year_axis(ax, years: np.ndarray, every: int = 1) -> None:
    ax.set_xticks(years[::every])
    ax.set_xticklabels([str(y) for y in years[::every]])
    ax.tick_params(axis="x", length=2, rotation=0)
    ax.grid(False, axis="x")


def _number_axis(ax, lang: Lang, percent: bool = False, sign: bool = False) -> None:
    ax.yaxis.set_major_formatter(NumberFormatter(lang, percent=percent, sign=sign))
    ax.yaxis.set_major_locator(ticker.MaxNLocator(7 if percent else 5, steps=[1, 2, 2.5, 5, 10]))


def bar_style(i: int) -> dict[str, Any]:
    colour, hatch = FILLS[i % len(FILLS)]
    return {"facecolor": colour, "hatch": hatch, "edgecolor": "0.15", "linewidth": 0.4}


# ----------------------------------------------------------------------------- charts
def styled(draw: Callable[..., Any]) -> Callable[..., Any]:
    """Run a chart function inside the kit's style (fonts, sizes, grey-scale friendly defaults)."""
    import functools

    @functools.wraps(draw)
    def wrapper(*args, **kwargs):
        with matplotlib.rc_context(STYLE):
            return draw(*args, **kwargs)
    return wrapper


def _has_values(run: Run, name: str, organisme: str) -> bool:
    return name in run.ds and bool(np.isfinite(run.series(name, organisme)).any())


def _staffed(run: Run, organisme: str) -> bool:
    return bool(np.nanmax(run.series("etpma", organisme), initial=0.0) > 0)


def _central_and_band_handles(run: Run, L: dict[str, str]) -> tuple[list, list]:
    handles = [Line2D([], [], color="black", lw=1.4)]
    labels = [L["mean"] if run.stochastic else L["det"]]
    if run.stochastic:
        handles.append(Patch(facecolor=FAN[0], alpha=FAN[1]))
        labels.append(L["fan"])
    return handles, labels


@styled
def chart_trajectoire_etpma(run: Run, lang: Lang = "fr", fig: Figure | SubFigure | None = None,
                            organismes: Sequence[str] | None = None) -> Figure | SubFigure:
    """ETPMA against the plafond d'emplois, one panel per organisme and aggregate, with the 90 % fan
    (5th and 95th centiles over replicates; a deterministic run has no fan).

    Parameters
    ----------
    run : a saved run (:func:`load_run`).
    lang : ``"fr"`` (default) or ``"en"``.
    fig : draw into this Figure or SubFigure instead of a new one.
    organismes : panels (default: every organisme with staff, then régime général and total).

    Returns
    -------
    The Figure (or ``fig``); values in ETPMA.
    """
    L = labels_for(lang)
    if organismes is None:
        organismes = [o for o in run.organismes if _staffed(run, o)]
    n = len(organismes)
    ncols = 3
    nrows = math.ceil((n + 1) / ncols)  # one more cell for the legend
    fr = frame_axes(fig, 2.0 * nrows + 0.6, L["t_trajectoire"], source_note(run, lang), legend_rows=0)
    axes = fr.body.subplots(nrows, ncols, squeeze=False)
    years = run.years
    for k, ax in enumerate(axes.flat):
        if k >= n:
            ax.axis("off")
            continue
        o = organismes[k]
        if run.stochastic:
            lo, hi = run.band("etpma", o)
            ax.fill_between(years, lo, hi, color=FAN[0], alpha=FAN[1], linewidth=0)
        ax.plot(years, run.mean("etpma", o), color="black", lw=1.4)
        if _has_values(run, "plafond_emplois", o):
            ax.plot(years, run.series("plafond_emplois", o)[:, 0], color="0.35", ls="--", lw=1.0, marker="_",
                    ms=7, mew=1.2)
        ax.set_title(org_label(o, lang), loc="left")
        year_axis(ax, years, every=3)
        _number_axis(ax, lang)
        ax.margins(x=0.03)
    handles, labels = _central_and_band_handles(run, L)
    handles.append(Line2D([], [], color="0.35", ls="--", lw=1.0, marker="_", ms=7, mew=1.2))
    labels.append(L["plafond"])
    if n < nrows * ncols:
        axes.flat[n].legend(handles, [textwrap.fill(t, 30) for t in labels], loc="center left",
                            handlelength=2.4, fontsize=7, title="ETPMA", title_fontsize=7.5,
                            alignment="left", borderaxespad=0.0)
    return fr.root


def cog_period(run: Run) -> tuple[int, int]:
    """(base year, last year) of the COG period: the year before the régime général's first ceiling;
    without ceilings, the base year of the LPFP path (``lpfp.annee_base``, the same COG 2018-2022
    period); else the first year of the run."""
    years = [int(y) for y in run.years]
    if "plafond_emplois" in run.ds:
        ok = np.isfinite(run.series("plafond_emplois", "regime_general")[:, 0])
        if ok.any():
            first = years[int(np.argmax(ok))]
            return max(first - 1, years[0]), years[-1]
    base = run.parameter("lpfp.annee_base")
    if isinstance(base, (int, float)) and years[0] <= int(base) < years[-1]:
        return int(base), years[-1]
    return years[0], years[-1]


def etpma_bridge(run: Run, organisme: str) -> dict[str, np.ndarray]:
    """Mean ETPMA bridge by year: components whose sum is the change of ETPMA from the previous year.

    Returns, by year (the first year NaN), mean over replicates:
    ``departs_retraite`` and ``departs_autres`` (negative, persons/yr), ``recrutements``, ``transferts``
    (entrants − sortants), ``calendrier`` (the remainder: flows are persons in the year while ETPMA is an
    annual mean of ETP, so the timing of flows within the years and quotités make the difference),
    ``net`` (the change of ETPMA), ``etpma`` (the level) and ``mutualisation`` (hires forgone through
    mutualisations, ETP/yr, already deducted from ``recrutements``: for memory).
    """
    m = lambda v: run.mean(v, organisme)  # noqa: E731
    etpma = m("etpma")
    first = lambda v: np.concatenate([[np.nan], v[1:]])  # noqa: E731
    net = np.concatenate([[np.nan], np.diff(etpma)])
    parts = {
        "departs_retraite": first(-m("departs_retraite")), "departs_autres": first(-m("departs_autres")),
        "recrutements": first(m("recrutements")),
        "transferts": first(m("transferts_entrants") - m("transferts_sortants")),
    }
    parts["calendrier"] = net - sum(parts.values())
    gain = m("gain_mutualisation") if "gain_mutualisation" in run.ds else np.zeros_like(etpma)
    return {**parts, "net": net, "etpma": etpma, "mutualisation": first(gain)}


ETPMA_PARTS = ("departs_retraite", "departs_autres", "recrutements", "transferts", "calendrier")
MS_EFFETS = ("effet_effectif", "effet_mesures_generales", "effet_gvt", "effet_noria", "effet_report")
SHORT = {
    "fr": {"departs_retraite": "Retraites", "departs_autres": "Autres départs", "recrutements": "Recrutements",
           "transferts": "Transferts", "calendrier": "Calendrier, quotité", "effet_effectif": "Effectif",
           "effet_mesures_generales": "Mesures générales", "effet_gvt": "GVT positif",
           "effet_noria": "Noria", "effet_report": "Report", "net": "Variation nette"},
    "en": {"departs_retraite": "Retirements", "departs_autres": "Other exits", "recrutements": "Hires",
           "transferts": "Transfers", "calendrier": "Calendar, quotité", "effet_effectif": "Staffing",
           "effet_mesures_generales": "General measures", "effet_gvt": "GVT positif",
           "effet_noria": "Noria", "effet_report": "Carry-over", "net": "Net change"},
}


def masse_salariale_bridge(run: Run, organisme: str) -> dict[str, np.ndarray]:
    """Mean wage-bill bridge by year (MEUR): the five effects of the Dataset, which sum exactly to the
    change of ``masse_salariale``; ``net`` is that change, ``masse_salariale`` the level (MEUR/an)."""
    ms = run.mean("masse_salariale", organisme)
    out = {k: run.mean(k, organisme) for k in MS_EFFETS}
    out["net"] = np.concatenate([[np.nan], np.diff(ms)])
    out["masse_salariale"] = ms
    return out


def draw_bars(ax, x, height, width: float = 0.7, bottom=0.0, horizontal: bool = False, **style) -> PathPatch | None:
    """Bars drawn as one compound patch (one path per series, not per bar: hatches cost a draw each),
    looking exactly like ``ax.bar`` / ``ax.barh``; NaN heights are skipped."""
    x = np.atleast_1d(np.asarray(x, float))
    height = np.broadcast_to(np.asarray(height, float), x.shape)
    bottom = np.broadcast_to(np.asarray(bottom, float), x.shape)
    rects = []
    for xi, hi, bi in zip(x, height, bottom):
        if not (np.isfinite(hi) and np.isfinite(bi)):
            continue
        x0, x1, y0, y1 = xi - width / 2, xi + width / 2, bi, bi + hi
        if horizontal:
            x0, x1, y0, y1 = y0, y1, x0, x1
        rects.append(_MplPath([(x0, y0), (x1, y0), (x1, y1), (x0, y1), (x0, y0)],
                              [_MplPath.MOVETO, _MplPath.LINETO, _MplPath.LINETO, _MplPath.LINETO,
                               _MplPath.CLOSEPOLY]))
    if not rects:
        return None
    patch = PathPatch(_MplPath.make_compound_path(*rects), **style)
    ax.add_patch(patch)
    verts = patch.get_path().vertices
    ax.update_datalim(verts)
    ax.autoscale_view()
    return patch


def _stacked_years(ax, years, parts: dict[str, np.ndarray], styles: dict[str, dict], width=0.7) -> None:
    pos = np.zeros(len(years))
    neg = np.zeros(len(years))
    for k, v in parts.items():
        v = np.nan_to_num(v)
        bottom = np.where(v >= 0, pos, neg)
        draw_bars(ax, years, v, width, bottom=bottom, **styles[k])
        pos += np.where(v >= 0, v, 0)
        neg += np.where(v < 0, v, 0)


def _waterfall(ax, values: list[float], labels: list[str], styles: list[dict], lang: Lang, decimals: int) -> None:
    """Horizontal waterfall: cumulated contributions as floating bars, top to bottom, then the net change
    from zero (black)."""
    n = len(values)
    start = 0.0
    y = np.arange(n + 1)[::-1]
    ends = []
    for i, v in enumerate(values):
        draw_bars(ax, [y[i]], [v], 0.62, bottom=start, horizontal=True, **styles[i])
        if i < n - 1:
            ax.plot([start + v, start + v], [y[i] - 0.31, y[i + 1] + 0.31], color="0.45", lw=0.5)
        start += v
        ends.append(start)
    total = start
    draw_bars(ax, [y[n]], [total], 0.62, horizontal=True, facecolor="0.1", edgecolor="0.1", linewidth=0.4)
    ax.axvline(0, color="0.25", lw=0.6)
    ax.set_yticks(y)
    ax.set_yticklabels(labels, fontsize=6.8)
    ax.tick_params(axis="y", length=0)
    ax.grid(False, axis="y")
    ax.grid(True, axis="x")
    ax.xaxis.set_major_formatter(NumberFormatter(lang, sign=True))
    ax.xaxis.set_major_locator(ticker.MaxNLocator(3, steps=[1, 2, 2.5, 5, 10]))
    ax.tick_params(axis="x", labelsize=6.5)
    lefts = [e - v for e, v in zip(ends, values)] + [0.0]
    rights = ends + [total]
    lo = min(min(lefts), min(rights), 0.0)
    hi = max(max(lefts), max(rights), 0.0)
    span = (hi - lo) or 1.0
    for i, v in enumerate(values + [total]):
        x = max(lefts[i], rights[i])
        ax.text(x + 0.03 * span, y[i], format_number(v, decimals, lang, sign=True), va="center", ha="left",
                fontsize=6.2, color="0.1")
    ax.set_xlim(lo - 0.04 * span, hi + 0.42 * span)


def _bridge_chart(run: Run, lang: Lang, fig, organisme: str, kind: Literal["etpma", "ms"]) -> Figure | SubFigure:
    L, S = labels_for(lang), SHORT[lang]
    years = run.years
    if kind == "etpma":
        b = etpma_bridge(run, organisme)
        keys = list(ETPMA_PARTS)
        unit, net_label, level, decimals = "ETPMA", L["net_etpma"], "etpma", 0
        title = L["t_pont_etpma"].format(perimetre=org_label(organisme, lang))
    else:
        b = masse_salariale_bridge(run, organisme)
        keys = list(MS_EFFETS)
        unit, net_label, level, decimals = unit_label("MEUR", lang), L["net_ms"], "masse_salariale", 1
        title = L["t_pont_ms"].format(perimetre=org_label(organisme, lang)) + f" ({unit})"
    memo = kind == "etpma" and np.nansum(np.abs(b["mutualisation"])) > 0
    n_entries = len(keys) + 1 + memo
    fr = frame_axes(fig, 3.9, title, source_note(run, lang), legend_rows=math.ceil(n_entries / 2))
    ax, axw = fr.body.subplots(1, 2, width_ratios=[2.0, 1.0])
    ok = np.isfinite(b["net"])
    yrs = years[ok]
    styles = {k: bar_style(i) for i, k in enumerate(keys)}
    _stacked_years(ax, yrs, {k: b[k][ok] for k in keys}, styles)
    handles = [Patch(**styles[k]) for k in keys]
    labels = [L[k] for k in keys]
    if memo:
        g = np.nan_to_num(b["mutualisation"][ok])
        top = sum(np.clip(np.nan_to_num(b[k][ok]), 0, None) for k in keys)
        sty = dict(facecolor="none", edgecolor="0.15", linestyle=(0, (2, 1)), linewidth=0.8)
        draw_bars(ax, yrs, g, 0.7, bottom=top, **sty)
        handles.append(Patch(**sty))
        labels.append(L["mutualisation"])
    ax.plot(yrs, b["net"][ok], ls="none", marker="D", ms=4, mfc="white", mec="black", mew=1.0, zorder=5)
    net_handle = Line2D([], [], ls="none", marker="D", ms=4, mfc="white", mec="black", mew=1.0)
    handles.append(net_handle)
    labels.append(net_label)
    if run.stochastic:
        d = np.diff(run.series(level, organisme), axis=0)
        with _quiet():
            lo, hi = np.nanquantile(d, [0.05, 0.95], axis=1)
        ax.vlines(years[1:], lo, hi, color="black", lw=0.9, zorder=4)
        handles.append(Line2D([], [], color="black", lw=0.9, marker="|", ms=7, ls="none"))
        labels.append(L["fan_net"])
    ax.use_sticky_edges = False
    ax.margins(y=0.06)
    ax.axhline(0, color="0.25", lw=0.6)
    year_axis(ax, yrs)
    _number_axis(ax, lang, sign=True)
    ax.set_title(L["by_year"].format(unit=unit), loc="left", fontweight="normal")
    # cumulated over the COG period
    a, z = cog_period(run)
    sel = (years > a) & (years <= z)
    _waterfall(axw, [float(np.nansum(b[k][sel])) for k in keys], [S[k] for k in keys] + [S["net"]],
               [styles[k] for k in keys], lang, decimals)
    axw.set_title(L["cumul"].format(a=a, b=z, unit=unit), loc="left", fontweight="normal")
    la, lz = b[level][years == a][0], b[level][years == z][0]
    axw.set_xlabel(L["levels"].format(v=L[level] + (f" ({unit})" if kind == "ms" else ""),
                                      a=format_number(la, decimals, lang), ya=a,
                                      b=format_number(lz, decimals, lang), yb=z), fontsize=6.3, color="0.2")
    # legend order: column-wise fill, so read row by row
    fr.legend(handles, labels, 2)
    return fr.root


@styled
def chart_pont_etpma(run: Run, lang: Lang = "fr", fig: Figure | SubFigure | None = None,
                     organisme: str = "regime_general") -> Figure | SubFigure:
    """ETPMA bridge of one organisme or aggregate (:func:`etpma_bridge`): yearly contributions of the
    flows (persons/yr) to the change of ETPMA, with the calendar/quotité remainder so that each year's
    bars sum to the change (diamond; its 90 % band as a whisker for a stochastic run); hires forgone
    through mutualisations for memory (dashed outline); and the bridge cumulated over the COG period
    (from the year before the first ceiling of the régime général to the last year)."""
    return _bridge_chart(run, lang, fig, organisme, "etpma")


@styled
def chart_pont_masse_salariale(run: Run, lang: Lang = "fr", fig: Figure | SubFigure | None = None,
                               organisme: str = "regime_general") -> Figure | SubFigure:
    """Wage-bill bridge (MEUR, :func:`masse_salariale_bridge`): effet effectif, mesures générales, GVT
    positif, noria, report — summing exactly to the yearly change of ``masse_salariale`` (diamond) —
    and cumulated over the COG period."""
    return _bridge_chart(run, lang, fig, organisme, "ms")


ADF_POSTES = ("adf_immobilier", "adf_editique", "adf_achats", "adf_autres", "adf_informatique_fonctionnement")


@styled
def chart_adf(run: Run, lang: Lang = "fr", fig: Figure | SubFigure | None = None,
              organismes: Sequence[str] | None = None) -> Figure | SubFigure:
    """ADF by component (MEUR/an, mean over replicates), IT running costs on top (white, hatched),
    against the COG target on ADF excluding IT (``cible_adf``, which compares with the top of the four
    lower components); one panel for the régime général and one per organisme with a target."""
    L = labels_for(lang)
    if organismes is None:
        organismes = ["regime_general"] + [o for o in run.organismes[:-2] if _has_values(run, "cible_adf", o)]
    n = len(organismes)
    ncols = 3
    nrows = math.ceil(n / ncols)
    fr = frame_axes(fig, 1.95 * nrows + 0.9, L["t_adf"] + f" ({unit_label('MEUR/an', lang)})",
                source_note(run, lang), legend_rows=2)
    axes = fr.body.subplots(nrows, ncols, squeeze=False)
    years = run.years
    styles = [bar_style(i) for i in range(len(ADF_POSTES))]
    styles[-1] = {"facecolor": "white", "hatch": "////", "edgecolor": "0.5", "linewidth": 0.4}
    for k, ax in enumerate(axes.flat):
        if k >= n:
            ax.axis("off")
            continue
        o = organismes[k]
        bottom = np.zeros(len(years))
        for i, p in enumerate(ADF_POSTES):
            v = np.nan_to_num(run.mean(p, o))
            draw_bars(ax, years, v, 0.72, bottom=bottom, **styles[i])
            bottom += v
        ax.plot(years, run.mean("cible_adf", o), color="black", lw=1.3, marker="o", ms=2.8, mfc="white",
                zorder=5)
        ax.set_title(org_label(o, lang), loc="left")
        year_axis(ax, years, every=3)
        _number_axis(ax, lang)
    handles = [Patch(**s) for s in styles] + [Line2D([], [], color="black", lw=1.3, marker="o", ms=2.8,
                                                     mfc="white")]
    labels = [L[p] for p in ADF_POSTES] + [L["cible_adf"]]
    fr.legend(handles, labels, 3)
    return fr.root


def _productivity_panels(run: Run) -> list[tuple[str, str, str, str]]:
    """(organisme, indicator variable, target variable, title key) of the productivity panels: every
    staffed organisme except the ex-RSI (absorbed in 2020, no COG target), CNAM twice (FSE and IJ)."""
    panels = []
    for o in run.organismes[:-2]:
        if o == "rsi" or not _staffed(run, o) or not _has_values(run, "productivite", o):
            continue
        panels.append((o, "productivite", "cible_productivite", "fse" if o == "cnam" else ""))
        if o == "cnam" and _has_values(run, "productivite_ij", o):
            panels.append((o, "productivite_ij", "cible_productivite_ij", "ij"))
    return panels


@styled
def chart_productivite(run: Run, lang: Lang = "fr", fig: Figure | SubFigure | None = None) -> Figure | SubFigure:
    """Productivity (charge de travail / ETPMA) against the COG target, one panel per indicator: units
    differ by organisme (UO FSE, allocataires pondérés, ...), so each panel has its own axis and unit."""
    L = labels_for(lang)
    panels = _productivity_panels(run)
    n = len(panels)
    ncols = 3
    nrows = max(1, math.ceil(n / ncols))
    fr = frame_axes(fig, 2.0 * nrows + 0.7, L["t_productivite"], source_note(run, lang), legend_rows=1)
    axes = fr.body.subplots(nrows, ncols, squeeze=False)
    years = run.years
    for k, ax in enumerate(axes.flat):
        if k >= n:
            ax.axis("off")
            continue
        o, var, target, key = panels[k]
        if run.stochastic:
            lo, hi = run.band(var, o)
            ax.fill_between(years, lo, hi, color=FAN[0], alpha=FAN[1], linewidth=0)
        ax.plot(years, run.mean(var, o), color="black", lw=1.4)
        if _has_values(run, target, o):
            ax.plot(years, run.mean(target, o), color="0.35", ls="--", lw=1.0, marker="o", ms=2.6,
                    mfc="white")
        else:
            ax.text(0.97, 0.05, L["no_target"], transform=ax.transAxes, ha="right", va="bottom",
                    fontsize=6.5, style="italic", color="0.3")
        ax.set_title(L[key] if key else org_label(o, lang), loc="left")
        ax.set_ylabel(unit_label(run.units_of(var, o), lang), fontsize=6.5)
        year_axis(ax, years, every=3)
        _number_axis(ax, lang)
    handles, labels = _central_and_band_handles(run, L)
    handles.append(Line2D([], [], color="0.35", ls="--", lw=1.0, marker="o", ms=2.6, mfc="white"))
    labels.append(L["cible_productivite"])
    fr.legend(handles, labels, len(labels))
    return fr.root


@styled
def chart_saturation(run: Run, lang: Lang = "fr", fig: Figure | SubFigure | None = None) -> Figure | SubFigure:
    """Saturation of the plafond d'emplois (ETPMA / plafond), by organisme with a ceiling and for the
    régime général (bold), over the years with a ceiling; whiskers = 90 % band of a stochastic run."""
    L = labels_for(lang)
    orgs = [o for o in run.organismes if o != "total" and _has_values(run, "saturation", o)]
    fr = frame_axes(fig, 3.5, L["t_saturation"], source_note(run, lang), legend_rows=2)
    ax = fr.body.subplots()
    years = run.years
    defined = np.zeros(len(years), bool)
    for o in orgs:
        defined |= np.isfinite(run.mean("saturation", o))
    if not defined.any():
        ax.text(0.5, 0.5, "–", transform=ax.transAxes)
        return fr.root
    n = len(orgs)
    offsets = np.linspace(-0.1, 0.1, n) if n > 1 else np.zeros(1)
    handles, labels = [], []
    for j, o in enumerate(orgs):
        colour, ls, marker = SERIES.get(o, ("black", "-", "o"))
        rg = o == "regime_general"
        style = dict(color=colour, ls=ls, marker=marker or "o", ms=3.4 if not rg else 3.0, lw=2.0 if rg else 1.0,
                     mfc=colour if rg else "white", mew=0.9)
        ax.plot(years + offsets[j], run.mean("saturation", o), **style)
        if run.stochastic:
            lo, hi = run.band("saturation", o)
            ax.vlines(years + offsets[j], lo, hi, color=colour, lw=0.7)
        handles.append(Line2D([], [], **style))
        labels.append(org_label(o, lang))
    ax.axhline(1.0, color="0.2", lw=0.8, ls=(0, (4, 2)))
    handles.append(Line2D([], [], color="0.2", lw=0.8, ls=(0, (4, 2))))
    labels.append(L["ceiling_100"])
    idx = np.flatnonzero(defined)
    shown = years[idx[0]: idx[-1] + 1]
    ax.set_xlim(shown[0] - 0.5, shown[-1] + 0.5)
    year_axis(ax, shown)
    _number_axis(ax, lang, percent=True)
    ax.set_ylim(top=max(1.005, ax.get_ylim()[1]))
    if run.stochastic:
        handles.append(Line2D([], [], color="black", lw=0.8, marker="|", ms=7, ls="none"))
        labels.append(L["fan"])
    fr.legend(handles, labels, 4)
    return fr.root


@styled
def chart_service(run: Run, lang: Lang = "fr", fig: Figure | SubFigure | None = None) -> Figure | SubFigure:
    """Service quality by organisme: the share of calls answered against the COG target (left) and the
    mean processing delay (right, log scale: the CNAV's pension claims take months, care sheets days);
    the régime général in bold; whiskers = 90 % band of a stochastic run."""
    L = labels_for(lang)
    fr = frame_axes(fig, 3.6, L["t_service"], source_note(run, lang), legend_rows=2)
    axes = fr.body.subplots(1, 2)
    years = run.years
    handles, labels = [], []
    for k, (ax, var) in enumerate(zip(axes, ("taux_appels_aboutis", "delai_traitement"))):
        orgs = [o for o in run.organismes if o != "total" and _has_values(run, var, o)]
        offsets = np.linspace(-0.12, 0.12, len(orgs)) if len(orgs) > 1 else np.zeros(1)
        for j, o in enumerate(orgs):
            colour, ls, marker = SERIES.get(o, ("black", "-", "o"))
            rg = o == "regime_general"
            style = dict(color=colour, ls=ls, marker=marker or "o", ms=2.6 if not rg else 2.4,
                         lw=1.9 if rg else 0.9, mfc=colour if rg else "white", mew=0.8)
            ax.plot(years + offsets[j], run.mean(var, o), **style)
            if run.stochastic:
                lo, hi = run.band(var, o)
                ax.vlines(years + offsets[j], lo, hi, color=colour, lw=0.6)
            if k == 0:
                handles.append(Line2D([], [], **style))
                labels.append(org_label(o, lang))
        year_axis(ax, years, every=2)
        if var == "taux_appels_aboutis":
            cibles = [run.mean("cible_taux_appels_aboutis", o) for o in orgs] if "cible_taux_appels_aboutis" in run.ds else []
            finite = np.concatenate([c[np.isfinite(c)] for c in cibles]) if cibles else np.array([])
            if finite.size:
                v = float(np.max(finite))
                ax.axhline(v, color="#b03a2e", lw=1.0, ls=(0, (4, 2)))
                handles.append(Line2D([], [], color="#b03a2e", lw=1.0, ls=(0, (4, 2))))
                labels.append(L["cible_85"].format(v=format_percent(v, 0, lang)))
            _number_axis(ax, lang, percent=True)
            ax.set_title(L["p_appels"], loc="left")
        else:
            ax.set_yscale("log")
            ax.yaxis.set_major_locator(ticker.FixedLocator([1, 2, 5, 10, 20, 50, 100, 200, 500, 1000]))
            ax.set_ylabel(L["log_days"], fontsize=6.5)
            ax.yaxis.set_major_formatter(ticker.FuncFormatter(
                lambda x, pos: format_number(x, 0 if x >= 1 else 1, lang)))
            ax.yaxis.set_minor_formatter(ticker.NullFormatter())
            ax.set_title(L["p_delai"], loc="left")
    if run.stochastic:
        handles.append(Line2D([], [], color="black", lw=0.8, marker="|", ms=7, ls="none"))
        labels.append(L["fan"])
    fr.legend(handles, labels, 5)
    return fr.root


@styled
def chart_comparaison(runs: Sequence[Run], lang: Lang = "fr", fig: Figure | SubFigure | None = None,
                      variables: Sequence[str] = ("etpma", "masse_salariale", "depenses_limitatives"),
                      organisme: str = "total") -> Figure | SubFigure:
    """Several saved runs side by side: one panel per variable (mean and 90 % fan of each run) for one
    organisme or aggregate; runs are told apart by line style and marker (not colour alone) and named
    by their scenario title and run id. Variables missing from a run are left out."""
    L = labels_for(lang)
    runs = list(runs)
    variables = [v for v in variables if all(v in r.ds for r in runs)]
    if not runs or not variables:
        raise ValueError("chart_comparaison needs at least one run and one variable present in every run")
    n = len(variables)
    fr = frame_axes(fig, 3.0 + 0.17 * len(runs), L["t_comparaison"].format(perimetre=org_label(organisme, lang)),
                source_note(runs, lang), legend_rows=len(runs))
    axes = fr.body.subplots(1, n, squeeze=False)[0]
    for ax, v in zip(axes, variables):
        for j, r in enumerate(runs):
            colour, ls, marker = SCENARIO_STYLES[j % len(SCENARIO_STYLES)]
            if r.stochastic:
                lo, hi = r.band(v, organisme)
                ax.fill_between(r.years, lo, hi, color=colour, alpha=0.12, linewidth=0)
            ax.plot(r.years, r.mean(v, organisme), color=colour, ls=ls, marker=marker, ms=2.6, lw=1.1,
                    mfc="white")
        units = unit_label(runs[0].units_of(v, organisme), lang)
        ax.set_title(L.get(v, v), loc="left")
        if units and units != L.get(v, v):
            ax.set_ylabel(units, fontsize=6.5)
        year_axis(ax, runs[0].years, every=3)
        _number_axis(ax, lang)
    handles = [Line2D([], [], color=c, ls=ls, marker=m, ms=2.6, lw=1.1, mfc="white")
               for c, ls, m in (SCENARIO_STYLES[j % len(SCENARIO_STYLES)] for j in range(len(runs)))]
    labels = [textwrap.shorten(f"{r.title} [{r.run_id}]", 110, placeholder="…") for r in runs]
    fr.legend(handles, labels, 1)
    return fr.root


@styled
def chart_tornado(sens: xr.Dataset, lang: Lang = "fr", fig: Figure | SubFigure | None = None,
                  source: str = "", top: int = 12) -> Figure | SubFigure:
    """Tornado chart of a sensitivity result (format in the module docstring): the ``top`` parameters
    with the largest effect, largest first. OAT: bars from the scenario's value to the output at the
    low (plain) and high (hatched) value of each parameter; Morris/Sobol: one bar per parameter (the
    index). ``source`` is the source note (e.g. :func:`source_note` of the run)."""
    L = labels_for(lang)
    method = str(sens.attrs.get("method", "oat"))
    names = [str(p) for p in sens["parameter"].values]
    output = str(sens.attrs.get("output", ""))
    units = unit_label(str(sens.attrs.get("units", "")), lang)
    perimetre = org_label(str(sens.attrs.get("organisme", "total")), lang)
    title = L["t_tornado"].format(output=L.get(output, output), year=sens.attrs.get("year", ""),
                                  perimetre=perimetre)
    oat = "low" in sens and "high" in sens
    if oat:
        base = float(sens.attrs["baseline"])
        low = sens["low"].values.astype(float) - base
        high = sens["high"].values.astype(float) - base
        swing = np.abs(high - low)
    else:
        index = sens["index"].values.astype(float)
        swing = np.abs(index)
    order = np.argsort(-swing, kind="stable")[:top]
    k = len(order)
    fr = frame_axes(fig, 1.4 + 0.3 * k, title, source, legend_rows=1 if oat else 0)
    ax = fr.body.subplots()
    ypos = np.arange(k)[::-1]
    sep = " ; " if lang == "fr" else ", "
    ylabels = []
    for y, i in zip(ypos, order):
        label = names[i]
        if "value_low" in sens and "value_high" in sens:
            vl, vh = float(sens["value_low"].values[i]), float(sens["value_high"].values[i])
            label += (f"\n[{format_number(vl, decimals_needed([vl]), lang)}{sep}"
                      f"{format_number(vh, decimals_needed([vh]), lang)}]")
        ylabels.append(label)
        if oat:
            draw_bars(ax, [y], [low[i]], 0.6, horizontal=True, **bar_style(0))
            draw_bars(ax, [y], [high[i]], 0.6, horizontal=True, **bar_style(1))
        else:
            draw_bars(ax, [y], [index[i]], 0.6, horizontal=True, **bar_style(0))
    ax.set_yticks(ypos)
    ax.set_yticklabels(ylabels, fontsize=6.5)
    ax.tick_params(axis="y", length=0)
    ax.grid(True, axis="x")
    ax.grid(False, axis="y")
    ax.xaxis.set_major_formatter(NumberFormatter(lang, sign=oat))
    ax.xaxis.set_major_locator(ticker.MaxNLocator(6))
    if oat:
        ax.axvline(0, color="black", lw=0.8)
        ax.set_xlabel(L["tornado_ref"].format(v=format_number(base, _decimals(base), lang)
                                              + (f"{NNBSP if lang == 'fr' else ' '}{units}" if units else "")))
        fr.legend([Patch(**bar_style(0)), Patch(**bar_style(1))], [L["tornado_low"], L["tornado_high"]], 2)
    else:
        ax.set_xlabel(L["tornado_index"].format(method=method))
    return fr.root


def _decimals(v) -> int:
    v = abs(float(v))
    if not np.isfinite(v) or v == 0 or v >= 100:
        return 0
    return min(4, max(0, 2 - math.floor(math.log10(v))))


def load_sensitivity(path: str | Path) -> xr.Dataset:
    """Read a sensitivity result (format in the module docstring) and check its shape.

    Raises
    ------
    InputError
        When the file cannot be read or lacks the ``parameter`` dim or the ``low``/``high`` (with the
        ``baseline`` attribute) or ``index`` variables.
    """
    path = Path(path)
    allowed = "a NetCDF file with dim 'parameter' and variables low/high (attr baseline) or index"
    try:
        with xr.open_dataset(path, engine="netcdf4") as opened:
            sens = opened.load()
    except Exception as exc:  # noqa: BLE001
        raise InputError([Problem(str(path), "", MISSING, f"cannot be read ({type(exc).__name__})", allowed)]) from None
    ok = "parameter" in sens.dims and (("low" in sens and "high" in sens and "baseline" in sens.attrs)
                                       or "index" in sens)
    if not ok:
        raise InputError([Problem(str(path), "", MISSING, "not a sensitivity result", allowed)])
    sens.attrs = _decode_attrs(sens.attrs)
    return sens


def top_drivers(sens: xr.Dataset, n: int = 5) -> list[tuple[str, float, float]]:
    """The ``n`` parameters with the largest effect: (path, effect at low, effect at high) for OAT
    (output minus the scenario's value), (path, index, NaN) otherwise."""
    names = [str(p) for p in sens["parameter"].values]
    if "low" in sens and "high" in sens:
        base = float(sens.attrs["baseline"])
        low, high = sens["low"].values - base, sens["high"].values - base
        order = np.argsort(-np.abs(high - low), kind="stable")[:n]
        return [(names[i], float(low[i]), float(high[i])) for i in order]
    index = sens["index"].values
    order = np.argsort(-np.abs(index), kind="stable")[:n]
    return [(names[i], float(index[i]), float("nan")) for i in order]


# ----------------------------------------------------------------------------- registry and saving
@dataclass(frozen=True)
class ChartSpec:
    """A chart of a single run: its file stem, drawing function and the variables it needs."""

    name: str
    draw: Callable[..., Figure | SubFigure]
    requires: tuple[str, ...]


CHARTS: tuple[ChartSpec, ...] = (
    ChartSpec("trajectoire_etpma", chart_trajectoire_etpma, ("etpma", "plafond_emplois")),
    ChartSpec("pont_etpma", chart_pont_etpma,
              ("etpma", "departs_retraite", "departs_autres", "recrutements", "transferts_entrants",
               "transferts_sortants")),
    ChartSpec("pont_masse_salariale", chart_pont_masse_salariale, ("masse_salariale",) + MS_EFFETS),
    ChartSpec("adf", chart_adf, ADF_POSTES + ("cible_adf",)),
    ChartSpec("productivite", chart_productivite, ("productivite", "cible_productivite")),
    ChartSpec("saturation", chart_saturation, ("saturation", "plafond_emplois")),
    ChartSpec("service", chart_service, ("taux_appels_aboutis", "delai_traitement", "cible_taux_appels_aboutis")),
)


def applicable(run: Run) -> list[ChartSpec]:
    """The charts whose variables the run has (older runs may lack the budget layer)."""
    return [c for c in CHARTS if all(v in run.ds for v in c.requires)]


def save_figure(fig: Figure, directory: str | Path, name: str, title: str = "",
                formats: Sequence[str] = FORMATS) -> list[Path]:
    """Save ``fig`` as ``directory/name.{png,svg,pdf}``: PNG at 300 dpi, SVG with its text kept as text
    (searchable, editable), PDF; metadata carry ``title`` and no date, so the files are reproducible.

    The layout is computed once, then frozen for the three formats. PDF fonts are embedded as Type 3
    (vector glyphs; subsetting TrueType fonts costs a second a file).
    """
    directory = Path(directory)
    paths = []
    with matplotlib.rc_context(STYLE):
        if isinstance(fig.get_layout_engine(), ConstrainedLayoutEngine):
            fig.draw_without_rendering()
            fig.set_layout_engine(None)  # positions kept; no layout (and no extra draw) at each save
        for fmt in formats:
            p = directory / f"{name}.{fmt}"
            meta = {"png": {"Title": title, "Software": "cogsim"},
                    "svg": {"Title": title, "Date": None, "Creator": "cogsim"},
                    "pdf": {"Title": title, "Creator": "cogsim", "Producer": "cogsim", "CreationDate": None}}[fmt]
            extra = {"pil_kwargs": {"compress_level": 1}} if fmt == "png" else {}  # fast; files ~30 % larger
            with matplotlib.rc_context({"pdf.fonttype": 3}):
                fig.savefig(p, format=fmt, dpi=DPI if fmt == "png" else None, metadata=meta,
                            facecolor="white", **extra)
            paths.append(p)
    return paths


def write_charts(run: Run, directory: str | Path, lang: Lang = "fr", prefix: str = "",
                 formats: Sequence[str] = FORMATS) -> list[Path]:
    """Draw every applicable chart of ``run`` and save it in ``directory`` (which must exist) as
    ``{prefix}{name}.{png,svg,pdf}``; returns the files written."""
    labels_for(lang)
    out: list[Path] = []
    for spec in applicable(run):
        fig = spec.draw(run, lang)
        out += save_figure(fig, directory, f"{prefix}{spec.name}", title=f"{spec.name} — {run.run_id}",
                           formats=formats)
    return out
