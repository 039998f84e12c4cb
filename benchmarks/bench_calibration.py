"""Time a full calibration (both stages, 2013-2018) and, with --backtest, the whole backtest (three refits,
their bands and the post-2018 scoring on the default scenario).

    python benchmarks/bench_calibration.py [--backtest]

Target (issue 4): a full calibration in at most 2 minutes on the 2-core development machine.
"""

from __future__ import annotations

import sys
import time

from model.analysis.backtest import backtest
from model.analysis.calibration import calibrer
from model.analysis.observations import load_observations


def main() -> int:
    obs = load_observations()
    t = time.perf_counter()
    res = calibrer(obs)
    dt = time.perf_counter() - t
    print(f"calibration 2013-2018: {dt:.1f} s, {res.n_evaluations} model evaluations "
          f"({1000 * dt / res.n_evaluations:.0f} ms each), chi2 {res.chi2:.1f} -> "
          f"{'OK' if dt <= 120 else 'ABOVE'} the 120 s target")
    if "--backtest" in sys.argv:
        t = time.perf_counter()
        res = backtest(obs)
        print(f"backtest ({len(res.fenetres)} refits, {len(res.lignes)} scored figures): {time.perf_counter() - t:.1f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
