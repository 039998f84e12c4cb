#!/usr/bin/env python3
"""Benchmarks of sweeps and sensitivity analysis (run on demand; figures go in CONTRIBUTING.md).

1. ``sweep``: 1 000 grid points (10 × 10 × 10) × 10 replicates of the default scenario on a local
   dask cluster of 2 workers (target: <= 60 s on 2 cores).
2. ``sensitivity``: Sobol on 8 parameters with 512 base samples (target: <= 3 minutes on 2 cores).

Each command runs as a child process from the shell, as a user runs it; the peak memory is the peak of
the summed resident memory of the command and every process it starts (dask scheduler, nannies,
workers), sampled every 0.1 s (target: <= 2 GiB whatever the grid size).

Usage: python benchmarks/bench_sweep.py [--only sweep|sensitivity] [--workers N]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parent.parent
SCENARIO = ROOT / "scenarios" / "cog_2018_2022.toml"

SWEEP_GRID = ["organismes.cnaf.taux_remplacement@2020=0.3:0.9:10",
              "organismes.cnam.taux_remplacement@2019=0.3:0.9:10",
              "organismes.tous.taux_autres_departs=0.015:0.035:10"]
SOBOL_PARAMS = ["organismes.cnam.taux_remplacement@2019=0.3:0.9",
                "organismes.cnaf.taux_remplacement@2019=0.3:0.9",
                "organismes.cnav.taux_remplacement@2019=0.3:0.9",
                "organismes.acoss.taux_remplacement@2019=0.3:0.9",
                "organismes.msa.taux_remplacement@2019=0.3:0.9",
                "organismes.tous.taux_autres_departs=0.015:0.035",
                "organismes.tous.taux_renouvellement_cdd=0.8:1.0",
                "organismes.tous.duree_moyenne_cdd=4:12"]


def measure(cmd: list[str]) -> tuple[float, float, int]:
    """Wall time (s), peak summed RSS of the process tree (MiB), exit code."""
    t = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    peak = 0.0
    stop = threading.Event()

    def sample():
        nonlocal peak
        try:
            root = psutil.Process(proc.pid)
        except psutil.NoSuchProcess:
            return
        while not stop.is_set():
            total = 0
            try:
                for p in [root, *root.children(recursive=True)]:
                    try:
                        total += p.memory_info().rss
                    except psutil.NoSuchProcess:
                        pass
            except psutil.NoSuchProcess:
                break
            peak = max(peak, total / 2**20)
            time.sleep(0.1)

    th = threading.Thread(target=sample, daemon=True)
    th.start()
    out, err = proc.communicate()
    stop.set()
    th.join()
    if proc.returncode != 0:
        print(err, file=sys.stderr)
    return time.perf_counter() - t, peak, proc.returncode


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", choices=["sweep", "sensitivity"])
    ap.add_argument("--workers", type=int, default=2)
    args = ap.parse_args()
    cli = [sys.executable, str(ROOT / "run_scenario.py")]
    with tempfile.TemporaryDirectory() as tmp:
        if args.only in (None, "sweep"):
            cmd = cli + ["sweep", str(SCENARIO), "--replicates", "10", "--workers", str(args.workers),
                         "--out", f"{tmp}/sweep"]
            for g in SWEEP_GRID:
                cmd += ["--grid", g]
            s, mib, rc = measure(cmd)
            print(f"sweep 1000 points x 10 replicates, {args.workers} workers: {s:.1f} s (target <= 60 s), "
                  f"peak memory {mib:.0f} MiB (target <= 2048), exit {rc}")
        if args.only in (None, "sensitivity"):
            cmd = cli + ["sensitivity", str(SCENARIO), "--method", "sobol", "--samples", "512",
                         "--workers", str(args.workers), "--out", f"{tmp}/sobol"]
            for p in SOBOL_PARAMS:
                cmd += ["--param", p]
            s, mib, rc = measure(cmd)
            print(f"sensitivity sobol 8 parameters x 512 base samples, {args.workers} workers: {s:.1f} s "
                  f"(target <= 180 s), peak memory {mib:.0f} MiB (target <= 2048), exit {rc}")


if __name__ == "__main__":
    main()
