"""Case deadlines: overdue flags, early warnings, late handovers — set-based, then notify the newly flagged."""
from __future__ import annotations

from datetime import datetime

from app.extensions import db
from models.core import DIRECTOR


def _tell(rows, title: str, kind: str) -> int:
    from app.notifications import notify, notify_role
    sent = 0
    for case_id, center_id, responsible_id in rows:
        link = f"/r/cases/{case_id}"
        if responsible_id:
            sent += notify(responsible_id, title, key=f"{kind}:{case_id}", link=link, center_id=center_id)
        sent += notify_role(center_id, DIRECTOR, title, key=f"{kind}:{case_id}", link=link)
    return sent


def case_deadlines(at: datetime) -> str:
    """Flag overdue cases and late handover legs (any time: flags are facts, not reminders)."""
    from app.cases import sweep_handovers, sweep_overdue
    overdue = sweep_overdue(at.date())
    handovers = sweep_handovers(at.date())
    db.session.commit()
    sent = _tell(overdue, "办件已超期", "overdue") + _tell(handovers, "办件移交或部门办理超时", "handover_late")
    db.session.commit()
    return f"{len(overdue)} overdue, {len(handovers)} late handovers, {sent} notifications"


def case_warnings(at: datetime) -> str:
    """Early warning one working day before the promise (a reminder: working hours only)."""
    from app.cases import sweep_warnings
    warned = sweep_warnings(at.date())
    db.session.commit()
    sent = _tell(warned, "办件明日到期，请抓紧办理", "warning")
    db.session.commit()
    return f"{len(warned)} warned, {sent} notifications"
