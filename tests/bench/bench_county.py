"""A county on PostgreSQL: 20 centres × 250,000 cases (5,000,000), gunicorn with 4 workers, 20 concurrent
clients for 60 s as directors and clerks of several centres: list pages (filters, deep pages, search by a
name part and by ID number), record pages, the worklist. Reports p50/p95/p99 and requests/s.

Run (PostgreSQL as in .ci/postgres-tests; the role hall_ci may create databases):
    .venv/bin/python tests/bench/bench_county.py            # builds hall_bench (≈ 20-30 min), then measures
    .venv/bin/python tests/bench/bench_county.py --reuse    # measures on the database built before

Never uses hall_ci (the test suite's database). Figures go to tests/bench/out/county-results.json.
"""
from __future__ import annotations

import argparse
import html
import http.client
import json
import os
import random
import re
import signal
import statistics
import subprocess
import sys
import threading
import time
import urllib.parse
from datetime import date, timedelta
from http.cookies import SimpleCookie
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests" / "bench"))
OUT = ROOT / "tests" / "bench" / "out"

from bench_cases import applicant_name, id_number, percentile  # noqa: E402  (the shapes of the one-centre bench)

DEFAULT_URL = "postgresql://hall_ci:hall_ci@127.0.0.1/hall_bench"
BIG_TABLES = ("service_case", "case_material", "case_name_gram", "case_handover")
START, END = date(2021, 11, 23), date(2026, 11, 23)   # five years of intake
PASSWORD = "demo12345"
NAME_PARTS = ("秀英", "王", "李秀英", "欧阳", "建")


# ------------------------------------------------------------------ the database

def _plain(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://")


def create_database(url: str, drop: bool) -> bool:
    """Make the bench database (dropped first when `drop`); True when it was made now."""
    import psycopg
    parts = urllib.parse.urlsplit(_plain(url))
    name = parts.path.lstrip("/")
    if name in ("hall_ci", "postgres", "template0", "template1", ""):
        raise SystemExit(f"refusing to build the bench into the database {name!r}: choose your own (--url)")
    admin = urllib.parse.urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        if exists and not drop:
            return False
        if exists:
            conn.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    return True


def build_centres(n_centres: int):
    """The demo county (its 城关镇 is centre 1), plus n − 1 township centres with the same hall:
    nine windows, eight departments, the matter catalogue, a director and ten clerks each."""
    from app import demo
    from app.extensions import db
    from models.catalogue import DEFAULT_WINDOWS, Department, Window
    from models.core import CLERK, DIRECTOR, Center

    ctx = demo.build_demo()
    db.session.flush()
    centres = [dict(center=ctx.township, director="director",
                    clerks=[ctx.users[f"clerk{n}"].id for n in range(1, 11)],
                    clerk_names=[f"clerk{n}" for n in range(1, 11)],
                    matters=[m for m in ctx.matters if m.kind == "promised"],
                    windows=[w.id for w in ctx.windows.values()])]
    for k in range(2, n_centres + 1):
        code = f"t{k:02d}"
        centre = Center(name=f"第{k}镇便民服务中心", code=code, kind="township", parent_id=ctx.county.id,
                        address=f"示范县第{k}镇正街{k}号", phone=f"0737-43{k:02d}000", complaint_phone=f"0737-43{k:02d}012")
        db.session.add(centre)
        db.session.flush()
        windows = {n: Window(center=centre, number=n, name=name) for n, name in enumerate(DEFAULT_WINDOWS, 1)}
        db.session.add_all(windows.values())
        for name, contact, phone, numbers in demo.DEPARTMENTS:
            dept = Department(center=centre, name=name, contact=contact, phone=phone, address="示范县行政中心")
            db.session.add(dept)
            for number in numbers:
                windows[number].department = dept
        db.session.flush()
        matters = [demo._matter(centre, windows[row[0]], windows[row[0]].department, row) for row in demo.MATTERS]
        demo._user(ctx, centre, f"{code}_director", f"主任{k}", (DIRECTOR,), "镇人民政府", 100 * k)
        for n in range(1, 11):
            demo._user(ctx, centre, f"{code}_clerk{n}", f"窗口{k}-{n}", (CLERK,), "镇党政办", 100 * k + n)
        db.session.flush()
        centres.append(dict(center=centre, director=f"{code}_director",
                            clerks=[ctx.users[f"{code}_clerk{n}"].id for n in range(1, 11)],
                            clerk_names=[f"{code}_clerk{n}" for n in range(1, 11)],
                            matters=[m for m in matters if m.kind == "promised"],
                            windows=[w.id for w in windows.values()]))
    db.session.commit()
    for c in centres:  # plain values: the load below runs outside the session
        c["center_id"] = c.pop("center").id
        c["matters"] = [dict(id=m.id, window_id=m.window_id, department_id=m.department_id, promised_days=m.promised_days,
                             materials=[(x.name, x.form, x.copies) for x in m.materials[:3]]) for m in c["matters"]]
    db.session.commit()  # no transaction left open: dropping the constraints below locks these tables
    return centres


def _copy_columns(table, given: set[str]) -> tuple[list[str], dict]:
    """The columns COPY writes: those given, plus every other one with a plain default (what the ORM would
    have put there). Columns with a server default or an id sequence are left to PostgreSQL."""
    names, fill = [], {}
    for column in table.columns:
        if column.name in given:
            names.append(column.name)
        elif column.default is not None and getattr(column.default, "is_scalar", False):
            names.append(column.name)
            fill[column.name] = column.default.arg
        elif column.default is not None and column.name not in given:
            raise SystemExit(f"{table.name}.{column.name} has a computed default: give it a value in bench_county.py")
    return names, fill


def strip_big_tables(conn) -> None:
    """Loading is much faster without indexes, unique and foreign-key constraints: drop them (they come
    back from the models' declarations after the load). service_case keeps its primary key (others point to it)."""
    from sqlalchemy import inspect, text
    inspector = inspect(conn)
    for table in BIG_TABLES:
        for fk in inspector.get_foreign_keys(table):
            conn.execute(text(f'ALTER TABLE {table} DROP CONSTRAINT "{fk["name"]}"'))
    for table in BIG_TABLES:
        for uc in inspector.get_unique_constraints(table):
            conn.execute(text(f'ALTER TABLE {table} DROP CONSTRAINT "{uc["name"]}"'))
        for ix in inspector.get_indexes(table):
            conn.execute(text(f'DROP INDEX IF EXISTS "{ix["name"]}"'))
    pk = inspector.get_pk_constraint("case_name_gram")
    conn.execute(text(f'ALTER TABLE case_name_gram DROP CONSTRAINT "{pk["name"]}"'))


def restore_big_tables(conn, log) -> None:
    from sqlalchemy import UniqueConstraint, text
    from sqlalchemy.schema import AddConstraint

    from app.extensions import db
    conn.execute(text("SET maintenance_work_mem = '512MB'"))
    t = time.perf_counter()
    conn.execute(text("ALTER TABLE case_name_gram ADD PRIMARY KEY (center_id, gram, case_id)"))
    log(f"  case_name_gram primary key: {time.perf_counter() - t:.0f} s")
    for name in BIG_TABLES:
        table = db.metadata.tables[name]
        for constraint in table.constraints:
            if isinstance(constraint, UniqueConstraint):
                conn.execute(AddConstraint(constraint))
        for index in sorted(table.indexes, key=lambda i: i.name):
            t = time.perf_counter()
            index.create(conn)
            log(f"  {index.name}: {time.perf_counter() - t:.0f} s")
    for name in BIG_TABLES:
        for fk in db.metadata.tables[name].foreign_key_constraints:
            conn.execute(AddConstraint(fk))
    log("  foreign keys checked and restored")


def load_cases(url: str, centres, per_centre: int, log) -> dict:
    """COPY the cases of every centre (with 3 materials each, a handover for a third, the name pieces)."""
    import psycopg

    from app.extensions import db
    from app.timeutil import now
    from models.case import name_grams
    case_table = db.metadata.tables["service_case"]
    leg_table = db.metadata.tables["case_handover"]
    stamp = now()
    days = (END - START).days
    rng = random.Random(7)
    case_given = {"id", "center_id", "state", "receipt_no", "applicant_name", "applicant_phone", "applicant_id_no",
                  "matter_id", "window_id", "kind", "channel", "responsible_id", "intake_date", "clock_start", "day_one",
                  "due_date", "promised_days", "completed_on", "delivery_method", "delivered_on", "created_by_id",
                  "created_at", "updated_at"}
    case_cols, case_fill = _copy_columns(case_table, case_given)
    leg_given = {"center_id", "case_id", "department_id", "handed_on", "state", "created_at", "updated_at",
                 "created_by_id", "returned_on"}
    leg_cols = [c for c in _copy_columns(leg_table, leg_given | {"id"})[0] if c != "id"]
    leg_fill = _copy_columns(leg_table, leg_given)[1]
    counts = dict(cases=0, materials=0, handovers=0, grams=0)
    with psycopg.connect(_plain(url)) as conn:
        first_id = conn.execute("SELECT coalesce(max(id), 0) + 1000 FROM service_case").fetchone()[0]
        i_global = 0
        for c_no, c in enumerate(centres):
            t = time.perf_counter()
            matters, clerks = c["matters"], c["clerks"]
            with conn.cursor() as cur:
                with cur.copy(f"COPY service_case ({', '.join(case_cols)}) FROM STDIN") as copy_cases:
                    rows_mat, rows_gram, rows_leg = [], [], []
                    for i in range(per_centre):
                        case_id = first_id + i_global
                        m = matters[i % len(matters)]
                        intake = START + timedelta(days=int(days * i / per_centre))
                        state = rng.choice(("accepted", "completed", "registered")) if intake > date(2026, 10, 1) else "delivered"
                        due = intake + timedelta(days=m["promised_days"] + 2)
                        name = applicant_name(rng)
                        done = due if state in ("completed", "delivered") else None
                        row = dict(case_fill, id=case_id, center_id=c["center_id"], state=state,
                                   receipt_no=f"{intake.year}-{i:07d}", applicant_name=name,
                                   applicant_phone=f"139{i_global:08d}", applicant_id_no=id_number(i_global),
                                   matter_id=m["id"], window_id=m["window_id"], kind="promised", channel="window",
                                   responsible_id=clerks[i % len(clerks)], intake_date=intake, clock_start=intake,
                                   day_one=intake, due_date=due, promised_days=m["promised_days"], completed_on=done,
                                   delivery_method="pickup" if state == "delivered" else "",
                                   delivered_on=due if state == "delivered" else None,
                                   created_by_id=clerks[i % len(clerks)], created_at=stamp, updated_at=stamp)
                        copy_cases.write_row([row[k] for k in case_cols])
                        for seq, (mname, form, copies) in enumerate(m["materials"], 1):
                            rows_mat.append((case_id, seq, mname, form, copies, "", True))
                        for gram in name_grams(name):
                            rows_gram.append((c["center_id"], gram, case_id))
                        if m["department_id"] and i % 3 == 0:
                            leg = dict(leg_fill, center_id=c["center_id"], case_id=case_id, department_id=m["department_id"],
                                       handed_on=intake, state="returned" if state == "delivered" else "handed",
                                       returned_on=done if state == "delivered" else None,
                                       created_by_id=clerks[i % len(clerks)], created_at=stamp, updated_at=stamp)
                            rows_leg.append([leg[k] for k in leg_cols])
                        i_global += 1
                with cur.copy("COPY case_material (case_id, seq, name, form, copies, note, received) FROM STDIN") as copy:
                    for r in rows_mat:
                        copy.write_row(r)
                with cur.copy("COPY case_name_gram (center_id, gram, case_id) FROM STDIN") as copy:
                    for r in rows_gram:
                        copy.write_row(r)
                with cur.copy(f"COPY case_handover ({', '.join(leg_cols)}) FROM STDIN") as copy:
                    for r in rows_leg:
                        copy.write_row(r)
            conn.commit()
            counts["cases"] += per_centre
            counts["materials"] += len(rows_mat)
            counts["grams"] += len(rows_gram)
            counts["handovers"] += len(rows_leg)
            c["first_id"], c["last_id"] = first_id + i_global - per_centre, first_id + i_global - 1
            log(f"centre {c_no + 1}/{len(centres)}: {per_centre} cases in {time.perf_counter() - t:.0f} s")
        for table in ("service_case", "case_material", "case_handover"):  # new rows after ours get new ids
            conn.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))")
        conn.commit()
    return counts


def generate(url: str, n_centres: int, per_centre: int, log) -> dict:
    from flask_migrate import stamp
    from sqlalchemy import text

    from app import create_app
    from app.extensions import db
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench"})
    timings = {}
    with app.app_context():
        db.create_all()
        stamp(directory=app.extensions["migrate"].directory)  # `flask db upgrade` then has nothing to do
        t = time.perf_counter()
        centres = build_centres(n_centres)
        db.session.remove()
        with db.engine.begin() as conn:
            strip_big_tables(conn)
        db.session.remove()
        t = time.perf_counter()
        counts = load_cases(url, centres, per_centre, log)
        timings["load_s"] = round(time.perf_counter() - t, 1)
        t = time.perf_counter()
        with db.engine.begin() as conn:
            restore_big_tables(conn, log)
        timings["indexes_s"] = round(time.perf_counter() - t, 1)
        t = time.perf_counter()
        with db.engine.connect() as conn:
            conn.execution_options(isolation_level="AUTOCOMMIT").execute(text("VACUUM ANALYZE"))
        timings["vacuum_analyze_s"] = round(time.perf_counter() - t, 1)
        size = db.session.scalar(text("SELECT pg_size_pretty(pg_database_size(current_database()))"))
        db.session.remove()
    return dict(timings, **counts, database_size=size)


def centres_in(url: str) -> list[dict]:
    """What the clients need of each centre (reuse: read from the database)."""
    import psycopg
    with psycopg.connect(_plain(url)) as conn:
        rows = conn.execute(
            "SELECT c.id, c.code, min(s.id), max(s.id), count(*) FROM center c JOIN service_case s ON s.center_id = c.id "
            "GROUP BY c.id, c.code HAVING count(*) > 1000 ORDER BY c.id").fetchall()
        centres = []
        for cid, code, lo, hi, n in rows:
            prefix = "" if code == "chengguan" else f"{code}_"
            windows = [w for (w,) in conn.execute("SELECT id FROM \"window\" WHERE center_id = %s ORDER BY number", (cid,))]
            ids = [x for (x,) in conn.execute(
                "SELECT applicant_id_no FROM service_case WHERE center_id = %s AND id %% 9973 = 0 LIMIT 50", (cid,))]
            records = [x for (x,) in conn.execute(  # ids that exist (the demo's own cases leave a gap)
                "SELECT id FROM service_case WHERE center_id = %s AND id %% 101 = 0 LIMIT 3000", (cid,))]
            centres.append(dict(center_id=cid, code=code, first_id=lo, last_id=hi, cases=n, windows=windows,
                                director=f"{prefix}director", clerk_names=[f"{prefix}clerk{k}" for k in range(1, 11)],
                                id_numbers=ids, record_ids=records or [lo]))
    return centres


# ------------------------------------------------------------------ the load

class Client:
    """One browser of one user: a kept-alive connection, the session cookie, the link to the next page."""

    def __init__(self, host: str, port: int, username: str):
        self.host, self.port, self.username = host, port, username
        self.conn = None
        self.cookies: dict[str, str] = {}

    def get(self, path: str, body: dict | None = None) -> tuple[int, str, str]:
        for attempt in (1, 2):  # a connection the server closed (max_requests, keep-alive timeout): once more
            if self.conn is None:
                self.conn = http.client.HTTPConnection(self.host, self.port, timeout=60)
            headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())}
            data = None
            if body is not None:
                data = urllib.parse.urlencode(body)
                headers["Content-Type"] = "application/x-www-form-urlencoded"
            try:
                self.conn.request("POST" if body is not None else "GET", path, body=data, headers=headers)
                response = self.conn.getresponse()
                text = response.read().decode("utf-8", "replace")
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError, http.client.CannotSendRequest):
                self.conn.close()
                self.conn = None
                if attempt == 2:
                    raise
                continue
            for header in response.headers.get_all("Set-Cookie") or []:
                for key, morsel in SimpleCookie(header).items():
                    self.cookies[key] = morsel.value
            if response.getheader("Connection", "").lower() == "close":
                self.conn.close()
                self.conn = None
            return response.status, text, response.getheader("Location", "")
        raise AssertionError("unreachable")

    def login(self) -> None:
        status, page, _ = self.get("/login")
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
        status, page, location = self.get("/login", {"username": self.username, "password": PASSWORD, "csrf_token": token})
        if status != 302 or "/login" in location:
            raise SystemExit(f"login of {self.username} failed: {status} {page[:500]}")


def plan_for(centre: dict, rng: random.Random):
    """The next request of a user of this centre: (category, path)."""
    roll = rng.random()
    if roll < 0.55:
        kind = rng.choice(("filter", "filter", "deep", "name", "id"))
        if kind == "filter":
            return "list_filter", rng.choice((
                "/r/cases/", "/r/cases/?state=accepted", f"/r/cases/?window_id={rng.choice(centre['windows'])}",
                "/r/cases/?intake_date_from=2026-11-01&intake_date_to=2026-11-23", "/r/cases/?state=delivered&sort=-intake_date",
                f"/r/cases/?q=139{rng.randrange(5000):04d}"))
        if kind == "deep":
            return "list_deep", rng.choice(("/r/cases/?page=40&sort=-intake_date", "/r/cases/?page=400", "NEXT"))
        if kind == "name":
            return "list_search_name", "/r/cases/?q=" + urllib.parse.quote(rng.choice(NAME_PARTS))
        ids = centre.get("id_numbers") or [id_number(0)]
        return "list_search_id", "/r/cases/?q=" + (rng.choice(ids) if rng.random() < 0.9 else "430923199001011234")
    if roll < 0.85:
        return "record", f"/r/cases/{rng.choice(centre['record_ids'])}"
    return "worklist", "/worklist"


NEXT_LINK = re.compile(r'href="([^"]*[?&](?:amp;)?after=[^"]*)"')


def run_load(base_host: str, port: int, centres: list[dict], n_clients: int, seconds: float, think: float) -> dict:
    users = []
    for k in range(n_clients):
        centre = centres[k % len(centres)] if k < len(centres) else centres[(k * 7) % len(centres)]
        username = centre["director"] if k % 2 == 0 else centre["clerk_names"][k % 10]
        users.append((centre, username))
    samples: list[tuple[str, float, int]] = []
    errors: list[str] = []
    lock = threading.Lock()
    stop_at = [0.0]
    started_at = [0.0]

    def go() -> None:  # run by the last one to arrive, before any is let through
        started_at[0] = time.monotonic()
        stop_at[0] = started_at[0] + seconds
    ready = threading.Barrier(n_clients + 1, action=go)

    def worker(k: int) -> None:
        centre, username = users[k]
        rng = random.Random(k)
        client = Client(base_host, port, username)
        client.login()
        client.get("/r/cases/")
        next_link = None
        ready.wait()
        mine = []
        while time.monotonic() < stop_at[0]:
            category, path = plan_for(centre, rng)
            if path == "NEXT":
                path = next_link or "/r/cases/"
            t = time.perf_counter()
            try:
                status, page, location = client.get(path)
            except Exception as exc:  # noqa: BLE001  (an error is a figure, not the end of the bench)
                with lock:
                    errors.append(f"{path}: {exc!r}")
                client.conn = None
                continue
            ms = (time.perf_counter() - t) * 1000
            if status != 200:
                with lock:
                    errors.append(f"{path}: {status} {location}")
            if category.startswith("list"):
                found = NEXT_LINK.findall(page)
                next_link = html.unescape(found[-1]) if found else None
            mine.append((category, ms, status))
            if think:
                time.sleep(rng.uniform(0, 2 * think))
        with lock:
            samples.extend(mine)

    threads = [threading.Thread(target=worker, args=(k,), daemon=True) for k in range(n_clients)]
    for t in threads:
        t.start()
    ready.wait()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - started_at[0]
    result = {"requests": len(samples), "errors": len(errors), "error_examples": errors[:5],
              "requests_per_s": round(len(samples) / elapsed, 1), "seconds": round(elapsed, 1),
              "users": sorted({u for _c, u in users})}
    groups: dict[str, list[float]] = {}
    for category, ms, _status in samples:
        groups.setdefault(category, []).append(ms)
        if category.startswith("list"):
            groups.setdefault("list", []).append(ms)
    groups["all"] = [ms for _c, ms, _s in samples]
    for name, values in sorted(groups.items()):
        result[name] = {"n": len(values), "p50_ms": round(statistics.median(values), 1),
                        "p95_ms": round(percentile(values, 95), 1), "p99_ms": round(percentile(values, 99), 1)}
    return result


def start_gunicorn(url: str, workers: int, threads: int | None, log_dir: Path, name: str = "county"):
    """gunicorn as deployed (deploy/gunicorn.conf.py) on `url`, the database already at the schema's head;
    logs go to log_dir/<name>-access.log and <name>-gunicorn.log. Returns (process, host, port)."""
    env = dict(os.environ, DATABASE_URL=url, WEB_CONCURRENCY=str(workers), HALL_BIND="127.0.0.1:0",
               HALL_ACCESS_LOG=str(log_dir / f"{name}-access.log"), SECRET_KEY=f"bench-{name}",
               HALL_INSTANCE=str(log_dir / f"{name}-instance"))
    if threads:
        env["HALL_THREADS"] = str(threads)
    error_log = log_dir / f"{name}-gunicorn.log"
    with open(error_log, "wb") as err:
        server = subprocess.Popen([sys.executable, "-m", "gunicorn", "-c", "deploy/gunicorn.conf.py", "wsgi:app"],
                                  cwd=ROOT, env=env, stdout=err, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        log = error_log.read_text(errors="replace")
        found = re.search(r"Listening at: http://([\d.]+):(\d+)", log)
        ready = len(re.findall(r"Worker ready", log))
        if found and ready >= workers:  # every worker has loaded the app: none gets all the clients
            return server, found.group(1), int(found.group(2))
        if server.poll() is not None:
            raise SystemExit(error_log.read_text())
        time.sleep(0.2)
    server.kill()
    raise SystemExit("gunicorn did not start")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL))
    parser.add_argument("--centres", type=int, default=20)
    parser.add_argument("--cases-per-centre", type=int, default=250_000)
    parser.add_argument("--reuse", action="store_true", help="keep the database built before (build it if missing)")
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--threads", type=int, default=None, help="threads per worker (default: deploy/gunicorn.conf.py)")
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--think", type=float, default=0.0, help="mean pause of a client between requests, seconds")
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    os.environ["HALL_INSTANCE"] = str(OUT / "county-instance")
    from app.config import normalise_url
    url = normalise_url(args.url)

    def log(message: str) -> None:
        print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)

    results: dict = {"centres": args.centres, "cases_per_centre": args.cases_per_centre, "workers": args.workers,
                     "clients": args.clients, "seconds": args.seconds, "think_s": args.think,
                     "cpus": os.cpu_count(), "load_average_before": os.getloadavg()}
    made = create_database(url, drop=not args.reuse)
    if not made:
        import psycopg
        with psycopg.connect(_plain(url)) as conn:
            try:
                have = conn.execute("SELECT count(*) FROM service_case").fetchone()[0]
            except psycopg.Error:
                have = 0
        if have < args.centres * args.cases_per_centre:
            log(f"database has {have} cases, not {args.centres * args.cases_per_centre}: building it again")
            made = create_database(url, drop=True)
    if made:
        log(f"building {args.centres} × {args.cases_per_centre} cases")
        t = time.perf_counter()
        results["build"] = generate(url, args.centres, args.cases_per_centre, log)
        results["build"]["total_s"] = round(time.perf_counter() - t, 1)
        log(f"built: {results['build']}")
    centres = centres_in(url)
    results["cases_total"] = sum(c["cases"] for c in centres)
    server, host, port = start_gunicorn(url, args.workers, args.threads, OUT)
    try:
        log(f"gunicorn {args.workers} workers on {host}:{port}; {args.clients} clients for {args.seconds:.0f} s")
        results["load"] = run_load(host, port, centres, args.clients, args.seconds, args.think)
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=60)
    results["load_average_after"] = os.getloadavg()
    (OUT / "county-results.json").write_text(json.dumps(results, ensure_ascii=False, indent=2))
    print(json.dumps(results, ensure_ascii=False, indent=2))
    lst = results["load"]["list"]
    print(f"list pages: p50 {lst['p50_ms']} ms, p95 {lst['p95_ms']} ms, p99 {lst['p99_ms']} ms; "
          f"{results['load']['requests_per_s']} requests/s, {results['load']['errors']} errors "
          f"(target: list p95 < 100 ms: {'met' if lst['p95_ms'] < 100 else 'NOT met'})")


if __name__ == "__main__":
    main()
