"""First install: set up from this PC only; a real centre with the administrator's own password, or the
demo; demo accounts log in from this PC only while they keep the demo password (issue 12, item 2)."""
from __future__ import annotations

from sqlalchemy import func, select

from app.demo import DEMO_PASSWORD
from models.core import Center, User

ELSEWHERE = {"REMOTE_ADDR": "192.168.1.23"}


def users(db) -> int:
    return db.session.scalar(select(func.count(User.id)))


def test_an_empty_system_sends_this_pc_to_the_set_up_page(client, db):
    response = client.get("/login")
    assert response.status_code == 302 and response.headers["Location"].endswith("/setup/")
    assert client.get("/").headers["Location"].endswith("/setup/")


def test_the_set_up_page_is_not_served_to_another_pc(client, db):
    assert client.get("/setup/", environ_overrides=ELSEWHERE).status_code == 503
    assert client.get("/login", environ_overrides=ELSEWHERE).status_code == 503
    response = client.post("/setup/", data={"choice": "demo"}, environ_overrides=ELSEWHERE)
    assert response.status_code == 503 and users(db) == 0


def test_a_real_centre_starts_with_the_administrators_own_password(client, db):
    data = {"choice": "real", "real-county": "示范县政务服务中心", "real-township": "城关镇便民服务中心",
            "real-username": "wang", "real-name": "王主任", "real-password": "12345678", "real-confirm": "12345678"}
    response = client.post("/setup/", data=data)
    assert response.status_code == 200 and users(db) == 0  # a weak password is refused beside the field
    data.update({"real-password": "城关镇大厅2026安全", "real-confirm": "城关镇大厅2026安全"})
    assert client.post("/setup/", data=data).status_code == 302
    assert users(db) == 1
    assert {c.kind for c in db.session.scalars(select(Center))} == {"county", "township"}
    assert client.post("/login", data={"username": "wang", "password": "城关镇大厅2026安全"}).status_code == 302
    assert client.get("/setup/").status_code == 404  # done once


def test_the_demo_lists_every_demo_login_county_admin_first(client, db):
    response = client.post("/setup/", data={"choice": "demo"})
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and users(db) >= 20
    names = [u for u in db.session.scalars(select(User.username))]
    assert all(f"<code>{u}</code>" in html for u in names)
    assert html.index("<code>county_admin</code>") < html.index("<code>director</code>")


def test_demo_data_never_goes_into_a_database_that_holds_records(client, db):
    client.post("/setup/", data={"choice": "demo"})
    before = users(db)
    assert client.post("/setup/", data={"choice": "demo"}).status_code == 404
    assert users(db) == before


def test_a_demo_account_logs_in_from_another_pc_only_after_its_password_is_changed(client, db):
    client.post("/setup/", data={"choice": "demo"})
    refused = client.post("/login", data={"username": "director", "password": DEMO_PASSWORD},
                          environ_overrides=ELSEWHERE)
    assert refused.status_code == 200
    assert client.post("/login", data={"username": "director", "password": DEMO_PASSWORD}).status_code == 302
    assert client.post("/password", data={"current": DEMO_PASSWORD, "new": "大厅主任2026新密码",
                                          "confirm": "大厅主任2026新密码"}).status_code == 302
    client.post("/logout")
    assert client.post("/login", data={"username": "director", "password": "大厅主任2026新密码"},
                       environ_overrides=ELSEWHERE).status_code == 302
