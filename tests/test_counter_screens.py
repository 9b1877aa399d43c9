"""What the counter's screens say: words, not identifiers; the right refusal; one case per form.

Issue 7 items 20 and 21, rule by rule.
"""
from __future__ import annotations

import io
import re
from datetime import date

import pytest
from sqlalchemy import func, select

from models.case import ServiceCase
from models.catalogue import Matter
from tests.browser.conftest import browser, live_server, page  # noqa: F401  (the real Chromium)
from tests.browser.test_catalogue_browser import login
from tests.conftest import make_case, make_matter, make_window

pytestmark = pytest.mark.usefixtures("calendar_2026")


def version_of(db, model, record_id):
    db.session.expire_all()
    return db.session.get(model, record_id).version


def trail_of(html: str) -> str:
    return html.split('class="list audit"', 1)[1].split("</table>", 1)[0]


# ---------------------------------------------------------------- item 20: Back, then save again

def case_form(matter, token):
    return {"applicant_name": "李四", "applicant_phone": "13812345678", "applicant_id_no": "",
            "matter_id": matter.id, "window_id": matter.window_id or 0, "kind": "promised", "channel": "window",
            "intake_date": date.today().isoformat(), "form_token": token,
            "materials-0-received": "y", "materials-0-name": "居民身份证", "materials-0-form": "both",
            "materials-0-copies": "1", "materials-0-note": "",
            "materials-1-received": "y", "materials-1-name": "户口簿", "materials-1-form": "copy",
            "materials-1-copies": "1", "materials-1-note": ""}


def test_resubmitted_form_goes_to_the_saved_case_saying_it_was_saved_already(client, auth, county, db):
    """Back + save sends the same form (same token) a second time: no second case, a plain word why."""
    matter = make_matter(county["a"])
    db.session.commit()
    auth.login("a_clerk")
    page = client.get(f"/r/cases/new?matter_id={matter.id}").get_data(as_text=True)
    token = re.search(r'name="form_token"[^>]*value="([0-9a-f]+)"', page).group(1)
    first = client.post("/r/cases/new", data=case_form(matter, token))
    assert first.status_code == 302
    again = client.post("/r/cases/new", data=case_form(matter, token), follow_redirects=True)
    assert db.session.scalar(select(func.count(ServiceCase.id))) == 1
    assert again.request.path == first.headers["Location"]
    assert "已保存过" in again.get_data(as_text=True)


@pytest.mark.browser
def test_back_and_save_again_creates_one_case(live_server, page, db):
    """In Chromium: save, Back (the browser reloads the form and puts the typed values back), save again."""
    login(page, live_server, "clerk1")
    before = db.session.scalar(select(func.count(ServiceCase.id)))
    db.session.close()
    page.goto(f"{live_server}/r/cases/new")
    page.select_option("form.filters select[name=matter_id]", label="高龄津贴申领")
    page.wait_for_url("**matter_id=*")
    page.fill("#applicant_name", "王秀兰")
    page.fill("#applicant_phone", "13712345678")
    page.check("#materials-0-received")
    page.check("#materials-1-received")
    page.check("#materials-2-received")
    page.click("button.primary[type=submit]")
    page.wait_for_url("**/r/cases/*")
    saved_at = page.url
    page.go_back()
    page.wait_for_url("**/r/cases/new*")
    page.click("button.primary[type=submit]")
    page.wait_for_url("**/r/cases/*")
    assert page.url == saved_at
    assert "已保存过" in page.locator(".flash").first.inner_text()
    assert db.session.scalar(select(func.count(ServiceCase.id))) == before + 1
    db.session.close()


# ---------------------------------------------------------------- item 21: words, not identifiers

def test_audit_trail_shows_field_labels_not_column_names(client, auth, county, db):
    matter = make_matter(county["a"], statutory=60, promised=25)  # due in 2027: not yet confirmed
    case = make_case(county["a"], matter, intake=date.today())
    for row in case.materials:
        row.received = True
    db.session.commit()
    auth.login("a_clerk")
    response = client.post(f"/r/cases/{case.id}/t/accept", data={"form_version": version_of(db, ServiceCase, case.id)})
    assert response.status_code == 302
    trail = trail_of(client.get(f"/r/cases/{case.id}").get_data(as_text=True))
    for raw in ("day_one", "provisional", "promised_days", "due_date", "clock_start", "True", "False"):
        assert raw not in trail, raw
    assert "第1个工作日" in trail and "节假日安排未确认" in trail and "承诺时限" in trail
    assert re.search(r"<td>否</td>\s*<td>是</td>", trail)


def test_audit_trail_shows_choices_and_references_as_the_screen_does(client, auth, county, db):
    window = make_window(county["a"], 7, "民政救助")
    matter = make_matter(county["a"], kind="promised")
    db.session.commit()
    auth.login("a_director")
    data = {"code": "", "name": matter.name, "window_id": window.id, "department_id": 0, "business_line": "",
            "kind": "immediate", "handling_mode": "direct", "statutory_days": "20", "promised_days": "5",
            "basis": "", "conditions": "", "procedure": "", "fee": "", "fee_basis": "", "contact_phone": "",
            "complaint_phone": "", "faq": "", "form_version": matter.version,
            "materials-0-name": "居民身份证", "materials-0-form": "both", "materials-0-copies": "1"}
    assert client.post(f"/r/matters/{matter.id}/edit", data=data).status_code == 302
    trail = trail_of(client.get(f"/r/matters/{matter.id}").get_data(as_text=True))
    assert "承诺件" in trail and "即办件" in trail and "民政救助" in trail
    assert ">immediate<" not in trail and f">{window.id}<" not in trail and "handling_mode" not in trail


def test_lists_and_exports_lead_with_the_receipt_number_not_the_internal_id(client, auth, county, db):
    from openpyxl import load_workbook
    case = make_case(county["a"], receipt_no="2026-000777")
    db.session.commit()
    auth.login("a_clerk")
    html = client.get("/r/cases/").get_data(as_text=True)
    head = html.split("<thead>", 1)[1].split("</thead>", 1)[0]
    assert "编号" not in head.replace("受理编号", "") and head.index("受理编号") >= 0
    row = html.split("<tbody>", 1)[1].split("</tr>", 1)[0]
    assert f'href="/r/cases/{case.id}"' in row  # the receipt number links to the record
    assert re.search(rf'<a href="/r/cases/{case.id}">\s*2026-000777', row)
    assert f">{case.id}</a>" not in row
    sheet = load_workbook(io.BytesIO(client.get("/r/cases/export.xlsx").data)).active
    rows = list(sheet.values)
    assert rows[0][0] == "受理编号" and rows[1][0] == "2026-000777"
    # A type without a number of its own keeps the id column.
    make_matter(county["a"])
    db.session.commit()
    assert "<th>" in client.get("/r/matters/").get_data(as_text=True)
    assert list(load_workbook(io.BytesIO(client.get("/r/matters/export.xlsx").data)).active.values)[0][0] == "编号"


def test_step_not_allowed_in_this_state_says_so_not_forbidden(client, auth, county, db):
    case = make_case(county["a"], state="delivered")
    db.session.commit()
    auth.login("a_clerk")
    for url in (f"/r/cases/{case.id}/t/accept", f"/r/cases/{case.id}/edit"):
        response = client.get(url)
        html = response.get_data(as_text=True)
        assert response.status_code == 409, url
        assert "您无权" not in html and "当前状态（已送达）下不能进行此操作" in html, url
    # A role that may not take a step at all is still told so, with 403.
    auth.logout()
    auth.login("a_inspector")
    case2 = make_case(county["a"])
    db.session.commit()
    response = client.get(f"/r/cases/{case2.id}/t/accept")
    assert response.status_code == 403 and "您无权" in response.get_data(as_text=True)


def test_missing_pdf_font_shows_the_clear_message(app, client, auth, county, db, tmp_path, monkeypatch):
    """PDF_FONT_PATH names a file that looks like a font but is not one (a broken copy), and the machine
    has no CJK font: the clear Chinese message, never a 500 page."""
    from printouts import fonts
    broken = tmp_path / "simsun.ttc"
    with open("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc", "rb") as real:
        broken.write_bytes(real.read(4096))  # the header and table directory of a real font, nothing else
    monkeypatch.setattr(fonts, "SEARCH_PATHS", [])  # the font finder finds nothing on this machine
    fonts.reset()
    app.config["PDF_FONT_PATH"] = str(broken)
    try:
        matter = make_matter(county["a"])
        db.session.commit()
        auth.login("a_clerk")
        response = client.get(f"/r/matters/{matter.id}/print/guide.pdf")
        html = response.get_data(as_text=True)
        assert response.status_code == 503
        assert "无法生成 PDF" in html and "fonts-wqy-microhei" in html and "PDF_FONT_PATH" in html
    finally:
        app.config["PDF_FONT_PATH"] = ""
        fonts.reset()


def test_matter_list_keeps_a_link_to_each_record(client, auth, county, db):
    matter = make_matter(county["a"])
    db.session.commit()
    auth.login("a_clerk")
    assert f'href="/r/matters/{matter.id}"' in client.get("/r/matters/").get_data(as_text=True)
    assert db.session.scalar(select(func.count(Matter.id))) == 1
