"""The bridges of a run: how the ETPMA and the wage bill of one year follow from the previous year's.

:func:`etpma_bridge` splits each year's change of ETPMA into retirements, other exits, hires, net
transfers and the calendar/quotité remainder (hires forgone through mutualisations for memory);
:func:`masse_salariale_bridge` gives the five effects of the wage bill, which sum exactly to its change.
:func:`chart_pont_etpma` and :func:`chart_pont_masse_salariale` draw them by year and cumulated over
the COG period (:func:`~model.outputs.lecture_run.cog_period`).
"""

from __future__ import annotations

import math
from typing import Literal

import numpy as np
from matplotlib import ticker
from matplotlib.figure import Figure, SubFigure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from model.outputs.lecture_run import Run, cog_period, nan_quantiles
from model.outputs.libelles import Lang, labels_for, org_label, table, unit_label
from model.outputs.nombres import NumberFormatter, format_number
from model.outputs.style import bar_style, draw_bars, frame_axes, number_axis, source_note, styled, year_axis

ETPMA_PARTS = ("departs_retraite", "departs_autres", "recrutements", "transferts", "calendrier")
MS_EFFETS = ("effet_effectif", "effet_mesures_generales", "effet_gvt", "effet_noria", "effet_report")


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


def masse_salariale_bridge(run: Run, organisme: str) -> dict[str, np.ndarray]:
    """Mean wage-bill bridge by year (MEUR): the five effects of the Dataset, which sum exactly to the
    change of ``masse_salariale``; ``net`` is that change, ``masse_salariale`` the level (MEUR/an)."""
    ms = run.mean("masse_salariale", organisme)
    out = {k: run.mean(k, organisme) for k in MS_EFFETS}
    out["net"] = np.concatenate([[np.nan], np.diff(ms)])
    out["masse_salariale"] = ms
    return out


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
    L, S = labels_for(lang), table(lang)["ponts"]
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
        lo, hi = nan_quantiles(d, [0.05, 0.95])
        ax.vlines(years[1:], lo, hi, color="black", lw=0.9, zorder=4)
        handles.append(Line2D([], [], color="black", lw=0.9, marker="|", ms=7, ls="none"))
        labels.append(L["fan_net"])
    ax.use_sticky_edges = False
    ax.margins(y=0.06)
    ax.axhline(0, color="0.25", lw=0.6)
    year_axis(ax, yrs)
    number_axis(ax, lang, sign=True)
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
