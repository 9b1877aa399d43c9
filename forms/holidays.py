from __future__ import annotations

import re
from datetime import date, timedelta

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import StringField, TextAreaField
from wtforms.validators import DataRequired, Length, ValidationError

LINE = re.compile(r"^(\d{4}-\d{2}-\d{2})(?:\s+(\d{4}-\d{2}-\d{2}))?\s+(\S.*)$")


def parse_lines(text: str, year: int, ranges: bool):
    """Lines "2027-01-01 2027-01-03 元旦" (ranges) or "2027-02-07 春节调休"; raises with the bad line."""
    out = []
    for number, raw in enumerate((text or "").splitlines(), 1):
        line = raw.strip()
        if not line:
            continue
        match = LINE.match(line)
        if not match or (match.group(2) and not ranges):
            raise ValidationError(_l("Line %(n)s is not in the expected form: %(line)s", n=number, line=line))
        try:
            first = date.fromisoformat(match.group(1))
            last = date.fromisoformat(match.group(2)) if match.group(2) else first
        except ValueError:
            raise ValidationError(_l("Line %(n)s has a date that does not exist: %(line)s", n=number, line=line))
        if first.year != year or last.year != year or last < first:
            raise ValidationError(_l("Line %(n)s: dates must lie in %(year)s, the first not after the last.",
                                     n=number, year=year))
        out.append((first, last, match.group(3).strip()) if ranges else (first, match.group(3).strip()))
    return out


class NoticeForm(FlaskForm):
    notice = StringField(_l("Notice number"), validators=[
        DataRequired(_l("This field is required.")), Length(max=200, message=_l("Too long."))],
        description=_l("For example 国办发明电〔2026〕X号"))
    holidays = TextAreaField(_l("Days off"), description=_l(
        "One period a line: first day, last day (may be left out for one day), name. "
        "Example: 2027-10-01 2027-10-07 国庆节"))
    makeup_days = TextAreaField(_l("Make-up working days"), description=_l(
        "One day a line: date and name. Example: 2027-09-26 国庆节调休"))

    def __init__(self, year: int, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.year = year
        self.parsed_holidays: list = []
        self.parsed_makeup: list = []

    def validate_holidays(self, field):
        self.parsed_holidays = parse_lines(field.data, self.year, ranges=True)
        if not self.parsed_holidays:
            raise ValidationError(_l("Enter at least one period of days off."))

    def validate_makeup_days(self, field):
        self.parsed_makeup = parse_lines(field.data, self.year, ranges=False)
        off = {first + timedelta(days=i) for first, last, _name in self.parsed_holidays
               for i in range((last - first).days + 1)}
        for day, _name in self.parsed_makeup:
            # Both would be a typo in the entry, and the calendar could not honour both.
            if day in off:
                raise ValidationError(_l("%(day)s is listed both as a day off and as a make-up working day.",
                                         day=day.isoformat()))
            if day.weekday() < 5:
                raise ValidationError(_l("%(day)s is a weekday: make-up working days fall on a Saturday or Sunday.",
                                         day=day.isoformat()))
