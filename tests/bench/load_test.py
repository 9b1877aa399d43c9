"""Load test through the real server on a 250,000-case SQLite register, 20 clients logged in as the demo
clerks and the director for 60 s, reading and now and then registering. The server is `flask serve`
(waitress, one process: the office PC, Windows too), or with --workers N gunicorn with N worker processes
as deployed on Linux (deploy/gunicorn.conf.py; SQLite in WAL mode takes writers from several processes).

Run: .venv/bin/python tests/bench/load_test.py [--workers 2] [--clients 20] [--seconds 60] [--threads 8]

The register is built once (with bench_cases.generate, about a minute) into tests/bench/out/load.sqlite3
and kept between runs; --fresh builds it again. Each run serves a copy of it (load-run.sqlite3), so the
cases its clients register are gone at the next run and every run measures the same register. Figures
go to stdout and tests/bench/out/load_results.json. Targets: >= 150 requests/s, 0 errors, p95 < 300 ms.
"""
from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import re
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import threading
import time
from html import unescape
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import quote, urlencode

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
OUT = HERE / "out"
TARGETS = {"rps": 150, "errors": 0, "p95_ms": 300}
GENERATED_FROM = 1000  # bench_cases.generate numbers its cases from 1001 (the demo's few come before)


# ---------------------------------------------------------------- the register

def prepare_database(db_file: Path, n_cases: int, fresh: bool) -> None:
    """Build the register unless a complete one of this schema is there; stamp it as migrated (serve
    runs the migrations at start: a register made by create_all is already at their head)."""
    sys.path.insert(0, str(ROOT))
    sys.path.insert(0, str(HERE))
    os.environ["HALL_INSTANCE"] = str(OUT / "load_instance")
    from flask_migrate import stamp
    from sqlalchemy import func, inspect, select

    from app import create_app
    from app.extensions import db
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{db_file}", "SECRET_KEY": "load-test"})
    with app.app_context():
        built = inspect(db.engine)
        stale = fresh or not db_file.exists() or any(
            not built.has_table(t.name) or {c.name for c in t.columns} - {c["name"] for c in built.get_columns(t.name)}
            for t in db.metadata.sorted_tables)
        if not stale:
            from models.case import ServiceCase
            count, last = db.session.execute(select(func.count(ServiceCase.id), func.max(ServiceCase.id))).one()
            # Fewer cases than asked for, or more than were built: runs before 2026-12-08 registered into it.
            stale = count < n_cases or (last or 0) > GENERATED_FROM + n_cases
            db.session.remove()
        if stale:
            from bench_cases import generate

            from app.timeutil import now
            from jobs.housekeeping import refresh_statistics
            print(f"building {n_cases:,} cases into {db_file} (kept for the next run) …", flush=True)
            t = time.perf_counter()
            db.drop_all()
            with db.engine.begin() as conn:
                conn.exec_driver_sql("DROP TABLE IF EXISTS alembic_version")
            db.create_all()
            generate(app, n_cases)
            refresh_statistics(now())
            db.session.commit()
            print(f"built in {time.perf_counter() - t:.0f} s", flush=True)
        if not inspect(db.engine).has_table("alembic_version"):
            stamp(directory=str(ROOT / "migrations"))
        db.session.remove()
        db.engine.dispose()


def working_copy(db_file: Path) -> Path:
    """A copy of the built register for one run (SQLite's online backup: complete even with pages still in
    the write-ahead log). Runs before 2026-12-08 served the register itself and each left 300-500 open cases
    behind: after about 45 runs the township held 4.7 times the open cases it was built with (22,600 against
    4,800), and every worklist and state list counted them."""
    run = db_file.with_name(db_file.stem + "-run" + db_file.suffix)
    for suffix in ("", "-wal", "-shm"):
        Path(f"{run}{suffix}").unlink(missing_ok=True)
    source, target = sqlite3.connect(f"file:{db_file}?mode=ro", uri=True), sqlite3.connect(run)
    with target:
        source.backup(target)
    source.close()
    target.close()
    return run


def register_facts(db_file: Path) -> dict:
    """What the clients pick from: the township's matters, windows, case ids, names and numbers."""
    con = sqlite3.connect(f"file:{db_file}?mode=ro", uri=True)
    township = con.execute("SELECT center_id FROM service_case GROUP BY center_id ORDER BY count(*) DESC LIMIT 1").fetchone()[0]
    # The generated cases (ids from 1001, all readable by the township's staff), not the demo's few.
    lo, hi = con.execute("SELECT min(id), max(id) FROM service_case WHERE center_id = ? AND id > 1000",
                         (township,)).fetchone()
    # Matters a window registers alone (a joint one needs its co-handling windows chosen).
    matters = [r[0] for r in con.execute("SELECT id FROM matter WHERE center_id = ? AND voided = 0 AND kind = 'promised' "
                                         "AND handling_mode != 'joint'", (township,))]
    windows = [r[0] for r in con.execute("SELECT id FROM window WHERE center_id = ? AND voided = 0", (township,))]
    sample = con.execute("SELECT receipt_no, applicant_phone, applicant_id_no FROM service_case WHERE center_id = ? "
                         "AND id % 997 = 0 LIMIT 200", (township,)).fetchall()
    con.close()
    return dict(lo=lo, hi=hi, matters=matters, windows=windows, receipts=[r[0] for r in sample],
                phones=[r[1][:7] for r in sample], id_numbers=[r[2] for r in sample if r[2]])


# ---------------------------------------------------------------- the server

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(db_file: Path, port: int, threads: int) -> subprocess.Popen:
    env = dict(os.environ, DATABASE_URL=f"sqlite:///{db_file}", HALL_INSTANCE=str(OUT / "load_instance"),
               SECRET_KEY="load-test", PUBLIC_BASE_URL=f"http://127.0.0.1:{port}")
    log = open(OUT / "load_server.log", "w")
    server = subprocess.Popen([str(ROOT / ".venv" / "bin" / "flask"), "--app", "wsgi", "serve", "--host", "127.0.0.1",
                               "--port", str(port), "--no-jobs", "--threads", str(threads)],
                              cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    deadline = time.time() + 600  # the start upgrades the database and refreshes its statistics
    while time.time() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"the server stopped at start: see {OUT / 'load_server.log'}")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request("GET", "/login")
            if conn.getresponse().status == 200:
                conn.close()
                return server
        except OSError:
            pass
        time.sleep(0.5)
    server.terminate()
    raise SystemExit("the server did not answer within 10 minutes")


def start_workers(db_file: Path, workers: int, threads: int) -> tuple[subprocess.Popen, int]:
    """gunicorn with `workers` processes, as deploy/gunicorn.conf.py starts it (the register is already
    at the schema's head: prepare_database stamped it, gunicorn does not upgrade)."""
    sys.path.insert(0, str(HERE))
    from bench_county import start_gunicorn
    server, _host, port = start_gunicorn(f"sqlite:///{db_file}", workers, threads, OUT, name="load")
    return server, port


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system) of a process and every process below it, from /proc (Linux; 0 elsewhere):
    what the server spent, apart from the clients that load it on the same cores. Children that ended count
    too (their time is in their parent's cutime and cstime): gunicorn replaces a worker after max_requests, and
    before 2026-12-08 the time of a worker replaced during the run was lost."""
    tick = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
    total, pending = 0.0, [pid]
    while pending:
        current = pending.pop()
        try:
            fields = Path(f"/proc/{current}/stat").read_text().rsplit(")", 1)[1].split()
            total += sum(int(f) for f in fields[11:15]) / tick  # utime, stime, cutime, cstime
            for task in Path(f"/proc/{current}/task").iterdir():
                pending += [int(c) for c in (task / "children").read_text().split()]
        except (OSError, ValueError, IndexError):
            continue
    return total


def stop_server(server: subprocess.Popen) -> None:
    if server.poll() is None:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


# ---------------------------------------------------------------- a client

class Forms(HTMLParser):
    """The named controls of each <form> on a page, with the values a browser would send untouched."""

    def __init__(self):
        super().__init__()
        self.forms, self.current, self.select, self.textarea = [], None, None, None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self.current = {"_action": a.get("action") or "", "_method": (a.get("method") or "get").lower()}
            self.forms.append(self.current)
        elif tag == "option" and self.select and self.current is not None:
            if self.select not in self.current or "selected" in a:
                self.current[self.select] = a.get("value") or ""
        elif self.current is None or not a.get("name"):
            return
        elif tag == "input" and a.get("type") not in ("submit", "button", "image", "file"):
            if a.get("type") not in ("checkbox", "radio") or "checked" in a:
                self.current[a["name"]] = a.get("value") or ""
        elif tag == "select":
            self.select = a["name"]
        elif tag == "textarea":
            self.textarea = a["name"]
            self.current[a["name"]] = ""

    def handle_endtag(self, tag):
        if tag == "form":
            self.current = None
        elif tag == "select":
            self.select = None
        elif tag == "textarea":
            self.textarea = None

    def handle_data(self, data):
        if self.textarea and self.current is not None:
            self.current[self.textarea] += data


def form_with(page: str, field: str) -> dict:
    parser = Forms()
    parser.feed(page)
    return next(f for f in parser.forms if field in f)


class Client:
    """One person at a PC: a keep-alive connection and the session cookie."""

    def __init__(self, port: int, record):
        self.port, self.record, self.cookies, self.conn = port, record, {}, None

    def request(self, method: str, url: str, kind: str, body: dict | None = None, expect=(200,), extra=None):
        data = urlencode(body).encode() if body is not None else None
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items()), **(extra or {})}
        if data is not None:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        t = time.perf_counter()
        status, text, location, problem = 0, "", "", None
        for attempt in (1, 2):  # a kept-alive connection the server closed meanwhile: once more, on a new one
            try:
                if self.conn is None:
                    self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
                self.conn.request(method, url, body=data, headers=headers)
                response = self.conn.getresponse()
                text = response.read().decode("utf-8", "replace")
                status, location = response.status, response.getheader("Location") or ""
                for header, value in response.getheaders():
                    if header.lower() == "set-cookie":
                        name, _eq, rest = value.partition("=")
                        self.cookies[name.strip()] = rest.split(";", 1)[0]
                if response.getheader("Connection", "").lower() == "close":
                    self.conn.close()
                    self.conn = None
                problem = None
                break
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError) as exc:
                self.conn, problem = None, exc
                if attempt == 2:
                    break
            except (OSError, http.client.HTTPException) as exc:
                self.conn, problem = None, exc
                break
        ms = (time.perf_counter() - t) * 1000
        ok = problem is None and status in expect
        self.record(kind, ms, ok, f"{method} {url} -> {status or problem}")
        return status, text, location

    def login(self, username: str, password: str) -> None:
        _s, page, _l = self.request("GET", "/login", "login")
        form = form_with(page, "password")
        form.update(username=username, password=password)
        status, _t, location = self.request("POST", "/login", "login", _fields(form), expect=(302,))
        if status != 302:
            raise SystemExit(f"{username} could not log in ({status})")


def _fields(form: dict) -> dict:
    return {k: v for k, v in form.items() if not k.startswith("_")}


NAMES = ("秀英", "王", "李秀英", "欧阳", "建", "张伟", "刘", "陈")
SORTS = ("", "-intake_date", "intake_date", "receipt_no", "-due_date", "applicant_name")


def next_link(page: str) -> str | None:
    found = re.search(r'<a class="button" rel="next" href="([^"]+)"', page)
    return unescape(found.group(1)) if found else None


# What a browser sends when Next is clicked: the pager's links carry hx-get with hx-target="#record-table",
# so htmx asks for the table alone (records/_table.html) and swaps it in.
HTMX_TABLE = {"HX-Request": "true", "HX-Target": "record-table"}


def work(client: Client, username: str, facts: dict, until: float, rng: random.Random, counters: dict,
         worklist: bool = True, full_pages: bool = False) -> None:
    """Mixed reads and writes until the deadline: lists (filters, sorts, paging deep by Next), record
    pages, searches, the worklist, and now and then an intake through the form. Next is asked for as the
    browser asks for it (the table alone, by htmx), or with `full_pages` as a whole page each time."""
    director = username == "director"
    paging = None  # the list being paged through, and how many more pages to go
    while time.time() < until:
        roll = rng.random()
        if paging and roll < 0.30:  # the next page of the list on screen
            url, left = paging
            _s, page, _l = client.request("GET", url, "list_next", extra=None if full_pages else HTMX_TABLE)
            nxt = next_link(page)
            paging = (nxt, left - 1) if nxt and left > 1 else None
        elif roll < 0.45:
            args = rng.choice([{}, {"state": "accepted"}, {"state": "registered"}, {"window_id": rng.choice(facts["windows"])},
                               {"intake_date_from": "2026-11-01", "intake_date_to": "2026-11-23"},
                               {"view": "overdue"}, {"kind": "promised"}])
            if rng.random() < 0.5:
                args["sort"] = rng.choice(SORTS) or "-id"
            _s, page, _l = client.request("GET", "/r/cases/?" + urlencode(args), "list")
            nxt = next_link(page)
            paging = (nxt, rng.choice((3, 10, 40))) if nxt and rng.random() < 0.7 else None
        elif roll < 0.62:
            client.request("GET", f"/r/cases/{rng.randint(facts['lo'], facts['hi'])}", "record")
        elif roll < 0.77:
            q = rng.choice([rng.choice(NAMES), rng.choice(facts["receipts"]), rng.choice(facts["phones"]),
                            rng.choice(facts["id_numbers"] or ["430923199001011234"])])
            client.request("GET", f"/r/cases/?q={quote(q)}", "search")
        elif roll < 0.90:
            if worklist:
                client.request("GET", "/worklist", "worklist")
            else:  # --no-worklist: a record page instead (to see what the rest costs without it)
                client.request("GET", f"/r/cases/{rng.randint(facts['lo'], facts['hi'])}", "record")
        elif roll < 0.95 and not director:
            intake(client, facts, rng, counters)
        else:
            client.request("GET", "/r/cases/?page=" + str(rng.choice((2, 5, 40))), "list_page_n")  # an old link


def intake(client: Client, facts: dict, rng: random.Random, counters: dict) -> None:
    """The counter: open the intake form for a matter, fill in the applicant, tick all, register."""
    _s, page, _l = client.request("GET", f"/r/cases/new?matter_id={rng.choice(facts['matters'])}", "intake_form")
    try:
        form = form_with(page, "form_token")
    except StopIteration:
        return
    form.update(applicant_name=rng.choice("王李张刘陈杨黄赵") + rng.choice(("秀英", "建国", "丽", "伟")),
                applicant_phone=f"137{rng.randrange(10**8):08d}", all_received="1")
    if rng.random() < 0.5:
        form["then"] = "accept"
    status, text, location = client.request("POST", "/r/cases/new", "intake_post", _fields(form), expect=(302,))
    if status == 302:
        counters["registered"] += 1
    elif status == 200:
        errors = re.findall(r'class="error"[^>]*>([^<]+)<', text)
        client.record("intake_post", 0, True, f"form refused: {errors[:3]}")  # noted for the report, not timed


# ---------------------------------------------------------------- the run

def percentile(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))] if values else 0.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=250_000)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--workers", type=int, default=1,
                        help="1: flask serve (waitress, one process); more: gunicorn with this many processes")
    parser.add_argument("--threads", type=int, default=None,
                        help="threads per process (default: 8 for flask serve, 2 per gunicorn worker)")
    parser.add_argument("--db", type=Path, default=OUT / "load.sqlite3")
    parser.add_argument("--fresh", action="store_true", help="build the register again")
    parser.add_argument("--no-worklist", action="store_true", help="record pages instead of the worklist")
    parser.add_argument("--full-pages", action="store_true",
                        help="Next as a whole page (before 2026-12-07 the test asked so; a browser asks for the table)")
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    prepare_database(args.db.resolve(), args.cases, args.fresh)
    facts = register_facts(args.db)
    served = working_copy(args.db.resolve())
    if args.workers > 1:
        args.threads = args.threads or 2  # deploy/gunicorn.conf.py's default
        server, port = start_workers(served, args.workers, args.threads)
    else:
        args.threads = args.threads or 8
        port = free_port()
        server = start_server(served, port, args.threads)
    from app.demo import DEMO_PASSWORD, STAFF
    users = ["director"] + [u for u, _n, roles, _w, _d in STAFF if u.startswith("clerk")]
    lock, timings, errors, notes = threading.Lock(), {}, [], []
    counters = {"registered": 0}
    measuring = threading.Event()

    def record(kind, ms, ok, what):
        with lock:
            if not ok:
                errors.append(what)
            elif what.startswith("form refused"):
                notes.append(what)
            elif measuring.is_set() and ms:
                timings.setdefault(kind, []).append(ms)

    try:
        clients = []
        for i in range(args.clients):
            # Three directors (every third of them at the director's worklist), the rest at the counter.
            username = users[0] if i % 7 == 0 else users[1 + i % (len(users) - 1)]
            client = Client(port, record)
            client.login(username, DEMO_PASSWORD)
            clients.append((client, username))
        load = os.getloadavg()[0]
        server_cpu, client_cpu = cpu_seconds(server.pid), time.process_time()
        start = time.time()
        until = start + args.seconds
        measuring.set()
        threads = [threading.Thread(target=work, args=(c, u, facts, until, random.Random(n), counters,
                                                      not args.no_worklist, args.full_pages), daemon=True)
                   for n, (c, u) in enumerate(clients)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        elapsed = time.time() - start
        load_after = os.getloadavg()[0]
        server_cpu, client_cpu = cpu_seconds(server.pid) - server_cpu, time.process_time() - client_cpu
    finally:
        stop_server(server)
    everything = [ms for values in timings.values() for ms in values]
    results = {
        "clients": args.clients, "seconds": round(elapsed, 1), "server": "flask serve (waitress)" if args.workers == 1 else f"gunicorn, {args.workers} workers",
        "server_threads": args.threads,
        "worklist": not args.no_worklist, "next_as": "whole page" if args.full_pages else "table (htmx)",
        "cases": facts["hi"] - facts["lo"] + 1, "requests": len(everything) + len(errors),
        "requests_per_s": round((len(everything) + len(errors)) / elapsed, 1), "errors": len(errors),
        "p50_ms": round(statistics.median(everything), 1) if everything else None,
        "p95_ms": round(percentile(everything, 95), 1), "p99_ms": round(percentile(everything, 99), 1),
        "registered": counters["registered"], "intake_refused": len(notes),
        "by_kind": {k: {"n": len(v), "p50_ms": round(statistics.median(v), 1), "p95_ms": round(percentile(v, 95), 1)}
                    for k, v in sorted(timings.items())},
        "machine": {"cpus": os.cpu_count(), "load_1min_before": round(load, 2), "load_1min_after": round(load_after, 2)},
        # CPU the server and the clients each used while measuring: per request, the server's cost on this machine.
        "server_cpu_s": round(server_cpu, 1), "client_cpu_s": round(client_cpu, 1),
        "server_cpu_ms_per_request": round(server_cpu * 1000 / max(1, len(everything) + len(errors)), 1),
        "error_sample": errors[:10], "intake_refused_sample": notes[:3],
    }
    results["meets_targets"] = (results["requests_per_s"] >= TARGETS["rps"] and results["errors"] == TARGETS["errors"]
                                and results["p95_ms"] < TARGETS["p95_ms"])
    (OUT / "load_results.json").write_text(json.dumps(results, ensure_ascii=False, indent=2))
    print(json.dumps(results, ensure_ascii=False, indent=2))
    print(f"{results['requests_per_s']} requests/s, {results['errors']} errors, p50 {results['p50_ms']} ms, "
          f"p95 {results['p95_ms']} ms, p99 {results['p99_ms']} ms  (targets: >= {TARGETS['rps']}/s, 0 errors, "
          f"p95 < {TARGETS['p95_ms']} ms); server CPU {results['server_cpu_ms_per_request']} ms a request, "
          f"clients {results['client_cpu_s']} s of CPU")


if __name__ == "__main__":
    main()
