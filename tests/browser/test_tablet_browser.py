"""On a 10-inch tablet (768×1024 portrait, 1024×768 landscape) every control is big enough for a finger,
and the case list stays readable in portrait without sideways scrolling."""
from __future__ import annotations

import re

import pytest

from tests.browser.test_catalogue_browser import login

pytestmark = pytest.mark.browser

PORTRAIT = {"width": 768, "height": 1024}
LANDSCAPE = {"width": 1024, "height": 768}
TAP = 44

# Every visible control a finger may touch; a checkbox counts through its label (the label is the target).
TARGETS = """sel => [...document.querySelectorAll(sel)]
  .filter(e => e.offsetParent !== null && !(e.matches('input[type=checkbox], input[type=radio]') && e.closest('label')))
  .map(e => { const r = e.getBoundingClientRect();
              return {what: e.tagName + '.' + e.className + ' ' + (e.innerText || e.name || '').trim().slice(0, 20),
                      w: r.width, h: r.height}; })"""
CONTROLS = "a, button, select, input:not([type=hidden]), label.check"


def tablet_page(browser, live_server, viewport, username="director"):
    context = browser.new_context(locale="zh-CN", viewport=viewport, has_touch=True)
    page = context.new_page()
    login(page, live_server, username)
    return context, page


def too_small(page, selector=CONTROLS):
    targets = page.evaluate(TARGETS, selector)
    assert targets, f"nothing matched {selector}"
    return [t for t in targets if t["w"] < TAP - 0.5 or t["h"] < TAP - 0.5]


@pytest.mark.parametrize("viewport", [PORTRAIT, LANDSCAPE], ids=["portrait", "landscape"])
def test_touch_targets_are_at_least_44px_on_a_tablet(live_server, browser, viewport):
    context, page = tablet_page(browser, live_server, viewport)
    try:
        page.goto(f"{live_server}/r/cases/")
        assert page.locator("table.list tbody a").count() > 5  # the list's links are measured too
        assert too_small(page) == []
        page.locator("table.list tbody a").first.click()
        page.wait_for_url(re.compile(r".*/r/cases/\d+$"))  # "**/r/cases/*" matched the list itself at once
        steps = page.locator(".page-head .actions a.button")
        assert steps.count() >= 2
        assert too_small(page, ".page-head .actions a.button, .page-head .actions button") == []
        assert too_small(page) == []
    finally:
        context.close()


def test_case_list_fits_a_portrait_tablet_without_sideways_scrolling(live_server, browser):
    context, page = tablet_page(browser, live_server, PORTRAIT)
    try:
        page.goto(f"{live_server}/r/cases/")
        widths = page.evaluate("""() => { const wrap = document.querySelector('.table-wrap');
            return {page: document.documentElement.scrollWidth, view: window.innerWidth,
                    table: wrap.scrollWidth, wrap: wrap.clientWidth}; }""")
        assert widths["page"] <= widths["view"] and widths["table"] <= widths["wrap"]
        headers = [h.strip() for h in page.locator("table.list thead th").all_inner_texts() if h.strip()]
        visible = [h for i, h in enumerate(headers) if page.locator("table.list thead th").nth(i).is_visible()]
        for essential in ("受理编号", "申请人", "事项", "承诺办结日期", "状态"):
            assert any(h.startswith(essential) for h in visible), (essential, visible)
        assert len(visible) <= 6  # fewer columns than on a desk PC, each wide enough to read
        # Readable: a receipt number and a date stay on one line, a matter name on at most three.
        first_row = page.locator("table.list tbody tr").first
        number = first_row.locator("td").first
        line = float(number.evaluate("e => parseFloat(getComputedStyle(e).lineHeight)"))
        assert number.locator("a").bounding_box()["height"] <= max(TAP, line * 1.5)
        for cell in first_row.locator("td.k-date").all():
            if cell.is_visible():
                assert cell.bounding_box()["height"] <= max(TAP, line * 1.5) + 20
        page.set_viewport_size({"width": 1366, "height": 768})  # on a desk PC every column is back
        assert all(page.locator("table.list thead th").nth(i).is_visible() for i in range(len(headers)))
    finally:
        context.close()


@pytest.mark.parametrize("viewport", [LANDSCAPE, {"width": 1366, "height": 768}], ids=["tablet", "desk"])
def test_ledger_preview_is_a_landscape_sheet_like_its_pdf(live_server, browser, viewport):
    context, page = tablet_page(browser, live_server, viewport)
    try:
        page.goto(f"{live_server}/r/cases/ledger")
        sheet = page.evaluate("""() => { const s = document.querySelector('.sheet'), st = getComputedStyle(s);
            return {width: s.getBoundingClientRect().width, ratio: st.aspectRatio, page: document.documentElement.scrollWidth}; }""")
        assert sheet["ratio"].replace(" ", "") == "297/210"  # A4 landscape, however long the ledger runs
        assert sheet["page"] <= viewport["width"]           # on a tablet the sheet fits the screen
        mm = 96 / 25.4
        assert sheet["width"] == pytest.approx(min(297 * mm, viewport["width"] - 16), abs=2)
    finally:
        context.close()
