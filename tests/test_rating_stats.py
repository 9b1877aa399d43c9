"""Rating statistics and the bad-review closed loop [000 好差评制度 §6, §18, §21, §24, §25, §29, §33]:
averages per clerk, window, business line and centre; the six rates with their numerators and denominators;
the focus list; every bad review's loop (verify, answer, visit) with the director's approval of a malicious
one; the rater's privacy; the public results page."""
from __future__ import annotations

import io
import re
from datetime import date, datetime

import pytest
from sqlalchemy import func, select

from app import ratings
from app.bad_reviews import BAD_REVIEWS, answer_due, sweep_overdue
from app.rating_stats import Period, compute
from app.records import operations
from app.records.registry import Refused
from models.bad_review import BadReview, DishonestRater
from models.core import AuditEntry
from models.voice import UNRATED
from tests.conftest import make_case, make_center, make_matter, make_user, make_window

NOVEMBER = Period(date(2026, 11, 1), date(2026, 12, 1), "2026-11")


@pytest.fixture
def town(db, calendar_2026):
    center = make_center("城关镇便民服务中心", code="chengguan")
    w4, w5 = make_window(center, 4, "劳动保障"), make_window(center, 5, "民政救助")
    pension = make_matter(center, name="城乡居民养老保险参保登记", window_id=w4.id, business_line="人社")
    relief = make_matter(center, name="临时救助申请", window_id=w5.id, business_line="民政")
    people = {"a": make_user(center, "clerk", username="clerk_a", name="王小红"),
              "b": make_user(center, "clerk", username="clerk_b", name="李明"),
              "c": make_user(center, "clerk", username="clerk_c", name="赵刚"),
              "deputy": make_user(center, "deputy", username="deputy"),
              "director": make_user(center, "director", username="director"),
              "leader": make_user(center, "leader", username="leader")}
    db.session.commit()
    return {"center": center, "w4": w4, "w5": w5, "pension": pension, "relief": relief, **people}


_raters = iter(range(1, 10_000))


def rate(town, clerk: str, level: str, day: date, prompted=False, **kw):
    """A case of the clerk completed on `day`, rated that day (unprompted) or the next (after the reminder)."""
    n = next(_raters)
    matter = town["relief"] if clerk == "c" else town["pension"]
    case = make_case(town["center"], matter, state="completed", intake=day, completed_on=day,
                     responsible=town[clerk], applicant_name=f"评价人{n:03d}", applicant_phone=f"1390000{n:04d}")
    at = datetime.combine(day, datetime.min.time()).replace(hour=10)
    if prompted:
        at = at.replace(day=day.day + 1)
    return ratings.record_rating(case, level, channel="paper", at=at,
                                 reasons=["attitude"] if level in ("dissatisfied", "very_dissatisfied") else [])


def review_of(rating) -> BadReview:
    from app.extensions import db
    return db.session.scalar(select(BadReview).where(BadReview.rating_id == rating.id))


def step(record, name, user, comment="", **values):
    return operations.transition(BAD_REVIEWS, record, name, user, values, comment)


# Clerk A (window 4, 人社): 8 ratings, 3 below 基本满意; clerk B (window 4, 人社): 4; clerk C (window 5, 民政): 8.
# (clerk, level, prompted)
FIXTURE = [
    ("a", "very_satisfied", True), ("a", "very_satisfied", False), ("a", "satisfied", False),
    ("a", "satisfied", True), ("a", "fair", False), ("a", "dissatisfied", False),
    ("a", "very_dissatisfied", True), ("a", "dissatisfied", False),
    ("b", "very_satisfied", False), ("b", "satisfied", False), ("b", "satisfied", True), ("b", "dissatisfied", False),
    ("c", "very_satisfied", False), ("c", "very_satisfied", False), ("c", "very_satisfied", True),
    ("c", "satisfied", False), ("c", "satisfied", False), ("c", "satisfied", False), ("c", "fair", True),
    ("c", "dissatisfied", False),
]


@pytest.fixture
def month(town, db):
    """The 20 ratings of FIXTURE on working days of November 2026, the bad reviews worked through, and the
    rating windows of other cases: 5 marked 未评, 2 still open, 1 未评 of October."""
    rated = [rate(town, clerk, level, date(2026, 11, 2 + i % 4), prompted) for i, (clerk, level, prompted)
             in enumerate(FIXTURE)]
    a1, a2, a3, b1, c1 = [review_of(r) for r in rated if r.is_bad]
    deputy, director = town["deputy"], town["director"]
    # A1: valid, answered, visited: satisfied. A2: valid, answered, visited: not satisfied.
    for review, result in ((a1, "satisfied"), (a2, "unsatisfied")):
        step(review, "verify_valid", deputy, findings="窗口人员解释不清")
        step(review, "answer", deputy, rectification="开展业务培训", answer_text="已整改并致歉", answered_on=date(2026, 11, 9))
        step(review, "follow_up", deputy, followup_on=date(2026, 11, 12), followup_result=result)
    # A3: malicious, approved by the director (not answered: out of the reply rate).
    step(a3, "propose_malicious", deputy, findings="与办件无关的恶意评价")
    step(a3, "approve_malicious", director, comment="属实")
    # B1: not valid, explained. C1: valid, not yet answered.
    step(b1, "verify_invalid", deputy, findings="按规定须补正材料")
    step(b1, "explain", deputy, answer_text="已向群众解释", answered_on=date(2026, 11, 10))
    step(c1, "verify_valid", director, findings="等候时间过长")
    for i in range(5):
        make_case(town["center"], town["pension"], state="completed", intake=date(2026, 11, 3 + i),
                  completed_on=date(2026, 11, 3 + i), rating_status=UNRATED)
    for i in range(2):
        make_case(town["center"], town["pension"], state="completed", intake=date(2026, 11, 30),
                  completed_on=date(2026, 11, 30))
    make_case(town["center"], town["pension"], state="completed", intake=date(2026, 10, 20),
              completed_on=date(2026, 10, 20), rating_status=UNRATED)
    db.session.commit()
    return {"ratings": rated, "a1": a1, "a2": a2, "a3": a3, "b1": b1, "c1": c1}


def test_six_rates_computed_on_a_fixture_by_hand(town, month):
    stats = compute([town["center"].id], NOVEMBER)
    # 20 ratings; satisfied or better: A 4, B 3, C 6.
    assert (stats.overall.ratings, stats.overall.total) == (20, 10 + 10 + 8 + 8 + 6 + 3 + 0 + 3 + 10 + 8 + 8 + 3
                                                            + 10 * 3 + 8 * 3 + 6 + 3)
    assert stats.overall.average == pytest.approx(140 / 20)
    expected = {
        "good": (13, 20),
        # Unprompted: 14 ratings (6 were given after the reminder), of which satisfied or better:
        # A 10, 8 · B 10, 8 · C 10, 10, 8, 8, 8 = 9.
        "active_good": (9, 14),
        # Cases finished in November whose window closed: 20 rated + 5 未评 (the 2 open and October's left out).
        "unrated": (5, 25),
        # Bad reviews 5, one confirmed malicious: 4 to answer, answered A1, A2, B1.
        "reply": (3, 4),
        # Valid: A1, A2, C1; visited A1, A2.
        "followup": (2, 3),
        # Of the two visits, one satisfied.
        "followup_satisfied": (1, 2),
    }
    got = {r.key: (r.numerator, r.denominator) for r in stats.rates}
    assert got == expected
    assert stats.rate("good").percent == "65.0%" and stats.rate("unrated").percent == "20.0%"
    assert stats.rate("reply").value == pytest.approx(0.75)


def test_window_average_is_the_average_of_its_clerks_direct_ratings(town, month):
    stats = compute([town["center"].id], NOVEMBER)
    windows = {a.label: a for a in stats.windows}
    clerks = {a.label: a for a in stats.clerks}
    a, b, c = clerks["王小红"], clerks["李明"], clerks["赵刚"]
    assert (a.ratings, a.total, b.ratings, b.total, c.ratings, c.total) == (8, 48, 4, 29, 8, 63)
    # Window 4 pools the 12 direct ratings of A and B: 77 / 12, not the mean of their averages.
    w4 = windows["4号 劳动保障"]
    assert (w4.ratings, w4.total) == (12, 77)
    assert w4.average == pytest.approx(77 / 12)
    assert w4.average != pytest.approx((48 / 8 + 29 / 4) / 2)
    assert windows["5号 民政救助"].average == pytest.approx(63 / 8)
    lines = {x.label: x for x in stats.lines}
    assert lines["人社"].average == pytest.approx(77 / 12) and lines["民政"].average == pytest.approx(63 / 8)
    assert [(x.label, x.ratings, x.total) for x in stats.centres] == [("城关镇便民服务中心", 20, 140)]


def test_bad_review_opens_the_closed_loop(town, db, client, auth):
    good = rate(town, "a", "satisfied", date(2026, 11, 23))
    bad = rate(town, "a", "very_dissatisfied", date(2026, 11, 23))
    db.session.commit()
    assert review_of(good) is None
    review = review_of(bad)
    assert review is not None and review.state == "found" and review.clerk_id == town["a"].id
    assert review.rater_phone == bad.case.applicant_phone and review.rater_name == bad.case.applicant_name
    # Answer by the 5th working day from the rating day: Mon 23 Nov → Fri 27 Nov.
    assert review.answer_due == answer_due(date(2026, 11, 23)) == date(2026, 11, 27)
    # Verifying is a manager's decision: it waits in the deputy's approvals, never in the clerk's list.
    from app.records import worklist
    from flask import g
    g.pop("_role_maps", None)
    assert review in [i.record for i in worklist.for_user(town["deputy"]).group("approvals").items]
    assert review not in [i.record for i in worklist.for_user(town["a"])]
    # Past its deadline without an answer: flagged by the audited sweep, shown as an exception.
    flagged = sweep_overdue(date(2026, 11, 30))
    db.session.commit()
    assert [r[0] for r in flagged] == [review.id]
    assert db.session.scalar(select(func.count()).select_from(AuditEntry).where(
        AuditEntry.record_table == "bad_review", AuditEntry.record_id == review.id, AuditEntry.field == "overdue",
        AuditEntry.action == "sweep")) == 1
    db.session.refresh(review)
    assert review.overdue
    with pytest.raises(Refused):   # a clerk does not verify a review of their own service
        step(review, "verify_valid", town["a"], findings="x")
    step(review, "verify_valid", town["deputy"], findings="窗口未一次性告知")
    assert review.handler_id == town["deputy"].id and review.verdict == "valid"
    with pytest.raises(Refused):   # the answer needs the rectification, the text and the day
        step(review, "answer", town["deputy"], answer_text="已整改")
    step(review, "answer", town["deputy"], rectification="制作一次性告知单", answer_text="已整改并电话致歉",
         answered_on=date(2026, 11, 30))
    assert (review.state, review.answered_by_id) == ("answered", town["deputy"].id)
    step(review, "follow_up", town["deputy"], followup_on=date(2026, 12, 1), followup_result="satisfied")
    db.session.commit()
    assert review.state == "closed" and review.followed_up_by_id == town["deputy"].id
    # The record's page walks the same loop for the deputy.
    auth.login("deputy")
    page = client.get(f"/r/bad-reviews/{review.id}").get_data(as_text=True)
    assert "已整改并电话致歉" in page


def test_malicious_bad_review_needs_the_directors_approval(town, db):
    review = review_of(rate(town, "b", "very_dissatisfied", date(2026, 11, 24)))
    phone = review.rater_phone
    step(review, "propose_malicious", town["deputy"], findings="辱骂工作人员，与办件无关")
    assert review.state == "malicious_proposed"
    assert db.session.scalar(select(func.count()).select_from(DishonestRater)) == 0
    with pytest.raises(Refused):   # the deputy may not confirm it
        step(review, "approve_malicious", town["deputy"], comment="同意")
    with pytest.raises(Refused):   # the director gives a reason
        step(review, "approve_malicious", town["director"])
    step(review, "approve_malicious", town["director"], comment="经核实属主观恶意差评")
    db.session.commit()
    assert review.state == "malicious" and review.malicious_approved_by_id == town["director"].id
    listed = db.session.scalars(select(DishonestRater)).all()
    assert [(d.phone, d.bad_review_id, d.listed_by_id) for d in listed] == [(phone, review.id, town["director"].id)]
    # Refused by the director: back to verification, nobody listed.
    other = review_of(rate(town, "b", "dissatisfied", date(2026, 11, 24)))
    step(other, "propose_malicious", town["deputy"], findings="疑似恶意")
    step(other, "reject_malicious", town["director"], comment="属正常诉求")
    assert other.state == "found" and other.verdict == ""
    assert db.session.scalar(select(func.count()).select_from(DishonestRater)) == 1


def test_rater_identity_hidden_from_clerks(town, db, client, auth):
    review = review_of(rate(town, "a", "dissatisfied", date(2026, 11, 24)))
    colleague = review_of(rate(town, "c", "dissatisfied", date(2026, 11, 24)))
    db.session.commit()
    name, phone = review.rater_name, review.rater_phone
    auth.login("clerk_a")      # the clerk rated reads their own bad review, without the rater
    page = client.get(f"/r/bad-reviews/{review.id}")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert name not in text and phone not in text
    assert client.get(f"/r/bad-reviews/{colleague.id}").status_code == 404    # a colleague's: not at all
    listing = client.get("/r/bad-reviews/").get_data(as_text=True)
    assert name not in listing and phone not in listing
    auth.logout()
    auth.login("leader")       # reads the file, the rater masked
    text = client.get(f"/r/bad-reviews/{review.id}").get_data(as_text=True)
    assert name not in text and phone not in text
    export = client.get("/r/bad-reviews/export.xlsx")
    assert export.status_code == 200
    from openpyxl import load_workbook
    cells = [str(v) for row in load_workbook(io.BytesIO(export.data)).active.values for v in row if v]
    assert name not in cells and phone not in cells
    auth.logout()
    auth.login("deputy")       # who follows it up calls the citizen back
    text = client.get(f"/r/bad-reviews/{review.id}").get_data(as_text=True)
    assert name in text and phone in text


def test_focus_list_names_staff_with_concentrated_low_ratings(town, month, client, auth):
    stats = compute([town["center"].id], NOVEMBER)
    focus = {(kind, a.label): a.low for kind, a in stats.focus}
    # A: 3 below 基本满意 (3 or more: on the list); B 1 and C 1 are not; window 4 has 4, window 5 has 1;
    # the business line 人社 4, 民政 1.
    assert focus == {("clerk", "王小红"): 3, ("window", "4号 劳动保障"): 4, ("line", "人社"): 4}
    auth.login("director")
    page = client.get("/ratings/stats?month=2026-11").get_data(as_text=True)
    focus_rows = re.findall(r'<tr class="focus">(.*?)</tr>', page, re.S)
    assert len(focus_rows) == 3 and "王小红" in focus_rows[0]
    assert "李明" not in "".join(focus_rows) and "赵刚" not in "".join(focus_rows)


def test_public_results_page_shows_no_rater(town, month, client, db):
    raters = db.session.scalars(select(BadReview.rater_name)).all()
    response = client.get("/p/chengguan/ratings?month=2026-11")
    assert response.status_code == 200
    text = response.get_data(as_text=True)
    assert "4号 劳动保障" in text and "65.0%" in text
    for name in [*raters, "评价人001", "1390000"]:
        assert name not in text
    for clerk in ("王小红", "李明", "赵刚"):   # windows are shown, not staff names [§33 as chosen]
        assert clerk not in text
    assert client.get("/p/nowhere/ratings").status_code == 404


def test_statistics_page_is_for_managers_and_prints(town, month, client, auth, app):
    auth.login("clerk_a")
    assert client.get("/ratings/stats").status_code == 403
    auth.logout()
    auth.login("director")
    page = client.get("/ratings/stats?month=2026-11")
    assert page.status_code == 200 and "13" in page.get_data(as_text=True)
    export = client.get("/ratings/stats?month=2026-11&format=xlsx")
    from openpyxl import load_workbook
    book = load_workbook(io.BytesIO(export.data))
    rows = list(book.worksheets[0].values)
    assert any(row[1:3] == (13, 20) for row in rows)
    printed = client.get("/ratings/stats?month=2026-11&format=print")
    assert printed.status_code == 200 and "好差评" in printed.get_data(as_text=True)
    from printouts import font_status
    if font_status() is None:
        pdf = client.get("/ratings/stats?month=2026-11&format=pdf")
        assert pdf.mimetype == "application/pdf" and pdf.data.startswith(b"%PDF")
