"""The public case lookup: receipt number + the applicant's phone → the matter, its state, the next step
and where to go; nothing about the applicant (no name, no ID number).

Two limits keep guessing out without locking out the hall's own kiosk: per client address (lookups a
minute; the kiosk's addresses, `KIOSK_ADDRESSES`, get a much higher allowance) and per receipt number
(failed lookups in a window, from any address: a guessed number with wrong phones is locked a while).
"""
from __future__ import annotations

import ipaddress
import time
from collections import defaultdict, deque

from flask import Blueprint, abort, current_app, render_template, request, url_for
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import StringField
from wtforms.validators import DataRequired, Length

from app.extensions import db
from models.case import ServiceCase

bp = Blueprint("status", __name__, url_prefix="/status")

LIMIT, WINDOW_SECONDS = 10, 60          # lookups per client address per minute (per process)
KIOSK_LIMIT = 120                       # … from one of the hall's own kiosks
RECEIPT_LIMIT, RECEIPT_WINDOW_SECONDS = 10, 15 * 60   # failed lookups per receipt number, any address
MAX_KEYS = 50_000                       # memory bound: beyond it, keys with no recent hit are dropped
_hits: dict[str, deque] = defaultdict(deque)          # per address: times of lookups
_receipt_failures: dict[str, deque] = defaultdict(deque)  # per receipt number: times of failed lookups
_clock = time.monotonic

# The applicant's next step, in words, by state (what to bring, when, where to collect).
NEXT_STEPS = {
    "registered": _l("Registered: the window is examining your materials."),
    "awaiting_supplement": _l("Materials to be supplemented: bring the materials listed below to the window."),
    "accepted": _l("In progress: to be completed by the promised date."),
    "reported": _l("In progress: reported to the higher authority, to be completed by the promised date."),
    "waiting_applicant": _l("Waiting for you: please contact the window."),
    "completed": _l("Completed, ready for collection: bring your receipt and ID card to the window below."),
    "delivered": _l("Completed and delivered."),
    "answered": _l("Your enquiry has been answered."),
    "refused": _l("Not accepted: the notice you received gives the reason and how to appeal."),
    "transferred": _l("Not handled here: referred to the office below."),
}
# States in which the applicant has to come to the window.
GO_TO_WINDOW = ("awaiting_supplement", "waiting_applicant", "completed")


class LookupForm(FlaskForm):
    no = StringField(_l("Receipt number"), validators=[DataRequired(_l("This field is required.")), Length(max=20)])
    phone = StringField(_l("Applicant's phone"), validators=[DataRequired(_l("This field is required.")), Length(max=30)])


def reset_limits() -> None:
    _hits.clear()
    _receipt_failures.clear()


def _recent(store: dict[str, deque], key: str, seconds: float) -> deque:
    now, hits = _clock(), store[key]
    while hits and now - hits[0] > seconds:
        hits.popleft()
    return hits


def _prune(store: dict[str, deque], seconds: float) -> None:
    if len(store) > MAX_KEYS:
        now = _clock()
        for key in [k for k, hits in store.items() if not hits or now - hits[-1] > seconds]:
            del store[key]


def is_kiosk(address: str) -> bool:
    configured = current_app.config.get("KIOSK_ADDRESSES") or []
    if isinstance(configured, str):
        configured = [a.strip() for a in configured.split(",") if a.strip()]
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    for entry in configured:
        try:
            if ip in ipaddress.ip_network(entry, strict=False):
                return True
        except ValueError:
            continue
    return False


def over_limit(store: dict[str, deque], key: str, limit: int, seconds: float) -> bool:
    """A sliding window per key (per process): True, and not counted, when `key` already had `limit` hits
    in the last `seconds`; else the hit is counted. `store` is a defaultdict(deque) of the caller's own."""
    _prune(store, seconds)
    hits = _recent(store, key, seconds)
    if len(hits) >= limit:
        return True
    hits.append(_clock())
    return False


def _too_many(address: str) -> bool:
    """Per address: at most LIMIT lookups a minute (KIOSK_LIMIT from the hall's kiosks)."""
    return over_limit(_hits, address, KIOSK_LIMIT if is_kiosk(address) else LIMIT, WINDOW_SECONDS)


def _receipt_locked(no: str) -> bool:
    return len(_recent(_receipt_failures, no, RECEIPT_WINDOW_SECONDS)) >= RECEIPT_LIMIT


def _receipt_failed(no: str) -> None:
    _prune(_receipt_failures, RECEIPT_WINDOW_SECONDS)
    _recent(_receipt_failures, no, RECEIPT_WINDOW_SECONDS).append(_clock())


def status_url(case: ServiceCase) -> str:
    """The case's public status page as printed on its receipt (PUBLIC_BASE_URL, not the printing PC's host)."""
    from printouts.links import public_url
    return public_url("status.lookup", no=case.receipt_no)


@bp.route("/", methods=["GET", "POST"])
def lookup():
    form = LookupForm(data={"no": request.args.get("no", "")}) if request.method == "GET" else LookupForm()
    found, searched = None, False
    if form.validate_on_submit():
        no = form.no.data.strip()
        if _receipt_locked(no) or _too_many(request.remote_addr or "?"):
            abort(429)
        searched = True
        # The same answer for an unknown number and a wrong phone: nothing is revealed.
        found = db.session.scalar(select(ServiceCase).where(
            ServiceCase.receipt_no == no, ServiceCase.applicant_phone == form.phone.data.strip(),
            ServiceCase.voided.is_(False)).limit(1))
        if found is None:
            _receipt_failed(no)
    return render_template("cases/status.html", form=form, found=found, searched=searched,
                           answer=answer(found) if found else None)


def answer(case: ServiceCase) -> dict:
    """What the applicant may know: the matter, the state, the next step, the promised date, where to go."""
    window = case.window or case.matter.window
    missing = [line.strip() for line in (case.missing_materials or "").splitlines() if line.strip()]
    return {
        "matter": case.matter.name,
        "next_step": NEXT_STEPS.get(case.state),
        "missing": missing if case.state == "awaiting_supplement" else [],
        "due": case.effective_due if case.state in ("accepted", "reported", "waiting_applicant") else None,
        "window": str(window) if window and case.state in GO_TO_WINDOW else None,
        "center": case.center if case.state in GO_TO_WINDOW else None,
        "transfer": (case.transfer_office, case.transfer_phone) if case.state == "transferred" else None,
    }


from app.features import Feature, MenuLink  # noqa: E402  (the feature declaration closes the module)

FEATURE = Feature(
    "status", blueprints=[bp],
    menu=[MenuLink("status.lookup", _l("Public case lookup"), frozenset({"clerk", "agent", "deputy", "director"}),
                   group="cases")])
