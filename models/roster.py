"""The staff roster (SPEC §4.8): a dispatched person's profile (窗口工作人员登记表 [001 二(2)]), their
training records and certificates [003 5.2], and window changes (轮岗 [001 二(3)]).

The A/B posts a person holds are read from `Post` (the catalogue), never copied here.
"""
from __future__ import annotations

from datetime import date

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from models.record import RecordMixin


class StaffProfile(RecordMixin, db.Model):
    """One per person (refused a second time while the first is not void): the dispatch registration."""
    __tablename__ = "staff_profile"

    staff_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    dispatching_department: Mapped[str] = mapped_column(String(100), default="")   # 派出单位
    window_id: Mapped[int | None] = mapped_column(ForeignKey("window.id"), index=True)
    post_title: Mapped[str] = mapped_column(String(60), default="")                # 职务（职级）
    gender: Mapped[str] = mapped_column(String(10), default="")
    birth_date: Mapped[date | None]
    ethnicity: Mapped[str] = mapped_column(String(20), default="")
    political_status: Mapped[str] = mapped_column(String(20), default="")
    education: Mapped[str] = mapped_column(String(20), default="")
    id_number: Mapped[str] = mapped_column(String(18), default="")
    phone: Mapped[str] = mapped_column(String(30), default="")
    dispatched_on: Mapped[date | None]                                             # 派驻时间
    term_until: Mapped[date | None]                                                # 派驻期限（至）
    contact_name: Mapped[str] = mapped_column(String(60), default="")              # 派出单位联系人
    contact_phone: Mapped[str] = mapped_column(String(30), default="")
    note: Mapped[str] = mapped_column(Text, default="")

    staff = relationship("User", foreign_keys=[staff_id])
    window = relationship("Window")

    def __str__(self) -> str:
        return f"{self.staff.name if self.staff else ''} 登记表"


class Training(RecordMixin, db.Model):
    """A course a person attended, and the certificate it gave [003 5.2]."""
    __tablename__ = "staff_training"

    staff_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20), default="")
    trained_on: Mapped[date]
    course: Mapped[str] = mapped_column(String(200), default="")
    organiser: Mapped[str] = mapped_column(String(100), default="")
    hours: Mapped[int] = mapped_column(default=0)
    certificate_name: Mapped[str] = mapped_column(String(100), default="")
    certificate_no: Mapped[str] = mapped_column(String(60), default="")
    certificate_until: Mapped[date | None]

    staff = relationship("User", foreign_keys=[staff_id])

    def __str__(self) -> str:
        return f"培训 {self.course}"


class Rotation(RecordMixin, db.Model):
    """A dispatched clerk moved from one window to another (轮岗) [001 二(3)]."""
    __tablename__ = "staff_rotation"

    staff_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    from_window_id: Mapped[int | None] = mapped_column(ForeignKey("window.id"), index=True)
    to_window_id: Mapped[int | None] = mapped_column(ForeignKey("window.id"), index=True)
    rotated_on: Mapped[date] = mapped_column(index=True)
    reason: Mapped[str] = mapped_column(Text, default="")

    staff = relationship("User", foreign_keys=[staff_id])
    from_window = relationship("Window", foreign_keys=[from_window_id])
    to_window = relationship("Window", foreign_keys=[to_window_id])

    def __str__(self) -> str:
        return f"轮岗 {self.staff.name if self.staff else ''} {self.rotated_on or ''}"
