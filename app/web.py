"""Pages that belong to no record type: home, worklist, centre switch, language, errors, assets."""
from __future__ import annotations

from flask import (Blueprint, abort, redirect, render_template, request, send_from_directory,
                   session, url_for)
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from app import access, features
from app.config import ROOT
from app.extensions import db, end_request_transaction
from app.features import HomePanel, MenuLink  # noqa: F401  (their old home: importable from here too)
from app.i18n import LOCALES
from app.timeutil import cn_date, today

bp = Blueprint("web", __name__)


# Menu groups in header order; a record type or a MenuLink names its group.
NAV_GROUPS = {
    "cases": _l("Cases"),
    "service": _l("Service"),
    "supervision": _l("Supervision"),
    "staff": _l("Staff"),
    "catalogue": _l("Catalogue"),
    "reports": _l("Reports"),
    "admin": _l("Administration"),
}


# Feature pages, menu links and home panels come from app.features (record types from the registry).

# Front-end packages installed from npm at set-up, served from our own host (never a CDN).
VENDOR_FILES = {"htmx.min.js": ROOT / "node_modules" / "htmx.org" / "dist" / "htmx.min.js"}


# No inline script anywhere (progressive enhancements live in static/forms.js); inline styles stay.
CONTENT_SECURITY_POLICY = ("default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
                           "script-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; "
                           "frame-ancestors 'self'")
NOT_CACHED_TYPES = {"application/pdf", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}
PRINT_ENDPOINTS = {"records.print_view", "records.print_pdf", "records.ledger_view", "records.ledger_pdf",
                   "records.export_view"}


def init_app(app) -> None:
    app.register_blueprint(bp)
    features.init_app(app)  # every feature's blueprints, then each feature's own init_app

    @app.after_request
    def commit_or_roll_back(response):
        """One request, one transaction: success commits, anything else rolls back."""
        if response.status_code < 400:
            end_request_transaction()
        else:
            db.session.rollback()
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "SAMEORIGIN")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        if response.mimetype in NOT_CACHED_TYPES or request.endpoint in PRINT_ENDPOINTS \
                or request.args.get("format") in ("print", "pdf", "xlsx"):
            response.headers["Cache-Control"] = "no-store"  # personal data never left in a browser cache
        response.vary.add("HX-Request")
        return response

    @app.context_processor
    def layout_context():
        return {
            "access": access,
            # id and name for the header and the pages (from the request's centre directory, no statement)
            "current_center": access.centre_directory().get(access.current_center_id())
            if current_user.is_authenticated else None,
            "cn_date": cn_date,
            "locales": LOCALES,
            "main_menu": main_menu,
            "centre_name": centre_name,
            "menu_items": menu_items,
            "get_locale": get_locale,
        }

    app.jinja_env.filters["cn_date"] = cn_date

    for code in (403, 404, 405, 413, 429):
        app.register_error_handler(code, _error_page)


def centre_name(center_id) -> str:
    """A centre's name from the request's centre directory (a record's page names its centre)."""
    entry = access.centre_directory().get(center_id)
    return entry.name if entry else ""


def _error_page(error):
    return render_template("errors/error.html", error=error), error.code


@bp.route("/")
def home():
    """Staff: their own home. A visitor: the centre's public home (SPEC §4.16)."""
    if not current_user.is_authenticated:
        visitor_home = features.visitor_home()
        return visitor_home() if visitor_home else redirect(url_for("auth.login"))
    from app.records import worklist
    items = worklist.for_user(current_user, limit=10)  # the first rows of each group; "see all" for more
    roles = access.roles_in(current_user, access.current_center_id())
    roles_text = "、".join(str(access.ROLE_TITLES[r]) for r in sorted(roles))
    panels = [p.template for p in features.home_panels() if p.roles & roles]
    return render_template("home.html", items=items, roles_text=roles_text, today=today(), home_panels=panels)


# Rows a worklist group shows (oldest and flagged first; the register's filters find the rest): a page a
# person works through, not the register — 50 keep the page under 50 ms with 250,000 cases on file.
WORKLIST_ROWS = 50


@bp.route("/worklist")
@login_required
def my_worklist():
    from app.records import worklist
    group = request.args.get("group") or None
    return render_template("worklist.html", items=worklist.for_user(current_user, limit=WORKLIST_ROWS, group=group))


@bp.route("/center", methods=["POST"])
@login_required
def switch_center():
    center_id = request.form.get("center_id", type=int)
    if center_id not in access.visible_center_ids(current_user):
        abort(403)
    session["center_id"] = center_id
    return redirect(request.referrer if request.referrer and request.referrer.startswith(request.host_url)
                    else url_for("web.home"))


@bp.route("/locale/<code>", methods=["POST"])
def set_locale(code):
    if code not in LOCALES:
        abort(404)
    session["locale"] = code
    return redirect(request.referrer if request.referrer and request.referrer.startswith(request.host_url)
                    else url_for("web.home"))


@bp.route("/vendor/<name>")
def vendor(name):
    path = VENDOR_FILES.get(name)
    if path is None or not path.exists():
        abort(404)
    return send_from_directory(path.parent, path.name, max_age=86400)


def visible_centers():
    """The centres the header's switch offers (id, name, kind: from the request's centre directory)."""
    ids = access.visible_center_ids(current_user)
    return access.centre_directory().entries(ids, order=("kind", "name")) if len(ids) > 1 else []


@bp.app_context_processor
def centers_for_switch():
    if not current_user.is_authenticated:
        return {"switchable_centers": []}
    return {"switchable_centers": visible_centers}


def menu_items(group: str | None = None) -> list[dict]:
    """Registers the user may read in the current centre and feature pages for their roles."""
    items = _menu(access.roles_in(current_user, access.current_center_id()))[0]
    return [i for i in items if group is None or i["group"] == group]


def main_menu() -> list[dict]:
    """One header entry per group: the page itself when the group has one, else the group page."""
    return _menu(access.roles_in(current_user, access.current_center_id()))[1]


# The menu of a set of roles in a language: the same for everyone who holds them, so it is made once per
# process (the header of every page needs it; making it cost ~80 url_for and translations a page).
_MENUS: dict = {}


def _menu(roles: frozenset[str]) -> tuple[list[dict], list[dict]]:
    from app.records import REGISTRY
    links = features.menu_links()
    types = tuple(REGISTRY.values())
    key = (roles, str(get_locale()), request.script_root, tuple(map(id, types)), tuple(map(id, links)))
    made = _MENUS.get(key)
    if made is None:
        items = [{"title": str(t.title_plural), "url": url_for("records.list_view", key=t.key), "group": t.nav_group}
                 for t in types if t.nav_group and t.readable_by(roles)]
        items += [{"title": str(link.title), "url": url_for(link.endpoint, **link.kwargs), "group": link.group}
                  for link in links if link.roles & roles]
        entries = []
        for code, title in NAV_GROUPS.items():
            mine = [i for i in items if i["group"] == code]
            if len(mine) == 1:
                entries.append({"title": mine[0]["title"], "url": mine[0]["url"]})
            elif mine:
                entries.append({"title": str(title), "url": url_for("web.group", code=code)})
        if len(_MENUS) > 500:  # role sets × languages are few; never let a test run grow it without end
            _MENUS.clear()
        made = _MENUS[key] = (items, entries, types, links)  # held: the ids in the key stay theirs
    return made[:2]


@bp.route("/g/<code>")
@login_required
def group(code):
    if code not in NAV_GROUPS:
        abort(404)
    items = menu_items(code)
    if not items:
        abort(403)
    return render_template("group.html", title=NAV_GROUPS[code], items=items)
