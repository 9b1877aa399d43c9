"""Extended-hours service (延时服务) [000 延时服务制度; SPEC §4.7]: the ledger of services given after hours
(第八条), the clerks who gave them, and the refusals the head approved or overruled (第五条).

There is no fee column on purpose: no fee and no other reward may be taken for an extended service (第四条).
"""
from __future__ import annotations

from datetime import date, datetime, time

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from models.record import RecordMixin

# 第二条 (一)–(五): why the hours were extended.
EXTENDED_REASONS = ("finish_now", "requested", "time_limit", "workload", "other")
# 第三条: who asked — the citizen on site, by phone, or the window on its own initiative.
REQUESTED_BY = ("on_site", "phone", "window")
# 第五条: the only grounds for not giving an extended service.
REFUSAL_GROUNDS = ("no_conditions", "not_needed")


class ExtendedService(RecordMixin, db.Model):
    """One line of the extended-hours ledger (延时服务登记台账): window, clerks, day, from … to, minutes."""
    __tablename__ = "extended_service"
    window_id: Mapped[int | None] = mapped_column(ForeignKey("window.id"))
    staff_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)   # the main clerk
    served_on: Mapped[date] = mapped_column(index=True)
    start_time: Mapped[time | None]
    end_time: Mapped[time | None]
    minutes: Mapped[int] = mapped_column(default=0)
    reason: Mapped[str] = mapped_column(String(20), default="finish_now")
    requested_by: Mapped[str] = mapped_column(String(20), default="on_site")
    requester_name: Mapped[str] = mapped_column(String(60), default="")
    case_no: Mapped[str] = mapped_column(String(40), default="")       # the receipt number as typed
    case_id: Mapped[int | None] = mapped_column(ForeignKey("service_case.id"))
    note: Mapped[str] = mapped_column(Text, default="")

    window = relationship("Window")
    staff = relationship("User", foreign_keys=[staff_id])
    case = relationship("ServiceCase")
    helpers: Mapped[list[ExtendedServiceClerk]] = relationship(
        back_populates="entry", cascade="all, delete-orphan", order_by="ExtendedServiceClerk.seq")

    def clerk_ids(self) -> list[int]:
        return list(dict.fromkeys([self.staff_id, *(h.staff_id for h in self.helpers if h.staff_id)]))

    def __str__(self) -> str:
        return f"延时服务 {self.served_on.isoformat() if self.served_on else ''} #{self.id}"


class ExtendedServiceClerk(db.Model):
    """Another clerk who served in the same extended service (第六条): credited the same minutes."""
    __tablename__ = "extended_service_clerk"
    id: Mapped[int] = mapped_column(primary_key=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("extended_service.id", ondelete="CASCADE"), index=True)
    seq: Mapped[int] = mapped_column(default=0)
    staff_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    note: Mapped[str] = mapped_column(String(200), default="")

    entry: Mapped[ExtendedService] = relationship(back_populates="helpers")
    staff = relationship("User")

    def __str__(self) -> str:
        return self.staff.name if self.staff else ""


class ExtendedServiceRefusal(RecordMixin, db.Model):
    """A clerk who cannot give an extended service asks the head's consent, with the reason (第五条).
    Approved: the requester is told why; not approved: the service is given and entered in the ledger."""
    __tablename__ = "extended_service_refusal"
    staff_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    window_id: Mapped[int | None] = mapped_column(ForeignKey("window.id"))
    asked_on: Mapped[date] = mapped_column(index=True)
    asked_at: Mapped[time | None]
    requested_by: Mapped[str] = mapped_column(String(20), default="on_site")
    requester_name: Mapped[str] = mapped_column(String(60), default="")
    requester_phone: Mapped[str] = mapped_column(String(30), default="")
    request: Mapped[str] = mapped_column(String(200), default="")        # what the requester wanted done
    ground: Mapped[str] = mapped_column(String(20), default="no_conditions")
    ground_text: Mapped[str] = mapped_column(Text, default="")
    told_how: Mapped[str | None] = mapped_column(String(20))
    told_at: Mapped[datetime | None]
    entry_id: Mapped[int | None] = mapped_column(ForeignKey("extended_service.id"))

    staff = relationship("User", foreign_keys=[staff_id])
    window = relationship("Window")
    entry = relationship("ExtendedService")

    def __str__(self) -> str:
        return f"不能提供延时服务报告 {self.asked_on.isoformat() if self.asked_on else ''} #{self.id}"
