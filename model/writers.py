"""Writing a run's results folder atomically: ``results.nc``, ``results.csv``, ``manifest.json``.

Everything is written to a hidden temporary folder beside the target and renamed into place at the
end, so a failed or interrupted run leaves nothing behind (and an earlier result of the same name is
only replaced by a complete one).
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import tempfile
import threading
from pathlib import Path
from typing import Any, Iterator

import xarray as xr

from .resultats import tidy_frame

PACKAGE_DIR = Path(__file__).resolve().parent


def git_commit() -> dict[str, Any]:
    """The git commit of the code, and whether the work tree differs from it."""
    try:
        head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=PACKAGE_DIR, capture_output=True,
                              text=True, timeout=5)
        if head.returncode != 0:
            return {"commit": None, "dirty": None}
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=PACKAGE_DIR,
                               capture_output=True, text=True, timeout=5)
        return {"commit": head.stdout.strip(), "dirty": bool(dirty.stdout.strip())}
    except (OSError, subprocess.SubprocessError):
        return {"commit": None, "dirty": None}


@contextlib.contextmanager
def _sigterm_as_interrupt() -> Iterator[None]:
    """Turn SIGTERM into KeyboardInterrupt while writing, so the clean-up runs."""
    def handler(signum, frame):
        raise KeyboardInterrupt(f"signal {signum}")
    try:
        old = signal.signal(signal.SIGTERM, handler)
    except ValueError:  # not in the main thread
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, old)


@contextlib.contextmanager
def atomic_dir(target: Path) -> Iterator[Path]:
    """Yield a temporary folder that becomes ``target`` only if the block completes."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent))
    try:
        with _sigterm_as_interrupt():
            yield tmp
            old = None
            if target.exists():
                old = target.with_name(f".{target.name}.{os.getpid()}.old")
                os.replace(target, old)
            os.replace(tmp, target)
            if old is not None:
                shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def _netcdf_safe(ds: xr.Dataset) -> xr.Dataset:
    """Attributes as NetCDF can store them (JSON text for nested values)."""
    out = ds.copy()
    out.attrs = {k: (v if isinstance(v, (str, int, float)) else json.dumps(v, ensure_ascii=False))
                 for k, v in ds.attrs.items()}
    return out


def write_netcdf(ds: xr.Dataset, path: Path) -> None:
    """``ds`` to a NetCDF-4 file, through the netCDF4 store with a plain lock.

    ``Dataset.to_netcdf`` asks dask which scheduler is running to choose its file lock, and so imports
    dask.distributed (0.2-0.4 s of a 3 s run) whenever dask is installed, even for a Dataset of numpy
    arrays written by a single process.
    """
    from xarray.backends import NetCDF4DataStore

    store = NetCDF4DataStore.open(str(path), mode="w", format="NETCDF4", lock=threading.Lock())
    try:
        ds.dump_to_store(store)
    finally:
        store.close()


def write_results(ds: xr.Dataset, manifest: dict[str, Any], target: Path) -> Path:
    """Write ``results.nc``, ``results.csv`` and ``manifest.json`` to ``target`` atomically."""
    with atomic_dir(target) as tmp:
        write_netcdf(_netcdf_safe(ds), tmp / "results.nc")
        tidy_frame(ds).to_csv(tmp / "results.csv", index=False, float_format="%.6g")
        with open(tmp / "manifest.json", "w", encoding="utf-8") as f:
            json.dump(manifest, f, ensure_ascii=False, indent=2, default=str)
            f.write("\n")
    return target
