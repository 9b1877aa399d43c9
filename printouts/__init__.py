"""Printouts: any record's print template as an HTML print view and as an A4 PDF with an embedded CJK font.

Public API
    render_html(template_name, **context) -> str     browser print view (A4 @page CSS, print button)
    render_pdf(template_name, **context) -> bytes    A4 PDF (raises FontMissing without a CJK font)
    font_status() -> str | None                      None when PDFs can be made, else what to install
    qr_data_uri(text) -> str                         a QR code as a PNG data: URI for <img src>
    next_number(center_id, form_type, year) -> str   "2026-000123", atomic, per centre/form/year
    public_url(endpoint, **values) -> str            a link for paper: on PUBLIC_BASE_URL, not the printing PC
    PrintTooLarge                                    render_pdf refused a source beyond the size budget (413)
    init_app(app)                                    Jinja filters/globals, error page, start-up check
"""
from __future__ import annotations

import logging

from printouts.fonts import FontMissing, font_status
from printouts.numbering import next_number
from printouts.qr import qr_data_uri
from printouts.links import public_url
from printouts.render import PrintError, PrintTooLarge, render_html, render_pdf

log = logging.getLogger(__name__)

__all__ = ["FontMissing", "PrintError", "PrintTooLarge", "font_status", "init_app", "next_number", "public_url",
           "qr_data_uri", "render_html", "render_pdf"]


def init_app(app) -> None:
    from flask import render_template

    from app.timeutil import cn_date
    from printouts.fonts import config_problems

    app.jinja_env.filters.setdefault("cn_date", cn_date)
    app.jinja_env.globals.setdefault("qr_data_uri", qr_data_uri)
    app.jinja_env.globals.setdefault("pdf_font_status", font_status)
    app.jinja_env.globals.setdefault("public_url", public_url)
    app.jinja_env.filters.setdefault("mask_id", _mask_id)

    @app.errorhandler(FontMissing)
    def _font_missing(exc):
        return render_template("print/font_missing.html", message=str(exc)), 503

    @app.errorhandler(PrintTooLarge)
    def _too_large(exc):
        log.warning("PDF refused: %s", exc)
        return render_template("print/too_large.html", size=exc.size, limit=exc.limit), 413

    # Say it at start-up, not only when the first clerk presses "PDF".
    with app.app_context():
        problem = font_status()
        if problem:
            log.error("PDF printing unavailable: %s", problem)
        else:
            for config_problem in config_problems():  # a fallback font is used instead
                log.warning("PDF font: %s", config_problem)
    app.extensions["printouts"] = {"font_problem": problem}


def _mask_id(value) -> str:
    """An ID number as paper given to the applicant shows it, whoever prints: 330102********1234."""
    from app.records.registry import mask_id_number
    return mask_id_number(str(value)) if value else ""
