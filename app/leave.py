"""Leave slips (请假条) with the approval chain by length, the A/B cover they schedule, and the live
"who is on which post today" board [000 考勤 §2–4, AB岗 §1–4; 001 五; SPEC §4.8].

- ≤ 1 working day: the deputy director approves; > 1 to 2: the deputy's opinion, then the director;
  > 2: the deputy's and the director's opinions, then the town leader. Nobody approves their own slip.
- An A holder reports a day ahead; a later request is marked (迟报), not refused.
- Leaving the window over 20 minutes needs a short leave with a named substitute [001 五].
- On approval, B (or the named substitute) is scheduled on each of A's posts for the slip's days and
  works A's cases with A's rights (`app.access.acting_for`) until A reports back (销假).

Rules are plain functions (tests walk them across National Day 2026); the record type declares the rest.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from flask import Blueprint, abort, render_template, request
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from sqlalchemy import and_, or_, select

from app import access
from app.extensions import db
from app.records import operations
from app.records.registry import (SUBJECT, Chain, Field, PrintForm, RecordType, Refused, Route, State, Transition,
                                  Workflow, register)
from app import timeutil
from app.timeutil import cn_date
from app.workdays import is_working_day, next_working_day
from models.catalogue import Post
from models.core import ADMIN, AGENT, CLERK, COUNTY, DEPUTY, DIRECTOR, INSPECTOR, LEADER, User
from models.staff import APPROVED_STATES, PENDING_STATES, LeaveSlip, PostCover

KIND_CHOICES = (("personal", "事假"), ("sick", "病假"), ("annual", "年休假"), ("business", "公务外出"),
                ("comp", "补休"), ("short", "短时离开窗口"), ("other", "其他"))
SHORT_LEAVE_FREE_MINUTES = 20     # up to 20 minutes a direction sign is enough [001 五]
STANDING = (*PENDING_STATES, *APPROVED_STATES)   # slips that count: submitted or approved

STAFF = frozenset({CLERK, AGENT, INSPECTOR, DEPUTY, DIRECTOR})
MANAGERS = frozenset({DEPUTY, DIRECTOR, LEADER})
READERS = MANAGERS | {COUNTY, SUBJECT}


# ------------------------------------------------------------------ rules

def working_days_in(start: date, end: date) -> int:
    """Working days from start to end, both included (holidays out, make-up working days in)."""
    if start is None or end is None or end < start:
        return 0
    return sum(1 for n in range((end - start).days + 1) if is_working_day(start + timedelta(days=n)))


def part_day_minutes(slip: LeaveSlip) -> int:
    """A leave within one day, from … to …: its minutes (0 for whole days)."""
    if slip.start_on is None or slip.start_on != slip.end_on or not (slip.start_time and slip.end_time):
        return 0
    start, end = (datetime.combine(slip.start_on, t) for t in (slip.start_time, slip.end_time))
    return max(0, int((end - start).total_seconds() // 60))


def _span(slip) -> tuple[datetime, datetime]:
    """The slip as a stretch of time (a whole day runs to its end)."""
    return (datetime.combine(slip.start_on, slip.start_time or time.min),
            datetime.combine(slip.end_on, slip.end_time or time.max))


def standing_overlaps(staff_id: int, slip: LeaveSlip) -> list[LeaveSlip]:
    """The person's other submitted or approved slips that overlap this one in time."""
    if not (staff_id and slip.start_on and slip.end_on):
        return []
    rows = db.session.scalars(select(LeaveSlip).where(
        LeaveSlip.staff_id == staff_id, LeaveSlip.voided.is_(False), LeaveSlip.state.in_(STANDING),
        LeaveSlip.start_on <= slip.end_on, LeaveSlip.end_on >= slip.start_on,
        LeaveSlip.id != (slip.id or 0))).all()
    start, end = _span(slip)
    return [r for r in rows if _span(r)[0] < end and start < _span(r)[1]]


def a_posts(staff_id: int) -> list[Post]:
    return db.session.scalars(select(Post).where(Post.a_holder_id == staff_id, Post.voided.is_(False))
                              .order_by(Post.id)).all()


def away_days(staff_id: int, start: date, end: date, exclude: int | None = None) -> set[date]:
    """Working days in [start, end] the person is away on a standing whole- or part-day leave."""
    rows = db.session.scalars(select(LeaveSlip).where(
        LeaveSlip.staff_id == staff_id, LeaveSlip.voided.is_(False), LeaveSlip.state.in_(STANDING),
        LeaveSlip.kind != "short", LeaveSlip.start_on <= end, LeaveSlip.end_on >= start,
        LeaveSlip.id != (exclude or 0))).all()
    days = set()
    for r in rows:
        day = max(r.start_on, start)
        while day <= min(r.end_on, end):
            if is_working_day(day):
                days.add(day)
            day += timedelta(days=1)
    return days


def empty_post_days(slip: LeaveSlip) -> list[tuple[Post, list[date]]]:
    """Each post of the person (as A or B) whose other holder is also away on some of the slip's working
    days: nobody would be on it [AB岗 §1]. A post with no other holder is empty on every day."""
    if slip.kind == "short" or not (slip.staff_id and slip.start_on and slip.end_on) or slip.end_on < slip.start_on:
        return []
    mine = {d for d in (slip.start_on + timedelta(days=n) for n in range((slip.end_on - slip.start_on).days + 1))
            if is_working_day(d)}
    posts = db.session.scalars(select(Post).where(
        or_(Post.a_holder_id == slip.staff_id, Post.b_holder_id == slip.staff_id), Post.voided.is_(False))
        .order_by(Post.id)).all()
    out = []
    for post in posts:
        other = post.b_holder_id if post.a_holder_id == slip.staff_id else post.a_holder_id
        if post.a_holder_id == slip.staff_id and slip.substitute_id and slip.substitute_id != other:
            other = slip.substitute_id   # a named substitute stands in instead of B
        empty = mine if other is None else mine & away_days(other, slip.start_on, slip.end_on, exclude=slip.id)
        if empty:
            out.append((post, sorted(empty)))
    return out


def posts_of(staff_id: int | None) -> str:
    """The person's posts in words, for paper: "3号 民政救助 低保审核（A岗）"."""
    if not staff_id:
        return ""
    posts = db.session.scalars(select(Post).where(
        or_(Post.a_holder_id == staff_id, Post.b_holder_id == staff_id), Post.voided.is_(False))
        .order_by(Post.id)).all()
    return "、".join(f"{p.window or ''} {p.name}（{'A' if p.a_holder_id == staff_id else 'B'}岗）".strip()
                    for p in posts)


def stand_in(slip: LeaveSlip) -> str:
    """Who stands in while the person is away: the named substitute, else the B holders of their A posts."""
    if slip.substitute is not None:
        return slip.substitute.name
    return "、".join(dict.fromkeys(f"{p.b_holder.name}（B岗）" for p in a_posts(slip.staff_id) if p.b_holder))


def _days_text(days: list[date]) -> str:
    shown = "、".join(f"{d.month}月{d.day}日" for d in days[:6])
    return shown + (f"等{len(days)}天" if len(days) > 6 else "")


# ------------------------------------------------------------------ record hooks

def _days(ctx) -> int:
    slip = ctx.record
    return working_days_in(slip.start_on, slip.end_on)


def _minutes(ctx) -> int:
    return part_day_minutes(ctx.record)


def _validate(ctx) -> dict:
    slip, errors = ctx.record, {}
    if slip.start_on and slip.end_on and slip.end_on < slip.start_on:
        return {"end_on": "结束日期不能早于开始日期。"}
    if (slip.start_time is None) != (slip.end_time is None):
        errors["end_time" if slip.start_time else "start_time"] = "部分工作日的请假请同时填写开始和结束时间。"
    elif slip.start_time and slip.start_on == slip.end_on and slip.end_time <= slip.start_time:
        errors["end_time"] = "结束时间应晚于开始时间。"
    if slip.kind == "short":
        if slip.start_on != slip.end_on:
            errors["end_on"] = "短时离开窗口应在同一天内。"
        elif not slip.start_time:
            errors.setdefault("start_time", "请填写离开窗口的时间和返回时间。")
        elif slip.minutes > SHORT_LEAVE_FREE_MINUTES and not slip.substitute_id:
            errors["substitute_id"] = "离开窗口超过20分钟，须指定顶岗人。"
    if slip.start_on and slip.end_on and slip.start_on <= slip.end_on and slip.days == 0:
        errors["start_on"] = "所选日期内没有工作日，无需请假。"
    roles = access.roles_in(ctx.user, ctx.center_id) if ctx.user is not None else frozenset()
    if ctx.user is not None and slip.staff_id and slip.staff_id != ctx.user.id and not roles & MANAGERS:
        errors["staff_id"] = "只能为本人请假。"
    clash = standing_overlaps(slip.staff_id, slip)
    if clash:
        c = clash[0]
        errors["start_on"] = (f"与已提交的{c}（{cn_date(c.start_on)}至{cn_date(c.end_on)}）时间重叠，"
                              "请修改日期或先撤回那张请假条。")
    if slip.substitute_id:
        if slip.substitute_id == slip.staff_id:
            errors["substitute_id"] = "顶岗人不能是请假人本人。"
        elif standing_overlaps(slip.substitute_id, slip):
            who = db.session.get(User, slip.substitute_id)
            errors["substitute_id"] = f"顶岗人{who.name if who else ''}在此期间也请假，请另选顶岗人。"
    if slip.kind == "comp" and not errors:
        from app.extended_hours import comp_leave_refusal
        message = comp_leave_refusal(slip.staff_id, slip.days, slip.minutes)
        if message:
            errors["kind"] = message
    return errors


def _warnings(ctx) -> list:
    slip = ctx.record
    out = [f"{post.name}：{_days_text(days)}A、B岗均不在岗（空岗），请另行安排人员。"
           for post, days in empty_post_days(slip)]
    if slip.kind == "short" and 0 < slip.minutes <= SHORT_LEAVE_FREE_MINUTES:
        out.append("离开窗口20分钟以内，摆放去向牌即可，可不办理请假。")
    return out


def _flags(slip) -> list:
    out = []
    if slip.late_request:
        out.append(("未提前一天报告", "warn"))
    if slip.back_on and slip.back_on > next_working_day(slip.end_on + timedelta(days=1)):
        out.append(("逾期销假", "bad"))
    return out


def _on_submit(ctx) -> None:
    """An A holder reports a day ahead [AB岗 §3]; a later request is marked, not refused."""
    slip = ctx.record
    slip.late_request = bool(slip.kind != "short" and slip.start_on and ctx.today >= slip.start_on
                             and a_posts(slip.staff_id))


def _on_approved(ctx) -> None:
    """Schedule B (or the named substitute) on each of A's posts for the slip's days, and tell them."""
    from app.notifications import notify
    slip = ctx.record
    for post in a_posts(slip.staff_id):
        cover_id = slip.substitute_id or post.b_holder_id
        db.session.add(PostCover(center_id=slip.center_id, post_id=post.id, absent_id=slip.staff_id,
                                 cover_id=cover_id, start_on=slip.start_on, end_on=slip.end_on,
                                 leave_slip_id=slip.id))
        if cover_id:
            notify(cover_id, f"顶岗安排：{post.name}", key=f"cover-{slip.id}-{post.id}",
                   body=f"{slip.staff.name if slip.staff else ''}请假，{cn_date(slip.start_on)}至{cn_date(slip.end_on)}"
                        f"由你在{post.name}顶岗，并办理其名下的办件。",
                   link=f"/r/leave-slips/{slip.id}", center_id=slip.center_id)
    _recount_attendance(slip, slip.end_on, ctx.today)


def _recount_attendance(slip: LeaveSlip, last: date, today: date) -> None:
    """Days already imported or signed are classified again: a leave approved afterwards excuses them."""
    from app.attendance import recount
    if slip.start_on <= today:
        recount(slip.center_id, slip.start_on, min(last, today))


def _back(ctx) -> None:
    """销假: the covers end the day before the person is back (early or late)."""
    slip = ctx.record
    if slip.back_on < slip.start_on:
        raise Refused("销假日期不能早于请假开始日期。", field="back_on")
    if slip.back_on > ctx.today:
        raise Refused("销假日期不能晚于今天：回到岗位后再销假。", field="back_on")
    last = slip.back_on - timedelta(days=1)
    for cover in db.session.scalars(select(PostCover).where(PostCover.leave_slip_id == slip.id)):
        if last < cover.start_on:
            db.session.delete(cover)
        else:
            cover.end_on = last
    _recount_attendance(slip, max(slip.end_on, slip.back_on), ctx.today)


def _prefill(ctx) -> dict:
    user = ctx.user
    start = next_working_day(ctx.today + timedelta(days=1))
    posts = a_posts(user.id)
    kind = ctx.values.get("kind") if ctx.values.get("kind") in dict(KIND_CHOICES) else "personal"
    data = {"staff_id": user.id, "kind": kind, "start_on": start, "end_on": start, "phone": user.phone,
            "substitute_id": posts[0].b_holder_id if posts else None}
    if kind == "short":
        data.update(start_on=ctx.today, end_on=ctx.today)
    return data


def _after_create(ctx) -> None:
    """The form's "save and submit" button: one click from writing the slip to the approver's list."""
    if ctx.values.get("then") == "submit":
        operations.transition(LEAVE_SLIPS, ctx.record, "submit", ctx.user)


def _sample(center):
    from models.core import RoleGrant
    staff = db.session.scalar(select(RoleGrant.user_id).where(RoleGrant.center_id == center.id,
                                                              RoleGrant.role == CLERK))
    slip = LeaveSlip(center_id=center.id, state="draft", staff_id=staff, kind="personal", start_on=date(2026, 12, 7),
                     end_on=date(2026, 12, 7), days=1, reason="家中有事")
    db.session.add(slip)
    db.session.flush()
    return slip


LEAVE_SLIPS = register(RecordType(
    key="leave-slips", model=LeaveSlip, title="请假条", title_plural="请假条", nav_group="staff",
    subject="staff_id", default_sort="-start_on",
    permissions={"read": READERS, "create": STAFF, "edit": frozenset({SUBJECT}), "void": frozenset({DIRECTOR}),
                 "print": MANAGERS | {SUBJECT}, "export": frozenset({DEPUTY, DIRECTOR})},
    workflow=Workflow(
        initial="draft",
        states=[State("draft", "草稿", rights={"edit": {SUBJECT}}),
                State("returned", "退回修改", "warn", rights={"edit": {SUBJECT}}),
                State("approved", "已批准", "ok"),
                State("back", "已销假", "ok", final=True),
                State("rejected", "未批准", "bad", final=True),
                State("withdrawn", "已撤回", "neutral", final=True)],
        transitions=[
            Transition("report_back", "销假", ("approved",), "back", frozenset({SUBJECT, DEPUTY, DIRECTOR}),
                       requires=("back_on",), on_apply=_back, worklist=False),
            Transition("withdraw", "撤回", ("draft", "returned", *PENDING_STATES), "withdrawn",
                       frozenset({SUBJECT}), css="secondary", worklist=False)],   # before approval: no cover yet
        chains=[Chain(by="days", routes=(Route(1, (DEPUTY,)), Route(2, (DEPUTY, DIRECTOR)),
                                         Route(None, (DEPUTY, DIRECTOR, LEADER))),
                      submit_from=("draft", "returned"), submit_roles=frozenset({SUBJECT}),
                      approved="approved", rejected="rejected", returned="returned",
                      on_submit=_on_submit, on_approved=_on_approved)]),
    fields=[
        Field("staff_id", "请假人", kind="user", required=True, in_list=True, filter=True),
        Field("kind", "请假类别", choices=KIND_CHOICES, required=True, in_list=True, filter=True),
        Field("start_on", "开始日期", required=True, in_list=True, filter=True),
        Field("end_on", "结束日期", required=True, in_list=True),
        Field("start_time", "开始时间", help="请假不足一天或短时离开窗口时填写"),
        Field("end_time", "结束时间"),
        Field("days", "工作日天数", compute=_days, depends=("start_on", "end_on"), in_list=True),
        Field("minutes", "时长（分钟）", compute=_minutes, depends=("start_on", "end_on", "start_time", "end_time")),
        Field("reason", "请假事由", required=True, max_length=500),
        Field("phone", "请假期间联系电话", kind="phone", required=True),
        Field("substitute_id", "顶岗人", kind="user",
              help="默认为本人所在岗位的B岗；离开窗口超过20分钟必须指定"),
        Field("late_request", "未提前一天报告", in_form=False),
        Field("back_on", "销假日期", in_form=False),
    ],
    validate=_validate, warnings=_warnings, flags=_flags, prefill=_prefill, after_create=_after_create,
    options=("then",), sample=_sample, template_form="leave/form.html",
    prints=[PrintForm("slip", "请假条", "print/leave_slip.html")],
))


# ------------------------------------------------------------------ who is on which post

@dataclass
class PostToday:
    post: Post
    on_duty: User | None       # who works the post today
    covering: bool             # that person stands in for A
    away: User | None          # A, when away
    note: str = ""

    @property
    def empty(self) -> bool:
        return self.on_duty is None


def on_duty(center_id: int, day: date) -> list[PostToday]:
    """Every post of the centre today: A at work, B (or a substitute) covering A's leave, or empty."""
    posts = db.session.scalars(select(Post).where(Post.center_id == center_id, Post.voided.is_(False))
                               .order_by(Post.window_id, Post.id)).all()
    covers = {c.post_id: c for c in db.session.scalars(select(PostCover).where(
        PostCover.center_id == center_id, PostCover.start_on <= day, PostCover.end_on >= day))}
    away = {s.staff_id: s for s in db.session.scalars(select(LeaveSlip).where(
        LeaveSlip.center_id == center_id, LeaveSlip.voided.is_(False), LeaveSlip.state.in_(APPROVED_STATES),
        LeaveSlip.kind != "short", LeaveSlip.start_on <= day, LeaveSlip.end_on >= day,
        or_(LeaveSlip.back_on.is_(None), LeaveSlip.back_on > day)))}
    rows = []
    for post in posts:
        cover = covers.get(post.id)
        a_away = post.a_holder_id in away or cover is not None
        if post.a_holder_id and not a_away:
            rows.append(PostToday(post, post.a_holder, False, None))
            continue
        stand_in = cover.cover if cover is not None else post.b_holder
        if stand_in is not None and stand_in.id in away:
            stand_in = None
        note = ""
        if a_away and post.a_holder_id in away:
            slip = away[post.a_holder_id]
            note = f"{dict(KIND_CHOICES).get(slip.kind, '')}至{cn_date(slip.end_on)}"
        rows.append(PostToday(post, stand_in, stand_in is not None, post.a_holder if a_away else None, note))
    return rows


bp = Blueprint("leave", __name__)
BOARD_ROLES = frozenset({CLERK, AGENT, INSPECTOR, DEPUTY, DIRECTOR, LEADER, ADMIN})


@bp.route("/staff/on-duty")
@login_required
def board():
    center_id = access.current_center_id()
    if not access.roles_in(current_user, center_id) & (BOARD_ROLES | {COUNTY}):
        abort(403)
    day = timeutil.today()
    rows = on_duty(center_id, day)
    template = "leave/_board.html" if request.headers.get("HX-Request") else "leave/board.html"
    return render_template(template, rows=rows, day=day, working=is_working_day(day),
                           center=access.current_center(), public=False)


@bp.route("/p/<code>/on-duty")
def public_board(code):
    """The hall screen: every post with who is on it today (names as on the window's name plate)."""
    from app.public import _center_or_404
    center = _center_or_404(code)
    day = timeutil.today()
    rows = on_duty(center.id, day)
    template = "leave/_board.html" if request.headers.get("HX-Request") else "leave/public_board.html"
    return render_template(template, rows=rows, day=day, working=is_working_day(day), center=center, public=True)


from app.features import Feature, Job, MenuLink  # noqa: E402  (the feature declaration closes the module)

FEATURE = Feature(
    "leave", types=("app.leave",), blueprints=[bp],
    init_app=lambda app: app.jinja_env.globals.update(posts_of=posts_of, stand_in=stand_in),
    menu=[MenuLink("leave.board", "今日在岗", BOARD_ROLES | {COUNTY}, group="staff")],
    jobs=[Job("leave_waiting", "jobs.leave_jobs:slips_waiting", {"day_of_week": "*", "hour": 9, "minute": 0},
              "Tell approvers about leave slips waiting for them", reminder=True),
          Job("cover_tomorrow", "jobs.leave_jobs:cover_reminders", {"day_of_week": "*", "hour": 16, "minute": 0},
              "Remind B holders the working day before they cover an A post", reminder=True)])
