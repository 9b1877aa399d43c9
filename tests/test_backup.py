"""Backups: dated, checked copies; restore only of a sound file and only when confirmed; retention;
the administrator sees how old the last backup is; a restore drill proves a round trip loses nothing."""
from __future__ import annotations

import os
import shutil
import sqlite3
from datetime import date, datetime, timedelta

import pytest
import sqlalchemy as sa

from app import backup
from app import create_app
from app.config import normalise_url
from app.extensions import db as _db
from app.timeutil import now
from jobs import job
from jobs.runner import run_job
from tests.conftest import RequestClient, make_case, make_center, make_matter, make_user

PG_URL = os.environ.get("TEST_DATABASE_URL", "")
IS_PG = PG_URL.startswith(("postgres://", "postgresql"))


# ------------------------------------------------------------------ helpers

def every_table(engine) -> dict[str, list[tuple]]:
    """Every row of every table in the database (not only the models'), in a stable order."""
    meta = sa.MetaData()
    meta.reflect(bind=engine)
    out = {}
    with engine.connect() as conn:
        for table in meta.sorted_tables:
            rows = conn.execute(sa.select(table)).all()
            out[table.name] = sorted((tuple(r) for r in rows), key=repr)
    return out


def some_records():
    center = make_center("城关镇便民服务中心", code="A")
    clerk = make_user(center, "clerk", username="clerk1", name="王窗口")
    make_user(center, "admin", username="admin1")
    matter = make_matter(center)
    case = make_case(center, matter, responsible=clerk, applicant_name="李四")
    _db.session.commit()
    return center, case


def change_records(center, case):
    case.applicant_name = "改过的名字"          # an edit (and its audit entries)
    make_center("新建中心", code="NEW")        # an insert
    _db.session.delete(case.materials[0])     # a delete
    _db.session.commit()


def make_app(url: str, instance, backups):
    application = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": normalise_url(url),
                              "WTF_CSRF_ENABLED": False, "SECRET_KEY": "test", "BACKUP_DIR": str(backups)})
    application.test_client_class = RequestClient
    return application


@pytest.fixture(params=["sqlite", "postgresql"])
def drill_app(request, tmp_path, monkeypatch):
    """An app on SQLite, and (when TEST_DATABASE_URL is PostgreSQL and pg_dump exists) on PostgreSQL."""
    monkeypatch.setenv("HALL_INSTANCE", str(tmp_path / "instance"))
    if request.param == "postgresql":
        if not IS_PG:
            pytest.skip("TEST_DATABASE_URL is not a PostgreSQL URL")
        if not (shutil.which("pg_dump") and shutil.which("pg_restore")):
            pytest.skip("pg_dump / pg_restore not installed")
        url = PG_URL
    else:
        url = f"sqlite:///{tmp_path / 'drill.sqlite3'}"
    application = make_app(url, tmp_path / "instance", tmp_path / "backups")
    with application.app_context():
        if request.param == "postgresql":
            _db.drop_all()
        _db.create_all()
        yield application
        _db.session.remove()
        if request.param == "postgresql":
            _db.drop_all()
        _db.engine.dispose()


# ------------------------------------------------------------------ the restore drill

def test_restore_drill_back_up_change_restore_and_every_table_is_as_at_backup_time(drill_app, tmp_path):
    runner = drill_app.test_cli_runner()
    center, case = some_records()
    at_backup = every_table(_db.engine)
    assert at_backup["service_case"] and at_backup["audit_entry"] is not None

    result = runner.invoke(args=["backup", "--to", str(tmp_path / "usb")])
    assert result.exit_code == 0, result.output
    [copy] = backup.list_backups(tmp_path / "usb")
    assert backup.check_backup(copy) is None

    change_records(center, case)
    _db.session.remove()
    assert every_table(_db.engine) != at_backup

    result = runner.invoke(args=["restore", str(copy), "--yes"])
    assert result.exit_code == 0, result.output
    _db.session.remove()
    assert every_table(_db.engine) == at_backup


# ------------------------------------------------------------------ backup and restore commands (SQLite)

@pytest.fixture
def sqlite_app(tmp_path, monkeypatch):
    monkeypatch.setenv("HALL_INSTANCE", str(tmp_path / "instance"))
    application = make_app(f"sqlite:///{tmp_path / 'live.sqlite3'}", tmp_path / "instance", tmp_path / "backups")
    with application.app_context():
        _db.create_all()
        yield application
        _db.session.remove()
        _db.engine.dispose()


def test_backup_writes_a_dated_sqlite_copy_that_passes_the_integrity_check(sqlite_app, tmp_path):
    some_records()
    result = sqlite_app.test_cli_runner().invoke(args=["backup"])  # default folder: BACKUP_DIR
    assert result.exit_code == 0, result.output
    [copy] = backup.list_backups(tmp_path / "backups")
    assert copy.name.startswith(f"hall-{now():%Y-%m-%d-}") and copy.suffix == ".sqlite3"
    with sqlite3.connect(copy) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert conn.execute("SELECT applicant_name FROM service_case").fetchall() == [("李四",)]
    assert not [p for p in (tmp_path / "backups").iterdir() if p not in (copy,)]  # no partial file left


def test_restore_refuses_a_damaged_file_and_leaves_the_database_alone(sqlite_app, tmp_path):
    center, case = some_records()
    copy = backup.make_backup(sqlite_app, tmp_path / "b")
    damaged = tmp_path / "damaged.sqlite3"
    data = bytearray(copy.read_bytes())
    data[4096:8192] = b"\xff" * 4096  # page 2 overwritten
    damaged.write_bytes(bytes(data))
    assert backup.check_backup(damaged) is not None
    (tmp_path / "notadb.sqlite3").write_bytes(b"hello")
    assert backup.check_backup(tmp_path / "notadb.sqlite3") is not None

    change_records(center, case)
    _db.session.remove()
    before = every_table(_db.engine)
    for bad in (damaged, tmp_path / "notadb.sqlite3"):
        result = sqlite_app.test_cli_runner().invoke(args=["restore", str(bad), "--yes"])
        assert result.exit_code != 0
        assert "未恢复" in result.output
    assert every_table(_db.engine) == before


def test_restore_without_confirmation_overwrites_nothing(sqlite_app, tmp_path):
    center, case = some_records()
    copy = backup.make_backup(sqlite_app, tmp_path / "b")
    change_records(center, case)
    _db.session.remove()
    before = every_table(_db.engine)
    result = sqlite_app.test_cli_runner().invoke(args=["restore", str(copy)], input="n\n")
    assert result.exit_code != 0
    assert every_table(_db.engine) == before
    result = sqlite_app.test_cli_runner().invoke(args=["restore", str(copy)], input="y\n")
    assert result.exit_code == 0, result.output
    _db.session.remove()
    assert every_table(_db.engine) != before
    # the database as it was just before the restore is kept aside, and is not a "backup" for retention
    aside = [p for p in (tmp_path / "backups").iterdir() if "before-restore" in p.name]
    assert len(aside) == 1 and backup.check_backup(aside[0]) is None


def test_restore_refuses_while_the_scheduler_runs(sqlite_app, tmp_path):
    from jobs.scheduler import acquire_lock
    some_records()
    copy = backup.make_backup(sqlite_app, tmp_path / "b")
    lock = acquire_lock(sqlite_app)
    try:
        result = sqlite_app.test_cli_runner().invoke(args=["restore", str(copy), "--yes"])
    finally:
        lock.release()
    assert result.exit_code != 0 and "停止" in result.output


# ------------------------------------------------------------------ daily job and retention

def test_daily_backup_job_is_registered_and_writes_a_checked_backup(sqlite_app, tmp_path):
    assert job("backup") is not None
    some_records()
    at = datetime(2026, 12, 1, 12, 15)
    summary = run_job("backup", app=sqlite_app, at=at)
    [copy] = backup.list_backups(tmp_path / "backups")
    assert copy.name == "hall-2026-12-01-1215.sqlite3" and copy.name in summary
    assert backup.check_backup(copy) is None


def test_retention_keeps_30_daily_and_the_newest_of_each_of_the_last_12_months(tmp_path):
    folder = tmp_path / "b"
    folder.mkdir()
    today = datetime(2026, 12, 1, 12, 15)
    made = []
    for back in range(0, 500):  # a backup every day for 500 days, two on some days
        moment = today - timedelta(days=back)
        made.append(moment)
        if back % 7 == 0:
            made.append(moment.replace(hour=9, minute=30))
    for moment in made:
        (folder / f"hall-{moment:%Y-%m-%d-%H%M}.sqlite3").write_bytes(b"x")
    (folder / "notes.txt").write_text("not a backup")
    (folder / "hall-before-restore-2024-01-01-0900.sqlite3").write_bytes(b"x")

    backup.prune(folder, today)

    kept = sorted(p.name for p in folder.iterdir())
    expected_days = {(today - timedelta(days=d)).date() for d in range(30)}
    months = {(today.year * 12 + today.month - 1 - m) for m in range(12)}
    newest_of_month = {}
    for moment in made:
        key = moment.year * 12 + moment.month - 1
        if key in months:
            newest_of_month[key] = max(newest_of_month.get(key, moment), moment)
    newest_of_day = {}
    for moment in made:
        if moment.date() in expected_days:
            newest_of_day[moment.date()] = max(newest_of_day.get(moment.date(), moment), moment)
    expected = {f"hall-{m:%Y-%m-%d-%H%M}.sqlite3" for m in [*newest_of_day.values(), *newest_of_month.values()]}
    assert set(kept) == expected | {"notes.txt", "hall-before-restore-2024-01-01-0900.sqlite3"}
    assert len(newest_of_day) == 30 and len(newest_of_month) == 12
    assert f"hall-{today:%Y-%m-%d-%H%M}.sqlite3" in kept
    assert "hall-2026-01-31-1215.sqlite3" in kept and "hall-2026-01-30-1215.sqlite3" not in kept
    assert "hall-2025-12-31-1215.sqlite3" not in kept  # 13 months back


# ------------------------------------------------------------------ the administrator sees the age

def test_admin_sees_the_last_backups_age_and_a_warning_when_older_than_two_days_or_none(app, client, auth, county, tmp_path):
    folder = tmp_path / "admin-backups"
    app.config["BACKUP_DIR"] = str(folder)
    auth.login("a_admin")
    page = client.get("/admin/users").get_data(as_text=True)
    assert "还没有任何备份" in page

    folder.mkdir()
    recent = now() - timedelta(hours=3, minutes=5)
    (folder / f"hall-{recent:%Y-%m-%d-%H%M}.sqlite3").write_bytes(b"x")
    page = client.get("/admin/users").get_data(as_text=True)
    assert f"最近一次备份：{recent.year}年{recent.month}月{recent.day}日 {recent:%H:%M}（3 小时前）" in page
    assert "backup-warning" not in page

    for p in folder.iterdir():
        p.unlink()
    old = now() - timedelta(days=3, hours=1)
    (folder / f"hall-{old:%Y-%m-%d-%H%M}.sqlite3").write_bytes(b"x")
    page = client.get("/admin/users").get_data(as_text=True)
    assert "3 天前" in page and "backup-warning" in page


def test_backup_age_wording(app):
    at = datetime(2026, 12, 1, 9, 30)
    assert backup.age_text(at, at + timedelta(minutes=20)) == "20 分钟前"
    assert backup.age_text(at, at + timedelta(hours=47)) == "47 小时前"
    assert backup.age_text(at, at + timedelta(days=2, hours=1)) == "2 天前"


# ------------------------------------------------------------------ audit retention (GB/T 22239 level 2)

def _audit_rows_aged(db, center, at, ages_in_days):
    from models.core import AuditEntry
    for age in ages_in_days:
        db.session.add(AuditEntry(center_id=center.id, record_table="service_case", record_id=1, action="edit",
                                  field="age", after=str(age), at=at - timedelta(days=age)))
    db.session.commit()


def _remaining_ages(db):
    from models.core import AuditEntry
    return sorted(int(a) for a in db.session.scalars(sa.select(AuditEntry.after).where(AuditEntry.field == "age")))


def test_purge_never_deletes_audit_entries_younger_than_183_days_even_when_configured_lower(app, db, county):
    at = datetime(2026, 12, 1, 2, 30)
    _audit_rows_aged(db, county["a"], at, [1, 30, 31, 182, 184, 400, 2000])
    app.config["AUDIT_KEEP_DAYS"] = 30
    run_job("purge_notifications", at=at)
    assert _remaining_ages(db) == [1, 30, 31, 182]
    app.config["AUDIT_KEEP_DAYS"] = 0  # nonsense settings are clamped too, never "delete everything"
    run_job("purge_notifications", at=at)
    assert _remaining_ages(db) == [1, 30, 31, 182]


def test_audit_entries_are_kept_forever_unless_a_retention_is_configured(app, db, county):
    at = datetime(2026, 12, 1, 2, 30)
    _audit_rows_aged(db, county["a"], at, [1, 184, 2000])
    app.config.pop("AUDIT_KEEP_DAYS", None)
    run_job("purge_notifications", at=at)
    assert _remaining_ages(db) == [1, 184, 2000]
    app.config["AUDIT_KEEP_DAYS"] = 365
    run_job("purge_notifications", at=at)
    assert _remaining_ages(db) == [1, 184]


def test_audit_retention_setting_from_the_environment_is_clamped_to_183_days(monkeypatch, tmp_path):
    from app.config import from_environment
    from jobs.housekeeping import audit_keep_days
    monkeypatch.setenv("HALL_INSTANCE", str(tmp_path / "i"))
    monkeypatch.setenv("AUDIT_KEEP_DAYS", "30")
    assert audit_keep_days(from_environment()) == 183
    monkeypatch.setenv("AUDIT_KEEP_DAYS", "1000")
    assert audit_keep_days(from_environment()) == 1000
    monkeypatch.setenv("AUDIT_KEEP_DAYS", "six months")  # not a number: nothing is deleted, nothing crashes
    assert audit_keep_days(from_environment()) is None
    monkeypatch.delenv("AUDIT_KEEP_DAYS")
    assert audit_keep_days(from_environment()) is None
