"""Login, logout, password change; throttling of repeated failures (no lock an attacker controls)."""
from __future__ import annotations

import secrets
import threading
import time
import unicodedata
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from flask import Blueprint, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import select
from werkzeug.security import check_password_hash, generate_password_hash

import models.core as core_models
from app.extensions import db, login_manager
from app.timeutil import now
from forms.auth import ChangePasswordForm, LoginForm
from models.core import User

bp = Blueprint("auth", __name__)

# Failures from one client address before delays start (a spray over many accounts); the free
# failures per account are LOGIN_MAX_FAILURES, the longest delay LOGIN_LOCK_MINUTES.
ADDRESS_FREE_FAILURES = 10
# After this long without a failure, counting starts again from zero.
QUIET_RESET = timedelta(hours=1)
# A browser someone logged in from is remembered (signed cookie, no server state): the account's
# delay does not apply to it, so an attacker elsewhere cannot keep the director out of their own PC.
DEVICE_COOKIE = "hall_device"
DEVICE_MAX_AGE = 180 * 24 * 3600


def init_app(app):
    login_manager.login_view = "auth.login"
    login_manager.login_message = None
    app.extensions["login_throttle"] = AddressThrottle()
    app.register_blueprint(bp)
    app.before_request(_renew_session_now_and_then)


def _renew_session_now_and_then() -> None:
    """A signed-in session lasts 8 hours from the last page seen: its cookie is renewed when the last renewal
    is a few minutes old (signing and sending a new cookie with every page cost every page)."""
    if session.permanent:
        moment = int(time.time())
        if moment - session.get("_renewed", 0) >= current_app.config["SESSION_RENEW_SECONDS"]:
            session["_renewed"] = moment


@login_manager.user_loader
def load_user(user_id: str):
    uid, _sep, epoch = user_id.partition(":")
    user = db.session.get(User, int(uid)) if uid.isdigit() else None
    if user is None or str(user.session_epoch) != epoch:
        return None  # password changed or logged out: this session (and any copy of its cookie) ends
    return user


def _safe_next(target: str | None) -> str:
    """Only a path on this site: one leading slash, no backslash, no control or space character
    (browsers drop tabs and newlines, so `/%09/evil.example` would become `//evil.example`)."""
    home = url_for("web.home")
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return home
    if any(unicodedata.category(ch)[0] in "CZ" for ch in target):
        return home
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return home
    return target


def throttle_delay(failures: int, free: int, cap_seconds: int) -> int:
    """Seconds before the next attempt after `failures` failures in a row: none for the first
    free − 1, then 2, 4, 8 … doubling up to the cap."""
    if failures < free:
        return 0
    return min(2 ** min(failures - free + 1, 30), cap_seconds)


class AddressThrottle:
    """Failures per client address, in this process's memory (a restart forgets them)."""

    MAX_ENTRIES = 10_000

    def __init__(self):
        self._lock = threading.Lock()
        self._entries: dict[str, tuple[int, datetime]] = {}  # address → (failures, refused until)

    def waiting(self, address: str, at: datetime) -> bool:
        with self._lock:
            entry = self._entries.get(address)
            return entry is not None and entry[1] > at

    def failed(self, address: str, at: datetime, free: int, cap_seconds: int) -> None:
        with self._lock:
            failures, until = self._entries.get(address, (0, at))
            failures = 1 if at - until > QUIET_RESET else failures + 1
            self._entries[address] = (failures, at + timedelta(seconds=throttle_delay(failures, free, cap_seconds)))
            if len(self._entries) > self.MAX_ENTRIES:
                for key in [k for k, (_n, u) in self._entries.items() if at - u > QUIET_RESET]:
                    del self._entries[key]
                while len(self._entries) > self.MAX_ENTRIES:
                    del self._entries[next(iter(self._entries))]


_dummy_hashes: dict[str, str] = {}


def _dummy_hash() -> str:
    """A hash to check unknown usernames against, so they cost the same time as known ones."""
    method = core_models.PASSWORD_METHOD
    if method not in _dummy_hashes:
        _dummy_hashes[method] = generate_password_hash(secrets.token_hex(16), method=method)
    return _dummy_hashes[method]


def _device_serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.secret_key, salt="login-device")


def _device_user_ids() -> list[int]:
    token = request.cookies.get(DEVICE_COOKIE)
    if not token:
        return []
    try:
        ids = _device_serializer().loads(token, max_age=DEVICE_MAX_AGE)
    except BadSignature:
        return []
    return [i for i in ids if isinstance(i, int)] if isinstance(ids, list) else []


def _remember_device(response, user: User) -> None:
    ids = [user.id] + [i for i in _device_user_ids() if i != user.id][:19]
    response.set_cookie(DEVICE_COOKIE, _device_serializer().dumps(ids), max_age=DEVICE_MAX_AGE, httponly=True,
                        samesite="Lax", secure=bool(current_app.config.get("SESSION_COOKIE_SECURE")))


def _attempt(username: str, password: str) -> User | None:
    """The user if the password is right and no delay applies. Every attempt checks exactly one
    password hash and every refusal is the same, so nothing tells whether the username exists."""
    config = current_app.config
    at = now()
    free, cap = config["LOGIN_MAX_FAILURES"], config["LOGIN_LOCK_MINUTES"] * 60
    address = request.remote_addr or "?"
    addresses: AddressThrottle = current_app.extensions["login_throttle"]
    user = db.session.scalar(select(User).where(User.username == username))
    if user is None:
        check_password_hash(_dummy_hash(), password)
        right = False
    else:
        right = user.check_password(password)
        if user.failed_logins and user.locked_until is not None and at - user.locked_until > QUIET_RESET:
            user.failed_logins = 0
    account_waits = user is not None and user.is_locked(at) and user.id not in _device_user_ids()
    if addresses.waiting(address, at) or account_waits:
        return None  # refused without counting: hammering inside a delay does not lengthen it
    if right and user.active:
        if user.failed_logins or user.locked_until is not None:
            user.failed_logins, user.locked_until = 0, None
        return user
    addresses.failed(address, at, config.get("LOGIN_ADDRESS_FREE_FAILURES", ADDRESS_FREE_FAILURES), cap)
    if user is not None:
        user.failed_logins = (user.failed_logins or 0) + 1
        user.locked_until = at + timedelta(seconds=throttle_delay(user.failed_logins, free, cap))
    return None


@bp.route("/login", methods=["GET", "POST"])
def login():
    if current_user.is_authenticated:
        return redirect(_safe_next(request.args.get("next")))
    form = LoginForm()
    if form.validate_on_submit():
        user = _attempt(form.username.data.strip(), form.password.data)
        from app.first_run import demo_login_refused, from_this_pc, is_demo_password
        if user is None:
            form.password.errors.append(_("Wrong username or password, or too many attempts: please try again later."))
        elif is_demo_password(form.password.data) and not from_this_pc():
            # The password verified, so this account still has the password everyone can read in the README.
            form.password.errors.append(demo_login_refused())
        else:
            session.clear()
            login_user(user)
            session.permanent = True
            response = redirect(_safe_next(request.args.get("next")))
            _remember_device(response, user)
            return response
    return render_template("auth/login.html", form=form)


@bp.route("/logout", methods=["POST"])
def logout():
    if current_user.is_authenticated:
        # Server-side revocation: the session cookie, and any copy taken of it, stops working.
        # (The epoch is per user, so this also ends that user's sessions on other PCs.)
        current_user._get_current_object().end_sessions()
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
