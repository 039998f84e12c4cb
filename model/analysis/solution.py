"""The solution of a goal seek, written: the solved scenario as a TOML file on top of its baseline, a
stochastic run of it with the probability of meeting each target, and ``solve.json`` (one folder, claimed
and written atomically).
"""

from __future__ import annotations

import datetime as dt
import json
import math
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from model.analysis.objectifs import SolveSpec, Target, num_text
from model.analysis.solve import Solution, target_values
from model.params.parametres import Parametres
from model.results.run import run_scenario
from model.results.writers import OutputClaim, claim_output, write_json, write_results

SOLUTION_FILE = "solve.json"


# ----------------------------------------------------------------------------- writing
def scenario_toml(sol: Solution, out_dir: Path, today: dt.date | None = None) -> str:
    """The solved scenario as TOML: a header saying how it was obtained, then only the lever values.

    ``baseline`` is the original file, relative to ``out_dir`` (absolute when no relative path exists).
    """
    original = sol.scenario.file.resolve()
    out_dir = Path(out_dir).resolve()
    try:  # relative when both sit in one tree (a project folder), absolute otherwise
        shared = Path(os.path.commonpath([original, out_dir]))
        baseline = os.path.relpath(original, out_dir) if shared != Path(shared.anchor) else str(original)
    except ValueError:  # different drives
        baseline = str(original)
    today = today or dt.date.today()
    title = sol.scenario.header.get("title", sol.scenario.name)
    raw = sol.raw_values()
    expressions = ", ".join(dict.fromkeys(t.text for t in sol.targets))
    lever_text = "; ".join(f"{lv.text} in [{num_text(lv.low)}, {num_text(lv.high)}]" for lv in sol.levers)
    solution_text = "; ".join(f"{k} = {toml_value(v, short=True)}" for k, v in raw.items())
    achieved = "; ".join(f"{t.variable}:{t.organisme}:{t.year} = {num_text(v)}" for t, v in zip(sol.targets, sol.values))
    tolerances = ", ".join(f"±{num_text(t.tolerance(sol.tolerance))}" for t in sol.targets if t.op == "=")
    description = (
        f"Obtained on {today.isoformat()} by cogsim solve ({sol.method}, {sol.evaluations} deterministic runs) "
        f"from {sol.scenario.file.name}. Targets: {expressions}. "
        f"Levers: {lever_text}. Solution: {solution_text}. Deterministic values: {achieved}. "
        f"Tolerance: relative {sol.tolerance:g}" + (f" ({tolerances})" if tolerances else "")
        + ("; inequalities at their limit (least slack)" if any(t.op != "=" for t in sol.targets) else "")
        + ". " + " ".join(n.rstrip(".") + "." for n in sol.notes))
    lines = [
        f"# Solved scenario written by `cogsim solve` on {today.isoformat()}: only the lever values change "
        f"against the baseline.",
        "",
        "[scenario]",
        f"title = {_toml_string(f'Goal seek: {expressions} ({title})')}",
        f"author = {_toml_string('cogsim solve')}",
        f"reference = {_toml_string(str(sol.scenario.file))}",
        f"baseline = {_toml_string(baseline)}",
        f"description = {_toml_string(description.strip())}",
    ]
    tables: dict[str, list[str]] = {}
    for path, value in raw.items():
        table, _, name = path.rpartition(".")
        tables.setdefault(table, []).append(f"{name} = {toml_value(value)}")
    for table, entries in tables.items():
        lines += ["", f"[{table}]", *entries]
    return "\n".join(lines) + "\n"


def _toml_string(s: str) -> str:
    return json.dumps(s, ensure_ascii=False)  # a JSON string is a valid TOML basic string


def toml_value(v: Any, short: bool = False) -> str:
    if isinstance(v, dict):
        return "{ " + ", ".join(f"{k} = {toml_value(x, short)}" for k, x in v.items()) + " }"
    if isinstance(v, (bool, int)):
        return str(v)
    if math.isinf(v):
        return "inf" if v > 0 else "-inf"
    return f"{v:.6g}" if short else repr(float(v))


@dataclass(frozen=True)
class Check:
    """The stochastic check of one target: ``probability`` of meeting it over ``replicates`` (for an
    equality, of ending at or below the target; ``probability_above`` of ending at or above it)."""

    target: Target
    mean: float
    p05: float
    p95: float
    probability: float
    probability_above: float | None


def stochastic_checks(ds, targets: Sequence[Target]) -> list[Check]:
    """Probabilities of meeting each target over the replicates of a (stochastic) results Dataset."""
    vals = target_values(ds, targets)
    out = []
    for t, v in zip(targets, vals):
        v = v[np.isfinite(v)]
        if v.size == 0:  # undefined in every replicate: nothing to report
            continue
        if t.op == ">=":
            p, above = float(np.mean(v >= t.value)), None
        else:
            p = float(np.mean(v <= t.value))
            above = float(np.mean(v >= t.value)) if t.op == "=" else None
        q05, q95 = np.quantile(v, [0.05, 0.95])
        out.append(Check(t, float(v.mean()), float(q05), float(q95), p, above))
    return out


def spec_of(sol: Solution) -> SolveSpec:
    """What was asked of ``sol``: its spec, or for a solution built by hand the defaults of :class:`SolveSpec`
    with its scenario, targets, levers and tolerance."""
    if sol.spec is not None:
        return sol.spec
    return SolveSpec(sol.scenario, tuple(dict.fromkeys(t.text for t in sol.targets)),
                     tuple(lv.text for lv in sol.levers), sol.tolerance)


def write_solution(sol: Solution, *, claim: OutputClaim | None = None) -> tuple[Path, list[Check], dict[str, Any]]:
    """Write the solved scenario, a run of it (the spec's ``replicates`` stochastic replicates, its ``seed``)
    and the report, to the spec's folder (:attr:`SolveSpec.target`).

    Atomic: the folder appears complete or not at all. Returns (folder, stochastic checks, report).
    ``claim``: the destination already claimed (by the caller, before solving); otherwise it is claimed
    here.
    """
    spec = spec_of(sol)
    if claim is None:
        with claim_output(spec.target, "solve") as own:
            return write_solution(sol, claim=own)

    target_dir = claim.target
    toml_name = f"{sol.scenario.name}-solve.toml"
    tmp = claim.tmp
    toml_path = tmp / toml_name
    toml_path.write_text(scenario_toml(sol, target_dir), encoding="utf-8")
    t0 = time.perf_counter()
    res = run_scenario(toml_path, replicates=spec.replicates, seed=spec.seed, write=False)
    _same_parameters(res.scenario.parametres, sol)
    stochastic = res.manifest["mode"] == "stochastic"
    checks = stochastic_checks(res.dataset, sol.targets) if stochastic else []
    run_seconds = time.perf_counter() - t0
    report = _relocated(_report(sol, checks, res, toml_name, run_seconds, spec.command), tmp.name, target_dir.name)
    ds = res.dataset
    manifest = _relocated(res.manifest, tmp.name, target_dir.name)
    manifest["run_id"] = f"{target_dir.name}/run"
    manifest["solve"] = f"../{SOLUTION_FILE}"
    ds.attrs = _relocated(dict(ds.attrs), tmp.name, target_dir.name)
    ds.attrs["run_id"] = manifest["run_id"]
    write_results(ds, manifest, tmp / "run")
    write_json(tmp / SOLUTION_FILE, report)
    claim.publish()
    return target_dir, checks, report


def _same_parameters(par: Parametres, sol: Solution) -> None:
    """The written file must resolve to the parameters that were solved (a bug otherwise)."""
    for lever in sol.levers:
        for path in lever.resolved_paths:
            if not np.array_equal(np.asarray(par[path]), np.asarray(sol.parametres[path])):
                raise RuntimeError(f"the solved scenario does not reproduce {path}: {par[path]} != "
                                   f"{sol.parametres[path]}")


def _relocated(obj: Any, old: str, new: str) -> Any:
    """``obj`` with ``old`` replaced by ``new`` in every string (the temporary folder's name)."""
    if isinstance(obj, str):
        return obj.replace(old, new)
    if isinstance(obj, dict):
        return {_relocated(k, old, new): _relocated(v, old, new) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_relocated(v, old, new) for v in obj]
    return obj


def _report(sol: Solution, checks: list[Check], res, toml_name: str, run_seconds: float,
            command: Sequence[str]) -> dict[str, Any]:
    by_target = {c.target: c for c in checks}
    targets = []
    for t, v in zip(sol.targets, sol.values):
        entry: dict[str, Any] = {
            "target": t.label, "expression": t.text, "variable": t.variable, "organisme": t.organisme,
            "year": t.year, "operator": t.op, "value": t.value,
            "tolerance": t.tolerance(sol.tolerance) if t.op == "=" else 0.0,
            "deterministic": v, "met": t.met(v, sol.tolerance),
        }
        c = by_target.get(t)
        if c is not None:
            entry["stochastic"] = {"moyenne": c.mean, "p05": c.p05, "p95": c.p95,
                                   ("probability_at_or_below" if t.op == "=" else "probability_met"): c.probability}
            if c.probability_above is not None:
                entry["stochastic"]["probability_at_or_above"] = c.probability_above
        targets.append(entry)
    return {
        "scenario": str(sol.scenario.file),
        "solved_scenario": toml_name,
        "run": "run/",
        "created_utc": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "command": list(command),
        "method": sol.method,
        "tolerance_relative": sol.tolerance,
        "levers": [{"expression": lv.text, "path": lv.path, "years": list(lv.years) if lv.years else None,
                    "low": _jsonable_float(lv.low), "high": _jsonable_float(lv.high),
                    "unit": lv.parameter.unit} for lv in sol.levers],
        "solution": {k: ({str(y): x for y, x in v.items()} if isinstance(v, dict) else v)
                     for k, v in sol.raw_values().items()},
        "targets": targets,
        "notes": sol.notes,
        "stochastic_check": {"replicates": res.manifest["replicates"], "seed": res.manifest["seed"],
                             "mode": res.manifest["mode"]},
        "warnings": [w.as_dict() for w in res.scenario.warnings],
        "evaluations": sol.evaluations,
        "timings_s": {"solve": sol.seconds, "run": run_seconds},
    }


def _jsonable_float(v: float) -> float | str:
    return v if math.isfinite(v) else ("inf" if v > 0 else "-inf")
