"""The public case lookup: receipt number + the applicant's phone → state and promised date, nothing else."""
from __future__ import annotations

import time
from collections import defaultdict, deque

from flask import Blueprint, abort, render_template, request, url_for
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import StringField
from wtforms.validators import DataRequired, Length

from app.extensions import db
from models.case import ServiceCase

bp = Blueprint("status", __name__, url_prefix="/status")

LIMIT, WINDOW_SECONDS = 10, 60   # lookups per client address per minute (per process)
_hits: dict[str, deque] = defaultdict(deque)


class LookupForm(FlaskForm):
    no = StringField(_l("Receipt number"), validators=[DataRequired(_l("This field is required.")), Length(max=20)])
    phone = StringField(_l("Applicant's phone"), validators=[DataRequired(_l("This field is required.")), Length(max=30)])


def _too_many(address: str) -> bool:
    now, hits = time.monotonic(), _hits[address]
    while hits and now - hits[0] > WINDOW_SECONDS:
        hits.popleft()
    if len(hits) >= LIMIT:
        return True
    hits.append(now)
    return False


def status_url(case: ServiceCase) -> str:
    return url_for("status.lookup", no=case.receipt_no, _external=True)


@bp.route("/", methods=["GET", "POST"])
def lookup():
    form = LookupForm(data={"no": request.args.get("no", "")}) if request.method == "GET" else LookupForm()
    found, searched = None, False
    if form.validate_on_submit():
        if _too_many(request.remote_addr or "?"):
            abort(429)
        searched = True
        # The same answer for an unknown number and a wrong phone: nothing is revealed.
        found = db.session.scalar(select(ServiceCase).where(
            ServiceCase.receipt_no == form.no.data.strip(), ServiceCase.applicant_phone == form.phone.data.strip(),
            ServiceCase.voided.is_(False)).limit(1))
    return render_template("cases/status.html", form=form, found=found, searched=searched)
