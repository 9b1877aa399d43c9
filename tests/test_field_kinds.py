"""Field kinds as classes (app.records.kinds): every kind builds a widget, has a sample its widget takes,
shows it; "decimal" works end to end; a new kind is one class, used by forms and display unchanged."""
from __future__ import annotations

import io
from decimal import Decimal
from types import SimpleNamespace

import pytest
from openpyxl import Workbook, load_workbook
from sqlalchemy import Numeric, column
from werkzeug.datastructures import MultiDict
from wtforms import Form as PlainForm
from wtforms import StringField

from app.records.forms import build_form, wtf_field
from app.records.kinds import KINDS, Kind, StrKind, kind_of
from app.records.registry import Field, RecordType, format_value
from models.catalogue import Window
from tests.records_support import sample_record


def _field(kind: str, **kw) -> Field:
    extra = {"choice": {"choices": (("a", "甲"), ("b", "乙"))}, "ref": {"ref": Window}}.get(kind, {})
    return Field("v", "值", kind=kind, **{**extra, **kw})


def _submit(field: Field, text: str | None, center_id=None):
    """A one-field form built by the field's kind, posted with `text` (None: the key is left out)."""
    form_class = type("OneField", (PlainForm,), {"v": wtf_field(field, center_id)})
    return form_class(formdata=MultiDict({} if text is None else {"v": text}))


def test_every_kind_has_a_widget_a_sample_its_widget_takes_and_a_display(db, county):
    center = county["a"]
    assert set(KINDS) >= {"str", "text", "int", "decimal", "date", "datetime", "bool", "choice", "ref", "user",
                          "phone", "idno"}
    for name, kind in KINDS.items():
        for required in (False, True):
            f = _field(name, required=required)
            assert f.k is kind is kind_of(f)
            sample = kind.sample(f, center, sample_record)
            if required and sample is None:
                continue  # "nobody" (a person field's sample) is not a choice a required select takes
            form = _submit(f, kind.form_text(f, sample), center.id)
            assert form.validate(), (name, required, form.errors)
            assert kind.from_form(f, form.v.data) == sample, name
            shown = kind.display(f, sample)
            assert isinstance(shown, str) and (shown or sample is None), name
            assert format_value(f, sample) == shown
            assert f.display(SimpleNamespace(v=sample)) == shown or name == "ref"


def test_an_unknown_kind_is_refused_by_name():
    with pytest.raises(ValueError, match="unknown field kind nonsense"):
        wtf_field(Field("v", "值", kind="nonsense"), None)


def test_text_kinds_store_an_empty_text_and_references_none_for_the_blank_choice():
    assert KINDS["str"].from_form(_field("str"), None) == ""
    assert KINDS["ref"].from_form(_field("ref"), 0) is None
    assert KINDS["ref"].form_value(_field("ref"), None) == 0 and KINDS["str"].form_value(_field("str"), None) is None
    assert KINDS["user"].from_form(_field("user"), 0) is None
    assert KINDS["choice"].from_form(_field("choice"), "", nullable=True) is None
    assert KINDS["choice"].from_form(_field("choice"), "", nullable=False) == ""
    assert KINDS["choice"].from_form(_field("choice"), None, nullable=False) == ""


def test_decimal_round_trips_through_a_form_and_an_excel_cell(app):
    f = _field("decimal", required=True)
    kind = f.k
    form = _submit(f, "1234.5")
    assert form.validate()
    value = kind.from_form(f, form.v.data)
    assert value == Decimal("1234.5")
    assert kind.display(f, value) == "1234.50"
    # A database may hand the amount back with trailing zeros: shown, exported and offered again as typed.
    stored = Decimal("1234.5000000000")
    assert kind.display(f, stored) == "1234.50" and kind.shown(f, "1234.5000000000", False) == "1234.50"
    assert kind.form_text(f, stored) == "1234.50"
    again = _submit(f, kind.form_text(f, stored))
    assert again.validate() and again.v.data == value
    cell = kind.cell(f, SimpleNamespace(v=stored), stored, False)
    wb = Workbook()
    wb.active.append([cell])
    buf = io.BytesIO()
    wb.save(buf)
    read = load_workbook(io.BytesIO(buf.getvalue())).active["A1"]
    assert read.data_type == "n" and read.value == 1234.5
    assert not _submit(f, "十二").validate()
    assert not _submit(f, "").validate()  # required


def test_decimal_filters_by_the_exact_amount_and_ignores_anything_else():
    f, amount = _field("decimal"), column("v", Numeric(12, 2))
    active = {}
    condition = f.k.filter(f, amount, {"v": "12.50"}, active)
    assert active == {"v": Decimal("12.50")}
    assert condition.compare(amount == Decimal("12.50"))
    for bad in ("²", "1e9", "NaN", "Infinity", "12,5", "1.2.3", " "):
        active = {}
        assert f.k.filter(f, amount, {"v": bad}, active) is None and active == {}, bad


def test_date_filter_gives_one_condition_for_its_range_and_words_for_the_ledger(app):
    f, day = _field("date"), column("v")
    active = {}
    assert f.k.filter(f, day, {"v_from": "2026-01-05", "v_to": "9999-12-31"}, active) is not None
    assert active == {"v_from": "2026-01-05"}
    assert f.k.filter_words(f, active, dict) is not None
    assert f.k.filter(f, day, {}, {}) is None and f.k.filter_words(f, {}, dict) is None


class UpperKind(StrKind):
    """A made-up kind: a code typed in any case, shown in capitals."""
    name = "upper"

    def widget(self, field, center_id):
        return StringField(label=field.label, filters=[lambda v: v.strip() if isinstance(v, str) else v])

    def text(self, field, value):
        return str(value).upper()

    def sample(self, field, center, make_record=None):
        return "ab-12"


def test_a_new_kind_registered_in_one_place_is_used_by_forms_and_display(app, monkeypatch):
    monkeypatch.setitem(KINDS, "upper", UpperKind())
    f = Field("name", "代码", kind="upper")
    assert isinstance(f.k, UpperKind) and isinstance(f.k, Kind)
    rtype = RecordType(key="upper-test", model=Window, title="t", title_plural="t", fields=[f],
                       permissions={})
    with app.test_request_context():
        form = build_form(rtype, None, with_children=False)(
            formdata=MultiDict({"name": "  ab-12 "}), meta={"csrf": False})
        assert isinstance(form.name, StringField) and form.name.data == "ab-12"
    assert format_value(f, "ab-12") == "AB-12"
    assert f.display(SimpleNamespace(name="ab-12")) == "AB-12"
    assert f.k.cell(f, SimpleNamespace(name="ab-12"), "ab-12", False) == "AB-12"
    active = {}
    assert f.k.filter(f, column("name"), {"name": "x"}, active) is not None and active == {"name": "x"}
