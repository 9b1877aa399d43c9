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
    assert client.post(f"/r/{key}/{record.id}/print/{form}").status_code == 303  # numbered forms: issue first
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
    from app.cases import approve_extension
    ext = records["ext"]
    ext.applicant_notified_on = date(2026, 11, 18)
    approve_extension(ext)
    ext.state, ext.head_opinion = "approved", "同意延期"
    db.session.commit()
    auth.login("a_clerk")
    client.post(f"/r/case-extensions/{ext.id}/print/form")
    text = pdftotext(client.get(f"/r/case-extensions/{ext.id}/print/form.pdf").data, tmp_path).replace(" ", "")
    assert "2026年11月20日" in text and "2026年11月27日" in text and "同意延期" in text


def test_referral_slip_is_numbered(client, auth, records, tmp_path):
    auth.login("a_clerk")
    client.post(f"/r/cases/{records['case']['transferred'].id}/print/transfer")
    text = pdftotext(client.get(f"/r/cases/{records['case']['transferred'].id}/print/transfer.pdf").data, tmp_path)
    assert "编号：2026-" in text.replace(" ", "") and "县自然资源局" in text


def test_joint_notice_lists_each_co_handling_window(client, auth, records, county, db, tmp_path):
    from models.case import CaseJointWindow
    from tests.conftest import make_window
    case = records["case"]["accepted"]
    case.joint = [CaseJointWindow(seq=1, window=make_window(county["a"], 4, "劳动保障"), task="核实就业情况")]
    db.session.commit()
    auth.login("a_clerk")
    client.post(f"/r/cases/{case.id}/print/joint")
    text = pdftotext(client.get(f"/r/cases/{case.id}/print/joint.pdf").data, tmp_path)
    assert "劳动保障" in text and "核实就业情况" in text


# ---------------------------------------------------------------- issue 7 items 12, 15–17; issue 12 item 1

def counter_last(db, form_type):
    from sqlalchemy import select
    from models.numbering import FormCounter
    return db.session.scalar(select(FormCounter.last).where(FormCounter.form_type == form_type)) or 0


def issued_forms(db):
    from sqlalchemy import func, select
    from models.core import IssuedForm
    return db.session.scalar(select(func.count(IssuedForm.id)))


@pytest.fixture
def recorded_qr(app, monkeypatch):
    """The texts the print templates turn into QR codes."""
    seen = []
    original = app.jinja_env.globals["qr_data_uri"]

    def recording(text, *args, **kwargs):
        seen.append(text)
        return original(text, *args, **kwargs)
    monkeypatch.setitem(app.jinja_env.globals, "qr_data_uri", recording)
    return seen


def login_at(client, base_url, username="a_clerk"):
    from tests.conftest import PASSWORD
    client.post("/login", data={"username": username, "password": PASSWORD}, base_url=base_url)


def test_receipt_qr_code_uses_the_public_address_even_when_printed_on_the_server_pc(
        app, client, auth, records, recorded_qr):
    app.config["PUBLIC_BASE_URL"] = "http://192.168.1.20:5000"
    case = records["case"]["accepted"]
    login_at(client, "http://127.0.0.1:5000")
    page = client.get(f"/r/cases/{case.id}/print/receipt", base_url="http://127.0.0.1:5000")
    assert page.status_code == 200
    assert recorded_qr and recorded_qr[-1].startswith("http://192.168.1.20:5000/status/")
    assert case.receipt_no in recorded_qr[-1] and "127.0.0.1" not in recorded_qr[-1]
    assert client.get(f"/r/cases/{case.id}/print/receipt.pdf", base_url="http://127.0.0.1:5000").status_code == 200
    assert recorded_qr[-1].startswith("http://192.168.1.20:5000/status/")


def test_printed_links_fall_back_to_the_request_host_without_a_public_address(
        app, client, auth, records, recorded_qr):
    app.config["PUBLIC_BASE_URL"] = ""
    login_at(client, "http://10.0.0.7:8080")
    client.get(f"/r/cases/{records['case']['accepted'].id}/print/receipt", base_url="http://10.0.0.7:8080")
    assert recorded_qr[-1].startswith("http://10.0.0.7:8080/status/")


def receipt_case(county, db, kind, **kw):
    matter = make_matter(county["a"], name=f"{kind}事项", promised=kw.pop("promised", 0),
                         kind="immediate" if kind == "immediate" else "promised")
    case = make_case(county["a"], matter, kind=kind, responsible=county["users"]["a_clerk"], **kw)
    db.session.commit()
    return case


def test_consultation_receipt_prints_no_promise_or_pick_up_line(client, auth, county, db):
    workdays.seed_from_package([2026])
    case = receipt_case(county, db, "consult")
    auth.login("a_clerk")
    page = client.get(f"/r/cases/{case.id}/print/receipt").get_data(as_text=True)
    assert "收件回执" in page
    assert "个工作日" not in page and "承诺办结" not in page and "取件" not in page and "领取" not in page


def test_immediate_receipt_says_done_on_the_spot_not_a_number_of_days(client, auth, county, db):
    workdays.seed_from_package([2026])
    case = receipt_case(county, db, "immediate")
    auth.login("a_clerk")
    page = client.get(f"/r/cases/{case.id}/print/receipt").get_data(as_text=True)
    assert "当场办结" in page and "个工作日" not in page


@pytest.mark.parametrize("kind", ["promised", "joint", "reported"])
def test_promised_kinds_print_the_promised_date_on_the_receipt(client, auth, county, db, kind):
    workdays.seed_from_package([2026])
    case = receipt_case(county, db, kind, promised=5, state="accepted")
    start_clock(case, date(2026, 11, 16))
    db.session.commit()
    auth.login("a_clerk")
    page = client.get(f"/r/cases/{case.id}/print/receipt").get_data(as_text=True)
    assert "承诺办结" in page and "2026年11月20日" in page and "承诺 5 个工作日" in page


def test_joint_notice_is_not_offered_for_a_promised_case_of_a_joint_matter(client, auth, county, db):
    workdays.seed_from_package([2026])
    matter = make_matter(county["a"], name="联办事项", handling_mode="joint")
    case = make_case(county["a"], matter, kind="promised", state="accepted", responsible=county["users"]["a_clerk"])
    start_clock(case, date(2026, 11, 16))
    db.session.commit()
    auth.login("a_clerk")
    assert f"/print/joint" not in client.get(f"/r/cases/{case.id}").get_data(as_text=True)
    for response in (client.get(f"/r/cases/{case.id}/print/joint"), client.get(f"/r/cases/{case.id}/print/joint.pdf"),
                     client.post(f"/r/cases/{case.id}/print/joint")):
        assert response.status_code == 403
    assert counter_last(db, "case_joint") == 0 and issued_forms(db) == 0


@pytest.mark.parametrize("kind", ["consult", "immediate"])
def test_acceptance_notice_is_not_offered_for_consultations_or_on_the_spot_cases(client, auth, county, db, kind):
    workdays.seed_from_package([2026])
    case = receipt_case(county, db, kind, state="completed" if kind == "immediate" else "answered",
                        completed_on=date(2026, 11, 23))
    auth.login("a_clerk")
    assert client.get(f"/r/cases/{case.id}/print/acceptance").status_code == 403
    assert counter_last(db, "case_acceptance") == 0


def test_opening_a_numbered_printout_by_get_issues_no_number(client, auth, records, db):
    case = records["case"]["accepted"]
    auth.login("a_clerk")
    page = client.get(f"/r/cases/{case.id}/print/acceptance")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "出具并编号" in html and 'method="post"' in html and "2026-000001" not in html
    pdf = client.get(f"/r/cases/{case.id}/print/acceptance.pdf")
    assert pdf.status_code in (302, 303) and pdf.headers["Location"].endswith(f"/r/cases/{case.id}/print/acceptance")
    assert counter_last(db, "case_acceptance") == 0 and issued_forms(db) == 0


def test_a_number_is_issued_by_post_and_a_reprint_keeps_it_without_moving_the_counter(
        client, auth, records, db, tmp_path):
    case = records["case"]["accepted"]
    auth.login("a_clerk")
    issued = client.post(f"/r/cases/{case.id}/print/acceptance")
    assert issued.status_code in (302, 303)
    assert issued.headers["Location"].endswith(f"/r/cases/{case.id}/print/acceptance")
    assert counter_last(db, "case_acceptance") == 1
    page = client.get(f"/r/cases/{case.id}/print/acceptance").get_data(as_text=True)
    assert "2026-000001" in page and "出具并编号" not in page
    first = pdftotext(client.get(f"/r/cases/{case.id}/print/acceptance.pdf").data, tmp_path).replace(" ", "")
    second = pdftotext(client.get(f"/r/cases/{case.id}/print/acceptance.pdf").data, tmp_path).replace(" ", "")
    assert "编号：2026-000001" in first and "编号：2026-000001" in second
    client.post(f"/r/cases/{case.id}/print/acceptance")  # a second click issues nothing new
    assert counter_last(db, "case_acceptance") == 1 and issued_forms(db) == 1


def test_a_pdf_render_holds_no_write_lock(app, client, auth, records, db, monkeypatch):
    """Another clerk can write while a PDF is being made (SQLite: nobody holds BEGIN IMMEDIATE)."""
    import sqlite3

    from xhtml2pdf import pisa
    if db.engine.dialect.name != "sqlite":
        pytest.skip("SQLite write lock")
    path = db.engine.url.database
    case_id = records["case"]["accepted"].id
    auth.login("a_clerk")
    client.post(f"/r/cases/{case_id}/print/acceptance")
    db.session.close()  # the test's own session (shared with the app here) holds nothing either
    outcomes = []
    original = pisa.CreatePDF

    def create_pdf(*args, **kwargs):
        other = sqlite3.connect(path, timeout=0, isolation_level=None)
        try:
            other.execute("BEGIN IMMEDIATE")
            other.execute("ROLLBACK")
            outcomes.append("free")
        except sqlite3.OperationalError as exc:
            outcomes.append(str(exc))
        finally:
            other.close()
        return original(*args, **kwargs)
    monkeypatch.setattr(pisa, "CreatePDF", create_pdf)
    for form in ("receipt", "acceptance"):
        assert client.get(f"/r/cases/{case_id}/print/{form}.pdf").status_code == 200
    assert outcomes == ["free", "free"]


@pytest.mark.parametrize("form", ["receipt", "acceptance"])
def test_the_printed_id_number_is_masked_the_same_for_clerk_and_director(client, auth, records, tmp_path, form):
    case = records["case"]["accepted"]
    texts = []
    for role in ("a_clerk", "a_director"):
        auth.login(role)
        client.post(f"/r/cases/{case.id}/print/{form}")
        texts.append(pdftotext(client.get(f"/r/cases/{case.id}/print/{form}.pdf").data, tmp_path))
        html = client.get(f"/r/cases/{case.id}/print/{form}").get_data(as_text=True)
        assert "110105********002X" in html and "11010519491231002X" not in html
        auth.logout()
    for text in texts:
        assert "110105********002X" in text and "11010519491231002X" not in text


def test_a_printout_too_long_for_a_pdf_is_refused_quickly_with_a_clear_page(client, auth, records, db):
    import time
    ext = records["ext"]
    ext.reason = "需入户核查" * 50_000  # 250,000 characters
    db.session.commit()
    auth.login("a_clerk")
    client.post(f"/r/case-extensions/{ext.id}/print/form")
    started = time.perf_counter()
    response = client.get(f"/r/case-extensions/{ext.id}/print/form.pdf")
    elapsed = time.perf_counter() - started
    assert response.status_code == 413 and response.mimetype == "text/html"
    assert "PDF" in response.get_data(as_text=True) and "太长" in response.get_data(as_text=True)
    assert elapsed < 3, f"{elapsed:.1f} s"
