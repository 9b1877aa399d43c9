"""The public front door (SPEC §4.16): what a visitor sees without logging in.

`/` for a visitor is the centre's public home (web.home calls the feature's `visitor_home`, `public_home`): the case lookup, the service
guide of every matter (searchable by name), the centre's hours and phones, a staff login link. A server
may hold a whole county: the public centres are its active townships, listed when there are several, each
with its own page `/p/<code>`; with only one, `/` is that page. A matter's guide `/p/<code>/matters/<id>`
renders the same macro as the printed 办事指南 (templates/public/_guide.html): one source.
"""
from __future__ import annotations

from flask import Blueprint, abort, current_app, render_template, request
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from app.extensions import db
from models.catalogue import Matter, Window
from models.core import Center

bp = Blueprint("public", __name__, url_prefix="/p")

PUBLIC_KIND = "township"
MAX_QUERY = 60


def public_centers() -> list[Center]:
    """Active township centres; a server without any township shows its active centres instead."""
    active = select(Center).where(Center.active.is_(True)).order_by(Center.name)
    centers = db.session.scalars(active.where(Center.kind == PUBLIC_KIND)).all()
    return list(centers) or list(db.session.scalars(active))


def _center_or_404(code: str) -> Center:
    """A public centre by its code (one indexed lookup: the hall display asks every second)."""
    center = db.session.scalar(select(Center).where(Center.code == code, Center.active.is_(True)))
    if center is None:
        abort(404)
    if center.kind != PUBLIC_KIND and db.session.scalar(select(Center.id).where(
            Center.active.is_(True), Center.kind == PUBLIC_KIND).limit(1)) is not None:
        abort(404)   # public_centers(): townships, or every active centre on a server without any
    return center


def office_hours() -> list[str]:
    """The office hours as "8:30–12:00" spans (the same setting the reminder jobs keep to)."""
    from jobs.runner import DEFAULT_WORK_HOURS
    spans = current_app.config.get("WORK_HOURS", DEFAULT_WORK_HOURS)
    return [f"{h1}:{m1:02d}–{h2}:{m2:02d}" for (h1, m1), (h2, m2) in spans]


def _lookup_form():
    from app.status import LookupForm
    return LookupForm(formdata=None)


def public_home():
    """`/` for a visitor: the list of township centres, or the only one's page."""
    centers = public_centers()
    if len(centers) == 1:
        return center_page(centers[0])
    return render_template("public/index.html", centers=centers, form=_lookup_form(), hours=office_hours())


def center_page(center: Center):
    q = request.args.get("q", "").strip()[:MAX_QUERY]
    query = (select(Matter).outerjoin(Window, Matter.window_id == Window.id)
             .where(Matter.center_id == center.id, Matter.voided.is_(False))
             .options(selectinload(Matter.window))
             .order_by(Window.number.is_(None), Window.number, Matter.name, Matter.id))
    if q:
        query = query.where(Matter.name.contains(q, autoescape=True))
    matters = db.session.scalars(query).all()
    groups: list[tuple[Window | None, list[Matter]]] = []
    for matter in matters:
        if not groups or groups[-1][0] is not matter.window:
            groups.append((matter.window, []))
        groups[-1][1].append(matter)
    return render_template("public/center.html", center=center, groups=groups, count=len(matters), q=q,
                           form=_lookup_form(), hours=office_hours(), several=len(public_centers()) > 1)


@bp.route("/<code>")
def center(code):
    return center_page(_center_or_404(code))


@bp.route("/<code>/matters/<int:matter_id>")
def matter(code, matter_id):
    center = _center_or_404(code)
    record = db.session.get(Matter, matter_id)
    if record is None or record.center_id != center.id or record.voided:
        abort(404)
    return render_template("public/matter.html", center=center, record=record, hours=office_hours())


from app.features import Feature  # noqa: E402  (the feature declaration closes the module)

FEATURE = Feature("public", blueprints=[bp], visitor_home=public_home)
