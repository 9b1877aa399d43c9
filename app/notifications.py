"""The notification inbox: jobs and workflows tell people what needs them, once per event."""
from __future__ import annotations

from flask import Blueprint, abort, current_app, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from app.extensions import db
from app.params import parse_page
from app.timeutil import now
from models.core import RoleGrant, User
from models.notification import Notification

bp = Blueprint("notifications", __name__, url_prefix="/notifications")


def notify(user_id: int, title: str, *, key: str, body: str = "", link: str | None = None,
           center_id: int | None = None) -> bool:
    """Send unless this user already has the event `key`; True when a notification was created."""
    if _already_sent(user_id, key):  # the common case on a re-run: no failed insert, no savepoint
        return False
    try:
        with db.session.begin_nested():
            db.session.add(Notification(user_id=user_id, title=str(title), body=str(body), link=link or "",
                                        key=key, center_id=center_id))
    except IntegrityError:  # another process sent it a moment ago; only the savepoint is rolled back
        return False
    return True


def _already_sent(user_id: int, key: str) -> bool:
    return db.session.scalar(select(Notification.id).where(Notification.user_id == user_id,
                                                           Notification.key == key)) is not None


def notify_role(center_id: int, role: str, title: str, *, key: str, body: str = "", link: str | None = None) -> int:
    """Notify every active holder of a role in a centre; returns how many were new."""
    users = db.session.scalars(select(User.id).join(RoleGrant, RoleGrant.user_id == User.id).where(
        RoleGrant.center_id == center_id, RoleGrant.role == role, User.active.is_(True)).distinct()).all()
    return sum(notify(uid, title, key=key, body=body, link=link, center_id=center_id) for uid in users)


def tell_flagged(rows, title: str, *, key: str, link: str, names: dict, role: str = "director") -> int:
    """Records a sweep has just flagged, each told once to its person and to the centre's `role`.
    `rows` are (record id, centre, person or None); `key` and `link` are formats of the record id;
    `names` gives each record's line of text (what may be said about it in a notification)."""
    sent = 0
    for record_id, center_id, person_id in rows:
        event, url, body = key.format(record_id), link.format(record_id), names.get(record_id, "")
        if person_id:
            sent += notify(person_id, title, key=event, body=body, link=url, center_id=center_id)
        sent += notify_role(center_id, role, title, key=event, body=body, link=url)
    return sent


def unread_count(user_id: int) -> int:
    return db.session.scalar(select(func.count(Notification.id)).where(
        Notification.user_id == user_id, Notification.read_at.is_(None))) or 0


def init_app(app) -> None:
    app.jinja_env.globals["unread_notifications"] = lambda: (
        unread_count(current_user.id) if current_user.is_authenticated else 0)


def _mine_or_404(note_id: int) -> Notification:
    note = db.session.get(Notification, note_id)
    if note is None or note.user_id != current_user.id:
        abort(404)
    return note


def _local(link: str) -> bool:
    return link.startswith("/") and not link.startswith("//") and "\\" not in link


@bp.route("/")
@login_required
def inbox():
    page = parse_page(request.args.get("page"))
    size = current_app.config["PAGE_SIZE"]
    query = select(Notification).where(Notification.user_id == current_user.id)
    total = db.session.scalar(select(func.count()).select_from(query.subquery()))
    rows = db.session.scalars(query.order_by(Notification.id.desc()).limit(size).offset((page - 1) * size)).all()
    return render_template("notifications/inbox.html", rows=rows, page=page, pages=max(1, -(-total // size)))


@bp.route("/<int:note_id>", methods=["GET", "POST"])
@login_required
def open_note(note_id):
    """Follow a notification's link. Only opening it from the inbox (a POST with the CSRF token) marks it
    read; a GET (a prefetch, a link scanner, a copied address) only follows the link."""
    note = _mine_or_404(note_id)
    if request.method == "POST" and note.read_at is None:
        note.read_at = now()
    return redirect(note.link if _local(note.link) else url_for("notifications.inbox"), 303)


@bp.route("/<int:note_id>/read", methods=["POST"])
@login_required
def mark_read(note_id):
    note = _mine_or_404(note_id)
    note.read_at = note.read_at or now()
    return redirect(url_for("notifications.inbox", page=parse_page(request.args.get("page"))))


@bp.route("/read-all", methods=["POST"])
@login_required
def mark_all_read():
    db.session.execute(update(Notification).where(Notification.user_id == current_user.id,
                                                  Notification.read_at.is_(None)).values(read_at=now()))
    return redirect(url_for("notifications.inbox"))


from app.features import Feature, Job  # noqa: E402  (the feature declaration closes the module)

FEATURE = Feature(
    "notifications", blueprints=[bp], init_app=init_app,
    jobs=[Job("purge_notifications", "jobs.housekeeping:purge_notifications", {"hour": 2, "minute": 30},
              "Delete read notifications older than 180 days")])
