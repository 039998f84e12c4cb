"""The fit report of ``cogsim calibrate``: every target against its simulated value (``ajustement.csv``), the
fitted parameters (``parametres.csv``), ``rapport.md`` and one chart per indicator (observed against
simulated).
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import numpy as np

from model.analysis.calibration import ResultatAjustement
from model.analysis.observations import INDICATEURS
from model.params.calendrier import ANNEES, ORGANISMES_SORTIE


# --------------------------------------------------------------------------- report
def tableau_ajustement(res: ResultatAjustement) -> list[dict[str, Any]]:
    """One row per observation: observed, simulated, error, tolerance (2 sigma), within tolerance."""
    rows = []
    for o in res.observations:
        s = res.simule[o.id]
        rows.append({"id": o.id, "indicator": o.indicator, "organisme": o.organisme, "year": o.year,
                     "annee_base": o.annee_base or "", "kind": o.kind, "unit": o.unit, "usage": o.usage,
                     "observe": o.value, "simule": round(s, 4), "ecart": round(s - o.value, 4),
                     "tolerance": 2 * o.sigma, "dans_tolerance": abs(s - o.value) <= 2 * o.sigma,
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
    prows = [{"nom": s.nom, "valeur": t, "erreur_type": e, "initial": s.initial, "identifie": bool(ok),
              "unite": s.unite, "chemins": " ".join(s.chemins)}
             for s, t, e, ok in zip(res.specs, res.theta, res.se, res.identifie)]
    write_csv(out / "parametres.csv", prows)
    years = np.array(ANNEES)
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
                sel = years <= 2018
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
    lines = [f"# Fit report, window {res.fenetre[0]}-{res.fenetre[1]}", "",
             f"chi2 = {res.chi2:.2f}; {res.n_evaluations} model evaluations; {res.secondes:.1f} s", "",
             "| parameter | value | std error | initial | identified |", "|---|---|---|---|---|"]
    lines += [f"| `{r['nom']}` | {r['valeur']:.4g} | {r['erreur_type']:.2g} | {r['initial']:.4g} | "
              f"{'yes' if r['identifie'] else 'no'} |" for r in prows]
    lines += ["", "| id | usage | observed | simulated | error | tolerance (2σ) | ok |", "|---|---|---|---|---|---|---|"]
    lines += [f"| {r['id']} | {r['usage']} | {r['observe']:.4g} | {r['simule']:.4g} | {r['ecart']:+.3g} | "
              f"{r['tolerance']:.3g} | {'yes' if r['dans_tolerance'] else '**no**'} |" for r in rows]
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
