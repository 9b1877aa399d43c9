"""The record engine's second edition, tried on the request type the tests declare (tests/types/):
subject, per-state rights, an approval chain routed by a computed number of days, opinions on paper,
the whole-declaration start-up check, one operations layer with audited bulk steps."""
from __future__ import annotations

from dataclasses import replace
from datetime import date

from sqlalchemy import select

from app.records import REGISTRY, operations
from app.records.registry import SUBJECT, Field, RecordType, State, Transition, Workflow
from app.records.workflow import available, check_declaration
from models.core import AuditEntry, RecordOpinion
from tests.types.small_request import SmallRequest

KEY = "t-small-requests"


def _new(client, start, end, reason="家中有事"):
    """The signed-in person's own request, as the new-record form offers it (whose: themselves)."""
    form = client.get(f"/r/{KEY}/new").get_data(as_text=True)
    import re
    staff = re.search(r'<option selected value="(\d+)"|<option value="(\d+)" selected', form)
    staff_id = next(g for g in staff.groups() if g)
    response = client.post(f"/r/{KEY}/new", data={"start_on": start, "end_on": end, "reason": reason,
                                                  "staff_id": staff_id, "form_token": f"t-{start}-{end}-{reason}"})
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    return int(response.headers["Location"].rstrip("/").split("/")[-1])


def _step(client, db, record_id, name, comment="同意"):
    version = db.session.get(SmallRequest, record_id).version
    db.session.expire_all()
    return client.post(f"/r/{KEY}/{record_id}/t/{name}", data={"comment": comment, "form_version": version})


def _names(rtype, record, user):
    return {t.name for t in available(rtype, record, user)}


def test_request_days_are_computed_from_the_two_dates_in_working_days(client, auth, county, db):
    auth.login("a_clerk")
    # Friday 2026-10-09 to Monday 10-12: Saturday 10-10 is National Day's make-up working day, Sunday is
    # not — three working days.
    record_id = _new(client, "2026-10-09", "2026-10-12")
    record = db.session.get(SmallRequest, record_id)
    assert record.days == 3
    assert record.staff_id == county["users"]["a_clerk"].id   # whose request it is: the subject
    form = client.get(f"/r/{KEY}/{record_id}/edit").get_data(as_text=True)
    assert 'name="days"' not in form                              # computed: never typed


def test_two_day_request_goes_deputy_opinion_then_director_decides_and_both_print(client, auth, county, db):
    users = county["users"]
    auth.login("a_clerk")
    record_id = _new(client, "2026-12-01", "2026-12-02")
    assert _step(client, db, record_id, "submit").status_code == 302
    record = db.session.get(SmallRequest, record_id)
    assert record.state == "awaiting_deputy"
    rtype = REGISTRY[KEY]
    assert _names(rtype, record, users["a_deputy"]) == {"deputy_to_director", "deputy_reject", "deputy_return"}
    auth.logout()
    auth.login("a_deputy")
    assert _step(client, db, record_id, "deputy_to_director", "情况属实，建议批准").status_code == 302
    auth.logout()
    auth.login("a_director")
    assert _step(client, db, record_id, "director_approve", "同意").status_code == 302
    db.session.expire_all()
    assert db.session.get(SmallRequest, record_id).state == "approved"
    opinions = db.session.scalars(select(RecordOpinion).where(RecordOpinion.record_id == record_id)
                                  .order_by(RecordOpinion.id)).all()
    assert [(o.role, o.kind, o.text) for o in opinions] == [("deputy", "opinion", "情况属实，建议批准"),
                                                            ("director", "approve", "同意")]
    paper = client.get(f"/r/{KEY}/{record_id}/print/form").get_data(as_text=True)
    assert "情况属实，建议批准" in paper and users["a_deputy"].name in paper and users["a_director"].name in paper
    page = client.get(f"/r/{KEY}/{record_id}").get_data(as_text=True)
    assert "情况属实，建议批准" in page


def test_one_day_request_is_decided_by_the_deputy_and_three_days_go_up_to_the_town_leader(client, auth, county, db):
    users = county["users"]
    auth.login("a_clerk")
    one = _new(client, "2026-12-01", "2026-12-01")
    three = _new(client, "2026-12-01", "2026-12-03")
    for record_id in (one, three):
        assert _step(client, db, record_id, "submit").status_code == 302
    rtype = REGISTRY[KEY]
    assert "deputy_approve" in _names(rtype, db.session.get(SmallRequest, one), users["a_deputy"])
    auth.logout()
    auth.login("a_deputy")
    assert _step(client, db, three, "deputy_approve").status_code == 403      # not the deputy's decision
    assert _step(client, db, three, "deputy_to_director", "拟同意").status_code == 302
    auth.logout()
    auth.login("a_director")
    assert _step(client, db, three, "director_to_leader", "拟同意").status_code == 302
    db.session.expire_all()
    assert db.session.get(SmallRequest, three).state == "awaiting_leader"


def test_only_the_subject_edits_and_only_in_draft_or_returned(client, auth, county, db):
    auth.login("a_clerk")
    record_id = _new(client, "2026-12-01", "2026-12-01")
    assert client.get(f"/r/{KEY}/{record_id}/edit").status_code == 200
    auth.logout()
    auth.login("a_deputy")
    assert client.get(f"/r/{KEY}/{record_id}/edit").status_code == 403      # reads it, may not change it
    auth.logout()
    auth.login("a_clerk")
    _step(client, db, record_id, "submit")
    assert client.get(f"/r/{KEY}/{record_id}/edit").status_code == 409      # nobody edits while it is decided
    auth.logout()
    auth.login("a_deputy")
    _step(client, db, record_id, "deputy_return", "请补充事由")
    auth.logout()
    auth.login("a_clerk")
    assert client.get(f"/r/{KEY}/{record_id}/edit").status_code == 200      # returned: the subject corrects it


def test_staff_see_their_own_requests_only_and_managers_see_all(client, auth, county, db):
    auth.login("a_clerk")
    record_id = _new(client, "2026-12-01", "2026-12-01", reason="本人请求")
    auth.logout()
    auth.login("a_agent")
    assert client.get(f"/r/{KEY}/{record_id}").status_code == 404
    assert "本人请求" not in client.get(f"/r/{KEY}/").get_data(as_text=True)
    auth.logout()
    auth.login("a_deputy")
    assert client.get(f"/r/{KEY}/{record_id}").status_code == 200


def test_no_self_approval_compares_the_subject_not_the_author(client, auth, county, db):
    """A director writes a request for the deputy: the deputy still cannot approve it."""
    users = county["users"]
    record = SmallRequest(center_id=county["a"].id, state="awaiting_deputy", staff_id=users["a_deputy"].id,
                          start_on=date(2026, 12, 1), end_on=date(2026, 12, 1), days=1,
                          created_by_id=users["a_director"].id)
    db.session.add(record)
    db.session.commit()
    assert "deputy_approve" not in _names(REGISTRY[KEY], record, users["a_deputy"])


def test_computed_fields_are_evaluated_again_on_every_transition(county, db):
    users = county["users"]
    record = SmallRequest(center_id=county["a"].id, state="draft", staff_id=users["a_clerk"].id,
                          start_on=date(2026, 12, 1), end_on=date(2026, 12, 3), days=1)  # stale
    db.session.add(record)
    db.session.commit()
    operations.transition(REGISTRY[KEY], record, "submit", users["a_clerk"])
    assert record.days == 3
    assert record.state == "awaiting_deputy"


def test_a_bulk_step_audits_every_record_it_moves(county, db):
    users = county["users"]
    records = [SmallRequest(center_id=county["a"].id, state="draft", staff_id=users["a_clerk"].id,
                            start_on=date(2026, 12, 1), end_on=date(2026, 12, 1)) for _ in range(3)]
    db.session.add_all(records)
    db.session.commit()
    refused = operations.bulk_transition(REGISTRY[KEY], records, "submit", users["a_clerk"])
    db.session.commit()
    assert refused == {}
    moves = db.session.scalars(select(AuditEntry).where(AuditEntry.record_table == "t_small_request",
                                                        AuditEntry.action == "transition")).all()
    assert sorted(e.record_id for e in moves) == sorted(r.id for r in records)
    # Someone else's request is refused, the others still go.
    other = SmallRequest(center_id=county["a"].id, state="draft", staff_id=users["a_agent"].id,
                         start_on=date(2026, 12, 1), end_on=date(2026, 12, 1))
    mine = SmallRequest(center_id=county["a"].id, state="draft", staff_id=users["a_clerk"].id,
                        start_on=date(2026, 12, 1), end_on=date(2026, 12, 1))
    db.session.add_all([other, mine])
    db.session.commit()
    refused = operations.bulk_transition(REGISTRY[KEY], [other, mine], "submit", users["a_clerk"])
    assert list(refused) == [other.id] and mine.state == "awaiting_deputy" and other.state == "draft"


def test_the_start_up_check_reads_the_whole_declaration():
    good = REGISTRY[KEY]
    assert check_declaration(good) == []
    wf = good.workflow

    def broken(**changes):
        return check_declaration(replace(good, **changes))

    bad_field = Workflow(states=list(wf.states), initial="draft", transitions=[
        *wf.transitions, Transition("note", "备注", ("draft",), "draft", frozenset({SUBJECT}), fields=("nowhere",))])
    assert any("nowhere" in p for p in broken(workflow=bad_field))
    assert any("depends on unknown field" in p for p in broken(fields=[
        *[f for f in good.fields if f.name != "days"],
        Field("days", "天数", compute=lambda ctx: 1, depends=("start_on", "missing"))]))
    assert any("unknown roles" in p for p in broken(permissions={**good.permissions, "read": frozenset({"boss"})}))
    assert any("names no subject" in p for p in broken(subject=None))
    assert any("is not an action" in p for p in broken(permissions={**good.permissions, "approve": frozenset()}))
    nobody_reads = Workflow(states=[State(s.name, s.title, s.css, s.final,
                                          {**s.rights, "read": frozenset()} if s.name == "draft" else s.rights)
                                    for s in wf.states], initial="draft", transitions=list(wf.transitions))
    assert any("nobody may read" in p for p in broken(workflow=nobody_reads))
    assert isinstance(good, RecordType)
