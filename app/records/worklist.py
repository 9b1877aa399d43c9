""""What awaits me" (待我处理): records where the user has a transition now."""
from __future__ import annotations

from dataclasses import dataclass

from app import access
from app.extensions import db
from app.records import query as rq
from app.records.registry import REGISTRY, RecordType, Transition
from app.records.workflow import available


@dataclass
class Item:
    rtype: RecordType
    record: object
    transitions: list[Transition]


def for_user(user, limit: int = 100) -> list[Item]:
    items: list[Item] = []
    roles = access.all_roles(user)
    for rtype in REGISTRY.values():
        wf = rtype.workflow
        if wf is None:
            continue
        states = {s for t in wf.transitions if t.worklist and t.roles & roles for s in t.source}
        if not states:
            continue
        query = (rq.visible_query(rtype, user)
                 .where(rtype.model.state.in_(states), rtype.model.voided.is_(False))
                 .order_by(rtype.model.id).limit(limit * 3))
        for record in db.session.scalars(query):
            steps = [t for t in available(rtype, record, user) if t.worklist]
            if steps:
                items.append(Item(rtype, record, steps))
            if len(items) >= limit:
                return items
    return items
