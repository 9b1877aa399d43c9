"""Administration of users, roles and centres."""
from __future__ import annotations

from sqlalchemy import select

from models.core import AuditEntry, Center, User


def new_user(**overrides):
    data = {"username": "clerk9", "name": "李窗口", "phone": "13800001111", "dispatching_department": "县民政局",
            "roles": ["clerk"], "active": "y", "password": "initial-pass-1"}
    data.update(overrides)
    return data


def test_admin_creates_a_clerk_who_can_log_in(client, auth, county, db):
    auth.login("a_admin")
    assert client.post("/admin/users/new", data=new_user()).status_code == 302
    user = db.session.scalar(select(User).where(User.username == "clerk9"))
    assert [(g.center_id, g.role) for g in user.grants] == [(county["a"].id, "clerk")]
    auth.logout()
    assert auth.login("clerk9", "initial-pass-1").status_code == 302


def test_new_user_needs_a_password_and_a_free_username(client, auth, county, db):
    auth.login("a_admin")
    assert client.post("/admin/users/new", data=new_user(password="")).status_code == 200
    assert client.post("/admin/users/new", data=new_user(username="a_clerk")).status_code == 200
    assert db.session.scalar(select(User).where(User.username == "clerk9")) is None


def test_role_changes_are_audited(client, auth, county, db):
    auth.login("a_admin")
    clerk = county["users"]["a_clerk"]
    client.post(f"/admin/users/{clerk.id}", data=new_user(username="a_clerk", roles=["clerk", "inspector"], password=""))
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.record_table == "user_account",
                                                       AuditEntry.field == "roles"))
    assert (entry.before, entry.after) == ("clerk", "clerk,inspector")


def test_admin_of_one_centre_cannot_see_users_of_another(client, auth, county):
    auth.login("a_admin")
    other = county["users"]["b_clerk"]
    assert client.get(f"/admin/users/{other.id}").status_code == 404
    assert "b_clerk" not in client.get("/admin/users").get_data(as_text=True)


def test_only_admins_reach_administration(client, auth, county):
    auth.login("a_director")
    assert client.get("/admin/users").status_code == 403
    assert client.get("/admin/centers").status_code == 403


def test_admin_cannot_remove_own_admin_role(client, auth, county, db):
    me = county["users"]["a_admin"]
    auth.login("a_admin")
    response = client.post(f"/admin/users/{me.id}", data=new_user(username="a_admin", roles=["clerk"], password=""))
    assert response.status_code == 200
    db.session.refresh(me)
    assert "admin" in [g.role for g in me.grants]


def test_county_admin_adds_a_village_service_point(client, auth, county, db):
    from tests.conftest import make_user
    make_user(county["county"], "admin", username="county_admin")
    db.session.commit()
    auth.login("county_admin")
    response = client.post("/admin/centers/new", data={
        "name": "柳树村便民服务点", "code": "V-LS", "kind": "village", "parent_id": county["a"].id,
        "address": "", "phone": "", "complaint_phone": "", "active": "y"})
    assert response.status_code == 302
    point = db.session.scalar(select(Center).where(Center.code == "V-LS"))
    assert point.parent_id == county["a"].id and point.kind == "village"
