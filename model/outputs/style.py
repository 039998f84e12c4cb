"""The look and the frame of every chart: the house style (fonts, sizes, grey-scale friendly fills, line
styles and markers), the frame of a chart (title and panels above a band for the legend and the source
note), year and number axes, bars, and saving a figure as PNG (300 dpi), SVG (text kept as text) and PDF.

Charts are sober and print-friendly: readable in grey scale (hatches, line styles and markers, not colour
alone); each carries a source note naming the run id, the scenario title, the replicates and seed, and
the code commit (:func:`source_note`).
"""

from __future__ import annotations

import functools
import io
import os
import re
import struct
import tempfile
import textwrap
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Sequence

import matplotlib
import numpy as np
# typst embeds the compiler (no system install): it turns each chart's SVG into its PDF and PNG
import typst
from matplotlib import ticker
from matplotlib.figure import Figure, SubFigure
from matplotlib.layout_engine import ConstrainedLayoutEngine
from matplotlib.patches import PathPatch
from matplotlib.path import Path as MplPath

from model.outputs.lecture_run import Run
from model.outputs.libelles import Lang, labels_for
from model.outputs.nombres import NNBSP, NumberFormatter

FORMATS: tuple[str, ...] = ("png", "svg", "pdf")
DPI = 300
LARGEUR = 6.3         # inches: 16 cm, the text width of an A4 note

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
    "rsi": ("#a0522d", (0, (6, 2)), "X"), "regime_general": ("#000000", "-", None),
    "total": ("#000000", "-", None)}
SCENARIO_STYLES: tuple[tuple[str, str, str], ...] = (
    ("#000000", "-", "o"), ("#4d6f99", "--", "s"), ("#8c6d3f", ":", "^"), ("#7a7a7a", "-.", "D"),
    ("#1f3552", (0, (5, 1, 1, 1)), "v"), ("#9a9a9a", (0, (1, 2)), "P"))
FAN = ("#9fabbb", 0.55)   # fan fill colour, alpha (visible at print size, under a black line)


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
class Frame:
    """A chart's frame: ``body`` (title and panels) above ``foot`` (legend and source note)."""

    root: Figure | SubFigure
    body: SubFigure
    foot: SubFigure

    def legend(self, handles, labels, ncols: int) -> None:
        self.foot.legend(handles, labels, loc="upper center", ncols=ncols, handlelength=3.0,
                         columnspacing=1.6, borderaxespad=0.1, borderpad=0.1, handleheight=0.9)


def frame_axes(fig: Figure | SubFigure | None, height: float, title: str, note: str,
               legend_rows: int = 1) -> Frame:
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
    return Frame(fig, body, foot)


def year_axis(ax, years: np.ndarray, every: int = 1) -> None:
    """Ticks at every ``every``-th year counted back from the last (always labelled: the horizon's end is
    the year a planner reads first), labelled in full; no vertical grid."""
    shown = np.asarray(years)[::-1][::every][::-1]
    ax.set_xticks(shown)
    ax.set_xticklabels([str(int(y)) for y in shown])
    ax.tick_params(axis="x", length=2, rotation=0)
    ax.grid(False, axis="x")


def number_axis(ax, lang: Lang, percent: bool = False, sign: bool = False) -> None:
    """The y axis in the note's number format (:class:`~model.outputs.nombres.NumberFormatter`)."""
    ax.yaxis.set_major_formatter(NumberFormatter(lang, percent=percent, sign=sign))
    ax.yaxis.set_major_locator(ticker.MaxNLocator(7 if percent else 5, steps=[1, 2, 2.5, 5, 10]))


def bar_style(i: int) -> dict[str, Any]:
    """Fill, hatch and edge of the ``i``-th bar series (:data:`FILLS`, cycled)."""
    colour, hatch = FILLS[i % len(FILLS)]
    return {"facecolor": colour, "hatch": hatch, "edgecolor": "0.15", "linewidth": 0.4}


def styled(draw: Callable[..., Any]) -> Callable[..., Any]:
    """Run a chart function inside the kit's style (fonts, sizes, grey-scale friendly defaults)."""

    @functools.wraps(draw)
    def wrapper(*args, **kwargs):
        with matplotlib.rc_context(STYLE):
            return draw(*args, **kwargs)
    return wrapper


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
        rects.append(MplPath([(x0, y0), (x1, y0), (x1, y1), (x0, y1), (x0, y0)],
                              [MplPath.MOVETO, MplPath.LINETO, MplPath.LINETO, MplPath.LINETO,
                               MplPath.CLOSEPOLY]))
    if not rects:
        return None
    patch = PathPatch(MplPath.make_compound_path(*rects), **style)
    ax.add_patch(patch)
    verts = patch.get_path().vertices
    ax.update_datalim(verts)
    ax.autoscale_view()
    return patch


def font_paths() -> list[str]:
    """The folders of the charts' and the note's fonts: matplotlib's own (DejaVu Sans)."""
    return [os.path.join(matplotlib.get_data_path(), "fonts", "ttf")]


# processes that have started Typst: its compiler runs native threads, and a process forked after that
# would wait forever for them (the report's workers fork only from a process where Typst has not run)
_TYPST_PIDS: set[int] = set()


def typst_compiler(source: str | Path, root: str | Path, inputs: dict[str, str]) -> "typst.Compiler":
    """A Typst compiler of ``source`` with the charts' fonts only; records that this process runs Typst."""
    _TYPST_PIDS.add(os.getpid())
    return typst.Compiler(str(source), root=str(root), font_paths=font_paths(), ignore_system_fonts=True,
                          sys_inputs=inputs)


def can_fork_workers() -> bool:
    """May this process fork workers that use Typst (it has not started Typst's threads itself)?"""
    return os.getpid() not in _TYPST_PIDS


# a page exactly the size of a chart's SVG, the SVG on it: Typst turns it into PDF and PNG
_PAGE = ('#set document(title: sys.inputs.title, author: "cogsim", date: none)\n'
         '#set page(width: {w}pt, height: {h}pt, margin: 0pt, fill: white)\n'
         '#image(bytes(sys.inputs.svg), format: "svg", width: 100%)\n')


def _png_with_dpi(png: bytes, dpi: int, title: str) -> bytes:
    """``png`` with its resolution (pHYs) and a title and software note (tEXt) after the header."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    ppm = round(dpi / 0.0254)
    extra = chunk(b"pHYs", struct.pack(">IIB", ppm, ppm, 1)) + chunk(b"tEXt", b"Software\x00cogsim")
    if title:
        extra += chunk(b"tEXt", b"Title\x00" + title.encode("latin-1", "replace"))
    end_of_header = 8 + 4 + 4 + 13 + 4  # signature, IHDR length, type, data, CRC
    return png[:end_of_header] + extra + png[end_of_header:]


def save_figure(fig: Figure, directory: str | Path, name: str, title: str = "",
                formats: Sequence[str] = FORMATS) -> list[Path]:
    """Save ``fig`` as ``directory/name.{png,svg,pdf}``: SVG with its text kept as text (searchable,
    editable), then PDF (fonts embedded) and PNG at 300 dpi made from that SVG by Typst — the three files
    show the same drawing, and matplotlib renders the figure once instead of three times (a third of the
    CPU of a report). Metadata carry ``title`` and no date, so the files are reproducible.
    """
    directory = Path(directory)
    with matplotlib.rc_context(STYLE):
        if isinstance(fig.get_layout_engine(), ConstrainedLayoutEngine):
            fig.draw_without_rendering()
            fig.set_layout_engine(None)  # positions kept; no layout (and no extra draw) at each save
        buf = io.StringIO()
        fig.savefig(buf, format="svg", metadata={"Title": title, "Date": None, "Creator": "cogsim"},
                    facecolor="white")
    svg = buf.getvalue()
    made: dict[str, bytes] = {"svg": svg.encode("utf-8")}
    if {"png", "pdf"} & set(formats):
        w, h = (float(v) for v in re.search(r'width="([\d.]+)pt" height="([\d.]+)pt"', svg).groups())
        with tempfile.TemporaryDirectory() as tmp:
            page = Path(tmp) / "chart.typ"
            page.write_text(_PAGE.format(w=w, h=h), encoding="utf-8")
            compiler = typst_compiler(page, tmp, {"svg": svg, "title": title or name})
            if "pdf" in formats:
                made["pdf"] = compiler.compile(format="pdf")
            if "png" in formats:
                made["png"] = _png_with_dpi(compiler.compile(format="png", ppi=DPI), DPI, title)
    paths = []
    for fmt in formats:
        p = directory / f"{name}.{fmt}"
        p.write_bytes(made[fmt])
        paths.append(p)
    return paths
