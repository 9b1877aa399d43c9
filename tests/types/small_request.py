"""A small leave-like request: whose it is (subject), a computed number of working days, an approval
chain routed by it and per-state edit rights — the engine features the staff records build on."""
from __future__ import annotations

from datetime import date

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.records.registry import (SUBJECT, Chain, Field, PrintForm, RecordType, Route, State, Workflow,
                                  register)
from app.workdays import working_days_between
from models.core import AGENT, CLERK, DEPUTY, DIRECTOR, INSPECTOR, LEADER
from models.record import RecordMixin


class SmallRequest(RecordMixin, db.Model):
    __tablename__ = "t_small_request"
    __table_args__ = {"info": {"test_only": True}}
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    start_on: Mapped[date | None]
    end_on: Mapped[date | None]
    days: Mapped[int] = mapped_column(default=0)
    reason: Mapped[str] = mapped_column(String(200), default="")

    staff = relationship("User", foreign_keys=[staff_id])

    def __str__(self) -> str:
        return f"请求 {self.id}"


def _days(ctx) -> int:
    r = ctx.record
    if r.start_on is None or r.end_on is None or r.end_on < r.start_on:
        return 0
    return working_days_between(r.start_on, r.end_on) + 1


def _validate(ctx) -> dict:
    r = ctx.record
    if r.start_on and r.end_on and r.end_on < r.start_on:
        return {"end_on": "结束日期不能早于开始日期"}
    return {}


def _sample(center):
    from models.core import RoleGrant
    staff = db.session.scalar(db.select(RoleGrant.user_id).where(RoleGrant.center_id == center.id, RoleGrant.role == CLERK))
    record = SmallRequest(center_id=center.id, state="draft", staff_id=staff, start_on=date(2026, 12, 1),
                          end_on=date(2026, 12, 1), days=1, reason="测试")
    db.session.add(record)
    db.session.flush()
    return record


STAFF = frozenset({CLERK, AGENT, INSPECTOR, DEPUTY, DIRECTOR})
MANAGERS = frozenset({DEPUTY, DIRECTOR, LEADER})

SMALL_REQUESTS = register(RecordType(
    key="t-small-requests", model=SmallRequest, title="小请求", title_plural="小请求",
    subject="staff_id",
    permissions={"read": MANAGERS | {SUBJECT}, "create": STAFF, "edit": frozenset({SUBJECT}),
                 "void": frozenset({DIRECTOR}), "print": MANAGERS | {SUBJECT}, "export": frozenset({DIRECTOR})},
    workflow=Workflow(
        initial="draft",
        states=[State("draft", "草稿", rights={"edit": {SUBJECT}}),
                State("returned", "退回修改", "warn", rights={"edit": {SUBJECT}}),
                State("approved", "已批准", "ok", final=True),
                State("rejected", "未批准", "bad", final=True)],
        transitions=[],
        chains=[Chain(by="days", routes=(Route(1, (DEPUTY,)), Route(2, (DEPUTY, DIRECTOR)),
                                         Route(None, (DEPUTY, DIRECTOR, LEADER))),
                      submit_from=("draft", "returned"), submit_roles=frozenset({SUBJECT}),
                      approved="approved", rejected="rejected", returned="returned")]),
    fields=[
        Field("staff_id", "请求人", kind="user", required=True, in_list=True),
        Field("start_on", "开始日期", required=True, in_list=True),
        Field("end_on", "结束日期", required=True, in_list=True),
        Field("days", "天数（工作日）", compute=_days, depends=("start_on", "end_on"), in_list=True),
        Field("reason", "事由"),
    ],
    validate=_validate,
    prefill=lambda ctx: {"staff_id": ctx.user.id, "start_on": ctx.today, "end_on": ctx.today},
    sample=_sample,
    prints=[PrintForm("form", "小请求审批表", "print/approval_form.html")],
))
