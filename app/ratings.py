"""Citizen ratings (好差评) [SPEC §4.3; 000 好差评制度]: the rules, the citizen's page, the window's tablet,
the 未评 sweep and the list of cases to remind.

Rules in one place (views and jobs call them):
- five levels scored 10 / 8 / 6 / 3 / 0; the last two are bad reviews and need a reason [§8, §18];
- one rating per case, and a batch — the same applicant ID number, the same matter, registered the same
  day at the same centre — gets one rating that applies to every case of it [§14, §15];
- a themed package (主题式/套餐式服务 "一件事": cases of one applicant ID number registered the same day at the
  same centre under the same `ServiceCase.package` name) is rated as a whole — one rating that applies to
  every case of it — or item by item, as the citizen chooses [§16]. The whole is offered only while every
  item can still be rated: after the whole, no item can be rated again; after one item, the other items still
  can but the whole no longer;
- a phone on the centre's dishonesty list (失信名单) may still rate: §18 lets the centre list the rater, it
  takes away no right to rate [§14]; a bad review from that phone carries a flag for those who follow it up
  (app.bad_reviews);
- an open case may be rated at any time (overdue ones too [§17]); a finished one until the 5th working day
  counted from its completion (the project's one counting convention, app.deadlines); after that it is 未评;
- a reminder is due 24 hours after completion without a rating [§17]; the centre has no SMS gateway, so the
  director gets a list to phone (待提醒评价) and a daily notice of it.

The citizen reaches the page from the status lookup (receipt number + phone proved the receipt there) through a
signed token: never a case id a stranger could count through.
"""
from __future__ import annotations

import hashlib
import hmac
from collections import defaultdict, deque
from datetime import date, datetime, time, timedelta

from flask import Blueprint, abort, current_app, redirect, render_template, request, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import exc, select, update

from app import access, audit
from app.deadlines import working_day_deadline
from app.extensions import db
from app.timeutil import now, today
from app.workdays import add_working_days
from forms.ratings import DIMENSION_TITLES, LEVEL_TITLES, REASON_TITLES, KioskRatingForm, RatingForm
from models.case import OPEN_STATES, ServiceCase
from models.catalogue import Window
from models.core import CLERK, DEPUTY, DIRECTOR, AGENT, Center
from models.voice import BAD_LEVELS, LEVEL_SCORES, RATED, UNRATED, Rating, RatingCase

RATING_WORKING_DAYS = 5             # §17: the window after completion
REMINDER_AFTER = timedelta(hours=24)
# Final states that close a case without a completion date: they count from the intake day.
CLOSED_AT_INTAKE = ("answered", "refused", "transferred")
KIOSK_THANKS_SECONDS = 6            # the tablet's thanks screen, then back to the waiting screen
KIOSK_IDLE_SECONDS = 20             # the waiting screen looks for the next case this often
KIOSK_ROLES = (CLERK, AGENT, DEPUTY, DIRECTOR)
REMINDER_ROLES = (DIRECTOR, DEPUTY)

bp = Blueprint("ratings", __name__)


class RatingRefused(Exception):
    def __init__(self, code: str, message):
        super().__init__(code)
        self.code, self.message = code, message


REFUSALS = {
    "rated": _l("This service has already been rated. Thank you: each visit is rated once."),
    "closed": _l("Rating is closed: a service can be rated within 5 working days of its completion."),
    "void": _l("This case cannot be rated."),
    "package": _l("The package can no longer be rated as a whole: one of its items has been rated or its rating "
                  "time is over. Rate the remaining items one by one."),
}
SCOPES = ("whole", "item")   # the citizen's choice for a themed package [§16]


# ------------------------------------------------------------------ the rules

def finished_on(case: ServiceCase) -> date | None:
    """The day the case ended for rating purposes: its completion, or the intake day of a case answered,
    refused or referred at the window; None while it is open."""
    if case.completed_on is not None:
        return case.completed_on
    return case.intake_date if case.state in CLOSED_AT_INTAKE else None


def last_day_to_rate(case: ServiceCase) -> date | None:
    """The 5th working day counted from the completion day (day 1 when it is a working day); None: open case."""
    finished = finished_on(case)
    return working_day_deadline(finished, RATING_WORKING_DAYS).due if finished else None


def closed_before(on: date) -> date:
    """Cases finished on or before this day are past their rating window on `on` (the sweep's cut-off):
    [day, on) then holds 5 working days, so the 5th working day from it is before `on`."""
    return add_working_days(on, -RATING_WORKING_DAYS)


def refusal(case: ServiceCase, on: date) -> str | None:
    """Why this case cannot be rated on `on` ("void", "rated", "closed"), or None when it can."""
    if case.voided:
        return "void"
    if case.rating_status == RATED:
        return "rated"
    last = last_day_to_rate(case)
    if case.rating_status == UNRATED or (last is not None and on > last):
        return "closed"
    return None


def reminder_due_at(case: ServiceCase) -> datetime | None:
    """24 hours after completion; the case records the day only, so counted from the start of that day."""
    finished = finished_on(case)
    return datetime.combine(finished, time()) + REMINDER_AFTER if finished else None


def batch_of(case: ServiceCase) -> list[ServiceCase]:
    """The case and the other open-for-rating cases of its batch (§15): same centre, applicant ID number,
    matter and intake day. Without an ID number a case is a batch of one."""
    if not case.applicant_id_no:
        return [case]
    others = db.session.scalars(select(ServiceCase).where(
        ServiceCase.center_id == case.center_id, ServiceCase.applicant_id_no == case.applicant_id_no,
        ServiceCase.matter_id == case.matter_id, ServiceCase.intake_date == case.intake_date,
        ServiceCase.voided.is_(False), ServiceCase.rating_status == "", ServiceCase.id != case.id)
        .order_by(ServiceCase.id)).all()
    return [case, *others]


def package_of(case: ServiceCase) -> list[ServiceCase]:
    """Every case of the themed package (§16) the case belongs to, rated or not, in registration order: same
    centre, applicant ID number, intake day and package name (the batch's key, the theme instead of the
    matter). A case outside a package, or without an ID number, is a package of one."""
    if not case.package or not case.applicant_id_no:
        return [case]
    return list(db.session.scalars(select(ServiceCase).where(
        ServiceCase.center_id == case.center_id, ServiceCase.applicant_id_no == case.applicant_id_no,
        ServiceCase.intake_date == case.intake_date, ServiceCase.package == case.package,
        ServiceCase.voided.is_(False)).order_by(ServiceCase.id)))


class Package:
    """A themed package as the rating page shows it: its items, each with why it cannot be rated (or None),
    and whether the whole may still be rated in one go."""

    def __init__(self, case: ServiceCase, on: date):
        self.name = case.package or ""
        self.items = [(item, refusal(item, on)) for item in package_of(case)]

    @property
    def is_package(self) -> bool:
        return len(self.items) > 1

    @property
    def whole_offered(self) -> bool:
        """Only while every item can still be rated: rating one item ends the choice of the whole."""
        return self.is_package and all(why is None for _item, why in self.items)

    @property
    def open_items(self) -> list[ServiceCase]:
        return [item for item, why in self.items if why is None]


def client_hash(address: str | None) -> str:
    """A keyed hash of the client address: floods can be told apart, the address itself is not kept."""
    key = str(current_app.secret_key or "").encode()
    return hmac.new(key, (address or "?").encode(), hashlib.sha256).hexdigest()


def record_rating(case: ServiceCase, level: str, *, channel: str, dimensions: dict | None = None,
                  reasons=(), reason_text: str = "", address: str | None = None,
                  at: datetime | None = None, whole_package: bool = False) -> Rating:
    """Store the rating of a case (and of its batch), or with `whole_package` of every case of its themed
    package; raises RatingRefused when the case (or the package as a whole) cannot be rated."""
    at = at or now()
    why = refusal(case, at.date())
    if why:
        raise RatingRefused(why, REFUSALS[why])
    package = Package(case, at.date()) if whole_package else None
    if package is not None and not package.whole_offered:
        raise RatingRefused("package", REFUSALS["package"])
    if level not in LEVEL_SCORES:
        raise ValueError(level)
    reasons = [r for r in reasons if r] if level in BAD_LEVELS else []
    reason_text = (reason_text or "").strip() if level in BAD_LEVELS else ""
    if level in BAD_LEVELS and not reasons and not reason_text:
        raise ValueError("a bad review needs a reason")
    due = reminder_due_at(case)
    cases = batch_of(case)
    if package is not None:   # every item, and the batch of each (§15 within §16)
        seen = {c.id for c in cases}
        for item in package.open_items:
            for c in batch_of(item):
                if c.id not in seen:
                    seen.add(c.id)
                    cases.append(c)
    rating = Rating(center_id=case.center_id, case_id=case.id, window_id=case.window_id,
                    clerk_id=case.responsible_id, matter_id=case.matter_id, level=level,
                    score=LEVEL_SCORES[level], channel=channel, rated_at=at,
                    prompted=due is not None and at >= due, batch_size=len(cases),
                    reasons=" ".join(reasons), reason_text=reason_text[:500],
                    client_hash=client_hash(address) if address else "",
                    **{k: v or "" for k, v in (dimensions or {}).items()})
    rating.covers = [RatingCase(case_id=c.id) for c in cases]
    try:
        with db.session.begin_nested():   # two taps racing for one case: the second finds the first
            db.session.add(rating)
            for c in cases:
                c.rating_status = RATED
            db.session.flush()
    except (exc.IntegrityError, exc.OperationalError) as error:
        if isinstance(error, exc.OperationalError) and "locked" not in str(error):
            raise
        db.session.expire_all()
        code = "package" if package is not None else "rated"
        raise RatingRefused(code, REFUSALS[code]) from None
    from app.bad_reviews import open_for
    open_for(rating)   # a bad review opens its closed loop [§21]
    return rating


# ------------------------------------------------------------------ the citizen's page: /p/<centre>/rate/<token>

def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.secret_key, salt="rate-case")


def rate_token(case: ServiceCase) -> str:
    return _serializer().dumps([case.id, case.receipt_no])


def case_from_token(token: str) -> ServiceCase | None:
    try:
        case_id, receipt_no = _serializer().loads(token)
    except (BadSignature, ValueError, TypeError):
        return None
    case = db.session.get(ServiceCase, case_id) if isinstance(case_id, int) else None
    return case if case is not None and case.receipt_no == receipt_no and not case.voided else None


def rating_link(case: ServiceCase) -> str | None:
    """The rating page of a case shown to its applicant (the status answer), or None when it cannot be rated."""
    if refusal(case, today()):
        return None
    return url_for("ratings.rate", code=case.center.code, token=rate_token(case))


# A flood from one address: the status lookup's counting (app.status), with its own budget.
RATE_LIMIT, RATE_WINDOW_SECONDS = 10, 10 * 60
_rate_hits: dict[str, deque] = defaultdict(deque)


def reset_limits() -> None:
    _rate_hits.clear()


def _flooding(address: str) -> bool:
    from app.status import KIOSK_LIMIT, is_kiosk, over_limit
    return over_limit(_rate_hits, client_hash(address), KIOSK_LIMIT if is_kiosk(address) else RATE_LIMIT,
                      RATE_WINDOW_SECONDS)


def _titles() -> dict:
    return {"levels": LEVEL_TITLES, "dimensions": DIMENSION_TITLES, "reasons": REASON_TITLES,
            "bad_levels": BAD_LEVELS}


@bp.route("/p/<code>/rate/<token>", methods=["GET", "POST"])
def rate(code, token):
    if _flooding(request.remote_addr or "?"):
        abort(429)
    case = case_from_token(token)
    if case is None or case.center.code != code or not case.center.active:
        abort(404)
    form, status = RatingForm(), 200
    refused = refusal(case, today())
    package = Package(case, today())
    # §16: while the whole package may be rated, the citizen says which: the whole or this item.
    scope = request.form.get("scope", "")
    if not package.whole_offered:   # "whole" posted after an item was rated: refused below, never an item instead
        scope = "whole" if scope == "whole" and package.is_package else "item"
    scope_error = None
    if not refused and request.method == "POST":
        valid = form.validate_on_submit()
        if scope not in SCOPES:
            scope_error = _l("Choose whether you rate the whole package or this matter only.")
        elif valid:
            try:
                record_rating(case, form.level.data, channel="qr", dimensions=form.dimensions(),
                              reasons=form.reasons.data or [], reason_text=form.reason_text.data or "",
                              address=request.remote_addr, whole_package=scope == "whole")
                return redirect(url_for("ratings.thanks", code=code, token=token))
            except RatingRefused as refusal_error:
                refused = refusal_error.code
                package = Package(case, today())
    if refused and request.method == "POST":
        status = 409
    return render_template("ratings/rate.html", case=case, center=case.center, form=form, refused=refused,
                           message=REFUSALS.get(refused), last_day=last_day_to_rate(case), package=package,
                           scope=scope, scope_error=scope_error, item_link=_item_link, **_titles()), status


@bp.route("/p/<code>/rate/<token>/thanks")
def thanks(code, token):
    case = case_from_token(token)
    if case is None or case.center.code != code:
        abort(404)
    return render_template("ratings/rate.html", case=case, center=case.center, form=None, refused=None,
                           thanked=True, message=None, last_day=None, package=Package(case, today()),
                           scope=None, scope_error=None, item_link=_item_link, **_titles())


def _item_link(item: ServiceCase) -> str:
    """The rating page of another item of the same package (the citizen proved a receipt of the applicant)."""
    return url_for("ratings.rate", code=item.center.code, token=rate_token(item))


# ------------------------------------------------------------------ the window's tablet: /kiosk/<window>

def served_case(window: Window, clerk_id: int, on: date) -> ServiceCase | None:
    """The case now being served at the window: the clerk's case registered or completed there today, not
    rated, most recently touched."""
    return db.session.scalar(select(ServiceCase).where(
        ServiceCase.center_id == window.center_id, ServiceCase.window_id == window.id,
        ServiceCase.responsible_id == clerk_id, ServiceCase.voided.is_(False), ServiceCase.rating_status == "",
        db.or_(ServiceCase.intake_date == on, ServiceCase.completed_on == on))
        .order_by(ServiceCase.updated_at.desc(), ServiceCase.id.desc()).limit(1))


def _kiosk_window(window_id: int) -> Window:
    window = db.session.get(Window, window_id)
    if window is None or window.voided or window.center_id not in access.visible_center_ids(current_user):
        abort(404)
    if not access.roles_in(current_user, window.center_id) & set(KIOSK_ROLES):
        abort(403)
    return window


@bp.route("/kiosk/<int:window_id>", methods=["GET", "POST"])
@login_required
def kiosk(window_id):
    """The tablet at a window, logged in once as the window's clerk: it rates only that clerk's case being
    served, once; the level comes from the citizen's tap (no default), the case from the server."""
    window = _kiosk_window(window_id)
    case = served_case(window, current_user.id, today())
    form = KioskRatingForm()
    screen, message = "levels", None
    if request.method == "POST":
        valid = form.validate_on_submit()   # (a missing CSRF token never gets here: CSRFProtect refuses it)
        if case is None or form.case_id.data != str(case.id):
            message = _l("The case being served has changed: please rate again.")
        elif valid:
            try:
                record_rating(case, form.level.data, channel="kiosk", reasons=form.reasons.data or [],
                              reason_text=form.reason_text.data or "", address=request.remote_addr)
                return redirect(url_for("ratings.kiosk_thanks", window_id=window.id))
            except RatingRefused as refused:
                message = refused.message
        elif form.level.data in BAD_LEVELS and not form.level.errors:
            screen = "reasons"
            if form.stage.data != "reasons":   # first tap on a bad level: ask, do not scold
                form.reasons.errors, form.reason_text.errors = [], []
        if screen == "levels" and case is not None:
            form = KioskRatingForm(formdata=None)
    return render_template("ratings/kiosk.html", window=window, clerk=current_user, case=case, form=form,
                           screen=screen, message=message, idle_seconds=KIOSK_IDLE_SECONDS, **_titles())


@bp.route("/kiosk/<int:window_id>/thanks")
@login_required
def kiosk_thanks(window_id):
    window = _kiosk_window(window_id)
    return render_template("ratings/kiosk.html", window=window, clerk=current_user, case=None, form=None,
                           screen="thanks", message=None, idle_seconds=KIOSK_THANKS_SECONDS, **_titles())


# ------------------------------------------------------------------ 未评 and the reminders

def sweep_unrated(on: date) -> list[tuple[int, int]]:
    """Mark 未评 every case past its rating window without a rating; returns (id, centre) of those marked."""
    cut = closed_before(on)
    finished = db.or_(ServiceCase.completed_on <= cut,
                      db.and_(ServiceCase.completed_on.is_(None), ServiceCase.state.in_(CLOSED_AT_INTAKE),
                              ServiceCase.intake_date <= cut))
    rows = [tuple(r) for r in db.session.execute(
        update(ServiceCase)
        .where(ServiceCase.rating_status == "", ServiceCase.voided.is_(False), finished)
        .values(rating_status=UNRATED, version=ServiceCase.version + 1)
        .returning(ServiceCase.id, ServiceCase.center_id),
        execution_options={"synchronize_session": False})]
    audit.bulk(ServiceCase.__table__.name, rows, "rating_status", "", UNRATED,
               comment="5 working days after completion without a rating")
    return rows


def reminders_due(center_id: int, at: datetime) -> list[ServiceCase]:
    """Cases finished over 24 hours ago, not rated, window still open, phone known: to remind (待提醒评价)."""
    due_day = (at - REMINDER_AFTER).date()   # finished on or before it: 24 hours have passed
    cut = closed_before(at.date())
    finished_in = lambda column: db.and_(column <= due_day, column > cut)  # noqa: E731
    return list(db.session.scalars(select(ServiceCase).where(
        ServiceCase.center_id == center_id, ServiceCase.voided.is_(False), ServiceCase.rating_status == "",
        ServiceCase.applicant_phone != "", ~ServiceCase.state.in_(OPEN_STATES),
        db.or_(finished_in(ServiceCase.completed_on),
               db.and_(ServiceCase.completed_on.is_(None), ServiceCase.state.in_(CLOSED_AT_INTAKE),
                       finished_in(ServiceCase.intake_date))))
        .order_by(db.func.coalesce(ServiceCase.completed_on, ServiceCase.intake_date), ServiceCase.id)))


@bp.route("/ratings/reminders")
@access.require_roles(*REMINDER_ROLES)
def reminders():
    center_id = access.current_center_id()
    cases = reminders_due(center_id, now())
    return render_template("ratings/reminders.html", cases=cases, last_day_to_rate=last_day_to_rate,
                           center=db.session.get(Center, center_id))


def mark_unrated_job(at: datetime) -> str:
    rows = sweep_unrated(at.date())
    db.session.commit()
    return f"{len(rows)} cases marked not rated"


def reminder_job(at: datetime) -> str:
    """Tell each centre's director once a day how many cases wait for a rating reminder (no SMS gateway)."""
    from app.notifications import notify_role
    sent = listed = 0
    for center_id in db.session.scalars(select(Center.id).where(Center.active.is_(True))):
        cases = reminders_due(center_id, at)
        if cases:
            listed += len(cases)
            sent += notify_role(center_id, DIRECTOR, f"{len(cases)} 件办件待提醒评价",
                                key=f"rating_reminders:{at.date().isoformat()}", link="/ratings/reminders")
    db.session.commit()
    return f"{listed} cases to remind, {sent} notifications"


def init_app(app) -> None:
    app.jinja_env.globals.update(rating_link=rating_link)


from app.features import Feature, Job, MenuLink  # noqa: E402  (the feature declaration closes the module)

FEATURE = Feature(
    "ratings", blueprints=[bp], init_app=init_app,
    menu=[MenuLink("ratings.reminders", _l("Ratings to remind"), frozenset(REMINDER_ROLES), group="cases")],
    jobs=[Job("ratings_unrated", "app.ratings:mark_unrated_job", {"hour": 0, "minute": 20},
              "Mark 未评 the cases 5 working days past completion without a rating"),
          Job("rating_reminders", "app.ratings:reminder_job", {"day_of_week": "*", "hour": 9, "minute": 30},
              "List the cases whose applicant should be reminded to rate", reminder=True)],
)
