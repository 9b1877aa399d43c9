"""Leave reminders: approvers told of slips waiting for them; B holders told the working day before they
cover an A post [000 AB岗 §3]. Each event is told once (notification keys)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from app.extensions import db


def slips_waiting(at: datetime) -> str:
    """Each slip awaiting a role is told to the centre's holders of that role, once per slip and step."""
    from app.leave import LEAVE_SLIPS
    from app.notifications import notify_role
    from app.records.registry import Chain
    from models.staff import PENDING_STATES, LeaveSlip
    sent = 0
    slips = db.session.scalars(select(LeaveSlip).where(LeaveSlip.state.in_(PENDING_STATES),
                                                       LeaveSlip.voided.is_(False))).all()
    chain = LEAVE_SLIPS.workflow.chains[0]
    for slip in slips:
        role = next(r for r in chain.roles() if Chain.state_of(r) == slip.state)
        sent += notify_role(slip.center_id, role, "请假条待审批",
                            key=f"leave-waiting:{slip.id}:{slip.state}",
                            body=f"{slip.staff.name if slip.staff else ''} {slip.start_on:%m-%d}至{slip.end_on:%m-%d}"
                                 f"，{slip.days}个工作日", link=f"/r/leave-slips/{slip.id}")
    db.session.commit()
    return f"{len(slips)} slips waiting, {sent} notifications"


def cover_reminders(at: datetime) -> str:
    """The working day before a cover starts, remind the person who covers (B or the named substitute)."""
    from app.notifications import notify
    from app.timeutil import cn_date
    from app.workdays import add_working_days
    from models.staff import PostCover
    tomorrow = add_working_days(at.date(), 1)
    covers = db.session.scalars(select(PostCover).where(PostCover.start_on > at.date(),
                                                        PostCover.start_on <= tomorrow,
                                                        PostCover.cover_id.is_not(None))).all()
    sent = sum(notify(c.cover_id, f"明天顶岗：{c.post.name}", key=f"cover-tomorrow:{c.id}",
                      body=f"{c.absent.name}请假，{cn_date(c.start_on)}至{cn_date(c.end_on)}由你顶岗，"
                           "请与A岗做好工作衔接。", link="/staff/on-duty", center_id=c.center_id)
               for c in covers)
    db.session.commit()
    return f"{len(covers)} covers start next working day, {sent} reminders"
