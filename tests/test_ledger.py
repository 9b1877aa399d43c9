"""The case ledger (台账) on paper: Chinese dates, the columns a paper ledger needs, the filter it was
printed with, and the promise as it stands after an extension."""
from __future__ import annotations

import re
from datetime import date

import pytest

from tests.conftest import make_case, make_matter, make_user, make_window
from tests.test_printouts import pdftotext


@pytest.fixture
def ledger_cases(county, db):
    window = make_window(county["a"], 3, "社保医保")
    matter = make_matter(county["a"], name="城乡居民养老保险参保登记", window_id=window.id)
    wang = make_user(county["a"], "clerk", username="wang_sw", name="王首问")
    done = make_case(county["a"], matter, state="completed", responsible=wang, applicant_name="李秀英",
                     applicant_phone="13807371234", intake=date(2026, 11, 16), due_date=date(2026, 11, 20),
                     completed_on=date(2026, 11, 19))
    extended = make_case(county["a"], matter, state="accepted", responsible=wang, applicant_name="赵延期",
                         applicant_phone="13607375678", intake=date(2026, 11, 13), due_date=date(2026, 11, 20),
                         extended_due=date(2026, 11, 27))
    other = make_case(county["a"], matter, state="accepted", applicant_name="钱其他", intake=date(2026, 10, 9))
    db.session.commit()
    return {"window": window, "done": done, "extended": extended, "other": other}


def test_case_ledger_prints_chinese_dates_and_completion_responsible_and_phone(
        client, auth, ledger_cases, tmp_path):
    auth.login("a_clerk")
    html = client.get("/r/cases/ledger").get_data(as_text=True)
    for text in ("办结日期", "首问责任人", "申请人电话", "2026年11月16日", "2026年11月19日", "王首问", "13807371234"):
        assert text in html
    assert "2026-11-16" not in html
    pdf = client.get("/r/cases/ledger.pdf")
    assert pdf.status_code == 200
    text = pdftotext(pdf.data, tmp_path).replace(" ", "")
    for expected in ("办结日期", "首问责任人", "2026年11月19日", "王首问", "13807371234"):
        assert expected in text


def test_case_ledger_header_names_the_filter(client, auth, ledger_cases, tmp_path):
    window = ledger_cases["window"]
    auth.login("a_clerk")
    args = (f"intake_date_from=2026-11-01&intake_date_to=2026-11-30&window_id={window.id}"
            "&state=accepted&q=赵&kind=promised")
    html = client.get(f"/r/cases/ledger?{args}").get_data(as_text=True)
    header = html.split('<table class="grid"', 1)[0]
    assert "2026年11月1日至2026年11月30日" in header
    assert "3号 社保医保" in header
    assert "办理中" in header or "已受理" in header
    assert "“赵”" in header
    assert "承诺件" in header
    assert "赵延期" in html and "钱其他" not in html and "李秀英" not in html
    text = pdftotext(client.get(f"/r/cases/ledger.pdf?{args}").data, tmp_path).replace(" ", "")
    assert "2026年11月1日至2026年11月30日" in text and "3号社保医保" in text


def test_case_ledger_shows_the_extended_due_date(client, auth, ledger_cases, tmp_path):
    auth.login("a_clerk")
    html = client.get("/r/cases/ledger").get_data(as_text=True)
    assert "2026年11月20日 → 延至2026年11月27日" in " ".join(re.sub(r"<[^>]+>", " ", html).split())
    text = pdftotext(client.get("/r/cases/ledger.pdf").data, tmp_path).replace(" ", "")
    assert any(line.endswith("延至2026年11月27日") for line in text.splitlines())  # not broken inside the date
