#!/usr/bin/env python3
"""Benchmark of the sensitivity analysis (the analysis only, not the model evaluations).

Sobol' on D = 8 factors with N = 512 base samples (N·(D + 2) = 5 120 points), 100 bootstrap
resamples, on ~1 500 output cells (3 variables × 10 years × 6 organismes × ... = 1 500): the issue's
budget is 3 minutes on 2 cores for the whole analysis, evaluations included; the analysis must be a
small share (target < 20 s). Also: Morris with 50 trajectories on the same cells, and, for reference,
SALib's own ``sobol.analyze`` called once per cell on a sample of cells (extrapolated).

Usage: python benchmarks/bench_sensibilite.py [--cells 1500] [--n 512] [--d 8] [--repeat 3]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import xarray as xr

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from model.analysis.sensibilite import Facteur, analyser, plan  # noqa: E402


def outputs(X: np.ndarray, cells: int, seed: int = 0) -> xr.Dataset:
    """Synthetic outputs: 3 variables × 10 years × (cells / 30) organismes, with nonlinear and
    interaction terms; the first two years constant (a lever that acts from 2015)."""
    rng = np.random.default_rng(seed)
    per_var = cells // 3
    n_org = max(1, per_var // 10)
    out = {}
    for v in ("etpma", "masse_salariale", "depenses_limitatives"):
        w = rng.normal(size=(X.shape[1], 10 * n_org))
        y = X @ w + np.sin(3 * X[:, :1]) * X[:, 1:2] * rng.normal(size=(1, 10 * n_org))
        y = y.reshape(-1, 10, n_org)
        y[:, :2] = 1.0
        out[v] = (("point", "year", "organisme"), y, {"units": "ETPMA"})
    return xr.Dataset(out, coords={"year": np.arange(2013, 2023), "organisme": [f"o{i}" for i in range(n_org)]})


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--cells", type=int, default=1500)
    ap.add_argument("--n", type=int, default=512)
    ap.add_argument("--d", type=int, default=8)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    facteurs = [Facteur(f"p{i}", 0.0, 1.0 + i) for i in range(args.d)]

    X = plan(facteurs, "sobol", args.n, seed=1)
    Y = outputs(X, args.cells)
    cells = sum(int(np.prod(Y[v].shape[1:])) for v in Y.data_vars)
    times = []
    for _ in range(args.repeat):
        t = time.perf_counter()
        res = analyser(facteurs, "sobol", X, Y, seed=2)
        times.append(time.perf_counter() - t)
    print(f"sobol  D={args.d} N={args.n} points={X.shape[0]} cells={cells}: "
          f"median {statistics.median(times):.2f} s (runs {', '.join(f'{t:.2f}' for t in times)})")
    assert np.isnan(res["etpma"].sel(indice="ST").isel(year=0)).all()

    Xm = plan(facteurs, "morris", 50, seed=1)
    Ym = outputs(Xm, args.cells)
    t = time.perf_counter()
    analyser(facteurs, "morris", Xm, Ym, seed=2)
    print(f"morris D={args.d} trajectories=50 points={Xm.shape[0]} cells={cells}: {time.perf_counter() - t:.2f} s")

    from SALib.analyze import sobol as salib_sobol
    problem = {"num_vars": args.d, "names": [f.path for f in facteurs],
               "bounds": [[f.low, f.high] for f in facteurs]}
    flat = Y["etpma"].values.reshape(X.shape[0], -1)[:, -50:]   # 50 varying cells (the last years)
    t = time.perf_counter()
    for c in range(flat.shape[1]):
        salib_sobol.analyze(problem, flat[:, c].copy(), calc_second_order=False, seed=2)
    per_cell = (time.perf_counter() - t) / flat.shape[1]
    print(f"reference: SALib sobol.analyze once per cell: {per_cell * 1e3:.1f} ms/cell, "
          f"≈ {per_cell * cells:.1f} s for {cells} cells")


if __name__ == "__main__":
    main()
