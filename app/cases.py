"""Service cases (办件): the rules of 首问负责, 一次性告知, 限时办结 and 审管分离, and their declarations.

Rules are plain functions taking explicit dates, so tests can walk a case across National Day.
Views and jobs call them; nothing here reads the clock except through the `today` they pass.
"""
from __future__ import annotations

from datetime import date

from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update
from sqlalchemy.orm import joinedload

from app.access import STAFF
from app.deadlines import working_day_deadline
from app.extensions import db
from app.records.registry import Child, Field, PrintForm, RecordType, State, Transition, Workflow, register
from app.timeutil import today
from app.workdays import add_working_days, next_working_day
from models.case import OPEN_STATES, CaseExtension, CaseHandover, CaseMaterial, ServiceCase
from models.catalogue import Department, Matter, Window
from models.core import ADMIN, AGENT, CLERK, COUNTY, DEPUTY, DIRECTOR, LEADER

KIND_CHOICES = (("consult", _l("Consultation (咨询件)")), ("immediate", _l("Immediate (即办件)")),
                ("promised", _l("Promised (承诺件)")), ("joint", _l("Joint (联办件)")),
                ("reported", _l("Reported upward (上报件)")))
CHANNEL_CHOICES = (("window", _l("At the window")), ("online", _l("Online")), ("agency", _l("Agency service")),
                   ("village", _l("Village service point")), ("appointment", _l("Appointment")))
DELIVERY_CHOICES = (("pickup", _l("Picked up at the window")), ("mail", _l("By mail")), ("online", _l("Online")))
MATERIAL_FORM_CHOICES = (("original", _l("Original")), ("copy", _l("Copy")), ("both", _l("Original and copy")))
OVERDUE_REASONS = {
    "past_due": _l("Past the promised date without completion"),
    "completed_late": _l("Completed after the promised date"),
    "delivered_late": _l("Result delivered after the promised date"),
    "late_extension": _l("Extension asked after the deadline"),
    "no_reply": _l("No reply: not handled by the next working day"),
}
WORKERS = frozenset({CLERK, AGENT})
HANDLERS = WORKERS | {DEPUTY, DIRECTOR}
READERS = STAFF | {COUNTY}


# ------------------------------------------------------------------ rules

def missing_materials(matter: Matter, received) -> list[str]:
    """The matter's materials not received in the required number of copies [一次性告知]."""
    got: dict[str, int] = {}
    for row in received:
        if row.name:
            got[row.name.strip()] = got.get(row.name.strip(), 0) + (row.copies or 0)
    return [m.name for m in matter.materials if got.get(m.name.strip(), 0) < max(m.copies, 1)]


def start_clock(case: ServiceCase, day: date) -> None:
    """The promise counts from `day` (acceptance, or the supplement's arrival): day 1 is its working day."""
    case.clock_start = day
    promised = max(case.matter.promised_days, 1)
    deadline = working_day_deadline(day, promised)
    case.day_one = deadline.day_one
    case.due_date = add_working_days(deadline.due, case.applicant_delay_days or 0)
    case.provisional = deadline.provisional


def add_applicant_delay(case: ServiceCase, days: int) -> None:
    """Days the applicant caused (申请人原因) do not count: the due date moves by that many working days."""
    case.applicant_delay_days = (case.applicant_delay_days or 0) + days
    if case.due_date:
        case.due_date = add_working_days(case.due_date, days)


def late_reason_on_finish(case: ServiceCase, day: date, reason: str) -> None:
    """A case finished (completed or delivered) after its promised date is overdue."""
    due = case.effective_due
    if due is not None and day > due and not case.overdue:
        case.overdue, case.overdue_reason = True, reason


def handover_deadline(case: ServiceCase) -> date:
    """Centre → department the same day, at most the next working day [000 审管分离 §23]."""
    return add_working_days(next_working_day(case.clock_start or case.intake_date), 1)


# ------------------------------------------------------------------ set-based sweeps (jobs call these)

def sweep_overdue(on: date) -> list[tuple[int, int, int | None]]:
    """Flag open cases past their (extended) due date, and registered cases left without any reply;
    returns (id, centre, responsible) of the newly flagged."""
    due = db.func.coalesce(ServiceCase.extended_due, ServiceCase.due_date)
    stmt = (update(ServiceCase)
            .where(ServiceCase.state.in_(OPEN_STATES), ServiceCase.voided.is_(False),
                   ServiceCase.overdue.is_(False), due.is_not(None), due < on)
            .values(overdue=True, overdue_reason="past_due", version=ServiceCase.version + 1)
            .returning(ServiceCase.id, ServiceCase.center_id, ServiceCase.responsible_id))
    flagged = [tuple(r) for r in db.session.execute(stmt, execution_options={"synchronize_session": False})]
    # No reply: registered and neither answered, accepted, refused nor referred by the next working day.
    silent = (update(ServiceCase)
              .where(ServiceCase.state == "registered", ServiceCase.voided.is_(False), ServiceCase.overdue.is_(False),
                     ServiceCase.intake_date < add_working_days(on, -1))
              .values(overdue=True, overdue_reason="no_reply", version=ServiceCase.version + 1)
              .returning(ServiceCase.id, ServiceCase.center_id, ServiceCase.responsible_id))
    return flagged + [tuple(r) for r in db.session.execute(silent, execution_options={"synchronize_session": False})]


def sweep_warnings(on: date) -> list[tuple[int, int, int | None]]:
    """Early warning (预警) for open cases due on the next working day."""
    due = db.func.coalesce(ServiceCase.extended_due, ServiceCase.due_date)
    tomorrow = add_working_days(on, 1)
    stmt = (update(ServiceCase)
            .where(ServiceCase.state.in_(OPEN_STATES), ServiceCase.voided.is_(False),
                   ServiceCase.warned.is_(False), ServiceCase.overdue.is_(False), due > on, due <= tomorrow)
            .values(warned=True, version=ServiceCase.version + 1)
            .returning(ServiceCase.id, ServiceCase.center_id, ServiceCase.responsible_id))
    return [tuple(r) for r in db.session.execute(stmt, execution_options={"synchronize_session": False})]


def sweep_handovers(on: date) -> list[tuple[int, int, int | None]]:
    """Accepted cases of matters with a department but no handover by the next working day, and
    department legs still out after the case's due date."""
    flagged = []
    # The handover deadline of a case accepted on day D is the working day after D, so any case
    # whose clock started before the previous working day and has no handover is late.
    cutoff = add_working_days(on, -1)
    no_leg = ~select(CaseHandover.id).where(CaseHandover.case_id == ServiceCase.id,
                                            CaseHandover.voided.is_(False)).exists()
    stmt = (update(ServiceCase)
            .where(ServiceCase.state == "accepted", ServiceCase.handover_late.is_(False),
                   ServiceCase.voided.is_(False), ServiceCase.clock_start < cutoff,
                   ServiceCase.matter_id.in_(select(Matter.id).where(Matter.department_id.is_not(None))), no_leg)
            .values(handover_late=True, version=ServiceCase.version + 1)
            .returning(ServiceCase.id, ServiceCase.center_id, ServiceCase.responsible_id))
    flagged += [tuple(r) for r in db.session.execute(stmt, execution_options={"synchronize_session": False})]
    due = select(db.func.coalesce(ServiceCase.extended_due, ServiceCase.due_date)).where(
        ServiceCase.id == CaseHandover.case_id).scalar_subquery()
    legs = (update(CaseHandover)
            .where(CaseHandover.state == "handed", CaseHandover.late.is_(False), CaseHandover.voided.is_(False),
                   due < on)
            .values(late=True, version=CaseHandover.version + 1)
            .returning(CaseHandover.case_id, CaseHandover.center_id, CaseHandover.created_by_id))
    flagged += [tuple(r) for r in db.session.execute(legs, execution_options={"synchronize_session": False})]
    return flagged


# ------------------------------------------------------------------ workflow hooks

def _responsible_or_manager(case, user):
    from app.access import roles_in
    if case.responsible_id in (None, user.id) or roles_in(user, case.center_id) & {DEPUTY, DIRECTOR}:
        return None
    return _l("Only the first-responsible clerk or a manager may handle this case.")


def _matter_kind(*kinds):
    def guard(case, user):
        if case.matter.kind not in kinds and case.kind not in kinds:
            return _l("Not for this kind of matter.")
        return _responsible_or_manager(case, user)
    return guard


def _ask_supplement(case, user):
    missing = missing_materials(case.matter, case.materials)
    if not missing:
        from app.records.workflow import TransitionRefused
        raise TransitionRefused(str(_l("Nothing is missing: accept the case instead.")))
    case.missing_materials = "\n".join(missing)


def _accept(case, user):
    start_clock(case, case.intake_date)


def _supplement_received(case, user):
    if case.clock_start is None or case.clock_start < case.intake_date:
        from app.records.workflow import TransitionRefused
        raise TransitionRefused(str(_l("The supplement cannot arrive before the intake day.")), field="clock_start")
    start_clock(case, case.clock_start)


def _applicant_delay(case, user):
    """The total of working days the applicant caused; the promise moves by exactly that many [§11]."""
    from app.records.workflow import TransitionRefused
    if case.applicant_delay_days is None or case.applicant_delay_days < 0:
        raise TransitionRefused(str(_l("Enter a number of working days (0 or more).")), field="applicant_delay_days")
    start_clock(case, case.clock_start)


def _done_on_the_spot(case, user):
    case.clock_start = case.day_one = case.due_date = case.completed_on = case.completed_on or case.intake_date


def _complete(case, user):
    late_reason_on_finish(case, case.completed_on, "completed_late")


def _deliver(case, user):
    if case.delivered_on < (case.completed_on or case.intake_date):
        from app.records.workflow import TransitionRefused
        raise TransitionRefused(str(_l("Delivery cannot come before completion.")), field="delivered_on")
    late_reason_on_finish(case, case.delivered_on, "delivered_late")


CASE_WORKFLOW = Workflow(
    initial="registered",
    states=[
        State("registered", _l("Registered"), "info"),
        State("awaiting_supplement", _l("Awaiting supplement"), "warn"),
        State("accepted", _l("Accepted, in progress"), "info"),
        State("reported", _l("Reported upward"), "info"),
        State("completed", _l("Completed, to deliver"), "ok"),
        State("delivered", _l("Delivered"), "ok", final=True),
        State("answered", _l("Answered"), "ok", final=True),
        State("refused", _l("Not accepted"), "bad", final=True),
        State("transferred", _l("Referred elsewhere"), "neutral", final=True),
    ],
    transitions=[
        Transition("answer", _l("Answer the consultation"), ("registered",), "answered", HANDLERS,
                   requires=("answer",), guard=_responsible_or_manager),
        Transition("ask_supplement", _l("Materials incomplete: one-time notice"), ("registered",),
                   "awaiting_supplement", HANDLERS, guard=_responsible_or_manager, on_apply=_ask_supplement,
                   css="warn"),
        Transition("supplement_received", _l("Supplement received"), ("awaiting_supplement",), "accepted",
                   HANDLERS, requires=("clock_start",), guard=_responsible_or_manager, on_apply=_supplement_received),
        Transition("accept", _l("Accept"), ("registered",), "accepted", HANDLERS,
                   guard=_matter_kind("promised", "joint", "reported"), on_apply=_accept),
        Transition("done_on_the_spot", _l("Done on the spot"), ("registered",), "completed", HANDLERS,
                   requires=("result",), fields=("completed_on",), guard=_matter_kind("immediate"),
                   on_apply=_done_on_the_spot),
        Transition("refuse", _l("Do not accept"), ("registered", "awaiting_supplement"), "refused", HANDLERS,
                   requires=("refusal_reason", "remedies"), guard=_responsible_or_manager, css="danger"),
        Transition("transfer", _l("Not our business: refer"), ("registered",), "transferred", HANDLERS,
                   requires=("transfer_office", "transfer_phone"), guard=_responsible_or_manager),
        Transition("applicant_delay", _l("Record days caused by the applicant"), ("accepted",), "accepted",
                   HANDLERS, requires=("applicant_delay_days",), guard=_responsible_or_manager,
                   on_apply=_applicant_delay, comment_required=True, css="secondary"),
        Transition("report", _l("Report to the higher authority"), ("accepted",), "reported", HANDLERS,
                   requires=("higher_authority",), guard=_responsible_or_manager),
        Transition("complete", _l("Complete"), ("accepted", "reported"), "completed", HANDLERS,
                   requires=("completed_on", "result"), guard=_responsible_or_manager, on_apply=_complete),
        Transition("deliver", _l("Deliver the result"), ("completed",), "delivered", HANDLERS,
                   requires=("delivery_method", "delivered_on"), guard=_responsible_or_manager, on_apply=_deliver),
    ],
)


def case_flags(case: ServiceCase) -> list:
    if case.overdue:
        return [(_l("Overdue"), "bad")]
    if case.warned:
        return [(_l("Due next working day"), "warn")]
    return []


def _validate_case(case: ServiceCase, form, user) -> dict:
    errors = {}
    if case.intake_date and case.intake_date > today():
        errors["intake_date"] = _l("The intake day cannot be in the future.")
    matter = db.session.get(Matter, case.matter_id) if case.matter_id else None
    if matter is None or matter.center_id != case.center_id or matter.voided:
        errors["matter_id"] = _l("Choose a matter of this centre's catalogue.")
    if not case.applicant_phone and case.kind != "consult":
        errors["applicant_phone"] = _l("A phone number is needed to tell the applicant the result.")
    return errors


def _before_save_case(case: ServiceCase, user) -> None:
    from printouts import next_number
    if not case.receipt_no:
        case.receipt_no = next_number(case.center_id, "case_receipt", case.intake_date.year)
    if case.responsible_id is None:
        case.responsible_id = user.id  # 首问负责: the first-asked clerk owns the case to the end
    if case.window_id is None and case.matter_id:
        case.window_id = db.session.get(Matter, case.matter_id).window_id


def _prefill_case(args, center_id) -> dict:
    """Intake: today's date and, once a matter is chosen, its materials list to tick off."""
    data = {"intake_date": today()}
    matter = db.session.get(Matter, args.get("matter_id", type=int) or 0)
    if matter is not None and matter.center_id == center_id:
        data.update(matter_id=matter.id, window_id=matter.window_id or 0,
                    kind="immediate" if matter.kind == "immediate" else "promised",
                    materials=[{"name": m.name, "form": m.form, "copies": m.copies} for m in matter.materials]
                    + [{}])
    return data


register(RecordType(
    key="cases", model=ServiceCase, title=_l("Case"), title_plural=_l("Cases"), nav_group="cases",
    permissions={"read": READERS, "create": HANDLERS | {ADMIN}, "edit": HANDLERS, "void": frozenset({DIRECTOR}),
                 "print": READERS, "export": READERS},
    workflow=CASE_WORKFLOW, edit_states=("registered", "awaiting_supplement"),
    unmask_roles=frozenset({DEPUTY, DIRECTOR, LEADER}),
    validate=_validate_case, before_save=_before_save_case, prefill=_prefill_case,
    list_options=(joinedload(ServiceCase.matter), joinedload(ServiceCase.window)),
    template_view="cases/view.html", template_form="cases/intake.html", flags=case_flags,
    fields=[
        Field("receipt_no", _l("Receipt number"), kind="str", in_form=False, in_list=True, search="prefix"),
        Field("applicant_name", _l("Applicant"), required=True, in_list=True, search="prefix"),
        Field("applicant_phone", _l("Applicant's phone"), kind="phone", search="prefix"),
        Field("applicant_id_no", _l("ID number"), kind="idno", mask=True),
        Field("matter_id", _l("Matter"), ref=Matter, required=True, in_list=True),
        Field("window_id", _l("Window"), ref=Window, in_list=True, filter=True),
        Field("kind", _l("Kind"), choices=KIND_CHOICES, required=True, in_list=True, filter=True),
        Field("channel", _l("Channel"), choices=CHANNEL_CHOICES, required=True, filter=True),
        Field("intake_date", _l("Intake day"), required=True, in_list=True, filter=True),
        Field("responsible_id", _l("First-responsible person"), kind="user", in_form=False, filter=True),
        Field("clock_start", _l("Clock starts"), in_form=False),
        Field("due_date", _l("Promised completion"), in_form=False, in_list=True, filter=True),
        Field("extended_due", _l("Extended to"), in_form=False),
        Field("applicant_delay_days", _l("Working days caused by the applicant"), in_form=False, min=0, max=365,
              help=_l("The total so far; these days do not count against the promise.")),
        Field("overdue", _l("Overdue"), in_form=False, filter=True),
        Field("warned", _l("Due next working day"), in_form=False, filter=True),
        Field("handover_late", _l("Not handed over in time"), in_form=False, filter=True),
        Field("answer", _l("Answer given"), in_form=False),
        Field("refusal_reason", _l("Reasons for not accepting"), in_form=False),
        Field("remedies", _l("The applicant's remedies"), in_form=False,
              help=_l("E.g. administrative reconsideration within 60 days or a lawsuit within 6 months, and where.")),
        Field("transfer_office", _l("Responsible office"), in_form=False),
        Field("transfer_phone", _l("Its phone"), kind="phone", in_form=False),
        Field("higher_authority", _l("Higher authority"), in_form=False),
        Field("joint_windows", _l("Other windows (joint case)")),
        Field("completed_on", _l("Completed on"), in_form=False),
        Field("result", _l("Result"), in_form=False),
        Field("delivery_method", _l("Delivered by"), choices=DELIVERY_CHOICES, in_form=False),
        Field("delivered_on", _l("Delivered on"), in_form=False),
    ],
    children=[Child("materials", _l("Materials received"), CaseMaterial, blank_rows=1, fields=[
        Field("name", _l("Material"), required=True),
        Field("form", _l("Original or copy"), choices=MATERIAL_FORM_CHOICES),
        Field("copies", _l("Copies"), min=0, max=99),
        Field("note", _l("Note")),
    ])],
    prints=[
        PrintForm("receipt", _l("Receipt"), "print/case_receipt.html"),
        PrintForm("notice", _l("One-time notification slip"), "print/case_notice.html", form_type="case_notice",
                  states=("awaiting_supplement",)),
        PrintForm("acceptance", _l("Acceptance notice"), "print/case_acceptance.html", form_type="case_acceptance",
                  states=("accepted", "reported", "completed", "delivered")),
        PrintForm("refusal", _l("Refusal notice"), "print/case_refusal.html", form_type="case_refusal",
                  states=("refused",)),
        PrintForm("joint", _l("Joint case notice"), "print/case_joint.html", form_type="case_joint",
                  states=("accepted", "reported", "completed", "delivered"),
                  when=lambda case: case.kind == "joint" or case.matter.handling_mode == "joint"),
        PrintForm("transfer", _l("Referral slip"), "print/case_transfer.html", states=("transferred",)),
    ],
))


# ------------------------------------------------------------------ extensions and handovers

def _approve_extension(ext: CaseExtension, user) -> None:
    """An approved extension moves the promise, unless it was asked for (or the applicant told)
    after the deadline [§8, §10]: then the case stays overdue."""
    case = ext.case
    due = case.effective_due
    told_late = ext.applicant_notified_on is not None and ext.applicant_notified_on > due if due else False
    if due is not None and (ext.requested_on > due or told_late):
        case.overdue, case.overdue_reason = True, "late_extension"
    else:
        case.extended_due = ext.new_due


def _validate_extension(ext: CaseExtension, form, user) -> dict:
    errors = {}
    case = db.session.get(ServiceCase, ext.case_id)
    if case is None or case.state not in ("accepted", "reported"):
        errors["new_due"] = _l("Only a case in progress can be extended.")
    elif case.effective_due and ext.new_due <= case.effective_due:
        errors["new_due"] = _l("The new date must come after the current promise (%(d)s).", d=case.effective_due.isoformat())
    if ext.applicant_notified_on and case and case.effective_due and ext.applicant_notified_on > case.effective_due:
        errors["applicant_notified_on"] = _l("The applicant must be told before the old deadline.")
    return errors


register(RecordType(
    key="case-extensions", model=CaseExtension, title=_l("Extension request"), title_plural=_l("Extension requests"),
    nav_group="cases", parent=("case_id", ServiceCase),
    permissions={"read": READERS, "create": HANDLERS, "edit": HANDLERS, "void": frozenset({DIRECTOR}),
                 "print": READERS, "export": READERS},
    validate=_validate_extension, edit_states=("requested",),
    prefill=lambda args, center_id: {"requested_on": today()},
    workflow=Workflow(initial="requested", states=[
        State("requested", _l("Requested"), "warn"), State("approved", _l("Approved"), "ok", final=True),
        State("rejected", _l("Rejected"), "bad", final=True)],
        transitions=[
            Transition("approve", _l("Approve"), ("requested",), "approved", frozenset({DIRECTOR}),
                       requires=("head_opinion", "applicant_notified_on"), fields=("notice_method",),
                       not_by_author=True, on_apply=_approve_extension),
            Transition("reject", _l("Reject"), ("requested",), "rejected", frozenset({DIRECTOR}),
                       requires=("head_opinion",), not_by_author=True, css="danger")]),
    fields=[
        Field("case_id", _l("Case"), ref=ServiceCase, in_form=False, in_list=True),
        Field("requested_on", _l("Requested on"), required=True, in_list=True, filter=True),
        Field("reason", _l("Reason for the extension"), required=True),
        Field("new_due", _l("New promised date"), required=True, in_list=True),
        Field("applicant_notified_on", _l("Applicant told on")),
        Field("notice_method", _l("Told how"), help=_l("Phone, text message, in writing …")),
        Field("head_opinion", _l("Opinion of the centre head"), in_form=False),
    ],
    prints=[PrintForm("form", _l("Extension request form"), "print/case_extension.html", form_type="case_extension")],
))


def _leg_owner(leg: CaseHandover, user):
    return _responsible_or_manager(leg.case, user)


def _return_leg(leg: CaseHandover, user) -> None:
    if leg.returned_on < leg.handed_on:
        from app.records.workflow import TransitionRefused
        raise TransitionRefused(str(_l("The file cannot come back before it was handed over.")), field="returned_on")


def _validate_handover(leg: CaseHandover, form, user) -> dict:
    case = db.session.get(ServiceCase, leg.case_id)
    if case is None or case.state not in ("accepted", "reported"):
        return {"handed_on": _l("Only a case in progress is handed over.")}
    if leg.handed_on < (case.clock_start or case.intake_date):
        return {"handed_on": _l("The handover cannot come before the case was accepted.")}
    return {}


def _mark_late_handover(leg: CaseHandover, user) -> None:
    case = db.session.get(ServiceCase, leg.case_id)
    if case is not None and leg.handed_on > handover_deadline(case):
        leg.late = case.handover_late = True


register(RecordType(
    key="case-handovers", model=CaseHandover, title=_l("Handover"), title_plural=_l("Handovers"),
    nav_group="cases", parent=("case_id", ServiceCase),
    permissions={"read": READERS, "create": HANDLERS, "edit": HANDLERS, "void": frozenset({DIRECTOR}),
                 "print": READERS, "export": READERS},
    validate=_validate_handover, before_save=_mark_late_handover, edit_states=("handed",),
    prefill=lambda args, center_id: {"handed_on": today()},
    workflow=Workflow(initial="handed", states=[
        State("handed", _l("With the department"), "info"), State("returned", _l("Returned"), "ok"),
        State("pushed", _l("Result pushed for supervision"), "ok", final=True)],
        transitions=[
            Transition("return", _l("File returned"), ("handed",), "returned", HANDLERS,
                       requires=("returned_on",), on_apply=_return_leg, guard=_leg_owner),
            Transition("push", _l("Result pushed to the department"), ("returned",), "pushed", HANDLERS,
                       requires=("result_pushed_on",), guard=_leg_owner)]),
    fields=[
        Field("case_id", _l("Case"), ref=ServiceCase, in_form=False, in_list=True),
        Field("department_id", _l("Department"), ref=Department, required=True, in_list=True, filter=True),
        Field("handed_on", _l("Handed over on"), required=True, in_list=True, filter=True),
        Field("received_by", _l("Received by")),
        Field("returned_on", _l("Returned on"), in_form=False, in_list=True),
        Field("result_pushed_on", _l("Result pushed on"), in_form=False),
        Field("late", _l("Late"), in_form=False, filter=True),
        Field("note", _l("Note")),
    ],
    prints=[PrintForm("form", _l("Handover form"), "print/case_handover.html", form_type="case_handover")],
))


def init_app(app) -> None:
    from app.status import status_url
    from app.web import HOME_PANELS, HomePanel
    app.jinja_env.globals.update(case_children=case_children, overdue_reasons=OVERDUE_REASONS,
                                 case_status_url=status_url, case_state=case_state, case_dashboard=case_dashboard)
    if not any(p.template == "cases/_home_panel.html" for p in HOME_PANELS):
        HOME_PANELS.append(HomePanel("cases/_home_panel.html", HANDLERS | {LEADER, COUNTY, ADMIN}))


def case_dashboard(center_id: int, on: date | None = None) -> dict:
    """Today's picture of a centre's cases, counted from the records in one grouped query."""
    on = on or today()
    c = ServiceCase
    due = db.func.coalesce(c.extended_due, c.due_date)
    is_open = c.state.in_(OPEN_STATES)
    counts = db.session.execute(select(
        db.func.sum(db.case((c.intake_date == on, 1), else_=0)),
        db.func.sum(db.case((db.and_(is_open, due == on), 1), else_=0)),
        db.func.sum(db.case((db.and_(is_open, c.warned.is_(True), c.overdue.is_(False)), 1), else_=0)),
        db.func.sum(db.case((db.and_(is_open, c.overdue.is_(True)), 1), else_=0)),
        db.func.sum(db.case((c.state == "awaiting_supplement", 1), else_=0)),
        db.func.sum(db.case((db.and_(is_open, c.handover_late.is_(True)), 1), else_=0)),
    ).where(c.center_id == center_id, c.voided.is_(False))).one()
    keys = ("registered_today", "due_today", "warned", "overdue", "awaiting_supplement", "handover_late")
    return dict(zip(keys, (int(v or 0) for v in counts)), today=on)


def case_state(case: ServiceCase) -> str:
    state = CASE_WORKFLOW.state(case.state)
    return str(state.title) if state else case.state


def case_children(case: ServiceCase) -> dict:
    """Extensions and handovers shown on the case page."""
    return {
        "extensions": db.session.scalars(select(CaseExtension).where(CaseExtension.case_id == case.id)
                                         .order_by(CaseExtension.id)).all(),
        "handovers": db.session.scalars(select(CaseHandover).where(CaseHandover.case_id == case.id)
                                        .order_by(CaseHandover.id)).all(),
    }

