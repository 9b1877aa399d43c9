"""The paths of a case after intake (补正, 联办, 上报, waiting for the applicant, a refusal found
unjustified) and the bad input each step refuses with nothing changed.

The 2026 schedule: 10-01..10-07 off; Sunday 09-20 and Saturday 10-10 are make-up working days.
"""
from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from app.cases import applicant_days, start_clock, sweep_overdue, sweep_warnings
from models.case import CaseExtension, CaseJointWindow, CaseMaterial, ServiceCase
from models.core import AuditEntry
from tests.conftest import make_case, make_department, make_matter, make_window
from tests.test_cases import intake, step, the_case
from tests.test_cases import matter  # noqa: F401  (the same fixture)

pytestmark = pytest.mark.usefixtures("calendar_2026", "in_english")


@pytest.fixture
def in_english(county, db):
    """Messages are checked by their English text, whatever the Chinese catalogue says."""
    for user in county["users"].values():
        user.locale = "en"
    db.session.commit()


def accepted_case(county, matter, db, clock: date, **kw):
    case = make_case(county["a"], matter, state="accepted", intake=clock, responsible=county["users"]["a_clerk"], **kw)
    start_clock(case, clock)
    db.session.commit()
    return case


def errors_beside(html: str, message: str) -> bool:
    return message in html and 'class="error"' in html


# ------------------------------------------------------------------ intake checklist and 补正

def test_intake_ticks_what_was_received_and_the_rest_is_missing(client, auth, county, matter, db):
    auth.login("a_clerk")
    page = client.get(f"/r/cases/new?matter_id={matter.id}").get_data(as_text=True)
    assert page.count('type="checkbox"') >= 3 and 'value="困难情况证明"' in page  # the matter's list, unticked
    data = {"applicant_name": "李四", "applicant_phone": "13812345678", "applicant_id_no": "", "matter_id": matter.id,
            "window_id": matter.window_id, "kind": "promised", "channel": "window", "intake_date": "2026-11-20",
            "form_token": "tick"}
    for i, name in enumerate(("居民身份证", "临时救助申请书", "困难情况证明")):
        data.update({f"materials-{i}-name": name, f"materials-{i}-form": "copy", f"materials-{i}-copies": "1",
                     f"materials-{i}-note": ""})
        if i < 2:
            data[f"materials-{i}-received"] = "y"
    assert client.post("/r/cases/new", data=data).status_code == 302
    case = the_case(db)
    assert [(m.name, m.received) for m in case.materials] == [
        ("居民身份证", True), ("临时救助申请书", True), ("困难情况证明", False)]
    assert step(client, db, "cases", case.id, "ask_supplement").status_code == 302
    assert the_case(db).missing_materials == "困难情况证明"
    receipt = client.get(f"/r/cases/{case.id}/print/receipt").get_data(as_text=True)
    assert "临时救助申请书" in receipt and "困难情况证明" not in receipt  # only what was received


def test_accepting_with_materials_missing_is_refused(client, auth, county, matter, db):
    auth.login("a_clerk")
    intake(client, matter, intake_date="2026-11-20", received=("居民身份证",))
    case = the_case(db)
    response = step(client, db, "cases", case.id, "accept")
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "临时救助申请书" in html and "困难情况证明" in html
    case = the_case(db)
    assert (case.state, case.due_date) == ("registered", None)


def test_supplement_restarts_clock_on_arrival_day(client, auth, county, matter, db):
    auth.login("a_clerk")
    intake(client, matter, intake_date="2026-09-25", received=("居民身份证",))  # Friday
    case = the_case(db)
    step(client, db, "cases", case.id, "ask_supplement")
    # The supplement arrives on Wednesday 09-30: day 1 is 09-30, not the intake day;
    # 09-30 (1), 10-08 (2), 10-09 (3), Sat 10-10 (4), Mon 10-12 (5).
    assert step(client, db, "cases", case.id, "supplement_received", clock_start="2026-09-30").status_code == 302
    case = the_case(db)
    assert (case.clock_start, case.day_one, case.due_date) == (date(2026, 9, 30), date(2026, 9, 30), date(2026, 10, 12))


def test_supplement_arriving_on_a_holiday_counts_from_the_next_working_day(client, auth, county, matter, db):
    auth.login("a_clerk")
    intake(client, matter, intake_date="2026-09-30", received=("居民身份证",))
    case = the_case(db)
    step(client, db, "cases", case.id, "ask_supplement")
    step(client, db, "cases", case.id, "supplement_received", clock_start="2026-10-03")  # brought to the duty desk
    case = the_case(db)
    # 10-08 (1), 10-09 (2), Sat 10-10 (3), 10-12 (4), 10-13 (5)
    assert (case.day_one, case.due_date) == (date(2026, 10, 8), date(2026, 10, 13))


def test_supplement_dated_before_intake_is_refused_beside_the_field(client, auth, county, matter, db):
    auth.login("a_clerk")
    intake(client, matter, intake_date="2026-11-18", received=("居民身份证",))
    case = the_case(db)
    step(client, db, "cases", case.id, "ask_supplement")
    response = step(client, db, "cases", case.id, "supplement_received", clock_start="2026-11-17")
    assert response.status_code == 200
    assert errors_beside(response.get_data(as_text=True), "The supplement cannot arrive before the intake day.")
    case = the_case(db)
    assert (case.state, case.clock_start, case.due_date) == ("awaiting_supplement", None, None)


def test_supplement_for_a_case_not_waiting_for_one_says_why(client, auth, county, matter, db):
    auth.login("a_clerk")
    intake(client, matter, intake_date="2026-11-18")
    case = the_case(db)
    response = step(client, db, "cases", case.id, "supplement_received", clock_start="2026-11-19")
    assert response.status_code == 409
    assert "This step is not possible in the current state." in response.get_data(as_text=True)
    assert the_case(db).state == "registered"


def test_extra_material_without_a_name_is_refused_beside_the_row(client, auth, county, matter, db):
    auth.login("a_clerk")
    data = {"applicant_name": "王五", "applicant_phone": "13812345678", "applicant_id_no": "", "matter_id": matter.id,
            "window_id": 0, "kind": "promised", "channel": "window", "intake_date": "2026-11-20", "form_token": "n",
            "materials-0-received": "y", "materials-0-name": "", "materials-0-form": "copy",
            "materials-0-copies": "1", "materials-0-note": ""}
    response = client.post("/r/cases/new", data=data)
    assert response.status_code == 200 and "This field is required." in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count(ServiceCase.id))) == 0
    assert db.session.scalar(select(func.count(CaseMaterial.id))) == 0


# ------------------------------------------------------------------ promised dates and extensions

def test_extension_to_a_date_before_the_intake_is_refused_beside_the_field(client, auth, county, matter, db):
    case = accepted_case(county, matter, db, date(2026, 11, 16))  # due 11-20
    auth.login("a_clerk")
    response = client.post(f"/r/case-extensions/new?case_id={case.id}", data={
        "requested_on": "2026-11-18", "reason": "核查", "new_due": "2026-11-13", "applicant_notified_on": "",
        "notice_method": "", "form_token": "x"})
    assert response.status_code == 200
    assert errors_beside(response.get_data(as_text=True), "The new date must come after the current promise (2026-11-20).")
    assert db.session.scalar(select(func.count(CaseExtension.id))) == 0
    db.session.expire_all()
    assert db.session.get(ServiceCase, case.id).effective_due == date(2026, 11, 20)


def test_extension_told_to_the_applicant_after_the_deadline_is_refused(client, auth, county, matter, db):
    case = accepted_case(county, matter, db, date(2026, 11, 16))  # due 11-20
    auth.login("a_clerk")
    response = client.post(f"/r/case-extensions/new?case_id={case.id}", data={
        "requested_on": "2026-11-19", "reason": "核查", "new_due": "2026-11-27", "applicant_notified_on": "2026-11-23",
        "notice_method": "电话", "form_token": "x"})
    assert errors_beside(response.get_data(as_text=True), "The applicant must be told before the old deadline.")
    assert db.session.scalar(select(func.count(CaseExtension.id))) == 0


def test_extension_asked_after_the_deadline_is_kept_but_the_case_stays_overdue(client, auth, county, matter, db):
    case = accepted_case(county, matter, db, date(2026, 11, 9))  # due Friday 11-13
    auth.login("a_clerk")
    response = client.post(f"/r/case-extensions/new?case_id={case.id}", data={
        "requested_on": "2026-11-16", "reason": "核查", "new_due": "2026-11-20", "applicant_notified_on": "",
        "notice_method": "", "form_token": "late"}, follow_redirects=True)
    assert "Asked for after the deadline" in response.get_data(as_text=True)
    ext = db.session.scalar(select(CaseExtension))
    auth.logout()
    auth.login("a_director")
    assert step(client, db, "case-extensions", ext.id, "approve", head_opinion="同意",
                applicant_notified_on="2026-11-16", notice_method="电话").status_code == 302
    case = the_case(db)
    assert (case.extended_due, case.overdue, case.overdue_reason) == (None, True, "late_extension")


def test_applicant_caused_days_move_an_approved_extension_too(county, matter, db):
    from app.cases import approve_extension, add_applicant_delay
    case = accepted_case(county, matter, db, date(2026, 11, 16))  # due 11-20
    ext = CaseExtension(center_id=case.center_id, case_id=case.id, requested_on=date(2026, 11, 18), reason="核查",
                        new_due=date(2026, 11, 27), applicant_notified_on=date(2026, 11, 18))
    db.session.add(ext)
    db.session.flush()
    approve_extension(ext)
    add_applicant_delay(case, 2)  # Monday 11-30, Tuesday 12-01
    assert (case.due_date, case.extended_due, case.applicant_delay_days) == (date(2026, 11, 24), date(2026, 12, 1), 2)


def test_completion_dated_in_the_future_is_refused(client, auth, county, matter, db):
    case = accepted_case(county, matter, db, date(2026, 11, 16))
    auth.login("a_clerk")
    response = step(client, db, "cases", case.id, "complete", completed_on="2099-01-05", result="办结")
    assert errors_beside(response.get_data(as_text=True), "Choose a day between acceptance and today.")
    assert the_case(db).state == "accepted"


# ------------------------------------------------------------------ waiting for the applicant

def test_applicant_days_are_the_working_days_strictly_between(db, calendar_2026):
    assert applicant_days(date(2026, 11, 16), date(2026, 11, 19)) == 2      # Tue, Wed
    assert applicant_days(date(2026, 9, 29), date(2026, 10, 9)) == 2        # 09-30, 10-08 (holidays skipped)
    assert applicant_days(date(2026, 11, 16), date(2026, 11, 17)) == 0
    assert applicant_days(date(2026, 11, 16), date(2026, 11, 16)) == 0


def test_waiting_for_the_applicant_stops_the_clock(client, auth, county, matter, db):
    case = accepted_case(county, matter, db, date(2026, 11, 9))  # due Friday 11-13
    auth.login("a_clerk")
    assert step(client, db, "cases", case.id, "wait_for_applicant", paused_on="2026-11-11").status_code == 200  # no reason
    assert step(client, db, "cases", case.id, "wait_for_applicant", paused_on="2026-11-11",
                comment="需补充收入证明").status_code == 302
    assert the_case(db).state == "waiting_applicant"
    assert sweep_warnings(date(2026, 11, 12)) == [] and sweep_overdue(date(2026, 11, 16)) == []  # not while waiting
    # Back on Tuesday 11-17: 11-12, 11-13, 11-16 were the applicant's; due 11-13 + 3 = Wednesday 11-18.
    assert step(client, db, "cases", case.id, "applicant_back", resumed_on="2026-11-17").status_code == 302
    case = the_case(db)
    assert (case.state, case.applicant_delay_days, case.due_date, case.overdue) == ("accepted", 3, date(2026, 11, 18), False)
    assert sweep_overdue(date(2026, 11, 18)) == [] and len(sweep_overdue(date(2026, 11, 19))) == 1


def test_applicant_back_before_the_pause_is_refused(client, auth, county, matter, db):
    case = accepted_case(county, matter, db, date(2026, 11, 9))
    auth.login("a_clerk")
    step(client, db, "cases", case.id, "wait_for_applicant", paused_on="2026-11-11", comment="需补充收入证明")
    response = step(client, db, "cases", case.id, "applicant_back", resumed_on="2026-11-10")
    assert errors_beside(response.get_data(as_text=True), "Choose a day between the pause and today.")
    assert the_case(db).state == "waiting_applicant"


# ------------------------------------------------------------------ refusals, reports, joint cases

def test_refusal_without_good_cause_is_overdue_and_the_case_is_handled(client, auth, county, matter, db):
    case = make_case(county["a"], matter, state="refused", intake=date(2026, 11, 9), responsible=county["users"]["a_clerk"],
                     refusal_reason="材料不符", remedies="行政复议")
    db.session.commit()
    auth.login("a_clerk")
    assert step(client, db, "cases", case.id, "overturn_refusal", comment="x").status_code == 403  # the director decides
    auth.logout()
    auth.login("a_director")
    assert f"/r/cases/{case.id}" not in client.get("/worklist").get_data(as_text=True)  # not a queue of old refusals
    assert step(client, db, "cases", case.id, "overturn_refusal").status_code == 200  # a reason is needed
    assert step(client, db, "cases", case.id, "overturn_refusal", comment="经复核，申请材料齐全，拒绝受理无正当理由").status_code == 302
    case = the_case(db)
    assert (case.state, case.overdue, case.overdue_reason, case.due_date) == (
        "accepted", True, "unjustified_refusal", date(2026, 11, 13))


def test_reported_case_follow_ups_are_logged(client, auth, county, matter, db):
    case = accepted_case(county, matter, db, date(2026, 11, 16))
    auth.login("a_clerk")
    assert step(client, db, "cases", case.id, "report", higher_authority="县民政局").status_code == 302
    assert step(client, db, "cases", case.id, "follow_up", comment="电话联系县民政局社会救助股，正在审核").status_code == 302
    comments = db.session.scalars(select(AuditEntry.comment).where(AuditEntry.record_id == case.id,
                                                                   AuditEntry.record_table == "service_case")).all()
    assert "电话联系县民政局社会救助股，正在审核" in comments and the_case(db).state == "reported"


def joint_intake(client, matter, windows, kind="joint", lead=None):
    data = {"applicant_name": "赵六", "applicant_phone": "13812345678", "applicant_id_no": "", "matter_id": matter.id,
            "window_id": lead or matter.window_id, "kind": kind, "channel": "window", "intake_date": "2026-11-20",
            "form_token": f"j{kind}{windows}"}
    for i, name in enumerate(("居民身份证", "临时救助申请书", "困难情况证明")):
        data.update({f"materials-{i}-received": "y", f"materials-{i}-name": name, f"materials-{i}-form": "copy",
                     f"materials-{i}-copies": "1", f"materials-{i}-note": ""})
    for i, window_id in enumerate(windows):
        data.update({f"joint-{i}-window_id": window_id, f"joint-{i}-task": "核实就业情况"})
    return client.post("/r/cases/new", data=data)


def test_joint_case_has_a_lead_window_and_other_windows(client, auth, county, matter, db):
    labour = make_window(county["a"], 4, "劳动保障")
    db.session.commit()
    auth.login("a_clerk")
    html = joint_intake(client, matter, []).get_data(as_text=True)
    assert "Add the windows that handle it together with the lead window." in html
    html = joint_intake(client, matter, [matter.window_id]).get_data(as_text=True)
    assert "The lead window is not also a co-handling window." in html
    html = joint_intake(client, matter, [labour.id], kind="promised").get_data(as_text=True)
    assert "Only a joint case has co-handling windows." in html
    assert db.session.scalar(select(func.count(ServiceCase.id))) == 0
    assert joint_intake(client, matter, [labour.id]).status_code == 302
    case = the_case(db)
    assert [(j.window_id, j.task) for j in case.joint] == [(labour.id, "核实就业情况")]
    step(client, db, "cases", case.id, "accept")
    notice = client.get(f"/r/cases/{case.id}/print/joint").get_data(as_text=True)
    assert "劳动保障" in notice and "民政救助" in notice and "核实就业情况" in notice
    assert db.session.scalar(select(func.count(CaseJointWindow.id))) == 1


# ------------------------------------------------------------------ two people, one case

HANDLED_BY_SOMEONE_ELSE = "This record has already been handled by someone else; look at it again before you act."


ACTED_AT_THE_SAME_MOMENT = "Someone else acted on this record at the same moment; nothing was changed."


def test_two_clerks_completing_the_same_case_one_wins_and_the_other_is_told(app, county, matter, db):
    """Truly at once: two threads, each with its own client and session, released together by a barrier,
    submit the completion form opened at the same version against the fixture's file database."""
    import threading

    assert db.engine.url.database != ":memory:"  # threads need the file-backed database of the fixture
    case = accepted_case(county, matter, db, date(2026, 11, 16))
    version, url = case.version, f"/r/cases/{case.id}/t/complete"
    clients = {"a_clerk": app.test_client(), "a_director": app.test_client()}
    results = {"a_clerk": "办结", "a_director": "另一结果"}
    for username, c in clients.items():  # both logged in and looking at the completion form, same version
        assert c.post("/login", data={"username": username, "password": "secret-pass-1"}).status_code == 302
        assert "completed_on" in c.get(url).get_data(as_text=True)
    db.session.commit()  # the test's own session holds no transaction while the two requests run
    start = threading.Barrier(2, timeout=30)
    answers, errors = {}, []

    def submit(username):
        try:
            start.wait()
            answers[username] = clients[username].post(
                url, data={"completed_on": "2026-11-18", "result": results[username], "form_version": version})
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=submit, args=(u,)) for u in clients]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors, errors
    assert {u: (r.status_code, r.headers.get("Location")) for u, r in answers.items()} == {
        u: (302, f"/r/cases/{case.id}") for u in clients}  # both sent back to the record, neither refused
    pages = {u: clients[u].get(f"/r/cases/{case.id}").get_data(as_text=True) for u in clients}
    told = {u for u, page in pages.items() if HANDLED_BY_SOMEONE_ELSE in page or ACTED_AT_THE_SAME_MOMENT in page}
    done = {u for u, page in pages.items() if "Done: " in page}
    assert len(done) == 1 and len(told) == 1 and done | told == set(clients), (done, told)
    (winner,) = done
    db.session.expire_all()
    won = db.session.get(ServiceCase, case.id)
    assert (won.state, won.result, won.version) == ("completed", results[winner], version + 1)


def test_a_step_taken_twice_at_once_keeps_one(app, client, auth, county, matter, db, monkeypatch):
    """The engine's optimistic lock: another writer bumps the version between load and flush."""
    from sqlalchemy import text

    from app.cases import CASE_WORKFLOW
    case = accepted_case(county, matter, db, date(2026, 11, 16))
    complete = CASE_WORKFLOW.transition("complete")
    original = complete.on_apply

    def meanwhile(ctx):  # someone else's UPDATE lands before ours is flushed
        with db.session.no_autoflush:
            db.session.execute(text("UPDATE service_case SET version = version + 1 WHERE id = :id"), {"id": ctx.record.id})
        original(ctx)

    monkeypatch.setattr(complete, "on_apply", meanwhile)
    auth.login("a_clerk")
    response = step(client, db, "cases", case.id, "complete", completed_on="2026-11-18", result="办结")
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Someone else acted on this record at the same moment; nothing was changed." in page
    assert the_case(db).state == "accepted"


def test_a_stale_form_for_a_step_that_keeps_the_state_is_refused(app, county, matter, db):
    case = accepted_case(county, matter, db, date(2026, 11, 16))
    first, second = app.test_client(), app.test_client()
    first.post("/login", data={"username": "a_clerk", "password": "secret-pass-1"})
    second.post("/login", data={"username": "a_director", "password": "secret-pass-1"})
    data = {"applicant_delay_days": "1", "comment": "申请人未按约到场", "form_version": case.version}
    assert first.post(f"/r/cases/{case.id}/t/applicant_delay", data=data).status_code == 302
    late = second.post(f"/r/cases/{case.id}/t/applicant_delay", data={**data, "applicant_delay_days": "2"},
                       follow_redirects=True)
    assert HANDLED_BY_SOMEONE_ELSE in late.get_data(as_text=True)
    assert the_case(db).applicant_delay_days == 1
