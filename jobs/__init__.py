"""Every scheduled job, in one place. Adding a job is one entry here.

Jobs run in their own process (`flask --app wsgi jobs`), never in web workers, so each runs once
however many web workers serve. Each job is a plain function `(at: datetime) -> str` that flags
idempotently (a second run changes nothing) and commits per item; `flask --app wsgi jobs run NAME`
runs one now.
"""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Job:
    name: str
    func: str                      # "module:function"
    cron: dict = field(default_factory=dict)   # APScheduler cron trigger fields
    description: str = ""
    reminder: bool = False         # sends reminders: only on working days in working hours


JOBS: list[Job] = [
    Job("empty_posts", "jobs.catalogue_jobs:empty_posts", {"day_of_week": "*", "hour": 8, "minute": 40},
        "Tell directors about A/B posts with nobody to staff them (空岗)", reminder=True),
    Job("case_deadlines", "jobs.case_jobs:case_deadlines", {"hour": "0,8,13", "minute": 5},
        "Flag overdue cases and late handovers"),
    Job("case_warnings", "jobs.case_jobs:case_warnings", {"day_of_week": "*", "hour": 9, "minute": 0},
        "Warn of cases due on the next working day", reminder=True),
    Job("refresh_statistics", "jobs.housekeeping:refresh_statistics", {"hour": 2, "minute": 50},
        "Refresh the database's query-planner statistics"),
    Job("purge_notifications", "jobs.housekeeping:purge_notifications", {"hour": 2, "minute": 30},
        "Delete read notifications older than 180 days"),
    Job("backup", "jobs.backup_jobs:daily_backup", {"hour": 12, "minute": 15},
        "Back up the database to BACKUP_DIR (30 daily and 12 monthly kept)"),
]


def job(name: str) -> Job | None:
    return next((j for j in JOBS if j.name == name), None)
