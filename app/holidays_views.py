"""Administration of the holiday schedule: one page per year, entered from the State Council notice."""
from __future__ import annotations

from collections import Counter
from datetime import date

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from app import access, workdays
from app.extensions import db
from app.timeutil import today
from forms.holidays import NoticeForm
from models.core import ADMIN
from models.holiday import HolidayDay, HolidayYear

bp = Blueprint("holidays", __name__, url_prefix="/admin/holidays")


@bp.before_request
@access.require_roles(ADMIN)
def _admins_only():
    return None


def source_text(row: HolidayYear | None, confirmed: bool) -> str:
    """Where a year's schedule comes from, in words: the notice an administrator entered, or the State
    Council notice supplied with the system (never the name of the package that carries it)."""
    if row is not None and row.source == "notice":
        return row.notice
    if (row is not None and row.source == "package") or confirmed:
        return _("State Council General Office notice (supplied with the system)")
    return ""


@bp.app_template_global("holiday_source")
def _holiday_source(row, confirmed):
    return source_text(row, confirmed)


@bp.route("/")
def years():
    current = today().year
    rows = {y.year: y for y in db.session.scalars(select(HolidayYear))}
    counts = Counter(str(day.year) for day in db.session.scalars(select(HolidayDay.day)))
    shown = sorted(set(rows) | {current - 1, current, current + 1}, reverse=True)
    return render_template("holidays/years.html", years=shown, rows=rows, counts=counts,
                           confirmed=workdays.is_confirmed)


def may_enter_notice(user) -> bool:
    """The schedule is national and shared by every centre on the server: county administrators keep it."""
    from models.core import Center, RoleGrant
    return db.session.scalar(select(RoleGrant.id).join(Center, Center.id == RoleGrant.center_id).where(
        RoleGrant.user_id == user.id, RoleGrant.role == ADMIN, Center.kind == "county").limit(1)) is not None


@bp.route("/<int:year>", methods=["GET", "POST"])
def year(year: int):
    if not 2000 <= year <= 2100:
        abort(404)
    days = db.session.scalars(select(HolidayDay).where(HolidayDay.day >= date(year, 1, 1),
                                                       HolidayDay.day <= date(year, 12, 31))
                              .order_by(HolidayDay.day)).all()
    form = NoticeForm(year)
    editable = may_enter_notice(current_user)
    if request.method == "POST" and not editable:
        abort(403)
    if form.validate_on_submit():
        workdays.enter_notice(year, form.parsed_holidays, form.parsed_makeup, form.notice.data.strip(),
                              current_user.id)
        flash(_("The %(year)s schedule is saved and confirmed.", year=year), "success")
        return redirect(url_for("holidays.year", year=year))
    return render_template("holidays/year.html", year=year, days=days, form=form,
                           row=db.session.get(HolidayYear, year), confirmed=workdays.is_confirmed(year),
                           editable=editable)


from app.features import Feature, MenuLink  # noqa: E402  (the feature declaration closes the module)
from flask_babel import lazy_gettext as _l  # noqa: E402

FEATURE = Feature("holidays", blueprints=[bp],
                  menu=[MenuLink("holidays.years", _l("Holiday schedule"), frozenset({"admin"}))])
