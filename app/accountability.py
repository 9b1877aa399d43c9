"""Accountability (责任追究) [000 责任追究制; SPEC §4.9] and return-to-department recommendations
(退回建议) [001 二(4); SPEC §4.8].

The file of one case against one person goes:
  proposed (by the system or a manager; never decided automatically)
  → under investigation (the director)
  → awaiting the person's statement and defence (第九条)
  → statement given (by the person only) — or the director records that the person declined to state
  → decided (the director: severity, an outcome allowed for it, the decision in words)
  → appealed (by the person, within APPEAL_DAYS = 15 working days of the decision, only against a
    行政处分 or 责令辞职 / 辞退 — 第九条 第二款) → appeal decided;
  or dismissed (不予追究) with a reason at any point before the decision.

Severity bounds the outcome [第五条]: 较轻 → 告诫; 较重 → 通报批评, 警告, 记过, 调离岗位; 严重 → 记大过, 降级,
撤职, 责令辞职, 辞退. "Two or more in a year" (第六条 (二)) is counted from the person's decided records of the
same calendar year (by the day of the conduct), never ticked; it is frozen once the record is decided.

The system proposes: every overdue service case with a responsible clerk and every verified complaint
naming a staff member gets one proposed record (one only: unique links, checked and constrained).
An overdue case is proposed as 第五条 (十一) "other breaches of the first-ask / time-limit rules": the
time-limit system (限时办结) is what an overdue case breaks, and (九) "deliberate delay" or (七) "not passed
on, causing delay" need findings the system cannot make; the director changes it while investigating.

Return recommendations [001 二(4)]: `flag_returns(center_id, year)` recommends returning a window clerk with
2+ verified complaints (app.complaints.consequences) or 2+ 通报批评 decided in the year; further grounds
(a failed annual assessment, from the assessment module) plug in through `add_return_ground`.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from sqlalchemy import extract, select
from sqlalchemy.exc import IntegrityError

from app import timeutil
from app.deadlines import working_day_deadline
from app.extensions import db
from app.records import operations
from app.records.registry import SUBJECT, Field, PrintForm, RecordType, Refused, State, Transition, Workflow, register
from models.accountability import AccountabilityRecord, ReturnRecommendation
from models.case import ServiceCase
from models.complaint import Complaint
from models.core import CLERK, COUNTY, DEPUTY, DIRECTOR, LEADER, RoleGrant, User

# ------------------------------------------------------------------ the regulation's lists

SOURCE_CHOICES = (("overdue_case", _l("Overdue service case")), ("complaint", _l("Verified complaint")),
                  ("patrol", _l("Patrol finding")), ("other", _l("Other")))

# 第五条 (一)–(十一), in the regulation's order.
VIOLATION_CHOICES = (
    ("v01", "（一）对申请人推诿或者粗暴刁难"),
    ("v02", "（二）在窗口值班时擅自离岗"),
    ("v03", "（三）应当场办理而故意不当场办理"),
    ("v04", "（四）未一次性准确告知需补正的全部材料，致申请人多次申报"),
    ("v05", "（五）办理事项不按规定登记或者不出具书面凭证"),
    ("v06", "（六）应当给予申请人答复而不予答复"),
    ("v07", "（七）对受理事项不按规定分送造成延误办理"),
    ("v08", "（八）应当请示报告而不及时请示报告造成不良后果"),
    ("v09", "（九）故意拖延或者拒绝依法给予申请人补办手续"),
    ("v10", "（十）不按时或者不如实上报办理情况"),
    ("v11", "（十一）其他违反首问负责制度、限时办结制度的情形"),
)
OVERDUE_VIOLATION = "v11"
# A verified complaint's type of problem → the closest case of 第五条 (the rest: (十一)).
COMPLAINT_VIOLATION = {"attitude": "v01", "one_notice": "v04"}

SEVERITY_CHOICES = (("light", "情节较轻"), ("heavier", "情节较重"), ("severe", "情节严重"))
OUTCOME_CHOICES = (("admonish", "告诫"), ("criticism", "通报批评"), ("warning", "警告"), ("demerit", "记过"),
                   ("transfer", "调离岗位"), ("major_demerit", "记大过"), ("demotion", "降级"),
                   ("removal", "撤职"), ("resign", "责令辞职"), ("dismissal", "辞退"))
OUTCOME_TEXT = dict(OUTCOME_CHOICES)
SEVERITY_TEXT = dict(SEVERITY_CHOICES)
# 第五条: the outcomes each severity allows.
OUTCOMES_BY_SEVERITY = {"light": ("admonish",),
                        "heavier": ("criticism", "warning", "demerit", "transfer"),
                        "severe": ("major_demerit", "demotion", "removal", "resign", "dismissal")}
# 第九条 第二款: a 行政处分 (警告, 记过, 记大过, 降级, 撤职) or 责令辞职 / 辞退 may be appealed.
APPEALABLE = ("warning", "demerit", "major_demerit", "demotion", "removal", "resign", "dismissal")
APPEAL_RESULT_CHOICES = (("upheld", "维持原处理"), ("changed", "变更处理"), ("revoked", "撤销处理"))
APPEAL_DAYS = 15   # working days from the decision, the decision day being day 1 (app.deadlines)

AGGRAVATING = (("agg_retaliation", "（一）打击、报复、陷害投诉人、检举人、调查人"),
               ("agg_repeat", "（二）一年内两次以上应予追究（按本人当年已处理的记录计算）"),
               ("agg_obstruction", "（三）干扰、阻挠责任追究调查"),
               ("agg_defiance", "（四）不执行监察部门依法作出的监察决定"),
               ("agg_other", "（五）其他应当从重或者加重处理的情形"))
MITIGATING = (("mit_apology", "（一）主动赔礼道歉，申请人已谅解"),
              ("mit_prevented", "（二）有效阻止不良后果发生"),
              ("mit_remedied", "（三）主动纠正和挽回全部或者大部分损失"),
              ("mit_other", "（四）其他应当从轻、减轻或者免于处理的情形"))

OPEN_STATES = ("proposed", "investigating", "awaiting_statement", "stated")
DECIDED_STATES = ("decided", "appealed", "appeal_decided")
READERS = frozenset({SUBJECT, DEPUTY, DIRECTOR, LEADER, COUNTY})
NOBODY: frozenset[str] = frozenset()


# ------------------------------------------------------------------ rules

def outcome_fits(severity: str, outcome: str) -> bool:
    return outcome in OUTCOMES_BY_SEVERITY.get(severity, ())


def outcome_refusal(severity: str, outcome: str) -> str | None:
    """The Chinese reason an outcome does not fit the severity (None: it fits) [第五条]."""
    if not outcome or not severity or outcome_fits(severity, outcome):
        return None
    allowed = "、".join(OUTCOME_TEXT[o] for o in OUTCOMES_BY_SEVERITY[severity])
    return f"{SEVERITY_TEXT[severity]}的，处理方式只能是：{allowed}（第五条）。"


def appeal_due(decided_on: date | None) -> date | None:
    return working_day_deadline(decided_on, APPEAL_DAYS).due if decided_on else None


def _counted(model=AccountabilityRecord):
    """Decided records that still stand (an appeal may have revoked one)."""
    return (model.voided.is_(False), model.state.in_(DECIDED_STATES), model.effective_outcome != "")


def decided_in_year(staff_id: int, center_id: int, year: int, but: int | None = None) -> int:
    """The person's decided records whose conduct falls in the calendar year (第六条 (二))."""
    q = select(db.func.count(AccountabilityRecord.id)).where(
        *_counted(), AccountabilityRecord.center_id == center_id, AccountabilityRecord.staff_id == staff_id,
        extract("year", AccountabilityRecord.occurred_on) == year)
    if but is not None:
        q = q.where(AccountabilityRecord.id != but)
    return db.session.scalar(q) or 0


def _prior_in_year(ctx) -> int:
    r = ctx.record
    if r.state in DECIDED_STATES and r.decided_on is not None:
        return r.prior_in_year or 0          # frozen at the decision
    if not r.staff_id or r.occurred_on is None:
        return 0
    return decided_in_year(r.staff_id, r.center_id, r.occurred_on.year, but=r.id)


def _effective_outcome(ctx) -> str:
    r = ctx.record
    if r.state not in DECIDED_STATES:
        return ""
    if r.state == "appeal_decided":
        if r.appeal_result == "revoked":
            return ""
        if r.appeal_result == "changed":
            return r.appeal_outcome or ""
    return r.outcome or ""


# ------------------------------------------------------------------ hooks

def _validate(ctx) -> dict:
    r, errors = ctx.record, {}
    if r.staff_id and not db.session.scalar(select(RoleGrant.id).where(RoleGrant.user_id == r.staff_id,
                                                                      RoleGrant.center_id == r.center_id)):
        errors["staff_id"] = "请选择本中心的工作人员。"
    if r.occurred_on and r.occurred_on > ctx.today:
        errors["occurred_on"] = "发生日期不能晚于今天。"
    reason = outcome_refusal(r.severity, r.outcome)
    if reason:
        errors["outcome"] = reason
    if r.complaint_id:
        complaint = db.session.get(Complaint, r.complaint_id)
        if complaint is None or complaint.center_id != r.center_id:
            errors["complaint_id"] = "请选择本中心的投诉。"
    for link, text in (("case_id", "该办件已有责任追究记录。"), ("complaint_id", "该投诉已有责任追究记录。")):
        value = getattr(r, link)
        if not value:
            continue
        column = getattr(AccountabilityRecord, link)
        q = select(AccountabilityRecord.id).where(column == value)
        if r.id:
            q = q.where(AccountabilityRecord.id != r.id)
        if db.session.scalar(q):
            errors[link] = text
    return errors


def _warnings(ctx) -> list:
    r = ctx.record
    out = []
    if r.agg_repeat and r.state in OPEN_STATES:
        out.append(f"该工作人员本年度已有{r.prior_in_year}次被追究的记录，依第六条（二）应当从重或者加重处理。")
    return out


def _request_statement(ctx) -> None:
    ctx.record.statement_requested_on = ctx.today


def _give_statement(ctx) -> None:
    r = ctx.record
    if not (r.statement or "").strip():
        raise Refused("请填写陈述和申辩意见。", field="statement")
    r.statement_declined, r.stated_on = False, ctx.today


def _record_declined(ctx) -> None:
    r = ctx.record
    r.statement_declined, r.stated_on = True, ctx.today


def _decide(ctx) -> None:
    """第九条: no decision before the person was heard; 第五条: the outcome fits the severity."""
    r = ctx.record
    if not ((r.statement or "").strip() or r.statement_declined):
        raise Refused("作出处理决定前，应当听取责任人的陈述和申辩（第九条）；本人放弃陈述的，请先记录。",
                      field="statement")
    reason = outcome_refusal(r.severity, r.outcome)
    if reason:
        raise Refused(reason, field="outcome")
    # 第六条 (二) counted once more now, then frozen with the decision.
    r.prior_in_year = decided_in_year(r.staff_id, r.center_id, r.occurred_on.year, but=r.id) if r.occurred_on else 0
    r.agg_repeat = r.prior_in_year >= 1
    r.decided_by_id, r.decided_on = ctx.user.id, ctx.today


def _dismiss(ctx) -> None:
    r = ctx.record
    r.decided_by_id, r.decided_on = ctx.user.id, ctx.today


def _may_appeal(ctx) -> None:
    r = ctx.record
    if r.outcome not in APPEALABLE:
        raise Refused("只有受到行政处分或者责令辞职、辞退的，可以提出申诉（第九条）。", field="appeal_text")
    due = appeal_due(r.decided_on)
    if due is not None and ctx.today > due:
        raise Refused(f"申诉期限已过（处理决定之日起{APPEAL_DAYS}个工作日，至{due.isoformat()}）。",
                      field="appeal_text")


def _appeal(ctx) -> None:
    _may_appeal(ctx)
    ctx.record.appealed_on = ctx.today


def _decide_appeal(ctx) -> None:
    r = ctx.record
    if r.appeal_result == "changed":
        if not r.appeal_outcome:
            raise Refused("变更处理的，请选择变更后的处理方式。", field="appeal_outcome")
        if r.appeal_outcome == r.outcome:
            raise Refused("变更后的处理方式与原处理相同，请选择“维持原处理”。", field="appeal_outcome")
    else:
        r.appeal_outcome = ""
    r.appeal_decided_by_id, r.appeal_decided_on = ctx.user.id, ctx.today


FACTOR_FIELDS = tuple(n for n, _t in AGGRAVATING if n != "agg_repeat") + tuple(n for n, _t in MITIGATING) + (
    "factors_note",)

ACCOUNTABILITY_WORKFLOW = Workflow(
    initial="proposed",
    states=[
        State("proposed", _l("Proposed"), "info", rights={"edit": {DEPUTY, DIRECTOR}}),
        State("investigating", _l("Under investigation"), "info", rights={"edit": {DIRECTOR}}),
        State("awaiting_statement", _l("Awaiting the person's statement"), "warn",
              rights={"edit": NOBODY, "void": NOBODY}),
        State("stated", _l("Statement given"), "info", rights={"edit": NOBODY, "void": NOBODY}),
        State("decided", _l("Decided"), "bad", rights={"edit": NOBODY, "void": NOBODY}),
        State("appealed", _l("Appealed"), "warn", rights={"edit": NOBODY, "void": NOBODY}),
        State("appeal_decided", _l("Appeal decided"), "ok", final=True, rights={"void": NOBODY}),
        State("dismissed", "不予追究", "ok", final=True, rights={"void": NOBODY}),
    ],
    transitions=[
        Transition("investigate", _l("Start the investigation"), ("proposed",), "investigating",
                   frozenset({DIRECTOR}), not_by_subject=True, approval=True),
        Transition("request_statement", _l("Ask for the person's statement and defence"), ("investigating",),
                   "awaiting_statement", frozenset({DIRECTOR}), requires=("violation", "facts"),
                   not_by_subject=True, approval=True, on_apply=_request_statement),
        Transition("give_statement", _l("Give my statement and defence"), ("awaiting_statement",), "stated",
                   frozenset({SUBJECT}), requires=("statement",), on_apply=_give_statement),
        Transition("record_declined", _l("Record that the person declined to state"), ("awaiting_statement",),
                   "stated", frozenset({DIRECTOR}), requires=("declined_note",), not_by_subject=True,
                   on_apply=_record_declined, css="secondary", worklist=False),
        Transition("decide", _l("Decide"), ("stated",), "decided", frozenset({DIRECTOR}),
                   requires=("severity", "outcome", "decision_text"), fields=FACTOR_FIELDS,
                   not_by_subject=True, approval=True, on_apply=_decide),
        Transition("dismiss", "不予追究", OPEN_STATES, "dismissed", frozenset({DIRECTOR}),
                   requires=("dismiss_reason",), not_by_subject=True, on_apply=_dismiss, css="danger",
                   worklist=False),
        Transition("appeal", _l("Appeal"), ("decided",), "appealed", frozenset({SUBJECT}),
                   requires=("appeal_text",), guard=_may_appeal, on_apply=_appeal, css="warn", worklist=False),
        Transition("decide_appeal", _l("Record the result of the appeal"), ("appealed",), "appeal_decided",
                   frozenset({DIRECTOR, LEADER}), requires=("appeal_result", "appeal_decision"),
                   fields=("appeal_outcome",), not_by_subject=True, approval=True, on_apply=_decide_appeal),
    ],
)


def _sample(center) -> AccountabilityRecord:
    """A record proposed by a manager against a clerk of the centre: for the generated tests."""
    staff = db.session.scalar(select(RoleGrant.user_id).where(RoleGrant.center_id == center.id,
                                                              RoleGrant.role == CLERK))
    r = AccountabilityRecord(center_id=center.id, state="proposed", staff_id=staff, source="other",
                             occurred_on=date(2026, 11, 23), violation="v02", facts="值班时间擅自离开窗口40分钟")
    db.session.add(r)
    db.session.flush()
    return r


def _flags(r: AccountabilityRecord) -> list:
    flags = []
    if r.proposed_by_system:
        flags.append((_l("Proposed by the system"), "info"))
    if r.agg_repeat:
        flags.append(("一年内两次以上", "bad"))
    return flags


ACCOUNTABILITY = register(RecordType(
    key="accountability", model=AccountabilityRecord, title=_l("Accountability record"),
    title_plural=_l("Accountability records"), nav_group="supervision", subject="staff_id",
    permissions={"read": READERS, "create": frozenset({DEPUTY, DIRECTOR}), "edit": frozenset({DIRECTOR}),
                 "void": frozenset({DIRECTOR}), "print": READERS, "export": frozenset({DIRECTOR, LEADER, COUNTY})},
    workflow=ACCOUNTABILITY_WORKFLOW, validate=_validate, warnings=_warnings, flags=_flags, sample=_sample,
    prefill=lambda ctx: {"occurred_on": ctx.today, "source": "other"},
    fields=[
        Field("staff_id", _l("Person held accountable"), kind="user", required=True, in_list=True, filter=True),
        Field("source", _l("Source"), choices=SOURCE_CHOICES, required=True, in_list=True, filter=True),
        Field("case_id", _l("Service case"), ref=ServiceCase, in_form=False),
        Field("complaint_id", _l("Complaint"), ref=Complaint),
        Field("proposed_by_system", _l("Proposed by the system"), in_form=False, filter=True),
        Field("occurred_on", _l("Date of the conduct"), required=True, in_list=True, filter=True),
        Field("violation", "违规情形（第五条）", choices=VIOLATION_CHOICES, required=True, in_list=True, filter=True),
        Field("facts", _l("Facts"), kind="text", required=True),
        Field("severity", "情节", choices=SEVERITY_CHOICES, in_list=True, filter=True,
              help="情节较轻：告诫；情节较重：通报批评、警告、记过、调离岗位；情节严重：记大过、降级、撤职、责令辞职、辞退。"),
        Field("outcome", "处理方式", choices=OUTCOME_CHOICES, in_list=True, filter=True),
        *[Field(name, "从重或者加重：" + text) for name, text in AGGRAVATING if name != "agg_repeat"],
        Field("prior_in_year", _l("Other decided records of the person that year"), compute=_prior_in_year,
              depends=("staff_id", "occurred_on")),
        Field("agg_repeat", "从重或者加重：" + AGGRAVATING[1][1], compute=lambda ctx: (ctx.record.prior_in_year or 0) >= 1,
              depends=("prior_in_year",), filter=True),
        *[Field(name, "从轻、减轻或者免于处理：" + text) for name, text in MITIGATING],
        Field("factors_note", _l("Notes on the circumstances"), kind="text"),
        Field("statement_requested_on", _l("Statement asked for on"), in_form=False),
        Field("statement", "陈述和申辩", kind="text", in_form=False),
        Field("statement_declined", _l("Declined to make a statement"), in_form=False),
        Field("declined_note", _l("How the person declined"), kind="text", in_form=False),
        Field("stated_on", _l("Statement recorded on"), in_form=False),
        Field("decision_text", "处理决定", kind="text", in_form=False),
        Field("decided_by_id", _l("Decided by"), kind="user", in_form=False),
        Field("decided_on", _l("Decided on"), in_form=False, in_list=True, filter=True),
        Field("dismiss_reason", "不予追究的理由", kind="text", in_form=False),
        Field("appeal_due", _l("Appeal possible until"),
              compute=lambda ctx: appeal_due(ctx.record.decided_on)
              if ctx.record.state in DECIDED_STATES and ctx.record.outcome in APPEALABLE else None,
              depends=("decided_on", "outcome", "state")),
        Field("appealed_on", _l("Appealed on"), in_form=False),
        Field("appeal_text", "申诉理由", kind="text", in_form=False),
        Field("appeal_result", "申诉处理结果", choices=APPEAL_RESULT_CHOICES, in_form=False),
        Field("appeal_outcome", "变更后的处理方式", choices=OUTCOME_CHOICES, in_form=False),
        Field("appeal_decision", "申诉复查意见", kind="text", in_form=False),
        Field("appeal_decided_by_id", _l("Appeal decided by"), kind="user", in_form=False),
        Field("appeal_decided_on", _l("Appeal decided on"), in_form=False),
        Field("effective_outcome", "最终处理", choices=OUTCOME_CHOICES, compute=_effective_outcome,
              depends=("outcome", "appeal_result", "appeal_outcome", "state"), filter=True),
    ],
    prints=[PrintForm("decision", "责任追究处理决定书", "print/accountability_decision.html",
                      form_type="accountability", states=DECIDED_STATES)],
))


# ------------------------------------------------------------------ proposals (the daily job calls these)

def _propose(center_id: int, values: dict) -> AccountabilityRecord | None:
    """One proposed record, made by the system; None when the link already has one (a concurrent run)."""
    try:
        with db.session.begin_nested():
            record = operations.create(ACCOUNTABILITY, None, {**values, "proposed_by_system": True},
                                       center_id=center_id)
    except (IntegrityError, operations.Invalid):
        return None
    return record


def propose_from_overdue(on: date | None = None, center_id: int | None = None) -> list[AccountabilityRecord]:
    """Every overdue service case with a responsible clerk and no record yet gets one proposed record
    against that clerk (第五条 (十一): the time-limit rules broken). Run twice, nothing is duplicated."""
    on = on or timeutil.today()
    linked = select(AccountabilityRecord.case_id).where(AccountabilityRecord.case_id.is_not(None))
    q = select(ServiceCase).where(ServiceCase.overdue.is_(True), ServiceCase.voided.is_(False),
                                  ServiceCase.responsible_id.is_not(None), ServiceCase.id.not_in(linked))
    if center_id is not None:
        q = q.where(ServiceCase.center_id == center_id)
    made = []
    for case in db.session.scalars(q.order_by(ServiceCase.id)).all():
        due = case.effective_due
        occurred = min(due, on) if due else on
        facts = (f"办件 {case.receipt_no or case.id}（{case.matter.name if case.matter else ''}）"
                 f"承诺办结期限为{due.isoformat() if due else '—'}，至{on.isoformat()}仍逾期未办结"
                 f"{'（' + case.overdue_reason + '）' if case.overdue_reason else ''}。")
        record = _propose(case.center_id, {"staff_id": case.responsible_id, "source": "overdue_case",
                                           "case_id": case.id, "occurred_on": occurred,
                                           "violation": OVERDUE_VIOLATION, "facts": facts})
        if record is not None:
            made.append(record)
    return made


def propose_from_complaints(on: date | None = None, center_id: int | None = None) -> list[AccountabilityRecord]:
    """Every verified complaint naming a staff member, and with no record yet, gets one proposed record
    against that person. Run twice, nothing is duplicated."""
    on = on or timeutil.today()
    linked = select(AccountabilityRecord.complaint_id).where(AccountabilityRecord.complaint_id.is_not(None))
    q = select(Complaint).where(Complaint.verified.is_(True), Complaint.voided.is_(False),
                                Complaint.staff_id.is_not(None), Complaint.id.not_in(linked))
    if center_id is not None:
        q = q.where(Complaint.center_id == center_id)
    made = []
    for c in db.session.scalars(q.order_by(Complaint.id)).all():
        received = c.received_at.date() if c.received_at else on
        facts = f"投诉 {c.number or c.id} 经查属实：{c.matter}。{c.result or ''}".strip()
        record = _propose(c.center_id, {"staff_id": c.staff_id, "source": "complaint", "complaint_id": c.id,
                                        "occurred_on": min(received, on),
                                        "violation": COMPLAINT_VIOLATION.get(c.problem_type, "v11"),
                                        "facts": facts})
        if record is not None:
            made.append(record)
    return made


# ------------------------------------------------------------------ counts for assessments

@dataclass
class PersonCounts:
    user: User
    proposed: int = 0            # every record of the year (open, decided, dismissed)
    open: int = 0
    decided: int = 0             # decided and still standing after any appeal
    dismissed: int = 0
    by_outcome: Counter = field(default_factory=Counter)

    def outcome(self, code: str) -> int:
        return self.by_outcome.get(code, 0)


def counts_by_person(center_id: int, year: int) -> list[PersonCounts]:
    """Per person, the records whose conduct falls in the calendar year: proposed (all), open, decided
    (standing after an appeal), dismissed, and the decided ones by outcome — for the assessments."""
    rows = db.session.execute(select(AccountabilityRecord.staff_id, AccountabilityRecord.state,
                                     AccountabilityRecord.effective_outcome).where(
        AccountabilityRecord.center_id == center_id, AccountabilityRecord.voided.is_(False),
        extract("year", AccountabilityRecord.occurred_on) == year)).all()
    people: dict[int, PersonCounts] = {}
    for staff_id, state, outcome in rows:
        pc = people.get(staff_id)
        if pc is None:
            pc = people[staff_id] = PersonCounts(db.session.get(User, staff_id))
        pc.proposed += 1
        if state in OPEN_STATES:
            pc.open += 1
        elif state == "dismissed":
            pc.dismissed += 1
        elif outcome:
            pc.decided += 1
            pc.by_outcome[outcome] += 1
    return sorted(people.values(), key=lambda p: (-p.decided, -p.proposed, p.user.name))


# ------------------------------------------------------------------ return recommendations [001 二(4)]

RETURN_BAR = 2     # 2+ verified complaints, or 2+ 通报批评, in a year
# Further grounds for a return, each a function (center_id, year) → {user_id: grounds in words}. The
# assessment module adds "年度考核不称职" here with `add_return_ground` (a failed annual grade); so could
# a "serious violation" or "exposed by a media inspection" register, once recorded somewhere.
RETURN_GROUNDS: dict[str, object] = {}


def add_return_ground(key: str, provider) -> None:
    """Plug in a ground for returning a clerk: provider(center_id, year) → {user_id: text}."""
    RETURN_GROUNDS[key] = provider


def criticisms_in_year(center_id: int, year: int) -> dict[int, int]:
    """通报批评 decided in the calendar year (by the day of the decision), standing after any appeal."""
    rows = db.session.execute(select(AccountabilityRecord.staff_id, db.func.count()).where(
        *_counted(), AccountabilityRecord.center_id == center_id,
        AccountabilityRecord.effective_outcome == "criticism",
        extract("year", AccountabilityRecord.decided_on) == year).group_by(AccountabilityRecord.staff_id)).all()
    return dict(rows)


def return_grounds(center_id: int, year: int) -> dict[int, dict]:
    """Window clerks with a ground for return in the year: {user_id: {complaints, criticisms, texts}}."""
    from app.complaints import consequences
    clerks = set(db.session.scalars(select(RoleGrant.user_id).where(RoleGrant.center_id == center_id,
                                                                     RoleGrant.role == CLERK)))
    found: dict[int, dict] = {}

    def entry(uid):
        return found.setdefault(uid, {"complaints": 0, "criticisms": 0, "texts": []})

    for user, n in consequences(center_id, year).return_clerks:
        e = entry(user.id)
        e["complaints"] = n
        e["texts"].append(f"{year}年内受到投诉{n}次，经查实属本人过错")
    for uid, n in criticisms_in_year(center_id, year).items():
        if n >= RETURN_BAR and uid in clerks:
            e = entry(uid)
            e["criticisms"] = n
            e["texts"].append(f"{year}年内受到通报批评{n}次")
    for provider in RETURN_GROUNDS.values():
        for uid, text in (provider(center_id, year) or {}).items():
            if uid in clerks:
                entry(uid)["texts"].append(str(text))
    return found


def flag_returns(center_id: int, year: int, on: date | None = None) -> list[ReturnRecommendation]:
    """A return recommendation for each clerk with a ground in the year; one per clerk and year (an open
    one is brought up to date, a confirmed or dismissed one is left alone). Returns the new ones."""
    on = on or timeutil.today()
    made = []
    for uid, g in return_grounds(center_id, year).items():
        grounds = "；".join(g["texts"]) + "。依据窗口工作人员退回制度，建议取消派驻、退回派驻部门。"
        existing = db.session.scalar(select(ReturnRecommendation).where(
            ReturnRecommendation.center_id == center_id, ReturnRecommendation.staff_id == uid,
            ReturnRecommendation.year == year))
        if existing is not None:
            if existing.state == "open" and not existing.voided and existing.grounds != grounds:
                existing.grounds, existing.complaint_count, existing.criticism_count = (
                    grounds, g["complaints"], g["criticisms"])
            continue
        try:
            with db.session.begin_nested():
                rec = operations.create(RETURNS, None, {"staff_id": uid, "year": year, "grounds": grounds,
                                                        "complaint_count": g["complaints"],
                                                        "criticism_count": g["criticisms"], "flagged_on": on},
                                        center_id=center_id)
        except (IntegrityError, operations.Invalid):
            continue
        made.append(rec)
    db.session.flush()
    return made


def _validate_return(ctx) -> dict:
    r, errors = ctx.record, {}
    if r.year and not 2000 <= r.year <= 2100:
        errors["year"] = "请填写正确的年度。"
    if r.staff_id and not db.session.scalar(select(RoleGrant.id).where(RoleGrant.user_id == r.staff_id,
                                                                      RoleGrant.center_id == r.center_id)):
        errors["staff_id"] = "请选择本中心的工作人员。"
    if r.staff_id and r.year:
        q = select(ReturnRecommendation.id).where(ReturnRecommendation.center_id == r.center_id,
                                                  ReturnRecommendation.staff_id == r.staff_id,
                                                  ReturnRecommendation.year == r.year)
        if r.id:
            q = q.where(ReturnRecommendation.id != r.id)
        if db.session.scalar(q):
            errors["year"] = "该工作人员本年度已有退回建议。"
    return errors


def _conclude_return(ctx) -> None:
    ctx.record.decided_by_id, ctx.record.decided_on = ctx.user.id, ctx.today


def _sample_return(center) -> ReturnRecommendation:
    staff = db.session.scalar(select(RoleGrant.user_id).where(RoleGrant.center_id == center.id,
                                                              RoleGrant.role == CLERK))
    r = ReturnRecommendation(center_id=center.id, state="open", staff_id=staff, year=2026, complaint_count=2,
                             grounds="2026年内受到投诉2次，经查实属本人过错", flagged_on=date(2026, 11, 23))
    db.session.add(r)
    db.session.flush()
    return r


RETURN_MANAGERS = frozenset({DEPUTY, DIRECTOR, LEADER, COUNTY})
RETURNS = register(RecordType(
    key="return-recommendations", model=ReturnRecommendation, title=_l("Return recommendation"),
    title_plural=_l("Return recommendations"), nav_group="staff", subject="staff_id",
    permissions={"read": RETURN_MANAGERS, "create": frozenset({DIRECTOR}), "edit": frozenset({DIRECTOR}),
                 "void": frozenset({DIRECTOR}), "print": RETURN_MANAGERS, "export": RETURN_MANAGERS},
    workflow=Workflow(
        initial="open",
        states=[State("open", _l("Awaiting the director"), "warn"),
                # The person learns of a confirmed recommendation; an open or dismissed one stays internal.
                State("confirmed", _l("Return recommended"), "bad", final=True,
                      rights={"read": RETURN_MANAGERS | {SUBJECT}, "print": RETURN_MANAGERS | {SUBJECT}}),
                State("dismissed", _l("Not recommended"), "ok", final=True)],
        transitions=[
            Transition("confirm", _l("Confirm the recommendation"), ("open",), "confirmed", frozenset({DIRECTOR}),
                       not_by_subject=True, approval=True, fields=("decision_note",), on_apply=_conclude_return),
            Transition("dismiss", _l("Dismiss"), ("open",), "dismissed", frozenset({DIRECTOR}),
                       requires=("decision_note",), not_by_subject=True, approval=True, css="danger",
                       on_apply=_conclude_return),
        ]),
    validate=_validate_return, sample=_sample_return,
    prefill=lambda ctx: {"year": ctx.today.year, "flagged_on": ctx.today},
    fields=[
        Field("staff_id", _l("Window clerk"), kind="user", required=True, in_list=True, filter=True),
        Field("year", _l("Year"), required=True, in_list=True, filter=True),
        Field("grounds", _l("Grounds"), kind="text", required=True, in_list=True),
        Field("complaint_count", _l("Verified complaints"), in_form=False, in_list=True),
        Field("criticism_count", "通报批评次数", in_form=False, in_list=True),
        Field("flagged_on", _l("Flagged on"), in_form=False),
        Field("decision_note", _l("Director's note"), kind="text", in_form=False),
        Field("decided_by_id", _l("Decided by"), kind="user", in_form=False),
        Field("decided_on", _l("Decided on"), in_form=False),
    ],
))


# ------------------------------------------------------------------ pages

bp = Blueprint("accountability", __name__, url_prefix="/accountability")
COUNT_READERS = frozenset({DEPUTY, DIRECTOR, LEADER, COUNTY})


def _center_and_year(roles_needed):
    from app import access
    from app.params import parse_int
    center = access.current_center()
    if center is None or not access.roles_in(current_user, center.id) & roles_needed:
        abort(403)
    raw = request.values.get("year")
    year = parse_int(raw) if raw else timeutil.today().year
    if year is None or not 2000 <= year <= 2100:
        abort(404)
    return center, year


@bp.route("/counts")
@login_required
def counts_page():
    """Accountability per person in a year, for the assessments, and the year's return recommendations."""
    from app import access
    center, year = _center_and_year(COUNT_READERS)
    returns = db.session.scalars(select(ReturnRecommendation).where(
        ReturnRecommendation.center_id == center.id, ReturnRecommendation.year == year,
        ReturnRecommendation.voided.is_(False)).order_by(ReturnRecommendation.id)).all()
    return render_template("accountability/counts.html", center=center, year=year,
                           people=counts_by_person(center.id, year), outcomes=OUTCOME_CHOICES, returns=returns,
                           may_flag=DIRECTOR in access.roles_in(current_user, center.id))


@bp.route("/returns/flag", methods=["POST"])
@login_required
def flag_returns_page():
    center, year = _center_and_year(frozenset({DIRECTOR}))
    made = flag_returns(center.id, year)
    db.session.commit()
    flash(_("%(n)s new return recommendations.", n=len(made)), "success")
    return redirect(url_for("accountability.counts_page", year=year))


from app.features import Feature, Job, MenuLink  # noqa: E402  (the feature declaration closes the module)

FEATURE = Feature(
    "accountability", types=("app.accountability",), blueprints=[bp],
    menu=[MenuLink("accountability.counts_page", _l("Accountability by person"), COUNT_READERS,
                   group="supervision")],
    jobs=[Job("accountability_proposals", "jobs.accountability_jobs:accountability_proposals",
              {"hour": 6, "minute": 40},
              "Propose accountability records from overdue cases and verified complaints; flag returns")],
)
