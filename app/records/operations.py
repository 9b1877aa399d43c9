"""What can be done to a record — create, update, transition, void, bulk transition — in one place,
for the web pages, jobs, importers and the command line alike.

An operation checks, computes, validates, changes and audits; it never commits (the caller's unit of
work does) and never renders. A refusal raises `Refused` (one message, maybe one field); invalid
values raise `Invalid` (a message per field). Values are Python values already parsed from the form
(or the file, or the command line).
"""
from __future__ import annotations

import secrets

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.attributes import flag_modified

from app import audit
from app.extensions import db
from app.records.registry import Child, RecordType, Refused
from app.records.workflow import refusal
from models.core import AuditEntry, RecordOpinion, SubmissionToken


OPINION_KINDS = {"opinion": _l("Opinion given"), "approve": _l("Approved"), "reject": _l("Refused"),
                 "return": _l("Returned for changes")}


class Invalid(Exception):
    """Values that cannot be saved: {field: message} ("" for the whole form) and, for inline rows,
    {(child name, row index, field): message}. Nothing was saved."""

    def __init__(self, errors: dict, rows: dict | None = None):
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors
        self.rows = rows or {}


class AlreadySaved(Exception):
    """The same form was submitted before: the record it created (nothing is saved twice)."""

    def __init__(self, record_id: int):
        super().__init__(record_id)
        self.record_id = record_id


# ---------------------------------------------------------------- parts every operation shares

def compute(rtype: RecordType, record, user, values: dict | None = None) -> None:
    """Evaluate the computed fields, each after those it depends on."""
    fields = rtype.computed_fields
    if fields:
        ctx = rtype.ctx(record, user, values=values)
        for f in fields:
            setattr(record, f.name, f.compute(ctx))


def _assign(rtype: RecordType, record, values: dict, options_too: bool = False) -> None:
    """Set the submitted values; computed fields, and the form's options (buttons, ticks), are not set."""
    skip = {f.name for f in rtype.computed_fields} | (set() if options_too else set(rtype.options))
    for name, value in values.items():
        if name not in skip:
            setattr(record, name, value)


def sync_children(rtype: RecordType, record, rows: dict[str, list[dict]], user) -> dict:
    """Replace the record's inline rows by the submitted ones (blank rows skipped; "row_id" keeps a row),
    auditing the change of a saved record as one entry per child. Returns the row errors (nothing set)."""
    errors, kept_by_child = {}, {}
    for child in rtype.children:
        if child.name not in rows:
            continue
        existing = {row.id: row for row in getattr(record, child.name)}
        kept = []
        for index, submitted in enumerate(rows[child.name]):
            values = {f.name: submitted.get(f.name) for f in child.fields}
            if all(v in (None, "", 0, False) for v in values.values()):
                continue
            for f in child.fields:
                if f.required and values[f.name] in (None, ""):
                    errors[(child.name, index, f.name)] = _("This field is required.")
            row = existing.get(submitted.get("row_id")) or child.model()
            for name, value in values.items():
                setattr(row, name, value)
            if hasattr(row, "seq"):
                row.seq = len(kept) + 1
            kept.append(row)
        if len(kept) < child.min_rows:
            errors[(child.name, None, None)] = _("Add at least %(n)s rows.", n=child.min_rows)
        kept_by_child[child.name] = (child, kept)
    if errors:
        return errors
    for child, kept in kept_by_child.values():
        before = children_text(child, getattr(record, child.name))
        setattr(record, child.name, kept)
        after = children_text(child, kept)
        if record.id is not None and before != after:
            db.session.add(AuditEntry(center_id=record.center_id, record_table=record.__table__.name,
                                      record_id=record.id, user_id=getattr(user, "id", None), action="edit",
                                      field=child.name, before=before, after=after))
    return {}


def children_text(child: Child, rows) -> str:
    return "；".join("，".join(f.display(r) for f in child.fields if f.display(r)) for r in rows)


def _fill(rtype: RecordType, record, user, values: dict, children: dict | None) -> None:
    """Set values and rows, compute, validate, then the type's before_save; Invalid leaves the session clean
    of the record's changes to the caller (who rolls back or expunges)."""
    with db.session.no_autoflush:
        _assign(rtype, record, values)
        row_errors = sync_children(rtype, record, children, user) if children is not None else {}
        compute(rtype, record, user, values)
        ctx = rtype.ctx(record, user, values=values)
        try:
            errors = {k: str(v) for k, v in (rtype.validate(ctx) or {}).items()} if rtype.validate else {}
        except Refused as refused:
            errors = {refused.field or "": refused.message}
    if errors or row_errors:
        raise Invalid(errors, row_errors)
    if rtype.before_save is not None:
        rtype.before_save(ctx)


# ---------------------------------------------------------------- the operations

def create(rtype: RecordType, user, values: dict, *, center_id: int, children: dict | None = None,
           parent=None, token: str | None = None):
    """A new record in its initial state. With a form token, the same form sent twice (a double click,
    Back then Save) never makes a second record: AlreadySaved names the first."""
    done = submitted_before(rtype, token)
    if done is not None:
        raise AlreadySaved(done.record_id)
    record = rtype.model(center_id=center_id)
    if parent is not None:
        setattr(record, rtype.parent[0], parent.id)
    if rtype.workflow is not None:
        record.state = rtype.workflow.initial
    try:
        _fill(rtype, record, user, values, children)
    except Invalid:
        if record in db.session:
            db.session.expunge(record)
        raise
    db.session.add(record)
    db.session.flush()
    token = token or secrets.token_hex(16)
    try:
        with db.session.begin_nested():
            db.session.add(SubmissionToken(token=token, record_table=record.__table__.name, record_id=record.id))
    except IntegrityError:   # the same form, saved by a concurrent request a moment ago
        db.session.rollback()
        done = submitted_before(rtype, token)
        if done is None:
            raise
        raise AlreadySaved(done.record_id) from None
    if rtype.after_create is not None:
        rtype.after_create(rtype.ctx(record, user, values=values))
    return record


def submitted_before(rtype: RecordType, token: str | None) -> SubmissionToken | None:
    """The record a form token already made (of this type only)."""
    done = db.session.get(SubmissionToken, token) if token else None
    if done is None or not done.record_id or done.record_table != rtype.model.__table__.name:
        return None
    return done


def update(rtype: RecordType, record, user, values: dict, children: dict | None = None):
    """Change a record's fields (and rows). Refused: not editable now by this user; Invalid: bad values.
    A stale version raises StaleDataError at the flush."""
    from app.records.workflow import edit_refusal, not_in_this_state
    if record.voided:
        raise Refused(_("This record is void."))
    if not rtype.anyone_may("edit", getattr(record, "state", None)):
        raise Refused(not_in_this_state(rtype, record))
    reason = edit_refusal(rtype, record, user)
    if reason:
        raise Refused(reason)
    _fill(rtype, record, user, values, children)
    db.session.flush()
    return record


def transition(rtype: RecordType, record, name: str, user, values: dict | None = None, comment: str = ""):
    """Check, change, compute, log. Values are the step's own fields."""
    step = rtype.workflow.transition(name) if rtype.workflow else None
    if step is None:
        raise Refused(_("Unknown step."))
    reason = refusal(rtype, record, step, user)
    if reason:
        raise Refused(reason)
    values = values or {}
    for field in step.requires:
        if values.get(field) in (None, "") and getattr(record, field, None) in (None, ""):
            raise Refused(_("This field is required."), field=field)
    if step.comment_required and not comment.strip():
        raise Refused(_("Please give a reason."), field="comment")
    _assign(rtype, record, {f: values[f] for f in step.fields if f in values}, options_too=True)
    record.state = step.target
    # Always a real UPDATE, even for a step that only adds a note: the version check applies and
    # the audit trail logs the step.
    flag_modified(record, "updated_at")
    audit.note(record, "transition", comment or str(step.title))
    ctx = rtype.ctx(record, user, values=values, comment=comment)
    if step.on_apply is not None:
        step.on_apply(ctx)
    compute(rtype, record, user, values)
    if step.opinion:
        from app import access
        roles = access.roles_in(user, record.center_id) & step.roles
        db.session.add(RecordOpinion(center_id=record.center_id, record_table=record.__table__.name,
                                     record_id=record.id, step=step.name, role=min(roles) if roles else "",
                                     kind=step.opinion, user_id=user.id, text=comment.strip()))
    db.session.flush()  # a stale version raises StaleDataError here, inside the caller's unit of work
    return record


def bulk_transition(rtype: RecordType, records, name: str, user, values: dict | None = None,
                    comment: str = "") -> dict[int, str]:
    """The same step on many records, each checked and audited as if taken alone; returns the refusals
    by record id (the others are done)."""
    refused = {}
    for record in records:
        try:
            with db.session.begin_nested():
                transition(rtype, record, name, user, values, comment)
        except Refused as exc:
            refused[record.id] = exc.message
    return refused


def void(rtype: RecordType, record, user, reason: str):
    """Void with a reason: the record stays on file, out of the lists."""
    from app.timeutil import now
    if record.voided:
        raise Refused(_("This record is void."))
    if not rtype.may("void", user, record):
        raise Refused(_("You may not do this."))
    if not reason.strip():
        raise Refused(_("Please give a reason."), field="reason")
    record.voided = True
    record.void_reason = reason.strip()
    record.voided_at = now()
    audit.note(record, "void", record.void_reason)
    db.session.flush()
    return record


def opinions(record) -> list[RecordOpinion]:
    """The opinions and decisions given on a record, oldest first (for its page and its paper form)."""
    from sqlalchemy import select
    return db.session.scalars(select(RecordOpinion).where(
        RecordOpinion.record_table == record.__table__.name, RecordOpinion.record_id == record.id)
        .order_by(RecordOpinion.id)).all()
