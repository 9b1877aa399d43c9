"""Compensatory leave (补休) from extended-hours service [000 延时服务制度 第八条]: credit that lapses
within 10 working days is told to its holder once (the notification key dedupes re-runs)."""
from __future__ import annotations

from datetime import datetime

from app.extensions import db


def comp_leave_expiring(at: datetime) -> str:
    """Tell each person whose unused extended-hours credit lapses within 10 working days, once per day of lapse."""
    from app.extended_hours import expiring_credit_notices
    sent = expiring_credit_notices(at.date())
    db.session.commit()
    return f"{sent} notifications"
