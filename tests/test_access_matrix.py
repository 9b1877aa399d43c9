"""Access matrix: every record type × role × action, own centre vs another centre.

The rule under test: a user sees and acts on records of the centres where they hold a role that
the type's declaration allows; another centre's records are invisible (404) on every page.
"""
from __future__ import annotations

import pytest
from sqlalchemy import select

from app.records import REGISTRY, load_record_types
from models.core import ROLES
from app.records.registry import SUBJECT
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


class _Samples(dict):
    """A sample record of a type, made when a test first asks for it (each test needs one or two)."""

    def __init__(self, center, db):
        super().__init__()
        self.center, self.db = center, db

    def __missing__(self, key):
        record = self[key] = sample_record(REGISTRY[key], self.center)
        self.db.session.commit()
        return record


@pytest.fixture
def records(county, db):
    return _Samples(county["a"], db)


def _granted(rtype, action, state, roles, as_subject) -> bool:
    """What the declaration says: the state's rights (the type's permissions where the state says nothing)
    for these roles, or for the record's subject."""
    if as_subject and rtype.withheld_from and rtype.withheld_from == rtype.subject:
        return False   # withheld from the person it is about, whatever their roles (a complaint)
    allowed = rtype.rights_in(state).get(action, frozenset())
    return bool(allowed & roles) or (as_subject and SUBJECT in allowed)


# A type with a subject is tried twice: on a colleague's record and on the signed-in user's own.
SUBJECT_CASES = [pytest.param(key, as_subject, id=f"{key}-{'own' if as_subject else 'other'}")
                 for key in TYPE_KEYS for as_subject in ((False, True) if REGISTRY[key].subject else (False,))]


@pytest.mark.parametrize("key,as_subject", SUBJECT_CASES)
@pytest.mark.parametrize("role", CENTER_ROLES)
def test_role_in_own_centre_gets_exactly_what_the_declaration_allows(client, auth, county, records, key, role,
                                                                     as_subject, db):
    rtype, record = REGISTRY[key], records[key]
    user = county["users"][f"a_{role}"]
    if rtype.subject:  # the record is about the signed-in user, or about a colleague
        other = county["users"]["a_agent" if role != "agent" else "a_clerk"]
        setattr(record, rtype.subject, user.id if as_subject else other.id)
        db.session.commit()
    auth.login(f"a_{role}")
    roles = frozenset({role})
    state = getattr(record, "state", None)
    readable = _granted(rtype, "read", state, roles, as_subject)
    for action, url in PAGES.items():
        response = client.get(url.format(key=key, id=record.id))
        if action == "export":
            expected = (200,) if rtype.allows("export", roles) else (403, 404)
        elif _granted(rtype, action, state, roles, as_subject) and readable:
            expected = (200,)
        elif not readable:
            expected = (404,)
        elif not any(_granted(rtype, action, s, roles, as_subject) for s in rtype.states()):
            expected = (403,)                 # never theirs to do
        elif not rtype.anyone_may(action, state):
            expected = (409,)                 # nobody may in this state
        else:
            expected = (403,)
        assert response.status_code in expected, (key, role, as_subject, action, response.status_code)
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
    assert export.status_code in (200, 403), (key, role, export.status_code)
    if export.status_code == 200:  # the workbook is read: another centre's record must not be in it
        import io

        from openpyxl import load_workbook
        number = next((f.name for f in rtype.list_fields if f.name == "number" or f.name.endswith("_no")), None)
        identity = getattr(record, number) if number else record.id  # what the export's first column shows
        rows = list(load_workbook(io.BytesIO(export.data), read_only=True).worksheets[0].iter_rows(values_only=True))
        assert rows and rows[0], (key, role, "no header row: not the export workbook")
        assert identity not in [row[0] for row in rows[1:]], (key, role, identity)
        assert rows[1:] == [], (key, role, rows[1:])  # centre B has no record of any type: nothing to list


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
