"""Build a valid sample record of any declared type, for tests that walk every type."""
from __future__ import annotations

from datetime import date, datetime

from app.extensions import db
from app.records.registry import REGISTRY, RecordType, for_model

# Types whose model needs more than its declared fields (filled in by their modules' tests).
SAMPLE_BUILDERS: dict = {}


def sample_value(f, center):
    """A valid value of the field's kind (a reference: a new sample record of its type)."""
    return f.k.sample(f, center, sample_record)


def sample_record(rtype: RecordType, center):
    if rtype.sample is not None:  # the type's own builder
        return rtype.sample(center)
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
