"""The charts of a scenario comparison (``cogsim compare``), for one organisme or aggregate, drawn from
saved runs only (:class:`model.outputs.comparaison.Comparaison`):

=================================  ===========================================================================
``comparaison_trajectoires_<P>``   levels of every run: ETPMA, hires, wage bill, ADF, processing delay, share
                                   of calls answered (mean and 90 % band of each run)
``comparaison_ecarts_<P>``         the differences "variante − référence" by year (bars; whiskers: the 90 %
                                   band of the paired difference when the runs share their random draws)
``comparaison_ponts_<P>``          the bridges in difference: how each component of the ETPMA and wage-bill
                                   bridges moves between the runs, year by year
``comparaison_cibles_<P>``         the probability of meeting each COG target in the last year, run by run
=================================  ===========================================================================

The reference is named in every legend (its scenario title, whole, and its run id); every axis carries
its unit. Labels come from :mod:`model.outputs.libelles` (section ``comparaison``).
"""

from __future__ import annotations

import math
import textwrap
from typing import Sequence

import numpy as np
from matplotlib.figure import Figure, SubFigure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from model.outputs.comparaison import PROBABILITE, Comparaison, premiere_annee_differente, unite_lisible
from model.outputs.libelles import Lang, cible_label, org_label, table, variable_label
from model.outputs.nombres import NumberFormatter, format_number
from model.outputs.ponts import ETPMA_PARTS, MS_EFFETS, etpma_bridge, masse_salariale_bridge
from model.outputs.style import (FAN, SCENARIO_STYLES, bar_style, draw_bars, frame_axes, number_axis, source_note,
                                 styled, year_axis)

__all__ = ["CHARTS", "chart_names", "draw", "legend_entries", "chart_trajectoires", "chart_ecarts", "chart_ponts",
           "chart_cibles"]

TRAJECTOIRES = ("etpma", "recrutements", "masse_salariale", "adf", "delai_traitement", "taux_appels_aboutis")
ECARTS = ("etpma", "recrutements", "departs_retraite", "masse_salariale", "adf", "depenses_limitatives",
          "productivite", "delai_traitement", "taux_appels_aboutis")
CHARTS = ("ponts", "cibles", "ecarts", "trajectoires")  # in the note's order: the shorter charts first


def _C(lang: Lang) -> dict[str, str]:
    return table(lang)["comparaison"]


def fenetre(comp: Comparaison) -> np.ndarray:
    """Positions (in the shared years) shown by the difference charts: from the year before the first
    difference of ETPMA in any organisme (where the variants start to bite), every year when none."""
    firsts = [premiere_annee_differente(comp, v, "etpma", o) for v in comp.variantes for o in comp.organismes]
    firsts = [y for y in firsts if y is not None]
    if not firsts:
        return np.arange(len(comp.years))
    start = max(int(comp.years[0]), min(firsts) - 1)
    return np.flatnonzero(comp.years >= start)


def legend_entries(comp: Comparaison, lang: Lang, width: int = 120) -> list[str]:
    """"Référence : <title> [run-id]", "Variante : <title> [run-id]": whole titles, wrapped, never cut."""
    C = _C(lang)
    out = []
    for j, r in enumerate(comp.runs):
        role = C["reference"] if j == 0 else (C["variante"] if len(comp.variantes) == 1 else
                                              C["variante_n"].format(n=j))
        out.append(textwrap.fill(f"{role}{C['colon']}{r.title} [{r.run_id}]", width))
    return out


def _has(comp: Comparaison, name: str, organisme: str) -> bool:
    return all(name in r.ds and np.isfinite(comp.niveau(r, name, organisme)).any() for r in comp.runs)


def _axis_unit(comp: Comparaison, name: str, organisme: str, lang: Lang, ecart: bool = False) -> str:
    C = _C(lang)
    if name == "productivite" and ecart:
        return C["u_relatif"]
    u = unite_lisible(comp.reference, name, organisme, lang)
    if u == "%":
        return C["u_points"] if ecart else "%"
    return u


def _panels(fig, n: int, ncols: int = 3):
    nrows = max(1, math.ceil(n / ncols))
    axes = fig.subplots(nrows, ncols, squeeze=False)
    for k, ax in enumerate(axes.flat):
        if k >= n:
            ax.axis("off")
    return axes.flat


@styled
def chart_trajectoires(comp: Comparaison, organisme: str, lang: Lang = "fr",
                       fig: Figure | SubFigure | None = None) -> Figure | SubFigure:
    """Levels of each run (mean, 90 % band of a stochastic run) for the indicators of
    :data:`TRAJECTOIRES` that every run has for ``organisme``; the reference in black."""
    C = _C(lang)
    names = [v for v in TRAJECTOIRES if _has(comp, v, organisme)]
    nrows = max(1, math.ceil(len(names) / 3))
    legend = legend_entries(comp, lang)
    lines = sum(t.count("\n") + 1 for t in legend)
    fr = frame_axes(fig, 1.8 * nrows + 0.75 + 0.13 * lines,
                    C["t_trajectoires"].format(perimetre=org_label(organisme, lang)),
                    source_note(list(comp.runs), lang), legend_rows=lines)
    years = comp.years
    for ax, name in zip(_panels(fr.body, len(names)), names):
        share = unite_lisible(comp.reference, name, organisme, lang) == "%"
        for j, r in enumerate(comp.runs):
            colour, ls, marker = SCENARIO_STYLES[j % len(SCENARIO_STYLES)]
            idx = comp.at(r)
            if r.stochastic:
                lo, hi = r.band(name, organisme)
                ax.fill_between(years, lo[idx], hi[idx], color=colour if j else FAN[0], alpha=0.15 if j else FAN[1],
                                linewidth=0)
            ax.plot(years, comp.niveau(r, name, organisme), color=colour, ls=ls, marker=marker, ms=2.4, lw=1.1,
                    mfc="white", zorder=3 + j)
        ax.set_title(variable_label(name, lang, comp.reference.ds[name].attrs), loc="left")
        ax.set_ylabel(_axis_unit(comp, name, organisme, lang), fontsize=6.5)
        year_axis(ax, years, every=3 if len(years) > 7 else 1)
        number_axis(ax, lang, percent=share)
    handles = [Line2D([], [], color=c, ls=ls, marker=m, ms=2.6, lw=1.1, mfc="white")
               for c, ls, m in (SCENARIO_STYLES[j % len(SCENARIO_STYLES)] for j in range(len(comp.runs)))]
    fr.foot.legend(handles, legend, loc="upper left", ncols=1, handlelength=3.0, borderaxespad=0.1,
                   borderpad=0.1, fontsize=6.8)
    return fr.root


@styled
def chart_ecarts(comp: Comparaison, organisme: str, lang: Lang = "fr",
                 fig: Figure | SubFigure | None = None) -> Figure | SubFigure:
    """The differences "variante − référence" by year, one panel per indicator of :data:`ECARTS` (the
    productivity as a relative difference, shares in points); whiskers: the 90 % band of the paired
    difference (runs with the same seed and replicates)."""
    C = _C(lang)
    names = [v for v in ECARTS if _has(comp, v, organisme)]
    nrows = max(1, math.ceil(len(names) / 3))
    legend = legend_entries(comp, lang)
    lines = sum(t.count("\n") + 1 for t in legend[1:]) + 1
    fr = frame_axes(fig, 1.6 * nrows + 0.85 + 0.13 * lines,
                    C["t_ecarts"].format(perimetre=org_label(organisme, lang), ref=comp.reference.run_id),
                    source_note(list(comp.runs), lang), legend_rows=lines)
    w = fenetre(comp)
    years = comp.years[w]
    n_var = len(comp.variantes)
    width = 0.7 / n_var
    paired_any = False
    for ax, name in zip(_panels(fr.body, len(names)), names):
        share = unite_lisible(comp.reference, name, organisme, lang) == "%"
        for k, var in enumerate(comp.variantes):
            d = comp.ecart(var, name, organisme)[w]
            lo, hi = (b[w] for b in comp.bande_ecart(var, name, organisme))
            if name == "productivite":
                base = comp.niveau(comp.reference, name, organisme)[w]
                with np.errstate(invalid="ignore", divide="ignore"):
                    d, lo, hi = 100 * d / base, 100 * lo / base, 100 * hi / base
            elif share:
                d, lo, hi = 100 * d, 100 * lo, 100 * hi
            x = years + (k - (n_var - 1) / 2) * width
            draw_bars(ax, x, np.nan_to_num(d), width * 0.9, **bar_style(k))
            if np.isfinite(lo).any():
                paired_any = True
                ax.vlines(x, lo, hi, color="0.1", lw=0.7, zorder=4)
        ax.axhline(0, color="0.2", lw=0.6)
        ax.set_title(variable_label(name, lang, comp.reference.ds[name].attrs), loc="left")
        ax.set_ylabel(_axis_unit(comp, name, organisme, lang, ecart=True), fontsize=6.5)
        year_axis(ax, years, every=2 if len(years) > 7 else 1)
        ax.set_xlim(years[0] - 0.6, years[-1] + 0.6)
        number_axis(ax, lang, sign=True)
    handles = [Patch(**bar_style(k)) for k in range(n_var)]
    labels = [textwrap.fill(C["ecart_de"].format(v=f"{r.title} [{r.run_id}]", ref=comp.reference.run_id), 120)
              for r in comp.variantes]
    if paired_any:
        handles.append(Line2D([], [], color="0.1", lw=0.8, marker="|", ms=7, ls="none"))
        labels.append(C["bande_ecart"])
    fr.foot.legend(handles, labels, loc="upper left", ncols=1, handlelength=2.4, borderaxespad=0.1, borderpad=0.1,
                   fontsize=6.8)
    return fr.root


def _bridge_diff(comp: Comparaison, var, organisme: str, kind: str) -> dict[str, np.ndarray]:
    fn, parts = (etpma_bridge, ETPMA_PARTS) if kind == "etpma" else (masse_salariale_bridge, MS_EFFETS)
    out = {}
    ba, bb = fn(comp.reference, organisme), fn(var, organisme)
    ia, ib = comp.at(comp.reference), comp.at(var)
    for k in parts + ("net",):
        out[k] = np.asarray(bb[k])[ib] - np.asarray(ba[k])[ia]
    return out


@styled
def chart_ponts(comp: Comparaison, organisme: str, lang: Lang = "fr",
                fig: Figure | SubFigure | None = None) -> Figure | SubFigure:
    """The ETPMA and wage-bill bridges of ``organisme`` in difference (first variant − reference): each
    component's difference stacked by year, the difference of the net change as a marker."""
    C, P = _C(lang), table(lang)["ponts"]
    var = comp.variantes[0]
    fr = frame_axes(fig, 4.1, C["t_ponts"].format(perimetre=org_label(organisme, lang), var=var.run_id,
                                                  ref=comp.reference.run_id),
                    source_note(list(comp.runs), lang), legend_rows=1)
    axes = fr.body.subplots(1, 2)
    w = fenetre(comp)
    years = comp.years[w]
    for ax, kind, unit in zip(axes, ("etpma", "ms"), (C["u_etpma_an"], unit_ms(lang))):
        have = all(v in r.ds for r in comp.runs for v in (("departs_retraite", "recrutements", "transferts_entrants",
                                                              "transferts_sortants") if kind == "etpma" else MS_EFFETS))
        if not have:
            ax.axis("off")
            continue
        b = {k: v[w] for k, v in _bridge_diff(comp, var, organisme, kind).items()}
        parts = ETPMA_PARTS if kind == "etpma" else MS_EFFETS
        handles, labels = [], []
        pos, neg = np.zeros(len(years)), np.zeros(len(years))
        for i, k in enumerate(parts):
            v = np.nan_to_num(b[k])
            bottom = np.where(v >= 0, pos, neg)
            draw_bars(ax, years, v, 0.66, bottom=bottom, **bar_style(i))
            pos, neg = pos + np.maximum(v, 0), neg + np.minimum(v, 0)
            handles.append(Patch(**bar_style(i)))
            labels.append(P[k])
        ax.plot(years, b["net"], ls="none", marker="D", ms=3.4, mfc="white", mec="black", mew=0.9, zorder=5)
        ax.axhline(0, color="0.2", lw=0.6)
        ax.set_title(C["p_pont_etpma"] if kind == "etpma" else C["p_pont_ms"], loc="left")
        ax.set_ylabel(unit, fontsize=6.5)
        year_axis(ax, years, every=2 if len(years) > 7 else 1)
        ax.set_xlim(years[0] - 0.6, years[-1] + 0.6)
        number_axis(ax, lang, sign=True)
        handles.append(Line2D([], [], ls="none", marker="D", ms=3.4, mfc="white", mec="black", mew=0.9))
        labels.append(C["net"])
        ax.legend(handles, labels, loc="upper center", bbox_to_anchor=(0.5, -0.1), ncols=2, fontsize=6.5,
                  handlelength=2.2, columnspacing=1.0)
    return fr.root


def unit_ms(lang: Lang) -> str:
    return _C(lang)["u_meur"]


def cibles_rows(comp: Comparaison, organisme: str, lang: Lang) -> tuple[int, list[tuple[str, list[float]]]]:
    """(last shared year, [(label, probability of each run)]) of the COG targets of ``organisme`` (every
    organisme of the Datasets for an aggregate, then only the targets whose probability moves)."""
    z = int(comp.years[-1])
    own = [o for o in comp.organismes if o in {str(x) for x in comp.reference.ds["organisme"].values}]
    orgs = [organisme] if organisme in own else own
    probs = [comp.probabilites(r) for r in comp.runs]
    rows = []
    for c in probs[0]:
        if not all(c in p for p in probs):
            continue
        for o in orgs:
            j = own.index(o)
            vals = [float(p[c][-1, j]) for p in probs]
            if not any(math.isfinite(v) for v in vals):
                continue
            if organisme not in own and max(vals) - min(vals) < 0.005:
                continue
            label = cible_label(c, lang) + ("" if organisme in own else f" ({org_label(o, lang)})")
            rows.append((label, vals))
    return z, rows


@styled
def chart_cibles(comp: Comparaison, organisme: str, lang: Lang = "fr",
                 fig: Figure | SubFigure | None = None) -> Figure | SubFigure:
    """The probability of meeting each COG target in the last shared year, one bar per run."""
    C = _C(lang)
    z, rows = cibles_rows(comp, organisme, lang)
    legend = legend_entries(comp, lang)
    lines = sum(t.count("\n") + 1 for t in legend)
    n = max(1, len(rows))
    fr = frame_axes(fig, 0.95 + 0.24 * n * len(comp.runs) ** 0.5 + 0.13 * lines,
                    C["t_cibles"].format(perimetre=org_label(organisme, lang), z=z),
                    source_note(list(comp.runs), lang), legend_rows=lines)
    ax = fr.body.subplots()
    k = len(comp.runs)
    h = 0.8 / k
    for j in range(k):
        y = np.arange(len(rows)) + (j - (k - 1) / 2) * h
        vals = np.array([r[1][j] for r in rows], float)
        style = bar_style(0 if j == 0 else j + 1)
        draw_bars(ax, y, np.nan_to_num(vals), h * 0.9, horizontal=True, **style)
        for yi, v in zip(y, vals):
            if math.isfinite(v):
                ax.text(min(v, 1.0) + 0.01, yi, format_number(100 * v, 0, lang) + ("\u202f%" if lang == "fr" else "%"),
                        va="center", fontsize=6.2)
    ax.set_yticks(np.arange(len(rows)))
    ax.set_yticklabels([textwrap.fill(r[0], 42) for r in rows], fontsize=6.5)
    ax.invert_yaxis()
    ax.set_xlim(0, 1.12)
    ax.set_xlabel(C["u_proba"], fontsize=6.5)
    number_axis_x(ax, lang)
    ax.grid(True, axis="x")
    ax.grid(False, axis="y")
    if not rows:
        ax.text(0.5, 0.5, C["no_targets"], transform=ax.transAxes, ha="center", fontsize=7, style="italic")
    handles = [Patch(**bar_style(0 if j == 0 else j + 1)) for j in range(k)]
    fr.foot.legend(handles, legend, loc="upper left", ncols=1, handlelength=2.4, borderaxespad=0.1, borderpad=0.1,
                   fontsize=6.8)
    return fr.root


def number_axis_x(ax, lang: Lang) -> None:
    ax.set_xticks([0, 0.25, 0.5, 0.75, 1.0])
    ax.xaxis.set_major_formatter(NumberFormatter(lang, percent=True))


DRAW = {"trajectoires": chart_trajectoires, "ecarts": chart_ecarts, "ponts": chart_ponts, "cibles": chart_cibles}


def chart_names(comp: Comparaison, perimetres: Sequence[str]) -> list[tuple[str, str, str]]:
    """(file stem, chart, perimeter) of the charts of a comparison: every chart for each perimeter
    (``cibles`` only where a run has ``probabilite_respect``)."""
    out = []
    for p in perimetres:
        for c in CHARTS:
            if c == "cibles" and not all(PROBABILITE in r.ds for r in comp.runs):
                continue
            out.append((f"comparaison_{c}_{p}", c, p))
    return out


def draw(chart: str, comp: Comparaison, organisme: str, lang: Lang = "fr", fig=None):
    """The figure of one chart of :data:`CHARTS` for ``organisme``."""
    return DRAW[chart](comp, organisme, lang, fig=fig)
