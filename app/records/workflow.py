"""Workflows are data; a state changes only through apply_transition."""
from __future__ import annotations

from flask_babel import gettext as _

from app import access
from app.records.registry import RecordType, Transition


class TransitionRefused(Exception):
    """A transition that may not happen now; the message is shown to the user."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field


def check_workflow(rtype: RecordType) -> list[str]:
    """Problems with a declared workflow; empty when it is consistent."""
    wf = rtype.workflow
    if wf is None:
        return []
    problems = []
    names = [s.name for s in wf.states]
    if len(set(names)) != len(names):
        problems.append("duplicate state names")
    if wf.initial not in names:
        problems.append(f"initial state {wf.initial!r} is not a state")
    tnames = [t.name for t in wf.transitions]
    if len(set(tnames)) != len(tnames):
        problems.append("duplicate transition names")
    columns = set(rtype.model.__table__.c.keys())
    for t in wf.transitions:
        for s in (*t.source, t.target):
            if s not in names:
                problems.append(f"transition {t.name}: unknown state {s!r}")
        if not t.roles:
            problems.append(f"transition {t.name}: no role may do it (unguarded or dead)")
        for f in t.fields:
            if f not in columns:
                problems.append(f"transition {t.name}: field {f!r} is not a column")
        for s in t.source:
            state = wf.state(s)
            if state is not None and state.final:
                problems.append(f"transition {t.name}: leaves final state {s!r}")
    # Every state is reachable from the initial one; every non-final state has a way out.
    reachable, frontier = {wf.initial}, [wf.initial]
    while frontier:
        here = frontier.pop()
        for t in wf.exits(here):
            if t.target not in reachable:
                reachable.add(t.target)
                frontier.append(t.target)
    for s in wf.states:
        if s.name not in reachable:
            problems.append(f"state {s.name!r} cannot be reached")
        if not s.final and not wf.exits(s.name):
            problems.append(f"state {s.name!r} is not final but has no transition out")
    return [f"{rtype.key}: {p}" for p in problems]


def not_in_this_state(rtype: RecordType, record) -> str:
    """The answer to a step or change the record's state does not allow (not a permission problem)."""
    state = rtype.workflow.state(record.state) if rtype.workflow else None
    return _("This step is not possible in the current state. (Now: %(state)s)",
             state=state.title if state else record.state)


def refusal(rtype: RecordType, record, transition: Transition, user) -> str | None:
    """Why the user may not take this transition now (None: allowed)."""
    if record.voided:
        return _("This record is void.")
    if record.state not in transition.source:
        return not_in_this_state(rtype, record)
    if not transition.roles & access.roles_in(user, record.center_id):
        return _("You may not do this.")
    if transition.not_by_author and record.created_by_id == user.id:
        return _("You cannot approve your own record.")
    if transition.guard is not None:
        reason = transition.guard(record, user)
        if reason:
            return str(reason)
    return None


def available(rtype: RecordType, record, user) -> list[Transition]:
    if rtype.workflow is None:
        return []
    return [t for t in rtype.workflow.exits(record.state) if refusal(rtype, record, t, user) is None]


def apply_transition(rtype: RecordType, record, name: str, user, values: dict | None = None,
                     comment: str = "") -> None:
    """Check, change, log. Values are the transition's fields; the audit trail is written on flush."""
    from sqlalchemy.orm.attributes import flag_modified

    from app.extensions import db

    transition = rtype.workflow.transition(name) if rtype.workflow else None
    if transition is None:
        raise TransitionRefused(_("Unknown step."))
    reason = refusal(rtype, record, transition, user)
    if reason:
        raise TransitionRefused(reason)
    values = values or {}
    for field in transition.requires:
        if values.get(field) in (None, "") and getattr(record, field, None) in (None, ""):
            raise TransitionRefused(_("This field is required."), field=field)
    if transition.comment_required and not comment.strip():
        raise TransitionRefused(_("Please give a reason."), field="comment")
    for field in transition.fields:
        if field in values:
            setattr(record, field, values[field])
    record.state = transition.target
    # Always a real UPDATE, even for a step that only adds a note: the version check applies and
    # the audit trail logs the step.
    flag_modified(record, "updated_at")
    record._audit_note = ("transition", comment or str(transition.title))
    if transition.on_apply is not None:
        transition.on_apply(record, user)
    db.session.flush()  # a stale version raises StaleDataError here, inside the request
