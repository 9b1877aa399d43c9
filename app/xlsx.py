"""Excel exports that cannot attack the person who opens them.

Every text cell is written as text: a value starting with =, +, -, @, tab or CR gets a leading
apostrophe (so neither Excel nor a later copy to CSV reads it as a formula), and characters that
the xlsx format refuses (control characters such as \\x0b) are dropped instead of failing the whole
export. Numbers, dates and empty cells are written as they are.
"""
from __future__ import annotations

from datetime import date, datetime, time
from decimal import Decimal

from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
PLAIN_TYPES = (bool, int, float, Decimal, date, datetime, time)


def safe_cell(value):
    """A value ready for `worksheet.append`: text is made inert, other types pass through."""
    if value is None or isinstance(value, PLAIN_TYPES):
        return value
    text = ILLEGAL_CHARACTERS_RE.sub("", str(value))
    if text.startswith(FORMULA_STARTS):
        text = "'" + text
    return text


def append_row(worksheet, values) -> None:
    """Append one row, every cell through `safe_cell`."""
    worksheet.append([safe_cell(v) for v in values])
