"""Golden values: a few key outputs of the shipped scenarios at their own seed, and the script that
rewrites them after an intended change of results.

``tests/test_regressions.py`` runs the shipped scenarios, computes the figures below with
:func:`golden_values` and compares them with ``tests/golden/scenarios.json`` at the file's relative
tolerance. When a change of the model is *meant* to move results:

    .venv/bin/python tests/golden/update.py           # rewrite tests/golden/scenarios.json
    git diff tests/golden/scenarios.json              # read what moved, and by how much

and explain the change of each figure in the commit message. ``--check`` compares without writing
(exit 1 listing the figures that moved).

What is pinned (``variable|organisme|year``; the régime général ``regime_general`` and ``total`` are the
Dataset's aggregates, as in ``results.csv``): ETPMA by organisme in 2018 and 2022, the wage bill of the
régime général in 2022, total dépenses limitatives in 2022, RMPP of the régime général in 2019, CNAF
retirements in 2015, the ceiling saturation by organisme in 2022, the LPFP check and gap in 2022, CNAF's
processing delay and answer rate in 2022; for the stochastic run also the 5 % and 95 % quantiles over
its replicates of the total and CNAF ETPMA and of the régime général wage bill in 2022. Deterministic runs of every shipped scenario (their ETPMA and
wage bill totals) and the stochastic run of ``cog_2018_2022.toml`` at its own seed and replicates (the
mean over replicates: for ``respect_lpfp`` the probability of respecting the LPFP, for ``saturation``
the mean saturation). NaN figures (no ceiling, closed organisme) are not pinned.

The stochastic figures depend on numpy's random generator (PCG64 and ``SeedSequence``, stable across
numpy releases) and floating-point summation; the file records the numpy version it was made with.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from model.params.calendrier import ORGANISMES  # noqa: E402
from model.results.dataset import aggregate_values
from model.params.calendrier import AGGREGATS
from model.results.run import run_scenario  # noqa: E402

GOLDEN = Path(__file__).resolve().parent / "scenarios.json"
SCENARIOS = ROOT / "scenarios"
COG = "cog_2018_2022"
RELATIVE_TOLERANCE = 1e-6
ABSOLUTE_TOLERANCE = 1e-9  # for figures that are 0 (a closed organisme's ETPMA)
ORGS_AGG = list(ORGANISMES) + list(AGGREGATS)

# (variable, organismes or aggregates, years): the figures pinned for the default scenario
FIGURES_COG: tuple[tuple[str, tuple[str, ...], tuple[int, ...]], ...] = (
    ("etpma", tuple(ORGS_AGG), (2018, 2022)),
    ("masse_salariale", ("regime_general",), (2022,)),
    ("depenses_limitatives", ("total",), (2022,)),
    ("rmpp", ("regime_general",), (2019,)),
    ("departs_retraite", ("cnaf",), (2015,)),
    ("saturation", tuple(ORGS_AGG), (2022,)),
    ("respect_lpfp", ("total",), (2022,)),
    ("ecart_lpfp", ("total",), (2022,)),
    ("delai_traitement", ("cnaf",), (2022,)),
    ("taux_appels_aboutis", ("cnaf",), (2022,)),
)
# the spread of the stochastic run: 5 % and 95 % quantiles over its replicates
QUANTILES_COG = (("etpma", ("total", "cnaf"), (2022,)), ("masse_salariale", ("regime_general",), (2022,)))
# the other shipped scenarios, deterministic only (and their last year when it is after 2022)
FIGURES_AUTRES = (
    ("etpma", ("regime_general", "total"), (2022,)),
    ("masse_salariale", ("total",), (2022,)),
)


def figures(ds, spec, quantiles=()) -> dict[str, float]:
    """``{"variable|organisme|year": value}`` of a Dataset, the mean over its replicates, and
    ``"variable|organisme|year|q05"`` / ``"...|q95"`` for the figures of ``quantiles`` (NaN left out)."""
    years = [int(y) for y in ds["year"].values]
    out: dict[str, float] = {}
    for spec_, stats in ((spec, (("", np.mean),)),
                         (quantiles, (("|q05", lambda x: np.quantile(x, 0.05)),
                                      ("|q95", lambda x: np.quantile(x, 0.95))))):
        for name, orgs, ys in spec_:
            values = aggregate_values(ds, name)  # (year, organisme + aggregates, replicate)
            for org in orgs:
                for y in ys:
                    for suffix, stat in stats:
                        v = float(stat(values[years.index(y), ORGS_AGG.index(org)]))
                        if math.isfinite(v):
                            out[f"{name}|{org}|{y}{suffix}"] = v
    return out


def run(scenario: str, deterministic: bool):
    """The Dataset of a shipped scenario at its own seed (and replicates when stochastic)."""
    return run_scenario(SCENARIOS / f"{scenario}.toml", deterministic=deterministic, write=False).dataset


def golden_values(datasets: dict[tuple[str, bool], object] | None = None) -> dict[str, dict[str, float]]:
    """The golden figures, ``{"<scenario> <mode>": {figure: value}}``. ``datasets`` may hold runs
    already made, keyed by ``(scenario, deterministic)``; the missing ones are run."""
    datasets = dict(datasets or {})

    def ds(scenario, deterministic):
        if (scenario, deterministic) not in datasets:
            datasets[(scenario, deterministic)] = run(scenario, deterministic)
        return datasets[(scenario, deterministic)]

    out = {f"{COG} deterministic": figures(ds(COG, True), FIGURES_COG),
           f"{COG} stochastic": figures(ds(COG, False), FIGURES_COG, QUANTILES_COG)}
    for path in sorted(SCENARIOS.glob("*.toml")):
        if path.stem != COG:
            d = ds(path.stem, True)
            derniere = int(d["year"].values[-1])  # a scenario beyond 2022 (COG 2023-2027): its last year too
            spec = tuple((n, o, tuple(sorted({*ys, derniere}))) for n, o, ys in FIGURES_AUTRES)
            out[f"{path.stem} deterministic"] = figures(d, spec)
    return out


def differences(expected: dict, actual: dict, rel: float, abs_: float) -> list[str]:
    """One line per figure that moved beyond the tolerance, appeared or disappeared."""
    lines = []
    for run_key in sorted(set(expected) | set(actual)):
        e, a = expected.get(run_key, {}), actual.get(run_key, {})
        for k in sorted(set(e) | set(a)):
            if k not in a:
                lines.append(f"{run_key}: {k} no longer computed (was {e[k]!r})")
            elif k not in e:
                lines.append(f"{run_key}: {k} new (now {a[k]!r})")
            elif not math.isclose(a[k], e[k], rel_tol=rel, abs_tol=abs_):
                change = (a[k] - e[k]) / e[k] if e[k] else float("inf")
                lines.append(f"{run_key}: {k} = {a[k]!r}, golden {e[k]!r} ({change:+.3e} relative)")
    return lines


def read() -> dict:
    return json.loads(GOLDEN.read_text(encoding="utf-8"))


def write(values: dict[str, dict[str, float]]) -> None:
    doc = {
        "about": "Golden values of the shipped scenarios at their own seed (tests/test_regressions.py). "
                 "Regenerate with `python tests/golden/update.py` after an intended change of results, "
                 "and explain the change in the commit message.",
        "relative_tolerance": RELATIVE_TOLERANCE,
        "absolute_tolerance": ABSOLUTE_TOLERANCE,
        "numpy": np.__version__,
        "values": values,
    }
    GOLDEN.write_text(json.dumps(doc, indent=1, sort_keys=True, ensure_ascii=False) + "\n", encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--check", action="store_true", help="compare with the golden file without writing it")
    args = p.parse_args(argv)
    values = golden_values()
    if args.check:
        doc = read()
        diff = differences(doc["values"], values, doc["relative_tolerance"], doc["absolute_tolerance"])
        print("\n".join(diff) if diff else "identical within the tolerance")
        return 1 if diff else 0
    old = read()["values"] if GOLDEN.exists() else {}
    diff = differences(old, values, RELATIVE_TOLERANCE, ABSOLUTE_TOLERANCE)
    write(values)
    print(f"wrote {GOLDEN.relative_to(ROOT)}" + (":\n" + "\n".join(diff) if diff else " (no figure moved)"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
