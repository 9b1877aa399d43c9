"""On a tablet, by touch: the deputy approves a clerk's one-day leave slip from the worklist, and the
"on duty today" board then shows the post's B holder covering A [000 考勤 §2, AB岗 §3]."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from tests.browser.test_catalogue_browser import login
from tests.browser.test_tablet_browser import PORTRAIT

pytestmark = pytest.mark.browser


def test_deputy_approves_a_one_day_slip_by_touch_and_the_board_shows_b_covering(app, db, live_server, browser):
    from app import timeutil
    from app.leave import LEAVE_SLIPS
    from app.records import operations
    from app.workdays import next_working_day
    from models.core import User
    day = timeutil.today()
    clerk = db.session.scalar(select(User).where(User.username == "clerk1"))   # A of window 1; B is clerk2
    slip = operations.create(LEAVE_SLIPS, clerk, {
        "staff_id": clerk.id, "kind": "personal", "start_on": day, "end_on": next_working_day(day),
        "reason": "家中有事", "phone": "13900001111"}, center_id=clerk.center_id)
    assert slip.days == 1
    operations.transition(LEAVE_SLIPS, slip, "submit", clerk)
    db.session.commit()
    slip_id = slip.id
    db.session.close()

    context = browser.new_context(locale="zh-CN", viewport=PORTRAIT, has_touch=True)
    page = context.new_page()
    try:
        login(page, live_server, "deputy")
        page.locator(f"a[href$='/r/leave-slips/{slip_id}']").first.tap()
        page.wait_for_url(re.compile(rf".*/r/leave-slips/{slip_id}$"))
        page.locator(".page-head .actions a.button", has_text="批准").tap()
        page.wait_for_url(re.compile(r".*/t/deputy_approve$"))
        page.locator("form button[type=submit].primary").first.tap()
        page.wait_for_url(re.compile(rf".*/r/leave-slips/{slip_id}$"))
        assert "已批准" in page.locator("h1").inner_text()
        page.goto(f"{live_server}/staff/on-duty")
        row = page.locator("table.board tr", has_text="刘晓燕")
        assert "陈志强" in row.inner_text() and "B岗顶岗" in row.inner_text()
    finally:
        context.close()
