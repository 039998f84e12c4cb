"""The fit report of ``cogsim calibrate``: every target against its simulated value (``ajustement.csv``), the
fitted parameters (``parametres.csv``), ``rapport.md`` and one chart per indicator (observed against
simulated).

A fit observation of leverage at least ``SEUIL_LEVIER`` is reproduced by construction (the fit has a free
parameter for it): its row says ``exacte = True`` and ``teste = False``, and it is not counted as a test of
fit. A parameter is identified when its standard error is at most ``SEUIL_IDENTIFIE`` × its prior sigma,
exactly determined when it rests on such observations only (:mod:`model.analysis.calibration`).
"""

from __future__ import annotations

import csv
import math
from pathlib import Path
from typing import Any

import numpy as np

from model.analysis.calibration import SEUIL_IDENTIFIE, SEUIL_LEVIER, ResultatAjustement
from model.analysis.observations import INDICATEURS
from model.params.calendrier import HORIZON_DEFAUT, ORGANISMES_SORTIE


# --------------------------------------------------------------------------- report
def tableau_ajustement(res: ResultatAjustement) -> list[dict[str, Any]]:
    """One row per observation: observed, simulated, error, tolerance (2 sigma), within tolerance, and for
    the fit observations their leverage and whether the fit reproduces them by construction (``exacte``;
    ``teste`` is then False: within tolerance says nothing)."""
    levier = res.diagnostics.levier if res.diagnostics is not None else {}
    rows = []
    for o in res.observations:
        s = res.simule[o.id]
        h = levier.get(o.id)
        exacte = h is not None and h >= SEUIL_LEVIER
        rows.append({"id": o.id, "indicator": o.indicator, "organisme": o.organisme, "year": o.year,
                     "annee_base": o.annee_base or "", "kind": o.kind, "unit": o.unit, "usage": o.usage,
                     "observe": o.value, "simule": round(s, 4), "ecart": round(s - o.value, 4),
                     "tolerance": 2 * o.sigma, "dans_tolerance": abs(s - o.value) <= 2 * o.sigma,
                     "levier": "" if h is None else round(h, 4), "exacte": exacte, "teste": not exacte,
                     "quality": o.quality, "estimated": o.estimated, "source_id": o.source_id})
    return rows


def rapport(res: ResultatAjustement, out: str | Path) -> Path:
    """Write the fit report: ``ajustement.csv`` (every target vs simulated), ``parametres.csv``,
    ``rapport.md`` and one chart per indicator (observed vs simulated) under ``charts/``."""
    # lazy: matplotlib loads in about 0.5 s: only when a chart is drawn
    import matplotlib
    matplotlib.use("Agg")
    # lazy: matplotlib loads in about 0.5 s: only when a chart is drawn
    import matplotlib.pyplot as plt

    out = Path(out)
    (out / "charts").mkdir(parents=True, exist_ok=True)
    rows = tableau_ajustement(res)
    write_csv(out / "ajustement.csv", rows)
    diag = res.diagnostics
    prows = [{"nom": s.nom, "valeur": t, "erreur_type": e, "initial": s.initial, "prior_sigma": s.prior_sigma,
              "retrecissement": e / s.prior_sigma, "identifie": bool(ok),
              "exactement_determine": bool(diag is not None and diag.exactement_determine[k]),
              "unite": s.unite, "chemins": " ".join(s.chemins)}
             for k, (s, t, e, ok) in enumerate(zip(res.specs, res.theta, res.se, res.identifie))]
    write_csv(out / "parametres.csv", prows)
    years = np.array(HORIZON_DEFAUT.annees)  # the calibration simulates the default horizon
    for ind in sorted({o.indicator for o in res.observations}):
        obs = [o for o in res.observations if o.indicator == ind]
        lev = [o for o in obs if o.kind == "level"]
        chg = [o for o in obs if o.kind != "level"]
        unites = list(dict.fromkeys(o.unit for o in chg))  # one panel per unit: % and MEUR apart
        ncols = (1 if lev else 0) + len(unites)
        fig, axes = plt.subplots(1, ncols, figsize=(6.5 * ncols, 4.2), squeeze=False)
        ax_i = 0
        if lev:
            ax = axes[0, ax_i]
            ax_i += 1
            for z in sorted({o.organisme for o in lev}, key=ORGANISMES_SORTIE.index):
                zi = ORGANISMES_SORTIE.index(z)
                y = res.sim[ind][:, zi] * INDICATEURS[ind][1]
                sel = years <= max(2018, res.fenetre[1])
                line, = ax.plot(years[sel], y[sel], label=f"{z} simulé")
                pts = [o for o in lev if o.organisme == z]
                ax.errorbar([o.year for o in pts], [o.value for o in pts], yerr=[2 * o.sigma for o in pts],
                            fmt="o", color=line.get_color(), mfc="none", label=f"{z} observé ± 2σ")
            ax.set_title(f"{ind}: niveaux")
            ax.set_xlabel("année")
            ax.set_ylabel(lev[0].unit)
            ax.legend(fontsize=7)
        for unite in unites:
            sous = [o for o in chg if o.unit == unite]
            ax = axes[0, ax_i]
            ax_i += 1
            x = np.arange(len(sous))
            obs_v, sim_v = [o.value for o in sous], [res.simule[o.id] for o in sous]
            ax.bar(x - 0.2, obs_v, 0.4, yerr=[2 * o.sigma for o in sous], label="observé ± 2σ",
                   color="0.55", edgecolor="k")
            ax.bar(x + 0.2, sim_v, 0.4, label="simulé", color="white", edgecolor="k", hatch="//")
            for xi, (a, b) in enumerate(zip(obs_v, sim_v)):
                for dx, val in ((-0.2, a), (0.2, b)):
                    ax.annotate(f"{val:.3g}".replace(".", ","), (xi + dx, val), ha="center", fontsize=7,
                                va="bottom" if val >= 0 else "top")
            ax.set_xticks(x, [f"{o.organisme}\n{o.annee_base}-{o.year}" for o in sous], fontsize=7)
            ax.set_ylabel(unite)
            ax.axhline(0, color="k", lw=0.5)
            ax.set_title(f"{ind}: évolutions ({unite})")
            ax.legend(fontsize=7)
        fig.suptitle(f"Calibration {res.fenetre[0]}-{res.fenetre[1]}: {ind} (observé vs simulé)")
        fig.tight_layout()
        fig.savefig(out / "charts" / f"{ind}.png", dpi=90)
        plt.close(fig)
    n_exact = sum(r["exacte"] for r in rows)
    lines = [f"# Fit report, window {res.fenetre[0]}-{res.fenetre[1]}", "",
             f"chi2 = {res.chi2:.2f}; {res.n_evaluations} model evaluations; {res.secondes:.1f} s", "",
             f"Identified: standard error ≤ {SEUIL_IDENTIFIE} × prior sigma. Exactly determined: the parameter rests "
             f"on observations the fit reproduces by construction (leverage ≥ {SEUIL_LEVIER}; {n_exact} of the fit "
             "observations): their residual is not a test of fit.", "",
             "| parameter | value | std error | initial | prior sigma | s.e. / prior | identified | exactly determined |",
             "|---|---|---|---|---|---|---|---|"]
    lines += [f"| `{r['nom']}` | {r['valeur']:.4g} | {r['erreur_type']:.2g} | {r['initial']:.4g} | "
              f"{r['prior_sigma']:.3g} | {r['retrecissement']:.2f} | {'yes' if r['identifie'] else 'no'} | "
              f"{'yes' if r['exactement_determine'] else 'no'} |" for r in prows]
    lines += ["", "| id | usage | observed | simulated | error | tolerance (2σ) | leverage | ok |",
              "|---|---|---|---|---|---|---|---|"]
    lines += [f"| {r['id']} | {r['usage']} | {r['observe']:.4g} | {r['simule']:.4g} | {r['ecart']:+.3g} | "
              f"{r['tolerance']:.3g} | {'' if r['levier'] == '' else format(r['levier'], '.3f')} | "
              f"{'by construction' if r['exacte'] else ('yes' if r['dans_tolerance'] else '**no**')} |" for r in rows]
    if res.avertissements:
        lines += ["", "## Warnings", ""] + [f"- {w}" for w in res.avertissements]
    (out / "rapport.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return out


def write_csv(path: Path, rows: list[dict[str, Any]]) -> None:
    if not rows:
        path.write_text("", encoding="utf-8")
        return
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)


# --------------------------------------------------------------------------- backtest summary
def _pct(x: float, d: int = 1, sign: bool = False) -> str:
    return "–" if not math.isfinite(x) else f"{x:{'+' if sign else ''}.{d}f} %"


def _objectif(o: dict[str, Any]) -> tuple[str, str]:
    """(measured, goal) of a goal row of :func:`model.analysis.backtest.objectifs`."""
    v, lo, hi = o["valeur"], o["min"], o["max"]
    if o["mesure"] == "mae_points":
        return ("–" if not math.isfinite(v) else f"{v:.2f} pt"), f"≤ {hi:g} pt"
    if o["mesure"] == "couverture":
        return _pct(v, 0), f"{lo:g}–{hi:g} %"
    return _pct(v), f"≤ {hi:g} %"


def tableau_backtest(resume: list[dict[str, Any]], objectifs: list[dict[str, Any]],
                     fmt: str = "text") -> list[str]:
    """The backtest's summary as lines: the goals (measured on their scope, horizons ≥ 1), then every group
    by horizon (``<=0``: figures in the calibration window, not fitted). ``fmt``: ``text`` (the command's
    output) or ``markdown`` (calibration/README.md)."""
    met = {None: "no figure", True: "yes", False: "**no**" if fmt == "markdown" else "NO"}
    goals = [(o["objectif"], *_objectif(o), str(o["n"]), met[o["atteint"]]) for o in objectifs]
    groups = [(r["group"], r["horizon"], str(r["n"]), _pct(r["erreur_moyenne"], sign=True), _pct(r["mae"]),
               "–" if not math.isfinite(r["mae_points"]) else f"{r['mae_points']:.2f}",
               "–" if not r["n_bande"] else f"{_pct(r['couverture'], 0)} of {r['n_bande']}") for r in resume]
    h1 = ("goal", "measured", "goal", "n", "met")
    h2 = ("group", "horizon", "n", "mean error", "MAE", "RMPP MAE (pt)", "in 90 % band")
    if fmt == "markdown":
        md = lambda rows: ["| " + " | ".join(r) + " |" for r in rows]  # noqa: E731
        return (md([h1, ("---",) * len(h1), *goals]) + [""] + md([h2, ("---",) * len(h2), *groups]))
    out = []
    for head, rows in ((h1, goals), (h2, groups)):
        w = [max(len(str(r[i])) for r in (head, *rows)) for i in range(len(head))]
        out += ["  ".join(str(c).ljust(w[i]) for i, c in enumerate(r)).rstrip() for r in (head, *rows)] + [""]
    return out[:-1]
