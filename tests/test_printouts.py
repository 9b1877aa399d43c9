"""Printouts: Chinese PDFs that really show Chinese, A4 print views, form numbers, QR codes.

xhtml2pdf reports success even when every character is a box, so these tests read the fonts and the
text back out of the PDF instead of trusting that a file came out.
"""
from __future__ import annotations

import io
import logging
import subprocess
import threading
from datetime import date

import pytest
from pypdf import PdfReader
from sqlalchemy import select

import printouts
from printouts import fonts
from tests.conftest import PASSWORD, make_center, make_matter, make_user

NOTICE = "print/matter_notice.html"
GUIDE = "print/matter_guide.html"
TODAY = date(2026, 11, 23)


@pytest.fixture
def matter(db):
    center = make_center("城关镇便民服务中心", phone="0737-1234567", complaint_phone="0737-12345")
    return make_matter(
        center, name="城乡居民基本养老保险参保登记", code="430922-001",
        materials=(("居民身份证", "both", 1), ("户口簿", "copy", 1), ("参保登记表", "original", 2)),
        basis="《中华人民共和国社会保险法》第二十条", conditions="年满16周岁的城乡居民",
        procedure="申请\n受理\n办结", fee="不收费", contact_phone="0737-7654321",
        faq="问：外出务工人员能否在户籍地参保？\n答：可以。")


def pdf_of(app, template, record, **extra):
    with app.test_request_context("/print"):
        return printouts.render_pdf(template, record=record, number="2026-000123", today=TODAY, **extra)


def html_of(app, template, record, **extra):
    with app.test_request_context("/print"):
        return printouts.render_html(template, record=record, number="2026-000123", today=TODAY, **extra)


def pdftotext(pdf: bytes, tmp_path, *args) -> str:
    path = tmp_path / "out.pdf"
    path.write_bytes(pdf)
    return subprocess.run(["pdftotext", *args, str(path), "-"], capture_output=True, text=True,
                          check=True).stdout


def fonts_drawing_text(pdf: bytes) -> set[str]:
    """BaseFont names of the fonts that draw any visible character."""
    used = set()

    def visit(text, _cm, _tm, font, _size):
        if font is not None and text.strip():
            used.add(str(font.get("/BaseFont")))

    for page in PdfReader(io.BytesIO(pdf)).pages:
        page.extract_text(visitor_text=visit)
    return used


@pytest.fixture
def no_fonts(monkeypatch):
    """A machine without any CJK TrueType font."""
    monkeypatch.setattr(fonts, "SEARCH_PATHS", [])
    fonts.reset()
    yield
    fonts.reset()


# ---------------------------------------------------------------- fonts and text

def test_pdf_embeds_cjk_truetype_font(app, matter, tmp_path):
    path = tmp_path / "notice.pdf"
    path.write_bytes(pdf_of(app, NOTICE, matter))
    rows = subprocess.run(["pdffonts", str(path)], capture_output=True, text=True, check=True).stdout
    rows = [line.split() for line in rows.splitlines()[2:]]
    embedded = {r[0] for r in rows if r[-5] == "yes"}  # columns end: emb sub uni object-id generation
    assert any(r[0] in embedded and "TrueType" in r for r in rows), rows
    assert any(name in font for font in embedded
               for name in ("WenQuanYi", "UMing", "UKai", "SimSun", "YaHei", "CJK"))
    # Every character is drawn by an embedded font. (xhtml2pdf still names Helvetica for the blank
    # paragraph it puts around tables, but that draws nothing.)
    drawing = {name.lstrip("/") for name in fonts_drawing_text(path.read_bytes())}
    assert drawing and drawing <= embedded, (drawing, embedded)


def test_pdf_text_is_chinese_not_boxes(app, matter, tmp_path):
    text = pdftotext(pdf_of(app, NOTICE, matter), tmp_path)
    for expected in ("一次性告知单", "城关镇便民服务中心", "城乡居民基本养老保险参保登记", "居民身份证",
                     "原件、复印件", "复印件", "需补正", "承诺时限 5 个工作日", "0737-7654321", "0737-12345",
                     "窗口工作人员", "2026年11月23日", "2026-000123"):
        assert expected in text, expected
    assert "\u25a0" not in text and "\ufffd" not in text  # no black boxes, no replacement characters


def test_pdf_text_is_chinese_without_poppler(app, matter):
    """The same check with pure Python, so it also runs where poppler is not installed (Windows)."""
    pdf = pdf_of(app, NOTICE, matter)
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    assert "一次性告知单" in text and "居民身份证" in text
    assert not any("Helvetica" in f or "Times" in f for f in fonts_drawing_text(pdf))


def test_long_chinese_text_wraps_in_table_cell(app, matter, tmp_path):
    long_text = "申请人应当如实提交有关材料和反映真实情况并对其申请材料实质内容的真实性负责" * 6
    matter.conditions = long_text
    bbox = pdftotext(pdf_of(app, NOTICE, matter), tmp_path, "-bbox")
    words = [line for line in bbox.splitlines() if line.strip().startswith("<word")]
    page_width = float(bbox.split('<page width="')[1].split('"')[0])

    def attr(word, name):
        return float(word.split(f'{name}="')[1].split('"')[0])

    cell_words = [w for w in words if "申请人应当" in w or "真实性负责" in w or "如实提交" in w]
    lines = {round(attr(w, "yMin")) for w in cell_words}
    assert len(lines) >= 3, "the long text should wrap onto several lines of its cell"
    right_margin = page_width - 40  # 16 mm margin ≈ 45 pt
    assert all(attr(w, "xMax") <= right_margin for w in words), "text runs off the page"
    flat = "".join(pdftotext(pdf_of(app, NOTICE, matter), tmp_path).split())
    assert long_text in flat, "every character of the long text is printed"


def test_text_with_line_breaks_keeps_its_lines_in_a_cell(app, matter):
    pdf = pdf_of(app, GUIDE, matter)
    text = PdfReader(io.BytesIO(pdf)).pages[0].extract_text()
    assert "申请\n受理\n办结" in text


def test_character_missing_from_every_font_is_flagged_on_the_print_page(app, matter):
    matter.name = "\U00020000姓名登记"  # CJK Ext-B: no tested font has it
    html = html_of(app, NOTICE, matter)
    assert "请手写补上" in html and "\U00020000" in html.split("请手写补上")[1]


# ---------------------------------------------------------------- no font

def test_no_font_found_is_reported(app, matter, no_fonts, caplog):
    message = printouts.font_status()
    assert message and "fonts-wqy-microhei" in message and "PDF_FONT_PATH" in message
    with pytest.raises(printouts.FontMissing):
        pdf_of(app, NOTICE, matter)
    # … on the print page, which still works from the browser …
    html = html_of(app, NOTICE, matter)
    assert "PDF 不可用" in html and "fonts-wqy-microhei" in html and "一次性告知单" in html
    # … and at start-up.
    with caplog.at_level(logging.ERROR, logger="printouts"):
        printouts.init_app(app)
    assert any("PDF printing unavailable" in r.getMessage() for r in caplog.records)


def test_missing_font_gives_a_clear_error_page_not_a_pdf_of_boxes(app, no_fonts):
    @app.route("/_test_pdf")
    def _test_pdf():
        printouts.render_pdf(NOTICE)

    response = app.test_client().get("/_test_pdf")
    assert response.status_code == 503
    assert "fonts-wqy-microhei" in response.get_data(as_text=True)


def test_configured_cff_font_is_refused_with_its_reason(app, no_fonts, tmp_path):
    cff = tmp_path / "NotoSansCJK-Regular.otf"
    cff.write_bytes(b"OTTO" + b"\0" * 64)  # the header of a CFF OpenType font
    app.config["PDF_FONT_PATH"] = str(cff)
    message = printouts.font_status()
    assert "PDF_FONT_PATH" in message and "CFF" in message


def test_configured_font_path_is_used(app, matter, tmp_path):
    zen_hei = "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc"
    fonts.reset()
    app.config["PDF_FONT_PATH"] = zen_hei
    try:
        path = tmp_path / "zen.pdf"
        path.write_bytes(pdf_of(app, NOTICE, matter))
        listed = subprocess.run(["pdffonts", str(path)], capture_output=True, text=True).stdout
        assert "WenQuanYiZenHei" in listed
    finally:
        app.config["PDF_FONT_PATH"] = ""
        fonts.reset()


# ---------------------------------------------------------------- print view, speed, matters

def test_print_view_is_an_a4_page_with_a_print_button_hidden_in_print(app, matter):
    html = html_of(app, NOTICE, matter)
    assert html.lstrip().startswith("<!DOCTYPE html>")
    assert "size: a4" in html and "@media print" in html and ".no-print" in html
    assert 'class="toolbar no-print"' in html and "data-print" in html
    assert 'href="/print.pdf"' in html  # the PDF of the same page
    assert "&#39;WenQuanYi" not in html  # font names reach the CSS unescaped


def test_one_time_notice_pdf_is_one_page(app, matter):
    pdf = pdf_of(app, NOTICE, matter)   # how fast a PDF renders is measured in tests/bench/bench_cases.py
    assert pdf.startswith(b"%PDF") and len(PdfReader(io.BytesIO(pdf)).pages) == 1


@pytest.mark.parametrize("template, title", [(NOTICE, "一次性告知单"), (GUIDE, "办事指南")])
def test_every_matter_printout_renders_in_both_media(app, matter, template, title):
    html = html_of(app, template, matter)
    assert title in html and "城乡居民基本养老保险参保登记" in html
    pdf = pdf_of(app, template, matter)
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    assert title in text and "居民身份证" in text


def test_service_guide_shows_the_eight_disclosures(app, matter):
    pdf = pdf_of(app, GUIDE, matter)
    text = "".join("".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages).split())
    for label in ("事项名称", "设定依据", "申报条件", "申报材料", "办理程序", "法定时限：20个工作日",
                  "承诺时限：5个工作日", "收费标准及依据", "咨询电话", "投诉电话", "常见问题"):
        assert label in text, label


def test_one_time_notice_downloads_from_the_matter_page(app, matter, client):
    clerk = make_user(matter.center, "clerk")
    from app.extensions import db
    db.session.commit()
    client.post("/login", data={"username": clerk.username, "password": PASSWORD})
    response = client.get(f"/r/matters/{matter.id}/print/notice.pdf")   # its speed: tests/bench/
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert "一次性告知单" in PdfReader(io.BytesIO(response.data)).pages[0].extract_text()
    page = client.get(f"/r/matters/{matter.id}/print/notice")
    assert page.status_code == 200 and "data-print" in page.get_data(as_text=True)


def test_dates_print_the_chinese_way(app):
    assert app.jinja_env.filters["cn_date"](TODAY) == "2026年11月23日"


def test_paper_form_furniture_macros(app):
    page = app.jinja_env.from_string("""{% import "print/macros.html" as m %}
{{ m.form_title("请假条", subtitle="（存根）", unit="城关镇便民服务中心") }}
{{ m.form_number(none) }}
{{ m.fields_grid([[("姓名", "张三"), ("岗位", "窗口")], ("事由", "第一行\n第二行"), ("备注", none)]) }}
{{ m.signature_box("请假人") }}{{ m.seal_box("便民服务中心") }}
{{ m.date_line(today) }}{{ m.date_line() }}""").render(today=TODAY)
    assert '<h1 class="form-title">请假条</h1>' in page and "城关镇便民服务中心" in page
    assert "编号：______________" in page  # an unnumbered form: a line to write the number on
    assert 'colspan="3"' in page  # a one-pair row spans the two-pair grid
    assert "<div>第一行</div><div>第二行</div>" in page  # xhtml2pdf drops <br> in CJK-wrapped cells
    assert 'class="blank">&nbsp;' in page
    assert "请假人（签字）" in page and "便民服务中心（盖章）" in page
    assert "2026年11月23日" in page and "\u00a0年\u00a0" in page  # the blank date keeps its spaces


# ---------------------------------------------------------------- QR codes

def test_qr_code_is_embedded(app, matter):
    import segno

    url = "http://192.168.1.10:5000/guide/1"
    uri = printouts.qr_data_uri(url)
    assert uri.startswith("data:image/png;base64,")
    assert f'src="{uri}"' in html_of(app, NOTICE, matter, guide_url=url)
    pdf = pdf_of(app, NOTICE, matter, guide_url=url)
    images = [img for page in PdfReader(io.BytesIO(pdf)).pages for img in page.images]
    side = segno.make(url, error="m", micro=False).symbol_size(scale=4, border=2)[0]
    assert any(img.image.size == (side, side) for img in images)
    assert not PdfReader(io.BytesIO(pdf_of(app, NOTICE, matter))).pages[0].images  # only when asked


# ---------------------------------------------------------------- numbering

def test_numbers_are_per_center_form_and_year(app, db):
    from printouts.numbering import next_number

    a, b = make_center("甲镇便民服务中心"), make_center("乙镇便民服务中心")
    assert [next_number(a.id, "notice", 2026) for _ in range(3)] == ["2026-000001", "2026-000002",
                                                                     "2026-000003"]
    assert next_number(b.id, "notice", 2026) == "2026-000001"
    assert next_number(a.id, "receipt", 2026) == "2026-000001"
    assert next_number(a.id, "notice", 2027) == "2027-000001"
    assert next_number(a.id, "notice", 2026) == "2026-000004"


def test_committed_numbers_never_come_back(app, db):
    from models.numbering import FormCounter
    from printouts.numbering import next_number

    center_id = make_center().id
    db.session.commit()
    first = next_number(center_id, "notice", 2026)
    db.session.commit()
    db.session.remove()  # a new request, a new session
    assert next_number(center_id, "notice", 2026) > first
    db.session.rollback()  # a request that failed gives back only what it never issued
    assert next_number(center_id, "notice", 2026) == "2026-000002"
    db.session.commit()
    assert db.session.scalar(select(FormCounter.last).where(FormCounter.center_id == center_id)) == 2


def test_form_numbers_are_unique_under_concurrent_requests(app, db):
    """8 writers × 50 numbers on a file SQLite database (WAL), all starting on a series not yet created."""
    from printouts.numbering import next_number

    assert db.engine.url.database and db.engine.url.database != ":memory:"
    center_id, threads, per_thread = make_center().id, 8, 50
    db.session.commit()  # and hold no transaction (outside requests, every one begins IMMEDIATE)
    issued: list[str] = []
    errors: list[BaseException] = []
    start = threading.Barrier(threads)
    lock = threading.Lock()

    def worker():
        try:
            with app.app_context():
                start.wait()
                for _ in range(per_thread):
                    number = next_number(center_id, "receipt", 2026)
                    db.session.commit()
                    with lock:
                        issued.append(number)
                db.session.remove()
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    pool = [threading.Thread(target=worker) for _ in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join(timeout=60)
    assert not errors, errors
    assert sorted(issued) == [f"2026-{n:06d}" for n in range(1, threads * per_thread + 1)]


# ---------------------------------------------------------------- the public address printed links use

@pytest.fixture
def serve_without_serving(app, monkeypatch):
    """`serve` up to the point where waitress would start (no migration run, no jobs, no server)."""
    import flask_migrate
    import waitress
    from app.extensions import db
    make_user(make_center(), "admin")
    db.session.commit()
    monkeypatch.setattr(flask_migrate, "upgrade", lambda **_kw: None)
    monkeypatch.setattr(waitress, "serve", lambda *_a, **_kw: None)
    monkeypatch.setattr("jobs.housekeeping.refresh_statistics", lambda *_a, **_kw: None)
    return app


def test_serve_points_printed_links_at_the_office_network_address(serve_without_serving, monkeypatch):
    app = serve_without_serving
    app.config["PUBLIC_BASE_URL"] = ""
    monkeypatch.setattr("app.cli.lan_address", lambda: "192.168.1.20")
    result = app.test_cli_runner().invoke(args=["serve", "--no-jobs", "--port", "5001"])
    assert result.exit_code == 0, result.output
    assert app.config["PUBLIC_BASE_URL"] == "http://192.168.1.20:5001"


def test_serve_keeps_a_configured_public_address(serve_without_serving, monkeypatch):
    app = serve_without_serving
    app.config["PUBLIC_BASE_URL"] = "https://hall.example.gov.cn"
    monkeypatch.setattr("app.cli.lan_address", lambda: "192.168.1.20")
    result = app.test_cli_runner().invoke(args=["serve", "--no-jobs"])
    assert result.exit_code == 0, result.output
    assert app.config["PUBLIC_BASE_URL"] == "https://hall.example.gov.cn"


def test_serve_warns_when_no_office_network_address_is_found(serve_without_serving, monkeypatch):
    app = serve_without_serving
    app.config["PUBLIC_BASE_URL"] = ""
    monkeypatch.setattr("app.cli.lan_address", lambda: "127.0.0.1")
    result = app.test_cli_runner().invoke(args=["serve", "--no-jobs"])
    assert result.exit_code == 0, result.output
    assert app.config["PUBLIC_BASE_URL"] == ""  # links fall back to the address each request came to
    assert "PUBLIC_BASE_URL" in result.output and "127.0.0.1" in result.output


def test_public_base_url_comes_from_the_environment(monkeypatch, tmp_path):
    from app.config import from_environment
    monkeypatch.setenv("HALL_INSTANCE", str(tmp_path))
    monkeypatch.setenv("PUBLIC_BASE_URL", "http://192.168.1.20:5000/")
    assert from_environment()["PUBLIC_BASE_URL"] == "http://192.168.1.20:5000"
    monkeypatch.delenv("PUBLIC_BASE_URL")
    assert from_environment()["PUBLIC_BASE_URL"] == ""


def test_serve_freezes_what_start_up_loaded_while_it_serves(serve_without_serving, monkeypatch):
    """Modules, the ORM's mappings and the catalogue loaded at start-up (about 220,000 objects) are moved out
    of the garbage collector's sight while waitress serves: its full collections then walk the requests'
    objects only (0.66 → 0.28 ms of an average request). When serving stops they are given back."""
    import gc

    import waitress
    app = serve_without_serving
    seen = []
    monkeypatch.setattr(waitress, "serve", lambda *_a, **_kw: seen.append(gc.get_freeze_count()))
    result = app.test_cli_runner().invoke(args=["serve", "--no-jobs"])
    assert result.exit_code == 0, result.output
    assert seen and seen[0] > 10_000, seen
    assert gc.get_freeze_count() == 0
