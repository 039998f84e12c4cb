"""``cogsim solve``: goal seek from the command line; the printed summary."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from model.analysis.objectifs import NOMS, num_text
from model.analysis.solution import SOLUTION_FILE, Check, toml_value, write_solution
from model.analysis.solve import DEFAULT_REPLICATES, DEFAULT_TOLERANCE, Solution, SolveSpec, solve
from model.cli.main import SOURCE, command_line, non_negative_int, positive_int
from model.outputs.texte import court
from model.results.writers import claim_output

# what the library's messages call the inputs: the options of this command line
OPTIONS = {"source": SOURCE, "target": "--target", "lever": "--lever", "tolerance": "--tolerance", "out": "--out",
           "replicates": "--replicates", "seed": "--seed"}

LABELS = {
    "fr": {"title": "Recherche d'objectif", "lever": "levier", "target": "cible", "det": "déterministe",
           "tol": "tolérance", "met": "atteinte", "not_met": "non atteinte", "sto": "stochastique",
           "reps": "réplications", "band": "bande 90 %", "p_met": "P(cible atteinte)",
           "p_le": "P(≤ cible)", "p_ge": "P(≥ cible)", "evals": "simulations déterministes",
           "written": "Écrit dans", "note": "note", "limit": "limite"},
    "en": {"title": "Goal seek", "lever": "lever", "target": "target", "det": "deterministic",
           "tol": "tolerance", "met": "met", "not_met": "not met", "sto": "stochastic", "reps": "replicates",
           "band": "90 % band", "p_met": "P(target met)", "p_le": "P(≤ target)", "p_ge": "P(≥ target)",
           "evals": "deterministic runs", "written": "Written to", "note": "note", "limit": "limit"},
}


def _tolerance(text: str) -> float:
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not 0 < v <= 0.1:
        raise argparse.ArgumentTypeError(f"{text} is not allowed (allowed: a number in (0, 0.1])")
    return v


def register(subparsers) -> None:
    """Add the ``solve`` subcommand to an argparse subparsers object (``set_defaults(func=command)``)."""
    s = subparsers.add_parser(
        "solve", help="goal seek: the lever values that meet COG targets",
        description="Goal seek: find the lever values that meet the targets in a deterministic run, then "
                    "check the probability of meeting them over stochastic replicates. Writes the solved "
                    "scenario (TOML), solve.json and a run of it into DIR.")
    s.add_argument("scenario", type=Path)
    s.add_argument("--target", action="append", required=True, metavar="EXPR",
                   help="VAR:ORGANISME:YEAR=VALUE (or <=, >=); ORGANISME may be regime_general or total; "
                        "YEAR may be Y1..Y2 with one value or one per year; repeatable")
    s.add_argument("--lever", action="append", required=True, metavar="PATH[@YEARS][=LOW:HIGH]",
                   help="a numeric parameter path as in scenario files; @Y sets the value from Y on, "
                        "@Y1,Y2 one value from each, @Y1..Y2 one value per year; repeatable")
    s.add_argument("--out", type=Path, metavar="DIR", help="output folder (default results/solve-<scenario>-<lever>/)")
    s.add_argument("--replicates", type=positive_int, default=DEFAULT_REPLICATES,
                   help=f"stochastic replicates of the check (default {DEFAULT_REPLICATES})")
    s.add_argument("--seed", type=non_negative_int, help="root seed of the check (default: the scenario's)")
    s.add_argument("--tolerance", type=_tolerance, default=DEFAULT_TOLERANCE,
                   help=f"relative tolerance on equality targets (default {DEFAULT_TOLERANCE:g})")
    s.add_argument("--lang", choices=["fr", "en"], default=argparse.SUPPRESS, help="language of the printed labels")
    s.set_defaults(func=command, options=OPTIONS)


def command(args: argparse.Namespace) -> int:
    """Run ``solve`` from parsed arguments; bad input raises ``InputError`` (exit 2 in ``main``)."""
    L = LABELS[getattr(args, "lang", None) or "fr"]
    spec = SolveSpec(args.scenario, tuple(args.target), tuple(args.lever), tolerance=args.tolerance,
                     replicates=args.replicates, seed=args.seed, out=args.out, command=command_line(args),
                     names={k: OPTIONS[k] for k in NOMS})
    # the destination is checked, locked and proved writable before the solve
    with claim_output(spec.target, "solve") as claim:
        sol = solve(spec)
        folder, checks, report = write_solution(sol, claim=claim)
    for w in report["warnings"]:
        print(f"warning: {w['file']}: {w['path']} = {w['value']}: {w['message']} (allowed: {w['allowed']})",
              file=sys.stderr)
    print(summary(sol, checks, report, L))
    print(f"\n{L['written']} {folder}/ ({report['solved_scenario']}, {SOLUTION_FILE}, run/)")
    return 0


def summary(sol: Solution, checks: list[Check], report: dict, L: dict[str, str]) -> str:
    """The printed summary: levers, targets with their deterministic and stochastic values."""

    lines = [f"{L['title']} — {court(sol.scenario.header.get('title', sol.scenario.name))} ({sol.scenario.file})", ""]
    for path, v in sol.raw_values().items():
        lines.append(f"{L['lever']:<8} {path} = {toml_value(v, short=True)}")
    by_target = {c.target: c for c in checks}
    for t, v in zip(sol.targets, sol.values):
        status = L["met"] if t.met(v, sol.tolerance) else L["not_met"]
        tol = f", {L['tol']} ±{num_text(t.tolerance(sol.tolerance))}" if t.op == "=" else ""
        lines.append(f"{L['target']:<8} {t.label}: {L['det']} {num_text(v)} ({status}{tol})")
        c = by_target.get(t)
        if c is not None:
            prob = (f"{L['p_le']} = {c.probability:.2f}, {L['p_ge']} = {c.probability_above:.2f}"
                    if t.op == "=" else f"{L['p_met']} = {c.probability:.2f}")
            lines.append(f"{'':<8} {L['sto']} ({report['stochastic_check']['replicates']} {L['reps']}): "
                         f"{num_text(c.mean)}, {L['band']} {num_text(c.p05)} – {num_text(c.p95)}; {prob}")
    for n in sol.notes:
        lines.append(f"{L['note']}: {n}")
    lines.append(f"\n{sol.method}, {sol.evaluations} {L['evals']}, {sol.seconds:.1f} s "
                 f"(+ {report['timings_s']['run']:.1f} s)")
    return "\n".join(lines)
