"""WTForms classes built from a record type's declaration, with Chinese messages beside each field."""
from __future__ import annotations

import re

from flask import g, has_request_context
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from markupsafe import Markup, escape
from sqlalchemy import select
from wtforms import (BooleanField, DateField, DateTimeLocalField, DecimalField, FieldList, FormField,
                     HiddenField, IntegerField, SelectChoice, SelectField, StringField, TextAreaField)
from wtforms import Form as PlainForm
from wtforms.widgets import core as _widgets
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional, Regexp, ValidationError

from app import access
from app.extensions import db
from app.records.registry import Child, Field, RecordType

def html_params(**kwargs) -> Markup:
    """WTForms' attribute writer, the same output without `Markup.format` (a pure-Python formatter that made
    the attributes of a form's two dozen inputs a tenth of the intake form's time). Installed in WTForms below;
    tests/test_request_cost.py compares the two."""
    params = []
    for key, value in sorted(kwargs.items()):
        key = escape(_widgets.clean_key(key))
        if value is True:
            params.append(key)
        elif value is not False:
            params.append(f'{key}="{str(escape(value)).replace(chr(34), "&quot;")}"')
    return Markup(" ".join(params))


WTFORMS_HTML_PARAMS = _widgets.html_params
_widgets.html_params = html_params   # the widgets look it up in their module at each call

REQUIRED = _l("This field is required.")
# A mobile number (11 digits from 13x to 19x), or a landline with its area code (0737-1234567; a
# county hotline such as 0737-12345; an extension after a second dash). Nothing shorter.
PHONE = re.compile(r"^(1[3-9]\d{9}|0\d{2,3}-?\d{5,8}(-\d{1,6})?)$")
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def valid_id_number(value: str) -> bool:
    """An 18-character resident ID number with a correct check digit (GB 11643)."""
    value = value.strip().upper()
    if not re.fullmatch(r"\d{17}[\dX]", value):
        return False
    total = sum(int(c) * w for c, w in zip(value[:17], _ID_WEIGHTS))
    return "10X98765432"[total % 11] == value[17]


class ChosenRequired:
    """A select of records must have one chosen (0 is the "—" choice); marks the field required."""
    field_flags = {"required": True}

    def __call__(self, _form, field):
        if not field.data:
            raise ValidationError(REQUIRED)


def _id_number_check(_form, field):
    if field.data and not valid_id_number(field.data):
        raise ValidationError(_l("Not a valid 18-digit ID number (check the last digit)."))


def _sane_date(_form, field):
    """A typed date within 1900..2099: the working-day calendar and every deadline sum stay in range."""
    from app.params import FIRST_DATE, LAST_DATE
    if field.data is None:
        return
    day = field.data.date() if hasattr(field.data, "date") else field.data
    if not FIRST_DATE <= day <= LAST_DATE:
        raise ValidationError(_l("Enter a date between %(first)s and %(last)s.",
                                 first=FIRST_DATE.isoformat(), last=LAST_DATE.isoformat()))


def as_choices(pairs) -> list[SelectChoice]:
    return [SelectChoice(value, label) for value, label in pairs]


def _once_a_request(make):
    """A choices function whose answer a request reuses (a form and its rows ask for the same windows)."""
    def choices(*args, **kwargs):
        if not has_request_context():
            return make(*args, **kwargs)
        made = g.setdefault("_choices", {})
        key = (make.__name__, args, tuple(sorted(kwargs.items())))
        if key not in made:
            made[key] = make(*args, **kwargs)
        return list(made[key])
    return choices


@_once_a_request
def ref_choices(model, center_id: int | None, blank=True):
    """Records of a model in the same centre, for a select; void ones are left out."""
    query = select(model).where(model.center_id == center_id)
    if hasattr(model, "voided"):
        query = query.where(model.voided.is_(False))
    order = getattr(model, "number", None) or getattr(model, "name", None) or model.id
    rows = [(r.id, str(r)) for r in db.session.scalars(query.order_by(order))]
    return ([(0, "—")] if blank else []) + rows


@_once_a_request
def user_choices(center_id: int | None, blank=True):
    from models.core import RoleGrant, User
    # Two columns, not the whole account: a centre's twenty staff as records cost a list page about 1 ms.
    query = (select(User.id, User.name).join(RoleGrant, RoleGrant.user_id == User.id)
             .where(RoleGrant.center_id == center_id, User.active.is_(True)).distinct().order_by(User.name, User.id))
    return ([(0, "—")] if blank else []) + [(uid, name) for uid, name in db.session.execute(query)]


TEXT_LIMIT = 4000  # characters of a free-text field unless its declaration says otherwise
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _clean(value):
    """Typed or pasted text without control characters (PostgreSQL refuses NUL; paper and Excel
    cannot show the others); line breaks and tabs stay."""
    return _CONTROL.sub("", value) if isinstance(value, str) else value


def wtf_field(f: Field, center_id: int | None):
    """One WTForms field for a declared Field: its kind builds it (app.records.kinds)."""
    return f.k.widget(f, center_id)


def child_form(child: Child, center_id):
    attrs = {f.name: wtf_field(Field(**{**f.__dict__, "required": False}), center_id) for f in child.fields}
    attrs["row_id"] = HiddenField()
    return type(f"{child.name.title()}Row", (PlainForm,), attrs)


def build_form(rtype: RecordType, center_id: int | None, field_names=None, with_children=True):
    """A FlaskForm class for the type (or for the named fields of a transition)."""
    names = field_names if field_names is not None else [f.name for f in rtype.fields if f.in_form]
    attrs = {}
    for name in names:
        f = rtype.field(name)
        if f is None:
            raise ValueError(f"{rtype.key}: no field {name}")
        attrs[name] = wtf_field(f, center_id)
    attrs["form_version"] = HiddenField()
    attrs["form_token"] = HiddenField()
    if with_children:
        for child in rtype.children:
            attrs[child.name] = FieldList(FormField(child_form(child, center_id)), min_entries=0)
    return type(f"{rtype.model.__name__}Form", (FlaskForm,), attrs)


def conceal_id_numbers(rtype: RecordType, form, record, show_full: bool) -> None:
    """An edit form never sends a masked ID number to the browser unless `show_full`: the input is empty with
    the masked number as its placeholder, and left empty it keeps the stored number (a new one is retyped in
    full and checked as usual)."""
    if show_full:
        return
    from app.records.registry import mask_id_number
    for f in rtype.fields:
        if f.kind != "idno" or not f.mask or not f.in_form or f.name not in form:
            continue
        field, stored = form[f.name], getattr(record, f.name, None) or ""
        render_kw = {**(field.render_kw or {}), "placeholder": mask_id_number(stored) if stored else ""}
        typed = field.raw_data[0].strip() if field.raw_data and isinstance(field.raw_data[0], str) else ""
        if not typed:  # the form as sent out, or sent back empty: the stored number stays, and stays unseen
            field.data, field.raw_data = stored, [""]
            render_kw["value"] = ""
        field.render_kw = render_kw


def may_unmask(rtype: RecordType, user, center_id) -> bool:
    return bool(rtype.unmask_roles & access.roles_in(user, center_id))
