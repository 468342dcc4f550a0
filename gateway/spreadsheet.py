"""Cells for CSV and XLSX exports that a spreadsheet shows as text and never runs.

A citizen's complaint, a unit's reply or a knowledge entry can start with ``=``, ``+``, ``-`` or ``@``:
Excel, WPS and LibreOffice take such a cell as a formula (``=HYPERLINK(…)``, DDE), and a tab or carriage
return first is read the same way by some of them. Every exported cell goes through ``safe_cell``,
which prefixes such text with an apostrophe (OWASP's advice): shown as typed, never evaluated. Numbers
stay numbers (a negative count is not text).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> Any:
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def safe_row(values: Iterable[Any]) -> list[Any]:
    return [safe_cell(v) for v in values]


def unescape_cell(value: Any) -> Any:
    """A cell read back from our own export (or a spreadsheet that escaped it the same way) as typed."""
    if isinstance(value, str) and value.startswith("'") and value[1:].startswith(FORMULA_STARTS):
        return value[1:]
    return value
