"""Accountability (责任追究) [000 责任追究制 第五条–第九条; SPEC §4.9] and return-to-department
recommendations (退回建议) [001 二(4); SPEC §4.8].

One `AccountabilityRecord` is the whole file of one case against one person: where it came from (an
overdue service case, a verified complaint, a patrol finding, other), the violation (one of the eleven
cases of 第五条), the facts, the severity and the outcome, the aggravating (第六条) and mitigating
(第七条) circumstances, the person's statement and defence (第九条), the decision and an appeal.

One `ReturnRecommendation` per clerk and year: the grounds found for returning a dispatched clerk to
their department; the director confirms or dismisses it. Nothing happens to the user account.
"""
from __future__ import annotations

from datetime import date

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from models.record import RecordMixin


class AccountabilityRecord(RecordMixin, db.Model):
    __tablename__ = "accountability_record"
    # One record per overdue case and per complaint: the daily proposals stay idempotent even when two
    # runs overlap (the second insert fails and is skipped). NULLs (no link) never collide.
    __table_args__ = (UniqueConstraint("case_id", name="uq_accountability_case"),
                      UniqueConstraint("complaint_id", name="uq_accountability_complaint"))

    staff_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)   # 责任人
    source: Mapped[str] = mapped_column(String(20), default="other")
    case_id: Mapped[int | None] = mapped_column(ForeignKey("service_case.id"))
    complaint_id: Mapped[int | None] = mapped_column(ForeignKey("complaint.id"))
    proposed_by_system: Mapped[bool] = mapped_column(default=False)
    occurred_on: Mapped[date | None] = mapped_column(index=True)       # when the conduct happened
    violation: Mapped[str] = mapped_column(String(20), default="")     # 第五条 (一)–(十一)
    facts: Mapped[str] = mapped_column(Text, default="")

    # 情节 and 处理: severity, and an outcome allowed for it.
    severity: Mapped[str] = mapped_column(String(20), default="")
    outcome: Mapped[str] = mapped_column(String(20), default="")

    # 第六条 从重 / 加重; (二) "two or more in a year" is counted, never ticked.
    agg_retaliation: Mapped[bool] = mapped_column(default=False)
    prior_in_year: Mapped[int] = mapped_column(default=0)
    agg_repeat: Mapped[bool] = mapped_column(default=False)
    agg_obstruction: Mapped[bool] = mapped_column(default=False)
    agg_defiance: Mapped[bool] = mapped_column(default=False)
    agg_other: Mapped[bool] = mapped_column(default=False)
    # 第七条 从轻 / 减轻 / 免于处理.
    mit_apology: Mapped[bool] = mapped_column(default=False)
    mit_prevented: Mapped[bool] = mapped_column(default=False)
    mit_remedied: Mapped[bool] = mapped_column(default=False)
    mit_other: Mapped[bool] = mapped_column(default=False)
    factors_note: Mapped[str] = mapped_column(Text, default="")

    # 第九条: the person is heard before any decision.
    statement_requested_on: Mapped[date | None]
    statement: Mapped[str] = mapped_column(Text, default="")
    statement_declined: Mapped[bool] = mapped_column(default=False)
    declined_note: Mapped[str] = mapped_column(Text, default="")
    stated_on: Mapped[date | None]

    # The decision (or 不予追究), by the director.
    decision_text: Mapped[str] = mapped_column(Text, default="")
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    decided_on: Mapped[date | None] = mapped_column(index=True)
    dismiss_reason: Mapped[str] = mapped_column(Text, default="")

    # 申诉 (第九条 第二款) and its result; the outcome that stands after it.
    appeal_due: Mapped[date | None]
    appealed_on: Mapped[date | None]
    appeal_text: Mapped[str] = mapped_column(Text, default="")
    appeal_result: Mapped[str] = mapped_column(String(20), default="")
    appeal_outcome: Mapped[str] = mapped_column(String(20), default="")
    appeal_decision: Mapped[str] = mapped_column(Text, default="")
    appeal_decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    appeal_decided_on: Mapped[date | None]
    effective_outcome: Mapped[str] = mapped_column(String(20), default="", index=True)

    staff = relationship("User", foreign_keys=[staff_id])
    case = relationship("ServiceCase", foreign_keys=[case_id])
    complaint = relationship("Complaint", foreign_keys=[complaint_id])
    decided_by = relationship("User", foreign_keys=[decided_by_id])
    appeal_decided_by = relationship("User", foreign_keys=[appeal_decided_by_id])

    def __str__(self) -> str:
        return f"责任追究 {self.id}"


class ReturnRecommendation(RecordMixin, db.Model):
    __tablename__ = "return_recommendation"
    __table_args__ = (UniqueConstraint("center_id", "staff_id", "year", name="uq_return_staff_year"),)

    staff_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    year: Mapped[int] = mapped_column(default=0)
    complaint_count: Mapped[int] = mapped_column(default=0)     # verified complaints in the year
    criticism_count: Mapped[int] = mapped_column(default=0)     # 通报批评 decided in the year
    grounds: Mapped[str] = mapped_column(Text, default="")
    flagged_on: Mapped[date | None]
    decision_note: Mapped[str] = mapped_column(Text, default="")
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    decided_on: Mapped[date | None]

    staff = relationship("User", foreign_keys=[staff_id])
    decided_by = relationship("User", foreign_keys=[decided_by_id])

    def __str__(self) -> str:
        return f"退回建议 {self.year} #{self.id}"
