#!/usr/bin/env python3
"""Benchmarks of the staffing engine (run on demand; figures go in CONTRIBUTING.md).

1. The default scenario from the shell, end to end, against `python -c "import numpy, scipy, simpy,
   xarray, pandas"` (target: at most 2.5 times).
2. 1 000 stochastic replicates of the default scenario in one batch (target: <= 10 s, <= 2 GiB peak),
   measured in a child process so its peak memory is its own.
3. The same with parameter uncertainty (each replicate draws the fitted parameters, model/params/incertitude.py)
   against without, in interleaved pairs (``--pairs``, each in a fresh child process): the median of the
   pairs' ratios (target: <= 1.5).

Usage: python benchmarks/bench_engine.py [--repeat N] [--replicates N] [--pairs N] [--only-pairs]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

CHILD = r"""
import json, resource, sys, time
from model.params.scenario import load_scenario
from model.engine.etat_initial import etat_initial
from model.engine.simulation import keep_freed_memory, simulate
from model.params.incertitude import loi_calibree, tirages
from model.results.dataset import build_dataset
keep_freed_memory()  # as the command line does (model/cli/main.py)
sc = load_scenario(sys.argv[1])
par = sc.parametres
e0 = etat_initial(par)
R = int(sys.argv[2])
t = time.perf_counter()
lot = tirages(par, "stochastic", par["simulation.seed"], R, loi=loi_calibree()) if sys.argv[3] == "1" else par
traj = simulate(lot, e0, replicates=R, seed=par["simulation.seed"])
ds = build_dataset(traj, lot)
dt = time.perf_counter() - t
print(json.dumps({"seconds": dt, "peak_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def timed(cmd: list[str], repeat: int) -> list[float]:
    out = []
    for _ in range(repeat):
        t = time.perf_counter()
        subprocess.run(cmd, cwd=ROOT, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        out.append(time.perf_counter() - t)
    return out


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--replicates", type=int, default=1000)
    ap.add_argument("--pairs", type=int, default=5)
    ap.add_argument("--only-pairs", action="store_true", help="only measure 3 (parameter uncertainty)")
    args = ap.parse_args()
    py = sys.executable
    if not args.only_pairs:
        one_batch(py, args)
    paired(py, args)
    return 0


def child(py: str, replicates: int, draws: bool) -> dict:
    res = subprocess.run([py, "-c", CHILD, "scenarios/cog_2018_2022.toml", str(replicates), "1" if draws else "0"],
                         cwd=ROOT, check=True, capture_output=True, text=True)
    return json.loads(res.stdout.strip().splitlines()[-1])


def paired(py: str, args) -> None:
    """With against without parameter draws, interleaved pairs (the order alternates)."""
    with_, without, ratios = [], [], []
    for i in range(args.pairs):
        order = (True, False) if i % 2 == 0 else (False, True)
        r = {d: child(py, args.replicates, d) for d in order}
        with_.append(r[True]["seconds"])
        without.append(r[False]["seconds"])
        ratios.append(r[True]["seconds"] / r[False]["seconds"])
        print(f"pair {i + 1}: with draws {r[True]['seconds']:.2f} s ({r[True]['peak_mib']:.0f} MiB), without "
              f"{r[False]['seconds']:.2f} s ({r[False]['peak_mib']:.0f} MiB): ratio {ratios[-1]:.2f}", flush=True)
    print(f"{args.replicates} replicates, simulate + Dataset, median of {args.pairs} pairs: with parameter draws "
          f"{statistics.median(with_):.2f} s, without {statistics.median(without):.2f} s, median ratio "
          f"{statistics.median(ratios):.2f} (range {min(ratios):.2f}-{max(ratios):.2f}; target <= 1.5)")


def one_batch(py: str, args) -> None:
    imports = timed([py, "-c", "import numpy, scipy, simpy, xarray, pandas"], args.repeat)
    with tempfile.TemporaryDirectory() as tmp:
        default = timed([py, "run_scenario.py", "run", "scenarios/cog_2018_2022.toml", "--out", f"{tmp}/r"],
                        args.repeat)
    med_i, med_d = statistics.median(imports), statistics.median(default)
    print(f"import numpy, scipy, simpy, xarray, pandas: median {med_i:.2f} s over {args.repeat}")
    print(f"default scenario end to end:               median {med_d:.2f} s over {args.repeat} "
          f"= {med_d / med_i:.2f} x the imports (target <= 2.5)")
    r = child(py, args.replicates, True)
    print(f"{args.replicates} stochastic replicates in one batch (parameter draws included): {r['seconds']:.2f} s "
          f"(target <= 10 s), peak memory {r['peak_mib']:.0f} MiB (target <= 2048)")


if __name__ == "__main__":
    sys.exit(main())
