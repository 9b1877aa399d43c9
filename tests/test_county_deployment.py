"""County deployment: several gunicorn workers share one secret key and one session; the key kept in
instance/ is made once even when the workers start at the same moment (docs/county-deployment.md)."""
from __future__ import annotations

import importlib.util
import os
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request
from http.cookiejar import CookieJar
from pathlib import Path
from urllib.error import HTTPError

import pytest

from app.config import ROOT

ADMIN_PASSWORD = "county-hall-2026"


# ------------------------------------------------------------------ the secret key, made once

def test_workers_starting_at_the_same_moment_all_get_the_one_kept_key(tmp_path):
    # Eight processes ask for the key of an empty instance folder at the same instant, three times over.
    code = ("import sys, time\nfrom pathlib import Path\nfrom app.config import secret_key\n"
            "go = float(sys.argv[2])\ntime.sleep(max(0, go - time.time() - 0.02))\n"
            "while time.time() < go:\n    pass\nprint(secret_key(Path(sys.argv[1])))\n")
    env = {k: v for k, v in os.environ.items() if k != "SECRET_KEY"}
    for round_no in range(3):
        folder = tmp_path / f"instance{round_no}"
        folder.mkdir()
        go = time.time() + 2.0
        children = [subprocess.Popen([sys.executable, "-c", code, str(folder), repr(go)], cwd=ROOT, env=env,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(8)]
        keys = []
        for child in children:
            out, err = child.communicate(timeout=60)
            assert child.returncode == 0, err
            assert "WARNING" not in err, err
            keys.append(out.strip())
        kept = (folder / "secret_key").read_text()
        assert set(keys) == {kept}, f"round {round_no}: {len(set(keys))} different keys"
        assert len(kept) == 64


def test_a_worker_that_finds_the_key_file_being_written_waits_for_the_key(tmp_path):
    from app.config import _kept_key
    key_file = tmp_path / "secret_key"
    key_file.write_text("")  # created by another worker, which has not written yet

    def write_late():
        time.sleep(0.3)
        key_file.write_text("k" * 64)
    writer = threading.Thread(target=write_late)
    writer.start()
    try:
        assert _kept_key(key_file) == "k" * 64
    finally:
        writer.join()


def test_a_key_file_left_empty_gives_a_key_for_this_run_and_says_so(tmp_path, monkeypatch, capsys):
    import app.config as config
    monkeypatch.setattr(config, "KEY_WAIT_SECONDS", 0.2)
    monkeypatch.delenv("SECRET_KEY", raising=False)
    (tmp_path / "secret_key").write_text("\n")
    key, problem = config._secret_key(tmp_path)
    assert len(key) >= 32, "never an empty key"
    assert problem and "secret_key" in problem
    assert "WARNING" in capsys.readouterr().err


def test_a_kept_key_is_read_not_replaced(tmp_path, monkeypatch):
    from app.config import secret_key
    monkeypatch.delenv("SECRET_KEY", raising=False)
    first = secret_key(tmp_path)
    assert secret_key(tmp_path) == first == (tmp_path / "secret_key").read_text()
    if sys.platform != "win32":
        assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0, "readable by the server's account only"


# ------------------------------------------------------------------ gunicorn, two workers

NO_GUNICORN = sys.platform == "win32" or importlib.util.find_spec("gunicorn") is None


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None  # a 302 is an answer to look at, not to follow


class Browser:
    """One browser: one cookie jar, a new connection per request (so any worker may answer)."""

    def __init__(self, base: str):
        self.base = base
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(CookieJar()), _NoRedirect)

    def request(self, path: str, data: dict | None = None) -> tuple[int, str, str]:
        body = urllib.parse.urlencode(data).encode() if data is not None else None
        try:
            with self.opener.open(self.base + path, data=body, timeout=60) as response:
                return response.status, response.read().decode("utf-8", "replace"), ""
        except HTTPError as exc:
            with exc:
                return exc.code, exc.read().decode("utf-8", "replace"), exc.headers.get("Location", "")


def _database_url(tmp_path: Path) -> str:
    return os.environ.get("TEST_DATABASE_URL") or f"sqlite:///{tmp_path / 'county.sqlite3'}"


def _empty_postgres(url: str) -> None:
    """The shared test database without any table (the upgrade below builds them)."""
    from sqlalchemy import create_engine, text

    from app.config import normalise_url
    from app.extensions import db
    engine = create_engine(normalise_url(url))
    try:
        db.metadata.drop_all(engine)
        with engine.begin() as connection:
            for table in ("alembic_version", "apscheduler_jobs"):
                connection.execute(text(f"DROP TABLE IF EXISTS {table}"))
    finally:
        engine.dispose()


def _flask(env: dict, *args: str) -> str:
    done = subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, f"flask {' '.join(args)}: {done.stdout}\n{done.stderr}"
    return done.stdout


def _wait_for_address(log: Path, server: subprocess.Popen) -> str:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        found = re.search(r"Listening at: (http://[\d.]+:\d+)", log.read_text(errors="replace"))
        if found:
            return found.group(1)
        assert server.poll() is None, f"gunicorn ended: {log.read_text(errors='replace')}"
        time.sleep(0.1)
    raise AssertionError(f"gunicorn did not start: {log.read_text(errors='replace')}")


def _booted_workers(log: Path) -> set[str]:
    return set(re.findall(r"Booting worker with pid: (\d+)", log.read_text(errors="replace")))


@pytest.mark.skipif(NO_GUNICORN, reason="gunicorn runs on Linux/macOS only (the Windows office PC uses `serve`)")
def test_a_session_made_on_one_gunicorn_worker_is_valid_on_the_other(tmp_path):
    url = _database_url(tmp_path)
    postgres = not url.startswith("sqlite")
    if postgres:
        _empty_postgres(url)
    instance = tmp_path / "instance"
    access_log, error_log = tmp_path / "access.log", tmp_path / "gunicorn.log"
    env = {k: v for k, v in os.environ.items() if k not in ("SECRET_KEY", "FLASK_APP")}
    # No SECRET_KEY: the two workers make or read instance/secret_key, both at the same moment.
    env.update(HALL_INSTANCE=str(instance), DATABASE_URL=url, WEB_CONCURRENCY="2", HALL_BIND="127.0.0.1:0",
               HALL_ACCESS_LOG=str(access_log), PYTHONUNBUFFERED="1")
    # As in the deployment: the schema is upgraded once before gunicorn starts (it does not upgrade).
    _flask(env, "db", "upgrade")
    _flask(env, "create-admin", "countyadmin", "--password", ADMIN_PASSWORD)
    (instance / "secret_key").unlink(missing_ok=True)  # made by the commands above: let the workers race for it
    server = None
    try:
        with open(error_log, "wb") as err:
            server = subprocess.Popen([sys.executable, "-m", "gunicorn", "-c", "deploy/gunicorn.conf.py", "wsgi:app"],
                                      cwd=ROOT, env=env, stdout=err, stderr=subprocess.STDOUT)
        base = _wait_for_address(error_log, server)
        browser = Browser(base)
        status, page, _ = browser.request("/login")
        assert status == 200, page
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
        status, page, location = browser.request(
            "/login?n=login", {"username": "countyadmin", "password": ADMIN_PASSWORD, "csrf_token": token})
        assert status == 302 and "/login" not in location, page[:2000]

        # Many requests at once (each on a new connection): both workers answer, every one of them logged in.
        results: dict[int, tuple[int, str]] = {}
        lock = threading.Lock()

        def client(start: int) -> None:
            for n in range(start, start + 10):
                status, page, location = browser.request(f"/?n={n}")
                with lock:
                    results[n] = (status, location or ("countyadmin" in page and "ok" or page[:300]))

        served_by: dict[str, str] = {}
        for batch in range(10):
            threads = [threading.Thread(target=client, args=(batch * 40 + t * 10,)) for t in range(4)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            time.sleep(0.2)  # the access log is written after each response
            served_by = dict(re.findall(r'"GET /\?n=(\d+) HTTP/1\.1" 200 .* pid=<?(\d+)', access_log.read_text()))
            if len(set(served_by.values())) >= 2:
                break
        refused = {n: r for n, r in results.items() if r != (200, "ok")}
        assert not refused, f"requests not served as the logged-in user: {list(refused.items())[:5]}"
        assert len(results) >= 20
        login_pid = re.search(r'"POST /login\?n=login HTTP/1\.1" 302 .* pid=<?(\d+)', access_log.read_text()).group(1)
        workers = _booted_workers(error_log)
        assert len(workers) == 2, workers
        # Each worker says when it has loaded the app: the benchmarks wait for every one (a client that
        # connects while only one is ready keeps its connection there, and one worker serves everybody).
        ready = dict(re.findall(r"Worker ready \(pid: (\d+); (\d+) objects of start-up frozen\)",
                                error_log.read_text(errors="replace")))
        assert set(ready) == workers, (ready, workers)
        # …and has put what start-up loaded out of the garbage collector's sight (see app.freeze_start_up).
        assert all(int(n) > 10_000 for n in ready.values()), ready
        assert set(served_by.values()) == workers, f"both workers should have answered: {set(served_by.values())}"
        assert login_pid in workers and set(served_by.values()) - {login_pid}, "the other worker knew the session"
        key = (instance / "secret_key").read_text()
        assert len(key) == 64, "one key, made by one of the workers"
    finally:
        if server is not None:
            if server.poll() is None:
                server.send_signal(signal.SIGTERM)  # graceful: workers finish their requests, then exit
            try:
                server.wait(timeout=60)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()
        if postgres:
            _empty_postgres(url)
    log = error_log.read_text(errors="replace")
    assert server.returncode == 0, log
    assert "Shutting down: Master" in log
    for pid in _booted_workers(error_log):
        assert not _alive(int(pid)), f"worker {pid} left running"
    assert "Traceback" not in log, log


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def test_a_gunicorn_worker_runs_two_threads_unless_told_otherwise(monkeypatch):
    """Two threads a worker: on the 2-core machine the load test (20 clients, 2 workers) made 127 and 140
    requests/s with p95 276 and 254 ms, against 118 and 123 requests/s with p95 324 and 302 ms with four
    (more threads in one process only wait longer for its one interpreter lock). HALL_THREADS overrides."""
    from pathlib import Path
    conf = Path(__file__).resolve().parent.parent / "deploy" / "gunicorn.conf.py"

    def load():
        spec = importlib.util.spec_from_file_location("hall_gunicorn_conf", conf)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module
    monkeypatch.delenv("HALL_THREADS", raising=False)
    assert load().threads == 2
    monkeypatch.setenv("HALL_THREADS", "6")
    assert load().threads == 6


def test_a_gunicorn_worker_is_replaced_after_about_50000_requests_not_5000():
    """A new worker costs about 1.7 s of CPU (1.3 s to import the app, 0.4 s more on its first pages: templates
    and SQL compiled again). After 5,000 requests the load test's two workers were each replaced about once a
    minute (2-3 % of the server's CPU), a county's four every five minutes. A worker's memory stays level: 190 MB
    after 400 receipts, 205 MB after 12 ledgers of three weeks' cases (680 KB of PDF each; 189 MB before). Replacing still catches a slow leak."""
    from pathlib import Path
    conf = Path(__file__).resolve().parent.parent / "deploy" / "gunicorn.conf.py"
    spec = importlib.util.spec_from_file_location("hall_gunicorn_conf", conf)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.max_requests == 50_000
    assert 0 < module.max_requests_jitter <= module.max_requests // 5  # not all workers at the same moment
