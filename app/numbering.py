"""Form numbers of records: issued once per record and form, kept, never reused.

A number is issued only by an explicit act (POST "出具并编号" on the print view), in its own short
transaction; opening a print view or its PDF (GET) only reads the number already issued.
"""
from __future__ import annotations

from sqlalchemy import select

from app.extensions import db
from app.timeutil import today
from models.core import IssuedForm


def _issued(record, form):
    return db.session.scalar(select(IssuedForm).where(
        IssuedForm.record_table == record.__table__.name, IssuedForm.record_id == record.id,
        IssuedForm.form_name == form.name))


def issued_number(record, form) -> str:
    """The number the record's form already has, or "" (reads only: safe in a GET)."""
    issued = _issued(record, form)
    return issued.number if issued is not None else ""


def number_for(record, form) -> str:
    """The record's number on this form, issuing the next of its series the first time (writes: POST only)."""
    from printouts import next_number

    issued = _issued(record, form)
    if issued is None:
        number = next_number(record.center_id, form.form_type, today().year)
        issued = IssuedForm(center_id=record.center_id, record_table=record.__table__.name, record_id=record.id,
                            form_name=form.name, number=number)
        db.session.add(issued)
        db.session.flush()
    return issued.number
