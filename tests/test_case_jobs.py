"""The case jobs: set-based flags, then one notification per event to the clerk and the director."""
from __future__ import annotations

from datetime import date, datetime

import pytest
from sqlalchemy import func, select

from app.cases import start_clock
from jobs import job
from jobs.case_jobs import case_deadlines, case_warnings
from models.case import CaseHandover, ServiceCase
from models.notification import Notification
from tests.conftest import make_case, make_department, make_matter

pytestmark = pytest.mark.usefixtures("calendar_2026")


@pytest.fixture
def matter(county, db):
    dept = make_department(county["a"], "县民政局")
    m = make_matter(county["a"], name="临时救助申请", promised=5, department_id=dept.id)
    db.session.commit()
    return m


def notes(db, user) -> list[tuple[str, str]]:
    return db.session.execute(select(Notification.title, Notification.body)
                              .where(Notification.user_id == user.id).order_by(Notification.id)).all()


def accepted(county, matter, db, clock: date, **kw) -> ServiceCase:
    case = make_case(county["a"], matter, state="accepted", intake=clock, responsible=county["users"]["a_clerk"], **kw)
    start_clock(case, clock)
    db.session.commit()
    return case


def test_case_jobs_are_registered():
    assert job("case_deadlines").func == "jobs.case_jobs:case_deadlines"
    assert job("case_warnings").func == "jobs.case_jobs:case_warnings" and job("case_warnings").reminder


def test_overdue_case_is_told_to_the_clerk_and_the_director_once(county, matter, db):
    case = accepted(county, matter, db, date(2026, 11, 2), receipt_no="2026-000321")  # due 11-06
    make_case(county["b"], make_matter(county["b"]), state="accepted")  # another centre: not told to A
    db.session.commit()
    # A handover leg exists, so the only event is the overdue case.
    db.session.add(CaseHandover(center_id=case.center_id, case_id=case.id, department_id=matter.department_id,
                                handed_on=date(2026, 11, 2), state="returned", returned_on=date(2026, 11, 5)))
    db.session.commit()
    assert case_deadlines(datetime(2026, 11, 9, 8, 5)).startswith("1 overdue")
    clerk, director = county["users"]["a_clerk"], county["users"]["a_director"]
    assert notes(db, clerk) == notes(db, director) == [("办件已超期", "2026-000321 张三")]
    assert county["users"]["b_director"].id not in db.session.scalars(select(Notification.user_id)).all()
    assert case_deadlines(datetime(2026, 11, 9, 13, 5)).endswith("0 notifications")  # a second run tells nobody
    assert db.session.scalar(select(func.count(Notification.id))) == 2


def test_warning_is_told_once_and_again_for_a_moved_promise(county, matter, db):
    from app.cases import add_applicant_delay
    case = accepted(county, matter, db, date(2026, 11, 16))  # due Friday 11-20
    assert case_warnings(datetime(2026, 11, 18, 9)) == "0 warned, 0 notifications"
    assert case_warnings(datetime(2026, 11, 19, 9)) == "1 warned, 2 notifications"
    assert case_warnings(datetime(2026, 11, 19, 9)) == "0 warned, 0 notifications"
    db.session.expire_all()
    case = db.session.get(ServiceCase, case.id)
    add_applicant_delay(case, 2)  # now due Tuesday 11-24: a new warning on Monday 11-23
    db.session.commit()
    assert case_warnings(datetime(2026, 11, 20, 9)) == "0 warned, 0 notifications"
    assert case_warnings(datetime(2026, 11, 23, 9)) == "1 warned, 2 notifications"
    assert len(notes(db, county["users"]["a_clerk"])) == 2


def test_handover_not_made_and_department_leg_late_are_told(county, matter, db):
    not_handed = accepted(county, matter, db, date(2026, 11, 16))
    with_department = accepted(county, matter, db, date(2026, 11, 9))  # due 11-13
    db.session.add(CaseHandover(center_id=with_department.center_id, case_id=with_department.id,
                                department_id=matter.department_id, handed_on=date(2026, 11, 9), state="handed"))
    db.session.commit()
    summary = case_deadlines(datetime(2026, 11, 18, 8, 5))
    assert "1 not handed over, 1 late department legs" in summary
    db.session.expire_all()
    assert db.session.get(ServiceCase, not_handed.id).handover_late
    assert db.session.scalar(select(CaseHandover.late))
    titles = {t for t, _b in notes(db, county["users"]["a_director"])}
    assert titles == {"办件已超期", "办件未在次一个工作日内移交职能部门", "职能部门办理超过承诺时限"}


def test_department_leg_returned_after_the_promise_is_late(client, auth, county, matter, db):
    from tests.test_cases import step
    case = accepted(county, matter, db, date(2026, 11, 9))  # due 11-13
    leg = CaseHandover(center_id=case.center_id, case_id=case.id, department_id=matter.department_id,
                       handed_on=date(2026, 11, 9), state="handed", created_by_id=county["users"]["a_clerk"].id)
    db.session.add(leg)
    db.session.commit()
    auth.login("a_clerk")
    assert step(client, db, "case-handovers", leg.id, "return", returned_on="2026-11-16").status_code == 302
    db.session.expire_all()
    assert db.session.get(CaseHandover, leg.id).late


def test_demo_cases_look_like_a_real_week(db):
    from app.demo import build_demo
    from models.case import CaseExtension
    build_demo()
    db.session.commit()
    cases = db.session.scalars(select(ServiceCase)).all()
    assert len(cases) >= 30
    assert sum(c.overdue for c in cases) >= 2 and sum(c.warned and not c.overdue for c in cases) >= 2
    assert any(c.handover_late for c in cases)
    assert {"consult", "immediate", "promised", "joint"} <= {c.kind for c in cases}
    assert {"waiting_applicant", "reported", "refused", "transferred"} <= {c.state for c in cases}
    assert {e.state for e in db.session.scalars(select(CaseExtension))} == {"approved", "requested"}
    assert any(not m.received for c in cases if c.state == "awaiting_supplement" for m in c.materials)
