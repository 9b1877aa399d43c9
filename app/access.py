"""Who may see and do what: one place, used by pages, lists, exports and printouts alike.

Roles are granted per centre. A grant held at a county centre reaches every centre below it, so a
county supervisor reads the whole county; nobody else sees another centre's records.
"""
from __future__ import annotations

from functools import wraps
from typing import NamedTuple

from flask import abort, g, has_request_context, session
from flask.globals import _cv_app  # the app context without a proxy lookup
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select
from werkzeug.local import LocalProxy

from app import timeutil
from app.extensions import db
from models.core import ADMIN, AGENT, CLERK, COUNTY, DEPUTY, DIRECTOR, INSPECTOR, LEADER, Center, RoleGrant
from models.staff import PostCover

ROLE_TITLES = {
    CLERK: _l("Window clerk"),
    AGENT: _l("Agency officer"),
    INSPECTOR: _l("Inspector"),
    DEPUTY: _l("Deputy director"),
    DIRECTOR: _l("Director"),
    LEADER: _l("Town leader"),
    COUNTY: _l("County supervisor"),
    ADMIN: _l("Administrator"),
}
# Staff of a centre: everyone who works in it, for "read" on its everyday records.
STAFF = frozenset({CLERK, AGENT, INSPECTOR, DEPUTY, DIRECTOR, LEADER, ADMIN})
MANAGERS = frozenset({DEPUTY, DIRECTOR, LEADER})


class CentreEntry(NamedTuple):
    """A centre as lists, menus and access need it (its name, place in the tree, whether it is active)."""
    id: int
    name: str
    code: str
    kind: str
    parent_id: int | None
    active: bool


class CentreDirectory:
    """Every centre of the database, read in one statement once a request: access (county grants reach the
    centres below), the header's scope and centre switch, and the lists' centre columns and filters use it
    instead of loading centres one by one (the session's identity map forgets an unreferenced centre, so
    the same centre was read three or four times a page)."""

    def __init__(self, rows):
        self.by_id = {r.id: r for r in rows}
        self.children: dict[int, list[int]] = {}
        for r in rows:
            if r.parent_id is not None:
                self.children.setdefault(r.parent_id, []).append(r.id)

    def get(self, center_id) -> CentreEntry | None:
        return self.by_id.get(center_id)

    def below(self, center_id: int) -> set[int]:
        """The centre and every centre below it (a county's townships, their points …)."""
        ids, frontier = {center_id}, [center_id]
        while frontier:
            frontier = [c for p in frontier for c in self.children.get(p, ()) if c not in ids]
            ids.update(frontier)
        return ids

    def entries(self, ids, order=("name",)) -> list[CentreEntry]:
        found = [self.by_id[i] for i in ids if i in self.by_id]
        return sorted(found, key=lambda e: tuple(getattr(e, f) for f in order))


def centre_directory() -> CentreDirectory:
    """The request's centre directory (read afresh outside a request: a job or the CLI may have changed
    centres since)."""
    if has_request_context() and "_centre_directory" in g:
        return g._centre_directory
    rows = db.session.execute(select(Center.id, Center.name, Center.code, Center.kind, Center.parent_id,
                                     Center.active)).all()
    directory = CentreDirectory([CentreEntry(*r) for r in rows])
    if has_request_context():
        g._centre_directory = directory
    return directory


def role_map(user) -> dict[int, frozenset[str]]:
    """centre id → roles the user holds there (county grants spread to the centres below); cached a request."""
    return _role_map(user)


def unproxied(user):
    """The signed-in user itself for `current_user` (each attribute read through the proxy finds the user
    again in `g`: about 50 times a page), anything else as it is. Flask-Login keeps the request's user in
    `g._login_user` once loaded; read there without a proxy lookup."""
    if user is current_user:
        app_ctx = _cv_app.get(None)
        loaded = app_ctx.g.__dict__.get("_login_user") if app_ctx is not None else None
        return loaded if loaded is not None else current_user._get_current_object()
    return user._get_current_object() if isinstance(user, LocalProxy) else user


def signed_in_id() -> int | None:
    """The signed-in user's id (None for a visitor)."""
    return getattr(unproxied(current_user), "id", None)


def _role_map(user) -> dict[int, frozenset[str]]:
    """centre id → roles the user holds there (county grants spread to the centres below)."""
    user = unproxied(user)
    cache = g.setdefault("_role_maps", {})
    if user.id in cache:
        return cache[user.id]
    roles: dict[int, set[str]] = {}
    grants = db.session.execute(
        select(RoleGrant.center_id, RoleGrant.role).where(RoleGrant.user_id == user.id)).all()
    directory = centre_directory() if grants else None
    for center_id, role in grants:
        center = directory.get(center_id)
        if center is None or not center.active:
            continue
        reach = directory.below(center_id) if center.kind == "county" else {center_id}
        for cid in reach:
            roles.setdefault(cid, set()).add(role)
    cache[user.id] = {cid: frozenset(r) for cid, r in roles.items()}
    return cache[user.id]


def acting_for(user, on=None) -> frozenset[int]:
    """Whose work the user does today: their own, and that of every post holder they cover while the holder
    is on approved leave (B on A's post handles A's cases with A's rights [000 AB岗 §4])."""
    if not getattr(user, "is_authenticated", False):
        return frozenset()
    on = on or timeutil.today()
    cache = g.setdefault("_acting_for", {})
    if (user.id, on) not in cache:
        covered = db.session.scalars(select(PostCover.absent_id).where(
            PostCover.cover_id == user.id, PostCover.start_on <= on, PostCover.end_on >= on))
        cache[(user.id, on)] = frozenset({user.id, *covered})
    return cache[(user.id, on)]


def centre_record_or_404(model, record_id: int, roles: frozenset[str]):
    """A record of a centre the user sees, for a holder of one of `roles` there: unknown, void or another
    centre's → 404; in sight but without such a role → 403."""
    record = db.session.get(model, record_id)
    if record is None or getattr(record, "voided", False) or record.center_id not in visible_center_ids(current_user):
        abort(404)
    if not roles_in(current_user, record.center_id) & roles:
        abort(403)
    return record


def roles_in(user, center_id: int | None) -> frozenset[str]:
    user = unproxied(user)
    if not getattr(user, "is_authenticated", False) or center_id is None:
        return frozenset()
    return _role_map(user).get(center_id, frozenset())


def visible_center_ids(user) -> set[int]:
    user = unproxied(user)
    if not getattr(user, "is_authenticated", False):
        return set()
    return set(_role_map(user))


def all_roles(user) -> frozenset[str]:
    return frozenset().union(*_role_map(user).values()) if getattr(user, "is_authenticated", False) else frozenset()


def current_center_id() -> int | None:
    """The centre the user works in now: chosen in the header, else the home centre (worked out once a
    request: the header, the menu, the scope and the page each ask)."""
    chosen = session.get("center_id")
    memo = g.get("_current_center_id")
    if memo is not None and memo[0] == chosen:
        return memo[1]
    user = unproxied(current_user)
    if not user.is_authenticated:
        return None
    visible = visible_center_ids(user)
    if chosen in visible:
        found = chosen
    elif user.center_id in visible:
        found = user.center_id
    else:
        found = min(visible) if visible else None
    g._current_center_id = (chosen, found)
    return found


def current_center() -> Center | None:
    """The current centre's record, read once a request (and held, so the session does not forget it)."""
    cid = current_center_id()
    if not cid:
        return None
    held = g.get("_current_center")
    if held is None or held.id != cid:
        held = g._current_center = db.session.get(Center, cid)
    return held


def current_scope_ids() -> set[int]:
    """The centres the header's choice covers: the chosen centre and the centres below it (the county:
    every township; a township: itself and its service points), among those the user may see.
    Lists, filters, exports and ledgers show these; a record's own page stays reachable by its link."""
    if not unproxied(current_user).is_authenticated:
        return set()
    cache = g.setdefault("_scope_ids", {})
    cid = current_center_id()
    if cid not in cache:
        directory = centre_directory()
        cache[cid] = (directory.below(cid) if directory.get(cid) else set()) & visible_center_ids(current_user)
    return set(cache[cid])


def has_role(*roles: str, center_id: int | None = None) -> bool:
    cid = center_id if center_id is not None else current_center_id()
    return bool(roles_in(current_user, cid) & set(roles))


def require_roles(*roles: str):
    """View decorator: the user must hold one of the roles in the current centre, else 403."""
    def decorate(view):
        @wraps(view)
        def wrapper(*args, **kwargs):
            if not current_user.is_authenticated:
                from app.extensions import login_manager
                return login_manager.unauthorized()
            if not has_role(*roles):
                abort(403)
            return view(*args, **kwargs)
        return wrapper
    return decorate


def forget_roles() -> None:
    """Drop this request's cached role maps and covers (after centres, grants or covers change)."""
    g.pop("_role_maps", None)
    g.pop("_centre_directory", None)
    g.pop("_current_center", None)
    g.pop("_current_center_id", None)
    g.pop("_scope_ids", None)
    g.pop("_acting_for", None)
