"""Accounts: login, throttling, password change, centre switching, first admin."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from models.core import User
from tests.conftest import PASSWORD


def test_login_page_is_chinese_by_default(client, county):
    html = client.get("/login").get_data(as_text=True)
    assert 'lang="zh-CN"' in html


def test_wrong_password_is_refused_beside_the_field(client, auth, county):
    response = auth.login("a_clerk", "wrong-password")
    assert response.status_code == 200
    assert 'class="error"' in response.get_data(as_text=True)
    assert "工作人员登录" in client.get("/").get_data(as_text=True)  # still a visitor: the public home


def test_five_failed_logins_delay_the_account_instead_of_locking_it(client, auth, county, db, monkeypatch):
    import app.auth as auth_module
    from app.timeutil import now
    start = now()
    monkeypatch.setattr(auth_module, "now", lambda: start)
    for _ in range(5):
        auth.login("a_clerk", "wrong-password")
    assert auth.login("a_clerk", PASSWORD).status_code == 200  # inside the delay: even the right password waits
    user = db.session.scalar(select(User).where(User.username == "a_clerk"))
    db.session.refresh(user)
    assert user.locked_until == start + timedelta(seconds=2)  # seconds, not the old 15 minutes
    monkeypatch.setattr(auth_module, "now", lambda: start + timedelta(seconds=2))
    assert auth.login("a_clerk", PASSWORD).status_code == 302


def test_password_change_ends_the_other_sessions(app, client, auth, county):
    other = app.test_client()
    other.post("/login", data={"username": "a_clerk", "password": PASSWORD})
    assert other.get("/").status_code == 200
    auth.login("a_clerk")
    response = client.post("/password", data={"current": PASSWORD, "new": "new-pass-123", "confirm": "new-pass-123"})
    assert response.status_code == 302
    assert client.get("/").status_code == 200
    assert "工作人员登录" in other.get("/").get_data(as_text=True)  # logged out: the public home


def test_short_new_password_is_refused(client, auth, county):
    auth.login("a_clerk")
    response = client.post("/password", data={"current": PASSWORD, "new": "short", "confirm": "short"})
    assert response.status_code == 200 and 'class="error"' in response.get_data(as_text=True)


def test_login_never_redirects_to_another_host(client, county):
    response = client.post("/login?next=//evil.example/x", data={"username": "a_clerk", "password": PASSWORD})
    assert response.headers["Location"] == "/"


def test_switching_to_a_centre_without_a_role_is_forbidden(client, auth, county):
    auth.login("a_clerk")
    assert client.post("/center", data={"center_id": county["b"].id}).status_code == 403


def test_county_supervisor_switches_between_centres(client, auth, county):
    auth.login("county_sup")
    assert client.post("/center", data={"center_id": county["b"].id}).status_code == 302


def test_create_admin_command_makes_a_first_administrator(runner, db):
    result = runner.invoke(args=["create-admin", "root", "--password", "long-enough-1"])
    assert result.exit_code == 0, result.output
    user = db.session.scalar(select(User).where(User.username == "root"))
    assert user.check_password("long-enough-1") and [g.role for g in user.grants] == ["admin"]
    again = runner.invoke(args=["create-admin", "root", "--password", "long-enough-1"])
    assert again.exit_code != 0


def test_logout_needs_a_post(client, auth, county):
    auth.login("a_clerk")
    assert client.get("/logout").status_code == 405
    assert client.post("/logout").status_code == 302
    assert "工作人员登录" in client.get("/").get_data(as_text=True)  # logged out: the public home
