"""The record engine: forms, validation, double submits, stale edits, voiding, audit, lists."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from app.records import REGISTRY
from app.records.registry import Field, RecordType, State, Transition, Workflow
from app.records.workflow import check_workflow
from models.catalogue import Matter, MatterMaterial
from models.core import AuditEntry
from tests.conftest import make_matter, make_window


def matter_form(window_id=0, **overrides):
    data = {"code": "QS-9001", "name": "高龄津贴申领", "window_id": window_id, "department_id": 0,
            "business_line": "民政救助", "kind": "promised", "handling_mode": "promised",
            "statutory_days": "20", "promised_days": "5", "basis": "", "conditions": "", "procedure": "",
            "fee": "不收费", "fee_basis": "", "contact_phone": "0737-1234567", "complaint_phone": "0737-12345",
            "faq": "", "form_token": "tok-1",
            "materials-0-name": "居民身份证", "materials-0-form": "both", "materials-0-copies": "1",
            "materials-0-note": "", "materials-1-name": "户口簿", "materials-1-form": "copy",
            "materials-1-copies": "1", "materials-1-note": "",
            "materials-2-name": "", "materials-2-form": "", "materials-2-copies": "", "materials-2-note": ""}
    data.update(overrides)
    return data


def count(db, model):
    return db.session.scalar(select(func.count()).select_from(model))


def test_director_adds_a_matter_with_materials_sees_it_listed_and_audited(client, auth, county, db):
    window = make_window(county["a"], 9, "综合咨询")
    db.session.commit()
    auth.login("a_director")
    response = client.post("/r/matters/new", data=matter_form(window.id))
    assert response.status_code == 302, response.get_data(as_text=True)
    matter = db.session.scalar(select(Matter).where(Matter.name == "高龄津贴申领"))
    assert matter.center_id == county["a"].id
    assert [m.name for m in matter.materials] == ["居民身份证", "户口簿"]
    listing = client.get("/r/matters/?q=高龄").get_data(as_text=True)
    assert "高龄津贴申领" in listing
    page = client.get(f"/r/matters/{matter.id}").get_data(as_text=True)
    assert "a_director" in page  # the audit trail names who created it
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.record_table == "matter",
                                                       AuditEntry.record_id == matter.id))
    assert entry.action == "create" and entry.user_id == county["users"]["a_director"].id


def test_promise_above_statutory_limit_is_refused_beside_the_field_and_nothing_saved(client, auth, county, db):
    auth.login("a_director")
    response = client.post("/r/matters/new", data=matter_form(statutory_days="10", promised_days="12"))
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert re.search(r'promised_days.*?class="error"', html, re.S)
    assert count(db, Matter) == 0 and count(db, MatterMaterial) == 0


def test_promise_equal_to_the_statutory_limit_is_refused(client, auth, county, db):
    """000 限时办结 §4: the promised limit must be LESS than the statutory one (必须少于)."""
    auth.login("a_director")
    response = client.post("/r/matters/new", data=matter_form(statutory_days="10", promised_days="10"))
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    error = re.search(r'name="promised_days".*?class="error"[^>]*>([^<]+)<', html, re.S)
    assert error and "必须少于法定时限" in error.group(1)
    assert count(db, Matter) == 0
    # One day less is saved (with the 40 % warning).
    response = client.post("/r/matters/new", data=matter_form(statutory_days="10", promised_days="9"),
                           follow_redirects=True)
    assert count(db, Matter) == 1 and "40%" in response.get_data(as_text=True)


def test_post_without_b_holder_warns(client, auth, county, db):
    """000 AB岗 §1: every post has an A and a B holder. Without B it is saved, with a warning; A = B is refused."""
    from models.catalogue import Post
    users = county["users"]
    auth.login("a_director")
    form = {"name": "民政救助窗口受理岗", "window_id": 0, "a_holder_id": users["a_clerk"].id, "b_holder_id": 0,
            "duties": "", "form_token": "post-1"}
    response = client.post("/r/posts/new", data=form, follow_redirects=True)
    assert count(db, Post) == 1
    assert "没有B岗" in response.get_data(as_text=True)
    same = client.post("/r/posts/new", data={**form, "b_holder_id": users["a_clerk"].id, "form_token": "post-2"})
    assert same.status_code == 200 and count(db, Post) == 1
    both = client.post("/r/posts/new", data={**form, "b_holder_id": users["a_agent"].id, "form_token": "post-3"},
                       follow_redirects=True)
    assert count(db, Post) == 2 and "没有B岗" not in both.get_data(as_text=True)


def test_promise_above_40_percent_of_statutory_warns_but_saves(client, auth, county, db):
    auth.login("a_director")
    response = client.post("/r/matters/new", data=matter_form(statutory_days="10", promised_days="5"),
                           follow_redirects=True)
    assert count(db, Matter) == 1
    assert "40%" in response.get_data(as_text=True)


def test_material_row_without_a_name_is_refused_and_nothing_saved(client, auth, county, db):
    auth.login("a_director")
    response = client.post("/r/matters/new", data=matter_form(**{"materials-2-copies": "2"}))
    assert response.status_code == 200
    assert count(db, Matter) == 0


def test_double_submitted_form_creates_one_record(client, auth, county, db):
    auth.login("a_director")
    first = client.post("/r/matters/new", data=matter_form())
    second = client.post("/r/matters/new", data=matter_form())
    assert count(db, Matter) == 1
    assert first.headers["Location"] == second.headers["Location"]


def test_stale_edit_is_refused_not_silently_overwritten(client, auth, county, db):
    matter = make_matter(county["a"])
    db.session.commit()
    auth.login("a_director")
    stale_version = matter.version
    ok = client.post(f"/r/matters/{matter.id}/edit", data=matter_form(name="第一次修改", form_version=stale_version))
    assert ok.status_code == 302
    late = client.post(f"/r/matters/{matter.id}/edit", data=matter_form(name="第二次修改", form_version=stale_version))
    assert late.status_code == 200
    db.session.expire_all()
    assert db.session.get(Matter, matter.id).name == "第一次修改"


def test_void_keeps_the_record_with_its_reason_and_audit(client, auth, county, db):
    matter = make_matter(county["a"])
    db.session.commit()
    auth.login("a_director")
    assert client.post(f"/r/matters/{matter.id}/void", data={"reason": ""}).status_code == 200
    assert client.post(f"/r/matters/{matter.id}/void", data={"reason": "事项已取消"}).status_code == 302
    db.session.expire_all()
    kept = db.session.get(Matter, matter.id)
    assert kept.voided and kept.void_reason == "事项已取消"
    assert "事项已取消" in client.get(f"/r/matters/{matter.id}").get_data(as_text=True)
    assert f"/r/matters/{matter.id}\"" not in client.get("/r/matters/").get_data(as_text=True)
    assert client.get(f"/r/matters/{matter.id}/edit").status_code == 409  # void: not possible now, not "not allowed"


def test_edit_is_audited_field_by_field(client, auth, county, db):
    matter = make_matter(county["a"], promised=5)
    db.session.commit()
    auth.login("a_director")
    client.post(f"/r/matters/{matter.id}/edit", data=matter_form(name=matter.name, promised_days="6",
                                                                 form_version=matter.version))
    changes = db.session.scalars(select(AuditEntry).where(AuditEntry.record_id == matter.id,
                                                          AuditEntry.action == "edit")).all()
    assert ("promised_days", "5", "6") in [(e.field, e.before, e.after) for e in changes]


def test_list_filters_sorts_pages_and_answers_htmx_with_the_table_only(app, client, auth, county, db):
    window = make_window(county["a"], 3, "劳动保障")
    for i in range(30):
        make_matter(county["a"], name=f"事项{i:02d}", window_id=window.id if i % 2 else None)
    db.session.commit()
    auth.login("a_clerk")
    page = client.get(f"/r/matters/?window_id={window.id}&sort=-name").get_data(as_text=True)
    rows = set(re.findall(r'href="/r/matters/(\d+)"', page))
    assert len(rows) == 15
    assert page.index("事项29") < page.index("事项27")
    fragment = client.get("/r/matters/?page=2", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "<html" not in fragment and "<table" in fragment


def test_every_declared_workflow_is_consistent():
    assert [p for rtype in REGISTRY.values() for p in check_workflow(rtype)] == []


def test_inconsistent_workflow_is_caught_by_the_startup_check():
    broken = RecordType(
        key="broken", model=Matter, title="x", title_plural="x", permissions={},
        fields=[Field("name", "name")],
        workflow=Workflow(states=[State("a", "A"), State("b", "B"), State("c", "C")], initial="a",
                          transitions=[Transition("go", "Go", ("a",), "b", roles=frozenset())]))
    problems = check_workflow(broken)
    assert any("no role" in p for p in problems)
    assert any("'c' cannot be reached" in p for p in problems)
    assert any("'b' is not final" in p for p in problems)


# POST endpoints that may legitimately take a POST without the CSRF token: endpoint → reason. None today.
CSRF_EXEMPT: dict[str, str] = {}


def test_csrf_token_is_required_on_every_form(app, client, county, db, tmp_path, monkeypatch):
    """Every URL rule of the app that takes a POST (each record type's new/edit/void/step/print-number form,
    login, logout, password, centre switch, locale, admin, holidays, first run, notifications, public status)
    refuses a POST without the CSRF token with a 400 from the CSRF check, for a logged-in user."""
    from flask_wtf.csrf import CSRFProtect

    from app import create_app
    from app.i18n import LOCALES
    from app.notifications import notify
    from models.notification import Notification
    from tests.records_support import sample_record

    # The shipped configuration has CSRF on (the shared test fixture turns it off; this test turns it back on).
    fresh = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'c.db'}",
                        "SECRET_KEY": "x"})
    assert fresh.config["WTF_CSRF_ENABLED"] is True and fresh.config.get("WTF_CSRF_CHECK_DEFAULT", True) is True

    records = {key: sample_record(rtype, county["a"]) for key, rtype in REGISTRY.items()}
    notify(county["users"]["a_director"].id, "x", key="csrf-walk")
    db.session.commit()
    note_id = db.session.scalar(select(Notification.id))
    app.config["WTF_CSRF_ENABLED"] = True
    login_page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', login_page).group(1)
    logged_in = client.post("/login", data={"username": "a_director", "password": "secret-pass-1",
                                            "csrf_token": token})
    assert logged_in.status_code == 302  # with the token the same form works: the 400s below are not a blanket no

    refused_by_csrf: list[str] = []
    original = CSRFProtect._error_response

    def spy(self, reason):
        from flask import request
        refused_by_csrf.append(request.path)
        return original(self, reason)

    monkeypatch.setattr(CSRFProtect, "_error_response", spy)

    from tests.conftest import make_window
    window = make_window(county["a"])
    db.session.commit()

    def values(rule, arg, so_far):
        key = so_far.get("key")
        if arg == "key":
            return sorted(REGISTRY)
        if arg == "record_id":
            if key is None:  # a step's page of its own: the type whose step names it
                key = next(k for k, t in REGISTRY.items()
                           if t.workflow and any(s.view == rule.endpoint for s in t.workflow.transitions))
            return [records[key].id]
        if arg == "name" and rule.endpoint == "records.transition":
            return [t.name for t in REGISTRY[key].workflow.transitions] if REGISTRY[key].workflow else []
        if arg == "name" and rule.endpoint == "records.print_view":
            return [form.name for form in REGISTRY[key].prints]
        return {"center_id": [county["a"].id], "user_id": [county["users"]["a_clerk"].id], "year": [2026],
                "code": list(LOCALES) + ["A"], "note_id": [note_id], "window_id": [window.id],
                "token": ["not-a-token"], "appointment_id": [records["appointments"].id], "import_id": [1], "entry_id": [1],
                "which": ["in", "out"]}[arg]  # a KeyError: a new kind of POST URL to add here

    def urls(rule):
        order = (["key"] if "key" in rule.arguments else []) + sorted(rule.arguments - {"key"})
        found = [{}]
        for arg in order:
            found = [{**done, arg: v} for done in found for v in values(rule, arg, done)]
        return [rule.build(done, append_unknown=False)[1] for done in found]

    rules = sorted((r for r in app.url_map.iter_rules() if "POST" in r.methods),
                   key=lambda r: (r.endpoint == "auth.logout", r.rule))  # logging out last
    adapter = app.url_map.bind("localhost")
    audit_before = count(db, AuditEntry)
    walked, wrong = set(), []
    for rule in rules:
        if rule.endpoint in CSRF_EXEMPT:
            continue
        for url in urls(rule):
            assert adapter.match(url, method="POST")[0] == rule.endpoint, url  # the URL reaches this form's view
            refused_by_csrf.clear()
            response = client.post(url, data={"comment": "csrf", "form_version": "1"})
            if response.status_code != 400 or refused_by_csrf != [url]:
                wrong.append((rule.endpoint, url, response.status_code))
            walked.add(rule.endpoint)
    assert wrong == []
    assert count(db, AuditEntry) == audit_before  # nothing was done
    assert walked | set(CSRF_EXEMPT) == {r.endpoint for r in rules}
    assert {"records.new_view", "records.edit", "records.void", "records.transition", "records.print_view",
            "auth.login", "auth.change_password", "web.switch_center", "web.set_locale", "admin.user_form",
            "admin.center_form", "first_run.setup", "notifications.mark_read"} <= walked


@pytest.mark.parametrize("code", ["11010519491231002X", "110105194912310021", "1101051949", "abc"])
def test_id_numbers_are_checked_with_the_check_digit(code):
    from app.records.forms import valid_id_number
    assert valid_id_number(code) is (code == "11010519491231002X")


def test_id_numbers_are_masked_to_region_and_last_four():
    from app.records.registry import mask_id_number
    assert mask_id_number("11010519491231002X") == "110105********002X"


def test_add_a_row_button_shows_one_more_row_and_saves_nothing(client, auth, county, db):
    auth.login("a_director")
    response = client.post("/r/matters/new", data={**matter_form(), "add_row": "materials"})
    assert response.status_code == 200
    assert 'name="materials-3-name"' in response.get_data(as_text=True)
    assert count(db, Matter) == 0


def test_centre_column_only_for_users_who_read_several_centres(client, auth, county, db):
    make_matter(county["a"])
    db.session.commit()
    auth.login("a_clerk")
    assert 'name="center"' not in client.get("/r/matters/").get_data(as_text=True)
    auth.logout()
    auth.login("county_sup")
    assert 'name="center"' in client.get("/r/matters/").get_data(as_text=True)


def test_ledger_prints_the_filtered_list_as_a_pdf(client, auth, county, db, tmp_path):
    from tests.test_printouts import pdftotext
    for i in range(3):
        make_matter(county["a"], name=f"台账事项{i}")
    make_matter(county["b"], name="别的中心事项")
    db.session.commit()
    auth.login("a_clerk")
    html = client.get("/r/matters/ledger?q=台账").get_data(as_text=True)
    assert "台账事项2" in html and "别的中心事项" not in html
    text = pdftotext(client.get("/r/matters/ledger.pdf?q=台账").data, tmp_path)
    assert "台账事项0" in text and "共3条" in text.replace(" ", "")
