"""Access matrix: every record type × role × action, own centre vs another centre.

The rule under test: a user sees and acts on records of the centres where they hold a role that
the type's declaration allows; another centre's records are invisible (404) on every page.
"""
from __future__ import annotations

import pytest

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
