"""The bad-review closed loop (差评闭环) [000 好差评制度 §18, §19, §21, §25; SPEC §4.3].

Every bad review (不满意 / 非常不满意) opens one record when the rating is stored (app.ratings calls
`open_for`): found → verified as valid, not valid, or malicious → rectified and answered to the citizen →
follow-up visit with the citizen's satisfaction → closed. Targets [§21]: every bad review answered, every
valid one followed up.

- Malicious (主观恶意差评) needs the director's approval; approved, the rater's phone goes on the centre's
  dishonesty list (政务服务失信名单) [§18]. A malicious review is not answered and leaves the reply rate.
- A review found not valid is still answered (explained) [§21: 100 % 回复], then closed without a visit.
- The deadline: the regulation says only "限期整改…及时反馈" [§19]. We answer by the 5th working day counted
  from the rating day (the project's working-day convention, app.deadlines) — the same span the citizen has
  to rate [§17] and between the complaint rules' 3 (general) and 10 (complex) working days.
- The rater's name and phone are read only by those who follow up (deputy, director) [§25]; the clerk rated
  reads their own bad reviews without them; leaders, inspectors and the county read them masked.
- The dishonesty list (失信名单) page `/bad-reviews/dishonest`: the centre's listed phones for the readers of
  bad reviews (the phone in full for those who follow up, masked for the others); the director removes an
  entry with a reason, written to the audit trail. A listed phone still rates [§14: §18 lists the rater,
  it takes away no right to rate]; its bad reviews open as any other and carry a flag for those who follow
  them up (`bad_review_flags`), so the verification knows the history.
"""
from __future__ import annotations

from datetime import date

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import func, select, update

from app import access, audit
from app.deadlines import working_day_deadline
from app.extensions import db
from app.records import operations
from app.records.registry import (SUBJECT, Field, ListView, RecordType, Refused, State, Transition, Workflow,
                                  register)
from app.workdays import add_working_days
from models.bad_review import BadReview, DishonestRater
from models.catalogue import Matter, Window
from models.core import COUNTY, DEPUTY, DIRECTOR, INSPECTOR, LEADER, AuditEntry, User

ANSWER_WORKING_DAYS = 5
FOLLOWERS = frozenset({DEPUTY, DIRECTOR})        # verify, rectify, answer, visit [§21 差评处置负责人]
READERS = frozenset({DEPUTY, DIRECTOR, LEADER, INSPECTOR, COUNTY})
VERDICT_CHOICES = (("valid", _l("Valid")), ("invalid", _l("Not valid")), ("malicious", _l("Malicious")))
FOLLOWUP_CHOICES = (("satisfied", _l("Satisfied")), ("unsatisfied", _l("Not satisfied")))
BEFORE_ANSWER = ("found", "valid", "invalid", "malicious_proposed")


# ------------------------------------------------------------------ rules

def answer_due(rated_on: date | None) -> date | None:
    """Rectify and answer by the 5th working day from the rating day (day 1 when it is a working day)."""
    return working_day_deadline(rated_on, ANSWER_WORKING_DAYS).due if rated_on else None


def open_for(rating) -> BadReview | None:
    """Open the closed loop of a bad review just stored (app.ratings.record_rating); None for a good one."""
    from forms.ratings import REASON_TITLES
    if not rating.is_bad:
        return None
    case = rating.case
    reasons = "；".join([str(REASON_TITLES.get(code, code)) for code in rating.reason_codes]
                       + ([rating.reason_text] if rating.reason_text else []))
    review = BadReview(center_id=rating.center_id, state="found", rating_id=rating.id, case_id=rating.case_id,
                       window_id=rating.window_id, clerk_id=rating.clerk_id, matter_id=rating.matter_id,
                       level=rating.level, reasons=reasons, rated_on=rating.rated_at.date(),
                       rater_name=(case.applicant_name or "") if case else "",
                       rater_phone=(case.applicant_phone or "") if case else "")
    operations.compute(BAD_REVIEWS, review, None)
    db.session.add(review)
    db.session.flush()
    return review


def is_dishonest(center_id: int, phone: str) -> bool:
    return bool(phone) and db.session.scalar(select(DishonestRater.id).where(
        DishonestRater.center_id == center_id, DishonestRater.phone == phone)) is not None


def listed_phones(center_id: int) -> frozenset[str]:
    """The centre's listed phones, read once per request (the list pages flag each row from it)."""
    cache = g.setdefault("_dishonest_phones", {})
    if center_id not in cache:
        cache[center_id] = frozenset(db.session.scalars(select(DishonestRater.phone).where(
            DishonestRater.center_id == center_id)))
    return cache[center_id]


def remove_listing(entry: DishonestRater, reason: str, user) -> None:
    """Take a phone off the dishonesty list (the director, with a reason): the row goes, the audit trail keeps
    what it was, who removed it and why."""
    db.session.add(AuditEntry(center_id=entry.center_id, record_table=DishonestRater.__tablename__,
                              record_id=entry.id, user_id=user.id, action="void", field="phone",
                              before=entry.phone, after="", comment=reason))
    review = db.session.get(BadReview, entry.bad_review_id)
    if review is not None:   # the bad review's own trail says it too (without the phone: the trail is read widely)
        db.session.add(AuditEntry(center_id=entry.center_id, record_table=BadReview.__tablename__,
                                  record_id=review.id, user_id=user.id, action="transition", field="state",
                                  before=review.state, after=review.state, comment=f"移出失信名单：{reason}"))
    db.session.delete(entry)
    g.pop("_dishonest_phones", None)


def sweep_overdue(on: date) -> list[tuple]:
    """Set-based and audited: bad reviews not answered past their deadline (the job calls it)."""
    rows = [tuple(r) for r in db.session.execute(
        update(BadReview)
        .where(BadReview.state.in_(BEFORE_ANSWER), BadReview.voided.is_(False), BadReview.overdue.is_(False),
               BadReview.answer_due < on)
        .values(overdue=True, version=BadReview.version + 1)
        .returning(BadReview.id, BadReview.center_id, BadReview.handler_id),
        execution_options={"synchronize_session": False})]
    audit.bulk(BadReview.__table__.name, rows, "overdue", "False", "True",
               comment=f"not answered within {ANSWER_WORKING_DAYS} working days")
    return rows


def overdue_job(at) -> str:
    rows = sweep_overdue(at.date())
    db.session.commit()
    from app.notifications import notify_role
    sent = 0
    for review_id, center_id, _handler in rows:
        sent += notify_role(center_id, DIRECTOR, "差评超过整改反馈期限", key=f"bad-review-overdue:{review_id}",
                            body=f"差评 {review_id}", link=f"/r/bad-reviews/{review_id}")
    db.session.commit()
    return f"{len(rows)} bad reviews overdue, {sent} notifications"


# ------------------------------------------------------------------ workflow hooks

def _not_future(ctx, day, field_name: str) -> None:
    if day is not None and day > ctx.today:
        raise Refused(_l("This day has not come yet."), field=field_name)
    if day is not None and ctx.record.rated_on is not None and day < ctx.record.rated_on:
        raise Refused(_l("This day comes before %(d)s.", d=ctx.record.rated_on.isoformat()), field=field_name)


def _verdict(verdict: str):
    def apply(ctx) -> None:
        r = ctx.record
        r.verdict, r.verified_on, r.verified_by_id = verdict, ctx.today, ctx.user.id
        r.handler_id = r.handler_id or ctx.user.id   # who verifies follows it up unless someone is named
    return apply


def _approve_malicious(ctx) -> None:
    """The director confirms: the rater's phone goes on the dishonesty list [§18]."""
    r = ctx.record
    r.malicious_approved_by_id = ctx.user.id
    if r.rater_phone and not is_dishonest(r.center_id, r.rater_phone):
        db.session.add(DishonestRater(center_id=r.center_id, phone=r.rater_phone, bad_review_id=r.id,
                                      listed_on=ctx.today, listed_by_id=ctx.user.id, reason=r.findings))


def _reject_malicious(ctx) -> None:
    r = ctx.record
    r.verdict, r.verified_on, r.verified_by_id = "", None, None


def _answer(ctx) -> None:
    r = ctx.record
    _not_future(ctx, r.answered_on, "answered_on")
    r.answered_by_id = ctx.user.id
    if r.answer_due is not None and r.answered_on > r.answer_due:
        r.overdue = True


def _follow_up(ctx) -> None:
    r = ctx.record
    _not_future(ctx, r.followup_on, "followup_on")
    if r.answered_on is not None and r.followup_on < r.answered_on:
        raise Refused(_l("The visit comes after the answer (%(d)s).", d=r.answered_on.isoformat()),
                      field="followup_on")
    r.followed_up_by_id = ctx.user.id


BAD_REVIEW_WORKFLOW = Workflow(
    initial="found",
    states=[
        State("found", _l("Found, awaiting verification"), "info"),
        State("malicious_proposed", _l("Malicious? Awaiting the director"), "info"),
        State("valid", _l("Valid, awaiting rectification and answer"), "info"),
        State("invalid", _l("Not valid, awaiting the answer"), "info"),
        State("answered", _l("Answered, awaiting the follow-up visit"), "info"),
        State("closed", _l("Closed"), "ok", final=True),
        State("malicious", _l("Malicious: rater on the dishonesty list"), "bad", final=True),
    ],
    transitions=[
        Transition("verify_valid", _l("Verified: valid"), ("found",), "valid", FOLLOWERS,
                   requires=("findings",), approval=True, on_apply=_verdict("valid")),
        Transition("verify_invalid", _l("Verified: not valid"), ("found",), "invalid", FOLLOWERS,
                   requires=("findings",), approval=True, on_apply=_verdict("invalid"), css="secondary"),
        Transition("propose_malicious", _l("Verified: malicious, ask the director"), ("found",),
                   "malicious_proposed", FOLLOWERS, requires=("findings",), approval=True,
                   on_apply=_verdict("malicious"), css="danger"),
        Transition("approve_malicious", _l("Approve: malicious, list the rater as dishonest"),
                   ("malicious_proposed",), "malicious", frozenset({DIRECTOR}), approval=True,
                   comment_required=True, on_apply=_approve_malicious, css="danger"),
        Transition("reject_malicious", _l("Not malicious: verify again"), ("malicious_proposed",), "found",
                   frozenset({DIRECTOR}), approval=True, comment_required=True, on_apply=_reject_malicious,
                   css="secondary"),
        Transition("answer", _l("Record the rectification and the answer"), ("valid",), "answered", FOLLOWERS,
                   requires=("rectification", "answer_text", "answered_on"), on_apply=_answer),
        Transition("explain", _l("Record the answer and close"), ("invalid",), "closed", FOLLOWERS,
                   requires=("answer_text", "answered_on"), on_apply=_answer),
        Transition("follow_up", _l("Record the follow-up visit and close"), ("answered",), "closed", FOLLOWERS,
                   requires=("followup_on", "followup_result"), fields=("followup_note",), on_apply=_follow_up),
    ],
)


def bad_review_flags(r: BadReview) -> list:
    flags = []
    if r.overdue:
        flags.append((_l("Answer overdue"), "bad"))
    elif r.followup_result == "unsatisfied":
        flags.append((_l("Citizen not satisfied"), "warn"))
    if _rater_listed(r):
        flags.append((_l("Rater on the dishonesty list"), "warn"))
    return flags


def _rater_listed(r: BadReview) -> bool:
    """A bad review whose rater's phone is on the centre's list (listed by this review or since): shown to
    those who follow bad reviews up only."""
    if not r.rater_phone or r.center_id is None:
        return False
    if not (getattr(current_user, "is_authenticated", False)
            and access.roles_in(current_user, r.center_id) & FOLLOWERS):
        return False
    return r.rater_phone in listed_phones(r.center_id)


def _sample(center) -> BadReview:
    """A bad review of a completed case, opened as a stored rating opens it: for the generated tests."""
    from datetime import datetime

    from models.case import ServiceCase
    from models.core import CLERK, RoleGrant
    from models.voice import LEVEL_SCORES, Rating
    clerk = db.session.scalar(select(RoleGrant.user_id).where(RoleGrant.center_id == center.id,
                                                              RoleGrant.role == CLERK))
    window = Window(center_id=center.id, number=9, name="综合窗口")
    db.session.add(window)
    db.session.flush()
    matter = Matter(center_id=center.id, name="临时救助申请", window_id=window.id, business_line="民政",
                    statutory_days=20, promised_days=5)
    db.session.add(matter)
    db.session.flush()
    day = date(2026, 11, 23)
    case = ServiceCase(center_id=center.id, matter_id=matter.id, window_id=window.id, state="completed",
                       applicant_name="赵六", applicant_phone="13800001111", intake_date=day, completed_on=day,
                       receipt_no=f"2026-9{center.id:02d}{db.session.scalar(select(db.func.count(ServiceCase.id))):05d}",
                       responsible_id=clerk, kind="promised", rating_status="rated")
    db.session.add(case)
    db.session.flush()
    rating = Rating(center_id=center.id, case_id=case.id, window_id=window.id, clerk_id=clerk, matter_id=matter.id,
                    level="dissatisfied", score=LEVEL_SCORES["dissatisfied"], channel="paper",
                    rated_at=datetime(2026, 11, 23, 10, 0), reasons="attitude")
    db.session.add(rating)
    db.session.flush()
    return open_for(rating)


# Warning lists: a manager's worklist shows them as exceptions; each counts and opens the same records.
BAD_REVIEW_VIEWS = (
    ListView("due_soon", _l("Answer due within 1 working day"),
             lambda on: db.and_(BadReview.state.in_(BEFORE_ANSWER), BadReview.answer_due >= on,
                                BadReview.answer_due <= add_working_days(on, 1)), "warn"),
    ListView("overdue", _l("Answer overdue"),
             lambda on: db.and_(BadReview.state.in_(BEFORE_ANSWER),
                                db.or_(BadReview.overdue.is_(True), BadReview.answer_due < on)), "bad"),
    ListView("awaiting_visit", _l("Awaiting the follow-up visit"), lambda on: BadReview.state == "answered"),
    ListView("unsatisfied", _l("Citizen not satisfied at the visit"),
             lambda on: BadReview.followup_result == "unsatisfied"),
)


def _level_choices():
    from forms.ratings import LEVEL_TITLES
    return tuple((code, LEVEL_TITLES[code]) for code in ("dissatisfied", "very_dissatisfied"))


BAD_REVIEWS = register(RecordType(
    key="bad-reviews", model=BadReview, title=_l("Bad review"), title_plural=_l("Bad reviews"),
    nav_group="supervision", subject="clerk_id", owner="handler_id",
    # The clerk rated reads their own bad reviews (SUBJECT); nobody writes one by hand: a rating opens it.
    permissions={"read": READERS | {SUBJECT}, "create": frozenset(), "edit": FOLLOWERS,
                 "void": frozenset({DIRECTOR}), "print": READERS, "export": READERS},
    workflow=BAD_REVIEW_WORKFLOW, unmask_roles=FOLLOWERS, views=BAD_REVIEW_VIEWS, flags=bad_review_flags,
    sample=_sample, default_sort="-rated_on",
    fields=[
        Field("rated_on", _l("Rated on"), in_form=False, in_list=True, filter=True),
        Field("level", _l("Level"), choices=_level_choices(), in_form=False, in_list=True, filter=True),
        Field("clerk_id", _l("Staff member rated"), kind="user", in_form=False, in_list=True, filter=True),
        Field("window_id", _l("Window"), ref=Window, in_form=False, in_list=True, filter=True),
        Field("matter_id", _l("Matter"), ref=Matter, in_form=False),
        Field("reasons", _l("Reasons given"), kind="text", in_form=False),
        Field("rater_name", _l("Rater"), kind="secret", mask=True, in_form=False),
        Field("rater_phone", _l("Rater's phone"), kind="secret_phone", mask=True, in_form=False),
        Field("answer_due", _l("Answer due"), compute=lambda ctx: answer_due(ctx.record.rated_on),
              depends=("rated_on",), in_list=True, filter=True),
        Field("overdue", _l("Overdue"), in_form=False, filter=True),
        Field("handler_id", _l("Followed up by"), kind="user", in_list=True, filter=True),
        Field("verdict", _l("Verification"), choices=VERDICT_CHOICES, in_form=False, filter=True),
        Field("findings", _l("What the verification found"), kind="text", in_form=False),
        Field("verified_on", _l("Verified on"), in_form=False),
        Field("verified_by_id", _l("Verified by"), kind="user", in_form=False),
        Field("malicious_approved_by_id", _l("Malicious approved by"), kind="user", in_form=False),
        Field("rectification", _l("Rectification"), kind="text", in_form=False),
        Field("answer_text", _l("Answer to the citizen"), kind="text", in_form=False),
        Field("answered_on", _l("Answered on"), in_form=False),
        Field("answered_by_id", _l("Answered by"), kind="user", in_form=False),
        Field("followup_on", _l("Follow-up visit on"), in_form=False),
        Field("followup_result", _l("Citizen's satisfaction at the visit"), choices=FOLLOWUP_CHOICES,
              in_form=False, filter=True),
        Field("followup_note", _l("Notes of the visit"), kind="text", in_form=False),
        Field("followed_up_by_id", _l("Visited by"), kind="user", in_form=False),
    ],
))


# ------------------------------------------------------------------ the dishonesty list: /bad-reviews/dishonest

bp = Blueprint("bad_reviews", __name__)
REMOVE_REASON_MAX = 500


def _dishonest_rows(center_id: int) -> list[tuple]:
    """(entry, listed by, bad reviews from that phone since it was listed) of the centre, newest first."""
    later = (select(func.count(BadReview.id)).where(
        BadReview.center_id == DishonestRater.center_id, BadReview.rater_phone == DishonestRater.phone,
        BadReview.id != DishonestRater.bad_review_id, BadReview.rated_on >= DishonestRater.listed_on,
        BadReview.voided.is_(False)).correlate(DishonestRater).scalar_subquery())
    return [tuple(r) for r in db.session.execute(
        select(DishonestRater, User, later).outerjoin(User, User.id == DishonestRater.listed_by_id)
        .where(DishonestRater.center_id == center_id)
        .order_by(DishonestRater.listed_on.desc(), DishonestRater.id.desc()))]


def _render_dishonest(center_id: int, errors: dict | None = None, reason: str = "", status: int = 200):
    from app.records.kinds import mask_secret
    from models.core import Center
    roles = access.roles_in(current_user, center_id)
    unmask = bool(roles & FOLLOWERS)
    return render_template("bad_reviews/dishonest.html", rows=_dishonest_rows(center_id),
                           center=db.session.get(Center, center_id), can_remove=DIRECTOR in roles,
                           phone=(lambda p: p) if unmask else mask_secret, errors=errors or {}, reason=reason,
                           reason_max=REMOVE_REASON_MAX), status


@bp.route("/bad-reviews/dishonest")
@access.require_roles(*READERS)
def dishonest():
    return _render_dishonest(access.current_center_id())


@bp.route("/bad-reviews/dishonest/<int:entry_id>/remove", methods=["POST"])
@access.require_roles(*READERS)
def remove_dishonest(entry_id):
    entry = db.session.get(DishonestRater, entry_id)
    if entry is None or entry.center_id not in access.visible_center_ids(current_user):
        abort(404)
    if DIRECTOR not in access.roles_in(current_user, entry.center_id):
        abort(403)
    reason = (request.form.get("reason") or "").strip()
    error = None
    if not reason:
        error = _l("Give the reason for taking this phone off the list.")
    elif len(reason) > REMOVE_REASON_MAX:
        error = _l("At most %(n)s characters.", n=REMOVE_REASON_MAX)
    if error:
        return _render_dishonest(entry.center_id, errors={entry.id: error}, reason=reason, status=400)
    remove_listing(entry, reason, current_user)
    db.session.commit()
    flash(_l("The phone was taken off the dishonesty list."), "success")
    return redirect(url_for("bad_reviews.dishonest"))


from app.features import Feature, Job, MenuLink  # noqa: E402  (the feature declaration closes the module)

FEATURE = Feature(
    "bad_reviews", types=("app.bad_reviews",), blueprints=[bp],
    menu=[MenuLink("bad_reviews.dishonest", _l("Dishonesty list"), READERS, group="supervision")],
    jobs=[Job("bad_reviews_overdue", "app.bad_reviews:overdue_job", {"hour": "0,8,13", "minute": 15},
              "Flag bad reviews not rectified and answered within 5 working days")],
)
