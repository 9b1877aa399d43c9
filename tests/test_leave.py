"""Leave slips (请假条) and A/B posts [000 考勤 §2–4, AB岗 §1–4; 001 五]: the three approval chains by
length in working days, no self-approval, B scheduled on approval with A's cases, the empty-post warning,
the 20-minute rule, 销假, the "on duty today" board, the reminders, the paper slip."""
from __future__ import annotations

from datetime import date, time

import pytest
from sqlalchemy import select

from app.leave import LEAVE_SLIPS, empty_post_days, on_duty, working_days_in
from app.records import operations
from app.records.registry import Refused
from app.records.workflow import available
from models.catalogue import Post
from models.staff import LeaveSlip, PostCover
from tests.conftest import make_case, make_user, make_window


@pytest.fixture
def hall(county, db, calendar_2026, monkeypatch):
    """Centre A with a post held by a_clerk (A) and a second clerk (B), on Tuesday 2026-12-01."""
    monkeypatch.setattr("app.timeutil.today", lambda: date(2026, 12, 1))
    a = county["a"]
    users = dict(county["users"])
    users["b_clerk2"] = make_user(a, "clerk", username="a_clerk2", name="王B岗")
    users["other"] = make_user(a, "clerk", username="a_clerk3", name="赵其他")
    window = make_window(a, 4, "民政救助")
    post = Post(center_id=a.id, name="低保受理", window_id=window.id, a_holder_id=users["a_clerk"].id,
                b_holder_id=users["b_clerk2"].id)
    db.session.add(post)
    db.session.commit()
    return {"center": a, "users": users, "post": post, "window": window}


def slip(hall, who="a_clerk", start=date(2026, 12, 3), end=None, **values):
    user = hall["users"][who]
    data = {"staff_id": user.id, "kind": "personal", "start_on": start, "end_on": end or start,
            "reason": "家中有事", "phone": "13900001111", **values}
    return operations.create(LEAVE_SLIPS, user, data, center_id=hall["center"].id)


def step(hall, record, name, who, comment="同意", values=None):
    return operations.transition(LEAVE_SLIPS, record, name, hall["users"][who], values, comment=comment)


def steps_for(hall, record, who):
    return {t.name for t in available(LEAVE_SLIPS, record, hall["users"][who])}


def test_leave_of_one_day_is_approved_by_the_deputy_alone(hall, db):
    record = slip(hall)
    step(hall, record, "submit", "a_clerk")
    assert record.state == "awaiting_deputy"
    assert "deputy_approve" in steps_for(hall, record, "a_deputy")
    assert not steps_for(hall, record, "a_director") & {"deputy_approve", "director_approve"}
    step(hall, record, "deputy_approve", "a_deputy")
    assert record.state == "approved"


def test_leave_over_one_to_two_days_needs_the_deputy_opinion_then_the_director(hall, db):
    record = slip(hall, start=date(2026, 12, 3), end=date(2026, 12, 4))
    assert record.days == 2
    step(hall, record, "submit", "a_clerk")
    assert "deputy_approve" not in steps_for(hall, record, "a_deputy")   # the deputy only gives an opinion
    step(hall, record, "deputy_to_director", "a_deputy", comment="情况属实，同意报主任")
    assert record.state == "awaiting_director"
    step(hall, record, "director_approve", "a_director")
    assert record.state == "approved"


def test_leave_over_two_days_needs_the_deputy_and_director_then_the_town_leader(hall, db):
    record = slip(hall, start=date(2026, 12, 3), end=date(2026, 12, 7))   # Thu, Fri, Mon: 3 working days
    assert record.days == 3
    step(hall, record, "submit", "a_clerk")
    step(hall, record, "deputy_to_director", "a_deputy", comment="同意")
    assert "director_approve" not in steps_for(hall, record, "a_director")
    step(hall, record, "director_to_leader", "a_director", comment="同意，报镇领导")
    step(hall, record, "leader_approve", "a_leader")
    assert record.state == "approved"
    assert [o.role for o in operations.opinions(record)] == ["deputy", "director", "leader"]


def test_leave_across_national_day_2026_counts_working_days_only(hall, db):
    # 09-30 works; 10-01…10-07 are the holiday; 10-08 and 10-09 work; 10-10 (Saturday) is a make-up working day.
    assert working_days_in(date(2026, 9, 30), date(2026, 10, 9)) == 3
    assert working_days_in(date(2026, 10, 1), date(2026, 10, 7)) == 0
    assert working_days_in(date(2026, 10, 9), date(2026, 10, 11)) == 2
    record = slip(hall, start=date(2026, 9, 30), end=date(2026, 10, 8))
    assert record.days == 2                    # a two-day leave: the director decides, not the town leader


def test_a_leave_on_holidays_only_is_refused(hall, db):
    with pytest.raises(operations.Invalid) as refused:
        slip(hall, start=date(2026, 10, 2), end=date(2026, 10, 5))
    assert "没有工作日" in refused.value.errors["start_on"]


def test_no_self_approval_a_deputy_cannot_approve_their_own_slip(hall, db):
    record = slip(hall, who="a_deputy")
    step(hall, record, "submit", "a_deputy")
    assert "deputy_approve" not in steps_for(hall, record, "a_deputy")
    with pytest.raises(Refused):
        step(hall, record, "deputy_approve", "a_deputy")
    assert record.state == "awaiting_deputy"


def test_an_approval_by_someone_outside_the_chain_is_refused(hall, db, client, auth):
    record = slip(hall)
    step(hall, record, "submit", "a_clerk")
    db.session.commit()
    for who in ("a_director", "a_clerk2", "b_deputy"):
        auth.logout()
        auth.login(who)
        response = client.post(f"/r/leave-slips/{record.id}/t/deputy_approve",
                               data={"comment": "同意", "form_version": record.version})
        assert response.status_code in (403, 404), who
    db.session.expire_all()
    assert db.session.get(LeaveSlip, record.id).state == "awaiting_deputy"


def test_an_end_before_the_start_is_refused_beside_the_end(hall, db):
    with pytest.raises(operations.Invalid) as refused:
        slip(hall, start=date(2026, 12, 4), end=date(2026, 12, 3))
    assert refused.value.errors["end_on"] == "结束日期不能早于开始日期。"
    assert db.session.scalar(select(LeaveSlip.id)) is None


def test_overlapping_leave_for_the_same_person_is_refused(hall, db):
    first = slip(hall, start=date(2026, 12, 3), end=date(2026, 12, 4))
    step(hall, first, "submit", "a_clerk")
    with pytest.raises(operations.Invalid) as refused:
        slip(hall, start=date(2026, 12, 4), end=date(2026, 12, 7))
    assert "重叠" in refused.value.errors["start_on"]
    slip(hall, start=date(2026, 12, 7), end=date(2026, 12, 7))     # the next working day is fine


def test_a_clerk_files_leave_only_for_themself(hall, db):
    with pytest.raises(operations.Invalid) as refused:
        operations.create(LEAVE_SLIPS, hall["users"]["a_clerk"],
                          {"staff_id": hall["users"]["other"].id, "kind": "personal", "start_on": date(2026, 12, 3),
                           "end_on": date(2026, 12, 3), "reason": "x", "phone": "13900001111"},
                          center_id=hall["center"].id)
    assert "本人" in refused.value.errors["staff_id"]


def test_a_substitute_who_is_also_away_is_refused(hall, db):
    away = slip(hall, who="b_clerk2")
    step(hall, away, "submit", "b_clerk2")
    with pytest.raises(operations.Invalid) as refused:
        slip(hall, substitute_id=hall["users"]["b_clerk2"].id)
    assert "也请假" in refused.value.errors["substitute_id"]


def test_leaving_the_window_over_20_minutes_needs_a_named_substitute(hall, db):
    short = dict(kind="short", start=date(2026, 12, 1), start_time=time(10, 0))
    with pytest.raises(operations.Invalid) as refused:
        slip(hall, end_time=time(10, 21), **short)
    assert "20分钟" in refused.value.errors["substitute_id"]
    record = slip(hall, end_time=time(10, 21), substitute_id=hall["users"]["other"].id, **short)
    assert record.minutes == 21 and record.days == 1           # routed like a one-day leave: the deputy decides
    twenty = slip(hall, start=date(2026, 12, 1), kind="short", start_time=time(15, 0), end_time=time(15, 20))
    assert twenty.minutes == 20                                # 20 minutes: a direction sign, no substitute needed
    assert any("去向牌" in str(w) for w in LEAVE_SLIPS.warnings(LEAVE_SLIPS.ctx(twenty, hall["users"]["a_clerk"])))


def test_a_holder_asking_less_than_a_day_ahead_is_marked_late(hall, db):
    today = slip(hall, start=date(2026, 12, 1))
    step(hall, today, "submit", "a_clerk")
    assert today.late_request is True
    ahead = slip(hall, start=date(2026, 12, 2))
    step(hall, ahead, "submit", "a_clerk")
    assert ahead.late_request is False


def test_b_is_scheduled_on_approval_and_handles_a_cases_with_a_rights(hall, db, monkeypatch):
    from app.cases import CASES
    from app.records.worklist import for_user
    users = hall["users"]
    case = make_case(hall["center"], responsible=users["a_clerk"], state="accepted")
    db.session.commit()
    b = users["b_clerk2"]
    assert "complete" not in {t.name for t in available(CASES, case, b)}   # not B's case yet
    record = slip(hall, start=date(2026, 12, 2), end=date(2026, 12, 2))
    step(hall, record, "submit", "a_clerk")
    step(hall, record, "deputy_approve", "a_deputy")
    cover = db.session.scalar(select(PostCover))
    assert (cover.post_id, cover.cover_id, cover.start_on, cover.end_on) == (
        hall["post"].id, b.id, date(2026, 12, 2), date(2026, 12, 2))
    db.session.commit()
    from flask import g
    monkeypatch.setattr("app.timeutil.today", lambda: date(2026, 12, 2))
    g.__dict__.clear()
    assert "complete" in {t.name for t in available(CASES, case, b)}         # A's case, with A's rights
    assert case.id in {item.record.id for item in for_user(b)}
    monkeypatch.setattr("app.timeutil.today", lambda: date(2026, 12, 3))   # A is back: B no longer acts for A
    g.__dict__.clear()
    assert "complete" not in {t.name for t in available(CASES, case, b)}


def test_reporting_back_early_ends_the_cover_the_day_before(hall, db, monkeypatch):
    record = slip(hall, start=date(2026, 12, 2), end=date(2026, 12, 4))
    step(hall, record, "submit", "a_clerk")
    step(hall, record, "deputy_to_director", "a_deputy")
    step(hall, record, "director_to_leader", "a_director")
    step(hall, record, "leader_approve", "a_leader")
    monkeypatch.setattr("app.timeutil.today", lambda: date(2026, 12, 3))
    step(hall, record, "report_back", "a_clerk", values={"back_on": date(2026, 12, 3)})
    assert record.state == "back"
    assert db.session.scalar(select(PostCover.end_on)) == date(2026, 12, 2)


def test_the_empty_post_warning_names_the_days_both_a_and_b_are_away(hall, db):
    b_leave = slip(hall, who="b_clerk2", start=date(2026, 12, 3), end=date(2026, 12, 4))
    step(hall, b_leave, "submit", "b_clerk2")
    record = slip(hall, start=date(2026, 12, 4), end=date(2026, 12, 7))
    [(post, days)] = empty_post_days(record)
    assert post.id == hall["post"].id and days == [date(2026, 12, 4)]
    warnings = [str(w) for w in LEAVE_SLIPS.warnings(LEAVE_SLIPS.ctx(record, hall["users"]["a_deputy"]))]
    assert warnings == ["低保受理：12月4日A、B岗均不在岗（空岗），请另行安排人员。"]


def test_the_approver_sees_the_empty_post_warning_on_the_slip(hall, db, client, auth):
    b_leave = slip(hall, who="b_clerk2", start=date(2026, 12, 3))
    step(hall, b_leave, "submit", "b_clerk2")
    record = slip(hall, start=date(2026, 12, 3))
    step(hall, record, "submit", "a_clerk")
    db.session.commit()
    auth.login("a_deputy")
    page = client.get(f"/r/leave-slips/{record.id}").get_data(as_text=True)
    assert "12月3日A、B岗均不在岗" in page


def test_the_on_duty_board_shows_b_covering_a_and_empty_posts(hall, db, client, auth):
    record = slip(hall, start=date(2026, 12, 1))
    step(hall, record, "submit", "a_clerk")
    step(hall, record, "deputy_approve", "a_deputy")
    empty = Post(center_id=hall["center"].id, name="无人岗位", window_id=hall["window"].id)
    db.session.add(empty)
    db.session.commit()
    rows = {r.post.name: r for r in on_duty(hall["center"].id, date(2026, 12, 1))}
    assert rows["低保受理"].covering and rows["低保受理"].on_duty.name == "王B岗"
    assert rows["无人岗位"].empty
    assert not on_duty(hall["center"].id, date(2026, 12, 2))[0].covering   # A back the next day
    auth.login("a_director")
    page = client.get("/staff/on-duty").get_data(as_text=True)
    assert "王B岗" in page and "B岗顶岗" in page and "空岗" in page
    auth.logout()
    public = client.get(f"/p/{hall['center'].code}/on-duty")
    assert public.status_code == 200 and "王B岗" in public.get_data(as_text=True)
    assert "事假" not in public.get_data(as_text=True)      # the hall screen does not say why A is away


def test_staff_read_only_their_own_slips(hall, db, client, auth):
    mine = slip(hall)
    theirs = slip(hall, who="other")
    db.session.commit()
    auth.login("a_clerk")
    assert client.get(f"/r/leave-slips/{mine.id}").status_code == 200
    assert client.get(f"/r/leave-slips/{theirs.id}").status_code in (403, 404)
    auth.logout()
    auth.login("b_director")
    assert client.get(f"/r/leave-slips/{mine.id}").status_code in (403, 404)


def test_save_and_submit_takes_one_form(hall, db, client, auth):
    auth.login("a_clerk")
    form = client.get("/r/leave-slips/new").get_data(as_text=True)
    assert "保存并提交审批" in form and "王B岗" in form          # B prefilled as the substitute
    response = client.post("/r/leave-slips/new", data={
        "staff_id": hall["users"]["a_clerk"].id, "kind": "personal", "start_on": "2026-12-03",
        "end_on": "2026-12-03", "reason": "看病", "phone": "13900001111",
        "substitute_id": hall["users"]["b_clerk2"].id, "form_token": "leave-1", "then": "submit"})
    assert response.status_code == 302
    assert db.session.scalar(select(LeaveSlip.state)) == "awaiting_deputy"


def test_the_leave_slip_prints_with_each_opinion_signer_and_date(hall, db, client, auth):
    record = slip(hall, start=date(2026, 12, 3), end=date(2026, 12, 4))
    step(hall, record, "submit", "a_clerk")
    step(hall, record, "deputy_to_director", "a_deputy", comment="同意报主任")
    step(hall, record, "director_approve", "a_director", comment="准假")
    db.session.commit()
    auth.login("a_director")
    html = client.get(f"/r/leave-slips/{record.id}/print/slip").get_data(as_text=True)
    for text in ("请　假　条", "同意报主任", "准假", "中心副主任意见", "中心主任意见", "低保受理（A岗）", "共 2 个工作日"):
        assert text in html, text
    assert "镇（街道）主要领导意见" not in html          # a two-day slip never reaches the town leader
    pdf = client.get(f"/r/leave-slips/{record.id}/print/slip.pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")


def test_approvers_are_told_of_waiting_slips_and_b_the_working_day_before(hall, db):
    from jobs.leave_jobs import cover_reminders, slips_waiting
    from models.notification import Notification
    record = slip(hall, start=date(2026, 12, 7))       # Monday
    step(hall, record, "submit", "a_clerk")
    db.session.commit()
    slips_waiting(__import__("datetime").datetime(2026, 12, 2, 9))
    slips_waiting(__import__("datetime").datetime(2026, 12, 2, 9))
    told = db.session.scalars(select(Notification.user_id).where(Notification.title == "请假条待审批")).all()
    assert told == [hall["users"]["a_deputy"].id]
    step(hall, record, "deputy_approve", "a_deputy")
    db.session.commit()
    from datetime import datetime
    cover_reminders(datetime(2026, 12, 3, 16))    # Thursday: Monday is two working days away
    assert not db.session.scalar(select(Notification.id).where(Notification.title.like("明天顶岗%")))
    cover_reminders(datetime(2026, 12, 4, 16))    # Friday: Monday is the next working day
    reminded = db.session.scalars(select(Notification.user_id).where(Notification.title.like("明天顶岗%"))).all()
    assert reminded == [hall["users"]["b_clerk2"].id]


def test_a_leave_approved_after_the_day_turns_its_absence_into_leave(hall, db):
    from models.attendance import AttendanceDay
    clerk = hall["users"]["a_clerk"]
    day = AttendanceDay(center_id=hall["center"].id, staff_id=clerk.id, day=date(2026, 11, 30), punches=0,
                        status="absent", missing_minutes=390)
    db.session.add(day)
    db.session.flush()
    record = slip(hall, start=date(2026, 11, 30), kind="sick", reason="急病就医")
    step(hall, record, "submit", "a_clerk")
    step(hall, record, "deputy_approve", "a_deputy")
    db.session.refresh(day)
    assert day.status == "on_leave"
