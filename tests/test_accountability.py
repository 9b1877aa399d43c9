"""Accountability (责任追究) [000 责任追究制 第五条–第九条; SPEC §4.9] and return recommendations
[001 二(4); SPEC §4.8]: the outcome bounded by the severity, no decision before the person was heard,
the person writes only their statement and appeal, the system proposes (once) and never decides,
"two in a year" is counted, returns are flagged at 2 verified complaints or 2 criticisms, per centre."""
from __future__ import annotations

from datetime import date, datetime

import pytest
from sqlalchemy import select

from app import accountability as ac
from app import complaints as cp
from app.records import operations
from models.accountability import AccountabilityRecord, ReturnRecommendation
from models.notification import Notification
from tests.conftest import make_case, make_user


def refused(db, step, *args, **kwargs) -> operations.Refused:
    with pytest.raises(operations.Refused) as caught:
        with db.session.begin_nested():
            step(*args, **kwargs)
    return caught.value


def propose(center, user, staff, **values) -> AccountabilityRecord:
    data = dict(staff_id=staff.id, source="other", occurred_on=date(2026, 11, 23), violation="v02",
                facts="值班时间擅自离开窗口40分钟")
    data.update(values)
    return operations.create(ac.ACCOUNTABILITY, user, data, center_id=center.id)


def step(record, name, user, **values):
    return operations.transition(ac.ACCOUNTABILITY, record, name, user, values)


def heard(record, director, staff, statement="当时临时身体不适，已向同事口头交代。"):
    """Investigated, asked, and the person's statement given."""
    step(record, "investigate", director)
    step(record, "request_statement", director)
    step(record, "give_statement", staff, statement=statement)
    return record


def decided(record, director, staff, severity="heavier", outcome="criticism"):
    heard(record, director, staff)
    return step(record, "decide", director, severity=severity, outcome=outcome, decision_text="给予处理")


# ------------------------------------------------------------------ 第五条: severity bounds the outcome

def test_outcome_must_match_severity(county, db, on_day):
    on_day(date(2026, 11, 25))
    users = county["users"]
    director, clerk = users["a_director"], users["a_clerk"]
    with pytest.raises(operations.Invalid) as caught:
        propose(county["a"], director, clerk, severity="light", outcome="warning")
    assert "告诫" in caught.value.errors["outcome"]                  # beside the outcome, in Chinese
    assert db.session.scalar(select(AccountabilityRecord.id)) is None  # nothing half-saved

    r = heard(propose(county["a"], director, clerk), director, clerk)
    err = refused(db, step, r, "decide", director, severity="severe", outcome="criticism", decision_text="通报")
    assert err.field == "outcome" and "记大过" in err.message
    assert r.state == "stated"
    for severity, outcome in (("light", "admonish"), ("heavier", "transfer"), ("severe", "dismissal")):
        assert ac.outcome_fits(severity, outcome)
    assert not ac.outcome_fits("heavier", "admonish") and not ac.outcome_fits("light", "criticism")
    step(r, "decide", director, severity="heavier", outcome="warning", decision_text="给予警告处分")
    assert (r.state, r.effective_outcome, r.decided_by_id, r.decided_on) == (
        "decided", "warning", director.id, date(2026, 11, 25))


# ------------------------------------------------------------------ 第九条: heard before the decision

def test_decision_refused_before_the_statement(county, db, on_day):
    on_day(date(2026, 11, 25))
    users = county["users"]
    director, clerk = users["a_director"], users["a_clerk"]
    r = propose(county["a"], director, clerk)
    for before in ("proposed", "investigating", "awaiting_statement"):
        assert r.state == before
        refused(db, step, r, "decide", director, severity="light", outcome="admonish", decision_text="告诫")
        if before == "proposed":
            step(r, "investigate", director)
        elif before == "investigating":
            step(r, "request_statement", director)
    # Even a record pushed into "stated" without a statement is refused, beside the statement.
    r.state = "stated"
    err = refused(db, step, r, "decide", director, severity="light", outcome="admonish", decision_text="告诫")
    assert err.field == "statement" and "第九条" in err.message
    # The person's declining to state, once recorded, opens the decision.
    r.state = "awaiting_statement"
    step(r, "record_declined", director, declined_note="本人书面表示不作陈述")
    assert r.statement_declined and r.state == "stated"
    step(r, "decide", director, severity="light", outcome="admonish", decision_text="予以告诫")
    assert r.state == "decided"


def test_subject_may_write_only_the_statement(client, auth, county, db, on_day):
    on_day(date(2026, 11, 25))
    users = county["users"]
    director, clerk, colleague = users["a_director"], users["a_clerk"], users["a_agent"]
    r = propose(county["a"], director, clerk)
    step(r, "investigate", director)
    step(r, "request_statement", director)
    db.session.commit()
    assert refused(db, operations.update, ac.ACCOUNTABILITY, r, clerk, {"facts": "没有离岗"})
    for other in (colleague, director, users["a_deputy"]):      # only the person states
        refused(db, step, r, "give_statement", other, statement="代为陈述")
    step(r, "give_statement", clerk, statement="离岗是因为取材料", facts="改写事实", severity="light")
    assert r.statement == "离岗是因为取材料" and r.facts == "值班时间擅自离开窗口40分钟" and r.severity == ""
    refused(db, step, r, "decide", clerk, severity="light", outcome="admonish", decision_text="自己决定")
    db.session.commit()

    auth.login("a_clerk")                                        # reads the own record, cannot edit it
    assert client.get(f"/r/accountability/{r.id}").status_code == 200
    assert client.get(f"/r/accountability/{r.id}/edit").status_code == 403
    auth.logout()
    auth.login("a_agent")                                        # a colleague does not read it
    assert client.get(f"/r/accountability/{r.id}").status_code in (403, 404)
    auth.logout()
    auth.login("a_deputy")                                       # the deputy reads, does not decide
    assert client.get(f"/r/accountability/{r.id}").status_code == 200
    refused(db, step, r, "decide", users["a_deputy"], severity="light", outcome="admonish", decision_text="x")


def test_appeal_by_the_person_within_15_working_days_against_a_sanction_only(county, db, on_day, calendar_2026):
    users = county["users"]
    director, clerk, leader = users["a_director"], users["a_clerk"], users["a_leader"]
    on_day(date(2026, 9, 21))                                   # a Monday before National Day
    r = decided(propose(county["a"], director, clerk, occurred_on=date(2026, 9, 18)), director, clerk,
                outcome="demerit")
    # 15 working days from 21 September, day 1 included, skip the National Day holiday (1–7 October).
    assert r.appeal_due == date(2026, 10, 16)
    on_day(date(2026, 10, 19))
    assert "申诉期限已过" in refused(db, step, r, "appeal", clerk, appeal_text="不服").message
    on_day(date(2026, 10, 16))
    refused(db, step, r, "appeal", director, appeal_text="代为申诉")          # the person appeals
    step(r, "appeal", clerk, appeal_text="事出有因，处分过重")
    step(r, "decide_appeal", leader, appeal_result="changed", appeal_outcome="warning", appeal_decision="改为警告")
    assert (r.state, r.outcome, r.effective_outcome) == ("appeal_decided", "demerit", "warning")

    # 告诫 and 通报批评 are not 行政处分: no appeal under 第九条.
    light = decided(propose(county["a"], director, clerk, occurred_on=date(2026, 9, 18)), director, clerk,
                    severity="light", outcome="admonish")
    assert "行政处分" in refused(db, step, light, "appeal", clerk, appeal_text="不服").message


def test_dismissal_needs_a_reason_and_is_not_counted(county, db, on_day):
    on_day(date(2026, 11, 25))
    users = county["users"]
    director, clerk = users["a_director"], users["a_clerk"]
    r = propose(county["a"], director, clerk)
    refused(db, step, r, "dismiss", director)
    step(r, "dismiss", director, dismiss_reason="经调查，离岗系经批准的请假")
    assert r.state == "dismissed"
    [pc] = ac.counts_by_person(county["a"].id, 2026)
    assert (pc.proposed, pc.dismissed, pc.decided) == (1, 1, 0)


# ------------------------------------------------------------------ proposals by the system

def test_proposal_from_an_overdue_case_is_not_a_decision_and_is_not_duplicated(county, db, on_day):
    from jobs.accountability_jobs import accountability_proposals
    on_day(date(2026, 11, 30))
    users = county["users"]
    clerk = users["a_clerk"]
    late = make_case(county["a"], state="accepted", responsible=clerk, overdue=True, due_date=date(2026, 11, 27))
    make_case(county["a"], state="accepted", responsible=clerk, due_date=date(2026, 12, 4))  # in time
    make_case(county["a"], state="accepted", overdue=True, due_date=date(2026, 11, 27))      # nobody responsible
    db.session.commit()

    made = ac.propose_from_overdue(date(2026, 11, 30))
    assert len(made) == 1
    r = made[0]
    assert (r.state, r.staff_id, r.case_id, r.source, r.violation) == ("proposed", clerk.id, late.id,
                                                                       "overdue_case", ac.OVERDUE_VIOLATION)
    assert r.proposed_by_system and r.decided_on is None and r.outcome == "" and r.created_by_id is None
    assert r.occurred_on == date(2026, 11, 27)
    assert ac.propose_from_overdue(date(2026, 12, 1)) == []             # run twice: no duplicate
    db.session.commit()
    # A second record linking the same case is refused, beside the link.
    with pytest.raises(operations.Invalid) as caught:
        propose(county["a"], users["a_director"], clerk, case_id=late.id)
    assert "已有" in caught.value.errors["case_id"]

    # The daily job: the director is told once, nobody decides.
    late2 = make_case(county["a"], state="accepted", responsible=clerk, overdue=True, due_date=date(2026, 11, 26))
    db.session.commit()
    out = accountability_proposals(datetime(2026, 12, 1, 6, 40))
    assert out.startswith("1 proposed from overdue cases")
    notes = db.session.scalars(select(Notification).where(Notification.user_id == users["a_director"].id)).all()
    assert len(notes) == 1 and notes[0].link.startswith("/r/accountability/")
    accountability_proposals(datetime(2026, 12, 2, 6, 40))
    assert db.session.scalar(select(db.func.count(AccountabilityRecord.id))) == 2
    assert len(db.session.scalars(select(Notification).where(
        Notification.user_id == users["a_director"].id)).all()) == 1
    assert {r.state for r in db.session.scalars(select(AccountabilityRecord))} == {"proposed"}
    assert late2.id in {r.case_id for r in db.session.scalars(select(AccountabilityRecord))}


def test_verified_complaint_naming_a_person_proposes_once(county, db, on_day):
    on_day(date(2026, 11, 30))
    users = county["users"]
    clerk = users["a_clerk"]

    def complaint(verified=True, staff=clerk, problem="attitude"):
        c = operations.create(cp.COMPLAINTS, users["a_director"], dict(
            channel="in_person", received_at=datetime(2026, 11, 23, 9, 30), complainant_title="ms",
            complainant_name="李梅", complainant_phone="13912345678", matter="窗口推诿", facts="往返三次",
            urgency="normal", problem_type=problem, staff_id=staff.id if staff else None,
            staff_named="" if staff else "某人"), center_id=county["a"].id)
        c.verified = verified
        return c

    rude = complaint()
    complaint(verified=False)
    complaint(staff=None)
    db.session.commit()
    [r] = ac.propose_from_complaints(date(2026, 11, 30))
    assert (r.complaint_id, r.staff_id, r.violation, r.state) == (rude.id, clerk.id, "v01", "proposed")
    assert ac.propose_from_complaints(date(2026, 11, 30)) == []


# ------------------------------------------------------------------ 第六条 (二): two in a year

def test_two_in_a_year_is_aggravating(county, db, on_day):
    on_day(date(2026, 11, 25))
    users = county["users"]
    director, clerk = users["a_director"], users["a_clerk"]
    first = propose(county["a"], director, clerk, occurred_on=date(2026, 3, 2))
    assert not first.agg_repeat                                  # nothing decided yet
    second = propose(county["a"], director, clerk, occurred_on=date(2026, 10, 9))
    assert not second.agg_repeat                                 # a proposal alone does not count
    decided(first, director, clerk)
    assert not first.agg_repeat and first.prior_in_year == 0

    step(second, "investigate", director)                        # recounted on every step
    assert second.agg_repeat and second.prior_in_year == 1
    assert any("第六条" in w for w in ac.ACCOUNTABILITY.warnings(ac.ACCOUNTABILITY.ctx(second, director)))
    other_year = propose(county["a"], director, clerk, occurred_on=date(2025, 12, 30))
    assert not other_year.agg_repeat
    colleague = propose(county["a"], director, users["a_agent"], occurred_on=date(2026, 5, 6))
    assert not colleague.agg_repeat
    # Frozen with the decision: each stays as it was decided.
    step(second, "request_statement", director)
    step(second, "give_statement", clerk, statement="确有其事")
    step(second, "decide", director, severity="heavier", outcome="warning", decision_text="从重给予警告")
    assert second.agg_repeat and second.prior_in_year == 1 and not first.agg_repeat


# ------------------------------------------------------------------ returns [001 二(4)]

def _verified_complaint(center, user, staff, received=datetime(2026, 4, 7, 9, 0)):
    c = operations.create(cp.COMPLAINTS, user, dict(
        channel="in_person", received_at=received, complainant_title="mr", complainant_name="王五",
        complainant_phone="13900000000", matter="推诿", facts="多次往返", urgency="normal", problem_type="attitude",
        staff_id=staff.id), center_id=center.id)
    c.verified = True
    return c


def test_return_flagged_at_two_verified_complaints(county, db, on_day):
    on_day(date(2026, 11, 30))
    users = county["users"]
    center, clerk, director = county["a"], users["a_clerk"], users["a_director"]
    _verified_complaint(center, director, clerk)
    db.session.commit()
    assert ac.flag_returns(center.id, 2026) == []                # one is not enough
    _verified_complaint(center, director, clerk)
    _verified_complaint(center, director, clerk, received=datetime(2025, 6, 2, 9, 0))   # another year
    db.session.commit()
    [rec] = ac.flag_returns(center.id, 2026)
    assert (rec.staff_id, rec.year, rec.complaint_count, rec.state) == (clerk.id, 2026, 2, "open")
    assert "投诉2次" in rec.grounds
    assert ac.flag_returns(center.id, 2026) == []                # idempotent per clerk and year
    assert ac.flag_returns(center.id, 2025) == []
    # A recommendation only: the director confirms it; the account stays as it was.
    operations.transition(ac.RETURNS, rec, "confirm", director, {"decision_note": "报派驻部门"})
    assert rec.state == "confirmed" and clerk.active
    refused(db, operations.transition, ac.RETURNS, rec, "dismiss", director, {"decision_note": "x"})


def test_return_flagged_at_two_criticisms(county, db, on_day):
    on_day(date(2026, 11, 25))
    users = county["users"]
    center, clerk, director = county["a"], users["a_clerk"], users["a_director"]
    decided(propose(center, director, clerk, occurred_on=date(2026, 3, 2)), director, clerk, outcome="criticism")
    decided(propose(center, director, clerk, occurred_on=date(2026, 5, 2)), director, clerk, outcome="warning")
    db.session.commit()
    assert ac.flag_returns(center.id, 2026) == []                # one criticism, one warning
    decided(propose(center, director, clerk, occurred_on=date(2026, 6, 2)), director, clerk, outcome="criticism")
    db.session.commit()
    [rec] = ac.flag_returns(center.id, 2026)
    assert rec.criticism_count == 2 and "通报批评2次" in rec.grounds
    # The director may dismiss it with a reason; the next run does not bring it back.
    refused(db, operations.transition, ac.RETURNS, rec, "dismiss", director, {})
    operations.transition(ac.RETURNS, rec, "dismiss", director, {"decision_note": "已调整岗位，暂不退回"})
    assert ac.flag_returns(center.id, 2026) == []
    assert db.session.scalar(select(db.func.count(ReturnRecommendation.id))) == 1


def test_failed_assessment_plugs_in_as_a_ground_for_return(county, db, monkeypatch):
    users = county["users"]
    center, clerk = county["a"], users["a_clerk"]
    monkeypatch.setattr(ac, "RETURN_GROUNDS", {})
    ac.add_return_ground("assessment", lambda center_id, year: {clerk.id: f"{year}年度考核不称职"})
    [rec] = ac.flag_returns(center.id, 2026, date(2026, 12, 30))
    assert "年度考核不称职" in rec.grounds


# ------------------------------------------------------------------ counts, pages, paper, centres

def test_counts_by_person_for_the_assessments(client, auth, county, db, on_day):
    on_day(date(2026, 11, 25))
    users = county["users"]
    center, clerk, director = county["a"], users["a_clerk"], users["a_director"]
    decided(propose(center, director, clerk), director, clerk, outcome="criticism")
    decided(propose(center, director, clerk), director, clerk, severity="light", outcome="admonish")
    propose(center, director, clerk)
    propose(center, director, users["a_agent"])
    db.session.commit()
    counts = {p.user.id: p for p in ac.counts_by_person(center.id, 2026)}
    assert (counts[clerk.id].proposed, counts[clerk.id].open, counts[clerk.id].decided) == (3, 1, 2)
    assert counts[clerk.id].outcome("criticism") == 1 and counts[clerk.id].outcome("admonish") == 1
    assert counts[users["a_agent"].id].decided == 0
    assert ac.counts_by_person(center.id, 2025) == []

    auth.login("a_director")
    html = client.get("/accountability/counts?year=2026").get_data(as_text=True)
    assert clerk.name in html and "通报批评" in html
    assert client.get("/accountability/counts?year=99999").status_code == 404
    auth.logout()
    auth.login("a_clerk")
    assert client.get("/accountability/counts").status_code == 403


def test_decision_printout(client, auth, county, db, on_day, tmp_path):
    on_day(date(2026, 11, 25))
    users = county["users"]
    r = decided(propose(county["a"], users["a_director"], users["a_clerk"], mit_apology=True),
                users["a_director"], users["a_clerk"], outcome="demerit")
    db.session.commit()
    auth.login("a_director")
    page = client.get(f"/r/accountability/{r.id}/print/decision")
    assert page.status_code == 200 and "责任追究处理决定书" in page.get_data(as_text=True)


def test_centre_isolation(client, auth, county, db, on_day):
    on_day(date(2026, 11, 25))
    users = county["users"]
    a, b = county["a"], county["b"]
    r = propose(a, users["a_director"], users["a_clerk"])
    # A person of another centre cannot be held accountable here.
    with pytest.raises(operations.Invalid) as caught:
        propose(a, users["a_director"], users["b_clerk"])
    assert "本中心" in caught.value.errors["staff_id"]
    case_b = make_case(b, state="accepted", responsible=users["b_clerk"], overdue=True, due_date=date(2026, 11, 20))
    db.session.commit()
    [rb] = ac.propose_from_overdue(date(2026, 11, 25))
    assert rb.center_id == b.id and rb.case_id == case_b.id
    db.session.commit()
    assert {p.user.id for p in ac.counts_by_person(b.id, 2026)} == {users["b_clerk"].id}
    auth.login("b_director")
    assert client.get(f"/r/accountability/{r.id}").status_code == 404
    assert client.get(f"/r/accountability/{r.id}/edit").status_code == 404
    auth.logout()
    auth.login("county_sup")
    assert client.get(f"/r/accountability/{r.id}").status_code == 200
    assert client.get(f"/r/accountability/{r.id}/edit").status_code == 403


def test_decision_printout_pdf(client, auth, county, db, on_day):
    """Writes the PDF to /tmp/acc/decision.pdf when that folder exists (to look at it)."""
    import os
    on_day(date(2026, 11, 25))
    users = county["users"]
    r = propose(county["a"], users["a_director"], users["a_clerk"], mit_apology=True, agg_obstruction=True,
                factors_note="调查中曾拒绝提供值班记录")
    heard(r, users["a_director"], users["a_clerk"], statement="当天上午十点因家中急事离开窗口约40分钟，\n未按规定请假，愿意接受处理。")
    step(r, "decide", users["a_director"], severity="heavier", outcome="demerit",
         decision_text="经调查，该同志值班期间擅自离岗，情节较重，依据第五条给予记过处分。")
    db.session.commit()
    auth.login("a_director")
    client.post(f"/r/accountability/{r.id}/print/decision")
    pdf = client.get(f"/r/accountability/{r.id}/print/decision.pdf")
    assert pdf.status_code == 200 and pdf.data[:4] == b"%PDF"
    if os.path.isdir("/tmp/acc"):
        with open("/tmp/acc/decision.pdf", "wb") as fh:
            fh.write(pdf.data)


def test_outcome_mismatch_is_shown_beside_the_outcome_on_the_pages(client, auth, county, db, on_day):
    on_day(date(2026, 11, 25))
    users = county["users"]
    r = propose(county["a"], users["a_director"], users["a_clerk"])
    step(r, "investigate", users["a_director"])
    step(r, "request_statement", users["a_director"])
    db.session.commit()
    auth.login("a_clerk")                                       # the person states through the page
    page = client.get(f"/r/accountability/{r.id}/t/give_statement")
    assert page.status_code == 200
    assert client.post(f"/r/accountability/{r.id}/t/give_statement",
                       data={"statement": "情况属实，愿意改正", "form_version": r.version}).status_code == 302
    auth.logout()
    db.session.refresh(r)
    assert r.state == "stated" and r.statement == "情况属实，愿意改正"
    auth.login("a_director")
    html = client.post(f"/r/accountability/{r.id}/t/decide",
                       data={"severity": "light", "outcome": "demerit", "decision_text": "记过",
                             "form_version": r.version}).get_data(as_text=True)
    assert "情节较轻的，处理方式只能是：告诫" in html
    db.session.refresh(r)
    assert r.state == "stated" and r.outcome == ""
    html = client.post("/r/accountability/new", data={
        "staff_id": users["a_clerk"].id, "source": "other", "occurred_on": "2026-11-20", "violation": "v03",
        "facts": "应当场办理而未办理", "severity": "severe", "outcome": "admonish", "complaint_id": 0}).get_data(as_text=True)
    assert "情节严重的，处理方式只能是" in html
    assert db.session.scalar(select(db.func.count(AccountabilityRecord.id))) == 1
