"""The citizen's voice: ratings of a service (好差评) [SPEC §4.3; 000 好差评制度].

A rating belongs to the case that was rated; `RatingCase` lists every case it applies to (the case itself,
and the other cases of a batch, §15). Its primary key is the case: a case is rated once, and two ratings
racing for the same case cannot both be stored.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.timeutil import now

# The five levels and their scores [§8]; the last two are bad reviews (差评).
LEVEL_SCORES = {"very_satisfied": 10, "satisfied": 8, "fair": 6, "dissatisfied": 3, "very_dissatisfied": 0}
LEVELS = tuple(LEVEL_SCORES)
BAD_LEVELS = ("dissatisfied", "very_dissatisfied")
# The dimensions rated besides the overall level (GB/T 39734): each takes a level, all optional.
DIMENSIONS = ("efficiency", "competence", "attitude")
# Reasons a bad review picks from [§18]; "other" asks for the free text.
BAD_REASONS = ("guide_unclear", "extra_materials", "many_trips", "too_slow", "attitude", "competence",
               "unfair_fee", "other")
RATING_CHANNELS = ("qr", "kiosk", "paper")
# ServiceCase.rating_status: "" not rated yet (window open), "rated", "unrated" (未评: window closed).
RATED, UNRATED = "rated", "unrated"


class Rating(db.Model):
    __tablename__ = "rating"
    __table_args__ = (Index("ix_rating_center_at", "center_id", "rated_at"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    center_id: Mapped[int] = mapped_column(ForeignKey("center.id"))
    case_id: Mapped[int] = mapped_column(ForeignKey("service_case.id"), unique=True)  # the case rated
    window_id: Mapped[int | None] = mapped_column(ForeignKey("window.id"), index=True)
    clerk_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), index=True)  # responsible
    matter_id: Mapped[int] = mapped_column(ForeignKey("matter.id"), index=True)
    level: Mapped[str] = mapped_column(String(20))          # the overall level (总体满意度)
    score: Mapped[int] = mapped_column()                     # 10 / 8 / 6 / 3 / 0, kept as given
    efficiency: Mapped[str] = mapped_column(String(20), default="")
    competence: Mapped[str] = mapped_column(String(20), default="")
    attitude: Mapped[str] = mapped_column(String(20), default="")
    reasons: Mapped[str] = mapped_column(String(200), default="")   # codes of BAD_REASONS, space-separated
    reason_text: Mapped[str] = mapped_column(Text, default="")
    channel: Mapped[str] = mapped_column(String(10))
    rated_at: Mapped[datetime] = mapped_column(default=now)
    prompted: Mapped[bool] = mapped_column(default=False)   # after the 24-hour reminder: not 主动评价
    batch_size: Mapped[int] = mapped_column(default=1)      # cases the rating applies to
    client_hash: Mapped[str] = mapped_column(String(64), default="")  # keyed hash of the address, never the address

    case = relationship("ServiceCase", foreign_keys=[case_id])
    window = relationship("Window")
    clerk = relationship("User", foreign_keys=[clerk_id])
    matter = relationship("Matter")
    covers: Mapped[list[RatingCase]] = relationship(back_populates="rating", cascade="all, delete-orphan")

    @property
    def overall(self) -> str:
        return self.level

    @property
    def is_bad(self) -> bool:
        return self.level in BAD_LEVELS

    @property
    def reason_codes(self) -> list[str]:
        return self.reasons.split()


class RatingCase(db.Model):
    """A case a rating applies to: one row per case, so a case has at most one rating."""
    __tablename__ = "rating_case"
    case_id: Mapped[int] = mapped_column(ForeignKey("service_case.id", ondelete="CASCADE"), primary_key=True)
    rating_id: Mapped[int] = mapped_column(ForeignKey("rating.id", ondelete="CASCADE"), index=True)

    rating: Mapped[Rating] = relationship(back_populates="covers")
