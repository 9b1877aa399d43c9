"""A busy morning at the queue: 200 tickets taken and called at 9 windows while the hall display polls,
then the display's poll measured on a day that already holds a year of tickets (≈ 50,000).

Run: .venv/bin/python tests/bench/bench_queue.py [--days 250] [--requests 500]
Prints and stores p50/p95 of the display poll (`/p/<code>/display/calls`) and of a window's
"call the next number" in tests/bench/out/queue.json.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from datetime import date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
OUT = ROOT / "tests" / "bench" / "out"

from tests.bench.bench_cases import measure, percentile  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--days", type=int, default=250)
    parser.add_argument("--requests", type=int, default=500)
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    db_file = OUT / "queue.sqlite3"
    if db_file.exists():
        db_file.unlink()
    os.environ["HALL_INSTANCE"] = str(OUT)
    from sqlalchemy import insert, select

    from app import create_app, queue, timeutil
    from app.extensions import db
    from models.catalogue import Window
    from models.core import Center, User
    from models.queue import QueueTicket
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{db_file}", "SECRET_KEY": "bench",
                      "WTF_CSRF_ENABLED": False})
    results = {"history_days": args.days}
    with app.app_context():
        db.create_all()
        from app.demo import build_demo
        build_demo()
        db.session.commit()
        center = db.session.scalar(select(Center).where(Center.code == "chengguan"))
        windows = db.session.scalars(select(Window).where(Window.center_id == center.id).order_by(Window.number)).all()
        clerk = db.session.scalar(select(User).where(User.username == "clerk1"))
        day = date(2026, 12, 2)
        # A year of past days, 200 tickets each, all served.
        rows = []
        for d in range(1, args.days + 1):
            past = day - timedelta(days=d)
            for n in range(1, 201):
                at = datetime.combine(past, datetime.min.time()) + timedelta(hours=8, minutes=30 + n)
                rows.append(dict(center_id=center.id, day=past, number=n, window_id=windows[n % 9].id, priority="",
                                 rank=2, state="done", taken_at=at, called_at=at + timedelta(minutes=5),
                                 called_window_id=windows[n % 9].id, called_by_id=clerk.id,
                                 finished_at=at + timedelta(minutes=9), recalls=0, transfers=0))
            if len(rows) > 20_000:
                db.session.execute(insert(QueueTicket), rows)
                rows = []
        if rows:
            db.session.execute(insert(QueueTicket), rows)
        db.session.execute(__import__("sqlalchemy").delete(QueueTicket).where(QueueTicket.day == day))
        db.session.commit()
        db.session.execute(__import__("sqlalchemy").text("ANALYZE"))
        timeutil_today = timeutil.today
        timeutil.today = lambda: day
        client = app.test_client()
        url = f"/p/{center.code}/display/calls"
        # The morning: 200 tickets taken and called at 9 windows, the display polled after every call.
        start = time.perf_counter()
        call_ms, poll_ms = [], []
        at = datetime.combine(day, datetime.min.time()) + timedelta(hours=8, minutes=30)
        taken = called = 0
        while called < 200:
            for _ in range(3):
                if taken < 200:
                    queue.take_ticket(center.id, window_id=windows[taken % 9].id, at=at)
                    taken += 1
            db.session.commit()
            for window in windows:
                t = time.perf_counter()
                ticket = queue.call_next(window, clerk, at)
                db.session.commit()
                call_ms.append((time.perf_counter() - t) * 1000)
                called += ticket is not None
                t = time.perf_counter()
                assert client.get(url).status_code == 200
                poll_ms.append((time.perf_counter() - t) * 1000)
            at += timedelta(minutes=1)
        numbers = db.session.scalars(select(QueueTicket.number).where(QueueTicket.day == day,
                                                                      QueueTicket.called_at.is_not(None))).all()
        assert sorted(numbers) == list(range(1, 201)), "a number was called twice or never"
        results["morning_seconds"] = round(time.perf_counter() - start, 2)
        results["call_next_ms_p95"] = round(percentile(call_ms, 95), 1)
        results["poll_during_morning_ms_p95"] = round(percentile(poll_ms, 95), 1)
        measure(client, [url], args.requests, results, "display_poll")
        timeutil.today = timeutil_today
    print(json.dumps(results, ensure_ascii=False, indent=2))
    (OUT / "queue.json").write_text(json.dumps(results, ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()
