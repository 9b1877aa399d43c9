"""Home visits (上门服务) for the elderly, sick and disabled [000 预约服务; 003 7.1.1; SPEC §4.6]."""
from __future__ import annotations

from datetime import date

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from models.record import RecordMixin


class HomeVisit(RecordMixin, db.Model):
    __tablename__ = "home_visit"
    applicant_name: Mapped[str] = mapped_column(String(50))
    phone: Mapped[str] = mapped_column(String(30))
    address: Mapped[str] = mapped_column(String(200))
    group: Mapped[str] = mapped_column(String(20), default="elderly")   # elderly / sick / disabled
    matter_id: Mapped[int | None] = mapped_column(ForeignKey("matter.id"))
    need: Mapped[str] = mapped_column(Text, default="")                 # what the visit is for
    requested_on: Mapped[date]
    wanted_on: Mapped[date | None]
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), index=True)
    visited_on: Mapped[date | None]
    visit_result: Mapped[str] = mapped_column(Text, default="")
    case_no: Mapped[str] = mapped_column(String(40), default="")
    case_id: Mapped[int | None] = mapped_column(ForeignKey("service_case.id"))
    cancel_reason: Mapped[str] = mapped_column(Text, default="")

    matter = relationship("Matter")
    staff = relationship("User", foreign_keys=[staff_id])

    def __str__(self) -> str:
        return f"上门服务 {self.id}"
