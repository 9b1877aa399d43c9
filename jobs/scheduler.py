"""The scheduler process: one BlockingScheduler, its jobs kept in the app's database.

A job missed while the office PC was off runs once at the next start: the stored (past) run time
is kept when the registry is re-applied, and coalesce plus a day's grace turn the misses into one run.
"""
from __future__ import annotations

from datetime import datetime

from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.blocking import BlockingScheduler

from jobs import JOBS

TIMEZONE = "Asia/Shanghai"
_app = None  # the process's app, made once


def process_app():
    global _app
    if _app is None:
        from app import create_app
        _app = create_app()
    return _app


def execute(name: str) -> None:
    """What APScheduler calls (by reference, so the job store can keep it): one job in the process's app."""
    from jobs.runner import run_job
    run_job(name, app=process_app())


def reconcile_store(store: SQLAlchemyJobStore, scheduler) -> dict[str, datetime]:
    """Drop stored jobs no longer in the registry; return the run times that passed while no scheduler
    ran (those jobs are due now)."""
    store.start(scheduler, "default")  # creates the table if needed; the scheduler's start repeats it harmlessly
    registered = {spec.name for spec in JOBS}
    current = datetime.now(scheduler.timezone)
    missed = {}
    for stored in store.get_all_jobs():
        if stored.id not in registered:
            store.remove_job(stored.id)
        elif stored.next_run_time and stored.next_run_time <= current:
            missed[stored.id] = stored.next_run_time
    return missed


def build_scheduler(app, jobstore_url: str | None = None) -> BlockingScheduler:
    global _app
    _app = app
    if jobstore_url:
        store = SQLAlchemyJobStore(url=jobstore_url, tablename="apscheduler_jobs")
    else:  # the app's own engine: same database, same SQLite settings (WAL, busy timeout)
        from app.extensions import db
        with app.app_context():
            store = SQLAlchemyJobStore(engine=db.engine, tablename="apscheduler_jobs")
    scheduler = BlockingScheduler(
        jobstores={"default": store},
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 24 * 3600},
        timezone=TIMEZONE)
    missed = reconcile_store(store, scheduler)
    for spec in JOBS:
        keep = {"next_run_time": missed[spec.name]} if spec.name in missed else {}
        scheduler.add_job("jobs.scheduler:execute", "cron", args=[spec.name], id=spec.name, name=spec.description,
                          replace_existing=True, **spec.cron, **keep)
    return scheduler
