"""Assisted and agency service (帮办代办) [000 帮办代办制度 + 附件 帮办代办服务委托书; 003 4.2.2.4; SPEC §4.5].

The procedure of 第三条: 委托 (the client entrusts the matter with the contract, the materials and their
ID) → 受理 (the agent accepts after a first check of the materials, or refuses with the reason) → 代理
(the agent runs the service case from start to end) → 回交 (the result is handed back to the client,
who signs for it) → closed. An entrustment ends early (终止) in one of the five cases of the contract's
第四条, with the date of the written notice. Fees the law requires are the client's (第三条 (五)); a 便民
matter is handled free of charge. The elderly and the disabled come first [003 4.2.2.4].

Who sees what: an agent sees the entrustments not yet accepted (the centre's intake pool) and those
assigned to them; the deputy and the director see all of the centre; the county reads (the client's
ID number masked); a window clerk does not see them.
"""
from __future__ import annotations

from datetime import date
from decimal import Decimal

from flask import Blueprint, abort, render_template
from flask_login import current_user, login_required
from sqlalchemy import and_, or_, select

from app import access
from app.extensions import db
from app.records import operations
from app.records.forms import valid_id_number
from app.records.registry import (SUBJECT, Child, Field, ListView, PrintForm, RecordType, Refused, State,
                                  Transition, Workflow, register)
from models.agency import PRIORITY_FIRST, Entrustment, EntrustmentMaterial
from models.case import ServiceCase
from models.catalogue import Matter
from models.core import AGENT, COUNTY, DEPUTY, DIRECTOR, RoleGrant

PRIORITY_CHOICES = (("elderly", "老年人（60周岁以上）"), ("disabled", "残疾人"), ("sick", "患病、行动不便"),
                    ("none", "无"))
MATERIAL_FORM_CHOICES = (("original", "原件"), ("copy", "复印件"), ("both", "原件和复印件"))
# 委托书 第四条: the cases in which the entrustment ends.
TERMINATION_CHOICES = (
    ("client_notice", "1. 委托方主动提出书面终止委托代办服务"),
    ("false_materials", "2. 委托方提供虚假资料或申请材料不符合法定条件、标准，且无法补正"),
    ("cannot_complete", "3. 事项在办理过程中出现不具备办结条件的情况（书面通知委托方并注明原因）"),
    ("client_stalled", "4. 因服务对象自身原因造成事项办理长期停滞、代办事项难以完成（经沟通）"),
    ("other", "5. 其他造成代办服务终止的情况"),
)
ELDERLY_AGE = 60

HEADS = frozenset({DEPUTY, DIRECTOR})
REGISTRARS = frozenset({AGENT}) | HEADS                  # register and accept entrustments
READERS = HEADS | {COUNTY}                               # every entrustment of the centre
UNMASK = frozenset({AGENT, DEPUTY, DIRECTOR})            # the client's ID number in full
OPEN_STATES = ("entrusted", "accepted", "in_handling", "returned")

FEE_NOTE = "依法应交纳的规费和办理证件的费用由委托方（服务对象）支付；中心和代办员不收取任何代办费用。"
NO_ID = "请填写委托人的身份证号码：委托书须载明委托方联系人的身份证号，没有身份证号码的委托不予登记。"
BAD_ID = "身份证号码不正确（18位，最后一位是校验码，请核对）。"


# ------------------------------------------------------------------ rules

def birth_date(id_no: str | None) -> date | None:
    """The birth date written in an 18-digit ID number (digits 7–14), or None."""
    if not id_no or len(id_no) != 18 or not id_no[6:14].isdigit():
        return None
    try:
        return date(int(id_no[6:10]), int(id_no[10:12]), int(id_no[12:14]))
    except ValueError:
        return None


def age_on(id_no: str | None, day: date) -> int | None:
    born = birth_date(id_no)
    if born is None:
        return None
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


def is_priority(group: str | None, id_no: str | None, day: date) -> bool:
    """The elderly (60 or older: the group chosen, or the age in the ID number) and the disabled come first."""
    age = age_on(id_no, day)
    return group in PRIORITY_FIRST or (age is not None and age >= ELDERLY_AGE)


def _priority(ctx) -> bool:
    r = ctx.record
    return is_priority(r.priority_group, r.client_id_no, r.entrusted_on or ctx.today)


def is_agent(center_id: int, user_id: int | None) -> bool:
    return user_id is not None and db.session.scalar(
        select(RoleGrant.id).where(RoleGrant.center_id == center_id, RoleGrant.user_id == user_id,
                                   RoleGrant.role == AGENT).limit(1)) is not None


def link_case(r: Entrustment) -> str | None:
    """Find the service case by its receipt number in the entrustment's centre; a case belongs to one
    entrustment only. Returns the refusal, or None (the link set or cleared)."""
    from app.cases import link_by_receipt
    problem = link_by_receipt(r)
    if problem or r.case_id is None:
        return problem
    number = r.case_no
    other = select(Entrustment).where(Entrustment.case_id == r.case_id, Entrustment.voided.is_(False))
    if r.id is not None:
        other = other.where(Entrustment.id != r.id)
    with db.session.no_autoflush:   # this record's new link is not written before the check
        taken = db.session.scalar(other.limit(1))
    if taken is not None:
        r.case_id = None
        return f"办件“{number}”已关联委托书 {taken.number or taken.id}：一个办件只能关联一份帮办代办委托。"
    return None


def fee_problems(r: Entrustment) -> dict:
    amount = r.fee_amount if r.fee_amount is not None else Decimal("0")
    if amount < 0:
        return {"fee_amount": "费用不能为负数。"}
    if r.free and amount != 0:
        return {"fee_amount": "便民服务事项免费代办，不收取任何费用：金额应为0，或取消“免费代办”。"}
    if not r.free and amount > 0 and not (r.fee_for or "").strip():
        return {"fee_for": "请写明这笔费用的用途（依法应交纳的规费、证件工本费等）。"}
    return {}


# ------------------------------------------------------------------ hooks

def _validate(ctx) -> dict:
    r, errors = ctx.record, {}
    if not (r.client_name or "").strip():
        errors["client_name"] = "请填写委托人（联系人）姓名。"
    id_no = (r.client_id_no or "").strip().upper()
    r.client_id_no = id_no
    if not id_no:
        errors["client_id_no"] = NO_ID
    elif not valid_id_number(id_no):
        errors["client_id_no"] = BAD_ID
    if r.entrusted_on and r.entrusted_on > ctx.today:
        errors["entrusted_on"] = "委托日期不能晚于今天。"
    if r.matter_id:
        matter = db.session.get(Matter, r.matter_id)
        if matter is None or matter.center_id != r.center_id or matter.voided:
            errors["matter_id"] = "请选择本中心的事项。"
    elif not (r.matter_text or "").strip():
        errors["matter_id"] = "请选择委托办理的事项；本中心目录以外（其他层级）的事项，请在“其他层级事项”中填写名称。"
    if r.agent_id and not is_agent(r.center_id, r.agent_id):
        errors["agent_id"] = "请选择本中心的代办员（具有代办员角色的工作人员）。"
    errors.update(fee_problems(r))
    problem = link_case(r)
    if problem:
        errors["case_no"] = problem
    return errors


def _warnings(ctx) -> list:
    r = ctx.record
    age = age_on(r.client_id_no, r.entrusted_on or ctx.today)
    if age is None:
        return []
    if r.priority_group == "elderly" and age < ELDERLY_AGE:
        return [f"身份证号码显示委托人{age}周岁，未满60周岁：请核对“老年人”优先类别。"]
    if r.priority_group in ("none", "sick") and age >= ELDERLY_AGE:
        return [f"委托人{age}周岁，按老年人优先帮办。"]
    return []


def _materials_of(matter_id) -> list[dict]:
    matter = db.session.get(Matter, matter_id) if matter_id else None
    return [{"name": m.name, "form": m.form, "copies": m.copies} for m in matter.materials] if matter else []


def _before_save(ctx) -> None:
    from printouts import next_number
    r = ctx.record
    if r.fee_amount is None:
        r.fee_amount = Decimal("0")
    if r.id is None and not r.materials:   # the matter's list as the first checklist, when none was typed
        r.materials = [EntrustmentMaterial(seq=i, **m) for i, m in enumerate(_materials_of(r.matter_id), 1)]
    if not r.number:
        r.number = next_number(r.center_id, "entrustment", (r.entrusted_on or ctx.today).year)


def _prefill(ctx) -> dict:
    from app.params import parse_id
    data = {"entrusted_on": ctx.today, "priority_group": "none"}
    if AGENT in access.roles_in(ctx.user, ctx.center_id):
        data["agent_id"] = ctx.user.id
        data["agent_phone"] = ctx.user.phone or ""
    matter_id = parse_id(ctx.values.get("matter_id")) if ctx.values else None
    matter = db.session.get(Matter, matter_id) if matter_id else None
    if matter is not None and matter.center_id == ctx.center_id and not matter.voided:
        data["matter_id"] = matter.id
        data["free"] = (matter.fee or "").strip() in ("", "不收费", "免费", "无")
        data["materials"] = _materials_of(matter.id) + [{}]
    return data


def _own_or_unassigned(ctx) -> None:
    """An agent acts on their own entrustments and on unassigned ones; the deputy and director on any."""
    r = ctx.record
    if access.roles_in(ctx.user, r.center_id) & HEADS or r.agent_id in (None, ctx.user.id):
        return
    raise Refused("本委托已指定其他代办员，由其办理。", field="agent_id")


def _not_future(ctx, day: date | None, field: str, earliest: date | None, what: str) -> None:
    if day is None:
        return
    if day > ctx.today:
        raise Refused("日期不能晚于今天。", field=field)
    if earliest is not None and day < earliest:
        raise Refused(f"日期不能早于{what}（{earliest.isoformat()}）。", field=field)


def _accept(ctx) -> None:
    r = ctx.record
    _own_or_unassigned_after(ctx)
    if not is_agent(r.center_id, r.agent_id):
        raise Refused("请选择本中心的代办员（具有代办员角色的工作人员）。", field="agent_id")
    if not r.materials and _materials_of(r.matter_id):
        raise Refused("受理前请登记委托方交来的材料（原件/复印件、份数），并写明初审结果。", field="check_result")
    r.accepted_on = ctx.today


def _own_or_unassigned_after(ctx) -> None:
    """An agent who is not a head accepts for themself only."""
    r = ctx.record
    if not access.roles_in(ctx.user, r.center_id) & HEADS and r.agent_id != ctx.user.id:
        raise Refused("代办员只能以本人名义受理委托；指定其他代办员请由中心负责人办理。", field="agent_id")


def _start(ctx) -> None:
    problem = link_case(ctx.record)
    if problem:
        raise Refused(problem, field="case_no")


def _hand_back(ctx) -> None:
    r = ctx.record
    _not_future(ctx, r.returned_on, "returned_on", r.accepted_on, "受理日期")


def _close(ctx) -> None:
    ctx.record.closed_on = ctx.today


def _terminate(ctx) -> None:
    r = ctx.record
    _not_future(ctx, r.notice_on, "notice_on", r.entrusted_on, "委托日期")
    if r.termination_case == "other" and not (r.termination_note or "").strip():
        raise Refused("“其他情况”终止的，请写明原因。", field="termination_note")


WORKFLOW = Workflow(
    initial="entrusted",
    states=[
        # Not yet accepted: the centre's intake pool, which every agent sees and may take.
        State("entrusted", "已委托，待受理", "info",
              rights={"read": REGISTRARS | READERS | {SUBJECT}, "edit": REGISTRARS | {SUBJECT},
                      "print": REGISTRARS | READERS | {SUBJECT}}),
        State("accepted", "已受理（材料已初审）", "info"),
        State("in_handling", "代办中", "info"),
        State("returned", "已回交委托人", "ok"),
        State("closed", "已办结", "ok", final=True),
        State("terminated", "已终止", "bad", final=True),
        State("refused", "不予受理", "bad", final=True),
    ],
    transitions=[
        Transition("accept", "初审材料，受理", ("entrusted",), "accepted", REGISTRARS,
                   requires=("agent_id", "check_result"), fields=("agent_phone",), guard=_own_or_unassigned,
                   on_apply=_accept),
        Transition("refuse", "不予受理", ("entrusted",), "refused", REGISTRARS, requires=("refusal_reason",),
                   guard=_own_or_unassigned, css="danger"),
        Transition("start", "开始代办（关联办件）", ("accepted",), "in_handling", frozenset({SUBJECT}),
                   fields=("case_no",), on_apply=_start),
        Transition("hand_back", "回交委托人", ("in_handling",), "returned", frozenset({SUBJECT}),
                   requires=("returned_on", "returned_items", "client_signature"), on_apply=_hand_back),
        Transition("close", "办结", ("returned",), "closed", frozenset({SUBJECT}), on_apply=_close),
        Transition("terminate", "终止委托", ("entrusted", "accepted", "in_handling"), "terminated",
                   REGISTRARS | {SUBJECT}, requires=("termination_case", "notice_on"), fields=("termination_note",),
                   guard=_own_or_unassigned, on_apply=_terminate, css="danger", worklist=False),
    ],
)


def entrustment_flags(r: Entrustment) -> list:
    flags = []
    if r.priority:
        flags.append(("优先帮办", "warn"))
    if r.free:
        flags.append(("免费代办", "ok"))
    return flags


def _sample(center) -> Entrustment:
    """An entrustment registered by the centre's agent, not yet accepted: for the generated tests."""
    agent = db.session.scalar(select(RoleGrant.user_id).where(RoleGrant.center_id == center.id,
                                                              RoleGrant.role == AGENT).limit(1))
    r = Entrustment(center_id=center.id, state="entrusted", entrusted_on=date(2026, 11, 23), client_name="王秀英",
                    client_id_no="11010519491231002X", client_phone="13900000000", client_address="城关镇东街1号",
                    priority_group="elderly", matter_text="城乡居民养老保险待遇领取资格认证", agent_id=agent,
                    free=True, fee_amount=Decimal("0"),
                    materials=[EntrustmentMaterial(seq=1, name="居民身份证", form="both", copies=1)])
    operations.compute(ENTRUSTMENTS, r, None)
    db.session.add(r)
    _before_save(ENTRUSTMENTS.ctx(r, None, on=date(2026, 11, 23)))
    db.session.flush()
    return r


VIEWS = (
    ListView("priority_open", "老年人、残疾人优先（未办结）",
             lambda on: and_(Entrustment.priority.is_(True), Entrustment.state.in_(OPEN_STATES))),
    ListView("unassigned", "待受理（未指定代办员）",
             lambda on: and_(Entrustment.state == "entrusted", Entrustment.agent_id.is_(None))),
)


ENTRUSTMENTS = register(RecordType(
    key="entrustments", model=Entrustment, title="帮办代办委托", title_plural="帮办代办委托",
    nav_group="service", subject="agent_id",
    permissions={"read": READERS | {SUBJECT}, "create": REGISTRARS, "edit": HEADS | {SUBJECT},
                 "void": frozenset({DIRECTOR}), "print": READERS | {SUBJECT}, "export": READERS},
    workflow=WORKFLOW, unmask_roles=UNMASK, views=VIEWS, flags=entrustment_flags,
    default_sort="-priority",
    validate=_validate, warnings=_warnings, before_save=_before_save, prefill=_prefill, sample=_sample,
    ledger_columns=("number", "entrusted_on", "client_name", "priority_group", "matter_id", "agent_id", "free",
                    "fee_amount"),
    fields=[
        Field("number", "委托书编号", kind="str", in_form=False, in_list=True, search="prefix"),
        Field("entrusted_on", "委托日期", required=True, in_list=True, filter=True),
        Field("client_name", "委托人（联系人）", required=True, in_list=True, search=True),
        Field("client_unit", "委托单位", help="单位委托时填写单位名称；个人委托不填。"),
        Field("client_id_no", "委托人身份证号码", kind="idno", required=True, mask=True, search="idno"),
        Field("client_phone", "委托人联系电话", kind="phone", required=True),
        Field("client_address", "委托人住址"),
        Field("priority_group", "优先帮办类别", choices=PRIORITY_CHOICES, required=True, in_list=True, filter=True,
              help="老年人、残疾人等特殊群体优先帮办代办；身份证号码显示满60周岁的，自动按老年人优先。"),
        Field("priority", "优先", compute=_priority, depends=("priority_group", "client_id_no", "entrusted_on"),
              in_list=True, filter=True),
        Field("matter_id", "帮办代办事项", ref=Matter, in_list=True, filter=True,
              help="选定本中心事项后，未填写的材料清单按该事项的申请材料生成。"),
        Field("matter_text", "其他层级事项", help="区（县）直部门等其他层级的事项，不在本中心目录的，填写事项名称。"),
        Field("request", "委托办理的具体内容", kind="text", max_length=2000),
        Field("agent_id", "代办员", kind="user", in_list=True, filter=True),
        Field("agent_phone", "代办员联系电话", kind="phone"),
        Field("free", "便民服务事项，免费代办", filter=True),
        Field("fee_amount", "委托方承担的费用（元）", min=0, help=FEE_NOTE),
        Field("fee_for", "费用用途", help="由委托方自行交纳的规费、证件费用等。"),
        Field("case_no", "关联办件受理编号", help="代办员为委托人办理的本中心办件；一个办件只能关联一份委托。"),
        Field("case_id", "关联办件", ref=ServiceCase, in_form=False),
        Field("accepted_on", "受理日期", in_form=False),
        Field("check_result", "材料初审结果", kind="text", in_form=False, max_length=2000),
        Field("refusal_reason", "不予受理的理由", kind="text", in_form=False, max_length=2000),
        Field("returned_on", "回交日期", in_form=False),
        Field("returned_items", "回交的结果和材料", kind="text", in_form=False, max_length=2000),
        Field("client_signature", "委托人签收", in_form=False, help="委托人签收的情况，如“委托人本人签字确认”。"),
        Field("closed_on", "办结日期", in_form=False),
        Field("termination_case", "终止情形", choices=TERMINATION_CHOICES, in_form=False, filter=True),
        Field("notice_on", "书面通知日期", in_form=False,
              help="委托方书面提出终止，或代办方书面通知委托方（注明原因）的日期。"),
        Field("termination_note", "终止说明", kind="text", in_form=False, max_length=2000),
        Field("note", "备注", kind="text", max_length=2000),
    ],
    children=[Child("materials", "委托方提交的材料", EntrustmentMaterial, blank_rows=2, fields=[
        Field("name", "材料名称", required=True),
        Field("form", "原件/复印件", choices=MATERIAL_FORM_CHOICES),
        Field("copies", "份数", min=0, max=99),
    ])],
    prints=[PrintForm("contract", "帮办代办服务委托书", "print/entrustment.html",
                      states=("entrusted", "accepted", "in_handling", "returned", "closed", "terminated"))],
))


# ------------------------------------------------------------------ the agent's list

def agent_list(user, center_id: int) -> list[Entrustment]:
    """Open entrustments an agent works from: theirs and the unassigned ones (all of the centre for the
    deputy and director) — the elderly and the disabled first, then the oldest."""
    from app.records.query import read_condition
    query = select(Entrustment).where(read_condition(ENTRUSTMENTS, user), Entrustment.center_id == center_id,
                                      Entrustment.voided.is_(False), Entrustment.state.in_(OPEN_STATES))
    if not access.roles_in(user, center_id) & HEADS:
        query = query.where(or_(Entrustment.agent_id == user.id, Entrustment.agent_id.is_(None)))
    query = query.order_by(Entrustment.priority.desc(), Entrustment.entrusted_on, Entrustment.id)
    return list(db.session.scalars(query.limit(500)))


bp = Blueprint("agency", __name__, url_prefix="/agency")


@bp.route("/")
@login_required
def queue():
    center = access.current_center()
    roles = access.roles_in(current_user, center.id) if center is not None else frozenset()
    if not roles & REGISTRARS:
        abort(403)
    from app.records.forms import ref_choices
    return render_template("agency/queue.html", rows=agent_list(current_user, center.id), center=center,
                           rtype=ENTRUSTMENTS, matters=ref_choices(Matter, center.id, blank=False),
                           may_create=ENTRUSTMENTS.allows("create", roles))


def may_unmask_entrustment(record) -> bool:
    """For the paper contract: may the reader see the client's ID number in full?"""
    from app.records.forms import may_unmask
    return may_unmask(ENTRUSTMENTS, current_user, record.center_id)


def init_app(app) -> None:
    app.jinja_env.globals.update(agency_unmask=may_unmask_entrustment, agency_fee_note=FEE_NOTE,
                                 agency_termination_cases=TERMINATION_CHOICES)


from app.features import Feature, MenuLink  # noqa: E402  (the feature declaration closes the module)

FEATURE = Feature(
    "agency", types=("app.agency",), blueprints=[bp], init_app=init_app,
    menu=[MenuLink("agency.queue", "帮办代办工作台", REGISTRARS, group="service")],
)
