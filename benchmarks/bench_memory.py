#!/usr/bin/env python3
"""Benchmarks of issue 12, nothing grows without bound (run on demand; figures go in the README).

1. ``run --replicates N``: peak resident memory and wall time of the whole command for each N
   (default 1 000, 5 000, 20 000, 100 000; target: <= 2 GiB peak whatever N). Runs of more than
   1 000 replicates are simulated in blocks of 1 000 (``model.results.run.BLOC_REPLICATES``), so the peak
   should be flat in N and the time linear.
2. ``sweep`` of a 10^9-point grid (three axes of 1 000 values): refused with exit 2 from the axis sizes
   (target: < 2 s, the interpreter's start and imports included).

Each command runs as a child process, as a user runs it; its peak memory is the kernel's own
accounting of that child (``os.wait4`` → ``ru_maxrss``).

Usage: python benchmarks/bench_memory.py [--replicates 1000,20000] [--only run|refuse]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SCENARIO = ROOT / "scenarios" / "cog_2018_2022.toml"
COGSIM = [sys.executable, str(ROOT / "run_scenario.py")]  # the same program as cogsim
HUGE_GRID = ["--grid", "organismes.cnaf.taux_remplacement=0:1:1000",
             "--grid", "organismes.cnav.taux_remplacement=0:1:1000",
             "--grid", "organismes.cnam.taux_remplacement=0:1:1000"]


def measure(cmd: list[str]) -> tuple[int, float, float, str]:
    """(exit code, wall seconds, peak RSS in MiB, stderr) of one child process."""
    t0 = time.perf_counter()
    with tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=err)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - t0
        proc.returncode = os.waitstatus_to_exitcode(status)
        err.seek(0)
        text = err.read().decode(errors="replace")
    return proc.returncode, wall, usage.ru_maxrss / 1024, text  # ru_maxrss is in KiB on Linux


def bench_run(replicates: list[int]) -> None:
    print("run --replicates N (whole command: simulation, Dataset, results.nc/csv written)")
    print(f"{'N':>8} {'wall s':>8} {'peak MiB':>9}  exit")
    for n in replicates:
        out = Path(tempfile.mkdtemp(prefix="cogsim-bench-memory-"))
        try:
            rc, wall, peak, err = measure(COGSIM + ["run", str(SCENARIO), "--replicates", str(n),
                                                    "--out", str(out / "run")])
        finally:
            shutil.rmtree(out, ignore_errors=True)
        print(f"{n:>8} {wall:>8.1f} {peak:>9.0f}  {rc}" + ("" if rc == 0 else f"  {err.strip()[-300:]}"),
              flush=True)


def bench_refuse(repeat: int = 3) -> None:
    print("sweep of a 10^9-point grid (must exit 2 quickly)")
    for _ in range(repeat):
        out = Path(tempfile.mkdtemp(prefix="cogsim-bench-refuse-"))
        try:
            rc, wall, peak, err = measure(COGSIM + ["sweep", str(SCENARIO), *HUGE_GRID, "--out", str(out / "sw")])
        finally:
            shutil.rmtree(out, ignore_errors=True)
        print(f"  exit {rc}, {wall:.2f} s, peak {peak:.0f} MiB")
    print("  " + err.strip().splitlines()[-1][:400])


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--replicates", default="1000,5000,20000,100000",
                   help="comma-separated numbers of replicates (default 1000,5000,20000,100000)")
    p.add_argument("--only", choices=["run", "refuse"])
    args = p.parse_args()
    if args.only in (None, "refuse"):
        bench_refuse()
    if args.only in (None, "run"):
        bench_run([int(x) for x in args.replicates.split(",") if x.strip()])


if __name__ == "__main__":
    main()
