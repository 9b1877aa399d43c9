"""The audit trail: every insert, change and state move of a record is written on flush.

Listening to the session (not the views) means jobs, CLI commands and views are all covered.
A transition, a void or a system change names itself with `note(record, action, comment)` before the flush.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from flask import has_request_context
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import event, insert, inspect
from sqlalchemy.orm import Session

from app.extensions import db
from app.timeutil import now
from models.core import AuditEntry
from models.record import RecordMixin

SKIP = {"id", "version", "created_at", "updated_at", "created_by_id", "center_id"}


def _actor_id() -> int | None:
    if has_request_context() and getattr(current_user, "is_authenticated", False):
        return current_user.id
    return None


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, (date, datetime)):
        return value.isoformat(sep=" ") if isinstance(value, datetime) else value.isoformat()
    if isinstance(value, Decimal):
        return format(value, "f")
    return str(value)


def note(record, action: str, comment: str = "") -> None:
    """What the next flush of this record is (a "transition", a "void", or an "edit" with a reason): its
    audit rows carry the action and the comment."""
    db.session.info.setdefault("audit_notes", {})[id(record)] = (action, comment)


def _entries_for(obj, actor: int | None, at: datetime, noted: tuple) -> list[AuditEntry]:
    state = inspect(obj)
    table = obj.__table__.name
    action, comment = noted
    entries = []
    for attr in state.mapper.column_attrs:
        key = attr.key
        if key in SKIP:
            continue
        hist = state.attrs[key].history
        if not hist.has_changes():
            continue
        before = _text(hist.deleted[0]) if hist.deleted else ""
        after = _text(hist.added[0]) if hist.added else ""
        if before == after:
            continue
        kind = action if (key == "state" and action == "transition") or (key == "voided" and action == "void") \
            else "edit"
        entries.append(AuditEntry(center_id=obj.center_id, record_table=table, record_id=obj.id,
                                  user_id=actor, at=at, action=kind, field=key, before=before,
                                  after=after, comment=comment if kind == action else ""))
    if action == "transition" and not any(e.field == "state" for e in entries):
        # A step that keeps the state (e.g. a note or reminder) is still logged.
        entries.append(AuditEntry(center_id=obj.center_id, record_table=table, record_id=obj.id,
                                  user_id=actor, at=at, action="transition", field="state",
                                  before=obj.state, after=obj.state, comment=comment))
    return entries


def _before_flush(session: Session, _ctx, _instances):
    actor, at = _actor_id(), now()
    notes = session.info.get("audit_notes", {})
    for obj in session.dirty:
        if isinstance(obj, RecordMixin) and session.is_modified(obj, include_collections=False):
            session.add_all(_entries_for(obj, actor, at, notes.pop(id(obj), (None, ""))))
    notes.clear()  # a note is for the flush that follows it, never for a later object at the same address
    for obj in session.new:
        if isinstance(obj, RecordMixin) and obj.created_by_id is None and actor is not None:
            obj.created_by_id = actor


def _after_flush(session: Session, _ctx):
    # New records get their id only at flush: log their creation afterwards.
    actor, at = _actor_id(), now()
    rows = [dict(center_id=obj.center_id, record_table=obj.__table__.name, record_id=obj.id,
                 user_id=actor, at=at, action="create", field="state" if obj.state else "",
                 before="", after=obj.state or "", comment="")
            for obj in session.new if isinstance(obj, RecordMixin)]
    if rows:
        session.connection().execute(insert(AuditEntry.__table__), rows)


_installed = False


def install() -> None:
    global _installed
    if not _installed:
        event.listen(Session, "before_flush", _before_flush)
        event.listen(Session, "after_flush", _after_flush)
        _installed = True


def trail(record) -> list[AuditEntry]:
    from sqlalchemy import select
    return db.session.scalars(select(AuditEntry).where(
        AuditEntry.record_table == record.__table__.name, AuditEntry.record_id == record.id)
        .order_by(AuditEntry.id)).all()


# ---------------------------------------------------------------- the trail as the screen shows it

# Columns a record keeps without declaring them as fields (the engine's, or set by a workflow step):
# their names on screen. Declared fields are named by their declaration.
COLUMN_LABELS = {
    "state": _l("State"),
    "voided": _l("Void"),
    "void_reason": _l("Reason for voiding"),
    "voided_at": _l("Voided on"),
    "day_one": _l("Day 1"),
    "provisional": _l("Holiday schedule not confirmed"),
    "missing_materials": _l("Missing materials"),
    "promised_days": _l("Promised limit (working days)"),
    "overdue_reason": _l("Why overdue"),
    "rating_status": _l("Rating"),
}


@dataclass
class TrailRow:
    entry: AuditEntry
    what: str
    before: str
    after: str


def _column_field(rtype, name: str):
    """The declared field, else a field made from the model column (its kind gives the format)."""
    from app.records.registry import Field, infer_kinds

    declared = rtype.field(name)
    if declared is not None:
        return declared
    if name not in rtype.model.__table__.c:
        return None
    choices = None
    if name == "overdue_reason":
        try:
            from app.cases import OVERDUE_REASONS
            choices = tuple(OVERDUE_REASONS.items())
        except ImportError:  # pragma: no cover - the cases module is always there
            choices = None
    made = Field(name, COLUMN_LABELS.get(name, name), choices=choices)
    infer_kinds(rtype.model, [made])
    return made


def _shown(f, text: str, unmask: bool) -> str:
    """A stored value (the text written on flush) as the record's page shows it."""
    if text == "" or f is None:
        return text
    return f.k.shown(f, text, unmask)


def described(rtype, record, unmask: bool = False) -> list[TrailRow]:
    """The record's trail with field labels and values as the screen shows them (是/否, choice titles,
    names of windows and people), never column names or raw codes."""
    wf = rtype.workflow
    rows = []
    for e in trail(record):
        if e.field == "state" and wf is not None:
            before, after = wf.state(e.before), wf.state(e.after)
            rows.append(TrailRow(e, "", str(before.title) if before else e.before,
                                 str(after.title) if after else e.after))
            continue
        child = next((c for c in rtype.children if c.name == e.field), None)
        if child is not None:
            rows.append(TrailRow(e, str(child.label), e.before, e.after))
            continue
        f = _column_field(rtype, e.field) if e.field else None
        label = str(f.label) if f is not None else str(COLUMN_LABELS.get(e.field, e.field))
        rows.append(TrailRow(e, label, _shown(f, e.before, unmask), _shown(f, e.after, unmask)))
    return rows


def bulk(table: str, rows, field: str, before: str, after, comment: str = "", action: str = "sweep",
         more: tuple = ()) -> None:
    """The trail of a set-based UPDATE (the jobs' sweeps), which no flush sees: one INSERT, in the same
    transaction, of one row per changed record and field. `rows` are (record id, centre id, ...) as the
    UPDATE's RETURNING gave them; `after` is the new text, or a function of the row; `more` adds
    further (field, before, after) changes of the same records. Written by the system (no user)."""
    if not rows:
        return
    at = now()
    entries = [dict(center_id=row[1], record_table=table, record_id=row[0], user_id=None, at=at, action=action,
                    field=name, before=old, after=new(row) if callable(new) else new, comment=comment)
               for name, old, new in ((field, before, after), *more) for row in rows]
    db.session.execute(insert(AuditEntry.__table__), entries)
