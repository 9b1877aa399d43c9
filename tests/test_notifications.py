"""The inbox: one notification per event, mine only, links stay on the site."""
from __future__ import annotations

from sqlalchemy import func, select

from app.notifications import notify, unread_count
from models.notification import Notification


def test_notify_with_the_same_key_twice_creates_one(db, county):
    user = county["users"]["a_clerk"]
    assert notify(user.id, "办件即将到期", key="warn:1") is True
    assert notify(user.id, "办件即将到期", key="warn:1") is False
    assert db.session.scalar(select(func.count(Notification.id))) == 1


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


def test_opening_marks_read_and_the_badge_counts_unread(client, auth, county, db):
    user = county["users"]["a_clerk"]
    notify(user.id, "一", key="a", link="/r/matters/")
    notify(user.id, "二", key="b")
    db.session.commit()
    auth.login("a_clerk")
    assert 'class="badge-count">2<' in client.get("/").get_data(as_text=True)
    note = db.session.scalar(select(Notification).where(Notification.key == "a"))
    response = client.get(f"/notifications/{note.id}")
    assert response.headers["Location"] == "/r/matters/"
    db.session.expire_all()
    assert unread_count(user.id) == 1
    client.post("/notifications/read-all")
    db.session.expire_all()
    assert unread_count(user.id) == 0


def test_notification_link_never_leaves_the_site(client, auth, county, db):
    notify(county["users"]["a_clerk"].id, "x", key="evil", link="//evil.example/")
    db.session.commit()
    auth.login("a_clerk")
    note = db.session.scalar(select(Notification))
    assert client.get(f"/notifications/{note.id}").headers["Location"] == "/notifications/"
