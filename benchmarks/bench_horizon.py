"""The cost of a run grows linearly with its years (issue 17): the COG 2018-2022 scenario over 2013-2022 and
over 2013-2032 (``simulation.derniere_annee``), the whole run (load, simulation, Dataset, targets) without
writing, in stochastic mode with the parameter draws.

    farm-bench -n 5 --timeout 600 --vs '.venv/bin/python benchmarks/bench_horizon.py --derniere 2022' \\
        -- .venv/bin/python benchmarks/bench_horizon.py --derniere 2032

times the two whole processes pair by pair (A = 20 years, B = 10 years; the ratio A/B should be close
to 2: the start-up of Python and of the libraries, about 1 s, is the part that does not grow). The script
also prints its own time of ``run_scenario`` alone (``--repeat`` times, the median).

Measured (2026-12-01, 2 shared cores, AMD EPYC, other jobs running; 1 000 replicates, farm-bench -n 3,
medians): 20 years 13.9 s CPU / 41.2 s wall, 10 years 7.9 s CPU / 22.5 s wall; ratio A/B 1.74 CPU and
1.83 wall for the whole processes. The engine alone (``timings_s.simulate_s`` of the manifest, 500
replicates) is 17.5 s against 8.8 s: 1.99. What does not grow: Python's and the libraries' start-up
(about 1.3 s CPU) and the fixed part of the Dataset and the targets.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from model.results.run import run_scenario  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--derniere", type=int, default=2032, help="last simulated year (first: 2013)")
    p.add_argument("--replicates", type=int, default=200)
    p.add_argument("--repeat", type=int, default=1)
    args = p.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        sc = Path(tmp) / f"horizon_{args.derniere}.toml"
        sc.write_text(f'[scenario]\ntitle = "horizon 2013-{args.derniere}"\n'
                      f'baseline = "{ROOT / "scenarios" / "cog_2018_2022.toml"}"\n'
                      f"[simulation]\nderniere_annee = {args.derniere}\n", encoding="utf-8")
        times = []
        for _ in range(args.repeat):
            t0 = time.perf_counter()
            ds = run_scenario(sc, replicates=args.replicates, write=False).dataset
            times.append(time.perf_counter() - t0)
    print(f"2013-{args.derniere}: {ds.sizes['year']} years x {args.replicates} replicates, run_scenario "
          f"{statistics.median(times):.2f} s (median of {args.repeat})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
