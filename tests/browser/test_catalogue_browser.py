"""A director logs in with a real browser and works with the matter list (htmx and plain HTML)."""
from __future__ import annotations

import re

import pytest

pytestmark = pytest.mark.browser

# A matter's own page; "**/r/matters/*" also matched the list (/r/matters/) and the form (/r/matters/new) at once.
MATTER_PAGE = re.compile(r".*/r/matters/\d+$")


def login(page, base, username):
    from app.demo import DEMO_PASSWORD
    page.goto(f"{base}/login")
    page.fill("#username", username)
    page.fill("#password", DEMO_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/")


def test_director_logs_in_and_filters_the_matter_list(live_server, page):
    requests_elsewhere = []
    page.on("request", lambda r: None if r.url.startswith(live_server) else requests_elsewhere.append(r.url))
    login(page, live_server, "director")
    assert page.locator("html").get_attribute("lang") == "zh-CN"
    page.goto(f"{live_server}/r/matters/")
    rows_before = page.locator("#record-table tbody tr").count()
    assert rows_before > 5
    first_name = page.locator("#record-table tbody tr td:nth-child(3)").first.inner_text().strip()
    page.fill("input[name=q]", first_name)
    page.keyboard.press("Enter")
    rows = page.locator("#record-table tbody tr")  # polled from Python: the page's CSP forbids eval
    for _ in range(100):
        if rows.count() < rows_before:
            break
        page.wait_for_timeout(50)
    assert rows.count() < rows_before
    assert first_name in page.locator("#record-table").inner_text()
    assert "q=" in page.url  # htmx pushed the filtered address: a reload shows the same list
    page.locator("#record-table tbody tr a").first.click()
    page.wait_for_url(MATTER_PAGE)
    assert page.locator("h1").inner_text().strip() != ""
    assert requests_elsewhere == []


def test_director_adds_a_matter_with_materials_and_sees_the_audit_entry(live_server, page):
    login(page, live_server, "director")
    page.goto(f"{live_server}/r/matters/new")
    page.fill("#name", "老年人优待证办理")
    page.select_option("#kind", "promised")
    page.select_option("#handling_mode", "promised")
    page.fill("#statutory_days", "15")
    page.fill("#promised_days", "20")  # above the statutory limit: refused beside the field
    page.fill("#materials-0-name", "居民身份证")
    page.fill("#materials-0-copies", "1")
    page.click("button.primary[type=submit]")
    error = page.locator(".field.has-error .error")
    assert error.count() == 1 and "法定时限" in error.inner_text()
    assert page.input_value("#materials-0-name") == "居民身份证"  # nothing typed is lost
    page.fill("#promised_days", "5")
    page.fill("#materials-1-name", "户口簿")
    page.click("button.primary[type=submit]")
    page.wait_for_url(MATTER_PAGE)  # the new matter's page, not the form's own address
    body = page.locator("main").inner_text()
    assert "老年人优待证办理" in body and "户口簿" in body and "创建" in body
    page.goto(f"{live_server}/r/matters/?q=优待证")
    assert "老年人优待证办理" in page.locator("#record-table").inner_text()
