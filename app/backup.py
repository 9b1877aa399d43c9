"""Backups and restore: `flask --app wsgi backup [--to FOLDER]`, `flask --app wsgi restore FILE [--yes]`.

SQLite: the online backup API (a consistent copy while clerks keep working) into a dated file,
`PRAGMA integrity_check` on the copy, then the copy gets its final name (never a half-written backup
under a backup's name). PostgreSQL: `pg_dump -Fc`, checked by `pg_restore --list`.
Restore checks the file first, asks before overwriting, refuses while the jobs process runs, and
keeps the database as it was just before in `hall-before-restore-….` (not counted by retention).
The daily job (jobs/backup_jobs.py) keeps 30 daily backups and the newest of each of the last 12 months.
"""
from __future__ import annotations

import os
import re
import shutil
import sqlite3
import subprocess
from datetime import datetime
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext
from flask_babel import gettext as _

from app.timeutil import cn_date, now

PREFIX = "hall"
SAFETY_PREFIX = "hall-before-restore"
NAME = re.compile(r"^hall-(\d{4})-(\d{2})-(\d{2})-(\d{2})(\d{2})(\d{2})?\.(sqlite3|dump)$")
KEEP_DAILY = 30
KEEP_MONTHLY = 12
WARN_AFTER_HOURS = 48
SQLITE_HEADER = b"SQLite format 3\x00"


class BackupError(Exception):
    """A backup or restore that did not happen; the message is for the administrator (Chinese)."""


# ------------------------------------------------------------------ the database of an app

def _engine(app):
    from app.extensions import db
    with app.app_context():
        return db.engine


def _libpq(url) -> tuple[str, dict]:
    """A URL pg_dump understands (no driver, no password) and the environment carrying the password."""
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    plain = url.set(drivername="postgresql", password=None).render_as_string(hide_password=False)
    return plain, env


def _run(argv: list[str], env: dict) -> None:
    if shutil.which(argv[0]) is None:
        raise BackupError(f"找不到 {argv[0]}：请安装 PostgreSQL 客户端工具。")
    done = subprocess.run(argv, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise BackupError(f"{argv[0]} 失败：{(done.stderr or done.stdout).strip()[-2000:]}")


# ------------------------------------------------------------------ backup

def make_backup(app, folder: Path | str, at: datetime | None = None, prefix: str = PREFIX) -> Path:
    """A checked copy of the app's database in `folder`, named for `at` (default: now)."""
    engine = _engine(app)
    folder = Path(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise BackupError(f"无法使用备份文件夹 {folder}：{exc}（U 盘或网络共享是否已连接？）") from exc
    suffix = ".dump" if engine.dialect.name == "postgresql" else ".sqlite3"
    at = at or now()
    target = folder / f"{prefix}-{at:%Y-%m-%d-%H%M}{suffix}"
    if target.exists():  # a second backup in the same minute
        target = folder / f"{prefix}-{at:%Y-%m-%d-%H%M%S}{suffix}"
    partial = target.with_name(target.name + ".partial")
    try:
        if engine.dialect.name == "postgresql":
            plain, env = _libpq(engine.url)
            _run(["pg_dump", "-Fc", "-f", str(partial), "--dbname", plain], env)
        elif engine.dialect.name == "sqlite":
            _sqlite_copy(engine.url.database, partial)
        else:
            raise BackupError(f"不支持备份 {engine.dialect.name} 数据库。")
        problem = check_backup(partial)
        if problem:
            raise BackupError(f"备份副本未通过完整性检查：{problem}")
        os.replace(partial, target)
    except OSError as exc:
        raise BackupError(f"无法写入备份文件 {target}：{exc}") from exc
    finally:
        if partial.exists():
            partial.unlink()
    return target


def _sqlite_copy(database: str, target: Path) -> None:
    source = sqlite3.connect(database, timeout=30)
    copy = sqlite3.connect(target)
    try:
        source.backup(copy)  # a consistent snapshot; in WAL mode writers go on meanwhile
        copy.execute("PRAGMA journal_mode=DELETE")  # one self-contained file, no -wal beside it
    finally:
        copy.close()
        source.close()


def check_backup(path: Path | str) -> str | None:
    """None if `path` is a sound backup of this system's database, else what is wrong (Chinese)."""
    path = Path(path)
    if not path.is_file():
        return f"文件不存在：{path}"
    if path.name.endswith((".dump", ".dump.partial")):
        try:
            _run(["pg_restore", "--list", str(path)], dict(os.environ))
        except BackupError as exc:
            return str(exc)
        return None
    with open(path, "rb") as handle:
        if handle.read(16) != SQLITE_HEADER:
            return "不是 SQLite 数据库文件"
    try:
        conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
        try:
            result = [row[0] for row in conn.execute("PRAGMA integrity_check")]
            tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        finally:
            conn.close()
    except sqlite3.DatabaseError as exc:
        return f"数据库文件已损坏：{exc}"
    if result != ["ok"]:
        return "数据库文件已损坏：" + "；".join(result[:5])
    if "user_account" not in tables:
        return "不是本系统的数据库"
    return None


# ------------------------------------------------------------------ restore

def restore_backup(app, path: Path | str) -> Path:
    """Put the backup `path` in place of the app's database; return where the replaced one was kept."""
    from jobs.scheduler import SchedulerLocked, acquire_lock

    path = Path(path)
    problem = check_backup(path)
    if problem:
        raise BackupError(f"备份文件未通过检查，未恢复：{problem}")
    engine = _engine(app)
    if (engine.dialect.name == "postgresql") != path.name.endswith(".dump"):
        raise BackupError("备份文件与当前数据库的类型不符（SQLite 用 .sqlite3，PostgreSQL 用 .dump），未恢复。")
    try:
        lock = acquire_lock(app)  # no jobs process writes meanwhile, and none starts
    except SchedulerLocked:
        raise BackupError("计划任务进程正在运行：请先停止服务（关闭运行 serve 的窗口），再恢复。未恢复。") from None
    try:
        aside = make_backup(app, app.config["BACKUP_DIR"], prefix=SAFETY_PREFIX)
        from flask import has_app_context

        from app.extensions import db
        if has_app_context() and current_app._get_current_object() is app:
            db.session.remove()  # this context's session lets go of its connection
        engine.dispose()
        if engine.dialect.name == "postgresql":
            plain, env = _libpq(engine.url)
            _run(["pg_restore", "--clean", "--if-exists", "--no-owner", "--no-acl", "--single-transaction",
                  "--exit-on-error", "--dbname", plain, str(path)], env)
        else:
            source = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
            live = sqlite3.connect(engine.url.database, timeout=30)
            try:
                source.backup(live)  # page by page under the database's own lock: readers never see half
            finally:
                live.close()
                source.close()
        engine.dispose()
    finally:
        lock.release()
    return aside


# ------------------------------------------------------------------ the backups in a folder

def backup_time(path: Path) -> datetime | None:
    match = NAME.match(path.name)
    if not match:
        return None
    y, mo, d, h, mi, s, _ext = match.groups()
    try:
        return datetime(int(y), int(mo), int(d), int(h), int(mi), int(s or 0))
    except ValueError:
        return None


def list_backups(folder: Path | str) -> list[Path]:
    """The dated backups in `folder`, oldest first (safety copies and other files are not listed)."""
    try:
        found = [(backup_time(p), p) for p in Path(folder).iterdir() if p.is_file()]
    except OSError:  # missing folder, disconnected USB disk or share
        return []
    return [p for when, p in sorted((w, p) for w, p in found if w is not None)]


def prune(folder: Path | str, at: datetime) -> list[Path]:
    """Keep the newest backup of each of the last 30 days and of each of the last 12 months (the
    current one included); delete the other dated backups. Returns what was deleted."""
    keep_day: dict = {}
    keep_month: dict = {}
    backups = [(backup_time(p), p) for p in list_backups(folder)]
    for when, path in backups:  # oldest first: the newest of a day/month wins
        if 0 <= (at.date() - when.date()).days < KEEP_DAILY:
            keep_day[when.date()] = path
        if 0 <= (at.year * 12 + at.month) - (when.year * 12 + when.month) < KEEP_MONTHLY:
            keep_month[(when.year, when.month)] = path
    keep = set(keep_day.values()) | set(keep_month.values())
    deleted = []
    for when, path in backups:
        if path in keep or when > at:  # a backup "from the future" (a wrong clock) is not ours to judge
            continue
        path.unlink()
        deleted.append(path)
    return deleted


def age_text(when: datetime, at: datetime) -> str:
    minutes = max(0, int((at - when).total_seconds() // 60))
    if minutes < 60:
        return _("%(n)s minutes ago", n=minutes)
    if minutes < WARN_AFTER_HOURS * 60:
        return _("%(n)s hours ago", n=minutes // 60)
    return _("%(n)s days ago", n=minutes // (24 * 60))


def status_line(config, at: datetime | None = None) -> dict:
    """For the administrator: the last backup's time and age, and whether to worry."""
    at = at or now()
    folder = config.get("BACKUP_DIR") or ""
    found = list_backups(folder) if folder else []
    if not found:
        return {"text": _("No backup yet in %(folder)s.", folder=folder), "warn": True}
    when = backup_time(found[-1])
    shown = f"{cn_date(when)} {when:%H:%M}"
    if (at - when).total_seconds() > WARN_AFTER_HOURS * 3600:
        return {"text": _("Last backup: %(when)s (%(ago)s), more than 2 days ago. Check the backup folder %(folder)s.",
                          when=shown, ago=age_text(when, at), folder=folder), "warn": True}
    return {"text": _("Last backup: %(when)s (%(ago)s)", when=shown, ago=age_text(when, at)), "warn": False}


# ------------------------------------------------------------------ commands

def _size(path: Path) -> str:
    size = path.stat().st_size
    return f"{size / 1024 / 1024:.1f} MB" if size >= 1024 * 1024 else f"{size / 1024:.0f} KB"


@click.command("backup")
@click.option("--to", "folder", default=None, help="Folder for the backup (default: BACKUP_DIR).")
@with_appcontext
def backup_command(folder: str | None) -> None:
    """Back up the database to a dated, checked file."""
    app = current_app._get_current_object()
    try:
        path = make_backup(app, folder or app.config["BACKUP_DIR"])
    except BackupError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"备份完成：{path}（{_size(path)}），完整性检查通过。")


@click.command("restore")
@click.argument("file")
@click.option("--yes", is_flag=True, help="Overwrite the database without asking.")
@with_appcontext
def restore_command(file: str, yes: bool) -> None:
    """Replace the database with a backup (checked first; asks before overwriting)."""
    app = current_app._get_current_object()
    problem = check_backup(file)
    if problem:
        raise click.ClickException(f"备份文件未通过检查，未恢复：{problem}")
    if not yes and not click.confirm(f"用 {file} 覆盖当前数据库？此后录入的数据都会丢失", default=False):
        raise click.ClickException("未确认，未恢复。")
    try:
        aside = restore_backup(app, file)
    except BackupError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"已恢复：{file}。恢复前的数据库另存为 {aside}。")


def register(app) -> None:
    app.cli.add_command(backup_command)
    app.cli.add_command(restore_command)


from app.features import Feature, Job  # noqa: E402  (the feature declaration closes the module)

FEATURE = Feature(
    "backup",
    jobs=[Job("backup", "jobs.backup_jobs:daily_backup", {"hour": 12, "minute": 15},
              "Back up the database to BACKUP_DIR (30 daily and 12 monthly kept)")])
