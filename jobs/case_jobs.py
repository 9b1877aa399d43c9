"""Case deadlines: overdue flags, early warnings, late handovers — set-based, then notify the newly flagged.

Each event is told once to the case's first-responsible clerk and to the centre's director: the
notification key names the event, so a second run (or a second process) tells nobody again.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from app.extensions import db
from models.core import DIRECTOR


def _tell(rows, title: str, event: str) -> int:
    from app.notifications import tell_flagged
    from models.case import ServiceCase
    if not rows:
        return 0
    names = dict(db.session.execute(select(ServiceCase.id, ServiceCase.receipt_no + " " + ServiceCase.applicant_name)
                                    .where(ServiceCase.id.in_({r[0] for r in rows}))).all())
    return tell_flagged(rows, title, key=f"{event}:{{}}", link="/r/cases/{}", names=names, role=DIRECTOR)


def case_deadlines(at: datetime) -> str:
    """Flag overdue cases, cases not handed over and late department legs (any time: flags are facts)."""
    from app.cases import sweep_department_legs, sweep_handovers, sweep_overdue
    on = at.date()
    overdue, handovers, legs = sweep_overdue(on), sweep_handovers(on), sweep_department_legs(on)
    db.session.commit()
    sent = (_tell(overdue, "办件已超期", "overdue")
            + _tell(handovers, "办件未在次一个工作日内移交职能部门", "not_handed_over")
            + _tell(legs, "职能部门办理超过承诺时限", "department_late"))
    db.session.commit()
    return f"{len(overdue)} overdue, {len(handovers)} not handed over, {len(legs)} late department legs, {sent} notifications"


def case_warnings(at: datetime) -> str:
    """Early warning one working day before the promise (a reminder: working hours only). A promise
    moved by an extension or by the applicant is warned of again, before its new date."""
    from app.cases import sweep_warnings
    on = at.date()
    warned = sweep_warnings(on)
    db.session.commit()
    sent = _tell(warned, "办件将于下一个工作日到期，请抓紧办理", f"warning:{on.isoformat()}")
    db.session.commit()
    return f"{len(warned)} warned, {sent} notifications"
