"""The public side of complaints: the complaint guide (附件1, with the flow of 附件2) and a form anyone can
send from a phone, registered as a complaint by the online platform (平台) in the centre's register.

The form is limited per client address like the case lookup (app.status), so nobody floods the
register; a complaint without its content (what happened) is refused with the reason beside the field.
"""
from __future__ import annotations

from collections import defaultdict, deque

from flask import Blueprint, abort, render_template, request
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import BooleanField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional, Regexp

from app.extensions import db
from app.records import forms as rf
from models.catalogue import Window

bp = Blueprint("complaints_public", __name__, url_prefix="/p")

LIMIT, WINDOW_SECONDS = 5, 10 * 60    # complaints per client address per ten minutes (per process)
_sent: dict[str, deque] = defaultdict(deque)


def reset_limits() -> None:
    _sent.clear()


def _too_many(address: str) -> bool:
    from app.status import over_limit  # the lookup's sliding window, on a store of our own
    return over_limit(_sent, address, LIMIT, WINDOW_SECONDS)


def _strip(value):
    return rf._clean(value).strip() if isinstance(value, str) else (value or "")


class PublicComplaintForm(FlaskForm):
    name = StringField(_l("Your name"), filters=[_strip],
                       validators=[DataRequired(rf.REQUIRED), Length(max=50, message=_l("Too long."))])
    phone = StringField(_l("Contact phone"), filters=[_strip], validators=[
        DataRequired(rf.REQUIRED), Length(max=30, message=_l("Too long.")),
        Regexp(rf.PHONE, message=_l("Enter a mobile number (11 digits) or a landline such as 0737-1234567."))])
    window_id = SelectField(_l("Window complained about"), coerce=int, validators=[Optional()])
    person = StringField(_l("Person complained about (if known)"), filters=[_strip],
                         validators=[Length(max=50, message=_l("Too long."))])
    matter = StringField(_l("What is your complaint about"), filters=[_strip], validators=[
        DataRequired(_l("Say in a few words what the complaint is about.")), Length(max=200, message=_l("Too long."))])
    facts = TextAreaField(_l("What happened"), filters=[_strip], validators=[
        DataRequired(_l("Describe what happened: a complaint without content cannot be registered.")),
        Length(max=2000, message=_l("Too long."))])
    confidential = BooleanField(_l("Keep my name and phone confidential"))


def _center(code: str):
    from app.public import _center_or_404
    return _center_or_404(code)


@bp.route("/<code>/complaints/guide")
def guide(code):
    from app.public import office_hours
    return render_template("public/complaint_guide.html", center=_center(code), hours=office_hours())


@bp.route("/<code>/complaints/new", methods=["GET", "POST"])
def new(code):
    from app.complaints import COMPLAINTS
    from app.records import operations
    from app.timeutil import now
    center = _center(code)
    form = PublicComplaintForm()
    windows = db.session.scalars(select(Window).where(Window.center_id == center.id, Window.voided.is_(False))
                                 .order_by(Window.number)).all()
    form.window_id.choices = [(0, "—")] + [(w.id, str(w)) for w in windows]
    sent = None
    if form.validate_on_submit():
        if not form.window_id.data and not form.person.data:
            form.window_id.errors = [str(_l("Choose the window or name the person complained about."))]
        else:
            if _too_many(request.remote_addr or "?"):
                abort(429)
            values = {"channel": "platform", "received_at": now().replace(microsecond=0),
                      "complainant_name": form.name.data, "complainant_phone": form.phone.data,
                      "confidential": bool(form.confidential.data), "window_id": form.window_id.data or None,
                      "staff_named": form.person.data, "matter": form.matter.data,
                      "facts": form.facts.data, "urgency": "normal"}
            try:
                sent = operations.create(COMPLAINTS, None, values, center_id=center.id)
            except operations.Invalid as invalid:
                for name, message in invalid.errors.items():
                    target = {"complainant_name": "name", "complainant_phone": "phone", "staff_named": "person"}
                    getattr(form, target.get(name, name), form.facts).errors = [message]
    return render_template("public/complaint_form.html", center=center, form=form, sent=sent)
