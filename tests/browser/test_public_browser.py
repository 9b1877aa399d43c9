"""A visitor on a phone uses the public front door without logging in; the public pages fit phone, tablet
and PC widths (screenshots kept in PUBLIC_SCREENSHOTS, or the test's temporary folder, to look at)."""
from __future__ import annotations

import os
from pathlib import Path

import pytest
from sqlalchemy import select

pytestmark = pytest.mark.browser

PHONE, TABLET, PC = (390, 844), (768, 1024), (1366, 768)


def demo_case(db, state="accepted"):
    from models.case import ServiceCase
    from models.core import Center
    case = db.session.scalar(select(ServiceCase).join(Center, Center.id == ServiceCase.center_id)
                             .where(Center.code == "chengguan", ServiceCase.state == state,
                                    ServiceCase.voided.is_(False), ServiceCase.receipt_no != "")
                             .order_by(ServiceCase.id).limit(1))
    assert case is not None
    facts = (case.receipt_no, case.applicant_phone, case.matter.name, case.applicant_name, case.applicant_id_no)
    db.session.close()
    return facts


def fits_the_width(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_visitor_on_a_phone_looks_up_a_case_from_the_home_page(live_server, browser, db, tmp_path):
    receipt_no, phone, matter_name, applicant, id_no = demo_case(db)
    context = browser.new_context(locale="zh-CN", viewport={"width": PHONE[0], "height": PHONE[1]},
                                  is_mobile=True, has_touch=True)
    page = context.new_page()
    requests_elsewhere = []
    page.on("request", lambda r: None if r.url.startswith(live_server) else requests_elsewhere.append(r.url))
    try:
        page.goto(f"{live_server}/")
        assert "/login" not in page.url
        assert page.get_by_text("工作人员登录").is_visible()
        page.fill("#lookup-no", receipt_no)
        page.fill("#lookup-phone", phone)
        page.tap("section.lookup button[type=submit]")
        page.wait_for_url("**/status/")
        result = page.locator("#status-result")
        result.wait_for()
        text = result.inner_text()
        assert "办理中" in text and matter_name in text and "承诺办结" in text
        assert applicant not in page.content() and id_no not in page.content()
        assert fits_the_width(page)
        assert requests_elsewhere == []
        shots = Path(os.environ.get("PUBLIC_SCREENSHOTS") or tmp_path)
        shots.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(shots / f"public-status-{PHONE[0]}.png"), full_page=True)
    finally:
        context.close()


@pytest.mark.parametrize("width, height", [PHONE, TABLET, PC], ids=["phone", "tablet", "pc"])
def test_public_pages_fit_phone_tablet_and_pc(live_server, browser, db, tmp_path, width, height):
    from models.catalogue import Matter
    from models.core import Center
    matter = db.session.scalar(select(Matter).join(Center, Center.id == Matter.center_id)
                               .where(Center.code == "chengguan", Matter.voided.is_(False), Matter.faq != "")
                               .order_by(Matter.id).limit(1)) or db.session.scalar(
        select(Matter).join(Center, Center.id == Matter.center_id).where(Center.code == "chengguan").limit(1))
    matter_id = matter.id
    db.session.close()
    shots = Path(os.environ.get("PUBLIC_SCREENSHOTS") or tmp_path)
    shots.mkdir(parents=True, exist_ok=True)
    context = browser.new_context(locale="zh-CN", viewport={"width": width, "height": height})
    page = context.new_page()
    try:
        for name, url in (("home", "/"), ("centre", "/p/chengguan"), ("search", "/p/chengguan?q=救助"),
                          ("matter", f"/p/chengguan/matters/{matter_id}")):
            page.goto(f"{live_server}{url}")
            page.screenshot(path=str(shots / f"public-{name}-{width}.png"), full_page=True)
            assert fits_the_width(page), f"{name} overflows at {width} px"
        # Touch targets: the matter links and the lookup button are at least 44 px high.
        page.goto(f"{live_server}/p/chengguan")
        heights = page.eval_on_selector_all("ul.matter-list a, section.lookup button",
                                            "els => els.map(e => e.getBoundingClientRect().height)")
        assert heights and min(heights) >= 44
    finally:
        context.close()
