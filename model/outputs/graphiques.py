"""Chart kit: the charts of a COG negotiation note, drawn from a saved run only.

Every chart is drawn from a run folder written by ``cogsim run`` (``results.nc`` + ``manifest.json``),
never by re-running the model. Charts are French by default (decimal comma, narrow no-break space as
thousands separator, "M€", "ETPMA"), English on request; each carries a source note naming the run id,
the scenario title, the replicates and seed, and the code commit; they are sober and print-friendly
(grey scale readable: hatches, line styles and markers, not colour alone) and are saved as PNG (300 dpi),
SVG (text kept as text) and PDF.

This module holds the charts of a run (and gives the report every name it reads; the report's sensitivity
chart is :mod:`model.outputs.graphiques_sensibilite`'s); the rest of the kit:

* :mod:`model.outputs.libelles`: the label tables, one per language; variables named as in the Dataset;
* :mod:`model.outputs.nombres`: French / English number formats and the axis tick formatter;
* :mod:`model.outputs.lecture_run`: :func:`load_run` and :class:`Run` (a saved run), :func:`cog_period`;
* :mod:`model.outputs.style`: the house style, the frame of a chart, axes, bars, :func:`save_figure`;
* :mod:`model.outputs.ponts`: the ETPMA and wage-bill bridges and their charts.

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
=============================  ==============================================================================

Every ``chart_*`` function returns a :class:`matplotlib.figure.Figure`; given ``fig`` (a Figure or a
SubFigure) it draws into it instead (to compose several charts on one page of one's own).

Examples
--------
>>> from model.outputs.graphiques import load_run, chart_trajectoire_etpma, save_figure   # doctest: +SKIP
>>> run = load_run("results/cog_2018_2022")                                       # doctest: +SKIP
>>> save_figure(chart_trajectoire_etpma(run), "out", "trajectoire_etpma", title=run.run_id)  # doctest: +SKIP
"""

from __future__ import annotations

import math
import textwrap
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence

import numpy as np
from matplotlib.figure import Figure, SubFigure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from model.outputs.lecture_run import Run, cog_period, load_run
from model.params.calendrier import AGGREGATS
from model.outputs.libelles import LABELS, Lang, labels_for, org_label, unit_label, variable_label
from model.outputs.nombres import NNBSP, decimals_needed, format_number, format_percent
from model.outputs.ponts import (ETPMA_PARTS, MS_EFFETS, chart_pont_etpma, chart_pont_masse_salariale, etpma_bridge,
                                 masse_salariale_bridge)
from model.outputs.style import (FAN, FORMATS, SCENARIO_STYLES, SERIES, STYLE, bar_style, draw_bars, frame_axes,
                                 number_axis, save_figure, source_note, styled, year_axis)

# the charts, and what the report (model/outputs/rapport.py) reads from this module
__all__ = [
    "ADF_POSTES", "CHARTS", "ChartSpec", "applicable", "write_charts",
    "chart_trajectoire_etpma", "chart_pont_etpma", "chart_pont_masse_salariale", "chart_adf", "chart_productivite",
    "chart_saturation", "chart_service", "chart_comparaison",
    "ETPMA_PARTS", "MS_EFFETS", "etpma_bridge", "masse_salariale_bridge", "cog_period",
    "LABELS", "org_label", "Run", "load_run", "source_note", "save_figure", "STYLE",
    "NNBSP", "decimals_needed", "format_number", "format_percent",
]


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
                            organismes: Sequence[str] | None = None, organisme: str | None = None) -> Figure | SubFigure:
    """ETPMA against the plafond d'emplois, one panel per organisme and aggregate, with the 90 % fan
    (5th and 95th centiles over replicates; a deterministic run has no fan).

    Parameters
    ----------
    run : a saved run (:func:`load_run`).
    lang : ``"fr"`` (default) or ``"en"``.
    fig : draw into this Figure or SubFigure instead of a new one.
    organismes : panels (default: every organisme with staff, then régime général and total).
    organisme : one panel only (``--organisme`` of the report).

    An aggregate's ceiling is the sum of its organismes' ceilings, so it starts only in the first year
    where every staffed organisme of the aggregate has one (the ex-RSI has none before its transfer):
    the panel says so.

    Returns
    -------
    The Figure (or ``fig``); values in ETPMA.
    """
    L = labels_for(lang)
    if organisme is not None:
        organismes = [organisme]
    if organismes is None:
        organismes = [o for o in run.organismes if _staffed(run, o)]
    n = len(organismes)
    ncols = 3 if n > 1 else 2
    nrows = math.ceil((n + 1) / ncols)  # one more cell for the legend
    fr = frame_axes(fig, 1.72 * nrows + 0.6, L["t_trajectoire"], source_note(run, lang), legend_rows=0)
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
            late = _ceiling_starts_late(run, o)
            if late is not None:
                y, missing = late
                ax.text(0.98, 0.97, textwrap.fill(L["plafond_partiel"].format(
                    y=y, org=", ".join(org_label(m, lang) for m in missing)), 30),
                    transform=ax.transAxes, fontsize=5.6, color="0.3", style="italic", va="top", ha="right")
        ax.set_title(org_label(o, lang), loc="left")
        year_axis(ax, years, every=3)
        number_axis(ax, lang)
        ax.margins(x=0.03)
    handles, labels = _central_and_band_handles(run, L)
    handles.append(Line2D([], [], color="0.35", ls="--", lw=1.0, marker="_", ms=7, mew=1.2))
    labels.append(L["plafond"])
    if n < nrows * ncols:
        axes.flat[n].legend(handles, [textwrap.fill(t, 30) for t in labels], loc="center left",
                            handlelength=2.4, fontsize=7, title="ETPMA", title_fontsize=7.5,
                            alignment="left", borderaxespad=0.0)
    return fr.root


def _ceiling_starts_late(run: Run, organisme: str) -> tuple[int, list[str]] | None:
    """For an aggregate whose ceiling starts later than its organismes' (a staffed organisme without a
    ceiling in the first years): (first year of the aggregate's ceiling, the organismes without one)."""
    if organisme not in AGGREGATS:
        return None
    years = [int(y) for y in run.years]
    agg = np.isfinite(run.series("plafond_emplois", organisme)[:, 0])
    parts = [o for o in AGGREGATS[organisme] if o in run.organismes]
    own = np.zeros(len(years), bool)
    for o in parts:
        own |= np.isfinite(run.series("plafond_emplois", o)[:, 0])
    if not agg.any() or int(np.argmax(agg)) <= int(np.argmax(own)):
        return None
    before = int(np.argmax(agg)) - 1  # the last year without the aggregate's ceiling
    missing = [o for o in parts if run.mean("etpma", o)[before] > 0
               and not np.isfinite(run.series("plafond_emplois", o)[before, 0])]
    return years[before + 1], missing


ADF_POSTES = ("adf_immobilier", "adf_editique", "adf_achats", "adf_autres", "adf_informatique_fonctionnement")


@styled
def chart_adf(run: Run, lang: Lang = "fr", fig: Figure | SubFigure | None = None,
              organismes: Sequence[str] | None = None, organisme: str | None = None) -> Figure | SubFigure:
    """ADF by component (MEUR/an, mean over replicates), IT running costs on top (white, hatched),
    against the COG target on ADF excluding IT (``cible_adf``, which compares with the top of the four
    lower components); one panel for the régime général and one per organisme with a target."""
    L = labels_for(lang)
    if organisme is not None:
        organismes = [organisme]
    if organismes is None:
        organismes = ["regime_general"] + [o for o in run.organismes[:-2] if _has_values(run, "cible_adf", o)]
    n = len(organismes)
    ncols = 3 if n > 2 else n
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
        number_axis(ax, lang)
    handles = [Patch(**s) for s in styles] + [Line2D([], [], color="black", lw=1.3, marker="o", ms=2.8,
                                                     mfc="white")]
    labels = [L[p] for p in ADF_POSTES] + [L["cible_adf"]]
    fr.legend(handles, labels, 3)
    return fr.root


def _productivity_panels(run: Run, organisme: str | None = None) -> list[tuple[str, str, str, str]]:
    """(organisme, indicator variable, target variable, title key) of the productivity panels: every
    staffed organisme except the ex-RSI (absorbed in 2020, no COG target), CNAM twice (FSE and IJ);
    ``organisme``'s only when given."""
    panels = []
    for o in run.organismes[:-2]:
        if organisme is not None and o != organisme:
            continue
        if (o == "rsi" and organisme is None) or not _staffed(run, o) or not _has_values(run, "productivite", o):
            continue
        panels.append((o, "productivite", "cible_productivite", "fse" if o == "cnam" else ""))
        if o == "cnam" and _has_values(run, "productivite_ij", o):
            panels.append((o, "productivite_ij", "cible_productivite_ij", "ij"))
    return panels


INDEX_BELOW = 10.0  # an indicator whose values stay below this is drawn as an index (base 100)


@styled
def chart_productivite(run: Run, lang: Lang = "fr", fig: Figure | SubFigure | None = None,
                       organisme: str | None = None) -> Figure | SubFigure:
    """Productivity (charge de travail / ETPMA) against the COG target, one panel per indicator: units
    differ by organisme (UO FSE, allocataires pondérés, ...), so each panel has its own axis and unit. An
    indicator of a few units (the MSA's ETPMA-equivalents per ETPMA, about 1.05) is drawn as an index,
    base 100 in the first year: "1,025" would read as a thousand and twenty-five."""
    L = labels_for(lang)
    panels = _productivity_panels(run, organisme)
    n = len(panels)
    ncols = 3 if n > 2 else max(n, 1)
    nrows = max(1, math.ceil(n / ncols))
    fr = frame_axes(fig, 2.0 * nrows + 0.7, L["t_productivite"], source_note(run, lang), legend_rows=1)
    axes = fr.body.subplots(nrows, ncols, squeeze=False)
    years = run.years
    for k, ax in enumerate(axes.flat):
        if k >= n:
            ax.axis("off")
            continue
        o, var, target, key = panels[k]
        mean = run.mean(var, o)
        finite = mean[np.isfinite(mean)]
        index = bool(finite.size) and float(np.nanmax(np.abs(finite))) < INDEX_BELOW
        scale = 100.0 / finite[0] if index and finite[0] else 1.0
        if run.stochastic:
            lo, hi = run.band(var, o)
            ax.fill_between(years, lo * scale, hi * scale, color=FAN[0], alpha=FAN[1], linewidth=0)
        ax.plot(years, mean * scale, color="black", lw=1.4)
        if _has_values(run, target, o):
            ax.plot(years, run.mean(target, o) * scale, color="0.35", ls="--", lw=1.0, marker="o", ms=2.6,
                    mfc="white")
        else:
            ax.text(0.97, 0.05, L["no_target"], transform=ax.transAxes, ha="right", va="bottom",
                    fontsize=6.5, style="italic", color="0.3")
        ax.set_title(L[key] if key else org_label(o, lang), loc="left")
        ax.set_ylabel(L["indice_base"].format(y=int(years[np.flatnonzero(np.isfinite(mean))[0]]))
                      if index else unit_label(run.units_of(var, o), lang), fontsize=6.5)
        year_axis(ax, years, every=3)
        number_axis(ax, lang)
    handles, labels = _central_and_band_handles(run, L)
    handles.append(Line2D([], [], color="0.35", ls="--", lw=1.0, marker="o", ms=2.6, mfc="white"))
    labels.append(L["cible_productivite"])
    fr.legend(handles, labels, len(labels))
    return fr.root


@styled
def chart_saturation(run: Run, lang: Lang = "fr", fig: Figure | SubFigure | None = None,
                     organisme: str | None = None) -> Figure | SubFigure:
    """Saturation of the plafond d'emplois (ETPMA / plafond), by organisme with a ceiling and for the
    régime général (bold), over the years with a ceiling, every point on its year; whiskers = 90 % band
    of a stochastic run (with caps, so that the runs sharing a year stay readable)."""
    L = labels_for(lang)
    orgs = [o for o in run.organismes if o != "total" and _has_values(run, "saturation", o)]
    if organisme is not None:
        orgs = [o for o in orgs if o == organisme]
    fr = frame_axes(fig, 3.5, L["t_saturation"], source_note(run, lang), legend_rows=2)
    ax = fr.body.subplots()
    years = run.years
    defined = np.zeros(len(years), bool)
    for o in orgs:
        defined |= np.isfinite(run.mean("saturation", o))
    if not defined.any():
        ax.text(0.5, 0.5, "–", transform=ax.transAxes)
        return fr.root
    handles, labels = [], []
    for o in orgs:
        colour, ls, marker = SERIES.get(o, ("black", "-", "o"))
        rg = o == "regime_general"
        style = dict(color=colour, ls=ls, marker=marker or "o", ms=3.4 if not rg else 3.0, lw=2.0 if rg else 1.0,
                     mfc=colour if rg else "white", mew=0.9)
        ax.plot(years, run.mean("saturation", o), **style)
        if run.stochastic:
            lo, hi = run.band("saturation", o)
            mid = run.mean("saturation", o)
            ax.errorbar(years, mid, yerr=[mid - lo, hi - mid], fmt="none", ecolor=colour, elinewidth=0.6,
                        capsize=1.6, capthick=0.6, alpha=0.8)
        handles.append(Line2D([], [], **style))
        labels.append(org_label(o, lang))
    ax.axhline(1.0, color="0.2", lw=0.8, ls=(0, (4, 2)))
    handles.append(Line2D([], [], color="0.2", lw=0.8, ls=(0, (4, 2))))
    labels.append(L["ceiling_100"])
    idx = np.flatnonzero(defined)
    shown = years[idx[0]: idx[-1] + 1]
    ax.set_xlim(shown[0] - 0.5, shown[-1] + 0.5)
    year_axis(ax, shown)
    number_axis(ax, lang, percent=True)
    ax.set_ylim(top=max(1.005, ax.get_ylim()[1]))
    if run.stochastic:
        handles.append(Line2D([], [], color="black", lw=0.8, marker="|", ms=7, ls="none"))
        labels.append(L["fan"])
    fr.legend(handles, labels, 4)
    return fr.root


@styled
def chart_service(run: Run, lang: Lang = "fr", fig: Figure | SubFigure | None = None,
                  organisme: str | None = None) -> Figure | SubFigure:
    """Service quality: the share of calls answered by organisme against the COG target (top; the
    régime général in bold), then the mean processing delay, one panel per organisme on a linear axis of
    its own (the CNAV's pension claims take months, the CNAF's files days) with its COG target
    (``delai_cible``) as a dashed line; bands = 90 % of a stochastic run. ``organisme``: its panels only."""
    L = labels_for(lang)
    calls = [o for o in run.organismes if o != "total" and _has_values(run, "taux_appels_aboutis", o)]
    delays = [o for o in run.organismes[:-2] if _has_values(run, "delai_traitement", o)]
    if organisme is not None:
        calls = [o for o in calls if o == organisme]
        delays = [o for o in delays if o == organisme] or ([organisme] if _has_values(
            run, "delai_traitement", organisme) else [])
    single = len(delays) == 1  # one organisme: calls and delay side by side
    ncols = 3 if len(delays) > 2 else max(1, len(delays))
    drows = 0 if single else (math.ceil(len(delays) / ncols) if delays else 0)
    fr = frame_axes(fig, 2.3 + 1.55 * drows + 0.5, L["t_service"], source_note(run, lang), legend_rows=2)
    if single:
        body = list(fr.body.subfigures(1, 2, squeeze=False)[0])
    else:
        body = fr.body.subfigures(2 if drows else 1, 1, height_ratios=[2.3, 1.55 * drows] if drows else None,
                                  squeeze=False)[:, 0]
    years = run.years
    handles, labels = [], []
    ax = body[0].subplots()
    for o in calls:
        colour, ls, marker = SERIES.get(o, ("black", "-", "o"))
        rg = o == "regime_general"
        style = dict(color=colour, ls=ls, marker=marker or "o", ms=2.8 if not rg else 2.4,
                     lw=1.9 if rg else 1.0, mfc=colour if rg else "white", mew=0.8)
        ax.plot(years, run.mean("taux_appels_aboutis", o), **style)
        handles.append(Line2D([], [], **style))
        labels.append(org_label(o, lang))
    if "cible_taux_appels_aboutis" in run.ds:
        cibles = [run.mean("cible_taux_appels_aboutis", o) for o in calls]
        finite = np.concatenate([c[np.isfinite(c)] for c in cibles]) if cibles else np.array([])
        if finite.size:
            v = float(np.max(finite))
            ax.axhline(v, color="#b03a2e", lw=1.0, ls=(0, (4, 2)))
            handles.append(Line2D([], [], color="#b03a2e", lw=1.0, ls=(0, (4, 2))))
            labels.append(L["cible_85"].format(v=format_percent(v, 0, lang)))
    number_axis(ax, lang, percent=True)
    year_axis(ax, years)
    ax.set_title(variable_label("taux_appels_aboutis", lang, run.ds["taux_appels_aboutis"].attrs), loc="left")
    ax.set_ylabel("%", fontsize=6.5)
    if delays:
        axes = body[1].subplots(max(drows, 1), ncols, squeeze=False)
        body[1].suptitle(L["p_delai"] + f" ({L['jours']})", x=0.005, ha="left", fontsize=8, fontweight="bold")
        has_target = False
        for k, axd in enumerate(axes.flat):
            if k >= len(delays):
                axd.axis("off")
                continue
            o = delays[k]
            colour = SERIES.get(o, ("black", "-", "o"))[0]
            if run.stochastic:
                lo, hi = run.band("delai_traitement", o)
                axd.fill_between(years, lo, hi, color=FAN[0], alpha=FAN[1], linewidth=0)
            axd.plot(years, run.mean("delai_traitement", o), color=colour, lw=1.3)
            if _has_values(run, "delai_cible", o):
                c = run.mean("delai_cible", o)
                axd.plot(years, c, color="#b03a2e", lw=1.0, ls=(0, (1.5, 1.5)))
                v = float(c[np.isfinite(c)][-1])
                axd.text(0.98, 0.04, L["cible_jours"].format(v=format_number(v, 0, lang)), transform=axd.transAxes,
                         ha="right", va="bottom", fontsize=6, color="#b03a2e")
                has_target = True
            axd.set_ylim(bottom=0)
            axd.set_title(org_label(o, lang), loc="left", fontsize=7.5)
            year_axis(axd, years, every=2 if single else 3)
            number_axis(axd, lang)
        if has_target:
            handles.append(Line2D([], [], color="#b03a2e", lw=1.0, ls=(0, (1.5, 1.5))))
            labels.append(L["cible_delai"])
    if run.stochastic:
        handles.append(Patch(facecolor=FAN[0], alpha=FAN[1]))
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
        name = variable_label(v, lang, runs[0].ds[v].attrs)
        ax.set_title(name, loc="left")
        ax.set_ylabel(units, fontsize=6.5)
        year_axis(ax, runs[0].years, every=3)
        number_axis(ax, lang)
    handles = [Line2D([], [], color=c, ls=ls, marker=m, ms=2.6, lw=1.1, mfc="white")
               for c, ls, m in (SCENARIO_STYLES[j % len(SCENARIO_STYLES)] for j in range(len(runs)))]
    labels = [textwrap.fill(f"{r.title} [{r.run_id}]", 120) for r in runs]
    fr.legend(handles, labels, 1)
    return fr.root


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
