"""Attendance reminders: at 10:00 on a working day, the director of each centre that takes attendance by
manual sign-in hears who has neither an attendance record nor approved leave today [000 考勤 §1; SPEC §4.8].

A centre whose attendance comes from a machine export is skipped: its records arrive with the export, later.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from app.extensions import db
from models.core import DIRECTOR


def missing_today(center_id: int, day) -> list:
    """The centre's staff without a record on `day` and without approved leave touching it."""
    from app.attendance import approved_leave, centre_staff
    from models.attendance import AttendanceDay
    staff = centre_staff(center_id)
    have = set(db.session.scalars(select(AttendanceDay.staff_id).where(
        AttendanceDay.day == day, AttendanceDay.staff_id.in_([u.id for u in staff]),
        AttendanceDay.voided.is_(False))))
    on_leave = approved_leave([u.id for u in staff], day, day)
    return [u for u in staff if u.id not in have and u.id not in on_leave]


def no_attendance_by_ten(at: datetime) -> str:
    from app.attendance import schedule_for
    from app.notifications import notify_role
    from app.workdays import is_working_day
    from models.core import Center
    day = at.date()
    if not is_working_day(day):
        return "not a working day"
    centres = sent = 0
    for center_id in db.session.scalars(select(Center.id).where(Center.active.is_(True)).order_by(Center.id)):
        if schedule_for(center_id).sign_in == "machine":
            continue
        missing = missing_today(center_id, day)
        if not missing:
            continue
        centres += 1
        names = "、".join(u.name or u.username for u in missing)
        sent += notify_role(center_id, DIRECTOR, f"{day:%m月%d日} 10时仍无考勤记录：{len(missing)}人",
                            key=f"attendance-missing:{center_id}:{day.isoformat()}",
                            body=f"未签到且无批准的请假：{names}",
                            link=f"/attendance/day?day={day.isoformat()}")
    db.session.commit()
    return f"{centres} centres with people missing, {sent} notifications"
