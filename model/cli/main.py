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
import sys
from pathlib import Path
from typing import Mapping, Sequence

import numpy as np

from model.engine.simulation import keep_freed_memory
from model.params.calendrier import ORGANISMES
from model.params.catalogue import load_catalogue
from model.params.errors import InputError, Problem, lignes

ROOT = Path(__file__).resolve().parents[2]  # the project folder (model/<layer>/<module>.py)
DEFAULT_SCENARIO = ROOT / "scenarios" / "cog_2018_2022.toml"
LABELS = {
    "fr": {"title": "ETPMA moyen par organisme et par année", "org": "organisme",
           "rg": "régime général", "total": "total", "band": "bande 90 % (total)",
           "written": "Résultats écrits dans", "ok": "valide", "warn": "avertissement",
           "reps": "réplication(s)",
           "ms": "MS RG (M€)", "rmpp": "RMPP RG (%)", "cadrage": "écart cadrage",
           "cibles": "Cibles de la COG : probabilité d'être respectées", "cible": "cible"},
    "en": {"title": "Mean ETPMA by organisme and year", "org": "organisme",
           "rg": "régime général", "total": "total", "band": "90 % band (total)",
           "written": "Results written to", "ok": "valid", "warn": "warning",
           "reps": "replicates", "ms": "RG wage bill MEUR", "rmpp": "RG RMPP (%)", "cadrage": "gap to cadrage",
           "cibles": "COG targets: probability of being met", "cible": "target"},
}


# The library names its caller's arguments by their own names under the source ``arguments`` (``out``,
# ``replicates``, ``target``...); the command line places them on the command line and names them after the
# options the user typed: each command's table (``set_defaults(options=...)``; this one for ``run``).
# Commands whose library calls take ``names`` (sweep, sensitivity, solve) pass their table in too, so that the
# messages' texts name the options as well.
ARGUMENTS = "arguments"
SOURCE = "command line"
OPTIONS = {"source": SOURCE, "out": "--out", "replicates": "--replicates", "seed": "--seed",
           "deterministic": "--deterministic", "precision": "--precision", "lang": "--lang"}


def as_options(problems: Sequence[Problem], options: Mapping[str, str]) -> list[Problem]:
    """``problems`` as the command line reports them: a problem with one of the library's arguments (source
    ``arguments``, key path the argument's name) placed on the command line and named after its option."""
    return [dataclasses.replace(p, file=SOURCE, path=options[p.path])
            if p.file == ARGUMENTS and p.path in options and p.path != "source" else p for p in problems]


def command_line(args: argparse.Namespace) -> tuple[str, ...]:
    """The command line as typed (recorded in the manifests of what it writes)."""
    return tuple(getattr(args, "argv", None) or sys.argv)


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
    p.add_argument("--lang", choices=["fr", "en"], default="fr", help="language of the printed labels")
    sub = p.add_subparsers(dest="command", parser_class=_Parser)
    r = sub.add_parser("run", help="run one scenario and write results/<run-id>/")
    r.add_argument("scenario", type=Path)
    r.add_argument("--out", type=Path, help="results folder (default results/<run-id>/)")
    r.add_argument("--replicates", type=positive_int, help="number of stochastic replicates")
    r.add_argument("--seed", type=non_negative_int, help="root seed of the random streams")
    r.add_argument("--deterministic", action="store_true", help="expected values instead of draws")
    r.add_argument("--charts", action="store_true", help="also draw the charts into RUN_DIR/charts/")
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
    lang = getattr(args, "lang", None) or "fr"
    try:
        if args.command is None:
            return _cmd_run(DEFAULT_SCENARIO, None, None, None, False, lang, summary=True)
        if args.command == "run":
            return _cmd_run(args.scenario, args.out, args.replicates, args.seed, args.deterministic, lang,
                            summary=True, charts=args.charts, precision=args.precision,
                            max_replicates=args.max_replicates, export_state=args.export_state)
        if args.command == "check":
            return _cmd_check(args.scenarios, lang)
        if args.command == "describe":
            return _cmd_describe(args.scenario, args.changed)
        if hasattr(args, "func"):
            return args.func(args)
    except InputError as exc:
        for line in lignes(as_options(exc.problems, getattr(args, "options", OPTIONS))):
            print(f"error: {line}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted: nothing was written", file=sys.stderr)
        return 130
    except BrokenPipeError:  # the reader went away (`cogsim describe X | head`): not an error
        sys.stderr.close()
        return 0
    return 1


def _cmd_run(path, out, replicates, seed, deterministic, lang, summary, charts=False, precision=(),
             max_replicates=1000, export_state=None) -> int:
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
        print(report["message"], file=sys.stderr)

    def warn(warnings) -> None:  # before the run starts
        for w in warnings:
            print(f"warning: {w}", file=sys.stderr)

    res = run_scenario(path, out=out, replicates=replicates, seed=seed, deterministic=deterministic,
                       results_dir=ROOT / "results" if path == DEFAULT_SCENARIO and out is None else "results",
                       on_warnings=warn, on_notice=lambda text: print(text, file=sys.stderr),
                       export_state=export_state)
    if summary:
        print(summary_table(res.dataset, lang))
        targets = summary_targets(res.dataset, lang)
        if targets:
            print("\n" + targets)
        print(f"\n{LABELS[lang]['written']} {res.out}")
    if charts:
        # lazy: a command's modules load only when it runs (check and describe stay fast)
        from model.outputs.rapport import draw_charts

        paths = draw_charts(res.out, lang)
        print(f"{len(paths)} charts in {res.out / 'charts'}")
    return 0


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
    head = f"{L['title']} — {court(ds.attrs.get('title', ''))} ({n_rep} {L['reps']}, {ds.attrs.get('mode', '')})"
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
    head = f"{L['title']} — {court(ds.attrs.get('title', ''))} ({n_rep} {L['reps']}, {ds.attrs.get('mode', '')})"
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
        f"{p.attrs.get('replicates')} {L['reps']}"
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
    for w in warnings:
        print(f"warning: {w}", file=sys.stderr)
    for line in lignes(errors):
        print(f"error: {line}", file=sys.stderr)
    if errors:
        return 2
    for p in paths:
        print(f"{p}: {LABELS[lang]['ok']}")
    return 0


def _cmd_describe(path: Path, changed_only: bool) -> int:
    # lazy: a command's modules load only when it runs (check and describe stay fast)
    from model.outputs.texte import court
    # lazy: a command's modules load only when it runs (check and describe stay fast)
    from model.params.parametres import jsonable
    # lazy: a command's modules load only when it runs (check and describe stay fast)
    from model.params.scenario import load_scenario

    sc = load_scenario(path)
    cat = load_catalogue()
    rows = []
    for p in cat.values():
        for rpath in p.paths():
            base = _compact(jsonable(sc.baseline[rpath], sc.parametres.horizon))
            val = _compact(jsonable(sc.parametres[rpath], sc.parametres.horizon))
            changed = base != val
            if changed_only and not changed:
                continue
            rows.append((("* " if changed else "  ") + rpath, base, val, p.unit,
                         ("estimated; " if p.estimated else "") + " ".join(p.source.split())))
    print(f"{court(sc.header.get('title', sc.name))} ({path}); baseline: {sc.header.get('baseline') or 'catalogue'}")
    print("* = changed by the scenario chain\n")
    for rpath, base, val, unit, source in rows:
        print(rpath)
        print(f"    baseline: {base}")
        print(f"    scenario: {val}")
        print(f"    unit:     {unit}")
        print(f"    source:   {source}")
    return 0


def _compact(v) -> str:
    """A by-year dict as runs of equal values ("2013-2017: 0.53; 2018-2022: 0.5")."""
    if isinstance(v, dict) and v and all(k.isdigit() and len(k) == 4 for k in v):
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
