"""What every official record shares: its centre, state, version, author and void mark.

Changes to any record are written to the audit trail automatically (app.audit listens to flushes),
so no code path — view, job or shell — can change a record without leaving a trace.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, declared_attr, mapped_column, relationship

from app.timeutil import now


class RecordMixin:
    id: Mapped[int] = mapped_column(primary_key=True)
    state: Mapped[str] = mapped_column(String(30), default="", index=True)
    version: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime] = mapped_column(default=now, index=True)
    updated_at: Mapped[datetime] = mapped_column(default=now, onupdate=now)
    voided: Mapped[bool] = mapped_column(default=False)
    void_reason: Mapped[str] = mapped_column(Text, default="")
    voided_at: Mapped[datetime | None]

    @declared_attr
    def center_id(cls) -> Mapped[int]:
        return mapped_column(ForeignKey("center.id"), index=True)

    @declared_attr
    def center(cls):
        return relationship("Center")

    @declared_attr
    def created_by_id(cls) -> Mapped[int | None]:
        return mapped_column(ForeignKey("user_account.id"))

    @declared_attr
    def created_by(cls):
        return relationship("User", foreign_keys=[cls.created_by_id])

    @declared_attr.directive
    def __mapper_args__(cls):
        # Optimistic locking: a stale UPDATE (someone saved first) raises StaleDataError.
        return {"version_id_col": cls.__table__.c.version}
