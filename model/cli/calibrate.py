"""``cogsim calibrate`` and ``cogsim backtest``: fit the baseline to the observations, score held-out years and
the post-2018 figures.
"""

from __future__ import annotations

from pathlib import Path

from model.analysis.backtest import COLONNES, REPLICATES, SpecBacktest, backtest, objectifs, resume
from model.analysis.calibration import FENETRE, calibrer, ecrire_parametres
from model.cli.main import SOURCE
from model.analysis.observations import ROOT, load_observations
from model.outputs.ajustement import rapport, tableau_ajustement, tableau_backtest, write_csv
from model.params.calendrier import HORIZON_DEFAUT
from model.params.calibres import CALIBRATION_FILE
from model.params.errors import InputError, Problem
from model.results.writers import claim_output, write_json

REPLICATES_BACKTEST = (20, 2000)  # a 5-95 % band needs at least 20 replicates; beyond 2 000 it is only slower


# what the library's messages call the inputs of these commands: their options
OPTIONS = {"source": SOURCE, "out": "--out", "data": "--data", "window": "--window", "replicates": "--replicates"}


def _window(text: str) -> tuple[int, int]:
    try:
        a, b = (int(x) for x in text.split("-"))
    except ValueError:
        raise InputError([Problem(SOURCE, OPTIONS["window"], text, "not a window", "FIRST-LAST, e.g. 2013-2018")])
    # the calibration simulates the default horizon (the shipped observations stop in 2018; a user's
    # tables may reach its last year)
    if not (HORIZON_DEFAUT.premiere <= a < b <= HORIZON_DEFAUT.derniere):
        raise InputError([Problem(SOURCE, OPTIONS["window"], text, "window outside the calibration period",
                                  f"{HORIZON_DEFAUT.premiere} <= FIRST < LAST <= {HORIZON_DEFAUT.derniere} (the "
                                  f"shipped observations stop in {FENETRE[1]})")])
    return a, b


def _out_dir(out: str | None, default: str) -> Path:
    return Path(out) if out else ROOT / "results" / default


def cmd_calibrate(args) -> int:
    """``calibrate``: fit, write the report to --out and, on the default data and window, the fitted file."""
    fen = _window(args.window)
    obs = load_observations(args.data)
    out = _out_dir(args.out, f"calibration-{fen[0]}-{fen[1]}")
    # the destination is checked, locked and proved writable before the fit
    with claim_output(out, "calibration") as claim:
        res = calibrer(obs, fen)
        rapport(res, claim.tmp)
        ecrire_parametres(res, claim.tmp / "parametres_calibres.toml", args.data)
        claim.publish()
    if args.data is None and fen == FENETRE:
        ecrire_parametres(res, CALIBRATION_FILE, None)
    diag = res.diagnostics
    for k, (s, t, e, ident) in enumerate(zip(res.specs, res.theta, res.se, res.identifie)):
        flags = [] if ident else ["not identified"]
        if diag is not None and diag.exactement_determine[k]:
            flags.append("exactly determined")
        print(f"{s.nom:42s} {t:12.5g} ± {e:.2g}{'  (' + ', '.join(flags) + ')' if flags else ''}")
    rows = [r for r in tableau_ajustement(res) if r["usage"] == "fit" and r["levier"] != ""]
    tested = [r for r in rows if r["teste"]]
    ok = sum(r["dans_tolerance"] for r in tested)
    print(f"{ok}/{len(tested)} tested fit targets within 2 sigma ({len(rows) - len(tested)} more reproduced by "
          f"construction, not a test); chi2 {res.chi2:.1f}; {res.secondes:.1f} s; report in {out}")
    for w in res.avertissements:
        print(f"warning: {w}")
    return 0


def _replicates(text: str) -> int:
    lo, hi = REPLICATES_BACKTEST
    try:
        n = int(text)
    except ValueError:
        n = None
    if n is None or not lo <= n <= hi:
        raise InputError([Problem(SOURCE, OPTIONS["replicates"], text, "not a number of replicates for the bands",
                                  f"an integer in [{lo}, {hi}]")])
    return n


def cmd_backtest(args) -> int:
    """``backtest``: refit on shorter windows, score the held-out years and the post-2018 figures; write
    ``backtest.csv``, ``resume.csv`` and ``backtest.json`` to --out and print the summary against the goals."""
    spec = SpecBacktest(replicates=_replicates(args.replicates))
    obs = load_observations(args.data)
    out = _out_dir(args.out, "backtest")
    with claim_output(out, "backtest") as claim:  # checked, locked and writable before the refits
        res = backtest(obs, spec, args.data)
        res_rows = [{k: r[k] for k in COLONNES} for r in res.lignes]
        summary, goals = resume(res_rows), objectifs(res_rows)
        write_csv(claim.tmp / "backtest.csv", res_rows)
        write_csv(claim.tmp / "resume.csv", summary)
        write_json(claim.tmp / "backtest.json", {"provenance": res.provenance, "secondes": round(res.secondes, 1),
                                                 "objectifs": goals, "fenetres": res.fenetres,
                                                 "avertissements": res.avertissements})
        claim.publish()
    windows = ", ".join(f["window"] for f in res.fenetres)
    post = (f"; {res.provenance['scenario']} on the calibration to {res.provenance['fin_calibration']} for the "
            "post-2018 figures") if "scenario" in res.provenance else ""
    print(f"backtest: refits {windows}{post}; bands of {spec.replicates} replicates; {res.secondes:.0f} s")
    for line in tableau_backtest(summary, goals):
        print(line)
    print(f"backtest.csv, resume.csv and backtest.json in {out}")
    return 0


def register(subparsers) -> None:
    """Add the ``calibrate`` and ``backtest`` subcommands to an argparse subparsers object."""
    p = subparsers.add_parser("calibrate", help="fit the parameters to the 2013-2018 observations")
    p.add_argument("--data", default=None, help="folder of observation CSVs (default calibration/observations)")
    p.add_argument("--out", default=None, help="report folder (default results/calibration-<window>)")
    p.add_argument("--window", default=f"{FENETRE[0]}-{FENETRE[1]}", help="fit window FIRST-LAST")
    p.set_defaults(func=cmd_calibrate, options=OPTIONS)
    b = subparsers.add_parser("backtest", help="refit on 2013-2015, 2013-2016 and 2013-2017, score the held-out "
                                                "years to 2018 and the post-2018 figures")
    b.add_argument("--data", default=None, help="folder of observation CSVs for the refits (default "
                                               "calibration/observations); the post-2018 figures are "
                                               "calibration/observations_post_2018.csv")
    b.add_argument("--out", default=None, help="output folder (default results/backtest)")
    b.add_argument("--replicates", default=str(REPLICATES), help=f"replicates of the 90 %% bands (default {REPLICATES})")
    b.set_defaults(func=cmd_backtest, options=OPTIONS)
