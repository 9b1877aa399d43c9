"""Efficiency complaints (行政效能投诉) about the centre, its windows and its staff [000 投诉管理制度 + 附件].

One row is the whole file of a complaint: the register entry, the acceptance decision, the handling
(直查 / 转办 / 督办) with the leader's instruction, the feedback form's fields (附件3) and an appeal.
"""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from models.record import RecordMixin


class Complaint(RecordMixin, db.Model):
    __tablename__ = "complaint"

    number: Mapped[str] = mapped_column(String(20), default="", index=True)
    channel: Mapped[str] = mapped_column(String(20), default="")          # 问题来源
    received_at: Mapped[datetime | None]                                  # 来电时间 / 收件时间
    complainant_title: Mapped[str] = mapped_column(String(10), default="")  # 先生 / 女士
    complainant_name: Mapped[str] = mapped_column(String(50), default="")
    complainant_phone: Mapped[str] = mapped_column(String(30), default="")
    confidential: Mapped[bool] = mapped_column(default=False)             # 是否保密
    incoming_line: Mapped[str] = mapped_column(String(30), default="")    # 呼入电话
    window_id: Mapped[int | None] = mapped_column(ForeignKey("window.id"), index=True)
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), index=True)
    staff_named: Mapped[str] = mapped_column(String(50), default="")      # as the complainant named them
    matter: Mapped[str] = mapped_column(String(200), default="")          # 反映问题
    facts: Mapped[str] = mapped_column(Text, default="")
    urgency: Mapped[str] = mapped_column(String(20), default="normal")    # 紧急程度
    problem_type: Mapped[str] = mapped_column(String(20), default="")     # 问题类型
    evidence_due: Mapped[date | None]                                     # letters and calls: 3 working days

    # Acceptance (受理): on the spot, else within 3 working days; or not accepted, with the channel.
    decision_due: Mapped[date | None] = mapped_column(index=True)
    decided_on: Mapped[date | None]
    acceptance: Mapped[str] = mapped_column(String(20), default="")
    decision_late: Mapped[bool] = mapped_column(default=False)
    refusal_case: Mapped[str] = mapped_column(String(30), default="")
    refusal_reason: Mapped[str] = mapped_column(Text, default="")
    proper_channel: Mapped[str] = mapped_column(String(200), default="")

    # Handling (办理): mode, department, proposal and instruction, deadline.
    handling_mode: Mapped[str] = mapped_column(String(20), default="")
    department_id: Mapped[int | None] = mapped_column(ForeignKey("department.id"))
    transfer_no: Mapped[str] = mapped_column(String(40), default="")      # 转办文号
    transferred_on: Mapped[date | None]                                   # 转办时间
    proposal: Mapped[str] = mapped_column(Text, default="")               # 拟办意见
    instruction: Mapped[str] = mapped_column(Text, default="")            # 领导批示
    instructed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    instructed_on: Mapped[date | None]
    complexity: Mapped[str] = mapped_column(String(20), default="general")
    extension_approved: Mapped[bool] = mapped_column(default=False)
    extension_reason: Mapped[str] = mapped_column(Text, default="")
    extension_notified_on: Mapped[date | None]                            # written notice to the complainant
    due_on: Mapped[date | None] = mapped_column(index=True)              # 反馈期限
    warned: Mapped[bool] = mapped_column(default=False)
    overdue: Mapped[bool] = mapped_column(default=False)
    handler_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), index=True)  # 经办人
    handler_phone: Mapped[str] = mapped_column(String(30), default="")

    # Result and feedback (办理结果, 反馈), the complainant's opinion, an appeal (申辩).
    result: Mapped[str] = mapped_column(Text, default="")
    outcome: Mapped[str] = mapped_column(String(30), default="")
    verified: Mapped[bool] = mapped_column(default=False)                 # 经查属实
    feedback_method: Mapped[str] = mapped_column(String(20), default="")
    feedback_on: Mapped[date | None]
    signer_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))  # 签发领导
    signed_on: Mapped[date | None]                                        # 签发时间
    complainant_opinion: Mapped[str] = mapped_column(String(20), default="")
    appeal_due: Mapped[date | None]
    appealed_on: Mapped[date | None]
    appeal_text: Mapped[str] = mapped_column(Text, default="")
    appeal_result: Mapped[str] = mapped_column(Text, default="")

    window = relationship("Window")
    staff = relationship("User", foreign_keys=[staff_id])
    department = relationship("Department")
    instructed_by = relationship("User", foreign_keys=[instructed_by_id])
    handler = relationship("User", foreign_keys=[handler_id])
    signer = relationship("User", foreign_keys=[signer_id])

    def __str__(self) -> str:
        return f"投诉 {self.number or self.id}"
