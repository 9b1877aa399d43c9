""""What awaits me" (待我处理): records where the user has a step to take, in three groups.

- approvals (待我审批): records in a state where the user's role may take an approval
  (`Transition(approval=True)`: a decision only a manager's role makes, e.g. an extension);
- exceptions (异常, managers only): records of their centres that one of the type's warning list
  views selects (a `ListView` whose css is "bad" or "warn": overdue, due next working day, not
  handed over) — a clerk's case reaches a manager only this way or by waiting for their decision;
- mine (我的办件): records the user owns — named as responsible (`responsible_id`, 首问负责), else
  written by them — in a state where they have a step; their own exceptions first.

Each group is selected, counted and paged in SQL (a fixed number of statements per record type,
whatever the number of rows), so nothing of mine is cut by other people's older records. The
per-record guards only check the rows of the page already chosen.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, case, func, inspect, literal_column, or_, union_all
from sqlalchemy.orm import joinedload
from sqlalchemy.orm.interfaces import MANYTOONE

from app import access
from app.extensions import db
from app.records import query as rq
from app.records.registry import REGISTRY, SUBJECT, RecordType, Transition
from app.records.workflow import available
from app.timeutil import today

GROUPS = (
    ("approvals", _l("Awaiting my approval")),
    ("exceptions", _l("Exceptions: overdue, due soon, not handed over")),
    ("mine", _l("My cases")),
)
EXCEPTION_CSS = ("bad", "warn")


@dataclass
class Item:
    rtype: RecordType
    record: object
    transitions: list[Transition]


@dataclass
class Group:
    key: str
    title: object
    count: int = 0                       # every record of the group, counted in SQL
    items: list[Item] = field(default_factory=list)   # the page shown


@dataclass
class Worklist:
    """The groups in the order a person should work through them; iterating gives every shown item."""
    groups: list[Group]

    def group(self, key: str) -> Group:
        return next(g for g in self.groups if g.key == key)

    @property
    def count(self) -> int:
        return sum(g.count for g in self.groups)

    def __iter__(self):
        return (item for g in self.groups for item in g.items)

    def __len__(self) -> int:
        return sum(len(g.items) for g in self.groups)


def for_user(user, limit: int = 100, group: str | None = None) -> Worklist:
    """Each group's count and its first `limit` records (only `group`'s when one is named)."""
    worklist = Worklist([Group(key, title) for key, title in GROUPS])
    on = today()
    # The user behind the request's proxy: every row's guards read it, many times.
    user = access.unproxied(user)
    # What the SQL depends on besides the type: the person, the day, their roles in each centre, whose posts
    # they cover today.
    person = (user.id, on, tuple(sorted(access.role_map(user).items())), access.acting_for(user))
    planned = [(rtype, plan) for rtype in REGISTRY.values() if rtype.workflow is not None
               for plan in (_plan(rtype, user, on, person),) if plan is not None]
    counts = _counts(planned, person)
    for i, (rtype, plan) in enumerate(planned):
        _add_type(worklist, rtype, plan, user, limit, group, counts.get(i, {}))
    return worklist


# Every type's group counts in one statement (UNION ALL of the types' counts, each row tagged with its type):
# a dozen types were a dozen round trips, most of them counting nothing. Built once per person and day as the
# plans are (`_plan`), from those plans.
_COUNTS: dict = {}


def _counts(planned, person) -> dict[int, dict[int, int]]:
    """type's place in `planned` → {group number: records}."""
    if not planned:
        return {}
    key = (*person, tuple(id(rtype) for rtype, _plan in planned))
    statement = _COUNTS.get(key)
    if statement is None:
        parts = [plan[3].add_columns(literal_column(str(i)).label("type_place")) for i, (_rtype, plan) in enumerate(planned)]
        statement = union_all(*parts) if len(parts) > 1 else parts[0]
        if len(_COUNTS) >= _PLANS_MAX:
            _COUNTS.clear()
        _COUNTS[key] = statement
    counts: dict[int, dict[int, int]] = {}
    for number, n, place in db.session.execute(statement).all():
        counts.setdefault(place, {})[number] = n
    return counts


# The SQL of a type's worklist for one person on one day, built once: it depends only on the type, the
# person's roles in each centre, whose posts they cover and the day (building it for a dozen types cost more
# than running it). A few thousand entries at most: cleared when full.
_PLANS: dict = {}
_PLANS_MAX = 4096


def _plan(rtype: RecordType, user, on, person):
    key = (id(rtype), *person)
    if key in _PLANS:
        return _PLANS[key]
    model = rtype.model
    conditions = _group_conditions(rtype, user, on)
    plan = None
    if any(c is not None for c in conditions):
        # A record belongs to the first group it qualifies for.
        number = case(*((c, n) for n, c in enumerate(conditions) if c is not None))
        open_states = [s.name for s in rtype.workflow.states if not s.final]
        scope = (rq.visible_query(rtype, user)
                 .where(model.voided.is_(False), model.state.in_(open_states)))
        counting = (scope.where(or_(*(c for c in conditions if c is not None)))
                    .with_only_columns(number, func.count(), maintain_column_froms=True).group_by(number))
        plan = (conditions, number, scope, counting, _exception_order(rtype, on))
    if len(_PLANS) >= _PLANS_MAX:
        _PLANS.clear()
    _PLANS[key] = plan
    return plan


def _add_type(worklist: Worklist, rtype: RecordType, plan, user, limit: int, only: str | None, counts) -> None:
    model = rtype.model
    conditions, number, scope, _counting, flagged = plan
    for n, (grp, condition) in enumerate(zip(worklist.groups, conditions)):
        grp.count += counts.get(n, 0)
        room = limit - len(grp.items)
        if not counts.get(n) or room <= 0 or (only and grp.key != only):
            continue
        # The page's ids first, chosen from the index alone however many records qualify; then only
        # those records are read, with what their rows show.
        page = (scope.where(condition, number == n).with_only_columns(model.id, maintain_column_froms=True)
                .order_by(*flagged, model.id).limit(room))
        rows = db.session.scalars(
            db.select(model).where(model.id.in_(page.scalar_subquery()))
            .order_by(*flagged, model.id).options(*_row_loaders(model))).unique()
        for record in rows:
            # Final check on the page only: a guard in Python (e.g. the kind of matter) may still refuse.
            steps = [t for t in available(rtype, record, user) if t.worklist]
            if steps or grp.key == "exceptions":  # a leader follows exceptions without taking a step
                grp.items.append(Item(rtype, record, steps))


def _group_conditions(rtype: RecordType, user, on) -> list:
    """SQL conditions of the approvals, exceptions and mine groups (None: the group is empty)."""
    model, wf = rtype.model, rtype.workflow
    centres_by_roles: dict[frozenset[str], list[int]] = {}
    for cid in rq.readable_center_ids(rtype, user):
        centres_by_roles.setdefault(access.roles_in(user, cid), []).append(cid)
    approvals, exceptions, mine = [], [], []
    for roles, centre_ids in centres_by_roles.items():
        here = model.center_id.in_(centre_ids)
        subject = {SUBJECT} if rtype.subject and roles else set()
        steps = [t for t in wf.transitions if t.worklist and t.roles & (roles | subject)]
        deciding = [t for t in steps if t.approval]
        waiting = _in_states_of(rtype, deciding, user, roles)
        if waiting is not None:
            approvals.append(and_(here, waiting))
        # A record waiting for my decision is an approval, whatever other step its state offers.
        decision_states = {s for t in deciding for s in t.source}
        working = _in_states_of(rtype, [t for t in steps if not t.approval and not set(t.source) & decision_states],
                                user, roles)
        if working is not None:
            mine.append(and_(here, working, _owned_by(rtype, user)))
        warnings = [v.condition(on) for v in rtype.views if v.css in EXCEPTION_CSS]
        if roles & access.MANAGERS and warnings:
            exceptions.append(and_(here, or_(*warnings)))
    return [or_(*c) if c else None for c in (approvals, exceptions, mine)]


def _in_states_of(rtype: RecordType, steps: list[Transition], user, roles: frozenset[str]):
    """Records where the user may take one of `steps`, as SQL: in a source state, meeting the step's
    condition (`When`, e.g. an approval chain's route), by their role or as the record's subject, never
    approving their own record. Steps alike are put together so the condition stays short."""
    model = rtype.model
    buckets: dict[tuple, set[str]] = {}
    for t in steps:
        as_subject_only = not (t.roles & roles)
        buckets.setdefault((t.when, as_subject_only, t.not_by_subject), set()).update(t.source)
    parts = []
    mine = getattr(model, rtype.subject) if rtype.subject else model.created_by_id
    for (when, as_subject_only, not_by_subject), states in buckets.items():
        cond = [model.state.in_(sorted(states))]
        if when:
            cond.append(or_(*(w.sql(model) for w in when)))
        if as_subject_only:
            cond.append(getattr(model, rtype.subject) == user.id)
        if not_by_subject:
            cond.append(or_(mine.is_(None), mine != user.id))
        parts.append(and_(*cond))
    return or_(*parts) if parts else None


def _owned_by(rtype: RecordType, user):
    """Whose work a record is: its owner column (首问负责: a case's responsible clerk; an unassigned record,
    its author), else its subject, else whoever wrote it."""
    model = rtype.model
    column = rtype.owner or rtype.subject
    if column:
        owner = getattr(model, column)
        ids = access.acting_for(user)   # with the people whose post the user covers today (AB岗)
        mine = owner == user.id if len(ids) == 1 else owner.in_(sorted(ids))
        return or_(mine, and_(owner.is_(None), model.created_by_id == user.id))
    return model.created_by_id == user.id


def _exception_order(rtype: RecordType, on) -> list:
    """Within a group: red flags first, then warnings, then the rest; oldest first after that."""
    order = []
    for css in EXCEPTION_CSS:
        flagged = [v.condition(on) for v in rtype.views if v.css == css]
        if flagged:
            order.append(case((or_(*flagged), 0), else_=1))
    return order


def _row_loaders(model) -> list:
    """What a row shows and its guards read: every record the row's record points to, in the same query —
    but not its people and centre (author, responsible person, centre): rows and guards use their ids only
    (a rare use elsewhere still loads them, from the session's own copies mostly)."""
    from models.core import Center, User
    return [joinedload(getattr(model, r.key)) for r in inspect(model).relationships
            if r.direction is MANYTOONE and r.mapper.class_ not in (Center, User)]
