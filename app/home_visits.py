"""Home visits (上门服务) [000 预约服务; 003 7.1.1; SPEC §4.6]: an elderly, sick or disabled citizen asks
(by phone, through family or the village), a manager assigns a member of staff, who visits, records what
was done and links the case taken at the door. The assigned person finds it under "my work"."""
from __future__ import annotations


from app.access import STAFF
from app.records.registry import Field, RecordType, Refused, State, Transition, Workflow, register
from app.timeutil import today
from models.catalogue import Matter
from models.core import AGENT, CLERK, COUNTY, DEPUTY, DIRECTOR
from models.home_visit import HomeVisit

GROUP_CHOICES = (("elderly", "老年人"), ("sick", "患病群众"), ("disabled", "残疾人"))
ASSIGNERS = frozenset({DEPUTY, DIRECTOR})
VISITORS = frozenset({CLERK, AGENT, DEPUTY, DIRECTOR})


def _validate(ctx) -> dict:
    from app.cases import link_by_receipt
    r, errors = ctx.record, {}
    if r.wanted_on and r.requested_on and r.wanted_on < r.requested_on:
        errors["wanted_on"] = "希望上门日期不能早于申请日期。"
    if not r.matter_id and not (r.need or "").strip():
        errors["need"] = "请选择事项或写明需要办理什么。"
    problem = link_by_receipt(r)
    if problem:
        errors["case_no"] = problem
    return errors


def _assigned_or_manager(ctx) -> None:
    """The visit is recorded by the person sent, or by a manager."""
    from app.access import roles_in
    if ctx.record.staff_id != ctx.user.id and not roles_in(ctx.user, ctx.record.center_id) & ASSIGNERS:
        raise Refused("只有被派去上门的工作人员或中心负责人可以登记上门情况。")


def _visited(ctx) -> None:
    if ctx.record.visited_on > ctx.today:
        raise Refused("上门日期不能晚于今天。", field="visited_on")
    _validate_link(ctx)


def _validate_link(ctx) -> None:
    from app.cases import link_by_receipt
    problem = link_by_receipt(ctx.record)
    if problem:
        raise Refused(problem, field="case_no")


def _sample(center):
    from app.extensions import db
    visit = HomeVisit(center_id=center.id, state="requested", applicant_name="张大爷", phone="13900001111",
                      address="城关镇东风村3组", group="elderly", need="办理高龄津贴申请", requested_on=today())
    db.session.add(visit)
    db.session.flush()
    return visit


HOME_VISITS = register(RecordType(
    key="home-visits", model=HomeVisit, title="上门服务", title_plural="上门服务", nav_group="service",
    owner="staff_id", default_sort="-requested_on",
    permissions={"read": STAFF | {COUNTY}, "create": VISITORS, "edit": VISITORS, "void": frozenset({DIRECTOR}),
                 "print": STAFF, "export": ASSIGNERS},
    workflow=Workflow(
        initial="requested",
        states=[State("requested", "待派人", "warn"), State("assigned", "已派人", "info"),
                State("visited", "已上门", "ok", final=True), State("cancelled", "已取消", "neutral", final=True)],
        transitions=[
            Transition("assign", "派人上门", ("requested", "assigned"), "assigned", ASSIGNERS, requires=("staff_id",),
                       fields=("wanted_on",)),
            Transition("record_visit", "登记上门情况", ("assigned",), "visited", VISITORS,
                       requires=("visited_on", "visit_result"), fields=("case_no",), guard=_assigned_or_manager,
                       on_apply=_visited),
            Transition("cancel", "取消", ("requested", "assigned"), "cancelled", ASSIGNERS,
                       requires=("cancel_reason",), css="secondary", worklist=False)]),
    fields=[
        Field("applicant_name", "申请人", required=True, in_list=True, search=True, max_length=50),
        Field("phone", "联系电话", kind="phone", required=True, in_list=True),
        Field("address", "上门地址", required=True, max_length=200),
        Field("group", "服务对象", choices=GROUP_CHOICES, required=True, in_list=True, filter=True),
        Field("matter_id", "事项", ref=Matter),
        Field("need", "需要办理的事", max_length=1000),
        Field("requested_on", "申请日期", required=True, in_list=True, filter=True),
        Field("wanted_on", "希望上门日期", in_list=True),
        Field("staff_id", "上门工作人员", kind="user", in_list=True, filter=True, in_form=False),
        Field("visited_on", "上门日期", in_form=False),
        Field("visit_result", "上门办理情况", in_form=False, max_length=2000),
        Field("case_no", "关联办件受理编号", in_form=False, max_length=40, help="上门受理了办件时填写。"),
        Field("cancel_reason", "取消原因", in_form=False, max_length=500),
    ],
    validate=_validate, sample=_sample,
    prefill=lambda ctx: {"requested_on": ctx.today},
))

from app.features import Feature  # noqa: E402  (the feature declaration closes the module)

FEATURE = Feature("home_visits", types=("app.home_visits",))
