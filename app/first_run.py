"""First run: an empty database is set up from this PC only — a real centre with an administrator who
chooses the password, or the demo county to try the product. Demo accounts, while they keep the demo
password, log in from this PC only; demo data never goes into a database that holds records."""
from __future__ import annotations

from flask import Blueprint, abort, current_app, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from sqlalchemy import func, select
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, EqualTo, Length

from app.extensions import db
from models.core import ADMIN, Center, RoleGrant, User

bp = Blueprint("first_run", __name__, url_prefix="/setup")
LOOPBACK = {"127.0.0.1", "::1"}
REQUIRED = _l("This field is required.")


def from_this_pc() -> bool:
    return (request.remote_addr or "") in LOOPBACK or (request.remote_addr or "").startswith("127.")


def needs_setup() -> bool:
    """True while the database has no centre and no user (checked until the first one exists)."""
    if current_app.extensions.get("first_run_done"):
        return False
    empty = not db.session.scalar(select(func.count(Center.id))) and not db.session.scalar(select(func.count(User.id)))
    if not empty:
        current_app.extensions["first_run_done"] = True
    return empty


def is_demo_password(password: str) -> bool:
    from app.demo import DEMO_PASSWORD
    return password == DEMO_PASSWORD


class RealCentreForm(FlaskForm):
    county = StringField(_l("County service centre"), default="县政务服务中心",
                         validators=[DataRequired(REQUIRED), Length(max=100)])
    township = StringField(_l("Township service centre"), validators=[DataRequired(REQUIRED), Length(max=100)])
    username = StringField(_l("Administrator's username"), default="admin",
                           validators=[DataRequired(REQUIRED), Length(max=40)])
    name = StringField(_l("Administrator's name"), validators=[DataRequired(REQUIRED), Length(max=40)])
    password = PasswordField(_l("Password"), validators=[DataRequired(REQUIRED)])
    confirm = PasswordField(_l("Password again"), validators=[EqualTo("password", _l("The two passwords differ."))])


def init_app(app) -> None:
    app.register_blueprint(bp)

    @app.before_request
    def first_run_gate():
        # Only the staff doors lead to the set-up; everything else of an empty system shows nothing anyway.
        if request.endpoint not in ("web.home", "auth.login") or not needs_setup():
            return None
        if from_this_pc():
            return redirect(url_for("first_run.setup"))
        return render_template("first_run/elsewhere.html"), 503


@bp.route("/", methods=["GET", "POST"])
def setup():
    if not from_this_pc():
        return render_template("first_run/elsewhere.html"), 503
    if not needs_setup():
        abort(404)
    form = RealCentreForm(prefix="real")
    if request.method == "POST" and request.form.get("choice") == "demo":
        from app.demo import DEMO_PASSWORD, build_demo, demo_logins
        build_demo()
        db.session.commit()
        current_app.extensions["first_run_done"] = True
        return render_template("first_run/demo_loaded.html", logins=demo_logins(), password=DEMO_PASSWORD)
    if request.method == "POST" and form.validate_on_submit():
        from forms.auth import password_problem
        problem = password_problem(form.password.data)
        if problem:
            form.password.errors.append(str(problem))
        else:
            _start_real_centre(form)
            current_app.extensions["first_run_done"] = True
            return redirect(url_for("auth.login"))
    return render_template("first_run/setup.html", form=form)


def _start_real_centre(form: RealCentreForm) -> None:
    county = Center(name=form.county.data.strip(), code="county", kind="county")
    db.session.add(county)
    db.session.flush()
    township = Center(name=form.township.data.strip(), code="township-1", kind="township", parent_id=county.id)
    db.session.add(township)
    db.session.flush()
    admin = User(username=form.username.data.strip(), name=form.name.data.strip(), center_id=county.id,
                 password_hash="")
    admin.set_password(form.password.data)
    admin.grants.append(RoleGrant(center_id=county.id, role=ADMIN))
    db.session.add(admin)
    db.session.flush()


def demo_login_refused() -> str:
    return _("Demo accounts log in only on the server PC until their password is changed.")
