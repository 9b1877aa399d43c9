"""Queue tickets (排队叫号) [003 4.2.2.3, 4.4.1; SPEC §4.15]: a number taken at the entrance, called from a
window, shown on the hall display; it links to the case opened from it (and so to that visit's rating)."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.timeutil import now

# Who is called first: appointment holders, then the elderly and disabled, then everyone by number.
PRIORITY_RANK = {"appointment": 0, "elderly": 1, "disabled": 1, "": 2}
TICKET_STATES = ("waiting", "called", "done", "skipped")


class QueueTicket(db.Model):
    __tablename__ = "queue_ticket"
    __table_args__ = (UniqueConstraint("center_id", "day", "number"),
                      Index("ix_queue_waiting", "center_id", "day", "state", "rank", "number"),
                      Index("ix_queue_called", "center_id", "day", "called_at"))
    id: Mapped[int] = mapped_column(primary_key=True)
    center_id: Mapped[int] = mapped_column(ForeignKey("center.id"))
    day: Mapped[date]
    number: Mapped[int]
    window_id: Mapped[int | None] = mapped_column(ForeignKey("window.id"))     # the window it waits for
    matter_id: Mapped[int | None] = mapped_column(ForeignKey("matter.id"))
    priority: Mapped[str] = mapped_column(String(20), default="")
    rank: Mapped[int] = mapped_column(default=2)
    state: Mapped[str] = mapped_column(String(20), default="waiting")
    taken_at: Mapped[datetime] = mapped_column(default=now)
    called_at: Mapped[datetime | None]
    called_window_id: Mapped[int | None] = mapped_column(ForeignKey("window.id"))
    called_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    recalls: Mapped[int] = mapped_column(default=0)
    finished_at: Mapped[datetime | None]
    transfers: Mapped[int] = mapped_column(default=0)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("service_case.id"))
    appointment_id: Mapped[int | None] = mapped_column(index=True)

    window = relationship("Window", foreign_keys=[window_id])
    called_window = relationship("Window", foreign_keys=[called_window_id])
    called_by = relationship("User", foreign_keys=[called_by_id])
    matter = relationship("Matter")

    @property
    def label(self) -> str:
        return f"{self.number:03d}"

    def __str__(self) -> str:
        return f"{self.label}号"
