"""Intake (首问登记) at the counter: one matter drives the list, window and kind; the usual case is
registered and accepted (or finished on the spot) in one step, and nothing is saved half-way."""
from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from app.timeutil import today
from models.case import ServiceCase
from tests.conftest import make_department, make_matter, make_window
from tests.test_cases import intake, the_case

pytestmark = pytest.mark.usefixtures("calendar_2026")


@pytest.fixture
def matters(county, db):
    dept = make_department(county["a"], "县民政局")
    relief_window = make_window(county["a"], 5, "民政救助")
    other_window = make_window(county["a"], 6, "劳动保障")
    relief = make_matter(county["a"], name="临时救助申请", statutory=15, promised=5, window_id=relief_window.id,
                         department_id=dept.id,
                         materials=(("居民身份证", "copy", 1), ("临时救助申请书", "original", 1)))
    pension = make_matter(county["a"], name="城乡居民养老保险参保登记", statutory=20, promised=5,
                          window_id=other_window.id, materials=(("户口簿", "copy", 1),))
    spot = make_matter(county["a"], name="老年人优待证办理", statutory=5, promised=1, kind="immediate",
                       window_id=relief_window.id, materials=(("居民身份证", "copy", 1),))
    db.session.commit()
    return {"relief": relief, "pension": pension, "spot": spot}


def form_data(matter, received=(), **extra):
    data = {"applicant_name": "李四", "applicant_phone": "13812345678", "applicant_id_no": "",
            "matter_id": matter.id, "window_id": matter.window_id, "kind": "promised", "channel": "window",
            "intake_date": today().isoformat(), "form_token": extra.pop("token", "tok"),
            "materials_for": matter.id}
    for i, m in enumerate(matter.materials):
        data.update({f"materials-{i}-name": m.name, f"materials-{i}-form": m.form, f"materials-{i}-copies": "1"})
        if m.name in received:
            data[f"materials-{i}-received"] = "y"
    data.update(extra)
    return data


def count(db) -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count(ServiceCase.id)))


def test_a_materials_list_loaded_for_another_matter_is_refused(client, auth, matters, db):
    auth.login("a_clerk")
    data = form_data(matters["relief"], received=("居民身份证",), materials_for=matters["pension"].id)
    response = client.post("/r/cases/new", data=data)
    assert response.status_code == 200 and count(db) == 0
    assert "材料清单属于另一事项" in response.get_data(as_text=True)


def test_a_window_other_than_the_matters_is_refused(client, auth, matters, db):
    auth.login("a_clerk")
    data = form_data(matters["relief"], window_id=matters["pension"].window_id)
    response = client.post("/r/cases/new", data=data)
    assert response.status_code == 200 and count(db) == 0
    assert "5号 民政救助" in response.get_data(as_text=True)


def test_a_kind_the_matter_does_not_allow_is_refused(client, auth, matters, db):
    auth.login("a_clerk")
    response = client.post("/r/cases/new", data=form_data(matters["spot"], kind="promised"))
    assert response.status_code == 200 and count(db) == 0


def test_the_matter_of_a_registered_case_cannot_be_changed(client, auth, matters, db):
    auth.login("a_clerk")
    assert client.post("/r/cases/new", data=form_data(matters["relief"])).status_code == 302
    case = the_case(db)
    data = form_data(matters["pension"], token="", form_version=case.version)
    data.pop("materials_for")
    response = client.post(f"/r/cases/{case.id}/edit", data=data)
    assert response.status_code == 200 and the_case(db).matter_id == matters["relief"].id


def test_a_complete_promised_case_is_registered_and_accepted_in_one_step(client, auth, matters, db):
    auth.login("a_clerk")
    response = client.post("/r/cases/new", data=form_data(matters["relief"], all_received="1", then="accept"))
    assert response.status_code == 302
    case = the_case(db)
    assert case.state == "accepted" and case.due_date is not None
    assert all(m.received for m in case.materials)


def test_register_and_accept_with_a_material_missing_saves_nothing(client, auth, matters, db):
    auth.login("a_clerk")
    response = client.post("/r/cases/new", data=form_data(matters["relief"], received=("居民身份证",), then="accept"))
    assert response.status_code == 200 and count(db) == 0
    assert "临时救助申请书" in response.get_data(as_text=True)


def test_an_on_the_spot_case_is_registered_finished_and_delivered_in_one_step(client, auth, matters, db):
    auth.login("a_clerk")
    data = form_data(matters["spot"], all_received="1", kind="immediate", then="done", result="当场发放优待证")
    assert client.post("/r/cases/new", data=data).status_code == 302
    case = the_case(db)
    assert (case.state, case.completed_on, case.delivered_on, case.overdue) == (
        "delivered", today(), today(), False)


def test_typing_part_of_a_name_that_matches_one_matter_loads_its_list(client, auth, matters, db):
    auth.login("a_clerk")
    html = client.get("/r/cases/new?mq=养老").get_data(as_text=True)
    assert 'name="materials_for" value="%d"' % matters["pension"].id in html and "户口簿" in html


def test_the_picker_groups_matters_by_window(client, auth, matters, db):
    auth.login("a_clerk")
    html = client.get("/r/cases/new").get_data(as_text=True)
    assert '<optgroup label="5号 民政救助">' in html and '<optgroup label="6号 劳动保障">' in html


def test_the_handover_form_preselects_the_matters_department(client, auth, county, matters, db):
    auth.login("a_clerk")
    client.post("/r/cases/new", data=form_data(matters["relief"], all_received="1", then="accept"))
    case = the_case(db)
    html = client.get(f"/r/case-handovers/new?case_id={case.id}").get_data(as_text=True)
    dept = matters["relief"].department_id
    assert f'<option selected value="{dept}">' in html or f'value="{dept}" selected' in html


def test_a_referral_records_what_the_applicant_asked_for_in_words(client, auth, matters, db):
    from tests.test_cases import step
    from tests.test_printouts import pdftotext
    auth.login("a_clerk")
    client.post("/r/cases/new", data=form_data(matters["relief"], kind="consult"))
    case = the_case(db)
    refused = step(client, db, "cases", case.id, "transfer", transfer_office="县不动产登记中心",
                   transfer_phone="0737-4211024")
    assert refused.status_code == 200 and the_case(db).state == "registered"  # what was asked for is required
    done = step(client, db, "cases", case.id, "transfer", request_text="办理房屋产权过户",
                transfer_office="县不动产登记中心", transfer_phone="0737-4211024")
    assert done.status_code == 302 and the_case(db).state == "transferred"
    html = client.get(f"/r/cases/{case.id}/print/transfer").get_data(as_text=True)
    assert "办理房屋产权过户" in html and "临时救助申请" not in html


def test_control_characters_typed_into_a_name_are_dropped(client, auth, matters, db):
    auth.login("a_clerk")
    data = form_data(matters["relief"], applicant_name="李\x00四\x0b", all_received="1")
    assert client.post("/r/cases/new", data=data).status_code == 302
    assert the_case(db).applicant_name == "李四"


def test_a_free_text_longer_than_a_paper_box_is_refused_beside_the_field(client, auth, county, matters, db):
    from tests.test_cases import step
    auth.login("a_clerk")
    client.post("/r/cases/new", data=form_data(matters["relief"], all_received="1", then="accept"))
    case = the_case(db)
    response = client.post(f"/r/case-extensions/new?case_id={case.id}", data={
        "case_id": case.id, "reason": "核" * 250_000, "requested_on": today().isoformat(),
        "new_due": "2026-12-31", "form_token": "long"})
    assert response.status_code in (200, 413)
    db.session.expire_all()
    from models.case import CaseExtension
    assert db.session.scalar(select(func.count(CaseExtension.id))) == 0


def test_a_request_body_over_two_megabytes_is_refused_with_a_chinese_page(client, auth, matters):
    auth.login("a_clerk")
    response = client.post("/r/cases/new", data={"applicant_name": "李" * 3_000_000})
    assert response.status_code == 413 and "提交的内容过大" in response.get_data(as_text=True)
