"""Village service points (村级便民服务点) [002 §11; SPEC §4.14]: the register (办理事项登记本).

One row is one line of a village point's register: 编号, 受理日期, 申办事项, 申办人, 联系电话 and the state
(办件状态), with what the two-part acceptance notice (受理告知书) prints, and — once forwarded (转报) —
the link to the service case the township centre opened for it.
"""
from __future__ import annotations

from datetime import date, datetime, time

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from models.record import RecordMixin


class VillageEntry(RecordMixin, db.Model):
    __tablename__ = "village_register_entry"
    __table_args__ = (
        UniqueConstraint("center_id", "number"),   # 编号: one series per village point and year
        UniqueConstraint("case_id"),               # a township case answers one register line only
    )

    number: Mapped[str] = mapped_column(String(20), default="", index=True)           # 编号 2026-000001
    accepted_on: Mapped[date] = mapped_column(index=True)                              # 受理日期
    accepted_time: Mapped[time | None]                                                 # 受理时间
    matter: Mapped[str] = mapped_column(String(200), default="")                       # 申办事项, in words
    township_matter_id: Mapped[int | None] = mapped_column(ForeignKey("matter.id"))    # … as the township lists it
    applicant_name: Mapped[str] = mapped_column(String(60), default="")                # 申办人
    applicant_phone: Mapped[str] = mapped_column(String(30), default="")               # 联系电话
    applicant_id_no: Mapped[str] = mapped_column(String(18), default="")
    materials: Mapped[str] = mapped_column(Text, default="")                           # 收到材料
    expected_on: Mapped[date | None]                                                   # 预计办结日期, if known
    receiver_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))     # 收件人
    result: Mapped[str] = mapped_column(Text, default="")                              # 办理结果
    note: Mapped[str] = mapped_column(Text, default="")

    # 转报: the township's case, who forwarded it and when.
    case_id: Mapped[int | None] = mapped_column(ForeignKey("service_case.id"), index=True)
    forwarded_at: Mapped[datetime | None]
    forwarded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))

    township_matter = relationship("Matter")
    receiver = relationship("User", foreign_keys=[receiver_id])
    forwarded_by = relationship("User", foreign_keys=[forwarded_by_id])
    case = relationship("ServiceCase")

    def __str__(self) -> str:
        return f"{self.number or '#' + str(self.id)} {self.applicant_name}"
