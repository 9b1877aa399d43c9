"""Accountability proposals, daily: every overdue service case and every verified complaint naming a staff
member gets one proposed record (never a decision), and the year's return recommendations are flagged;
the director of the centre is told of each new one, once."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from app.extensions import db
from models.core import CLERK, DIRECTOR


def _tell(records, title: str, link: str, key: str) -> int:
    from app.notifications import notify_role
    sent = 0
    for r in records:
        # The person's name and the violation only: the facts stay on the record page.
        body = f"{r.staff.name if r.staff else ''}：{r}"
        sent += notify_role(r.center_id, DIRECTOR, title, key=key.format(r.id), body=body, link=link.format(r.id))
    return sent


def accountability_proposals(at: datetime) -> str:
    """Propose from overdue cases and verified complaints; flag return recommendations for the year."""
    from app.accountability import flag_returns, propose_from_complaints, propose_from_overdue
    from models.core import RoleGrant
    on = at.date()
    overdue, complaints = propose_from_overdue(on), propose_from_complaints(on)
    db.session.commit()
    returns = []
    for center_id in db.session.scalars(select(RoleGrant.center_id).where(RoleGrant.role == CLERK).distinct()):
        returns += flag_returns(center_id, on.year, on)
    db.session.commit()
    sent = (_tell(overdue, "办件逾期，系统已提出责任追究建议，请审查", "/r/accountability/{}", "accountability-proposed:{}")
            + _tell(complaints, "投诉经查属实，系统已提出责任追究建议，请审查", "/r/accountability/{}",
                    "accountability-proposed:{}")
            + _tell(returns, "窗口工作人员符合退回条件，请确认是否建议退回", "/r/return-recommendations/{}",
                    "return-recommendation:{}"))
    db.session.commit()
    return (f"{len(overdue)} proposed from overdue cases, {len(complaints)} from complaints, "
            f"{len(returns)} return recommendations, {sent} notifications")
