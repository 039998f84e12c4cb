"""Generate the figures of ``calibration/README.md`` and ``calibration/DIFFERENCES.md`` from the fitted-parameter
file and the shipped backtest, so that no figure there is typed by hand.

A developer tool, not part of the package. Run it from the project root with the project's interpreter:

``python tools/calibration_readme.py --update`` rewrites the text between the ``<!-- BEGIN X -->`` and
``<!-- END X -->`` markers (X in FIT, BACKTEST, POST_2018, MISSES, RECONCILIATION) from ``calibration/parametres_calibres.toml``,
``calibration/backtest.csv`` and ``calibration/backtest.json`` (RECONCILIATION: from ``calibration/reconciliation.csv``
and one expected-value run of the default scenario); ``--check`` exits 1 naming what is stale (a
section, or a shipped backtest run on another calibration, other observations or other post-2018 figures;
the test suite runs it); ``--regenerate`` does everything after a change of the model, in one command:
``cogsim calibrate`` (rewrites the fitted-parameter file), ``cogsim backtest --out results/backtest``, copies
its ``backtest.csv`` and ``backtest.json`` into ``calibration/``, then ``--update``.
"""

from __future__ import annotations

import argparse
import functools
import json
import math
import re
import shutil
import subprocess
import sys
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from model.analysis.backtest import (OBJECTIFS, OBSERVATIONS_POST_2018, TAUX, lire_backtest, sha256_fichier,
                                     objectifs, resume)
from model.analysis.calibration import SEUIL_IDENTIFIE, SEUIL_LEVIER
from model.analysis.observations import data_hash
from model.analysis.reconciliation import reconciliation_par_defaut, tableau_markdown
from model.outputs.ajustement import tableau_backtest
from model.params.calibres import CALIBRATION_FILE
from model.params.lecture import lire_texte, lire_toml

ROOT = Path(__file__).resolve().parent.parent
CALIBRATION = ROOT / "calibration"
FILES = (CALIBRATION / "README.md", CALIBRATION / "DIFFERENCES.md")
RESULTS = ROOT / "results" / "backtest"


@dataclass(frozen=True)
class Sources:
    """The files the sections are generated from."""

    parametres: Path = CALIBRATION_FILE
    backtest_csv: Path = CALIBRATION / "backtest.csv"
    backtest_json: Path = CALIBRATION / "backtest.json"


def _g(x: float, d: int = 4) -> str:
    """``d`` significant digits; thousands written out with separators (no exponent)."""
    if x is None or not math.isfinite(x):
        return "–"
    return f"{x:,.0f}" if abs(x) >= 10 ** d else f"{x:.{d}g}"


# --------------------------------------------------------------------------- sections
def fit_section(src: Sources) -> str:
    """The fit's provenance, diagnostics and every fitted parameter (value, s.e., prior, flags)."""
    t = lire_toml(src.parametres, str(src.parametres))
    prov, aj = t.get("provenance", {}), t.get("ajustement", {})
    n_obs, n_ex = prov.get("n_observations"), prov.get("n_observations_exactes")
    ident = sum(bool(a.get("identifie")) for a in aj.values())
    exact = sum(bool(a.get("exactement_determine")) for a in aj.values())
    fen = prov.get("fenetre", ["?", "?"])
    lines = [f"Window {fen[0]}-{fen[1]}, fitted on {prov.get('date', '?')} (code {prov.get('code_version', '?')}): "
             f"chi2 {prov.get('chi2', math.nan):.1f} for {n_obs} fit observations (+ {len(aj)} prior terms), "
             f"{prov.get('n_evaluations', '?')} model evaluations, {prov.get('secondes', math.nan):.0f} s.",
             "",
             f"**{ident} of the {len(aj)} fitted parameters are identified** (standard error ≤ {SEUIL_IDENTIFIE} × "
             f"prior sigma); **{exact} are exactly determined**: they rest on the "
             f"{'?' if n_ex is None else n_ex} fit observations the fit reproduces by construction (leverage ≥ "
             f"{SEUIL_LEVIER}), whose residual is no test of fit.",
             "",
             "| parameter | value | s.e. | prior sigma | s.e. / prior | identified | exactly determined |",
             "|---|---|---|---|---|---|---|"]
    for nom, a in aj.items():
        se, prior = a.get("erreur_type", math.nan), a.get("prior_sigma", math.nan)
        ratio = se / prior if prior and math.isfinite(prior) else math.nan
        ex = a.get("exactement_determine")
        lines.append(f"| `{nom}` | {_g(a.get('valeur', math.nan))} | {_g(se, 2)} | {_g(prior, 2)} | "
                     f"{'–' if not math.isfinite(ratio) else f'{ratio:.2f}'} | {'yes' if a.get('identifie') else 'no'} | "
                     f"{'–' if ex is None else ('yes' if ex else 'no')} |")
    return "\n".join(lines)


def _provenance(src: Sources) -> dict[str, Any]:
    return json.loads(lire_texte(src.backtest_json, str(src.backtest_json), "JSON file")).get("provenance", {})


def backtest_section(src: Sources) -> str:
    """The backtest's provenance, the goals and the summary by group and horizon."""
    rows = lire_backtest(src.backtest_csv)
    prov = _provenance(src)
    n_refit = sum(r["source"] == "refit" for r in rows)
    windows = sorted({r["window"] for r in rows if r["source"] == "refit"})
    lines = [f"Run on {prov.get('date', '?')} (code {prov.get('code_version', '?')}, calibration sha256 "
             f"{prov.get('calibration_sha256', '?')[:12]}): refits {', '.join(windows)} ({n_refit} held-out "
             f"figures) and `{prov.get('scenario', '?')}` on the calibration to {prov.get('fin_calibration', '?')} "
             f"({len(rows) - n_refit} figures of `{prov.get('post_2018', '?')}`); bands of "
             f"{prov.get('replicates', '?')} replicates (seed {prov.get('seed', '?')}). Goals on the horizons ≥ 1:",
             "", *tableau_backtest(resume(rows), objectifs(rows), "markdown")]
    return "\n".join(lines)


def post_2018_section(src: Sources) -> str:
    """Every figure scored on the scenario: observed, simulated, error, band."""
    rows = [r for r in lire_backtest(src.backtest_csv) if r["source"] != "refit"]
    lines = ["| id | indicator | organisme | year | h | observed | simulated | error | 90 % band | estimated |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for r in sorted(rows, key=lambda r: (r["horizon"], r["group"], r["id"])):
        err = (f"{r['simulated'] - r['observed']:+.2f} pt" if r["indicator"] in TAUX
               else ("–" if not math.isfinite(r["error_rel"]) else f"{100 * r['error_rel']:+.1f} %"))
        lines.append(f"| {r['id']} | {r['indicator']} ({r['kind']}) | {r['organisme']} | {r['year']} | "
                     f"{r['horizon']} | {_g(r['observed'], 6)} | {_g(r['simulated'], 6)} | {err} | "
                     f"{_g(r['p05'], 5)} – {_g(r['p95'], 5)} | {r['estimated']} |")
    return "\n".join(lines)


def _borne(r: dict[str, Any]) -> tuple[float, str] | None:
    """(bound, unit) of the goal whose scope holds row ``r``: the goal of its horizon, else of the nearest
    horizon below it (staff: 2 % at horizon 1, 3 % from 2 on); None when no goal applies."""
    best = None
    for _label, groupe, indicateurs, horizons, mesure, (_lo, hi) in OBJECTIFS:
        if mesure not in ("mae", "mae_points") or r["group"] != groupe or r["indicator"] not in indicateurs:
            continue
        if horizons is None or r["horizon"] in horizons:
            reach = r["horizon"]
        elif max(horizons) < r["horizon"]:
            reach = max(horizons)
        else:
            continue
        if best is None or reach > best[0]:
            best = (reach, hi, "pt" if mesure == "mae_points" else "%")
    return None if best is None else best[1:]


def misses_section(src: Sources) -> str:
    """Held-out and post-2018 figures missed: beyond their goal where one applies, else beyond 2 sigma."""
    by_id: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in lire_backtest(src.backtest_csv):
        borne = _borne(r) if r["horizon"] >= 1 else None
        if borne is not None:
            bound, unit = borne
            err = abs(r["simulated"] - r["observed"]) if unit == "pt" else 100 * abs(r["error_rel"])
            if math.isfinite(err) and err > bound:
                by_id[r["id"]].append({**r, "rule": f"goal ≤ {bound:g} {unit}"})
        elif math.isfinite(r["simulated"]) and abs(r["simulated"] - r["observed"]) > 2 * r["sigma"]:
            by_id[r["id"]].append({**r, "rule": "2 sigma"})
    lines = ["| id | group | source | horizons | observed | simulated | error | rule |", "|---|---|---|---|---|---|---|---|"]
    for oid, rs in sorted(by_id.items(), key=lambda kv: (kv[1][0]["group"], kv[0])):
        rs = sorted(rs, key=lambda x: x["horizon"])
        r = rs[0]
        sims = " / ".join(_g(x["simulated"], 5) for x in rs)
        errs = " / ".join(f"{x['simulated'] - x['observed']:+.2f} pt" if x["indicator"] in TAUX
                          else f"{100 * x['error_rel']:+.1f} %" for x in rs)
        lines.append(f"| {oid} | {r['group']} | {r['source'].replace('scenario:', '')} | "
                     f"{', '.join(str(x['horizon']) for x in rs)} | {_g(r['observed'], 5)} | {sims} | {errs} | "
                     f"{' / '.join(dict.fromkeys(x['rule'] for x in rs))} |")
    return "\n".join(lines)


@functools.lru_cache(maxsize=1)
def _reconciliation() -> str:
    return tableau_markdown(reconciliation_par_defaut())


def reconciliation_section(src: Sources) -> str:
    """The reconciliation table (published figure → perimeters summed → model → gap) on the expected-value
    run of the default scenario (``calibration/reconciliation.csv``, :mod:`model.analysis.reconciliation`)."""
    return _reconciliation()


SECTIONS = {"FIT": fit_section, "BACKTEST": backtest_section, "POST_2018": post_2018_section,
            "MISSES": misses_section, "RECONCILIATION": reconciliation_section}


def render(text: str, src: Sources = Sources()) -> str:
    """``text`` with every marked section regenerated (text without markers is returned unchanged)."""
    for name, fn in SECTIONS.items():
        pattern = re.compile(rf"(<!-- BEGIN {name} -->\n)(?:.*?\n)?(<!-- END {name} -->)", re.S)
        if pattern.search(text):
            body = fn(src)
            text = pattern.sub(lambda m: m.group(1) + body + "\n" + m.group(2), text)
    return text


def stale(files=FILES, src: Sources = Sources()) -> list[str]:
    """What is out of date: files whose marked sections differ from :func:`render`, and a shipped backtest
    whose recorded inputs (calibration, observations, post-2018 figures) are not the current ones."""
    out = [f"{f} is stale" for f in map(Path, files) if render(f.read_text(encoding="utf-8"), src)
           != f.read_text(encoding="utf-8")]
    prov = _provenance(src)
    current = {"calibration_sha256": sha256_fichier(src.parametres), "data_hash": f"sha256:{data_hash()}",
               "post_2018_sha256": sha256_fichier(OBSERVATIONS_POST_2018)}
    for key, value in current.items():
        if prov.get(key) != value:
            out.append(f"{src.backtest_json} records {key} {str(prov.get(key))[:19]}, not the current {value[:19]}: "
                       "the shipped backtest was run on other inputs")
    return out


# --------------------------------------------------------------------------- regeneration
def regenerate() -> int:
    """calibrate, backtest, copy its files into calibration/, update the marked sections."""
    cli = [sys.executable, "-m", "model.cli.main"]
    for args in (["calibrate"], ["backtest", "--out", str(RESULTS)]):
        print("$ cogsim " + " ".join(args), flush=True)
        if subprocess.run([*cli, *args], cwd=ROOT).returncode != 0:
            print(f"cogsim {args[0]} failed: nothing copied", file=sys.stderr)
            return 1
    for name in ("backtest.csv", "backtest.json"):
        shutil.copyfile(RESULTS / name, CALIBRATION / name)
        print(f"copied {RESULTS / name} to {CALIBRATION / name}")
    return update(FILES)


def update(files, src: Sources = Sources()) -> int:
    for f in map(Path, files):
        text = f.read_text(encoding="utf-8")
        new = render(text, src)
        if new != text:
            f.write_text(new, encoding="utf-8")
            print(f"updated {f}")
    return 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python tools/calibration_readme.py", description=__doc__.splitlines()[0])
    ap.add_argument("files", nargs="*", type=Path, help="files to check or update (default: calibration/*.md)")
    g = ap.add_mutually_exclusive_group(required=True)
    g.add_argument("--update", action="store_true", help="rewrite the marked sections from the shipped files")
    g.add_argument("--check", action="store_true", help="exit 1 if a marked section or the shipped backtest is stale")
    g.add_argument("--regenerate", action="store_true", help="calibrate, backtest, copy, update (minutes)")
    args = ap.parse_args(argv)
    files = args.files or list(FILES)
    if args.regenerate:
        return regenerate()
    if args.check:
        bad = stale(files)
        for b in bad:
            print(f"{b}: run python tools/calibration_readme.py --regenerate (or --update if only the text moved)",
                  file=sys.stderr)
        return 1 if bad else 0
    return update(files)


if __name__ == "__main__":
    sys.exit(main())
