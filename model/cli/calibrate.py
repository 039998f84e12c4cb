"""``cogsim calibrate`` and ``cogsim backtest``: fit the baseline to the observations, score held-out years.
"""

from __future__ import annotations

from pathlib import Path

from model.analysis.calibration import FENETRE, backtest, calibrer, ecrire_parametres
from model.cli.main import SOURCE
from model.analysis.observations import ROOT, load_observations
from model.outputs.ajustement import rapport, tableau_ajustement, write_csv
from model.params.calendrier import ANNEES
from model.params.calibres import CALIBRATION_FILE
from model.params.errors import InputError, Problem
from model.results.writers import claim_output


# what the library's messages call the inputs of these commands: their options
OPTIONS = {"source": SOURCE, "out": "--out", "data": "--data", "window": "--window"}


def _window(text: str) -> tuple[int, int]:
    try:
        a, b = (int(x) for x in text.split("-"))
    except ValueError:
        raise InputError([Problem(SOURCE, OPTIONS["window"], text, "not a window", "FIRST-LAST, e.g. 2013-2018")])
    if not (ANNEES[0] <= a < b <= FENETRE[1]):
        raise InputError([Problem(SOURCE, OPTIONS["window"], text, "window outside the calibration period",
                                  f"{ANNEES[0]} <= FIRST < LAST <= {FENETRE[1]}")])
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
    for s, t, e in zip(res.specs, res.theta, res.se):
        print(f"{s.nom:42s} {t:12.5g} ± {e:.2g}")
    ok = sum(r["dans_tolerance"] for r in tableau_ajustement(res) if r["usage"] == "fit")
    nfit = sum(1 for o in obs if o.usage == "fit")
    print(f"{ok}/{nfit} fit targets within 2 sigma; chi2 {res.chi2:.1f}; {res.secondes:.1f} s; report in {out}")
    for w in res.avertissements:
        print(f"warning: {w}")
    return 0


def cmd_backtest(args) -> int:
    """``backtest``: refit on 2013-2016 and 2013-2017, score the held-out years, write CSVs to --out."""
    obs = load_observations(args.data)
    out = _out_dir(args.out, "backtest")
    with claim_output(out, "backtest") as claim:  # checked, locked and writable before the refits
        erreurs, scores = backtest(obs)
        write_csv(claim.tmp / "erreurs.csv", erreurs)
        write_csv(claim.tmp / "scores.csv", scores)
        claim.publish()
    for s in scores:
        if s["fenetre"] == "toutes":
            print(f"horizon {s['horizon']}: mean error {s['erreur_moyenne']:+.2f} %, MAE {s['mae']:.2f} %, "
                  f"RMSE {s['rmse']:.2f} % (n = {s['n']})")
    print(f"scores in {out}")
    return 0


def register(subparsers) -> None:
    """Add the ``calibrate`` and ``backtest`` subcommands to an argparse subparsers object."""
    p = subparsers.add_parser("calibrate", help="fit the parameters to the 2013-2018 observations")
    p.add_argument("--data", default=None, help="folder of observation CSVs (default calibration/observations)")
    p.add_argument("--out", default=None, help="report folder (default results/calibration-<window>)")
    p.add_argument("--window", default=f"{FENETRE[0]}-{FENETRE[1]}", help="fit window FIRST-LAST")
    p.set_defaults(func=cmd_calibrate, options=OPTIONS)
    b = subparsers.add_parser("backtest", help="refit on 2013-2016 and 2013-2017, score the held-out years")
    b.add_argument("--data", default=None, help="folder of observation CSVs (default calibration/observations)")
    b.add_argument("--out", default=None, help="output folder (default results/backtest)")
    b.set_defaults(func=cmd_backtest, options=OPTIONS)
