"""The monthly per-window report of cases handled and overdue [000 限时办结 §9].

On-time rate = completed on time ÷ (completed + still open and overdue), per window and in total.
"""
from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import date

from flask import Blueprint, Response, abort, render_template, request
from flask_babel import gettext as _
from sqlalchemy import and_, case, func, select

from app import access
from app.extensions import db
from app.params import parse_month
from app.timeutil import today
from models.case import OPEN_STATES, ServiceCase
from models.catalogue import Window

bp = Blueprint("case_reports", __name__, url_prefix="/cases")


@dataclass
class WindowRow:
    window: str
    registered: int
    completed: int
    on_time: int
    late: int
    open_overdue: int

    @property
    def on_time_rate(self) -> float | None:
        base = self.completed + self.open_overdue
        return self.on_time / base if base else None


def month_bounds(month: str | None) -> tuple[date, date]:
    """The month asked for (YYYY-MM within 1900..2099), else the current one, and the next month's first day."""
    first = parse_month(month) or today().replace(day=1)
    nxt = date(first.year + first.month // 12, first.month % 12 + 1, 1)
    return first, nxt


def monthly_report(center_id: int, first: date, nxt: date) -> list[WindowRow]:
    """One grouped query: the month's cases per window."""
    c = ServiceCase
    done_in_month = and_(c.completed_on >= first, c.completed_on < nxt)
    rows = db.session.execute(
        select(Window.number, Window.name,
               func.sum(case((and_(c.intake_date >= first, c.intake_date < nxt), 1), else_=0)),
               func.sum(case((done_in_month, 1), else_=0)),
               func.sum(case((and_(done_in_month, c.overdue.is_(False)), 1), else_=0)),
               func.sum(case((and_(done_in_month, c.overdue.is_(True)), 1), else_=0)),
               func.sum(case((and_(c.state.in_(OPEN_STATES), c.overdue.is_(True), c.intake_date < nxt), 1), else_=0)))
        .select_from(c).outerjoin(Window, Window.id == c.window_id)
        .where(c.center_id == center_id, c.voided.is_(False), c.kind != "consult")
        .group_by(Window.number, Window.name).order_by(Window.number)).all()
    return [WindowRow(f"{n}号 {name}" if name else _("No window"), *(int(v or 0) for v in vals))
            for n, name, *vals in rows]


def _total(rows: list[WindowRow]) -> WindowRow:
    return WindowRow(_("Total"), *(sum(getattr(r, f) for r in rows)
                                   for f in ("registered", "completed", "on_time", "late", "open_overdue")))


@bp.route("/report")
def report():
    from flask_login import current_user
    if not current_user.is_authenticated:
        from app.extensions import login_manager
        return login_manager.unauthorized()
    center = access.current_center()
    roles = access.roles_in(current_user, center.id if center else None)
    if not roles & {"deputy", "director", "leader", "county", "admin", "clerk"}:
        abort(403)
    first, nxt = month_bounds(request.args.get("month"))
    rows = monthly_report(center.id, first, nxt)
    total = _total(rows)
    fmt = request.args.get("format")
    if fmt == "xlsx":
        return _excel(center, first, rows + [total])
    ctx = dict(center=center, first=first, rows=rows, total=total, month=first.strftime("%Y-%m"), today=today())
    if fmt in ("print", "pdf"):
        import printouts
        if fmt == "pdf":
            return Response(printouts.render_pdf("print/case_month.html", **ctx), mimetype="application/pdf")
        return printouts.render_html("print/case_month.html", pdf_url=request.path + f"?month={ctx['month']}&format=pdf", **ctx)
    return render_template("cases/report.html", **ctx)


def _excel(center, first, rows):
    from openpyxl import Workbook

    from app.xlsx import append_row
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(first.strftime("%Y-%m"))
    append_row(ws, [center.name, first.strftime("%Y-%m")])
    append_row(ws, [_("Window"), _("Registered"), _("Completed"), _("On time"), _("Late"), _("Open and overdue"), _("On-time rate")])
    for r in rows:
        append_row(ws, [r.window, r.registered, r.completed, r.on_time, r.late, r.open_overdue,
                        round(r.on_time_rate, 4) if r.on_time_rate is not None else None])
    buf = io.BytesIO()
    wb.save(buf)
    return Response(buf.getvalue(), mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                    headers={"Content-Disposition": f"attachment; filename=cases-{first:%Y-%m}.xlsx"})


from app.features import Feature, MenuLink  # noqa: E402  (the feature declaration closes the module)
from flask_babel import lazy_gettext as _l  # noqa: E402

FEATURE = Feature(
    "case_reports", blueprints=[bp],
    menu=[MenuLink("case_reports.report", _l("Monthly case report"),
                   frozenset({"clerk", "deputy", "director", "leader", "county", "admin"}), group="cases")])
