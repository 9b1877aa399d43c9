"""A citizen books the next working day's slot on a phone (390×844, no login); on that day the clerk checks the
code in and calls the number from the window page [SPEC §4.6, §4.15]. The centre's clock is set by the test
(app.timeutil), so the run does not depend on the real day being a working day."""
from __future__ import annotations

from datetime import datetime, time

import pytest

from tests.browser.test_catalogue_browser import login

pytestmark = pytest.mark.browser

MONDAY = datetime(2026, 11, 23, 8, 0)
TUESDAY_MORNING = datetime(2026, 11, 24, 9, 5)


def test_a_citizen_books_on_a_phone_and_the_clerk_checks_in_and_calls_the_number(
        calendar_2026, live_server, browser, db, monkeypatch):
    from sqlalchemy import select

    from models.appointment import Appointment, AppointmentRule
    from models.catalogue import Window
    from models.core import Center
    moment = {"at": MONDAY}
    monkeypatch.setattr("app.timeutil.now", lambda: moment["at"])
    monkeypatch.setattr("app.timeutil.today", lambda: moment["at"].date())
    center = db.session.scalar(select(Center).where(Center.code == "chengguan"))
    window = db.session.scalar(select(Window).where(Window.center_id == center.id, Window.number == 5))
    db.session.add(AppointmentRule(center_id=center.id, window_id=window.id, am_start=time(9), am_end=time(11, 30),
                                   pm_start=time(14, 30), pm_end=time(17), slot_minutes=30, capacity=2, days_ahead=5))
    db.session.commit()
    window_id = window.id
    db.session.close()

    phone = browser.new_context(locale="zh-CN", viewport={"width": 390, "height": 844}, is_mobile=True,
                                has_touch=True)
    counter = browser.new_context(locale="zh-CN", viewport={"width": 1024, "height": 768})
    try:
        citizen = phone.new_page()
        citizen.goto(f"{live_server}/p/chengguan")
        citizen.locator(".appointment-link a").first.click()
        citizen.locator(f"a[data-offer=w{window_id}]").click()
        citizen.locator("a[data-day='2026-11-24']").click()       # the next working day
        citizen.locator("input[name=slot][value='09:00']").check()
        citizen.fill("#name", "王秀英")
        citizen.fill("#phone", "13912345678")
        citizen.locator("#book-form button[type=submit]").click()
        code = citizen.locator("#booking-code").inner_text().strip()
        assert len(code) == 8
        assert citizen.evaluate("document.documentElement.scrollWidth") <= 390   # nothing wider than the phone
        citizen.reload()
        assert citizen.locator("#booking-code").inner_text().strip() == code       # kept on the page

        moment["at"] = TUESDAY_MORNING                                             # the day of the appointment
        clerk = counter.new_page()
        login(clerk, live_server, "clerk5")
        clerk.goto(f"{live_server}/appointments/")
        assert code in clerk.locator(".appt-day").inner_text()
        clerk.fill("#code", code)
        clerk.locator("#checkin-form button[type=submit]").click()
        clerk.wait_for_selector(".flash")
        db.session.expire_all()
        booked = db.session.scalar(select(Appointment).where(Appointment.code == code))
        assert booked.state == "checked_in" and booked.ticket.priority == "appointment"
        number = booked.ticket.label
        db.session.close()

        clerk.goto(f"{live_server}/queue")
        clerk.locator(".window-buttons a", has_text="5号").click()
        clerk.locator("button[value=next]").click()
        assert clerk.locator(".ticket-number").inner_text().strip() == number
    finally:
        phone.close()
        counter.close()
