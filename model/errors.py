"""One error-reporting path for bad input: every problem names file, key path, value and what is allowed."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal


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
        where = f"{self.file}: {self.path}" if self.path else self.file
        value = "" if self.value is _MISSING else f" = {_show(self.value)}"
        allowed = f" (allowed: {self.allowed})" if self.allowed else ""
        return f"{where}{value}: {self.message}{allowed}"

    def as_dict(self) -> dict:
        return {
            "file": self.file,
            "path": self.path,
            "value": None if self.value is _MISSING else _show(self.value),
            "message": self.message,
            "allowed": self.allowed,
            "severity": self.severity,
        }


class _Missing:
    def __repr__(self) -> str:
        return "<missing>"


_MISSING = _Missing()
MISSING: Any = _MISSING


def _show(value: Any) -> str:
    if isinstance(value, str):
        return repr(value)
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k} = {_show(v)}" for k, v in value.items()) + "}"
    return str(value)


class InputError(Exception):
    """Bad input: carries every problem found, so the user sees them all at once (exit code 2)."""

    def __init__(self, problems: list[Problem]):
        self.problems = [p for p in problems if p.severity == "error"]
        super().__init__("\n".join(str(p) for p in self.problems))
