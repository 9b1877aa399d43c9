"""One scheduler per instance: a second refuses to start; the jobs process dies with `serve`."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import jobs.scheduler as scheduler_module
from app.config import ROOT
from jobs.scheduler import SchedulerLocked, acquire_lock


def test_second_scheduler_lock_on_the_same_instance_fails_while_the_first_is_held_and_succeeds_after_release(app):
    first = acquire_lock(app)
    with pytest.raises(SchedulerLocked) as refused:
        acquire_lock(app)
    assert str(os.getpid()) in str(refused.value) or "数据库" in str(refused.value)
    first.release()
    second = acquire_lock(app)
    second.release()


class FakeScheduler:
    """Stands in for the BlockingScheduler: records whether it was started, returns at once."""
    started = False

    def __init__(self, lock_held_during_start=None):
        self.lock_probe = lock_held_during_start

    def get_jobs(self):
        return []

    def start(self):
        FakeScheduler.started = True
        if self.lock_probe:
            self.lock_probe()


def test_jobs_start_refuses_with_a_clear_message_and_nonzero_exit_when_a_scheduler_runs(app, runner, monkeypatch):
    FakeScheduler.started = False
    monkeypatch.setattr(scheduler_module, "build_scheduler", lambda *_a, **_k: FakeScheduler())
    held = acquire_lock(app)
    try:
        result = runner.invoke(args=["jobs", "start"])
    finally:
        held.release()
    assert result.exit_code != 0
    assert "已有一个计划任务进程在运行" in result.output
    assert FakeScheduler.started is False


def test_jobs_start_holds_the_lock_while_running_and_releases_it_after(app, runner, monkeypatch):
    FakeScheduler.started = False
    seen = []

    def probe():
        with pytest.raises(SchedulerLocked):
            acquire_lock(app)
        seen.append("locked while running")

    monkeypatch.setattr(scheduler_module, "build_scheduler", lambda *_a, **_k: FakeScheduler(probe))
    result = runner.invoke(args=["jobs", "start"])
    assert result.exit_code == 0, result.output
    assert FakeScheduler.started and seen == ["locked while running"]
    acquire_lock(app).release()


def _gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    status = Path(f"/proc/{pid}/status")
    return status.exists() and "\nState:\tZ" in status.read_text()  # a zombie waiting to be reaped


def _wait_gone(pid: int, seconds: float = 10) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if _gone(pid):
            return True
        time.sleep(0.05)
    return False


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX process tree")
def test_the_jobs_child_exits_when_its_parent_dies(tmp_path):
    """The parent is SIGKILLed (no handler can run): the child notices and exits by itself."""
    child_code = ("import os, time; from jobs.scheduler import exit_with_parent; "
                  "exit_with_parent(int(os.environ['HALL_PARENT_PID']), interval=0.05); time.sleep(60)")
    parent_code = ("import os, subprocess, sys, time; "
                   "env = dict(os.environ, HALL_PARENT_PID=str(os.getpid())); "
                   f"c = subprocess.Popen([sys.executable, '-c', {child_code!r}], env=env); "
                   "print(c.pid, flush=True); time.sleep(60)")
    with subprocess.Popen([sys.executable, "-c", parent_code], cwd=ROOT, stdout=subprocess.PIPE, text=True) as parent:
        child_pid = int(parent.stdout.readline())
        time.sleep(0.5)
        assert not _gone(child_pid)
        parent.kill()
    try:
        assert _wait_gone(child_pid), "the child outlived its parent"
    finally:
        if not _gone(child_pid):
            os.kill(child_pid, signal.SIGKILL)


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
def test_sigterm_to_serve_stops_its_jobs_child(tmp_path):
    """`serve`'s child handling: SIGTERM to the parent terminates the child before the parent exits."""
    code = ("import sys, time; from app.cli import start_jobs_process, stop_on_signals, stop_jobs_process; "
            "child = start_jobs_process([sys.executable, '-c', 'import time; time.sleep(60)']); "
            "print(child.pid, flush=True)\n"
            "try:\n"
            "    with stop_on_signals():\n"
            "        time.sleep(60)\n"
            "finally:\n"
            "    stop_jobs_process(child)\n")
    with subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, stdout=subprocess.PIPE, text=True) as parent:
        child_pid = int(parent.stdout.readline())
        time.sleep(0.3)
        assert not _gone(child_pid)
        parent.send_signal(signal.SIGTERM)
        parent.wait(timeout=10)
    try:
        assert _wait_gone(child_pid, 5), "SIGTERM left the jobs child running"
    finally:
        if not _gone(child_pid):
            os.kill(child_pid, signal.SIGKILL)
