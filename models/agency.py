"""Assisted and agency service (帮办代办) [000 帮办代办制度 + 附件 帮办代办服务委托书; 003 4.2.2.4; SPEC §4.5].

One row is one entrustment (委托): the client and their ID, the priority group (the elderly and the
disabled first), the matter, the materials handed over (原件 / 复印件, copies), the agent, the fees the client
bears (none for a 便民 matter), the linked service case, the first check at acceptance, the hand-back
(回交) and a termination under one of the five cases of the entrustment contract.
"""
from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import ForeignKey, Index, Numeric, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from models.record import RecordMixin

PRIORITY_GROUPS = ("elderly", "disabled", "sick", "none")
# Who comes first in an agent's list [003 4.2.2.4: 老年人、残疾人等特殊群体].
PRIORITY_FIRST = ("elderly", "disabled")
# The five cases of the contract's 第四条 that end an entrustment.
TERMINATION_CASES = ("client_notice", "false_materials", "cannot_complete", "client_stalled", "other")


class Entrustment(RecordMixin, db.Model):
    __tablename__ = "entrustment"
    __table_args__ = (
        Index("ix_entrustment_agent", "center_id", "voided", "state", "agent_id"),
        # A service case is linked to one (not void) entrustment only.
        Index("uq_entrustment_case", "case_id", unique=True,
              sqlite_where=text("voided = 0 AND case_id IS NOT NULL"),
              postgresql_where=text("NOT voided AND case_id IS NOT NULL")),
    )

    number: Mapped[str] = mapped_column(String(20), default="", index=True)
    entrusted_on: Mapped[date | None]                                      # 委托日期 (签发之日)

    # 委托方: the client (a person, or the contact person of a unit)
    client_name: Mapped[str] = mapped_column(String(60), default="")
    client_unit: Mapped[str] = mapped_column(String(120), default="")     # 委托单位, when a unit entrusts
    client_id_no: Mapped[str] = mapped_column(String(18), default="", index=True)
    client_phone: Mapped[str] = mapped_column(String(30), default="")
    client_address: Mapped[str] = mapped_column(String(200), default="")
    priority_group: Mapped[str] = mapped_column(String(20), default="none")
    priority: Mapped[bool] = mapped_column(default=False, index=True)     # the elderly or disabled: first

    # 帮办代办服务事项
    matter_id: Mapped[int | None] = mapped_column(ForeignKey("matter.id"), index=True)
    matter_text: Mapped[str] = mapped_column(String(200), default="")     # a matter of another level
    request: Mapped[str] = mapped_column(Text, default="")                # what the client asks for

    # 代办方: the agent named for the matter
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    agent_phone: Mapped[str] = mapped_column(String(30), default="")

    # 费用: borne by the client (委托方) and paid by them; a 便民 matter is handled free of charge
    free: Mapped[bool] = mapped_column(default=False)
    fee_amount: Mapped[Decimal | None] = mapped_column(Numeric(12, 2), default=Decimal("0"))
    fee_for: Mapped[str] = mapped_column(String(200), default="")

    # The service case the agent runs for the client
    case_no: Mapped[str] = mapped_column(String(40), default="")
    case_id: Mapped[int | None] = mapped_column(ForeignKey("service_case.id"))

    # 受理: the first check of the materials; or not accepted, with the reason
    accepted_on: Mapped[date | None]
    check_result: Mapped[str] = mapped_column(Text, default="")
    refusal_reason: Mapped[str] = mapped_column(Text, default="")

    # 回交: handed back to the client
    returned_on: Mapped[date | None]
    returned_items: Mapped[str] = mapped_column(Text, default="")
    client_signature: Mapped[str] = mapped_column(String(200), default="")
    closed_on: Mapped[date | None]

    # 终止: one of the five cases, with the written notice
    termination_case: Mapped[str] = mapped_column(String(30), default="")
    notice_on: Mapped[date | None]
    termination_note: Mapped[str] = mapped_column(Text, default="")

    note: Mapped[str] = mapped_column(Text, default="")

    matter = relationship("Matter")
    agent = relationship("User", foreign_keys=[agent_id])
    case = relationship("ServiceCase")
    materials: Mapped[list[EntrustmentMaterial]] = relationship(
        back_populates="entrustment", cascade="all, delete-orphan", order_by="EntrustmentMaterial.seq")

    @property
    def matter_name(self) -> str:
        return self.matter.name if self.matter is not None else (self.matter_text or "")

    def __str__(self) -> str:
        return f"帮办代办 {self.number or '#' + str(self.id)} {self.client_name}"


class EntrustmentMaterial(db.Model):
    """One material the client hands over: name, original or copy, copies."""
    __tablename__ = "entrustment_material"
    id: Mapped[int] = mapped_column(primary_key=True)
    entrustment_id: Mapped[int] = mapped_column(ForeignKey("entrustment.id", ondelete="CASCADE"), index=True)
    seq: Mapped[int] = mapped_column(default=0)
    name: Mapped[str] = mapped_column(String(200))
    form: Mapped[str] = mapped_column(String(20), default="original")
    copies: Mapped[int] = mapped_column(default=1)

    entrustment: Mapped[Entrustment] = relationship(back_populates="materials")

    def __str__(self) -> str:
        return self.name
