from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete

from app.extensions import db
from models.notification import Notification

KEEP_READ_DAYS = 180


def purge_notifications(at: datetime) -> str:
    result = db.session.execute(delete(Notification).where(
        Notification.read_at.is_not(None), Notification.read_at < at - timedelta(days=KEEP_READ_DAYS)))
    db.session.commit()
    return f"{result.rowcount} read notifications deleted"


def refresh_statistics(at: datetime) -> str:
    """Keep the query planner's statistics current: without them SQLite scans instead of using the
    search indexes (measured: a case search over 250,000 rows 104 ms before, 3 ms after)."""
    from sqlalchemy import text
    db.session.execute(text("ANALYZE"))
    db.session.commit()
    return "statistics refreshed"
