"""The ``report`` command: charts, a PDF note and an XLSX workbook from a saved run.

``cogsim report RUN_DIR [--lang fr|en] [--compare RUN_DIR ...]`` writes ``RUN_DIR/report/``:

* the charts of :mod:`model.outputs.graphiques` as ``<run-id>_<chart>.{png,svg,pdf}`` (plus ``comparaison``
  with ``--compare``, and ``tornado`` when ``RUN_DIR/sensitivity.nc`` exists);
* ``<run-id>_note.pdf``: an A4 note of a few pages — the scenario and its assumptions in plain
  language (from the manifest), the key figures, the charts, the uncertainty and the top drivers when
  a sensitivity result is there;
* ``<run-id>_tableaux.xlsx``: a workbook to paste from — read-me, key figures, inputs (every resolved
  parameter), results by organisme × year (mean and 5/50/95 % quantiles, or the value of a
  deterministic run: the numbers of ``results.csv``), main tables by organisme × year, and the ETPMA and
  wage-bill bridges; headers frozen, number formats set (Excel shows them with the reader's regional
  separators: a French Excel writes ``12 345,6``).

Everything is drawn from the saved run (``results.nc`` + ``manifest.json``), never by re-running, and
written to a temporary folder renamed into place at the end (:func:`model.results.writers.atomic_dir`): a
failure leaves the previous report, or nothing, never half a report.

How it is made, and why it is fast enough (≤ 15 s on 2 cores for the default run): the charts and the
workbook are independent jobs run by two forked worker processes where the platform can fork (else one
after the other); then the note's text pages are drawn with matplotlib's PdfPages and each chart's own
one-page PDF is placed on them as a Form XObject (pypdf), so a chart is drawn once and the note's charts
are the very files attached beside it, vector and identical.

This module imports matplotlib only when a report is made, so registering the command is cheap.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import math
import os
from pathlib import Path
from typing import Any, Callable, Sequence

from model.params.errors import InputError, Problem
from model.outputs.texte import court, court_description

REPORT_DIR = "report"
CHARTS_DIR = "charts"
SENSITIVITY_FILE = "sensitivity.nc"
A4 = (8.27, 11.69)  # inches
MARGINS = {"left": 0.95, "right": 0.95, "top": 0.8, "bottom": 0.8}

TEXTS: dict[str, dict[str, str]] = {
    "fr": {
        "written": "Rapport écrit dans", "charts_listed": "{n} graphiques (PNG 300 dpi, SVG, PDF) :",
        "note_title": "Note de simulation", "run_line": "Run « {run_id} » du {date} — cogsim {version}{commit}",
        "scenario": "Scénario", "author": "Auteur", "reference": "Référence", "baseline": "Scénario de référence",
        "description": "Description", "assumptions": "Hypothèses principales",
        "key_figures": "Chiffres clés", "reading": "Lecture",
        "staff_table": "Effectifs (ETPMA, moyenne des réplications)",
        "budget_table": "Budget de gestion {z} (M€)",
        "charts": "Graphiques", "uncertainty": "Incertitude et limites",
        "drivers": "Principaux déterminants (analyse de sensibilité)",
        "footer": "cogsim — {title} — run « {run_id} » — page {i}/{n}",
        "organisme": "Organisme",
        "mode_stoch": "Simulation stochastique : {n} réplications (graine {seed}). Les départs et les recrutements "
                      "sont tirés au hasard ; les chiffres sont des moyennes et les bandes à 90 % vont du 5ᵉ au "
                      "95ᵉ centile des réplications.",
        "mode_det": "Simulation déterministe : les départs et les recrutements sont remplacés par leur espérance ; "
                    "aucune bande d'incertitude n'est calculée.",
        "remplacement": "Taux de remplacement des départs de CDI",
        "plafond": "Plafonds d'emplois (ETPMA)",
        "supplementaires": "Recrutements supplémentaires hors remplacement (personnes par an)",
        "missions": "Nouvelles missions (charge de travail ajoutée, ETPMA-équivalents)",
        "transfert": "Transfert de l'ex-RSI",
        "transfert_text": "{gie} agents le {date_gie} (GIE SI : {rep_gie}), le reste le {date} ({rep}).",
        "mutualisations": "Mutualisations",
        "mutualisation_text": "{nom} ({org}) : à partir du {debut}, montée en charge sur {mois} mois, {part} des "
                              "effectifs, gain de productivité {gain}, coût de transition {cout} M€.",
        "gels": "Gels de recrutement", "gel_text": "{nom} ({org}) : du {debut} au {fin} exclu ({contrats}).",
        "mesures": "Mesures générales (valeur du point)", "cadrage": "Cadrage de la RMPP",
        "none": "aucun", "none_f": "aucune", "no_ceiling": "aucun plafond",
        "estimated": "Les paramètres que les données de 2013–2018 n'identifient pas gardent une valeur plausible "
                     "reconstruite à partir des chiffres de référence (marquée « estimated » par cogsim describe) ; "
                     "l'état initial au 31 décembre 2012 est {etat}.{calibration}",
        "calibration": " Calibrage : {c}.",
        "etat_estimated": "reconstruit (estimé)", "etat_given": "fourni par un fichier",
        "warnings": "Avertissements de validation", "from_to": "{a} en {ya} → {b} en {yb}",
        "period": "{v} ({a}–{b})", "period1": "{v} ({a})", "since": "{v} (à partir de {a})",
        "c_etpma_a": "ETPMA {a}", "c_etpma_z": "ETPMA {z}", "c_band": "Bande à 90 % {z}",
        "c_variation": "Variation {a}–{z}", "c_plafond": "Plafond {z}", "c_saturation": "Saturation {z}",
        "c_ms": "Masse salariale", "c_ms_evol": "Évolution annuelle {a}–{z}", "c_rmpp": "RMPP moyenne {a1}–{z}",
        "c_dl": "Dépenses limitatives", "c_ecart_adf": "ADF hors info. − cible",
        "c_ecart_prod": "Productivité / cible",
        "r_rg": "En {z}, le régime général compte {etpma} ETPMA{band}, soit {diff} par rapport à {a}{sat}.",
        "r_band": " (bande à 90 % : {lo} à {hi})", "r_sat": " ; son plafond d'emplois est saturé à {sat}",
        "r_ms": "Sa masse salariale atteint {ms} M€ en {z}, soit {cagr} par an en moyenne depuis {a} ; "
                "les dépenses limitatives s'élèvent à {dl} M€.",
        "r_adf_above": "Les ADF hors informatique du régime général dépassent la cible COG de {x} M€ en {z}.",
        "r_adf_below": "Les ADF hors informatique du régime général sont inférieures de {x} M€ à la cible COG en {z}.",
        "r_prod": "Productivité {z} par rapport à la cible COG (positif = cible dépassée) : {items}.",
        "r_total": "L'ensemble des organismes compte {etpma} ETPMA en {z} ({diff} par rapport à {a}).",
        "u_band": "En {z}, l'ETPMA de l'ensemble des organismes est compris entre {lo} et {hi} dans 90 % des "
                  "réplications (moyenne {m}) ; la masse salariale du régime général entre {mslo} et {mshi} M€.",
        "u_scope": "Ces bandes ne reflètent que l'aléa des flux (qui part, quand, qui est recruté). Elles ne "
                   "couvrent pas l'incertitude sur les paramètres eux-mêmes (taux de départ, évolution de la "
                   "charge, coûts unitaires), ni les écarts entre le modèle et la réalité de gestion.",
        "u_det": "Run déterministe : relancer sans --deterministic pour obtenir les bandes à 90 %.",
        "u_no_sens": "Aucune analyse de sensibilité n'accompagne ce run (fichier {file} absent) : les principaux "
                     "déterminants ne sont pas quantifiés ici.",
        "u_sens": "Effet sur {output} {year} ({perimetre}) de chaque paramètre pris à sa valeur basse puis haute, "
                  "les autres restant à leur valeur du scénario (valeur du scénario : {base}).",
        "u_sens_index": "Indices de sensibilité ({method}) de {output} {year} ({perimetre}).",
        "d_param": "Paramètre", "d_low": "Effet valeur basse", "d_high": "Effet valeur haute", "d_index": "Indice",
        "u_warnings_none": "Aucun avertissement de validation.",
        "u_provenance": "Provenance : scénario {file} ; commit {commit}{dirty} ; créé le {created} ; fichiers "
                        "d'entrée identifiés par leur empreinte SHA-256 dans manifest.json.",
        "dirty": " (copie de travail modifiée)",
        # workbook
        "s_readme": "Lisez-moi", "s_key": "Chiffres clés", "s_inputs": "Hypothèses", "s_results": "Résultats",
        "s_tables": "Tableaux", "s_bridge_etpma": "Pont ETPMA", "s_bridge_ms": "Pont masse salariale",
        "h_param": "Paramètre", "h_label": "Libellé", "h_unit": "Unité", "h_value": "Valeur",
        "h_variable": "Variable", "h_year": "Année", "h_mean": "Moyenne", "h_p05": "5ᵉ centile",
        "h_p50": "Médiane", "h_p95": "95ᵉ centile",
        "h_prev": "{v} année précédente", "h_level": "{v} de l'année", "h_change": "Variation",
        "readme_sheets": "Feuilles : Chiffres clés ; Hypothèses (tous les paramètres résolus du run) ; Résultats "
                         "(chaque variable par organisme et année, moyenne et centiles des réplications, ou valeur "
                         "d'un run déterministe : les nombres de results.csv) ; Tableaux (principales variables, "
                         "organisme × année) ; Pont ETPMA ; Pont masse salariale (moyennes des réplications).",
        "readme_formats": "Les nombres sont des nombres (pas du texte) : Excel les affiche avec les séparateurs "
                          "des paramètres régionaux (12 345,6 en français). Montants en M€ ; ETPMA ; parts en %.",
        "readme_agg": "regime_general = cnam + cnaf + cnav + acoss ; total = les six organismes.",
        "mem_mutualisation": "Pour mémoire : recrutements évités par les mutualisations",
    },
    "en": {
        "written": "Report written to", "charts_listed": "{n} charts (PNG 300 dpi, SVG, PDF):",
        "note_title": "Simulation note", "run_line": "Run \u201c{run_id}\u201d of {date} — cogsim {version}{commit}",
        "scenario": "Scenario", "author": "Author", "reference": "Reference", "baseline": "Baseline scenario",
        "description": "Description", "assumptions": "Main assumptions",
        "key_figures": "Key figures", "reading": "Reading",
        "staff_table": "Staff (ETPMA, mean of the replicates)",
        "budget_table": "Management budget {z} (€m)",
        "charts": "Charts", "uncertainty": "Uncertainty and limits",
        "drivers": "Main drivers (sensitivity analysis)",
        "footer": "cogsim — {title} — run \u201c{run_id}\u201d — page {i}/{n}",
        "organisme": "Organisme",
        "mode_stoch": "Stochastic simulation: {n} replicates (seed {seed}). Departures and hires are drawn at "
                      "random; figures are means and the 90 % bands run from the 5th to the 95th centile of the "
                      "replicates.",
        "mode_det": "Deterministic simulation: departures and hires are replaced by their expected values; no "
                    "uncertainty band is computed.",
        "remplacement": "Replacement rate of CDI departures",
        "plafond": "Ceilings (plafonds d'emplois, ETPMA)",
        "supplementaires": "Extra hires outside replacement (persons per year)",
        "missions": "New missions (workload added, ETPMA-equivalents)",
        "transfert": "Transfer of the ex-RSI",
        "transfert_text": "{gie} agents on {date_gie} (GIE SI: {rep_gie}), the rest on {date} ({rep}).",
        "mutualisations": "Mutualisations",
        "mutualisation_text": "{nom} ({org}): from {debut}, ramp-up over {mois} months, {part} of staff, "
                              "productivity gain {gain}, transition cost €{cout}m.",
        "gels": "Hiring freezes", "gel_text": "{nom} ({org}): from {debut} to {fin} excluded ({contrats}).",
        "mesures": "General pay measures (value of the point)", "cadrage": "RMPP cadrage",
        "none": "none", "none_f": "none", "no_ceiling": "no ceiling",
        "estimated": "Parameters the 2013–2018 data do not identify keep a plausible value reconstructed from the "
                     "reference figures (flagged “estimated” by cogsim describe); the initial state at "
                     "31 December 2012 is {etat}.{calibration}",
        "calibration": " Calibration: {c}.",
        "etat_estimated": "reconstructed (estimated)", "etat_given": "given by a file",
        "warnings": "Validation warnings", "from_to": "{a} in {ya} → {b} in {yb}",
        "period": "{v} ({a}–{b})", "period1": "{v} ({a})", "since": "{v} (from {a})",
        "c_etpma_a": "ETPMA {a}", "c_etpma_z": "ETPMA {z}", "c_band": "90 % band {z}",
        "c_variation": "Change {a}–{z}", "c_plafond": "Ceiling {z}", "c_saturation": "Saturation {z}",
        "c_ms": "Wage bill", "c_ms_evol": "Yearly change {a}–{z}", "c_rmpp": "Mean RMPP {a1}–{z}",
        "c_dl": "Capped budget", "c_ecart_adf": "ADF excl. IT − target",
        "c_ecart_prod": "Productivity / target",
        "r_rg": "In {z}, the régime général has {etpma} ETPMA{band}, {diff} against {a}{sat}.",
        "r_band": " (90 % band: {lo} to {hi})", "r_sat": "; its ceiling is {sat} used",
        "r_ms": "Its wage bill reaches €{ms}m in {z}, {cagr} a year on average since {a}; the capped "
                "management budget is €{dl}m.",
        "r_adf_above": "ADF excluding IT of the régime général exceed the COG target by €{x}m in {z}.",
        "r_adf_below": "ADF excluding IT of the régime général are €{x}m below the COG target in {z}.",
        "r_prod": "Productivity {z} against the COG target (positive = target beaten): {items}.",
        "r_total": "All organismes together have {etpma} ETPMA in {z} ({diff} against {a}).",
        "u_band": "In {z}, the ETPMA of all organismes lies between {lo} and {hi} in 90 % of the replicates "
                  "(mean {m}); the wage bill of the régime général between €{mslo}m and €{mshi}m.",
        "u_scope": "These bands only reflect the randomness of the flows (who leaves, when, who is hired). They do "
                   "not cover the uncertainty on the parameters themselves (exit rates, workload growth, unit "
                   "costs), nor the gaps between the model and actual management.",
        "u_det": "Deterministic run: run again without --deterministic to get the 90 % bands.",
        "u_no_sens": "No sensitivity analysis comes with this run (no {file}): the main drivers are not "
                     "quantified here.",
        "u_sens": "Effect on {output} {year} ({perimetre}) of each parameter at its low then high value, the "
                  "others at their scenario values (scenario value: {base}).",
        "u_sens_index": "Sensitivity indices ({method}) of {output} {year} ({perimetre}).",
        "d_param": "Parameter", "d_low": "Effect at low value", "d_high": "Effect at high value", "d_index": "Index",
        "u_warnings_none": "No validation warning.",
        "u_provenance": "Provenance: scenario {file}; commit {commit}{dirty}; created {created}; input files "
                        "identified by their SHA-256 in manifest.json.",
        "dirty": " (modified work tree)",
        "s_readme": "Read me", "s_key": "Key figures", "s_inputs": "Inputs", "s_results": "Results",
        "s_tables": "Tables", "s_bridge_etpma": "ETPMA bridge", "s_bridge_ms": "Wage-bill bridge",
        "h_param": "Parameter", "h_label": "Title", "h_unit": "Unit", "h_value": "Value",
        "h_variable": "Variable", "h_year": "Year", "h_mean": "Mean", "h_p05": "5th centile",
        "h_p50": "Median", "h_p95": "95th centile",
        "h_prev": "{v} previous year", "h_level": "{v} of the year", "h_change": "Change",
        "readme_sheets": "Sheets: Key figures; Inputs (every resolved parameter of the run); Results (every "
                         "variable by organisme and year, mean and centiles over replicates, or the value of a "
                         "deterministic run: the numbers of results.csv); Tables (main variables, organisme × "
                         "year); ETPMA bridge; Wage-bill bridge (means over replicates).",
        "readme_formats": "Numbers are numbers (not text): Excel shows them with the reader's regional "
                          "separators. Amounts in €m; ETPMA; shares in %.",
        "readme_agg": "regime_general = cnam + cnaf + cnav + acoss; total = the six organismes.",
        "mem_mutualisation": "For memory: hires forgone through mutualisations",
    },
}

MONTHS = {"fr": ("janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre",
                 "octobre", "novembre", "décembre"),
          "en": ("January", "February", "March", "April", "May", "June", "July", "August", "September",
                 "October", "November", "December")}

# variables of the "Tableaux" sheet (organisme × year, mean over replicates)
TABLE_VARIABLES = ("etpma", "plafond_emplois", "saturation", "effectif_31dec", "departs_retraite",
                   "recrutements", "masse_salariale", "rmpp", "depenses_personnel", "adf_hors_informatique",
                   "cible_adf", "depenses_limitatives", "productivite", "cible_productivite",
                   "taux_appels_aboutis", "delai_traitement")


# ----------------------------------------------------------------------------- entry points
def draw_charts(run_dir: str | Path, lang: str = "fr", workers: int | None = None) -> list[Path]:
    """Draw every chart of a saved run into ``RUN_DIR/charts/`` (replaced whole, atomically) as
    ``<run-id>_<chart>.{png,svg,pdf}``; returns the files written. Used by ``cogsim run --charts``.

    Raises
    ------
    InputError
        A missing run folder, or a folder that is not a cogsim run.
    """
    from model.outputs import graphiques as g
    from model.results.writers import atomic_dir

    _check_lang(lang)
    run = g.load_run(run_dir)
    target = Path(run_dir) / CHARTS_DIR
    with atomic_dir(target, "charts") as tmp:
        jobs = [("chart", spec.name) for spec in g.applicable(run)]
        _run_jobs(_Context(run, tmp, lang, None, ()), jobs, workers)
        names = sorted(p.name for p in tmp.iterdir() if not p.name.startswith("."))
    return [target / n for n in names]


def write_report(run_dir: str | Path, lang: str = "fr", compare: Sequence[str | Path] = (),
                 workers: int | None = None) -> Path:
    """Write ``RUN_DIR/report/`` (charts, PDF note, XLSX workbook) from a saved run; returns the folder.

    Parameters
    ----------
    run_dir : a run folder written by ``cogsim run`` (``results.nc``, ``manifest.json``).
    lang : ``"fr"`` (default) or ``"en"``.
    compare : other run folders, drawn with this one in the ``comparaison`` chart.
    workers : processes to use (default: 2 where the platform can fork, capped by the CPU count).

    Raises
    ------
    InputError
        Every problem of the inputs at once: missing run folder, not a cogsim run, unreadable
        ``sensitivity.nc``, a bad ``--compare`` folder.
    """
    from model.outputs import graphiques as g
    from model.results.writers import atomic_dir

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
            sens = g.load_sensitivity(run_dir / SENSITIVITY_FILE)
        except InputError as exc:
            problems += exc.problems
    if problems:
        raise InputError(problems)
    others = tuple(loaded)
    target = run_dir / REPORT_DIR
    with atomic_dir(target, "report") as tmp:
        ctx = _Context(run, tmp, lang, sens, others)
        names = chart_names(run, sens, others)
        # heaviest first, so that the two workers finish together
        heavy = ("trajectoire_etpma", "productivite", "adf", "comparaison")
        jobs = [("chart", n) for n in names if n in heavy] + [("workbook", "")] + \
            [("chart", n) for n in names if n not in heavy]
        _run_jobs(ctx, jobs, workers)
        # the note places the charts' own PDFs on its pages: drawn once, vector, identical to the files
        write_note(run, tmp / f"{ctx.prefix}note.pdf", lang, sens=sens, others=others,
                   charts={name: tmp / f"{ctx.prefix}{name}.pdf" for name in names})
    return target


def chart_names(run, sens=None, others: Sequence = ()) -> list[str]:
    """The charts of a report: every applicable chart of the run, ``comparaison`` with other runs,
    ``tornado`` with a sensitivity result."""
    from model.outputs import graphiques as g

    return [s.name for s in g.applicable(run)] + (["comparaison"] if others else []) + \
        (["tornado"] if sens is not None else [])


def _check_lang(lang: str) -> None:
    if lang not in TEXTS:
        raise InputError([Problem("--lang", "", lang, "unknown language", "fr, en")])


# ----------------------------------------------------------------------------- parallel jobs
class _Context:
    """What every job needs; set before the worker processes fork, so they inherit it."""

    def __init__(self, run, out: Path, lang: str, sens, others: tuple):
        self.run, self.out, self.lang, self.sens, self.others = run, Path(out), lang, sens, others

    @property
    def prefix(self) -> str:
        return f"{self.run.run_id}_"


_CONTEXT: _Context | None = None


def _job(kind: str, name: str) -> list[str]:
    """One file group: a chart in three formats, or the workbook. Returns the files written."""
    from model.outputs import graphiques as g

    ctx = _CONTEXT
    assert ctx is not None  # set by _run_jobs (internal invariant, not user input)
    if kind == "workbook":
        path = ctx.out / f"{ctx.prefix}tableaux.xlsx"
        write_workbook(ctx.run, path, ctx.lang)
        return [path.name]
    fig = _draw_named(ctx, name)
    paths = g.save_figure(fig, ctx.out, f"{ctx.prefix}{name}", title=f"{name} — {ctx.run.run_id}")
    return [p.name for p in paths]


def _draw_named(ctx: _Context, name: str, fig=None):
    from model.outputs import graphiques as g

    if name == "comparaison":
        return g.chart_comparaison([ctx.run, *ctx.others], ctx.lang, fig=fig)
    if name == "tornado":
        return g.chart_tornado(ctx.sens, ctx.lang, fig=fig, source=g.source_note(ctx.run, ctx.lang))
    spec = next(s for s in g.CHARTS if s.name == name)
    return spec.draw(ctx.run, ctx.lang, fig=fig)


def _run_jobs(ctx: _Context, jobs: list[tuple[str, str]], workers: int | None) -> list[str]:
    """Run the jobs, in two forked worker processes where possible (they inherit ``ctx``)."""
    global _CONTEXT
    import multiprocessing as mp

    _CONTEXT = ctx
    try:
        n = workers if workers is not None else min(2, os.cpu_count() or 1)
        if n <= 1 or len(jobs) <= 1 or "fork" not in mp.get_all_start_methods():
            return [f for kind, name in jobs for f in _job(kind, name)]
        from concurrent.futures import ProcessPoolExecutor

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
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)


# ----------------------------------------------------------------------------- key figures
def key_figures(run) -> dict[str, Any]:
    """The key figures of a run, as numbers: for each organisme, ``regime_general`` and ``total``, the
    ETPMA of the COG base year and of the last year (mean, 90 % band), its change, the ceiling and its
    saturation; the wage bill, its mean yearly growth, the mean RMPP, the dépenses limitatives, the gap
    of ADF excluding IT to the COG target and the productivity gap to the COG target in the last year.

    Returns
    -------
    dict with ``a`` (base year), ``z`` (last year), ``rows`` (organisme names), ``staff`` and
    ``budget`` (one dict of numbers per row; NaN where undefined).
    """
    import numpy as np

    from model.outputs.graphiques import cog_period

    a, z = cog_period(run)
    years = list(run.years)
    ia, iz = years.index(a), years.index(z)
    nan = float("nan")

    def at(v: str, o: str, i: int) -> float:
        return float(run.mean(v, o)[i]) if v in run.ds else nan

    staff, budget = [], []
    for o in run.organismes:
        lo, hi = run.band("etpma", o) if run.stochastic else ([nan] * len(years), [nan] * len(years))
        ea, ez = at("etpma", o, ia), at("etpma", o, iz)
        staff.append({"etpma_a": ea, "etpma_z": ez, "p05": float(lo[iz]), "p95": float(hi[iz]),
                      "variation": ez - ea, "plafond": at("plafond_emplois", o, iz),
                      "saturation": at("saturation", o, iz)})
        ms_a, ms_z = at("masse_salariale", o, ia), at("masse_salariale", o, iz)
        growth = (ms_z / ms_a) ** (1.0 / (z - a)) - 1.0 if ms_a > 0 and ms_z > 0 and z > a else nan
        rmpp = run.mean("rmpp", o)[ia + 1: iz + 1] if "rmpp" in run.ds else np.array([nan])
        with np.errstate(invalid="ignore"):
            rmpp_mean = float(np.nanmean(rmpp)) if np.isfinite(rmpp).any() else nan
        budget.append({"masse_salariale": ms_z, "evolution_ms": growth, "rmpp": rmpp_mean,
                       "depenses_limitatives": at("depenses_limitatives", o, iz),
                       "ecart_adf": at("ecart_adf", o, iz), "ecart_productivite": at("ecart_productivite", o, iz)})
    return {"a": a, "z": z, "rows": list(run.organismes), "staff": staff, "budget": budget}


# columns of the two key-figure tables: (key, text key, kind)
STAFF_COLUMNS = (("etpma_a", "c_etpma_a", "etp"), ("etpma_z", "c_etpma_z", "etp"), ("band", "c_band", "band"),
                 ("variation", "c_variation", "etp_signed"), ("plafond", "c_plafond", "etp"),
                 ("saturation", "c_saturation", "fraction"))
BUDGET_COLUMNS = (("masse_salariale", "c_ms", "meur"), ("evolution_ms", "c_ms_evol", "fraction_signed"),
                  ("rmpp", "c_rmpp", "percent"), ("depenses_limitatives", "c_dl", "meur"),
                  ("ecart_adf", "c_ecart_adf", "meur_signed"), ("ecart_productivite", "c_ecart_prod", "percent_signed"))


def _cell_text(kind: str, row: dict, key: str, lang: str) -> str:
    from model.outputs.graphiques import NNBSP, format_number, format_percent

    pct = NNBSP + "%" if lang == "fr" else "%"
    if kind == "band":
        lo, hi = row["p05"], row["p95"]
        return "–" if not (math.isfinite(lo) and math.isfinite(hi)) else \
            f"{format_number(lo, 0, lang)} – {format_number(hi, 0, lang)}"
    v = row[key]
    if kind == "etp":
        return format_number(v, 0, lang)
    if kind == "etp_signed":
        return format_number(v, 0, lang, sign=True)
    if kind == "meur":
        return format_number(v, 1, lang)
    if kind == "meur_signed":
        return format_number(v, 1, lang, sign=True)
    if kind == "fraction":
        return format_percent(v, 1, lang)
    if kind == "fraction_signed":
        return format_percent(v, 2, lang, sign=True)
    if kind == "percent":
        return "–" if not math.isfinite(v) else format_number(v, 2, lang) + pct
    if kind == "percent_signed":
        return "–" if not math.isfinite(v) else format_number(v, 1, lang, sign=True) + pct
    raise ValueError(kind)


# ----------------------------------------------------------------------------- assumptions in words
def _date_text(iso: str, lang: str) -> str:
    d = dt.date.fromisoformat(str(iso)[:10])
    if lang == "fr":
        return f"{'1er' if d.day == 1 else d.day} {MONTHS['fr'][d.month - 1]} {d.year}"
    return f"{d.day} {MONTHS['en'][d.month - 1]} {d.year}"


def _runs(by_year: dict) -> list[tuple[str, str, Any]]:
    """A by-year dict as runs of equal values: [(first year, last year, value)]."""
    items = sorted(by_year.items())
    out: list[list] = []
    for y, v in items:
        if out and out[-1][2] == v:
            out[-1][1] = y
        else:
            out.append([y, y, v])
    return [tuple(r) for r in out]


def _pct_text(percent: float, lang: str, sign: bool = False) -> str:
    """A value already in percent, with the decimals it needs (1.88 → "1,88 %", 3.5 → "3,5 %")."""
    from model.outputs.graphiques import NNBSP, decimals_needed, format_number

    return format_number(percent, decimals_needed([percent], 2), lang, sign) + (NNBSP + "%" if lang == "fr" else "%")


def _share(v: float, lang: str) -> str:
    from model.outputs.graphiques import format_percent

    return format_percent(float(v), 0 if abs(100 * float(v) - round(100 * float(v))) < 1e-9 else 1, lang)


def _is_none(v) -> bool:
    return v is None or v == "inf" or (isinstance(v, float) and not math.isfinite(v))


def assumptions(run, lang: str = "fr") -> list[tuple[str, list[str]]]:
    """The scenario's assumptions in plain language, from the manifest: (heading, lines) pairs — mode,
    replacement rates, ceilings, extra hires, new missions, ex-RSI transfer, mutualisations, hiring
    freezes, general pay measures, RMPP cadrage, and how the parameters were estimated."""
    from model.outputs.graphiques import format_number, org_label

    T = TEXTS[lang]
    par = run.manifest.get("parameters") or {}
    orgs = list(run.ds["organisme"].values)
    out: list[tuple[str, list[str]]] = []
    seed = run.manifest.get("seed", run.ds.attrs.get("seed"))
    etat = run.manifest.get("etat_initial") or {}
    cal = run.manifest.get("calibration")  # recorded by runs that carry it: shown as given
    calibration = T["calibration"].format(c=cal if isinstance(cal, str) else ", ".join(
        f"{k} {v}" for k, v in cal.items() if not isinstance(v, (dict, list)))) if cal else ""
    out.append(("", [(T["mode_stoch"].format(n=run.replicates, seed=seed) if run.stochastic else T["mode_det"]) + " "
                     + T["estimated"].format(etat=T["etat_estimated"] if etat.get("estimated", True)
                                             else T["etat_given"], calibration=calibration)]))

    def periods(d: dict, fmt: Callable[[Any], str], skip: Callable[[Any], bool] = lambda v: False) -> str:
        parts = []
        rs = _runs(d)
        for i, (ya, yb, v) in enumerate(rs):
            if skip(v):
                continue
            if ya == yb:
                parts.append(T["period1"].format(v=fmt(v), a=ya))
            else:
                parts.append(T["period"].format(v=fmt(v), a=ya, b=yb))
        return ", ".join(parts)

    lines = []
    for o in orgs:
        d = par.get(f"organismes.{o}.taux_remplacement")
        if isinstance(d, dict):
            lines.append(f"{org_label(o, lang)} : {periods(d, lambda v: _share(v, lang))}" if lang == "fr"
                         else f"{org_label(o, lang)}: {periods(d, lambda v: _share(v, lang))}")
    if lines:
        out.append((T["remplacement"], lines))
    lines = []
    for o in orgs:
        d = par.get(f"organismes.{o}.plafond_emplois")
        if not isinstance(d, dict):
            continue
        finite = [(int(y), float(v)) for y, v in sorted(d.items()) if not _is_none(v)]
        sep = " : " if lang == "fr" else ": "
        if not finite:
            continue
        (ya, a), (yb, b) = finite[0], finite[-1]
        lines.append(org_label(o, lang) + sep + T["from_to"].format(a=format_number(a, 0, lang), ya=ya,
                                                                    b=format_number(b, 0, lang), yb=yb))
    out.append((T["plafond"], lines or [T["no_ceiling"]]))
    for key, name in (("recrutements_supplementaires", "supplementaires"), ("charge_nouvelles_missions", "missions")):
        lines = []
        for o in orgs:
            d = par.get(f"organismes.{o}.{key}")
            if isinstance(d, dict) and any(float(v) != 0 for v in d.values() if not _is_none(v)):
                sep = " : " if lang == "fr" else ": "
                lines.append(org_label(o, lang) + sep + periods(d, lambda v: format_number(float(v), 0, lang),
                                                                skip=lambda v: float(v) == 0))
        if lines:
            out.append((T[name], lines))
    if "transfert_rsi.date_principale" in par:
        def rep(d):
            return ", ".join(f"{org_label(k, lang)} {_share(v, lang)}" for k, v in (d or {}).items())
        out.append((T["transfert"], [T["transfert_text"].format(
            gie=format_number(float(par.get("transfert_rsi.effectif_gie", 0)), 0, lang),
            date_gie=_date_text(par["transfert_rsi.date_gie"], lang), rep_gie=rep(par.get("transfert_rsi.repartition_gie")),
            date=_date_text(par["transfert_rsi.date_principale"], lang), rep=rep(par.get("transfert_rsi.repartition")))]))
    mutu = par.get("mutualisations") or []
    out.append((T["mutualisations"], [T["mutualisation_text"].format(
        nom=m.get("nom", "?"), org=org_label(m.get("organisme", "?"), lang), debut=_date_text(m["debut"], lang),
        mois=m.get("montee_en_charge_mois"), part=_share(m.get("part_effectifs", 0), lang),
        gain=_share(m.get("gain_productivite", 0), lang),
        cout=format_number(float(m.get("cout_transition", 0)), 1, lang)) for m in mutu] or [T["none_f"]]))
    gels = par.get("gels_recrutement") or []
    out.append((T["gels"], [T["gel_text"].format(
        nom=gl.get("nom", "?"), org=org_label(gl.get("organisme", "?"), lang), debut=_date_text(gl["debut"], lang),
        fin=_date_text(gl["fin"], lang), contrats=gl.get("contrats", "")) for gl in gels] or [T["none"]]))
    mesures = par.get("mesures_generales") or []
    if mesures:
        out.append((T["mesures"], ["; ".join(
            f"{_pct_text(100 * float(m.get('taux', 0)), lang, sign=True)} "
            f"{'au' if lang == 'fr' else 'on'} {_date_text(m['date'], lang)}" for m in mesures)]))
    cad = par.get("remuneration.rmpp_cadrage")
    if isinstance(cad, dict):
        out.append((T["cadrage"], [periods(cad, lambda v: _pct_text(float(v), lang), skip=_is_none) or T["none"]]))
    return out


def reading(run, kf: dict, lang: str = "fr") -> list[str]:
    """A few sentences that read the key figures (régime général, total, ADF, productivity)."""
    from model.outputs.graphiques import NNBSP, format_number, format_percent, org_label

    T = TEXTS[lang]
    a, z = kf["a"], kf["z"]
    rows = kf["rows"]
    out = []
    i = rows.index("regime_general")
    s, b = kf["staff"][i], kf["budget"][i]
    band = T["r_band"].format(lo=format_number(s["p05"], 0, lang), hi=format_number(s["p95"], 0, lang)) \
        if run.stochastic else ""
    sat = T["r_sat"].format(sat=format_percent(s["saturation"], 1, lang)) if math.isfinite(s["saturation"]) else ""
    out.append(T["r_rg"].format(z=z, etpma=format_number(s["etpma_z"], 0, lang), band=band,
                                diff=format_number(s["variation"], 0, lang, sign=True), a=a, sat=sat))
    if math.isfinite(b["masse_salariale"]):
        out.append(T["r_ms"].format(ms=format_number(b["masse_salariale"], 1, lang), z=z, a=a,
                                    cagr=format_percent(b["evolution_ms"], 2, lang, sign=True),
                                    dl=format_number(b["depenses_limitatives"], 1, lang)))
    if math.isfinite(b["ecart_adf"]):
        key = "r_adf_above" if b["ecart_adf"] > 0 else "r_adf_below"
        out.append(T[key].format(x=format_number(abs(b["ecart_adf"]), 1, lang), z=z))
    items = []
    pct = NNBSP + "%" if lang == "fr" else "%"
    for o, bb in zip(rows, kf["budget"]):
        if math.isfinite(bb["ecart_productivite"]):
            items.append(f"{org_label(o, lang)} {format_number(bb['ecart_productivite'], 1, lang, sign=True)}{pct}")
    if items:
        out.append(T["r_prod"].format(z=z, items=", ".join(items)))
    t = kf["staff"][rows.index("total")]
    out.append(T["r_total"].format(etpma=format_number(t["etpma_z"], 0, lang), z=z,
                                   diff=format_number(t["variation"], 0, lang, sign=True), a=a))
    return out


# ----------------------------------------------------------------------------- PDF note
@functools.lru_cache(maxsize=2)
def _font(bold: bool):
    from matplotlib.font_manager import FontProperties, findfont, get_font

    return get_font(findfont(FontProperties(family=_Note.FONT, weight="bold" if bold else "normal")))


class _Note:
    """A flowing A4 note: blocks (headings, paragraphs, tables, charts) placed top-down in inches,
    pages broken where a block does not fit; rendered with matplotlib's PdfPages."""

    FONT = "DejaVu Sans"

    def __init__(self):
        self.width = A4[0] - MARGINS["left"] - MARGINS["right"]
        self.height = A4[1] - MARGINS["top"] - MARGINS["bottom"]
        self.pages: list[list[tuple]] = [[]]
        self.y = 0.0

    # measuring
    @staticmethod
    @functools.lru_cache(maxsize=4096)
    def text_width(text: str, size: float, bold: bool = False) -> float:
        """Width of ``text`` in inches at ``size`` points."""
        font = _font(bold)
        font.set_size(size, 72)
        font.set_text(text, 0.0)
        return font.get_width_height()[0] / 64 / 72

    def wrap(self, text: str, width: float, size: float, bold: bool = False) -> list[str]:
        """Greedy line breaking at spaces (narrow no-break spaces hold "12 345" and "90 %" together);
        a line's width is the sum of its words' widths and spaces (kerning across spaces neglected)."""
        space = self.text_width(" ", size, bold)
        lines: list[str] = []
        for para in str(text).split("\n"):
            line, used = "", 0.0
            for word in para.split(" "):
                w = self.text_width(word, size, bold)
                if line and used + space + w > width:
                    lines.append(line)
                    line, used = word, w
                else:
                    line, used = (f"{line} {word}", used + space + w) if line else (word, w)
            lines.append(line)
        return lines

    @staticmethod
    def line_height(size: float) -> float:
        return size * 1.38 / 72

    # flow
    def new_page(self) -> None:
        if self.pages[-1]:
            self.pages.append([])
        self.y = 0.0

    def _fit(self, h: float) -> None:
        if self.y + h > self.height and self.y > 0:
            self.new_page()

    def space(self, h: float) -> None:
        if self.y > 0:
            self.y += h

    def heading(self, text: str, size: float = 12.0, keep: float = 0.6) -> None:
        h = self.line_height(size) + 0.06
        self._fit(h + keep)
        self.space(0.16)
        self.pages[-1].append(("text", 0.0, self.y, text, size, "bold", "0.0"))
        self.y += h

    def paragraph(self, text: str, size: float = 9.0, indent: float = 0.0, bullet: bool = False,
                  colour: str = "0.0", after: float = 0.06, bold: bool = False) -> None:
        lh = self.line_height(size)
        for k, line in enumerate(self.wrap(text, self.width - indent, size, bold)):
            self._fit(lh)
            if bullet and k == 0:
                self.pages[-1].append(("text", indent - 0.14, self.y, "•", size, "normal", colour))
            self.pages[-1].append(("text", indent, self.y, line, size, "bold" if bold else "normal", colour))
            self.y += lh
        self.y += after

    def table(self, header: list[str], rows: list[list[str]], size: float = 7.2,
              bold_rows: Sequence[int] = ()) -> None:
        """A table over the text width: a wrapped header row, numbers right-aligned (every column but the
        first); each column as wide as its widest cell, the spare width shared out."""
        lh = self.line_height(size)
        need = [max([self.text_width(r[j], size, True) for r in rows] + [0.5]) + 0.18 for j in range(len(header))]
        spare = max(0.0, self.width - sum(need))
        widths = [w + spare / len(need) for w in need]
        head = [self.wrap(h, w - 0.08, size, True) for h, w in zip(header, widths)]
        hh = max(len(c) for c in head) * lh + 0.06
        total = hh + len(rows) * (lh + 0.035) + 0.1
        self._fit(total)
        y0 = self.y
        xs = [sum(widths[:i]) for i in range(len(widths))]
        ops = self.pages[-1]
        ops.append(("rule", 0.0, sum(widths), y0, 0.8))
        for i, (cell, x, w) in enumerate(zip(head, xs, widths)):
            for k, line in enumerate(cell):
                off = (max(len(c) for c in head) - len(cell)) * lh  # bottom-align the header cells
                ops.append(("text", x + (w - 0.04 if i else 0.0), y0 + 0.03 + off + k * lh, line, size, "bold",
                            "0.0", "right" if i else "left"))
        y = y0 + hh
        ops.append(("rule", 0.0, sum(widths), y, 0.5))
        y += 0.03
        for r, row in enumerate(rows):
            weight = "bold" if r in bold_rows else "normal"
            if r in bold_rows and (r == 0 or r - 1 not in bold_rows):
                ops.append(("rule", 0.0, sum(widths), y - 0.01, 0.3))
            for i, (cell, x, w) in enumerate(zip(row, xs, widths)):
                ops.append(("text", x + (w - 0.04 if i else 0.0), y, cell, size, weight, "0.0",
                            "right" if i else "left"))
            y += lh + 0.035
        ops.append(("rule", 0.0, sum(widths), y, 0.8))
        self.y = y + 0.1

    def chart(self, pdf: Path, height: float) -> None:
        """Reserve ``height`` inches for a chart whose one-page PDF is ``pdf`` (placed at rendering)."""
        self._fit(height)
        self.space(0.12)
        if self.y + height > self.height:
            self.new_page()
        self.pages[-1].append(("chart", self.y, height, Path(pdf)))
        self.y += height

    # rendering
    def render(self, path: Path, header: str, footer: Callable[[int, int], str], metadata: dict) -> int:
        """Text, rules, header and footer with matplotlib's PdfPages; then each chart's PDF page laid
        on its page (pypdf), left-aligned on the text block."""
        import io

        import matplotlib
        from matplotlib.backends.backend_pdf import PdfPages
        from matplotlib.figure import Figure
        from matplotlib.lines import Line2D
        from pypdf import PdfReader, PdfWriter

        from model.outputs.graphiques import STYLE

        W, H = A4
        L, T = MARGINS["left"], MARGINS["top"]
        n = len(self.pages)
        buf = io.BytesIO()
        with matplotlib.rc_context({**STYLE, "pdf.fonttype": 3}), PdfPages(buf, metadata=metadata) as pdf:
            for i, ops in enumerate(self.pages, start=1):
                fig = Figure(figsize=A4)
                fig.text(L / W, 1 - 0.45 / H, header, fontsize=7, color="0.4", ha="left", va="baseline")
                fig.add_artist(Line2D([L / W, 1 - MARGINS["right"] / W], [1 - 0.5 / H] * 2, lw=0.4, color="0.6",
                                      transform=fig.transFigure))
                fig.text(L / W, 0.45 / H, footer(i, n), fontsize=7, color="0.4", ha="left", va="baseline")
                for op in ops:
                    if op[0] == "text":
                        _, x, y, text, size, weight, colour, *align = op
                        fig.text((L + x) / W, 1 - (T + y) / H, text, fontsize=size, fontweight=weight,
                                 color=colour, ha=(align[0] if align else "left"), va="top")
                    elif op[0] == "rule":
                        _, x0, x1, y, lw = op
                        fig.add_artist(Line2D([(L + x0) / W, (L + x1) / W], [1 - (T + y) / H] * 2, lw=lw,
                                              color="0.2", transform=fig.transFigure))
                pdf.savefig(fig)
        writer = PdfWriter(clone_from=PdfReader(buf))
        k = 0
        for page, ops in zip(writer.pages, self.pages):
            placed = [(chart_pdf, L * 72, (H - T - y) * 72) for kind, y, h, chart_pdf, *_ in
                      (op for op in ops if op[0] == "chart")]
            if placed:
                _place_pdf_pages(writer, page, placed, first=k)
                k += len(placed)
        with open(path, "wb") as f:
            writer.write(f)
        return n


def _place_pdf_pages(writer, page, placed: list[tuple[Path, float, float]], first: int = 0) -> None:
    """Draw the first page of each PDF onto ``page`` as a Form XObject, its top-left corner at
    (x, top) in points from the page's bottom-left: the chart's content is copied, not re-parsed.
    XObject names are numbered from ``first`` (matplotlib's pages share one resource dictionary)."""
    from pypdf import PdfReader
    from pypdf.generic import ArrayObject, DecodedStreamObject, DictionaryObject, FloatObject, NameObject

    if "/Resources" not in page:
        page[NameObject("/Resources")] = DictionaryObject()
    resources = page["/Resources"].get_object()
    if "/XObject" not in resources:
        resources[NameObject("/XObject")] = DictionaryObject()
    xobjects = resources["/XObject"].get_object()
    ops = [page._get_contents_as_bytes() or b""]
    for k, (pdf, x, top) in enumerate(placed, start=first):
        src = PdfReader(pdf).pages[0]
        box = [float(v) for v in src.mediabox]
        form = DecodedStreamObject()
        form.set_data(src._get_contents_as_bytes() or b"")
        form.update({NameObject("/Type"): NameObject("/XObject"), NameObject("/Subtype"): NameObject("/Form"),
                     NameObject("/BBox"): ArrayObject(FloatObject(v) for v in box),
                     NameObject("/Resources"): src["/Resources"].clone(writer)})
        name = NameObject(f"/CogsimChart{k}")
        xobjects[name] = writer._add_object(form)
        ops.append(f"\nq 1 0 0 1 {x - box[0]:.3f} {top - box[3]:.3f} cm {name} Do Q\n".encode())
    contents = DecodedStreamObject()
    contents.set_data(b"".join(ops))
    page[NameObject("/Contents")] = writer._add_object(contents)


def write_note(run, path: str | Path, lang: str = "fr", sens=None, others: Sequence = (),
               charts: dict[str, Path] | None = None) -> int:
    """Write the PDF note of a run (A4): scenario and assumptions, key figures, charts, uncertainty.

    Parameters
    ----------
    run : a saved run (:func:`model.outputs.graphiques.load_run`).
    path : the PDF to write.
    lang : ``"fr"`` or ``"en"``.
    sens : a sensitivity result (tornado chart and top drivers), or None.
    others : other runs for the comparison chart.
    charts : the one-page PDFs of the charts by name (:func:`chart_names`), as the report writes them;
        drawn here (in a temporary folder) when not given.

    Returns
    -------
    int
        The number of pages.
    """
    if charts is None:
        import tempfile

        from model.outputs import graphiques as g

        with tempfile.TemporaryDirectory() as tmp:
            ctx = _Context(run, Path(tmp), lang, sens, tuple(others))
            drawn = {}
            for name in chart_names(run, sens, others):
                drawn[name] = g.save_figure(_draw_named(ctx, name), tmp, name, formats=("pdf",))[0]
            return write_note(run, path, lang, sens, others, charts=drawn)
    from model.outputs import graphiques as g

    T = TEXTS[lang]
    note = _Note()
    m = run.manifest
    header_sc = (m.get("scenario") or {}).get("header") or {}
    code = m.get("code") or {}
    commit = str(code.get("commit") or "")
    created = str(m.get("created_utc", ""))[:10]
    # page 1: scenario and assumptions
    note.paragraph(T["note_title"], size=9.5, colour="0.35", after=0.02)
    note.paragraph(run.title, size=15, bold=True, after=0.08)
    note.paragraph(T["run_line"].format(run_id=run.run_id, date=_date_text(created, lang) if created else "?",
                                        version=code.get("cogsim", ""),
                                        commit=f", commit {commit[:7]}" if commit else ""),
                   size=8, colour="0.3", after=0.12)
    note.heading(T["scenario"])
    for key in ("author", "reference", "baseline"):
        if header_sc.get(key):
            note.paragraph(f"{T[key]}{' : ' if lang == 'fr' else ': '}{court(header_sc[key])}", size=8.5, after=0.02)
    if header_sc.get("description"):
        note.paragraph(court_description(header_sc["description"]), size=9, after=0.06)
    note.heading(T["assumptions"])
    for heading, lines in assumptions(run, lang):
        if heading:
            note.paragraph(heading, size=8.6, bold=True, after=0.01)
        for line in lines:
            note.paragraph(line, size=8.2, indent=0.2 if heading else 0.0, bullet=bool(heading), after=0.015)
        note.y += 0.03
    warnings = m.get("warnings") or []
    if warnings:
        note.paragraph(T["warnings"], size=9, bold=True, after=0.02)
        for w in warnings:
            text = w if isinstance(w, str) else f"{w.get('file', '')}: {w.get('path', '')} = {w.get('value', '')}: " \
                                                f"{w.get('message', '')}"
            note.paragraph(text, size=8, indent=0.2, bullet=True, after=0.02)
    # key figures
    note.new_page()
    kf = key_figures(run)
    note.heading(T["key_figures"])
    rows_labels = [g.org_label(o, lang) for o in kf["rows"]]
    bold = [kf["rows"].index("regime_general"), kf["rows"].index("total")]
    a, z = kf["a"], kf["z"]
    fmt = dict(a=a, z=z, a1=a + 1)
    staff_cols = [c for c in STAFF_COLUMNS if run.stochastic or c[2] != "band"]
    note.paragraph(T["staff_table"], size=9, bold=True, after=0.04)
    note.table([T["organisme"]] + [T[c[1]].format(**fmt) for c in staff_cols],
               [[lab] + [_cell_text(kind, row, key, lang) for key, _, kind in staff_cols]
                for lab, row in zip(rows_labels, kf["staff"])], bold_rows=bold)
    note.paragraph(T["budget_table"].format(**fmt), size=9, bold=True, after=0.04)
    note.table([T["organisme"]] + [T[c[1]].format(**fmt) for c in BUDGET_COLUMNS],
               [[lab] + [_cell_text(kind, row, key, lang) for key, _, kind in BUDGET_COLUMNS]
                for lab, row in zip(rows_labels, kf["budget"])], bold_rows=bold)
    note.heading(T["reading"], size=10.5)
    for sentence in reading(run, kf, lang):
        note.paragraph(sentence, size=9, indent=0.2, bullet=True, after=0.05)
    # charts
    note.new_page()
    from pypdf import PdfReader

    for name, pdf in charts.items():
        note.chart(pdf, float(PdfReader(pdf).pages[0].mediabox.height) / 72)
    # uncertainty
    note.heading(T["uncertainty"], keep=1.2)
    if run.stochastic:
        lo, hi = run.band("etpma", "total")
        iz = list(run.years).index(z)
        mslo = mshi = [float("nan")] * len(run.years)
        if "masse_salariale" in run.ds:
            mslo, mshi = run.band("masse_salariale", "regime_general")
        note.paragraph(T["u_band"].format(z=z, lo=g.format_number(lo[iz], 0, lang), hi=g.format_number(hi[iz], 0, lang),
                                          m=g.format_number(run.mean("etpma", "total")[iz], 0, lang),
                                          mslo=g.format_number(mslo[iz], 1, lang), mshi=g.format_number(mshi[iz], 1, lang)))
    else:
        note.paragraph(T["u_det"])
    note.paragraph(T["u_scope"])
    note.heading(T["drivers"], size=10.5)
    if sens is None:
        note.paragraph(T["u_no_sens"].format(file=SENSITIVITY_FILE))
    else:
        output = str(sens.attrs.get("output", ""))
        per = g.org_label(str(sens.attrs.get("organisme", "total")), lang)
        if "low" in sens:
            note.paragraph(T["u_sens"].format(output=g.LABELS[lang].get(output, output), year=sens.attrs.get("year", ""), perimetre=per,
                                              base=g.format_number(float(sens.attrs["baseline"]), 0, lang)))
            rows = [[p, g.format_number(lo_, 0, lang, sign=True), g.format_number(hi_, 0, lang, sign=True)]
                    for p, lo_, hi_ in g.top_drivers(sens, 5)]
            note.table([T["d_param"], T["d_low"], T["d_high"]], rows)
        else:
            note.paragraph(T["u_sens_index"].format(method=sens.attrs.get("method", ""),
                                                    output=g.LABELS[lang].get(output, output),
                                                    year=sens.attrs.get("year", ""), perimetre=per))
            rows = [[p, g.format_number(v, 3, lang)] for p, v, _ in g.top_drivers(sens, 5)]
            note.table([T["d_param"], T["d_index"]], rows)
    note.heading(T["warnings"], size=10.5)
    if not warnings:
        note.paragraph(T["u_warnings_none"])
    for w in warnings:
        note.paragraph(w if isinstance(w, str) else f"{w.get('path', '')}: {w.get('message', '')}",
                       size=8.5, indent=0.2, bullet=True)
    note.paragraph(T["u_provenance"].format(file=(m.get("scenario") or {}).get("file", "?"), commit=commit or "?",
                                            dirty=T["dirty"] if code.get("dirty") else "", created=m.get("created_utc", "?")),
                   size=8, colour="0.3")
    return note.render(Path(path), header=f"{T['note_title']} — {run.title}",
                       footer=lambda i, n: T["footer"].format(title="note", run_id=run.run_id, i=i, n=n),
                       metadata={"Title": f"{T['note_title']} — {run.title}", "Author": "cogsim",
                                 "Subject": f"run {run.run_id}", "Creator": "cogsim", "Producer": "cogsim",
                                 "CreationDate": None})


# ----------------------------------------------------------------------------- XLSX workbook
def _excel_format(units: str, name: str = "") -> str:
    """Number format of a column of values in ``units`` (Excel shows it with the reader's separators)."""
    if units in ("1",) or name in ("saturation", "part_plus_50", "respect_lpfp", "evolution_ms"):
        return "0.0%" if name not in ("respect_lpfp",) else "0"
    if units in ("%", "points de %"):
        return "0.00"
    if units.startswith(("MEUR", "EUR per", "EUR/")) and not units.startswith("EUR/ETPMA"):
        return "#,##0.0" if units.startswith("MEUR") else "#,##0.00"
    if units in ("annees",):
        return "0.0"
    return "#,##0"


def _catalogue_entry(path: str):
    from model.params.catalogue import load_catalogue

    cat = load_catalogue()
    if path in cat:
        return cat[path]
    parts = path.split(".")
    if len(parts) == 3 and parts[0] == "organismes":
        return cat.get(f"organismes.*.{parts[2]}")
    return None


def write_workbook(run, path: str | Path, lang: str = "fr") -> None:
    """Write the XLSX workbook of a run (sheets described in the module docstring)."""
    import numpy as np
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    from model.outputs import graphiques as g
    from model.results.dataset import tidy_frame

    T = TEXTS[lang]
    wb = Workbook()
    bold = Font(bold=True)
    head_fill = PatternFill("solid", fgColor="E4E8EE")
    wrap = Alignment(wrap_text=True, vertical="top")

    def header(ws, row: int, values: list[str], widths: list[float] | None = None) -> None:
        for j, v in enumerate(values, start=1):
            c = ws.cell(row=row, column=j, value=v)
            c.font, c.fill, c.alignment = bold, head_fill, wrap
        if widths:
            for j, w in enumerate(widths, start=1):
                ws.column_dimensions[get_column_letter(j)].width = w

    def num(v):
        if v is None:
            return None
        v = float(v)
        return v if math.isfinite(v) else None

    def label(name: str) -> str:
        attrs = run.ds[name].attrs
        return str(attrs.get("long_name_fr" if lang == "fr" else "long_name", name))

    # read me
    ws = wb.active
    ws.title = T["s_readme"]
    m = run.manifest
    code = m.get("code") or {}
    sc = (m.get("scenario") or {})
    rows = [(T["note_title"], run.title), ("run", run.run_id), (T["scenario"], sc.get("file", "")),
            (T["description"], court_description((sc.get("header") or {}).get("description", ""))),
            ("mode", m.get("mode", "")), ("replicates", run.replicates), ("seed", m.get("seed", "")),
            ("cogsim", code.get("cogsim", "")), ("commit", code.get("commit", "")),
            ("created_utc", m.get("created_utc", "")), ("", ""), ("", T["readme_sheets"]),
            ("", T["readme_formats"]), ("", T["readme_agg"]), ("", g.source_note(run, lang).replace("\n", " "))]
    for i, (k, v) in enumerate(rows, start=1):
        ws.cell(row=i, column=1, value=k).font = bold
        ws.cell(row=i, column=2, value=v).alignment = wrap
    ws.column_dimensions["A"].width = 18
    ws.column_dimensions["B"].width = 110

    # key figures
    kf = key_figures(run)
    ws = wb.create_sheet(T["s_key"])
    fmt = dict(a=kf["a"], z=kf["z"], a1=kf["a"] + 1)
    cols = [("etpma_a", T["c_etpma_a"], "#,##0"), ("etpma_z", T["c_etpma_z"], "#,##0"),
            ("p05", T["h_p05"] + f" {kf['z']}", "#,##0"), ("p95", T["h_p95"] + f" {kf['z']}", "#,##0"),
            ("variation", T["c_variation"], "+#,##0;-#,##0;0"), ("plafond", T["c_plafond"], "#,##0"),
            ("saturation", T["c_saturation"], "0.0%")]
    bcols = [("masse_salariale", T["c_ms"] + " (M€)", "#,##0.0"), ("evolution_ms", T["c_ms_evol"], "0.00%"),
             ("rmpp", T["c_rmpp"] + " (%)", "0.00"), ("depenses_limitatives", T["c_dl"] + " (M€)", "#,##0.0"),
             ("ecart_adf", T["c_ecart_adf"] + " (M€)", "+#,##0.0;-#,##0.0;0.0"),
             ("ecart_productivite", T["c_ecart_prod"] + " (%)", "+0.0;-0.0;0.0")]
    header(ws, 1, [T["organisme"]] + [c[1].format(**fmt) for c in cols] + [c[1].format(**fmt) for c in bcols],
           [18] + [14] * (len(cols) + len(bcols)))
    for i, o in enumerate(kf["rows"], start=2):
        ws.cell(row=i, column=1, value=o)
        for j, (key, _, f) in enumerate(cols, start=2):
            c = ws.cell(row=i, column=j, value=num(kf["staff"][i - 2][key]))
            c.number_format = f
        for j, (key, _, f) in enumerate(bcols, start=2 + len(cols)):
            c = ws.cell(row=i, column=j, value=num(kf["budget"][i - 2][key]))
            c.number_format = f
    ws.freeze_panes = "B2"

    # inputs
    ws = wb.create_sheet(T["s_inputs"])
    years = [int(y) for y in run.years]
    header(ws, 1, [T["h_param"], T["h_label"], T["h_unit"], T["h_value"]] + [str(y) for y in years],
           [46, 60, 14, 22] + [10] * len(years))
    r = 2
    for p, v in (m.get("parameters") or {}).items():
        entry = _catalogue_entry(p)
        ws.cell(row=r, column=1, value=p)
        if entry is not None:
            ws.cell(row=r, column=2, value=entry.title_fr if lang == "fr" else entry.title)
            ws.cell(row=r, column=3, value=entry.unit)
        if isinstance(v, dict) and v and all(str(k).isdigit() and len(str(k)) == 4 for k in v):
            for y, x in v.items():
                if int(y) in years:
                    cell = ws.cell(row=r, column=5 + years.index(int(y)))
                    if _is_none(x):
                        cell.value = T["none"]
                    else:
                        cell.value = x
                        cell.number_format = "General"
        elif isinstance(v, (dict, list)):
            ws.cell(row=r, column=4, value=json.dumps(v, ensure_ascii=False))
        elif _is_none(v):
            ws.cell(row=r, column=4, value=T["none"])
        else:
            ws.cell(row=r, column=4, value=v)
        r += 1
    ws.freeze_panes = "B2"
    ws.auto_filter.ref = f"A1:{get_column_letter(4 + len(years))}{r - 1}"

    # results (the numbers of results.csv)
    ws = wb.create_sheet(T["s_results"])
    df = tidy_frame(run.ds)
    value_cols = ["value"] if "value" in df.columns else ["mean", "p05", "p50", "p95"]
    heads = {"value": T["h_value"], "mean": T["h_mean"], "p05": T["h_p05"], "p50": T["h_p50"], "p95": T["h_p95"]}
    header(ws, 1, [T["h_variable"], T["h_label"], T["h_unit"], T["organisme"], T["h_year"]]
           + [heads[c] for c in value_cols], [26, 60, 22, 16, 8] + [14] * len(value_cols))
    labels = {n: label(n) for n in run.ds.data_vars}
    own = set(run.ds["organisme"].values)
    units_of: dict[tuple[str, str], str] = {}
    for var in run.ds.data_vars:
        u = str(run.ds[var].attrs.get("units", ""))
        for org in run.organismes:  # per-organisme units ("cnam: UO FSE; ...") have no aggregate unit
            units_of[var, org] = run.units_of(var, org) if org in own else ("" if ": " in u and ";" in u else u)
    formats = {var: _excel_format(str(run.ds[var].attrs.get("units", "")), var) for var in run.ds.data_vars}
    values = df[value_cols].to_numpy(dtype=float)
    for i, (var, org, year) in enumerate(zip(df["variable"], df["organisme"], df["year"])):
        rr = i + 2
        ws.cell(row=rr, column=1, value=var)
        ws.cell(row=rr, column=2, value=labels[var])
        ws.cell(row=rr, column=3, value=units_of[var, org])
        ws.cell(row=rr, column=4, value=org)
        ws.cell(row=rr, column=5, value=int(year))
        f = formats[var]
        for j, x in enumerate(values[i], start=6):
            c = ws.cell(row=rr, column=j, value=float(x) if np.isfinite(x) else None)
            c.number_format = f
    ws.freeze_panes = "F2"
    ws.auto_filter.ref = f"A1:{get_column_letter(5 + len(value_cols))}{len(df) + 1}"

    # main tables, organisme × year (means)
    ws = wb.create_sheet(T["s_tables"])
    ws.column_dimensions["A"].width = 18
    for j in range(len(years)):
        ws.column_dimensions[get_column_letter(2 + j)].width = 11
    r = 1
    for name in TABLE_VARIABLES:
        if name not in run.ds:
            continue
        units = str(run.ds[name].attrs.get("units", ""))
        per_org = ": " in units and ";" in units
        ws.cell(row=r, column=1, value=f"{labels[name]} ({name}" + ("" if per_org else f", {units}") + ")").font = bold
        r += 1
        header(ws, r, [T["organisme"]] + [str(y) for y in years] + ([T["h_unit"]] if per_org else []))
        r += 1
        for o in run.organismes:
            mean = run.mean(name, o)
            if per_org and not np.isfinite(mean).any():
                continue
            ws.cell(row=r, column=1, value=o)
            f = _excel_format(units, name)
            for j, x in enumerate(mean, start=2):
                c = ws.cell(row=r, column=j, value=num(x))
                c.number_format = f
            if per_org:
                ws.cell(row=r, column=2 + len(years), value=run.units_of(name, o))
            r += 1
        r += 1
    ws.freeze_panes = "B1"

    # bridges (means over replicates)
    for sheet, fn, parts, level, f in (
            (T["s_bridge_etpma"], g.etpma_bridge, g.ETPMA_PARTS, "etpma", "#,##0"),
            (T["s_bridge_ms"], g.masse_salariale_bridge, g.MS_EFFETS, "masse_salariale", "#,##0.0")):
        if not all(v in run.ds for v in ((level,) + (g.MS_EFFETS if level == "masse_salariale" else
                                                     ("departs_retraite", "recrutements")))):
            continue
        ws = wb.create_sheet(sheet)
        L = g.LABELS[lang]
        vname = "ETPMA" if level == "etpma" else L["masse_salariale"]
        unit = " (ETPMA)" if level == "etpma" else " (M€)"
        heads_b = [T["organisme"], T["h_year"], T["h_prev"].format(v=vname) + unit] + \
                  [L[k] for k in parts] + [T["h_change"], T["h_level"].format(v=vname) + unit]
        if level == "etpma":
            heads_b.append(T["mem_mutualisation"])
        header(ws, 1, heads_b, [16, 8, 16] + [16] * len(parts) + [14, 16] + ([22] if level == "etpma" else []))
        r = 2
        for o in run.organismes:
            b = fn(run, o)
            lev = b[level]
            for i in range(1, len(years)):
                vals = [lev[i - 1]] + [b[k][i] for k in parts] + [b["net"][i], lev[i]]
                if level == "etpma":
                    vals.append(b["mutualisation"][i])
                ws.cell(row=r, column=1, value=o)
                ws.cell(row=r, column=2, value=years[i])
                for j, x in enumerate(vals, start=3):
                    c = ws.cell(row=r, column=j, value=num(x))
                    c.number_format = f
                r += 1
        ws.freeze_panes = "C2"
        ws.auto_filter.ref = f"A1:{get_column_letter(len(heads_b))}{r - 1}"
    wb.save(path)
