"""The catalogue (SPEC §4.1): windows, functional departments, matters with materials, A/B posts."""
from __future__ import annotations

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from models.record import RecordMixin

# Default windows of a township hall [002 §8], in hall order.
DEFAULT_WINDOWS = ("信访维稳", "财政惠民", "人口计生", "劳动保障", "民政救助",
                   "村镇建设", "农机补贴", "安全监管", "综合咨询")

MATTER_KINDS = ("immediate", "promised")           # 即办件 / 承诺件
HANDLING_MODES = ("direct", "promised", "joint", "linked")  # 直接 / 承诺 / 联合 / 衔接 [002 §10]
MATERIAL_FORMS = ("original", "copy", "both")      # 原件 / 复印件 / 原件和复印件


class Department(RecordMixin, db.Model):
    """A functional department (职能部门) that cases are handed over to [000 审管分离]."""
    __tablename__ = "department"
    name: Mapped[str] = mapped_column(String(100))
    contact: Mapped[str] = mapped_column(String(60), default="")
    phone: Mapped[str] = mapped_column(String(30), default="")
    address: Mapped[str] = mapped_column(String(200), default="")

    def __str__(self) -> str:
        return self.name


class Window(RecordMixin, db.Model):
    __tablename__ = "window"
    number: Mapped[int] = mapped_column()
    name: Mapped[str] = mapped_column(String(60))
    department_id: Mapped[int | None] = mapped_column(ForeignKey("department.id"))
    note: Mapped[str] = mapped_column(Text, default="")

    department: Mapped[Department | None] = relationship()

    def __str__(self) -> str:
        return f"{self.number}号 {self.name}"


class Matter(RecordMixin, db.Model):
    """A service item (政务服务事项) with the eight disclosures (八公开) [002 §10]."""
    __tablename__ = "matter"
    code: Mapped[str] = mapped_column(String(40), default="")
    name: Mapped[str] = mapped_column(String(200))
    window_id: Mapped[int | None] = mapped_column(ForeignKey("window.id"))
    department_id: Mapped[int | None] = mapped_column(ForeignKey("department.id"))
    business_line: Mapped[str] = mapped_column(String(60), default="")
    kind: Mapped[str] = mapped_column(String(20), default="promised")
    handling_mode: Mapped[str] = mapped_column(String(20), default="promised")
    basis: Mapped[str] = mapped_column(Text, default="")          # 设定依据
    conditions: Mapped[str] = mapped_column(Text, default="")     # 办理条件
    procedure: Mapped[str] = mapped_column(Text, default="")      # 办理程序
    fee: Mapped[str] = mapped_column(String(200), default="")     # 收费标准 (不收费)
    fee_basis: Mapped[str] = mapped_column(Text, default="")      # 收费依据
    statutory_days: Mapped[int] = mapped_column(default=0)        # 法定时限 (working days)
    promised_days: Mapped[int] = mapped_column(default=0)         # 承诺时限 (working days)
    contact_phone: Mapped[str] = mapped_column(String(30), default="")
    complaint_phone: Mapped[str] = mapped_column(String(30), default="")
    faq: Mapped[str] = mapped_column(Text, default="")

    window: Mapped[Window | None] = relationship()
    department: Mapped[Department | None] = relationship()
    materials: Mapped[list[MatterMaterial]] = relationship(
        back_populates="matter", cascade="all, delete-orphan", order_by="MatterMaterial.seq")

    def __str__(self) -> str:
        return self.name


class MatterMaterial(db.Model):
    """One required material of a matter: name, original/copy, number of copies."""
    __tablename__ = "matter_material"
    id: Mapped[int] = mapped_column(primary_key=True)
    matter_id: Mapped[int] = mapped_column(ForeignKey("matter.id", ondelete="CASCADE"), index=True)
    seq: Mapped[int] = mapped_column(default=0)
    name: Mapped[str] = mapped_column(String(200))
    form: Mapped[str] = mapped_column(String(20), default="original")
    copies: Mapped[int] = mapped_column(default=1)
    note: Mapped[str] = mapped_column(String(200), default="")

    matter: Mapped[Matter] = relationship(back_populates="materials")

    def __str__(self) -> str:
        return self.name


class Post(RecordMixin, db.Model):
    """A post (岗位) with an A holder and a B holder who covers when A is away [000 AB岗]."""
    __tablename__ = "post"
    name: Mapped[str] = mapped_column(String(100))
    window_id: Mapped[int | None] = mapped_column(ForeignKey("window.id"))
    a_holder_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    b_holder_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    duties: Mapped[str] = mapped_column(Text, default="")

    window: Mapped[Window | None] = relationship()
    a_holder = relationship("User", foreign_keys=[a_holder_id])
    b_holder = relationship("User", foreign_keys=[b_holder_id])

    def __str__(self) -> str:
        return self.name
