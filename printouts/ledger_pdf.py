"""The paper ledger (台账) of a record list as an A4 landscape PDF, laid out by ReportLab's platypus.

xhtml2pdf needed about a minute for 1,300 rows; this builds 2,000 rows in a few seconds. The content is
the one of templates/print/ledger.html (the browser print view): title, centre, filter words, count (and
the note when rows were cut), the columns with their header repeated on every page, the state with its
flags, the print date and "第 N 页 共 M 页" at the foot of every page.

Public API
    build_ledger_pdf(*, rtype, rows, columns, filter_words, today, center, unmask, truncated=False, **_) -> bytes
        Takes the context ledger_view gives the HTML template. Raises FontMissing without a CJK font.
"""
from __future__ import annotations

import logging
from io import BytesIO
from xml.sax.saxutils import escape

from printouts.fonts import ensure_registered

log = logging.getLogger(__name__)

# Widths (% of the table) as the HTML ledger gives them: each kind's `ledger_width` (a date or a phone number
# stays on one line); a pair (a value and the one that replaced it) gets room for the first line of two.
NUMBER_WIDTH = 3.5
STATE_WIDTH = 9.0
HEAD_SIZE, BODY_SIZE = 9, 8.5
PAD_X, PAD_TOP, PAD_BOTTOM = 2, 2, 1.5
GRID = 0.6
PAIR_ARROW = "→ 延至"


def column_widths(columns, workflow: bool, total: float, natural: list[float] | None = None) -> list[float]:
    """Widths in points: 序号, the columns, the state (when the type has a workflow).

    Kinds with a set width get it; the other columns share the rest, a column whose widest text
    (`natural`, points, one per column of the table) needs less than an equal share keeping only that, so a
    long matter name gets the room short names leave."""
    percent = [NUMBER_WIDTH]
    for col in columns:
        width = col[0].k.ledger_width
        percent.append(round(width * (1.6 if len(col) > 1 else 1), 1) if width else None)
    if workflow:
        percent.append(STATE_WIDTH)
    free = [i for i, p in enumerate(percent) if p is None]
    fixed = sum(p for p in percent if p is not None)
    widths = [None if p is None else p * total / 100 for p in percent]
    if free:
        room = max(100 - fixed, 6 * len(free)) * total / 100
        need = {i: (natural[i] if natural else 0) + 2 * PAD_X + 1 for i in free}
        waiting = sorted(free, key=need.get)
        while waiting:  # max-min fair: the narrowest first, each at most an equal share of what is left
            i = waiting.pop(0)
            share = room / (len(waiting) + 1)
            widths[i] = share if not waiting else min(need[i], share)
            room -= widths[i]
    scale = total / sum(widths)
    return [w * scale for w in widths]


def cell_value(f, record, unmask) -> str:
    """One value as the HTML ledger writes it (the field's kind decides: dates in Chinese, ID numbers masked
    unless `unmask(record)`)."""
    return f.k.paper(f, record, unmask(record))


def ledger_rows(rtype, rows, columns, unmask) -> list[list[str]]:
    """The cell texts of every row: number, columns (a pair as two lines), state with its flags."""
    from app.records.registry import state_title

    out = []
    for n, r in enumerate(rows, 1):
        cells = [str(n)]
        for col in columns:
            text = cell_value(col[0], r, unmask)
            if len(col) > 1 and getattr(r, col[1].name, None):
                text = f"{text}\n{PAIR_ARROW}{cell_value(col[1], r, unmask)}"
            cells.append(text)
        if rtype.workflow:
            state = state_title(r)
            if rtype.flags:
                state += "".join(f" {label}" for label, _css in rtype.flags(r))
            cells.append(state)
        out.append(cells)
    return out


class _Cells:
    """Makes table cells: a plain string when every line fits its column (fast to lay out), else a
    Paragraph that wraps Chinese (wordWrap='CJK'), with characters the main font lacks drawn in the second."""

    def __init__(self, families: list[str], style):
        from reportlab.pdfbase import pdfmetrics

        self.font = families[0]
        self.style = style
        self.size = style.fontSize
        self.width = pdfmetrics.getFont(self.font).stringWidth
        self.main = pdfmetrics.getFont(self.font).face.charToGlyph
        self.others = [(f, pdfmetrics.getFont(f).face.charToGlyph) for f in families[1:]]

    def __call__(self, text: str, width: float):
        from reportlab.platypus import Paragraph

        room = width - 2 * PAD_X - 0.5
        lacking = self.others and any(ord(c) > 0x7F and ord(c) not in self.main for c in text)
        if not lacking and all(self.width(line, self.size) <= room for line in text.split("\n")):
            return text
        return Paragraph("<br/>".join(self._markup(line) for line in text.split("\n")), self.style)

    def _markup(self, line: str) -> str:
        parts = []
        for c in line:
            other = None
            if ord(c) > 0x7F and ord(c) not in self.main:
                other = next((f for f, cmap in self.others if ord(c) in cmap), None)
            parts.append(f'<font face="{other}">{escape(c)}</font>' if other else escape(c))
        return "".join(parts)


def _page_canvas(font: str, size: float):
    """A canvas that writes "第 N 页 共 M 页" at the foot of each page once the page count is known."""
    from reportlab.lib.colors import HexColor
    from reportlab.lib.units import mm
    from reportlab.pdfgen.canvas import Canvas

    class PageCountCanvas(Canvas):
        def __init__(self, *args, **kw):
            super().__init__(*args, **kw)
            self._pages = []

        def showPage(self):
            self._pages.append(dict(self.__dict__))
            self._startPage()

        def save(self):
            total = len(self._pages)
            for state in self._pages:
                self.__dict__.update(state)
                self.setFont(font, size)
                self.setFillColor(HexColor("#444444"))
                self.drawCentredString(self._pagesize[0] / 2, 11 * mm, f"第 {self._pageNumber} 页 共 {total} 页")
                super().showPage()
            super().save()

    return PageCountCanvas


def build_ledger_pdf(*, rtype, rows, columns, filter_words, today, center=None, unmask=lambda r: False,
                     truncated: bool = False, **_ignored) -> bytes:
    """The ledger as an A4 landscape PDF with the CJK TrueType font embedded (FontMissing without one)."""
    from flask_babel import gettext as _
    from reportlab.lib import colors
    from reportlab.lib.enums import TA_CENTER, TA_LEFT, TA_RIGHT
    from reportlab.lib.pagesizes import A4, landscape
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.pdfbase import pdfmetrics
    from reportlab.platypus import LongTable, Paragraph, SimpleDocTemplate, Spacer, TableStyle

    from app.timeutil import cn_date
    from printouts.fonts import uncovered_characters

    families = ensure_registered()
    font = families[0]
    title = f"{rtype.title_plural}台账"

    def style(name, size, align=TA_LEFT, **kw):
        return ParagraphStyle(name, fontName=font, fontSize=size, leading=round(size * 1.25, 1), alignment=align,
                              wordWrap="CJK", **kw)

    unit_style = style("unit", 13, TA_CENTER, spaceAfter=2)
    title_style = style("title", 20, TA_CENTER, spaceBefore=2, spaceAfter=6)
    line_style = style("line", 10.5, spaceAfter=3)
    date_style = style("date", 10.5, TA_RIGHT, spaceBefore=6)
    head_style = style("head", HEAD_SIZE, TA_CENTER)
    body_style = style("body", BODY_SIZE)

    left_right, top_bottom = 16 * mm, 18 * mm
    pagesize = landscape(A4)
    headers = ["序号", *(str(col[0].label) for col in columns)]
    if rtype.workflow:
        headers.append(str(_("State")))
    body = ledger_rows(rtype, rows, columns, unmask)
    text_width = pdfmetrics.getFont(font).stringWidth
    natural = [max((text_width(line, BODY_SIZE) for row in body for line in row[i].split("\n")), default=0)
               for i in range(len(headers))]
    widths = column_widths(columns, bool(rtype.workflow), pagesize[0] - 2 * left_right, natural)
    words = "；".join(f"{label}：{text}" for label, text in filter_words) or "全部"
    count = f"共 {len(rows)} 条" + (f"（仅列前 {len(rows)} 条，请缩小范围）" if truncated else "")

    missing = uncovered_characters("".join([title, words, *("".join(r) for r in body)]))
    if missing:
        log.warning("ledger %s: no PDF font has %s; they print blank", rtype.key, "".join(sorted(missing)))

    cells = _Cells(families, body_style)
    head_cells = _Cells(families, head_style)
    data = [[head_cells(h, w) for h, w in zip(headers, widths)]]
    data += [[cells(text, w) for text, w in zip(row, widths)] for row in body]
    table = LongTable(data, colWidths=widths, repeatRows=1, splitInRow=1)
    table.setStyle(TableStyle([
        ("FONT", (0, 0), (-1, -1), font, BODY_SIZE, round(BODY_SIZE * 1.2, 1)),
        ("FONT", (0, 0), (-1, 0), font, HEAD_SIZE, round(HEAD_SIZE * 1.2, 1)),
        ("GRID", (0, 0), (-1, -1), GRID, colors.black),
        ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#f0f0f0")),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ("ALIGN", (0, 0), (-1, 0), "CENTER"),
        ("ALIGN", (0, 1), (0, -1), "CENTER"),
        ("LEFTPADDING", (0, 0), (-1, -1), PAD_X),
        ("RIGHTPADDING", (0, 0), (-1, -1), PAD_X),
        ("TOPPADDING", (0, 0), (-1, -1), PAD_TOP),
        ("BOTTOMPADDING", (0, 0), (-1, -1), PAD_BOTTOM),
    ]))

    story = []
    if center is not None:
        story.append(Paragraph(escape(center.name), unit_style))
    story += [Paragraph(escape(title), title_style),
              Paragraph(escape(f"筛选条件：{words}"), line_style),
              Paragraph(escape(count), line_style), Spacer(0, 1 * mm), table,
              Paragraph(escape(f"打印日期：{cn_date(today)}"), date_style)]

    out = BytesIO()
    doc = SimpleDocTemplate(out, pagesize=pagesize, leftMargin=left_right, rightMargin=left_right,
                            topMargin=top_bottom, bottomMargin=top_bottom, title=title,
                            author=center.name if center is not None else "", creator="hall")
    doc.build(story, canvasmaker=_page_canvas(font, 8.5))
    return out.getvalue()


__all__ = ["build_ledger_pdf", "cell_value", "column_widths", "ledger_rows"]
