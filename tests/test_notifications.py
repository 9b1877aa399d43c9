"""The inbox: one notification per event, mine only, links stay on the site."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from app import notifications
from app.notifications import notify, notify_role, unread_count
from models.notification import Notification
from tests.conftest import make_user


def count(db):
    return db.session.scalar(select(func.count(Notification.id)))


def test_notify_same_key_twice_creates_one(db, county):
    user = county["users"]["a_clerk"]
    assert notify(user.id, "办件即将到期", key="warn:1") is True
    assert notify(user.id, "办件即将到期", key="warn:1") is False
    assert notify(county["users"]["a_director"].id, "办件即将到期", key="warn:1") is True  # the key is per user
    assert count(db) == 2


def test_a_racing_duplicate_is_absorbed_without_losing_the_transaction(db, county, monkeypatch):
    """Two job processes may both pass the pre-check: the unique key stops the second, and only its
    savepoint is rolled back, not the work done before it."""
    user = county["users"]["a_clerk"]
    notify(user.id, "先到", key="race")
    monkeypatch.setattr(notifications, "_already_sent", lambda user_id, key: False)
    assert notify(user.id, "后到", key="race") is False
    db.session.commit()
    assert db.session.scalars(select(Notification.title)).all() == ["先到"]


def test_notify_role_reaches_active_holders_in_that_centre(db, county):
    gone = make_user(county["a"], "director", username="a_director_gone")
    gone.active = False
    db.session.commit()
    assert notify_role(county["a"].id, "director", "空岗", key="k") == 1
    assert db.session.scalars(select(Notification.user_id)).all() == [county["users"]["a_director"].id]


def test_inbox_shows_only_my_notifications(client, auth, county, db):
    notify(county["users"]["a_clerk"].id, "给窗口的通知", key="k1")
    notify(county["users"]["b_clerk"].id, "给石桥的通知", key="k1")
    db.session.commit()
    auth.login("a_clerk")
    html = client.get("/notifications/").get_data(as_text=True)
    assert "给窗口的通知" in html and "给石桥的通知" not in html
    other = db.session.scalar(select(Notification).where(Notification.title == "给石桥的通知"))
    assert client.get(f"/notifications/{other.id}").status_code == 404
    assert client.post(f"/notifications/{other.id}/read").status_code == 404
    client.post("/notifications/read-all")
    db.session.expire_all()
    assert other.read_at is None  # "all" means all of mine


def test_inbox_is_newest_first_paged_and_unread_bold(client, auth, county, db, app):
    app.config["PAGE_SIZE"] = 2
    for n in range(3):
        notify(county["users"]["a_clerk"].id, f"通知{n}", key=str(n))
    db.session.commit()
    auth.login("a_clerk")
    first = client.get("/notifications/").get_data(as_text=True)
    assert first.index("通知2") < first.index("通知1") and "通知0" not in first
    assert 'class="unread"' in first
    assert "通知0" in client.get("/notifications/?page=2").get_data(as_text=True)


def test_mark_read_and_badge_count(client, auth, county, db):
    user = county["users"]["a_clerk"]
    notify(user.id, "一", key="a", link="/r/matters/")
    notify(user.id, "二", key="b")
    notify(user.id, "三", key="c")
    db.session.commit()
    auth.login("a_clerk")
    assert 'class="badge-count">3<' in client.get("/").get_data(as_text=True)
    note = db.session.scalar(select(Notification).where(Notification.key == "a"))
    assert client.post(f"/notifications/{note.id}").headers["Location"] == "/r/matters/"  # opening reads it
    second = db.session.scalar(select(Notification).where(Notification.key == "b"))
    assert client.post(f"/notifications/{second.id}/read").status_code == 302
    db.session.expire_all()
    assert unread_count(user.id) == 1
    client.post("/notifications/read-all")
    db.session.expire_all()
    assert unread_count(user.id) == 0
    assert "badge-count" not in client.get("/").get_data(as_text=True)


@pytest.mark.parametrize("link", ["//evil.example/", "https://evil.example/", "/\\evil.example", "javascript:alert(1)", ""])
def test_notification_link_never_leaves_the_site(client, auth, county, db, link):
    notify(county["users"]["a_clerk"].id, "x", key="evil", link=link)
    db.session.commit()
    auth.login("a_clerk")
    note = db.session.scalar(select(Notification))
    assert client.get(f"/notifications/{note.id}").headers["Location"] == "/notifications/"
    assert client.post(f"/notifications/{note.id}").headers["Location"] == "/notifications/"


def test_opening_a_notification_by_get_does_not_mark_it_read(client, auth, county, db, app):
    """A GET (a prefetch, a link scanner, an image tag) only follows the link; opening from the inbox is a
    POST with the CSRF token, which marks the notification read."""
    user = county["users"]["a_clerk"]
    notify(user.id, "办件即将到期", key="k", link="/r/cases/")
    db.session.commit()
    auth.login("a_clerk")
    note = db.session.scalar(select(Notification))
    assert client.get(f"/notifications/{note.id}").headers["Location"] == "/r/cases/"
    assert unread_count(user.id) == 1
    app.config["WTF_CSRF_ENABLED"] = True
    assert client.post(f"/notifications/{note.id}").status_code == 400
    assert unread_count(user.id) == 1
    inbox = client.get("/notifications/").get_data(as_text=True)
    assert f'<form method="post" action="/notifications/{note.id}"' in inbox and 'name="csrf_token"' in inbox
    app.config["WTF_CSRF_ENABLED"] = False
    assert client.post(f"/notifications/{note.id}").headers["Location"] == "/r/cases/"
    db.session.expire_all()
    assert unread_count(user.id) == 0


def test_marking_read_needs_the_csrf_token(client, auth, county, db, app):
    notify(county["users"]["a_clerk"].id, "x", key="k")
    db.session.commit()
    auth.login("a_clerk")
    app.config["WTF_CSRF_ENABLED"] = True
    assert client.post("/notifications/read-all").status_code == 400
    assert unread_count(county["users"]["a_clerk"].id) == 1


def test_the_inbox_needs_a_login(client):
    assert client.get("/notifications/").status_code in (302, 401)
