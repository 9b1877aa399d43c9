"""Citizen ratings (好差评) [SPEC §4.3; 000 好差评制度 §8, §14–§18]: levels and scores, bad reviews with a
reason, one rating per visit and per batch, the 5-working-day window and 未评, the 24-hour reminder list,
the window's tablet and the flood limit of the public page."""
from __future__ import annotations

import re
from datetime import date, datetime, timedelta

import pytest
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from app import ratings
from app.timeutil import today
from models.case import ServiceCase
from models.core import AuditEntry, User
from models.voice import LEVEL_SCORES, Rating, RatingCase
from tests.conftest import make_case, make_center, make_matter, make_user, make_window


@pytest.fixture(autouse=True)
def fresh_limits():
    from app import status
    status.reset_limits()
    ratings.reset_limits()
    yield
    status.reset_limits()
    ratings.reset_limits()


@pytest.fixture
def town(db, calendar_2026):
    center = make_center("城关镇便民服务中心", code="chengguan")
    window = make_window(center, 4, "劳动保障")
    other_window = make_window(center, 5, "民政救助")
    matter = make_matter(center, name="城乡居民养老保险参保登记", window_id=window.id)
    relief = make_matter(center, name="临时救助申请", window_id=other_window.id)
    clerk = make_user(center, "clerk", username="clerk4", name="王小红")
    colleague = make_user(center, "clerk", username="clerk5", name="李明")
    director = make_user(center, "director", username="director")
    db.session.commit()
    return {"center": center, "window": window, "other_window": other_window, "matter": matter,
            "relief": relief, "clerk": clerk, "colleague": colleague, "director": director}


def completed(town, day, **kw):
    kw.setdefault("responsible", town["clerk"])
    return make_case(town["center"], kw.pop("matter", town["matter"]), state=kw.pop("state", "completed"),
                     intake=kw.pop("intake", day), completed_on=day, **kw)


def rate_url(case):
    return f"/p/{case.center.code}/rate/{ratings.rate_token(case)}"


def count(db, model=Rating) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def text(response) -> str:
    return response.get_data(as_text=True)


# ------------------------------------------------------------------ levels and reasons

def test_rating_levels_score_10_8_6_3_0(app, town, db, client):
    scores = {}
    for level in LEVEL_SCORES:
        case = completed(town, today())
        rating = ratings.record_rating(case, level, channel="paper", reasons=["attitude"])
        scores[level] = rating.score
    assert list(scores.values()) == [10, 8, 6, 3, 0]
    assert list(scores) == ["very_satisfied", "satisfied", "fair", "dissatisfied", "very_dissatisfied"]
    # Through the citizen's page, with the optional dimensions.
    case = completed(town, today())
    db.session.commit()
    response = client.post(rate_url(case), data={"level": "satisfied", "efficiency": "very_satisfied",
                                                 "attitude": "fair"})
    assert response.status_code == 302 and response.headers["Location"].endswith("/thanks")
    stored = db.session.scalar(select(Rating).where(Rating.case_id == case.id))
    assert (stored.level, stored.overall, stored.score, stored.channel) == ("satisfied", "satisfied", 8, "qr")
    assert (stored.efficiency, stored.competence, stored.attitude) == ("very_satisfied", "", "fair")
    assert stored.window_id == town["window"].id and stored.clerk_id == town["clerk"].id
    assert stored.matter_id == town["matter"].id and stored.client_hash and "127.0.0.1" not in stored.client_hash
    assert 'id="rating-thanks"' in text(client.get(response.headers["Location"]))


def test_bad_review_requires_a_reason(app, town, db, client):
    case = completed(town, today())
    db.session.commit()
    for level in ("dissatisfied", "very_dissatisfied"):
        html = text(client.post(rate_url(case), data={"level": level}))
        assert re.search(r'<fieldset class="reasons has-error', html)   # the error sits beside the checklist
    # "Other" needs its text.
    html = text(client.post(rate_url(case), data={"level": "dissatisfied", "reasons": "other"}))
    assert re.search(r'<fieldset class="reasons has-error', html)
    assert count(db) == 0
    with pytest.raises(ValueError):
        ratings.record_rating(case, "very_dissatisfied", channel="paper")
    # A good level needs none (and keeps none that were ticked).
    response = client.post(rate_url(case), data={"level": "dissatisfied", "reasons": ["too_slow", "many_trips"],
                                                 "reason_text": "跑了三次"})
    assert response.status_code == 302
    rating = db.session.scalar(select(Rating))
    assert rating.is_bad and rating.reason_codes == ["too_slow", "many_trips"] and rating.reason_text == "跑了三次"
    other = completed(town, today())
    good = ratings.record_rating(other, "fair", channel="paper", reasons=["attitude"], reason_text="x")
    assert good.reasons == "" and good.reason_text == ""


def test_rating_page_form_has_csrf_and_no_preset_level(app, town, db, client):
    case = completed(town, today())
    db.session.commit()
    app.config["WTF_CSRF_ENABLED"] = True
    html = text(client.get(rate_url(case)))
    assert 'name="csrf_token"' in html and "checked" not in html
    assert client.post(rate_url(case), data={"level": "very_satisfied"}).status_code == 400  # no token: refused
    assert count(db) == 0


# ------------------------------------------------------------------ the window

def test_rating_window_is_5_working_days_across_national_day(app, town, db, client, monkeypatch):
    """Completed Wednesday 2026-09-30: day 1 is 09-30, then 10-01..07 are off, 10-08, 10-09, the make-up
    Saturday 10-10 and Monday 10-12 → the last day to rate is 10-12 (SPEC §3's convention)."""
    case = completed(town, date(2026, 9, 30))
    db.session.commit()
    assert ratings.last_day_to_rate(case) == date(2026, 10, 12)
    for day in (date(2026, 9, 30), date(2026, 10, 3), date(2026, 10, 10), date(2026, 10, 12)):
        assert ratings.refusal(case, day) is None, day
    assert ratings.refusal(case, date(2026, 10, 13)) == "closed"
    # The sweep's cut-off agrees with the rule on every day around the holiday.
    for offset in range(45):
        on = date(2026, 9, 15) + timedelta(days=offset)
        for finished in (date(2026, 9, 15) + timedelta(days=k) for k in range(offset + 1)):
            probe = ServiceCase(completed_on=finished, state="completed", voided=False, rating_status="")
            assert (ratings.refusal(probe, on) == "closed") == (finished <= ratings.closed_before(on)), (finished, on)
    # The page says so after the window, and refuses a rating.
    monkeypatch.setattr(ratings, "today", lambda: date(2026, 10, 12))
    assert 'id="rating-form"' in text(client.get(rate_url(case)))
    monkeypatch.setattr(ratings, "today", lambda: date(2026, 10, 13))
    html = text(client.get(rate_url(case)))
    assert 'data-refusal="closed"' in html and 'id="rating-form"' not in html
    assert client.post(rate_url(case), data={"level": "very_satisfied"}).status_code == 409
    assert count(db) == 0
    # An open case past its promise may still be rated.
    late = make_case(town["center"], town["matter"], state="accepted", intake=date(2026, 9, 1),
                     due_date=date(2026, 9, 8), overdue=True, responsible=town["clerk"])
    assert ratings.refusal(late, date(2026, 10, 13)) is None


def test_second_rating_for_the_same_visit_is_refused(app, town, db, client):
    case = completed(town, today())
    db.session.commit()
    assert client.post(rate_url(case), data={"level": "very_satisfied"}).status_code == 302
    second = client.post(rate_url(case), data={"level": "very_dissatisfied", "reasons": "attitude"})
    assert second.status_code == 409 and 'data-refusal="rated"' in text(second)
    assert 'data-refusal="rated"' in text(client.get(rate_url(case)))
    assert count(db) == 1 and db.session.scalar(select(Rating.level)) == "very_satisfied"
    with pytest.raises(ratings.RatingRefused):
        ratings.record_rating(db.session.get(ServiceCase, case.id), "fair", channel="kiosk")
    # The status lookup offers the rating only while it is possible.
    fresh = completed(town, today(), receipt_no="2026-777001")
    db.session.commit()
    html = text(client.post("/status/", data={"no": "2026-777001", "phone": "13912345678"}))
    assert 'id="rate-link"' in html and f"/p/chengguan/rate/{ratings.rate_token(fresh)}" in html
    html = text(client.post("/status/", data={"no": case.receipt_no, "phone": "13912345678"}))
    assert 'id="rate-link"' not in html


def test_rating_token_cannot_be_guessed_or_moved(app, town, db, client):
    case = completed(town, today())
    other = make_center("石桥镇便民服务中心", code="shiqiao")
    db.session.commit()
    assert client.get(f"/p/chengguan/rate/{case.id}").status_code == 404
    assert client.get(rate_url(case)[:-2] + "xx").status_code == 404
    assert client.get(f"/p/{other.code}/rate/{ratings.rate_token(case)}").status_code == 404
    case.voided = True
    db.session.commit()
    assert client.get(rate_url(case)).status_code == 404


def test_batch_of_the_same_matter_gets_one_rating(app, town, db):
    """Same applicant ID number, same matter, registered the same day: one batch, one rating for all."""
    day = today()
    idno = "11010519491231002X"
    batch = [completed(town, day, applicant_id_no=idno) for _ in range(3)]
    other_day = completed(town, day, intake=day - timedelta(days=1), applicant_id_no=idno)
    other_matter = completed(town, day, matter=town["relief"], applicant_id_no=idno)
    no_id = [completed(town, day), completed(town, day)]
    db.session.commit()
    rating = ratings.record_rating(batch[1], "satisfied", channel="qr")
    db.session.commit()
    assert rating.batch_size == 3
    assert set(db.session.scalars(select(RatingCase.case_id).where(RatingCase.rating_id == rating.id))) \
        == {c.id for c in batch}
    assert [c.rating_status for c in batch] == ["rated"] * 3
    assert other_day.rating_status == other_matter.rating_status == ""
    for case in batch:
        assert ratings.refusal(case, day) == "rated"
    # Cases without an ID number are each their own visit.
    ratings.record_rating(no_id[0], "fair", channel="qr")
    assert no_id[1].rating_status == "" and count(db) == 2


# ------------------------------------------------------------------ jobs

def test_unrated_after_5_working_days_is_marked_by_the_job(app, town, db):
    from jobs.runner import run_job
    past = completed(town, date(2026, 9, 30))
    within = completed(town, date(2026, 10, 8))
    rated = completed(town, date(2026, 9, 29))
    answered = make_case(town["center"], town["matter"], state="answered", intake=date(2026, 9, 30))
    still_open = make_case(town["center"], town["matter"], state="accepted", intake=date(2026, 9, 1))
    ratings.record_rating(rated, "very_satisfied", channel="qr", at=datetime(2026, 9, 29, 15, 0))
    db.session.commit()
    assert "0 cases" in run_job("ratings_unrated", at=datetime(2026, 10, 12, 23, 0))
    summary = run_job("ratings_unrated", at=datetime(2026, 10, 13, 0, 20))
    assert summary.startswith("2 cases")
    db.session.expire_all()
    assert past.rating_status == answered.rating_status == "unrated"
    assert within.rating_status == still_open.rating_status == "" and rated.rating_status == "rated"
    trail = db.session.scalars(select(AuditEntry).where(AuditEntry.field == "rating_status",
                                                        AuditEntry.action == "sweep")).all()
    assert {e.record_id for e in trail} == {past.id, answered.id}
    assert all(e.before == "" and e.after == "unrated" and e.user_id is None for e in trail)
    assert past.version == 2  # the sweep bumps the version like the other sweeps
    assert "0 cases" in run_job("ratings_unrated", at=datetime(2026, 10, 13, 0, 20))  # idempotent
    assert ratings.refusal(past, date(2026, 10, 13)) == "closed"


def test_reminder_list_after_24_hours(app, town, db, client, auth):
    done = completed(town, date(2026, 11, 23))
    no_phone = completed(town, date(2026, 11, 23), applicant_phone="")
    rated = completed(town, date(2026, 11, 23))
    completed(town, date(2026, 11, 23), state="delivered", voided=True)
    ratings.record_rating(rated, "satisfied", channel="qr", at=datetime(2026, 11, 23, 16, 0))
    db.session.commit()
    center = town["center"].id
    assert ratings.reminders_due(center, datetime(2026, 11, 23, 17, 0)) == []
    assert ratings.reminders_due(center, datetime(2026, 11, 24, 9, 0)) == [done]
    assert no_phone not in ratings.reminders_due(center, datetime(2026, 11, 25, 9, 0))
    # Gone once the window closes (5 working days: 11-23 … 11-27).
    assert ratings.reminders_due(center, datetime(2026, 11, 27, 17, 0)) == [done]
    assert ratings.reminders_due(center, datetime(2026, 11, 30, 9, 0)) == []
    # A rating after the reminder is due is not 主动评价 (prompted); one within 24 hours is.
    assert ratings.record_rating(done, "fair", channel="qr", at=datetime(2026, 11, 24, 10, 0)).prompted is True
    assert db.session.scalar(select(Rating.prompted).where(Rating.case_id == rated.id)) is False
    # The director's page lists today's due reminders; a clerk may not see it.
    fresh = completed(town, today() - timedelta(days=1), applicant_name="赵六")
    db.session.commit()
    auth.login("clerk4")
    assert client.get("/ratings/reminders").status_code == 403
    auth.logout()
    auth.login("director")
    html = text(client.get("/ratings/reminders"))
    if ratings.refusal(fresh, today()) is None:   # yesterday is within the window unless a long holiday intervenes
        assert f'data-case="{fresh.id}"' in html and "赵六" in html
    from jobs.runner import run_job
    summary = run_job("rating_reminders", at=datetime(2026, 11, 24, 10, 0))
    assert "notifications" in summary


# ------------------------------------------------------------------ the tablet

def kiosk_post(client, window, **data):
    return client.post(f"/kiosk/{window.id}", data=data)


def test_kiosk_rates_only_the_case_being_served(app, town, db, client, auth):
    window, on = town["window"], today()
    earlier = make_case(town["center"], town["matter"], intake=on, responsible=town["clerk"], receipt_no="K-1")
    served = make_case(town["center"], town["matter"], intake=on, responsible=town["clerk"], receipt_no="K-2")
    served.updated_at = earlier.updated_at + timedelta(minutes=5)
    colleagues = make_case(town["center"], town["matter"], intake=on, responsible=town["colleague"], receipt_no="K-3")
    colleagues.updated_at = served.updated_at + timedelta(minutes=5)
    elsewhere = make_case(town["center"], town["relief"], intake=on, responsible=town["clerk"], receipt_no="K-4")
    elsewhere.updated_at = served.updated_at + timedelta(minutes=9)
    yesterday = make_case(town["center"], town["matter"], intake=on - timedelta(days=1), responsible=town["clerk"])
    yesterday.updated_at = served.updated_at + timedelta(minutes=9)
    db.session.commit()
    assert client.get(f"/kiosk/{window.id}").status_code == 302   # the tablet is logged in once
    auth.login("clerk4")
    html = text(client.get(f"/kiosk/{window.id}"))
    assert f'data-case="{served.id}"' in html and "王小红" in html and "4号 劳动保障" in html
    assert "checked" not in html and 'name="level" value="very_satisfied"' in html   # no preset level
    # Not another case of the clerk, nor a colleague's: the kiosk rates the case being served only.
    for other in (earlier, colleagues, elsewhere, yesterday):
        response = kiosk_post(client, window, case_id=other.id, level="very_satisfied")
        assert response.status_code == 200 and 'id="kiosk-message"' in text(response)
    assert count(db) == 0
    # A bad level asks for reasons first (no error yet), then stores.
    html = text(kiosk_post(client, window, case_id=served.id, level="very_dissatisfied"))
    assert 'id="kiosk-reasons"' in html and 'role="alert"' not in html
    html = text(kiosk_post(client, window, case_id=served.id, level="very_dissatisfied", stage="reasons"))
    assert 'id="kiosk-reasons"' in html and 'class="error"' in html and count(db) == 0
    response = kiosk_post(client, window, case_id=served.id, level="very_dissatisfied", stage="reasons",
                          reasons="too_slow")
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/kiosk/{window.id}/thanks")
    assert 'id="kiosk-thanks"' in text(client.get(response.headers["Location"]))
    rating = db.session.scalar(select(Rating))
    assert (rating.case_id, rating.channel, rating.score, rating.clerk_id) == (served.id, "kiosk", 0, town["clerk"].id)
    # Once: the same case again is refused, and the tablet moves on to the next unrated case.
    again = kiosk_post(client, window, case_id=served.id, level="very_satisfied")
    assert 'id="kiosk-message"' in text(again) and count(db) == 1
    assert f'data-case="{earlier.id}"' in text(client.get(f"/kiosk/{window.id}"))


def test_kiosk_window_belongs_to_the_clerks_centre(app, town, db, client, auth):
    other = make_center("石桥镇便民服务中心", code="shiqiao")
    foreign = make_window(other, 1, "综合咨询")
    make_user(town["center"], "inspector", username="inspector")
    db.session.commit()
    auth.login("clerk4")
    assert client.get(f"/kiosk/{foreign.id}").status_code == 404
    assert 'id="kiosk-idle"' in text(client.get(f"/kiosk/{town['other_window'].id}"))
    auth.logout()
    auth.login("inspector")
    assert client.get(f"/kiosk/{town['window'].id}").status_code == 403


# ------------------------------------------------------------------ floods

def test_rating_page_flood_is_limited(app, town, db, client):
    case = completed(town, today())
    db.session.commit()
    url = rate_url(case)
    for _ in range(ratings.RATE_LIMIT):
        assert client.get(url, environ_base={"REMOTE_ADDR": "198.51.100.7"}).status_code == 200
    assert client.get(url, environ_base={"REMOTE_ADDR": "198.51.100.7"}).status_code == 429
    assert client.post(url, data={"level": "fair"}, environ_base={"REMOTE_ADDR": "198.51.100.7"}).status_code == 429
    # Guessed tokens count too, and another address is not affected.
    assert client.get("/p/chengguan/rate/guess", environ_base={"REMOTE_ADDR": "198.51.100.7"}).status_code == 429
    assert client.get(url, environ_base={"REMOTE_ADDR": "198.51.100.8"}).status_code == 200
    assert count(db) == 0


# ------------------------------------------------------------------ the dishonesty list (失信名单) [§18]

def listed(town, phone="13800009999", on=date(2026, 11, 20)):
    """A bad review from `phone` confirmed malicious: the phone on the centre's list."""
    from models.bad_review import BadReview, DishonestRater
    case = completed(town, today(), applicant_phone=phone)
    rating = ratings.record_rating(case, "very_dissatisfied", channel="qr", reasons=["other"], reason_text="骂人")
    review = ratings.db.session.scalar(select(BadReview).where(BadReview.rating_id == rating.id))
    entry = DishonestRater(center_id=case.center_id, phone=phone, bad_review_id=review.id, listed_on=on,
                           listed_by_id=town["director"].id, reason="辱骂工作人员，与办件无关")
    ratings.db.session.add(entry)
    ratings.db.session.flush()
    return entry


def test_dishonesty_list_shows_the_phone_to_followers_and_masks_it_for_others(app, town, db, client, auth):
    entry = listed(town)
    other = make_center("石桥镇便民服务中心", code="shiqiao")
    make_user(other, "director", username="director2")
    for role in ("deputy", "leader", "inspector"):
        make_user(town["center"], role, username=role)
    db.session.commit()
    auth.login("clerk4")
    assert client.get("/bad-reviews/dishonest").status_code == 403
    assert "/bad-reviews/dishonest" not in text(client.get("/"))   # no menu link for a clerk
    for user in ("director", "deputy"):
        auth.logout()
        auth.login(user)
        html = text(client.get("/bad-reviews/dishonest"))
        assert f'data-entry="{entry.id}"' in html and "13800009999" in html and "辱骂工作人员" in html
        assert 'href="/bad-reviews/dishonest"' in text(client.get("/"))
    assert 'class="remove-dishonest' not in html   # only the director takes a phone off the list
    for user in ("leader", "inspector"):
        auth.logout()
        auth.login(user)
        html = text(client.get("/bad-reviews/dishonest"))
        assert f'data-entry="{entry.id}"' in html and "13800009999" not in html and "138****9999" in html
    auth.logout()
    auth.login("director2")   # another centre's director sees their own (empty) list only
    html = text(client.get("/bad-reviews/dishonest"))
    assert "data-entry=" not in html and "13800009999" not in html
    assert client.post(f"/bad-reviews/dishonest/{entry.id}/remove", data={"reason": "x"}).status_code == 404


def test_director_takes_a_phone_off_the_list_with_a_reason_in_the_audit_trail(app, town, db, client, auth):
    from models.bad_review import DishonestRater
    entry = listed(town)
    make_user(town["center"], "deputy", username="deputy")
    db.session.commit()
    entry_id, review_id = entry.id, entry.bad_review_id
    url = f"/bad-reviews/dishonest/{entry_id}/remove"
    auth.login("deputy")
    assert client.post(url, data={"reason": "误列"}).status_code == 403
    auth.logout()
    auth.login("director")
    response = client.post(url, data={"reason": "   "})
    assert response.status_code == 400
    assert re.search(r'class="remove-dishonest has-error".*?role="alert"', text(response), re.S)
    assert client.post(url, data={"reason": "长" * 501}).status_code == 400
    assert db.session.get(DishonestRater, entry_id) is not None
    assert client.post("/bad-reviews/dishonest/999999/remove", data={"reason": "x"}).status_code == 404
    response = client.post(url, data={"reason": "复核后认定为正常诉求，移出名单"})
    assert response.status_code == 302 and response.headers["Location"].endswith("/bad-reviews/dishonest")
    db.session.expire_all()
    assert db.session.get(DishonestRater, entry_id) is None
    trail = db.session.scalars(select(AuditEntry).where(AuditEntry.record_table == "dishonest_rater",
                                                        AuditEntry.record_id == entry_id)).all()
    assert [(e.action, e.before, e.after, e.user_id, e.comment) for e in trail] == [
        ("void", "13800009999", "", town["director"].id, "复核后认定为正常诉求，移出名单")]
    page = text(client.get(f"/r/bad-reviews/{review_id}"))
    assert "移出失信名单：复核后认定为正常诉求，移出名单" in page   # the bad review's history says it too
    assert 'data-entry="' not in text(client.get("/bad-reviews/dishonest"))


def test_a_listed_phone_can_still_rate_and_its_bad_review_is_flagged_for_followers(app, town, db):
    """§18 lets the centre list the rater; it takes away no right to rate (§14). The rating counts, the bad
    review opens its closed loop as any other, and those who follow it up see the rater is listed."""
    from flask_login import login_user

    from app.bad_reviews import bad_review_flags, is_dishonest
    from models.bad_review import BadReview
    listed(town, phone="13800009999")
    make_user(town["center"], "deputy", username="deputy")
    db.session.commit()
    assert is_dishonest(town["center"].id, "13800009999") and not is_dishonest(town["center"].id, "13912345678")
    again = completed(town, today(), applicant_phone="13800009999")
    good = completed(town, today(), applicant_phone="13800009999")
    honest = completed(town, today(), applicant_phone="13912345678")
    db.session.commit()
    assert ratings.refusal(again, today()) is None   # the page is offered like any other
    bad = ratings.record_rating(again, "dissatisfied", channel="qr", reasons=["too_slow"])
    assert ratings.record_rating(good, "very_satisfied", channel="qr").score == 10
    fair = ratings.record_rating(honest, "very_dissatisfied", channel="qr", reasons=["attitude"])
    db.session.commit()
    review = db.session.scalar(select(BadReview).where(BadReview.rating_id == bad.id))
    honest_review = db.session.scalar(select(BadReview).where(BadReview.rating_id == fair.id))
    assert review is not None and review.state == "found"
    flag = str(_l("Rater on the dishonesty list"))
    for username, sees in (("deputy", True), ("director", True), ("clerk4", False)):
        user = db.session.scalar(select(User).where(User.username == username))
        with app.test_request_context():
            login_user(user)
            assert (flag in [str(t) for t, _css in bad_review_flags(review)]) is sees, username
            assert flag not in [str(t) for t, _css in bad_review_flags(honest_review)]
