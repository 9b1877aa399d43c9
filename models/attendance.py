"""Attendance (考勤) [000 工作人员考勤制度, 窗口工作人员服务规范 第五条; 001 五; SPEC §4.8].

- `WorkSchedule`: a centre's office hours (morning and afternoon), how many minutes before opening staff
  must be at the window (10) and the limit beyond which lateness or early leave is absence (30);
- `AttendanceDay`: one person's day — first punch, last punch, how it was classified, where it came from
  (an attendance-machine export or a manual sign-in / a manager's entry);
- `AttendanceImport`: one upload of a machine export, kept from the upload through the column mapping and
  the preview to the import (the mapping chosen is remembered for the centre's next upload);
- `AttendancePublication`: a month's summary published to the centre's staff (who, when).
"""
from __future__ import annotations

from datetime import date, datetime, time

from sqlalchemy import ForeignKey, Index, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.timeutil import now
from models.record import RecordMixin

STATUSES = ("normal", "late", "early", "late_early", "absent_post", "absent", "on_leave", "business_trip", "rest")
SOURCES = ("machine", "manual")
SIGN_IN_METHODS = ("manual", "machine")


class WorkSchedule(RecordMixin, db.Model):
    """A centre's working hours; one per centre (defaults 08:30–12:00, 14:30–17:30)."""
    __tablename__ = "work_schedule"
    morning_start: Mapped[time] = mapped_column(default=time(8, 30))
    morning_end: Mapped[time] = mapped_column(default=time(12, 0))
    afternoon_start: Mapped[time] = mapped_column(default=time(14, 30))
    afternoon_end: Mapped[time] = mapped_column(default=time(17, 30))
    arrive_before: Mapped[int] = mapped_column(default=10)     # minutes before opening at the window [001 五]
    late_limit: Mapped[int] = mapped_column(default=30)        # beyond it: absence from the post, not lateness
    sign_in: Mapped[str] = mapped_column(String(20), default="manual")   # how attendance is taken
    note: Mapped[str] = mapped_column(Text, default="")

    def __str__(self) -> str:
        return (f"{self.morning_start:%H:%M}–{self.morning_end:%H:%M}，"
                f"{self.afternoon_start:%H:%M}–{self.afternoon_end:%H:%M}")


class AttendanceDay(RecordMixin, db.Model):
    __tablename__ = "attendance_day"
    __table_args__ = (UniqueConstraint("staff_id", "day", name="uq_attendance_day_staff_day"),
                      Index("ix_attendance_day_center_day", "center_id", "day"))
    staff_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    day: Mapped[date]
    first_in: Mapped[time | None]
    last_out: Mapped[time | None]
    punches: Mapped[int] = mapped_column(default=0)
    status: Mapped[str] = mapped_column(String(20), default="normal")
    late_minutes: Mapped[int] = mapped_column(default=0)
    early_minutes: Mapped[int] = mapped_column(default=0)
    missing_minutes: Mapped[int] = mapped_column(default=0)
    source: Mapped[str] = mapped_column(String(10), default="machine")
    import_id: Mapped[int | None] = mapped_column(ForeignKey("attendance_import.id"))
    note: Mapped[str] = mapped_column(Text, default="")       # a manager's reason for an entry or correction

    staff = relationship("User", foreign_keys=[staff_id])

    def __str__(self) -> str:
        return f"考勤 {self.day}"


class AttendanceImport(db.Model):
    """An attendance-machine export on its way in: uploaded → mapped → imported."""
    __tablename__ = "attendance_import"
    id: Mapped[int] = mapped_column(primary_key=True)
    center_id: Mapped[int] = mapped_column(ForeignKey("center.id"), index=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(default=now)
    filename: Mapped[str] = mapped_column(String(200), default="")
    data: Mapped[bytes | None] = mapped_column(LargeBinary)    # dropped once imported
    mapping: Mapped[str] = mapped_column(Text, default="")     # JSON: the columns chosen
    state: Mapped[str] = mapped_column(String(20), default="uploaded")   # uploaded / imported
    rows: Mapped[int] = mapped_column(default=0)
    people: Mapped[int] = mapped_column(default=0)
    days: Mapped[int] = mapped_column(default=0)               # person-days written
    kept_manual: Mapped[int] = mapped_column(default=0)        # person-days left to their manual record
    first_day: Mapped[date | None]
    last_day: Mapped[date | None]
    imported_at: Mapped[datetime | None]

    created_by = relationship("User")


class AttendancePublication(db.Model):
    """A month's attendance summary published to the centre [000 考勤 §5: 每月汇总; 第五条: 每月通报]."""
    __tablename__ = "attendance_publication"
    __table_args__ = (UniqueConstraint("center_id", "month", name="uq_attendance_publication_month"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    center_id: Mapped[int] = mapped_column(ForeignKey("center.id"))
    month: Mapped[str] = mapped_column(String(7))               # YYYY-MM
    published_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    published_at: Mapped[datetime] = mapped_column(default=now)

    published_by = relationship("User")
