"""Extended-hours service (延时服务) and compensatory leave (补休) [000 延时服务制度; SPEC §4.7]: the ledger
and its computed minutes, the five cases, no fee, refusals decided by the head, the 补休 account (credit
per clerk, comp slips using it oldest first, expiry), the threshold and expiry notices, centre isolation."""
from __future__ import annotations

from datetime import date, datetime, time

import pytest
from sqlalchemy import func, select

from app import extended_hours as eh
from app.records import operations
from models.extended_hours import EXTENDED_REASONS, ExtendedService
from models.notification import Notification
from models.staff import LeaveSlip
from tests.conftest import make_user, make_window


@pytest.fixture
def hall(county, calendar_2026, on_day):
    """Centre A with a window; today is Monday 30 November 2026."""
    on_day(date(2026, 11, 30))
    county["window"] = make_window(county["a"], number=3, name="劳动保障")
    return county


def entry(hall, user, *, staff=None, day=date(2026, 11, 23), start=time(17, 30), end=time(18, 30), helpers=(),
          **values) -> ExtendedService:
    data = dict(served_on=day, window_id=hall["window"].id, staff_id=(staff or user).id, start_time=start,
                end_time=end, reason="finish_now", requested_by="on_site", requester_name="张三")
    data.update(values)
    rows = {"helpers": [{"staff_id": h.id} for h in helpers]}
    return operations.create(eh.EXTENDED_HOURS, user, data, center_id=hall["a"].id, children=rows)


def invalid(db, *args, **kwargs) -> operations.Invalid:
    with pytest.raises(operations.Invalid) as caught:
        with db.session.begin_nested():
            entry(*args, **kwargs)
    return caught.value


def slip(user, *, start=date(2026, 11, 25), days=0, minutes=0, state="approved", kind="comp") -> LeaveSlip:
    from app.extensions import db
    s = LeaveSlip(center_id=user.center_id, staff_id=user.id, kind=kind, start_on=start, end_on=start,
                  days=days, minutes=minutes, state=state)
    db.session.add(s)
    db.session.flush()
    return s


def notes(user, key_part: str) -> list[Notification]:
    from app.extensions import db
    return db.session.scalars(select(Notification).where(Notification.user_id == user.id,
                                                         Notification.key.contains(key_part))).all()


# ------------------------------------------------------------------ the ledger entry

def test_duration_is_computed_from_start_and_end(hall):
    clerk = hall["users"]["a_clerk"]
    e = entry(hall, clerk, start=time(17, 30), end=time(18, 45))
    assert e.minutes == 75
    operations.update(eh.EXTENDED_HOURS, e, clerk, {"end_time": time(19, 0)})
    assert e.minutes == 90


def test_end_not_after_start_is_refused_beside_the_end_field(hall, db):
    clerk = hall["users"]["a_clerk"]
    for end in (time(17, 0), time(17, 30)):
        error = invalid(db, hall, clerk, start=time(17, 30), end=end)
        assert "结束时间必须晚于开始时间" in error.errors["end_time"]
    assert db.session.scalar(select(func.count(ExtendedService.id))) == 0


def test_the_five_reasons_of_article_2(hall, db):
    clerk = hall["users"]["a_clerk"]
    assert [code for code, _label in eh.REASON_CHOICES] == list(EXTENDED_REASONS)
    assert len(EXTENDED_REASONS) == 5
    for reason in EXTENDED_REASONS:
        assert entry(hall, clerk, reason=reason, note="系统升级后积压" if reason == "other" else "").reason == reason
    # (五) "other" says what the reason was.
    assert "其他原因" in invalid(db, hall, clerk, reason="other", note="").errors["note"]


def test_a_citizens_request_names_the_requester_and_the_window_may_extend_on_its_own(hall, db):
    clerk = hall["users"]["a_clerk"]
    assert "请求人" in invalid(db, hall, clerk, requested_by="phone", requester_name=" ").errors["requester_name"]
    assert entry(hall, clerk, requested_by="window", requester_name="").id


def test_no_fee_field_and_the_form_and_ledger_say_no_fee_may_be_charged(hall, client, auth):
    assert not [c for c in ExtendedService.__table__.c.keys() if "fee" in c or "charge" in c]
    clerk, director = hall["users"]["a_clerk"], hall["users"]["a_director"]
    e = entry(hall, clerk)
    auth.login(clerk)
    assert "不得向服务对象收取任何服务费用" in client.get("/r/extended-hours/new").get_data(as_text=True)
    assert "不得向服务对象收取任何服务费用" in client.get(f"/r/extended-hours/{e.id}").get_data(as_text=True)
    auth.logout()
    auth.login(director)
    page = client.get("/extended-hours/ledger?month=2026-11").get_data(as_text=True)
    assert "不得向服务对象收取任何服务费用" in page and "延时服务登记台账" in page and clerk.name in page


def test_clerk_records_only_their_own_service_the_director_anyone(hall, db):
    users = hall["users"]
    colleague = make_user(hall["a"], "clerk")
    assert "本人" in invalid(db, hall, users["a_clerk"], staff=colleague).errors["staff_id"]
    assert entry(hall, users["a_director"], staff=colleague).staff_id == colleague.id
    # Nobody from another centre, as main clerk or helper.
    assert "本中心" in invalid(db, hall, users["a_director"], staff=users["b_clerk"]).errors["staff_id"]
    assert "本中心" in invalid(db, hall, users["a_clerk"], helpers=[users["b_clerk"]]).errors["helpers"]


def test_a_linked_case_must_be_a_case_of_the_centre(hall, db):
    from tests.conftest import make_case
    clerk = hall["users"]["a_clerk"]
    case = make_case(hall["a"], receipt_no="2026-000777")
    assert entry(hall, clerk, case_no="2026-000777").case_id == case.id
    assert "2026-000999" in invalid(db, hall, clerk, case_no="2026-000999").errors["case_no"]


# ------------------------------------------------------------------ refusal (第五条)

def refusal(hall, user, **values):
    data = dict(staff_id=user.id, window_id=hall["window"].id, asked_on=date(2026, 11, 30), requested_by="on_site",
                requester_name="李四", request="补办社保卡", ground="no_conditions", ground_text="制卡机故障")
    data.update(values)
    return operations.create(eh.REFUSALS, user, data, center_id=hall["a"].id)


def test_refusal_needs_the_director_and_not_the_clerk_themself(hall, db):
    users = hall["users"]
    r = refusal(hall, users["a_clerk"])
    operations.transition(eh.REFUSALS, r, "submit", users["a_clerk"])
    assert r.state == "awaiting_director"
    for who in ("a_clerk", "a_deputy", "b_director"):
        with pytest.raises(operations.Refused):
            operations.transition(eh.REFUSALS, r, "approve", users[who])
    # A director who is themself the clerk asking may not approve their own refusal.
    head_at_window = make_user(hall["a"], "clerk", "director")
    own = refusal(hall, head_at_window)
    operations.transition(eh.REFUSALS, own, "submit", head_at_window)
    with pytest.raises(operations.Refused) as caught:
        operations.transition(eh.REFUSALS, own, "approve", head_at_window)
    assert "own" in caught.value.message or "本人" in caught.value.message or "自己" in caught.value.message
    # The director approves; the requester is then told why, how and when.
    operations.transition(eh.REFUSALS, r, "approve", users["a_director"], comment="同意")
    assert r.state == "approved"
    with pytest.raises(operations.Refused) as caught:
        with db.session.begin_nested():
            operations.transition(eh.REFUSALS, r, "tell", users["a_clerk"], {"told_how": "in_person"})
    assert caught.value.field == "told_at"
    operations.transition(eh.REFUSALS, r, "tell", users["a_clerk"],
                          {"told_how": "in_person", "told_at": datetime(2026, 11, 30, 17, 40)})
    assert r.state == "refused" and r.told_how == "in_person"


def test_refusal_not_approved_means_the_service_must_be_given(hall, db):
    users = hall["users"]
    r = refusal(hall, users["a_clerk"], ground="not_needed", ground_text="明天上午可办")
    operations.transition(eh.REFUSALS, r, "submit", users["a_clerk"])
    with pytest.raises(operations.Refused) as caught:
        operations.transition(eh.REFUSALS, r, "overrule", users["a_director"])
    assert caught.value.field == "comment"
    operations.transition(eh.REFUSALS, r, "overrule", users["a_director"], comment="群众远道而来，须当日办结")
    assert r.state == "must_serve"
    with pytest.raises(operations.Refused) as caught:
        operations.transition(eh.REFUSALS, r, "serve", users["a_clerk"])
    assert caught.value.field == "entry_id"
    older = entry(hall, users["a_clerk"], day=date(2026, 11, 23))
    with pytest.raises(operations.Refused):
        with db.session.begin_nested():   # as a page's rollback: nothing of the refused step stays
            operations.transition(eh.REFUSALS, r, "serve", users["a_clerk"], {"entry_id": older.id})
    assert r.state == "must_serve"
    given = entry(hall, users["a_clerk"], day=date(2026, 11, 30), reason="requested")
    operations.transition(eh.REFUSALS, r, "serve", users["a_clerk"], {"entry_id": given.id})
    assert r.state == "served"


def test_refusal_states_a_ground_of_article_5(hall, db):
    assert [code for code, _label in eh.GROUND_CHOICES] == ["no_conditions", "not_needed"]
    with pytest.raises(operations.Invalid) as caught:
        refusal(hall, hall["users"]["a_clerk"], ground_text="  ")
    assert "理由" in caught.value.errors["ground_text"]


# ------------------------------------------------------------------ compensatory leave

def test_balance_accrues_across_entries_and_for_every_clerk_of_an_entry(hall):
    users = hall["users"]
    a, b = users["a_clerk"], make_user(hall["a"], "clerk")
    entry(hall, a, helpers=[b], start=time(17, 30), end=time(18, 30))          # 60 each
    entry(hall, a, day=date(2026, 11, 24), start=time(17, 30), end=time(18, 0))  # 30 for a
    entry(hall, b, day=date(2026, 11, 25), start=time(12, 0), end=time(12, 45))  # 45 for b
    assert eh.comp_balance_minutes(a.id) == 90
    assert eh.comp_balance_minutes(b.id) == 105
    # A voided entry credits nobody; one after the day asked about is not counted yet.
    assert eh.comp_balance_minutes(a.id, on=date(2026, 11, 23)) == 60


def test_comp_leave_slip_consumes_balance(hall):
    a = hall["users"]["a_clerk"]
    for day in (date(2026, 11, 2), date(2026, 11, 3), date(2026, 11, 4), date(2026, 11, 5)):
        entry(hall, a, day=day, start=time(14, 0), end=time(18, 0))              # 4 × 240 = 960
    assert eh.comp_balance_minutes(a.id) == 960
    whole = slip(a, days=1)                                                       # 480
    assert eh.comp_balance_minutes(a.id) == 480
    slip(a, minutes=120, state="awaiting_deputy")                                 # pending counts
    assert eh.comp_balance_minutes(a.id) == 360
    slip(a, days=1, state="rejected")                                             # refused: not counted
    slip(a, days=1, kind="personal")                                              # other leave: not counted
    assert eh.comp_balance_minutes(a.id) == 360
    # The leave slip's check: 360 minutes cover 6 hours, not a whole day.
    assert eh.comp_leave_refusal(a.id, 0, 360) is None
    message = eh.comp_leave_refusal(a.id, 1, 0)
    assert "6小时" in message and "8小时" in message
    # Editing a slip does not count the slip itself twice.
    assert eh.comp_leave_refusal(a.id, 1, 0, exclude=whole.id) is None
    nobody = make_user(hall["a"], "clerk")
    assert "没有可用" in eh.comp_leave_refusal(nobody.id, 1, 0)


def test_credit_expires_after_the_configured_months_oldest_used_first(hall, app):
    a = hall["users"]["a_clerk"]
    hall_day = date(2026, 7, 20)
    for day in (date(2026, 1, 12), date(2026, 4, 13)):
        entry(hall, a, day=day, start=time(13, 0), end=time(18, 0), **{})          # 300 each
    slip(a, start=date(2026, 3, 2), minutes=200)                                  # uses January's first
    assert eh.valid_until(date(2026, 1, 12)) == date(2026, 7, 11)
    assert eh.comp_balance_minutes(a.id, on=date(2026, 7, 11)) == 400
    acc = eh.account(a.id, on=hall_day)
    assert acc.expired == 100 and acc.balance == 300                              # January's 100 lapsed
    app.config["COMP_LEAVE_EXPIRES_MONTHS"] = 12
    assert eh.comp_balance_minutes(a.id, on=hall_day) == 400


def test_oldest_credit_is_used_first(hall):
    a = hall["users"]["a_clerk"]
    entry(hall, a, day=date(2026, 1, 12), start=time(13, 0), end=time(18, 0))   # 300, valid to 11 July
    entry(hall, a, day=date(2026, 4, 13), start=time(13, 0), end=time(18, 0))   # 300, valid to 12 October
    slip(a, start=date(2026, 5, 6), minutes=300)                                 # takes January's
    assert eh.comp_balance_minutes(a.id, on=date(2026, 8, 3)) == 300             # April's is intact


def test_credit_entered_before_the_asking_day_only(hall, db):
    """The entry is for a service given: not in the future."""
    assert "不能晚于今天" in invalid(db, hall, hall["users"]["a_clerk"], day=date(2026, 12, 1)).errors["served_on"]


def test_threshold_notification_is_sent_once_with_a_comp_leave_link(hall):
    a = hall["users"]["a_clerk"]
    b = make_user(hall["a"], "clerk")
    entry(hall, a, helpers=[b], start=time(13, 0), end=time(18, 0))              # 300: below 8 hours
    assert notes(a, "threshold") == []
    entry(hall, a, day=date(2026, 11, 24), start=time(13, 0), end=time(17, 0))  # 540: past 480
    sent = notes(a, "threshold")
    assert len(sent) == 1 and "/r/leave-slips/new" in sent[0].link and "kind=comp" in sent[0].link
    assert "补休" in sent[0].title
    assert notes(b, "threshold") == []                                            # b has 300 only
    entry(hall, a, day=date(2026, 11, 25), start=time(17, 30), end=time(18, 0))  # still past: no second
    assert len(notes(a, "threshold")) == 1


def test_threshold_is_configurable(hall, app):
    app.config["COMP_LEAVE_THRESHOLD_HOURS"] = 1
    a = hall["users"]["a_clerk"]
    entry(hall, a, start=time(17, 0), end=time(18, 5))
    assert len(notes(a, "threshold")) == 1


def test_expiring_credit_is_told_once(hall, on_day):
    from jobs.extended_hours_jobs import comp_leave_expiring
    a = hall["users"]["a_clerk"]
    on_day(date(2026, 6, 1))
    entry(hall, a, day=date(2026, 1, 12), start=time(13, 0), end=time(15, 0))   # valid to 11 July
    entry(hall, a, day=date(2026, 5, 11), start=time(13, 0), end=time(15, 0))   # valid to 10 November
    comp_leave_expiring(datetime(2026, 6, 26, 9, 0))                               # 11 July: 11 working days on
    assert notes(a, "expiring") == []
    comp_leave_expiring(datetime(2026, 6, 29, 9, 0))                               # 11 July within 10
    comp_leave_expiring(datetime(2026, 6, 30, 9, 0))
    sent = notes(a, "expiring")
    assert len(sent) == 1 and "2026-07-11" in sent[0].body and "2小时" in sent[0].title
    # Used up before it lapses: nothing to tell.
    b = make_user(hall["a"], "clerk")
    entry(hall, b, day=date(2026, 1, 12), start=time(13, 0), end=time(15, 0))
    slip(b, start=date(2026, 2, 2), minutes=120)
    comp_leave_expiring(datetime(2026, 7, 1, 9, 0))
    assert notes(b, "expiring") == []


def test_the_expiry_job_is_declared():
    from app.extended_hours import FEATURE
    assert [j.func for j in FEATURE.jobs] == ["jobs.extended_hours_jobs:comp_leave_expiring"]


# ------------------------------------------------------------------ access

def test_another_centres_director_cannot_read(hall, client, auth):
    users = hall["users"]
    e = entry(hall, users["a_clerk"])
    r = refusal(hall, users["a_clerk"])
    from app.extensions import db
    db.session.commit()
    auth.login(users["b_director"])
    assert client.get(f"/r/extended-hours/{e.id}").status_code in (403, 404)
    assert client.get(f"/r/extended-hours-refusals/{r.id}").status_code in (403, 404)
    assert "张三" not in client.get("/r/extended-hours/").get_data(as_text=True)
    assert users["a_clerk"].username not in client.get("/extended-hours/balances").get_data(as_text=True)
    auth.logout()
    auth.login(users["a_director"])
    assert client.get(f"/r/extended-hours/{e.id}").status_code == 200
    auth.logout()
    auth.login(users["county"])
    assert client.get(f"/r/extended-hours/{e.id}").status_code == 200


def test_a_colleague_clerk_cannot_read_anothers_entry(hall, client, auth):
    users = hall["users"]
    colleague = make_user(hall["a"], "clerk")
    e = entry(hall, users["a_clerk"])
    from app.extensions import db
    db.session.commit()
    auth.login(colleague)
    assert client.get(f"/r/extended-hours/{e.id}").status_code in (403, 404)


def test_balance_page_shows_the_director_everyone_and_a_clerk_their_own(hall, client, auth):
    users = hall["users"]
    colleague = make_user(hall["a"], "clerk", name="王同事")
    entry(hall, users["a_clerk"], start=time(17, 0), end=time(18, 30))
    entry(hall, colleague, start=time(17, 0), end=time(17, 45))
    from app.extensions import db
    db.session.commit()
    auth.login(users["a_director"])
    page = client.get("/extended-hours/balances").get_data(as_text=True)
    assert "1小时30分钟" in page and "王同事" in page and "45分钟" in page
    auth.logout()
    auth.login(colleague)
    page = client.get("/extended-hours/balances").get_data(as_text=True)
    assert "45分钟" in page and users["a_clerk"].name not in page


def test_ledger_printout_renders_as_pdf(hall, client, auth):
    users = hall["users"]
    b = make_user(hall["a"], "clerk", name="赵协办")
    entry(hall, users["a_clerk"], helpers=[b], reason="time_limit", requester_name="钱某")
    from app.extensions import db
    db.session.commit()
    auth.login(users["a_director"])
    pdf = client.get("/extended-hours/ledger.pdf?month=2026-11")
    assert pdf.status_code == 200 and pdf.data[:4] == b"%PDF"
    import os
    if os.environ.get("EH_PDF_OUT"):
        with open(os.environ["EH_PDF_OUT"], "wb") as fh:
            fh.write(pdf.data)
    assert client.get("/extended-hours/ledger?month=2026-13").status_code == 404
    auth.logout()
    auth.login(users["a_clerk"])
    assert client.get("/extended-hours/ledger").status_code == 403


def test_refusal_approval_form_prints_the_directors_opinion(hall, client, auth, db):
    users = hall["users"]
    r = refusal(hall, users["a_clerk"])
    operations.transition(eh.REFUSALS, r, "submit", users["a_clerk"])
    operations.transition(eh.REFUSALS, r, "approve", users["a_director"], comment="同意，向请求人说明理由")
    db.session.commit()
    auth.login(users["a_clerk"])
    html = client.get(f"/r/extended-hours-refusals/{r.id}/print/form").get_data(as_text=True)
    assert "制卡机故障" in html and "同意，向请求人说明理由" in html
    pdf = client.get(f"/r/extended-hours-refusals/{r.id}/print/form.pdf")
    assert pdf.status_code == 200 and pdf.data[:4] == b"%PDF"
    import os
    if os.environ.get("EH_PDF_OUT"):
        with open(os.environ["EH_PDF_OUT"] + ".refusal.pdf", "wb") as fh:
            fh.write(pdf.data)


def test_home_panel_shows_ones_own_balance_and_the_form_offers_other_clerks(hall, client, auth, db):
    clerk = hall["users"]["a_clerk"]
    entry(hall, clerk, start=time(17, 0), end=time(18, 30))
    db.session.commit()
    auth.login(clerk)
    home = client.get("/").get_data(as_text=True)
    assert "延时服务补休" in home and "1小时30分钟" in home
    form = client.get("/r/extended-hours/new").get_data(as_text=True)
    assert "其他参与的工作人员" in form and "helpers-0-staff_id" in form


def test_a_new_entry_is_saved_from_the_form_with_another_clerk(hall, client, auth, db):
    clerk, other = hall["users"]["a_clerk"], make_user(hall["a"], "clerk", name="孙协办")
    db.session.commit()
    auth.login(clerk)
    page = client.get("/r/extended-hours/new").get_data(as_text=True)
    import re
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)
    data = {"served_on": "2026-11-27", "window_id": str(hall["window"].id), "staff_id": str(clerk.id),
            "start_time": "17:30", "end_time": "17:00", "reason": "requested", "requested_by": "phone",
            "requester_name": "周某", "helpers-0-staff_id": str(other.id)}
    if token:
        data["csrf_token"] = token.group(1)
    bad = client.post("/r/extended-hours/new", data=data)
    assert "结束时间必须晚于开始时间" in bad.get_data(as_text=True)
    data["end_time"] = "18:10"
    client.post("/r/extended-hours/new", data=data)
    saved = db.session.scalar(select(ExtendedService))
    assert saved is not None and saved.minutes == 40 and [h.staff_id for h in saved.helpers] == [other.id]
    assert eh.comp_balance_minutes(other.id) == 40
