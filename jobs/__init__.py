"""Every scheduled job: the union of the features' jobs (app/features.py), in feature order. Adding a job
is one entry in its feature's `jobs`.

Jobs run in their own process (`flask --app wsgi jobs`), never in web workers, so each runs once
however many web workers serve. Each job is a plain function `(at: datetime) -> str` that flags
idempotently (a second run changes nothing) and commits per item; `flask --app wsgi jobs run NAME`
runs one now.
"""
from __future__ import annotations

from app.features import Job, jobs as _feature_jobs

__all__ = ["JOBS", "Job", "job"]

JOBS: list[Job] = _feature_jobs()


def job(name: str) -> Job | None:
    return next((j for j in JOBS if j.name == name), None)
