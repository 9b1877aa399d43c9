"""What one page costs the server, counted rather than timed (tests/bench/ times it): the statements it runs
and the work it repeats. Twenty clerks and directors at once are served by two cores, so what every page
does — the header, the user's centres, the records a page names twice — is done once."""
from __future__ import annotations

import re

from app import web
from tests.conftest import make_case, make_matter, make_window
from tests.test_list_paging import executed_by


def _on_table(seen, table: str) -> list[str]:
    return [s for s, _p in seen if re.search(rf'\bFROM "?{table}"?\b', s) and not s.lstrip().upper().startswith("INSERT")]


def test_a_page_reads_the_centres_in_one_statement(client, auth, county, db):
    """The clerk's scope, the header's centre name and switch, and the list's centre filter all come from one
    read of the centres (they were read three to five times a page: the session forgets a centre nobody holds)."""
    make_case(county["a"])
    db.session.commit()
    auth.login("a_clerk")
    client.get("/r/cases/")
    seen, text = executed_by(client, "/r/cases/")
    assert len(_on_table(seen, "center")) == 1
    assert county["a"].name in text


def test_a_county_supervisor_sees_every_centre_from_one_read(client, auth, county, db):
    """A county grant reaches the townships below it; their names in the list's centre column and filter and
    in the header's switch need no statement per centre or per row."""
    for center in (county["a"], county["b"]):
        for _ in range(3):
            make_case(center)
    db.session.commit()
    auth.login("county_sup")
    client.get("/r/cases/")
    seen, text = executed_by(client, "/r/cases/")
    assert len(_on_table(seen, "center")) == 1
    assert county["a"].name in text and county["b"].name in text


def test_the_header_menu_is_made_once_for_a_set_of_roles(client, auth, county, monkeypatch):
    """Every page's header lists the registers the reader's roles may open; it is the same for everyone with
    those roles, so it is built once, not with ~80 url_for calls and translations on every page."""
    auth.login("a_clerk")
    first = client.get("/notifications/").get_data(as_text=True)
    built = []
    real = web.url_for
    monkeypatch.setattr(web, "url_for", lambda *a, **kw: built.append(a) or real(*a, **kw))
    second = client.get("/notifications/").get_data(as_text=True)
    assert built == []
    menu = re.compile(r'<nav class="mainnav".*?</nav>', re.S)
    assert menu.search(first).group(0) == menu.search(second).group(0)


def test_a_record_a_page_names_twice_is_read_once(client, auth, county, db):
    """The intake form names its matter in the picker, the heading, the materials tick and the buttons; the
    matter (and its window) is read from the database once, not once for each."""
    window = make_window(county["a"], 1, "综合受理")
    matter = make_matter(county["a"], window_id=window.id)
    db.session.commit()
    matter_id, name = matter.id, matter.name
    del matter, window
    db.session.expunge_all()  # as in a server's request: nothing of the test holds the matter
    auth.login("a_clerk")
    client.get(f"/r/cases/new?matter_id={matter_id}")
    seen, text = executed_by(client, f"/r/cases/new?matter_id={matter_id}")
    assert name in text
    by_id = [s for s in _on_table(seen, "matter") if "matter.id = " in s]
    assert len(by_id) <= 1, by_id


def test_a_signed_in_session_is_renewed_every_few_minutes_not_on_every_page(app, client, auth, county, monkeypatch):
    """The 8 hours of a session run from the last page seen; the cookie carrying them is signed again when the
    last renewal is five minutes old, not with every page."""
    import time as real_time
    clock = {"now": real_time.time()}
    monkeypatch.setattr("app.auth.time.time", lambda: clock["now"])
    auth.login("a_clerk")
    client.get("/notifications/")  # the first page after signing in renews it
    assert "Set-Cookie" not in client.get("/notifications/").headers
    clock["now"] += app.config["SESSION_RENEW_SECONDS"] + 1
    renewed = client.get("/notifications/").headers.get("Set-Cookie", "")
    assert renewed.startswith("session=") and "Expires=" in renewed
    assert "Set-Cookie" not in client.get("/notifications/").headers


def test_a_record_page_reads_its_matter_window_and_centre_without_a_statement_each(client, auth, county, db):
    """A case's page shows its matter, window and centre: the matter and window come joined to the case (as in
    the list), the centre's name from the request's one read of the centres."""
    window = make_window(county["a"], 1, "综合受理")
    case = make_case(county["a"], make_matter(county["a"], window_id=window.id))
    db.session.commit()
    case_id, centre = case.id, county["a"].name
    del case, window
    db.session.expunge_all()
    auth.login("a_clerk")
    client.get(f"/r/cases/{case_id}")
    seen, text = executed_by(client, f"/r/cases/{case_id}")
    assert "综合受理" in text and centre in text
    assert len(_on_table(seen, "center")) == 1  # the directory
    assert not [s for s in _on_table(seen, "matter") if "matter.id = " in s]
    assert not [s for s in _on_table(seen, "window") if "window.id = " in s]


def test_form_attributes_are_written_as_wtforms_writes_them():
    """The faster attribute writer installed in WTForms gives WTForms' own output, character for character."""
    from markupsafe import Markup

    from app.records import forms
    cases = [dict(name="applicant_name", id="applicant_name", class_="wide", required=True, value="王\"秀英\"<b>"),
             dict(type="checkbox", checked=False, data_tick_all="input[name^='m']", aria_invalid="true"),
             dict(value=Markup('a "b" &amp; c'), for_="x", maxlength=4000, placeholder="任意部分 & 'x'"),
             dict(), dict(disabled=True)]
    for kw in cases:
        assert forms.html_params(**kw) == forms.WTFORMS_HTML_PARAMS(**kw)
        assert type(forms.html_params(**kw)) is Markup


def test_a_page_that_only_reads_ends_without_expiring_what_it_read(client, auth, county, db):
    """A GET that changed nothing ends its transaction without marking every record it loaded as stale (the
    session is thrown away after the response: expiring 50-odd records cost about 5 % of a list page); a
    request that wrote something still expires them, so what is read next is fresh."""
    from sqlalchemy import inspect
    case = make_case(county["a"], state="registered")
    db.session.commit()
    auth.login("a_clerk")
    assert case.receipt_no  # loaded again after the commit above
    assert client.get("/r/cases/").status_code == 200
    assert not inspect(case).expired
    client.post(f"/r/cases/{case.id}/edit", data={})
    assert inspect(case).expired, "a request that may have written expires what it loaded"


def test_the_staff_filter_reads_ids_and_names_not_whole_accounts(client, auth, county, db):
    """The list's 'responsible' filter offers the centre's staff by name: two columns of each account, not
    the account (its password hash, lock and epoch) made into a record, about 1 ms a list page."""
    make_case(county["a"])
    db.session.commit()
    auth.login("a_clerk")
    seen, text = executed_by(client, "/r/cases/")
    staff = [s for s, _p in seen if "role_grant" in s and "user_account" in s and "JOIN" in s]
    assert staff and not any("password_hash" in s for s in staff), staff
    assert 'name="responsible_id"' in text


def test_translating_a_word_in_python_reads_the_request_context_without_flasks_proxies(app, monkeypatch):
    """Labels, states and flags translated in Python (a list page: about 70) each found Flask-Babel's context
    twice through `g`, three proxy lookups each time: a sixth of a page's proxy lookups. It is read from the
    app context directly; the word is the same."""
    from flask_babel import force_locale, gettext, lazy_gettext
    from werkzeug import local

    lookups = []
    real = local._ProxyLookup.__get__

    def counting(self, instance, owner=None):
        if instance is not None:
            lookups.append(self.name)
        return real(self, instance, owner)
    with app.test_request_context("/"):
        assert gettext("Cases") == "办件"
        monkeypatch.setattr(local._ProxyLookup, "__get__", counting)
        words = [gettext("Cases") for _ in range(50)] + [str(lazy_gettext("State")) for _ in range(50)]
        monkeypatch.undo()
        assert set(words) == {"办件", "状态"}
        assert len(lookups) < 10, len(lookups)
        with force_locale("en"):
            assert gettext("Cases") == "Cases"


def test_the_access_checks_of_a_page_read_the_signed_in_user_without_the_proxy(client, auth, county, db, monkeypatch):
    """Roles, visible centres and the list's scope are asked for a dozen times a page, each passing
    `current_user`: every attribute read through the proxy found the user in `g` again (about 50 lookups a
    list page); they now unwrap it once."""
    import flask_login.utils as login_utils
    make_case(county["a"])
    db.session.commit()
    auth.login("a_clerk")
    client.get("/r/cases/")
    found = []
    real = login_utils._get_user
    monkeypatch.setattr(login_utils, "_get_user", lambda: found.append(1) or real())
    assert client.get("/r/cases/").status_code == 200
    assert 0 < len(found) <= 15, len(found)
