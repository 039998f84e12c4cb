#!/usr/bin/env python3
"""Benchmarks of the staffing engine (run on demand; figures go in CONTRIBUTING.md).

1. The default scenario from the shell, end to end, against `python -c "import numpy, scipy, simpy,
   xarray, pandas"` (target: at most 2.5 times).
2. 1 000 stochastic replicates of the default scenario in one batch (target: <= 10 s, <= 2 GiB peak),
   measured in a child process so its peak memory is its own.

Usage: python benchmarks/bench_engine.py [--repeat N] [--replicates N]
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
from model.results.dataset import build_dataset
keep_freed_memory()  # as the command line does (model/cli/main.py)
sc = load_scenario(sys.argv[1])
par = sc.parametres
e0 = etat_initial(par)
t = time.perf_counter()
traj = simulate(par, e0, replicates=int(sys.argv[2]), seed=par["simulation.seed"])
ds = build_dataset(traj, par)
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
    args = ap.parse_args()
    py = sys.executable
    imports = timed([py, "-c", "import numpy, scipy, simpy, xarray, pandas"], args.repeat)
    with tempfile.TemporaryDirectory() as tmp:
        default = timed([py, "run_scenario.py", "run", "scenarios/cog_2018_2022.toml", "--out", f"{tmp}/r"],
                        args.repeat)
    med_i, med_d = statistics.median(imports), statistics.median(default)
    print(f"import numpy, scipy, simpy, xarray, pandas: median {med_i:.2f} s over {args.repeat}")
    print(f"default scenario end to end:               median {med_d:.2f} s over {args.repeat} "
          f"= {med_d / med_i:.2f} x the imports (target <= 2.5)")
    res = subprocess.run([py, "-c", CHILD, "scenarios/cog_2018_2022.toml", str(args.replicates)], cwd=ROOT,
                         check=True, capture_output=True, text=True)
    r = json.loads(res.stdout.strip().splitlines()[-1])
    print(f"{args.replicates} stochastic replicates in one batch: {r['seconds']:.2f} s "
          f"(target <= 10 s), peak memory {r['peak_mib']:.0f} MiB (target <= 2048)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
