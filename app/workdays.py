"""The working-day calendar: national holidays and make-up working days (调休).

The app's own table (models.holiday) is the authority: seeded from the chinese-calendar package
for the years it knows, and filled by the administrator from each year's State Council notice.
A year nobody has entered falls back to Monday–Friday and is reported as unconfirmed, so every
deadline computed through it can say so (app.deadlines).

Speed: each year is read once into a sorted list of its working days, so counting N working days
is a binary search per year crossed, never a query per day.
"""
from __future__ import annotations

import time
from bisect import bisect_left, bisect_right
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import delete, event, select
from sqlalchemy.orm import Session

from app.extensions import db
from app.timeutil import now
from models.holiday import HolidayDay, HolidayYear

CACHE_SECONDS = 60  # another process (web or jobs) may change the table: re-read after this
_CHANGED = "holiday_table_changed"  # session.info flag: drop the cache when that transaction ends
_cache: dict = {"engine": None, "at": 0.0, "years": {}}

HOLIDAY_NAMES = {"New Year's Day": "元旦", "Spring Festival": "春节", "Tomb-sweeping Day": "清明节",
                 "Labour Day": "劳动节", "Dragon Boat Festival": "端午节", "National Day": "国庆节",
                 "Mid-autumn Festival": "中秋节", "Anti-Fascist 70th Day": "抗战胜利70周年纪念日"}


@dataclass(frozen=True)
class _Year:
    confirmed: bool
    exceptions: dict[date, bool]  # days whose status differs from Monday–Friday
    working: list[int]            # ordinals of the year's working days, ascending


# ------------------------------------------------------------------ the package

def package_years() -> range:
    """Years the chinese-calendar package knows (it raises NotImplementedError for any other)."""
    from chinese_calendar import constants
    return range(min(constants.holidays).year, max(constants.holidays).year + 1)


def _package_year(year: int) -> dict[date, tuple[bool, str]]:
    # Read the package's tables directly: its functions raise outside the years it knows.
    from chinese_calendar import constants
    days = {d: (False, HOLIDAY_NAMES.get(str(name), str(name))) for d, name in constants.holidays.items()
            if d.year == year}
    days.update({d: (True, HOLIDAY_NAMES.get(str(name), str(name)) + "调休")
                 for d, name in constants.workdays.items() if d.year == year})
    return days


# ------------------------------------------------------------------ cache

# Called with the set of years whose schedule was just entered or changed (inside the same
# transaction), so features can recount their deadlines (app.cases registers its recount).
SCHEDULE_LISTENERS: list = []


def _tell_listeners(years: set[int]) -> None:
    for listener in SCHEDULE_LISTENERS:
        listener(years)


def invalidate_cache() -> None:
    _cache.update(engine=None, at=0.0, years={})


@event.listens_for(Session, "after_commit")
@event.listens_for(Session, "after_rollback")
def _transaction_ended(session: Session) -> None:
    # A change read back before its commit must not outlive a rollback (nor linger after commit).
    if session.info.pop(_CHANGED, False):
        invalidate_cache()


def _changed() -> None:
    db.session.flush()
    db.session.info[_CHANGED] = True
    invalidate_cache()


def _years() -> dict[int, _Year]:
    """The per-process cache, dropped after CACHE_SECONDS or when the app's engine changes."""
    engine = db.engine
    if _cache["engine"] is not engine or time.monotonic() - _cache["at"] > CACHE_SECONDS:
        _cache.update(engine=engine, at=time.monotonic(), years={})
    return _cache["years"]


def _load(year: int) -> _Year:
    row = db.session.get(HolidayYear, year)
    if row is not None and row.confirmed:
        exceptions = dict(db.session.execute(select(HolidayDay.day, HolidayDay.is_working).where(
            HolidayDay.day >= date(year, 1, 1), HolidayDay.day <= date(year, 12, 31))).all())
        confirmed = True
    elif year in package_years():  # known to the package but not seeded (yet): still official
        exceptions = {d: w for d, (w, _name) in _package_year(year).items()}
        confirmed = True
    else:
        exceptions, confirmed = {}, False
    first, last = date(year, 1, 1).toordinal(), date(year, 12, 31).toordinal()
    working = [o for o in range(first, last + 1)
               if exceptions.get(date.fromordinal(o), date.fromordinal(o).weekday() < 5)]
    return _Year(confirmed, exceptions, working)


def _year(years: dict[int, _Year], year: int) -> _Year:
    if year not in years:
        years[year] = _load(year)
    return years[year]


# ------------------------------------------------------------------ the calendar

def is_confirmed(year: int) -> bool:
    """True when the year's schedule is known (table or package); False means Monday–Friday assumed."""
    return _year(_years(), year).confirmed


def is_working_day(day: date) -> bool:
    exception = _year(_years(), day.year).exceptions.get(day)
    return exception if exception is not None else day.weekday() < 5


def add_working_days(start: date, n: int) -> date:
    """The n-th working day after `start` (n = 0: start itself; negative n counts back)."""
    years = _years()
    if n >= 0:
        year, after = start.year, start.toordinal()
        while n:
            working = _year(years, year).working
            i = bisect_right(working, after)  # first working day strictly after `after`
            if n <= len(working) - i:
                return date.fromordinal(working[i + n - 1])
            n -= len(working) - i
            year, after = year + 1, date(year + 1, 1, 1).toordinal() - 1
        return start
    n, year, before = -n, start.year, start.toordinal()
    while True:
        working = _year(years, year).working
        i = bisect_left(working, before)  # working[:i] lie strictly before `before`
        if n <= i:
            return date.fromordinal(working[i - n])
        n -= i
        year, before = year - 1, date(year, 1, 1).toordinal()


def next_working_day(day: date) -> date:
    """`day` itself when it is a working day, else the first working day after it."""
    return day if is_working_day(day) else add_working_days(day, 1)


def working_days_between(start: date, end: date) -> int:
    """Working days d with start < d ≤ end (negative when end is before start).

    So add_working_days(start, working_days_between(start, end)) == end whenever end is a working day.
    """
    if end < start:
        return -working_days_between(end, start)
    years, total = _years(), 0
    for year in range(start.year, end.year + 1):
        working = _year(years, year).working
        low = bisect_right(working, start.toordinal()) if year == start.year else 0
        high = bisect_right(working, end.toordinal()) if year == end.year else len(working)
        total += high - low
    return total


# ------------------------------------------------------------------ writing the table

def seed_from_package(years=None) -> int:
    """Copy the package's schedule into the table for years not entered yet; returns days added.

    Default: the previous, current and next year as far as the package knows them (and 2026, the
    demo year). A year that already has a HolidayYear row (seeded or entered) is left alone, so
    running it twice adds nothing and never overwrites an administrator's notice.
    """
    known = package_years()
    current = now().year
    wanted = years if years is not None else sorted({current - 1, current, current + 1, 2026} & set(known))
    added = 0
    for year in wanted:
        if year not in known or db.session.get(HolidayYear, year) is not None:
            continue
        for day, (working, name) in sorted(_package_year(year).items()):
            db.session.add(HolidayDay(day=day, is_working=working, name=name, source="package"))
            added += 1
        db.session.add(HolidayYear(year=year, confirmed=True, source="package", notice="chinese-calendar"))
    if added:
        _changed()
        _tell_listeners({y for y in wanted if y in known})
    return added


def notice_days(holidays: list[tuple[date, date, str]],
                makeup_days: list[tuple[date, str]]) -> dict[date, tuple[bool, str]]:
    """day → (is_working, name) of a notice; overlapping periods merge their names (国庆节、中秋节).

    Raises ValueError when a day is listed both as a day off and as a make-up working day.
    """
    days: dict[date, tuple[bool, str]] = {}
    for first, last, name in holidays:
        for offset in range((last - first).days + 1):
            day = first + timedelta(days=offset)
            earlier = days.get(day, (False, ""))[1]
            days[day] = (False, earlier if name in earlier.split("、") else "、".join(filter(None, [earlier, name])))
    for day, name in makeup_days:
        if day in days and not days[day][0]:
            raise ValueError(f"{day.isoformat()} is both a day off and a make-up working day")
        days[day] = (True, name)
    return days


def enter_notice(year: int, holidays: list[tuple[date, date, str]], makeup_days: list[tuple[date, str]],
                 notice: str, user_id: int | None = None) -> None:
    """Replace a year's schedule with the State Council notice as the administrator entered it."""
    days = notice_days(holidays, makeup_days)
    outside = sorted(d for d in days if d.year != year)
    if outside:
        raise ValueError(f"{outside[0].isoformat()} is not in {year}")
    db.session.execute(delete(HolidayDay).where(HolidayDay.day >= date(year, 1, 1),
                                                HolidayDay.day <= date(year, 12, 31)))
    for day, (working, name) in sorted(days.items()):
        db.session.add(HolidayDay(day=day, is_working=working, name=name[:40], source="notice"))
    row = db.session.get(HolidayYear, year) or HolidayYear(year=year)
    row.confirmed, row.source, row.notice = True, "notice", notice
    row.entered_by_id, row.entered_at = user_id, now()
    db.session.add(row)
    _changed()
    _tell_listeners({year})
