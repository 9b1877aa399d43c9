"""Bad input never makes a server error; every response carries a Content-Security-Policy; PDFs,
workbooks and print views are never cached.

Every parameter is parsed once, by its route converter or its field kind: a number too big for the
database or written in other digits (², ٣), a month or a date at the edge of the calendar, give a
404 / 400 or a message beside the field, never a 500.
"""
from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest

from app.config import ROOT
from app.records.registry import REGISTRY
from tests.conftest import make_case, make_matter

BIG = "99999999999999999999"  # above 2**63 - 1
CSP = ("default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; script-src 'self'; "
       "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'self'")

TOO_BIG_IDS = [
    f"/r/cases/{BIG}",
    f"/r/cases/{BIG}/edit",
    f"/r/cases/{BIG}/void",
    f"/r/cases/{BIG}/t/accept",
    f"/r/cases/{BIG}/print/receipt",
    f"/r/cases/{BIG}/print/receipt.pdf",
    f"/r/case-extensions/new?case_id={BIG}",
    f"/admin/users/{BIG}",
    f"/admin/centers/{BIG}",
    f"/notifications/{BIG}",
    "/r/cases/²",
    "/r/cases/٣/edit",
]

BAD_PARAMETERS = [
    f"/r/cases/?window_id={BIG}",
    "/r/cases/?window_id=²",
    f"/r/cases/?responsible_id={BIG}",
    "/r/cases/?responsible_id=٣",
    "/r/cases/?page=٣",
    "/r/cases/?page=²",
    f"/r/cases/?page={BIG}",
    f"/r/cases/?center={BIG}",
    "/r/cases/?center=²",
    "/r/cases/?intake_date_from=0001-01-01",
    "/r/cases/?intake_date_to=0001-01-01",
    "/r/cases/?due_date_to=9999-12-31",
    "/r/cases/?due_date_from=9999-12-31",
    "/r/cases/?intake_date_from=٢٠٢٦-٠١-٠١",
    f"/r/cases/export.xlsx?window_id={BIG}&intake_date_from=0001-01-01&due_date_to=9999-12-31",
    f"/r/cases/ledger?window_id={BIG}&intake_date_from=0001-01-01&due_date_to=9999-12-31",
    "/cases/report?month=9999-12",
    "/cases/report?month=0000-01",
    "/cases/report?month=٢٠٢٦-١",
    "/cases/report?month=9999-12&format=xlsx",
    "/cases/report?month=9999-12&format=print",
]


def _registry_list_urls():
    """Every list page of the registry, with every filter it has given a bad value."""
    urls = []
    for key, rtype in REGISTRY.items():
        args = ["page=٣"]
        for f in rtype.filter_fields:
            if f.kind in ("date", "datetime"):
                args += [f"{f.name}_from=0001-01-01", f"{f.name}_to=9999-12-31"]
            elif f.kind in ("ref", "user", "int"):
                args.append(f"{f.name}={BIG}")
            else:
                args.append(f"{f.name}=²")
        urls.append(f"/r/{key}/?" + "&".join(args))
        urls.append(f"/r/{key}/?" + "&".join(a.replace(BIG, "²") for a in args))
    return urls


@pytest.fixture
def director(client, auth, county):
    auth.login("a_director")
    return county


@pytest.mark.parametrize("url", TOO_BIG_IDS + BAD_PARAMETERS + _registry_list_urls())
def test_no_parameter_gives_a_server_error(client, director, url):
    response = client.get(url)
    assert response.status_code < 500, url


@pytest.mark.parametrize("url", TOO_BIG_IDS)
def test_an_id_too_big_or_in_other_digits_is_not_found(client, director, url):
    assert client.get(url).status_code == 404


def test_a_bad_filter_is_ignored_and_the_list_still_shows(client, director, db):
    make_case(director["a"], intake=date(2026, 11, 23))
    db.session.commit()
    page = client.get("/r/cases/?intake_date_from=0001-01-01&due_date_to=9999-12-31&window_id=²")
    assert page.status_code == 200
    assert "张三" in page.get_data(as_text=True)


def test_a_month_out_of_range_shows_the_current_month(client, director):
    response = client.get("/cases/report?month=9999-12")
    assert response.status_code == 200
    assert "9999" not in response.get_data(as_text=True)


@pytest.mark.parametrize("day", ["0001-01-01", "1899-12-31", "9999-12-31", "2100-01-01"])
def test_a_form_date_outside_1900_to_2099_is_refused_beside_the_field(client, auth, county, db, day):
    matter = make_matter(county["a"])
    case = make_case(county["a"], matter, state="accepted", responsible=county["users"]["a_clerk"])
    db.session.commit()
    auth.login("a_clerk")
    response = client.post(f"/r/case-extensions/new?case_id={case.id}", data={
        "requested_on": day, "reason": "核查", "new_due": day, "applicant_notified_on": "",
        "notice_method": "", "form_token": f"t{day}"})
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "1900-01-01" in html and "2099-12-31" in html and 'class="error"' in html


@pytest.mark.parametrize("row_id", ["²", "٣", BIG])
def test_a_posted_row_id_in_other_digits_or_too_big_is_a_new_row(client, director, db, row_id):
    from models.catalogue import Matter
    matter = make_matter(director["a"], kind="promised")
    db.session.commit()
    data = {"code": "", "name": matter.name, "window_id": 0, "department_id": 0, "business_line": "",
            "kind": "promised", "handling_mode": "promised", "statutory_days": "20", "promised_days": "5",
            "basis": "", "conditions": "", "procedure": "", "fee": "", "fee_basis": "", "contact_phone": "",
            "complaint_phone": "", "faq": "", "form_version": matter.version,
            "materials-0-name": "居民身份证", "materials-0-form": "both", "materials-0-copies": "1",
            "materials-0-row_id": row_id}
    assert client.post(f"/r/matters/{matter.id}/edit", data=data).status_code == 302
    db.session.expire_all()
    assert [m.name for m in db.session.get(Matter, matter.id).materials] == ["居民身份证"]


# ------------------------------------------------------------------ headers

def test_every_page_sends_a_content_security_policy(client, auth, county):
    for url in ("/login", "/static/forms.js", "/r/cases/nonexistent-type/"):
        with client.get(url) as response:
            assert response.headers.get("Content-Security-Policy") == CSP, url
    auth.login("a_director")
    for url in ("/", "/worklist", "/r/cases/", "/r/matters/", "/cases/report", f"/r/cases/{BIG}"):
        assert client.get(url).headers.get("Content-Security-Policy") == CSP, url


INLINE = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>|\son[a-z]+\s*=|javascript:", re.I)


def test_no_template_has_inline_scripts_or_event_handlers():
    found = []
    for path in sorted((ROOT / "templates").rglob("*.html")):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if INLINE.search(line):
                found.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert not found, "\n".join(found)


def test_pdf_and_excel_are_not_cached(client, director, db):
    case = make_case(director["a"], intake=date(2026, 11, 23))
    db.session.commit()
    urls = ["/r/cases/export.xlsx", "/cases/report?format=xlsx", "/cases/report?format=print",
            "/r/cases/ledger", f"/r/cases/{case.id}/print/receipt"]
    if _pdf_available():
        urls += ["/r/cases/ledger.pdf", "/cases/report?format=pdf"]
    for url in urls:
        response = client.get(url)
        assert response.status_code == 200, url
        assert "no-store" in response.headers.get("Cache-Control", ""), url
    page = client.get("/r/cases/")
    assert "no-store" not in page.headers.get("Cache-Control", "")


def _pdf_available() -> bool:
    from flask import current_app
    return not current_app.extensions["printouts"]["font_problem"]


@pytest.mark.parametrize("url", ["/r/cases/new?matter_id=99999999999999999999", "/r/cases/new?matter_id=²",
                                 "/r/case-handovers/new?case_id=99999999999999999999",
                                 "/notifications/?page=99999999999999999999", "/notifications/?page=٣"])
def test_intake_and_inbox_parameters_never_give_a_server_error(client, auth, county, url):
    auth.login("a_clerk")
    assert client.get(url).status_code < 500
