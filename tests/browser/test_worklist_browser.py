"""The director, on a tablet, finds the pending extension at the top of the worklist and approves it by
touch (screenshot kept in WORKLIST_SCREENSHOTS, or the test's temporary folder, to look at)."""
from __future__ import annotations

import os
from pathlib import Path

import pytest
from sqlalchemy import select

pytestmark = pytest.mark.browser

TABLET_LANDSCAPE = (1024, 768)


def pending_extension(db) -> tuple[int, str]:
    from models.case import CaseExtension
    ext = db.session.scalar(select(CaseExtension).where(CaseExtension.state == "requested",
                                                        CaseExtension.voided.is_(False)))
    assert ext is not None  # the demo data has one extension awaiting the director
    facts = ext.id, ext.case.receipt_no
    db.session.close()
    return facts


def test_director_approves_the_pending_extension_from_the_top_of_the_worklist_by_touch(live_server, browser, db,
                                                                                       tmp_path):
    from app.demo import DEMO_PASSWORD
    from models.case import CaseExtension
    ext_id, receipt_no = pending_extension(db)
    width, height = TABLET_LANDSCAPE
    context = browser.new_context(locale="zh-CN", viewport={"width": width, "height": height},
                                  is_mobile=True, has_touch=True)
    page = context.new_page()
    requests_elsewhere = []
    page.on("request", lambda r: None if r.url.startswith(live_server) else requests_elsewhere.append(r.url))
    try:
        page.goto(f"{live_server}/login")
        page.fill("#username", "director")
        page.fill("#password", DEMO_PASSWORD)
        page.locator("button.primary[type=submit]").tap()
        page.wait_for_url(f"{live_server}/")
        worklist = page.locator("#worklist")
        assert worklist.locator("h3").first.inner_text().startswith("待我审批")
        first_row = worklist.locator("table.list tbody tr").first
        assert "延期申请" in first_row.inner_text() and receipt_no in first_row.inner_text()
        assert first_row.is_visible()  # at the top, without scrolling past other people's work
        shots = Path(os.environ.get("WORKLIST_SCREENSHOTS") or tmp_path)
        shots.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(shots / f"director-home-{width}x{height}.png"))
        first_row.get_by_role("link", name="批准", exact=True).tap()
        page.wait_for_url(f"**/r/case-extensions/{ext_id}/t/approve")
        page.fill("#head_opinion", "情况属实，同意延期。")
        page.locator("form.record-form button[type=submit]").tap()
        page.wait_for_url(f"**/r/case-extensions/{ext_id}")
        assert "已批准" in page.locator("main").inner_text()
        assert requests_elsewhere == []
    finally:
        context.close()
    db.session.expire_all()
    assert db.session.get(CaseExtension, ext_id).state == "approved"
