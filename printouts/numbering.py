"""Form numbers: unique per centre, form type and year (2026-000123), never duplicated, never reused.

The counter is bumped by one atomic `UPDATE … SET last = last + 1 … RETURNING last` inside the caller's
transaction: PostgreSQL holds the row lock and SQLite the write lock until that transaction ends, so
concurrent requests queue instead of reading the same value. A series' first number creates its row
with `INSERT … ON CONFLICT DO NOTHING`, so two first-users cannot both create it. A number handed out
is kept by the caller (app.numbering stores it with the record); if the transaction rolls back, the
increment rolls back with it, so no number is ever given to two forms.
"""
from __future__ import annotations

from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError

from app.extensions import db
from models.numbering import FormCounter

_SERIES_COLUMNS = ("center_id", "form_type", "year")


def format_number(year: int, sequence: int) -> str:
    return f"{year}-{sequence:06d}"


def next_number(center_id: int, form_type: str, year: int) -> str:
    """The next number of the series (flushes in the current transaction; the caller commits)."""
    if not form_type or len(form_type) > 40:
        raise ValueError("form_type must be 1–40 characters")
    if not 1900 <= int(year) <= 9999:
        raise ValueError(f"implausible year {year!r}")
    sequence = _increment(center_id, form_type, year)
    if sequence is None:  # first number of this series
        _create_series(center_id, form_type, year)
        sequence = _increment(center_id, form_type, year)
    return format_number(year, sequence)


def _series(center_id: int, form_type: str, year: int):
    table = FormCounter.__table__
    return (table.c.center_id == center_id) & (table.c.form_type == form_type) & (table.c.year == year)


def _increment(center_id: int, form_type: str, year: int) -> int | None:
    table = FormCounter.__table__
    where = _series(center_id, form_type, year)
    bump = update(table).where(where).values(last=table.c.last + 1)
    if db.engine.dialect.update_returning:
        return db.session.execute(bump.returning(table.c.last)).scalar_one_or_none()
    # No RETURNING (SQLite < 3.35): our UPDATE holds the lock, so reading back sees our own value.
    if db.session.execute(bump).rowcount == 0:
        return None
    return db.session.execute(select(table.c.last).where(where)).scalar_one()


def _create_series(center_id: int, form_type: str, year: int) -> None:
    table = FormCounter.__table__
    values = dict(center_id=center_id, form_type=form_type, year=year, last=0)
    dialect = db.engine.dialect.name
    if dialect in ("sqlite", "postgresql"):
        if dialect == "sqlite":
            from sqlalchemy.dialects.sqlite import insert as dialect_insert
        else:
            from sqlalchemy.dialects.postgresql import insert as dialect_insert
        db.session.execute(dialect_insert(table).values(**values)
                           .on_conflict_do_nothing(index_elements=list(_SERIES_COLUMNS)))
        return
    try:  # any other database: let the unique constraint decide who created it
        with db.session.begin_nested():
            db.session.execute(insert(table).values(**values))
    except IntegrityError:
        pass
