"""Sensitivity analyses of the model end to end: design → evaluations → indices.

The pipeline behind ``cogsim sensitivity`` (which writes the result with its charts):

1. the design: :func:`model.analysis.sensibilite.plan` (one-at-a-time, Morris or Sobol' through SALib)
   over the ``PATH[@YEAR]=LOW:HIGH`` factors, validated like scenario files (unknown path with the
   closest name, range within the parameter's bounds, non-empty);
2. the evaluations: the design's rows are one bundle axis ``point`` of a sweep
   (:mod:`model.analysis.sweep`): the same batches (points that differ only in batchable parameters share
   one engine batch), the same Zarr streaming, resuming and dask scale-out;
3. the indices: :func:`model.analysis.sensibilite.analyser` for every output variable and every year ×
   organisme (régime général and total included), with bootstrap confidence intervals; the headline
   cell (``year``, ``organisme``, first output: what a report shows first) is recorded in the result's
   attribute ``headline`` (:data:`~model.analysis.sensibilite_resultat.HEADLINE`).

By default the model runs in expected-value (deterministic) mode: the indices then measure the
parameters' effect without sampling noise. ``replicates=N`` runs N stochastic replicates per point
instead (common random numbers) and analyses their mean.

:mod:`model.analysis.sensibilite` holds the model-independent machinery (designs and estimators) and
:mod:`model.analysis.sensibilite_resultat` the layout of its result; this module ties them to the scenario
files and the sweep.

Examples
--------
>>> from model.analysis.sensitivity import SensitivitySpec, prepare_sensitivity, run_sensitivity
>>> spec = SensitivitySpec("scenarios/cog_2018_2022.toml", "oat",
...                        ("organismes.cnaf.taux_remplacement@2020=0.3:0.9",
...                         "organismes.tous.taux_autres_departs=0.015:0.035"))
>>> plan = prepare_sensitivity(spec)                                          # doctest: +SKIP
>>> res = run_sensitivity(plan, "results/sensibilite-demo.evaluations")       # doctest: +SKIP
>>> res.indices["etpma"].sel(indice="swing", year=2022, organisme="total")     # doctest: +SKIP
"""

from __future__ import annotations

import datetime as dt
import json
import math
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

import numpy as np
import xarray as xr

from model import __version__
from model.analysis.grille import Axe, Grille, grid_lever, num_text
from model.analysis.objectifs import Lever
from model.analysis.sensibilite import analyser, plan, taille_plan
from model.analysis.sensibilite_resultat import HEADLINE, METHODES, Facteur
from model.analysis.sweep import (SweepResult, SweepSpec, check_optional_dependencies, open_sweep, run_sweep,
                                  scheduler_problem)
from model.analysis.taille import NOMS, check_estimate, estimate, noms
from model.params.calendrier import ORGANISMES_SORTIE
from model.params.errors import MISSING, InputError, Problem, unknown_name
from model.params.parametres import Parametres
from model.params.scenario import Scenario, load_scenario
from model.results.dataset import REGISTRE

DEFAULT_OUTPUTS = ("etpma", "masse_salariale", "depenses_limitatives", "adf_hors_informatique", "ecart_plafond",
                   "ecart_lpfp")
DEFAULT_SAMPLES = {"morris": 20, "sobol": 256}
# what messages call the inputs of a sensitivity analysis besides a sweep's (the command line passes its options)
NOMS_SENSIBILITE: dict[str, str] = {**NOMS, "method": "method", "year": "year", "organisme": "organisme",
                                     "levels": "levels", "seed": "seed"}


@dataclass(frozen=True)
class SensitivitySpec:
    """What a sensitivity analysis computes: the input of :func:`prepare_sensitivity`.

    Parameters
    ----------
    scenario : the scenario file.
    method : ``"oat"``, ``"morris"`` or ``"sobol"``.
    params : the factors, ``PATH[@YEAR]=LOW:HIGH`` each.
    samples : Morris trajectories (default 20), Sobol' base samples (a power of 2, default 256).
    levels : Morris grid levels.
    second_order : Sobol' second-order indices too.
    outputs : the result variables analysed (default :data:`DEFAULT_OUTPUTS`).
    year, organisme : the headline cell (default the last simulated year, ``total``).
    replicates : stochastic replicates per point (default: the expected-value model).
    seed : overrides the scenario's seed (the design's and the model's).
    workers, scheduler, resume, keep_freed_memory, command : as :class:`~model.analysis.sweep.SweepSpec`'s.
    names : what messages call the inputs (keys of :data:`NOMS_SENSIBILITE`).
    """

    scenario: str | Path
    method: str
    params: tuple[str, ...]
    samples: int | None = None
    levels: int = 4
    second_order: bool = False
    outputs: tuple[str, ...] | None = None
    year: int | None = None
    organisme: str = "total"
    replicates: int | None = None
    seed: int | None = None
    workers: int | None = None
    scheduler: str | None = None
    resume: bool = False
    keep_freed_memory: bool = False
    command: tuple[str, ...] = ()
    names: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for name in ("params", "outputs", "command"):
            value = getattr(self, name)
            if value is None and name == "outputs":
                continue
            if isinstance(value, (str, bytes)) or not isinstance(value, Sequence) or \
                    not all(isinstance(x, str) for x in value):
                raise TypeError(f"SensitivitySpec.{name} must be a sequence of strings, not {value!r}")
            object.__setattr__(self, name, tuple(value))
        for name in ("samples", "levels", "replicates", "workers", "seed", "year"):
            value = getattr(self, name)
            if value is None and name != "levels":
                continue
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or \
                    value < (0 if name == "seed" else 1):
                kind = "a non-negative" if name == "seed" else "a positive"
                raise ValueError(f"SensitivitySpec.{name} must be {kind} integer, not {value!r}")
        if self.workers is not None and self.scheduler is not None:
            raise ValueError("SensitivitySpec: workers (a local cluster) and scheduler (an existing one) exclude "
                             "each other")
        unknown = set(self.names) - set(NOMS_SENSIBILITE)
        if unknown:
            raise ValueError(f"SensitivitySpec.names: unknown input(s) {sorted(unknown)}; known: "
                             f"{', '.join(NOMS_SENSIBILITE)}")
        object.__setattr__(self, "names", {**NOMS_SENSIBILITE, **self.names})


@dataclass(frozen=True)
class SensitivityPlan:
    """A validated analysis and its design, before any model run (:func:`prepare_sensitivity`)."""

    spec: SensitivitySpec
    scenario: Scenario
    facteurs: tuple[Facteur, ...]
    levers: tuple[Lever, ...]
    X: np.ndarray  # the design: points × factors, in the factors' units
    samples: int | None
    outputs: tuple[str, ...]
    year: int
    seed: int
    warnings: tuple[str, ...]  # the one-at-a-time pivots moved from the scenario's values
    started: float  # time.perf_counter() when the preparation started


@dataclass(frozen=True)
class SensitivityResult:
    """The indices (:mod:`~model.analysis.sensibilite_resultat`'s layout, the headline cell in its attribute
    ``headline``), the manifest describing the analysis, and the folder of the evaluations (a finished
    sweep)."""

    indices: xr.Dataset
    manifest: dict[str, Any]
    evaluations: Path


def parse_factors(texts: Sequence[str], par: Parametres, notes: list[str] | None = None, *,
                  names: Mapping[str, str] | None = None) -> tuple[list[Facteur], list[Lever]]:
    """``PATH[@YEAR]=LOW:HIGH`` -> factors and their levers. The base (the one-at-a-time pivot) is the
    scenario's value in the lever's first year (the last year for a lever on every year); when the
    scenario has several values (``organismes.tous`` over organismes that differ) or one outside the
    range, the pivot is their mean clipped into the range, and ``notes`` says so."""
    n = noms(names)
    src, opt = n["source"], n["param"]
    problems: list[Problem] = []
    facteurs: list[Facteur] = []
    levers = []
    for text in texts:
        before = len(problems)
        lever = grid_lever(text.strip(), par, problems, opt, src, text)
        if lever is None:
            continue
        if "=" not in text and not (math.isfinite(lever.low) and math.isfinite(lever.high)):
            problems.append(Problem(src, opt, text, "no range, and the parameter's bounds are not both finite",
                                    "PATH=LOW:HIGH"))
        if len(problems) > before:
            continue
        name = lever.path + (f"@{lever.years[0]}" if lever.years else "")
        base = lever.start(par)[0]
        year = lever.years[0] if lever.years else par.horizon.derniere
        values = [float(np.asarray(par[p], float)[par.horizon.index(year)]) if np.ndim(par[p]) else float(par[p])
                  for p in lever.resolved_paths]
        if notes is not None and (max(values) - min(values) > 1e-12 or not lever.low <= values[0] <= lever.high):
            notes.append(f"{name}: the scenario's value(s) {', '.join(num_text(v) for v in sorted(set(values)))} "
                         f"-> one-at-a-time pivot {num_text(base)} (mean, within [{num_text(lever.low)}, "
                         f"{num_text(lever.high)}])")
        facteurs.append(Facteur(name, lever.low, lever.high, base=base, label=name))
        levers.append(lever)
    owner: dict[str, str] = {}
    for f, lv in zip(facteurs, levers):
        for path in lv.resolved_paths:
            if path in owner:
                problems.append(Problem(src, opt, f.path, f"sets {path}, already set by {opt} {owner[path]}",
                                        "each parameter in one factor"))
            owner[path] = f.path
    if not texts:
        problems.append(Problem(src, opt, MISSING, "no factor", f"{opt} PATH=LOW:HIGH (repeatable)"))
    if problems:
        raise InputError(problems)
    return facteurs, levers


def prepare_sensitivity(spec: SensitivitySpec) -> SensitivityPlan:
    """Validate everything (method, factors, outputs, headline cell, the size of the design from its
    formula) and build the design; every problem is reported at once (``InputError``). Nothing runs."""
    t0 = time.perf_counter()
    check_optional_dependencies()
    n = spec.names
    src = n["source"]
    sc = load_scenario(spec.scenario, {"simulation.seed": spec.seed} if spec.seed is not None else None)
    par = sc.parametres
    problems: list[Problem] = []
    method = spec.method
    if method not in METHODES:
        problems.append(Problem(src, n["method"], method, "unknown method", ", ".join(METHODES)))
    outs = spec.outputs if spec.outputs else DEFAULT_OUTPUTS
    for o in outs:
        if o not in REGISTRE:
            problems.append(Problem(src, n["outputs"], o, unknown_name("variable", o, REGISTRE), "a result variable"))
    h = par.horizon
    year = h.derniere if spec.year is None else spec.year
    if year not in h:
        problems.append(Problem(src, n["year"], year, f"not a simulated year (the horizon is {h})",
                                f"{h.premiere} to {h.derniere}"))
    if spec.scheduler is not None and scheduler_problem(spec.scheduler, n) is not None:
        problems.append(scheduler_problem(spec.scheduler, n))
    if spec.organisme not in ORGANISMES_SORTIE:
        problems.append(Problem(src, n["organisme"], spec.organisme, "unknown organisme",
                                ", ".join(ORGANISMES_SORTIE)))
    notes: list[str] = []
    try:
        facteurs, levers = parse_factors(spec.params, par, notes, names=n)
    except InputError as exc:
        problems.extend(exc.problems)
        facteurs, levers = [], []
    if problems:
        raise InputError(problems)
    seed = int(par["simulation.seed"])
    samples = spec.samples if spec.samples is not None else DEFAULT_SAMPLES.get(method)
    # the size of the design from its formula, before the design exists (SALib would build it whole)
    check_estimate(estimate(taille_plan(len(facteurs), method, samples, spec.second_order), spec.replicates or 1,
                            len(outs), horizon=h), scheduler=spec.scheduler, what="samples", names=n)
    design_names = {"source": src, "facteur": n["param"], "methode": n["method"], "n": n["samples"],
                    "seed": n["seed"], "levels": n["levels"]}
    X = plan(facteurs, method, samples, seed, levels=spec.levels, second_order=spec.second_order,
             names=design_names)
    for j, lv in enumerate(levers):  # the model sees whole values of integer parameters
        if lv.integer:
            X[:, j] = np.round(X[:, j])
    return SensitivityPlan(spec, sc, tuple(facteurs), tuple(levers), X, samples, tuple(outs), year, seed,
                           tuple(notes) if method == "oat" else (), t0)


def run_sensitivity(plan: SensitivityPlan, evaluations: str | Path, *, progress: bool | None = None,
                    on_start: Callable[[SweepResult], None] | None = None) -> SensitivityResult:
    """Evaluate the design (a sweep written to ``evaluations``) and compute the indices.

    ``on_start`` and ``progress`` are passed to :func:`~model.analysis.sweep.run_sweep`."""
    spec = plan.spec
    X = plan.X
    evaluations = Path(evaluations)
    axe = Axe("point", plan.levers, X, "levier", f"{spec.method} design: {X.shape[0]} points")
    sweep_names = {k: v for k, v in spec.names.items() if k in NOMS}
    run_sweep(SweepSpec(spec.scenario, grille=Grille((axe,), spec.names["source"]), out=evaluations,
                        replicates=spec.replicates, seed=spec.seed, deterministic=spec.replicates is None,
                        outputs=plan.outputs, workers=spec.workers, scheduler=spec.scheduler, resume=spec.resume,
                        keep_freed_memory=spec.keep_freed_memory, command=spec.command, names=sweep_names),
              progress=progress, on_start=on_start)
    ds = open_sweep(evaluations)
    outs = list(plan.outputs)
    Y = ds[outs].sel(statistique="moyenne", drop=True)
    Y = Y.drop_vars([c for c in Y.coords if c.startswith("point:") or c == "point"]).load()
    res = analyser(list(plan.facteurs), spec.method, X, Y, seed=plan.seed, second_order=spec.second_order,
                   levels=spec.levels)
    scenario = str(Path(spec.scenario).resolve())
    res.attrs.update({"scenario": scenario, "seed": plan.seed, "mode": ds.attrs["mode"],
                      "replicates": ds.attrs["replicates"], "cogsim_version": __version__,
                      HEADLINE: json.dumps({"variable": outs[0], "year": int(plan.year), "organisme": spec.organisme})})
    sc = plan.scenario
    manifest = {"created_utc": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
                "command": list(spec.command),
                "scenario": {"file": scenario, "header": dict(sc.header), "chain": [str(f) for f in sc.chain]},
                "method": spec.method, "samples": plan.samples,
                "levels": spec.levels if spec.method == "morris" else None,
                "second_order": spec.second_order, "points": int(X.shape[0]), "seed": plan.seed,
                "mode": ds.attrs["mode"], "replicates": ds.attrs["replicates"], "outputs": outs,
                "factors": [{"name": f.path, "low": f.low, "high": f.high, "base": f.base,
                             "unit": lv.parameter.unit} for f, lv in zip(plan.facteurs, plan.levers)],
                "evaluations_fingerprint": ds.attrs["fingerprint"],
                "warnings": list(plan.warnings), "headline": {"variable": outs[0], "year": plan.year,
                                                             "organisme": spec.organisme}}
    manifest["timings_s"] = {"total_s": round(time.perf_counter() - plan.started, 3)}
    return SensitivityResult(res, manifest, evaluations)
