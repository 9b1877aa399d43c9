"""Login, logout, password change; lockout after repeated failures."""
from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user
from sqlalchemy import select

from app.extensions import db, login_manager
from app.timeutil import now
from forms.auth import ChangePasswordForm, LoginForm
from models.core import User

bp = Blueprint("auth", __name__)


def init_app(app):
    login_manager.login_view = "auth.login"
    login_manager.login_message = None
    app.register_blueprint(bp)


@login_manager.user_loader
def load_user(user_id: str):
    uid, _sep, epoch = user_id.partition(":")
    user = db.session.get(User, int(uid)) if uid.isdigit() else None
    if user is None or str(user.session_epoch) != epoch:
        return None  # password changed elsewhere: this session ends
    return user


def _safe_next(target: str | None) -> str:
    if target and target.startswith("/") and not target.startswith("//"):
        return target
    return url_for("web.home")


@bp.route("/login", methods=["GET", "POST"])
def login():
    if current_user.is_authenticated:
        return redirect(url_for("web.home"))
    form = LoginForm()
    if form.validate_on_submit():
        user = db.session.scalar(select(User).where(User.username == form.username.data.strip()))
        if user is not None and user.is_locked():
            form.username.errors.append(_("Too many failed logins: this account is locked until %(time)s.",
                                          time=user.locked_until.strftime("%H:%M")))
        elif user is None or not user.active or not user.check_password(form.password.data):
            if user is not None:
                user.failed_logins += 1
                if user.failed_logins >= current_app.config["LOGIN_MAX_FAILURES"]:
                    user.locked_until = now() + timedelta(minutes=current_app.config["LOGIN_LOCK_MINUTES"])
                    user.failed_logins = 0
            form.password.errors.append(_("Wrong username or password."))
        else:
            user.failed_logins = 0
            user.locked_until = None
            session.clear()
            login_user(user)
            session.permanent = True
            return redirect(_safe_next(request.args.get("next")))
    return render_template("auth/login.html", form=form)


@bp.route("/logout", methods=["POST"])
def logout():
    logout_user()
    session.clear()
    return redirect(url_for("auth.login"))


@bp.route("/password", methods=["GET", "POST"])
@login_required
def change_password():
    form = ChangePasswordForm()
    if form.validate_on_submit():
        if not current_user.check_password(form.current.data):
            form.current.errors.append(_("The current password is wrong."))
        else:
            user = current_user._get_current_object()
            user.set_password(form.new.data)
            login_user(user)  # the new session epoch keeps this session, ends the others
            flash(_("Password changed."), "success")
            return redirect(url_for("web.home"))
    return render_template("auth/password.html", form=form)
