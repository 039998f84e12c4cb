"""Charts of a sweep, drawn from its saved Dataset only (``OUT/sweep.zarr``, :func:`model.analysis.sweep.open_sweep`).

Same conventions as :mod:`model.outputs.graphiques`: French by default (decimal comma, narrow no-break
spaces, "M€"), English with ``lang="en"``; print-friendly; a source note naming the sweep, its points,
replicates, seed, commit and scenario; saved as PNG (300 dpi), SVG and PDF by
:func:`model.outputs.style.save_figure`.

One chart per headline variable (:data:`VARIABLES`, those the sweep kept), at the last year of the
horizon, for the organisme the swept parameters concern (the first organisme an axis names; the
Ensemble when the axes name none):

=================  ==========================================================================================
one swept axis     a line chart: the mean over the replicates against the axis, its 90 % band (5th–95th
                   centiles over the replicates), the COG target as a dashed line where one exists
two swept axes     a heatmap of the mean (values written in the cells of small grids), with the line where
                   the mean equals the COG target (its contour) where a target exists and the grid crosses it
more axes          small multiples: one heatmap of the first two axes per value of the others (their
                   extreme and middle values, at most :data:`PANNEAUX_MAX` panels), one colour scale
=================  ==========================================================================================
"""

from __future__ import annotations

import itertools
import math
import textwrap
from pathlib import Path

import numpy as np
import xarray as xr
from matplotlib import colormaps
from matplotlib.colors import Normalize
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from model.outputs.libelles import Lang, cible_label, org_label, table, unit_label, variable_label
from model.outputs.nombres import NNBSP, NumberFormatter, format_number
from model.outputs.style import FAN, frame_axes, number_axis, save_figure, styled
from model.outputs.sweep_tableaux import axe_info, axe_label, axes_du_sweep, ordre
from model.outputs.texte import court
from model.results.cibles import CIBLES, Cible

VARIABLES: tuple[str, ...] = ("etpma", "masse_salariale", "depenses_limitatives")
PANNEAUX_MAX = 9
CELLULES_ECRITES = 144  # a heatmap writes its values in the cells up to this many cells
CMAP = "cividis"  # sequential, readable in grey scale and by colour-blind readers


# ----------------------------------------------------------------------------- what to draw
def organisme_du_sweep(ds: xr.Dataset) -> str:
    """The organisme the swept parameters concern: the first one an axis names, else ``total``."""
    orgs = [str(o) for o in ds["organisme"].values]
    for a in axes_du_sweep(ds):
        for p in axe_info(ds, a).get("parameters") or []:
            parts = p.split(".")
            if parts[0] == "organismes" and len(parts) > 2 and parts[1] in orgs:
                return parts[1]
    return "total" if "total" in orgs else orgs[-1]


def variables_du_sweep(ds: xr.Dataset) -> list[str]:
    """The headline variables the sweep kept (:data:`VARIABLES`); without any, its first variable in the
    tables' order (:func:`~model.outputs.sweep_tableaux.ordre`)."""
    kept = [v for v in VARIABLES if v in ds.data_vars]
    if kept:
        return kept
    others = ordre([str(v) for v in ds.data_vars if "statistique" in ds[v].dims])
    return others[:1]


def chart_names(ds: xr.Dataset) -> list[str]:
    """The names of the charts :func:`draw_sweep_charts` draws for ``ds``."""
    kind = {1: "ligne", 2: "carte"}.get(len(axes_du_sweep(ds)), "multiples")
    return [f"balayage_{kind}_{v}" for v in variables_du_sweep(ds)]


def cible_de(ds: xr.Dataset, variable: str, organisme: str, year: int) -> tuple[Cible, np.ndarray] | None:
    """The COG target of ``variable`` at (organisme, year): the target (:data:`~model.results.cibles.CIBLES`)
    and its value at every grid point (the mean of its reference variable), or None when the sweep has
    none there."""
    for c in CIBLES:
        if c.variable != variable or c.reference not in ds.data_vars:
            continue
        ref = ds[c.reference].sel(organisme=organisme, year=year, statistique="moyenne")
        values = np.asarray(ref.transpose(*axes_du_sweep(ds)).values, float)
        if c.zero_sans_cible:
            values = np.where(values == 0, np.nan, values)
        if np.isfinite(values).any():
            return c, values
    return None


def source_note(ds: xr.Dataset, lang: Lang = "fr") -> str:
    """The source line of a sweep's chart."""
    T = table(lang)["balayage"]
    axes = axes_du_sweep(ds)
    points = math.prod(ds.sizes[a] for a in axes) if axes else 1
    mode = (T["n_rep"].format(n=ds.attrs.get("replicates", "?"), seed=ds.attrs.get("seed", "?"))
            if ds.attrs.get("mode") != "deterministic" else T["det"])
    commit = str(ds.attrs.get("git_commit") or "")
    commit = T["commit"].format(commit=commit[:7]) if commit and commit != "unknown" else ""
    text = T["source_note"].format(version=ds.attrs.get("cogsim_version", ""), titre=court(ds.attrs.get("title", "")),
                                   points=format_number(points, 0, lang), mode=mode, commit=commit,
                                   scenario=Path(str(ds.attrs.get("scenario", ""))).name)
    if lang == "fr":
        text = text.replace(" :", NNBSP + ":")
    return "\n".join(textwrap.wrap(text, 118, break_on_hyphens=False, break_long_words=False))


def _valeurs_axe(ds: xr.Dataset, name: str) -> np.ndarray:
    v = np.asarray(ds[name].values)
    return v.astype(float) if np.issubdtype(v.dtype, np.number) else np.arange(len(v), dtype=float)


def _unite(ds: xr.Dataset, variable: str, lang: Lang) -> str:
    return unit_label(ds[variable].attrs.get("units"), lang)


def _titre(ds, key: str, variable: str, organisme: str, year: int, lang: Lang, **extra) -> str:
    T = table(lang)["balayage"]
    return T[key].format(variable=variable_label(variable, lang, ds[variable].attrs), org=org_label(organisme, lang),
                         annee=year, **extra)


def _fmt_cible(c: Cible, values: np.ndarray, unit: str, lang: Lang) -> str:
    """"Plafond d'emplois (32 826 ETPMA)", or its range over the grid when the target moves with the point."""
    T = table(lang)["balayage"]
    lo, hi = float(np.nanmin(values)), float(np.nanmax(values))
    d = 0 if max(abs(lo), abs(hi)) >= 100 else 2
    if format_number(lo, d, lang) == format_number(hi, d, lang):
        v = f"{format_number(lo, d, lang)} {unit}".strip()
    else:
        v = " ".join(T["de_a"].format(a=format_number(lo, d, lang), b=format_number(hi, d, lang), u=unit).split())
    return T["cible"].format(cible=cible_label(c.code, lang), v=v)


def _tick(v: float, lang: Lang) -> str:
    """A swept value as a tick label: at most 3 decimals, no trailing zeros."""
    text = format_number(v, 3, lang)
    sep = "," if lang == "fr" else "."
    return text.rstrip("0").rstrip(sep) if sep in text else text


# ----------------------------------------------------------------------------- one axis: a line and its band
@styled
def chart_ligne(ds: xr.Dataset, variable: str, organisme: str | None = None, lang: Lang = "fr",
                fig: Figure | None = None) -> Figure:
    """The mean of ``variable`` at the last year against the one swept axis, with its 90 % band and the COG
    target where one exists."""
    (axe,) = axes_du_sweep(ds)
    org = organisme or organisme_du_sweep(ds)
    year = int(ds["year"].values[-1])
    T = table(lang)["balayage"]
    da = ds[variable].sel(organisme=org, year=year)
    x = _valeurs_axe(ds, axe)
    mean, lo, hi = (np.asarray(da.sel(statistique=s).values, float) for s in ("moyenne", "p05", "p95"))
    unit = _unite(ds, variable, lang)
    frame = frame_axes(fig, 3.4, _titre(ds, "t_carte", variable, org, year, lang), source_note(ds, lang))
    ax = frame.body.subplots()
    handles, labels = [], []
    if ds.attrs.get("mode") != "deterministic" and np.isfinite(hi - lo).any():
        ax.fill_between(x, lo, hi, color=FAN[0], alpha=FAN[1], linewidth=0)
        ax.plot(x, lo, color="0.55", linewidth=0.5)
        ax.plot(x, hi, color="0.55", linewidth=0.5)
        handles.append(Patch(facecolor=FAN[0], alpha=FAN[1], edgecolor="0.55", linewidth=0.5))
        labels.append(T["bande"])
    (line,) = ax.plot(x, mean, color="#1f3552", marker="o", markersize=3.5)
    handles.insert(0, line)
    labels.insert(0, T["moyenne"])
    cible = cible_de(ds, variable, org, year)
    if cible is not None:
        ax.plot(x, cible[1], color="0.1", linestyle="--", linewidth=1.0)
        handles.append(Line2D([], [], color="0.1", linestyle="--", linewidth=1.0))
        labels.append(_fmt_cible(cible[0], cible[1], unit, lang))
    ax.set_xlabel(axe_label(ds, axe, lang))
    ax.set_ylabel(unit)
    number_axis(ax, lang)
    _ticks(ax.xaxis, x, lang)
    ax.grid(True, axis="x", color="0.93", linewidth=0.4)
    frame.legend(handles, labels, ncols=len(handles))
    return frame.root


# ----------------------------------------------------------------------------- two axes: a heatmap
def _edges(v: np.ndarray) -> np.ndarray:
    if len(v) == 1:
        return np.array([v[0] - 0.5, v[0] + 0.5])
    mid = (v[1:] + v[:-1]) / 2
    return np.concatenate([[v[0] - (mid[0] - v[0])], mid, [v[-1] + (v[-1] - mid[-1])]])


def _ticks(axis, values: np.ndarray, lang: Lang, most: int = 12) -> None:
    """Ticks at the swept values (up to ``most`` of them; else evenly chosen ones), labelled by :func:`_tick`."""
    shown = values if len(values) <= most else values[_choisis(len(values), min(most, 6))]
    axis.set_ticks(shown, [_tick(v, lang) for v in shown])


def _carte(ax, x, y, z, norm, cmap, cible: np.ndarray | None, write_values: bool, lang: Lang, most: int = 12):
    """One heatmap panel: z has shape (len(x), len(y)); returns the mesh and whether a contour was drawn."""
    mesh = ax.pcolormesh(_edges(x), _edges(y), z.T, cmap=cmap, norm=norm, shading="flat", edgecolors="white",
                         linewidth=0.3)
    drawn = False
    if cible is not None:
        gap = z - cible
        if np.isfinite(gap).any() and np.nanmin(gap) < 0 < np.nanmax(gap) and min(len(x), len(y)) >= 2:
            ax.contour(x, y, gap.T, levels=[0.0], colors="white", linewidths=2.6)
            ax.contour(x, y, gap.T, levels=[0.0], colors="black", linewidths=1.2, linestyles="--")
            drawn = True
    if write_values:
        decimals = 0 if np.nanmax(np.abs(z)) >= 100 else 2
        for i, xi in enumerate(x):
            for j, yj in enumerate(y):
                if not np.isfinite(z[i, j]):
                    continue
                light = norm(z[i, j]) < 0.55
                ax.text(xi, yj, format_number(z[i, j], decimals, lang), ha="center", va="center", fontsize=5.5,
                        color="white" if light else "black")
    _ticks(ax.xaxis, x, lang, most)
    _ticks(ax.yaxis, y, lang)
    ax.grid(False)
    ax.tick_params(length=2)
    return mesh, drawn


def _legende_cible(cible, z: np.ndarray, variable_unit: str, drawn: bool, lang: Lang):
    """The legend entry of the target: its contour, or (not crossed on the grid) whether it is met everywhere
    or nowhere."""
    T = table(lang)["balayage"]
    if cible is None:
        return [], []
    c, values = cible
    label = _fmt_cible(c, values, variable_unit, lang)
    if drawn:
        return [Line2D([], [], color="black", linestyle="--", linewidth=1.2)], [f"{T['contour']} — {label}"]
    gap = z - values
    met = (gap <= 0) if c.sens == "<=" else (gap >= 0)
    met = met[np.isfinite(gap)]
    where = (T["partout"] if met.all() else T["nulle_part"] if not met.any() else
             T["en_partie"].format(k=int(met.sum()), n=met.size))
    return [Line2D([], [], color="none")], [f"{label}{' :' if lang == 'fr' else ':'} {where}"]


@styled
def chart_carte(ds: xr.Dataset, variable: str, organisme: str | None = None, lang: Lang = "fr",
                fig: Figure | None = None) -> Figure:
    """A heatmap of the mean of ``variable`` at the last year over the two swept axes, with the contour where
    it equals the COG target."""
    ax1, ax2 = axes_du_sweep(ds)
    org = organisme or organisme_du_sweep(ds)
    year = int(ds["year"].values[-1])
    z = np.asarray(ds[variable].sel(organisme=org, year=year, statistique="moyenne").transpose(ax1, ax2).values,
                   float)
    x, y = _valeurs_axe(ds, ax1), _valeurs_axe(ds, ax2)
    unit = _unite(ds, variable, lang)
    cible = cible_de(ds, variable, org, year)
    frame = frame_axes(fig, 4.2, _titre(ds, "t_carte", variable, org, year, lang), source_note(ds, lang))
    ax = frame.body.subplots()
    norm = Normalize(np.nanmin(z), np.nanmax(z)) if np.isfinite(z).any() else Normalize(0, 1)
    mesh, drawn = _carte(ax, x, y, z, norm, colormaps[CMAP], None if cible is None else cible[1],
                         z.size <= CELLULES_ECRITES, lang)
    ax.set_xlabel("\n".join(textwrap.wrap(axe_label(ds, ax1, lang), 70)))
    ax.set_ylabel("\n".join(textwrap.wrap(axe_label(ds, ax2, lang), 45)))
    bar = frame.body.colorbar(mesh, ax=ax, shrink=0.9, pad=0.02)
    bar.set_label(f"{variable_label(variable, lang, ds[variable].attrs)} ({unit})" if unit else
                  variable_label(variable, lang, ds[variable].attrs))
    bar.formatter = NumberFormatter(lang)
    bar.update_ticks()
    handles, labels = _legende_cible(cible, z, unit, drawn, lang)
    if handles:
        frame.legend(handles, labels, ncols=1)
    return frame.root


# ----------------------------------------------------------------------------- more axes: small multiples
def _choisis(n: int, k: int) -> list[int]:
    """At most ``k`` indices out of ``n``: the ends and evenly spaced ones between (``k=3``: first, middle, last)."""
    if n <= k:
        return list(range(n))
    return sorted(set(int(round(i)) for i in np.linspace(0, n - 1, k)))


@styled
def chart_multiples(ds: xr.Dataset, variable: str, organisme: str | None = None, lang: Lang = "fr",
                    fig: Figure | None = None) -> Figure:
    """Small multiples: one heatmap of the first two swept axes per value of the others (extreme and middle
    values, at most :data:`PANNEAUX_MAX` panels), one colour scale, the COG target's contour in each."""
    axes = axes_du_sweep(ds)
    ax1, ax2, others = axes[0], axes[1], axes[2:]
    org = organisme or organisme_du_sweep(ds)
    year = int(ds["year"].values[-1])
    T = table(lang)["balayage"]
    per_axis = max(1, int(math.floor(PANNEAUX_MAX ** (1 / len(others)))))
    picks = [_choisis(ds.sizes[a], 3 if per_axis >= 3 else per_axis) for a in others]
    combos = list(itertools.product(*picks))[:PANNEAUX_MAX]
    total = math.prod(ds.sizes[a] for a in others)
    da = ds[variable].sel(organisme=org, year=year, statistique="moyenne").transpose(ax1, ax2, *others)
    full = np.asarray(da.values, float)
    cible = cible_de(ds, variable, org, year)
    x, y = _valeurs_axe(ds, ax1), _valeurs_axe(ds, ax2)
    unit = _unite(ds, variable, lang)
    ncols = min(3, len(combos))
    nrows = math.ceil(len(combos) / ncols)
    note = source_note(ds, lang)
    omis = T["panneaux_omis"].format(k=len(combos), n=total) + "." if len(combos) < total else ""
    letters = "abcdefgh"
    named = (axe_label(ds, others[0], lang) if len(others) == 1 else
             " ; ".join(f"({letters[i]}) {axe_label(ds, a, lang)}" for i, a in enumerate(others)))
    note = "\n".join(textwrap.wrap(T["panneaux"].format(axes=named) + (". " + omis if omis else ""), 118)) + "\n" + note
    frame = frame_axes(fig, 1.4 + 2.0 * nrows, _titre(ds, "t_carte", variable, org, year, lang), note)
    grid = frame.body.subplots(nrows, ncols, squeeze=False, sharex=True, sharey=True)
    norm = Normalize(np.nanmin(full), np.nanmax(full)) if np.isfinite(full).any() else Normalize(0, 1)
    mesh, any_drawn = None, False
    for k, combo in enumerate(combos):
        ax = grid[k // ncols][k % ncols]
        z = full[(slice(None), slice(None), *combo)]
        c = None if cible is None else cible[1][(slice(None), slice(None), *combo)]
        mesh, drawn = _carte(ax, x, y, z, norm, colormaps[CMAP], c, z.size <= 36, lang, most=5 if ncols > 1 else 12)
        any_drawn |= drawn
        ax.set_title(_tick(_valeurs_axe(ds, others[0])[combo[0]], lang) if len(others) == 1 else
                     " · ".join(f"({letters[i]}) {_tick(_valeurs_axe(ds, a)[j], lang)}"
                                for i, (a, j) in enumerate(zip(others, combo))), fontsize=7, fontweight="normal")
    for k in range(len(combos), nrows * ncols):
        grid[k // ncols][k % ncols].set_visible(False)
    frame.body.supylabel("\n".join(textwrap.wrap(axe_label(ds, ax2, lang), 45)), fontsize=7)
    frame.body.supxlabel("\n".join(textwrap.wrap(axe_label(ds, ax1, lang), 90)), fontsize=7)
    bar = frame.body.colorbar(mesh, ax=grid.ravel().tolist(), shrink=0.9, pad=0.02)
    bar.set_label(f"{variable_label(variable, lang, ds[variable].attrs)} ({unit})" if unit else
                  variable_label(variable, lang, ds[variable].attrs))
    bar.formatter = NumberFormatter(lang)
    bar.update_ticks()
    handles, labels = _legende_cible(cible, full, unit, any_drawn, lang)
    if handles:
        frame.legend(handles, labels, ncols=1)
    return frame.root


# ----------------------------------------------------------------------------- all of them
def draw_sweep_charts(ds: xr.Dataset, directory: str | Path, lang: Lang = "fr",
                      organisme: str | None = None) -> list[Path]:
    """Draw the charts of a sweep into ``directory`` (a folder being written: a claim's temporary folder) as
    ``balayage_<kind>_<variable>.{png,svg,pdf}``; returns the files written. No chart without a swept axis."""
    axes = axes_du_sweep(ds)
    if not axes:
        return []
    draw = chart_ligne if len(axes) == 1 else chart_carte if len(axes) == 2 else chart_multiples
    paths: list[Path] = []
    for name, v in zip(chart_names(ds), variables_du_sweep(ds)):
        fig = draw(ds, v, organisme, lang)
        paths += save_figure(fig, directory, name, title=name)
    return paths


__all__ = ["VARIABLES", "chart_ligne", "chart_carte", "chart_multiples", "draw_sweep_charts", "chart_names",
           "organisme_du_sweep", "variables_du_sweep", "cible_de", "source_note"]
