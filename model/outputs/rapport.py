"""The ``report`` command: charts, a PDF note and an XLSX workbook from a saved run.

``cogsim report RUN_DIR [--lang fr|en] [--compare RUN_DIR ...]`` writes ``RUN_DIR/report/``:

* the charts of :mod:`model.outputs.graphiques` as ``<run-id>_<chart>.{png,svg,pdf}`` (plus ``comparaison``
  with ``--compare``, and ``tornado`` when ``RUN_DIR/sensibilite.nc`` exists: a result of ``cogsim
  sensitivity`` copied there, drawn at its headline cell);
* the fit charts of :mod:`model.outputs.graphiques_ajustement` (``ajustement_*``): the published figures of
  ``calibration/observations`` against the run, with the COG target paths;
* ``<run-id>_note.pdf``: an A4 note of a few pages — the scenario and its assumptions in plain
  language (from the manifest), the key figures and their reading, the uncertainty and the top drivers
  when a sensitivity result is there, the charts, the fit to the published figures (:mod:`model.outputs.note`,
  typeset by Typst from the template ``model/outputs/modeles/note.typ``);
* ``<run-id>_tableaux.xlsx``: a workbook to paste from (:mod:`model.outputs.classeur`).

The observation tables are project data, not an argument of the report: when their folder (or every
``*.csv`` in it) is missing — a copy of cogsim without its ``calibration`` folder — the report is written
without the fit charts and its note says so; a file that is there but unreadable or invalid is bad input
(exit 2, naming the file, row and column, before anything is written), as for ``cogsim calibrate``: a fit
drawn from silently dropped figures would mislead, and someone who edited a table wants to hear of it.

Everything is drawn from the saved run (``results.nc`` + ``manifest.json``), never by re-running, and
written to a temporary folder renamed into place at the end (:func:`model.results.writers.atomic_dir`): a
failure leaves the previous report, or nothing, never half a report.

How it is made, and why it is fast enough: the charts and the workbook are independent jobs run by two
forked worker processes where the platform can fork (else one after the other); then the note is
compiled by Typst with each chart's SVG file embedded as vectors, so a chart is drawn once and the note's
charts are the very files attached beside it.

This module imports matplotlib only when a report is made, so registering the command is cheap.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import signal
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Sequence

from model.analysis.sensibilite_resultat import lire
from model.outputs import graphiques as g
from model.outputs.classeur import write_workbook
from model.outputs.graphiques_ajustement import charger_observations
from model.outputs.note import SENSITIVITY_FILE, TEXTS, chart_names, draw_chart, write_note
from model.outputs.style import can_fork_workers
from model.params.errors import InputError, Problem
from model.results.writers import atomic_dir

__all__ = ["CHARTS_DIR", "REPORT_DIR", "SENSITIVITY_FILE", "TEXTS", "chart_names", "draw_charts", "write_note",
           "write_report", "write_workbook"]

REPORT_DIR = "report"
CHARTS_DIR = "charts"


# ----------------------------------------------------------------------------- entry points
def draw_charts(run_dir: str | Path, lang: str = "fr", workers: int | None = None) -> list[Path]:
    """Draw every chart of a saved run into ``RUN_DIR/charts/`` (replaced whole, atomically) as
    ``<run-id>_<chart>.{png,svg,pdf}``; returns the files written. Used by ``cogsim run --charts``.

    Raises
    ------
    InputError
        A missing run folder, or a folder that is not a cogsim run.
    """

    _check_lang(lang)
    run = g.load_run(run_dir)
    target = Path(run_dir) / CHARTS_DIR
    with atomic_dir(target, "charts") as tmp:
        jobs = [("chart", spec.name) for spec in g.applicable(run)]
        _run_jobs(_Context(run, tmp, lang, None, ()), jobs, workers)
        names = sorted(p.name for p in tmp.iterdir() if not p.name.startswith("."))
    return [target / n for n in names]


def write_report(run_dir: str | Path, lang: str = "fr", compare: Sequence[str | Path] = (),
                 workers: int | None = None, observations_dir: str | Path | None = None,
                 organisme: str | None = None) -> Path:
    """Write ``RUN_DIR/report/`` (charts, PDF note, XLSX workbook) from a saved run; returns the folder.

    Parameters
    ----------
    run_dir : a run folder written by ``cogsim run`` (``results.nc``, ``manifest.json``).
    lang : ``"fr"`` (default) or ``"en"``.
    compare : other run folders, drawn with this one in the ``comparaison`` chart.
    workers : processes to use (default: 2 where the platform can fork, capped by the CPU count).
    observations_dir : the observation tables of the fit charts (default ``calibration/observations``);
        a missing folder leaves the fit charts out.
    organisme : draw the run's charts (and the comparison chart) for this organisme or aggregate alone,
        and read it in the note (default: every organisme, the régime général read).

    Raises
    ------
    InputError
        Every problem of the inputs at once: missing run folder, not a cogsim run, unreadable
        ``sensibilite.nc``, a bad ``--compare`` folder, an unreadable or invalid observation file.
    """

    _check_lang(lang)
    run_dir = Path(run_dir)
    problems: list[Problem] = []
    run = others = None
    try:
        run = g.load_run(run_dir)
    except InputError as exc:
        problems += exc.problems
    loaded = []
    for other in compare:
        try:
            loaded.append(g.load_run(other))
        except InputError as exc:
            problems += exc.problems
    sens = None
    if run is not None and (run_dir / SENSITIVITY_FILE).exists():
        try:
            sens = lire(run_dir / SENSITIVITY_FILE)
        except InputError as exc:
            problems += exc.problems
    observations = None
    try:
        observations = charger_observations(observations_dir)
    except InputError as exc:
        problems += exc.problems
    if run is not None and organisme is not None and organisme not in run.organismes:
        problems.append(Problem("arguments", "organisme", organisme, "unknown organisme", ", ".join(run.organismes)))
    if problems:
        raise InputError(problems)
    others = tuple(loaded)
    target = run_dir / REPORT_DIR
    with atomic_dir(target, "report") as tmp:
        ctx = _Context(run, tmp, lang, sens, others, observations, organisme)
        names = chart_names(run, sens, others, observations)
        # heaviest first, so that the two workers finish together
        heavy = ("trajectoire_etpma", "productivite", "adf", "comparaison", "ajustement_etpma")
        jobs = [("chart", n) for n in names if n in heavy] + [("workbook", "")] + \
            [("chart", n) for n in names if n not in heavy]
        _run_jobs(ctx, jobs, workers)
        # the note embeds the charts' own SVG files: drawn once, vector, identical to the files
        write_note(run, tmp / f"{ctx.prefix}note.pdf", lang, sens=sens, others=others, observations=observations,
                   charts={name: tmp / f"{ctx.prefix}{name}.svg" for name in names}, organisme=organisme)
    return target


def _check_lang(lang: str) -> None:
    if lang not in TEXTS:
        raise InputError([Problem("arguments", "lang", lang, "unknown language", "fr, en")])


# ----------------------------------------------------------------------------- parallel jobs
class _Context:
    """What every job needs; set before the worker processes fork, so they inherit it."""

    def __init__(self, run, out: Path, lang: str, sens, others: tuple, observations=None,
                 organisme: str | None = None):
        self.run, self.out, self.lang, self.sens, self.others = run, Path(out), lang, sens, others
        self.observations, self.organisme = observations, organisme

    @property
    def prefix(self) -> str:
        return f"{self.run.run_id}_"


_CONTEXT: _Context | None = None


def _job(kind: str, name: str) -> list[str]:
    """One file group: a chart in three formats, or the workbook. Returns the files written."""

    ctx = _CONTEXT
    assert ctx is not None  # set by _run_jobs (internal invariant, not user input)
    if kind == "workbook":
        path = ctx.out / f"{ctx.prefix}tableaux.xlsx"
        write_workbook(ctx.run, path, ctx.lang)
        return [path.name]
    fig = draw_chart(name, ctx.run, ctx.lang, ctx.sens, ctx.others, observations=ctx.observations,
                     organisme=ctx.organisme)
    paths = g.save_figure(fig, ctx.out, f"{ctx.prefix}{name}", title=f"{name} — {ctx.run.run_id}")
    return [p.name for p in paths]


def _run_jobs(ctx: _Context, jobs: list[tuple[str, str]], workers: int | None) -> list[str]:
    """Run the jobs, in two forked worker processes where possible (they inherit ``ctx``)."""
    global _CONTEXT

    _CONTEXT = ctx
    try:
        n = workers if workers is not None else min(2, os.cpu_count() or 1)
        if n <= 1 or len(jobs) <= 1 or "fork" not in mp.get_all_start_methods() or not can_fork_workers():
            return [f for kind, name in jobs for f in _job(kind, name)]

        with ProcessPoolExecutor(max_workers=n, mp_context=mp.get_context("fork"),
                                 initializer=_worker_init) as pool:
            futures = [pool.submit(_job, kind, name) for kind, name in jobs]
            try:
                return [f for fut in futures for f in fut.result()]
            except BaseException:
                for fut in futures:
                    fut.cancel()
                raise
    finally:
        _CONTEXT = None


def _worker_init() -> None:
    """Workers leave Ctrl-C and SIGTERM to the parent, which removes the temporary folder."""

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
