"""The working-day calendar: national holidays and make-up working days (调休).

The app's own table (models.holiday) is the authority: seeded from the chinese-calendar package
for the years it knows, and filled by the administrator from each year's State Council notice.
A year nobody has entered falls back to Monday–Friday and is reported as unconfirmed, so every
deadline computed through it can say so (app.deadlines).
"""
from __future__ import annotations

import time
from datetime import date, timedelta

from sqlalchemy import delete, select

from app.extensions import db
from app.timeutil import now
from models.holiday import HolidayDay, HolidayYear

CACHE_SECONDS = 60  # another process (web or jobs) may change the table: re-read after this
_cache: dict = {"key": None, "at": 0.0, "years": {}}

HOLIDAY_NAMES = {"New Year's Day": "元旦", "Spring Festival": "春节", "Tomb-sweeping Day": "清明节",
                 "Labour Day": "劳动节", "Dragon Boat Festival": "端午节", "National Day": "国庆节",
                 "Mid-autumn Festival": "中秋节", "Anti-Fascist 70th Day": "抗战胜利70周年纪念日"}


def package_years() -> range:
    """Years the chinese-calendar package knows (it raises for any other)."""
    from chinese_calendar import constants
    return range(min(constants.holidays).year, max(constants.holidays).year + 1)


def _package_year(year: int) -> dict[date, tuple[bool, str]]:
    from chinese_calendar import constants
    days = {d: (False, HOLIDAY_NAMES.get(str(name), str(name))) for d, name in constants.holidays.items()
            if d.year == year}
    days.update({d: (True, HOLIDAY_NAMES.get(str(name), str(name)) + "调休")
                 for d, name in constants.workdays.items() if d.year == year})
    return days


def invalidate_cache() -> None:
    _cache.update(key=None, at=0.0, years={})


def _year(year: int) -> tuple[bool, dict[date, bool]]:
    """(confirmed, exceptions) of a year: days whose status differs from Monday–Friday."""
    key = str(db.engine.url)
    if _cache["key"] != key or time.monotonic() - _cache["at"] > CACHE_SECONDS:
        _cache.update(key=key, at=time.monotonic(), years={})
    years = _cache["years"]
    if year not in years:
        row = db.session.get(HolidayYear, year)
        if row is not None and row.confirmed:
            rows = db.session.execute(select(HolidayDay.day, HolidayDay.is_working).where(
                HolidayDay.day >= date(year, 1, 1), HolidayDay.day <= date(year, 12, 31))).all()
            years[year] = (True, dict(rows))
        elif year in package_years():
            years[year] = (True, {d: w for d, (w, _name) in _package_year(year).items()})
        else:
            years[year] = (False, {})
    return years[year]


def is_confirmed(year: int) -> bool:
    return _year(year)[0]


def is_working_day(day: date) -> bool:
    exception = _year(day.year)[1].get(day)
    return exception if exception is not None else day.weekday() < 5


def add_working_days(start: date, n: int) -> date:
    """The n-th working day after `start` (n = 0: start itself; negative n counts back)."""
    step = 1 if n >= 0 else -1
    day, left = start, abs(n)
    while left:
        day += timedelta(days=step)
        if is_working_day(day):
            left -= 1
    return day


def next_working_day(day: date) -> date:
    """`day` itself when it is a working day, else the first working day after it."""
    while not is_working_day(day):
        day += timedelta(days=1)
    return day


def working_days_between(start: date, end: date) -> int:
    """Working days d with start < d ≤ end (negative when end is before start)."""
    if end < start:
        return -working_days_between(end, start)
    return sum(1 for i in range(1, (end - start).days + 1) if is_working_day(start + timedelta(days=i)))


def seed_from_package(years=None) -> int:
    """Copy the package's schedule into the table for years not entered yet; returns days added."""
    known = package_years()
    wanted = years if years is not None else sorted({now().year - 1, now().year, 2026} & set(known))
    added = 0
    for year in wanted:
        if year not in known or db.session.get(HolidayYear, year) is not None:
            continue
        for day, (working, name) in sorted(_package_year(year).items()):
            db.session.add(HolidayDay(day=day, is_working=working, name=name, source="package"))
            added += 1
        db.session.add(HolidayYear(year=year, confirmed=True, source="package", notice="chinese-calendar"))
    db.session.flush()
    invalidate_cache()
    return added


def enter_notice(year: int, holidays: list[tuple[date, date, str]], makeup_days: list[tuple[date, str]],
                 notice: str, user_id: int | None = None) -> None:
    """Replace a year's schedule with the State Council notice as the administrator entered it."""
    db.session.execute(delete(HolidayDay).where(HolidayDay.day >= date(year, 1, 1),
                                                HolidayDay.day <= date(year, 12, 31)))
    for first, last, name in holidays:
        day = first
        while day <= last:
            db.session.add(HolidayDay(day=day, is_working=False, name=name, source="notice"))
            day += timedelta(days=1)
    for day, name in makeup_days:
        db.session.add(HolidayDay(day=day, is_working=True, name=name, source="notice"))
    row = db.session.get(HolidayYear, year) or HolidayYear(year=year)
    row.confirmed, row.source, row.notice = True, "notice", notice
    row.entered_by_id, row.entered_at = user_id, now()
    db.session.add(row)
    db.session.flush()
    invalidate_cache()
