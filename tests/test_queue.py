"""Queue tickets and the hall display (排队叫号) [003 4.2.2.3, 4.4.1; SPEC §4.15]: numbers per centre and
day, priority order, call / recall / skip / transfer, no number called twice or skipped under a busy
morning, the case and rating of the visit, the public pages without login."""
from __future__ import annotations

import re
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import select

from app import queue
from models.queue import QueueTicket
from tests.conftest import make_user, make_window

MORNING = datetime(2026, 12, 2, 8, 30)


@pytest.fixture(autouse=True)
def fresh_limits():
    queue.reset_limits()
    yield
    queue.reset_limits()


@pytest.fixture
def hall(county, db, monkeypatch):
    # The hall's clock is that morning for the pages too (a ticket taken through a page is numbered by now()).
    monkeypatch.setattr("app.timeutil.now", lambda: MORNING)
    monkeypatch.setattr("app.timeutil.today", lambda: MORNING.date())
    a = county["a"]
    windows = [make_window(a, n, name) for n, name in ((1, "综合受理"), (2, "民政救助"), (3, "劳动保障"))]
    db.session.commit()
    return {"center": a, "windows": windows, "users": county["users"], "b": county["b"]}


def take(hall, window=0, at=MORNING, **kw):
    return queue.take_ticket(hall["center"].id, window_id=hall["windows"][window].id, at=at, **kw)


def test_numbers_count_from_one_each_day_in_each_centre(hall, db):
    first, second = take(hall), take(hall, window=1)
    other = queue.take_ticket(hall["b"].id, at=MORNING)
    tomorrow = take(hall, at=MORNING + timedelta(days=1))
    assert (first.number, second.number, other.number, tomorrow.number) == (1, 2, 1, 1)
    assert first.label == "001"


def test_appointment_holders_then_the_elderly_and_disabled_are_called_first(hall, db):
    clerk = hall["users"]["a_clerk"]
    plain = take(hall)
    elderly = take(hall, priority="elderly")
    booked = take(hall, priority="appointment")
    disabled = take(hall, priority="disabled")
    window = hall["windows"][0]
    called = [queue.call_next(window, clerk, MORNING + timedelta(minutes=i)).id for i in range(4)]
    assert called == [booked.id, elderly.id, disabled.id, plain.id]


def test_a_window_calls_its_own_tickets_and_those_for_any_window(hall, db):
    clerk = hall["users"]["a_clerk"]
    take(hall, window=1)
    anyone = queue.take_ticket(hall["center"].id, at=MORNING)
    assert queue.call_next(hall["windows"][0], clerk, MORNING).id == anyone.id
    assert queue.call_next(hall["windows"][0], clerk, MORNING) is None


def test_calling_the_next_number_finishes_the_one_served(hall, db):
    clerk, window = hall["users"]["a_clerk"], hall["windows"][0]
    first, second = take(hall), take(hall)
    queue.call_next(window, clerk, MORNING + timedelta(minutes=1))
    queue.call_next(window, clerk, MORNING + timedelta(minutes=6))
    db.session.refresh(first)
    assert first.state == "done" and first.finished_at == MORNING + timedelta(minutes=6)
    assert queue.serving(window, MORNING.date()).id == second.id


def test_recall_puts_the_number_on_top_of_the_display_again(hall, db):
    clerk = hall["users"]["a_clerk"]
    first = take(hall)
    take(hall, window=1)
    queue.call_next(hall["windows"][0], clerk, MORNING + timedelta(minutes=1))
    queue.call_next(hall["windows"][1], clerk, MORNING + timedelta(minutes=2))
    assert queue.display_rows(hall["center"].id, MORNING.date())[0][1] == 2
    queue.recall(first, hall["windows"][0], MORNING + timedelta(minutes=3))
    top = queue.display_rows(hall["center"].id, MORNING.date())[0]
    assert (top[1], top[2], top[5]) == (1, 1, 1)


def test_an_absent_citizen_is_skipped_and_the_number_is_not_called_again(hall, db):
    clerk, window = hall["users"]["a_clerk"], hall["windows"][0]
    ticket = take(hall)
    queue.call_next(window, clerk, MORNING)
    queue.skip(ticket, window, MORNING + timedelta(minutes=2))
    assert ticket.state == "skipped"
    with pytest.raises(queue.QueueRefused):
        queue.recall(ticket, window)
    assert queue.call_next(window, clerk, MORNING) is None


def test_a_transferred_ticket_keeps_its_number_and_place_at_the_other_window(hall, db):
    clerk = hall["users"]["a_clerk"]
    first = take(hall)
    later = take(hall, window=1)
    queue.call_next(hall["windows"][0], clerk, MORNING)
    queue.transfer(first, hall["windows"][0], hall["windows"][1])
    assert (first.state, first.window_id, first.number) == ("waiting", hall["windows"][1].id, 1)
    assert queue.call_next(hall["windows"][1], clerk, MORNING).id == first.id   # before the later number
    assert later.state == "waiting"


def test_a_ticket_is_called_once_when_two_windows_press_next_together(hall, db):
    clerk = hall["users"]["a_clerk"]
    ticket = queue.take_ticket(hall["center"].id, at=MORNING)
    w1, w2 = hall["windows"][:2]
    first = queue.call_next(w1, clerk, MORNING)
    assert first.id == ticket.id
    assert queue.call_next(w2, clerk, MORNING) is None   # already taken: nothing else waits
    # the conditional UPDATE refuses a ticket that is no longer waiting, whoever read it first
    from sqlalchemy import update
    moved = db.session.execute(update(QueueTicket).where(QueueTicket.id == ticket.id, QueueTicket.state == "waiting")
                               .values(state="called")).rowcount
    assert moved == 0


def test_a_busy_morning_of_200_tickets_at_9_windows_calls_every_number_once(hall, db):
    """Tickets are taken while nine windows call, in an interleaved order: every number from 1 to 200 is
    taken once, called once and by one window; none is left or skipped."""
    clerk = hall["users"]["a_clerk"]
    center = hall["center"]
    windows = hall["windows"] + [make_window(center, n, f"窗口{n}") for n in range(4, 10)]
    db.session.commit()
    called = []
    at = MORNING
    taken = 0
    while taken < 200 or any(db.session.scalars(select(QueueTicket.id).where(QueueTicket.state == "waiting"))):
        for _ in range(3):
            if taken < 200:
                queue.take_ticket(center.id, window_id=windows[taken % 9].id if taken % 4 else None,
                                  priority="elderly" if taken % 17 == 0 else "", at=at)
                taken += 1
        for window in windows[(taken % 9):] + windows[:(taken % 9)]:
            ticket = queue.call_next(window, clerk, at)
            if ticket is not None:
                called.append((ticket.number, window.id))
        at += timedelta(minutes=1)
    numbers = sorted(n for n, _w in called)
    assert numbers == list(range(1, 201))
    assert db.session.scalar(select(QueueTicket.id).where(QueueTicket.state == "waiting")) is None


def test_the_case_registered_while_serving_a_ticket_is_linked_to_it(hall, db):
    from app.queue import link_case
    from tests.conftest import make_case
    clerk = hall["users"]["a_clerk"]
    ticket = take(hall)
    queue.call_next(hall["windows"][0], clerk, MORNING)
    case = make_case(hall["center"], intake=MORNING.date(), created_by_id=clerk.id)
    link_case(case)
    assert ticket.case_id == case.id
    other = make_case(hall["center"], intake=MORNING.date(), created_by_id=clerk.id)
    link_case(other)                       # one visit, one case: the ticket keeps the first
    assert ticket.case_id == case.id


def test_waiting_and_serving_times_per_window_and_clerk(hall, db):
    clerk, window = hall["users"]["a_clerk"], hall["windows"][0]
    take(hall, at=MORNING)
    take(hall, at=MORNING + timedelta(minutes=2))
    queue.call_next(window, clerk, MORNING + timedelta(minutes=10))   # waited 10
    queue.call_next(window, clerk, MORNING + timedelta(minutes=14))   # waited 12; the first served 4
    queue.call_next(window, clerk, MORNING + timedelta(minutes=20))   # the second served 6
    by_window, by_clerk = queue.day_times(hall["center"].id, MORNING.date())
    assert (by_window[0].served, by_window[0].wait_minutes, by_window[0].serve_minutes) == (2, 11.0, 5.0)
    assert by_clerk[0].label == clerk.name


def test_a_citizen_takes_a_number_without_login_and_sees_the_people_before(hall, db, client):
    page = client.get(f"/p/{hall['center'].code}/queue")
    assert page.status_code == 200 and "综合受理" in page.get_data(as_text=True)
    take(hall)
    response = client.post(f"/p/{hall['center'].code}/queue", data={"window_id": hall["windows"][0].id,
                                                                    "priority": ""})
    assert response.status_code == 302
    ticket_page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "002" in ticket_page and "前面还有 1 人" in ticket_page
    slip = client.get(response.headers["Location"] + "/slip").get_data(as_text=True)
    assert "002" in slip and "80mm" in slip
    assert client.get(f"/p/{hall['center'].code}/queue/1").status_code == 404   # no counting through ids


def test_a_window_of_another_centre_cannot_take_or_call(hall, db, client, auth):
    foreign = make_window(hall["b"], 1, "综合受理")
    db.session.commit()
    response = client.post(f"/p/{hall['center'].code}/queue", data={"window_id": foreign.id})
    assert response.status_code == 400
    auth.login("a_clerk")
    assert client.get(f"/queue/window/{foreign.id}").status_code == 404
    assert client.get(f"/queue/window/{hall['windows'][0].id}").status_code == 200
    auth.logout()
    auth.login("a_inspector")
    assert client.get(f"/queue/window/{hall['windows'][0].id}").status_code == 403


def test_taking_numbers_from_one_device_is_limited(hall, db, client):
    for _ in range(queue.TAKE_LIMIT):
        assert client.post(f"/p/{hall['center'].code}/queue",
                           data={"window_id": hall["windows"][0].id}).status_code == 302
    flooded = client.post(f"/p/{hall['center'].code}/queue", data={"window_id": hall["windows"][0].id})
    assert flooded.status_code == 400
    assert db.session.scalar(select(QueueTicket.number).order_by(QueueTicket.number.desc())) == queue.TAKE_LIMIT


def test_the_clerk_calls_from_the_window_page_and_the_display_shows_it(hall, db, client, auth):
    take(hall)
    db.session.commit()
    auth.login("a_clerk")
    page = f"/queue/window/{hall['windows'][0].id}"
    assert client.post(page, data={"action": "next"}).status_code == 302
    assert "001" in client.get(page).get_data(as_text=True)
    assert client.post(page, data={"action": "next"}).status_code == 302          # finishes 001
    assert "本窗口暂无等候的号码" in client.get(page).get_data(as_text=True)
    again = client.post(page, data={"action": "recall"})
    assert again.status_code == 400 and "没有正在办理的号" in again.get_data(as_text=True)
    calls = client.get(f"/p/{hall['center'].code}/display/calls").get_data(as_text=True)
    assert "001" in calls and re.search(r'data-latest="\d+-0"', calls)
    display = client.get(f"/p/{hall['center'].code}/display").get_data(as_text=True)
    assert 'hx-trigger="every 1s"' in display and "display.js" in display
