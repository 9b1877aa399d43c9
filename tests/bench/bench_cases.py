"""Five years of a busy centre, then the numbers that matter: list page, search by any part of a name
and by ID number, the worklists, overdue sweep, receipt PDF.

Run: .venv/bin/python tests/bench/bench_cases.py [--cases 250000]
"""
from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import time
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
OUT = ROOT / "tests" / "bench" / "out"

# Applicants' names as a township sees them: common surnames far more often than rare ones, given
# names of one or two characters from a small stock (so "秀英" or "建国" recur, as they do).
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢"
COMPOUND_SURNAMES = ("欧阳", "司马", "诸葛", "上官")
GIVEN = "秀英华建国明强志伟丽芳军平红玉兰桂珍文海云凤春梅德金霞荣光辉林洪新松成福海燕"


def applicant_name(rng) -> str:
    # The k-th commonest surname about 1/√k as often as the first (王 ≈ 8 % of the register).
    weights = [(k + 1) ** -0.5 for k in range(len(SURNAMES))]
    surname = rng.choice(COMPOUND_SURNAMES) if rng.random() < 0.01 else rng.choices(SURNAMES, weights)[0]
    return surname + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2, 2, 2))))


def id_number(i: int) -> str:
    """A well-formed fictional resident ID number (GB 11643 check digit), one per case."""
    born = date(1940, 1, 1) + timedelta(days=(i // 1000) * 97 % 29_000)
    body = f"430923{born:%Y%m%d}{i % 1000:03d}"
    weights = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
    return body + "10X98765432"[sum(int(c) * w for c, w in zip(body, weights)) % 11]


def generate(app, n_cases: int) -> None:
    """Bulk-insert cases spread over five years, with 3 materials each and a handover for a third."""
    from sqlalchemy import insert

    from app.demo import build_demo
    from app.extensions import db
    from app.workdays import add_working_days
    from models.case import CaseHandover, CaseMaterial, ServiceCase

    ctx = build_demo()
    db.session.commit()
    rng = random.Random(7)
    matters = [m for m in ctx.matters if m.kind == "promised"]
    clerks = [u.id for name, u in ctx.users.items() if name.startswith("clerk")]
    start = date(2021, 11, 23)
    days = (date(2026, 11, 23) - start).days
    cases, materials, legs = [], [], []
    next_id = 1000
    for i in range(n_cases):
        m = matters[i % len(matters)]
        intake = start + timedelta(days=int(days * i / n_cases))
        recent = intake > date(2026, 10, 1)
        state = rng.choice(("accepted", "completed", "registered")) if recent else "delivered"
        due = intake + timedelta(days=m.promised_days + 2)
        next_id += 1
        cases.append(dict(id=next_id, center_id=ctx.township.id, state=state, version=1, voided=False, void_reason="",
                          receipt_no=f"{intake.year}-{i:07d}", applicant_name=applicant_name(rng),
                          applicant_phone=f"139{i:08d}", applicant_id_no=id_number(i), matter_id=m.id, window_id=m.window_id,
                          kind="promised", channel="window", responsible_id=clerks[i % len(clerks)],
                          intake_date=intake, clock_start=intake, day_one=intake, due_date=due, provisional=False,
                          applicant_delay_days=0, missing_materials="", answer="", refusal_reason="", remedies="",
                          transfer_office="", transfer_phone="", higher_authority="",
                          completed_on=due if state in ("completed", "delivered") else None, result="",
                          delivery_method="pickup" if state == "delivered" else "",
                          delivered_on=due if state == "delivered" else None, warned=False, overdue=False,
                          overdue_reason="", handover_late=False, created_by_id=clerks[i % len(clerks)]))
        for seq, mat in enumerate(m.materials[:3], 1):
            materials.append(dict(case_id=next_id, seq=seq, name=mat.name, form=mat.form, copies=mat.copies, note=""))
        if m.department_id and i % 3 == 0:
            legs.append(dict(center_id=ctx.township.id, case_id=next_id, department_id=m.department_id,
                             handed_on=intake, received_by="", state="returned" if state == "delivered" else "handed",
                             version=1, voided=False, void_reason="", note="", late=False))
        if len(cases) >= 20000:
            _flush(db, cases, materials, legs, ServiceCase, CaseMaterial, CaseHandover, insert)
    _flush(db, cases, materials, legs, ServiceCase, CaseMaterial, CaseHandover, insert)
    del add_working_days


def _flush(db, cases, materials, legs, ServiceCase, CaseMaterial, CaseHandover, insert):
    from app.timeutil import now
    from models.case import CaseNameGram, name_grams
    stamp = now()
    for row in cases:
        row.setdefault("created_at", stamp)
        row.setdefault("updated_at", stamp)
    for row in legs:
        row.setdefault("created_at", stamp)
        row.setdefault("updated_at", stamp)
    if cases:
        db.session.execute(insert(ServiceCase.__table__), cases)
        # A bulk insert passes the ORM by: write the name pieces as the model's events would.
        db.session.execute(insert(CaseNameGram.__table__),
                           [dict(center_id=row["center_id"], gram=gram, case_id=row["id"])
                            for row in cases for gram in name_grams(row["applicant_name"])])
    if materials:
        db.session.execute(insert(CaseMaterial.__table__), materials)
    if legs:
        db.session.execute(insert(CaseHandover.__table__), legs)
    db.session.commit()
    cases.clear(), materials.clear(), legs.clear()


def percentile(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def measure(client, urls, n_requests, results, key):
    """p50/p95 of n requests spread over the urls (after one warm-up each), overall and per url."""
    for url in urls:  # warm up
        assert client.get(url).status_code == 200, url
    timings = []
    for i in range(n_requests):
        t = time.perf_counter()
        response = client.get(urls[i % len(urls)])
        timings.append((time.perf_counter() - t) * 1000)
        assert response.status_code == 200
    results[f"{key}_ms_p50"] = round(statistics.median(timings), 1)
    results[f"{key}_ms_p95"] = round(percentile(timings, 95), 1)
    per_url = {}
    for i, ms in enumerate(timings):
        per_url.setdefault(urls[i % len(urls)], []).append(ms)
    results[f"{key}_ms_p95_by_url"] = {u: round(percentile(v, 95), 1) for u, v in per_url.items()}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cases", type=int, default=250_000)
    parser.add_argument("--requests", type=int, default=200)
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    db_file = OUT / "bench.sqlite3"
    os.environ["HALL_INSTANCE"] = str(OUT)
    from app import create_app
    from app.extensions import db
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{db_file}", "SECRET_KEY": "bench",
                      "WTF_CSRF_ENABLED": False})
    results = {"cases": args.cases}
    with app.app_context():
        from sqlalchemy import func, select

        from models.case import ServiceCase
        fresh = not db_file.exists() or db_file.stat().st_size < 1_000_000
        if not fresh:  # a register built by an older schema (a table or column missing) is built again
            from sqlalchemy import inspect as sa_inspect
            built = sa_inspect(db.engine)
            fresh = any(not built.has_table(t.name) or {c.name for c in t.columns} - {
                c["name"] for c in built.get_columns(t.name)} for t in db.metadata.sorted_tables)
        if fresh:
            db.drop_all()
            db.create_all()
            t = time.perf_counter()
            generate(app, args.cases)
            results["generate_s"] = round(time.perf_counter() - t, 1)
            from app.timeutil import now
            from jobs.housekeeping import refresh_statistics
            refresh_statistics(now())  # what the nightly job does
        else:  # a register built before an index was declared: add it (seconds), as a migration would
            from sqlalchemy import inspect as sa_inspect
            built = sa_inspect(db.engine)
            missing = [ix for t in db.metadata.sorted_tables for ix in t.indexes
                       if ix.name not in {i["name"] for i in built.get_indexes(t.name)}]
            for index in missing:
                index.create(db.engine)
            if missing:
                from app.timeutil import now
                from jobs.housekeeping import refresh_statistics
                refresh_statistics(now())
                results["indexes_added"] = [ix.name for ix in missing]
        results["rows"] = db.session.scalar(select(func.count(ServiceCase.id)))
        # Overdue sweep: reset the flags of recent open cases, then one run of the set-based sweep.
        from sqlalchemy import update

        from app.cases import sweep_overdue
        db.session.execute(update(ServiceCase).where(ServiceCase.intake_date > date(2026, 10, 1))
                           .values(overdue=False, overdue_reason=""))
        db.session.commit()
        t = time.perf_counter()
        flagged = sweep_overdue(date(2026, 11, 23))
        db.session.commit()
        results["sweep_s"] = round(time.perf_counter() - t, 3)
        results["sweep_flagged"] = len(flagged)
        receipt_id = db.session.scalar(select(ServiceCase.id).where(ServiceCase.state == "accepted").limit(1))
        db.session.remove()

    from app.demo import DEMO_PASSWORD
    client = app.test_client()
    client.post("/login", data={"username": "clerk1", "password": DEMO_PASSWORD})
    # The phone-prefix search matches 10,000 cases, as "申请人12" did when applicants were numbered.
    urls = ["/r/cases/?state=accepted", "/r/cases/?window_id=5", "/r/cases/?q=1390001",
            "/r/cases/?intake_date_from=2026-11-01&intake_date_to=2026-11-23", "/r/cases/?page=40&sort=-intake_date"]
    measure(client, urls, args.requests, results, "list")
    # Any part of a name: a given name, the commonest surname alone (the most rows), a whole name,
    # a compound surname, one character in the middle of names.
    name_urls = [f"/r/cases/?q={q}" for q in ("秀英", "王", "李秀英", "欧阳", "建")]
    measure(client, name_urls, args.requests, results, "name_search")
    results["name_search_matches"] = {q: _count(app, q) for q in ("秀英", "王", "李秀英", "欧阳", "建")}
    # ID numbers exactly, one typed with a small x; and one that is on no case.
    ids = [id_number(i) for i in (7, 12_345, 99_999, 180_001, args.cases - 1)]
    ids += [next(id_number(i).lower() for i in range(1000) if id_number(i).endswith("X")), "430923199001011234"]
    measure(client, [f"/r/cases/?q={q}" for q in ids], args.requests, results, "id_search")
    # What awaits the director (approvals first, then the centre's exceptions), the page and the home page.
    director = app.test_client()
    director.post("/login", data={"username": "director", "password": DEMO_PASSWORD})
    measure(director, ["/worklist"], args.requests, results, "director_worklist")
    measure(director, ["/"], args.requests // 2, results, "director_home")
    measure(client, ["/worklist"], args.requests, results, "clerk_worklist")
    pdf_times = []
    for _ in range(10):
        t = time.perf_counter()
        response = client.get(f"/r/cases/{receipt_id}/print/receipt.pdf")
        pdf_times.append((time.perf_counter() - t) * 1000)
        assert response.mimetype == "application/pdf"
    results["receipt_pdf_ms_first"] = round(pdf_times[0], 1)
    results["receipt_pdf_ms_median_warm"] = round(statistics.median(pdf_times[1:]), 1)
    (OUT / "results.json").write_text(json.dumps(results, ensure_ascii=False, indent=2))
    print(json.dumps(results, ensure_ascii=False, indent=2))
    print(f"director /worklist: p50 {results['director_worklist_ms_p50']} ms, p95 {results['director_worklist_ms_p95']} ms"
          f" | director home: p50 {results['director_home_ms_p50']} ms, p95 {results['director_home_ms_p95']} ms"
          f" | clerk /worklist: p50 {results['clerk_worklist_ms_p50']} ms, p95 {results['clerk_worklist_ms_p95']} ms")


def _count(app, q: str) -> int:
    """How many cases the clerk's search finds (the size of the hardest part of the work)."""
    with app.test_request_context():
        from app.extensions import db
        from app.records.query import filtered_query
        from app.records.registry import REGISTRY
        from models.core import User
        from sqlalchemy import func, select
        from werkzeug.datastructures import MultiDict
        user = db.session.scalar(select(User).where(User.username == "clerk1"))
        query, _ = filtered_query(REGISTRY["cases"], user, MultiDict({"q": q}))
        count = db.session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
        db.session.remove()
        return count


if __name__ == "__main__":
    main()
