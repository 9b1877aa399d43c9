"""Run one job now, in an app context, with a JobRun record."""
from __future__ import annotations

import importlib
from datetime import datetime

from flask import current_app

from app.extensions import db
from app.timeutil import now
from jobs import job as find_job

DEFAULT_WORK_HOURS = (((8, 30), (12, 0)), ((14, 0), (17, 30)))
OUTSIDE_HOURS = "outside working hours"


def in_working_hours(moment: datetime, hours=None) -> bool:
    """A working day (holidays and make-up days honoured) and inside the office hours (local time)."""
    from app.workdays import is_working_day
    if not is_working_day(moment.date()):
        return False
    minutes = moment.hour * 60 + moment.minute
    spans = hours or current_app.config.get("WORK_HOURS", DEFAULT_WORK_HOURS)
    return any(h1 * 60 + m1 <= minutes < h2 * 60 + m2 for (h1, m1), (h2, m2) in spans)


def resolve(func: str):
    module, _sep, name = func.partition(":")
    return getattr(importlib.import_module(module), name)


def run_job(name: str, app=None, at: datetime | None = None) -> str:
    """Run a registered job and return its summary: in `app`'s context if given, else the current one.

    `at` is the moment the job acts for (default: now, local time). Reminder jobs do nothing outside
    working hours; the skip is recorded too, so `jobs list` shows the scheduler is alive.
    """
    if isinstance(app, datetime):
        raise TypeError("run_job(name, app=None, at=None): pass the moment as at=")
    if app is not None:
        with app.app_context():
            return run_job(name, at=at)
    from models.notification import JobRun

    spec = find_job(name)
    if spec is None:
        raise KeyError(name)
    at = at or now()
    run = JobRun(name=name, started_at=now())
    try:
        if spec.reminder and not in_working_hours(at):
            summary = OUTSIDE_HOURS
        else:
            summary = resolve(spec.func)(at)
        run.ok = True
    except Exception as exc:  # record the failure, then let the caller (scheduler or CLI) report it
        db.session.rollback()
        run.summary, run.finished_at = f"failed: {exc!r}"[:2000], now()
        db.session.add(run)
        db.session.commit()
        raise
    run.summary, run.finished_at = summary, now()
    db.session.add(run)
    db.session.commit()
    return summary
