"""Five years of ratings of one busy centre (≈ 250,000 ratings and their bad reviews), then the rating
statistics page through the real app: a month, a year, the printable sheet's HTML, the Excel export and the
public results page.

Run: .venv/bin/python tests/bench/bench_ratings.py [--cases 262000] [--requests 200]
The register of cases is bench_cases.py's generator (same demo centre, same spread over five years), in its
own file `tests/bench/out/ratings.sqlite3`; a file already built is reused.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
OUT = ROOT / "tests" / "bench" / "out"

from tests.bench.bench_cases import generate, measure  # noqa: E402

# What a township's ratings look like: mostly 非常满意, a few per cent bad reviews.
LEVELS = (("very_satisfied", 10, 0.72), ("satisfied", 8, 0.18), ("fair", 6, 0.06), ("dissatisfied", 3, 0.03),
          ("very_dissatisfied", 0, 0.01))
RATED_SHARE = 0.955   # of finished cases; the rest are 未评


def rate_everything(app) -> dict:
    """Bulk insert one rating per finished case (most of them), the bad reviews' loops, 未评 for the rest."""
    from sqlalchemy import insert, select, update

    from app.bad_reviews import answer_due
    from app.extensions import db
    from app.timeutil import now
    from models.bad_review import BadReview
    from models.case import ServiceCase
    from models.voice import Rating, RatingCase
    rng = random.Random(11)
    names, weights = [(n, s) for n, s, _w in LEVELS], [w for *_x, w in LEVELS]
    stamp = now()
    finished = db.session.execute(
        select(ServiceCase.id, ServiceCase.center_id, ServiceCase.window_id, ServiceCase.responsible_id,
               ServiceCase.matter_id, ServiceCase.completed_on)
        .where(ServiceCase.completed_on.is_not(None)).order_by(ServiceCase.id)).all()
    rating_id = review_id = 0
    ratings, covers, reviews, rated_ids = [], [], [], []
    made = {"ratings": 0, "bad_reviews": 0}

    def flush():
        if ratings:
            db.session.execute(insert(Rating.__table__), ratings)
            db.session.execute(insert(RatingCase.__table__), covers)
        if reviews:
            db.session.execute(insert(BadReview.__table__), reviews)
        if rated_ids:
            db.session.execute(update(ServiceCase).where(ServiceCase.id.in_(rated_ids)).values(rating_status="rated"),
                               execution_options={"synchronize_session": False})
        db.session.commit()
        made["ratings"] += len(ratings)
        made["bad_reviews"] += len(reviews)
        ratings.clear(), covers.clear(), reviews.clear(), rated_ids.clear()

    for case_id, center_id, window_id, clerk_id, matter_id, done in finished:
        if rng.random() > RATED_SHARE:
            continue
        level, score = rng.choices(names, weights)[0]
        prompted = rng.random() < 0.2
        at = datetime.combine(done, datetime.min.time()) + timedelta(hours=10 + (24 if prompted else 0),
                                                                       minutes=rng.randrange(60))
        rating_id += 1
        ratings.append(dict(id=rating_id, center_id=center_id, case_id=case_id, window_id=window_id,
                            clerk_id=clerk_id, matter_id=matter_id, level=level, score=score, efficiency="",
                            competence="", attitude="", reasons="attitude" if score < 6 else "", reason_text="",
                            channel=rng.choice(("qr", "kiosk", "paper")), rated_at=at, prompted=prompted,
                            batch_size=1, client_hash=""))
        covers.append(dict(case_id=case_id, rating_id=rating_id))
        rated_ids.append(case_id)
        if score < 6:
            review_id += 1
            verdict = rng.choices(("valid", "invalid", "malicious"), (0.7, 0.27, 0.03))[0]
            day = at.date()
            answered = day + timedelta(days=rng.randrange(1, 9)) if verdict != "malicious" else None
            visited = answered + timedelta(days=2) if verdict == "valid" and rng.random() < 0.95 else None
            state = ("malicious" if verdict == "malicious" else "closed" if verdict == "invalid" or visited
                     else "answered")
            reviews.append(dict(id=review_id, center_id=center_id, state=state, version=1, created_at=stamp,
                                updated_at=stamp, voided=False, void_reason="", rating_id=rating_id, case_id=case_id,
                                window_id=window_id, clerk_id=clerk_id, matter_id=matter_id, level=level,
                                reasons="工作人员态度不好", rated_on=day, rater_name="评价人", rater_phone="13900000000",
                                answer_due=answer_due(day), overdue=bool(answered and answered > answer_due(day)),
                                verdict=verdict, findings="核实", verified_on=day, rectification="整改",
                                answer_text="已答复" if answered else "", answered_on=answered,
                                followup_on=visited, followup_result=(rng.choice(("satisfied",) * 9 + ("unsatisfied",))
                                                                      if visited else ""), followup_note=""))
        if len(ratings) >= 20_000:
            flush()
    flush()
    # The rest of the finished cases: past their window, 未评.
    db.session.execute(update(ServiceCase).where(ServiceCase.completed_on.is_not(None), ServiceCase.rating_status == "")
                       .values(rating_status="unrated"), execution_options={"synchronize_session": False})
    db.session.commit()
    return made


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cases", type=int, default=262_000)
    parser.add_argument("--requests", type=int, default=200)
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    db_file = OUT / "ratings.sqlite3"
    os.environ["HALL_INSTANCE"] = str(OUT)
    from app import create_app
    from app.extensions import db
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{db_file}", "SECRET_KEY": "bench",
                      "WTF_CSRF_ENABLED": False})
    results = {"cases": args.cases}
    with app.app_context():
        from sqlalchemy import func, select

        from models.bad_review import BadReview
        from models.voice import Rating
        fresh = not db_file.exists() or db_file.stat().st_size < 1_000_000
        if fresh:
            db.drop_all()
            db.create_all()
            t = time.perf_counter()
            generate(app, args.cases)
            results["generate_cases_s"] = round(time.perf_counter() - t, 1)
            t = time.perf_counter()
            results.update(rate_everything(app))
            results["generate_ratings_s"] = round(time.perf_counter() - t, 1)
            from app.timeutil import now
            from jobs.housekeeping import refresh_statistics
            refresh_statistics(now())
        results["ratings"] = db.session.scalar(select(func.count(Rating.id)))
        results["bad_reviews"] = db.session.scalar(select(func.count(BadReview.id)))
        first, last = db.session.execute(select(func.min(Rating.rated_at), func.max(Rating.rated_at))).one()
        results["rated_from_to"] = [str(first), str(last)]
        db.session.remove()

    from app.demo import DEMO_PASSWORD
    director = app.test_client()
    assert director.post("/login", data={"username": "director", "password": DEMO_PASSWORD}).status_code == 302
    months = ["/ratings/stats?month=2026-10", "/ratings/stats?month=2025-06", "/ratings/stats?month=2024-01",
              "/ratings/stats?month=2022-03", "/ratings/stats?month=2026-11"]
    measure(director, months, args.requests, results, "stats_month")
    measure(director, ["/ratings/stats?from=2025-01-01&to=2025-12-31"], args.requests // 4, results, "stats_year")
    measure(director, ["/ratings/stats?month=2026-10&format=print"], args.requests // 4, results, "stats_print_html")
    measure(director, ["/ratings/stats?month=2026-10&format=xlsx"], args.requests // 4, results, "stats_xlsx")
    code = None
    with app.app_context():
        from models.core import Center
        code = db.session.scalar(select(Center.code).where(Center.kind == "township").limit(1))
    public = app.test_client()
    measure(public, [f"/p/{code}/ratings?month=2026-10"], args.requests // 2, results, "public_results")
    (OUT / "ratings_results.json").write_text(json.dumps(results, ensure_ascii=False, indent=2))
    print(json.dumps(results, ensure_ascii=False, indent=2))
    print(f"rating statistics, a month: p50 {results['stats_month_ms_p50']} ms, p95 {results['stats_month_ms_p95']} ms"
          f" | a year: p95 {results['stats_year_ms_p95']} ms | public page: p95 {results['public_results_ms_p95']} ms")


if __name__ == "__main__":
    main()
