"""Appointments (预约服务) [000 预约服务制; 003 7.1.1; SPEC §4.6]: slots on working days only, bookings refused
when full, on a holiday, outside the hours, in the past or twice by one phone; the last place taken once;
cancel and move with the code; check-in makes one priority ticket; no-shows; urgent first; duty phones;
the clerks' morning count; centres kept apart."""
from __future__ import annotations

import threading
from datetime import date, datetime, time

import pytest
from sqlalchemy import func, select

from app import appointments as ap
from models.appointment import Appointment, AppointmentRule, HolidayDuty
from models.catalogue import Post
from models.notification import Notification
from models.queue import QueueTicket
from tests.conftest import make_center, make_matter, make_user, make_window

MONDAY = datetime(2026, 11, 23, 8, 0)          # a working day
TUESDAY = date(2026, 11, 24)


@pytest.fixture(autouse=True)
def fresh_limits():
    ap.reset_limits()
    yield
    ap.reset_limits()


@pytest.fixture(autouse=True)
def english(client):
    """The pages in English (the msgids), so the assertions hold whatever the Chinese catalogue says."""
    client.post("/locale/en")


@pytest.fixture
def clock(monkeypatch):
    """Move the centre's clock (now and today) for the pages, the rules and the queue."""
    moment = {"at": MONDAY}

    def set_at(at: datetime):
        moment["at"] = at
    monkeypatch.setattr("app.timeutil.now", lambda: moment["at"])
    monkeypatch.setattr("app.timeutil.today", lambda: moment["at"].date())
    return set_at


@pytest.fixture
def hall(db, calendar_2026, clock):
    center = make_center(code="hall")
    window = make_window(center, 3, "民政救助")
    matter = make_matter(center, "最低生活保障申请", window_id=window.id)
    rule = AppointmentRule(center_id=center.id, window_id=window.id, am_start=time(9), am_end=time(11, 30),
                           pm_start=time(14, 30), pm_end=time(17), slot_minutes=30, capacity=2, days_ahead=5)
    db.session.add(rule)
    clerk = make_user(center, "clerk", username="hall_clerk")
    clerk.locale = "en"
    db.session.commit()
    return {"center": center, "window": window, "matter": matter, "rule": rule, "clerk": clerk}


def rule_like(**kw):
    values = dict(am_start=time(9), am_end=time(11, 30), pm_start=time(14, 30), pm_end=time(17), slot_minutes=30,
                  capacity=2, days_ahead=5)
    values.update(kw)
    return AppointmentRule(**values)


def offer(hall, key=None):
    return ap.offer_of(hall["center"].id, key or f"m{hall['matter'].id}")


def book(hall, day=TUESDAY, at=time(9), phone="13912345678", name="李梅", **kw):
    return ap.book(hall["center"].id, offer(hall), day, at, name=name, phone=phone, **kw)


def post_booking(client, hall, day=TUESDAY, slot="09:00", phone="13912345678", name="李梅", **extra):
    data = {"offer": f"m{hall['matter'].id}", "day": day.isoformat(), "slot": slot, "name": name, "phone": phone}
    data.update(extra)
    return client.post("/p/hall/appointments", data=data)


def count(db, **where) -> int:
    query = select(func.count()).select_from(Appointment)
    for k, v in where.items():
        query = query.where(getattr(Appointment, k) == v)
    return db.session.scalar(query)


# ------------------------------------------------------------------ slots

def test_slots_skip_national_day_2026_and_open_on_the_make_up_days(calendar_2026):
    rule = rule_like()
    days = sorted({s.day for s in ap.slots(rule, date(2026, 9, 30), 4)})
    assert days == [date(2026, 9, 30), date(2026, 10, 8), date(2026, 10, 9), date(2026, 10, 10)]  # 10-10 make-up Sat
    assert {s.day for s in ap.slots(rule, date(2026, 10, 1), 1)} == {date(2026, 10, 8)}
    assert sorted({s.day for s in ap.slots(rule, date(2026, 9, 19), 2)}) == [date(2026, 9, 20), date(2026, 9, 21)]
    assert not any(date(2026, 10, 1) <= s.day <= date(2026, 10, 7) for s in ap.slots(rule, date(2026, 9, 28), 10))


def test_slots_cut_each_period_into_whole_slots(calendar_2026):
    day = ap.slots(rule_like(), date(2026, 10, 10), 1)
    assert [s.label for s in day] == ["09:00–09:30", "09:30–10:00", "10:00–10:30", "10:30–11:00", "11:00–11:30",
                                      "14:30–15:00", "15:00–15:30", "15:30–16:00", "16:00–16:30", "16:30–17:00"]
    assert [s.label for s in ap.slots(rule_like(slot_minutes=40, pm_start=None, pm_end=None), TUESDAY, 1)] == [
        "09:00–09:40", "09:40–10:20", "10:20–11:00"]          # 11:00–11:40 would pass the end: not offered


def test_bookings_open_for_today_and_the_next_days_ahead_working_days(calendar_2026):
    assert ap.bookable_days(rule_like(days_ahead=3), date(2026, 9, 30)) == [
        date(2026, 9, 30), date(2026, 10, 8), date(2026, 10, 9), date(2026, 10, 10)]
    assert ap.bookable_days(rule_like(days_ahead=2), date(2026, 10, 3)) == [date(2026, 10, 8), date(2026, 10, 9)]


# ------------------------------------------------------------------ booking refusals

def test_a_booking_gets_a_short_unguessable_code(hall, db):
    a = book(hall)
    db.session.commit()
    assert len(a.code) == ap.CODE_LENGTH and set(a.code) <= set(ap.CODE_ALPHABET)
    assert not set(a.code) & set("01OIL")
    assert (a.state, a.window_id, a.matter_id, a.start, a.end) == ("booked", hall["window"].id, hall["matter"].id,
                                                                   time(9), time(9, 30))


def test_a_full_slot_is_refused_and_nothing_saved(hall, client, db):
    book(hall, phone="13900000001")
    book(hall, phone="13900000002")
    db.session.commit()
    response = post_booking(client, hall, phone="13900000003")
    assert response.status_code == 400
    assert "09:00–09:30 is full: choose another time." in response.get_data(as_text=True)
    assert count(db) == 2
    assert post_booking(client, hall, slot="09:30", phone="13900000003").status_code == 302


def test_a_holiday_is_refused(hall, client, db):
    response = post_booking(client, hall, day=date(2026, 10, 3))
    assert response.status_code == 400
    assert "The centre is closed on 2026-10-03" in response.get_data(as_text=True)
    assert count(db) == 0
    with pytest.raises(ap.Refusal) as refused:
        book(hall, day=date(2026, 11, 28))                    # a Saturday
    assert refused.value.field == "day"


def test_a_time_outside_the_rules_hours_is_refused(hall, client, db):
    for slot in ("12:00", "17:00", "09:10", "08:30"):
        response = post_booking(client, hall, slot=slot)
        assert response.status_code == 400, slot
        assert "is not an appointment time of this window" in response.get_data(as_text=True)
    assert count(db) == 0


def test_a_time_already_past_is_refused(hall, client, db, clock):
    clock(datetime(2026, 11, 24, 10, 5))
    response = post_booking(client, hall, slot="10:00")
    assert response.status_code == 400 and "This time has passed" in response.get_data(as_text=True)
    assert post_booking(client, hall, day=MONDAY.date()).status_code == 400          # yesterday
    assert post_booking(client, hall, slot="10:30").status_code == 302
    assert count(db) == 1


def test_a_day_beyond_the_booking_horizon_is_refused(hall, db):
    with pytest.raises(ap.Refusal) as refused:
        book(hall, day=date(2026, 12, 7))                   # the 10th working day ahead; the rule opens 5
    assert "今后 5 个工作日" in str(refused.value)


def test_the_same_phone_twice_for_the_same_slot_is_refused(hall, client, db):
    assert post_booking(client, hall).status_code == 302
    response = post_booking(client, hall, phone="139 1234 5678")
    assert response.status_code == 400
    assert "This phone number already has an appointment at this time." in response.get_data(as_text=True)
    assert count(db) == 1
    assert post_booking(client, hall, slot="09:30").status_code == 302             # another slot is fine


def test_name_and_a_valid_phone_are_required(hall, client, db):
    assert "Enter your name." in post_booking(client, hall, name=" ").get_data(as_text=True)
    assert "Enter a mobile number" in post_booking(client, hall, phone="12345").get_data(as_text=True)
    assert count(db) == 0


def test_two_citizens_racing_for_the_last_place_only_one_gets_it(app, hall, db):
    """Two threads, each with its own client and session, released together, ask for the last place."""
    assert db.engine.url.database != ":memory:"
    hall["rule"].capacity = 1
    db.session.commit()
    clients = [app.test_client(), app.test_client()]
    for c in clients:
        c.post("/locale/en")
    data = [{"offer": f"m{hall['matter'].id}", "day": "2026-11-24", "slot": "09:00", "name": "李梅",
             "phone": f"1390000000{i}"} for i in range(2)]
    db.session.commit()
    barrier = threading.Barrier(2, timeout=30)
    answers, errors = {}, []

    def go(i):
        try:
            barrier.wait()
            answers[i] = clients[i].post("/p/hall/appointments", data=data[i])
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=go, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors, errors
    assert sorted(r.status_code for r in answers.values()) == [302, 400]
    loser = next(r for r in answers.values() if r.status_code == 400)
    assert "is full" in loser.get_data(as_text=True)
    db.session.expire_all()
    assert count(db) == 1


def test_the_places_are_counted_at_booking_time_not_from_the_page(hall, db):
    """The page showed a place left; meanwhile it went: the booking is still refused."""
    hall["rule"].capacity = 1
    shown = ap.open_slots(hall["rule"], TUESDAY, MONDAY)
    assert shown[0][1] == 1
    book(hall, phone="13900000001")
    with pytest.raises(ap.Refusal) as refused:
        book(hall, phone="13900000002")
    assert refused.value.field == "slot"


# ------------------------------------------------------------------ the public pages

def test_the_booking_page_walks_matter_day_time_and_shows_the_code(hall, client, db):
    page = client.get("/p/hall/appointments").get_data(as_text=True)
    assert "最低生活保障申请" in page and "3号 民政救助" in page
    page = client.get(f"/p/hall/appointments?offer=m{hall['matter'].id}").get_data(as_text=True)
    assert 'data-day="2026-11-23"' in page and 'data-day="2026-11-30"' in page and 'data-day="2026-12-01"' not in page
    page = client.get(f"/p/hall/appointments?offer=m{hall['matter'].id}&day=2026-11-24").get_data(as_text=True)
    assert 'value="09:00"' in page and 'value="16:30"' in page
    response = post_booking(client, hall, urgent="1", reason="明天住院，需今日办结")
    assert response.status_code == 302
    a = db.session.scalar(select(Appointment))
    shown = client.get(response.headers["Location"]).get_data(as_text=True)
    assert a.code in shown and "急事急办" in shown and "1391234****" not in shown and "139****5678" in shown
    assert a.urgent and a.urgent_reason == "明天住院，需今日办结"


def test_a_holiday_booking_page_shows_the_duty_phone(hall, client, db, clock):
    clock(datetime(2026, 10, 3, 10, 0))
    db.session.add(HolidayDuty(center_id=hall["center"].id, day=date(2026, 10, 3), staff_id=hall["clerk"].id,
                               phone="13700001111"))
    db.session.commit()
    page = client.get("/p/hall/appointments").get_data(as_text=True)
    assert "节假日值班电话" in page and "13700001111" in page and "hall_clerk" in page
    clock(datetime(2026, 10, 8, 10, 0))
    assert "节假日值班电话" not in client.get("/p/hall/appointments").get_data(as_text=True)


def test_the_duty_roster_is_for_non_working_days(hall, db):
    from app.records import operations
    director = make_user(hall["center"], "director")
    duty = operations.create(ap.DUTIES, director, {"day": date(2026, 10, 2), "staff_id": hall["clerk"].id,
                                                   "phone": "13700001111"}, center_id=hall["center"].id)
    assert duty.id
    with pytest.raises(operations.Invalid) as invalid:
        operations.create(ap.DUTIES, director, {"day": TUESDAY, "staff_id": hall["clerk"].id,
                                                "phone": "13700001111"}, center_id=hall["center"].id)
    assert "day" in invalid.value.errors


def test_urgent_without_a_reason_is_refused(hall, client, db):
    response = post_booking(client, hall, urgent="1")
    assert response.status_code == 400 and "Say why the matter is urgent." in response.get_data(as_text=True)
    assert count(db) == 0


def test_bookings_from_one_address_are_limited(hall, client, db):
    for i in range(ap.BOOK_LIMIT):
        post_booking(client, hall, slot=["09:00", "09:30", "10:00", "10:30", "11:00"][i % 5], phone=f"1390000{i:04d}")
    response = post_booking(client, hall, slot="14:30", phone="13911110000")
    assert response.status_code == 400 and "Too many bookings" in response.get_data(as_text=True)


def test_the_public_centre_page_links_to_booking(hall, client):
    assert "/p/hall/appointments" in client.get("/p/hall").get_data(as_text=True)


# ------------------------------------------------------------------ cancel and move

def test_cancel_with_code_and_phone_frees_the_place(hall, client, db):
    hall["rule"].capacity = 1
    a = book(hall)
    db.session.commit()
    wrong = client.post("/p/hall/appointments/find", data={"code": a.code, "phone": "13800000000"})
    assert wrong.status_code == 400 and "No booking with this code and phone" in wrong.get_data(as_text=True)
    found = client.post("/p/hall/appointments/find", data={"code": a.code.lower(), "phone": "13912345678"})
    assert found.status_code == 302
    assert client.post(found.headers["Location"], data={"action": "cancel"}).status_code == 302
    db.session.expire_all()
    assert db.session.get(Appointment, a.id).state == "cancelled"
    assert post_booking(client, hall, phone="13900000009").status_code == 302   # the place is free again


def test_reschedule_with_code_moves_the_booking_and_keeps_the_code(hall, client, db):
    a = book(hall)
    other = book(hall, at=time(15), phone="13900000001")
    book(hall, at=time(15), phone="13900000002")             # 15:00 is now full
    db.session.commit()
    url = client.post("/p/hall/appointments/find", data={"code": a.code, "phone": a.phone}).headers["Location"]
    full = client.post(url, data={"action": "reschedule", "day": "2026-11-25", "slot": "15:00"})
    assert full.status_code == 302                            # 25th is free at 15:00
    db.session.expire_all()
    moved = db.session.get(Appointment, a.id)
    assert (moved.day, moved.start, moved.code, moved.reschedules) == (date(2026, 11, 25), time(15), a.code, 1)
    refused = client.post(url, data={"action": "reschedule", "day": "2026-11-24", "slot": "15:00"})
    assert refused.status_code == 400 and "is full" in refused.get_data(as_text=True)
    assert other.state == "booked"


# ------------------------------------------------------------------ check-in

def test_check_in_makes_a_priority_ticket_once(hall, client, db, clock):
    a = book(hall)
    db.session.commit()
    clock(datetime(2026, 11, 24, 8, 50))
    first = client.post("/p/hall/appointments/checkin", data={"code": a.code})
    assert first.status_code == 302 and "/p/hall/queue/" in first.headers["Location"]
    again = client.post("/p/hall/appointments/checkin", data={"code": f" {a.code.lower()} "})
    assert again.headers["Location"] == first.headers["Location"]
    db.session.expire_all()
    tickets = db.session.scalars(select(QueueTicket)).all()
    assert len(tickets) == 1
    ticket, a = tickets[0], db.session.get(Appointment, a.id)
    assert (ticket.priority, ticket.rank, ticket.appointment_id, ticket.window_id) == (
        "appointment", 0, a.id, hall["window"].id)
    assert (a.state, a.ticket_id, a.checked_in_at) == ("checked_in", ticket.id, datetime(2026, 11, 24, 8, 50))


def test_an_appointment_ticket_is_called_before_earlier_ordinary_ones(hall, db, clock):
    from app.queue import call_next, take_ticket
    a = book(hall)
    db.session.commit()
    clock(datetime(2026, 11, 24, 8, 50))
    take_ticket(hall["center"].id, window_id=hall["window"].id)
    ticket = ap.check_in(a)
    assert call_next(hall["window"], hall["clerk"]).id == ticket.id


def test_check_in_on_another_day_or_after_cancelling_is_refused(hall, client, db, clock):
    a = book(hall)
    db.session.commit()
    response = client.post("/p/hall/appointments/checkin", data={"code": a.code})
    assert response.status_code == 400 and "This booking is for 2026-11-24" in response.get_data(as_text=True)
    ap.cancel(a)
    db.session.commit()
    clock(datetime(2026, 11, 24, 9, 0))
    assert "was cancelled" in client.post("/p/hall/appointments/checkin", data={"code": a.code}).get_data(as_text=True)
    assert "No booking with this code" in client.post("/p/hall/appointments/checkin",
                                                       data={"code": "ZZZZ2222"}).get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(QueueTicket)) == 0


def test_the_clerk_checks_a_code_in_from_the_days_page(hall, client, auth, db, clock):
    a = book(hall)
    db.session.commit()
    clock(datetime(2026, 11, 24, 9, 0))
    auth.login(hall["clerk"])
    response = client.post("/appointments/", data={"code": a.code})
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Checked in: number 001" in page
    db.session.expire_all()
    assert db.session.get(Appointment, a.id).state == "checked_in"


# ------------------------------------------------------------------ no-shows, urgent, reminders

def test_the_clerk_marks_a_no_show(hall, client, auth, db):
    a = book(hall)
    db.session.commit()
    auth.login(hall["clerk"])
    assert client.post(f"/appointments/{a.id}/no-show").status_code == 302
    db.session.expire_all()
    a = db.session.get(Appointment, a.id)
    assert (a.state, a.no_show_by_id) == ("no_show", hall["clerk"].id)
    client.post(f"/appointments/{a.id}/no-show")               # twice: refused, nothing changes
    db.session.expire_all()
    assert db.session.get(Appointment, a.id).version == a.version


def test_the_no_show_job_marks_bookings_not_checked_in_after_their_slot_ends(hall, db, app):
    from jobs.runner import run_job
    early, late = book(hall, at=time(9)), book(hall, at=time(10))
    checked = book(hall, at=time(9), phone="13900000001")
    checked.state = "checked_in"
    db.session.commit()
    assert run_job("appointment_no_shows", at=datetime(2026, 11, 24, 9, 45)) == "1 no-shows"
    db.session.expire_all()
    assert [db.session.get(Appointment, x.id).state for x in (early, late, checked)] == [
        "no_show", "booked", "checked_in"]
    run_job("appointment_no_shows", at=datetime(2026, 11, 25, 9, 0))   # the next morning: yesterday's rest
    db.session.expire_all()
    assert db.session.get(Appointment, late.id).state == "no_show"


def test_urgent_bookings_head_the_clerks_list(hall, client, auth, db):
    book(hall, at=time(9), name="早到", phone="13900000001")
    book(hall, at=time(16), name="急办", phone="13900000002", urgent=True, reason="外出务工明日出发")
    db.session.commit()
    (window, rows), = ap.day_list(hall["center"].id, TUESDAY)
    assert [r.name for r in rows] == ["急办", "早到"]
    auth.login(hall["clerk"])
    page = client.get("/appointments/?day=2026-11-24").get_data(as_text=True)
    assert page.index("急办") < page.index("早到") and "外出务工明日出发" in page


def test_the_morning_reminder_tells_each_windows_post_holders_once(hall, db):
    from jobs.runner import run_job
    holder, cover, other_clerk = (make_user(hall["center"], "clerk") for _i in range(3))
    db.session.add(Post(center_id=hall["center"].id, name="低保受理", window_id=hall["window"].id,
                        a_holder_id=holder.id, b_holder_id=cover.id))
    book(hall, at=time(9))
    book(hall, at=time(15), phone="13900000001")
    db.session.commit()
    at = datetime(2026, 11, 24, 8, 0)
    assert run_job("appointment_reminders", at=at) == "2 notifications"
    assert run_job("appointment_reminders", at=at) == "0 notifications"
    notes = db.session.scalars(select(Notification)).all()
    assert {n.user_id for n in notes} == {holder.id, cover.id}
    assert notes[0].title == "今日预约 2 个" and "民政救助：2个" in notes[0].body
    assert other_clerk.id not in {n.user_id for n in notes}


def test_without_post_holders_the_centres_clerks_are_told_and_not_on_holidays(hall, db):
    from jobs.runner import run_job
    book(hall, day=date(2026, 11, 24))
    db.session.commit()
    assert run_job("appointment_reminders", at=datetime(2026, 10, 3, 8, 0)) == "not a working day"
    run_job("appointment_reminders", at=datetime(2026, 11, 24, 8, 0))
    assert [n.user_id for n in db.session.scalars(select(Notification))] == [hall["clerk"].id]


# ------------------------------------------------------------------ centres apart

def test_centre_isolation(hall, client, auth, db):
    a = book(hall)
    other = make_center("石桥镇便民服务中心", code="other")
    stranger = make_user(other, "clerk", username="other_clerk")
    stranger.locale = "en"
    db.session.commit()
    auth.login(stranger)
    assert client.post(f"/appointments/{a.id}/no-show").status_code == 404
    assert client.post(f"/appointments/{a.id}/check-in").status_code == 404
    assert a.code not in client.get("/appointments/?day=2026-11-24").get_data(as_text=True)
    assert client.get(f"/r/appointments/{a.id}").status_code == 404
    auth.logout()
    assert "本中心没有此预约码的预约" in client.post("/p/other/appointments/checkin",
                                                       data={"code": a.code}).get_data(as_text=True)
    assert client.post("/p/other/appointments/find", data={"code": a.code, "phone": a.phone}).status_code == 400
    token = ap.appointment_token(a)
    assert client.get(f"/p/other/appointments/b/{token}").status_code == 404
    assert client.get("/p/other/appointments?offer=m%d" % hall["matter"].id).status_code == 200
    assert "最低生活保障申请" not in client.get("/p/other/appointments").get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Appointment, a.id).state == "booked"


def test_a_citizen_cannot_reach_the_clerks_page(hall, client):
    assert client.get("/appointments/").status_code in (302, 401)


def test_a_rule_for_a_matter_of_another_window_is_refused(hall, db):
    from app.records import operations
    director = make_user(hall["center"], "director")
    other_window = make_window(hall["center"], 4, "劳动保障")
    with pytest.raises(operations.Invalid) as invalid:
        operations.create(ap.RULES, director, {"window_id": other_window.id, "matter_id": hall["matter"].id,
                                               "am_start": time(9), "am_end": time(11), "slot_minutes": 30,
                                               "capacity": 2, "days_ahead": 5}, center_id=hall["center"].id)
    assert "matter_id" in invalid.value.errors
    with pytest.raises(operations.Invalid) as invalid:
        operations.create(ap.RULES, director, {"window_id": other_window.id, "am_start": time(11),
                                               "am_end": time(9), "slot_minutes": 30, "capacity": 2,
                                               "days_ahead": 5}, center_id=hall["center"].id)
    assert "am_end" in invalid.value.errors


def test_the_record_pages_steps_check_in_with_a_ticket_and_refuse_another_day(hall, db, clock):
    from app.records import operations
    a, b = book(hall), book(hall, at=time(10))
    db.session.commit()
    with pytest.raises(operations.Refused):
        with db.session.begin_nested():
            operations.transition(ap.APPOINTMENTS, a, "check_in", hall["clerk"])
    clock(datetime(2026, 11, 24, 8, 55))
    operations.transition(ap.APPOINTMENTS, a, "check_in", hall["clerk"])
    operations.transition(ap.APPOINTMENTS, b, "no_show", hall["clerk"])
    assert (a.state, a.ticket.priority, b.state, b.no_show_by_id) == (
        "checked_in", "appointment", "no_show", hall["clerk"].id)
