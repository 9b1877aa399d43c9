"""Working days against the official 2026 schedule (State Council notice, make-up days included).

2026: New Year 01-01..03 off, 01-04 (Sun) worked; Spring Festival 02-15..23 off, 02-14 (Sat) and
02-28 (Sat) worked; Qingming 04-04..06 off; Labour Day 05-01..05 off, 05-09 (Sat) worked; Dragon
Boat 06-19..21 off; Mid-autumn 09-25..27 off (09-25 a Friday); National Day 10-01..07 off,
09-20 (Sun) and 10-10 (Sat) worked.
"""
from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import event, func, select

from app import workdays
from app.deadlines import working_day_deadline
from app.workdays import add_working_days, is_working_day, working_days_between
from models.holiday import HolidayDay


@pytest.fixture(autouse=True)
def seeded(db):
    workdays.seed_from_package([2025, 2026])
    db.session.commit()


def test_three_working_days_after_2026_09_30_is_the_make_up_saturday_2026_10_10():
    # 10-01..10-07 off; 10-08 (Thu) 1, 10-09 (Fri) 2, 10-10 (Sat, make-up) 3
    assert add_working_days(date(2026, 9, 30), 3) == date(2026, 10, 10)


def test_national_day_2026_is_off_and_its_make_up_days_are_worked():
    assert not any(is_working_day(date(2026, 10, d)) for d in range(1, 8))
    assert is_working_day(date(2026, 9, 20))   # Sunday, make-up
    assert is_working_day(date(2026, 10, 10))  # Saturday, make-up
    assert not is_working_day(date(2026, 10, 11))


def test_spring_festival_2026_days_off_and_make_up_saturdays():
    assert not any(is_working_day(date(2026, 2, d)) for d in range(15, 24))
    assert is_working_day(date(2026, 2, 14)) and is_working_day(date(2026, 2, 28))
    # Friday 02-13 + 1 working day → the make-up Saturday 02-14; + 2 → Tuesday 02-24
    assert add_working_days(date(2026, 2, 13), 1) == date(2026, 2, 14)
    assert add_working_days(date(2026, 2, 13), 2) == date(2026, 2, 24)


def test_mid_autumn_2026_takes_friday_september_25_off():
    assert not is_working_day(date(2026, 9, 25))
    assert add_working_days(date(2026, 9, 24), 1) == date(2026, 9, 28)


def test_working_days_count_back_across_national_day():
    assert add_working_days(date(2026, 10, 8), -1) == date(2026, 9, 30)
    assert add_working_days(date(2026, 10, 12), -3) == date(2026, 10, 8)


def test_deadline_5_working_days_from_monday_2026_09_28_is_friday_2026_10_09():
    deadline = working_day_deadline(date(2026, 9, 28), 5)  # 09-28, 09-29, 09-30, 10-08, 10-09
    assert (deadline.day_one, deadline.due, deadline.provisional) == (date(2026, 9, 28), date(2026, 10, 9), False)


def test_deadline_starting_on_a_holiday_counts_the_next_working_day_as_day_one():
    deadline = working_day_deadline(date(2026, 10, 3), 3)  # day 1 = 10-08, then 10-09, 10-10
    assert (deadline.day_one, deadline.due) == (date(2026, 10, 8), date(2026, 10, 10))


def test_deadline_crossing_into_2027_without_a_notice_is_provisional_monday_to_friday():
    deadline = working_day_deadline(date(2026, 12, 21), 15)
    # 12-21..12-31: 9 working days; 2027 unknown → Mon–Fri: 01-01 (Fri) 10 … 01-08 (Fri) 15
    assert deadline.due == date(2027, 1, 8) and deadline.provisional


def test_unknown_year_falls_back_to_monday_friday_and_is_not_confirmed():
    assert not workdays.is_confirmed(2027)
    assert is_working_day(date(2027, 10, 1))      # a Friday: no notice yet, so a working day
    assert not is_working_day(date(2027, 10, 2))  # Saturday


def test_admin_notice_overrides_the_fallback_and_confirms_the_year(db):
    workdays.enter_notice(2027, [(date(2027, 10, 1), date(2027, 10, 7), "国庆节")],
                          [(date(2027, 9, 26), "国庆节调休")], "国办发明电〔2026〕9号")
    db.session.commit()
    assert workdays.is_confirmed(2027)
    assert not is_working_day(date(2027, 10, 1)) and is_working_day(date(2027, 9, 26))
    assert not working_day_deadline(date(2027, 9, 27), 3).provisional


def test_notice_for_a_package_year_replaces_the_package_schedule(db):
    workdays.enter_notice(2026, [(date(2026, 10, 1), date(2026, 10, 8), "国庆节（假设）")], [], "测试")
    db.session.commit()
    assert not is_working_day(date(2026, 10, 8)) and not is_working_day(date(2026, 10, 10))


def test_seeding_twice_adds_nothing(db):
    before = db.session.scalar(select(func.count(HolidayDay.id)))
    assert workdays.seed_from_package([2026]) == 0
    assert db.session.scalar(select(func.count(HolidayDay.id))) == before > 0


def test_working_days_between_counts_the_end_not_the_start():
    assert working_days_between(date(2026, 9, 30), date(2026, 10, 10)) == 3
    assert working_days_between(date(2026, 10, 10), date(2026, 9, 30)) == -3
    assert working_days_between(date(2026, 10, 9), date(2026, 10, 9)) == 0


def test_holiday_pages_are_for_administrators_only(client, auth, county):
    auth.login("a_director")
    assert client.get("/admin/holidays/").status_code == 403
    auth.logout()
    auth.login("a_admin")
    assert client.get("/admin/holidays/").status_code == 200


def test_holiday_page_names_the_source_in_words_not_the_package(client, auth, county, calendar_2026, db):
    """A schedule supplied with the system is the State Council notice; the Python package's name is no source."""
    auth.login("a_admin")
    for url in ("/admin/holidays/", "/admin/holidays/2026"):
        html = client.get(url).get_data(as_text=True)
        assert "chinese-calendar" not in html, url
        assert "国务院办公厅通知（随系统提供）" in html, url


def test_a_township_admin_cannot_change_the_shared_schedule(client, auth, county):
    auth.login("a_admin")
    response = client.post("/admin/holidays/2027", data={"notice": "x", "holidays": "2027-01-01 元旦", "makeup_days": ""})
    assert response.status_code == 403 and not workdays.is_confirmed(2027)


def test_admin_enters_the_2027_notice_through_the_page(client, auth, county, db):
    from tests.conftest import make_user
    make_user(county["county"], "admin", username="county_admin")
    db.session.commit()
    auth.login("county_admin")
    response = client.post("/admin/holidays/2027", data={
        "notice": "国办发明电〔2026〕9号", "holidays": "2027-01-01 元旦\n2027-10-01 2027-10-07 国庆节",
        "makeup_days": "2027-09-26 国庆节调休"})
    assert response.status_code == 302
    assert workdays.is_confirmed(2027) and not is_working_day(date(2027, 10, 4))


def test_a_bad_line_is_refused_beside_the_field_and_nothing_is_saved(client, auth, county, db):
    from tests.conftest import make_user
    make_user(county["county"], "admin", username="county_admin")
    db.session.commit()
    auth.login("county_admin")
    response = client.post("/admin/holidays/2027", data={
        "notice": "x", "holidays": "2027-10-01 2027-10-07 国庆节\n2027-02-30 春节", "makeup_days": ""})
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "2027-02-30" in html and 'class="error"' in html
    assert not workdays.is_confirmed(2027)


def test_overlapping_periods_of_a_notice_merge_their_names(db):
    workdays.enter_notice(2027, [(date(2027, 10, 1), date(2027, 10, 7), "国庆节"),
                                 (date(2027, 10, 1), date(2027, 10, 1), "中秋节")], [], "国办发明电〔2026〕9号")
    db.session.commit()
    names = dict(db.session.execute(select(HolidayDay.day, HolidayDay.name)
                                    .where(HolidayDay.day >= date(2027, 10, 1))).all())
    assert names[date(2027, 10, 1)] == "国庆节、中秋节" and names[date(2027, 10, 2)] == "国庆节"


def test_a_day_cannot_be_both_off_and_a_make_up_working_day(db):
    with pytest.raises(ValueError):
        workdays.enter_notice(2027, [(date(2027, 10, 1), date(2027, 10, 7), "国庆节")],
                              [(date(2027, 10, 2), "国庆节调休")], "x")


def test_a_rolled_back_notice_leaves_the_calendar_as_it_was(db):
    workdays.enter_notice(2027, [(date(2027, 10, 1), date(2027, 10, 7), "国庆节")], [], "x")
    assert not is_working_day(date(2027, 10, 1))  # read back inside the transaction
    db.session.rollback()
    assert is_working_day(date(2027, 10, 1)) and not workdays.is_confirmed(2027)


def test_counting_many_deadlines_reads_each_year_once(db):
    workdays.invalidate_cache()
    statements: list[str] = []

    def count(_conn, _cursor, statement, *_args):
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        for i in range(5000):
            working_day_deadline(date(2026, 1, 1) + timedelta(days=i % 365), 20)
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    assert len(statements) <= 4  # 2026: its year row and days; 2027: its year row. Never one per day.


def test_the_page_refuses_a_day_both_off_and_make_up(client, auth, county, db):
    from tests.conftest import make_user
    make_user(county["county"], "admin", username="county_admin")
    db.session.commit()
    auth.login("county_admin")
    response = client.post("/admin/holidays/2027", data={
        "notice": "x", "holidays": "2027-10-01 2027-10-07 国庆节", "makeup_days": "2027-10-02 国庆节调休"})
    assert response.status_code == 200 and 'class="error"' in response.get_data(as_text=True)
    assert not workdays.is_confirmed(2027)


def test_the_page_refuses_a_make_up_day_on_a_weekday(client, auth, county, db):
    from tests.conftest import make_user
    make_user(county["county"], "admin", username="county_admin")
    db.session.commit()
    auth.login("county_admin")
    response = client.post("/admin/holidays/2027", data={
        "notice": "x", "holidays": "2027-10-01 2027-10-07 国庆节", "makeup_days": "2027-09-27 国庆节调休"})
    assert response.status_code == 200 and "2027-09-27" in response.get_data(as_text=True)
    assert not workdays.is_confirmed(2027)
