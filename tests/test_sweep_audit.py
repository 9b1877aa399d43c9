"""The set-based sweeps leave an audit trail: one row per record and field they flag, written by the
system in the same transaction, in one INSERT whatever the number of cases, and shown in words."""
from __future__ import annotations

import re
from contextlib import contextmanager
from datetime import date, datetime
from html import unescape

import pytest
from sqlalchemy import event, func, select

from app.cases import start_clock, sweep_department_legs, sweep_handovers, sweep_overdue, sweep_warnings
from jobs.case_jobs import case_deadlines, case_warnings
from models.case import CaseHandover, ServiceCase
from models.core import AuditEntry
from tests.conftest import make_case, make_department, make_matter

pytestmark = pytest.mark.usefixtures("calendar_2026")


@pytest.fixture
def matter(county, db):
    dept = make_department(county["a"], "县民政局")
    m = make_matter(county["a"], name="临时救助申请", promised=5, department_id=dept.id)
    db.session.commit()
    return m


def accepted(county, matter, db, clock: date, **kw) -> ServiceCase:
    case = make_case(county["a"], matter, state="accepted", intake=clock, responsible=county["users"]["a_clerk"], **kw)
    start_clock(case, clock)
    db.session.commit()
    return case


def leg(db, case: ServiceCase, handed_on: date, state: str = "handed") -> CaseHandover:
    row = CaseHandover(center_id=case.center_id, case_id=case.id, department_id=case.matter.department_id,
                       handed_on=handed_on, state=state)
    db.session.add(row)
    db.session.commit()
    return row


def history(client, url: str) -> list[list[str]]:
    """The rows of the record page's history table, as the cells' text."""
    page = client.get(url)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    table = html[html.index('<table class="list audit">'):]
    body = table[table.index("<tbody>"):table.index("</tbody>")]
    return [[unescape(re.sub(r"<[^>]+>", "", cell)).strip() for cell in re.findall(r"<td>(.*?)</td>", row, re.S)]
            for row in re.findall(r"<tr>(.*?)</tr>", body, re.S)]


def sweep_rows(db, table: str, record_id: int) -> list[tuple[str, str, str, str, int | None]]:
    return db.session.execute(select(AuditEntry.field, AuditEntry.before, AuditEntry.after, AuditEntry.action,
                                     AuditEntry.user_id)
                              .where(AuditEntry.record_table == table, AuditEntry.record_id == record_id,
                                     AuditEntry.action == "sweep").order_by(AuditEntry.id)).all()


def flagged_by_system(rows: list[list[str]], label: str) -> list[list[str]]:
    """History rows written by the system for the field labelled `label` (the What cell names it)."""
    return [r for r in rows if r[1] == "系统" and r[2].endswith(label)]


# ------------------------------------------------------------------ the trail on the record's page

def test_case_flagged_overdue_by_the_nightly_sweep_shows_the_flag_in_its_audit_trail(client, auth, county, matter, db):
    case = accepted(county, matter, db, date(2026, 11, 2))  # due Friday 11-06
    leg(db, case, date(2026, 11, 2), state="returned")       # handed over: only the overdue flag is new
    assert case_deadlines(datetime(2026, 11, 9, 0, 5)).startswith("1 overdue, 0 not handed over")
    assert sweep_rows(db, "service_case", case.id) == [("overdue", "False", "True", "sweep", None),
                                                       ("overdue_reason", "", "past_due", "sweep", None)]
    auth.login("a_director")
    rows = history(client, f"/r/cases/{case.id}")
    assert [r[3:5] for r in flagged_by_system(rows, "超期")] == [["否", "是"]]
    assert [r[3:5] for r in flagged_by_system(rows, "超期原因")] == [["", "超过承诺时限未办结"]]


def test_case_warned_by_the_sweep_shows_the_warning_in_its_audit_trail(client, auth, county, matter, db):
    case = accepted(county, matter, db, date(2026, 11, 16))  # due Friday 11-20
    assert case_warnings(datetime(2026, 11, 19, 9)).startswith("1 warned")
    assert sweep_rows(db, "service_case", case.id) == [("warned", "False", "True", "sweep", None)]
    auth.login("a_director")
    rows = history(client, f"/r/cases/{case.id}")
    assert [r[3:5] for r in flagged_by_system(rows, "明日到期")] == [["否", "是"]]


def test_case_not_handed_over_in_time_shows_the_flag_in_its_audit_trail(client, auth, county, matter, db):
    case = accepted(county, matter, db, date(2026, 11, 16))  # due 11-20; no handover by Tuesday 11-17
    assert "1 not handed over" in case_deadlines(datetime(2026, 11, 18, 8, 5))
    assert sweep_rows(db, "service_case", case.id) == [("handover_late", "False", "True", "sweep", None)]
    auth.login("a_director")
    rows = history(client, f"/r/cases/{case.id}")
    assert [r[3:5] for r in flagged_by_system(rows, "未按时移交部门")] == [["否", "是"]]


def test_department_leg_late_shows_the_flag_in_the_legs_audit_trail(client, auth, county, matter, db):
    case = accepted(county, matter, db, date(2026, 11, 9))  # due Friday 11-13
    out = leg(db, case, date(2026, 11, 9))
    assert "1 late department legs" in case_deadlines(datetime(2026, 11, 18, 8, 5))
    assert sweep_rows(db, "case_handover", out.id) == [("late", "False", "True", "sweep", None)]
    # The case itself is flagged overdue on its own trail; the leg's flag is not written there.
    assert [r[0] for r in sweep_rows(db, "service_case", case.id)] == ["overdue", "overdue_reason"]
    auth.login("a_director")
    rows = history(client, f"/r/case-handovers/{out.id}")
    assert [r[3:5] for r in flagged_by_system(rows, "超期")] == [["否", "是"]]


def test_a_second_sweep_writes_no_second_audit_row(county, matter, db):
    case = accepted(county, matter, db, date(2026, 11, 2))
    out = leg(db, case, date(2026, 11, 2))
    case_deadlines(datetime(2026, 11, 9, 0, 5))
    case_deadlines(datetime(2026, 11, 9, 8, 5))
    case_deadlines(datetime(2026, 11, 10, 13, 5))
    assert [r[0] for r in sweep_rows(db, "service_case", case.id)] == ["overdue", "overdue_reason"]
    assert [r[0] for r in sweep_rows(db, "case_handover", out.id)] == ["late"]


def test_sweeps_audit_exactly_the_records_they_flag_with_their_reasons(county, matter, db):
    running = accepted(county, matter, db, date(2026, 11, 2))                       # past_due
    done = accepted(county, matter, db, date(2026, 11, 2))
    done.state, done.completed_on = "completed", date(2026, 11, 5)                # not_delivered
    silent = make_case(county["a"], matter, intake=date(2026, 11, 5))              # no_reply
    calm = accepted(county, matter, db, date(2026, 11, 9))                          # due 11-13: nothing yet
    db.session.commit()
    assert len(sweep_overdue(date(2026, 11, 9))) == 3
    db.session.commit()
    reasons = dict(db.session.execute(select(AuditEntry.record_id, AuditEntry.after)
                                      .where(AuditEntry.action == "sweep", AuditEntry.field == "overdue_reason")).all())
    assert reasons == {running.id: "past_due", done.id: "not_delivered", silent.id: "no_reply"}
    assert sweep_rows(db, "service_case", calm.id) == []


# ------------------------------------------------------------------ set-based: statements do not grow with cases

@contextmanager
def counted(db):
    statements = []

    def count(_conn, _cursor, statement, _params, _context, _executemany):
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(db.engine, "before_cursor_execute", count)


def sweep_all(db, on: date) -> None:
    sweep_overdue(on), sweep_handovers(on), sweep_department_legs(on), sweep_warnings(on)
    db.session.commit()


def flag_candidates(county, matter, db, n: int) -> None:
    """n of each case a sweep on 2026-11-18 flags (the promise is 5 working days)."""
    for _ in range(n):
        late = accepted(county, matter, db, date(2026, 11, 9))     # due 11-13: overdue, and its leg late
        leg(db, late, date(2026, 11, 9))
        accepted(county, matter, db, date(2026, 11, 9))            # overdue and not handed over
        make_case(county["a"], matter, intake=date(2026, 11, 12))  # no reply by the next working day
        done = accepted(county, matter, db, date(2026, 11, 9))     # completed, never delivered
        done.state, done.completed_on = "completed", date(2026, 11, 12)
        soon = accepted(county, matter, db, date(2026, 11, 16))    # due tomorrow; not handed over
        soon.due_date = date(2026, 11, 19)
    db.session.commit()


def test_sweep_statements_do_not_grow_with_the_number_of_flagged_cases(county, matter, db):
    counts, on = [], date(2026, 11, 18)
    for n in (3, 30):  # the second round flags only the new cases: the first ones are flagged already
        flag_candidates(county, matter, db, n)
        before = db.session.scalar(select(func.count(AuditEntry.id)).where(AuditEntry.action == "sweep"))
        db.session.expire_all()
        with counted(db) as statements:
            sweep_all(db, on)
        written = db.session.scalar(select(func.count(AuditEntry.id)).where(AuditEntry.action == "sweep")) - before
        # Per group: 4 overdue cases (flag and reason), 1 leg late, 2 not handed over, 1 warned.
        assert written == n * (4 * 2 + 1 + 2 + 1)
        counts.append(len(statements))
    assert counts[0] == counts[1]
