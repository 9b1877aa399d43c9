"""Deadlines that stay right after a week at the counter (issue 7, "dates and deadlines").

The 2026 schedule: 10-01..10-07 off; Sunday 09-20 and Saturday 10-10 are make-up working days.
2027 is unknown to the calendar package: until the county enters its notice, Monday–Friday is assumed.
"""
from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select
from werkzeug.datastructures import MultiDict

from app import workdays
from app.cases import CASE_TILES, case_dashboard, start_clock, sweep_handovers, sweep_overdue
from models.case import ServiceCase
from models.core import AuditEntry
from tests.conftest import make_case, make_department, make_matter, make_window
from tests.test_cases import intake, step, the_case

pytestmark = pytest.mark.usefixtures("calendar_2026")

NOTICE_2027 = dict(holidays=[(date(2027, 1, 1), date(2027, 1, 4), "元旦")], makeup_days=[],
                   notice="国办发明电〔2026〕X号")


@pytest.fixture
def matter(county, db):
    dept = make_department(county["a"], "县民政局")
    window = make_window(county["a"], 5, "民政救助")
    m = make_matter(county["a"], name="临时救助申请", statutory=40, promised=15, window_id=window.id,
                    department_id=dept.id,
                    materials=(("居民身份证", "copy", 1), ("临时救助申请书", "original", 1)))
    db.session.commit()
    return m


def accepted(county, matter, db, clock: date, **kw) -> ServiceCase:
    case = make_case(county["a"], matter, state=kw.pop("state", "accepted"), intake=clock,
                     responsible=county["users"]["a_clerk"], **kw)
    start_clock(case, clock)
    db.session.commit()
    return case


def fresh(db, case) -> ServiceCase:
    db.session.expire_all()
    return db.session.get(ServiceCase, case.id)


# ------------------------------------------------------------------ 1. a year's notice reaches existing cases

def test_entering_next_years_notice_recomputes_open_cases_due_in_it(county, matter, db):
    case = accepted(county, matter, db, date(2026, 12, 21))
    # 12-21..12-31 are 9 working days; with Monday–Friday assumed, 01-01 and 01-04..01-08 follow.
    assert (case.due_date, case.provisional) == (date(2027, 1, 8), True)
    workdays.enter_notice(2027, **NOTICE_2027)
    db.session.commit()
    case = fresh(db, case)
    # 01-01 and 01-04 are now days off: 01-05..01-08, 01-11, 01-12 are working days 10–15.
    assert (case.due_date, case.provisional) == (date(2027, 1, 12), False)
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.record_id == case.id,
                                                       AuditEntry.field == "due_date")
                               .order_by(AuditEntry.id.desc()).limit(1))
    assert (entry.before, entry.after) == ("2027-01-08", "2027-01-12") and "2027" in entry.comment


def test_a_notice_clears_an_overdue_flag_that_came_a_day_early(county, matter, db):
    case = accepted(county, matter, db, date(2026, 12, 21))
    sweep_overdue(date(2027, 1, 11))  # one day after the provisional date
    db.session.commit()
    assert fresh(db, case).overdue
    workdays.enter_notice(2027, **NOTICE_2027)
    db.session.commit()
    case = fresh(db, case)
    assert not case.overdue and case.due_date == date(2027, 1, 12)


def test_recomputing_keeps_the_promise_given_at_acceptance(county, matter, db):
    case = accepted(county, matter, db, date(2026, 12, 21))
    assert case.promised_days == 15
    matter.promised_days = 5  # the catalogue changes later: the applicant was promised 15 days
    db.session.commit()
    workdays.enter_notice(2027, **NOTICE_2027)
    db.session.commit()
    assert fresh(db, case).due_date == date(2027, 1, 12)


def test_a_notice_leaves_closed_cases_and_other_years_alone(county, matter, db):
    closed = accepted(county, matter, db, date(2026, 12, 21), state="delivered")
    october = accepted(county, matter, db, date(2026, 9, 28))
    before = (closed.due_date, october.due_date)
    workdays.enter_notice(2027, **NOTICE_2027)
    db.session.commit()
    assert (fresh(db, closed).due_date, fresh(db, october).due_date) == before


def test_an_extended_date_that_becomes_a_holiday_moves_to_the_next_working_day(county, matter, db):
    case = accepted(county, matter, db, date(2026, 12, 21))
    case.extended_due = date(2027, 1, 4)  # a Monday when it was approved
    db.session.commit()
    workdays.enter_notice(2027, **NOTICE_2027)
    db.session.commit()
    assert fresh(db, case).extended_due == date(2027, 1, 5)


# ------------------------------------------------------------------ 3. completed, never delivered

def test_a_completed_result_not_delivered_by_the_promise_is_overdue(county, matter, db):
    case = accepted(county, matter, db, date(2026, 11, 2), state="completed")  # 15 days: due 11-20
    case.completed_on = date(2026, 11, 18)
    db.session.commit()
    assert sweep_overdue(date(2026, 11, 20)) == []
    flagged = sweep_overdue(date(2026, 11, 23))
    assert [r[0] for r in flagged] == [case.id]
    assert fresh(db, case).overdue_reason == "not_delivered"


# ------------------------------------------------------------------ 4. the applicant does not come to collect

def test_late_pick_up_after_the_applicant_was_told_in_time_is_not_overdue(client, auth, county, matter, db):
    case = accepted(county, matter, db, date(2026, 11, 2), state="completed")  # due 11-20
    case.completed_on = date(2026, 11, 18)
    db.session.commit()
    auth.login("a_clerk")
    assert step(client, db, "cases", case.id, "pickup_notified", pickup_notified_on="2026-11-18",
                comment="电话通知").status_code == 302
    assert sweep_overdue(date(2026, 11, 25)) == []
    assert step(client, db, "cases", case.id, "deliver", delivery_method="pickup",
                delivered_on="2026-11-26").status_code == 302
    case = fresh(db, case)
    assert case.state == "delivered" and not case.overdue


def test_telling_the_applicant_after_the_promise_does_not_excuse_the_delay(client, auth, county, matter, db):
    case = accepted(county, matter, db, date(2026, 11, 2), state="completed")  # due 11-20
    case.completed_on = date(2026, 11, 18)
    db.session.commit()
    auth.login("a_clerk")
    step(client, db, "cases", case.id, "pickup_notified", pickup_notified_on="2026-11-24", comment="电话")
    step(client, db, "cases", case.id, "deliver", delivery_method="pickup", delivered_on="2026-11-26")
    case = fresh(db, case)
    assert case.state == "delivered" and case.overdue


# ------------------------------------------------------------------ 7. dates a person enters

def test_an_extension_to_a_holiday_is_refused_naming_the_next_working_day(client, auth, county, matter, db):
    case = accepted(county, matter, db, date(2026, 9, 14))  # 15 days: due 10-09
    auth.login("a_clerk")
    response = client.post(f"/r/case-extensions/new?case_id={case.id}", data={
        "case_id": case.id, "reason": "需现场核查", "requested_on": "2026-09-21", "new_due": "2026-10-11",
        "form_token": "x1"})
    assert response.status_code == 200
    assert "2026年10月12日" in response.get_data(as_text=True)  # 10-11 is a Sunday after the make-up Saturday


def test_an_intake_day_in_the_future_is_refused(client, auth, county, matter, db):
    auth.login("a_clerk")
    response = intake(client, matter, intake_date="2099-01-05", received=("居民身份证", "临时救助申请书"))
    assert response.status_code == 200 and the_case(db) is None


# ------------------------------------------------------------------ 8. a tile and its list are one query

def test_home_tiles_count_exactly_the_cases_their_lists_show(county, matter, db, monkeypatch):
    from app.records import query as list_query
    from app.records.query import filtered_query
    from app.records.registry import REGISTRY
    on = date(2026, 11, 20)
    monkeypatch.setattr(list_query, "today", lambda: on)
    due_today = accepted(county, matter, db, date(2026, 11, 2))                     # due 11-20
    accepted(county, matter, db, date(2026, 11, 2), state="completed")              # done: not "due today"
    extended = accepted(county, matter, db, date(2026, 10, 23))                     # due 11-13, extended
    extended.extended_due = on
    moved = accepted(county, matter, db, date(2026, 11, 2))                         # extended away from today
    moved.extended_due = date(2026, 11, 27)
    db.session.commit()
    counts = case_dashboard(county["a"].id, on)
    director = county["users"]["a_director"]
    for tile in CASE_TILES:
        query, active = filtered_query(REGISTRY["cases"], director, MultiDict({"view": tile.key}))
        shown = db.session.scalars(query.where(ServiceCase.center_id == county["a"].id)).all()
        assert counts[tile.key] == len(shown), tile.key
    assert counts["due_today"] == 2 and {due_today.id, extended.id} == {
        c.id for c in db.session.scalars(filtered_query(REGISTRY["cases"], director, MultiDict(
            {"view": "due_today"}))[0])}


# ------------------------------------------------------------------ 9. reported cases go to departments too

def test_a_reported_case_not_handed_to_its_department_is_flagged(county, matter, db):
    case = accepted(county, matter, db, date(2026, 11, 16), state="reported")
    assert [r[0] for r in sweep_handovers(date(2026, 11, 18))] == [case.id]


# ------------------------------------------------------------------ 18. a phone the applicant can be called on

@pytest.mark.parametrize("phone, ok", [("13812345678", True), ("0737-1234567", True), ("07371234567", True),
                                       ("0737-12345", True), ("12345", False), ("1381234567", False),
                                       ("12812345678", False), ("1234567", False)])
def test_applicant_phone_is_a_mobile_number_or_a_landline_with_area_code(client, auth, county, matter, db, phone, ok):
    auth.login("a_clerk")
    data = {"applicant_name": "李四", "applicant_phone": phone, "matter_id": matter.id, "window_id": matter.window_id,
            "kind": "consult", "channel": "window", "intake_date": "2026-11-23", "form_token": f"p{phone}"}
    response = client.post("/r/cases/new", data=data)
    assert (response.status_code == 302) is ok
    if not ok:
        assert "11位" in response.get_data(as_text=True) or "11 digits" in response.get_data(as_text=True)


# ------------------------------------------------------------------ 5. flags follow the current due date

def test_an_approved_extension_clears_the_early_warning_until_the_new_date_nears(county, matter, db):
    from app.cases import approve_extension, case_flags, sweep_warnings
    from models.case import CaseExtension
    case = accepted(county, matter, db, date(2026, 11, 2))  # 15 days: due Friday 11-20
    assert [r[0] for r in sweep_warnings(date(2026, 11, 19))] == [case.id]
    db.session.commit()
    case = fresh(db, case)
    ext = CaseExtension(center_id=case.center_id, case_id=case.id, requested_on=date(2026, 11, 19), reason="核查",
                        new_due=date(2026, 11, 27), applicant_notified_on=date(2026, 11, 19))
    db.session.add(ext)
    db.session.flush()
    approve_extension(ext)
    db.session.commit()
    case = fresh(db, case)
    assert not case.warned and case_flags(case) == []
    assert sweep_warnings(date(2026, 11, 23)) == []
    assert [r[0] for r in sweep_warnings(date(2026, 11, 26))] == [case.id]


# ------------------------------------------------------------------ 10. the receipt lists what was received

def test_the_receipt_lists_only_the_materials_received(client, auth, county, matter, db):
    auth.login("a_clerk")
    assert intake(client, matter, intake_date="2026-11-23", received=("居民身份证",)).status_code == 302
    case = the_case(db)
    html = client.get(f"/r/cases/{case.id}/print/receipt").get_data(as_text=True)
    assert "居民身份证" in html and "临时救助申请书" not in html and "0份" not in html
