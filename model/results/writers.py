"""The one output writer of cogsim: every command writes its folder through :func:`claim_output`.

A command never deletes or overwrites what it did not write. Before any computation it *claims* its
destination (:func:`claim_output`):

- what is at the path is checked: nothing, an empty folder, or a folder that cogsim wrote for the same
  kind of output (recognised by its ownership record ``.cogsim.json``, written last, which lists every
  entry the folder holds; a folder with any other entry is not cogsim's any more). Anything else — a
  folder with other content, a file, a device, a link, ``.``, the home folder or another folder that
  holds the working directory or cogsim itself — is refused (:class:`~model.params.errors.InputError`, exit 2)
  naming the path and what is there;
- a lock is taken (``.NAME.lock`` beside the target, an ``flock`` held by this process): a second
  command writing the same destination at the same time is refused, saying that the folder is being
  written; a lock left by a killed process is free again, since the kernel releases it with the process;
- temporary folders left by a killed writer of the same destination are removed (they carry an
  in-progress record, so only cogsim's own are touched);
- the temporary folder (``.NAME.PID.tmp``) is created with the user's normal permissions, which also
  proves that the parent is writable before the simulation runs.

The results are written into the temporary folder; :meth:`OutputClaim.publish` writes the ownership
record last and renames the folder into place (an earlier folder of cogsim's own of that kind is only
replaced by a complete one). A failure or an interruption (Ctrl-C, SIGTERM) removes the temporary folder
and the lock: nothing is left half-written.

A *resumable* claim (sweeps) writes into ``NAME.partial/`` instead, which an interruption keeps so that
a resumed sweep can finish it.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import errno
import fcntl
import json
import os
import shutil
import signal
import stat
import subprocess
import threading
from pathlib import Path
from typing import Any, Callable, Iterator

import xarray as xr

from model import __version__
from model.params.errors import InputError, Problem
from model.results.dataset import tidy_frame

PACKAGE_DIR = Path(__file__).resolve().parents[1]  # model/
OWNER_FILE = ".cogsim.json"          # the ownership record of a finished folder, written last
IN_PROGRESS_FILE = ".cogsim-en-cours.json"   # written first in a temporary or partial folder
KINDS = ("run", "sweep", "sensitivity", "solve", "report", "charts", "calibration", "backtest", "comparaison")
# what the refusals call the destination: the caller's argument ``out`` (the command line names its option)
SOURCE, ARGUMENT = "arguments", "out"


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


# ----------------------------------------------------------------------------- what is at a path
def _refuse(target: Path, what: str, argument: str = ARGUMENT) -> InputError:
    return InputError([Problem(SOURCE, argument, Path(target), what,
                               "a path where nothing exists yet, an empty folder, or a folder that cogsim "
                               "itself wrote for the same kind of output")])


def _owner(folder: Path) -> dict[str, Any] | None:
    """The ownership record of ``folder``, or None when there is none (or it is not cogsim's)."""
    record = _read_json(folder / OWNER_FILE)
    if record is None or record.get("kind") not in KINDS or not isinstance(record.get("entries"), list):
        return None
    return record


def foreign_entries(folder: Path) -> list[str]:
    """The entries of a cogsim folder that its ownership record does not list (recursively through the
    cogsim folders it holds, such as ``charts/`` or ``report/`` in a run folder); [] when it is all
    cogsim's own."""
    record = _owner(folder)
    if record is None:
        return [folder.name]
    listed = set(record["entries"]) | {OWNER_FILE}
    foreign: list[str] = []
    for entry in sorted(os.listdir(folder)):
        path = folder / entry
        if entry in listed and not path.is_symlink():
            continue
        if path.is_dir() and not path.is_symlink() and _owner(path) is not None:
            foreign += [f"{entry}/{e}" for e in foreign_entries(path)]
            continue
        foreign.append(entry)
    return foreign


def _protected(resolved: Path) -> str | None:
    """Why ``resolved`` may never be an output folder, or None."""
    here = Path.cwd().resolve()
    home = Path.home().resolve()
    if resolved == Path(resolved.anchor):
        return "is the root of the file system"
    if resolved == home:
        return "is your home folder"
    if resolved == here:
        return "is the current folder"
    for guarded, name in ((here, "the current folder"), (PACKAGE_DIR, "cogsim's own code")):
        if resolved in guarded.parents:
            return f"holds {name}"
    if resolved == PACKAGE_DIR.parent or resolved == PACKAGE_DIR:
        return "is cogsim's own code"
    return None


def check_target(target: str | Path, kind: str, argument: str = ARGUMENT) -> Path:
    """Refuse (exit 2) any destination cogsim may not replace; return it as a Path.

    Allowed: a path where nothing exists, an empty folder, or a folder cogsim wrote for ``kind`` whose
    entries are all listed in its ownership record.
    """
    if kind not in KINDS:
        raise ValueError(f"unknown output kind {kind!r}")
    target = Path(target)
    why = _protected(target.resolve())
    if why:
        raise _refuse(target, why, argument)
    if target.name in ("", ".", ".."):
        raise _refuse(target, "is not a folder name of its own (give a new folder, e.g. results/mon-essai)",
                      argument)
    try:
        st = os.lstat(target)
    except FileNotFoundError:
        st = None
    except NotADirectoryError:
        raise _refuse(target, "cannot be created: a part of its path is a file, not a folder", argument) from None
    except OSError as exc:
        raise _refuse(target, f"cannot be examined ({exc.strerror})", argument) from None
    if st is None:
        return target
    if stat.S_ISLNK(st.st_mode):
        raise _refuse(target, f"is a symbolic link (to {os.readlink(target)!s:.80}); cogsim does not write "
                              "through links", argument)
    if not stat.S_ISDIR(st.st_mode):
        what = ("a regular file" if stat.S_ISREG(st.st_mode) else "a device" if stat.S_ISCHR(st.st_mode)
                or stat.S_ISBLK(st.st_mode) else "a named pipe" if stat.S_ISFIFO(st.st_mode)
                else "a socket" if stat.S_ISSOCK(st.st_mode) else "not a folder")
        raise _refuse(target, f"is {what}, not a folder cogsim wrote", argument)
    try:
        entries = os.listdir(target)
    except OSError as exc:
        raise _refuse(target, f"is a folder that cannot be read ({exc.strerror})", argument) from None
    if not entries:
        return target
    record = _owner(target)
    if record is None:
        shown = ", ".join(sorted(entries)[:5]) + (f" and {len(entries) - 5} more" if len(entries) > 5 else "")
        raise _refuse(target, f"is a folder that cogsim did not write (it holds {shown}, and no ownership record "
                              f"{OWNER_FILE}; a results folder of a cogsim older than this check has none either: "
                              "remove it yourself if it is one)", argument)
    if record["kind"] != kind:
        raise _refuse(target, f"is a folder that cogsim wrote for a {record['kind']}, not for a {kind}", argument)
    foreign = foreign_entries(target)
    if foreign:
        shown = ", ".join(foreign[:5]) + (f" and {len(foreign) - 5} more" if len(foreign) > 5 else "")
        raise _refuse(target, f"is a cogsim {kind} folder that now also holds files cogsim did not write "
                              f"({shown}); they would be lost", argument)
    return target


# ----------------------------------------------------------------------------- the claim
class OutputClaim:
    """A destination claimed for writing: checked, locked, with a temporary folder ``self.tmp``.

    Use :func:`claim_output` (a context manager) rather than this class directly.
    """

    def __init__(self, target: str | Path, kind: str, *, resumable: bool = False, argument: str = ARGUMENT):
        self.target = check_target(target, kind, argument)
        self.kind, self.resumable, self.argument = kind, resumable, argument
        self.lock_path = self.target.with_name(f".{self.target.name}.lock")
        self.partial = self.target.with_name(self.target.name + ".partial")
        self._lock_fd: int | None = None
        self.published = False
        self.existed = False  # a resumable partial folder was there already
        self.tmp: Path | None = None

    # -- steps
    def _make_parent(self) -> None:
        parent = self.target.parent
        try:
            parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise _refuse(self.target, f"cannot be created: its parent folder {parent} cannot be made "
                                       f"({exc.strerror})", self.argument) from None
        if not parent.is_dir():
            raise _refuse(self.target, f"cannot be created: {parent} is not a folder", self.argument)

    def _lock(self) -> None:
        while True:
            try:
                fd = os.open(self.lock_path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o666)
            except OSError as exc:
                raise _refuse(self.target, f"cannot be written: no file can be created in {self.target.parent} "
                                           f"({exc.strerror})", self.argument) from None
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError as exc:
                os.close(fd)
                if exc.errno not in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                    raise
                holder = ""
                with contextlib.suppress(OSError, ValueError):
                    holder = f" (process {int(self.lock_path.read_text().split()[0])})"
                raise InputError([Problem(SOURCE, self.argument, self.target,
                                          f"is being written by another cogsim command{holder}",
                                          "wait for it to finish, or choose another folder")]) from None
            # the lock file may have been removed by its previous holder between open and flock
            try:
                same = os.fstat(fd).st_ino == os.stat(self.lock_path).st_ino
            except FileNotFoundError:
                same = False
            if same:
                os.ftruncate(fd, 0)
                os.write(fd, f"{os.getpid()}\n".encode())
                self._lock_fd = fd
                return
            os.close(fd)

    def _unlock(self) -> None:
        if self._lock_fd is None:
            return
        with contextlib.suppress(OSError):
            os.unlink(self.lock_path)
        os.close(self._lock_fd)
        self._lock_fd = None

    def _clean_stale(self) -> None:
        """Remove what a killed writer of this destination left: its temporary folder, or the earlier
        folder it had set aside. We hold the lock, so their writer is gone; only folders carrying
        cogsim's own record for this destination are touched."""
        prefix = f".{self.target.name}."
        for entry in os.listdir(self.target.parent):
            if not entry.startswith(prefix) or not (entry.endswith(".tmp") or entry.endswith(".old")):
                continue
            path = self.target.parent / entry
            if path.is_symlink() or not path.is_dir():
                continue
            marker = IN_PROGRESS_FILE if entry.endswith(".tmp") else OWNER_FILE
            record = _read_json(path / marker)
            if record is None or record.get("target") != self.target.name:
                continue
            shutil.rmtree(path, ignore_errors=True)

    def _new_folder(self, path: Path) -> None:
        os.mkdir(path, 0o777)  # the user's umask applies: normal permissions, not 0700
        write_json(path / IN_PROGRESS_FILE, {"kind": self.kind, "target": self.target.name, "pid": os.getpid(),
                                              "cogsim": __version__,
                                              "started_utc": _now()})

    def acquire(self) -> "OutputClaim":
        """Lock the destination, clean a killed writer's leftovers, make the temporary folder."""
        self._make_parent()
        self._lock()
        try:
            check_target(self.target, self.kind, self.argument)  # again, under the lock
            self._clean_stale()
            if self.resumable:
                self.tmp = self.partial
                if self.partial.exists() or self.partial.is_symlink():
                    record = _read_json(self.partial / IN_PROGRESS_FILE)
                    if self.partial.is_symlink() or record is None or record.get("kind") != self.kind:
                        raise _refuse(self.partial, "is in the way of the sweep's partial folder and cogsim did "
                                                    "not write it", self.argument)
                    self.existed = True
                else:
                    self._new_folder(self.partial)
            else:
                self.tmp = self.target.with_name(f".{self.target.name}.{os.getpid()}.tmp")
                if self.tmp.exists():
                    shutil.rmtree(self.tmp)
                self._new_folder(self.tmp)
        except BaseException:
            self._unlock()
            raise
        return self

    def restart(self) -> None:
        """Empty a resumable partial folder (a new start, not a resume)."""
        assert self.tmp is not None
        shutil.rmtree(self.tmp)
        self._new_folder(self.tmp)

    def publish(self) -> Path:
        """Write the ownership record last and rename the folder into place."""
        assert self.tmp is not None and self._lock_fd is not None
        entries = sorted(e for e in os.listdir(self.tmp) if e not in (IN_PROGRESS_FILE, OWNER_FILE))
        write_json(self.tmp / OWNER_FILE, {"kind": self.kind, "written_by": f"cogsim {__version__}",
                                            "created_utc": _now(), "pid": os.getpid(), "target": self.target.name,
                                            "entries": entries})
        os.unlink(self.tmp / IN_PROGRESS_FILE)
        check_target(self.target, self.kind, self.argument)  # nothing foreign arrived meanwhile
        old = None
        if os.path.lexists(self.target):
            if os.listdir(self.target):
                old = self.target.with_name(f".{self.target.name}.{os.getpid()}.old")
                os.replace(self.target, old)
            else:
                os.rmdir(self.target)
        os.replace(self.tmp, self.target)
        self.published = True
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
        return self.target

    def release(self) -> None:
        """Remove the temporary folder unless published (a resumable one is kept), and unlock."""
        try:
            if not self.published and self.tmp is not None and not self.resumable:
                shutil.rmtree(self.tmp, ignore_errors=True)
        finally:
            self._unlock()


@contextlib.contextmanager
def claim_output(target: str | Path, kind: str, *, resumable: bool = False,
                 argument: str = ARGUMENT) -> Iterator[OutputClaim]:
    """Claim ``target`` for an output of ``kind``; yield the claim, whose ``tmp`` folder receives the files.

    The block must call ``claim.publish()`` when the output is complete; on leaving the block the
    lock is released and an unpublished temporary folder removed (a resumable one is kept). SIGTERM is
    turned into KeyboardInterrupt inside the block so that this clean-up runs.
    """
    claim = OutputClaim(target, kind, resumable=resumable, argument=argument)
    with _sigterm_as_interrupt():
        claim.acquire()
        try:
            yield claim
        finally:
            claim.release()


@contextlib.contextmanager
def atomic_dir(target: str | Path, kind: str) -> Iterator[Path]:
    """Yield a temporary folder that becomes ``target`` only if the block completes (a shorthand of
    :func:`claim_output` for writers that compute nothing before writing)."""
    with claim_output(target, kind) as claim:
        yield claim.tmp
        claim.publish()


# ----------------------------------------------------------------------------- small helpers
def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")


def _read_json(path: Path) -> dict | None:
    """A small JSON object written by cogsim (a regular file of at most 1 MiB), or None."""
    try:
        st = os.lstat(path)
        if not stat.S_ISREG(st.st_mode) or st.st_size > 1 << 20:
            return None
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def write_json(path: Path, data: dict) -> None:
    """``data`` as indented UTF-8 JSON at ``path``, replaced whole (a temporary file renamed into place: a
    reader never sees half a file, which a resumable sweep relies on)."""
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(data, ensure_ascii=False, indent=2, default=str) + "\n", encoding="utf-8")
    os.replace(tmp, path)


def write_text(path: Path, text: str) -> None:
    """``text`` as UTF-8 at ``path``, replaced whole (a CSV inside a claimed folder: a run's exported state)."""
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8", newline="")
    os.replace(tmp, path)


def netcdf_safe(ds: xr.Dataset) -> xr.Dataset:
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
    # lazy: the netCDF4 backend only when a file is written
    from xarray.backends import NetCDF4DataStore

    store = NetCDF4DataStore.open(str(path), mode="w", format="NETCDF4", lock=threading.Lock())
    try:
        ds.dump_to_store(store)
    finally:
        store.close()


def write_results_into(ds: xr.Dataset, manifest: dict[str, Any], folder: Path) -> None:
    """Write ``results.nc``, ``results.csv`` and ``manifest.json`` into ``folder`` (a claim's ``tmp``)."""
    write_netcdf(netcdf_safe(ds), folder / "results.nc")
    tidy_frame(ds).to_csv(folder / "results.csv", index=False, float_format="%.6g")
    write_json(folder / "manifest.json", manifest)


def write_results(ds: xr.Dataset, manifest: dict[str, Any], target: Path) -> Path:
    """Write a run folder (``results.nc``, ``results.csv``, ``manifest.json``) to ``target`` atomically."""
    with atomic_dir(target, "run") as tmp:
        write_results_into(ds, manifest, tmp)
    return target


def write_new_file(target: str | Path, write: Callable[[Path], None], argument: str = ARGUMENT) -> Path:
    """Write a new file at ``target`` (a scenario template...): refused (exit 2) when anything exists at
    the path, a part of it is not a folder, or it is a protected place; ``write(tmp)`` writes a temporary
    file beside it (``.NAME.PID.tmp``), renamed into place when complete, removed on failure or
    interruption: nothing half-written is left."""
    target = Path(target)
    if os.path.lexists(target):
        raise InputError([Problem(SOURCE, argument, target, "exists already; cogsim does not replace a file it "
                                  "did not just write", "a path where nothing exists yet")])
    why = _protected(target.resolve())
    if why or target.name in ("", ".", ".."):
        raise _refuse(target, why or "is not a file name", argument)
    parent = target.parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise _refuse(target, f"cannot be created: its folder {parent} cannot be made ({exc.strerror})",
                      argument) from None
    tmp = parent / f".{target.name}.{os.getpid()}.tmp"
    with _sigterm_as_interrupt():
        try:
            write(tmp)
            if os.path.lexists(target):
                raise InputError([Problem(SOURCE, argument, target, "appeared while it was being written",
                                          "a path where nothing exists yet")])
            os.replace(tmp, target)
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
    return target
