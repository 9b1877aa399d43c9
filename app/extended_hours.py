"""Extended-hours service (延时服务) and compensatory leave (补休) [000 延时服务制度; SPEC §4.7].

Two record types:

* `extended-hours` — the ledger (延时服务登记台账, 第八条): window, the main clerk and the others who
  served with them (第六条), day, from … to, minutes (computed), which of the five cases of 第二条, who
  asked (第三条: the citizen on site or by phone, or the window itself) and the requester. No fee field:
  no fee or reward may be taken (第四条), and the form, the record and the paper ledger say so.
* `extended-hours-refusals` — a clerk who cannot serve (条件不具备 / 确无必要) asks the head's consent
  with the reason (第五条): the director approves (never the clerk themself) → the requester is told why
  (how and when are recorded) → refused; not approved → the service must be given, and the record is
  closed by linking the ledger entry of the service.

Compensatory leave: every clerk of an entry is credited its minutes; comp leave slips (LeaveSlip kind
"comp", submitted or approved) use the credit, oldest first; a credit unused after
COMP_LEAVE_EXPIRES_MONTHS (default 6) expires. When a new entry takes someone's balance past
COMP_LEAVE_THRESHOLD_HOURS (default 8) they are told and offered a 补休 slip (第八条: 合理安排补休).
"""
from __future__ import annotations

import calendar
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from flask import Blueprint, abort, current_app, has_app_context, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy import or_, select

from app import access
from app.extensions import db
from app.records.registry import (SUBJECT, Child, Field, PrintForm, RecordType, Refused, State, Transition,
                                  Workflow, register)
from app.timeutil import today
from models.case import ServiceCase
from models.catalogue import Window
from models.core import ADMIN, AGENT, CLERK, COUNTY, DEPUTY, DIRECTOR, INSPECTOR, LEADER, RoleGrant, User
from models.extended_hours import ExtendedService, ExtendedServiceClerk, ExtendedServiceRefusal

NO_FEE = "提供延时服务不得向服务对象收取任何服务费用，也不得获取其他形式的报酬（延时服务制度第四条）。"

REASON_CHOICES = (
    ("finish_now", "（一）到下班时间时当即能够办结，延时办理完毕"),
    ("requested", "（二）服务对象因合理需要请求延长工作时间"),
    ("time_limit", "（三）非延长时间不能在规定时限内办结"),
    ("workload", "（四）业务量大或事项紧急"),
    ("other", "（五）其他原因"),
)
REASON_SHORT = {"finish_now": "（一）下班时当即能办结", "requested": "（二）服务对象合理请求",
                "time_limit": "（三）不延时不能按时限办结", "workload": "（四）业务量大或紧急", "other": "（五）其他"}
REQUESTED_BY_CHOICES = (("on_site", "服务对象现场请求"), ("phone", "服务对象电话请求"),
                        ("window", "窗口根据工作需要"))
GROUND_CHOICES = (("no_conditions", "条件不具备"), ("not_needed", "确无必要"))
TOLD_CHOICES = (("in_person", "当面说明"), ("phone", "电话告知"), ("writing", "书面告知"))

WRITERS = frozenset({CLERK, AGENT, INSPECTOR, DEPUTY, DIRECTOR})   # enter their own services
KEEPERS = frozenset({DEPUTY, DIRECTOR})                            # may enter anyone's (第六条 协调)
READERS = frozenset({DEPUTY, DIRECTOR, ADMIN, COUNTY})             # read every entry of the centre
CENTRE_VIEW = frozenset({DEPUTY, DIRECTOR, ADMIN, COUNTY, LEADER})  # see everyone's balance
DAY_MINUTES = 480                                                  # a whole day of comp leave
EXPIRY_WARNING_DAYS = 10                                           # working days before a credit lapses


# ------------------------------------------------------------------ settings and small helpers

def _config(name: str, default: int) -> int:
    value = current_app.config.get(name, default) if has_app_context() else default
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


def expires_months() -> int:
    return max(1, _config("COMP_LEAVE_EXPIRES_MONTHS", 6))


def threshold_minutes() -> int:
    return max(1, _config("COMP_LEAVE_THRESHOLD_HOURS", 8)) * 60


def add_months(day: date, months: int) -> date:
    y, m = divmod(day.month - 1 + months, 12)
    year, month = day.year + y, m + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def valid_until(earned: date) -> date:
    """The last day a credit earned on `earned` can be used (6 months: 10 Jan → 9 Jul)."""
    return add_months(earned, expires_months()) - timedelta(days=1)


def hours_text(minutes: int) -> str:
    sign, minutes = ("-" if minutes < 0 else ""), abs(int(minutes))
    h, m = divmod(minutes, 60)
    if h and m:
        return f"{sign}{h}小时{m}分钟"
    return f"{sign}{h}小时" if h else f"{sign}{m}分钟"


def comp_leave_link() -> str:
    """A new 补休 leave slip (the leave-slips type may not be declared yet: the link is built anyway)."""
    from werkzeug.routing import BuildError
    try:
        return url_for("records.new_view", key="leave-slips", kind="comp")
    except (RuntimeError, BuildError):   # no request (a job without SERVER_NAME)
        return "/r/leave-slips/new?kind=comp"


# ------------------------------------------------------------------ compensatory leave: the account

@dataclass
class Lot:
    """What is left of one entry's credit for one person."""
    entry_id: int
    center_id: int
    earned_on: date
    valid_until: date
    minutes: int
    left: int


@dataclass
class Account:
    staff_id: int
    on: date
    lots: list[Lot] = field(default_factory=list)
    credited: int = 0       # minutes credited up to `on`
    used: int = 0           # comp leave counted (submitted or approved)
    expired: int = 0        # credit that lapsed unused by `on`
    owed: int = 0           # leave taken beyond the credit available at its date

    @property
    def balance(self) -> int:
        return sum(lot.left for lot in self.lots if lot.valid_until >= self.on) - self.owed

    def expiring(self, until: date) -> list[Lot]:
        return [lot for lot in self.lots if lot.left > 0 and self.on <= lot.valid_until <= until]


def _credits(staff_id: int, on: date, exclude_entry: int | None = None) -> list[tuple[int, int, date, int]]:
    """(entry, centre, day, minutes) of every entry the person served in, up to `on`, oldest first."""
    helped = select(ExtendedServiceClerk.entry_id).where(ExtendedServiceClerk.staff_id == staff_id)
    query = (select(ExtendedService.id, ExtendedService.center_id, ExtendedService.served_on,
                    ExtendedService.minutes)
             .where(ExtendedService.voided.is_(False), ExtendedService.served_on <= on,
                    ExtendedService.minutes > 0,
                    or_(ExtendedService.staff_id == staff_id, ExtendedService.id.in_(helped)))
             .order_by(ExtendedService.served_on, ExtendedService.id))
    if exclude_entry is not None:
        query = query.where(ExtendedService.id != exclude_entry)
    return [tuple(r) for r in db.session.execute(query)]


def _comp_slips(staff_id: int, exclude: int | None = None) -> list[tuple[date, int]]:
    """(day, minutes) of every comp leave slip that stands (submitted or approved), whatever its date:
    a slip for next week already holds its credit."""
    from models.staff import APPROVED_STATES, PENDING_STATES, LeaveSlip
    query = (select(LeaveSlip.start_on, LeaveSlip.days, LeaveSlip.minutes)
             .where(LeaveSlip.staff_id == staff_id, LeaveSlip.kind == "comp", LeaveSlip.voided.is_(False),
                    LeaveSlip.state.in_((*APPROVED_STATES, *PENDING_STATES)))
             .order_by(LeaveSlip.start_on, LeaveSlip.id))
    if exclude is not None:
        query = query.where(LeaveSlip.id != exclude)
    return [(start, slip_minutes(days, minutes)) for start, days, minutes in db.session.execute(query)]


def slip_minutes(days: int | None, minutes: int | None) -> int:
    """A part-day slip counts its minutes; a whole-day slip 480 minutes a working day."""
    return int(minutes) if minutes else int(days or 0) * DAY_MINUTES


def account(staff_id: int, on: date | None = None, *, exclude: int | None = None,
            exclude_entry: int | None = None) -> Account:
    """The person's credit on `on`: entries credit their day; each comp slip uses, on its first day, the
    oldest credit still valid then; what no credit covers is owed and paid from the next credits."""
    on = on or today()
    acc = Account(staff_id, on)
    events = [(day, 0, ("credit", entry, center, minutes)) for entry, center, day, minutes
              in _credits(staff_id, on, exclude_entry)]
    events += [(day, 1, ("debit", minutes)) for day, minutes in _comp_slips(staff_id, exclude)]
    for day, _order, event in sorted(events, key=lambda e: (e[0], e[1])):
        if event[0] == "credit":
            _kind, entry, center, minutes = event
            lot = Lot(entry, center, day, valid_until(day), minutes, minutes)
            acc.credited += minutes
            paid = min(acc.owed, lot.left)
            acc.owed -= paid
            lot.left -= paid
            acc.lots.append(lot)
            continue
        need = event[1]
        acc.used += need
        for lot in acc.lots:          # oldest first
            if need <= 0:
                break
            if lot.left > 0 and lot.earned_on <= day <= lot.valid_until:
                take = min(lot.left, need)
                lot.left -= take
                need -= take
        acc.owed += need
    acc.expired = sum(lot.left for lot in acc.lots if lot.valid_until < on)
    return acc


def comp_balance_minutes(staff_id: int, on: date | None = None) -> int:
    """Extended minutes credited to the person, less comp leave submitted or approved, less expired credit."""
    return account(staff_id, on).balance


def comp_leave_refusal(staff_id: int, days: int | None, minutes: int | None, exclude: int | None = None,
                       on: date | None = None) -> str | None:
    """Why this comp leave cannot be asked for (None: the balance covers it). `exclude`: the slip being
    edited, whose own minutes are not counted twice."""
    wanted = slip_minutes(days, minutes)
    if wanted <= 0:
        return None
    balance = account(staff_id, on, exclude=exclude).balance
    if wanted <= balance:
        return None
    if balance <= 0:
        return f"没有可用的延时服务补休时长，不能申请补休（申请{hours_text(wanted)}）。"
    return f"可补休时长为{hours_text(balance)}，不足本次申请的{hours_text(wanted)}。"


def _notify_threshold(entry: ExtendedService, on: date) -> int:
    """Tell each clerk of a new entry whose balance it takes past the threshold, once per crossing."""
    from app.notifications import notify
    limit, sent = threshold_minutes(), 0
    for staff_id in entry.clerk_ids():
        after = comp_balance_minutes(staff_id, on)
        before = account(staff_id, on, exclude_entry=entry.id).balance
        if before < limit <= after:
            sent += notify(staff_id, f"延时服务累计{hours_text(after)}，可申请补休",
                           key=f"extended-hours-threshold:{entry.id}:{staff_id}",
                           body=(f"您的延时服务可补休时长已达{hours_text(after)}（超过{hours_text(limit)}），"
                                 "请合理安排补休，点此填写补休请假条。"),
                           link=comp_leave_link(), center_id=entry.center_id)
    return sent


def expiring_credit_notices(on: date) -> int:
    """Credit that lapses within 10 working days: tell the person, once per day of lapse."""
    from app.notifications import notify
    from app.workdays import add_working_days
    until = add_working_days(on, EXPIRY_WARNING_DAYS)
    since = add_months(on, -expires_months()) - timedelta(days=3)
    helped = (select(ExtendedServiceClerk.staff_id).join(ExtendedService, ExtendedService.id == ExtendedServiceClerk.entry_id)
              .where(ExtendedService.voided.is_(False), ExtendedService.served_on >= since))
    main = select(ExtendedService.staff_id).where(ExtendedService.voided.is_(False),
                                                  ExtendedService.served_on >= since)
    people = sorted(set(db.session.scalars(main)) | set(db.session.scalars(helped)))
    sent = 0
    for staff_id in people:
        acc = account(staff_id, on)
        if acc.balance <= 0:
            continue
        by_day: dict[date, list[Lot]] = {}
        for lot in acc.expiring(until):
            by_day.setdefault(lot.valid_until, []).append(lot)
        for last_day, lots in sorted(by_day.items()):
            minutes = sum(lot.left for lot in lots)
            sent += notify(staff_id, f"{hours_text(minutes)}延时服务补休时长将于{last_day.month}月{last_day.day}日后失效",
                           key=f"extended-hours-expiring:{staff_id}:{last_day.isoformat()}",
                           body=(f"您有{hours_text(minutes)}延时服务补休时长可用至{last_day.isoformat()}，"
                                 "逾期不再计入，请及时安排补休。"),
                           link=comp_leave_link(), center_id=lots[0].center_id)
    return sent


# ------------------------------------------------------------------ the ledger: hooks

def _members(center_id: int) -> set[int]:
    return set(db.session.scalars(select(RoleGrant.user_id).where(RoleGrant.center_id == center_id)))


def _minutes(ctx) -> int:
    r = ctx.record
    if r.start_time is None or r.end_time is None or r.end_time <= r.start_time:
        return 0
    start = r.start_time.hour * 60 + r.start_time.minute
    return r.end_time.hour * 60 + r.end_time.minute - start


def _check_window(center_id: int, window_id: int | None) -> bool:
    window = db.session.get(Window, window_id) if window_id else None
    return window is not None and window.center_id == center_id and not window.voided


def _validate(ctx) -> dict:
    r, errors = ctx.record, {}
    if r.start_time and r.end_time and r.end_time <= r.start_time:
        errors["end_time"] = "结束时间必须晚于开始时间（跨过午夜的，请按日分开登记）。"
    if r.served_on and r.served_on > ctx.today:
        errors["served_on"] = "延时服务日期不能晚于今天：服务结束后再登记。"
    if r.window_id and not _check_window(r.center_id, r.window_id):
        errors["window_id"] = "请选择本中心的窗口。"
    members = _members(r.center_id)
    if r.staff_id and r.staff_id not in members:
        errors["staff_id"] = "请选择本中心的工作人员。"
    roles = access.roles_in(ctx.user, r.center_id) if ctx.user is not None else KEEPERS
    if ctx.user is not None and r.staff_id and r.staff_id != ctx.user.id and not roles & KEEPERS:
        errors["staff_id"] = "只能登记本人提供的延时服务；多人参与的，由本人登记并在下方列出其他工作人员。"
    helpers = [h.staff_id for h in r.helpers if h.staff_id]
    if r.staff_id in helpers:
        errors["helpers"] = "主办人员不必再列入其他工作人员。"
    elif len(set(helpers)) != len(helpers):
        errors["helpers"] = "同一工作人员只能列一次。"
    elif any(h not in members for h in helpers):
        errors["helpers"] = "其他工作人员须是本中心的工作人员。"
    if r.requested_by in ("on_site", "phone") and not (r.requester_name or "").strip():
        errors["requester_name"] = "服务对象请求的延时服务，请登记请求人姓名。"
    if r.reason == "other" and not (r.note or "").strip():
        errors["note"] = "选择“其他原因”时，请在备注中写明原因。"
    from app.cases import link_by_receipt
    problem = link_by_receipt(r)
    if problem:
        errors["case_no"] = problem
    return errors


def _warnings(ctx) -> list:
    r = ctx.record
    out = []
    if r.minutes > 240:
        out.append(f"本次延时服务长达{hours_text(r.minutes)}，请核对开始和结束时间。")
    return out


def _after_create(ctx) -> None:
    _notify_threshold(ctx.record, ctx.today)


def _prefill(ctx) -> dict:
    window = db.session.scalar(select(Window.id).where(Window.center_id == ctx.center_id, Window.voided.is_(False))
                               .order_by(Window.number)) if ctx.center_id else None
    return {"staff_id": ctx.user.id, "served_on": ctx.today, "window_id": window}


def _sample_window(center) -> int:
    window = db.session.scalar(select(Window).where(Window.center_id == center.id))
    if window is None:
        window = Window(center_id=center.id, number=9, name="综合咨询")
        db.session.add(window)
        db.session.flush()
    return window.id


def _sample_clerk(center) -> int | None:
    return db.session.scalar(select(RoleGrant.user_id).where(RoleGrant.center_id == center.id,
                                                             RoleGrant.role == CLERK))


def _sample(center) -> ExtendedService:
    from datetime import time
    entry = ExtendedService(center_id=center.id, window_id=_sample_window(center), staff_id=_sample_clerk(center),
                            served_on=date(2026, 11, 23), start_time=time(17, 30), end_time=time(18, 15),
                            minutes=45, reason="finish_now", requested_by="on_site", requester_name="张三")
    db.session.add(entry)
    db.session.flush()
    return entry


EXTENDED_HOURS = register(RecordType(
    key="extended-hours", model=ExtendedService, title="延时服务登记", title_plural="延时服务登记",
    nav_group="staff", subject="staff_id", default_sort="-served_on",
    permissions={"read": READERS | {SUBJECT}, "create": WRITERS, "edit": frozenset({SUBJECT, DIRECTOR}),
                 "void": frozenset({DIRECTOR}), "print": READERS | {SUBJECT}, "export": READERS},
    fields=[
        Field("served_on", "日期", required=True, in_list=True, filter=True),
        Field("window_id", "窗口", ref=Window, required=True, in_list=True, filter=True),
        Field("staff_id", "主办工作人员", kind="user", required=True, in_list=True, filter=True),
        Field("start_time", "开始时间", required=True, in_list=True,
              help="下班时间或延时开始的时间。"),
        Field("end_time", "结束时间", required=True, in_list=True),
        Field("minutes", "延时时长（分钟）", compute=_minutes, depends=("start_time", "end_time"), in_list=True),
        Field("reason", "延时情形", choices=REASON_CHOICES, required=True, in_list=True, filter=True,
              help="延时服务制度第二条的五种情形。"),
        Field("requested_by", "提出方式", choices=REQUESTED_BY_CHOICES, required=True, filter=True,
              help="第三条：服务对象现场或电话请求，或窗口根据工作需要作出。"),
        Field("requester_name", "请求人（服务对象）", in_list=True, search=True, max_length=60),
        Field("case_no", "关联办件受理编号", max_length=40, help="可不填；填写时须是本中心的受理编号。"),
        Field("case_id", "关联办件", ref=ServiceCase, in_form=False),
        Field("note", "备注", kind="text", help=NO_FEE),
    ],
    children=[Child("helpers", "其他参与的工作人员（第六条）", ExtendedServiceClerk, blank_rows=2, hide_empty=True, fields=[
        Field("staff_id", "工作人员", kind="user", required=True),
        Field("note", "分工", max_length=200),
    ])],
    ledger_columns=("served_on", "window_id", "staff_id", "start_time", "end_time", "minutes", "reason",
                    "requester_name"),
    validate=_validate, warnings=_warnings, after_create=_after_create, prefill=_prefill, sample=_sample,
    template_form="extended_hours/form.html", template_view="extended_hours/view.html",
))


# ------------------------------------------------------------------ refusals (第五条)

def _validate_refusal(ctx) -> dict:
    r, errors = ctx.record, {}
    if r.asked_on and r.asked_on > ctx.today:
        errors["asked_on"] = "请求日期不能晚于今天。"
    if r.window_id and not _check_window(r.center_id, r.window_id):
        errors["window_id"] = "请选择本中心的窗口。"
    if r.staff_id and r.staff_id not in _members(r.center_id):
        errors["staff_id"] = "请选择本中心的工作人员。"
    roles = access.roles_in(ctx.user, r.center_id) if ctx.user is not None else KEEPERS
    if ctx.user is not None and r.staff_id and r.staff_id != ctx.user.id and not roles & KEEPERS:
        errors["staff_id"] = "只能报告本人不能提供的延时服务。"
    if r.requested_by in ("on_site", "phone") and not (r.requester_name or "").strip():
        errors["requester_name"] = "请登记请求人姓名，以便向其说明理由。"
    if not (r.ground_text or "").strip():
        errors["ground_text"] = "请写明不能提供延时服务的具体理由。"
    return errors


def _told(ctx) -> None:
    r = ctx.record
    if r.told_at is None:
        raise Refused("请填写告知请求人的时间。", field="told_at")
    if r.told_at.date() > ctx.today:
        raise Refused("告知时间不能晚于今天。", field="told_at")
    if r.asked_on and r.told_at.date() < r.asked_on:
        raise Refused("告知时间不能早于请求日期。", field="told_at")


def _served(ctx) -> None:
    r = ctx.record
    entry = db.session.get(ExtendedService, r.entry_id) if r.entry_id else None
    if entry is None or entry.center_id != r.center_id or entry.voided:
        raise Refused("请选择本中心延时服务台账中的这次服务。", field="entry_id")
    if r.asked_on and entry.served_on < r.asked_on:
        raise Refused("所选服务早于请求日期，请选择这次请求后提供的服务。", field="entry_id")


def _sample_refusal(center) -> ExtendedServiceRefusal:
    record = ExtendedServiceRefusal(center_id=center.id, state="draft", staff_id=_sample_clerk(center),
                                    window_id=_sample_window(center), asked_on=date(2026, 11, 23),
                                    requested_by="phone", requester_name="李四", request="办理社保参保登记",
                                    ground="no_conditions", ground_text="系统已关闭，无法办理")
    db.session.add(record)
    db.session.flush()
    return record


REFUSAL_READERS = READERS | {SUBJECT}
HANDLERS = frozenset({SUBJECT})   # the clerk who asked tells the requester, or serves

REFUSALS = register(RecordType(
    key="extended-hours-refusals", model=ExtendedServiceRefusal, title="不能提供延时服务报告",
    title_plural="不能提供延时服务报告", nav_group="staff", subject="staff_id", default_sort="-asked_on",
    permissions={"read": REFUSAL_READERS, "create": WRITERS, "edit": frozenset({SUBJECT}),
                 "void": frozenset({DIRECTOR}), "print": REFUSAL_READERS, "export": READERS},
    edit_states=("draft",),
    workflow=Workflow(
        initial="draft",
        states=[State("draft", "草稿"),
                State("awaiting_director", "待负责人审批", "info"),
                State("approved", "负责人同意，待向请求人说明理由", "warn"),
                State("must_serve", "负责人不同意，须提供延时服务", "bad"),
                State("refused", "已说明理由，不提供延时服务", "ok", final=True),
                State("served", "已提供延时服务", "ok", final=True)],
        transitions=[
            Transition("submit", "报负责人审批", ("draft",), "awaiting_director", frozenset({SUBJECT})),
            Transition("approve", "同意不提供延时服务", ("awaiting_director",), "approved", frozenset({DIRECTOR}),
                       not_by_subject=True, approval=True, opinion="approve"),
            Transition("overrule", "不同意，须提供延时服务", ("awaiting_director",), "must_serve",
                       frozenset({DIRECTOR}), not_by_subject=True, approval=True, opinion="reject",
                       comment_required=True, css="danger"),
            Transition("tell", "登记已向请求人说明理由", ("approved",), "refused", HANDLERS,
                       requires=("told_how", "told_at"), on_apply=_told),
            Transition("serve", "登记已提供的延时服务", ("must_serve",), "served", HANDLERS,
                       requires=("entry_id",), on_apply=_served),
        ]),
    fields=[
        Field("staff_id", "报告人（窗口工作人员）", kind="user", required=True, in_list=True, filter=True),
        Field("window_id", "窗口", ref=Window, required=True, in_list=True, filter=True),
        Field("asked_on", "请求日期", required=True, in_list=True, filter=True),
        Field("asked_at", "请求时间"),
        Field("requested_by", "提出方式", choices=REQUESTED_BY_CHOICES, required=True),
        Field("requester_name", "请求人", in_list=True, search=True, max_length=60),
        Field("requester_phone", "请求人电话", kind="phone"),
        Field("request", "请求办理的事项", required=True, max_length=200),
        Field("ground", "不能提供的理由", choices=GROUND_CHOICES, required=True, in_list=True, filter=True,
              help="第五条：只有条件不具备或确无必要时，经负责人同意，方可不提供延时服务。"),
        Field("ground_text", "具体理由", kind="text", required=True),
        Field("told_how", "告知方式", choices=TOLD_CHOICES, in_form=False),
        Field("told_at", "告知时间", in_form=False),
        Field("entry_id", "提供的延时服务（台账）", ref=ExtendedService, in_form=False),
    ],
    validate=_validate_refusal, sample=_sample_refusal,
    prefill=lambda ctx: {"staff_id": ctx.user.id, "asked_on": ctx.today},
    prints=[PrintForm("form", "不能提供延时服务审批表", "print/approval_form.html")],
))


# ------------------------------------------------------------------ pages

bp = Blueprint("extended_hours", __name__, url_prefix="/extended-hours")


@dataclass
class BalanceRow:
    user: User
    acc: Account

    @property
    def next_lapse(self) -> Lot | None:
        lots = [lot for lot in self.acc.lots if lot.left > 0 and lot.valid_until >= self.acc.on]
        return min(lots, key=lambda lot: lot.valid_until) if lots else None


def _centre_people(center_id: int) -> list[User]:
    return db.session.scalars(select(User).join(RoleGrant, RoleGrant.user_id == User.id).where(
        RoleGrant.center_id == center_id, RoleGrant.role.in_(WRITERS), User.active.is_(True))
        .distinct().order_by(User.name)).all()


@bp.route("/balances")
@login_required
def balances():
    """补休 balances: everyone's of the centre for its managers (and the county), one's own for a clerk."""
    center = access.current_center()
    if center is None:
        abort(403)
    roles = access.roles_in(current_user, center.id)
    if not roles:
        abort(403)
    on = today()
    everyone = bool(roles & CENTRE_VIEW)
    people = _centre_people(center.id) if everyone else [current_user]
    rows = [BalanceRow(u, account(u.id, on)) for u in people]
    mine = account(current_user.id, on) if roles & WRITERS else None
    entries = {}
    if mine is not None and mine.lots:
        ids = [lot.entry_id for lot in mine.lots]
        entries = {e.id: e for e in db.session.scalars(select(ExtendedService).where(ExtendedService.id.in_(ids)))}
    return render_template("extended_hours/balances.html", center=center, rows=rows, everyone=everyone, on=on,
                           mine=mine, entries=entries, hours=hours_text, threshold=threshold_minutes(),
                           months=expires_months(), no_fee=NO_FEE, new_slip=comp_leave_link())


def _month(raw: str | None) -> date:
    try:
        year, month = (int(x) for x in (raw or "").split("-"))
        return date(year, month, 1) if 2000 <= year <= 2100 and 1 <= month <= 12 else None
    except ValueError:
        return None


@bp.route("/ledger")
@bp.route("/ledger.pdf", endpoint="ledger_pdf")
@login_required
def ledger():
    """The month's ledger on paper (第八条): window, clerks, time and minutes, the totals per person,
    and the no-fee rule (第四条)."""
    import printouts
    center = access.current_center()
    if center is None or not access.roles_in(current_user, center.id) & READERS:
        abort(403)
    first = _month(request.args.get("month")) if request.args.get("month") else today().replace(day=1)
    if first is None:
        abort(404)
    last = add_months(first, 1) - timedelta(days=1)
    rows = db.session.scalars(select(ExtendedService).where(
        ExtendedService.center_id == center.id, ExtendedService.voided.is_(False),
        ExtendedService.served_on >= first, ExtendedService.served_on <= last)
        .order_by(ExtendedService.served_on, ExtendedService.start_time, ExtendedService.id)).all()
    totals: dict[str, int] = {}
    for r in rows:
        for h in [r.staff, *(x.staff for x in r.helpers)]:
            if h is not None:
                totals[h.name] = totals.get(h.name, 0) + r.minutes
    ctx = dict(center=center, rows=rows, first=first, totals=sorted(totals.items()), hours=hours_text,
               no_fee=NO_FEE, reasons=REASON_SHORT, asked=dict(REQUESTED_BY_CHOICES),
               page_orientation="landscape")
    if request.endpoint == "extended_hours.ledger_pdf":
        from flask import Response
        return Response(printouts.render_pdf("extended_hours/ledger_print.html", **ctx), mimetype="application/pdf")
    return printouts.render_html("extended_hours/ledger_print.html", **ctx)


def init_app(app) -> None:
    app.jinja_env.globals.update(extended_hours_no_fee=NO_FEE, comp_balance=comp_balance_minutes,
                                  hours_text=hours_text)


from app.features import Feature, HomePanel, Job, MenuLink  # noqa: E402  (the feature declaration closes the module)

FEATURE = Feature(
    "extended_hours", types=("app.extended_hours",), blueprints=[bp], init_app=init_app,
    menu=[MenuLink("extended_hours.balances", "延时服务与补休", WRITERS | CENTRE_VIEW, group="staff"),
          MenuLink("extended_hours.ledger", "延时服务月台账", READERS, group="staff")],
    home_panels=[HomePanel("extended_hours/_home_panel.html", WRITERS)],
    jobs=[Job("comp_leave_expiring", "jobs.extended_hours_jobs:comp_leave_expiring",
              {"day_of_week": "*", "hour": 8, "minute": 50},
              "Tell staff whose extended-hours credit for compensatory leave lapses within 10 working days",
              reminder=True)],
)
