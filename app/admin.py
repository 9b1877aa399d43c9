"""Administration: users and their roles in a centre, and the centres of a county."""
from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import func, select
from wtforms import SelectChoice

from app import access
from app.extensions import db
from forms.admin import CenterForm, UserForm
from models.core import ADMIN, CENTER_KINDS, COUNTY, ROLES, AuditEntry, Center, RoleGrant, User

bp = Blueprint("admin", __name__, url_prefix="/admin")

KIND_TITLES = {"county": _l("County centre"), "township": _l("Township centre"),
               "subcenter": _l("Sub-centre"), "village": _l("Village service point")}
assert set(KIND_TITLES) == set(CENTER_KINDS)


@bp.before_request
@access.require_roles(ADMIN)
def _admins_only():
    return None


def _center() -> Center:
    return db.session.get(Center, access.current_center_id())


def _roles_for(center: Center) -> list[str]:
    # The county role is held at a county centre; centre roles everywhere else.
    return [r for r in ROLES if (r == COUNTY) == (center.kind == "county") or r == ADMIN]


def _log_user_change(user: User, field: str, before: str, after: str) -> None:
    if before != after:
        db.session.add(AuditEntry(center_id=user.center_id, record_table="user_account", record_id=user.id,
                                  user_id=current_user.id, action="edit", field=field, before=before, after=after))


@bp.route("/users")
def users():
    center = _center()
    q = (request.args.get("q") or "").strip()
    query = (select(User).where(User.id.in_(select(RoleGrant.user_id).where(RoleGrant.center_id == center.id))
                                | (User.center_id == center.id)).order_by(User.active.desc(), User.username))
    if q:
        query = query.where(User.username.ilike(f"%{q}%") | User.name.ilike(f"%{q}%"))
    rows = db.session.scalars(query).all()
    from app.backup import status_line
    return render_template("admin/users.html", center=center, rows=rows, q=q,
                           backup_status=status_line(current_app.config),
                           roles_of=lambda u: [access.ROLE_TITLES[g.role] for g in u.grants if g.center_id == center.id])


def _user_or_404(user_id: int) -> User:
    user = db.session.get(User, user_id)
    center_id = access.current_center_id()
    if user is None or (user.center_id != center_id and all(g.center_id != center_id for g in user.grants)):
        abort(404)
    return user


@bp.route("/users/new", methods=["GET", "POST"])
@bp.route("/users/<int:user_id>", methods=["GET", "POST"])
def user_form(user_id: int | None = None):
    center = _center()
    user = _user_or_404(user_id) if user_id else None
    form = UserForm(obj=user) if request.method == "GET" and user else UserForm()
    form.roles.choices = [SelectChoice(r, str(access.ROLE_TITLES[r])) for r in _roles_for(center)]
    if request.method == "GET" and user:
        form.roles.data = [g.role for g in user.grants if g.center_id == center.id]
        form.password.data = ""
    if form.validate_on_submit():
        taken = db.session.scalar(select(User).where(func.lower(User.username) == form.username.data.lower()))
        if taken is not None and taken is not user:
            form.username.errors.append(_("This username is taken."))
        elif user is None and not form.password.data:
            form.password.errors.append(_("This field is required."))
        elif user is not None and user.id == current_user.id and (ADMIN not in form.roles.data or not form.active.data):
            form.roles.errors.append(_("You cannot remove your own administrator role or deactivate yourself."))
        else:
            if user is None:
                user = User(center_id=center.id, password_hash="")
                db.session.add(user)
            before_roles = ",".join(sorted(g.role for g in user.grants if g.center_id == center.id))
            user.username, user.name = form.username.data.strip(), form.name.data.strip()
            user.phone, user.dispatching_department = form.phone.data or "", form.dispatching_department.data or ""
            if user.id is not None:
                _log_user_change(user, "active", str(user.active), str(form.active.data))
            user.active = form.active.data
            if form.password.data:
                user.set_password(form.password.data)
            if form.unlock.data and user.id is not None and (user.failed_logins or user.locked_until):
                until = f", waiting until {user.locked_until:%Y-%m-%d %H:%M:%S}" if user.locked_until else ""
                _log_user_change(user, "login_throttle", f"{user.failed_logins} failed logins{until}",
                                 _("unlocked by an administrator"))
                user.locked_until, user.failed_logins = None, 0
            wanted = set(form.roles.data)
            user.grants = [g for g in user.grants if g.center_id != center.id or g.role in wanted] + [
                RoleGrant(center_id=center.id, role=r) for r in sorted(wanted)
                if not any(g.center_id == center.id and g.role == r for g in user.grants)]
            db.session.flush()
            _log_user_change(user, "roles", before_roles, ",".join(sorted(wanted)))
            if form.password.data and user_id:
                _log_user_change(user, "password", "", _("reset by an administrator"))
            flash(_("Saved."), "success")
            return redirect(url_for("admin.users"))
    return render_template("admin/user_form.html", form=form, user=user, center=center)


def _county_of(center: Center) -> Center | None:
    while center is not None and center.kind != "county":
        center = center.parent
    return center


@bp.route("/centers")
def centers():
    county = _county_of(_center())
    ids = county.descendant_ids() if county else {access.current_center_id()}
    rows = db.session.scalars(select(Center).where(Center.id.in_(ids)).order_by(Center.parent_id, Center.name)).all()
    editable = {c.id for c in rows if ADMIN in access.roles_in(current_user, c.id)}
    return render_template("admin/centers.html", rows=rows, kinds=KIND_TITLES, editable=editable)


@bp.route("/centers/new", methods=["GET", "POST"])
@bp.route("/centers/<int:center_id>", methods=["GET", "POST"])
def center_form(center_id: int | None = None):
    target = db.session.get(Center, center_id) if center_id else None
    if center_id and (target is None or center_id not in access.visible_center_ids(current_user)):
        abort(404)
    if target is not None and ADMIN not in access.roles_in(current_user, target.id):
        abort(403)
    form = CenterForm(obj=target) if request.method == "GET" and target else CenterForm()
    form.kind.choices = [SelectChoice(k, str(v)) for k, v in KIND_TITLES.items() if k != "county"]
    parents = [c for c in db.session.scalars(select(Center).where(
        Center.id.in_(access.visible_center_ids(current_user)), Center.kind.in_(("county", "township"))))
        if ADMIN in access.roles_in(current_user, c.id) and c is not target]
    form.parent_id.choices = [SelectChoice(c.id, c.name) for c in parents]
    if not parents:
        abort(403)
    if form.validate_on_submit():
        clash = db.session.scalar(select(Center).where(Center.code == form.code.data.strip()))
        if clash is not None and clash is not target:
            form.code.errors.append(_("This code is taken."))
        else:
            target = target or Center()
            form.populate_obj(target)
            target.code = target.code.strip()
            db.session.add(target)
            db.session.flush()
            access.forget_roles()
            flash(_("Saved."), "success")
            return redirect(url_for("admin.centers"))
    return render_template("admin/center_form.html", form=form, target=target)


from app.features import Feature, MenuLink  # noqa: E402  (the feature declaration closes the module)

FEATURE = Feature(
    "admin", blueprints=[bp],
    menu=[MenuLink("admin.users", _l("Users"), frozenset({"admin"})),
          MenuLink("admin.centers", _l("Centres"), frozenset({"admin"}))])
