"""Appointments (预约服务) [000 预约服务制; 003 7.1.1: 办理时段精准预约; SPEC §4.6].

- **Slot rules** (`appointment-rules`, kept by the director or the administrator): the times a window — or
  one matter of it — takes appointments (a morning and an afternoon period), the slot length, the places per
  slot and how many working days ahead bookings open. Slots are computed from the rule on working days only
  (holidays closed, make-up working days open); nothing about a slot is stored but its bookings.
- **Booking** from the public centre page on a phone, without login: matter or window → day → a slot with
  places left → name and phone → a short code. The places are counted in SQL under a lock on the rule, in
  the booking's own transaction, so two citizens racing for the last place never both get it.
- **Cancel or reschedule** with the code and the phone.
- **Check-in** at the entrance (the citizen or the clerk types the code): a queue ticket with the
  appointment priority (called first), once — a second check-in shows the same ticket.
- **No-shows**: the clerk marks one, and a job marks the bookings nobody checked in once their slot ended.
- **急事急办** [第五条]: a citizen may flag a booking urgent with the reason; urgent ones head the clerk's list.
- **Holiday duty** (`holiday-duties`) [第四条]: who is on duty on a non-working day and the phone to call;
  the booking page shows it when the centre is closed.
- **Reminders**: at 8:00 on working days each window's clerks (its post holders, else the centre's clerks)
  are told how many appointments they have today, once a day.
"""
from __future__ import annotations

import secrets
from collections import defaultdict, deque
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import exc, func, select

from app import access, timeutil
from app.extensions import db
from app.records.registry import Field, RecordType, Refused, State, Transition, Workflow, register
from models.appointment import ACTIVE_STATES, Appointment, AppointmentRule, HolidayDuty
from models.catalogue import Matter, Post, Window
from models.core import ADMIN, AGENT, CLERK, COUNTY, DEPUTY, DIRECTOR, LEADER, Center, RoleGrant, User

KEEPERS = frozenset({DIRECTOR, ADMIN})                       # the slot rules
DUTY_KEEPERS = frozenset({DEPUTY, DIRECTOR, ADMIN})          # the holiday duty roster
CALLERS = frozenset({CLERK, AGENT, DEPUTY, DIRECTOR})        # check in, mark no-show (as the queue's callers)
VIEWERS = CALLERS | frozenset({LEADER, ADMIN})               # the day's appointments page
READERS = access.STAFF | frozenset({COUNTY})

CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"            # no 0/O, 1/I/L: read aloud and typed on a phone
CODE_LENGTH = 8
BOOK_LIMIT, CHECKIN_LIMIT, FIND_LIMIT, LIMIT_SECONDS = 10, 30, 10, 10 * 60   # per client address (per process)


# ------------------------------------------------------------------ slots (pure)

@dataclass(frozen=True)
class Slot:
    day: date
    start: time
    end: time

    @property
    def label(self) -> str:
        return f"{self.start:%H:%M}–{self.end:%H:%M}"


def periods(rule) -> list[tuple[time, time]]:
    """The rule's periods of the day (morning, afternoon) that are set and not empty."""
    return [(a, b) for a, b in ((rule.am_start, rule.am_end), (rule.pm_start, rule.pm_end))
            if a is not None and b is not None and a < b]


def day_slots(rule, day: date) -> list[Slot]:
    """The slots of one day by the rule's clock, working day or not: each period cut into whole slots."""
    length = timedelta(minutes=max(int(rule.slot_minutes or 0), 1))
    out = []
    for a, b in periods(rule):
        t, end = datetime.combine(day, a), datetime.combine(day, b)
        while t + length <= end:
            out.append(Slot(day, t.time(), (t + length).time()))
            t += length
    return out


def slots(rule, start: date, days: int, is_working=None) -> list[Slot]:
    """Every slot of the first `days` working days on or after `start` (holidays skipped, make-up working
    days included). Computed, never stored."""
    if is_working is None:
        from app.workdays import is_working_day as is_working
    out, day, found = [], start, 0
    for _step in range(days * 7 + 40):       # a long holiday is never longer than this
        if found >= days:
            break
        if is_working(day):
            out.extend(day_slots(rule, day))
            found += 1
        day += timedelta(days=1)
    return out


def bookable_days(rule, today: date, is_working=None) -> list[date]:
    """Today (when a working day) and the next `days_ahead` working days."""
    if is_working is None:
        from app.workdays import is_working_day as is_working
    count = max(int(rule.days_ahead or 0), 0) + (1 if is_working(today) else 0)
    return sorted({s.day for s in slots(rule, today, count, is_working)})


# ------------------------------------------------------------------ rules of booking

class Refusal(Exception):
    """A booking, change or check-in refused: the message is shown beside `field`."""

    def __init__(self, message, field: str = ""):
        super().__init__(str(message))
        self.field = field


@dataclass(frozen=True)
class Offer:
    """What a citizen chooses first: a matter (booked through its own rule or its window's) or a window."""
    key: str
    label: str
    rule: AppointmentRule
    matter: Matter | None
    window: Window | None


def live_rules(center_id: int) -> list[AppointmentRule]:
    return db.session.scalars(
        select(AppointmentRule).join(Window, Window.id == AppointmentRule.window_id)
        .where(AppointmentRule.center_id == center_id, AppointmentRule.voided.is_(False), Window.voided.is_(False))
        .order_by(Window.number, AppointmentRule.id)).all()


def offers(center_id: int) -> list[Offer]:
    """Per window with a rule: the window itself (any of its matters), then its matters; a matter with a
    rule of its own is booked through that one."""
    rules = live_rules(center_id)
    own = {r.matter_id: r for r in rules if r.matter_id}
    out: list[Offer] = []
    for rule in rules:
        if rule.matter_id:
            if rule.matter is not None and not rule.matter.voided:
                out.append(Offer(f"m{rule.matter_id}", rule.matter.name, rule, rule.matter, rule.window))
            continue
        out.append(Offer(f"w{rule.window_id}", str(rule.window), rule, None, rule.window))
        matters = db.session.scalars(select(Matter).where(
            Matter.center_id == center_id, Matter.window_id == rule.window_id, Matter.voided.is_(False))
            .order_by(Matter.name)).all()
        out.extend(Offer(f"m{m.id}", m.name, rule, m, rule.window) for m in matters if m.id not in own)
    seen, unique = set(), []
    for o in out:
        if o.key not in seen:
            seen.add(o.key)
            unique.append(o)
    return unique


def offer_of(center_id: int, key: str) -> Offer | None:
    return next((o for o in offers(center_id) if o.key == key), None) if key else None


def taken(rule_id: int, day: date, exclude_id: int | None = None) -> dict[time, int]:
    """Places taken in each slot of a day (booked or checked in), counted in SQL."""
    query = (select(Appointment.start, func.count()).where(
        Appointment.rule_id == rule_id, Appointment.day == day, Appointment.state.in_(ACTIVE_STATES),
        Appointment.voided.is_(False)).group_by(Appointment.start))
    if exclude_id:
        query = query.where(Appointment.id != exclude_id)
    return dict(db.session.execute(query).all())


def open_slots(rule, day: date, at: datetime) -> list[tuple[Slot, int]]:
    """The day's slots still to come, each with the places left (0: full)."""
    counts = taken(rule.id, day)
    return [(s, max(rule.capacity - counts.get(s.start, 0), 0)) for s in day_slots(rule, day)
            if datetime.combine(day, s.start) > at]


def check_slot(rule, day: date | None, start: time | None, at: datetime) -> Slot:
    """The slot asked for, if the rule offers it on that day and it is still to come; else a Refusal."""
    from app.workdays import is_working_day
    if day is None:
        raise Refusal(_("Choose a day."), "day")
    if not is_working_day(day):
        raise Refusal(_("The centre is closed on %(day)s (a holiday or rest day): choose a working day.",
                        day=day.isoformat()), "day")
    if day < at.date():
        raise Refusal(_("This day has passed: choose another."), "day")
    if day not in bookable_days(rule, at.date()):
        raise Refusal(_("Bookings are open for the next %(n)s working days only.", n=rule.days_ahead), "day")
    if start is None:
        raise Refusal(_("Choose a time."), "slot")
    slot = next((s for s in day_slots(rule, day) if s.start == start), None)
    if slot is None:
        raise Refusal(_("%(time)s is not an appointment time of this window: choose one of the times shown.",
                        time=start.strftime("%H:%M")), "slot")
    if datetime.combine(day, slot.start) <= at:
        raise Refusal(_("This time has passed: choose a later one."), "slot")
    return slot


def _lock(rule) -> None:
    """Bookings of one rule queue up here: PostgreSQL locks the rule's row until the transaction ends;
    SQLite's writing transactions are serialised already (BEGIN IMMEDIATE, app.database)."""
    db.session.execute(select(AppointmentRule.id).where(AppointmentRule.id == rule.id).with_for_update())


def _claim(rule, slot: Slot, phone: str, exclude_id: int | None = None) -> None:
    """Under the lock: the same phone holds no place in the slot, and a place is left."""
    same = select(func.count()).select_from(Appointment).where(
        Appointment.rule_id == rule.id, Appointment.day == slot.day, Appointment.start == slot.start,
        Appointment.state.in_(ACTIVE_STATES), Appointment.voided.is_(False))
    if exclude_id:
        same = same.where(Appointment.id != exclude_id)
    if db.session.scalar(same.where(Appointment.phone == phone)):
        raise Refusal(_("This phone number already has an appointment at this time."), "phone")
    if db.session.scalar(same) >= rule.capacity:
        raise Refusal(_("%(slot)s is full: choose another time.", slot=slot.label), "slot")


def new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _i in range(CODE_LENGTH))


def normal_code(text: str) -> str:
    return "".join(ch for ch in (text or "").upper() if ch.isalnum())[:20]


def book(center_id: int, offer: Offer, day: date | None, start: time | None, *, name: str, phone: str,
         urgent: bool = False, reason: str = "", at: datetime | None = None) -> Appointment:
    """A new booking, or a Refusal naming the field; nothing is saved when refused."""
    from app.records.forms import PHONE
    at = at or timeutil.now()
    rule = offer.rule
    name, phone, reason = (name or "").strip(), (phone or "").strip().replace(" ", ""), (reason or "").strip()
    if not name:
        raise Refusal(_("Enter your name."), "name")
    if len(name) > 50:
        raise Refusal(_("Too long."), "name")
    if not PHONE.match(phone):
        raise Refusal(_("Enter a mobile number (11 digits) or a landline such as 0737-1234567."), "phone")
    if urgent and not reason:
        raise Refusal(_("Say why the matter is urgent."), "reason")
    if len(reason) > 300:
        raise Refusal(_("Too long."), "reason")
    slot = check_slot(rule, day, start, at)
    _lock(rule)
    _claim(rule, slot, phone)
    for _attempt in range(5):
        appointment = Appointment(
            center_id=center_id, state="booked", code=new_code(), rule_id=rule.id, window_id=rule.window_id,
            matter_id=offer.matter.id if offer.matter else rule.matter_id, day=slot.day, start=slot.start,
            end=slot.end, name=name, phone=phone, urgent=bool(urgent), urgent_reason=reason if urgent else "")
        try:
            with db.session.begin_nested():
                db.session.add(appointment)
        except exc.IntegrityError:       # the code is taken: another one
            continue
        return appointment
    raise Refusal(_("Please try again."), "slot")


def reschedule(appointment: Appointment, day: date | None, start: time | None, at: datetime | None = None) -> None:
    """Move a booking to another slot of the same rule: the same checks as a new booking."""
    at = at or timeutil.now()
    if appointment.state != "booked":
        raise Refusal(_("Only a booking not yet checked in can be changed."), "slot")
    rule = appointment.rule
    if rule is None or rule.voided:
        raise Refusal(_("This window takes no appointments any more: cancel the booking."), "slot")
    slot = check_slot(rule, day, start, at)
    if (slot.day, slot.start) == (appointment.day, appointment.start):
        raise Refusal(_("This is the time you have already booked."), "slot")
    _lock(rule)
    _claim(rule, slot, appointment.phone, exclude_id=appointment.id)
    appointment.day, appointment.start, appointment.end = slot.day, slot.start, slot.end
    appointment.reschedules += 1


def cancel(appointment: Appointment, at: datetime | None = None) -> None:
    if appointment.state != "booked":
        raise Refusal(_("Only a booking not yet checked in can be cancelled."), "")
    appointment.state, appointment.cancelled_at = "cancelled", at or timeutil.now()


def find(center_id: int, code: str, phone: str | None = None) -> Appointment | None:
    """The booking with this code at this centre (and this phone, when given)."""
    code = normal_code(code)
    if not code:
        return None
    found = db.session.scalar(select(Appointment).where(
        Appointment.center_id == center_id, Appointment.code == code, Appointment.voided.is_(False)))
    if found is not None and phone is not None and found.phone != (phone or "").strip().replace(" ", ""):
        return None
    return found


def check_in(appointment: Appointment, at: datetime | None = None):
    """The booking's queue ticket, with the appointment priority: made once, the same one on a second try."""
    from models.queue import QueueTicket
    at = at or timeutil.now()
    appointment = db.session.execute(select(Appointment).where(Appointment.id == appointment.id)
                                     .with_for_update().execution_options(populate_existing=True)).scalar_one()
    if appointment.state == "checked_in" and appointment.ticket_id:
        return db.session.get(QueueTicket, appointment.ticket_id)
    if appointment.state == "cancelled":
        raise Refusal(_("This booking was cancelled: take an ordinary number."), "code")
    if appointment.state == "no_show":
        raise Refusal(_("This booking was marked as not attended: take an ordinary number."), "code")
    ticket = _ticket_for(appointment, at)
    appointment.state = "checked_in"
    return ticket


def _ticket_for(appointment: Appointment, at: datetime):
    """On the booking's day: a queue number with the appointment priority, kept on the booking."""
    from app.queue import QueueRefused, take_ticket
    if appointment.day != at.date():
        raise Refusal(_("This booking is for %(day)s: check in on that day.", day=appointment.day.isoformat()), "code")
    try:
        ticket = take_ticket(appointment.center_id, window_id=appointment.window_id, matter_id=appointment.matter_id,
                             priority="appointment", appointment_id=appointment.id, at=at)
    except QueueRefused as refused:
        raise Refusal(str(refused), "code") from None
    appointment.checked_in_at, appointment.ticket_id = at, ticket.id
    return ticket


def mark_no_show(appointment: Appointment, user=None, at: datetime | None = None) -> None:
    if appointment.state != "booked":
        raise Refusal(_("Only a booking not yet checked in can be marked as not attended."), "")
    appointment.state, appointment.no_show_at = "no_show", at or timeutil.now()
    appointment.no_show_by_id = getattr(user, "id", None)


def mark_no_shows(at: datetime) -> int:
    """The job: bookings nobody checked in by the end of their slot are no-shows."""
    rows = db.session.scalars(select(Appointment).where(
        Appointment.state == "booked", Appointment.voided.is_(False), Appointment.day <= at.date())).all()
    done = 0
    for a in rows:
        if a.day < at.date() or (a.end is not None and a.end <= at.time()):
            a.state, a.no_show_at = "no_show", at
            done += 1
    return done


def day_list(center_id: int, day: date) -> list[tuple[Window | None, list[Appointment]]]:
    """The day's appointments per window: urgent ones first, then by time."""
    rows = db.session.scalars(select(Appointment).where(
        Appointment.center_id == center_id, Appointment.day == day, Appointment.voided.is_(False))
        .order_by(Appointment.urgent.desc(), Appointment.start, Appointment.id)).all()
    groups: dict = {}
    for a in rows:
        groups.setdefault(a.window_id, (a.window, []))[1].append(a)
    return sorted(groups.values(), key=lambda g: (g[0] is None, g[0].number if g[0] else 0))


def window_clerks(window: Window) -> set[int]:
    """Who serves a window: the A and B holders of its posts, else the centre's clerks."""
    holders = db.session.execute(select(Post.a_holder_id, Post.b_holder_id).where(
        Post.window_id == window.id, Post.center_id == window.center_id, Post.voided.is_(False))).all()
    people = {uid for row in holders for uid in row if uid}
    if people:
        people = set(db.session.scalars(select(User.id).where(User.id.in_(people), User.active.is_(True))))
    if not people:
        people = set(db.session.scalars(select(User.id).join(RoleGrant, RoleGrant.user_id == User.id).where(
            RoleGrant.center_id == window.center_id, RoleGrant.role == CLERK, User.active.is_(True))))
    return people


def remind_clerks(at: datetime) -> int:
    """Each clerk is told once a day how many appointments their windows have today."""
    from app.notifications import notify
    from app.workdays import is_working_day
    day = at.date()
    if not is_working_day(day):
        return 0
    counts = db.session.execute(select(Appointment.center_id, Appointment.window_id, func.count()).where(
        Appointment.day == day, Appointment.state.in_(ACTIVE_STATES), Appointment.voided.is_(False),
        Appointment.window_id.is_not(None)).group_by(Appointment.center_id, Appointment.window_id)).all()
    told: dict[tuple[int, int], list[tuple[Window, int]]] = defaultdict(list)
    for center_id, window_id, n in counts:
        window = db.session.get(Window, window_id)
        if window is None:
            continue
        for uid in window_clerks(window):
            told[(uid, center_id)].append((window, n))
    sent = 0
    for (uid, center_id), items in told.items():
        total = sum(n for _w, n in items)
        body = "；".join(f"{w}：{n}个" for w, n in sorted(items, key=lambda i: i[0].number))
        sent += notify(uid, f"今日预约 {total} 个", key=f"appointments-today:{day.isoformat()}:{center_id}",
                       body=body, link=f"/appointments/?day={day.isoformat()}", center_id=center_id)
    return sent


def duty_on(center_id: int, day: date) -> list[HolidayDuty]:
    return db.session.scalars(select(HolidayDuty).where(
        HolidayDuty.center_id == center_id, HolidayDuty.day == day, HolidayDuty.voided.is_(False))
        .order_by(HolidayDuty.id)).all()


# ------------------------------------------------------------------ record types

def _validate_rule(ctx) -> dict:
    r, errors = ctx.record, {}
    if r.matter_id:
        matter = db.session.get(Matter, r.matter_id)
        if matter is not None and matter.window_id and r.window_id and matter.window_id != r.window_id:
            errors["matter_id"] = _l("This matter is handled at another window.")
        elif matter is not None and not r.window_id:
            r.window_id = matter.window_id
    if not r.window_id:
        errors["window_id"] = _l("Choose the window that takes the appointments.")
    for a, b in (("am_start", "am_end"), ("pm_start", "pm_end")):
        start, end = getattr(r, a), getattr(r, b)
        if (start is None) != (end is None):
            errors[b if start is not None else a] = _l("Give both the start and the end of the period.")
        elif start is not None and start >= end:
            errors[b] = _l("The end must be after the start.")
    if not errors and not day_slots(r, date(2026, 1, 5)):
        errors["am_start"] = _l("The periods hold no whole slot: give longer periods or shorter slots.")
    if r.am_end and r.pm_start and r.am_start and r.pm_end and r.pm_start < r.am_end:
        errors["pm_start"] = _l("The afternoon period starts after the morning one ends.")
    if not errors and r.window_id:
        same = select(AppointmentRule.id).where(
            AppointmentRule.center_id == r.center_id, AppointmentRule.voided.is_(False),
            AppointmentRule.window_id == r.window_id, AppointmentRule.id != (r.id or 0),
            AppointmentRule.matter_id.is_(None) if not r.matter_id else AppointmentRule.matter_id == r.matter_id)
        if db.session.scalar(same.limit(1)) is not None:
            errors["matter_id" if r.matter_id else "window_id"] = _l("There is already a rule for this; change that one.")
    return errors


def _sample_window(center) -> Window:
    window = db.session.scalar(select(Window).where(Window.center_id == center.id, Window.voided.is_(False)).limit(1))
    if window is None:
        window = Window(center_id=center.id, number=97, name="综合受理")
        db.session.add(window)
        db.session.flush()
    return window


def _sample_rule(center):
    window = _sample_window(center)
    rule = db.session.scalar(select(AppointmentRule).where(AppointmentRule.center_id == center.id,
                                                           AppointmentRule.window_id == window.id,
                                                           AppointmentRule.matter_id.is_(None),
                                                           AppointmentRule.voided.is_(False)))
    if rule is None:
        rule = AppointmentRule(center_id=center.id, window_id=window.id, am_start=time(9), am_end=time(11, 30),
                               pm_start=time(14, 30), pm_end=time(17), slot_minutes=30, capacity=3, days_ahead=5)
        db.session.add(rule)
        db.session.flush()
    return rule


def _sample_appointment(center):
    rule = _sample_rule(center)
    record = Appointment(center_id=center.id, state="booked", code=new_code(), rule_id=rule.id,
                         window_id=rule.window_id, day=date(2026, 12, 1), start=time(9), end=time(9, 30),
                         name="李梅", phone="13912345678")
    db.session.add(record)
    db.session.flush()
    return record


def _validate_duty(ctx) -> dict:
    from app.workdays import is_working_day
    d = ctx.record
    if d.day is not None and is_working_day(d.day):
        return {"day": _l("%(day)s is a working day: the duty roster is for holidays and rest days.",
                          day=d.day.isoformat())}
    return {}


def _sample_duty(center):
    from models.core import RoleGrant as Grant
    staff = db.session.scalar(select(Grant.user_id).where(Grant.center_id == center.id, Grant.role == CLERK))
    record = HolidayDuty(center_id=center.id, day=date(2026, 10, 3), staff_id=staff, phone="13912345678")
    db.session.add(record)
    db.session.flush()
    return record


RULES = register(RecordType(
    key="appointment-rules", model=AppointmentRule, title=_l("Appointment rule"),
    title_plural=_l("Appointment rules"), nav_group="service", default_sort="window_id",
    permissions={"read": READERS, "create": KEEPERS, "edit": KEEPERS, "void": KEEPERS, "print": frozenset(),
                 "export": KEEPERS | {DEPUTY, COUNTY}},
    fields=[
        Field("window_id", _l("Window"), ref=Window, required=True, in_list=True, filter=True),
        Field("matter_id", _l("Matter"), ref=Matter, in_list=True,
              help=_l("Blank: the rule is for the whole window.")),
        Field("am_start", _l("Morning from"), kind="time", in_list=True),
        Field("am_end", _l("Morning until"), kind="time", in_list=True),
        Field("pm_start", _l("Afternoon from"), kind="time", in_list=True),
        Field("pm_end", _l("Afternoon until"), kind="time", in_list=True),
        Field("slot_minutes", _l("Slot length (minutes)"), required=True, min=5, max=240, in_list=True),
        Field("capacity", _l("Places per slot"), required=True, min=1, max=100, in_list=True),
        Field("days_ahead", _l("Bookable working days ahead"), required=True, min=1, max=30, in_list=True),
        Field("note", _l("Note"), kind="text"),
    ],
    validate=_validate_rule,
    prefill=lambda ctx: {"am_start": time(9), "am_end": time(11, 30), "pm_start": time(14, 30), "pm_end": time(17),
                         "slot_minutes": 30, "capacity": 3, "days_ahead": 5},
    sample=_sample_rule,
))

APPOINTMENT_STATE_LIST = [
    State("booked", _l("Booked"), "info"),
    State("checked_in", _l("Checked in"), "ok", final=True),
    State("no_show", _l("Did not come"), "bad", final=True),
    State("cancelled", _l("Cancelled"), "neutral", final=True),
]

def _refused(func):
    """A step's hook: our Refusal as the engine's Refused (shown on the step's page)."""
    def hook(ctx):
        try:
            func(ctx.record, ctx)
        except Refusal as refused:
            raise Refused(str(refused)) from None
    return hook


def _on_check_in(a, ctx):
    _ticket_for(a, timeutil.now())


def _on_no_show(a, ctx):
    a.no_show_at, a.no_show_by_id = timeutil.now(), getattr(ctx.user, "id", None)


def _on_cancel(a, ctx):
    a.cancelled_at = timeutil.now()


APPOINTMENTS = register(RecordType(
    key="appointments", model=Appointment, title=_l("Appointment"), title_plural=_l("Appointments"),
    nav_group="service", default_sort="-day",
    # Made by citizens on the public page; changed only by its own steps (check-in, no-show, cancel).
    permissions={"read": READERS, "create": frozenset(), "edit": frozenset(), "void": KEEPERS,
                 "print": frozenset(), "export": KEEPERS | {DEPUTY, COUNTY}},
    workflow=Workflow(states=APPOINTMENT_STATE_LIST, initial="booked", transitions=[
        Transition("check_in", _l("Check in"), ("booked",), "checked_in", CALLERS,
                   on_apply=_refused(_on_check_in), worklist=False),
        Transition("no_show", _l("Mark no-show"), ("booked",), "no_show", CALLERS,
                   on_apply=_refused(_on_no_show), worklist=False, css="danger"),
        Transition("cancel", _l("Cancel the booking"), ("booked",), "cancelled", CALLERS,
                   on_apply=_refused(_on_cancel), worklist=False, css="danger")]),
    fields=[
        Field("code", _l("Booking code"), in_list=True, search="prefix"),
        Field("day", _l("Day"), in_list=True, filter=True),
        Field("start", _l("Time"), kind="time", in_list=True),
        Field("window_id", _l("Window"), ref=Window, in_list=True, filter=True),
        Field("matter_id", _l("Matter"), ref=Matter, in_list=True),
        Field("name", _l("Name"), in_list=True, search=True),
        Field("phone", _l("Phone"), kind="phone", in_list=True),
        Field("urgent", _l("Urgent (急事急办)"), in_list=True, filter=True),
        Field("urgent_reason", _l("Why urgent")),
        Field("checked_in_at", _l("Checked in at")),
        Field("no_show_at", _l("Marked not attended at")),
        Field("cancelled_at", _l("Cancelled at")),
    ],
    sample=_sample_appointment,
))

DUTIES = register(RecordType(
    key="holiday-duties", model=HolidayDuty, title=_l("Holiday duty"), title_plural=_l("Holiday duty roster"),
    nav_group="service", default_sort="-day",
    permissions={"read": READERS, "create": DUTY_KEEPERS, "edit": DUTY_KEEPERS, "void": DUTY_KEEPERS,
                 "print": frozenset(), "export": DUTY_KEEPERS | {COUNTY}},
    fields=[
        Field("day", _l("Day"), required=True, in_list=True, filter=True,
              help=_l("A holiday or rest day: the public booking page shows who is on duty then.")),
        Field("staff_id", _l("Staff on duty"), kind="user", required=True, in_list=True, filter=True),
        Field("phone", _l("Duty phone"), kind="phone", required=True, in_list=True),
        Field("note", _l("Note"), in_list=True),
    ],
    validate=_validate_duty,
    sample=_sample_duty,
))


# ------------------------------------------------------------------ public pages (no login)

bp = Blueprint("appointments", __name__)

_booked: dict = defaultdict(deque)
_checked: dict = defaultdict(deque)
_found: dict = defaultdict(deque)


def reset_limits() -> None:
    for store in (_booked, _checked, _found):
        store.clear()


def _too_many(store, limit) -> bool:
    from app.status import over_limit
    return over_limit(store, request.remote_addr or "?", limit, LIMIT_SECONDS)


def _center(code: str) -> Center:
    from app.public import _center_or_404
    return _center_or_404(code)


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.secret_key, salt="appointment")


def appointment_token(appointment: Appointment) -> str:
    return _serializer().dumps(appointment.id)


def _by_token(center: Center, token: str) -> Appointment:
    try:
        appointment_id = _serializer().loads(token)
    except BadSignature:
        abort(404)
    appointment = db.session.get(Appointment, appointment_id) if isinstance(appointment_id, int) else None
    if appointment is None or appointment.center_id != center.id or appointment.voided:
        abort(404)
    return appointment


def _day_arg(raw: str | None) -> date | None:
    try:
        return date.fromisoformat(raw) if raw else None
    except ValueError:
        return None


def _time_arg(raw: str | None) -> time | None:
    try:
        return time.fromisoformat(raw) if raw and len(raw) <= 8 else None
    except ValueError:
        return None


def _day_choices(rule, at: datetime) -> list[tuple[date, int]]:
    """The bookable days with the places left on each."""
    out = []
    for day in bookable_days(rule, at.date()):
        left = sum(n for _s, n in open_slots(rule, day, at))
        out.append((day, left))
    return out


WEEKDAYS = "一二三四五六日"


def _day_label(day: date) -> str:
    return f"{day.month}月{day.day}日 周{WEEKDAYS[day.weekday()]}"


def _closed_info(center: Center, at: datetime) -> dict:
    from app.workdays import is_working_day, next_working_day
    if is_working_day(at.date()):
        return {}
    return {"duty": duty_on(center.id, at.date()), "reopens": next_working_day(at.date())}


@bp.route("/p/<code>/appointments", methods=["GET", "POST"])
def book_page(code):
    center = _center(code)
    at = timeutil.now()
    choices = offers(center.id)
    offer = offer_of(center.id, request.values.get("offer", ""))
    day = _day_arg(request.values.get("day"))
    errors: dict[str, str] = {}
    values = {"name": "", "phone": "", "urgent": False, "reason": "", "slot": ""}
    status = 200
    if request.method == "POST":
        values = {"name": request.form.get("name", "")[:60], "phone": request.form.get("phone", "")[:40],
                  "urgent": bool(request.form.get("urgent")), "reason": request.form.get("reason", "")[:400],
                  "slot": request.form.get("slot", "")[:8]}
        if offer is None:
            errors["offer"] = _("Choose the matter or window.")
        elif _too_many(_booked, BOOK_LIMIT):
            errors["slot"] = _("Too many bookings from this device: please call the centre.")
        else:
            try:
                appointment = book(center.id, offer, day, _time_arg(values["slot"]), name=values["name"],
                                   phone=values["phone"], urgent=values["urgent"], reason=values["reason"], at=at)
            except Refusal as refused:
                db.session.rollback()
                errors[refused.field or "slot"] = str(refused)
            else:
                db.session.commit()
                return redirect(url_for("appointments.booking", code=code, token=appointment_token(appointment),
                                        new=1))
        status = 400
    day_error = None
    if offer is not None and day is not None and "day" not in errors:
        try:
            check_slot(offer.rule, day, None, at)
        except Refusal as refused:
            if refused.field == "day":
                day_error = str(refused)
                status = 400 if request.method == "POST" else status
    return render_template(
        "appointments/book.html", center=center, offers=choices, offer=offer, day=day, errors=errors,
        values=values, day_error=day_error or errors.get("day"),
        days=_day_choices(offer.rule, at) if offer else [],
        slots=open_slots(offer.rule, day, at) if offer and day and not day_error else [],
        day_label=_day_label, closed=_closed_info(center, at)), status


@bp.route("/p/<code>/appointments/b/<token>", methods=["GET", "POST"])
def booking(code, token):
    """The citizen's booking: its code, and cancel or move it (also reached with the code and the phone)."""
    center = _center(code)
    appointment = _by_token(center, token)
    at = timeutil.now()
    errors: dict[str, str] = {}
    day = _day_arg(request.values.get("day"))
    if request.method == "POST":
        action = request.form.get("action", "")
        try:
            if action == "cancel":
                cancel(appointment, at)
                flash(_("Your booking is cancelled."), "info")
            elif action == "reschedule":
                reschedule(appointment, day, _time_arg(request.form.get("slot")), at)
                flash(_("Your booking is moved."), "info")
            else:
                abort(400)
        except Refusal as refused:
            db.session.rollback()
            appointment = _by_token(center, token)
            errors[refused.field or "action"] = str(refused)
        else:
            db.session.commit()
            return redirect(url_for("appointments.booking", code=code, token=token))
    rule = appointment.rule
    may_change = appointment.state == "booked" and rule is not None and not rule.voided
    return render_template(
        "appointments/booking.html", center=center, appointment=appointment, token=token, errors=errors,
        new=request.args.get("new") == "1", may_change=may_change, day=day, day_label=_day_label,
        days=_day_choices(rule, at) if may_change else [],
        slots=open_slots(rule, day, at) if may_change and day and day in bookable_days(rule, at.date()) else []), \
        400 if errors else 200


@bp.route("/p/<code>/appointments/find", methods=["GET", "POST"])
def find_page(code):
    """Cancel or change a booking: the code and the phone it was made with."""
    center = _center(code)
    errors: dict[str, str] = {}
    values = {"code": "", "phone": ""}
    if request.method == "POST":
        values = {"code": request.form.get("code", "")[:20], "phone": request.form.get("phone", "")[:40]}
        if _too_many(_found, FIND_LIMIT):
            errors["code"] = _("Too many tries from this device: please wait ten minutes.")
        else:
            found = find(center.id, values["code"], values["phone"])
            if found is None:
                errors["code"] = _("No booking with this code and phone at this centre.")
            else:
                return redirect(url_for("appointments.booking", code=code, token=appointment_token(found)))
    return render_template("appointments/find.html", center=center, errors=errors, values=values), \
        400 if errors else 200


@bp.route("/p/<code>/appointments/checkin", methods=["GET", "POST"])
def checkin_page(code):
    """At the entrance: the booking code → a priority queue number (the same one when entered again)."""
    from app.queue import ticket_token
    center = _center(code)
    errors: dict[str, str] = {}
    value = ""
    if request.method == "POST":
        value = request.form.get("code", "")[:20]
        if _too_many(_checked, CHECKIN_LIMIT):
            errors["code"] = _("Too many tries from this device: please ask the staff at the entrance.")
        else:
            found = find(center.id, value)
            if found is None:
                errors["code"] = _("No booking with this code at this centre.")
            else:
                try:
                    ticket = check_in(found)
                except Refusal as refused:
                    db.session.rollback()
                    errors["code"] = str(refused)
                else:
                    db.session.commit()
                    return redirect(url_for("queue.ticket_page", code=code, token=ticket_token(ticket)))
    return render_template("appointments/checkin.html", center=center, errors=errors, value=value), \
        400 if errors else 200


# ------------------------------------------------------------------ the clerks' page

@bp.route("/appointments/", methods=["GET", "POST"])
@login_required
def day_page():
    """A centre's appointments of a day per window, urgent first; check in by code, mark no-shows."""
    center_id = access.current_center_id()
    roles = access.roles_in(current_user, center_id)
    if not roles & VIEWERS:
        abort(403)
    day = _day_arg(request.args.get("day")) or timeutil.today()
    error = None
    if request.method == "POST":
        if not roles & CALLERS:
            abort(403)
        found = find(center_id, request.form.get("code", "")[:20])
        if found is None:
            error = _("No booking with this code at this centre.")
        else:
            try:
                ticket = check_in(found)
            except Refusal as refused:
                db.session.rollback()
                error = str(refused)
            else:
                db.session.commit()
                flash(_("Checked in: number %(number)s for %(window)s.", number=ticket.label,
                        window=ticket.window or _("any window")), "ok")
                return redirect(url_for("appointments.day_page", day=day.isoformat()))
    return render_template("appointments/day.html", center=access.current_center(), day=day,
                           groups=day_list(center_id, day), error=error, may_act=bool(roles & CALLERS),
                           today=timeutil.today(), day_label=_day_label, timedelta=timedelta), 400 if error else 200


@bp.route("/appointments/<int:appointment_id>/check-in", methods=["POST"])
@login_required
def staff_check_in(appointment_id):
    appointment = access.centre_record_or_404(Appointment, appointment_id, CALLERS)
    try:
        ticket = check_in(appointment)
    except Refusal as refused:
        db.session.rollback()
        flash(str(refused), "error")
    else:
        db.session.commit()
        flash(_("Checked in: number %(number)s for %(window)s.", number=ticket.label,
                window=ticket.window or _("any window")), "ok")
    return redirect(url_for("appointments.day_page", day=appointment.day.isoformat()))


@bp.route("/appointments/<int:appointment_id>/no-show", methods=["POST"])
@login_required
def staff_no_show(appointment_id):
    appointment = access.centre_record_or_404(Appointment, appointment_id, CALLERS)
    try:
        mark_no_show(appointment, current_user)
    except Refusal as refused:
        db.session.rollback()
        flash(str(refused), "error")
    else:
        db.session.commit()
        flash(_("Marked as not attended."), "info")
    return redirect(url_for("appointments.day_page", day=appointment.day.isoformat()))


from app.features import Feature, Job, MenuLink  # noqa: E402  (the feature declaration closes the module)

FEATURE = Feature(
    "appointments", types=("app.appointments",), blueprints=[bp],
    menu=[MenuLink("appointments.day_page", _l("Appointments today"), VIEWERS, group="service")],
    jobs=[Job("appointment_no_shows", "jobs.appointment_jobs:no_shows", {"hour": "9-18", "minute": "*/15"},
              "Mark bookings nobody checked in by the end of their slot as not attended"),
          Job("appointment_reminders", "jobs.appointment_jobs:morning_reminders",
              {"day_of_week": "*", "hour": 8, "minute": 0},
              "Tell each window's clerks how many appointments they have today (working days)")],
)
