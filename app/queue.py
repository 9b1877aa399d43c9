"""Queue tickets and the hall display (排队叫号, 信息显示) [003 4.2.2.3, 4.4.1; SPEC §4.15].

- A citizen takes a number at the entrance (for a window, or for a matter: its window), on the hall tablet
  or a phone, without login; appointment holders and the elderly or disabled are called first.
- The window calls the next number, recalls it, marks it absent (过号), transfers it to another window
  (it keeps its number and place) or finishes it. Calling takes a ticket with one conditional UPDATE, so two
  windows pressing "next" at the same instant never get the same number and none is skipped.
- The hall display (a TV or tablet in full screen) polls a small fragment every second and chimes when a
  number is called or recalled.
- A case registered by the clerk serving a ticket is linked to it, and so is that visit's rating.

Numbers restart at 1 every day in every centre.
"""
from __future__ import annotations

from collections import defaultdict, deque
from dataclasses import dataclass
from datetime import date, datetime

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import exc, func, select, true, update

from app import access, timeutil
from app.extensions import db
from models.catalogue import Matter, Window
from models.core import ADMIN, AGENT, CLERK, DEPUTY, DIRECTOR, Center
from models.queue import PRIORITY_RANK, QueueTicket

PRIORITY_CHOICES = (("", _l("None")), ("elderly", _l("Elderly (60 or over)")), ("disabled", _l("Disabled")))
CALLERS = frozenset({CLERK, AGENT, DEPUTY, DIRECTOR})
STATS_ROLES = frozenset({DEPUTY, DIRECTOR, ADMIN})
DISPLAY_ROWS = 8          # the numbers the hall display shows, latest call first
TAKE_LIMIT, TAKE_SECONDS = 20, 10 * 60   # tickets one address may take in ten minutes (per process)

bp = Blueprint("queue", __name__)


class QueueRefused(Exception):
    pass


# ------------------------------------------------------------------ rules

def take_ticket(center_id: int, *, window_id: int | None = None, matter_id: int | None = None,
                priority: str = "", appointment_id: int | None = None, at: datetime | None = None) -> QueueTicket:
    """A new number for today (for a window, or a matter's window). Two takers at the same moment get two
    numbers: a clash on (centre, day, number) is retried with the next one."""
    at = at or timeutil.now()
    if priority not in PRIORITY_RANK:
        raise QueueRefused(_("Unknown priority."))
    if matter_id is not None:
        matter = db.session.get(Matter, matter_id)
        if matter is None or matter.center_id != center_id or matter.voided:
            raise QueueRefused(_("Choose a matter of this centre."))
        window_id = window_id or matter.window_id
    if window_id is not None:
        window = db.session.get(Window, window_id)
        if window is None or window.center_id != center_id or window.voided:
            raise QueueRefused(_("Choose a window of this centre."))
    for _attempt in range(8):
        number = (db.session.scalar(select(func.max(QueueTicket.number)).where(
            QueueTicket.center_id == center_id, QueueTicket.day == at.date())) or 0) + 1
        ticket = QueueTicket(center_id=center_id, day=at.date(), number=number, window_id=window_id,
                             matter_id=matter_id, priority=priority, rank=PRIORITY_RANK[priority], taken_at=at,
                             appointment_id=appointment_id)
        try:
            with db.session.begin_nested():
                db.session.add(ticket)
        except exc.IntegrityError:
            continue
        return ticket
    raise QueueRefused(_("The queue is very busy: please try again."))


def waiting_for(window: Window, day: date):
    """Tickets waiting for this window (or for no window in particular), in calling order."""
    return (select(QueueTicket).where(
        QueueTicket.center_id == window.center_id, QueueTicket.day == day, QueueTicket.state == "waiting",
        (QueueTicket.window_id == window.id) | QueueTicket.window_id.is_(None))
        .order_by(QueueTicket.rank, QueueTicket.number))


def serving(window: Window, day: date) -> QueueTicket | None:
    return db.session.scalar(select(QueueTicket).where(
        QueueTicket.center_id == window.center_id, QueueTicket.day == day, QueueTicket.state == "called",
        QueueTicket.called_window_id == window.id).order_by(QueueTicket.called_at.desc()).limit(1))


def call_next(window: Window, user, at: datetime | None = None) -> QueueTicket | None:
    """Finish the ticket this window serves and call the next one. The conditional UPDATE takes a ticket
    only while it is still waiting: when another window took it first, the next one is tried."""
    at = at or timeutil.now()
    current = serving(window, at.date())
    if current is not None:
        finish(current, at)
    for _attempt in range(20):
        candidate = db.session.scalar(waiting_for(window, at.date()).with_only_columns(QueueTicket.id).limit(1))
        if candidate is None:
            return None
        taken = db.session.execute(
            update(QueueTicket).where(QueueTicket.id == candidate, QueueTicket.state == "waiting")
            .values(state="called", called_at=at, called_window_id=window.id, called_by_id=user.id),
            execution_options={"synchronize_session": False}).rowcount
        if taken == 1:
            ticket = db.session.get(QueueTicket, candidate)
            db.session.refresh(ticket)
            return ticket
    raise QueueRefused(_("The queue is very busy: please try again."))


def _mine(ticket: QueueTicket, window: Window) -> None:
    if ticket.state != "called" or ticket.called_window_id != window.id:
        raise QueueRefused(_("This number is not being served at this window."))


def recall(ticket: QueueTicket, window: Window, at: datetime | None = None) -> None:
    """Call the same number again: the display shows it on top and chimes."""
    _mine(ticket, window)
    ticket.recalls += 1
    ticket.called_at = at or timeutil.now()


def skip(ticket: QueueTicket, window: Window, at: datetime | None = None) -> None:
    """过号: the citizen did not come after the calls."""
    _mine(ticket, window)
    ticket.state, ticket.finished_at = "skipped", at or timeutil.now()


def finish(ticket: QueueTicket, at: datetime | None = None) -> None:
    if ticket.state == "called":
        ticket.state, ticket.finished_at = "done", at or timeutil.now()


def transfer(ticket: QueueTicket, window: Window, to: Window) -> None:
    """Send the citizen to another window: the ticket waits there with its number and its place."""
    _mine(ticket, window)
    if to.center_id != window.center_id or to.voided or to.id == window.id:
        raise QueueRefused(_("Choose another window of this centre."))
    ticket.state, ticket.window_id = "waiting", to.id
    ticket.called_at = ticket.called_window_id = ticket.called_by_id = None
    ticket.transfers += 1


def link_case(case) -> None:
    """The case registered by the clerk now serving a ticket is that ticket's case (首问: the visit's case)."""
    if not case.created_by_id:
        return
    ticket = db.session.scalar(select(QueueTicket).where(
        QueueTicket.center_id == case.center_id, QueueTicket.day == timeutil.today(),
        QueueTicket.state == "called", QueueTicket.called_by_id == case.created_by_id,
        QueueTicket.case_id.is_(None)).order_by(QueueTicket.called_at.desc()).limit(1))
    if ticket is not None:
        ticket.case_id = case.id


def ahead_of(ticket: QueueTicket) -> int:
    """How many waiting tickets are called before this one at its window."""
    if ticket.state != "waiting":
        return 0
    same_window = (QueueTicket.window_id == ticket.window_id) | QueueTicket.window_id.is_(None)
    earlier = (QueueTicket.rank < ticket.rank) | ((QueueTicket.rank == ticket.rank)
                                                   & (QueueTicket.number < ticket.number))
    return db.session.scalar(select(func.count()).select_from(QueueTicket).where(
        QueueTicket.center_id == ticket.center_id, QueueTicket.day == ticket.day, QueueTicket.state == "waiting",
        same_window if ticket.window_id else true(), earlier))


def display_rows(center_id: int, day: date) -> list[tuple]:
    """The hall display: the latest calls (number, window number, window name, called at, recalls)."""
    return db.session.execute(
        select(QueueTicket.id, QueueTicket.number, Window.number, Window.name, QueueTicket.called_at,
               QueueTicket.recalls)
        .join(Window, Window.id == QueueTicket.called_window_id)
        .where(QueueTicket.center_id == center_id, QueueTicket.day == day, QueueTicket.called_at.is_not(None))
        .order_by(QueueTicket.called_at.desc()).limit(DISPLAY_ROWS)).all()


@dataclass
class Times:
    label: str
    served: int = 0
    skipped: int = 0
    wait_minutes: float | None = None
    serve_minutes: float | None = None


def day_times(center_id: int, day: date) -> tuple[list[Times], list[Times]]:
    """Waiting (taken → called) and serving (called → finished) minutes, per window and per clerk."""
    rows = db.session.execute(select(QueueTicket).where(
        QueueTicket.center_id == center_id, QueueTicket.day == day,
        QueueTicket.state.in_(("done", "skipped", "called")))).scalars().all()

    def group(key, label):
        out: dict = {}
        for t in rows:
            k = key(t)
            if k is None:
                continue
            out.setdefault(k, {"label": label(t), "rows": []})["rows"].append(t)
        result = []
        for item in out.values():
            ts = item["rows"]
            waits = [(t.called_at - t.taken_at).total_seconds() / 60 for t in ts if t.called_at]
            serves = [(t.finished_at - t.called_at).total_seconds() / 60 for t in ts
                      if t.state == "done" and t.finished_at and t.called_at]
            result.append(Times(item["label"], served=sum(1 for t in ts if t.state == "done"),
                                skipped=sum(1 for t in ts if t.state == "skipped"),
                                wait_minutes=round(sum(waits) / len(waits), 1) if waits else None,
                                serve_minutes=round(sum(serves) / len(serves), 1) if serves else None))
        return sorted(result, key=lambda r: r.label)
    return (group(lambda t: t.called_window_id, lambda t: str(t.called_window)),
            group(lambda t: t.called_by_id, lambda t: t.called_by.name if t.called_by else ""))


# ------------------------------------------------------------------ the entrance (no login)

def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.secret_key, salt="queue-ticket")


def ticket_token(ticket: QueueTicket) -> str:
    return _serializer().dumps(ticket.id)


_taken: dict = defaultdict(deque)


def _too_many(address: str) -> bool:
    from app.status import over_limit
    return over_limit(_taken, address, TAKE_LIMIT, TAKE_SECONDS)


def reset_limits() -> None:
    _taken.clear()


def _center(code: str) -> Center:
    from app.public import _center_or_404
    return _center_or_404(code)


def _windows(center_id: int) -> list[Window]:
    return db.session.scalars(select(Window).where(Window.center_id == center_id, Window.voided.is_(False))
                              .order_by(Window.number)).all()


@bp.route("/p/<code>/queue", methods=["GET", "POST"])
def take(code):
    center = _center(code)
    windows = _windows(center.id)
    error = None
    if request.method == "POST":
        from app.params import parse_id
        window_id = parse_id(request.form.get("window_id"))
        priority = request.form.get("priority", "")
        if window_id is None:
            error = _("Choose the window for your matter.")
        elif _too_many(request.remote_addr or ""):
            error = _("Too many numbers from this device: please ask the staff at the entrance.")
        else:
            try:
                ticket = take_ticket(center.id, window_id=window_id, priority=priority)
            except QueueRefused as refused:
                error = str(refused)
            else:
                return redirect(url_for("queue.ticket_page", code=code, token=ticket_token(ticket)))
    return render_template("queue/take.html", center=center, windows=windows, error=error,
                           priorities=PRIORITY_CHOICES), 400 if error else 200


def _ticket_or_404(center: Center, token: str) -> QueueTicket:
    try:
        ticket_id = _serializer().loads(token)
    except BadSignature:
        abort(404)
    ticket = db.session.get(QueueTicket, ticket_id)
    if ticket is None or ticket.center_id != center.id:
        abort(404)
    return ticket


@bp.route("/p/<code>/queue/<token>")
def ticket_page(code, token):
    center = _center(code)
    ticket = _ticket_or_404(center, token)
    return render_template("queue/ticket.html", center=center, ticket=ticket, ahead=ahead_of(ticket),
                           token=token)


@bp.route("/p/<code>/queue/<token>/slip")
def ticket_slip(code, token):
    """The ticket on a receipt printer (58/80 mm roll): the browser prints this page."""
    center = _center(code)
    ticket = _ticket_or_404(center, token)
    return render_template("queue/slip.html", center=center, ticket=ticket, ahead=ahead_of(ticket))


# ------------------------------------------------------------------ the hall display (no login)

@bp.route("/p/<code>/display")
def display(code):
    center = _center(code)
    return render_template("queue/display.html", center=center, rows=display_rows(center.id, timeutil.today()))


@bp.route("/p/<code>/display/calls")
def display_calls(code):
    center = _center(code)
    return render_template("queue/_calls.html", center=center, rows=display_rows(center.id, timeutil.today()))


# ------------------------------------------------------------------ the window

@bp.route("/queue/window/<int:window_id>", methods=["GET", "POST"])
@login_required
def window_page(window_id):
    window = access.centre_record_or_404(Window, window_id, CALLERS)
    day = timeutil.today()
    error = None
    if request.method == "POST":
        action = request.form.get("action", "")
        current = serving(window, day)
        try:
            if action == "next":
                if call_next(window, current_user) is None:
                    flash(_("Nobody is waiting for this window."), "info")
            elif current is None:
                error = _("No number is being served at this window.")
            elif action == "recall":
                recall(current, window)
            elif action == "skip":
                skip(current, window)
            elif action == "done":
                finish(current)
            elif action == "transfer":
                from app.params import parse_id
                to = db.session.get(Window, parse_id(request.form.get("to")) or 0)
                if to is None:
                    error = _("Choose another window of this centre.")
                else:
                    transfer(current, window, to)
            else:
                abort(400)
        except QueueRefused as refused:
            error = str(refused)
        if error is None:
            return redirect(url_for("queue.window_page", window_id=window.id))
    waiting = db.session.scalars(waiting_for(window, day).limit(50)).all()
    count = db.session.scalar(waiting_for(window, day).with_only_columns(func.count()).order_by(None))
    return render_template("queue/window.html", window=window, current=serving(window, day), waiting=waiting,
                           count=count, windows=[w for w in _windows(window.center_id) if w.id != window.id],
                           error=error), 400 if error else 200


@bp.route("/queue")
@login_required
def index():
    center_id = access.current_center_id()
    roles = access.roles_in(current_user, center_id)
    if not roles & (CALLERS | STATS_ROLES):
        abort(403)
    day = timeutil.today()
    windows = _windows(center_id)
    waiting = dict(db.session.execute(
        select(QueueTicket.window_id, func.count()).where(QueueTicket.center_id == center_id, QueueTicket.day == day,
                                                          QueueTicket.state == "waiting")
        .group_by(QueueTicket.window_id)).all())
    by_window, by_clerk = day_times(center_id, day) if roles & STATS_ROLES else ([], [])
    return render_template("queue/index.html", center=access.current_center(), windows=windows, waiting=waiting,
                           by_window=by_window, by_clerk=by_clerk, day=day, may_call=bool(roles & CALLERS))


from app.features import Feature, MenuLink  # noqa: E402  (the feature declaration closes the module)

FEATURE = Feature(
    "queue", blueprints=[bp],
    menu=[MenuLink("queue.index", _l("Queue"), CALLERS | STATS_ROLES, group="service")])
