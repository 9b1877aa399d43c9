"""One print template, two outputs: an HTML print view for the browser and an A4 PDF by xhtml2pdf.

Templates extend print/base.html and see `medium` ("html" or "pdf"); everything else they need comes
from the caller's context (record, number, today …) and the app's Jinja filters and globals.
"""
from __future__ import annotations

import logging
import re
from io import BytesIO
from pathlib import Path

from flask import current_app, has_request_context, render_template, request
from markupsafe import Markup

from printouts.fonts import FontMissing, ensure_registered, font_status, uncovered_characters

log = logging.getLogger(__name__)

# The browser view uses the machine's own CJK fonts (nothing is loaded from the network).
# Markup: the quotes must reach the <style> block unescaped.
SCREEN_FONTS = Markup("'WenQuanYi Micro Hei', 'WenQuanYi Zen Hei', 'Microsoft YaHei', SimSun, "
                      "'PingFang SC', 'Noto Sans CJK SC', 'Source Han Sans SC', sans-serif")


class PrintError(RuntimeError):
    """xhtml2pdf could not make the PDF."""


class PrintTooLarge(PrintError):
    """The form's text is far beyond what its paper can hold: refused before xhtml2pdf starts.

    xhtml2pdf lays text out at about 0.13 s per 1,000 CJK characters in one cell on this project's machine
    (250,000 characters: 30 s, 5,000,000: minutes and gigabytes), and a render cannot be interrupted, so the
    budget is a size checked before rendering."""

    def __init__(self, template_name: str, size: int, limit: int):
        super().__init__(f"{template_name}: {size} characters of HTML, at most {limit}")
        self.template_name, self.size, self.limit = template_name, size, limit


# The most HTML (not counting embedded data: images) a PDF may be made from: a paper form is 4,000–15,000;
# 60,000 is some 25 pages of dense Chinese text and about 7 s to render. Long lists have their own budget.
MAX_SOURCE_CHARS = 60_000
SOURCE_LIMITS = {"print/ledger.html": 3_000_000}
_DATA_URI = re.compile(r"data:[^\"')\s]+")


def source_size(html: str) -> int:
    """The characters xhtml2pdf has to lay out, roughly: the HTML without embedded images."""
    return len(_DATA_URI.sub("", html))


def check_size(template_name: str, html: str) -> None:
    limit = SOURCE_LIMITS.get(template_name, MAX_SOURCE_CHARS)
    if len(html) > limit:  # cheap test first; data: images only count when they are what tips it over
        size = source_size(html)
        if size > limit:
            raise PrintTooLarge(template_name, size, limit)


def _context(medium: str, context: dict) -> dict:
    from app.timeutil import today

    base = {"medium": medium, "number": "", "today": today(), "pdf_url": None}
    if medium == "html" and has_request_context() and not request.path.endswith(".pdf"):
        base["pdf_url"] = request.path.rstrip("/") + ".pdf"
    base.update(context)
    return base


def render_html(template_name: str, **context) -> str:
    """The browser print view: a full page, A4 @page CSS, a print button hidden when printing."""
    problem = font_status()
    html = render_template(template_name, **_context("html", context),
                           print_fonts=SCREEN_FONTS, font_problem=problem, missing_glyphs="")
    if problem is None:
        missing = "".join(sorted(uncovered_characters(html)))
        if missing:  # say so on screen (hidden in print) so the clerk can write them in by hand
            html = render_template(template_name, **_context("html", context),
                                   print_fonts=SCREEN_FONTS, font_problem=None, missing_glyphs=missing)
    return html


def render_pdf(template_name: str, **context) -> bytes:
    """An A4 PDF with the CJK TrueType font embedded. Raises FontMissing when there is no such font."""
    from xhtml2pdf import pisa
    from xhtml2pdf.config.resources import ResourceAccessPolicy

    families = ensure_registered()
    html = render_template(template_name, **_context("pdf", context),
                           print_fonts=", ".join(families), font_problem=None, missing_glyphs="")
    check_size(template_name, html)
    missing = uncovered_characters(html)
    if missing:
        log.warning("%s: no PDF font has %s; they print blank", template_name, "".join(sorted(missing)))
    static = Path(current_app.static_folder or ".")
    policy = ResourceAccessPolicy(allow_remote=False, base_dir=static)
    out = BytesIO()
    status = pisa.CreatePDF(html, dest=out, encoding="utf-8", resource_policy=policy,
                            link_callback=_static_files(static))
    if status.err:
        raise PrintError(f"{template_name}: xhtml2pdf reported {status.err} error(s)")
    return out.getvalue()


def _static_files(static: Path):
    """Map /static/… URLs to files so printouts can use app images (a logo, a seal outline)."""
    prefix = (current_app.static_url_path or "/static").rstrip("/") + "/"

    def link_callback(uri: str, _rel: str) -> str:
        if uri.startswith(prefix):
            return str(static / uri[len(prefix):])
        return uri

    return link_callback


__all__ = ["FontMissing", "PrintError", "PrintTooLarge", "render_html", "render_pdf"]
