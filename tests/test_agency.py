"""Assisted and agency service (帮办代办) [000 帮办代办制度 + 附件 帮办代办服务委托书; 003 4.2.2.4; SPEC §4.5]:
the client's ID, the workflow from entrustment to hand-back, termination under the five cases, one
entrustment per case, the elderly and disabled first, fees that are the client's, the two-copy contract,
and who may see what."""
from __future__ import annotations

import io
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from app import agency as ag
from app.records import operations
from models.agency import Entrustment
from tests.conftest import make_case, make_matter

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def id_number(born: str, region="430921", seq="123") -> str:
    """A valid 18-digit ID number for a birth date YYYYMMDD."""
    body = region + born + seq
    return body + "10X98765432"[sum(int(c) * w for c, w in zip(body, _WEIGHTS)) % 11]


OLD_ID = id_number("19500301")      # 76 in November 2026
YOUNG_ID = id_number("19900615")


@pytest.fixture
def hall(county, on_day):
    """Centre A on Monday 23 November 2026, with a matter of two materials."""
    on_day(date(2026, 11, 23))
    county["matter"] = make_matter(county["a"])
    return county


def entrust(hall, user=None, **values) -> Entrustment:
    user = user or hall["users"]["a_agent"]
    data = dict(entrusted_on=date(2026, 11, 23), client_name="李秀英", client_id_no=YOUNG_ID,
                client_phone="13912345678", priority_group="none", matter_id=hall["matter"].id,
                agent_id=hall["users"]["a_agent"].id, agent_phone="13800001111", free=True)
    data.update(values)
    return operations.create(ag.ENTRUSTMENTS, user, data, center_id=hall["a"].id)


def refused(db, step, *args, **kwargs):
    """A step refused (Refused or Invalid): nothing of it stays."""
    with pytest.raises((operations.Refused, operations.Invalid)) as caught:
        with db.session.begin_nested():
            step(*args, **kwargs)
    return caught.value


def step(record, name, user, **values):
    return operations.transition(ag.ENTRUSTMENTS, record, name, user, values)


# ------------------------------------------------------------------ the client's ID

def test_entrustment_without_the_client_id_is_refused_with_a_chinese_message(hall, db):
    err = refused(db, entrust, hall, client_id_no="")
    assert err.errors["client_id_no"] == ag.NO_ID and "身份证" in err.errors["client_id_no"]
    assert refused(db, entrust, hall, client_id_no="430921199006151234").errors["client_id_no"] == ag.BAD_ID
    assert db.session.scalar(select(func.count(Entrustment.id))) == 0


def test_entrustment_form_without_the_id_shows_the_message_beside_the_field(client, auth, hall, db):
    auth.login("a_agent")
    page = client.get(f"/r/entrustments/new?matter_id={hall['matter'].id}")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "居民身份证" in text and "户口簿" in text   # the matter's materials, prefilled
    data = {"entrusted_on": "2026-11-23", "client_name": "李秀英", "client_id_no": "", "client_phone": "13912345678",
            "priority_group": "none", "matter_id": str(hall["matter"].id), "agent_id": "0", "free": "y",
            "materials-0-name": "居民身份证", "materials-0-form": "both", "materials-0-copies": "1"}
    response = client.post("/r/entrustments/new", data=data)
    assert response.status_code == 200 and "此项必须填写" in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count(Entrustment.id))) == 0
    saved = client.post("/r/entrustments/new", data=dict(data, client_id_no=YOUNG_ID))
    assert saved.status_code == 302
    r = db.session.scalar(select(Entrustment))
    assert r.client_id_no == YOUNG_ID and [m.name for m in r.materials] == ["居民身份证"] and r.number


def test_the_matters_materials_are_the_checklist_when_none_were_typed(hall, db):
    r = entrust(hall)
    assert [(m.name, m.form, m.copies) for m in r.materials] == [("居民身份证", "both", 1), ("户口簿", "copy", 1)]
    other = entrust(hall, matter_id=None, matter_text="区残联：残疾人证办理")
    assert other.matter_name == "区残联：残疾人证办理" and other.materials == []
    assert "matter_id" in refused(db, entrust, hall, matter_id=None, matter_text="").errors


# ------------------------------------------------------------------ workflow

def test_entrustment_is_accepted_after_the_first_check_handled_handed_back_and_closed(hall, db):
    users = hall["users"]
    r = entrust(hall)
    assert r.state == "entrusted"
    assert refused(db, step, r, "accept", users["a_agent"]).field == "check_result"
    step(r, "accept", users["a_agent"], check_result="身份证原件、户口簿复印件齐全有效")
    assert (r.state, r.accepted_on) == ("accepted", date(2026, 11, 23))
    case = make_case(hall["a"], hall["matter"])
    step(r, "start", users["a_agent"], case_no=case.receipt_no)
    assert (r.state, r.case_id) == ("in_handling", case.id)
    assert refused(db, step, r, "hand_back", users["a_agent"], returned_on=date(2026, 11, 24),
                   returned_items="参保登记回执", client_signature="本人签收").field == "returned_on"  # tomorrow
    assert refused(db, step, r, "hand_back", users["a_agent"], returned_on=date(2026, 11, 23),
                   returned_items="参保登记回执").field == "client_signature"
    step(r, "hand_back", users["a_agent"], returned_on=date(2026, 11, 23), returned_items="参保登记回执",
         client_signature="委托人本人签字确认")
    step(r, "close", users["a_agent"])
    assert (r.state, r.closed_on) == ("closed", date(2026, 11, 23))


def test_refusal_at_acceptance_needs_a_reason(hall, db):
    r = entrust(hall)
    assert refused(db, step, r, "refuse", hall["users"]["a_agent"]).field == "refusal_reason"
    step(r, "refuse", hall["users"]["a_agent"], refusal_reason="申请人不符合参保条件")
    assert r.state == "refused"


def test_only_a_person_with_the_agent_role_is_the_agent(hall, db):
    users = hall["users"]
    assert "agent_id" in refused(db, entrust, hall, agent_id=users["a_clerk"].id).errors
    r = entrust(hall, agent_id=None)
    # An agent accepts an unassigned entrustment for themself, not for a colleague.
    assert refused(db, step, r, "accept", users["a_agent"], agent_id=users["a_director"].id,
                   check_result="齐全").field == "agent_id"
    step(r, "accept", users["a_agent"], agent_id=users["a_agent"].id, check_result="齐全")
    assert r.agent_id == users["a_agent"].id


def test_termination_needs_one_of_the_five_cases_and_a_notice_date(hall, db):
    users = hall["users"]
    assert [code for code, _ in ag.TERMINATION_CHOICES] == [
        "client_notice", "false_materials", "cannot_complete", "client_stalled", "other"]
    r = entrust(hall)
    step(r, "accept", users["a_agent"], check_result="齐全")
    assert refused(db, step, r, "terminate", users["a_agent"], notice_on=date(2026, 11, 23)).field \
        == "termination_case"
    assert refused(db, step, r, "terminate", users["a_agent"], termination_case="client_notice").field == "notice_on"
    assert refused(db, step, r, "terminate", users["a_agent"], termination_case="other",
                   notice_on=date(2026, 11, 23)).field == "termination_note"
    assert refused(db, step, r, "terminate", users["a_agent"], termination_case="client_notice",
                   notice_on=date(2026, 11, 24)).field == "notice_on"   # not yet
    step(r, "terminate", users["a_agent"], termination_case="client_stalled", notice_on=date(2026, 11, 23))
    assert r.state == "terminated"
    # Closed or terminated: no termination any more.
    assert refused(db, step, r, "terminate", users["a_director"], termination_case="client_notice",
                   notice_on=date(2026, 11, 23))


def test_a_case_linked_to_a_second_entrustment_is_refused(hall, db):
    users = hall["users"]
    case = make_case(hall["a"], hall["matter"])
    first = entrust(hall, case_no=case.receipt_no)
    assert first.case_id == case.id
    err = refused(db, entrust, hall, case_no=case.receipt_no)
    assert "一个办件只能关联一份" in err.errors["case_no"]
    second = entrust(hall)
    step(second, "accept", users["a_agent"], check_result="齐全")
    assert refused(db, step, second, "start", users["a_agent"], case_no=case.receipt_no).field == "case_no"
    assert "case_no" in refused(db, entrust, hall, case_no="2026-999999").errors   # no such case
    operations.update(ag.ENTRUSTMENTS, first, users["a_agent"], {"note": "改备注"})   # its own link stays fine
    assert first.case_id == case.id


# ------------------------------------------------------------------ priority

def test_elderly_and_disabled_come_first_in_the_agents_list(client, auth, hall, db, on_day):
    users = hall["users"]
    plain = entrust(hall, client_name="甲普通")
    disabled = entrust(hall, client_name="乙残疾", priority_group="disabled")
    sick = entrust(hall, client_name="丙患病", priority_group="sick")
    old_by_id = entrust(hall, client_name="丁老人", client_id_no=OLD_ID)      # 76: elderly by the ID number
    unassigned = entrust(hall, client_name="戊未指定", agent_id=None, priority_group="elderly", client_id_no=OLD_ID)
    db.session.commit()
    assert [r.priority for r in (plain, disabled, sick, old_by_id, unassigned)] == [False, True, False, True, True]
    rows = ag.agent_list(users["a_agent"], hall["a"].id)
    assert [r.client_name for r in rows] == ["乙残疾", "丁老人", "戊未指定", "甲普通", "丙患病"]
    auth.login("a_agent")
    text = client.get("/agency/").get_data(as_text=True)
    assert text.index("乙残疾") < text.index("丁老人") < text.index("甲普通") < text.index("丙患病")
    listing = client.get("/r/entrustments/").get_data(as_text=True)   # the generic list: the same order
    assert listing.index("丁老人") < listing.index("甲普通")


def test_an_agent_sees_their_own_and_unassigned_entrustments_not_a_colleagues_accepted_ones(client, auth, hall, db):
    from tests.conftest import make_user
    users = hall["users"]
    colleague = make_user(hall["a"], "agent", username="a_agent2")
    theirs = entrust(hall, client_name="同事的", agent_id=colleague.id, agent_phone="")
    step(theirs, "accept", colleague, check_result="齐全")
    entrust(hall, client_name="没人接", agent_id=None)
    db.session.commit()
    assert [r.client_name for r in ag.agent_list(users["a_agent"], hall["a"].id)] == ["没人接"]
    auth.login("a_agent")
    assert client.get(f"/r/entrustments/{theirs.id}").status_code == 404
    auth.logout()
    auth.login("a_deputy")
    assert client.get(f"/r/entrustments/{theirs.id}").status_code == 200
    assert len(ag.agent_list(users["a_deputy"], hall["a"].id)) == 2


# ------------------------------------------------------------------ fees

def test_fees_are_recorded_as_the_clients_and_zero_when_free(hall, db):
    free = entrust(hall, free=True)
    assert free.fee_amount == 0
    err = refused(db, entrust, hall, free=True, fee_amount=Decimal("20"), fee_for="工本费")
    assert "免费" in err.errors["fee_amount"]
    assert "fee_for" in refused(db, entrust, hall, free=False, fee_amount=Decimal("20")).errors
    paid = entrust(hall, free=False, fee_amount=Decimal("20.00"), fee_for="不动产登记费")
    assert (paid.fee_amount, paid.fee_for) == (Decimal("20.00"), "不动产登记费")
    label = str(ag.ENTRUSTMENTS.field("fee_amount").label)
    assert "委托方" in label and "委托方" in ag.FEE_NOTE and "不收取" in ag.FEE_NOTE
    assert not hasattr(Entrustment, "centre_income") and not hasattr(Entrustment, "fee_received_by")


# ------------------------------------------------------------------ the contract

def test_the_contract_has_two_copies_on_two_pages_and_masks_the_id_for_the_county(client, auth, hall, db):
    from pypdf import PdfReader
    r = entrust(hall, client_id_no=OLD_ID, request="代为办理养老保险参保登记")
    db.session.commit()
    url = f"/r/entrustments/{r.id}/print/contract"
    auth.login("a_agent")   # the agent: the ID number in full, both copies
    html = client.get(url).get_data(as_text=True)
    assert OLD_ID in html and "委托方留存" in html and "代办方留存" in html
    assert html.count("帮办代办服务委托书</h1>") == 2
    for clause in ("委托方主动提出书面终止", "无法补正", "不具备办结条件", "长期停滞", "其他造成代办服务终止",
                   "居民身份证", "户口簿", "（单位盖章）", "代办人员：（签字）", "一式贰份"):
        assert html.count(clause) == 2, clause
    pdf = client.get(url + ".pdf")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    pages = PdfReader(io.BytesIO(pdf.data)).pages
    assert len(pages) == 2
    assert "委托方留存" in pages[0].extract_text() and "代办方留存" in pages[1].extract_text()
    auth.logout()
    auth.login("county_sup")   # reads, but may not see the ID number in full
    html = client.get(url).get_data(as_text=True)
    assert OLD_ID not in html and OLD_ID[:6] + "********" + OLD_ID[-4:] in html
    assert client.get(f"/r/entrustments/{r.id}").status_code == 200
    assert OLD_ID not in client.get(f"/r/entrustments/{r.id}").get_data(as_text=True)


# ------------------------------------------------------------------ who sees what

def test_another_centre_never_sees_an_entrustment(client, auth, hall, db):
    r = entrust(hall)
    db.session.commit()
    for who in ("b_agent", "b_director", "b_deputy"):
        auth.login(who)
        assert client.get(f"/r/entrustments/{r.id}").status_code == 404
        assert client.get(f"/r/entrustments/{r.id}/print/contract").status_code == 404
        assert "李秀英" not in client.get("/agency/").get_data(as_text=True)
        assert ag.agent_list(hall["users"][who], hall["b"].id) == []
        auth.logout()


def test_a_clerk_cannot_read_entrustments(client, auth, hall, db):
    r = entrust(hall)
    db.session.commit()
    auth.login("a_clerk")
    assert client.get(f"/r/entrustments/{r.id}").status_code == 404
    # The list page exists for anyone who could be named an agent; a clerk's shows nothing.
    listing = client.get("/r/entrustments/")
    assert listing.status_code in (200, 403) and "李秀英" not in listing.get_data(as_text=True)
    assert client.get("/r/entrustments/export.xlsx").status_code == 403
    assert client.get(f"/r/entrustments/{r.id}/print/contract").status_code == 404
    assert client.get("/agency/").status_code == 403
    assert client.get("/r/entrustments/new").status_code == 403
