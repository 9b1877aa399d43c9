"""The closed loop of a bad review (差评闭环) [000 好差评制度 §18, §19, §21, §25] and the dishonesty list.

A bad review (不满意 / 非常不满意) opens one `BadReview` when it is stored: found → verified (valid, not
valid, or malicious with the director's approval) → rectified and answered → follow-up visit → closed.
The rater's name and phone are copied from the case when it opens, because the follow-up needs them; they
are private [§25]: only the roles that follow up read them (the record is always confidential).
"""
from __future__ import annotations

from datetime import date

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from models.record import RecordMixin


class BadReview(RecordMixin, db.Model):
    __tablename__ = "bad_review"
    __table_args__ = (Index("ix_bad_review_center_rated", "center_id", "rated_on"),)

    rating_id: Mapped[int] = mapped_column(ForeignKey("rating.id"), unique=True)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("service_case.id"))
    window_id: Mapped[int | None] = mapped_column(ForeignKey("window.id"), index=True)
    clerk_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), index=True)  # the one rated
    matter_id: Mapped[int | None] = mapped_column(ForeignKey("matter.id"))
    level: Mapped[str] = mapped_column(String(20), default="")
    reasons: Mapped[str] = mapped_column(Text, default="")        # the reasons the rater gave, as text
    rated_on: Mapped[date | None]
    rater_name: Mapped[str] = mapped_column(String(50), default="")
    rater_phone: Mapped[str] = mapped_column(String(30), default="")
    answer_due: Mapped[date | None] = mapped_column(index=True)   # rectify and answer by (app.bad_reviews)
    overdue: Mapped[bool] = mapped_column(default=False)
    handler_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), index=True)  # follows it up

    # Verification (问题核实): valid / invalid / malicious, what was found, by whom.
    verdict: Mapped[str] = mapped_column(String(20), default="")
    findings: Mapped[str] = mapped_column(Text, default="")
    verified_on: Mapped[date | None]
    verified_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    malicious_approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))

    # Rectification and the answer to the citizen (反馈整改).
    rectification: Mapped[str] = mapped_column(Text, default="")
    answer_text: Mapped[str] = mapped_column(Text, default="")
    answered_on: Mapped[date | None]
    answered_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))

    # The follow-up visit (问题回访) and the citizen's satisfaction.
    followup_on: Mapped[date | None]
    followup_result: Mapped[str] = mapped_column(String(20), default="")   # satisfied / unsatisfied
    followup_note: Mapped[str] = mapped_column(Text, default="")
    followed_up_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))

    rating = relationship("Rating")
    window = relationship("Window")
    clerk = relationship("User", foreign_keys=[clerk_id])
    matter = relationship("Matter")
    handler = relationship("User", foreign_keys=[handler_id])

    # The rater is always private [§25]: masked for every reader outside the type's unmask roles.
    confidential = True

    def __str__(self) -> str:
        return f"差评 {self.id}"


class DishonestRater(db.Model):
    """政务服务失信名单 [§18]: a rater whose bad review the director confirmed as malicious, by phone."""
    __tablename__ = "dishonest_rater"
    __table_args__ = (UniqueConstraint("center_id", "phone", name="uq_dishonest_rater_phone"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    center_id: Mapped[int] = mapped_column(ForeignKey("center.id"), index=True)
    phone: Mapped[str] = mapped_column(String(30))
    bad_review_id: Mapped[int] = mapped_column(ForeignKey("bad_review.id"))
    listed_on: Mapped[date]
    listed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    reason: Mapped[str] = mapped_column(Text, default="")
