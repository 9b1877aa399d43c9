"""Efficiency complaints (行政效能投诉) [000 投诉管理制度, 附件1 投诉指南, 附件2 流程, 附件3 反馈单; SPEC §4.4].

The flow of 附件1 第二条: received → registered → accepted (or not, with the reason and the proper
channel) → the feedback form with a proposal → the leader's instruction (批示) → direct investigation,
transfer or supervision (直查 / 转办 / 督办) → the result and feedback to the complainant → closed, or
appealed within 15 working days. Deadlines count working days from receipt through app.deadlines:
the decision within 3, a general complaint handled within 3, a complex one within 10, a special one
within 30 once the head approved the extension and the complainant was told in writing.

Rules are plain functions of dates and records (tests walk them across National Day); the views,
the public form and the jobs call them.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from flask import Blueprint, abort, render_template, request
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from sqlalchemy import func, select, update

from app import audit
from app.deadlines import working_day_deadline
from app.extensions import db
from app.records import operations
from app.records.registry import Field, ListView, PrintForm, RecordType, Refused, State, Transition, Workflow, register
from app.timeutil import now, today
from app.workdays import add_working_days
from models.catalogue import Department, Window
from models.complaint import Complaint
from models.core import COUNTY, DEPUTY, DIRECTOR, INSPECTOR, LEADER, RoleGrant, User

CHANNEL_CHOICES = (("in_person", _l("In person (来访)")), ("phone", _l("By phone (来电)")),
                   ("letter", _l("By letter (来信)")), ("platform", _l("Online platform")),
                   ("hotline", _l("12345 hotline")))
# Complaints by phone or letter bring their evidence within 3 working days [第二条 (一) 2].
EVIDENCE_LATER = ("phone", "letter")
TITLE_CHOICES = (("mr", "先生"), ("ms", "女士"))
URGENCY_CHOICES = (("normal", _l("Normal")), ("urgent", _l("Urgent")), ("very_urgent", _l("Very urgent")))
PROBLEM_CHOICES = (("attitude", _l("Attitude of service")), ("first_ask", _l("First-ask responsibility")),
                   ("time_limit", _l("Time-limited completion")), ("one_notice", _l("One-time notification")),
                   ("discipline", _l("Work discipline and conduct")), ("efficiency", _l("Efficiency of business")),
                   ("other", _l("Other")))
# Not accepted [第三条 (一) 2, (二)]: outside the centre's duties, and the four cases of (二).
REFUSAL_CHOICES = (("not_our_duty", _l("Not within the centre's duties")),
                   ("litigation_due", _l("To be settled by lawsuit, arbitration or reconsideration")),
                   ("in_procedure", _l("Already in petition, reconsideration, arbitration or court")),
                   ("against_result", _l("Against the result of a petition, reconsideration, arbitration or lawsuit")),
                   ("elsewhere", _l("Already complained to, or belongs to, another authority")))
MODE_CHOICES = (("direct", _l("Direct investigation (直查)")), ("transfer", _l("Transfer (转办)")),
                ("supervise", _l("Supervision (督办)")))
COMPLEXITY_CHOICES = (("general", _l("General: 3 working days")), ("complex", _l("Complex: 10 working days")),
                      ("special", _l("Special: up to 30 working days, approved")))
COMPLEXITY_DAYS = {"general": 3, "complex": 10, "special": 30}
# The outcomes of 第三条 (三) for a verified complaint, and "not verified".
OUTCOME_CHOICES = (("perform", _l("Ordered to perform the duty")),
                   ("stop_remedy", _l("Ordered to stop and remedy")),
                   ("sanction", _l("Talk, written self-criticism, criticism or loss of award eligibility")),
                   ("discipline", _l("Referred to discipline inspection")),
                   ("unfounded", _l("Not verified: explained to the complainant")))
FEEDBACK_CHOICES = (("phone", _l("By phone")), ("writing", _l("In writing")))
OPINION_CHOICES = (("satisfied", _l("Satisfied or basically satisfied")), ("unsatisfied", _l("Not satisfied")))
ACCEPTANCE_CHOICES = (("on_the_spot", _l("On the spot")), ("in_time", _l("Within 3 working days")),
                      ("late", _l("Decided late")))

HANDLERS = frozenset({INSPECTOR, DIRECTOR})            # the centre's complaint office (政务服务管理机构)
HEADS = frozenset({DIRECTOR, LEADER})                  # give the instruction (批示) and sign
READERS = frozenset({INSPECTOR, DEPUTY, DIRECTOR, LEADER, COUNTY})
# Who sees a confidential complainant in full: those who handle and decide. A deputy (who runs the
# windows complained about) and the county read the file without the complainant's identity.
UNMASK = frozenset({INSPECTOR, DIRECTOR, LEADER})
HANDLING_STATES = ("accepted", "in_handling")
OPEN_STATES = ("registered", *HANDLING_STATES)

DECISION_DAYS, APPEAL_DAYS = 3, 15
EXCELLENT_BAR, WINDOW_BAR, RETURN_BAR = 3, 3, 2   # verified complaints in a calendar year [第四条; 001 二(4)]


# ------------------------------------------------------------------ rules

def _day(value) -> date | None:
    return value.date() if isinstance(value, datetime) else value


def decision_due(received) -> date | None:
    """The acceptance decision: on the spot, at the latest the 3rd working day from receipt [第三条 (四) 3]."""
    received = _day(received)
    return working_day_deadline(received, DECISION_DAYS).due if received else None


def evidence_due(channel: str, received) -> date | None:
    """A complaint by phone or letter brings its evidence within 3 working days [第二条 (一) 2]."""
    received = _day(received)
    return working_day_deadline(received, 3).due if received and channel in EVIDENCE_LATER else None


def handling_due(received, complexity: str, extension_approved: bool = False) -> date | None:
    """The feedback deadline from receipt [第三条 (四) 1]: 3 working days, 10 when complex, 30 when special —
    but only with the head's approved extension; until then a special complaint counts as complex."""
    received = _day(received)
    if received is None:
        return None
    days = COMPLEXITY_DAYS.get(complexity or "general", 3)
    if complexity == "special" and not extension_approved:
        days = COMPLEXITY_DAYS["complex"]
    return working_day_deadline(received, days).due


def appeal_due(feedback_on: date | None) -> date | None:
    """The complainant may appeal within 15 working days of receiving the feedback [第三条 (五)]."""
    return working_day_deadline(feedback_on, APPEAL_DAYS).due if feedback_on else None


def may_appeal(complaint: Complaint, on: date) -> bool:
    due = appeal_due(complaint.feedback_on)
    return due is not None and complaint.feedback_on <= on <= due


def acceptance_kind(received, decided_on: date | None, due: date | None) -> str:
    received = _day(received)
    if decided_on is None or received is None:
        return ""
    if decided_on <= received:
        return "on_the_spot"
    return "in_time" if due is not None and decided_on <= due else "late"


@dataclass
class Consequences:
    """What a year's verified complaints mean [第四条; 001 二(4)]."""
    year: int
    not_excellent: list[tuple[User, int]] = field(default_factory=list)   # 3+: not rated 优秀
    windows: list[tuple[Window, int]] = field(default_factory=list)       # 3+: interview the head or replace
    return_clerks: list[tuple[User, int]] = field(default_factory=list)   # 2+ (window clerks): return them

    def __bool__(self) -> bool:
        return bool(self.not_excellent or self.windows or self.return_clerks)


def consequences(center_id: int, year: int) -> Consequences:
    """Count the verified complaints of a calendar year (by receipt) per person and per window."""
    from models.core import CLERK
    start, end = datetime(year, 1, 1), datetime(year + 1, 1, 1)
    verified = (Complaint.center_id == center_id, Complaint.voided.is_(False), Complaint.verified.is_(True),
                Complaint.received_at >= start, Complaint.received_at < end)
    people = db.session.execute(select(Complaint.staff_id, func.count())
                                .where(*verified, Complaint.staff_id.is_not(None)).group_by(Complaint.staff_id)).all()
    windows = db.session.execute(select(Complaint.window_id, func.count())
                                 .where(*verified, Complaint.window_id.is_not(None)).group_by(Complaint.window_id)).all()
    clerks = set(db.session.scalars(select(RoleGrant.user_id).where(RoleGrant.center_id == center_id,
                                                                     RoleGrant.role == CLERK)))
    out = Consequences(year)
    for user_id, n in sorted(people, key=lambda r: -r[1]):
        user = db.session.get(User, user_id)
        if n >= EXCELLENT_BAR:
            out.not_excellent.append((user, n))
        if n >= RETURN_BAR and user_id in clerks:
            out.return_clerks.append((user, n))
    out.windows = [(db.session.get(Window, w), n) for w, n in sorted(windows, key=lambda r: -r[1]) if n >= WINDOW_BAR]
    return out


# ------------------------------------------------------------------ set-based sweeps (jobs call these)

def _rows(stmt) -> list[tuple]:
    return [tuple(r) for r in db.session.execute(stmt, execution_options={"synchronize_session": False})]


_RETURNED = (Complaint.id, Complaint.center_id, Complaint.handler_id)


def sweep_decisions(on: date) -> list[tuple]:
    """Registered complaints still without an acceptance decision after its 3rd working day."""
    late = _rows(update(Complaint)
                 .where(Complaint.state == "registered", Complaint.voided.is_(False),
                        Complaint.decision_late.is_(False), Complaint.decision_due < on)
                 .values(decision_late=True, version=Complaint.version + 1).returning(*_RETURNED))
    audit.bulk(Complaint.__table__.name, late, "decision_late", "False", "True")
    return late


def sweep_warnings(on: date) -> list[tuple]:
    """Complaints in handling whose feedback is due on the next working day."""
    warned = _rows(update(Complaint)
                   .where(Complaint.state.in_(HANDLING_STATES), Complaint.voided.is_(False),
                          Complaint.warned.is_(False), Complaint.overdue.is_(False), Complaint.due_on > on,
                          Complaint.due_on <= add_working_days(on, 1))
                   .values(warned=True, version=Complaint.version + 1).returning(*_RETURNED))
    audit.bulk(Complaint.__table__.name, warned, "warned", "False", "True")
    return warned


def sweep_overdue(on: date) -> list[tuple]:
    """Complaints in handling past their feedback deadline."""
    overdue = _rows(update(Complaint)
                    .where(Complaint.state.in_(HANDLING_STATES), Complaint.voided.is_(False),
                           Complaint.overdue.is_(False), Complaint.due_on < on)
                    .values(overdue=True, version=Complaint.version + 1).returning(*_RETURNED))
    audit.bulk(Complaint.__table__.name, overdue, "overdue", "False", "True")
    return overdue


# ------------------------------------------------------------------ workflow hooks

def _not_future(ctx, day: date | None, field_name: str, earliest: date | None = None) -> None:
    if day is not None and day > ctx.today:
        raise Refused(_l("This day has not come yet."), field=field_name)
    if day is not None and earliest is not None and day < earliest:
        raise Refused(_l("This day comes before %(d)s.", d=earliest.isoformat()), field=field_name)


def _decide(ctx) -> None:
    c = ctx.record
    c.decided_on = ctx.today
    if c.decision_due is not None and c.decided_on > c.decision_due:
        c.decision_late = True


def _accept(ctx) -> None:
    c = ctx.record
    if c.complexity == "special" and not c.extension_approved:
        raise Refused(_l("A special complaint needs the head's approved extension: accept it as complex, "
                         "then ask for the extension."), field="complexity")
    if c.handling_mode in ("transfer", "supervise") and not c.department_id:
        raise Refused(_l("Name the department the complaint is transferred to."), field="department_id")
    _decide(ctx)


def _instruct(ctx) -> None:
    """The leader's instruction (批示): the handling starts; a transfer gets its number and date."""
    from printouts import next_number
    c = ctx.record
    c.instructed_by_id, c.instructed_on = ctx.user.id, ctx.today
    if c.handling_mode in ("transfer", "supervise"):
        c.transferred_on = c.transferred_on or ctx.today
        if not c.transfer_no:
            c.transfer_no = next_number(c.center_id, "complaint_transfer", ctx.today.year)


def _extend(ctx) -> None:
    """A special complaint: the head approves up to 30 working days, and the complainant is told in
    writing why, before the old deadline [第三条 (四) 1]."""
    c = ctx.record
    _not_future(ctx, c.extension_notified_on, "extension_notified_on", _day(c.received_at))
    if c.due_on is not None and c.extension_notified_on > c.due_on:
        raise Refused(_l("The complainant must be told before the current deadline (%(d)s).",
                         d=c.due_on.isoformat()), field="extension_notified_on")
    c.complexity, c.extension_approved, c.warned = "special", True, False


def _feedback(ctx) -> None:
    c = ctx.record
    _not_future(ctx, c.feedback_on, "feedback_on", _day(c.received_at))
    _not_future(ctx, c.signed_on, "signed_on", _day(c.received_at))
    if c.outcome == "unfounded" and c.verified:
        raise Refused(_l("A complaint not verified cannot count as verified."), field="verified")
    if c.outcome != "unfounded":
        c.verified = True
    if c.due_on is not None and c.feedback_on > c.due_on:
        c.overdue = True


def _close(ctx) -> None:
    """Closed once the complainant is satisfied; one who is not keeps the 15 working days to appeal."""
    c = ctx.record
    due = appeal_due(c.feedback_on)
    if c.complainant_opinion == "unsatisfied" and due is not None and ctx.today <= due:
        raise Refused(_l("The complainant is not satisfied and may still appeal until %(d)s.", d=due.isoformat()),
                      field="complainant_opinion")


def _appeal(ctx) -> None:
    c = ctx.record
    _not_future(ctx, c.appealed_on, "appealed_on", c.feedback_on)
    if not may_appeal(c, c.appealed_on):
        raise Refused(_l("An appeal comes within 15 working days of the feedback (until %(d)s).",
                         d=appeal_due(c.feedback_on).isoformat()), field="appealed_on")


COMPLAINT_WORKFLOW = Workflow(
    initial="registered",
    states=[
        State("registered", _l("Registered, awaiting decision"), "info"),
        State("accepted", _l("Accepted, awaiting instruction"), "info", rights={"edit": frozenset()}),
        State("in_handling", _l("In handling"), "info"),
        State("answered", _l("Answered"), "ok", rights={"edit": frozenset()}),
        State("appealed", _l("Appealed"), "warn", rights={"edit": frozenset()}),
        State("closed", _l("Closed"), "ok", final=True),
        State("refused", _l("Not accepted"), "bad", final=True),
    ],
    transitions=[
        Transition("accept", _l("Accept"), ("registered",), "accepted", HANDLERS,
                   requires=("complexity", "handling_mode", "proposal"),
                   fields=("department_id", "handler_id", "handler_phone"), on_apply=_accept),
        Transition("refuse", _l("Do not accept"), ("registered",), "refused", HANDLERS,
                   requires=("refusal_case", "refusal_reason", "proper_channel"), on_apply=_decide, css="danger"),
        Transition("instruct", _l("Give the instruction"), ("accepted",), "in_handling", HEADS,
                   requires=("instruction",), not_by_subject=True, approval=True, on_apply=_instruct),
        Transition("send_back", _l("Send the proposal back"), ("accepted",), "registered", HEADS,
                   not_by_subject=True, approval=True, comment_required=True, css="secondary"),
        Transition("extend", _l("Approve an extension to 30 working days"), ("in_handling",), "in_handling",
                   frozenset({DIRECTOR}), requires=("extension_reason", "extension_notified_on"),
                   not_by_subject=True, on_apply=_extend, css="secondary", worklist=False),
        Transition("feedback", _l("Record the result and the feedback"), ("in_handling",), "answered", HANDLERS,
                   requires=("result", "outcome", "feedback_method", "feedback_on", "signer_id", "signed_on"),
                   fields=("verified",), on_apply=_feedback),
        Transition("close", _l("Close"), ("answered",), "closed", HANDLERS,
                   requires=("complainant_opinion",), on_apply=_close),
        Transition("appeal", _l("Record an appeal"), ("answered",), "appealed", HANDLERS,
                   requires=("appealed_on", "appeal_text"), on_apply=_appeal, css="warn", worklist=False),
        Transition("close_appeal", _l("Record the review and close"), ("appealed",), "closed", HANDLERS,
                   requires=("appeal_result",)),
    ],
)


def _validate(ctx) -> dict:
    c, errors = ctx.record, {}
    if c.received_at and _day(c.received_at) > ctx.today:
        errors["received_at"] = _l("The day of receipt cannot be in the future.")
    if not (c.window_id or c.staff_id or (c.staff_named or "").strip()):
        errors["window_id"] = _l("Name the window or the person complained about.")
    window = db.session.get(Window, c.window_id) if c.window_id else None
    if c.window_id and (window is None or window.center_id != c.center_id):
        errors["window_id"] = _l("Choose a window of this centre.")
    return errors


def _before_save(ctx) -> None:
    from printouts import next_number
    c = ctx.record
    if not c.number:
        c.number = next_number(c.center_id, "complaint", _day(c.received_at).year)


def complaint_flags(c: Complaint) -> list:
    flags = []
    if c.confidential:
        flags.append((_l("Confidential"), "warn"))
    if c.decision_late:
        flags.append((_l("Acceptance decision late"), "bad"))
    if c.overdue:
        flags.append((_l("Overdue"), "bad"))
    elif c.warned:
        flags.append((_l("Due next working day"), "warn"))
    return flags


def _sample(center) -> Complaint:
    """A complaint received on a Monday, registered by phone: for the generated tests."""
    c = Complaint(center_id=center.id, state="registered", channel="phone", received_at=datetime(2026, 11, 23, 9, 30),
                  complainant_title="mr", complainant_name="王五", complainant_phone="13900000000",
                  matter="窗口工作人员态度生硬", facts="办理社保登记时被要求多次往返", urgency="normal",
                  problem_type="attitude", staff_named="某窗口工作人员")
    operations.compute(COMPLAINTS, c, None)
    db.session.add(c)
    _before_save(COMPLAINTS.ctx(c, None))
    db.session.flush()
    return c


# The warning lists a manager's worklist shows as exceptions; each counts and opens the same records.
COMPLAINT_VIEWS = (
    ListView("decision_due", _l("Acceptance decision due"),
             lambda on: db.and_(Complaint.state == "registered", Complaint.decision_due >= on,
                                Complaint.decision_due <= add_working_days(on, 1)), "warn"),
    ListView("due_soon", _l("Feedback due within 1 working day"),
             lambda on: db.and_(Complaint.state.in_(HANDLING_STATES), Complaint.due_on >= on,
                                Complaint.due_on <= add_working_days(on, 1)), "warn"),
    ListView("overdue", _l("Overdue"),
             lambda on: db.or_(db.and_(Complaint.state.in_(HANDLING_STATES),
                                       db.or_(Complaint.overdue.is_(True), Complaint.due_on < on)),
                               db.and_(Complaint.state == "registered",
                                       db.or_(Complaint.decision_late.is_(True), Complaint.decision_due < on))),
             "bad"),
)


COMPLAINTS = register(RecordType(
    key="complaints", model=Complaint, title=_l("Efficiency complaint"), title_plural=_l("Efficiency complaints"),
    nav_group="supervision", subject="staff_id", owner="handler_id",
    permissions={"read": READERS, "create": HANDLERS, "edit": HANDLERS, "void": frozenset({DIRECTOR}),
                 "print": READERS, "export": READERS},
    workflow=COMPLAINT_WORKFLOW, unmask_roles=UNMASK, views=COMPLAINT_VIEWS, flags=complaint_flags,
    withheld_from="staff_id",   # the person complained about never reads or handles it
    validate=_validate, before_save=_before_save, sample=_sample,
    prefill=lambda ctx: {"received_at": now().replace(second=0, microsecond=0), "channel": "in_person",
                         "handler_id": ctx.user.id},
    fields=[
        Field("number", _l("Complaint number"), kind="str", in_form=False, in_list=True, search="prefix"),
        Field("channel", _l("Source"), choices=CHANNEL_CHOICES, required=True, filter=True),
        Field("received_at", _l("Received at"), required=True, in_list=True, filter=True),
        Field("complainant_title", _l("Mr or Ms"), choices=TITLE_CHOICES),
        Field("complainant_name", _l("Complainant"), kind="secret", mask=True, required=True, in_list=True),
        Field("complainant_phone", _l("Contact phone"), kind="secret_phone", mask=True, required=True),
        Field("confidential", _l("Keep the complainant confidential"), filter=True),
        Field("incoming_line", _l("Line called"), help=_l("The centre's line the call came in on.")),
        Field("window_id", _l("Window complained about"), ref=Window, in_list=True, filter=True),
        Field("staff_id", _l("Staff member complained about"), kind="user", filter=True),
        Field("staff_named", _l("Person as named by the complainant")),
        Field("matter", _l("Problem reported"), required=True, in_list=True, search=True),
        Field("facts", _l("Facts and reasons"), required=True),
        Field("urgency", _l("Urgency"), choices=URGENCY_CHOICES, required=True, filter=True),
        Field("problem_type", _l("Type of problem"), choices=PROBLEM_CHOICES, filter=True),
        Field("evidence_due", _l("Evidence due"), compute=lambda ctx: evidence_due(ctx.record.channel,
                                                                                   ctx.record.received_at),
              depends=("channel", "received_at")),
        Field("decision_due", _l("Acceptance decision due"), compute=lambda ctx: decision_due(ctx.record.received_at),
              depends=("received_at",)),
        Field("decided_on", _l("Decided on"), in_form=False),
        Field("acceptance", _l("Acceptance"), choices=ACCEPTANCE_CHOICES,
              compute=lambda ctx: acceptance_kind(ctx.record.received_at, ctx.record.decided_on,
                                                  ctx.record.decision_due),
              depends=("received_at", "decided_on", "decision_due")),
        Field("decision_late", _l("Acceptance decision late"), in_form=False, filter=True),
        Field("refusal_case", _l("Why not accepted"), choices=REFUSAL_CHOICES, in_form=False),
        Field("refusal_reason", _l("Reasons and basis"), kind="text", in_form=False),
        Field("proper_channel", _l("Where to complain instead"), in_form=False),
        Field("handling_mode", _l("Handling"), choices=MODE_CHOICES, in_form=False, filter=True),
        Field("complexity", _l("Complexity"), choices=COMPLEXITY_CHOICES, in_form=False),
        Field("department_id", _l("Department handling it"), ref=Department, in_form=False),
        Field("transfer_no", _l("Transfer number")),
        Field("transferred_on", _l("Transferred on"), in_form=False),
        Field("proposal", _l("Proposed handling"), kind="text", in_form=False),
        Field("instruction", _l("Leader's instruction"), kind="text", in_form=False),
        Field("instructed_by_id", _l("Instructed by"), kind="user", in_form=False),
        Field("instructed_on", _l("Instructed on"), in_form=False),
        Field("extension_approved", _l("Extension approved"), in_form=False),
        Field("extension_reason", _l("Reason for the extension"), kind="text", in_form=False),
        Field("extension_notified_on", _l("Complainant told in writing on"), in_form=False),
        Field("due_on", _l("Feedback due"), in_list=True, filter=True,
              compute=lambda ctx: handling_due(ctx.record.received_at, ctx.record.complexity,
                                               ctx.record.extension_approved),
              depends=("received_at", "complexity", "extension_approved")),
        Field("warned", _l("Due next working day"), in_form=False),
        Field("overdue", _l("Overdue"), in_form=False, filter=True),
        Field("handler_id", _l("Handled by"), kind="user", filter=True),
        Field("handler_phone", _l("Handler's phone"), kind="phone"),
        Field("result", _l("Result"), kind="text", in_form=False),
        Field("outcome", _l("Outcome"), choices=OUTCOME_CHOICES, in_form=False, filter=True),
        Field("verified", _l("Verified"), in_form=False, filter=True,
              help=_l("Found true on investigation: counts for the year's consequences.")),
        Field("feedback_method", _l("Feedback given"), choices=FEEDBACK_CHOICES, in_form=False),
        Field("feedback_on", _l("Feedback on"), in_form=False),
        Field("signer_id", _l("Signed off by"), kind="user", in_form=False),
        Field("signed_on", _l("Signed off on"), in_form=False),
        Field("complainant_opinion", _l("Complainant's opinion"), choices=OPINION_CHOICES, in_form=False),
        Field("appeal_due", _l("Appeal possible until"), compute=lambda ctx: appeal_due(ctx.record.feedback_on),
              depends=("feedback_on",)),
        Field("appealed_on", _l("Appealed on"), in_form=False),
        Field("appeal_text", _l("The appeal"), kind="text", in_form=False),
        Field("appeal_result", _l("Result of the review"), kind="text", in_form=False),
    ],
    prints=[PrintForm("feedback", _l("Complaint feedback form"), "print/complaint_feedback.html",
                      states=("accepted", "in_handling", "answered", "appealed", "closed"))],
))


# ------------------------------------------------------------------ pages

bp = Blueprint("complaints", __name__, url_prefix="/complaints")


@bp.route("/consequences")
@login_required
def consequences_page():
    """The year's verified complaints and what follows from them, for the centre's managers."""
    from app import access
    from app.params import parse_int
    center = access.current_center()
    if center is None or not access.roles_in(current_user, center.id) & (HEADS | {DEPUTY, INSPECTOR}):
        abort(403)
    year = parse_int(request.args.get("year")) or today().year
    if not 2000 <= year <= 2100:
        abort(404)
    return render_template("complaints/consequences.html", result=consequences(center.id, year), center=center,
                           year=year)


def may_unmask_complaint(record) -> bool:
    """For the paper form: may the reader see a confidential complainant in full?"""
    from app.records.forms import may_unmask
    return may_unmask(COMPLAINTS, current_user, record.center_id)


def init_app(app) -> None:
    app.jinja_env.globals.update(complaint_unmask=may_unmask_complaint)


from app.complaints_public import bp as public_bp  # noqa: E402  (its form registers complaints of this type)
from app.features import Feature, Job, MenuLink  # noqa: E402  (the feature declaration closes the module)

FEATURE = Feature(
    "complaints", types=("app.complaints",), blueprints=[bp, public_bp], init_app=init_app,
    menu=[MenuLink("complaints.consequences_page", _l("Complaint consequences"),
                   frozenset({INSPECTOR, DEPUTY, DIRECTOR, LEADER}), group="supervision")],
    jobs=[Job("complaint_deadlines", "jobs.complaint_jobs:complaint_deadlines", {"hour": "0,8,13", "minute": 10},
              "Flag late acceptance decisions and overdue complaints"),
          Job("complaint_warnings", "jobs.complaint_jobs:complaint_warnings",
              {"day_of_week": "*", "hour": 9, "minute": 5},
              "Warn of complaints whose feedback is due on the next working day", reminder=True)],
)
