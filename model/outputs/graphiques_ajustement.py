"""Charts of the fit: the published figures against the simulated history and projection of a saved run.

One chart per key indicator — ETPMA by organisme, headcount, CDI hires, retirements, wage bill and
personnel expenses — each a small multiple of panels (organisme or aggregate, and indicator when a chart
shows two). A panel draws:

* the run's mean (or deterministic path) and its 90 % band (5th–95th centiles over replicates: the run's
  statistics when its Dataset keeps only the first replicates);
* the observations of ``calibration/observations/*.csv`` (:func:`model.analysis.observations.load_observations`),
  with a marker by provenance — ``official`` circle, ``secondary`` square, ``derived`` triangle; hollow
  when ``estimated`` (reconstructed) — black when the calibration fits it, orange when it is held out for
  validation; whiskers ±2σ (the tolerance of the fit report);
* the COG target path: the ``plafond_emplois`` of the run and, when the run carries it, the ETPMA target
  ``cible_etpma`` (a Dataset variable, else the by-year parameter ``organismes.<o>.cible_etpma`` of the
  manifest; absent: nothing is drawn); the wage-bill envelope of the COG where the run has one;
* the projection (after the calibration window) on a light background.

How an observation becomes a point (the model's unit, the observation's perimeter: ``value`` is already
on the COG perimeter, see the observation files):

* ``level``: drawn at its value, in its year;
* ``change_abs`` / ``change_pct``: the published change applied to the *simulated* level of its base year
  (mean of the replicates), drawn in its year and joined to that base-year point by a dotted line. The
  vertical gap between the point and the simulated line in that year is then exactly the gap between the
  published and the simulated change (in level units; for ``change_pct``, the gap in % times the
  simulated base level), and says nothing about the level of the base year, which the source does not
  give;
* ``cumul`` (a sum over ``annee_base``..``year``): drawn as its annual mean, a horizontal segment over
  its years, to compare with the simulated flow over the same years.

Derived series: CDI hires are ``recrutements − recrutements_cdd``; the annual mean headcount
(``effectif_moyen``, which the Dataset does not hold) is approximated by the ETPMA times the persons per
ETP at 31 December (``etpma × effectif_31dec / etp_31dec``; on the default scenario within 0.1 % of the
calibration's monthly mean, where the half-sum of two year-end headcounts is 0.75 % too high in 2018);
the mean over replicates is that of the means. When the Dataset holds the variable itself, it is used. The band of a derived series is computed over the replicates the Dataset
keeps (all of them, unless the run was made in blocks of more than a thousand).

Charts are drawn from the saved run and the observation files only, never by re-running the model.
"""

from __future__ import annotations

import math
import textwrap
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np
from matplotlib.figure import Figure, SubFigure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from model.analysis.calibration import FENETRE
from model.analysis.observations import INDICATEURS, OBSERVATIONS_DIR, ROOT, Observation, data_hash, load_observations
from model.outputs.lecture_run import Run, nan_quantiles
from model.outputs.libelles import Lang, labels_for, org_label, table, unit_label
from model.outputs.nombres import format_number
from model.outputs.style import FAN, frame_axes, number_axis, source_note, styled, year_axis
from model.params.calendrier import AGGREGATS, ORGANISMES_SORTIE

__all__ = ["FIT_CHARTS", "FitChart", "ObservationsPubliees", "Point", "applicable_fit", "chart_ajustement",
           "charger_observations", "cible_etpma", "fit_summary", "note_section", "panels", "points", "serie"]

MARKERS = {"official": "o", "secondary": "s", "derived": "^"}   # provenance (quality of the source)
USAGE_COLOURS = {"fit": "black", "validation": "#c2571a"}        # fitted by the calibration / held out
TARGET_COLOUR = "#7a1f1f"                                          # COG ETPMA target and wage-bill envelope
PROJECTION_FILL = "0.95"


# ----------------------------------------------------------------------------- the observations
@dataclass(frozen=True)
class ObservationsPubliees:
    """The observation tables of the project, as the report reads them.

    ``observations`` is empty, and ``absence`` says why, when the folder or its ``*.csv`` files are not
    there (a copy of cogsim without its ``calibration`` folder): a report on a run does not need them.
    ``empreinte`` is the SHA-256 of the files (names and bytes, :func:`data_hash`).
    """

    observations: tuple[Observation, ...]
    dossier: Path
    empreinte: str = ""
    absence: str = ""

    @property
    def shown(self) -> str:
        """The folder as a reader finds it: relative to the project when inside it."""
        try:
            return str(self.dossier.resolve().relative_to(ROOT))
        except ValueError:
            return str(self.dossier)


def charger_observations(dossier: str | Path | None = None) -> ObservationsPubliees:
    """Read the observation tables (default ``calibration/observations``) for the fit charts.

    A missing folder, or one without any ``*.csv``, gives no observation (``absence`` says which): the
    fit charts are left out of the report and its note says why. A file that is there but cannot be read
    or is not valid is bad input, as for ``cogsim calibrate``.

    Raises
    ------
    InputError
        Every problem of the files at once, each naming the file, the row and the column.
    """
    d = Path(dossier) if dossier is not None else OBSERVATIONS_DIR
    if not d.is_dir():
        return ObservationsPubliees((), d, absence="folder")
    if not any(d.glob("*.csv")):
        return ObservationsPubliees((), d, absence="files")
    obs = load_observations(d)
    return ObservationsPubliees(tuple(obs), d, data_hash(d))


# ----------------------------------------------------------------------------- the charts
@dataclass(frozen=True)
class FitChart:
    """A fit chart: file stem, title key (``ajustement`` section of the labels), the observation
    indicators it draws, the Dataset variables it needs and its panels drawn even without observation."""

    name: str
    title: str
    indicators: tuple[str, ...]
    requires: tuple[str, ...]
    always: tuple[tuple[str, str], ...]  # (indicator, organisme or aggregate); "*" = every staffed organisme


FIT_CHARTS: tuple[FitChart, ...] = (
    FitChart("ajustement_etpma", "t_etpma", ("etpma",), ("etpma",),
             (("etpma", "*"), ("etpma", "regime_general"), ("etpma", "total"))),
    FitChart("ajustement_effectifs", "t_effectifs", ("effectif_31dec", "effectif_moyen"),
             ("effectif_31dec", "etp_31dec"),
             (("effectif_31dec", "regime_general"), ("effectif_31dec", "total"))),
    FitChart("ajustement_recrutements_cdi", "t_recrutements_cdi", ("recrutements_cdi",),
             ("recrutements", "recrutements_cdd"), (("recrutements_cdi", "regime_general"),
                                                    ("recrutements_cdi", "total"))),
    FitChart("ajustement_departs_retraite", "t_departs_retraite", ("departs_retraite",), ("departs_retraite",),
             (("departs_retraite", "regime_general"), ("departs_retraite", "total"))),
    FitChart("ajustement_masse_salariale", "t_masse_salariale", ("masse_salariale", "depenses_personnel",
                                                                 "charges_personnel"),
             ("masse_salariale", "depenses_personnel"),
             (("masse_salariale", "regime_general"), ("masse_salariale", "total"))),
)

def applicable_fit(run: Run, observations: ObservationsPubliees | None) -> list[FitChart]:
    """The fit charts of a report: those whose variables the run has and with at least one observation."""
    if observations is None:
        return []
    drawn = {o.indicator for o in observations.observations}
    return [c for c in FIT_CHARTS if all(v in run.ds for v in c.requires) and drawn & set(c.indicators)]


def panels(run: Run, chart: FitChart, observations: Sequence[Observation]) -> list[tuple[str, str]]:
    """(indicator, organisme or aggregate) of each panel: the chart's own, then every pair an
    observation names, by indicator then in the order of the results' rows."""
    staffed = [o for o in run.ds["organisme"].values
               if np.nanmax(run.series("etpma", str(o)), initial=0.0) > 0]
    pairs: list[tuple[str, str]] = []
    for ind, zone in chart.always:
        pairs += [(ind, str(o)) for o in staffed] if zone == "*" else [(ind, zone)]
    pairs += [(o.indicator, o.organisme) for o in observations if o.indicator in chart.indicators]
    pairs = list(dict.fromkeys(pairs))
    return sorted(pairs, key=lambda p: (chart.indicators.index(p[0]), ORGANISMES_SORTIE.index(p[1])))


def serie(run: Run, indicator: str, zone: str) -> tuple[np.ndarray, np.ndarray | None, np.ndarray | None]:
    """(mean, 5th centile, 95th centile) by year of an indicator for one organisme or aggregate, in the
    model's unit; the centiles are None for a deterministic run (see the module docstring for the
    derived series)."""
    if indicator in run.ds:
        lo, hi = run.band(indicator, zone) if run.stochastic else (None, None)
        return run.mean(indicator, zone), lo, hi
    if indicator == "recrutements_cdi":
        mean = run.mean("recrutements", zone) - run.mean("recrutements_cdd", zone)
        reps = run.series("recrutements", zone) - run.series("recrutements_cdd", zone)
    elif indicator == "effectif_moyen":
        mean = _persons_per_etp(run.mean("etpma", zone), run.mean("effectif_31dec", zone), run.mean("etp_31dec", zone))
        reps = _persons_per_etp(run.series("etpma", zone), run.series("effectif_31dec", zone),
                                run.series("etp_31dec", zone))
    else:
        raise KeyError(indicator)
    if not run.stochastic:
        return mean, None, None
    q = nan_quantiles(reps, [0.05, 0.95])
    return mean, q[0], q[1]


def _persons_per_etp(etpma: np.ndarray, persons: np.ndarray, etp: np.ndarray) -> np.ndarray:
    """ETPMA × persons per ETP at 31 December (0 where there is no staff)."""
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(etpma > 0, etpma * persons / etp, np.where(etpma == 0, 0.0, np.nan))


def cible_etpma(run: Run, zone: str) -> np.ndarray | None:
    """The COG's ETPMA target by year (NaN where none), or None when the run carries none: the Dataset's
    ``cible_etpma`` when it has one, else the manifest's by-year parameter ``organismes.<zone>.cible_etpma``
    (organismes only; values that are not positive ETPMA levels are left out)."""
    if "cible_etpma" in run.ds:
        v = run.mean("cible_etpma", zone)
        if np.isfinite(v).any():
            return v
    if zone in AGGREGATS:
        return None
    d = run.parameter(f"organismes.{zone}.cible_etpma")
    if not isinstance(d, dict):
        return None
    years = [int(y) for y in run.years]
    out = np.full(len(years), np.nan)
    for y, v in d.items():
        try:
            y, v = int(y), float(v)
        except (TypeError, ValueError):
            continue
        if y in years and math.isfinite(v) and v > 0:
            out[years.index(y)] = v
    return out if np.isfinite(out).any() else None


@dataclass(frozen=True)
class Point:
    """An observation as drawn, in the model's unit: at (``x``, ``y``) with whiskers ±``err`` (2σ);
    ``anchor`` = (base year, simulated level) for a change; ``span`` = (first, last year) for a cumul;
    ``simule``: the run's mean in the observation's own terms (level, change or cumul)."""

    obs: Observation
    x: float
    y: float
    err: float
    anchor: tuple[float, float] | None
    span: tuple[int, int] | None
    simule: float

    @property
    def within_2sigma(self) -> bool:
        return bool(abs(self.simule - self.obs.value) <= 2 * self.obs.sigma)


def points(run: Run, observations: Sequence[Observation], indicator: str, zone: str) -> list[Point]:
    """The observations of ``indicator`` for ``zone`` as points of its panel (module docstring)."""
    mean, _, _ = serie(run, indicator, zone)
    years = [int(y) for y in run.years]
    factor = INDICATEURS[indicator][1]
    out = []
    for o in observations:
        if o.indicator != indicator or o.organisme != zone or o.year not in years:
            continue
        i = years.index(o.year)
        if o.kind == "level":
            out.append(Point(o, o.year, o.value / factor, 2 * o.sigma / factor, None, None, mean[i] * factor))
            continue
        j = years.index(o.annee_base) if o.annee_base in years else None
        if j is None:
            continue
        base = float(mean[j])
        if o.kind == "change_abs":
            out.append(Point(o, o.year, base + o.value, 2 * o.sigma, (o.annee_base, base), None, mean[i] - base))
        elif o.kind == "change_pct":
            out.append(Point(o, o.year, base * (1 + o.value / 100), base * 2 * o.sigma / 100, (o.annee_base, base),
                             None, 100 * (mean[i] / base - 1)))
        else:  # cumul
            n = o.year - o.annee_base + 1
            out.append(Point(o, (o.annee_base + o.year) / 2, o.value / n, 2 * o.sigma / n, None,
                             (o.annee_base, o.year), float(np.sum(mean[j:i + 1]))))
    return out


def _dodge(pts: list[Point]) -> list[float]:
    """x of each point, points of the same year side by side (not on top of each other)."""
    xs = [p.x for p in pts]
    out = list(xs)
    for x in set(xs):
        same = [k for k, v in enumerate(xs) if v == x]
        if len(same) > 1:
            for k, dx in zip(same, np.linspace(-0.2, 0.2, len(same))):
                out[k] = x + dx
    return out


@styled
def chart_ajustement(run: Run, chart: FitChart | str, observations: ObservationsPubliees, lang: Lang = "fr",
                     fig: Figure | SubFigure | None = None) -> Figure | SubFigure:
    """One fit chart (:data:`FIT_CHARTS`, or its name) of a saved run against the observations: one
    panel per organisme or aggregate (and indicator, named on the y axis, when the chart shows two).

    Parameters
    ----------
    run : a saved run (:func:`model.outputs.lecture_run.load_run`).
    chart : a :class:`FitChart` or its name (``ajustement_etpma``, ...).
    observations : :func:`charger_observations`.
    lang : ``"fr"`` (default) or ``"en"``.
    fig : draw into this Figure or SubFigure instead of a new one.

    Returns
    -------
    The Figure (or ``fig``). Every observation drawn is a marker whose ``gid`` is ``obs-<id>`` (in the
    SVG file, the ``id`` of its group).
    """
    L, A = labels_for(lang), table(lang)["ajustement"]
    if isinstance(chart, str):
        chart = next(c for c in FIT_CHARTS if c.name == chart)
    obs = [o for o in observations.observations if o.indicator in chart.indicators]
    cells = panels(run, chart, obs)
    n = len(cells)
    ncols = min(3, n)
    nrows = math.ceil(n / ncols)
    pts = [points(run, obs, ind, z) for ind, z in cells]
    used = {(p.obs.quality, p.obs.estimated, p.obs.usage, p.obs.kind) for v in pts for p in v}
    handles, labels = _legend(run, cells, used, L, A)
    per_col = math.ceil(len(labels) / LEGEND_COLS)
    lines = max(sum(t.count("\n") + 1 for t in labels[j:j + per_col]) for j in range(0, len(labels), per_col))
    legend_rows = (0.118 * lines + 0.05 * per_col) / 0.2
    note = source_note(run, lang) + "\n" + A["source_obs"].format(
        n=len(observations.observations), dossier=observations.shown, empreinte=observations.empreinte[:12])
    for ind in ("effectif_moyen", "depenses_personnel", "charges_personnel"):  # what the panels' short names leave unsaid
        if any(i == ind for i, _ in cells) and not (ind == "effectif_moyen" and ind in run.ds):
            note += "\n" + A["n_" + ind]
    fr = frame_axes(fig, 1.8 * nrows + 0.45 + 0.2 * legend_rows + 0.1 * (note.count("\n") + 2), A[chart.title],
                    note, legend_rows=legend_rows)
    axes = fr.body.subplots(nrows, ncols, squeeze=False)
    for k, ax in enumerate(axes.flat):
        if k >= n:
            ax.axis("off")
            continue
        ind, zone = cells[k]
        _panel(ax, run, ind, zone, pts[k], lang)
        if len(chart.indicators) > 1:
            ax.set_ylabel(A["i_" + ind], fontsize=6.5)
    fr.foot.legend(handles, labels, loc="upper center", ncols=LEGEND_COLS, handlelength=2.2, columnspacing=1.0,
                   borderaxespad=0.1, borderpad=0.1, handleheight=0.9, labelspacing=0.45)
    return fr.root


LEGEND_COLS = 3


def _panel(ax, run: Run, ind: str, zone: str, pts: list[Point], lang: Lang) -> None:
    years = run.years
    ax.axvspan(FENETRE[1] + 0.5, years[-1] + 0.5, color=PROJECTION_FILL, lw=0, zorder=0)
    mean, lo, hi = serie(run, ind, zone)
    if lo is not None:
        ax.fill_between(years, lo, hi, color=FAN[0], alpha=FAN[1], linewidth=0, zorder=1)
    ax.plot(years, mean, color="black", lw=1.3, zorder=2)
    if ind == "etpma":
        if "plafond_emplois" in run.ds:
            ax.plot(years, run.series("plafond_emplois", zone)[:, 0], color="0.35", ls="--", lw=0.9, zorder=2)
        target = cible_etpma(run, zone)
        if target is not None:
            ax.plot(years, target, color=TARGET_COLOUR, ls=(0, (1, 1.5)), lw=1.1, marker="D", ms=2.4,
                    mfc="white", zorder=3)
    if ind == "masse_salariale" and "enveloppe_masse_salariale" in run.ds:
        env = run.mean("enveloppe_masse_salariale", zone)
        if np.isfinite(env).any():
            ax.plot(years, env, color=TARGET_COLOUR, ls=(0, (1, 1.5)), lw=1.1, zorder=3)
    for p, x in zip(pts, _dodge(pts)):
        _draw_point(ax, p, x)
    ax.set_title(org_label(zone, lang), loc="left")
    ax.set_xlim(years[0] - 0.5, years[-1] + 0.5)
    year_axis(ax, years, every=3)
    number_axis(ax, lang)


def _draw_point(ax, p: Point, x: float) -> None:
    o = p.obs
    colour = USAGE_COLOURS[o.usage]
    style = dict(color=colour, marker=MARKERS[o.quality], ms=4.2, mew=1.0, ls="none",
                 mfc="white" if o.estimated else colour, zorder=6)
    if p.anchor is not None:
        ax.plot([p.anchor[0], x], [p.anchor[1], p.y], color=colour, ls=":", lw=0.9, zorder=4)
        ax.plot([p.anchor[0]], [p.anchor[1]], color=colour, marker="o", ms=1.8, ls="none", zorder=5)
    if p.span is not None:
        ax.plot([p.span[0] - 0.4, p.span[1] + 0.4], [p.y, p.y], **_cumul_style(colour))
    ax.vlines(x, p.y - p.err, p.y + p.err, color=colour, lw=0.8, zorder=5)
    ax.plot([x], [p.y], gid=f"obs-{o.id}", **style)


def _cumul_style(colour: str) -> dict:
    return dict(color=colour, lw=2.4, alpha=0.45, marker="|", ms=6, mew=1.0, solid_capstyle="butt", zorder=4)


def _legend(run: Run, cells: list[tuple[str, str]], used: set, L: dict, A: dict) -> tuple[list, list]:
    """The legend entries the chart needs (only those drawn)."""
    handles = [Line2D([], [], color="black", lw=1.3)]
    labels = [L["mean"] if run.stochastic else L["det"]]
    if run.stochastic:
        handles.append(Patch(facecolor=FAN[0], alpha=FAN[1]))
        labels.append(L["fan"])
    etpma_zones = [z for i, z in cells if i == "etpma"]
    if "plafond_emplois" in run.ds and any(np.isfinite(run.series("plafond_emplois", z)).any() for z in etpma_zones):
        handles.append(Line2D([], [], color="0.35", ls="--", lw=0.9))
        labels.append(L["plafond"])
    if any(cible_etpma(run, z) is not None for z in etpma_zones):
        handles.append(Line2D([], [], color=TARGET_COLOUR, ls=(0, (1, 1.5)), lw=1.1, marker="D", ms=2.4,
                              mfc="white"))
        labels.append(A["cible_etpma"])
    if any(i == "masse_salariale" for i, _ in cells) and "enveloppe_masse_salariale" in run.ds and any(
            np.isfinite(run.mean("enveloppe_masse_salariale", z)).any() for i, z in cells if i == "masse_salariale"):
        handles.append(Line2D([], [], color=TARGET_COLOUR, ls=(0, (1, 1.5)), lw=1.1))
        labels.append(A["enveloppe"])
    handles.append(Patch(facecolor=PROJECTION_FILL, edgecolor="0.8", linewidth=0.4))
    labels.append(A["projection"].format(a=FENETRE[0], b=FENETRE[1]))
    qualities = {q for q, _, _, _ in used}
    for q in MARKERS:
        if q in qualities:
            handles.append(Line2D([], [], color="black", marker=MARKERS[q], ms=4.2, ls="none"))
            labels.append(A["q_" + q])
    if any(e for _, e, _, _ in used):
        handles.append(Line2D([], [], color="black", marker="o", ms=4.2, mfc="white", ls="none"))
        labels.append(A["estimated"])
    if any(u == "validation" for _, _, u, _ in used):
        handles.append(Line2D([], [], color=USAGE_COLOURS["validation"], marker="o", ms=4.2, ls="none"))
        labels.append(A["validation"])
    handles.append(Line2D([], [], color="black", marker="|", ms=7, mew=0.8, ls="none"))
    labels.append(A["two_sigma"])
    kinds = {k for _, _, _, k in used}
    if kinds & {"change_abs", "change_pct"}:
        handles.append(Line2D([], [], color="black", ls=":", lw=0.9, marker="o", ms=1.8, markevery=[0]))
        labels.append(A["change"])
    if "cumul" in kinds:
        handles.append(Line2D([], [], **_cumul_style("black")))
        labels.append(A["cumul"])
    return handles, [textwrap.fill(t, 34) for t in labels]


# ----------------------------------------------------------------------------- the note's section
def fit_summary(run: Run, observations: ObservationsPubliees, charts: Sequence[FitChart]) -> list[dict]:
    """By chart: the points drawn (:class:`Point`), how many the calibration fits and how many lie
    within 2σ of the run's mean (in the observation's own terms: level, change or cumul)."""
    out = []
    for c in charts:
        obs = [o for o in observations.observations if o.indicator in c.indicators]
        pts = [p for ind, zone in panels(run, c, obs) for p in points(run, obs, ind, zone)]
        out.append({"chart": c, "points": pts, "n": len(pts), "fit": sum(p.obs.usage == "fit" for p in pts),
                    "within": sum(p.within_2sigma for p in pts)})
    return out


def _obs_number(v: float, unit: str, lang: Lang, sign: bool = False) -> str:
    """A figure of an observation in its unit (written apart): "−1 000", "−3,3", "2 524"."""
    return format_number(v, 1 if unit == "pct" or abs(v) < 100 else 0, lang, sign)


def note_section(run: Run, observations: ObservationsPubliees | None, charts: Sequence[str], lang: Lang,
                 texts: dict[str, str]) -> dict | None:
    """The note's section "Ajustement aux données publiées" (texts ready to print), or None without
    observations to read (``observations`` None): a heading, paragraphs, a table by chart (figures drawn,
    of which fitted, within 2σ of the run's mean), a table of the figures outside 2σ, and the names of
    the fit charts placed under it. ``texts`` is the note's text table of ``lang`` (``textes.toml``)."""
    if observations is None:
        return None
    T = texts
    if observations.absence:
        return {"title": T["fit_title"], "text": [T["fit_absent"].format(dossier=observations.shown)],
                "table": None, "misses_caption": "", "misses": None, "charts": []}
    specs = [c for c in FIT_CHARTS if c.name in charts]
    summary = fit_summary(run, observations, specs)
    A = table(lang)["ajustement"]
    n = sum(s["n"] for s in summary)
    within = sum(s["within"] for s in summary)
    nfit = sum(s["fit"] for s in summary)
    fit_within = sum(p.within_2sigma for s in summary for p in s["points"] if p.obs.usage == "fit")
    text = [T["fit_intro"].format(dossier=observations.shown, n=len(observations.observations),
                                  a=FENETRE[0], b=FENETRE[1]),
            T["fit_changes"],
            T["fit_count"].format(n=n, k=within, nf=nfit, kf=fit_within)]
    rows = [[A["l_" + s["chart"].name], str(s["n"]), str(s["fit"]), str(s["within"])] for s in summary]
    rows.append([T["fit_all"], str(n), str(nfit), str(within)])
    tab = {"header": [T["f_chart"], T["f_n"], T["f_fit"], T["f_within"]], "rows": rows, "bold": [len(rows) - 1]}
    misses = [p for s in summary for p in s["points"] if not p.within_2sigma]
    miss_rows = []
    for p in misses:
        o = p.obs
        period = str(o.year) if o.kind == "level" else (
            T["fit_cumul"].format(a=o.annee_base, b=o.year) if o.kind == "cumul" else f"{o.annee_base}–{o.year}")
        signed = o.kind in ("change_abs", "change_pct")
        miss_rows.append([f"{org_label(o.organisme, lang)} — {A['i_' + o.indicator]}", period,
                          "%" if o.unit == "pct" else unit_label(o.unit, lang),
                          _obs_number(o.value, o.unit, lang, signed), _obs_number(p.simule, o.unit, lang, signed),
                          _obs_number(2 * o.sigma, o.unit, lang), T["usage_" + o.usage]])
    miss_tab = {"header": [T["m_ind"], T["m_period"], T["m_unit"], T["m_obs"], T["m_sim"], T["m_tol"], T["m_usage"]],
                "rows": miss_rows, "bold": [], "header_width": True} if miss_rows else None
    return {"title": T["fit_title"], "text": text, "table": tab, "misses_caption": T["fit_misses"],
            "misses": miss_tab, "charts": [c.name for c in specs]}
