from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete

from app.extensions import db
from models.notification import Notification

KEEP_READ_DAYS = 180
AUDIT_MIN_KEEP_DAYS = 183  # GB/T 22239 level 2: audit records kept at least 6 months


def audit_keep_days(config) -> int | None:
    """The audit trail's retention in days: None (the default) keeps it forever; any setting below
    183 days (0 and negative numbers included) is raised to 183; a setting that is not a number keeps
    it forever."""
    setting = config.get("AUDIT_KEEP_DAYS")
    if setting is None or str(setting).strip() == "":
        return None
    try:
        return max(int(str(setting).strip()), AUDIT_MIN_KEEP_DAYS)
    except ValueError:
        return None


def purge_audit(at: datetime) -> int:
    """Delete audit entries older than the (clamped) retention; nothing when none is configured."""
    from flask import current_app

    from models.core import AuditEntry
    days = audit_keep_days(current_app.config)
    if days is None:
        return 0
    cutoff = at - timedelta(days=max(days, AUDIT_MIN_KEEP_DAYS))  # clamped twice: this line is the rule
    return db.session.execute(delete(AuditEntry).where(AuditEntry.at < cutoff)).rowcount


def purge_notifications(at: datetime) -> str:
    result = db.session.execute(delete(Notification).where(
        Notification.read_at.is_not(None), Notification.read_at < at - timedelta(days=KEEP_READ_DAYS)))
    audit = purge_audit(at)
    db.session.commit()
    return f"{result.rowcount} read notifications deleted" + (f", {audit} audit entries deleted" if audit else "")


def refresh_statistics(at: datetime) -> str:
    """Keep the query planner's statistics current: without them SQLite scans instead of using the
    search indexes (measured: a case search over 250,000 rows 104 ms before, 3 ms after)."""
    from sqlalchemy import text
    db.session.execute(text("ANALYZE"))
    db.session.commit()
    return "statistics refreshed"
