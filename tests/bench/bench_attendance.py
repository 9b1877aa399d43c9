"""A year of attendance-machine punches for 50 staff (≈ 25,000 rows) through the import's confirm step, as the
director's browser sends it: POST /attendance/import/<id>/confirm (read the file, map, check every row, group,
classify against the 2026 calendar and the staff's approved leave, replace the machine records, write them).
A second run re-imports the same file (every record replaced). Target: under 3 s. The upload (which reads
the file once and keeps it as UTF-8 CSV) and the preview (every row checked) are timed and printed too.

Run: .venv/bin/python tests/bench/bench_attendance.py [--staff 50] [--year 2026] [--xlsx]
"""
from __future__ import annotations

import argparse
import csv
import io
import os
import random
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
LIMIT_SECONDS = 3.0


def export(staff, year: int, xlsx: bool) -> tuple[bytes, int]:
    """Two punches a working day per person (some late, some early, a few days without any)."""
    from app.workdays import is_working_day
    rnd = random.Random(7)
    rows = []
    day = date(year, 1, 1)
    while day.year == year:
        if is_working_day(day):
            for user in staff:
                if rnd.random() < 0.01:
                    continue
                arrive = f"08:{rnd.randint(0, 29):02d}" if rnd.random() < 0.9 else f"08:{rnd.randint(30, 59):02d}"
                leave = f"17:{rnd.randint(30, 59):02d}" if rnd.random() < 0.95 else f"17:{rnd.randint(0, 29):02d}"
                rows.append((user.username, user.name, day.isoformat(), arrive))
                rows.append((user.username, user.name, day.isoformat(), leave))
        day += timedelta(days=1)
    header = ("工号", "姓名", "日期", "时间")
    if xlsx:
        from openpyxl import Workbook
        wb = Workbook(write_only=True)
        ws = wb.create_sheet()
        ws.append(header)
        for r in rows:
            ws.append(r)
        buf = io.BytesIO()
        wb.save(buf)
        return buf.getvalue(), len(rows)
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(header)
    writer.writerows(rows)
    return buf.getvalue().encode("gbk"), len(rows)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--staff", type=int, default=50)
    parser.add_argument("--year", type=int, default=2026)
    parser.add_argument("--xlsx", action="store_true")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="attendance-bench-"))
    os.environ["HALL_INSTANCE"] = str(work / "instance")

    import tests.conftest as support  # fast password hashing, the factories
    from app import create_app, workdays
    from app.extensions import db

    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{work / 'bench.sqlite3'}", "SECRET_KEY": "bench",
                      "WTF_CSRF_ENABLED": False, "MAX_CONTENT_LENGTH": 16 * 1024 * 1024})
    with app.app_context():
        db.create_all()
        workdays.seed_from_package([args.year])
        center = support.make_center("城关镇便民服务中心", code="A")
        support.make_user(center, "director", username="director", name="周主任")
        staff = [support.make_user(center, "clerk", username=f"s{i:03d}", name=f"员工{i:03d}")
                 for i in range(args.staff)]
        db.session.commit()
        data, punches = export(staff, args.year, args.xlsx)
        client = app.test_client()
        client.post("/login", data={"username": "director", "password": support.PASSWORD})
        timings = []
        for run in range(2):
            name = "export.xlsx" if args.xlsx else "export.csv"
            started = time.perf_counter()
            response = client.post("/attendance/import", data={"file": (io.BytesIO(data), name)},
                                   content_type="multipart/form-data")
            uploaded = time.perf_counter() - started
            assert response.status_code == 302, response.get_data(as_text=True)[:500]
            import_id = int(response.headers["Location"].split("/")[-2])
            client.post(f"/attendance/import/{import_id}/map",
                        data={"person": "0", "match": "username", "mode": "separate", "date": "2", "time": "3"})
            started = time.perf_counter()
            response = client.get(f"/attendance/import/{import_id}")
            preview = time.perf_counter() - started
            assert "/confirm" in response.get_data(as_text=True)
            started = time.perf_counter()
            response = client.post(f"/attendance/import/{import_id}/confirm")
            took = time.perf_counter() - started
            assert response.status_code == 302, response.status_code
            timings.append(took)
            from models.attendance import AttendanceImport
            imp = db.session.get(AttendanceImport, import_id)
            print(f"run {run + 1}: {punches} punches ({len(data) / 1024:.0f} KB {'XLSX' if args.xlsx else 'CSV GBK'}), "
                  f"{imp.people} staff, {imp.days} person-days: upload {uploaded:.2f} s, preview {preview:.2f} s, "
                  f"import {took:.2f} s")
    worst = max(timings)
    print(f"attendance import of a year, {args.staff} staff: {worst:.2f} s (target {LIMIT_SECONDS:.0f} s) "
          f"{'OK' if worst < LIMIT_SECONDS else 'TOO SLOW'}")
    return 0 if worst < LIMIT_SECONDS else 1


if __name__ == "__main__":
    sys.exit(main())
