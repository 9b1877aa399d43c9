"""Parsing of request parameters, once, at the edge: an id the database can hold, a date the calendar
and the deadline arithmetic can hold, a month. A value that is not one gives None (the filter is
ignored) or 404 (a route), never a server error deep inside a query or a date computation.
"""
from __future__ import annotations

import re
from datetime import date

from werkzeug.routing.converters import IntegerConverter

# A signed 64-bit integer: the largest id any database here stores (SQLite INTEGER, PostgreSQL bigint).
MAX_ID = 2**63 - 1
# Dates a person may type or filter by: the working-day calendar and the paper forms cover these.
FIRST_DATE = date(1900, 1, 1)
LAST_DATE = date(2099, 12, 31)

_ASCII_INT = re.compile(r"[0-9]{1,19}")
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_MONTH = re.compile(r"([0-9]{4})-([0-9]{1,2})")


def parse_id(value) -> int | None:
    """A positive id in ASCII digits that fits a signed 64-bit column; None otherwise ("²", "٣", 10**20)."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value if 0 < value <= MAX_ID else None
    if not isinstance(value, str) or not _ASCII_INT.fullmatch(value.strip()):
        return None
    number = int(value.strip())
    return number if 0 < number <= MAX_ID else None


def parse_int(value) -> int | None:
    """A whole number in ASCII digits, optionally signed, that fits a signed 64-bit column; else None."""
    if not isinstance(value, str) or not re.fullmatch(r"-?[0-9]{1,19}", value.strip()):
        return None
    number = int(value.strip())
    return number if -MAX_ID - 1 <= number <= MAX_ID else None


def parse_page(value) -> int:
    """A page number: 1 when missing or not a number; large numbers are clamped by the pager."""
    if isinstance(value, str) and _ASCII_INT.fullmatch(value.strip()):
        return max(1, min(int(value.strip()), MAX_ID))
    return 1


def parse_date(value) -> date | None:
    """An ISO date (YYYY-MM-DD, ASCII digits) between FIRST_DATE and LAST_DATE; None otherwise."""
    if not isinstance(value, str) or not _ISO_DATE.fullmatch(value.strip()):
        return None
    try:
        day = date.fromisoformat(value.strip())
    except ValueError:
        return None
    return day if FIRST_DATE <= day <= LAST_DATE else None


def parse_month(value) -> date | None:
    """The first day of a month written YYYY-MM, within FIRST_DATE..LAST_DATE; None otherwise."""
    match = _MONTH.fullmatch(value.strip()) if isinstance(value, str) else None
    if match is None:
        return None
    year, month = int(match.group(1)), int(match.group(2))
    if not 1 <= month <= 12:
        return None
    first = date(year, month, 1) if year >= 1 else None
    return first if first is not None and FIRST_DATE <= first <= LAST_DATE else None


class IdConverter(IntegerConverter):
    """`<int:…>` in every route: ASCII digits only, and no larger than a database id can be — a bigger
    number or another script's digits is simply no such page (404), not an overflow in the query."""

    regex = r"[0-9]+"

    def __init__(self, map, fixed_digits=0, min=None, max=MAX_ID, signed=False):  # noqa: A002
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=max, signed=signed)
