"""Service cases (办件): the rules of 首问负责, 一次性告知, 限时办结 and 审管分离, and their declarations.

Rules are plain functions taking explicit dates, so tests can walk a case across National Day.
Views and jobs call them; nothing here reads the clock except through the `today` they pass.
"""
from __future__ import annotations

from datetime import date, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import inspect, select, update
from sqlalchemy.orm import joinedload

from app import audit
from app.access import STAFF
from app.deadlines import working_day_deadline
from app.i18n import label_in
from app.extensions import db
from app.params import parse_id
from app.records import operations
from app.records.registry import (Child, Field, ListView, PrintForm, RecordType, Refused, State, Transition,
                                  Workflow, register)
from app.timeutil import cn_date, today
from app.workdays import add_working_days, is_working_day, next_working_day, working_days_between
from models.case import (OPEN_STATES, RUNNING_STATES, CaseExtension, CaseHandover, CaseJointWindow, CaseMaterial,
                         ServiceCase)
from models.catalogue import Department, Matter, Window
from models.core import ADMIN, AGENT, CLERK, COUNTY, DEPUTY, DIRECTOR, LEADER

KIND_CHOICES = (("consult", _l("Consultation (咨询件)")), ("immediate", _l("Immediate (即办件)")),
                ("promised", _l("Promised (承诺件)")), ("joint", _l("Joint (联办件)")),
                ("reported", _l("Reported upward (上报件)")))
CHANNEL_CHOICES = (("window", _l("At the window")), ("online", _l("Online")), ("agency", _l("Agency service")),
                   ("village", _l("Village service point")), ("appointment", _l("Appointment")))
DELIVERY_CHOICES = (("pickup", _l("Picked up at the window")), ("mail", _l("By mail")), ("online", _l("Online")))
MATERIAL_FORM_CHOICES = (("original", _l("Original")), ("copy", _l("Copy")), ("both", _l("Original and copy")))
# The overdue cases of 000 限时办结 §10: past the promise, and the four "also overdue" cases.
OVERDUE_REASONS = {
    "past_due": _l("Past the promised date without completion"),
    "completed_late": _l("Completed after the promised date"),
    "delivered_late": _l("Result delivered after the promised date"),
    "late_extension": _l("Extension asked after the deadline"),
    "no_reply": _l("No reply: not handled by the next working day"),
    "unjustified_refusal": _l("Refused without good cause"),
    "not_delivered": _l("Completed but not delivered within the promise"),
}
WORKERS = frozenset({CLERK, AGENT})
HANDLERS = WORKERS | {DEPUTY, DIRECTOR}
READERS = STAFF | {COUNTY}


# ------------------------------------------------------------------ rules

def missing_materials(matter: Matter, received) -> list[str]:
    """The matter's materials not ticked as received in the required number of copies [一次性告知]:
    every one of them at once, so the applicant comes back only once."""
    got: dict[str, int] = {}
    for row in received:
        if row.name and getattr(row, "received", True):
            got[row.name.strip()] = got.get(row.name.strip(), 0) + (row.copies or 0)
    return [m.name for m in matter.materials if got.get(m.name.strip(), 0) < max(m.copies, 1)]


def start_clock(case: ServiceCase, day: date) -> None:
    """The promise counts from `day` (acceptance, or the supplement's arrival) [§6]: day 1 is that
    day when it is a working day, else the next one; days the applicant caused are added on top.
    The number of days promised is the matter's at this moment, kept on the case."""
    case.promised_days = max(case.matter.promised_days, 1)
    count_promise(case, day)


def count_promise(case: ServiceCase, day: date) -> None:
    """Count the case's promise from `day` with the calendar as it stands now."""
    case.clock_start = day
    deadline = working_day_deadline(day, case.promised_days or max(case.matter.promised_days, 1))
    case.day_one = deadline.day_one
    case.due_date = add_working_days(deadline.due, case.applicant_delay_days or 0)
    case.provisional = deadline.provisional


# States in which a promise can still be missed (a completed result must still be delivered).
PROMISE_STATES = OPEN_STATES + ("completed",)


def recompute_promises(years: set[int]) -> int:
    """A year's holiday schedule was entered or changed: count again every case whose promise can
    still be missed and whose dates cross one of `years` (its flags follow the new date), each change
    audited with the reason. An extended date a person chose that is now a day off moves to the next
    working day. Returns the number of cases changed."""
    if not years:
        return 0
    first, last = date(min(years), 1, 1), date(max(years), 12, 31)
    due = db.func.coalesce(ServiceCase.extended_due, ServiceCase.due_date)
    cases = db.session.scalars(select(ServiceCase).where(
        ServiceCase.state.in_(PROMISE_STATES), ServiceCase.voided.is_(False), ServiceCase.clock_start.is_not(None),
        ServiceCase.clock_start <= last, due >= first)).all()
    note = str(_l("Holiday schedule of %(years)s changed: deadline counted again",
                  years="、".join(str(y) for y in sorted(years))))
    changed = 0
    for case in cases:
        before = (case.day_one, case.due_date, case.extended_due, case.provisional)
        count_promise(case, case.clock_start)
        if case.extended_due and not is_working_day(case.extended_due):
            case.extended_due = next_working_day(case.extended_due)
        if (case.day_one, case.due_date, case.extended_due, case.provisional) == before:
            continue
        changed += 1
        case.warned = False
        if case.overdue and case.overdue_reason == "past_due" and case.effective_due >= today():
            case.overdue, case.overdue_reason = False, ""
        audit.note(case, "edit", note)
    return changed


def add_applicant_delay(case: ServiceCase, days: int) -> None:
    """Days the applicant caused (申请人原因) do not count [§11]: the promise, and an approved
    extension, move by exactly that many working days, and a new warning is due before the new date."""
    if not days:
        return
    case.applicant_delay_days = (case.applicant_delay_days or 0) + days
    if case.due_date:
        case.due_date = add_working_days(case.due_date, days)
    if case.extended_due:
        case.extended_due = add_working_days(case.extended_due, days)
    case.warned = False


def applicant_days(paused_on: date, resumed_on: date) -> int:
    """Working days the applicant held the case: those strictly between the day the window asked
    for more and the day it arrived. Both of those days count for the window (the arrival day, as
    for a supplement at intake, is a day of handling)."""
    if resumed_on <= paused_on:
        return 0
    return max(working_days_between(paused_on, resumed_on - timedelta(days=1)), 0)


def late_reason_on_finish(case: ServiceCase, day: date, reason: str) -> None:
    """A case finished (completed or delivered) after its promised date is overdue [§10 (四)]."""
    due = case.effective_due
    if due is not None and day > due and not case.overdue:
        case.overdue, case.overdue_reason = True, reason


def extension_effect(case: ServiceCase, ext: CaseExtension) -> str | None:
    """What an approved extension does [§8, §10 (三)]: None when it moves the promise; else the
    overdue reason — asked for after the deadline, or the applicant told only after it."""
    due = case.effective_due
    if due is None:
        return None
    if ext.requested_on > due or (ext.applicant_notified_on is not None and ext.applicant_notified_on > due):
        return "late_extension"
    return None


def handover_deadline(case: ServiceCase) -> date:
    """Centre → department the same day, at most the next working day [000 审管分离 §23]."""
    return add_working_days(next_working_day(case.clock_start or case.intake_date), 1)


# ------------------------------------------------------------------ set-based sweeps (jobs call these)

def _rows(stmt) -> list[tuple]:
    return [tuple(r) for r in db.session.execute(stmt, execution_options={"synchronize_session": False})]


def sweep_overdue(on: date) -> list[tuple[int, int, int | None]]:
    """Flag cases whose clock runs past their (extended) due date, and registered cases left without
    any reply by the next working day; returns (id, centre, responsible) of the newly flagged."""
    due = db.func.coalesce(ServiceCase.extended_due, ServiceCase.due_date)
    returned = (ServiceCase.id, ServiceCase.center_id, ServiceCase.responsible_id, ServiceCase.overdue_reason)
    flagged = _rows(update(ServiceCase)
                    .where(ServiceCase.state.in_(RUNNING_STATES), ServiceCase.voided.is_(False),
                           ServiceCase.overdue.is_(False), due.is_not(None), due < on)
                    .values(overdue=True, overdue_reason="past_due", version=ServiceCase.version + 1)
                    .returning(*returned))
    # Result not delivered within the promise [§10 (四)], unless the applicant was told in time to
    # collect it and did not come (申请人原因 [§11]).
    told_in_time = db.and_(ServiceCase.pickup_notified_on.is_not(None), ServiceCase.pickup_notified_on <= due)
    flagged += _rows(update(ServiceCase)
                     .where(ServiceCase.state == "completed", ServiceCase.voided.is_(False),
                            ServiceCase.overdue.is_(False), due.is_not(None), due < on, ~told_in_time)
                     .values(overdue=True, overdue_reason="not_delivered", version=ServiceCase.version + 1)
                     .returning(*returned))
    # No reply [§10 (二)]: neither answered, accepted, refused nor referred by the next working day.
    flagged += _rows(update(ServiceCase)
                     .where(ServiceCase.state == "registered", ServiceCase.voided.is_(False),
                            ServiceCase.overdue.is_(False), ServiceCase.intake_date < add_working_days(on, -1))
                     .values(overdue=True, overdue_reason="no_reply", version=ServiceCase.version + 1)
                     .returning(*returned))
    # One INSERT for the trail of all three: a case not yet overdue has no reason (clearing the flag clears it).
    audit.bulk(ServiceCase.__table__.name, flagged, "overdue", "False", "True",
               more=(("overdue_reason", "", lambda row: row[3]),))
    return [row[:3] for row in flagged]


def sweep_warnings(on: date) -> list[tuple[int, int, int | None]]:
    """Early warning (预警) [§9] for cases whose clock runs and which are due on the next working day."""
    due = db.func.coalesce(ServiceCase.extended_due, ServiceCase.due_date)
    warned = _rows(update(ServiceCase)
                   .where(ServiceCase.state.in_(RUNNING_STATES), ServiceCase.voided.is_(False),
                          ServiceCase.warned.is_(False), ServiceCase.overdue.is_(False), due > on,
                          due <= add_working_days(on, 1))
                   .values(warned=True, version=ServiceCase.version + 1)
                   .returning(ServiceCase.id, ServiceCase.center_id, ServiceCase.responsible_id))
    audit.bulk(ServiceCase.__table__.name, warned, "warned", "False", "True")
    return warned


def sweep_handovers(on: date) -> list[tuple[int, int, int | None]]:
    """Accepted cases of matters with a department but no handover by the next working day [审管分离]."""
    # The handover deadline of a case accepted on day D is the working day after D, so any case
    # whose clock started before the previous working day and has no handover is late.
    no_leg = ~select(CaseHandover.id).where(CaseHandover.case_id == ServiceCase.id,
                                            CaseHandover.voided.is_(False)).exists()
    late = _rows(update(ServiceCase)
                 .where(ServiceCase.state.in_(("accepted", "reported")), ServiceCase.handover_late.is_(False),
                        ServiceCase.voided.is_(False), ServiceCase.clock_start < add_working_days(on, -1),
                        ServiceCase.matter_id.in_(select(Matter.id).where(Matter.department_id.is_not(None))),
                        no_leg)
                 .values(handover_late=True, version=ServiceCase.version + 1)
                 .returning(ServiceCase.id, ServiceCase.center_id, ServiceCase.responsible_id))
    audit.bulk(ServiceCase.__table__.name, late, "handover_late", "False", "True")
    return late


def sweep_department_legs(on: date) -> list[tuple[int, int, int | None]]:
    """Department legs still out after the case's (extended) promise; returns (case, centre, responsible)."""
    case = select(ServiceCase).where(ServiceCase.id == CaseHandover.case_id)
    due = case.with_only_columns(db.func.coalesce(ServiceCase.extended_due, ServiceCase.due_date)).scalar_subquery()
    responsible = case.with_only_columns(ServiceCase.responsible_id).scalar_subquery()
    legs = _rows(update(CaseHandover)
                 .where(CaseHandover.state == "handed", CaseHandover.late.is_(False), CaseHandover.voided.is_(False),
                        due < on)
                 .values(late=True, version=CaseHandover.version + 1)
                 .returning(CaseHandover.id, CaseHandover.center_id, CaseHandover.case_id, responsible))
    audit.bulk(CaseHandover.__table__.name, legs, "late", "False", "True")  # on the leg's own trail
    return [(case_id, center_id, responsible_id) for _leg, center_id, case_id, responsible_id in legs]


def link_by_receipt(record) -> str | None:
    """A record naming a case by its receipt number as typed (`case_no`) gets the case (`case_id`) of its own
    centre; returns the refusal when no such case is there (a blank number clears the link)."""
    number = (record.case_no or "").strip()
    record.case_no, record.case_id = number, None
    if not number:
        return None
    with db.session.no_autoflush:
        record.case_id = db.session.scalar(select(ServiceCase.id).where(
            ServiceCase.center_id == record.center_id, ServiceCase.receipt_no == number,
            ServiceCase.voided.is_(False)))
    return None if record.case_id else f"本中心没有受理编号为“{number}”的办件。"


# ------------------------------------------------------------------ workflow hooks

def responsible_or_manager(case, user) -> None:
    """首问负责: only the first-responsible clerk (or a manager, or whoever covers the clerk's post while the
    clerk is on leave) handles the case; else Refused."""
    from app.access import acting_for, roles_in
    if case.responsible_id is None or case.responsible_id == user.id or case.responsible_id in acting_for(user) \
            or roles_in(user, case.center_id) & {DEPUTY, DIRECTOR}:
        return
    raise Refused(_l("Only the first-responsible clerk or a manager may handle this case."))


def _responsible_or_manager(ctx) -> None:
    responsible_or_manager(ctx.record, ctx.user)


def _matter_kind(*kinds):
    def guard(ctx):
        case = ctx.record
        if case.matter.kind not in kinds and case.kind not in kinds:
            raise Refused(_l("Not for this kind of matter."))
        responsible_or_manager(case, ctx.user)
    return guard


def _ask_supplement(ctx):
    case = ctx.record
    missing = missing_materials(case.matter, case.materials)
    if not missing:
        raise Refused(_l("Nothing is missing: accept the case instead."))
    case.missing_materials = "\n".join(missing)


def _accept(ctx):
    case = ctx.record
    missing = missing_materials(case.matter, case.materials)
    if missing:
        raise Refused(_l("Materials are missing (%(names)s): give the one-time notice instead.",
                                       names="、".join(missing)))
    start_clock(case, case.intake_date)


def _supplement_received(ctx):
    case = ctx.record
    if case.clock_start is None or case.clock_start < case.intake_date:
        raise Refused(_l("The supplement cannot arrive before the intake day."), field="clock_start")
    if case.clock_start > today():
        raise Refused(_l("This day has not come yet."), field="clock_start")
    tick_supplement(case)
    start_clock(case, case.clock_start)


def tick_supplement(case: ServiceCase) -> None:
    """The supplement brought what the one-time notice listed: tick those lines (or add them)."""
    wanted = {m.name.strip(): m for m in case.matter.materials}
    for name in missing_materials(case.matter, case.materials):
        required = wanted[name.strip()]
        row = next((r for r in case.materials if r.name.strip() == name.strip() and not r.received), None)
        if row is None:
            row = CaseMaterial(name=required.name, form=required.form, seq=len(case.materials) + 1)
            case.materials.append(row)
        row.received, row.copies = True, max(row.copies or 0, required.copies, 1)
        row.note = (row.note + " " if row.note else "") + f"补正 {case.clock_start.isoformat()}"


def _applicant_delay(ctx):
    """The total of working days the applicant caused; the promise moves by the change [§11]."""
    case = ctx.record
    total = case.applicant_delay_days
    if total is None or total < 0:
        raise Refused(_l("Enter a number of working days (0 or more)."), field="applicant_delay_days")
    history = inspect(case).attrs.applicant_delay_days.history
    before = history.deleted[0] if history.deleted else total
    case.applicant_delay_days = before
    add_applicant_delay(case, total - before)


def _pause(ctx):
    case = ctx.record
    if case.paused_on < (case.clock_start or case.intake_date) or case.paused_on > today():
        raise Refused(_l("Choose a day between acceptance and today."), field="paused_on")


def _resume(ctx):
    case = ctx.record
    if case.resumed_on < case.paused_on or case.resumed_on > today():
        raise Refused(_l("Choose a day between the pause and today."), field="resumed_on")
    add_applicant_delay(case, applicant_days(case.paused_on, case.resumed_on))


def _overturn_refusal(ctx):
    """A refusal found to lack good cause [§10 (一)]: the case is handled after all, and overdue."""
    case = ctx.record
    start_clock(case, case.intake_date)
    case.overdue, case.overdue_reason = True, "unjustified_refusal"


def _done_on_the_spot(ctx):
    case = ctx.record
    done = case.completed_on or case.intake_date
    if done < case.intake_date or done > today():
        raise Refused(_l("Choose a day between acceptance and today."), field="completed_on")
    case.clock_start = case.day_one = case.due_date = case.completed_on = done


def _complete(ctx):
    case = ctx.record
    if case.completed_on < (case.clock_start or case.intake_date) or case.completed_on > today():
        raise Refused(_l("Choose a day between acceptance and today."), field="completed_on")
    late_reason_on_finish(case, case.completed_on, "completed_late")


def _pickup_notified(ctx):
    case = ctx.record
    if case.pickup_notified_on < (case.completed_on or case.intake_date) or case.pickup_notified_on > today():
        raise Refused(_l("Choose a day between completion and today."), field="pickup_notified_on")


def told_to_collect_in_time(case: ServiceCase) -> bool:
    """The applicant was told by the promised date that the result was ready [§11]."""
    due = case.effective_due
    return case.pickup_notified_on is not None and due is not None and case.pickup_notified_on <= due


def _deliver(ctx):
    case = ctx.record
    if case.delivered_on < (case.completed_on or case.intake_date):
        raise Refused(_l("Delivery cannot come before completion."), field="delivered_on")
    if case.delivered_on > today():
        raise Refused(_l("This day has not come yet."), field="delivered_on")
    if not told_to_collect_in_time(case):
        late_reason_on_finish(case, case.delivered_on, "delivered_late")


CASE_WORKFLOW = Workflow(
    initial="registered",
    states=[
        State("registered", _l("Registered"), "info"),
        State("awaiting_supplement", _l("Awaiting supplement"), "warn"),
        State("accepted", _l("Accepted, in progress"), "info"),
        State("waiting_applicant", _l("Waiting for the applicant"), "warn"),
        State("reported", _l("Reported upward"), "info"),
        State("completed", _l("Completed, to deliver"), "ok"),
        State("delivered", _l("Delivered"), "ok", final=True),
        State("answered", _l("Answered"), "ok", final=True),
        # Not final: a director may find a refusal without good cause and have the case handled.
        State("refused", _l("Not accepted"), "bad"),
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
                   requires=("request_text", "transfer_office", "transfer_phone"), guard=_responsible_or_manager),
        Transition("wait_for_applicant", _l("Wait for the applicant"), ("accepted",), "waiting_applicant",
                   HANDLERS, requires=("paused_on",), guard=_responsible_or_manager, on_apply=_pause,
                   comment_required=True, css="secondary", worklist=False),
        Transition("applicant_back", _l("The applicant is back"), ("waiting_applicant",), "accepted", HANDLERS,
                   requires=("resumed_on",), guard=_responsible_or_manager, on_apply=_resume),
        Transition("applicant_delay", _l("Record days caused by the applicant"), ("accepted",), "accepted",
                   HANDLERS, requires=("applicant_delay_days",), guard=_responsible_or_manager,
                   on_apply=_applicant_delay, comment_required=True, css="secondary", worklist=False),
        Transition("report", _l("Report to the higher authority"), ("accepted",), "reported", HANDLERS,
                   requires=("higher_authority",), guard=_responsible_or_manager),
        Transition("follow_up", _l("Record a follow-up"), ("reported",), "reported", HANDLERS,
                   guard=_responsible_or_manager, comment_required=True, css="secondary", worklist=False),
        Transition("complete", _l("Complete"), ("accepted", "reported"), "completed", HANDLERS,
                   requires=("completed_on", "result"), guard=_responsible_or_manager, on_apply=_complete),
        Transition("pickup_notified", _l("Applicant told to collect"), ("completed",), "completed", HANDLERS,
                   requires=("pickup_notified_on",), guard=_responsible_or_manager, on_apply=_pickup_notified,
                   css="secondary", worklist=False),
        Transition("deliver", _l("Deliver the result"), ("completed",), "delivered", HANDLERS,
                   requires=("delivery_method", "delivered_on"), guard=_responsible_or_manager, on_apply=_deliver),
        Transition("overturn_refusal", _l("Refusal without good cause: handle the case"), ("refused",), "accepted",
                   frozenset({DIRECTOR}), on_apply=_overturn_refusal, comment_required=True, css="danger",
                   worklist=False),
    ],
)


def case_flags(case: ServiceCase) -> list:
    flags = []
    if case.overdue:
        flags.append((_l("Overdue"), "bad"))
    elif case.warned:
        flags.append((_l("Due next working day"), "warn"))
    if case.handover_late:
        flags.append((_l("Not handed over in time"), "bad"))
    return flags


def _validate_case(ctx) -> dict:
    case, errors = ctx.record, {}
    if ctx.values.get("all_received") == "1":  # the intake's one tick for "everything on the list was brought"
        for row in case.materials:
            row.received = True
    if case.intake_date and case.intake_date > today():
        errors["intake_date"] = _l("The intake day cannot be in the future.")
    matter = db.session.get(Matter, case.matter_id) if case.matter_id else None
    if matter is None or matter.center_id != case.center_id or matter.voided:
        errors["matter_id"] = _l("Choose a matter of this centre's catalogue.")
    if not case.applicant_phone and case.kind != "consult":
        errors["applicant_phone"] = _l("A phone number is needed to tell the applicant the result.")
    if matter is not None and "matter_id" not in errors:
        errors.update(_intake_matches_matter(case, matter, parse_id(ctx.values.get("materials_for") or "")))
    errors.update(_joint_window_errors(case))
    if "matter_id" not in errors:
        errors.update(_then_errors(case, matter, ctx.values))
    return errors


def kinds_for(matter: Matter) -> tuple[str, ...]:
    """The case kinds a matter allows: an on-the-spot matter is done on the spot; any matter can be a
    consultation."""
    if matter.kind == "immediate":
        return ("immediate", "consult")
    return ("promised", "joint", "reported", "consult")


def _intake_matches_matter(case: ServiceCase, matter: Matter, loaded_for: int | None) -> dict:
    """One matter choice drives the materials list, the window and the kind [一次性告知]: a form whose
    list was loaded for another matter, a window other than the matter's, or a kind the matter does
    not allow is refused; the matter of a registered case is not changed afterwards."""
    if loaded_for is not None and loaded_for != matter.id:
        return {"matter_id": _l("The materials list below belongs to another matter: load this matter's list again.")}
    history = inspect(case).attrs.matter_id.history
    if case.id is not None and history.deleted and history.deleted[0] not in (None, matter.id):
        return {"matter_id": _l("The matter of a registered case cannot be changed; void it and register again.")}
    errors = {}
    if matter.window_id and case.window_id and case.window_id != matter.window_id:
        errors["window_id"] = _l("This matter is handled at window %(w)s.", w=str(matter.window))
    if case.kind and case.kind not in kinds_for(matter):
        errors["kind"] = _l("This matter does not allow this kind of case.")
    return errors


def _then_errors(case: ServiceCase, matter: Matter | None, values: dict) -> dict:
    """Register and accept (or finish on the spot) in one step: only when nothing is missing, so the
    case is never saved half-way."""
    then = values.get("then", "")
    if then not in ("accept", "done") or matter is None:
        return {}
    if then == "accept" and case.kind not in ("promised", "joint", "reported"):
        return {"kind": _l("Only a promised, joint or reported case is accepted; register it only.")}
    if then == "done" and case.kind != "immediate":
        return {"kind": _l("Only an on-the-spot case is finished at intake.")}
    if then == "done" and not (values.get("result") or "").strip():
        return {"result": _l("Write the result given to the applicant.")}
    missing = missing_materials(matter, case.materials)
    if missing:
        return {"materials": _l("Materials are missing (%(names)s): register the case and give the one-time notice.",
                                names="、".join(missing))}
    return {}


def _after_create_case(ctx) -> None:
    """The intake form's "register and accept" / "register and finish on the spot" buttons; the queue ticket
    the clerk is serving now gets the case (and so the visit's rating)."""
    from app.queue import link_case
    case, user = ctx.record, ctx.user
    link_case(case)
    then = ctx.values.get("then", "")
    if then == "accept":
        operations.transition(CASES, case, "accept", user)
    elif then == "done":
        day = case.intake_date
        operations.transition(CASES, case, "done_on_the_spot", user,
                              {"result": (ctx.values.get("result") or "").strip()[:2000], "completed_on": day})
        operations.transition(CASES, case, "deliver", user, {"delivery_method": "pickup", "delivered_on": day})


def _joint_window_errors(case: ServiceCase) -> dict:
    """A joint case (联办件) has a lead window (the case's) and at least one other co-handling window."""
    chosen = [row.window_id for row in case.joint if row.window_id]
    if case.kind != "joint":
        return {"kind": _l("Only a joint case has co-handling windows.")} if chosen else {}
    if not case.window_id:
        return {"window_id": _l("A joint case needs a lead window.")}
    if not chosen:
        return {"joint": _l("Add the windows that handle it together with the lead window.")}
    if case.window_id in chosen:
        return {"joint": _l("The lead window is not also a co-handling window.")}
    if len(set(chosen)) != len(chosen):
        return {"joint": _l("Each window once.")}
    return {}


def _before_save_case(ctx) -> None:
    from printouts import next_number
    case, user = ctx.record, ctx.user
    if not case.receipt_no:
        case.receipt_no = next_number(case.center_id, "case_receipt", case.intake_date.year)
    if case.responsible_id is None:
        case.responsible_id = user.id  # 首问负责: the first-asked clerk owns the case to the end
    if case.window_id is None and case.matter_id:
        case.window_id = db.session.get(Matter, case.matter_id).window_id
    for row in case.materials:
        if row.copies is None:
            row.copies = 1 if row.received else 0


def intake_matters(center_id: int, text: str = "") -> list[tuple[str, list[Matter]]]:
    """The centre's live matters grouped by window (in window order), optionally those whose name
    contains `text`: the intake's one matter picker."""
    query = (select(Matter).outerjoin(Window, Matter.window_id == Window.id)
             .where(Matter.center_id == center_id, Matter.voided.is_(False))
             .order_by(Window.number.is_(None), Window.number, Matter.name)
             .options(joinedload(Matter.window)))
    if text.strip():
        query = query.where(Matter.name.contains(text.strip(), autoescape=True))
    groups: dict[str, list[Matter]] = {}
    for matter in db.session.scalars(query):
        groups.setdefault(str(matter.window) if matter.window else str(_l("No window")), []).append(matter)
    return list(groups.items())


def case_register_allowed(center_id: int) -> bool:
    from flask_login import current_user

    from app.access import roles_in
    return CASES.allows("create", roles_in(current_user, center_id))


def intake_matter(matter_id, center_id: int) -> Matter | None:
    matter_id = parse_id(str(matter_id)) if matter_id else None
    matter = db.session.get(Matter, matter_id) if matter_id else None
    return matter if matter is not None and matter.center_id == center_id and not matter.voided else None


def _due():
    return db.func.coalesce(ServiceCase.extended_due, ServiceCase.due_date)


# The home page's tiles: each counts, and opens, exactly the cases of its condition.
CASE_TILES = (
    ListView("registered_today", _l("Registered today"), lambda on: ServiceCase.intake_date == on),
    ListView("due_today", _l("Due today"),
             lambda on: db.and_(ServiceCase.state.in_(RUNNING_STATES), _due() == on)),
    ListView("warned", _l("Due next working day"),
             lambda on: db.and_(ServiceCase.state.in_(RUNNING_STATES), ServiceCase.warned.is_(True),
                                ServiceCase.overdue.is_(False)), "warn"),
    ListView("overdue", _l("Overdue, not yet delivered"),
             lambda on: db.and_(ServiceCase.state.in_(PROMISE_STATES), ServiceCase.overdue.is_(True)), "bad"),
    ListView("awaiting_supplement", _l("Awaiting supplement"),
             lambda on: ServiceCase.state == "awaiting_supplement"),
    ListView("handover_late", _l("Not handed over in time"),
             lambda on: db.and_(ServiceCase.state.in_(OPEN_STATES), ServiceCase.handover_late.is_(True)), "bad"),
)


def _prefill_case(ctx) -> dict:
    """Intake: today's date and, once a matter is chosen, its materials list to tick off."""
    args, center_id = ctx.values, ctx.center_id
    data = {"intake_date": ctx.today}
    matter = db.session.get(Matter, parse_id(args.get("matter_id")) or 0)
    if matter is None and args.get("mq", "").strip():  # typed part of a name: one match loads it
        found = [m for _w, ms in intake_matters(center_id, args["mq"]) for m in ms]
        matter = found[0] if len(found) == 1 else None
    if matter is not None and matter.center_id == center_id:
        kind = "immediate" if matter.kind == "immediate" else "joint" if matter.handling_mode == "joint" else "promised"
        # Nothing ticked yet: the clerk ticks what the applicant actually brought.
        data.update(matter_id=matter.id, window_id=matter.window_id or 0, kind=kind,
                    materials=[{"received": False, "name": m.name, "form": m.form, "copies": m.copies}
                               for m in matter.materials] + [{}])
    return data


CASES = register(RecordType(
    key="cases", model=ServiceCase, title=_l("Case"), title_plural=_l("Cases"), nav_group="cases",
    permissions={"read": READERS, "create": HANDLERS | {ADMIN}, "edit": HANDLERS, "void": frozenset({DIRECTOR}),
                 "print": READERS, "export": READERS},
    workflow=CASE_WORKFLOW, edit_states=("registered", "awaiting_supplement"),
    unmask_roles=frozenset({DEPUTY, DIRECTOR, LEADER}), can_edit=_responsible_or_manager, owner="responsible_id",
    validate=_validate_case, before_save=_before_save_case, prefill=_prefill_case, after_create=_after_create_case,
    # The intake form's inputs that are not stored as typed: the "all brought" tick, the matter the
    # materials list was loaded for, "register and accept / finish on the spot" and that result.
    options=("all_received", "materials_for", "then", "result"),
    # A list row names its matter and window: those two columns, not the matter's whole guide (basis,
    # conditions, procedure …) for each of the page's rows. The record page reads them whole.
    list_options=(joinedload(ServiceCase.matter).load_only(Matter.name),
                  joinedload(ServiceCase.window).load_only(Window.number, Window.name)),
    view_options=(joinedload(ServiceCase.matter), joinedload(ServiceCase.window)),
    template_view="cases/view.html", template_form="cases/intake.html", flags=case_flags, views=CASE_TILES,
    ledger_columns=("receipt_no", "applicant_name", "applicant_phone", "matter_id", "window_id", "kind", "intake_date",
                    ("due_date", "extended_due"), "completed_on", "responsible_id"),
    fields=[
        Field("receipt_no", _l("Receipt number"), kind="str", in_form=False, in_list=True, search="prefix"),
        Field("applicant_name", _l("Applicant"), required=True, in_list=True, search="ngram"),
        Field("applicant_phone", _l("Applicant's phone"), kind="phone", search="prefix"),
        Field("applicant_id_no", _l("ID number"), kind="idno", mask=True, search="idno"),
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
        Field("paused_on", _l("Waiting for the applicant since"), in_form=False,
              help=_l("The day the window asked the applicant for more.")),
        Field("resumed_on", _l("Applicant back on"), in_form=False,
              help=_l("Working days strictly between the two days do not count.")),
        Field("overdue", _l("Overdue"), in_form=False, filter=True),
        Field("warned", _l("Due next working day"), in_form=False, filter=True),
        Field("handover_late", _l("Not handed over in time"), in_form=False, filter=True),
        Field("answer", _l("Answer given"), in_form=False),
        Field("refusal_reason", _l("Reasons for not accepting"), in_form=False),
        Field("remedies", _l("The applicant's remedies"), in_form=False,
              help=_l("E.g. administrative reconsideration within 60 days or a lawsuit within 6 months, and where.")),
        Field("request_text", _l("What the applicant asked for"), in_form=False, max_length=300,
              help=_l("In the applicant's words: a referral is for business this centre does not handle.")),
        Field("transfer_office", _l("Responsible office"), in_form=False),
        Field("transfer_phone", _l("Its phone"), kind="phone", in_form=False),
        Field("higher_authority", _l("Higher authority"), in_form=False),
        Field("completed_on", _l("Completed on"), in_form=False),
        Field("result", _l("Result"), in_form=False),
        Field("delivery_method", _l("Delivered by"), choices=DELIVERY_CHOICES, in_form=False),
        Field("delivered_on", _l("Delivered on"), in_form=False),
        Field("pickup_notified_on", _l("Applicant told to collect on"), in_form=False,
              help=_l("Told by the promised date, a later pick-up does not count as overdue.")),
    ],
    children=[
        Child("materials", _l("Materials"), CaseMaterial, blank_rows=1, fields=[
            Field("received", _l("Received")),
            Field("name", _l("Material"), required=True),
            Field("form", _l("Original or copy"), choices=MATERIAL_FORM_CHOICES),
            Field("copies", _l("Copies"), min=0, max=99),
            Field("note", _l("Note")),
        ]),
        Child("joint", _l("Co-handling windows (joint case)"), CaseJointWindow, blank_rows=0, hide_empty=True, fields=[
            Field("window_id", _l("Window"), ref=Window, required=True),
            Field("task", _l("Their part")),
        ]),
    ],
    prints=[
        PrintForm("receipt", _l("Receipt"), "print/case_receipt.html"),
        PrintForm("notice", _l("One-time notification slip"), "print/case_notice.html", form_type="case_notice",
                  states=("awaiting_supplement",)),
        # Numbered forms only where they apply (opening one issues no number; see records.views.print_view):
        # an acceptance notice promises a date, so not for a consultation or a case done on the spot;
        # the joint notice for a case registered as joint, not for a plain promised case of a joint matter.
        PrintForm("acceptance", _l("Acceptance notice"), "print/case_acceptance.html", form_type="case_acceptance",
                  states=("accepted", "waiting_applicant", "reported", "completed", "delivered"),
                  when=lambda case: case.kind in ("promised", "joint", "reported") and case.clock_start is not None),
        PrintForm("refusal", _l("Refusal notice"), "print/case_refusal.html", form_type="case_refusal",
                  states=("refused",)),
        PrintForm("joint", _l("Joint case notice"), "print/case_joint.html", form_type="case_joint",
                  states=("accepted", "waiting_applicant", "reported", "completed", "delivered"),
                  when=lambda case: case.kind == "joint"),
        PrintForm("transfer", _l("Referral slip"), "print/case_transfer.html", form_type="case_transfer",
                  states=("transferred",)),
    ],
))


# ------------------------------------------------------------------ extensions and handovers

def _approve_extension(ctx) -> None:
    approve_extension(ctx.record)


def approve_extension(ext: CaseExtension) -> None:
    """An approved extension moves the promise, unless it was asked for (or the applicant told)
    after the deadline [§8, §10 (三)]: then the case stays overdue."""
    case = ext.case
    late = extension_effect(case, ext)
    if late:
        case.overdue, case.overdue_reason = True, late
    else:
        case.extended_due, case.warned = ext.new_due, False


def promise_before(ext: CaseExtension) -> date | None:
    """The promise an extension asks to move: the last earlier approved extension's date, or the
    case's own due date."""
    earlier = db.session.scalar(select(CaseExtension.new_due).where(
        CaseExtension.case_id == ext.case_id, CaseExtension.state == "approved", CaseExtension.voided.is_(False),
        CaseExtension.id < (ext.id or 0)).order_by(CaseExtension.id.desc()).limit(1))
    return earlier or ext.case.due_date


def _validate_extension(ctx) -> dict:
    ext, errors = ctx.record, {}
    case = db.session.get(ServiceCase, ext.case_id)
    if case is None or case.state not in ("accepted", "reported"):
        return {"new_due": _l("Only a case in progress can be extended.")}
    if ext.requested_on and (ext.requested_on > today() or ext.requested_on < (case.clock_start or case.intake_date)):
        errors["requested_on"] = _l("Choose a day between acceptance and today.")
    if ext.new_due and not is_working_day(ext.new_due):
        errors["new_due"] = _l("%(day)s is not a working day; the next working day is %(next)s.",
                               day=cn_date(ext.new_due), next=cn_date(next_working_day(ext.new_due)))
    elif case.effective_due and ext.new_due and ext.new_due <= case.effective_due:
        errors["new_due"] = _l("The new date must come after the current promise (%(d)s).", d=case.effective_due.isoformat())
    if ext.applicant_notified_on and ext.requested_on and ext.applicant_notified_on < ext.requested_on:
        errors["applicant_notified_on"] = _l("The applicant is told of the extension once it is asked for.")
    elif ext.applicant_notified_on and case.effective_due and ext.applicant_notified_on > case.effective_due:
        errors["applicant_notified_on"] = _l("The applicant must be told before the old deadline.")
    return errors


def _extension_warnings(ctx) -> list:
    ext = ctx.record
    if ext.case is not None and extension_effect(ext.case, ext):
        return [_l("Asked for after the deadline: the case counts as overdue even if the extension is approved.")]
    return []


register(RecordType(
    key="case-extensions", model=CaseExtension, title=_l("Extension request"), title_plural=_l("Extension requests"),
    nav_group="cases", parent=("case_id", ServiceCase),
    permissions={"read": READERS, "create": HANDLERS, "edit": HANDLERS, "void": frozenset({DIRECTOR}),
                 "print": READERS, "export": READERS},
    validate=_validate_extension, warnings=_extension_warnings, edit_states=("requested",),
    prefill=lambda ctx: {"requested_on": ctx.today},
    workflow=Workflow(initial="requested", states=[
        State("requested", _l("Requested"), "warn"), State("approved", _l("Approved"), "ok", final=True),
        State("rejected", _l("Rejected"), "bad", final=True)],
        transitions=[
            Transition("approve", _l("Approve"), ("requested",), "approved", frozenset({DIRECTOR}),
                       requires=("head_opinion", "applicant_notified_on"), fields=("notice_method",),
                       not_by_subject=True, on_apply=_approve_extension, approval=True),
            Transition("reject", _l("Reject"), ("requested",), "rejected", frozenset({DIRECTOR}),
                       requires=("head_opinion",), not_by_subject=True, css="danger")]),
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


def _leg_owner(ctx) -> None:
    responsible_or_manager(ctx.record.case, ctx.user)


def _return_leg(ctx) -> None:
    """The department's leg ends when the file comes back; back after the promise is late."""
    leg = ctx.record
    if leg.returned_on < leg.handed_on:
        raise Refused(_l("The file cannot come back before it was handed over."), field="returned_on")
    if leg.returned_on > today():
        raise Refused(_l("This day has not come yet."), field="returned_on")
    due = leg.case.effective_due
    if due is not None and leg.returned_on > due:
        leg.late = True


def _push_result(ctx) -> None:
    leg = ctx.record
    if leg.result_pushed_on < leg.returned_on or leg.result_pushed_on > today():
        raise Refused(_l("Choose a day between the return and today."), field="result_pushed_on")


def _prefill_handover(ctx) -> dict:
    """Today, and the department that stands behind the case's matter."""
    case = db.session.get(ServiceCase, parse_id(ctx.values.get("case_id")) or 0)
    department = case.matter.department_id if case is not None and case.matter else None
    return {"handed_on": ctx.today, **({"department_id": department} if department else {})}


def _validate_handover(ctx) -> dict:
    leg = ctx.record
    case = db.session.get(ServiceCase, leg.case_id)
    if case is None or case.state not in ("accepted", "reported"):
        return {"handed_on": _l("Only a case in progress is handed over.")}
    if leg.handed_on < (case.clock_start or case.intake_date):
        return {"handed_on": _l("The handover cannot come before the case was accepted.")}
    if leg.handed_on > today():
        return {"handed_on": _l("This day has not come yet.")}
    return {}


def _mark_late_handover(ctx) -> None:
    leg = ctx.record
    case = db.session.get(ServiceCase, leg.case_id)
    if case is not None and leg.handed_on > handover_deadline(case):
        leg.late = case.handover_late = True


register(RecordType(
    key="case-handovers", model=CaseHandover, title=_l("Handover"), title_plural=_l("Handovers"),
    nav_group="cases", parent=("case_id", ServiceCase),
    permissions={"read": READERS, "create": HANDLERS, "edit": HANDLERS, "void": frozenset({DIRECTOR}),
                 "print": READERS, "export": READERS},
    validate=_validate_handover, before_save=_mark_late_handover, edit_states=("handed",),
    prefill=_prefill_handover,
    workflow=Workflow(initial="handed", states=[
        State("handed", _l("With the department"), "info"), State("returned", _l("Returned"), "ok"),
        State("pushed", _l("Result pushed for supervision"), "ok", final=True)],
        transitions=[
            Transition("return", _l("File returned"), ("handed",), "returned", HANDLERS,
                       requires=("returned_on",), on_apply=_return_leg, guard=_leg_owner),
            Transition("push", _l("Result pushed to the department"), ("returned",), "pushed", HANDLERS,
                       requires=("result_pushed_on",), guard=_leg_owner, on_apply=_push_result)]),
    fields=[
        Field("case_id", _l("Case"), ref=ServiceCase, in_form=False, in_list=True),
        Field("department_id", _l("Department"), ref=Department, required=True, in_list=True, filter=True),
        Field("handed_on", _l("Handed over on"), required=True, in_list=True, filter=True),
        Field("received_by", _l("Received by")),
        Field("returned_on", _l("Returned on"), in_form=False, in_list=True),
        Field("result_pushed_on", _l("Result pushed on"), in_form=False),
        Field("late", _l("Late"), in_form=False, filter=True),
        Field("note", label_in("case-handovers", "Note")),
    ],
    prints=[PrintForm("form", _l("Handover form"), "print/case_handover.html", form_type="case_handover")],
))


def init_app(app) -> None:
    from app.status import status_url
    from app.deadlines import PROVISIONAL_WARNING
    from app import workdays
    if recompute_promises not in workdays.SCHEDULE_LISTENERS:
        workdays.SCHEDULE_LISTENERS.append(recompute_promises)
    app.jinja_env.globals.update(case_children=case_children, overdue_reasons=OVERDUE_REASONS, case_tiles=CASE_TILES,
                                 intake_matters=intake_matters, kinds_for=kinds_for, intake_matter=intake_matter,
                                 case_register_allowed=case_register_allowed,
                                 provisional_warning=PROVISIONAL_WARNING, promise_before=promise_before,
                                 case_status_url=status_url, case_state=case_state, case_dashboard=case_dashboard)


def case_dashboard(center_id: int, on: date | None = None) -> dict:
    """Today's tiles for a centre, counted from the records in one query with the tiles' own conditions."""
    on = on or today()
    # Every tile's condition implies today's intake or a promise still running: only those rows are read,
    # each set found through its own index (an OR of the two would read the whole register).
    here = (ServiceCase.center_id == center_id, ServiceCase.voided.is_(False))
    rows = db.union(select(ServiceCase.id).where(*here, ServiceCase.intake_date == on),
                    select(ServiceCase.id).where(*here, ServiceCase.state.in_(PROMISE_STATES)))
    counts = db.session.execute(select(*(db.func.sum(db.case((tile.condition(on), 1), else_=0))
                                         for tile in CASE_TILES))
                                .where(ServiceCase.id.in_(rows))).one()
    return dict(zip((t.key for t in CASE_TILES), (int(v or 0) for v in counts)), today=on)


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


from app.features import Feature, HomePanel, Job  # noqa: E402  (the feature declaration closes the module)

# create_app calls init_app itself (after notifications), so the feature names none.
FEATURE = Feature(
    "cases", types=("app.cases",), init_app=init_app,
    home_panels=[HomePanel("cases/_home_panel.html", HANDLERS | {LEADER, COUNTY, ADMIN})],
    jobs=[Job("case_deadlines", "jobs.case_jobs:case_deadlines", {"hour": "0,8,13", "minute": 5},
              "Flag overdue cases and late handovers"),
          Job("case_warnings", "jobs.case_jobs:case_warnings", {"day_of_week": "*", "hour": 9, "minute": 0},
              "Warn of cases due on the next working day", reminder=True)],
)
