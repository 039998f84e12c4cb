#!/usr/bin/env python3
"""Benchmark of issue 16: ``report`` and ``compare`` on two saved runs (target: each under 10 s of wall
time on 2 cores, the interpreter's start and imports included).

Makes (once, in ``--dir``, default a temporary folder) the default run and the CNAF example variant
(``scenarios/exemples/cnaf_gel_2020_mutualisation_2021.toml``), 60 replicates each, same seed; then times,
as a user runs them (child processes, median of ``--repeat``):

1. ``cogsim report REF --compare VAR`` (the report of one run with the two runs side by side);
2. ``cogsim compare REF VAR --organisme cnaf`` (the comparison deliverable: charts, table, workbook, note).

Each command's wall time and the CPU time of it and its children (``os.wait4``) are printed; a CPU time
close to twice the wall time says both cores were used.

Usage: python benchmarks/bench_rapport.py [--repeat 3] [--dir DIR]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
COGSIM = [sys.executable, str(ROOT / "run_scenario.py")]  # the same program as cogsim
REFERENCE = ROOT / "scenarios" / "cog_2018_2022.toml"
VARIANT = ROOT / "scenarios" / "exemples" / "cnaf_gel_2020_mutualisation_2021.toml"


def timed(cmd: list[str]) -> tuple[float, float]:
    """(wall seconds, CPU seconds of the command and its children) of one child process."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed ({proc.returncode}): {proc.stderr.read().decode()[-2000:]}")
    return wall, usage.ru_utime + usage.ru_stime


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--dir", type=Path, default=None, help="where the two runs are made (kept between calls)")
    a = ap.parse_args()
    base = a.dir or Path(tempfile.mkdtemp(prefix="bench_rapport_"))
    ref, var = base / "ref", base / "var"
    for scenario, out in ((REFERENCE, ref), (VARIANT, var)):
        if not (out / "results.nc").exists():
            subprocess.run(COGSIM + ["run", str(scenario), "--out", str(out)], check=True, cwd=ROOT,
                           stdout=subprocess.DEVNULL)
    commands = {
        "report REF --compare VAR": COGSIM + ["report", str(ref), "--compare", str(var)],
        "compare REF VAR --organisme cnaf": COGSIM + ["compare", str(ref), str(var), "--organisme", "cnaf",
                                                       "--out", str(base / "comparaison")],
    }
    for name, cmd in commands.items():
        runs = [timed(cmd) for _ in range(a.repeat)]
        walls, cpus = [r[0] for r in runs], [r[1] for r in runs]
        print(f"{name:36s} wall median {statistics.median(walls):5.1f} s "
              f"(runs {', '.join(f'{w:.1f}' for w in walls)}), CPU with children median {statistics.median(cpus):5.1f} s")
    print(f"runs in {base}")


if __name__ == "__main__":
    main()
