"""Appointments (预约服务) [000 预约服务制; 003 7.1.1; SPEC §4.6]: the slot rules of a window or matter, the
bookings citizens make from a phone, and the holiday duty roster (节假日值班)."""
from __future__ import annotations

from datetime import date, datetime, time

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from models.record import RecordMixin

APPOINTMENT_STATES = ("booked", "checked_in", "no_show", "cancelled")
ACTIVE_STATES = ("booked", "checked_in")      # these hold a place in their slot


class AppointmentRule(RecordMixin, db.Model):
    """The times a window (or one matter of it) takes appointments: up to two periods a day, cut into slots of
    `slot_minutes`, each slot taking `capacity` people, bookable `days_ahead` working days ahead."""
    __tablename__ = "appointment_rule"
    window_id: Mapped[int | None] = mapped_column(ForeignKey("window.id"))
    matter_id: Mapped[int | None] = mapped_column(ForeignKey("matter.id"))
    am_start: Mapped[time | None]
    am_end: Mapped[time | None]
    pm_start: Mapped[time | None]
    pm_end: Mapped[time | None]
    slot_minutes: Mapped[int] = mapped_column(default=30)
    capacity: Mapped[int] = mapped_column(default=2)
    days_ahead: Mapped[int] = mapped_column(default=5)
    note: Mapped[str] = mapped_column(Text, default="")

    window = relationship("Window")
    matter = relationship("Matter")

    def __str__(self) -> str:
        if self.matter is not None:
            return f"{self.matter.name}（{self.window}）" if self.window else self.matter.name
        return str(self.window) if self.window else f"预约规则 {self.id}"


class Appointment(RecordMixin, db.Model):
    """One booking: a slot of a rule's day, the citizen's name and phone, and a short code to check in with."""
    __tablename__ = "appointment"
    __table_args__ = (Index("ix_appointment_slot", "rule_id", "day", "start"),
                      Index("ix_appointment_day", "center_id", "day", "window_id"))
    code: Mapped[str] = mapped_column(String(12), unique=True)
    rule_id: Mapped[int | None] = mapped_column(ForeignKey("appointment_rule.id"))
    window_id: Mapped[int | None] = mapped_column(ForeignKey("window.id"))
    matter_id: Mapped[int | None] = mapped_column(ForeignKey("matter.id"))
    day: Mapped[date | None]
    start: Mapped[time | None]
    end: Mapped[time | None]
    name: Mapped[str] = mapped_column(String(50), default="")
    phone: Mapped[str] = mapped_column(String(30), default="")
    urgent: Mapped[bool] = mapped_column(default=False)          # 急事急办
    urgent_reason: Mapped[str] = mapped_column(String(300), default="")
    checked_in_at: Mapped[datetime | None]
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("queue_ticket.id"))
    no_show_at: Mapped[datetime | None]
    no_show_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    cancelled_at: Mapped[datetime | None]
    reschedules: Mapped[int] = mapped_column(default=0)

    rule = relationship("AppointmentRule")
    window = relationship("Window")
    matter = relationship("Matter")
    ticket = relationship("QueueTicket")
    no_show_by = relationship("User", foreign_keys=[no_show_by_id])

    def __str__(self) -> str:
        return f"预约 {self.code}"

    @property
    def slot_text(self) -> str:
        if self.day is None or self.start is None:
            return ""
        end = f"–{self.end.strftime('%H:%M')}" if self.end else ""
        return f"{self.day.isoformat()} {self.start.strftime('%H:%M')}{end}"


class HolidayDuty(RecordMixin, db.Model):
    """Who is on duty on a non-working day and the phone to call (节假日值班): the duty officer calls the
    clerk in for a matter that cannot wait [000 预约服务制 第四条]."""
    __tablename__ = "holiday_duty"
    day: Mapped[date | None] = mapped_column(index=True)
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    phone: Mapped[str] = mapped_column(String(30), default="")
    note: Mapped[str] = mapped_column(String(200), default="")

    staff = relationship("User", foreign_keys=[staff_id])

    def __str__(self) -> str:
        return f"值班 {self.day.isoformat() if self.day else ''}"
