"""Appointment jobs [000 预约服务制; SPEC §4.6]: no-shows after the slot ends, and the clerks' morning count."""
from __future__ import annotations

from datetime import datetime

from app.extensions import db


def no_shows(at: datetime) -> str:
    """Bookings nobody checked in by the end of their slot are marked as not attended."""
    from app.appointments import mark_no_shows
    marked = mark_no_shows(at)
    db.session.commit()
    return f"{marked} no-shows"


def morning_reminders(at: datetime) -> str:
    """At 8:00 on a working day, each window's clerks are told how many appointments they have today
    (once a day per person: the notification key holds the day)."""
    from app.appointments import remind_clerks
    from app.workdays import is_working_day
    if not is_working_day(at.date()):
        return "not a working day"
    sent = remind_clerks(at)
    db.session.commit()
    return f"{sent} notifications"
