"""The scheduler process: one BlockingScheduler, jobs kept in the app's database.

A job missed while the office PC was off runs once at the next start (coalesce, a day's grace).
"""
from __future__ import annotations

from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.blocking import BlockingScheduler

from jobs import JOBS

_app = None  # the process's app, made once by the scheduler command


def execute(name: str) -> None:
    """Entry point APScheduler calls (by reference, so the job store can keep it)."""
    from jobs.runner import run_job
    with _app.app_context():
        run_job(name)


def build_scheduler(app, jobstore_url: str | None = None) -> BlockingScheduler:
    global _app
    _app = app
    url = jobstore_url or app.config["SQLALCHEMY_DATABASE_URI"]
    scheduler = BlockingScheduler(
        jobstores={"default": SQLAlchemyJobStore(url=url, tablename="apscheduler_jobs")},
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 24 * 3600},
        timezone="Asia/Shanghai")
    for spec in JOBS:
        scheduler.add_job("jobs.scheduler:execute", "cron", args=[spec.name], id=spec.name, name=spec.description,
                          replace_existing=True, **spec.cron)
    return scheduler
