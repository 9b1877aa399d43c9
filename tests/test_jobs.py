"""Scheduled jobs: idempotent, reminders only in working hours, each job registered once."""
from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import func, select

from jobs import JOBS
from jobs.runner import in_working_hours, run_job
from models.catalogue import Post
from models.notification import JobRun, Notification
from tests.conftest import make_user

MONDAY_10 = datetime(2026, 11, 23, 10, 0)


pytestmark = pytest.mark.usefixtures("calendar_2026")


@pytest.fixture
def empty_post(county, db):
    gone = make_user(county["a"], "clerk", username="gone")
    gone.active = False
    post = Post(center_id=county["a"].id, name="民政救助窗口受理岗", a_holder_id=gone.id)
    db.session.add(post)
    db.session.add(Post(center_id=county["a"].id, name="有人岗", a_holder_id=county["users"]["a_clerk"].id))
    db.session.commit()
    return post


def notes(db):
    return db.session.scalar(select(func.count(Notification.id)))


def test_job_run_twice_changes_nothing_the_second_time(db, empty_post):
    assert run_job("empty_posts", MONDAY_10) == "1 empty posts, 1 notifications"
    assert run_job("empty_posts", MONDAY_10) == "1 empty posts, 0 notifications"
    assert notes(db) == 1
    assert db.session.scalar(select(func.count(JobRun.id)).where(JobRun.ok.is_(True))) == 2


def test_empty_post_notifies_the_directors_of_its_centre_only(db, empty_post, county):
    run_job("empty_posts", MONDAY_10)
    note = db.session.scalar(select(Notification))
    assert note.user_id == county["users"]["a_director"].id and note.link == f"/r/posts/{empty_post.id}"


@pytest.mark.parametrize("moment, expected", [
    (datetime(2026, 11, 28, 10, 0), False),   # plain Saturday
    (datetime(2026, 11, 23, 20, 0), False),   # Monday evening
    (datetime(2026, 11, 23, 12, 30), False),  # lunch break
    (datetime(2026, 10, 2, 10, 0), False),    # National Day holiday, a Friday
    (datetime(2026, 9, 20, 10, 0), True),     # make-up working Sunday
    (datetime(2026, 11, 23, 8, 30), True),
])
def test_reminders_are_sent_only_in_working_hours_on_working_days(app, moment, expected):
    assert in_working_hours(moment) is expected


def test_reminder_job_outside_working_hours_does_nothing(db, empty_post):
    assert run_job("empty_posts", datetime(2026, 10, 2, 10, 0)) == "outside working hours"
    assert notes(db) == 0


def test_jobs_run_command_runs_one_job_and_refuses_unknown_names(runner, empty_post):
    result = runner.invoke(args=["jobs", "run", "purge_notifications"])
    assert result.exit_code == 0 and "deleted" in result.output
    assert runner.invoke(args=["jobs", "run", "no_such_job"]).exit_code != 0


def test_scheduler_registers_every_job_once(app):
    from jobs.scheduler import build_scheduler
    scheduler = build_scheduler(app, jobstore_url="sqlite://")
    assert sorted(j.id for j in scheduler.get_jobs()) == sorted(j.name for j in JOBS)
    assert len({j.name for j in JOBS}) == len(JOBS)


def test_every_registered_job_function_exists():
    from jobs.runner import resolve
    assert all(callable(resolve(j.func)) for j in JOBS)
