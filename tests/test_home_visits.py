"""Home visits (上门服务) for the elderly, sick and disabled [SPEC §4.6]: requested, assigned by a manager,
visited by the person sent (who finds it in their worklist), the case taken at the door linked."""
from __future__ import annotations

from datetime import date

import pytest

from app.home_visits import HOME_VISITS
from app.records import operations, worklist
from app.records.registry import Refused
from tests.conftest import make_case


@pytest.fixture
def visit(county, db, on_day):
    on_day(date(2026, 12, 2))
    users = county["users"]
    record = operations.create(HOME_VISITS, users["a_clerk"], {
        "applicant_name": "张大爷", "phone": "13900001111", "address": "东风村3组", "group": "elderly",
        "need": "高龄津贴申请", "requested_on": date(2026, 12, 2)}, center_id=county["a"].id)
    db.session.commit()
    return record


def test_a_home_visit_needs_a_matter_or_what_to_do(county, db):
    with pytest.raises(operations.Invalid) as refused:
        operations.create(HOME_VISITS, county["users"]["a_clerk"], {
            "applicant_name": "李奶奶", "phone": "13900001111", "address": "西村", "group": "disabled",
            "requested_on": date(2026, 12, 2)}, center_id=county["a"].id)
    assert "写明需要办理什么" in refused.value.errors["need"]


def test_a_manager_assigns_and_the_person_sent_finds_it_in_their_worklist(county, db, visit):
    users = county["users"]
    with pytest.raises(Refused):
        operations.transition(HOME_VISITS, visit, "assign", users["a_clerk"], {"staff_id": users["a_agent"].id})
    operations.transition(HOME_VISITS, visit, "assign", users["a_deputy"], {"staff_id": users["a_agent"].id})
    db.session.commit()
    assert visit.id in {i.record.id for i in worklist.for_user(users["a_agent"]) if i.rtype is HOME_VISITS}


def test_only_the_person_sent_or_a_manager_records_the_visit_and_links_the_case(county, db, visit):
    users = county["users"]
    operations.transition(HOME_VISITS, visit, "assign", users["a_deputy"], {"staff_id": users["a_agent"].id})
    case = make_case(county["a"], receipt_no="2026-000777")
    db.session.commit()
    values = {"visited_on": date(2026, 12, 2), "visit_result": "上门受理高龄津贴申请", "case_no": "2026-000777"}
    with pytest.raises(Refused):
        operations.transition(HOME_VISITS, visit, "record_visit", users["a_clerk"], values)
    with pytest.raises(Refused) as future:
        operations.transition(HOME_VISITS, visit, "record_visit", users["a_agent"],
                              {**values, "visited_on": date(2026, 12, 3)})
    assert future.value.field == "visited_on"
    db.session.rollback()
    visit = db.session.get(type(visit), visit.id)
    operations.transition(HOME_VISITS, visit, "record_visit", users["a_agent"], values)
    assert (visit.state, visit.case_id) == ("visited", case.id)


def test_another_centre_cannot_read_a_home_visit(county, db, visit, client, auth):
    auth.login("b_director")
    assert client.get(f"/r/home-visits/{visit.id}").status_code == 404
