"""Complaint deadlines: late acceptance decisions, overdue feedback and the warning the day before —
set-based and audited (app.complaints), then each event told once to the handler and the director."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from app.extensions import db
from models.core import DIRECTOR


def _tell(rows, title: str, event: str) -> int:
    from app.notifications import tell_flagged
    from models.complaint import Complaint
    if not rows:
        return 0
    # The number and the problem only: a confidential complainant is never named in a notification.
    names = dict(db.session.execute(select(Complaint.id, Complaint.number + " " + Complaint.matter)
                                    .where(Complaint.id.in_({r[0] for r in rows}))).all())
    return tell_flagged(rows, title, key=f"complaint-{event}:{{}}", link="/r/complaints/{}", names=names,
                        role=DIRECTOR)


def complaint_deadlines(at: datetime) -> str:
    """Flag complaints without an acceptance decision after 3 working days, and overdue feedback."""
    from app.complaints import sweep_decisions, sweep_overdue
    on = at.date()
    late, overdue = sweep_decisions(on), sweep_overdue(on)
    db.session.commit()
    sent = (_tell(late, "投诉超过3个工作日未作出受理决定", "decision_late")
            + _tell(overdue, "投诉办理已超过反馈期限", "overdue"))
    db.session.commit()
    return f"{len(late)} decisions late, {len(overdue)} overdue, {sent} notifications"


def complaint_warnings(at: datetime) -> str:
    """Warn one working day before a complaint's feedback is due (a reminder: working hours only)."""
    from app.complaints import sweep_warnings
    on = at.date()
    warned = sweep_warnings(on)
    db.session.commit()
    sent = _tell(warned, "投诉将于下一个工作日到反馈期限，请抓紧办理", f"warning:{on.isoformat()}")
    db.session.commit()
    return f"{len(warned)} warned, {sent} notifications"
