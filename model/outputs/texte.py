"""Free texts of a scenario header (title, description, author, ...) shortened for the outputs.

A scenario's header is free text and is kept whole in ``manifest.json``; every output that shows it
(printed summary, chart titles and source lines, the PDF note, the XLSX workbook) goes through
:func:`court`, so that a very long text (a 10 MB title) cannot blow up a chart, a page or a cell.
"""

from __future__ import annotations

from typing import Any

TITRE_MAX = 160  # characters of a title, an author, a reference (one line)
DESCRIPTION_MAX = 1500  # characters of a description (a paragraph)
ELLIPSE = "…"


def court(text: Any, limit: int = TITRE_MAX, *, one_line: bool = True) -> str:
    """``text`` as a string of at most ``limit`` characters, ending with an ellipsis if it was cut.

    ``one_line`` also folds every run of white space (new lines included) into one space. Only the first
    ``4 * limit`` characters are looked at, so the cost does not grow with the text.
    """
    s = "" if text is None else str(text)
    head = s[:4 * limit + 1]
    if one_line:
        head = " ".join(head.split())
    if len(s) <= 4 * limit and len(head) <= limit:
        return head
    return head[:limit - 1].rstrip() + ELLIPSE


def court_description(text: Any) -> str:
    """A description: several lines kept, at most :data:`DESCRIPTION_MAX` characters."""
    return court(text, DESCRIPTION_MAX, one_line=False)
