"""Recompute the 2013 levels of the other limitative spending (``organismes.*.autres_depenses_limitatives_2013``)
from the figures ``calibration/reconciliation.csv`` marks ``construction``, on the expected-value run of the
default scenario with the shipped calibration. A developer tool, not part of the package; run it from the project
root after a change of the model or of the calibration, then paste the printed line into
``model/params/catalogue_budget.toml`` (and rerun ``tools/calibration_readme.py --regenerate``).

* CNAF, CNAV, ACOSS: each from its 2018 COG unit cost: level(2018) = unit cost × the modelled 2018 workload
  (``charge_travail``) − the numerator without this block (``cout_gestion_cog − autres_depenses_limitatives``);
* CNAM, MSA, ex-RSI: one common proportion of their personnel + ADF such that the dépenses limitatives of the
  six organismes in 2016 equal ``dl_all_2016 × (1 − perimetre.part_autres_regimes)``;
* each level brought back to 2013 by the organisme's ``evolution_autres_depenses_limitatives``.

The figures used are reproduced exactly by construction (to the rounding printed); every other one is a test.
"""

from __future__ import annotations

import numpy as np

from model.analysis.reconciliation import DEFAULT_SCENARIO, lire_lignes
from model.results.run import run_scenario

UNIT_COSTS = ("cnaf", "cnav", "acoss")
PROPORTIONNELS = ("cnam", "msa", "rsi")


def main() -> None:
    res = run_scenario(DEFAULT_SCENARIO, deterministic=True, write=False)
    ds, par = res.dataset.mean("replicate"), res.scenario.parametres
    years = [int(y) for y in ds["year"].values]

    def v(name: str, org: str, year: int) -> float:
        return float(ds[name].sel(organisme=org, year=year))

    def index(org: str, year: int) -> float:  # I(year) / I(first year)
        taux = np.asarray(par[f"organismes.{org}.evolution_autres_depenses_limitatives"], float)
        taux = np.broadcast_to(taux, (len(years),))
        return float(np.prod(1.0 + taux[1:years.index(year) + 1]))

    lignes = {l.id: l for l in lire_lignes() if l.fit == "construction"}
    niveaux: dict[str, float] = {}
    for org in UNIT_COSTS:
        l = lignes[f"uc_{org}_2018"]
        cible = l.publie * v("charge_travail", org, l.year) / 1e6
        base = v("cout_gestion_cog", org, l.year) - v("autres_depenses_limitatives", org, l.year)
        niveaux[org] = (cible - base) / index(org, l.year)
    l = lignes["dl_all_2016"]
    cible = l.publie * (1.0 - par["perimetre.part_autres_regimes"])
    orgs = list(ds["organisme"].values)
    sans = sum(v("depenses_limitatives", o, l.year) - v("autres_depenses_limitatives", o, l.year) for o in orgs)
    reste = cible - sans - sum(niveaux[o] * index(o, l.year) for o in UNIT_COSTS)
    poids = {o: v("depenses_personnel", o, l.year) + v("adf", o, l.year) for o in PROPORTIONNELS}
    for o in PROPORTIONNELS:
        niveaux[o] = reste * poids[o] / sum(poids.values()) / index(o, l.year)
    print("default = { " + ", ".join(f"{o} = {niveaux[o]:.1f}" for o in orgs) + " }")


if __name__ == "__main__":
    main()
