"""Access matrix: every record type × role × action, own centre vs another centre.

The rule under test: a user sees and acts on records of the centres where they hold a role that
the type's declaration allows; another centre's records are invisible (404) on every page.
"""
from __future__ import annotations

import pytest
from sqlalchemy import select

from app.records import REGISTRY, load_record_types
from models.core import ROLES
from tests.records_support import sample_record

load_record_types()
TYPE_KEYS = sorted(REGISTRY)
CENTER_ROLES = [r for r in ROLES if r != "county"]
PAGES = {  # action checked → URL of the page
    "read": "/r/{key}/{id}",
    "edit": "/r/{key}/{id}/edit",
    "void": "/r/{key}/{id}/void",
    "export": "/r/{key}/export.xlsx",
}


@pytest.fixture
def records(county, db):
    made = {key: sample_record(REGISTRY[key], county["a"]) for key in TYPE_KEYS}
    db.session.commit()
    return made


@pytest.mark.parametrize("key", TYPE_KEYS)
@pytest.mark.parametrize("role", CENTER_ROLES)
def test_role_in_own_centre_gets_exactly_what_the_declaration_allows(client, auth, county, records, key, role):
    rtype, record = REGISTRY[key], records[key]
    auth.login(f"a_{role}")
    roles = frozenset({role})
    for action, url in PAGES.items():
        response = client.get(url.format(key=key, id=record.id))
        allowed = rtype.allows(action, roles)
        if action == "edit" and rtype.workflow and not allowed:
            assert response.status_code == 403
            continue
        if allowed:
            assert response.status_code == 200, (key, role, action, response.status_code)
        elif action == "read":
            assert response.status_code == 404, (key, role, action)
        else:
            assert response.status_code in (403, 404), (key, role, action, response.status_code)
    query = f"?{rtype.parent[0]}={getattr(record, rtype.parent[0])}" if rtype.parent else ""
    new = client.get(f"/r/{key}/new{query}")
    assert new.status_code == (200 if rtype.allows("create", roles) else 403), (key, role)


@pytest.mark.parametrize("key", TYPE_KEYS)
@pytest.mark.parametrize("role", CENTER_ROLES)
def test_role_of_another_centre_gets_404_for_every_page_of_a_record(client, auth, county, records, key, role):
    record = records[key]
    auth.login(f"b_{role}")
    for suffix in ("", "/edit", "/void", "/t/anything"):
        response = client.get(f"/r/{key}/{record.id}{suffix}")
        assert response.status_code == 404, (key, role, suffix, response.status_code)
    rtype = REGISTRY[key]
    if rtype.parent:  # nor can a child record be made under another centre's parent
        assert client.get(f"/r/{key}/new?{rtype.parent[0]}={getattr(record, rtype.parent[0])}").status_code == 404
    for form in REGISTRY[key].prints:
        for url in (f"/r/{key}/{record.id}/print/{form.name}", f"/r/{key}/{record.id}/print/{form.name}.pdf"):
            assert client.get(url).status_code == 404
    listing = client.get(f"/r/{key}/?void=1")
    if listing.status_code == 200:
        assert f"/r/{key}/{record.id}\"" not in listing.get_data(as_text=True)
    export = client.get(f"/r/{key}/export.xlsx")
    assert export.status_code in (200, 403)


@pytest.mark.parametrize("key", TYPE_KEYS)
def test_county_supervisor_reads_every_centre_of_the_county(client, auth, county, records, key):
    rtype = REGISTRY[key]
    auth.login("county_sup")
    expected = 200 if rtype.allows("read", frozenset({"county"})) else 404
    assert client.get(f"/r/{key}/{records[key].id}").status_code == expected


def test_county_supervisor_sees_the_selected_centres_cases(client, auth, county, db):
    """The header's centre switch: with 石桥镇 chosen, lists, filters, exports and choices are 石桥镇's;
    with the county chosen (the default), the whole county."""
    import io

    from openpyxl import load_workbook

    from tests.conftest import make_case, make_user, make_window

    make_case(county["a"], applicant_name="城关甲")
    make_case(county["b"], applicant_name="石桥乙")
    make_window(county["a"], 4, "城关四号窗口")
    make_window(county["b"], 3, "石桥三号窗口")
    make_user(county["county"], "admin", username="county_admin")
    db.session.commit()

    def filters(html):
        return html.split('class="filters"', 1)[1].split("</form>", 1)[0]

    auth.login("county_sup")
    whole = client.get("/r/cases/").get_data(as_text=True)
    assert "城关甲" in whole and "石桥乙" in whole
    assert client.post("/center", data={"center_id": county["b"].id}).status_code == 302
    page = client.get("/r/cases/").get_data(as_text=True)
    assert "石桥乙" in page and "城关甲" not in page
    assert "石桥三号窗口" in filters(page) and "城关四号窗口" not in filters(page)
    assert "b_clerk" in filters(page) and "a_clerk" not in filters(page) and "county_sup" not in filters(page)
    rows = list(load_workbook(io.BytesIO(client.get("/r/cases/export.xlsx").data)).active.values)
    assert [r for r in rows if "石桥乙" in r] and not [r for r in rows if "城关甲" in r]
    assert "城关甲" not in client.get("/r/cases/ledger").get_data(as_text=True)
    auth.logout()

    # A county administrator with 石桥镇 chosen: the form offers 石桥镇's staff, and the new record is 石桥镇's.
    auth.login("county_admin")
    client.post("/center", data={"center_id": county["b"].id})
    form = client.get("/r/posts/new").get_data(as_text=True)
    assert "b_clerk" in form and "a_clerk" not in form and "county_admin</option>" not in form
    response = client.post("/r/posts/new", data={"name": "综合受理岗", "window_id": 0, "duties": "", "form_token": "p1",
                                                 "a_holder_id": county["users"]["b_clerk"].id,
                                                 "b_holder_id": county["users"]["b_agent"].id})
    assert response.status_code == 302
    from models.catalogue import Post
    assert db.session.scalar(select(Post.center_id)) == county["b"].id


def test_anonymous_is_sent_to_login_from_every_register(client, county):
    for key in TYPE_KEYS:
        response = client.get(f"/r/{key}/")
        assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_unknown_record_type_and_id_are_404(client, auth, county):
    auth.login("a_admin")
    assert client.get("/r/no-such-type/").status_code == 404
    assert client.get("/r/matters/999999").status_code == 404


def test_clerk_may_read_but_not_change_the_catalogue(client, auth, county, records):
    auth.login("a_clerk")
    matter = records["matters"]
    assert client.get(f"/r/matters/{matter.id}").status_code == 200
    assert client.get(f"/r/matters/{matter.id}/edit").status_code == 403
    assert client.post(f"/r/matters/{matter.id}/edit", data={"name": "改名"}).status_code == 403
    assert client.get("/r/matters/new").status_code == 403
