"""What awaits me (待我处理): managers see approvals and exceptions first, clerks their own cases;
filtered in SQL before it is paged, so nothing of mine is ever cut by other people's rows."""
from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import event

from app.cases import start_clock
from app.access import forget_roles
from app.records import worklist
from models.case import CaseExtension, CaseHandover, ServiceCase
from tests.conftest import make_case, make_department, make_matter, make_user


@pytest.fixture
def matter(county, db):
    dept = make_department(county["a"], "县民政局")
    m = make_matter(county["a"], name="临时救助申请", promised=5, department_id=dept.id)
    db.session.commit()
    return m


@pytest.fixture
def other_clerk(county, db):
    user = make_user(county["a"], "clerk", username="other_clerk")
    db.session.commit()
    return user


def accepted(county, matter, responsible, **kw) -> ServiceCase:
    case = make_case(county["a"], matter, state="accepted", intake=date(2026, 11, 16),
                     responsible=responsible, created_by_id=responsible.id, **kw)
    start_clock(case, date(2026, 11, 16))
    return case


def extension(case: ServiceCase, by) -> CaseExtension:
    from app.extensions import db
    ext = CaseExtension(center_id=case.center_id, case_id=case.id, requested_on=date(2026, 11, 18),
                        reason="需现场勘察", new_due=date(2026, 11, 30), applicant_notified_on=date(2026, 11, 18),
                        state="requested", created_by_id=by.id)
    db.session.add(ext)
    db.session.flush()
    return ext


def worklist_section(html: str) -> str:
    start = html.index('id="worklist"')
    return html[start:html.index("</section>", start)]


def records_of(wl, key: str | None = None) -> list:
    items = wl.group(key).items if key else list(wl)
    return [item.record for item in items]


def test_director_sees_the_extension_to_approve_first(client, auth, county, matter, other_clerk, db):
    clerk = county["users"]["a_clerk"]
    for n in range(30):  # a busy morning: many cases of the clerks, none of them late
        make_case(county["a"], matter, responsible=clerk if n % 2 else other_clerk)
    ext = extension(accepted(county, matter, clerk), by=clerk)
    db.session.commit()
    director = county["users"]["a_director"]
    wl = worklist.for_user(director)
    assert records_of(wl)[0] is ext
    assert [g.key for g in wl.groups] == ["approvals", "exceptions", "mine"]
    assert records_of(wl, "approvals") == [ext] and wl.group("approvals").count == 1
    assert [t.name for t in wl.group("approvals").items[0].transitions] == ["approve", "reject"]
    auth.login("a_director")
    section = worklist_section(client.get("/").get_data(as_text=True))
    assert section.index('href="/r/') == section.index(f'href="/r/case-extensions/{ext.id}"')  # the first row
    assert f"/r/case-extensions/{ext.id}/t/approve" in section
    assert "待我审批" in section and section.index("待我审批") < section.index(f"/r/case-extensions/{ext.id}")
    # The clerk who asked may not approve it: not in their worklist.
    assert ext not in records_of(worklist.for_user(clerk))


def test_director_does_not_see_clerk_steps_on_other_peoples_ordinary_cases(client, auth, county, matter, other_clerk,
                                                                           db):
    dept = matter.department_id
    registered = make_case(county["a"], matter, responsible=other_clerk)
    running = accepted(county, matter, other_clerk)
    leg = CaseHandover(center_id=county["a"].id, case_id=running.id, department_id=dept, handed_on=date(2026, 11, 16),
                       state="handed", created_by_id=other_clerk.id)
    db.session.add(leg)
    director = county["users"]["a_director"]
    own = make_case(county["a"], matter, responsible=director)  # one the director registered and owns
    db.session.commit()
    for manager in ("a_director", "a_deputy", "a_leader"):
        shown = records_of(worklist.for_user(county["users"][manager]))
        assert registered not in shown and running not in shown and leg not in shown, manager
    assert records_of(worklist.for_user(director), "mine") == [own]
    auth.login("a_director")
    html = client.get("/worklist").get_data(as_text=True)
    assert f"/r/cases/{registered.id}\"" not in html and f"/r/case-handovers/{leg.id}\"" not in html
    # The case itself stays open to the director (a manager may still handle it from its page).
    assert client.get(f"/r/cases/{running.id}").status_code == 200


def test_director_sees_overdue_cases_of_the_centre(client, auth, county, matter, other_clerk, db):
    overdue = accepted(county, matter, other_clerk, overdue=True, overdue_reason="past_due")
    warned = accepted(county, matter, other_clerk, warned=True)
    not_handed = accepted(county, matter, other_clerk, handover_late=True)
    ordinary = accepted(county, matter, other_clerk)
    elsewhere_matter = make_matter(county["b"], name="别处事项")
    elsewhere = make_case(county["b"], elsewhere_matter, state="accepted", overdue=True,
                          responsible=county["users"]["b_clerk"])
    db.session.commit()
    for manager in ("a_director", "a_deputy", "a_leader"):
        wl = worklist.for_user(county["users"][manager])
        assert set(records_of(wl)) == {overdue, warned, not_handed}, manager
        assert set(records_of(wl, "exceptions")) == {overdue, warned, not_handed}, manager
        assert wl.group("exceptions").count == 3
    auth.login("a_director")
    html = client.get("/").get_data(as_text=True)
    assert all(f"/r/cases/{c.id}\"" in html for c in (overdue, warned, not_handed))
    assert f"/r/cases/{ordinary.id}\"" not in html


def test_clerk_sees_only_their_own_cases(client, auth, county, matter, other_clerk, db):
    clerk = county["users"]["a_clerk"]
    mine = [make_case(county["a"], matter, responsible=clerk), accepted(county, matter, clerk, overdue=True)]
    theirs = [make_case(county["a"], matter, responsible=other_clerk),
              accepted(county, matter, other_clerk, overdue=True, overdue_reason="past_due")]
    my_leg = CaseHandover(center_id=county["a"].id, case_id=mine[1].id, department_id=matter.department_id,
                          handed_on=date(2026, 11, 16), state="handed", created_by_id=clerk.id)
    their_leg = CaseHandover(center_id=county["a"].id, case_id=theirs[1].id, department_id=matter.department_id,
                             handed_on=date(2026, 11, 16), state="handed", created_by_id=other_clerk.id)
    db.session.add_all([my_leg, their_leg])
    ext = extension(theirs[1], by=other_clerk)
    db.session.commit()
    wl = worklist.for_user(clerk)
    shown = records_of(wl)
    assert set(shown) == {*mine, my_leg}
    assert not set(theirs) & set(shown) and their_leg not in shown and ext not in shown
    assert records_of(wl, "mine")[0] == mine[1]  # their own overdue case leads their list
    assert wl.group("approvals").count == 0 and wl.group("exceptions").count == 0 and wl.group("mine").count == 3
    assert not set(theirs) & set(shown) and their_leg not in shown and ext not in shown
    auth.login("a_clerk")
    html = client.get("/").get_data(as_text=True)
    assert f"/r/cases/{mine[0].id}\"" in html and f"/r/cases/{theirs[0].id}\"" not in html


def test_clerks_own_case_is_never_cut_by_older_cases(client, auth, county, matter, other_clerk, db):
    for _ in range(200):
        make_case(county["a"], matter, responsible=other_clerk)
    clerk = county["users"]["a_clerk"]
    own = make_case(county["a"], matter, responsible=clerk)
    db.session.commit()
    wl = worklist.for_user(clerk, limit=50)
    assert records_of(wl) == [own]
    assert wl.group("mine").count == 1
    other = worklist.for_user(other_clerk, limit=50)
    assert len(other.group("mine").items) == 50 and other.group("mine").count == 200  # paged, counted in full
    auth.login("a_clerk")
    assert f"/r/cases/{own.id}\"" in client.get("/").get_data(as_text=True)


def count_statements(db, action) -> int:
    statements = []

    def count(conn, cursor, statement, parameters, context, executemany):
        if not statement.lstrip().upper().startswith(("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE")):
            statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        action()
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    return len(statements)


def test_worklist_runs_a_bounded_number_of_queries(client, auth, county, matter, other_clerk, db):
    director, clerk = county["users"]["a_director"], county["users"]["a_clerk"]

    def add_rows(n: int) -> None:
        for _ in range(n):
            overdue = accepted(county, matter, other_clerk, overdue=True, overdue_reason="past_due")
            extension(overdue, by=other_clerk)
            mine = accepted(county, matter, clerk)
            db.session.add(CaseHandover(center_id=county["a"].id, case_id=mine.id, department_id=matter.department_id,
                                        handed_on=date(2026, 11, 16), state="handed", created_by_id=clerk.id))
            make_case(county["a"], matter, responsible=director)
        db.session.commit()

    def measure(user) -> int:
        def run():
            db.session.expire_all()
            forget_roles()  # as in a fresh request
            for item in worklist.for_user(user):  # what a row shows: the record, its state, its steps
                str(item.record), item.rtype.flags and item.rtype.flags(item.record)
                [t.name for t in item.transitions]
        return count_statements(db, run)

    def home_page(username) -> int:
        auth.login(username)
        try:
            return count_statements(db, lambda: client.get("/"))
        finally:
            auth.logout()

    add_rows(2)
    assert worklist.for_user(director).group("approvals").count == 2
    few = (measure(director), measure(clerk), home_page("a_director"), home_page("a_clerk"))
    add_rows(20)
    many = (measure(director), measure(clerk), home_page("a_director"), home_page("a_clerk"))
    assert len(worklist.for_user(director).group("approvals").items) == 22
    assert len(worklist.for_user(clerk)) == 44
    assert many[:2] == few[:2]
    add_rows(20)  # the home page shows the first rows of each group: past that, nothing grows
    more = (home_page("a_director"), home_page("a_clerk"))
    assert more == many[2:] and all(m <= f + 1 for m, f in zip(many[2:], few[2:]))
    # The user, their grants, centre and covers, then per record type with a workflow a count and the page's
    # rows: whatever the number of rows.
    from app.records import REGISTRY
    types = sum(1 for t in REGISTRY.values() if t.workflow is not None)
    assert few[0] <= 4 + 2 * types and few[1] <= 4 + 2 * types
