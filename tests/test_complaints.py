"""Efficiency complaints (行政效能投诉) [000 投诉管理制度 + 附件; SPEC §4.4]: deadlines counted in working days
from receipt, the acceptance decision, appeals, confidentiality, the public form and the year's consequences."""
from __future__ import annotations

import io
from datetime import date, datetime

import pytest
from sqlalchemy import select

from app import complaints as cp
from app.records import operations
from app.workdays import is_working_day
from models.complaint import Complaint
from models.core import AuditEntry
from tests.conftest import make_department, make_user, make_window


@pytest.fixture(autouse=True)
def fresh_limits():
    from app import complaints_public
    complaints_public.reset_limits()
    yield
    complaints_public.reset_limits()


def make_complaint(center, user, **values) -> Complaint:
    data = dict(channel="in_person", received_at=datetime(2026, 11, 23, 9, 30), complainant_title="ms",
                complainant_name="李梅", complainant_phone="13912345678", matter="窗口推诿",
                facts="同一事项往返三次仍未受理", urgency="normal", problem_type="first_ask", staff_named="窗口人员")
    data.update(values)
    return operations.create(cp.COMPLAINTS, user, data, center_id=center.id)


def refused(db, step, *args, **kwargs) -> operations.Refused:
    """A step refused: nothing of it stays (as the request's rollback does on a page)."""
    with pytest.raises(operations.Refused) as caught:
        with db.session.begin_nested():
            step(*args, **kwargs)
    return caught.value


def accept(c, user, **values):
    data = dict(complexity="general", handling_mode="direct", proposal="由中心直查")
    data.update(values)
    return operations.transition(cp.COMPLAINTS, c, "accept", user, data)


# ------------------------------------------------------------------ deadlines

def test_complaint_general_deadline_is_3_working_days(calendar_2026):
    # Received on Monday 23 November: Monday is day 1, Wednesday day 3.
    assert cp.handling_due(datetime(2026, 11, 23, 16, 50), "general") == date(2026, 11, 25)
    # Received on a Saturday: the count starts on Monday.
    assert cp.handling_due(date(2026, 11, 21), "general") == date(2026, 11, 25)


def test_complaint_complex_deadline_is_10_working_days(calendar_2026):
    assert cp.handling_due(date(2026, 11, 23), "complex") == date(2026, 12, 4)


def test_complaint_special_deadline_is_30_working_days_with_approval(calendar_2026, county, db, on_day):
    # Without the head's approval a special complaint counts as complex.
    assert cp.handling_due(date(2026, 11, 2), "special") == cp.handling_due(date(2026, 11, 2), "complex")
    assert cp.handling_due(date(2026, 11, 2), "special", extension_approved=True) == date(2026, 12, 11)

    users = county["users"]
    on_day(date(2026, 11, 2))
    c = make_complaint(county["a"], users["a_inspector"], received_at=datetime(2026, 11, 2, 10, 0))
    assert refused(db, accept, c, users["a_inspector"], complexity="special").field == "complexity"
    accept(c, users["a_inspector"], complexity="complex", handler_id=users["a_inspector"].id)
    operations.transition(cp.COMPLAINTS, c, "instruct", users["a_leader"], {"instruction": "同意直查"})
    assert c.state == "in_handling" and c.due_on == date(2026, 11, 13)
    # Approved with the written notice after the current deadline: refused.
    on_day(date(2026, 11, 16))
    refused(db, operations.transition, cp.COMPLAINTS, c, "extend", users["a_director"],
            {"extension_reason": "需现场踏勘", "extension_notified_on": date(2026, 11, 16)})
    # In time: the deadline becomes the 30th working day from receipt.
    operations.transition(cp.COMPLAINTS, c, "extend", users["a_director"],
                          {"extension_reason": "需现场踏勘", "extension_notified_on": date(2026, 11, 12)})
    assert c.complexity == "special" and c.extension_approved and c.due_on == date(2026, 12, 11)


def test_complaint_deadlines_across_national_day_2026(calendar_2026):
    assert not is_working_day(date(2026, 10, 1)) and not is_working_day(date(2026, 10, 7))
    # The official schedule (app.workdays): Sunday 20 September and Saturday 10 October are make-up working
    # days; Sunday 27 September is a day off (Mid-autumn, 25–27 September).
    assert is_working_day(date(2026, 9, 20)) and is_working_day(date(2026, 10, 10))
    assert not is_working_day(date(2026, 9, 27))
    # Received on Wednesday 30 September: day 1; the holidays do not count; 8 and 9 October are days 2 and 3.
    assert cp.handling_due(date(2026, 9, 30), "general") == date(2026, 10, 9)
    assert cp.decision_due(date(2026, 9, 30)) == date(2026, 10, 9)
    # …10 working days: Saturday 10 October is a working day.
    assert cp.handling_due(date(2026, 9, 30), "complex") == date(2026, 10, 19)
    # Received on the make-up Sunday 20 September: that Sunday is day 1.
    assert cp.handling_due(date(2026, 9, 20), "general") == date(2026, 9, 22)
    # Received on the holiday Sunday 27 September: Monday is day 1.
    assert cp.handling_due(date(2026, 9, 27), "general") == date(2026, 9, 30)
    # A letter received during the holiday brings its evidence by the 3rd working day after it.
    assert cp.evidence_due("letter", date(2026, 10, 3)) == date(2026, 10, 10)
    assert cp.evidence_due("in_person", date(2026, 10, 3)) is None


def test_acceptance_decision_within_3_working_days_is_flagged_when_late(calendar_2026, county, db, on_day):
    users = county["users"]
    c = make_complaint(county["a"], users["a_inspector"], channel="phone")
    assert c.decision_due == date(2026, 11, 25) and c.evidence_due == date(2026, 11, 25)
    db.session.commit()
    assert cp.sweep_decisions(date(2026, 11, 25)) == []          # the 3rd working day is still in time
    flagged = cp.sweep_decisions(date(2026, 11, 26))
    assert [row[0] for row in flagged] == [c.id]
    db.session.commit()
    db.session.refresh(c)
    assert c.decision_late
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.record_table == "complaint",
                                                       AuditEntry.field == "decision_late"))
    assert entry.action == "sweep" and entry.after == "True"
    overdue = cp.COMPLAINTS.view("overdue")
    assert db.session.scalar(select(Complaint.id).where(overdue.condition(date(2026, 11, 26)))) == c.id
    # A decision taken late says so; one taken the day the complaint came is "on the spot".
    on_day(date(2026, 11, 26))
    accept(c, users["a_inspector"])
    assert c.acceptance == "late"
    on_day(date(2026, 11, 23))
    quick = make_complaint(county["a"], users["a_inspector"])
    operations.transition(cp.COMPLAINTS, quick, "refuse", users["a_inspector"],
                          {"refusal_case": "in_procedure", "refusal_reason": "已进入行政复议程序",
                           "proper_channel": "县人民政府行政复议机构"})
    assert quick.state == "refused" and quick.acceptance == "on_the_spot" and not quick.decision_late


def test_warning_the_day_before_and_overdue_after_the_deadline(calendar_2026, county, db, on_day):
    users = county["users"]
    on_day(date(2026, 11, 23))
    c = make_complaint(county["a"], users["a_inspector"])
    accept(c, users["a_inspector"], handler_id=users["a_inspector"].id)
    db.session.commit()
    assert cp.sweep_warnings(date(2026, 11, 23)) == []
    assert [r[0] for r in cp.sweep_warnings(date(2026, 11, 24))] == [c.id]   # due Wednesday 25th
    assert cp.sweep_overdue(date(2026, 11, 25)) == []
    assert [r[0] for r in cp.sweep_overdue(date(2026, 11, 26))] == [c.id]
    db.session.commit()
    from jobs.complaint_jobs import complaint_deadlines
    assert "0 overdue" in complaint_deadlines(datetime(2026, 11, 27, 8, 10))  # flagged once only


def test_appeal_allowed_within_15_working_days_of_feedback(calendar_2026, county, db, on_day):
    # Feedback on Monday 28 September: the holidays do not count, the make-up Saturday does.
    assert cp.appeal_due(date(2026, 9, 28)) == date(2026, 10, 22)
    users = county["users"]
    on_day(date(2026, 9, 24))
    c = make_complaint(county["a"], users["a_inspector"], received_at=datetime(2026, 9, 24, 9, 0))
    accept(c, users["a_inspector"], handler_id=users["a_inspector"].id)
    operations.transition(cp.COMPLAINTS, c, "instruct", users["a_director"], {"instruction": "请核实"})
    on_day(date(2026, 9, 28))
    operations.transition(cp.COMPLAINTS, c, "feedback", users["a_inspector"], {
        "result": "经核实，窗口人员未落实首问负责制，已责令改正", "outcome": "stop_remedy", "feedback_method": "phone",
        "feedback_on": date(2026, 9, 28), "signer_id": users["a_director"].id, "signed_on": date(2026, 9, 28)})
    assert c.state == "answered" and c.verified and c.appeal_due == date(2026, 10, 22)
    assert cp.may_appeal(c, date(2026, 10, 22)) and not cp.may_appeal(c, date(2026, 10, 23))
    # Not satisfied: the file stays open while an appeal is possible.
    on_day(date(2026, 10, 9))
    refused(db, operations.transition, cp.COMPLAINTS, c, "close", users["a_inspector"],
            {"complainant_opinion": "unsatisfied"})
    on_day(date(2026, 10, 23))
    refused(db, operations.transition, cp.COMPLAINTS, c, "appeal", users["a_inspector"],
            {"appealed_on": date(2026, 10, 23), "appeal_text": "对处理结果不服"})
    operations.transition(cp.COMPLAINTS, c, "appeal", users["a_inspector"],
                          {"appealed_on": date(2026, 10, 22), "appeal_text": "对处理结果不服"})
    assert c.state == "appealed"


# ------------------------------------------------------------------ confidentiality

def test_confidential_complainant_is_masked_in_list_export_printout_and_trail(client, auth, county, db):
    from openpyxl import load_workbook
    users = county["users"]
    secret = make_complaint(county["a"], users["a_director"], confidential=True, complainant_name="赵秘密",
                            complainant_phone="13711112222")
    operations.update(cp.COMPLAINTS, secret, users["a_director"], {"complainant_name": "赵密"})  # into the trail
    accept(secret, users["a_director"])
    open_one = make_complaint(county["a"], users["a_director"], complainant_name="钱公开")
    db.session.commit()
    pages = {"list": "/r/complaints/", "page": f"/r/complaints/{secret.id}",
             "print": f"/r/complaints/{secret.id}/print/feedback"}

    auth.login("a_deputy")  # reads complaints, not in the unmask roles
    for what, url in pages.items():
        html = client.get(url).get_data(as_text=True)
        assert "赵密" not in html and "赵秘密" not in html and "13711112222" not in html, what
        assert "137****2222" in html or what == "list", what
    assert "钱公开" in client.get(pages["list"]).get_data(as_text=True)   # not confidential: shown
    rows = list(load_workbook(io.BytesIO(client.get("/r/complaints/export.xlsx").data)).active.values)
    cells = {str(v) for row in rows for v in row}
    assert "赵密" not in cells and "赵*" in cells and "钱公开" in cells
    pdf = client.get(pages["print"] + ".pdf")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    auth.logout()

    auth.login("a_director")  # handles complaints: sees the complainant on the record and the paper form
    for what in ("page", "print"):
        html = client.get(pages[what]).get_data(as_text=True)
        assert "赵密" in html and "13711112222" in html, what
    assert "赵秘密" in client.get(pages["page"]).get_data(as_text=True)   # the trail, in full


# ------------------------------------------------------------------ the public form

def test_public_complaint_without_content_is_refused(client, county, db):
    window = make_window(county["a"], 3, "社保医保")
    db.session.commit()
    page = client.get("/p/A")
    assert "/p/A/complaints/new" in page.get_data(as_text=True)
    assert client.get("/p/A/complaints/guide").status_code == 200
    empty = {"name": "孙一", "phone": "13800001111", "window_id": window.id, "person": "", "matter": "", "facts": ""}
    response = client.post("/p/A/complaints/new", data=empty)
    assert response.status_code == 200 and 'role="alert"' in response.get_data(as_text=True)
    assert db.session.scalar(select(Complaint.id)) is None
    sent = client.post("/p/A/complaints/new", data=dict(empty, matter="窗口人员玩手机", facts="上午十点窗口无人办理"))
    c = db.session.scalar(select(Complaint))
    assert c.number in sent.get_data(as_text=True)
    assert (c.channel, c.state, c.window_id, c.center_id) == ("platform", "registered", window.id, county["a"].id)
    for _ in range(cp_public_limit() - 1):
        client.post("/p/A/complaints/new", data=dict(empty, matter="重复", facts="重复投诉"))
    assert client.post("/p/A/complaints/new", data=dict(empty, matter="重复", facts="重复投诉")).status_code == 429


def cp_public_limit() -> int:
    from app import complaints_public
    return complaints_public.LIMIT


# ------------------------------------------------------------------ consequences

def test_three_verified_complaints_bar_excellent_and_two_recommend_return(client, auth, county, db):
    users = county["users"]
    center = county["a"]
    window = make_window(center, 2, "不动产登记")
    clerk, officer = users["a_clerk"], make_user(center, "agent", name="代办员甲")

    def verified(staff, when=datetime(2026, 3, 2, 9, 0), ok=True, window_id=None):
        c = make_complaint(center, users["a_director"], staff_id=staff.id, received_at=when, window_id=window_id)
        c.verified = ok
        return c

    verified(clerk, window_id=window.id)
    verified(clerk, window_id=window.id)
    verified(officer, window_id=window.id)
    verified(officer)
    verified(officer)
    verified(officer, ok=False)                               # not verified: does not count
    verified(clerk, when=datetime(2025, 12, 30, 9, 0))        # another year
    db.session.commit()
    result = cp.consequences(center.id, 2026)
    assert [(u.id, n) for u, n in result.not_excellent] == [(officer.id, 3)]
    assert [(u.id, n) for u, n in result.return_clerks] == [(clerk.id, 2)]   # a window clerk with 2
    assert [(w.id, n) for w, n in result.windows] == [(window.id, 3)]
    assert not cp.consequences(center.id, 2024)

    auth.login("a_director")
    html = client.get("/complaints/consequences?year=2026").get_data(as_text=True)
    assert "代办员甲" in html and "不动产登记" in html
    auth.logout()
    auth.login("a_clerk")
    assert client.get("/complaints/consequences").status_code == 403


def test_transfer_gets_a_number_and_the_department_on_the_feedback_form(county, db, client, auth):
    users = county["users"]
    dept = make_department(county["a"], "镇农业农村办")
    c = make_complaint(county["a"], users["a_inspector"], channel="hotline", confidential=False)
    accept(c, users["a_inspector"], handling_mode="transfer", department_id=dept.id, proposal="转镇农业农村办调查处理")
    operations.transition(cp.COMPLAINTS, c, "instruct", users["a_leader"], {"instruction": "请农业农村办3日内办结"})
    assert c.transfer_no.startswith(str(c.instructed_on.year)) and c.transferred_on == c.instructed_on
    db.session.commit()
    auth.login("a_inspector")
    html = client.get(f"/r/complaints/{c.id}/print/feedback").get_data(as_text=True)
    for text in ("行政效能投诉反馈单", c.transfer_no, "镇农业农村办", "请农业农村办3日内办结", "李梅", "女士"):
        assert text in html, text


def test_a_complaint_is_never_shown_to_the_person_it_is_about(client, auth, county, db):
    """An inspector (who handles complaints) complained about reads nothing of it: not the page, the list,
    the export or the worklist; a colleague of the same role does."""
    from app.records import worklist
    users = county["users"]
    about = make_complaint(county["a"], users["a_director"], staff_id=users["a_inspector"].id, facts="巡查员态度粗暴")
    other = make_complaint(county["a"], users["a_director"], facts="窗口无人")
    db.session.commit()
    auth.login("a_inspector")
    assert client.get(f"/r/complaints/{about.id}").status_code == 404
    assert client.get(f"/r/complaints/{other.id}").status_code == 200
    listed = client.get("/r/complaints/").get_data(as_text=True)
    assert about.number not in listed and other.number in listed
    from openpyxl import load_workbook
    export = client.get("/r/complaints/export.xlsx")
    cells = {str(c.value) for row in load_workbook(io.BytesIO(export.data)).active.iter_rows() for c in row}
    assert other.number in cells and about.number not in cells
    assert about.id not in {i.record.id for i in worklist.for_user(users["a_inspector"]) if i.rtype is cp.COMPLAINTS}
    auth.logout()
    auth.login("a_director")
    assert client.get(f"/r/complaints/{about.id}").status_code == 200
