"""Charts of a sensitivity analysis, drawn from its saved Dataset only (:mod:`model.analysis.sensibilite_resultat`).

Same conventions as :mod:`model.outputs.graphiques`: French by default (decimal comma, "M€", "ETPMA"), English
with ``lang="en"``; sober and readable in grey scale (hatches, line styles and markers); a source note
naming the method, the design size, the seed and the scenario; saved as PNG (300 dpi), SVG and PDF
by :func:`model.outputs.style.save_figure`.

Charts
------
==============================  ===========================================================================
``chart_tornado``               one at a time: for one variable and one cell (year, organisme), a bar
                                from the scenario's value to the output at each factor's low value
                                (plain) and at its high value (hatched); factors sorted by swing; the
                                factor ranges in the labels
``chart_indices``               Sobol': S1 and ST per factor with their confidence intervals; Morris:
                                μ* against σ, one labelled point per factor, μ* confidence intervals
                                (an OAT result gives its tornado)
``chart_indices_par_annee``     the sensitivity per year: ST (Sobol'), μ* (Morris) or |swing| (OAT) of
                                the main factors across years, for one variable and organisme, with
                                the confidence band; the years where the output does not vary shaded
==============================  ===========================================================================

A *cell* is one value of every dim of the variable other than ``facteur`` and ``indice``, given as
keyword arguments (``year=2022, organisme="total"``); :func:`default_cell` picks the last year and
``total`` (else the first value) of the others.

The report of a run (``cogsim report``) shows one variable and cell of a result placed in the run's
folder (``RUN_DIR/sensibilite.nc``): its *headline* (:func:`headline`: the one the analysis chose, recorded
in the attribute ``headline``), drawn by :func:`chart_headline` and summarised by :func:`top_drivers`.

Examples
--------
>>> from model.analysis.sensibilite_resultat import lire                                          # doctest: +SKIP
>>> from model.outputs import graphiques_sensibilite as gs                              # doctest: +SKIP
>>> res = lire("out/sensibilite.nc")                                            # doctest: +SKIP
>>> fig = gs.chart_indices_par_annee(res, "etpma", organisme="cnaf")           # doctest: +SKIP
>>> gs.save_figure(fig, "out/charts", "etpma_par_annee")                       # doctest: +SKIP
"""

from __future__ import annotations

import json
import math
import re
import textwrap
from pathlib import Path
from typing import Any, Literal, Mapping, Sequence

import numpy as np
import xarray as xr
from matplotlib import ticker
from matplotlib.figure import Figure, SubFigure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.text import Text
from matplotlib.transforms import Bbox

from model.analysis.sensibilite_resultat import HEADLINE, INDICES, tidy_frame, unite_indice
from model.analysis.sensibilite_resultat import variables as _variables
from model.outputs.libelles import Lang, org_label, table, unit_label, variable_label
from model.outputs.nombres import NNBSP, NumberFormatter, decimals_needed, format_number
from model.outputs.style import (FORMATS, SCENARIO_STYLES, bar_style, draw_bars, frame_axes, save_figure, styled,
                                 year_axis)
from model.params.errors import InputError, Problem
from model.results.writers import atomic_dir, netcdf_safe, write_json

__all__ = ["chart_tornado", "chart_indices", "chart_indices_par_annee", "chart_headline", "default_cell", "headline",
           "top_drivers", "base_output", "write_charts", "save_figure"]

FLAT = {"facecolor": "0.96", "edgecolor": "0.8", "hatch": "//", "lw": 0, "zorder": 0}   # constant years
if "hatchcolor" in Patch().properties():   # matplotlib ≥ 3.10: a light hatch, whatever the style's hatch.color
    FLAT["hatchcolor"] = "0.72"
DEFAULT_INDEX = {"sobol": "ST", "morris": "mu_star", "oat": "swing"}


def _T(lang: Lang) -> dict[str, str]:
    """The texts of these charts in ``lang`` (the ``sensibilite`` section of its table, and the
    ``commit`` of the source notes of every chart)."""
    t = table(lang)
    return {**t["sensibilite"], "commit": t["graphiques"]["commit"]}


def _fmt(x: float, lang: Lang) -> str:
    """A factor value with the decimals it needs (0.5 → "0,5"; 130000 → "130 000")."""
    return format_number(x, decimals_needed([x]), lang)


def _percent(fraction: float, lang: Lang) -> str:
    return format_number(100 * fraction, decimals_needed([100 * fraction], 1), lang) + (
        NNBSP + "%" if lang == "fr" else "%")


# ----------------------------------------------------------------------------- cells and labels
def default_cell(resultat: xr.Dataset, variable: str, keep: Sequence[str] = ()) -> dict[str, Any]:
    """The cell a chart shows by default: the last ``year``, ``total`` (else the first value) of every
    other dim of ``variable`` (the dims in ``keep`` left out)."""
    da = resultat[variable]
    cell: dict[str, Any] = {}
    for d in da.dims:
        if d in ("facteur", "indice") or d in keep:
            continue
        values = list(da[d].values) if d in da.coords else list(range(da.sizes[d]))
        if d == "year":
            cell[d] = values[-1]
        else:
            cell[d] = "total" if "total" in values else values[0]
    return cell


def headline(resultat: xr.Dataset) -> tuple[str, dict[str, Any]]:
    """The variable and cell a report shows of a result: those its analysis chose (the attribute
    ``headline``, JSON ``{"variable": ..., "year": ..., "organisme": ...}``, written by ``cogsim
    sensitivity``), else the first output variable at :func:`default_cell`."""
    names = _variables(resultat)
    raw = resultat.attrs.get(HEADLINE)
    chosen = dict(json.loads(raw) if isinstance(raw, str) else raw or {})
    variable = chosen.pop("variable", None)
    if variable not in names:
        variable, chosen = names[0], {}
    dims = resultat[variable].dims
    return variable, {**default_cell(resultat, variable), **{d: v for d, v in chosen.items() if d in dims}}


def _headline_cell(resultat: xr.Dataset, variable: str | None, cell: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
    if variable is not None:
        return variable, dict(cell)
    variable, head = headline(resultat)
    return variable, {**head, **cell}


def top_drivers(resultat: xr.Dataset, n: int | None = None, variable: str | None = None,
                **cell: Any) -> list[tuple[str, float, float]]:
    """The ``n`` factors (all by default) with the largest effect on ``variable`` at ``cell`` (default: the
    :func:`headline`), largest first: ``(factor, output at its low value − base output, output at its high
    value − base output)`` one at a time (sorted by swing); ``(factor, index, NaN)`` otherwise, the index
    μ* (Morris) or ST (Sobol')."""
    variable, cell = _headline_cell(resultat, variable, cell)
    da = _select(resultat, variable, cell)
    names = [str(f) for f in resultat["facteur"].values]
    method = str(resultat.attrs.get("method"))
    if method == "oat":
        base = da.sel(indice="base").values.astype(float)
        low, high = da.sel(indice="low").values.astype(float) - base, da.sel(indice="high").values.astype(float) - base
        order = np.argsort(-np.abs(high - low), kind="stable")[:n]
        return [(names[i], float(low[i]), float(high[i])) for i in order]
    index = da.sel(indice=DEFAULT_INDEX[method]).values.astype(float)
    order = np.argsort(-np.abs(index), kind="stable")[:n]
    return [(names[i], float(index[i]), float("nan")) for i in order]


def base_output(resultat: xr.Dataset, variable: str | None = None, **cell: Any) -> float:
    """One at a time: the output at the scenario's values (the base point) for ``variable`` at ``cell``
    (default: the :func:`headline`)."""
    if resultat.attrs.get("method") != "oat":
        raise ValueError(f"base_output: a one-at-a-time result only, not {resultat.attrs.get('method')!r}")
    variable, cell = _headline_cell(resultat, variable, cell)
    return float(np.nanmean(_select(resultat, variable, cell).sel(indice="base").values))


def _select(resultat: xr.Dataset, variable: str, cell: Mapping[str, Any], keep: Sequence[str] = ()) -> xr.DataArray:
    """``variable`` at ``cell`` (missing dims from :func:`default_cell`); InputError for a bad variable,
    dim or value."""
    if variable not in _variables(resultat):
        raise InputError([Problem("sensibilite.nc", "variable", variable, "not an output of this analysis",
                                  ", ".join(_variables(resultat)))])
    da = resultat[variable]
    full = {**default_cell(resultat, variable, keep), **cell}
    problems = []
    for d, v in full.items():
        if d not in da.dims:
            problems.append(Problem("sensibilite.nc", d, v, f"{variable} has no dim {d}",
                                    ", ".join(x for x in da.dims if x not in ("facteur", "indice"))))
        elif d in da.coords and v not in list(da[d].values):
            problems.append(Problem("sensibilite.nc", d, v, f"no such {d}",
                                    ", ".join(str(x) for x in da[d].values)))
    if problems:
        raise InputError(problems)
    sel = {d: v for d, v in full.items() if d in da.coords}
    isel = {d: v for d, v in full.items() if d not in da.coords}
    return da.sel(sel).isel(isel)


def _output_label(resultat: xr.Dataset, variable: str, lang: Lang) -> str:
    return variable_label(variable, lang, resultat[variable].attrs)


def _cell_label(cell: Mapping[str, Any], lang: Lang) -> str:
    parts = []
    if "year" in cell:
        parts.append(str(cell["year"]))
    for d, v in cell.items():
        if d == "year":
            continue
        parts.append(org_label(str(v), lang) if d == "organisme" else f"{d} {v}")
    return (" " + str(cell["year"]) if "year" in cell else "") + "".join(
        f" — {p}" for p in parts[(1 if "year" in cell else 0):])


def source_note(resultat: xr.Dataset, lang: Lang = "fr") -> str:
    """The source line of a sensitivity chart: method, design size, seed, commit and scenario (from the
    Dataset's attrs ``title`` or ``scenario`` and ``git_commit`` when the caller set them)."""
    T = _T(lang)
    a = resultat.attrs
    method = str(a.get("method", ""))
    conf = _percent(float(a.get("conf_level", 0.95)), lang)
    design = T[f"design_{method}"].format(n=format_number(a.get("n", 0), 0, lang),
                                          p=format_number(a.get("n_points", 0), 0, lang), conf=conf)
    seed = T["seed"].format(seed=a["seed"]) if method != "oat" and int(a.get("seed", -1)) >= 0 else ""
    commit = str(a.get("git_commit") or "")
    commit = T["commit"].format(commit=commit[:7]) if commit and commit != "unknown" else ""
    title = a.get("title") or a.get("scenario") or ""
    scenario = T["scenario"].format(s=title) if title else ""
    text = T["source"].format(version=a.get("cogsim_version", ""), method=T.get(f"src_{method}", method), design=design,
                              seed=seed, commit=commit, scenario=scenario)
    if lang == "fr":
        text = text.replace(" :", NNBSP + ":")
    return "\n".join(textwrap.wrap(text, 118, break_on_hyphens=False, break_long_words=False))


def _factor_labels(resultat: xr.Dataset, lang: Lang, width: int = 34) -> list[str]:
    """Factor names wrapped at the dots and @ of parameter paths (never inside a word)."""
    out = []
    for x in resultat["facteur_label"].values:
        parts = re.split(r"(?<=\.)|(?=@)", str(x))
        lines = [""]
        for part in parts:
            if lines[-1] and len(lines[-1]) + len(part) > width:
                lines.append("")
            lines[-1] += part
        out.append("\n".join(lines))
    return out


def _need(resultat: xr.Dataset, methods: Sequence[str], chart: str) -> None:
    method = resultat.attrs.get("method")
    if method not in methods:
        raise InputError([Problem("sensibilite.nc", "method", method, f"no {chart} chart for this method",
                                  " or ".join(methods))])


# ----------------------------------------------------------------------------- charts
@styled
def chart_tornado(resultat: xr.Dataset, variable: str, lang: Lang = "fr", fig: Figure | SubFigure | None = None,
                  source: str | None = None, top: int = 12, **cell: Any) -> Figure | SubFigure:
    """Tornado of a one-at-a-time result for ``variable`` at one cell (``year=2022, organisme="cnaf"``).

    Each factor: a plain bar from the scenario's value of the output to its value with the factor at
    its low value, a hatched bar to its value with the factor at its high value (output units); the
    ``top`` factors with the largest swing, largest on top; each label gives the factor's range and
    base value. ``source`` defaults to :func:`source_note`.
    """
    _need(resultat, ("oat",), "tornado")
    T = _T(lang)
    da = _select(resultat, variable, cell)
    cell = {**default_cell(resultat, variable), **cell}
    low, high = da.sel(indice="low").values.astype(float), da.sel(indice="high").values.astype(float)
    base = float(np.nanmean(da.sel(indice="base").values))
    swing = np.abs(high - low)
    order = [i for i in np.argsort(-np.nan_to_num(swing, nan=-1.0), kind="stable")][:top]
    units = unit_label(unite_indice(resultat, variable, "low"), lang)
    output, where = _output_label(resultat, variable, lang), _cell_label(cell, lang)
    k = len(order)
    fr = frame_axes(fig, 1.45 + 0.36 * k, T["t_tornado"].format(output=output, cell=where),
                source if source is not None else source_note(resultat, lang))
    ax = fr.body.subplots()
    ypos = np.arange(k)[::-1].astype(float)
    names = _factor_labels(resultat, lang)
    lows, highs, bases = (resultat[c].values for c in ("facteur_low", "facteur_high", "facteur_base"))
    labels = []
    for y, i in zip(ypos, order):
        rng = T["range"].format(low=_fmt(lows[i], lang), high=_fmt(highs[i], lang), base=_fmt(bases[i], lang))
        labels.append(f"{names[i]}\n{rng}")
        draw_bars(ax, [y], [low[i] - base], 0.62, bottom=base, horizontal=True, **bar_style(0))
        draw_bars(ax, [y], [high[i] - base], 0.62, bottom=base, horizontal=True, **bar_style(1))
    ax.set_yticks(ypos)
    ax.set_yticklabels(labels, fontsize=6.3)
    ax.set_ylim(-0.6, k - 0.4)
    ax.tick_params(axis="y", length=0)
    ax.grid(True, axis="x")
    ax.grid(False, axis="y")
    ax.axvline(base, color="black", lw=0.8)
    span = np.nanmax(np.abs(np.r_[low[order], high[order]] - base)) if k else 0.0
    nothing = not np.isfinite(span) or span == 0
    if nothing:
        span = max(abs(base) * 0.01, 1.0)
        ax.text(0.5, 0.5, T["none"], transform=ax.transAxes, ha="center", va="center", fontsize=7, color="0.2",
                bbox=dict(facecolor="white", edgecolor="0.6", lw=0.5, boxstyle="round,pad=0.4"), zorder=5)
    ax.set_xlim(base - 1.32 * span, base + 1.32 * span)
    # three significant digits of the largest change (−459, not −458,962)
    decimals = int(min(4, max(0, 2 - math.floor(math.log10(span))))) if span > 0 else 0
    for y, i in zip(ypos, order):  # the change at each bar end, e.g. "−1 500"
        ends = [v for v in (low[i], high[i]) if np.isfinite(v) and v != base]
        if ends and all(abs(v - base) < 0.04 * span for v in ends):  # bars too short for two labels
            v = max(ends, key=lambda e: abs(e - base))
            ends = [v]
        for v in ends:
            ax.text(v + (0.02 * span if v > base else -0.02 * span), y,
                    format_number(v - base, decimals, lang, sign=True), ha="left" if v > base else "right",
                    va="center", fontsize=6, color="0.15")
        if swing[i] == 0 and not nothing:
            ax.text(base + 0.02 * span, y, T["no_effect"], ha="left", va="center", fontsize=6, color="0.35",
                    style="italic")
    ax.xaxis.set_major_formatter(NumberFormatter(lang))
    ax.xaxis.set_major_locator(ticker.MaxNLocator(6))
    shown = output if units in ("", output) else f"{output} ({units})"
    ax.set_xlabel(T["x_tornado"].format(output=shown, base=format_number(base, decimals_needed([base], 2), lang)
                                        + ((NNBSP if lang == "fr" else " ") + units if units else "")))
    fr.legend([Patch(**bar_style(0)), Patch(**bar_style(1))], [T["low"], T["high"]], 2)
    return fr.root


@styled
def chart_indices(resultat: xr.Dataset, variable: str, lang: Lang = "fr", fig: Figure | SubFigure | None = None,
                  source: str | None = None, top: int = 15, **cell: Any) -> Figure | SubFigure:
    """The indices of ``variable`` at one cell. Sobol': S1 (plain) and ST (hatched) bars per factor with
    their confidence intervals, sorted by ST. Morris: μ* (x) against σ (y), one labelled point per
    factor with its μ* confidence interval, and the line σ = μ*. One at a time: the tornado."""
    method = resultat.attrs.get("method")
    if method == "oat":
        return chart_tornado(resultat, variable, lang, fig, source, top, **cell)
    _need(resultat, ("sobol", "morris"), "index")
    T = _T(lang)
    da = _select(resultat, variable, cell)
    cell = {**default_cell(resultat, variable), **cell}
    output, where = _output_label(resultat, variable, lang), _cell_label(cell, lang)
    names = _factor_labels(resultat, lang)
    note = source if source is not None else source_note(resultat, lang)
    conf = _percent(float(resultat.attrs.get("conf_level", 0.95)), lang)
    if method == "sobol":
        s1, s1c, st, stc = (da.sel(indice=k).values.astype(float) for k in ("S1", "S1_conf", "ST", "ST_conf"))
        order = np.argsort(-np.nan_to_num(st, nan=-1.0), kind="stable")[:top]
        k = len(order)
        fr = frame_axes(fig, 1.45 + 0.34 * k, T["t_sobol"].format(output=output, cell=where), note)
        ax = fr.body.subplots()
        ypos = np.arange(k)[::-1].astype(float)
        h = 0.36
        draw_bars(ax, ypos + h / 2, s1[order], h, horizontal=True, **bar_style(0))
        draw_bars(ax, ypos - h / 2, st[order], h, horizontal=True, **bar_style(1))
        err = dict(fmt="none", ecolor="black", elinewidth=0.7, capsize=1.8, capthick=0.7)
        ax.errorbar(s1[order], ypos + h / 2, xerr=s1c[order], **err)
        ax.errorbar(st[order], ypos - h / 2, xerr=stc[order], **err)
        ax.set_yticks(ypos)
        ax.set_yticklabels([names[i] for i in order], fontsize=6.5)
        ax.set_ylim(-0.6, k - 0.4)
        ax.tick_params(axis="y", length=0)
        ax.grid(True, axis="x")
        ax.grid(False, axis="y")
        ax.axvline(0, color="black", lw=0.6)
        hi = np.nanmax(np.r_[st + stc, s1 + s1c, [0.1]])
        lo = np.nanmin(np.r_[s1 - s1c, st - stc, [0.0]])
        ax.set_xlim(min(0.0, lo) - 0.02, min(max(hi * 1.05, 0.1), 1.3))
        ax.xaxis.set_major_formatter(NumberFormatter(lang))
        ax.set_xlabel(T["x_sobol"])
        if not np.isfinite(st).any():
            ax.text(0.5, 0.5, T["constant"], transform=ax.transAxes, ha="center", va="center", fontsize=7)
        fr.legend([Patch(**bar_style(0)), Patch(**bar_style(1)),
                   Line2D([], [], color="black", lw=0.7, marker="|", ms=5)],
                  [T["S1"], T["ST"], T["ci"].format(conf=conf)], 3)
        return fr.root

    mu_star, conf_half, sigma = (da.sel(indice=k).values.astype(float) for k in ("mu_star", "mu_star_conf", "sigma"))
    units = unit_label(unite_indice(resultat, variable, "mu_star"), lang)
    units = f" ({units})" if units else ""
    fr = frame_axes(fig, 4.2, T["t_morris"].format(output=output, cell=where), note)
    ax = fr.body.subplots()
    ax.errorbar(mu_star, sigma, xerr=conf_half, fmt="o", ms=3.6, mfc="white", mec="black", mew=0.9,
                ecolor="0.35", elinewidth=0.7, capsize=1.8, capthick=0.7, zorder=3)
    m = np.nanmax(np.r_[mu_star + np.nan_to_num(conf_half), sigma, [0.0]])
    m = m if np.isfinite(m) and m > 0 else 1.0
    ax.plot([0, 1.15 * m], [0, 1.15 * m], color="0.45", lw=0.8, ls=(0, (4, 2)))
    ax.set_xlim(0, 1.15 * m)
    s_max = np.nanmax(np.r_[sigma, [0.0]])
    ax.set_ylim(0, 1.35 * s_max if s_max > 0.08 * m else 0.12 * m)
    if np.nanmax(np.r_[mu_star, sigma, [0.0]]) > 0:
        _label_points(ax, mu_star, sigma, [n.replace("\n", "") for n in names])
    else:
        ax.text(0.5, 0.5, T["none"], transform=ax.transAxes, ha="center", va="center", fontsize=7, color="0.2",
                bbox=dict(facecolor="white", edgecolor="0.6", lw=0.5, boxstyle="round,pad=0.4"), zorder=5)
    ax.xaxis.set_major_formatter(NumberFormatter(lang))
    ax.yaxis.set_major_formatter(NumberFormatter(lang))
    ax.grid(True, axis="both")
    ax.set_xlabel(T["x_morris"].format(units=units))
    ax.set_ylabel(T["y_morris"].format(units=units))
    fr.legend([Line2D([], [], color="0.35", lw=0.7, marker="o", ms=3.6, mfc="white", mec="black"),
               Line2D([], [], color="0.45", lw=0.8, ls=(0, (4, 2)))],
              [T["ci"].format(conf=conf) + " (μ*)", T["diag"]], 2)
    return fr.root


def chart_headline(resultat: xr.Dataset, lang: Lang = "fr", fig: Figure | SubFigure | None = None,
                   source: str | None = None) -> Figure | SubFigure:
    """The chart of a result's :func:`headline` (the report's ``tornado``): the tornado one at a time, the
    indices with Morris or Sobol' (:func:`chart_indices`)."""
    variable, cell = headline(resultat)
    return chart_indices(resultat, variable, lang, fig, source, **cell)


def _label_points(ax, x: np.ndarray, y: np.ndarray, labels: Sequence[str]) -> None:
    """Label scatter points, each at the first of a list of candidate positions (right then left of
    the point, rising) where it overlaps no earlier label; largest x first; labels of points in the
    right part of the axes go to the left first; a thin leader line when the label is not next to
    its point."""
    root = ax.figure
    root = getattr(root, "figure", root) or root          # the Figure of a SubFigure
    root.draw_without_rendering()                          # positions after the layout
    renderer = root._get_renderer()
    x0, x1 = ax.get_xlim()
    frame = ax.get_window_extent()
    ok = np.isfinite(x) & np.isfinite(y)
    points = {j: Bbox.from_bounds(px - 5, py - 5, 10, 10)          # the other markers are obstacles too
              for j, (px, py) in zip(np.flatnonzero(ok), ax.transData.transform(np.c_[x[ok], y[ok]]))}
    placed: list[Bbox] = []
    rises = (3, 11, 19, 27, 35, 43)
    # points within 3 pixels of each other share one label (e.g. the factors without effect, at 0, 0)
    groups: dict[int, list[int]] = {}
    pix = ax.transData.transform(np.c_[np.nan_to_num(x), np.nan_to_num(y)])
    for i in np.argsort(-np.nan_to_num(x, nan=-np.inf), kind="stable"):
        if not (np.isfinite(x[i]) and np.isfinite(y[i])):
            continue
        lead = next((g for g in groups if np.all(np.abs(pix[g] - pix[i]) <= 3)), None)
        groups.setdefault(i if lead is None else lead, []).append(i)
    for i, members in groups.items():
        text = "\n".join(labels[m] for m in members)
        sides = (-5, 5) if (x[i] - x0) > 0.6 * (x1 - x0) else (5, -5)
        candidates = [(dx, dy) for dy in rises for dx in sides]
        for n, (dx, dy) in enumerate(candidates + [candidates[0]]):
            t = ax.annotate(text, (x[i], y[i]), xytext=(dx, dy), textcoords="offset points", fontsize=6.2,
                            ha="left" if dx > 0 else "right", va="bottom", color="0.1", zorder=4,
                            arrowprops=dict(arrowstyle="-", lw=0.4, color="0.55", shrinkA=0, shrinkB=3,
                                            relpos=(0.0 if dx > 0 else 1.0, 0.0))
                            if dy > rises[0] else None)
            if n == len(candidates):      # every position taken: the first one anyway
                break
            t.update_positions(renderer)
            bb = Text.get_window_extent(t, renderer).expanded(1.03, 1.15)   # the text only, not its leader
            inside = frame.x0 <= bb.x0 and bb.x1 <= frame.x1 + 2 and bb.y1 <= frame.y1
            others = [b for j, b in points.items() if j not in members]
            if inside and not any(bb.overlaps(p) for p in placed + others):
                placed.append(bb)
                break
            t.remove()


@styled
def chart_indices_par_annee(resultat: xr.Dataset, variable: str, lang: Lang = "fr",
                            fig: Figure | SubFigure | None = None, source: str | None = None,
                            indice: str | None = None, top: int = 6, **cell: Any) -> Figure | SubFigure:
    """The sensitivity of ``variable`` per year, for one value of the other dims (``organisme="cnaf"``):
    one line per factor (the ``top`` with the largest value over the years; factors whose index is 0 or
    undefined in every year left out) of ``indice`` — default
    ST (Sobol'), μ* (Morris), |swing| (OAT) — with its confidence band (Sobol', Morris); the years
    where the output does not vary are shaded (indices undefined for Sobol', zero otherwise)."""
    T = _T(lang)
    method = str(resultat.attrs.get("method"))
    if "year" not in resultat[variable].dims:
        raise InputError([Problem("sensibilite.nc", variable, tuple(resultat[variable].dims),
                                  "no dim 'year': no chart by year", "a variable with a dim 'year'")])
    indice = indice or DEFAULT_INDEX.get(method, "")
    if indice not in INDICES.get(method, ()):
        raise InputError([Problem("sensibilite.nc", "indice", indice, f"not an index of a {method} result",
                                  ", ".join(INDICES.get(method, ())))])
    da = _select(resultat, variable, cell, keep=("year",))
    cell = {**default_cell(resultat, variable, keep=("year",)), **cell}
    years = np.asarray(resultat[variable]["year"].values)
    values = da.sel(indice=indice).transpose("facteur", "year").values.astype(float)
    if method == "oat" and indice == "swing":
        values = np.abs(values)
    conf_name = {"ST": "ST_conf", "S1": "S1_conf", "mu_star": "mu_star_conf"}.get(indice)
    half = (da.sel(indice=conf_name).transpose("facteur", "year").values.astype(float)
            if conf_name and conf_name in INDICES[method] else None)
    peak = np.nanmax(np.where(np.isfinite(values), np.abs(values), -1.0), axis=1)
    order = [i for i in np.argsort(-peak, kind="stable") if peak[i] > 0][:top]   # factors with some effect
    output, where = _output_label(resultat, variable, lang), _cell_label(cell, lang)
    what = T.get(f"what_{indice}", indice)
    note = source if source is not None else source_note(resultat, lang)
    names = _factor_labels(resultat, lang, width=60)
    # years where the output does not vary (every factor NaN for Sobol', every value exactly 0 otherwise)
    if method == "sobol":
        flat = ~np.isfinite(values).any(axis=0)
    else:
        flat = np.all(np.nan_to_num(values, nan=0.0) == 0.0, axis=0) & np.isfinite(values).any(axis=0)
    nrows = max(1, (len(order) + int(flat.any()) + int(half is not None) + 1) // 2)
    fr = frame_axes(fig, 3.6 + 0.12 * nrows, T["t_par_annee"].format(what=what, output=output, cell=where), note,
                legend_rows=nrows)
    ax = fr.body.subplots()
    for y in years[flat]:
        ax.axvspan(y - 0.5, y + 0.5, **FLAT)
    handles, labels = [], []
    for j, i in enumerate(order):
        colour, ls, marker = SCENARIO_STYLES[j % len(SCENARIO_STYLES)]
        style = dict(color=colour, ls=ls, marker=marker, ms=3.2, lw=1.1, mfc="white", mew=0.8)
        if half is not None:
            ax.fill_between(years, values[i] - half[i], values[i] + half[i], color=colour, alpha=0.12, lw=0,
                            zorder=1)
        ax.plot(years, values[i], zorder=3, **style)
        handles.append(Line2D([], [], **style))
        labels.append(names[i])
    if flat.any():
        handles.append(Patch(**FLAT))
        labels.append(T["constant"] if method == "sobol" else T["constant_zero"])
    if half is not None:
        handles.append(Patch(facecolor="0.5", alpha=0.25, edgecolor="none"))
        labels.append(T["band"].format(conf=_percent(float(resultat.attrs.get("conf_level", 0.95)), lang)))
    ax.set_xlim(years[0] - 0.5, years[-1] + 0.5)
    year_axis(ax, years, every=1 if len(years) <= 12 else 2)
    ax.yaxis.set_major_formatter(NumberFormatter(lang))
    ax.yaxis.set_major_locator(ticker.MaxNLocator(6, steps=[1, 2, 2.5, 5, 10]))
    if method == "sobol":
        top_y = np.nanmax(np.r_[(values + (half if half is not None else 0))[order].ravel(), [0.1]])
        ax.set_ylim(0, min(1.05, max(0.1, 1.08 * top_y)) if top_y <= 1.05 else 1.08 * top_y)
        ax.set_ylabel(T["x_sobol"])
    else:
        ax.set_ylim(bottom=0)
        units = unit_label(unite_indice(resultat, variable, indice), lang)
        ylabel = what[:1].upper() + what[1:] if what[:1].isascii() else what
        ax.set_ylabel(f"{ylabel} ({units})" if units else ylabel)
    fr.legend(handles, labels, 2)
    return fr.root


# ----------------------------------------------------------------------------- all charts of a result
def write_charts(resultat: xr.Dataset, directory: str | Path, lang: Lang = "fr",
                 cellule: Mapping[str, Any] | None = None, variables: Sequence[str] | None = None,
                 formats: Sequence[str] = FORMATS) -> list[Path]:
    """Draw and save, for every output variable (or ``variables``): ``<var>_tornado`` (OAT) or
    ``<var>_indices`` (Morris, Sobol') at ``cellule`` (default :func:`default_cell`, its dims not in the
    variable ignored), and ``<var>_par_annee`` when the variable has a ``year`` dim (at ``cellule``
    without its year). ``directory`` must exist; returns the files written."""
    _T(lang)
    out: list[Path] = []
    method = resultat.attrs.get("method")
    for v in variables or _variables(resultat):
        dims = resultat[v].dims
        cell = {d: x for d, x in (cellule or {}).items() if d in dims}
        name = f"{v}_tornado" if method == "oat" else f"{v}_indices"
        out += save_figure(chart_indices(resultat, v, lang, **cell), directory, name, title=name, formats=formats)
        if "year" in dims:
            cell.pop("year", None)
            name = f"{v}_par_annee"
            out += save_figure(chart_indices_par_annee(resultat, v, lang, **cell), directory, name, title=name,
                               formats=formats)
    return out


# ----------------------------------------------------------------------------- writing
def ecrire(resultat: xr.Dataset, dossier: str | Path, *, manifest: Mapping[str, Any] | None = None,
           graphiques: bool | Sequence[str] = True, lang: Literal["fr", "en"] = "fr",
           cellule: Mapping[str, Any] | None = None) -> Path:
    """Write a result to ``dossier`` atomically (a temporary folder renamed at the end: a failure leaves
    nothing, an earlier folder of that name is replaced only by a complete one).

    Files: ``sensibilite.nc`` (the Dataset), ``sensibilite.csv`` (:func:`tidy_frame`), ``manifest.json``
    (when given: provenance), and with ``graphiques`` the charts of every output variable (or of the
    variables listed in ``graphiques``: each costs ≈ 0.7 s) in ``charts/``
    (:func:`model.outputs.graphiques_sensibilite.write_charts`: for ``cellule``, by default the last year and
    ``total`` if present; PNG, SVG, PDF).

    Returns
    -------
    pathlib.Path
        ``dossier``.
    """

    dossier = Path(dossier)
    with atomic_dir(dossier, "sensitivity") as tmp:
        ecrire_dans(resultat, tmp, manifest=manifest, graphiques=graphiques, lang=lang, cellule=cellule)
    return dossier


def ecrire_dans(resultat: xr.Dataset, dossier: Path, *, manifest: Mapping[str, Any] | None = None,
                graphiques: bool | Sequence[str] = True, lang: Literal["fr", "en"] = "fr",
                cellule: Mapping[str, Any] | None = None) -> None:
    """The files of :func:`ecrire`, written into an existing folder (a claimed output's temporary one)."""

    tmp = Path(dossier)
    netcdf_safe(resultat).to_netcdf(tmp / "sensibilite.nc", engine="netcdf4")
    tidy_frame(resultat).to_csv(tmp / "sensibilite.csv", index=False, float_format="%.6g")
    if manifest is not None:
        write_json(tmp / "manifest.json", dict(manifest))
    if graphiques:
        (tmp / "charts").mkdir()
        chosen = None if graphiques is True else list(graphiques)
        write_charts(resultat, tmp / "charts", lang=lang, cellule=cellule, variables=chosen)
