"""Workflows are data: who may take which step when, and the start-up check of whole declarations.
A state changes only through app.records.operations.transition."""
from __future__ import annotations

from flask_babel import gettext as _

from app import access
from app.records.registry import ACTIONS, SUBJECT, RecordType, Refused, Transition


def check_declaration(rtype: RecordType) -> list[str]:
    """Problems with a whole declaration (fields, workflow, rights, subject, chains, computed fields,
    printouts); empty when it is consistent. The app refuses to start otherwise."""
    from models.core import ROLES
    problems = []
    columns = set(rtype.model.__table__.c.keys())
    known_roles = set(ROLES) | {SUBJECT}

    def roles_ok(where: str, roles) -> None:
        unknown = set(roles) - known_roles
        if unknown:
            problems.append(f"{where}: unknown roles {sorted(unknown)}")
        if SUBJECT in roles and not rtype.subject:
            problems.append(f"{where}: grants the subject, but the type names no subject")

    for action, roles in rtype.permissions.items():
        if action not in ACTIONS:
            problems.append(f"permission {action!r} is not an action ({', '.join(ACTIONS)})")
        roles_ok(f"permission {action}", roles)
    if rtype.subject and rtype.subject not in columns:
        problems.append(f"subject {rtype.subject!r} is not a column")
    if rtype.owner and rtype.owner not in columns:
        problems.append(f"owner {rtype.owner!r} is not a column")
    if rtype.withheld_from and rtype.withheld_from not in columns:
        problems.append(f"withheld_from {rtype.withheld_from!r} is not a column")
    names = {f.name for f in rtype.fields}
    for f in rtype.fields:
        if f.compute is not None:
            if f.name not in columns:
                problems.append(f"computed field {f.name!r} is not a column (it is stored)")
            for d in f.depends:
                if d not in names and d not in columns:
                    problems.append(f"computed field {f.name!r} depends on unknown field {d!r}")
            if not f.depends:
                problems.append(f"computed field {f.name!r} names no field it depends on")
    try:
        rtype.computed_fields
    except ValueError as exc:
        problems.append(str(exc))
    for view in rtype.views:
        if not callable(view.condition):
            problems.append(f"list view {view.key!r} has no condition")
    wf = rtype.workflow
    state_names = [s.name for s in wf.states] if wf else []
    for p in rtype.prints:
        if p.states and not wf:
            problems.append(f"printout {p.name}: names states, but the type has no workflow")
        for s in p.states or ():
            if s not in state_names:
                problems.append(f"printout {p.name}: unknown state {s!r}")
        if p.roles is not None:
            roles_ok(f"printout {p.name}", p.roles)
    if wf is None:
        return [f"{rtype.key}: {p}" for p in problems]
    problems += check_workflow(rtype)
    for s in rtype.edit_states or ():
        if s not in state_names:
            problems.append(f"edit state {s!r} is not a state")
    for st in wf.states:
        for action, roles in st.rights.items():
            if action not in ("read", "edit", "print", "void"):
                problems.append(f"state {st.name}: right {action!r} is not a state action")
            roles_ok(f"state {st.name} right {action}", roles)
        if not rtype.rights_in(st.name).get("read"):
            problems.append(f"state {st.name}: nobody may read its records")
    for t in wf.transitions:
        roles_ok(f"transition {t.name}", t.roles)
        for w in t.when:
            if w.field not in columns:
                problems.append(f"transition {t.name}: condition on {w.field!r}, not a column")
    for chain in wf.chains:
        if chain.by not in columns:
            problems.append(f"chain: routing field {chain.by!r} is not a column")
        for s in (*chain.submit_from, chain.approved, chain.rejected, *([chain.returned] if chain.returned else [])):
            if s not in state_names:
                problems.append(f"chain: unknown state {s!r}")
        uptos = [r.upto for r in chain.routes]
        if any(u is None for u in uptos[:-1]) or uptos[:-1] != sorted(uptos[:-1]):
            problems.append("chain: routes must go up by their limit; only the last may be open (None)")
    return [f"{rtype.key}: {p}" if not p.startswith(f"{rtype.key}: ") else p for p in problems]


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
            elif rtype.field(f) is None:
                problems.append(f"transition {t.name}: field {f!r} is not declared (its form cannot show it)")
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


def _failed_check(rtype: RecordType, record, transition: Transition, user, roles) -> str | None:
    """The first of a step's checks the record or the user (with `roles` in the record's centre) fails, by name
    (None: all pass); the guard hook aside."""
    if record.voided:
        return "void"
    if record.state not in transition.source or not transition.applies(record):
        return "state"
    if not rtype.grants(transition.roles, user, record, roles):
        return "role"
    if transition.not_by_subject and rtype.subject_id(record) == user.id:
        return "own"
    return None


def refusal(rtype: RecordType, record, transition: Transition, user) -> str | None:
    """Why the user may not take this transition now (None: allowed)."""
    failed = _failed_check(rtype, record, transition, user, access.roles_in(user, record.center_id))
    if failed == "void":
        return _("This record is void.")
    if failed == "state":
        return not_in_this_state(rtype, record)
    if failed == "role":
        return _("You may not do this.")
    if failed == "own":
        return _("You cannot approve your own record.")
    return _hook_refusal(rtype, transition.guard, record, user)


def available(rtype: RecordType, record, user) -> list[Transition]:
    """The steps the user may take now: `refusal`'s checks without writing its reasons (a worklist asks
    this for every step of fifty rows)."""
    if rtype.workflow is None:
        return []
    roles = access.roles_in(user, record.center_id)
    return [t for t in rtype.workflow.exits(record.state)
            if _failed_check(rtype, record, t, user, roles) is None and _hook_refusal(rtype, t.guard, record, user) is None]


def edit_refusal(rtype: RecordType, record, user) -> str | None:
    """Why this user may not edit the record now (None: they may): the state's rights, then the type's check."""
    if not rtype.may("edit", user, record):
        return _("You may not do this.")
    return _hook_refusal(rtype, rtype.can_edit, record, user)


def _hook_refusal(rtype: RecordType, hook, record, user) -> str | None:
    """A checking hook's answer as a reason (None: no hook, or it allows)."""
    if hook is None:
        return None
    try:
        hook(rtype.ctx(record, user))
    except Refused as refused:
        return refused.message
    return None
