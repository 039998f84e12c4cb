"""One error-reporting path for bad input: every problem names file, key path, value and what is allowed."""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from pathlib import PurePath
from typing import Any, Iterable, Literal, Mapping


@dataclass(frozen=True)
class Problem:
    """One problem found in an input (scenario file, command-line argument, data file)."""

    file: str
    path: str
    value: Any
    message: str
    allowed: str = ""
    severity: Literal["error", "warning"] = "error"

    def __str__(self) -> str:
        return self.texte()

    def texte(self, allowed_word: str = "allowed", colon: str = ": ") -> str:
        """The problem as one line: ``file: path = value: message (allowed: ...)``; ``allowed_word`` and
        ``colon`` are the words of another language (French: "autorisé", " : ")."""
        where = f"{self.file}{colon}{_court(self.path, MAX_CHEMIN)}" if self.path else self.file
        value = "" if self.value is _MISSING else f" = {_show(self.value)}"
        allowed = f" ({allowed_word}{colon}{self.allowed})" if self.allowed else ""
        return f"{where}{value}{colon}{self.message}{allowed}"

    def as_dict(self) -> dict:
        return {
            "file": self.file,
            "path": self.path,
            "value": None if self.value is _MISSING else _show(self.value),
            "message": self.message,
            "allowed": self.allowed,
            "severity": self.severity,
        }


def unknown_name(kind: str, name: str, candidates: Iterable[str], *, show_name: bool = True) -> str:
    """The message for a name that is not one of ``candidates``, with the closest candidate if any.

    ``unknown KIND 'NAME'; did you mean 'CLOSEST'?`` (``show_name=False``: ``unknown KIND; did you mean
    'CLOSEST'?``, for messages whose key path already names it). The one "did you mean" of cogsim:
    scenario keys, organismes, result variables, sweep-file keys and command-line expressions use it.

    Examples
    --------
    >>> unknown_name("variable", "etmpa", ["etpma", "masse_salariale"])
    "unknown variable 'etmpa'; did you mean 'etpma'?"
    >>> unknown_name("key", "zzz", ["etpma"], show_name=False)
    'unknown key'
    """
    close = difflib.get_close_matches(name, list(candidates), n=1, cutoff=0.6)
    head = f"unknown {kind} '{name}'" if show_name else f"unknown {kind}"
    return head + (INDICE.format(close=close[0]) if close else "")


# the hint of :func:`unknown_name` (the outputs translate it: :func:`model.outputs.libelles.traduire`)
INDICE = "; did you mean '{close}'?"


class _Missing:
    def __repr__(self) -> str:
        return "<missing>"


_MISSING = _Missing()
MISSING: Any = _MISSING


MAX_VALEUR = 80  # characters of a value shown in a message: an excerpt, never a file's content
MAX_CHEMIN = 120  # characters of a key path shown in a message
MAX_FICHIER = 4096  # characters of a file path shown in a message (PATH_MAX)
MAX_AFFICHES = 20  # problems printed; the rest are counted
MAX_COLLECTES = 1000  # problems a reader collects before it stops reading


def _show(value: Any) -> str:
    """A value as a message shows it, cut to :data:`MAX_VALEUR` characters (a path given on the command
    line, passed as a ``PurePath``, is shown whole up to :data:`MAX_FICHIER`: the user must see which)."""
    if isinstance(value, PurePath):
        return _court(repr(str(value)), MAX_FICHIER)
    return _court(_repr(value, 0), MAX_VALEUR)


def _repr(value: Any, depth: int) -> str:
    """Like str/repr, but only as much as a message shows (long strings, big or deep tables cut)."""
    if isinstance(value, str):
        return repr(value[: 4 * MAX_VALEUR])
    if isinstance(value, (dict, list, tuple)):
        if depth >= 4:
            return "{...}" if isinstance(value, dict) else "[...]"
        items = value.items() if isinstance(value, dict) else value
        parts: list[str] = []
        for x in items:
            parts.append(f"{_court(str(x[0]), MAX_VALEUR)} = {_repr(x[1], depth + 1)}" if isinstance(value, dict)
                         else _repr(x, depth + 1))
            if sum(len(p) for p in parts) > MAX_VALEUR:
                break
        more = ", ..." if len(parts) < len(value) else ""
        if isinstance(value, dict):
            return "{" + ", ".join(parts) + more + "}"
        return ("(" if isinstance(value, tuple) else "[") + ", ".join(parts) + more + \
            (")" if isinstance(value, tuple) and len(value) != 1 else ",)" if isinstance(value, tuple) else "]")
    return str(value)


def _court(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def lignes(problems: list[Problem], limit: int = MAX_AFFICHES) -> list[str]:
    """The lines to print for ``problems``: the first ``limit``, then one line counting the rest."""
    out = [str(p) for p in problems[:limit]]
    if len(problems) > limit:
        rest = len(problems) - limit
        out.append(f"... and {rest} more problem{'s' if rest > 1 else ''}")
    return out


class InputError(Exception):
    """Bad input: carries every problem found, so the user sees them all at once (exit code 2)."""

    def __init__(self, problems: list[Problem]):
        self.problems = [p for p in problems if p.severity == "error"]
        super().__init__("\n".join(str(p) for p in self.problems))


def noms_des_entrees(defauts: Mapping[str, str], names: Mapping[str, str] | None, owner: str = "names") -> dict[str, str]:
    """What a library's messages call its inputs: ``defauts`` (input -> its own name) with the caller's
    names on top (the command line passes its option names). A name that is not an input is a bug of the
    caller (``owner`` says whose: ``SweepSpec.names``...): ValueError."""
    unknown = set(names or {}) - set(defauts)
    if unknown:
        raise ValueError(f"{owner}: unknown input(s) {sorted(unknown)}; known: {', '.join(defauts)}")
    return {**defauts, **(names or {})}
