"""Village service points (村级便民服务点) [002 §11 (三); SPEC §4.14]: the register, the two-part acceptance
notice, and forwarding (转报) a case to the township centre.

- The register (办理事项登记本) is a record type of a village point (a Center of kind "village"): its list,
  Excel export and paper ledger are the engine's, the ledger with exactly the register's columns
  (编号, 受理日期, 申办事项, 申办人, 联系电话, 办件状态). Numbers run per village point and year.
- The acceptance notice (受理告知书) is one A4 sheet: the applicant's part on top, the stub (存根) below,
  cut apart on the dashed line.
- Forwarding creates a service case in the parent township centre (app.cases.CASES, channel "village"),
  owned and worked there like any other case; the register line keeps the case's id and shows its state
  and due date, read through that link (the village's staff get no right on the township's pages).
- The register line's own state does not follow the township's case by itself: the page shows the
  case's state live and, once the township has finished it (completed / delivered / answered, or refused /
  referred), offers the village staff the step that closes the line when the applicant has been told.
- The township's managers (deputy, director, town leader of the parent centre) read the registers of
  its village points on the pages below (/village/points); the county reads them through its grant.
"""
from __future__ import annotations

import io
import re

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from sqlalchemy import func, select
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.exceptions import Conflict, Forbidden

from app import access, audit
from app.access import MANAGERS, STAFF
from app.extensions import db
from app.params import parse_id
from app.records import operations
from app.records import query as rq
from app.records.registry import Field, PrintForm, RecordType, Refused, State, Transition, Workflow, register
from app.timeutil import cn_date, now, today
from models.case import ServiceCase
from models.catalogue import Matter
from models.core import AGENT, CLERK, COUNTY, DEPUTY, DIRECTOR, Center
from models.village import VillageEntry

KEY = "village-register"
VILLAGE_STAFF = frozenset({AGENT, CLERK})          # 代办员 and whoever keeps the register at the point
READERS = STAFF | {COUNTY}
FORM_TYPE = "village_register"                     # the number series: per village point and year
# The township case's states that end its part, and what the village does then.
CASE_DONE = ("completed", "delivered", "answered")
CASE_ENDED = ("refused", "transferred")


# ------------------------------------------------------------------ rules

def township_of(center: Center | None) -> Center | None:
    """The township centre a village point reports to (its parent), or None."""
    if center is None or center.kind != "village" or center.parent_id is None:
        return None
    parent = db.session.get(Center, center.parent_id)
    return parent if parent is not None and parent.active else None


def oversees(user, point: Center) -> bool:
    """The township's managers read the registers of the village points below their centre."""
    return (point.kind == "village" and point.parent_id is not None
            and bool(access.roles_in(user, point.parent_id) & MANAGERS))


def forwarded_case(entry: VillageEntry) -> ServiceCase | None:
    return db.session.get(ServiceCase, entry.case_id) if entry.case_id else None


def case_status(entry: VillageEntry) -> dict | None:
    """What the village sees of the township's case, read live through the link: never the case page."""
    from app.cases import case_state
    case = forwarded_case(entry)
    if case is None:
        return None
    return {"township": case.center.name if case.center else "", "receipt_no": case.receipt_no,
            "state": case.state, "state_title": case_state(case), "due": case.effective_due,
            "intake_date": case.intake_date, "completed_on": case.completed_on, "delivered_on": case.delivered_on,
            "done": case.state in CASE_DONE, "ended": case.state in CASE_ENDED,
            "result": case.result or case.answer, "refusal_reason": case.refusal_reason,
            "transfer_office": case.transfer_office, "overdue": case.overdue, "voided": case.voided}


def already_forwarded(entry: VillageEntry) -> str:
    case = forwarded_case(entry)
    when = entry.forwarded_at.strftime("%Y-%m-%d %H:%M") if entry.forwarded_at else ""
    receipt = case.receipt_no if case is not None else str(entry.case_id)
    return _("This entry (number %(number)s) was forwarded to the township centre on %(at)s as case %(receipt)s: "
             "it cannot be forwarded twice. Nothing was changed.", number=entry.number, at=when, receipt=receipt)


def forward_entry(entry: VillageEntry, user, matter_id: int | None, comment: str = "") -> ServiceCase:
    """转报: the township opens a case for this register line. Refused (nothing changed) when it was
    forwarded already or no township matter is chosen. The caller commits (or rolls back on Refused)."""
    if entry.case_id is not None:
        raise Refused(already_forwarded(entry))
    operations.transition(VILLAGE, entry, "forward", user, {"township_matter_id": matter_id}, comment)
    return forwarded_case(entry)


# ------------------------------------------------------------------ hooks

def _validate(ctx) -> dict:
    entry, errors = ctx.record, {}
    center = db.session.get(Center, entry.center_id)
    if center is None or center.kind != "village":
        errors[""] = _l("The register is kept at a village service point only: choose the point in the header, then register.")
    if entry.accepted_on and entry.accepted_on > ctx.today:
        errors["accepted_on"] = _l("This day has not come yet.")
    if entry.expected_on and entry.accepted_on and entry.expected_on < entry.accepted_on:
        errors["expected_on"] = _l("The expected date cannot come before the day of acceptance.")
    return errors


def _before_save(ctx) -> None:
    from printouts import next_number
    entry = ctx.record
    if not entry.number:
        entry.number = next_number(entry.center_id, FORM_TYPE, entry.accepted_on.year)
    if entry.receiver_id is None and ctx.user is not None:
        entry.receiver_id = ctx.user.id   # 收件人: who registered it


def _forward(ctx) -> None:
    """The township case: the matter chosen from the township's catalogue, the applicant as registered,
    channel "village", received today; the matter's materials listed for the township clerk to tick."""
    from app.cases import CASES
    entry, user = ctx.record, ctx.user
    if entry.case_id is not None:
        raise Refused(already_forwarded(entry))
    township = township_of(db.session.get(Center, entry.center_id))
    if township is None:
        raise Refused(_("This service point has no township centre above it: it cannot forward."))
    matter = db.session.get(Matter, entry.township_matter_id) if entry.township_matter_id else None
    if matter is None or matter.center_id != township.id or matter.voided:
        raise Refused(_("Choose the matter in the catalogue of %(township)s, then forward.", township=township.name),
                      field="township_matter_id")
    values = dict(applicant_name=entry.applicant_name, applicant_phone=entry.applicant_phone,
                  applicant_id_no=entry.applicant_id_no or "", matter_id=matter.id, window_id=matter.window_id,
                  kind="immediate" if matter.kind == "immediate" else "promised", channel="village",
                  intake_date=ctx.today)
    rows = [{"received": False, "name": m.name, "form": m.form, "copies": m.copies, "note": ""}
            for m in matter.materials]
    try:
        case = operations.create(CASES, user, values, center_id=township.id, children={"materials": rows})
    except operations.Invalid as invalid:
        where = {"matter_id": "township_matter_id", "applicant_phone": "applicant_phone",
                 "applicant_id_no": "applicant_id_no", "applicant_name": "applicant_name"}
        name, message = next(iter(invalid.errors.items()), ("", ""))
        raise Refused(_("The township case could not be registered: %(reason)s", reason=message),
                      field=where.get(name)) from None
    # 首问负责 at the township: the first township clerk who takes the case up owns it, not the village's agent.
    case.responsible_id = None
    note = _("Forwarded by %(point)s, register number %(number)s", point=entry.center.name, number=entry.number)
    if entry.materials.strip():
        note += "; " + _("received at the point: %(materials)s", materials=entry.materials.strip()[:300])
    audit.note(case, "edit", note)
    entry.case_id, entry.forwarded_at, entry.forwarded_by_id = case.id, now(), user.id


def _case_done(ctx) -> None:
    status = case_status(ctx.record)
    if status is None or not status["done"]:
        raise Refused(_("The township centre has not finished this case yet."))


def _case_ended(ctx) -> None:
    status = case_status(ctx.record)
    if status is None or not status["ended"]:
        raise Refused(_("The township centre has neither refused nor referred this case."))


def _finish_forwarded(ctx) -> None:
    entry = ctx.record
    if not (entry.result or "").strip():
        status = case_status(entry) or {}
        entry.result = (status.get("result") or _("Completed by the township centre"))[:4000]


def _sample(center) -> VillageEntry:
    """A register line accepted on a Monday, for the generated tests (any centre)."""
    from datetime import date, time
    entry = VillageEntry(center_id=center.id, state="accepted", accepted_on=date(2026, 11, 23),
                         accepted_time=time(9, 30), matter="城乡居民养老保险参保登记", applicant_name="王五",
                         applicant_phone="13900000000", materials="居民身份证复印件1份")
    db.session.add(entry)
    _before_save(VILLAGE.ctx(entry, None))
    db.session.flush()
    return entry


WORKFLOW = Workflow(
    initial="accepted",
    states=[
        State("accepted", "已受理", "info"),
        State("forwarded", "已转报乡镇", "info"),
        State("completed", "已办结", "ok", final=True),
        State("returned", "已退回", "bad", final=True),
    ],
    transitions=[
        Transition("forward", "转报乡镇便民服务中心", ("accepted",), "forwarded", VILLAGE_STAFF,
                   fields=("township_matter_id",), on_apply=_forward, view="village.forward"),
        Transition("finish", "办结", ("accepted",), "completed", VILLAGE_STAFF, requires=("result",)),
        Transition("return", "退回申办人", ("accepted",), "returned", VILLAGE_STAFF, comment_required=True,
                   css="danger", worklist=False),
        # After the township: the line is closed once the applicant has been told (the state does not follow
        # the case by itself; the page shows the case's state live).
        Transition("finish_forwarded", "乡镇已办结：办结", ("forwarded",), "completed", VILLAGE_STAFF,
                   fields=("result",), guard=_case_done, on_apply=_finish_forwarded, worklist=False),
        Transition("return_forwarded", "乡镇未受理：退回申办人", ("forwarded",), "returned", VILLAGE_STAFF,
                   guard=_case_ended, comment_required=True, css="danger", worklist=False),
    ],
)

VILLAGE = register(RecordType(
    key=KEY, model=VillageEntry, title="办理事项登记", title_plural="办理事项登记本", nav_group="cases",
    permissions={"read": READERS, "create": VILLAGE_STAFF, "edit": VILLAGE_STAFF,
                 "void": VILLAGE_STAFF | {DEPUTY, DIRECTOR}, "print": READERS, "export": READERS},
    workflow=WORKFLOW, edit_states=("accepted",), unmask_roles=VILLAGE_STAFF,
    validate=_validate, before_save=_before_save, sample=_sample,
    prefill=lambda ctx: {"accepted_on": ctx.today, "accepted_time": now().time().replace(second=0)},
    template_view="village/view.html",
    # The paper ledger is the register itself: 编号, 受理日期, 申办事项, 申办人, 联系电话 and the state (办件状态).
    ledger_columns=("number", "accepted_on", "matter", "applicant_name", "applicant_phone"),
    fields=[
        Field("number", "编号", kind="str", in_form=False, in_list=True, search="prefix"),
        Field("accepted_on", "受理日期", required=True, in_list=True, filter=True),
        Field("accepted_time", "受理时间"),
        Field("matter", "申办事项", required=True, in_list=True, search=True,
              help=_l("In the applicant's words: what they want done.")),
        Field("applicant_name", "申办人", required=True, in_list=True, search=True),
        Field("applicant_phone", "联系电话", kind="phone", required=True, in_list=True, search="prefix"),
        Field("applicant_id_no", "身份证号", kind="idno", mask=True,
              help=_l("Written into the township case when the entry is forwarded.")),
        Field("materials", "收到材料", kind="text"),
        Field("expected_on", "预计办结日期", help=_l("When known: printed on the acceptance notice.")),
        Field("receiver_id", "收件人", kind="user", in_form=False, filter=True),
        Field("township_matter_id", "乡镇办理事项", kind="ref", ref=Matter, in_form=False),
        Field("case_id", "乡镇办件", kind="ref", ref=ServiceCase, in_form=False),
        Field("forwarded_at", "转报时间", in_form=False),
        Field("result", "办理结果", kind="text", in_form=False),
        Field("note", "备注", kind="text"),
    ],
    prints=[PrintForm("notice", "受理告知书", "print/village_notice.html")],
))


# ------------------------------------------------------------------ pages

bp = Blueprint("village", __name__)


def _error(error, reason: str, back: str, status: int):
    return render_template("errors/error.html", error=error, reason=reason, back=back), status


def _older_version(submitted, current) -> bool:
    return bool(submitted) and submitted.isascii() and submitted.isdigit() and int(submitted) < current


# The step's own page: the generic step URL, so the record page's "转报" button opens this form.
@bp.route("/village/<int:record_id>/forward", methods=["GET", "POST"])
@login_required
def forward(record_id):
    from app.cases import intake_matters
    from app.records.workflow import refusal
    entry = rq.get_or_404(VILLAGE, record_id, current_user)
    back = url_for("records.view", key=KEY, record_id=entry.id)
    if entry.case_id is not None:        # a second click, a second tab, Back and again: say so, change nothing
        return _error(Conflict(), already_forwarded(entry), back, 409)
    step = VILLAGE.workflow.transition("forward")
    reason = refusal(VILLAGE, entry, step, current_user)
    if reason:
        return _error(Forbidden() if entry.state in step.source and not entry.voided else Conflict(), reason, back,
                      403 if entry.state in step.source and not entry.voided else 409)
    township = township_of(entry.center)
    error, chosen = None, entry.township_matter_id
    if request.method == "POST":
        chosen = parse_id(request.form.get("township_matter_id") or "")
        if _older_version(request.form.get("form_version"), entry.version):
            flash(_("This entry was changed a moment ago: check it, then forward."), "error")
            return redirect(back)
        try:
            case = forward_entry(entry, current_user, chosen, (request.form.get("comment") or "").strip()[:2000])
        except Refused as refused:
            db.session.rollback()
            error = refused.message
            entry = rq.get_or_404(VILLAGE, record_id, current_user)
        except StaleDataError:
            db.session.rollback()
            entry = rq.get_or_404(VILLAGE, record_id, current_user)
            if entry.case_id is not None:
                return _error(Conflict(), already_forwarded(entry), back, 409)
            flash(_("This record has already been handled by someone else; look at it again before you act."), "error")
            return redirect(back)
        else:
            flash(_("Forwarded to %(township)s: township case number %(receipt)s.", township=township.name,
                    receipt=case.receipt_no), "success")
            return redirect(back)
    return render_template("village/forward.html", rtype=VILLAGE, record=entry, township=township,
                           groups=intake_matters(township.id) if township else [], chosen=chosen, error=error,
                           step=step)


def _point_or_404(point_id: int) -> Center:
    point = db.session.get(Center, point_id)
    if point is None or point.kind != "village" or not oversees(current_user, point):
        abort(404)
    return point


def _register_rows(point: Center, limit: int = 1000) -> list[VillageEntry]:
    return db.session.scalars(select(VillageEntry).where(VillageEntry.center_id == point.id,
                                                         VillageEntry.voided.is_(False))
                              .order_by(VillageEntry.accepted_on.desc(), VillageEntry.id.desc()).limit(limit)).all()


@bp.route("/village/points")
@login_required
def points():
    """The township's village points and their registers at a glance (its managers)."""
    center = access.current_center()
    if center is None or not access.roles_in(current_user, center.id) & MANAGERS:
        abort(403)
    villages = db.session.scalars(select(Center).where(Center.parent_id == center.id, Center.kind == "village")
                                  .order_by(Center.name)).all()
    counts = dict.fromkeys((v.id for v in villages), None)
    rows = db.session.execute(select(VillageEntry.center_id, VillageEntry.state, func.count())
                              .where(VillageEntry.center_id.in_(list(counts) or [0]), VillageEntry.voided.is_(False))
                              .group_by(VillageEntry.center_id, VillageEntry.state)).all()
    tally = {v.id: {} for v in villages}
    for center_id, state, n in rows:
        tally[center_id][state] = n
    return render_template("village/points.html", center=center, villages=villages, tally=tally, states=WORKFLOW.states)


@bp.route("/village/points/<int:point_id>/")
@login_required
def point_register(point_id):
    point = _point_or_404(point_id)
    return render_template("village/point_register.html", point=point, rows=_register_rows(point), rtype=VILLAGE,
                           case_status=case_status)


@bp.route("/village/points/<int:point_id>/export.xlsx")
@login_required
def point_export(point_id):
    """The register as a workbook: its six columns and the township case's state."""
    from openpyxl import Workbook

    from app.records.registry import state_title
    from app.xlsx import append_row
    point = _point_or_404(point_id)
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("办理事项登记本")
    append_row(ws, ["编号", "受理日期", "申办事项", "申办人", "联系电话", "办件状态", "乡镇办件状态"])
    for entry in _register_rows(point, 100_000):
        status = case_status(entry)
        append_row(ws, [entry.number, entry.accepted_on.isoformat(), entry.matter, entry.applicant_name,
                        entry.applicant_phone, state_title(entry),
                        f"{status['receipt_no']} {status['state_title']}" if status else ""])
    buf = io.BytesIO()
    wb.save(buf)
    name = re.sub(r"[^A-Za-z0-9_-]", "", point.code) or str(point.id)
    return Response(buf.getvalue(), mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                    headers={"Content-Disposition": f"attachment; filename=village-register-{name}-{today()}.xlsx"})


@bp.route("/village/points/<int:point_id>/<int:record_id>")
@login_required
def point_record(point_id, record_id):
    point = _point_or_404(point_id)
    entry = db.session.get(VillageEntry, record_id)
    if entry is None or entry.center_id != point.id:
        abort(404)
    return render_template("village/point_record.html", point=point, record=entry, rtype=VILLAGE,
                           status=case_status(entry))


def init_app(app) -> None:
    app.jinja_env.globals.update(village_case_status=case_status, village_township=township_of)
    app.jinja_env.filters.setdefault("cn_date", cn_date)


from app.features import Feature, MenuLink  # noqa: E402  (the feature declaration closes the module)

FEATURE = Feature(
    "village", types=("app.village",), blueprints=[bp], init_app=init_app,
    menu=[MenuLink("village.points", "村级便民服务点", MANAGERS, group="cases")],
)
