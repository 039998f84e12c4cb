"""Bounded reading of every input file (scenario and baseline TOML, sweep files, the initial-state CSV,
observation CSVs, the fitted-parameter TOML).

One reader, so that every input gets the same guarantees:

* only regular files are read: the file is opened with ``O_NONBLOCK`` and checked with ``fstat`` before
  any read, so a FIFO, a device (``/dev/zero``), a socket or a directory is refused at once instead of
  blocking or reading forever;
* at most :data:`TAILLE_MAX` bytes are read (the size a ``stat`` reports is not trusted: ``/proc`` files
  report 0), and a larger file is refused with the cap in the message;
* text is UTF-8, with or without a byte-order mark (Excel's "CSV UTF-8" writes one);
* TOML nested too deep for the parser (``RecursionError``) is a bad input, not a crash.

Every failure is an :class:`~model.params.errors.InputError` whose message never quotes the file's content.
"""

from __future__ import annotations

import os
import re
import stat
import tomllib
from pathlib import Path

from model.params.errors import MISSING, InputError, Problem

TAILLE_MAX = 4 * 1024 * 1024  # bytes: far above any real input (the largest shipped one is ~100 kB)
TAILLE_MAX_TEXTE = "4 MiB"
_BLOC = 1 << 20


def lire_octets(path: str | Path, shown: str, kind: str = "file") -> bytes:
    """The bytes of the regular file ``path``, at most :data:`TAILLE_MAX` of them.

    ``shown`` is the name the messages use; ``kind`` says what was expected (e.g. "TOML file").

    Raises
    ------
    InputError
        Not found, not readable, not a regular file, or larger than the cap.
    """
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(path, flags)
    except FileNotFoundError:
        raise InputError([Problem(shown, "", MISSING, "file not found", f"an existing {kind}")]) from None
    except OSError as exc:
        raise InputError([Problem(shown, "", MISSING, f"cannot read the file ({exc.strerror})",
                                  f"a readable {kind}")]) from None
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            raise InputError([Problem(shown, "", MISSING, f"not a regular file ({_genre(mode)})",
                                      f"a regular {kind}")])
        chunks: list[bytes] = []
        total = 0
        while True:
            try:
                chunk = os.read(fd, _BLOC)
            except OSError as exc:
                raise InputError([Problem(shown, "", MISSING, f"cannot read the file ({exc.strerror})",
                                          f"a readable {kind}")]) from None
            if not chunk:
                break
            total += len(chunk)
            if total > TAILLE_MAX:
                raise InputError([Problem(shown, "", MISSING, f"file larger than {TAILLE_MAX_TEXTE}",
                                          f"a {kind} of at most {TAILLE_MAX_TEXTE} ({TAILLE_MAX} bytes)")])
            chunks.append(chunk)
        return b"".join(chunks)
    finally:
        os.close(fd)


def _genre(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISFIFO(mode):
        return "a named pipe"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a file"


def lire_texte(path: str | Path, shown: str, kind: str = "file") -> str:
    """The UTF-8 text of ``path`` (bounded as :func:`lire_octets`), without a leading byte-order mark."""
    data = lire_octets(path, shown, kind)
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError([Problem(shown, "", MISSING, f"not UTF-8 text (byte {exc.start})",
                                  f"a UTF-8 {kind}")]) from None


def lire_toml(path: str | Path, shown: str, kind: str = "TOML file") -> dict:
    """Read and parse a TOML file (bounded); a syntax error names its line, a duplicate key its key path."""
    return parse_toml(lire_texte(path, shown, kind), shown)


def parse_toml(text: str, shown: str) -> dict:
    """Parse TOML text; every failure is an InputError that does not quote the text."""
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InputError([toml_problem(shown, text, str(exc))]) from None
    except RecursionError:
        raise InputError([Problem(shown, "", MISSING, "nested too deep (arrays or tables inside one another)",
                                  "TOML with a few levels of nesting")]) from None


_LINE = re.compile(r"\(at line (\d+), column (\d+)\)")


def toml_problem(shown: str, text: str, msg: str) -> Problem:
    """Turn a tomllib message into a Problem; duplicate keys get their key path."""
    m = _LINE.search(msg)
    line_no = int(m.group(1)) if m else 0
    if ("Cannot overwrite a value" in msg or "twice" in msg) and line_no:
        path = _key_path_at(text, line_no)
        return Problem(shown, path, MISSING, f"duplicate key (line {line_no})", "each key once")
    where = f"line {line_no}" if line_no else "?"
    return Problem(shown, "", MISSING, f"invalid TOML at {where}: {_LINE.sub('', msg).strip()}",
                   "TOML syntax (https://toml.io)")


def _key_path_at(text: str, line_no: int) -> str:
    """The key path defined at ``line_no`` (1-based), from the table headers above it."""
    lines = text.splitlines()
    table = ""
    for line in lines[: line_no - 1]:
        s = line.strip()
        if s.startswith("["):
            table = s.strip("[]").strip()
    line = lines[line_no - 1].strip() if line_no - 1 < len(lines) else ""
    if line.startswith("["):
        return line.strip("[]").strip()[:80]
    key = line.split("=", 1)[0].strip().strip('"')
    return (f"{table}.{key}" if table else key)[:80]
