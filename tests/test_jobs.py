"""Scheduled jobs: idempotent, reminders only in working hours, each job registered once, catch-up."""
from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from apscheduler.job import Job as ApsJob
from apscheduler.triggers.cron import CronTrigger
from sqlalchemy import func, select

import jobs
from jobs import JOBS, Job
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


def snapshot(db):
    return db.session.execute(select(Notification.user_id, Notification.key, Notification.title,
                                     Notification.read_at).order_by(Notification.id)).all()


def test_job_run_twice_changes_nothing_the_second_time(db, empty_post):
    assert run_job("empty_posts", at=MONDAY_10) == "1 empty posts, 1 notifications"
    before = snapshot(db)
    assert run_job("empty_posts", at=MONDAY_10) == "1 empty posts, 0 notifications"
    assert snapshot(db) == before and len(before) == 1
    assert db.session.scalar(select(func.count(JobRun.id)).where(JobRun.ok.is_(True))) == 2


def test_empty_post_reminder_comes_again_the_next_working_day(db, empty_post):
    run_job("empty_posts", at=MONDAY_10)
    run_job("empty_posts", at=MONDAY_10 + timedelta(days=1))
    assert notes(db) == 2


def test_empty_post_notifies_directors_only(db, county):
    a, users = county["a"], county["users"]
    second = make_user(a, "director", username="a_director2")
    retired = make_user(a, "director", username="a_director_retired")
    retired.active = False
    both_gone = make_user(a, "clerk", username="gone")
    both_gone.active = False
    empty = Post(center_id=a.id, name="A、B均离岗", a_holder_id=both_gone.id, b_holder_id=both_gone.id)
    covered = Post(center_id=a.id, name="B顶岗", a_holder_id=both_gone.id, b_holder_id=users["a_clerk"].id)
    voided = Post(center_id=a.id, name="已撤销岗", voided=True)
    db.session.add_all([empty, covered, voided])
    db.session.commit()

    assert run_job("empty_posts", at=MONDAY_10) == "1 empty posts, 2 notifications"
    rows = db.session.execute(select(Notification.user_id, Notification.link, Notification.center_id)).all()
    assert {r.user_id for r in rows} == {users["a_director"].id, second.id}
    assert {(r.link, r.center_id) for r in rows} == {(f"/r/posts/{empty.id}", a.id)}
    assert users["b_director"].id not in {r.user_id for r in rows}  # another centre's director


@pytest.mark.parametrize("moment, expected", [
    (datetime(2026, 11, 28, 10, 0), False),   # plain Saturday
    (datetime(2026, 11, 23, 20, 0), False),   # Monday evening
    (datetime(2026, 11, 23, 12, 30), False),  # lunch break
    (datetime(2026, 10, 2, 10, 0), False),    # National Day holiday, a Friday
    (datetime(2026, 9, 20, 10, 0), True),     # make-up working Sunday
    (datetime(2026, 11, 23, 8, 30), True),
    (datetime(2026, 11, 23, 17, 30), False),  # closing time
])
def test_reminders_skip_outside_working_hours(app, moment, expected):
    assert in_working_hours(moment) is expected


@pytest.mark.parametrize("moment, sent", [
    (datetime(2026, 11, 28, 10, 0), 0),   # plain Saturday
    (datetime(2026, 11, 23, 20, 0), 0),   # weekday evening
    (datetime(2026, 9, 20, 10, 0), 1),    # make-up working Sunday
])
def test_reminder_job_runs_only_in_working_hours(db, empty_post, moment, sent):
    summary = run_job("empty_posts", at=moment)
    assert (summary == "outside working hours") is (sent == 0)
    assert notes(db) == sent
    assert db.session.scalar(select(JobRun.summary).where(JobRun.name == "empty_posts")) == summary


def test_work_hours_come_from_the_config(app):
    app.config["WORK_HOURS"] = (((9, 0), (18, 0)),)
    assert in_working_hours(datetime(2026, 11, 23, 12, 30))
    assert not in_working_hours(datetime(2026, 11, 23, 8, 45))


def test_purge_deletes_only_read_notifications_older_than_180_days(db, county):
    user = county["users"]["a_clerk"].id
    old = MONDAY_10 - timedelta(days=181)
    db.session.add_all([
        Notification(user_id=user, title="旧已读", key="1", created_at=old, read_at=old),
        Notification(user_id=user, title="旧未读", key="2", created_at=old),
        Notification(user_id=user, title="新已读", key="3", created_at=MONDAY_10, read_at=MONDAY_10),
    ])
    db.session.commit()
    assert run_job("purge_notifications", at=MONDAY_10) == "1 read notifications deleted"
    assert sorted(db.session.scalars(select(Notification.title))) == ["新已读", "旧未读"]


def test_a_failing_job_is_recorded_and_raises(db, monkeypatch):
    monkeypatch.setattr(jobs, "JOBS", [*JOBS, Job("broken", "tests.test_jobs:broken_job")])
    with pytest.raises(RuntimeError):
        run_job("broken", at=MONDAY_10)
    run = db.session.scalar(select(JobRun).where(JobRun.name == "broken"))
    assert run.ok is False and "boom" in run.summary


def broken_job(at):
    raise RuntimeError("boom")


def test_run_job_in_a_given_app(app, db, empty_post):
    assert run_job("empty_posts", app=app, at=MONDAY_10) == "1 empty posts, 1 notifications"
    with pytest.raises(TypeError):
        run_job("empty_posts", MONDAY_10)  # the moment is keyword-only in practice


def test_jobs_run_cli_runs_one_job(runner, db, empty_post):
    result = runner.invoke(args=["jobs", "run", "empty_posts"])  # now: a reminder or a skip, never an error
    assert result.exit_code == 0 and result.output.startswith("empty_posts: ")
    before = notes(db)  # today's run may have told someone already (a working hour) or not
    result = runner.invoke(args=["jobs", "run", "empty_posts", "--at", "2026-11-23T10:00"])
    assert result.exit_code == 0 and "1 empty posts" in result.output
    assert notes(db) == before + 1
    unknown = runner.invoke(args=["jobs", "run", "no_such_job"])
    assert unknown.exit_code != 0 and "no_such_job" in unknown.output


def test_jobs_list_shows_every_job_and_its_last_run(runner, db, empty_post):
    run_job("empty_posts", at=MONDAY_10)
    output = runner.invoke(args=["jobs", "list"]).output
    assert all(j.name in output for j in JOBS)
    assert "1 empty posts, 1 notifications" in output and "never" in output


def test_scheduler_registers_every_job_once(app):
    from jobs.scheduler import build_scheduler
    scheduler = build_scheduler(app, jobstore_url="sqlite://")  # never started: jobs are only queued
    assert sorted(j.id for j in scheduler.get_jobs()) == sorted(j.name for j in JOBS)
    assert len({j.name for j in JOBS}) == len(JOBS)
    assert all(job.func_ref == "jobs.scheduler:execute" and job.args == (job.id,) for job in scheduler.get_jobs())


def test_scheduler_keeps_a_run_missed_while_the_pc_was_off(app, tmp_path):
    """A stored run time in the past survives the restart, so the job runs at once (coalesced)."""
    from jobs.scheduler import build_scheduler
    url = f"sqlite:///{tmp_path / 'jobs.sqlite3'}"
    first = build_scheduler(app, jobstore_url=url)
    store = first._lookup_jobstore("default")
    missed = datetime.now(first.timezone).replace(microsecond=0) - timedelta(hours=3)
    for name in ("purge_notifications", "retired_job"):  # as a scheduler that ran before would have left them
        store.add_job(ApsJob(first, id=name, func="jobs.scheduler:execute", args=[name], kwargs={},
                             trigger=CronTrigger(hour=2, timezone=first.timezone), executor="default", name=name,
                             misfire_grace_time=3600, coalesce=True, max_instances=1, next_run_time=missed))

    second = build_scheduler(app, jobstore_url=url)
    assert second.get_job("purge_notifications").next_run_time == missed
    assert not hasattr(second.get_job("empty_posts"), "next_run_time")  # computed from the trigger at start
    assert [j.id for j in store.get_all_jobs()] == ["purge_notifications"]  # the retired job is gone


def test_every_registered_job_function_exists():
    from jobs.runner import resolve
    assert all(callable(resolve(j.func)) for j in JOBS)
