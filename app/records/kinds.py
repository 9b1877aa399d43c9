"""Field kinds: what a record field of one kind is on a form, in a list filter, on screen, in an Excel
cell, in the audit trail, in a ledger header, and as a sample in tests.

A Field names its kind ("str", "date", "ref", …); `KINDS` maps the name to the one object that knows
that kind, and `Field.k` (or `kind_of(field)`) finds it. A new kind is a subclass here and one entry
in KINDS — nothing else in the record engine tests a kind's name.
"""
from __future__ import annotations

import re
from datetime import date, datetime, time
from decimal import Decimal, InvalidOperation
from typing import Any, Callable

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, func
from wtforms import (BooleanField, DateField, DateTimeLocalField, DecimalField, IntegerField, SelectField,
                     StringField, TextAreaField, TimeField)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional, Regexp

from app.params import parse_date, parse_id, parse_int
from app.records import forms as rf


class Kind:
    """One kind of field. The defaults suit a plain value compared and shown as it is."""
    name = ""
    empty: Any = None          # what a cleared form field stores: None, or "" for the text kinds
    input_required = False     # "required" means some input (0 counts), not a true value
    posted_when_absent = False  # a form key left out of a POST is a value too (an unticked box: False)
    wide = False               # the form and the record page give it the full width (a text box)
    range_filter = False       # a list filter on it asks for a "from" and a "to"
    ledger_width: float | None = None  # its share of a paper ledger's width in %, None: what is left

    # ---- form

    def need(self, field) -> list:
        """The validators that make a field required (or optional)."""
        if not field.required:
            return [Optional()]
        return [InputRequired(rf.REQUIRED)] if self.input_required else [DataRequired(rf.REQUIRED)]

    def widget(self, field, center_id: int | None):
        """The WTForms field (unbound) of a declared field."""
        raise NotImplementedError(f"field kind {self.name} has no form widget")

    @staticmethod
    def _kw(field) -> dict:
        return {"label": field.label, "description": field.help}

    def from_form(self, field, value, nullable: bool = True):
        """A submitted form value as the record stores it (`nullable`: the column takes None)."""
        return self.empty if value is None else value

    def form_value(self, field, value):
        """A stored value as an edit form starts with it (the reverse of `from_form`)."""
        return value

    def form_text(self, field, value) -> str | None:
        """The text a browser posts for a value (None: nothing is posted)."""
        return "" if value is None else str(value)

    # ---- list filter

    def filter_value(self, field, raw: str):
        """A filter's query argument as the value compared with the column; None: ignore the filter."""
        return raw

    def filter(self, field, column, args, active: dict):
        """The SQL condition of the list filter on this field, or None; notes what it uses in `active`."""
        raw = args.get(field.name)
        if raw in (None, ""):
            return None
        value = self.filter_value(field, raw)
        if value is None:
            return None
        active[field.name] = value
        return column == value

    def filter_choices(self, field, gather: Callable) -> list | None:
        """The choices a list filter offers (None: a typed value). `gather(pick)` collects
        `pick(center_id)` over the centres the list shows."""
        return None

    def filter_word(self, field, value, choices: Callable) -> str:
        return str(value)

    def filter_words(self, field, active: dict, choices: Callable) -> str | None:
        """The filter in words for a ledger header, or None when the field filters nothing.
        `choices()` gives the list's filter choices by field name."""
        if field.name not in active:
            return None
        return self.filter_word(field, active[field.name], choices)

    # ---- display

    def text(self, field, value) -> str:
        """A value that is there (not None, not "") as the screen shows it."""
        return str(value)

    def display(self, field, value) -> str:
        if value is None or value == "":
            return ""
        return self.text(field, value)

    def record_text(self, field, record) -> str:
        """The field of a record as the screen shows it."""
        return self.display(field, getattr(record, field.name, None))

    def cell(self, field, record, value, unmask: bool):
        """The Excel cell of the field (`unmask`: the reader may see masked values in full)."""
        return self.record_text(field, record)

    def shown(self, field, text: str, unmask: bool) -> str:
        """A stored value as the audit trail wrote it (text, not empty) as the record's page shows it."""
        return text

    def screen(self, field, record, unmask: bool) -> str:
        """The field on the record's page (`unmask`: the reader may see masked values in full)."""
        return self.record_text(field, record)

    def paper(self, field, record, unmask: bool) -> str:
        """The field as a paper form or ledger writes it (dates in Chinese)."""
        return self.screen(field, record, unmask)

    # ---- tests

    def sample(self, field, center, make_record: Callable | None = None):
        """A valid value for tests; `make_record(rtype, center)` makes a record a reference may point at."""
        raise NotImplementedError(f"field kind {self.name} has no sample value")


class StrKind(Kind):
    name = "str"
    empty = ""

    def validators(self, field) -> list:
        return [Length(max=field.max_length or 200, message=_l("Too long."))]

    def widget(self, field, center_id):
        return StringField(validators=self.need(field) + self.validators(field),
                           filters=[lambda v: rf._clean(v).strip() if isinstance(v, str) else v], **self._kw(field))

    def sample(self, field, center, make_record=None):
        return "测试" if not field.max_length or field.max_length >= 2 else "x"


class PhoneKind(StrKind):
    name = "phone"
    ledger_width = 8.5

    def validators(self, field):
        return super().validators(field) + [
            Regexp(rf.PHONE, message=_l("Enter a mobile number (11 digits) or a landline such as 0737-1234567."))]

    def sample(self, field, center, make_record=None):
        return "13800000000"


class IdnoKind(StrKind):
    name = "idno"

    def validators(self, field):
        return super().validators(field) + [rf._id_number_check]

    def text(self, field, value):
        from app.records.registry import mask_id_number
        return mask_id_number(str(value)) if field.mask else str(value)

    ledger_width = 13

    def cell(self, field, record, value, unmask):
        if field.mask and unmask:
            return str(value or "")
        return self.record_text(field, record)

    def screen(self, field, record, unmask):
        value = getattr(record, field.name, None)
        return str(value or "") if unmask else self.record_text(field, record)

    def shown(self, field, text, unmask):
        from app.records.registry import mask_id_number
        return mask_id_number(text) if field.mask and not unmask else text

    def sample(self, field, center, make_record=None):
        return "11010519491231002X"


def mask_secret(value: str) -> str:
    """A name or phone of a confidential record as others see it: 张** , 138****0000."""
    if len(value) >= 7:
        return value[:3] + "*" * (len(value) - 7) + value[-4:]
    return value[:1] + "*" * (len(value) - 1)


class SecretMixin:
    """A person's name or phone (declared `mask=True`) that a confidential record (`record.confidential`)
    keeps from readers outside the type's unmask roles: masked in lists (for everyone: the record's page
    shows it in full to those roles), exports, paper forms and the audit trail. The trail keeps no record
    at hand, so there it is masked for those readers whatever the record's flag says now."""

    def _hidden(self, field, record) -> bool:
        return field.mask and bool(getattr(record, "confidential", False))

    def record_text(self, field, record):
        text = super().record_text(field, record)
        return mask_secret(text) if text and self._hidden(field, record) else text

    def cell(self, field, record, value, unmask):
        return str(value or "") if unmask else self.record_text(field, record)

    def screen(self, field, record, unmask):
        return str(getattr(record, field.name, None) or "") if unmask else self.record_text(field, record)

    def shown(self, field, text, unmask):
        return mask_secret(text) if field.mask and not unmask else text


class SecretKind(SecretMixin, StrKind):
    name = "secret"


class SecretPhoneKind(SecretMixin, PhoneKind):
    name = "secret_phone"


class TextKind(StrKind):
    name = "text"
    wide = True

    def widget(self, field, center_id):
        # Every text fits a paper box: a few pages at most (a render of a longer one takes minutes).
        return TextAreaField(validators=self.need(field) + [Length(max=field.max_length or rf.TEXT_LIMIT,
                                                                   message=_l("Too long."))],
                             filters=[rf._clean], **self._kw(field))


def _int_sample(field) -> int:
    return max(field.min or 0, 1) if field.max is None or field.max >= 1 else field.max


class IntKind(Kind):
    name = "int"
    input_required = True

    def widget(self, field, center_id):
        rng = [NumberRange(min=field.min, max=field.max, message=_l("Out of range."))] \
            if field.min is not None or field.max is not None else []
        return IntegerField(validators=self.need(field) + rng, **self._kw(field))

    def filter_value(self, field, raw):
        # ASCII digits within a 64-bit column; anything else ("²", 10**20) and the filter is ignored
        return parse_int(raw)

    def cell(self, field, record, value, unmask):
        return value if value is not None else self.record_text(field, record)

    def sample(self, field, center, make_record=None):
        return _int_sample(field)


# An amount as typed or filtered: ASCII digits, an optional sign and point (no "²", "1e9", "NaN").
_DECIMAL = re.compile(r"-?[0-9]{1,18}(\.[0-9]{1,10})?")


def as_decimal(value, places: int = 2) -> Decimal:
    """A stored amount as a Decimal with its declared places when that loses nothing: SQLite hands back
    Decimal("12.5000000000") for 12.50; an amount typed with more places keeps them."""
    value = value if isinstance(value, Decimal) else Decimal(str(value))
    if not value.is_finite():
        return value
    exact = value.quantize(Decimal(1).scaleb(-places))
    return exact if exact == value else value


class DecimalKind(Kind):
    """An amount with two places (fees, areas): typed with a point, shown and exported exactly."""
    name = "decimal"
    input_required = True
    places = 2

    def widget(self, field, center_id):
        rng = [NumberRange(min=field.min, max=field.max, message=_l("Out of range."))] \
            if field.min is not None or field.max is not None else []
        return DecimalField(validators=self.need(field) + rng, places=self.places, **self._kw(field))

    def form_text(self, field, value):
        return "" if value is None else format(as_decimal(value, self.places), "f")

    def filter_value(self, field, raw):
        raw = raw.strip()
        if not _DECIMAL.fullmatch(raw):
            return None
        try:
            return Decimal(raw)
        except InvalidOperation:  # pragma: no cover - the pattern admits only plain numbers
            return None

    def text(self, field, value):
        # Plain digits with the declared places ("1200.50"), never an exponent ("1.2E+3") nor a
        # database's trailing zeros ("1200.5000000000").
        return format(as_decimal(value, self.places), "f")

    def cell(self, field, record, value, unmask):
        return as_decimal(value, self.places) if value is not None else self.record_text(field, record)

    def shown(self, field, text, unmask):
        try:
            return self.text(field, Decimal(text))
        except InvalidOperation:
            return text

    def sample(self, field, center, make_record=None):
        whole = Decimal(_int_sample(field))
        half = whole + Decimal("0.50")
        return half if field.max is None or half <= field.max else whole


class DateKind(Kind):
    name = "date"
    range_filter = True
    ledger_width = 9.5

    def widget(self, field, center_id):
        return DateField(validators=self.need(field) + [rf._sane_date], **self._kw(field))

    def form_text(self, field, value):
        return "" if value is None else value.isoformat()

    def upto(self, column, day):
        return column <= day

    def filter(self, field, column, args, active):
        lo, hi = parse_date(args.get(f"{field.name}_from")), parse_date(args.get(f"{field.name}_to"))
        parts = []
        if lo:
            active[f"{field.name}_from"] = lo.isoformat()
            parts.append(column >= lo)
        if hi:
            active[f"{field.name}_to"] = hi.isoformat()
            parts.append(self.upto(column, hi))
        return and_(*parts) if parts else None

    def filter_words(self, field, active, choices):
        from app.timeutil import cn_date
        lo, hi = active.get(f"{field.name}_from"), active.get(f"{field.name}_to")
        if not (lo or hi):
            return None
        lo = cn_date(date.fromisoformat(lo)) if lo else ""
        hi = cn_date(date.fromisoformat(hi)) if hi else ""
        return f"{lo}至{hi}" if lo and hi else f"{lo}起" if lo else f"至{hi}"

    def text(self, field, value):
        return value.isoformat()

    def paper(self, field, record, unmask):
        from app.timeutil import cn_date
        value = getattr(record, field.name, None)
        return "" if value is None else cn_date(value)

    def cell(self, field, record, value, unmask):
        return value if value is not None else self.record_text(field, record)

    def sample(self, field, center, make_record=None):
        return date(2026, 11, 23)


class DateTimeKind(DateKind):
    name = "datetime"
    FORMAT = "%Y-%m-%dT%H:%M"

    def widget(self, field, center_id):
        return DateTimeLocalField(validators=self.need(field) + [rf._sane_date], format=self.FORMAT,
                                  **self._kw(field))

    def form_text(self, field, value):
        return "" if value is None else value.strftime(self.FORMAT)

    def upto(self, column, day):
        return func.date(column) <= day

    ledger_width = 13

    def text(self, field, value):
        return value.strftime("%Y-%m-%d %H:%M")

    def paper(self, field, record, unmask):
        from app.timeutil import cn_date
        value = getattr(record, field.name, None)
        return "" if value is None else f"{cn_date(value)} {value:%H:%M}"

    def shown(self, field, text, unmask):
        try:
            return datetime.fromisoformat(text).strftime("%Y-%m-%d %H:%M")
        except ValueError:
            return text

    def sample(self, field, center, make_record=None):
        return datetime(2026, 11, 23, 9, 0)


class TimeKind(Kind):
    """A time of day (opening hours, a short leave's start, an extended service's end): HH:MM."""
    name = "time"
    ledger_width = 6

    def widget(self, field, center_id):
        return TimeField(validators=self.need(field), format="%H:%M", **self._kw(field))

    def form_text(self, field, value):
        return "" if value is None else value.strftime("%H:%M")

    def filter_value(self, field, raw):
        try:
            return time.fromisoformat(raw)
        except ValueError:
            return None

    def text(self, field, value):
        return value.strftime("%H:%M")

    def shown(self, field, text, unmask):
        try:
            return time.fromisoformat(text).strftime("%H:%M")
        except ValueError:
            return text

    def sample(self, field, center, make_record=None):
        return time(9, 0)


class BoolKind(Kind):
    name = "bool"
    posted_when_absent = True

    def need(self, field):
        return [Optional()]

    def widget(self, field, center_id):
        return BooleanField(**self._kw(field))

    def form_text(self, field, value):
        return "y" if value else None

    def filter_value(self, field, raw):
        return raw == "1"

    def filter_choices(self, field, gather):
        return [("1", _("Yes")), ("0", _("No"))]

    def filter_word(self, field, value, choices):
        return _("Yes") if value else _("No")

    def text(self, field, value):
        return str(_l("Yes") if value else _l("No"))

    def shown(self, field, text, unmask):
        return self.display(field, text == "True")

    def sample(self, field, center, make_record=None):
        return False


class ChoiceKind(Kind):
    name = "choice"
    ledger_width = 6

    def widget(self, field, center_id):
        choices = ([] if field.required else [("", "—")]) + [(k, v) for k, v in field.choices]
        return SelectField(choices=rf.as_choices(choices), validators=self.need(field), **self._kw(field))

    def from_form(self, field, value, nullable=True):
        if value in (None, ""):  # the "—" choice
            return None if nullable else ""
        return value

    def _title(self, field, value) -> str:
        return str(dict(field.choices or ()).get(value, value))

    def filter_choices(self, field, gather):
        return list(field.choices)

    def filter_word(self, field, value, choices):
        return self._title(field, value)

    def text(self, field, value):
        return self._title(field, value) if field.choices else str(value)

    def shown(self, field, text, unmask):
        return self._title(field, text) if field.choices else text

    def sample(self, field, center, make_record=None):
        return field.choices[0][0]


class RefKind(Kind):
    """A record of the same centre (`Field.ref`), chosen from a select; 0 is the "—" choice."""
    name = "ref"

    def model(self, field):
        return field.ref

    def choices(self, field, center_id, blank=True):
        return rf.ref_choices(field.ref, center_id, blank=blank)

    def widget(self, field, center_id):
        checks = [rf.ChosenRequired()] if field.required else []
        return SelectField(choices=rf.as_choices(self.choices(field, center_id)), coerce=int, validators=checks,
                           **self._kw(field))

    def from_form(self, field, value, nullable=True):
        return None if value == 0 else value

    def form_value(self, field, value):
        return 0 if value is None else value

    def form_text(self, field, value):
        return str(value or 0)

    def filter_value(self, field, raw):
        return parse_id(raw)

    def filter_choices(self, field, gather):
        return gather(lambda cid: self.choices(field, cid, blank=False))

    def filter_word(self, field, value, choices):
        return str(dict(choices().get(field.name, ())).get(value, value))

    def record_text(self, field, record):
        if field.name.endswith("_id"):
            related = getattr(record, field.name[:-3], None)
            return "" if related is None else str(related)
        return super().record_text(field, record)

    def related_text(self, related) -> str:
        return str(related)

    def shown(self, field, text, unmask):
        if not text.isdigit():
            return text
        model = self.model(field)
        related = db_get(model, int(text)) if model is not None else None
        return self.related_text(related) if related is not None else text

    def sample(self, field, center, make_record=None):
        from app.records.registry import for_model
        target = for_model(field.ref)
        return make_record(target, center).id if target is not None and make_record is not None else None


class UserKind(RefKind):
    """A person of the centre (one with a role there)."""
    name = "user"
    ledger_width = 7

    def model(self, field):
        from models.core import User
        return User

    def choices(self, field, center_id, blank=True):
        return rf.user_choices(center_id, blank=blank)

    def related_text(self, related):
        return related.name

    def sample(self, field, center, make_record=None):
        return None


def db_get(model, key):
    from app.extensions import db
    return db.session.get(model, key)


KINDS: dict[str, Kind] = {k.name: k for k in (
    StrKind(), TextKind(), PhoneKind(), IdnoKind(), SecretKind(), SecretPhoneKind(), IntKind(), DecimalKind(),
    DateKind(), DateTimeKind(), TimeKind(),
    BoolKind(), ChoiceKind(), RefKind(), UserKind())}


def kind_of(field) -> Kind:
    """The Kind of a declared field."""
    kind = KINDS.get(field.kind)
    if kind is None:
        raise ValueError(f"unknown field kind {field.kind}")
    return kind
