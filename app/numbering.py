"""Form numbers of records: issued once per record and form, kept, never reused."""
from __future__ import annotations

from sqlalchemy import select

from app.extensions import db
from app.timeutil import today
from models.core import IssuedForm


def number_for(record, form) -> str:
    """The record's number on this form, issuing the next of its series the first time."""
    from printouts import next_number

    table = record.__table__.name
    issued = db.session.scalar(select(IssuedForm).where(
        IssuedForm.record_table == table, IssuedForm.record_id == record.id, IssuedForm.form_name == form.name))
    if issued is None:
        number = next_number(record.center_id, form.form_type, today().year)
        issued = IssuedForm(center_id=record.center_id, record_table=table, record_id=record.id,
                            form_name=form.name, number=number)
        db.session.add(issued)
        db.session.flush()
    return issued.number
