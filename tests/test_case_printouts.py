"""Every case form prints as an A4 PDF with an embedded CJK font and its Chinese title."""
from __future__ import annotations

from datetime import date

import pytest

from app import workdays
from app.cases import start_clock
from models.case import CaseExtension, CaseHandover
from tests.conftest import make_case, make_department, make_matter
from tests.test_printouts import fonts_drawing_text, pdftotext


@pytest.fixture
def records(county, db):
    workdays.seed_from_package([2026])
    dept = make_department(county["a"], "县民政局")
    matter = make_matter(county["a"], name="临时救助申请", department_id=dept.id)
    cases = {}
    for state in ("accepted", "awaiting_supplement", "refused", "transferred"):
        case = make_case(county["a"], matter, state=state, responsible=county["users"]["a_clerk"],
                         applicant_id_no="11010519491231002X", refusal_reason="不符合申请条件",
                         remedies="可于60日内申请行政复议或6个月内提起行政诉讼", transfer_office="县自然资源局",
                         transfer_phone="0737-4211004", missing_materials="户口簿\n困难情况证明")
        cases[state] = case
    start_clock(cases["accepted"], date(2026, 11, 16))
    cases["accepted"].kind = "joint"
    ext = CaseExtension(center_id=county["a"].id, case_id=cases["accepted"].id, requested_on=date(2026, 11, 18),
                        reason="需入户核查", new_due=date(2026, 11, 27), state="requested")
    leg = CaseHandover(center_id=county["a"].id, case_id=cases["accepted"].id, department_id=dept.id,
                       handed_on=date(2026, 11, 16), state="handed")
    db.session.add_all([ext, leg])
    db.session.commit()
    return {"case": cases, "ext": ext, "leg": leg}


FORMS = [("cases", "accepted", "receipt", "收件回执"), ("cases", "awaiting_supplement", "notice", "一次性告知单"),
         ("cases", "accepted", "acceptance", "受理通知书"), ("cases", "refused", "refusal", "不予受理通知书"),
         ("cases", "accepted", "joint", "联办件通知单"), ("cases", "transferred", "transfer", "转办告知单"),
         ("case-extensions", None, "form", "办理事项延期申请表"), ("case-handovers", None, "form", "办件交接表")]


@pytest.mark.parametrize("key, state, form, title", FORMS)
def test_case_form_prints_as_a_pdf_with_chinese_text(client, auth, records, key, state, form, title, tmp_path):
    record = records["case"][state] if key == "cases" else records["ext" if key == "case-extensions" else "leg"]
    auth.login("a_clerk")
    html = client.get(f"/r/{key}/{record.id}/print/{form}")
    assert html.status_code == 200 and title in html.get_data(as_text=True)
    pdf = client.get(f"/r/{key}/{record.id}/print/{form}.pdf")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    text = pdftotext(pdf.data, tmp_path)
    assert title.replace(" ", "") in text.replace(" ", "")
    assert any("WenQuanYi" in f or "CJK" in f for f in fonts_drawing_text(pdf.data))


def test_receipt_masks_the_id_number_for_a_clerk_and_keeps_its_number_on_reprint(client, auth, records, tmp_path):
    case = records["case"]["accepted"]
    auth.login("a_clerk")
    first = pdftotext(client.get(f"/r/cases/{case.id}/print/receipt.pdf").data, tmp_path)
    second = pdftotext(client.get(f"/r/cases/{case.id}/print/receipt.pdf").data, tmp_path)
    assert "110105********002X" in first and "11010519491231002X" not in first
    number = [line for line in first.splitlines() if "编号" in line]
    assert number and number == [line for line in second.splitlines() if "编号" in line]


def test_notice_prints_only_while_waiting_for_a_supplement(client, auth, records):
    auth.login("a_clerk")
    assert client.get(f"/r/cases/{records['case']['accepted'].id}/print/notice.pdf").status_code == 403


def test_joint_notice_only_for_joint_cases(client, auth, records, db):
    records["case"]["accepted"].kind = "promised"
    db.session.commit()
    auth.login("a_clerk")
    assert client.get(f"/r/cases/{records['case']['accepted'].id}/print/joint").status_code == 403


def test_extension_form_shows_the_promise_it_moved_after_approval(client, auth, records, db, tmp_path):
    from app.cases import _approve_extension
    ext = records["ext"]
    ext.applicant_notified_on = date(2026, 11, 18)
    _approve_extension(ext, None)
    ext.state, ext.head_opinion = "approved", "同意延期"
    db.session.commit()
    auth.login("a_clerk")
    text = pdftotext(client.get(f"/r/case-extensions/{ext.id}/print/form.pdf").data, tmp_path).replace(" ", "")
    assert "2026年11月20日" in text and "2026年11月27日" in text and "同意延期" in text


def test_referral_slip_is_numbered(client, auth, records, tmp_path):
    auth.login("a_clerk")
    text = pdftotext(client.get(f"/r/cases/{records['case']['transferred'].id}/print/transfer.pdf").data, tmp_path)
    assert "编号：2026-" in text.replace(" ", "") and "县自然资源局" in text


def test_joint_notice_lists_each_co_handling_window(client, auth, records, county, db, tmp_path):
    from models.case import CaseJointWindow
    from tests.conftest import make_window
    case = records["case"]["accepted"]
    case.joint = [CaseJointWindow(seq=1, window=make_window(county["a"], 4, "劳动保障"), task="核实就业情况")]
    db.session.commit()
    auth.login("a_clerk")
    text = pdftotext(client.get(f"/r/cases/{case.id}/print/joint.pdf").data, tmp_path)
    assert "劳动保障" in text and "核实就业情况" in text
