"""Trust fixes (issue 12, items 7 and 10): ID numbers on edit forms, who may edit a case, and the loser of a
simultaneous step told it was handled by someone else."""
from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import text

from app.cases import start_clock
from models.case import ServiceCase
from tests.conftest import make_case, make_user
from tests.test_cases import intake, matter, the_case  # noqa: F401  (the same fixture)

pytestmark = pytest.mark.usefixtures("calendar_2026")

ID_NO = "11010519491231002X"
MASKED = "110105********002X"
OTHER_ID_NO = "110105198001010016"  # a valid check digit too


def edit_data(case, matter, **changes):
    """The edit form of an intake as submitted by the browser."""
    data = {"applicant_name": case.applicant_name, "applicant_phone": case.applicant_phone, "applicant_id_no": "",
            "matter_id": matter.id, "window_id": matter.window_id, "kind": case.kind, "channel": case.channel,
            "intake_date": case.intake_date.isoformat(), "form_version": case.version}
    for i, m in enumerate(case.materials):
        data.update({f"materials-{i}-row_id": m.id, f"materials-{i}-received": "y" if m.received else "",
                     f"materials-{i}-name": m.name, f"materials-{i}-form": m.form,
                     f"materials-{i}-copies": m.copies, f"materials-{i}-note": m.note or ""})
    data.update(changes)
    return {k: v for k, v in data.items() if v != "" or not k.endswith("-received")}  # an unticked box is not sent


# ------------------------------------------------------------------ item 7: ID numbers on edit forms

def test_edit_form_never_shows_the_full_id_number_to_a_clerk(client, auth, county, matter, db):
    auth.login("a_clerk")
    assert intake(client, matter).status_code == 302
    case = the_case(db)
    assert case.applicant_id_no == ID_NO
    page = client.get(f"/r/cases/{case.id}/edit").get_data(as_text=True)
    assert ID_NO not in page  # not even on the clerk's own case
    assert f'placeholder="{MASKED}"' in page
    # A manager, who may see the number and may act on the case, gets it to edit.
    auth.logout()
    auth.login("a_director")
    assert ID_NO in client.get(f"/r/cases/{case.id}/edit").get_data(as_text=True)


def test_leaving_the_id_number_empty_on_edit_keeps_it(client, auth, county, matter, db):
    auth.login("a_clerk")
    intake(client, matter)
    case = the_case(db)
    response = client.post(f"/r/cases/{case.id}/edit", data=edit_data(case, matter, applicant_name="李四改"))
    assert response.status_code == 302
    case = the_case(db)
    assert (case.applicant_name, case.applicant_id_no) == ("李四改", ID_NO)


def test_retyping_the_id_number_replaces_it(client, auth, county, matter, db):
    auth.login("a_clerk")
    intake(client, matter)
    case = the_case(db)
    # Checked as today: the mask itself, or a wrong check digit, is refused and changes nothing.
    for wrong in (MASKED, "110105194912310022"):
        response = client.post(f"/r/cases/{case.id}/edit", data=edit_data(case, matter, applicant_id_no=wrong))
        assert response.status_code == 200
        page = response.get_data(as_text=True)
        assert ID_NO not in page and f'placeholder="{MASKED}"' in page
        assert the_case(db).applicant_id_no == ID_NO
    case = the_case(db)
    response = client.post(f"/r/cases/{case.id}/edit", data=edit_data(case, matter, applicant_id_no=OTHER_ID_NO))
    assert response.status_code == 302
    assert the_case(db).applicant_id_no == OTHER_ID_NO


# ------------------------------------------------------------------ item 10: who may edit a case

def test_a_clerk_cannot_edit_another_clerks_case(client, auth, county, matter, db):
    make_user(county["a"], "clerk", username="a_clerk2")
    db.session.commit()
    auth.login("a_clerk")
    intake(client, matter)
    case = the_case(db)
    assert f"/r/cases/{case.id}/edit" in client.get(f"/r/cases/{case.id}").get_data(as_text=True)
    auth.logout()
    auth.login("a_clerk2")
    assert f"/r/cases/{case.id}/edit" not in client.get(f"/r/cases/{case.id}").get_data(as_text=True)
    assert client.get(f"/r/cases/{case.id}/edit").status_code == 403
    response = client.post(f"/r/cases/{case.id}/edit", data=edit_data(case, matter, applicant_name="别人改的"))
    assert response.status_code == 403
    assert the_case(db).applicant_name == "李四"
    # A manager of the centre still may.
    auth.logout()
    auth.login("a_director")
    case = the_case(db)
    assert client.get(f"/r/cases/{case.id}/edit").status_code == 200
    response = client.post(f"/r/cases/{case.id}/edit", data=edit_data(case, matter, applicant_name="主任改的"))
    assert response.status_code == 302
    assert the_case(db).applicant_name == "主任改的"


# ------------------------------------------------------------------ item 10: two people, one step

def test_the_loser_of_a_simultaneous_step_is_told_it_was_handled_by_someone_else(app, county, matter, db):
    """Two clerks opened the same step on an unowned case; the first one's work made the case theirs
    (and bumped its version) before the second submitted: the second is told, not refused with a 403."""
    clerk2 = make_user(county["a"], "clerk", username="a_clerk2")
    case = make_case(county["a"], matter, state="accepted", intake=date(2026, 11, 16))
    start_clock(case, date(2026, 11, 16))
    db.session.commit()
    loser = app.test_client()
    loser.post("/login", data={"username": clerk2.username, "password": "secret-pass-1"})
    version = case.version
    assert "completed_on" in loser.get(f"/r/cases/{case.id}/t/complete").get_data(as_text=True)
    # Meanwhile a_clerk handles it: the case is theirs now, at a newer version.
    db.session.execute(text("UPDATE service_case SET responsible_id = :u, version = version + 1 WHERE id = :id"),
                       {"u": county["users"]["a_clerk"].id, "id": case.id})
    db.session.commit()
    late = loser.post(f"/r/cases/{case.id}/t/complete",
                      data={"completed_on": "2026-11-18", "result": "办结", "form_version": version})
    assert late.status_code == 302 and late.headers["Location"] == f"/r/cases/{case.id}"
    page = loser.get(late.headers["Location"]).get_data(as_text=True)
    assert "已被他人处理" in page
    db.session.expire_all()
    assert db.session.get(ServiceCase, case.id).state == "accepted"
