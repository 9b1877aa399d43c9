"""The public front door (SPEC §4.16, §4.2 "Public status lookup"): a visitor's home at `/`, the service
guide of every matter (one source with the printed 办事指南), and the case lookup with its rate limits."""
from __future__ import annotations

import re
from datetime import date

import pytest

from tests.conftest import make_case, make_center, make_matter, make_user, make_window


@pytest.fixture(autouse=True)
def fresh_limits():
    from app import status
    status.reset_limits()
    yield
    status.reset_limits()


@pytest.fixture
def town(db):
    """The only township centre on the server, with two windows and three matters (one void)."""
    center = make_center("城关镇便民服务中心", code="chengguan", address="示范县城关镇建设路16号",
                         phone="0737-4216000", complaint_phone="0737-4216012")
    social = make_window(center, 4, "劳动保障")
    civil = make_window(center, 5, "民政救助")
    pension = make_matter(center, name="城乡居民养老保险参保登记", code="430922-001", window_id=social.id,
                          basis="《中华人民共和国社会保险法》第二十条", conditions="年满16周岁的城乡居民",
                          procedure="申请\n受理\n办结", fee="不收费", faq="问：外出务工人员能否在户籍地参保？\n答：可以。")
    relief = make_matter(center, name="临时救助申请", statutory=15, promised=5, window_id=civil.id,
                         materials=(("居民身份证", "copy", 1), ("临时救助申请书", "original", 1)))
    old = make_matter(center, name="已停办的农机补贴登记", window_id=social.id)
    old.voided, old.void_reason = True, "停办"
    db.session.commit()
    return {"center": center, "pension": pension, "relief": relief, "old": old, "social": social, "civil": civil}


def text(response) -> str:
    return response.get_data(as_text=True)


# ------------------------------------------------------------------ the public home

def test_visitor_at_root_gets_the_public_home_not_the_login_page(client, town):
    response = client.get("/")
    assert response.status_code == 200
    html = text(response)
    assert "办件进度查询" in html and 'action="/status/"' in html
    assert "城乡居民养老保险参保登记" in html and "临时救助申请" in html
    assert "0737-4216000" in html and "0737-4216012" in html and "示范县城关镇建设路16号" in html
    assert "8:30" in html and "17:30" in html  # the office hours
    assert 'href="/login"' in html and "工作人员登录" in html


def test_staff_at_root_keep_their_own_home(client, auth, town, db):
    make_user(town["center"], "clerk", username="clerk1")
    db.session.commit()
    auth.login("clerk1")
    html = text(client.get("/"))
    assert "待我处理" in html and "工作人员登录" not in html


def test_root_lists_the_township_centres_when_the_server_holds_several(client, county):
    html = text(client.get("/"))
    assert 'href="/p/A"' in html and 'href="/p/B"' in html
    assert 'href="/p/county"' not in html  # the county centre is not a township
    assert "办件进度查询" in html and "工作人员登录" in html


def test_inactive_centre_is_neither_listed_nor_served(client, county, db):
    county["b"].active = False
    db.session.commit()
    assert client.get("/p/B").status_code == 404
    # One township left: `/` is its page.
    html = text(client.get("/"))
    assert 'href="/p/B"' not in html and "城关镇便民服务中心" in html


def test_centre_page_lists_only_its_own_live_matters(client, town, db):
    other = make_center("石桥镇便民服务中心", code="shiqiao")
    make_matter(other, name="石桥镇独有事项")
    db.session.commit()
    html = text(client.get("/p/chengguan"))
    assert "城乡居民养老保险参保登记" in html and "临时救助申请" in html
    assert "已停办的农机补贴登记" not in html and "石桥镇独有事项" not in html
    assert "4号 劳动保障" in html and "5号 民政救助" in html  # grouped by window


def test_matter_search_filters_by_name(client, town):
    html = text(client.get("/p/chengguan", query_string={"q": "救助"}))
    assert "临时救助申请" in html and "城乡居民养老保险参保登记" not in html
    assert 'value="救助"' in html
    none = text(client.get("/p/chengguan", query_string={"q": "%"}))  # a wildcard is plain text
    assert "临时救助申请" not in none and "城乡居民养老保险参保登记" not in none


def test_unknown_centre_code_is_404(client, town):
    assert client.get("/p/nowhere").status_code == 404


# ------------------------------------------------------------------ a matter's guide

def test_matter_page_shows_the_eight_disclosures(client, town):
    m = town["pension"]
    html = text(client.get(f"/p/chengguan/matters/{m.id}"))
    for label in ("事项名称", "设定依据", "申报条件", "申报材料", "办理程序", "办理时限", "收费标准及依据",
                  "咨询电话", "投诉电话", "常见问题"):
        assert label in html, label
    for value in ("《中华人民共和国社会保险法》第二十条", "年满16周岁的城乡居民", "居民身份证", "户口簿",
                  "法定时限：20 个工作日", "承诺时限：5 个工作日", "不收费", "外出务工人员能否在户籍地参保",
                  "4号 劳动保障", "0737-4216000"):
        assert value in html, value


def test_matter_page_and_printed_guide_share_one_source(app, client, town):
    """The guide's body is one macro: its output appears unchanged on the web page and in the printout."""
    from printouts import render_html
    m = town["pension"]
    with app.test_request_context():
        body = str(app.jinja_env.get_template("public/_guide.html").module.guide_body(m))
        printed = str(render_html("print/matter_guide.html", record=m, number=None, today=date(2026, 11, 23)))
    assert "申报材料" in body and "居民身份证" in body
    assert body in printed
    assert body in text(client.get(f"/p/chengguan/matters/{m.id}"))


@pytest.mark.parametrize("which", ["unknown", "other_centre", "voided"])
def test_matter_page_is_404_for_unknown_foreign_and_voided_matters(client, town, db, which):
    other = make_center("石桥镇便民服务中心", code="shiqiao")
    foreign = make_matter(other, name="石桥镇独有事项")
    db.session.commit()
    matter_id = {"unknown": 999999, "other_centre": foreign.id, "voided": town["old"].id}[which]
    assert client.get(f"/p/chengguan/matters/{matter_id}").status_code == 404


def test_public_pages_need_no_login(client, town):
    for url in ("/", "/p/chengguan", f"/p/chengguan/matters/{town['relief'].id}", "/status/"):
        response = client.get(url)
        assert response.status_code == 200, url


# ------------------------------------------------------------------ the status answer

def result_block(html: str) -> str:
    match = re.search(r'<(dl|div)[^>]*id="status-result".*?</\1>', html, re.S)
    assert match, html
    return match.group(0)


def lookup(client, no, phone="13912345678", addr="192.0.2.1"):
    return client.post("/status/", data={"no": no, "phone": phone}, environ_base={"REMOTE_ADDR": addr})


def test_status_answer_names_the_matter_and_what_to_bring_for_a_supplement(client, town, db):
    make_case(town["center"], town["relief"], state="awaiting_supplement", receipt_no="2026-000101", missing_materials="临时救助申请书\n困难情况证明")
    db.session.commit()
    block = result_block(text(lookup(client, "2026-000101")))
    assert "临时救助申请" in block and "材料待补正" in block
    assert "临时救助申请书" in block and "困难情况证明" in block and "5号 民政救助" in block


def test_status_answer_in_progress_gives_the_promised_date(client, town, db):
    make_case(town["center"], town["relief"], state="accepted", receipt_no="2026-000102", due_date=date(2026, 12, 8))
    db.session.commit()
    block = result_block(text(lookup(client, "2026-000102")))
    assert "办理中" in block and "2026年12月8日" in block and "临时救助申请" in block


def test_status_answer_for_a_completed_case_says_where_to_collect(client, town, db):
    make_case(town["center"], town["relief"], state="completed", receipt_no="2026-000103", completed_on=date(2026, 11, 27))
    db.session.commit()
    block = result_block(text(lookup(client, "2026-000103")))
    assert "已办结待领取" in block and "5号 民政救助" in block and "城关镇便民服务中心" in block
    assert "示范县城关镇建设路16号" in block


def test_status_answer_reveals_no_name_nor_id_and_wrong_phone_looks_unknown(client, town, db):
    make_case(town["center"], town["relief"], state="completed", receipt_no="2026-000104", applicant_name="李秀英",
              applicant_id_no="11010519491231002X")
    db.session.commit()
    right = text(lookup(client, "2026-000104"))
    assert "李秀英" not in right and "11010519491231002X" not in right and "13912345678" not in right.split("</form>")[-1]
    wrong = result_block(text(lookup(client, "2026-000104", phone="13900000000")))
    unknown = result_block(text(lookup(client, "2026-999999")))
    assert wrong == unknown and "临时救助申请" not in wrong and "民政救助" not in wrong


# ------------------------------------------------------------------ rate limits

def test_receipt_number_locks_after_wrong_phones_from_any_address(client, town, db):
    from app import status
    make_case(town["center"], town["relief"], state="accepted", receipt_no="2026-000201", due_date=date(2026, 12, 8))
    db.session.commit()
    for i in range(status.RECEIPT_LIMIT):
        assert lookup(client, "2026-000201", phone=f"1390000{i:04d}", addr=f"198.51.100.{i + 1}").status_code == 200
    # Locked for everyone now, even the right phone from a fresh address: guessing gains nothing.
    assert lookup(client, "2026-000201", addr="203.0.113.9").status_code == 429
    # An unknown number is locked the same way (a lock reveals nothing about whether it exists).
    for i in range(status.RECEIPT_LIMIT):
        lookup(client, "2026-888888", phone=f"1390000{i:04d}", addr=f"198.51.100.{i + 100}")
    assert lookup(client, "2026-888888", addr="203.0.113.10").status_code == 429
    # Another receipt is not affected.
    assert lookup(client, "2026-000202", addr="203.0.113.11").status_code == 200


def test_receipt_lock_lifts_after_a_while(client, town, db, monkeypatch):
    from app import status
    clock = [1000.0]
    monkeypatch.setattr(status, "_clock", lambda: clock[0])
    for i in range(status.RECEIPT_LIMIT):
        lookup(client, "2026-000301", phone=f"1390000{i:04d}", addr=f"198.51.100.{i + 1}")
    assert lookup(client, "2026-000301", addr="203.0.113.9").status_code == 429
    clock[0] += status.RECEIPT_WINDOW_SECONDS + 1
    assert lookup(client, "2026-000301", addr="203.0.113.9").status_code == 200


def test_right_answers_do_not_lock_the_receipt(client, town, db):
    from app import status
    make_case(town["center"], town["relief"], state="accepted", receipt_no="2026-000401", due_date=date(2026, 12, 8))
    db.session.commit()
    codes = [lookup(client, "2026-000401", addr=f"198.51.100.{i + 1}").status_code
             for i in range(status.RECEIPT_LIMIT + 5)]
    assert codes == [200] * (status.RECEIPT_LIMIT + 5)


def test_ordinary_address_is_limited_per_minute(client, town):
    from app import status
    codes = [lookup(client, f"2026-{i:06d}", addr="198.51.100.7").status_code for i in range(status.LIMIT + 2)]
    assert codes[:status.LIMIT] == [200] * status.LIMIT and codes[status.LIMIT:] == [429, 429]


def test_hall_kiosk_address_is_not_locked_out_by_the_per_address_limit(app, client, town):
    from app import status
    app.config["KIOSK_ADDRESSES"] = ["192.168.1.50", "10.8.0.0/29"]
    for addr in ("192.168.1.50", "10.8.0.3"):
        codes = [lookup(client, f"2026-{i:06d}", addr=addr).status_code for i in range(status.LIMIT * 3)]
        assert codes == [200] * (status.LIMIT * 3), addr
    # Not a kiosk: the ordinary limit.
    codes = [lookup(client, f"2026-{i:06d}", addr="10.8.0.9").status_code for i in range(status.LIMIT + 1)]
    assert codes[-1] == 429


def test_hall_kiosk_still_meets_the_per_receipt_limit(app, client, town):
    from app import status
    app.config["KIOSK_ADDRESSES"] = ["192.168.1.50"]
    codes = [lookup(client, "2026-000501", phone=f"1390000{i:04d}", addr="192.168.1.50").status_code
             for i in range(status.RECEIPT_LIMIT + 1)]
    assert codes[:status.RECEIPT_LIMIT] == [200] * status.RECEIPT_LIMIT and codes[-1] == 429


def test_kiosk_addresses_come_from_a_comma_separated_environment_variable(monkeypatch, tmp_path):
    from app.config import from_environment
    monkeypatch.setenv("HALL_INSTANCE", str(tmp_path / "inst"))
    monkeypatch.setenv("KIOSK_ADDRESSES", " 192.168.1.50, 10.8.0.0/29 ,")
    assert from_environment()["KIOSK_ADDRESSES"] == ["192.168.1.50", "10.8.0.0/29"]
    monkeypatch.delenv("KIOSK_ADDRESSES")
    assert from_environment()["KIOSK_ADDRESSES"] == []

