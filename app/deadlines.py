"""The counting convention, in one place (SPEC §3).

"N working days from day D": D itself is working day 1 when it is a working day (else the next
working day is), and the deadline is the N-th working day counted that way. Cases, complaints and
ratings all count through here; the calendar itself lives in app.workdays.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from flask_babel import lazy_gettext as _l

from app.workdays import add_working_days, is_confirmed, next_working_day

PROVISIONAL_WARNING = _l("Holiday schedule not confirmed")


@dataclass(frozen=True)
class Deadline:
    start: date
    day_one: date
    due: date
    provisional: bool  # some year on the way has no confirmed holiday schedule (Mon–Fri assumed)


def working_day_deadline(start: date, n: int) -> Deadline:
    if n < 1:
        raise ValueError("a deadline counts at least one working day")
    day_one = next_working_day(start)
    due = add_working_days(day_one, n - 1)
    provisional = any(not is_confirmed(y) for y in range(start.year, due.year + 1))
    return Deadline(start=start, day_one=day_one, due=due, provisional=provisional)
