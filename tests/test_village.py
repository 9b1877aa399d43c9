"""Village service points (村级便民服务点) [002 §11 (三); SPEC §4.14]: the register and its numbers, the two-part
acceptance notice on one A4 page, and forwarding (转报) a register line to the township centre."""
from __future__ import annotations

import io
import os
from datetime import date

import pytest
from pypdf import PdfReader
from sqlalchemy import func, select

from app import village as vg
from app.records import operations
from models.case import ServiceCase
from models.village import VillageEntry
from tests.conftest import make_center, make_matter, make_user

MONDAY = date(2026, 11, 23)


@pytest.fixture
def on_day(monkeypatch):
    def set_day(day: date):
        monkeypatch.setattr("app.timeutil.today", lambda: day)
    return set_day


@pytest.fixture
def points(county, db):
    """Two village points under township A (柳树村 with its agent, 桃花村 with its own), A's matter."""
    a = county["a"]
    liushu = make_center("城关镇柳树村便民服务点", kind="village", parent=a, code="LS", phone="0737-4216201",
                         address="城关镇柳树村村民委员会", complaint_phone="0737-4216012")
    taohua = make_center("城关镇桃花村便民服务点", kind="village", parent=a, code="TH", phone="0737-4216202")
    agent = make_user(liushu, "agent", username="ls_agent", name="柳代办")
    other = make_user(taohua, "agent", username="th_agent", name="桃代办")
    matter = make_matter(a)
    db.session.commit()
    return {"liushu": liushu, "taohua": taohua, "agent": agent, "other": other, "matter": matter, "a": a}


def register_line(point, user, **values) -> VillageEntry:
    data = dict(accepted_on=MONDAY, matter="办理城乡居民养老保险参保", applicant_name="李梅",
                applicant_phone="13912345678", applicant_id_no="", materials="身份证复印件1份、户口簿复印件1份")
    data.update(values)
    return operations.create(vg.VILLAGE, user, data, center_id=point.id)


# ------------------------------------------------------------------ the register

def test_register_number_runs_per_village_and_year(points, db, on_day):
    on_day(date(2027, 1, 5))
    first = register_line(points["liushu"], points["agent"])
    second = register_line(points["liushu"], points["agent"])
    elsewhere = register_line(points["taohua"], points["other"])
    next_year = register_line(points["liushu"], points["agent"], accepted_on=date(2027, 1, 4))
    assert (first.number, second.number) == ("2026-000001", "2026-000002")
    assert elsewhere.number == "2026-000001"          # another village: its own series
    assert next_year.number == "2027-000001"          # a new year: a new series
    assert first.receiver_id == points["agent"].id and first.state == "accepted"


def test_register_is_kept_at_a_village_point_only(points, county, db, on_day):
    on_day(MONDAY)
    with pytest.raises(operations.Invalid) as caught:
        register_line(points["a"], county["users"]["a_agent"])
    assert "" in caught.value.errors


def test_register_refuses_a_day_of_acceptance_still_to_come(points, db, on_day):
    on_day(MONDAY)
    with pytest.raises(operations.Invalid) as caught:
        register_line(points["liushu"], points["agent"], accepted_on=date(2026, 11, 24))
    assert set(caught.value.errors) == {"accepted_on"}


def test_register_page_registers_a_line_with_its_number(client, auth, points, db, on_day):
    on_day(MONDAY)
    auth.login("ls_agent")
    page = client.get("/r/village-register/new")
    assert page.status_code == 200 and "申办事项" in page.get_data(as_text=True)
    response = client.post("/r/village-register/new", data={
        "form_token": "t-1", "accepted_on": "2026-11-23", "accepted_time": "09:30", "matter": "低保申请",
        "applicant_name": "王五", "applicant_phone": "13900000000", "materials": "申请书1份"})
    assert response.status_code == 302
    entry = db.session.scalar(select(VillageEntry))
    assert entry.number == "2026-000001" and entry.center_id == points["liushu"].id


def test_the_paper_ledger_shows_the_registers_six_columns(client, auth, points, db, on_day):
    on_day(MONDAY)
    register_line(points["liushu"], points["agent"])
    db.session.commit()
    auth.login("ls_agent")
    html = client.get("/r/village-register/ledger").get_data(as_text=True)
    start = html.index('<table class="grid ledger"')
    head = html[start:html.index("</tr>", start)]
    assert [c.split(">", 1)[1].split("<")[0] for c in head.split("<th")[1:]] == [
        "序号", "编号", "受理日期", "申办事项", "申办人", "联系电话", "状态"]   # the state: 办件状态
    assert "已受理" in html and "2026-000001" in html
    assert client.get("/r/village-register/export.xlsx").status_code == 200


# ------------------------------------------------------------------ the acceptance notice

def test_notice_prints_both_parts_on_one_page(client, auth, points, db, on_day, tmp_path):
    on_day(MONDAY)
    entry = register_line(points["liushu"], points["agent"], expected_on=date(2026, 11, 30),
                          note="申办人要求电话通知")
    db.session.commit()
    auth.login("ls_agent")
    html = client.get(f"/r/village-register/{entry.id}/print/notice").get_data(as_text=True)
    assert "申办人联" in html and "存根联" in html and "沿此线裁开" in html
    assert html.count(entry.number) >= 2 and html.count("李梅") >= 2 and html.count("柳代办") >= 2
    pdf = client.get(f"/r/village-register/{entry.id}/print/notice.pdf")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    reader = PdfReader(io.BytesIO(pdf.data))
    assert len(reader.pages) == 1
    text = reader.pages[0].extract_text()
    assert "申办人联" in text and "存根联" in text
    # Long entries still leave both parts on the one sheet (the register keeps the full text).
    entry.materials = "\n".join(f"第{i}项材料：某某证明复印件一份（加盖公章）" for i in range(1, 40))
    entry.matter = "申请" * 90
    db.session.commit()
    long_pdf = client.get(f"/r/village-register/{entry.id}/print/notice.pdf")
    if os.environ.get("VILLAGE_PDF_OUT"):
        with open(os.environ["VILLAGE_PDF_OUT"] + ".long.pdf", "wb") as out:
            out.write(long_pdf.data)
    assert len(PdfReader(io.BytesIO(long_pdf.data)).pages) == 1
    if os.environ.get("VILLAGE_PDF_OUT"):          # to look at it: VILLAGE_PDF_OUT=/tmp/x.pdf
        with open(os.environ["VILLAGE_PDF_OUT"], "wb") as out:
            out.write(pdf.data)


# ------------------------------------------------------------------ forwarding

def test_forward_creates_a_township_case_owned_by_the_township(client, auth, points, county, db, on_day):
    on_day(MONDAY)
    entry = register_line(points["liushu"], points["agent"], applicant_id_no="430921199001011234")
    db.session.commit()
    auth.login("ls_agent")
    assert client.get(f"/village/{entry.id}/forward").status_code == 200
    response = client.post(f"/village/{entry.id}/forward",
                           data={"township_matter_id": points["matter"].id, "form_version": entry.version})
    assert response.status_code == 302
    db.session.expire_all()
    entry = db.session.get(VillageEntry, entry.id)
    case = db.session.get(ServiceCase, entry.case_id)
    assert entry.state == "forwarded" and entry.township_matter_id == points["matter"].id
    assert case.center_id == points["a"].id and case.channel == "village" and case.state == "registered"
    assert (case.applicant_name, case.applicant_phone, case.applicant_id_no) == (
        "李梅", "13912345678", "430921199001011234")
    assert case.responsible_id is None               # the first township clerk to take it up owns it
    assert [m.name for m in case.materials] == ["居民身份证", "户口簿"]
    # The township's clerk works it as any other case.
    clerk = county["users"]["a_clerk"]
    auth.logout()
    auth.login("a_clerk")
    assert client.get(f"/r/cases/{case.id}").status_code == 200
    case.materials[0].received = case.materials[1].received = True
    operations.transition(vg_cases().CASES, case, "accept", clerk)
    db.session.commit()
    assert case.state == "accepted" and case.due_date is not None


def vg_cases():
    from app import cases
    return cases


def test_forward_without_a_township_matter_asks_to_choose_it(client, auth, points, db, on_day):
    on_day(MONDAY)
    entry = register_line(points["liushu"], points["agent"])
    db.session.commit()
    auth.login("ls_agent")
    response = client.post(f"/village/{entry.id}/forward",
                           data={"township_matter_id": "0", "form_version": entry.version})
    assert response.status_code == 200
    assert "请选择" in response.get_data(as_text=True) or "Choose the matter" in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(VillageEntry, entry.id).state == "accepted"
    assert db.session.scalar(select(func.count()).select_from(ServiceCase)) == 0


def test_forward_with_another_townships_matter_is_refused(points, county, db, on_day):
    on_day(MONDAY)
    entry = register_line(points["liushu"], points["agent"])
    foreign = make_matter(county["b"])
    with pytest.raises(operations.Refused) as caught:
        with db.session.begin_nested():
            vg.forward_entry(entry, points["agent"], foreign.id)
    assert caught.value.field == "township_matter_id"
    assert db.session.scalar(select(func.count()).select_from(ServiceCase)) == 0


def test_forwarded_twice_is_refused_and_nothing_changes(client, auth, points, db, on_day):
    on_day(MONDAY)
    entry = register_line(points["liushu"], points["agent"])
    db.session.commit()
    auth.login("ls_agent")
    data = {"township_matter_id": points["matter"].id, "form_version": entry.version}
    first = client.post(f"/village/{entry.id}/forward", data=data)
    second = client.post(f"/village/{entry.id}/forward", data=data)   # a double click
    assert first.status_code == 302 and second.status_code == 409
    assert "不能重复转报" in second.get_data(as_text=True) or "forwarded twice" in second.get_data(as_text=True)
    db.session.expire_all()
    entry = db.session.get(VillageEntry, entry.id)
    version = entry.version
    assert db.session.scalar(select(func.count()).select_from(ServiceCase)) == 1
    # Through the operation as well: refused with the same message, nothing changed.
    with pytest.raises(operations.Refused) as caught:
        vg.forward_entry(entry, points["agent"], points["matter"].id)
    assert "2026-000001" in caught.value.message
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(ServiceCase)) == 1
    assert db.session.get(VillageEntry, entry.id).version == version


def test_village_sees_the_case_status_but_cannot_open_the_township_case_page(client, auth, points, county, db,
                                                                             on_day):
    on_day(MONDAY)
    entry = register_line(points["liushu"], points["agent"])
    case = vg.forward_entry(entry, points["agent"], points["matter"].id)
    db.session.commit()
    auth.login("ls_agent")
    page = client.get(f"/r/village-register/{entry.id}").get_data(as_text=True)
    panel = page[page.index('id="township-case"'):page.index("</section>", page.index('id="township-case"'))]
    assert case.receipt_no in panel and "乡镇办件状态" in panel and 'class="case-state"' in panel
    assert 'class="case-due"' in panel                 # no promise before the township accepts: "—"
    notice = client.get(f"/r/village-register/{entry.id}/print/notice").get_data(as_text=True)
    assert notice.count(f"乡镇办件编号 {case.receipt_no}") == 2       # both parts say where it went
    assert f"/r/cases/{case.id}" not in page
    assert client.get(f"/r/cases/{case.id}").status_code in (403, 404)
    assert client.get(f"/r/cases/{case.id}/print/receipt").status_code in (403, 404)
    assert client.get("/r/cases/").status_code in (403, 404) or case.receipt_no not in \
        client.get("/r/cases/").get_data(as_text=True)


def test_when_the_township_completes_the_village_record_shows_it_and_can_be_closed(client, auth, points, county,
                                                                                   db, on_day, calendar_2026):
    on_day(MONDAY)
    entry = register_line(points["liushu"], points["agent"])
    case = vg.forward_entry(entry, points["agent"], points["matter"].id)
    agent = points["agent"]
    # Not yet done at the township: the village cannot close the line.
    with pytest.raises(operations.Refused):
        with db.session.begin_nested():
            operations.transition(vg.VILLAGE, entry, "finish_forwarded", agent)
    clerk = county["users"]["a_clerk"]
    for m in case.materials:
        m.received = True
    cases = vg_cases()
    operations.transition(cases.CASES, case, "accept", clerk)
    operations.transition(cases.CASES, case, "complete", clerk, {"completed_on": MONDAY, "result": "已参保"})
    db.session.commit()
    status = vg.case_status(entry)
    assert status["done"] and status["state_title"] and status["due"] == case.effective_due
    auth.login("ls_agent")
    page = client.get(f"/r/village-register/{entry.id}").get_data(as_text=True)
    assert "已参保" in page and "乡镇已办结" in page
    assert entry.state == "forwarded"                      # the line does not follow the case by itself
    operations.transition(vg.VILLAGE, entry, "finish_forwarded", agent)
    assert entry.state == "completed" and entry.result == "已参保"


# ------------------------------------------------------------------ who reads the register

def test_another_village_cannot_read_this_villages_register(client, auth, points, db, on_day):
    on_day(MONDAY)
    entry = register_line(points["liushu"], points["agent"])
    db.session.commit()
    auth.login("th_agent")
    assert client.get(f"/r/village-register/{entry.id}").status_code == 404
    assert client.get(f"/r/village-register/{entry.id}/print/notice").status_code == 404
    assert entry.number not in client.get("/r/village-register/").get_data(as_text=True)
    assert client.get(f"/village/points/{points['liushu'].id}/").status_code == 404
    assert client.get(f"/village/points/{points['liushu'].id}/{entry.id}").status_code == 404


def test_the_township_director_reads_the_register_of_its_villages(client, auth, points, county, db, on_day):
    on_day(MONDAY)
    entry = register_line(points["liushu"], points["agent"])
    case = vg.forward_entry(entry, points["agent"], points["matter"].id)
    db.session.commit()
    auth.login("a_director")
    overview = client.get("/village/points").get_data(as_text=True)
    assert "城关镇柳树村便民服务点" in overview and "城关镇桃花村便民服务点" in overview
    register = client.get(f"/village/points/{points['liushu'].id}/").get_data(as_text=True)
    assert entry.number in register and "李梅" in register and case.receipt_no in register
    record = client.get(f"/village/points/{points['liushu'].id}/{entry.id}")
    assert record.status_code == 200 and "办理事项登记" in record.get_data(as_text=True)
    export = client.get(f"/village/points/{points['liushu'].id}/export.xlsx")
    assert export.status_code == 200 and export.data[:2] == b"PK"
    # Another township's director does not.
    auth.logout()
    auth.login("b_director")
    assert client.get(f"/village/points/{points['liushu'].id}/").status_code == 404
    # A township clerk is no manager.
    auth.logout()
    auth.login("a_clerk")
    assert client.get(f"/village/points/{points['liushu'].id}/").status_code == 404


def test_the_county_reads_every_village_register(client, auth, points, db, on_day):
    on_day(MONDAY)
    entry = register_line(points["liushu"], points["agent"])
    db.session.commit()
    auth.login("county_sup")
    assert client.get(f"/r/village-register/{entry.id}").status_code == 200
