"""The command line (``run_scenario.py`` and the ``cogsim`` console script are the same program).

Exit codes: 0 success, 2 bad input (a message naming file, key path, value and what is allowed),
1 a bug.

Memory: the command line asks glibc to keep freed memory for reuse
(:func:`model.engine.simulation.keep_freed_memory`, in this process and in the workers of the dask
clusters it starts): the engine's monthly temporaries are then not unmapped and zero-filled again, about
a fifth of the CPU time of a 1 000-replicate run. ``COGSIM_MALLOC=system`` leaves the allocator as it is.
"""

from __future__ import annotations

import argparse
import dataclasses
import importlib
import math
import os
import shutil
import sys
from pathlib import Path
from typing import Mapping, Sequence

import numpy as np

from model.engine.simulation import keep_freed_memory
from model.params.calendrier import ORGANISMES
from model.params.catalogue import load_catalogue
from model.params.errors import MAX_AFFICHES, InputError, Problem

ROOT = Path(__file__).resolve().parents[2]  # the project folder (model/<layer>/<module>.py)
DEFAULT_SCENARIO = ROOT / "scenarios" / "cog_2018_2022.toml"
LABELS = {
    "fr": {"title": "ETPMA moyen par organisme et par année", "org": "organisme",
           "rg": "régime général", "total": "total", "band": "bande 90 % (total)",
           "written": "Résultats écrits dans", "ok": "valide", "warn": "avertissement",
           "reps": "réplication(s)",
           "ms": "MS RG (M€)", "rmpp": "RMPP RG (%)", "cadrage": "écart cadrage",
           "cibles": "Cibles de la COG : probabilité d'être respectées", "cible": "cible",
           "hint": "Graphiques, note PDF et classeur : {cmd} report {out}  (ou : {cmd} run SCENARIO --report)",
           "report_written": "Rapport (graphiques, note PDF, classeur) écrit dans",
           "template": "Classeur de scénario écrit : {out} (changez les cellules jaunes, puis cogsim run {out})",
           "rep1": "réplication", "stochastic": "stochastique", "deterministic": "déterministe",
           "charts": "{n} fichiers de graphiques dans {out}",
           "error": "erreur", "warn_prefix": "avertissement", "colon": " : ", "allowed": "autorisé",
           "more": "... et {n} autre(s) problème(s)", "interrupted": "interrompu : rien n'a été écrit",
           "d_head": "{title} ({path}) ; base : {baseline}", "d_catalogue": "catalogue et calibrage",
           "d_star": "* = modifié par la chaîne de scénarios", "d_baseline": "base :     ",
           "d_scenario": "scénario : ", "d_unit": "unité :    ", "d_source": "source :   ",
           "d_calibre": "calibré :  ", "d_estimated": "estimé ; ", "d_none": "(aucun)",
           "d_calibre_txt": "{values} (calibration/parametres_calibres.toml : ajusté par cogsim calibrate)"},
    "en": {"title": "Mean ETPMA by organisme and year", "org": "organisme",
           "rg": "general scheme", "total": "total", "band": "90 % band (total)",
           "written": "Results written to", "ok": "valid", "warn": "warning",
           "reps": "replicates", "ms": "RG wage bill MEUR", "rmpp": "RG RMPP (%)", "cadrage": "gap to cadrage",
           "cibles": "COG targets: probability of being met", "cible": "target",
           "hint": "Charts, PDF note and workbook: {cmd} report {out}  (or: {cmd} run SCENARIO --report)",
           "report_written": "Report (charts, PDF note, workbook) written to",
           "template": "Scenario workbook written: {out} (change the yellow cells, then cogsim run {out})",
           "rep1": "replicate", "stochastic": "stochastic", "deterministic": "deterministic",
           "charts": "{n} chart files in {out}",
           "error": "error", "warn_prefix": "warning", "colon": ": ", "allowed": "allowed",
           "more": "... and {n} more problem{s}", "interrupted": "interrupted: nothing was written",
           "d_head": "{title} ({path}); baseline: {baseline}", "d_catalogue": "catalogue and calibration",
           "d_star": "* = changed by the scenario chain", "d_baseline": "baseline: ",
           "d_scenario": "scenario: ", "d_unit": "unit:     ", "d_source": "source:   ",
           "d_calibre": "fitted:   ", "d_estimated": "estimated; ", "d_none": "(none)",
           "d_calibre_txt": "{values} (calibration/parametres_calibres.toml: fitted by cogsim calibrate)"},
}


# The library names its caller's arguments by their own names under the source ``arguments`` (``out``,
# ``replicates``, ``target``...); the command line places them on the command line and names them after the
# options the user typed: each command's table (``set_defaults(options=...)``; this one for ``run``).
# Commands whose library calls take ``names`` (sweep, sensitivity, solve) pass their table in too, so that the
# messages' texts name the options as well.
ARGUMENTS = "arguments"
SOURCE = "command line"
OPTIONS = {"source": SOURCE, "out": "--out", "replicates": "--replicates", "seed": "--seed",
           "deterministic": "--deterministic", "precision": "--precision", "lang": "--lang",
           "export_state": "--export-state"}


def as_options(problems: Sequence[Problem], options: Mapping[str, str]) -> list[Problem]:
    """``problems`` as the command line reports them: a problem with one of the library's arguments (source
    ``arguments``, key path the argument's name) placed on the command line and named after its option."""
    return [dataclasses.replace(p, file=SOURCE, path=options[p.path])
            if p.file == ARGUMENTS and p.path in options and p.path != "source" else p for p in problems]


def command_line(args: argparse.Namespace) -> tuple[str, ...]:
    """The command line as typed (recorded in the manifests of what it writes)."""
    return tuple(getattr(args, "argv", None) or sys.argv)


def default_lang() -> str:
    """The language of the command line when ``--lang`` is not given: ``COGSIM_LANG`` (fr or en), else fr."""
    lang = os.environ.get("COGSIM_LANG", "fr")
    return lang if lang in LABELS else "fr"


def keep_memory() -> bool:
    """Does the command line keep freed memory for reuse (the default; ``COGSIM_MALLOC=system``: no)?"""
    return os.environ.get("COGSIM_MALLOC", "keep") != "system"


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # exit 2 with a clear message, no traceback
        self.print_usage(sys.stderr)
        print(f"error: {message}", file=sys.stderr)
        raise SystemExit(2)


def positive_int(text: str) -> int:
    try:
        v = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None
    if v < 1:
        raise argparse.ArgumentTypeError(f"{text} is not allowed (allowed: an integer >= 1)")
    return v


def non_negative_int(text: str) -> int:
    try:
        v = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None
    if v < 0:
        raise argparse.ArgumentTypeError(f"{text} is not allowed (allowed: an integer >= 0)")
    return v


# commands whose modules import heavy libraries are loaded only when invoked, so that the default
# run stays fast: command -> (module providing register(subparsers), one-line help)
EXTERNAL: dict[str, tuple[str, str]] = {
    "calibrate": ("model.cli.calibrate", "fit the parameters to the 2013-2018 observations"),
    "backtest": ("model.cli.calibrate", "refit on shorter windows, score the held-out years and the post-2018 figures"),
    "solve": ("model.cli.solve", "goal seek: the lever values that meet COG targets"),
    "sweep": ("model.cli.sweep", "run a grid of scenarios (cartesian product, streamed to Zarr)"),
    "sensitivity": ("model.cli.sensitivity", "one-at-a-time, Morris or Sobol' indices per output, year and organisme"),
    "report": ("model.cli.report", "charts + PDF note + XLSX workbook from a saved run (writes RUN_DIR/report/)"),
    "compare": ("model.cli.compare", "differences between saved runs (the first is the reference): charts, table, "
                "workbook, note"),
}


def _invoked(argv: Sequence[str] | None) -> str | None:
    """The command named on the command line (first argument that is not an option)."""
    args = list(sys.argv[1:] if argv is None else argv)
    skip = False
    for a in args:
        if skip:
            skip = False
            continue
        if a == "--lang":
            skip = True
            continue
        if not a.startswith("-"):
            return a
    return None


def build_parser(argv: Sequence[str] | None = None) -> argparse.ArgumentParser:
    p = _Parser(prog="cogsim", description="cogsim: workforce and management-budget model of the "
                "French social-security funds (COG 2018-2022). Without a command: runs the default "
                "scenario and prints a summary.")
    p.add_argument("--lang", choices=["fr", "en"], default=default_lang(),
                   help="language of the messages, tables and charts (default fr, or the COGSIM_LANG environment "
                        "variable)")
    sub = p.add_subparsers(dest="command", parser_class=_Parser)
    r = sub.add_parser("run", help="run one scenario and write results/<run-id>/")
    r.add_argument("scenario", type=Path)
    r.add_argument("--out", type=Path, help="results folder (default results/<run-id>/)")
    r.add_argument("--replicates", type=positive_int, help="number of stochastic replicates")
    r.add_argument("--seed", type=non_negative_int, help="root seed of the random streams")
    r.add_argument("--deterministic", action="store_true", help="expected values instead of draws")
    r.add_argument("--charts", action="store_true", help="also draw the charts into RUN_DIR/charts/")
    r.add_argument("--report", action="store_true",
                   help="also write the report (charts, PDF note, XLSX workbook) into RUN_DIR/report/, as "
                        "`cogsim report RUN_DIR` would")
    r.add_argument("--precision", action="append", default=[], metavar="VAR:ORGANISME:YEAR=HALF_WIDTH[%]",
                   help="pick the replicates so that the 95%% confidence half-width of these means is reached "
                        "(a pilot of --replicates, default 20); repeatable")
    r.add_argument("--max-replicates", type=positive_int, default=1000, help="upper limit for --precision")
    r.add_argument("--export-state", type=int, metavar="YEAR",
                   help="also write RUN_DIR/etat_31dec_YEAR.csv: the expected staff and pay at 31 December YEAR, a "
                        "staff file (etat_initial.fichier) for a run of the following years")
    for sp in (r,):
        sp.add_argument("--lang", choices=["fr", "en"], default=argparse.SUPPRESS,
                        help="language of the printed labels")
    c = sub.add_parser("check", help="validate scenario files; every problem listed")
    c.add_argument("scenarios", type=Path, nargs="+")
    d = sub.add_parser("describe", help="every parameter: baseline value, scenario value, unit, source")
    d.add_argument("scenario", type=Path)
    d.add_argument("--changed", action="store_true", help="only the parameters the scenario changes")
    t = sub.add_parser("template", help="a scenario workbook (XLSX) that every command accepts like a TOML file")
    t.add_argument("--baseline", type=Path, help="the scenario whose values the workbook shows (default: the "
                   "catalogue and the calibration)")
    t.add_argument("--out", type=Path, required=True, help="the workbook to write (a new .xlsx file)")
    # the module of the invoked command registers every command it provides (calibration: calibrate and
    # backtest), once; the other external commands get a placeholder (name and help only)
    invoked = _invoked(argv)
    invoked_module = EXTERNAL[invoked][0] if invoked in EXTERNAL else None
    for name, (module, help_) in EXTERNAL.items():
        if name in sub.choices:
            continue
        if module == invoked_module:
            importlib.import_module(module).register(sub)
            invoked_module = None  # registered: never twice
        if name not in sub.choices:
            sub.add_parser(name, help=help_, add_help=False)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser(argv).parse_args(argv)
    args.argv = list(sys.argv) if argv is None else ["cogsim", *map(str, argv)]
    if keep_memory():
        keep_freed_memory()  # a choice for the whole process: the command line's (see the module docstring)
    lang = getattr(args, "lang", None) or default_lang()
    try:
        if args.command is None:
            return _cmd_run(DEFAULT_SCENARIO, None, None, None, False, lang, summary=True)
        if args.command == "run":
            return _cmd_run(args.scenario, args.out, args.replicates, args.seed, args.deterministic, lang,
                            summary=True, charts=args.charts, precision=args.precision,
                            max_replicates=args.max_replicates, report=args.report,
                            export_state=args.export_state)
        if args.command == "check":
            return _cmd_check(args.scenarios, lang)
        if args.command == "template":
            return _cmd_template(args.baseline, args.out, lang)
        if args.command == "describe":
            return _cmd_describe(args.scenario, args.changed, lang)
        if hasattr(args, "func"):
            return args.func(args)
    except InputError as exc:
        for line in problem_lines(as_options(exc.problems, getattr(args, "options", OPTIONS)), lang):
            print(line, file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(LABELS[lang]["interrupted"], file=sys.stderr)
        return 130
    except BrokenPipeError:  # the reader went away (`cogsim describe X | head`): not an error
        sys.stderr.close()
        return 0
    return 1


def problem_lines(problems: Sequence[Problem], lang: str = "fr", severity: str | None = None) -> list[str]:
    """The lines to print for ``problems`` in ``lang``: "erreur : FILE : PATH = VALUE : MESSAGE (autorisé : ...)"
    in French (the library's English messages translated: :func:`model.outputs.libelles.traduire`), the
    first :data:`~model.params.errors.MAX_AFFICHES`, then one line counting the rest."""
    L = LABELS[lang]
    problems = list(problems)
    if lang != "en":
        # lazy: the translation tables only when there is something to say
        from model.outputs.libelles import traduire

        problems = [dataclasses.replace(p, file=traduire(p.file, lang), message=traduire(p.message, lang),
                                        allowed=traduire(p.allowed, lang)) for p in problems]
    out = []
    for p in problems[:MAX_AFFICHES]:
        kind = L["error"] if (severity or p.severity) == "error" else L["warn_prefix"]
        out.append(f"{kind}{L['colon']}{p.texte(L['allowed'], L['colon']) if lang != 'en' else str(p)}")
    if len(problems) > len(out):
        rest = len(problems) - len(out)
        out.append(f"{L['error']}{L['colon']}" + L["more"].format(n=rest, s="s" if rest > 1 else ""))
    return out


def _traduit(text: str, lang: str) -> str:
    """A notice of the library (English) in ``lang``."""
    if lang == "en":
        return text
    # lazy: the translation tables only when there is something to say
    from model.outputs.libelles import traduire

    return traduire(text, lang)


def _cmd_run(path, out, replicates, seed, deterministic, lang, summary, charts=False, precision=(),
             max_replicates=1000, report=False, export_state=None) -> int:
    # lazy: a command's modules load only when it runs (check and describe stay fast)
    from model.results.run import run_scenario

    if precision:
        # lazy: a command's modules load only when it runs (check and describe stay fast)
        from model.analysis.precision import PILOT_REPLICATES, parse_precision, replicates_for_run

        targets = parse_precision(precision, OPTIONS["precision"], SOURCE)
        if deterministic:
            raise InputError([Problem(SOURCE, OPTIONS["precision"], precision[0], "a deterministic run has no "
                                      "sampling error", "--precision without --deterministic")])
        replicates, report = replicates_for_run(path, targets, pilot=replicates or PILOT_REPLICATES, seed=seed,
                                                max_replicates=max_replicates)
        print(_traduit(report["message"], lang), file=sys.stderr)

    def warn(warnings) -> None:  # before the run starts
        for line in problem_lines(warnings, lang, "warning"):
            print(line, file=sys.stderr)

    res = run_scenario(path, out=out, replicates=replicates, seed=seed, deterministic=deterministic,
                       results_dir=ROOT / "results" if path == DEFAULT_SCENARIO and out is None else "results",
                       on_warnings=warn, on_notice=lambda text: print(_traduit(text, lang), file=sys.stderr),
                       export_state=export_state)
    if summary:
        print(summary_table(res.dataset, lang))
        targets = summary_targets(res.dataset, lang)
        if targets:
            print("\n" + targets)
        print(f"\n{LABELS[lang]['written']} {res.out}")
        if not report:
            print(LABELS[lang]["hint"].format(cmd=_program(), out=res.out))
    if report:
        # lazy: a command's modules load only when it runs (check and describe stay fast)
        from model.outputs.rapport import write_report

        folder = write_report(res.out, lang=lang)
        print(f"{LABELS[lang]['report_written']} {folder}")
    if charts:
        # lazy: a command's modules load only when it runs (check and describe stay fast)
        from model.outputs.rapport import draw_charts

        paths = draw_charts(res.out, lang)
        print(LABELS[lang]["charts"].format(n=len(paths), out=res.out / "charts"))
    return 0


def _program() -> str:
    """How the user called cogsim, to repeat it in a hint: ``cogsim`` when on the PATH, else the path
    typed (``.venv/bin/cogsim``) or the interpreter that ran ``run_scenario.py`` (``.venv/bin/python
    run_scenario.py``: a bare ``python`` may be one without cogsim's dependencies)."""
    argv0 = Path(sys.argv[0]) if sys.argv and sys.argv[0] else Path("cogsim")
    if argv0.name == "run_scenario.py":
        exe = Path(sys.executable)
        if exe.is_absolute() and exe.is_relative_to(Path.cwd()):
            exe = exe.relative_to(Path.cwd())
        return f"{exe} {argv0}"
    if argv0.name == "cogsim" and shutil.which("cogsim") and Path(shutil.which("cogsim")).resolve() == argv0.resolve():
        return "cogsim"
    return str(argv0) if argv0.name == "cogsim" else "cogsim"


def summary_table(ds, lang: str = "fr") -> str:
    """ETPMA by organisme × year (mean over replicates), with régime général and total rows; over all
    the replicates of the run when its Dataset keeps only the first ones."""
    # lazy: a command's modules load only when it runs (check and describe stay fast)
    from model.outputs.texte import court
    # lazy: a command's modules load only when it runs (check and describe stay fast)
    from model.results.dataset import statistiques_replicates, with_aggregates

    if statistiques_replicates(ds, "etpma") is not None:
        return _summary_from_statistics(ds, lang)
    L = LABELS[lang]
    da = with_aggregates(ds["etpma"], ds)
    mean = da.mean("replicate") if "replicate" in da.dims else da
    n_rep = ds.sizes.get("replicate", 1)
    head = f"{L['title']} — {court(ds.attrs.get('title', ''))} ({_replicates(n_rep, L)}, {_mode(ds, L)})"
    lines = [head, ""]
    lines.append(f"{L['org']:<16}" + "".join(f"{int(y):>9}" for y in ds["year"].values))
    names = list(ORGANISMES) + ["regime_general", "total"]
    for name in names:
        label = L["rg"] if name == "regime_general" else L["total"] if name == "total" else name
        vals = mean.sel(organisme=name).values
        lines.append(f"{label:<16}" + "".join(f"{_fmt(v):>9}" for v in vals))
    if n_rep > 1:
        tot = da.sel(organisme="total")
        lo, hi = tot.quantile(0.05, "replicate").values, tot.quantile(0.95, "replicate").values
        lines.append(f"{L['band']:<16}" + "".join(f"{_fmt(a) + '-' + _fmt(b)[-3:]:>9}" if False else
                                                  f"{'±' + _fmt((b - a) / 2):>9}" for a, b in zip(lo, hi)))
    lines.append("")
    pct = (lambda v: _pct(v).replace(".", ",")) if lang == "fr" else _pct  # noqa: E731
    for var, label, fmt in (("masse_salariale", L["ms"], _fmt), ("rmpp", L["rmpp"], pct),
                            ("ecart_rmpp_cadrage", L["cadrage"], pct)):
        if var not in ds:
            continue
        agg = with_aggregates(ds[var], ds)
        agg = agg.mean("replicate") if "replicate" in agg.dims else agg
        vals = agg.sel(organisme="regime_general").values
        lines.append(f"{label:<16}" + "".join(f"{fmt(v):>9}" for v in vals))
    return "\n".join(lines)


def _summary_from_statistics(ds, lang: str) -> str:
    """``summary_table`` from the statistics over all replicates (a run whose Dataset keeps the first
    replicates only): same layout, same numbers as over a Dataset of every replicate."""
    # lazy: a command's modules load only when it runs (check and describe stay fast)
    from model.outputs.texte import court
    from model.params.calendrier import AGGREGATS
    # lazy: a command's modules load only when it runs (check and describe stay fast)
    from model.results.dataset import STATISTIQUES, statistiques_replicates

    L = LABELS[lang]
    organismes = list(ds["organisme"].values) + list(AGGREGATS)
    n_rep = ds.attrs.get("replicates", ds.sizes.get("replicate", 1))
    head = f"{L['title']} — {court(ds.attrs.get('title', ''))} ({_replicates(n_rep, L)}, {_mode(ds, L)})"
    lines = [head, ""]
    lines.append(f"{L['org']:<16}" + "".join(f"{int(y):>9}" for y in ds["year"].values))
    st = statistiques_replicates(ds, "etpma")
    mean = st[..., STATISTIQUES.index("moyenne")]
    for name in list(ORGANISMES) + ["regime_general", "total"]:
        label = L["rg"] if name == "regime_general" else L["total"] if name == "total" else name
        lines.append(f"{label:<16}" + "".join(f"{_fmt(v):>9}" for v in mean[:, organismes.index(name)]))
    tot = organismes.index("total")
    lo, hi = st[:, tot, STATISTIQUES.index("p05")], st[:, tot, STATISTIQUES.index("p95")]
    lines.append(f"{L['band']:<16}" + "".join(f"{'±' + _fmt((b - a) / 2):>9}" for a, b in zip(lo, hi)))
    lines.append("")
    pct = (lambda v: _pct(v).replace(".", ",")) if lang == "fr" else _pct  # noqa: E731
    rg = organismes.index("regime_general")
    for var, label, fmt in (("masse_salariale", L["ms"], _fmt), ("rmpp", L["rmpp"], pct),
                            ("ecart_rmpp_cadrage", L["cadrage"], pct)):
        st = statistiques_replicates(ds, var)
        if st is None:
            continue
        lines.append(f"{label:<16}" + "".join(f"{fmt(v):>9}" for v in st[:, rg, STATISTIQUES.index("moyenne")]))
    return "\n".join(lines)


def summary_targets(ds, lang: str = "fr") -> str:
    """The COG targets (``probabilite_respect``, over every replicate of the run): one line per
    organisme with an ETPMA path (the change it asks for since the year before it starts, the chance of
    meeting it and the expected gap), then the chance of meeting each target by organisme in the last
    year; "atteinte"/"manquée" (met/missed) when the run has one path. Empty without targets."""
    # lazy: a command's modules load only when it runs (check and describe stay fast)
    from model.outputs.libelles import cible_label, org_label, probabilite_label, table
    # lazy: a command's modules load only when it runs (check and describe stay fast)
    from model.results.cibles import trajectoires_etpma, une_trajectoire

    if "probabilite_respect" not in ds:
        return ""
    L, T = LABELS[lang], table(lang)["cibles"]
    p = ds["probabilite_respect"]
    one = une_trajectoire(ds)
    orgs = [str(o) for o in ds["organisme"].values]
    z = int(ds["year"].values[-1])

    def chance(v: float) -> str:
        text = probabilite_label(v, lang, one, space=" ")
        return text if one or text == "–" else T["chances"].format(p=text)

    sep = " : " if lang == "fr" else ": "
    how = (T["deterministe"] if p.attrs.get("mode") == "deterministic" else T["une_replication"]) if one else \
        _replicates(p.attrs.get("replicates"), L)
    lines = [f"{L['cibles']} ({how})"]
    for t in trajectoires_etpma(ds):
        head = T["etpma"].format(org=org_label(t["organisme"], lang), delta=_signed(t["variation"]), z=t["z"],
                                 a=t["a"], cible=_fmt(t["cible"]))
        gap = T["ecart_un" if one else "ecart"].format(e=_signed(t["ecart_attendu"]) + " ETPMA")
        lines.append(f"{head}{sep}{chance(t['probabilite'])}, {gap}")
    last = p.sel(year=z)
    rows = [(str(c), str(s)) for c, s in zip(p["cible"].values, p["cible_sens"].values)
            if np.isfinite(last.sel(cible=c).values).any()]
    if rows:
        labels = {c: f"{cible_label(c, lang)} ({'≤' if s == '<=' else '≥'})" for c, s in rows}
        width = max(len(v) for v in labels.values()) + 2
        lines.append("")
        lines.append(f"{L['cible'] + f' {z}':<{width}}" + "".join(f"{o:>10}" for o in orgs))
        for c, _ in rows:
            lines.append(f"{labels[c]:<{width}}" + "".join(
                f"{probabilite_label(float(last.sel(cible=c, organisme=o)), lang, one, space=' '):>10}" for o in orgs))
    return "\n".join(lines)


def _replicates(n, L: Mapping[str, str]) -> str:
    """"1 replicate", "60 replicates" (French: "1 réplication(s)" reads "1 réplication")."""
    return f"{n} {L['rep1']}" if str(n) == "1" else f"{n} {L['reps'] if L is LABELS['en'] else 'réplications'}"


def _mode(ds, L: Mapping[str, str]) -> str:
    mode = str(ds.attrs.get("mode", ""))
    return L.get(mode, mode)


def _signed(v: float) -> str:
    return ("+" if np.isfinite(v) and round(v) > 0 else "") + _fmt(v)


def _pct(v: float) -> str:
    return "-" if not np.isfinite(v) else f"{v:.2f}"


def _fmt(v: float) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)) or (isinstance(v, np.floating) and np.isnan(v)):
        return "-"
    return f"{v:,.0f}".replace(",", " ")


def _cmd_check(paths: list[Path], lang: str) -> int:
    # lazy: a command's modules load only when it runs (check and describe stay fast)
    from model.params.scenario import check_scenarios

    errors, warnings = check_scenarios(paths)
    for line in problem_lines(warnings, lang, "warning"):
        print(line, file=sys.stderr)
    for line in problem_lines(errors, lang):
        print(line, file=sys.stderr)
    if errors:
        return 2
    for p in paths:
        print(f"{p}: {LABELS[lang]['ok']}")
    return 0


def _cmd_describe(path: Path, changed_only: bool, lang: str = "fr") -> int:
    # lazy: a command's modules load only when it runs (check and describe stay fast)
    from model.outputs.texte import court
    # lazy: a command's modules load only when it runs (check and describe stay fast)
    from model.params.calibres import parametres_calibres
    # lazy: a command's modules load only when it runs (check and describe stay fast)
    from model.params.parametres import jsonable
    # lazy: a command's modules load only when it runs (check and describe stay fast)
    from model.params.scenario import load_scenario

    L = LABELS[lang]
    sc = load_scenario(path)
    cat = load_catalogue()
    fitted = parametres_calibres()
    print(L["d_head"].format(title=court(sc.header.get("title", sc.name)), path=path,
                             baseline=sc.header.get("baseline") or L["d_catalogue"]))
    print(L["d_star"] + "\n")
    for p in cat.values():
        for rpath in p.paths():
            b = jsonable(sc.baseline[rpath], sc.parametres.horizon)
            v = jsonable(sc.parametres[rpath], sc.parametres.horizon)
            changed = b != v
            if changed_only and not changed:
                continue
            print(("* " if changed else "  ") + rpath + f" — {p.title_fr if lang == 'fr' else p.title}")
            if p.type == "events":
                for label, value in ((L["d_baseline"], b), (L["d_scenario"], v)):
                    print(f"    {label}" + ("" if value else L["d_none"]))
                    for line in _event_table(value, list(p.fields)):
                        print(f"        {line}")
            else:
                print(f"    {L['d_baseline']}{_compact(b)}")
                print(f"    {L['d_scenario']}{_compact(v)}")
            print(f"    {L['d_unit']}{p.unit}")
            if rpath in fitted:
                raw = fitted[rpath]  # as the file writes it: a table {year = value from that year on}
                shown = ("{" + ", ".join(f"{k} = {_num(x)}" for k, x in raw.items()) + "}") if isinstance(raw, dict) \
                    else _num(raw)
                print(f"    {L['d_calibre']}" + L["d_calibre_txt"].format(values=shown))
            print(f"    {L['d_source']}" + (L["d_estimated"] if p.estimated else "") + " ".join(p.source.split()))
    return 0


def _event_table(events, fields: list[str]) -> list[str]:
    """Dated events as a text table: one column per field, one row per event."""
    if not events:
        return []
    rows = [[str(e.get(f, "")) for f in fields] for e in events]
    widths = [max(len(f), *(len(r[i]) for r in rows)) for i, f in enumerate(fields)]
    out = ["  ".join(f"{f:<{w}}" for f, w in zip(fields, widths)).rstrip(),
           "  ".join("-" * w for w in widths)]
    out += ["  ".join(f"{c:<{w}}" for c, w in zip(r, widths)).rstrip() for r in rows]
    return out


def _cmd_template(baseline: Path | None, out: Path, lang: str) -> int:
    # lazy: a command's modules load only when it runs (check and describe stay fast)
    from model.params.classeur_scenario import SUFFIXES, ecrire_modele
    # lazy: a command's modules load only when it runs (check and describe stay fast)
    from model.params.scenario import default_parametres, load_scenario
    # lazy: a command's modules load only when it runs (check and describe stay fast)
    from model.results.writers import write_new_file

    if out.suffix.lower() not in SUFFIXES:
        raise InputError([Problem(SOURCE, "--out", out, "not a workbook name", "a file name ending in .xlsx")])
    if baseline is not None:
        sc = load_scenario(baseline)
        par = sc.parametres
        rel = os.path.relpath(baseline.resolve(), out.resolve().parent)
        header = {"title": f"Variante de « {sc.header.get('title', sc.name)} »", "baseline": rel}
    else:
        par = default_parametres()
        header = {"title": "Nouveau scénario", "baseline": ""}
    # no run here: the by-year columns are the model's years (the length of every by-year parameter)
    # lazy: a command's modules load only when it runs (check and describe stay fast)
    from model.outputs.libelles import traduire

    write_new_file(out, lambda tmp: ecrire_modele(tmp, par, par.horizon.annees, header, texte=traduire))
    print(LABELS[lang]["template"].format(out=out))
    return 0


def _compact(v) -> str:
    """A by-year dict as runs of equal values ("2013-2017: 0.53; 2018-2022: 0.5")."""
    if isinstance(v, dict) and v and all(str(k).isdigit() and len(str(k)) == 4 for k in v):
        items = list(v.items())
        runs = []
        start, cur = items[0]
        prev = start
        for k, x in items[1:]:
            if x != cur:
                runs.append((start, prev, cur))
                start, cur = k, x
            prev = k
        runs.append((start, prev, cur))
        if len(runs) == 1:
            return _num(runs[0][2])
        return "; ".join(f"{a}-{b}: {_num(x)}" if a != b else f"{a}: {_num(x)}" for a, b, x in runs)
    return str(v)


def _num(x) -> str:
    return f"{x:g}" if isinstance(x, float) else str(x)


def entry_point() -> None:
    sys.exit(main())


if __name__ == "__main__":
    entry_point()
