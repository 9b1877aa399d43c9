"""Service cases, rule by rule, and one 承诺件 walked across National Day 2026.

The 2026 schedule: 10-01..10-07 off; Sunday 09-20 and Saturday 10-10 are make-up working days.
"""
from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from app.cases import (missing_materials, start_clock, sweep_department_legs, sweep_handovers, sweep_overdue,
                       sweep_warnings)
from models.case import CaseExtension, CaseHandover, ServiceCase
from tests.conftest import make_case, make_department, make_matter, make_window


pytestmark = pytest.mark.usefixtures("calendar_2026")


@pytest.fixture
def matter(county, db):
    dept = make_department(county["a"], "县民政局")
    window = make_window(county["a"], 5, "民政救助")
    m = make_matter(county["a"], name="临时救助申请", statutory=15, promised=5, window_id=window.id,
                    department_id=dept.id,
                    materials=(("居民身份证", "copy", 1), ("临时救助申请书", "original", 1), ("困难情况证明", "copy", 1)))
    db.session.commit()
    return m


def step(client, db, key, record_id, name, **data):
    model = {"cases": ServiceCase, "case-extensions": CaseExtension, "case-handovers": CaseHandover}[key]
    db.session.expire_all()
    data["form_version"] = db.session.get(model, record_id).version
    return client.post(f"/r/{key}/{record_id}/t/{name}", data=data)


def intake(client, matter, intake_date="2026-09-28", received=("居民身份证", "临时救助申请书", "困难情况证明"), token="t1"):
    data = {"applicant_name": "李四", "applicant_phone": "13812345678", "applicant_id_no": "11010519491231002X",
            "matter_id": matter.id, "window_id": matter.window_id, "kind": "promised", "channel": "window",
            "intake_date": intake_date, "form_token": token}
    for i, name in enumerate(received):
        data.update({f"materials-{i}-received": "y", f"materials-{i}-name": name, f"materials-{i}-form": "copy",
                     f"materials-{i}-copies": "1", f"materials-{i}-note": ""})
    return client.post("/r/cases/new", data=data)


def the_case(db):
    db.session.expire_all()
    return db.session.scalar(select(ServiceCase).order_by(ServiceCase.id.desc()))


def test_promised_case_walks_across_national_day_2026(client, auth, county, matter, db, tmp_path):
    """Every date below was counted by hand on the official 2026 schedule (promise: 5 working days)."""
    from app.cases import handover_deadline
    from tests.test_printouts import pdftotext
    auth.login("a_clerk")
    # Monday 09-28: intake with the hardship certificate missing → one-time notice; no clock yet.
    assert intake(client, matter, received=("居民身份证", "临时救助申请书")).status_code == 302
    case = the_case(db)
    assert case.receipt_no.startswith("2026-") and case.responsible_id == county["users"]["a_clerk"].id
    assert step(client, db, "cases", case.id, "ask_supplement").status_code == 302
    case = the_case(db)
    assert case.state == "awaiting_supplement" and case.missing_materials == "困难情况证明" and case.due_date is None
    assert sweep_overdue(date(2026, 9, 30)) == []  # the applicant's turn: no reply is owed
    # Tuesday 09-29: the supplement arrives; the clock starts that day.
    # 5 working days: 09-29 (1), 09-30 (2), [10-01..07 off], 10-08 (3), 10-09 (4), Sat 10-10 make-up (5).
    assert step(client, db, "cases", case.id, "supplement_received", clock_start="2026-09-29").status_code == 302
    case = the_case(db)
    assert (case.day_one, case.due_date, case.provisional) == (date(2026, 9, 29), date(2026, 10, 10), False)
    assert [m.received for m in case.materials] == [True, True, True]  # the supplement is ticked off
    page = client.get(f"/r/cases/{case.id}").get_data(as_text=True)
    assert "2026年9月29日" in page and "2026年10月10日" in page
    receipt = pdftotext(client.get(f"/r/cases/{case.id}/print/receipt.pdf").data, tmp_path).replace(" ", "")
    assert "第1个工作日为2026年9月29日" in receipt and "2026年10月10日" in receipt and "困难情况证明" in receipt
    # Handover due by the next working day after 09-29: Wednesday 09-30. Handed over that day: on time.
    assert handover_deadline(case) == date(2026, 9, 30)
    response = client.post(f"/r/case-handovers/new?case_id={case.id}",
                           data={"department_id": matter.department_id, "handed_on": "2026-09-30",
                                 "received_by": "吴芳", "note": "", "form_token": "h1"})
    assert response.status_code == 302
    leg = db.session.scalar(select(CaseHandover))
    assert not leg.late and sweep_handovers(date(2026, 10, 8)) == [] and not the_case(db).handover_late
    # Friday 10-09: the department returns the file (before the promise), the case is due on the next
    # working day (Saturday 10-10, a make-up day): early warning.
    assert step(client, db, "case-handovers", leg.id, "return", returned_on="2026-10-09").status_code == 302
    assert sweep_department_legs(date(2026, 10, 9)) == [] and not db.session.get(CaseHandover, leg.id).late
    assert sweep_warnings(date(2026, 10, 8)) == []
    assert sweep_warnings(date(2026, 10, 9)) == [(case.id, county["a"].id, case.responsible_id)]
    # Still 10-09, before the promise: an extension to Wednesday 10-14, the applicant told by phone;
    # approved by the director. The warning is reset for the new date.
    response = client.post(f"/r/case-extensions/new?case_id={case.id}", data={
        "requested_on": "2026-10-09", "reason": "需入户核查家庭经济状况", "new_due": "2026-10-14",
        "applicant_notified_on": "2026-10-09", "notice_method": "电话", "form_token": "e1"})
    assert response.status_code == 302
    ext = db.session.scalar(select(CaseExtension))
    auth.logout()
    auth.login("a_director")
    assert step(client, db, "case-extensions", ext.id, "approve", head_opinion="同意延期").status_code == 302
    case = the_case(db)
    assert (case.extended_due, case.effective_due, case.warned) == (date(2026, 10, 14), date(2026, 10, 14), False)
    # Saturday 10-10 and Monday 10-12: not due next; Tuesday 10-13: warned (due 10-14);
    # Wednesday 10-14: due today, not overdue; Thursday 10-15: overdue, flagged once.
    assert sweep_warnings(date(2026, 10, 10)) == [] and sweep_warnings(date(2026, 10, 12)) == []
    assert sweep_warnings(date(2026, 10, 13)) == [(case.id, county["a"].id, case.responsible_id)]
    assert sweep_overdue(date(2026, 10, 10)) == [] and sweep_overdue(date(2026, 10, 14)) == []
    assert [r[0] for r in sweep_overdue(date(2026, 10, 15))] == [case.id]
    assert sweep_overdue(date(2026, 10, 16)) == []
    case = the_case(db)
    assert case.overdue and case.overdue_reason == "past_due"
    # Completed and delivered on Friday 10-16: it stays overdue, for the reason it first became so.
    assert step(client, db, "cases", case.id, "complete", completed_on="2026-10-16", result="批准临时救助").status_code == 302
    assert step(client, db, "cases", case.id, "deliver", delivery_method="pickup", delivered_on="2026-10-16").status_code == 302
    case = the_case(db)
    assert (case.state, case.overdue, case.overdue_reason) == ("delivered", True, "past_due")


def test_promised_case_due_date_counts_acceptance_day_as_day_one(county, matter, db):
    case = make_case(county["a"], matter, intake=date(2026, 9, 28))
    start_clock(case, date(2026, 9, 28))
    assert (case.day_one, case.due_date) == (date(2026, 9, 28), date(2026, 10, 9))


def test_acceptance_on_a_holiday_starts_on_the_next_working_day(county, matter, db):
    case = make_case(county["a"], matter, intake=date(2026, 10, 3))
    start_clock(case, date(2026, 10, 3))
    # 10-08 (1), 10-09 (2), Sat 10-10 make-up (3), Mon 10-12 (4), 10-13 (5)
    assert (case.day_one, case.due_date) == (date(2026, 10, 8), date(2026, 10, 13))


def test_one_time_notice_lists_every_missing_material_at_once(county, matter, db):
    case = make_case(county["a"], matter)
    case.materials = case.materials[:1]
    assert missing_materials(matter, case.materials) == ["临时救助申请书", "困难情况证明"]


def test_complete_case_is_not_sent_for_supplement(client, auth, county, matter, db):
    auth.login("a_clerk")
    intake(client, matter)
    case = the_case(db)
    response = step(client, db, "cases", case.id, "ask_supplement")
    assert response.status_code == 200 and the_case(db).state == "registered"


def test_double_submitted_intake_creates_one_case(client, auth, county, matter, db):
    auth.login("a_clerk")
    intake(client, matter, token="same")
    intake(client, matter, token="same")
    assert db.session.scalar(select(func.count(ServiceCase.id))) == 1


def test_intake_in_the_future_is_refused_beside_the_field(client, auth, county, matter, db):
    auth.login("a_clerk")
    response = intake(client, matter, intake_date="2030-01-02")
    assert response.status_code == 200 and db.session.scalar(select(func.count(ServiceCase.id))) == 0


def test_extension_after_deadline_still_overdue(county, matter, db):
    from app.cases import approve_extension
    case = make_case(county["a"], matter, state="accepted")
    start_clock(case, date(2026, 11, 2))  # due Friday 11-06
    ext = CaseExtension(center_id=case.center_id, case_id=case.id, requested_on=date(2026, 11, 9),
                        reason="逾期后申请", new_due=date(2026, 11, 13))
    db.session.add(ext)
    db.session.flush()
    approve_extension(ext)
    assert case.extended_due is None and case.overdue and case.overdue_reason == "late_extension"


def test_extension_without_a_reason_is_refused(client, auth, county, matter, db):
    case = make_case(county["a"], matter, state="accepted")
    start_clock(case, date(2026, 11, 16))
    db.session.commit()
    auth.login("a_clerk")
    response = client.post(f"/r/case-extensions/new?case_id={case.id}", data={
        "requested_on": "2026-11-18", "reason": "", "new_due": "2026-11-30", "applicant_notified_on": "",
        "notice_method": "", "form_token": "e"})
    assert response.status_code == 200 and db.session.scalar(select(func.count(CaseExtension.id))) == 0


def test_extension_needs_the_director_and_not_the_requester(client, auth, county, matter, db):
    case = make_case(county["a"], matter, state="accepted")
    start_clock(case, date(2026, 11, 16))
    ext = CaseExtension(center_id=case.center_id, case_id=case.id, requested_on=date(2026, 11, 18), reason="r",
                        new_due=date(2026, 11, 30), state="requested", created_by_id=county["users"]["a_director"].id)
    db.session.add(ext)
    db.session.commit()
    auth.login("a_clerk")
    assert step(client, db, "case-extensions", ext.id, "approve", head_opinion="同意").status_code == 403
    auth.logout()
    auth.login("a_director")  # the director asked for it: no self-approval
    assert step(client, db, "case-extensions", ext.id, "approve", head_opinion="同意").status_code == 403


def test_applicant_caused_days_do_not_count(county, matter, db):
    from app.cases import add_applicant_delay
    case = make_case(county["a"], matter, state="accepted")
    start_clock(case, date(2026, 11, 16))  # due Friday 11-20
    add_applicant_delay(case, 2)            # two working days waiting for the applicant
    assert case.due_date == date(2026, 11, 24)


def test_delivered_after_promise_is_overdue(client, auth, county, matter, db):
    case = make_case(county["a"], matter, state="accepted", responsible=county["users"]["a_clerk"])
    start_clock(case, date(2026, 11, 16))  # due 11-20
    db.session.commit()
    auth.login("a_clerk")
    assert step(client, db, "cases", case.id, "complete", completed_on="2026-11-20", result="批准救助800元").status_code == 302
    assert not the_case(db).overdue
    assert step(client, db, "cases", case.id, "deliver", delivery_method="pickup", delivered_on="2026-11-23").status_code == 302
    case = the_case(db)
    assert case.state == "delivered" and case.overdue and case.overdue_reason == "delivered_late"


def test_handover_not_made_by_next_working_day_is_flagged(county, matter, db):
    case = make_case(county["a"], matter, state="accepted")
    start_clock(case, date(2026, 9, 30))  # handover due by the next working day, 10-08
    db.session.commit()
    assert sweep_handovers(date(2026, 10, 8)) == []
    assert [r[0] for r in sweep_handovers(date(2026, 10, 9))] == [case.id]
    assert sweep_handovers(date(2026, 10, 12)) == []


def test_overdue_sweep_is_one_set_based_update_and_idempotent(county, matter, db):
    for _ in range(3):
        start_clock(make_case(county["a"], matter, state="accepted"), date(2026, 11, 2))
    db.session.commit()
    assert len(sweep_overdue(date(2026, 11, 23))) == 3
    assert sweep_overdue(date(2026, 11, 23)) == []


def test_id_number_masked_for_clerk_shown_to_director(client, auth, county, matter, db):
    case = make_case(county["a"], matter, applicant_id_no="11010519491231002X")
    db.session.commit()
    auth.login("a_clerk")
    assert "110105********002X" in client.get(f"/r/cases/{case.id}").get_data(as_text=True)
    auth.logout()
    auth.login("a_director")
    assert "11010519491231002X" in client.get(f"/r/cases/{case.id}").get_data(as_text=True)


def test_public_status_reveals_only_state_and_date(client, county, matter, db):
    case = make_case(county["a"], matter, state="accepted", receipt_no="2026-000777", applicant_id_no="11010519491231002X")
    start_clock(case, date(2026, 11, 16))
    db.session.commit()
    html = client.post("/status/", data={"no": "2026-000777", "phone": "13912345678"}).get_data(as_text=True)
    assert "2026年11月20日" in html and "张三" not in html and "11010519491231002X" not in html
    assert "临时救助申请" in html  # the matter is part of the answer (issue 7, public front door)
    wrong = client.post("/status/", data={"no": "2026-000777", "phone": "13900000000"}).get_data(as_text=True)
    unknown = client.post("/status/", data={"no": "2026-999999", "phone": "13912345678"}).get_data(as_text=True)
    assert "2026年11月20日" not in wrong and "临时救助申请" not in wrong
    assert wrong.count('id="status-result"') == unknown.count('id="status-result"') == 1


def test_public_status_is_rate_limited(client, county, db):
    from app import status
    status._hits.clear()
    codes = [client.post("/status/", data={"no": "x", "phone": "1"}).status_code for _ in range(12)]
    assert codes[:10] == [200] * 10 and codes[10:] == [429, 429]
    status._hits.clear()


def test_clerk_of_other_centre_gets_404_for_case_and_its_printouts(client, auth, county, matter, db):
    case = make_case(county["a"], matter)
    db.session.commit()
    auth.login("b_clerk")
    for url in (f"/r/cases/{case.id}", f"/r/cases/{case.id}/print/receipt.pdf", f"/r/case-extensions/new?case_id={case.id}"):
        assert client.get(url).status_code == 404


def test_monthly_report_on_time_rate_counts_open_overdue_cases(client, auth, county, matter, db):
    from app.case_reports import monthly_report
    make_case(county["a"], matter, state="delivered", intake=date(2026, 11, 2), completed_on=date(2026, 11, 5))
    make_case(county["a"], matter, state="delivered", intake=date(2026, 11, 2), completed_on=date(2026, 11, 20),
                     overdue=True)
    make_case(county["a"], matter, state="accepted", intake=date(2026, 11, 3), overdue=True)
    make_case(county["b"], make_matter(county["b"]), state="accepted", intake=date(2026, 11, 3), overdue=True)
    db.session.commit()
    [row] = monthly_report(county["a"].id, date(2026, 11, 1), date(2026, 12, 1))
    assert (row.registered, row.completed, row.on_time, row.late, row.open_overdue) == (3, 2, 1, 1, 1)
    assert row.on_time_rate == 1 / 3  # on time ÷ (completed + open overdue)
    auth.login("a_director")
    html = client.get("/cases/report?month=2026-11").get_data(as_text=True)
    assert "33.3%" in html
    assert client.get("/cases/report?month=2026-11&format=xlsx").status_code == 200
    assert client.get("/cases/report?month=2026-11&format=pdf").mimetype == "application/pdf"


def test_case_search_finds_receipt_numbers_names_and_phones_by_their_start(client, auth, county, matter, db):
    make_case(county["a"], matter, applicant_name="欧阳修", applicant_phone="13700001111", receipt_no="2026-000501")
    make_case(county["a"], matter, applicant_name="王安石", applicant_phone="13800002222", receipt_no="2026-000502")
    db.session.commit()
    auth.login("a_clerk")
    for q, expected in (("欧阳", "欧阳修"), ("1380000", "王安石"), ("2026-000501", "欧阳修")):
        html = client.get(f"/r/cases/?q={q}").get_data(as_text=True)
        assert expected in html and ("王安石" if expected == "欧阳修" else "欧阳修") not in html


def test_only_the_responsible_clerk_or_a_manager_sees_a_case_in_their_worklist(client, auth, county, matter, db):
    """A clerk's ordinary case is theirs alone; it reaches a manager's worklist once it is flagged."""
    from tests.conftest import make_user
    other = make_user(county["a"], "clerk", username="other_clerk")
    case = make_case(county["a"], matter, state="accepted", responsible=other)
    start_clock(case, date(2026, 11, 16))
    db.session.commit()
    auth.login("a_clerk")
    assert f"/r/cases/{case.id}" not in client.get("/worklist").get_data(as_text=True)
    assert client.get(f"/r/cases/{case.id}/t/complete").status_code == 403
    auth.logout()
    auth.login(other)
    assert f"/r/cases/{case.id}" in client.get("/worklist").get_data(as_text=True)
    auth.logout()
    auth.login("a_director")
    assert f"/r/cases/{case.id}\"" not in client.get("/worklist").get_data(as_text=True)  # not a clerk step for a manager
    assert client.get(f"/r/cases/{case.id}/t/complete").status_code == 200  # yet a manager may still take it
    case.overdue, case.overdue_reason = True, "past_due"
    db.session.commit()
    assert f"/r/cases/{case.id}" in client.get("/worklist").get_data(as_text=True)


def test_recording_applicant_caused_days_moves_the_promise_and_needs_a_reason(client, auth, county, matter, db):
    case = make_case(county["a"], matter, state="accepted", responsible=county["users"]["a_clerk"])
    start_clock(case, date(2026, 11, 16))  # due Friday 11-20
    db.session.commit()
    auth.login("a_clerk")
    assert step(client, db, "cases", case.id, "applicant_delay", applicant_delay_days="3").status_code == 200
    assert the_case(db).due_date == date(2026, 11, 20)  # no reason given: nothing changed
    response = step(client, db, "cases", case.id, "applicant_delay", applicant_delay_days="3",
                    comment="申请人外出务工，补签材料延误3天")
    assert response.status_code == 302
    assert the_case(db).due_date == date(2026, 11, 25)  # 11-23, 11-24, 11-25


def test_home_panel_counts_todays_cases_from_the_records(client, auth, county, matter, db):
    from app.cases import case_dashboard
    late = make_case(county["a"], matter, state="accepted", intake=date(2026, 11, 20), overdue=True,
                     receipt_no="2026-000777")
    make_case(county["a"], matter, state="awaiting_supplement", intake=date(2026, 11, 23), receipt_no="2026-000778")
    make_case(county["b"], make_matter(county["b"]), state="accepted", overdue=True, receipt_no="2026-000779")
    db.session.commit()
    d = case_dashboard(county["a"].id, date(2026, 11, 23))
    assert (d["registered_today"], d["overdue"], d["awaiting_supplement"]) == (1, 1, 1)
    auth.login("a_director")
    html = client.get("/").get_data(as_text=True)
    assert "view=overdue" in html
    listing = client.get("/r/cases/?view=overdue").get_data(as_text=True)
    assert f'href="/r/cases/{late.id}"' in listing
    assert "2026-000777" in listing and "2026-000778" not in listing and "2026-000779" not in listing


def test_monthly_report_needs_a_login_and_a_role_that_reads_reports(client, auth, county):
    assert client.get("/cases/report").status_code == 302
    auth.login("a_inspector")
    assert client.get("/cases/report").status_code == 403


def test_extension_is_approved_only_once_the_applicant_has_been_told(client, auth, county, matter, db):
    case = make_case(county["a"], matter, state="accepted")
    start_clock(case, date(2026, 11, 16))  # due 11-20
    ext = CaseExtension(center_id=case.center_id, case_id=case.id, requested_on=date(2026, 11, 18), reason="核查",
                        new_due=date(2026, 11, 27), state="requested", created_by_id=county["users"]["a_clerk"].id)
    db.session.add(ext)
    db.session.commit()
    auth.login("a_director")
    assert step(client, db, "case-extensions", ext.id, "approve", head_opinion="同意").status_code == 200
    assert db.session.get(CaseExtension, ext.id).state == "requested"
    response = step(client, db, "case-extensions", ext.id, "approve", head_opinion="同意",
                    applicant_notified_on="2026-11-19", notice_method="电话")
    assert response.status_code == 302
    assert the_case(db).extended_due == date(2026, 11, 27)


def test_registered_case_without_any_reply_by_the_next_working_day_is_overdue(county, matter, db):
    case = make_case(county["a"], matter, intake=date(2026, 9, 30))  # next working day: 10-08
    db.session.commit()
    assert sweep_overdue(date(2026, 10, 8)) == []
    assert [r[0] for r in sweep_overdue(date(2026, 10, 9))] == [case.id]
    db.session.expire_all()
    assert db.session.get(ServiceCase, case.id).overdue_reason == "no_reply"


def list_body(html: str) -> str:
    """The rows of a record list (its <tbody>), without the sort links of the header or the menu's links."""
    import re
    bodies = re.findall(r"<tbody>(.*?)</tbody>", html, flags=re.S)
    assert len(bodies) == 1, "not one record table on the page"
    return bodies[0]


def test_an_empty_case_list_shows_no_rows_and_says_so(client, auth, county, matter, db):
    """Another centre's case and this centre's case outside the view are there to leak: neither may."""
    import re
    other = make_case(county["b"], make_matter(county["b"]), state="accepted", overdue=True, receipt_no="2026-000901")
    own = make_case(county["a"], matter, state="accepted", receipt_no="2026-000902")  # not overdue
    db.session.commit()
    auth.login("a_clerk")
    for url, hidden in (("/r/cases/?view=overdue", (own, other)), ("/r/cases/?q=2026-000901", (own, other))):
        html = client.get(url).get_data(as_text=True)
        body = list_body(html)
        assert re.findall(r'href="/r/cases/\d+', body) == [], (url, body)  # no row links to any record
        assert all(case.receipt_no not in body and f"/r/cases/{case.id}\"" not in html for case in hidden), url
        assert re.search(r'<td[^>]*class="empty"[^>]*>\s*没有找到记录。\s*</td>', body), (url, body)
        assert "共 0 条" in html, url
    body = list_body(client.get("/r/cases/").get_data(as_text=True))  # the check sees a row when there is one
    assert re.findall(r'href="/r/cases/(\d+)"', body) == [str(own.id)] and "没有找到记录。" not in body
