"""Service cases (办件) from first inquiry to delivery [SPEC §4.2], with extensions and handovers."""
from __future__ import annotations

from datetime import date

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint, event, inspect, true
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from models.catalogue import Department, Matter, Window
from models.record import RecordMixin

CASE_KINDS = ("consult", "immediate", "promised", "joint", "reported")
CHANNELS = ("window", "online", "agency", "village", "appointment")
DELIVERY_METHODS = ("pickup", "mail", "online")
OPEN_STATES = ("registered", "awaiting_supplement", "accepted", "reported", "waiting_applicant")
# Open states whose clock runs: waiting for the applicant during handling stops it [000 限时办结 §11].
RUNNING_STATES = ("registered", "awaiting_supplement", "accepted", "reported")


class ServiceCase(RecordMixin, db.Model):
    __tablename__ = "service_case"
    __table_args__ = (
        UniqueConstraint("center_id", "receipt_no"),
        Index("ix_case_center_state", "center_id", "voided", "state"),  # list counts read only the index
        Index("ix_case_center_due", "center_id", "due_date"),
        Index("ix_case_center_intake", "center_id", "intake_date"),
        Index("ix_case_open_due", "state", "due_date"),
        Index("ix_case_center_applicant", "center_id", "applicant_name"),
        Index("ix_case_center_phone", "center_id", "applicant_phone"),
        Index("ix_case_center_idno", "center_id", "applicant_id_no"),  # search by ID number (exact)
        # The worklist counts and pages open cases from this index alone: state, the exception flags, owner.
        Index("ix_case_worklist", "center_id", "voided", "state", "overdue", "warned", "handover_late",
              "responsible_id", "created_by_id"),
        # A clerk's own open cases (首问负责: responsible, else the author of an unassigned one) without
        # reading the tens of thousands they finished over the years.
        Index("ix_case_owner_state", "responsible_id", "state", "created_by_id"),
        # The register's default order (newest first) and a window's cases, read in that order from the
        # index. SQLite appends the row id to every index by itself; PostgreSQL needs it named, or it
        # walks the whole table's primary key (2 s at 5,000,000 cases) or sorts a window's 30,000 cases.
        Index("ix_case_center_order", "center_id", "voided", "id"),
        # A window's list is also counted from its index: the centre and the voided flag come before the id
        # (PostgreSQL otherwise read every case of the window from the table to check them).
        Index("ix_case_window_order", "window_id", "center_id", "voided", "id"),
    )
    receipt_no: Mapped[str] = mapped_column(String(20), default="")
    applicant_name: Mapped[str] = mapped_column(String(60))
    applicant_phone: Mapped[str] = mapped_column(String(30), default="")
    applicant_id_no: Mapped[str] = mapped_column(String(18), default="")
    matter_id: Mapped[int] = mapped_column(ForeignKey("matter.id"), index=True)
    window_id: Mapped[int | None] = mapped_column(ForeignKey("window.id"))
    kind: Mapped[str] = mapped_column(String(20), default="promised")
    channel: Mapped[str] = mapped_column(String(20), default="window")
    responsible_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    intake_date: Mapped[date] = mapped_column()
    # The clock: acceptance day, or the day the supplement arrived [000 限时办结 §6].
    clock_start: Mapped[date | None]
    promised_days: Mapped[int | None]                                # the promise given at acceptance
    day_one: Mapped[date | None]
    due_date: Mapped[date | None]
    provisional: Mapped[bool] = mapped_column(default=False)
    applicant_delay_days: Mapped[int] = mapped_column(default=0)   # days the applicant caused [§11]
    paused_on: Mapped[date | None]                                   # waiting for the applicant since
    resumed_on: Mapped[date | None]                                  # … and back on
    extended_due: Mapped[date | None]
    missing_materials: Mapped[str] = mapped_column(Text, default="")
    answer: Mapped[str] = mapped_column(Text, default="")            # 咨询件: the answer given
    refusal_reason: Mapped[str] = mapped_column(Text, default="")
    remedies: Mapped[str] = mapped_column(Text, default="")
    request_text: Mapped[str] = mapped_column(String(300), default="", server_default="")  # 转办: asked for, in words
    transfer_office: Mapped[str] = mapped_column(String(120), default="")
    transfer_phone: Mapped[str] = mapped_column(String(30), default="")
    higher_authority: Mapped[str] = mapped_column(String(120), default="")
    completed_on: Mapped[date | None]
    result: Mapped[str] = mapped_column(Text, default="")
    delivery_method: Mapped[str] = mapped_column(String(20), default="")
    delivered_on: Mapped[date | None]
    pickup_notified_on: Mapped[date | None]                          # applicant told the result is ready
    warned: Mapped[bool] = mapped_column(default=False)
    overdue: Mapped[bool] = mapped_column(default=False, index=True)
    overdue_reason: Mapped[str] = mapped_column(String(40), default="")
    handover_late: Mapped[bool] = mapped_column(default=False)
    # 好差评: "" open for rating, "rated", "unrated" (未评: the window closed without one) [models.voice]
    rating_status: Mapped[str] = mapped_column(String(10), default="", server_default="")
    # 主题式/套餐式服务 ("一件事"): the theme's name when the case was registered as one item of a themed package;
    # the package = same centre, applicant ID number, intake day and theme (app.ratings.package_of) [000 好差评 §16]
    package: Mapped[str | None] = mapped_column(String(60))

    matter: Mapped[Matter] = relationship()
    window: Mapped[Window | None] = relationship()
    responsible = relationship("User", foreign_keys=[responsible_id])
    materials: Mapped[list[CaseMaterial]] = relationship(
        back_populates="case", cascade="all, delete-orphan", order_by="CaseMaterial.seq")
    joint: Mapped[list[CaseJointWindow]] = relationship(
        back_populates="case", cascade="all, delete-orphan", order_by="CaseJointWindow.seq")

    def __str__(self) -> str:
        return f"{self.receipt_no or '#' + str(self.id)} {self.applicant_name}"

    @property
    def effective_due(self) -> date | None:
        return self.extended_due or self.due_date

    @property
    def received_materials(self) -> list[CaseMaterial]:
        return [m for m in self.materials if m.received]


class CaseMaterial(db.Model):
    """One line of the intake checklist: a material of the matter's list (or another one brought),
    ticked when received, with its form and copies."""
    __tablename__ = "case_material"
    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("service_case.id", ondelete="CASCADE"), index=True)
    seq: Mapped[int] = mapped_column(default=0)
    received: Mapped[bool] = mapped_column(default=True, server_default=true())  # rows already on file were received
    name: Mapped[str] = mapped_column(String(200))
    form: Mapped[str] = mapped_column(String(20), default="original")
    copies: Mapped[int] = mapped_column(default=1)
    note: Mapped[str] = mapped_column(String(200), default="")

    case: Mapped[ServiceCase] = relationship(back_populates="materials")


class CaseJointWindow(db.Model):
    """A co-handling window of a joint case (联办件); the case's own window leads [002 §10(三)3]."""
    __tablename__ = "case_joint_window"
    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("service_case.id", ondelete="CASCADE"), index=True)
    seq: Mapped[int] = mapped_column(default=0)
    window_id: Mapped[int | None] = mapped_column(ForeignKey("window.id"))
    task: Mapped[str] = mapped_column(String(200), default="")

    case: Mapped[ServiceCase] = relationship(back_populates="joint")
    window: Mapped[Window | None] = relationship()


class CaseExtension(RecordMixin, db.Model):
    """办理事项延期申请表 [000 限时办结 §8]."""
    __tablename__ = "case_extension"
    case_id: Mapped[int] = mapped_column(ForeignKey("service_case.id"), index=True)
    requested_on: Mapped[date] = mapped_column()
    reason: Mapped[str] = mapped_column(Text)
    new_due: Mapped[date] = mapped_column()
    head_opinion: Mapped[str] = mapped_column(Text, default="")
    applicant_notified_on: Mapped[date | None]
    notice_method: Mapped[str] = mapped_column(String(40), default="")

    case: Mapped[ServiceCase] = relationship()

    def __str__(self) -> str:
        return f"延期申请 {self.case}"


class CaseHandover(RecordMixin, db.Model):
    """One leg of a case between the centre and a functional department (交接表) [000 审管分离]."""
    __tablename__ = "case_handover"
    __table_args__ = (
        # The worklist counts open legs (one's own) from this index alone.
        Index("ix_case_handover_worklist", "center_id", "voided", "state", "created_by_id"),
    )
    case_id: Mapped[int] = mapped_column(ForeignKey("service_case.id"), index=True)
    department_id: Mapped[int] = mapped_column(ForeignKey("department.id"))
    handed_on: Mapped[date] = mapped_column()
    received_by: Mapped[str] = mapped_column(String(60), default="")
    returned_on: Mapped[date | None]
    result_pushed_on: Mapped[date | None]     # result pushed to the department for supervision
    note: Mapped[str] = mapped_column(Text, default="")
    late: Mapped[bool] = mapped_column(default=False)

    case: Mapped[ServiceCase] = relationship()
    department: Mapped[Department] = relationship()

    def __str__(self) -> str:
        return f"交接 {self.case} → {self.department}"


# ------------------------------------------------------------------ search by any part of a name

def name_grams(name: str | None) -> set[str]:
    """Every 1- and 2-character piece of a name, lower-cased: "李秀英" → 李 秀 英 李秀 秀英.
    A search of one or two characters is then one index lookup; a longer one narrows by its pieces."""
    text = (name or "").strip().lower()
    return set(text) | {text[i:i + 2] for i in range(len(text) - 1)}


class CaseNameGram(db.Model):
    """The pieces of each case's applicant name (see `name_grams`), kept by the events below."""
    __tablename__ = "case_name_gram"
    center_id: Mapped[int] = mapped_column(primary_key=True)   # a centre searches only its own pieces
    gram: Mapped[str] = mapped_column(String(2), primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("service_case.id", ondelete="CASCADE"), primary_key=True,
                                         index=True)


ServiceCase.__name_grams__ = {"applicant_name": CaseNameGram}   # read by app.records.query (search "ngram")


def _write_name_grams(connection, case: ServiceCase, replace: bool) -> None:
    table = CaseNameGram.__table__
    if replace:
        connection.execute(table.delete().where(table.c.case_id == case.id))
    rows = [{"center_id": case.center_id, "gram": g, "case_id": case.id} for g in name_grams(case.applicant_name)]
    if rows:
        connection.execute(table.insert(), rows)


@event.listens_for(ServiceCase, "after_insert")
def _case_inserted(_mapper, connection, case) -> None:
    _write_name_grams(connection, case, replace=False)


@event.listens_for(ServiceCase, "after_update")
def _case_updated(_mapper, connection, case) -> None:
    state = inspect(case)
    if state.attrs.applicant_name.history.has_changes() or state.attrs.center_id.history.has_changes():
        _write_name_grams(connection, case, replace=True)


@event.listens_for(ServiceCase, "before_delete")
def _case_deleted(_mapper, connection, case) -> None:
    connection.execute(CaseNameGram.__table__.delete().where(CaseNameGram.__table__.c.case_id == case.id))
