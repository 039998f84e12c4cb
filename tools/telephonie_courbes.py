#!/usr/bin/env python3
"""Simulate the telephone response curves the shipped scenarios use and write them to
``model/service/telephonie_courbes.json`` (a developer tool: run it after a change to
``model/service/telephonie.py`` or to the telephone parameters; ``tests/test_service.py`` checks that the
file covers the shipped scenarios and recomputes one).

    python tools/telephonie_courbes.py
"""

from __future__ import annotations

import json
import os
import sys
from dataclasses import asdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from model.results.run import run_scenario  # noqa: E402
from model.service import telephonie  # noqa: E402


def ship(scenarios: list[Path]) -> int:
    """Simulate the curves of ``scenarios`` afresh and write them to ``telephonie.SHIPPED``; returns their number."""
    os.environ[telephonie.CACHE_ENV] = "off"
    telephonie.forget()
    shipped = telephonie.SHIPPED
    old = shipped.read_text(encoding="utf-8") if shipped.exists() else None
    shipped.write_text("{}", encoding="utf-8")  # compute everything afresh
    telephonie.forget()
    try:
        for path in scenarios:
            run_scenario(path, deterministic=True, write=False)
    except BaseException:
        if old is not None:
            shipped.write_text(old, encoding="utf-8")
        raise
    data = {telephonie.cle(j): {"journee": asdict(j), **{k: v.tolist() for k, v in asdict(c).items()}}
            for j, c in telephonie.computed().items()}
    tmp = shipped.with_suffix(".tmp")
    tmp.write_text(json.dumps(data, sort_keys=True) + "\n", encoding="utf-8")
    os.replace(tmp, shipped)
    return len(data)


if __name__ == "__main__":
    n = ship(sorted((ROOT / "scenarios").glob("*.toml")))
    print(f"{telephonie.SHIPPED}: {n} response curves")
