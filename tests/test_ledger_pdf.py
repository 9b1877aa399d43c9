"""The big paper ledger (台账) as a PDF laid out by ReportLab platypus: 2,000 rows, every row's receipt
number, the header on every page, page numbers, masked ID numbers for a clerk, the filter it was printed
with. Its speed is measured by tests/bench/bench_ledger_pdf.py, not here."""
from __future__ import annotations

import io
import re
import subprocess
from datetime import date, timedelta

import pytest
from pypdf import PdfReader

from tests.conftest import make_matter, make_user, make_window
from tests.test_printouts import fonts_drawing_text, no_fonts, pdftotext  # noqa: F401 - a fixture

ID_NUMBER = "43092319800101123X"


def bulk_cases(db, center, n: int, *, prefix="2026-L") -> list[str]:
    """`n` cases of `center` inserted in one statement (the ORM would take a minute); their receipt numbers."""
    from sqlalchemy import insert

    from app.timeutil import now
    from models.case import ServiceCase

    window = make_window(center, 3, "社保医保")
    matter = make_matter(center, name="城乡居民养老保险参保登记", window_id=window.id)
    clerk = make_user(center, "clerk", name="王首问")
    stamp, start = now(), date(2026, 1, 5)
    rows, numbers = [], []
    for i in range(n):
        intake = start + timedelta(days=i * 300 // n)
        due = intake + timedelta(days=7)
        done = i % 3 == 0
        numbers.append(f"{prefix}{i:05d}")
        rows.append(dict(
            center_id=center.id, state="completed" if done else "accepted", version=1, voided=False, void_reason="",
            receipt_no=numbers[-1], applicant_name=f"李秀英{i}", applicant_phone=f"139{i:08d}",
            applicant_id_no=ID_NUMBER, matter_id=matter.id, window_id=window.id, kind="promised", channel="window",
            responsible_id=clerk.id, intake_date=intake, clock_start=intake, day_one=intake, due_date=due,
            extended_due=due + timedelta(days=7) if i % 10 == 0 else None, provisional=False,
            applicant_delay_days=0, missing_materials="", answer="", refusal_reason="", remedies="",
            transfer_office="", transfer_phone="", higher_authority="", completed_on=due if done else None,
            result="", delivery_method="", delivered_on=None, warned=False, overdue=False, overdue_reason="",
            handover_late=False, created_by_id=clerk.id, created_at=stamp, updated_at=stamp))
    db.session.execute(insert(ServiceCase.__table__), rows)
    db.session.commit()
    return numbers


@pytest.fixture
def big_ledger(county, db):
    return bulk_cases(db, county["a"], 2000)


def pages_text(pdf: bytes) -> list[str]:
    return [(page.extract_text() or "").replace(" ", "") for page in PdfReader(io.BytesIO(pdf)).pages]


def test_two_thousand_rows_print_every_receipt_number_with_the_header_on_every_page(
        client, auth, big_ledger, tmp_path):
    auth.login("a_clerk")
    response = client.get("/r/cases/ledger.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    pages = pages_text(response.data)
    assert len(pages) > 20
    text = "\n".join(pages)
    missing = [n for n in big_ledger if n not in text]
    assert not missing, f"{len(missing)} receipt numbers missing, e.g. {missing[:3]}"
    assert text.count("2026-L") == 2000  # each row once: none doubled at a page break
    for number, page in enumerate(pages, 1):
        for header in ("序号", "受理编号", "申请人电话", "首问责任人", "办结日期"):
            assert header in page, f"page {number} has no {header}"
        assert f"第{number}页共{len(pages)}页" in page
    first = pages[0]
    assert "城关镇便民服务中心" in first and "办件台账" in first and "共2000条" in first and "筛选条件：全部" in first
    assert "打印日期：" in pages[-1]
    assert "2026年1月5日" in text and "→延至" in text and "王首问" in text


def test_chinese_is_drawn_with_the_embedded_truetype_font(client, auth, big_ledger, tmp_path):
    auth.login("a_clerk")
    pdf = client.get("/r/cases/ledger.pdf").data
    path = tmp_path / "ledger.pdf"
    path.write_bytes(pdf)
    rows = subprocess.run(["pdffonts", str(path)], capture_output=True, text=True, check=True).stdout
    rows = [line.split() for line in rows.splitlines()[2:]]
    embedded = {r[0] for r in rows if r[-5] == "yes" and "TrueType" in r}  # ends: emb sub uni object-id gen
    drawing = {name.lstrip("/") for name in fonts_drawing_text(pdf)}
    assert drawing and drawing <= embedded, (drawing, embedded)
    assert not any("Helvetica" in name for name in drawing)
    assert "李秀英1999" in pdftotext(pdf, tmp_path, "-l", "200").replace(" ", "")


@pytest.fixture
def ledger_with_id_numbers(monkeypatch):
    from app.cases import CASES
    monkeypatch.setattr(CASES, "ledger_columns", ("receipt_no", "applicant_name", "applicant_id_no",
                                                  ("due_date", "extended_due")))
    return CASES


def test_id_numbers_are_masked_for_a_clerk_and_shown_to_the_director(
        client, auth, county, db, ledger_with_id_numbers):
    bulk_cases(db, county["a"], 40)
    auth.login("a_clerk")
    text = "\n".join(pages_text(client.get("/r/cases/ledger.pdf").data))
    assert text.count("430923********123X") == 40
    assert ID_NUMBER not in text
    auth.logout()
    auth.login("a_director")
    text = "\n".join(pages_text(client.get("/r/cases/ledger.pdf").data))
    assert text.count(ID_NUMBER) == 40


def test_the_filter_is_named_and_only_matching_rows_print(client, auth, county, db):
    numbers = bulk_cases(db, county["a"], 300)
    auth.login("a_clerk")
    args = "intake_date_from=2026-02-01&intake_date_to=2026-02-28&state=completed&kind=promised"
    text = "\n".join(pages_text(client.get(f"/r/cases/ledger.pdf?{args}").data))
    assert "2026年2月1日至2026年2月28日" in text and "承诺件" in text
    assert "已办结" in text or "办结" in text
    printed = set(re.findall(r"2026-L\d{5}", text))
    assert printed and printed < set(numbers)
    assert all(int(n[-5:]) % 3 == 0 for n in printed)  # only the completed ones


def test_cut_ledger_says_so(client, auth, county, db, monkeypatch):
    from app.records import views
    monkeypatch.setattr(views, "LEDGER_MAX_ROWS", 50)
    bulk_cases(db, county["a"], 60)
    auth.login("a_clerk")
    text = "\n".join(pages_text(client.get("/r/cases/ledger.pdf").data))
    assert "共50条（仅列前50条，请缩小范围）" in text
    assert len(set(re.findall(r"2026-L\d{5}", text))) == 50


def test_long_text_wraps_inside_its_cell(app):
    """A cell too narrow for its text wraps the Chinese instead of running into the next column."""
    from reportlab.platypus import Paragraph

    from printouts.fonts import ensure_registered
    from printouts.ledger_pdf import _Cells, column_widths
    from reportlab.lib.styles import ParagraphStyle

    families = ensure_registered()
    cells = _Cells(families, ParagraphStyle("b", fontName=families[0], fontSize=8.5, wordWrap="CJK"))
    assert cells("王首问", 60) == "王首问"
    wrapped = cells("城乡居民基本养老保险参保登记暨待遇领取资格认证", 60)
    assert isinstance(wrapped, Paragraph) and wrapped.style.wordWrap == "CJK"
    assert len(wrapped.breakLinesCJK([60 - 4]).lines) > 1
    assert sum(column_widths([], True, 100)) == pytest.approx(100)


def test_no_font_gives_the_font_missing_page_not_a_pdf_of_boxes(client, auth, county, db, no_fonts):
    bulk_cases(db, county["a"], 3)
    auth.login("a_clerk")
    response = client.get("/r/cases/ledger.pdf")
    assert response.status_code == 503 and response.mimetype == "text/html"
    assert "fonts-wqy-microhei" in response.get_data(as_text=True)
    assert client.get("/r/cases/ledger").status_code == 200  # the print view still works
