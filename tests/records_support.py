"""Build a valid sample record of any declared type, for tests that walk every type."""
from __future__ import annotations

from datetime import date, datetime

from app.extensions import db
from app.records.registry import REGISTRY, RecordType, for_model

# Types whose model needs more than its declared fields (filled in by their modules' tests).
SAMPLE_BUILDERS: dict = {}


def sample_value(f, center):
    if f.kind in ("str", "text"):
        return "测试" if not f.max_length or f.max_length >= 2 else "x"
    if f.kind == "phone":
        return "13800000000"
    if f.kind == "idno":
        return "11010519491231002X"
    if f.kind in ("int", "decimal"):
        return max(f.min or 0, 1) if f.max is None or f.max >= 1 else f.max
    if f.kind == "date":
        return date(2026, 11, 23)
    if f.kind == "datetime":
        return datetime(2026, 11, 23, 9, 0)
    if f.kind == "bool":
        return False
    if f.kind == "choice":
        return f.choices[0][0]
    if f.kind == "ref":
        target = for_model(f.ref)
        return sample_record(target, center).id if target else None
    if f.kind == "user":
        return None
    raise ValueError(f.kind)


def sample_record(rtype: RecordType, center):
    if rtype.key in SAMPLE_BUILDERS:
        return SAMPLE_BUILDERS[rtype.key](center)
    record = rtype.model(center_id=center.id)
    if rtype.workflow:
        record.state = rtype.workflow.initial
    for f in rtype.fields:
        if f.required or f.kind in ("int",):
            value = sample_value(f, center)
            if value is not None:
                setattr(record, f.name, value)
    db.session.add(record)
    db.session.flush()
    return record


def all_types() -> list[RecordType]:
    return list(REGISTRY.values())


def _case(center, state="registered"):
    from tests.conftest import make_case
    return make_case(center, state=state, due_date=date(2026, 12, 1) if state == "accepted" else None)


def _extension(center):
    from models.case import CaseExtension
    ext = CaseExtension(center_id=center.id, case_id=_case(center, 'accepted').id, requested_on=date(2026, 11, 23),
                        reason="需实地核查", new_due=date(2026, 12, 8), state="requested")
    db.session.add(ext)
    db.session.flush()
    return ext


def _handover(center):
    from models.case import CaseHandover
    from tests.conftest import make_department
    leg = CaseHandover(center_id=center.id, case_id=_case(center, 'accepted').id, department_id=make_department(center).id,
                       handed_on=date(2026, 11, 23), state="handed")
    db.session.add(leg)
    db.session.flush()
    return leg


SAMPLE_BUILDERS.update({"cases": _case, "case-extensions": _extension, "case-handovers": _handover})
