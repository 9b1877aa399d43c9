"""The worklist, generated from the declarations: for every record type (those the tests declare in
tests/types/ too) and every step that awaits someone, the record shows in the SQL worklist of a person
who may take that step — an approval under "awaiting my approval" — never for one who may not, and never
as one's own approval. SQL and the Python rules (`available`) must agree."""
from __future__ import annotations

import pytest

from app.records import REGISTRY, load_record_types, worklist
from app.records.registry import SUBJECT
from app.records.workflow import available, refusal
from tests.records_support import sample_record

load_record_types()
STEPS = [pytest.param(key, t.name, id=f"{key}-{t.name}") for key in sorted(REGISTRY)
         if REGISTRY[key].workflow for t in REGISTRY[key].workflow.transitions if t.worklist]


def _in_range(w):
    return w.upto if w.upto is not None else (w.above or 0) + 1


def _listed(user, record, group=None) -> bool:
    wl = worklist.for_user(user, limit=1000)
    groups = [wl.group(group)] if group else wl.groups
    return any(item.record is record or (type(item.record) is type(record) and item.record.id == record.id)
               for g in groups for item in g.items)


@pytest.mark.parametrize("key,step", STEPS)
def test_a_step_that_awaits_someone_puts_the_record_in_their_worklist_and_nobody_elses(county, db, key, step):
    rtype = REGISTRY[key]
    t = rtype.workflow.transition(step)
    record = sample_record(rtype, county["a"])
    record.state = t.source[0]
    for w in t.when[:1]:
        setattr(record, w.field, _in_range(w))
    users = county["users"]
    role = next((r for r in sorted(t.roles) if r != SUBJECT), None)
    actor = users[f"a_{role}"] if role else users["a_clerk"]
    colleague = users["a_agent" if actor is not users["a_agent"] else "a_clerk"]
    if rtype.subject:  # their own record for a subject's step; a colleague's for anyone else's
        setattr(record, rtype.subject, actor.id if role is None else colleague.id)
    owner = rtype.owner if rtype.owner and rtype.owner != rtype.subject else None
    if owner:
        setattr(record, owner, actor.id)
    elif not rtype.subject:  # the author: the actor's own work, but never their own approval
        record.created_by_id = colleague.id if t.not_by_subject else actor.id
    db.session.commit()
    reason = refusal(rtype, record, t, actor)
    if reason:
        pytest.skip(f"the sample cannot take this step: {reason}")  # a guard on the data (e.g. kind of matter)
    assert _listed(actor, record, "approvals" if t.approval else None), (key, step, actor.username)
    # Everyone else of the centre: listed only with a step of their own (or as a manager's exception).
    for name, other in users.items():
        if not name.startswith("a_") or other is actor:
            continue
        steps = [s for s in available(rtype, record, other) if s.worklist]
        if not steps:
            exceptions = [i.record.id for i in worklist.for_user(other, limit=1000).group("exceptions").items
                          if type(i.record) is type(record)]
            assert not _listed(other, record) or record.id in exceptions, (key, step, name)
    if t.not_by_subject:  # nobody approves their own record (the subject's, else the author's)
        setattr(record, rtype.subject or "created_by_id", actor.id)
        db.session.commit()
        assert not _listed(actor, record, "approvals"), (key, step)
