"""The ``compare`` deliverable: charts, a differences table, a workbook and a PDF note comparing saved runs.

``write_comparison([REF, VAR, ...], organisme=None, out=None, lang="fr")`` writes a folder (default: beside
the reference run, ``comparaison_<ref>_<var>...``; replaced whole, atomically, only if cogsim wrote it):

* ``ecarts.csv``: every difference "variante − référence" by indicator × organisme (and the published
  totals) × year (:func:`model.outputs.comparaison.table_ecarts`);
* ``comparaison.xlsx``: the workbook (:mod:`model.outputs.classeur_comparaison`);
* ``comparaison_<chart>_<perimeter>.{png,svg,pdf}``: the charts (:mod:`model.outputs.graphiques_comparaison`)
  for the organisme asked for, or for the régime général and the whole when none is;
* ``comparaison_note.pdf``: the note (:mod:`model.outputs.note_comparaison`, template
  ``modeles/note_comparaison.typ``), the charts embedded as the very SVG files written beside it.

Everything is read from the saved runs, never re-run. The charts are drawn by two forked worker processes
where the platform can fork, the workbook and table in the parent meanwhile.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import signal
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Sequence

from model.outputs import graphiques_comparaison as gc
from model.outputs.classeur_comparaison import write_workbook
from model.outputs.comparaison import Comparaison, check_organisme, comparer, ecrire_csv, table_ecarts
from model.outputs.lecture_run import load_run
from model.outputs.note import MODELES, typeset
from model.outputs.note_comparaison import content
from model.outputs.style import can_fork_workers, save_figure
from model.params.errors import InputError, Problem
from model.results.writers import atomic_dir, check_target

TEMPLATE = MODELES / "note_comparaison.typ"
NOTE = "comparaison_note.pdf"
WORKBOOK = "comparaison.xlsx"
TABLE = "ecarts.csv"
DEFAULT_PERIMETRES = ("regime_general", "total")


def default_out(run_dirs: Sequence[str | Path], run_ids: Sequence[str]) -> Path:
    """Beside the reference run: ``comparaison_<ref>_<var>[_<var>...]``."""
    return Path(run_dirs[0]).parent / ("comparaison_" + "_".join(run_ids))


def perimetres_of(organisme: str | None) -> tuple[str, ...]:
    """The perimeters drawn: the organisme asked for, else the régime général and the whole."""
    return (organisme,) if organisme else DEFAULT_PERIMETRES


def write_comparison(run_dirs: Sequence[str | Path], organisme: str | None = None, out: str | Path | None = None,
                     lang: str = "fr", workers: int | None = None) -> Path:
    """Compare saved runs (the first is the reference) and write the folder described in the module
    docstring; returns it.

    Raises
    ------
    InputError
        Every problem at once: fewer than two runs, a folder that is not a cogsim run, the same run twice,
        no year in common, an unknown organisme or language, an output folder cogsim may not replace.
    """
    problems: list[Problem] = []
    if lang not in ("fr", "en"):
        problems.append(Problem("arguments", "lang", lang, "unknown language", "fr, en"))
    runs = []
    for d in run_dirs:
        try:
            runs.append(load_run(d))
        except InputError as exc:
            problems += exc.problems
    if problems:
        raise InputError(problems)
    comp = comparer(runs)
    check_organisme(comp, organisme)
    target = Path(out) if out is not None else default_out(run_dirs, [r.run_id for r in runs])
    check_target(target, "comparaison", "out")
    perimetres = perimetres_of(organisme)
    charts = gc.chart_names(comp, perimetres)
    with atomic_dir(target, "comparaison") as tmp:
        _draw_all(comp, charts, tmp, lang, workers)
        rows = table_ecarts(comp, lang)
        ecrire_csv(rows, tmp / TABLE, lang)
        write_workbook(comp, rows, perimetres, tmp / WORKBOOK, lang)
        data = content(comp, perimetres, [stem for stem, _, _ in charts], lang)
        typeset(data, {stem: tmp / f"{stem}.svg" for stem, _, _ in charts}, tmp / NOTE, template=TEMPLATE)
    return target


# ----------------------------------------------------------------------------- charts, in two processes
_STATE: tuple[Comparaison, Path, str] | None = None


def _chart_job(stem: str, chart: str, perimetre: str) -> list[str]:
    assert _STATE is not None  # set before the workers fork (internal invariant, not user input)
    comp, out, lang = _STATE
    fig = gc.draw(chart, comp, perimetre, lang)
    return [p.name for p in save_figure(fig, out, stem, title=f"{stem} — {comp.reference.run_id}")]


def _draw_all(comp: Comparaison, charts, out: Path, lang: str, workers: int | None) -> None:
    global _STATE

    _STATE = (comp, out, lang)
    try:
        n = workers if workers is not None else min(2, os.cpu_count() or 1)
        if n <= 1 or len(charts) <= 1 or "fork" not in mp.get_all_start_methods() or not can_fork_workers():
            for job in charts:
                _chart_job(*job)
            return
        with ProcessPoolExecutor(max_workers=n, mp_context=mp.get_context("fork"), initializer=_worker_init) as pool:
            futures = [pool.submit(_chart_job, *job) for job in charts]
            try:
                for f in futures:
                    f.result()
            except BaseException:
                for f in futures:
                    f.cancel()
                raise
    finally:
        _STATE = None


def _worker_init() -> None:
    """Workers leave Ctrl-C and SIGTERM to the parent, which removes the temporary folder."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
