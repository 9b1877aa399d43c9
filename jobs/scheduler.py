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


# ------------------------------------------------------------------ one scheduler per instance

LOCK_FILE = "scheduler.lock"
ADVISORY_KEY = 0x48414C4C4A4F4253  # "HALLJOBS": the PostgreSQL advisory lock of the jobs process


class SchedulerLocked(RuntimeError):
    """Another scheduler holds the single-instance lock."""


class SchedulerLock:
    """Held for the life of the jobs process; the OS (or PostgreSQL) drops it if the process dies."""

    def __init__(self, release):
        self._release = release

    def release(self) -> None:
        if self._release is not None:
            self._release()
            self._release = None


def acquire_lock(app) -> SchedulerLock:
    """The single-instance lock: a PostgreSQL advisory lock when the database is PostgreSQL (one jobs
    process per database, whichever machine it runs on), else an OS lock on `scheduler.lock` in the
    instance folder. Raises SchedulerLocked with a message for the administrator."""
    from app.extensions import db
    with app.app_context():
        engine = db.engine
    if engine.dialect.name == "postgresql":
        return _advisory_lock(engine)
    return _file_lock(app.config.get("INSTANCE_DIR") or app.instance_path)


def _advisory_lock(engine) -> SchedulerLock:
    from sqlalchemy import create_engine, text
    from sqlalchemy.pool import NullPool
    # A connection of its own (not the app's pool, which a restore disposes of), kept open: the
    # session-level lock lives as long as it does.
    conn = create_engine(engine.url, poolclass=NullPool).connect()
    got = conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": ADVISORY_KEY}).scalar()
    conn.commit()
    if not got:
        conn.close()
        raise SchedulerLocked("已有一个计划任务进程在运行（它持有数据库中的计划任务锁）；不再启动第二个，"
                              "否则每个任务都会执行两次。")

    def release():
        try:
            conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": ADVISORY_KEY})
            conn.commit()
        finally:
            conn.close()
    return SchedulerLock(release)


def _file_lock(folder) -> SchedulerLock:
    import os
    from pathlib import Path
    path = Path(folder) / LOCK_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    handle = open(path, "a+b")
    try:
        _os_lock(handle)
    except OSError:
        handle.seek(0)
        holder = handle.read().decode("ascii", "replace").strip() or "?"
        handle.close()
        raise SchedulerLocked(f"已有一个计划任务进程在运行（进程号 {holder}，锁文件 {path}）；不再启动第二个，"
                              "否则每个任务都会执行两次。") from None
    handle.seek(0)
    handle.truncate()
    handle.write(str(os.getpid()).encode("ascii"))
    handle.flush()

    def release():
        try:
            handle.seek(0)
            handle.truncate()
            _os_unlock(handle)
        finally:
            handle.close()
    return SchedulerLock(release)


def _os_lock(handle) -> None:
    """Non-blocking exclusive lock; OSError if held (also by another handle in this process)."""
    import sys
    if sys.platform == "win32":
        import msvcrt
        handle.seek(0)
        msvcrt.locking(handle.fileno(), msvcrt.LK_NBLCK, 1)
    else:
        import fcntl
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)  # flock: per open file, not per process


def _os_unlock(handle) -> None:
    import sys
    if sys.platform == "win32":
        import msvcrt
        handle.seek(0)
        msvcrt.locking(handle.fileno(), msvcrt.LK_UNLCK, 1)
    else:
        import fcntl
        fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def _alive(pid: int) -> bool:
    import os
    import sys
    if sys.platform == "win32":  # Windows keeps the old parent id: ask whether that process still runs
        import ctypes
        kernel32 = ctypes.windll.kernel32
        process = kernel32.OpenProcess(0x1000, False, pid)  # PROCESS_QUERY_LIMITED_INFORMATION
        if not process:
            return False
        code = ctypes.c_ulong()
        kernel32.GetExitCodeProcess(process, ctypes.byref(code))
        kernel32.CloseHandle(process)
        return code.value == 259  # STILL_ACTIVE
    return os.getppid() == pid  # a child whose parent died is adopted by another process


def exit_with_parent(parent_pid: int, interval: float = 2.0, on_exit=None) -> None:
    """Watch the parent (`serve`) from a daemon thread; when it is gone, end this process, so a
    killed server never leaves its jobs process behind."""
    import logging
    import os
    import threading
    import time

    def watch():
        while _alive(parent_pid):
            time.sleep(interval)
        logging.getLogger(__name__).warning("serve (pid %s) is gone: the jobs process stops", parent_pid)
        if on_exit is not None:
            try:
                on_exit()
            except Exception:  # noqa: BLE001 - exiting regardless
                pass
        os._exit(0)
    threading.Thread(target=watch, name="exit-with-parent", daemon=True).start()
