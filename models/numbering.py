"""Counters behind printed form numbers: one row per centre, form type and year."""
from __future__ import annotations

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db


class FormCounter(db.Model):
    """The last number issued in one series (centre × form type × year); only ever incremented."""
    __tablename__ = "form_counter"
    __table_args__ = (UniqueConstraint("center_id", "form_type", "year", name="uq_form_counter_series"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    center_id: Mapped[int] = mapped_column(ForeignKey("center.id"))
    form_type: Mapped[str] = mapped_column(String(40))
    year: Mapped[int] = mapped_column()
    last: Mapped[int] = mapped_column(default=0)

    def __repr__(self) -> str:
        return f"<FormCounter {self.center_id}/{self.form_type}/{self.year}: {self.last}>"
