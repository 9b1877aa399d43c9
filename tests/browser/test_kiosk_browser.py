"""The rating tablet at a window (好差评评价器) on a 10-inch tablet, and the citizen's rating page on a phone:
tap a level, see the thanks, find the rating stored."""
from __future__ import annotations

import os
import re

import pytest
from sqlalchemy import select

from app import ratings
from app.timeutil import today
from models.case import ServiceCase
from models.catalogue import Matter
from models.core import Center, RoleGrant, User
from models.voice import LEVEL_SCORES, Rating
from tests.browser.test_catalogue_browser import login
from tests.conftest import make_case

pytestmark = pytest.mark.browser

LANDSCAPE = {"width": 1024, "height": 768}
PORTRAIT = {"width": 768, "height": 1024}
PHONE = {"width": 390, "height": 844}
SHOTS = os.environ.get("SCREENSHOT_DIR")   # set it to keep the screenshots for a look


def served_case(db, **kw):
    """A case a clerk of the demo township registered today at a window: the one the tablet shows."""
    center = db.session.scalar(select(Center).where(Center.code == "chengguan"))
    clerk = db.session.scalar(select(User).join(RoleGrant, RoleGrant.user_id == User.id)
                              .where(RoleGrant.center_id == center.id, RoleGrant.role == "clerk").limit(1))
    matter = db.session.scalar(select(Matter).where(Matter.center_id == center.id, Matter.window_id.is_not(None),
                                                    Matter.voided.is_(False)).limit(1))
    case = make_case(center, matter, intake=today(), responsible=clerk, receipt_no=kw.pop("receipt_no", "2026-990001"),
                     **kw)
    case.updated_at = case.updated_at.replace(year=today().year + 1)  # the clerk's latest: served now
    db.session.commit()
    ids = (case.id, clerk.username, matter.window_id)
    db.session.close()
    return ids


def shot(page, name):
    if SHOTS:
        page.screenshot(path=os.path.join(SHOTS, name), full_page=True)


def test_kiosk_rates_the_served_case_by_tapping(live_server, browser, db):
    case_id, clerk, window_id = served_case(db)
    context = browser.new_context(locale="zh-CN", viewport=LANDSCAPE, has_touch=True)
    page = context.new_page()
    try:
        login(page, live_server, clerk)   # the tablet is logged in once as the window's clerk
        page.goto(f"{live_server}/kiosk/{window_id}")
        assert page.locator("#kiosk-case").get_attribute("data-case") == str(case_id)
        buttons = page.locator("button.kiosk-level")
        assert buttons.count() == 5
        for i in range(5):   # big enough for a finger
            box = buttons.nth(i).bounding_box()
            assert box["height"] >= 80 and box["width"] >= 150
        assert page.locator(".topbar, nav.mainnav").count() == 0   # no staff menu on the citizen's screen
        shot(page, "kiosk_levels.png")
        # A bad level asks for a reason first.
        page.locator("button.kiosk-level.lv-dissatisfied").click()
        page.wait_for_selector("#kiosk-reasons")
        shot(page, "kiosk_reasons.png")
        page.locator("#kiosk-reasons label.reason-option").nth(3).click()
        page.locator("#kiosk-reasons button[type=submit]").click()
        page.wait_for_url(re.compile(rf".*/kiosk/{window_id}/thanks$"))
        assert page.locator("#kiosk-thanks").is_visible()
        shot(page, "kiosk_thanks.png")
        rating = db.session.scalar(select(Rating).where(Rating.case_id == case_id))
        assert (rating.level, rating.score, rating.channel, rating.reasons) == ("dissatisfied", 3, "kiosk", "too_slow")
        assert db.session.get(ServiceCase, case_id).rating_status == "rated"
        db.session.close()
        # The thanks screen goes back to the waiting screen by itself (meta refresh).
        refresh = page.locator("meta[http-equiv=refresh]").get_attribute("content")
        assert refresh.startswith(f"{ratings.KIOSK_THANKS_SECONDS};")
        page.wait_for_url(re.compile(rf".*/kiosk/{window_id}$"), timeout=(ratings.KIOSK_THANKS_SECONDS + 5) * 1000)
        assert page.locator(f"#kiosk-case[data-case='{case_id}']").count() == 0   # rated once: not shown again
    finally:
        context.close()


def test_citizen_rates_on_a_phone(live_server, browser, db):
    case_id, _clerk, _window = served_case(db, receipt_no="2026-990002", completed_on=today(), state="completed")
    with db.session.begin():
        token = ratings.rate_token(db.session.get(ServiceCase, case_id))
    db.session.close()
    context = browser.new_context(locale="zh-CN", viewport=PHONE, has_touch=True, is_mobile=True)
    page = context.new_page()
    try:
        page.goto(f"{live_server}/status/?no=2026-990002")
        page.fill("#phone", "13912345678")
        page.locator(".status-box form button[type=submit]").click()
        page.locator("#rate-link").click()
        page.wait_for_selector("#rating-form")
        assert page.url.endswith(f"/p/chengguan/rate/{token}")
        assert not page.locator("fieldset.reasons").is_visible()   # asked for only with a bad level
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= PHONE["width"]
        for option in page.locator("label.level-option").all():
            assert option.bounding_box()["height"] >= 44
        shot(page, "rate_phone.png")
        page.locator("label.level-option.lv-very_dissatisfied").click()
        assert page.locator("fieldset.reasons").is_visible()
        page.locator("button.rate-submit").click()   # no reason: refused beside the checklist
        page.wait_for_selector("fieldset.reasons.has-error .error")
        shot(page, "rate_phone_error.png")
        page.locator("label.level-option.lv-satisfied").click()
        page.locator("button.rate-submit").click()
        page.wait_for_selector("#rating-thanks")
        rating = db.session.scalar(select(Rating).where(Rating.case_id == case_id))
        assert (rating.level, rating.channel) == ("satisfied", "qr")
        db.session.close()
    finally:
        context.close()


def clerk_average(page, base, name) -> tuple[int, str]:
    """The clerk's row of the statistics page (this month), as the director reads it: (ratings, average)."""
    page.goto(f"{base}/ratings/stats")
    row = page.locator("table[data-group=clerks] tr").filter(has=page.locator("td", has_text=name)).first
    if row.count() == 0:
        return 0, "—"
    assert row.locator("td").first.inner_text().strip() == name
    return int(row.locator("td.n").inner_text()), row.locator("td.avg").inner_text().strip()


def test_a_kiosk_rating_changes_the_clerks_average_on_the_statistics(live_server, browser, db):
    """A 10-inch tablet held upright at the window: one tap, and the director's statistics move."""
    case_id, clerk, window_id = served_case(db, receipt_no="2026-990003")
    user = db.session.scalar(select(User).where(User.username == clerk))
    served = db.session.get(ServiceCase, case_id)
    # An earlier visit this month rated 基本满意 on paper: the clerk has an average to move.
    earlier = make_case(served.center, served.matter, intake=today(), completed_on=today(), state="completed",
                        responsible=user, receipt_no="2026-990004")
    ratings.record_rating(earlier, "fair", channel="paper")
    name = user.name
    db.session.commit()
    db.session.close()
    office = browser.new_context(locale="zh-CN", viewport={"width": 1366, "height": 768})
    tablet = browser.new_context(locale="zh-CN", viewport=PORTRAIT, has_touch=True)
    try:
        director = office.new_page()
        login(director, live_server, "director")
        n, before = clerk_average(director, live_server, name)
        assert 1 <= n < 100   # the total is the shown average times the count, recovered exactly below 100 ratings
        total = round(float(before) * n) if n else 0
        level = "fair" if before == "10.00" else "very_satisfied"   # a level that must move the average
        score = LEVEL_SCORES[level]
        expected = f"{(total + score) / (n + 1):.2f}"
        assert expected != before

        page = tablet.new_page()
        login(page, live_server, clerk)
        page.goto(f"{live_server}/kiosk/{window_id}")
        assert page.locator("#kiosk-case").get_attribute("data-case") == str(case_id)
        assert page.evaluate("document.documentElement.scrollWidth") <= PORTRAIT["width"]
        shot(page, "kiosk_portrait.png")
        page.locator(f"button.kiosk-level.lv-{level}").tap()
        page.wait_for_url(re.compile(rf".*/kiosk/{window_id}/thanks$"))
        assert page.locator("#kiosk-thanks").is_visible()

        n_after, after = clerk_average(director, live_server, name)
        assert (n_after, after) == (n + 1, expected) and after != before
        shot(director, "stats_after_kiosk.png")
        rating = db.session.scalar(select(Rating).where(Rating.case_id == case_id))
        assert (rating.level, rating.channel, rating.score) == (level, "kiosk", score)
        db.session.close()
    finally:
        tablet.close()
        office.close()
