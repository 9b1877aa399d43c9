"""Rating statistics (好差评统计) [000 好差评制度 §6, §24, §29, §33; SPEC §4.3].

For a month (or any period) and the centres the user may see:
- averages [§6]: per clerk, per window (the average of its clerks' direct ratings: every rating given at the
  window, pooled — not an average of the clerks' averages), per business line (Matter.business_line), per
  centre, and over all of them (the county when the county is chosen);
- the six rates of §24, each with its numerator and denominator:
  好评率 satisfied or better ÷ ratings; 主动评价好评率 the same among ratings given without the 24-hour
  reminder (`prompted` false); 未评率 cases marked 未评 ÷ cases whose rating window closed (rated or 未评),
  by the day the case finished; 差评回复率 bad reviews answered ÷ bad reviews (less those confirmed
  malicious, which are not answered); 差评回访整改率 valid bad reviews followed up ÷ valid bad reviews;
  差评回访整改满意率 visits where the citizen was satisfied ÷ visits;
- the focus list [§29]: clerks, windows and business lines with FOCUS_MIN_LOW (3) or more ratings below
  基本满意 (不满意, 非常不满意) in the period.
Everything is a grouped SQL aggregate; Python only formats the grouped rows.

The public results page `/p/<code>/ratings` [§33] shows the centre's rates and each window's average by the
window's number and name — no clerk's name (a hall screen is no place for a staff ranking: the
assessment of staff [§32] is internal) and never a rater.
"""
from __future__ import annotations

import io
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from flask import Blueprint, Response, abort, render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import and_, case, func, or_, select

from app import access
from app.extensions import db
from app.params import parse_date, parse_month
from app.timeutil import today
from models.bad_review import BadReview
from models.case import ServiceCase
from models.catalogue import Matter, Window
from models.core import COUNTY, DEPUTY, DIRECTOR, LEADER, Center, User
from models.voice import LEVEL_SCORES, RATED, UNRATED, Rating

STATS_ROLES = frozenset({DEPUTY, DIRECTOR, LEADER, COUNTY})
GOOD_SCORE = LEVEL_SCORES["satisfied"]          # 满意 or better
FOCUS_BELOW = LEVEL_SCORES["fair"]              # below 基本满意
FOCUS_MIN_LOW = 3
# A case's rating window closes 5 working days after it finished; its finishing day is looked for among
# cases registered up to this long before the period (the intake index bounds the scan).
INTAKE_LOOKBACK = timedelta(days=366)

bp = Blueprint("rating_stats", __name__)


@dataclass
class Period:
    start: date
    end: date            # exclusive
    month: str = ""      # "YYYY-MM" when the period is a calendar month

    @property
    def last(self) -> date:
        return self.end - timedelta(days=1)

    @property
    def title(self) -> str:
        if self.month:
            return f"{self.start.year}年{self.start.month}月"
        return f"{self.start.isoformat()} — {self.last.isoformat()}"

    def query(self) -> str:
        return f"month={self.month}" if self.month else f"from={self.start}&to={self.last}"


def period_from(args) -> Period:
    """?from=…&to=… (inclusive days) when both are valid, else ?month=YYYY-MM, else this month."""
    start, last = parse_date(args.get("from")), parse_date(args.get("to"))
    if start and last and start <= last and (last - start).days <= 3660:
        return Period(start, last + timedelta(days=1))
    first = parse_month(args.get("month")) or today().replace(day=1)
    nxt = date(first.year + first.month // 12, first.month % 12 + 1, 1)
    return Period(first, nxt, first.strftime("%Y-%m"))


@dataclass
class Rate:
    key: str
    title: object
    numerator: int
    denominator: int

    @property
    def value(self) -> float | None:
        return self.numerator / self.denominator if self.denominator else None

    @property
    def percent(self) -> str:
        return "—" if self.value is None else f"{self.value * 100:.1f}%"


@dataclass
class Avg:
    label: str
    ratings: int
    total: int
    good: int
    low: int

    @property
    def average(self) -> float | None:
        return self.total / self.ratings if self.ratings else None

    @property
    def shown(self) -> str:
        return "—" if self.average is None else f"{self.average:.2f}"


@dataclass
class Stats:
    period: Period
    center_ids: list[int]
    overall: Avg
    rates: list[Rate]
    clerks: list[Avg] = field(default_factory=list)
    windows: list[Avg] = field(default_factory=list)
    lines: list[Avg] = field(default_factory=list)
    centres: list[Avg] = field(default_factory=list)
    focus: list[tuple[str, Avg]] = field(default_factory=list)   # (what: clerk / window / line, row)

    def rate(self, key: str) -> Rate:
        return next(r for r in self.rates if r.key == key)


RATE_TITLES = {
    "good": _l("Good-review rate (好评率)"),
    "active_good": _l("Good-review rate of unprompted ratings (主动评价好评率)"),
    "unrated": _l("Not-rated rate (未评率)"),
    "reply": _l("Bad-review reply rate (差评回复率)"),
    "followup": _l("Bad-review follow-up and rectification rate (差评回访整改率)"),
    "followup_satisfied": _l("Satisfaction at the follow-up visits (差评回访整改满意率)"),
}
FOCUS_TITLES = {"clerk": _l("Staff member"), "window": _l("Window"), "line": _l("Business line")}


# ------------------------------------------------------------------ the aggregates

def _n(value) -> int:
    return int(value or 0)


def _measures():
    """count, sum of scores, satisfied or better, below 基本满意: one row of any grouping."""
    return (func.count(Rating.id), func.sum(Rating.score),
            func.sum(case((Rating.score >= GOOD_SCORE, 1), else_=0)),
            func.sum(case((Rating.score < FOCUS_BELOW, 1), else_=0)))


def _in(center_ids, period: Period):
    return and_(Rating.center_id.in_(center_ids), Rating.rated_at >= datetime.combine(period.start, datetime.min.time()),
                Rating.rated_at < datetime.combine(period.end, datetime.min.time()))


def _grouped(center_ids, period: Period, label, *group, join=None, outer=True) -> list[Avg]:
    stmt = select(*group, *_measures()).select_from(Rating)
    if join is not None:
        stmt = stmt.join(join[0], join[1], isouter=outer)
    rows = db.session.execute(stmt.where(_in(center_ids, period)).group_by(*group)).all()
    out = [Avg(label(row[:len(group)]), *(_n(v) for v in row[len(group):])) for row in rows]
    return sorted(out, key=lambda a: (-(a.average or 0), a.label))


def compute(center_ids: list[int], period: Period) -> Stats:
    where = _in(center_ids, period)
    total = db.session.execute(select(*_measures(),
                                      func.sum(case((Rating.prompted.is_(False), 1), else_=0)),
                                      func.sum(case((and_(Rating.prompted.is_(False), Rating.score >= GOOD_SCORE), 1),
                                                    else_=0)))
                               .where(where)).one()
    count, score_sum, good, low, active, active_good = (_n(v) for v in total)
    overall = Avg(_("Total"), count, score_sum, good, low)

    # 未评率: cases whose rating window closed (rated or 未评), by the day they finished.
    c = ServiceCase
    in_period = lambda col: and_(col >= period.start, col < period.end)  # noqa: E731
    unrated, closed = (_n(v) for v in db.session.execute(
        select(func.sum(case((c.rating_status == UNRATED, 1), else_=0)), func.count(c.id))
        .where(c.center_id.in_(center_ids), c.voided.is_(False), c.rating_status.in_((RATED, UNRATED)),
               c.intake_date >= period.start - INTAKE_LOOKBACK, c.intake_date < period.end,
               or_(in_period(c.completed_on), and_(c.completed_on.is_(None), in_period(c.intake_date))))).one())

    b = BadReview
    bad = db.session.execute(
        select(func.sum(case((b.state != "malicious", 1), else_=0)),
               func.sum(case((and_(b.state != "malicious", b.answered_on.is_not(None)), 1), else_=0)),
               func.sum(case((b.verdict == "valid", 1), else_=0)),
               func.sum(case((and_(b.verdict == "valid", b.followup_on.is_not(None)), 1), else_=0)),
               func.sum(case((and_(b.verdict == "valid", b.followup_result == "satisfied"), 1), else_=0)))
        .where(b.center_id.in_(center_ids), b.voided.is_(False), in_period(b.rated_on))).one()
    to_answer, answered, valid, visited, satisfied = (_n(v) for v in bad)

    rates = [Rate("good", RATE_TITLES["good"], good, count),
             Rate("active_good", RATE_TITLES["active_good"], active_good, active),
             Rate("unrated", RATE_TITLES["unrated"], unrated, closed),
             Rate("reply", RATE_TITLES["reply"], answered, to_answer),
             Rate("followup", RATE_TITLES["followup"], visited, valid),
             Rate("followup_satisfied", RATE_TITLES["followup_satisfied"], satisfied, visited)]
    stats = Stats(period, center_ids, overall, rates)
    if not count:
        return stats

    no_one, no_window = _("Not named"), _("No window")
    several = len(center_ids) > 1
    stats.clerks = _grouped(center_ids, period, lambda r: r[1] or r[2] or no_one, Rating.clerk_id, User.name,
                            User.username, join=(User, User.id == Rating.clerk_id))
    stats.windows = (_grouped_windows_across(center_ids, period) if several else _grouped(
        center_ids, period, lambda r: f"{r[1]}号 {r[2]}" if r[0] else no_window, Rating.window_id, Window.number,
        Window.name, join=(Window, Window.id == Rating.window_id)))
    stats.lines = _grouped(center_ids, period, lambda r: r[0] or _("No business line"), Matter.business_line,
                           join=(Matter, Matter.id == Rating.matter_id), outer=False)
    stats.centres = _grouped(center_ids, period, lambda r: r[1], Rating.center_id, Center.name,
                             join=(Center, Center.id == Rating.center_id), outer=False)
    stats.focus = [(kind, row) for kind, rows in (("clerk", stats.clerks), ("window", stats.windows),
                                                   ("line", stats.lines))
                   for row in sorted(rows, key=lambda a: -a.low) if row.low >= FOCUS_MIN_LOW]
    return stats


def _grouped_windows_across(center_ids, period: Period) -> list[Avg]:
    """Windows of several centres: named with their centre."""
    stmt = (select(Rating.window_id, Window.number, Window.name, Center.name, *_measures()).select_from(Rating)
            .outerjoin(Window, Window.id == Rating.window_id).join(Center, Center.id == Rating.center_id)
            .where(_in(center_ids, period)).group_by(Rating.window_id, Window.number, Window.name, Center.name))
    rows = db.session.execute(stmt).all()
    out = [Avg(f"{cname} · " + (f"{num}号 {name}" if wid else _("No window")), *(_n(v) for v in vals))
           for wid, num, name, cname, *vals in rows]
    return sorted(out, key=lambda a: (-(a.average or 0), a.label))


# ------------------------------------------------------------------ pages

def stats_center_ids(user) -> list[int]:
    """The centres of the header's choice where the user holds a role that reads the statistics."""
    return sorted(cid for cid in access.current_scope_ids() if access.roles_in(user, cid) & STATS_ROLES)


@bp.route("/ratings/stats")
def stats_page():
    if not current_user.is_authenticated:
        from app.extensions import login_manager
        return login_manager.unauthorized()
    center_ids = stats_center_ids(current_user)
    if not center_ids:
        abort(403)
    period = period_from(request.args)
    stats = compute(center_ids, period)
    center = access.current_center()
    fmt = request.args.get("format")
    if fmt == "xlsx":
        return _excel(center, stats)
    ctx = dict(center=center, stats=stats, period=period, focus_min=FOCUS_MIN_LOW, focus_titles=FOCUS_TITLES,
               today=today())
    if fmt in ("print", "pdf"):
        import printouts
        if fmt == "pdf":
            return Response(printouts.render_pdf("print/rating_month.html", **ctx), mimetype="application/pdf")
        return printouts.render_html("print/rating_month.html",
                                     pdf_url=request.path + f"?{period.query()}&format=pdf", **ctx)
    return render_template("ratings/stats.html", **ctx)


def _excel(center, stats: Stats):
    from openpyxl import Workbook

    from app.xlsx import append_row
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(_("Rates"))
    append_row(ws, [center.name if center else "", stats.period.title])
    append_row(ws, [_("Rate"), _("Numerator"), _("Denominator"), _("Value")])
    for r in stats.rates:
        append_row(ws, [str(r.title), r.numerator, r.denominator, round(r.value, 4) if r.value is not None else None])
    append_row(ws, [_("Average score"), stats.overall.total, stats.overall.ratings,
                    round(stats.overall.average, 2) if stats.overall.average is not None else None])
    for title, rows in ((_("Staff members"), stats.clerks), (_("Windows"), stats.windows),
                        (_("Business lines"), stats.lines), (_("Centres"), stats.centres)):
        sheet = wb.create_sheet(title)
        append_row(sheet, [title, _("Ratings"), _("Average score"), _("Satisfied or better"),
                           _("Below fairly satisfied")])
        for a in rows:
            append_row(sheet, [a.label, a.ratings, round(a.average, 2) if a.average is not None else None, a.good, a.low])
    sheet = wb.create_sheet(_("Focus list"))
    append_row(sheet, [_("Kind"), _("Name"), _("Below fairly satisfied"), _("Ratings"), _("Average score")])
    for kind, a in stats.focus:
        append_row(sheet, [str(FOCUS_TITLES[kind]), a.label, a.low, a.ratings,
                           round(a.average, 2) if a.average is not None else None])
    buf = io.BytesIO()
    wb.save(buf)
    name = stats.period.month or f"{stats.period.start}_{stats.period.last}"
    return Response(buf.getvalue(), mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                    headers={"Content-Disposition": f"attachment; filename=ratings-{name}.xlsx"})


@bp.route("/p/<code>/ratings")
def public_results(code):
    """The centre's results for the hall screen [§33]: rates and window averages; no staff names, no raters."""
    from app.public import _center_or_404
    center = _center_or_404(code)
    period = period_from(request.args)
    stats = compute([center.id], period)
    return render_template("ratings/public_results.html", center=center, stats=stats, period=period)


from app.features import Feature, MenuLink  # noqa: E402  (the feature declaration closes the module)

FEATURE = Feature(
    "rating_stats", blueprints=[bp],
    menu=[MenuLink("rating_stats.stats_page", _l("Rating statistics"), STATS_ROLES, group="supervision")],
)
