"""Run one job now, with its own app context and a JobRun record."""
from __future__ import annotations

import importlib
import logging
from datetime import datetime

from flask import current_app

from app.extensions import db
from app.timeutil import now
from jobs import job as find_job

log = logging.getLogger(__name__)
DEFAULT_WORK_HOURS = (((8, 30), (12, 0)), ((14, 0), (17, 30)))


def in_working_hours(moment: datetime, hours=None) -> bool:
    """A working day (holidays and make-up days honoured) and inside the office hours."""
    from app.workdays import is_working_day
    if not is_working_day(moment.date()):
        return False
    minutes = moment.hour * 60 + moment.minute
    spans = hours or current_app.config.get("WORK_HOURS", DEFAULT_WORK_HOURS)
    return any(h1 * 60 + m1 <= minutes < h2 * 60 + m2 for (h1, m1), (h2, m2) in spans)


def resolve(func: str):
    module, _sep, name = func.partition(":")
    return getattr(importlib.import_module(module), name)


def run_job(name: str, at: datetime | None = None) -> str:
    """Run a registered job in the current app context; returns its summary."""
    from models.notification import JobRun

    spec = find_job(name)
    if spec is None:
        raise KeyError(name)
    at = at or now()
    if spec.reminder and not in_working_hours(at):
        return "outside working hours"
    run = JobRun(name=name, started_at=now())
    try:
        summary = resolve(spec.func)(at)
        run.ok = True
    except Exception as exc:  # record the failure, then let the scheduler log it
        db.session.rollback()
        run.summary, run.finished_at = f"failed: {exc!r}", now()
        db.session.add(run)
        db.session.commit()
        raise
    run.summary, run.finished_at = summary, now()
    db.session.add(run)
    db.session.commit()
    return summary
