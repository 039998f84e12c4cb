"""The report of a sweep (``cogsim sweep`` writes it, ``cogsim report SWEEP_DIR`` writes it again in either
language): ``SWEEP_DIR/report/`` with the tidy CSV and the XLSX workbook of :mod:`model.outputs.sweep_tableaux`
and the charts of :mod:`model.outputs.graphiques_sweep`, drawn from the saved sweep only.

The folder is written through :func:`model.results.writers.atomic_dir` (kind ``report``): a temporary
folder renamed into place when complete, so a failure leaves the previous report, or nothing; the sweep's
own folder keeps its Zarr store and manifest untouched.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from model.analysis.sweep import STORE, open_sweep
from model.outputs.graphiques_sweep import draw_sweep_charts
from model.outputs.libelles import Lang, table
from model.outputs.sweep_tableaux import CSV, XLSX, PlanTableaux, ecrire_classeur, ecrire_csv, plan_du_sweep
from model.params.errors import InputError, Problem
from model.results.writers import atomic_dir

REPORT_DIR = "report"


@dataclass(frozen=True)
class RapportSweep:
    """What :func:`write_sweep_report` wrote: the folder, the tables (None when the plan left one out),
    the chart names and the plan the tables followed."""

    out: Path
    csv: Path | None
    xlsx: Path | None
    charts: tuple[str, ...]
    plan: PlanTableaux


def est_un_sweep(path: str | Path) -> bool:
    """Whether ``path`` is the folder of a finished sweep (it holds the sweep's Zarr store)."""
    return (Path(path) / STORE).is_dir()


def write_sweep_report(sweep_dir: str | Path, lang: Lang = "fr", organisme: str | None = None,
                       argument: str = "run_dir") -> RapportSweep:
    """Write ``SWEEP_DIR/report/`` (replaced whole): ``balayage.csv``, ``balayage.xlsx`` and the charts.

    Raises
    ------
    InputError
        ``sweep_dir`` is not a finished sweep, or ``organisme`` is not one of its organismes.
    """
    table(lang)
    sweep_dir = Path(sweep_dir)
    if not est_un_sweep(sweep_dir):
        raise InputError([Problem("arguments", argument, sweep_dir, f"not a finished sweep (no {STORE} in it)",
                                  "a folder written by cogsim sweep")])
    ds = open_sweep(sweep_dir)
    orgs = [str(o) for o in ds["organisme"].values]
    if organisme is not None and organisme not in orgs:
        raise InputError([Problem("arguments", "organisme", organisme, "not an organisme of the sweep",
                                  ", ".join(orgs))])
    plan = plan_du_sweep(ds)
    target = sweep_dir / REPORT_DIR
    with atomic_dir(target, "report") as tmp:
        csv = ecrire_csv(ds, plan, tmp / CSV, lang)
        xlsx = ecrire_classeur(ds, plan, tmp / XLSX, lang)
        paths = draw_sweep_charts(ds, tmp, lang, organisme)
    charts = tuple(sorted({p.stem for p in paths}))
    return RapportSweep(target, None if csv is None else target / CSV, None if xlsx is None else target / XLSX,
                        charts, plan)
