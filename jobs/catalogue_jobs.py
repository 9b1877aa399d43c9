"""Catalogue checks: A/B posts with nobody available (空岗, a veto item in awards [004])."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import aliased

from app.extensions import db
from models.catalogue import Post
from models.core import DIRECTOR, User


def empty_posts(at: datetime) -> str:
    from app.notifications import notify_role
    a_user, b_user = aliased(User), aliased(User)
    rows = db.session.scalars(
        select(Post).outerjoin(a_user, Post.a_holder_id == a_user.id).outerjoin(b_user, Post.b_holder_id == b_user.id)
        .where(Post.voided.is_(False),
               (a_user.id.is_(None) | a_user.active.is_(False)) & (b_user.id.is_(None) | b_user.active.is_(False)))
    ).all()
    sent = 0
    for post in rows:
        sent += notify_role(post.center_id, DIRECTOR, f"空岗：{post.name}", key=f"empty_post:{post.id}:{at.date()}",
                            body="A岗、B岗均无在岗人员，请安排补位。", link=f"/r/posts/{post.id}")
        db.session.commit()
    return f"{len(rows)} empty posts, {sent} notifications"
