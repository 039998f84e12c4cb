"""Pin the outputs of the shipped scenarios at their own seed, to prove that a change of code changes no
result (a restructuring, a refactoring): run it before (``--write``) and after (``--check``).

    python benchmarks/pin_outputs.py --write benchmarks/pins.json    # before the change
    python benchmarks/pin_outputs.py --check benchmarks/pins.json    # after: exit 1 on any difference

For every scenario of ``scenarios/``, in stochastic mode (the scenario's replicates and seed) and in
deterministic mode, it records the SHA-256 of ``results.csv`` (every variable, organisme, year and
statistic, as written) and of the data of ``results.nc`` (every variable's values, bit for bit), and the
first differing variable when a check fails. Run it on demand; it is not part of the test suite (the
pins depend on the numpy build).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import tempfile
from pathlib import Path

import numpy as np
import xarray as xr

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from model.results.run import run_scenario  # noqa: E402


def fingerprint(folder: Path) -> dict[str, str]:
    """SHA-256 of results.csv and of each variable of results.nc."""
    out = {"results.csv": hashlib.sha256((folder / "results.csv").read_bytes()).hexdigest()}
    with xr.open_dataset(folder / "results.nc") as ds:
        for name in sorted(ds.data_vars):
            values = np.ascontiguousarray(ds[name].values)
            out[f"results.nc:{name}"] = hashlib.sha256(values.tobytes() + str(values.dtype).encode()).hexdigest()
    return out


def pins() -> dict[str, dict[str, str]]:
    result: dict[str, dict[str, str]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for scenario in sorted((ROOT / "scenarios").glob("*.toml")):
            for deterministic in (False, True):
                key = f"{scenario.name}{' deterministic' if deterministic else ''}"
                out = Path(tmp) / key.replace(" ", "-")
                run_scenario(scenario, out=out, deterministic=deterministic)
                result[key] = fingerprint(out)
                print(f"{key}: {result[key]['results.csv'][:16]}", file=sys.stderr)
    return result


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    g = p.add_mutually_exclusive_group(required=True)
    g.add_argument("--write", type=Path, help="write the pins to this JSON file")
    g.add_argument("--check", type=Path, help="compare with the pins of this JSON file")
    args = p.parse_args(argv)
    now = pins()
    if args.write:
        args.write.write_text(json.dumps(now, indent=1, sort_keys=True) + "\n", encoding="utf-8")
        print(f"{len(now)} runs pinned in {args.write}")
        return 0
    before = json.loads(args.check.read_text(encoding="utf-8"))
    differences = [f"{run}: {item}" for run in sorted(set(before) | set(now))
                   for item in sorted(set(before.get(run, {})) | set(now.get(run, {})))
                   if before.get(run, {}).get(item) != now.get(run, {}).get(item)]
    for d in differences:
        print(f"differs: {d}")
    print(f"{len(now)} runs compared: {'identical' if not differences else f'{len(differences)} differences'}")
    return 1 if differences else 0


if __name__ == "__main__":
    sys.exit(main())
