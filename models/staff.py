"""Leave slips (请假条) and the A/B cover they schedule [000 考勤 §2, AB岗 §3–4; 001 五; SPEC §4.8]."""
from __future__ import annotations

from datetime import date, time

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from models.record import RecordMixin

# Kinds of leave. "short" is leaving the window for part of one day (over 20 minutes needs a slip and a
# substitute [001 五]); "comp" is compensatory leave (补休) taken from extended-hours credit.
LEAVE_KINDS = ("personal", "sick", "annual", "business", "comp", "short", "other")
# States in which a slip stands (counts for overlaps, covers and attendance): submitted or approved.
PENDING_STATES = ("awaiting_deputy", "awaiting_director", "awaiting_leader")
APPROVED_STATES = ("approved", "back")


class LeaveSlip(RecordMixin, db.Model):
    __tablename__ = "leave_slip"
    staff_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20), default="personal")
    start_on: Mapped[date]
    end_on: Mapped[date]
    start_time: Mapped[time | None]        # a part-day leave: from … to … on the day
    end_time: Mapped[time | None]
    days: Mapped[int] = mapped_column(default=0, index=True)      # working days touched (routes the chain)
    minutes: Mapped[int] = mapped_column(default=0)               # a part-day leave's length
    reason: Mapped[str] = mapped_column(Text, default="")
    phone: Mapped[str] = mapped_column(String(30), default="")    # reachable while away [考勤 §4]
    substitute_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    late_request: Mapped[bool] = mapped_column(default=False)     # an A holder asked less than a day ahead
    back_on: Mapped[date | None]                                  # 销假: the day back at the window

    staff = relationship("User", foreign_keys=[staff_id])
    substitute = relationship("User", foreign_keys=[substitute_id])

    def __str__(self) -> str:
        return f"请假条 {self.id}"


class PostCover(db.Model):
    """B (or a named substitute) on A's post for the days of A's approved leave [AB岗 §3–4]: while it
    runs, the cover handles A's cases and worklist with A's rights."""
    __tablename__ = "post_cover"
    id: Mapped[int] = mapped_column(primary_key=True)
    center_id: Mapped[int] = mapped_column(ForeignKey("center.id"), index=True)
    post_id: Mapped[int] = mapped_column(ForeignKey("post.id"))
    absent_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    cover_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), index=True)
    start_on: Mapped[date]
    end_on: Mapped[date]
    leave_slip_id: Mapped[int | None] = mapped_column(ForeignKey("leave_slip.id"), index=True)
    note: Mapped[str] = mapped_column(String(200), default="")

    post = relationship("Post")
    absent = relationship("User", foreign_keys=[absent_id])
    cover = relationship("User", foreign_keys=[cover_id])
