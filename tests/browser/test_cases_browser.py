"""A window clerk registers a case with a real browser: matter → materials list → save → receipt."""
from __future__ import annotations

import re

import pytest

from tests.browser.test_catalogue_browser import login

pytestmark = pytest.mark.browser

# A case's own page; "**/r/cases/*" also matched /r/cases/new?matter_id=… (the form itself) at once.
CASE_PAGE = re.compile(r".*/r/cases/\d+$")


def test_clerk_registers_a_case_from_the_matter_materials_list(live_server, page):
    login(page, live_server, "clerk1")
    page.goto(f"{live_server}/r/cases/new")
    page.select_option("form.filters select[name=matter_id]", label="高龄津贴申领")  # reloads with its materials
    page.wait_for_url("**matter_id=*")
    assert page.input_value("#materials-0-name") == "居民身份证"
    page.fill("#applicant_name", "王秀兰")
    page.fill("#applicant_phone", "13712345678")
    page.fill("#applicant_id_no", "11010519491231002X")
    page.check("#materials-0-received")  # the bank card copy (the third line) is not ticked: missing
    page.check("#materials-1-received")
    page.click("button:text('只登记')")
    page.wait_for_url(CASE_PAGE)  # the new record's page, not the form's own address
    assert "王秀兰" in page.locator("h1").inner_text()
    assert "110105********002X" in page.locator("main").inner_text()  # a clerk sees the ID masked
    page.click("text=材料不全，一次性告知")
    page.click("button[type=submit].warn")
    page.wait_for_url(CASE_PAGE)  # back on the record from the step's form
    assert "待补正" in page.locator("h1").inner_text()
    assert "银行卡或存折" in page.locator(".flash.warning").inner_text()
    with page.expect_popup() as popup:
        page.click("a.button:text('一次性告知单')")
    notice = popup.value
    notice.wait_for_load_state()
    assert "一次性告知单" in notice.content() and "银行卡或存折" in notice.content()


def test_clerk_registers_a_complete_promised_case_from_home_in_six_clicks(live_server, page):
    """登记 → matter (open the picker, choose) → all received → 登记并受理 → receipt: six clicks at 1366×768."""
    login(page, live_server, "clerk1")
    clicks = 0

    def click(selector):
        nonlocal clicks
        clicks += 1
        page.click(selector)

    click("a.button:text('登记办件')")
    page.wait_for_url("**/r/cases/new")
    clicks += 2  # open the matter picker, choose the matter; choosing loads its materials list
    page.select_option("#matter-select", label="高龄津贴申领")
    page.wait_for_url("**matter_id=*")
    assert page.evaluate("document.activeElement.id") == "applicant_name"  # typing starts at once
    page.keyboard.type("王秀兰")
    page.keyboard.press("Tab")
    page.keyboard.type("13712345678")
    click("text=清单材料全部收齐")
    click("button:text('登记并受理')")
    page.wait_for_url(CASE_PAGE)  # the new record's page, not the form's own address
    assert "受理" in page.locator("h1").inner_text() and "王秀兰" in page.locator("h1").inner_text()
    with page.expect_popup() as popup:
        click("a.button:text('收件回执')")
    receipt = popup.value
    receipt.wait_for_load_state()
    assert "收件回执" in receipt.content() and "王秀兰" in receipt.content()
    assert clicks <= 6
