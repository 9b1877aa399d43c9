"""Record types declared once: fields, list, filters, workflow, permissions, printouts.

A feature module declares its types with `register(RecordType(...))`; the generic views in
app.records.views render list / new / view / edit / transition / void / print for each of them.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

from flask_babel import lazy_gettext as _l

# Actions checked per role; "transition" permissions live on each Transition.
ACTIONS = ("read", "create", "edit", "void", "print", "export")


@dataclass
class Field:
    """A form/list field of a record. `kind` is inferred from the model column when not given."""
    name: str
    label: Any
    kind: str | None = None          # str text int date datetime bool choice ref user phone idno
    required: bool = False
    choices: tuple | None = None     # ((code, label), …) for kind "choice"
    ref: type | None = None          # model of a "ref" field (records of the same centre)
    help: Any = ""
    in_form: bool = True
    in_list: bool = False
    filter: bool = False
    search: bool | str = False      # True: contains the text; "prefix": starts with it (index-friendly);
    # "ngram": any part, through the model's `__name_grams__` side table; "idno": an ID number exactly
    sortable: bool = True
    mask: bool = False               # shown masked except to roles in RecordType.unmask_roles
    min: int | None = None
    max: int | None = None
    max_length: int | None = None

    def display(self, record) -> str:
        if self.kind in ("ref", "user") and self.name.endswith("_id"):
            related = getattr(record, self.name[:-3], None)
            return "" if related is None else str(related)
        return format_value(self, getattr(record, self.name, None))


def format_value(f: Field, value) -> str:
    if value is None or value == "":
        return ""
    if f.kind == "choice" and f.choices:
        return str(dict(f.choices).get(value, value))
    if f.kind == "bool":
        return str(_l("Yes") if value else _l("No"))
    if f.kind == "date":
        return value.isoformat()
    if f.kind == "datetime":
        return value.strftime("%Y-%m-%d %H:%M")
    if f.kind == "idno" and f.mask:
        return mask_id_number(str(value))
    return str(value)


def mask_id_number(value: str) -> str:
    """Keep the first 6 (region) and last 4 characters of an ID number: 430921********1234."""
    if len(value) <= 8:
        return "*" * len(value)
    return value[:6] + "*" * (len(value) - 10) + value[-4:]


@dataclass
class Child:
    """Rows owned by a record, edited inline (a matter's materials, a case's received materials)."""
    name: str                     # relationship attribute on the parent model
    label: Any
    model: type
    fields: list[Field]
    min_rows: int = 0
    blank_rows: int = 3           # empty rows offered in the form (no JavaScript needed)
    hide_empty: bool = False      # record page: no section at all when there are no rows


@dataclass
class State:
    name: str
    title: Any
    css: str = "neutral"          # neutral / info / warn / ok / bad
    final: bool = False


@dataclass
class Transition:
    name: str
    title: Any
    source: tuple[str, ...]
    target: str
    roles: frozenset[str]
    requires: tuple[str, ...] = ()     # fields that must be filled for this transition
    fields: tuple[str, ...] = ()       # fields offered on the transition form (requires ⊆ fields)
    guard: Callable[[Any, Any], Any] | None = None  # (record, user) → None if allowed, else a reason
    comment_required: bool = False
    not_by_author: bool = False        # no self-approval
    on_apply: Callable[[Any, Any], None] | None = None
    css: str = "primary"
    worklist: bool = True              # False: a correction or note, not work that awaits anyone
    approval: bool = False             # a manager's decision: heads "awaiting my approval" in the worklist

    def __post_init__(self):
        self.roles = frozenset(self.roles)
        self.fields = tuple(dict.fromkeys((*self.requires, *self.fields)))


@dataclass
class Workflow:
    states: list[State]
    initial: str
    transitions: list[Transition]

    def state(self, name: str) -> State | None:
        return next((s for s in self.states if s.name == name), None)

    def transition(self, name: str) -> Transition | None:
        return next((t for t in self.transitions if t.name == name), None)

    def exits(self, state: str) -> list[Transition]:
        return [t for t in self.transitions if state in t.source]


@dataclass
class PrintForm:
    name: str
    title: Any
    template: str
    form_type: str | None = None   # numbering series; None: printed without a number
    roles: frozenset[str] | None = None  # default: the type's "print" roles
    states: tuple[str, ...] | None = None  # printable only in these states
    when: Callable[[Any], bool] | None = None  # and only when this holds for the record


@dataclass(frozen=True)
class ListView:
    """A named selection of records (a home tile, a saved filter): the same SQL condition counts the
    tile and filters the list it opens, so the two can never disagree."""
    key: str
    title: Any
    condition: Callable[[Any], Any]   # today's date → SQL condition on the type's model
    css: str = ""


@dataclass
class RecordType:
    key: str                      # URL slug
    model: type
    title: Any                    # singular
    title_plural: Any
    fields: list[Field]
    permissions: dict[str, frozenset[str]]
    workflow: Workflow | None = None
    children: list[Child] = field(default_factory=list)
    prints: list[PrintForm] = field(default_factory=list)
    default_sort: str = "-id"
    edit_states: tuple[str, ...] | None = None   # None: editable in any non-final state
    unmask_roles: frozenset[str] = frozenset()
    # Hooks: validate(record, form, user) → {field: message}; warnings(record) → [message]
    validate: Callable | None = None
    warnings: Callable | None = None
    before_save: Callable | None = None
    after_create: Callable | None = None          # (record, user) after a new record's first flush
    row_filter: Callable | None = None            # (query, user) → query: narrower visibility
    can_edit: Callable | None = None              # (record, user) → None if this user may edit it, else a reason
    flags: Callable | None = None                 # record → [(label, css)] badges beside the state
    prefill: Callable | None = None               # (args, center_id) → initial form data of a new record
    parent: tuple[str, type] | None = None        # (fk column, model): created from a parent record's page
    list_options: tuple = ()                      # loader options for list pages (avoid N+1)
    template_view: str = "records/view.html"
    template_form: str = "records/form.html"
    nav_group: str = ""
    views: tuple[ListView, ...] = ()
    # The paper ledger's (台账) columns, by field name; None: the list page's columns. A pair of names
    # ("due_date", "extended_due") prints the first and, where the second is set, "→ 延至" the second.
    ledger_columns: tuple | None = None

    def __post_init__(self):
        self.permissions = {k: frozenset(v) for k, v in self.permissions.items()}
        infer_kinds(self.model, self.fields)
        for child in self.children:
            infer_kinds(child.model, child.fields)

    def field(self, name: str) -> Field | None:
        return next((f for f in self.fields if f.name == name), None)

    def view(self, key: str) -> ListView | None:
        return next((v for v in self.views if v.key == key), None)

    @property
    def list_fields(self) -> list[Field]:
        return [f for f in self.fields if f.in_list]

    @property
    def filter_fields(self) -> list[Field]:
        return [f for f in self.fields if f.filter]

    def allows(self, action: str, roles: frozenset[str]) -> bool:
        return bool(self.permissions.get(action, frozenset()) & roles)


REGISTRY: dict[str, RecordType] = {}


def register(rtype: RecordType) -> RecordType:
    if rtype.key in REGISTRY and REGISTRY[rtype.key].model is not rtype.model:
        raise ValueError(f"record type {rtype.key} declared twice")
    REGISTRY[rtype.key] = rtype
    return rtype


def for_model(model: type) -> RecordType | None:
    return next((t for t in REGISTRY.values() if t.model is model), None)


def infer_kinds(model: type, fields: list[Field]) -> None:
    """Fill Field.kind from the mapped column type when the declaration leaves it out."""
    from sqlalchemy import Boolean, Date, DateTime, Integer, Numeric, String, Text
    table = model.__table__
    for f in fields:
        if f.kind:
            continue
        column = table.c.get(f.name)
        if column is None:
            raise ValueError(f"{model.__name__}.{f.name}: no column; give Field.kind")
        if column.foreign_keys:
            f.kind = "ref"
        elif f.choices:
            f.kind = "choice"
        else:
            ctype = column.type
            f.kind = ("bool" if isinstance(ctype, Boolean) else "datetime" if isinstance(ctype, DateTime)
                      else "date" if isinstance(ctype, Date) else "int" if isinstance(ctype, Integer)
                      else "decimal" if isinstance(ctype, Numeric) else "text" if isinstance(ctype, Text)
                      else "str")
            if f.kind == "str" and f.max_length is None and isinstance(ctype, String):
                f.max_length = ctype.length


def state_title(record) -> str:
    """The state of any declared record, as its workflow titles it."""
    rtype = for_model(type(record))
    state = rtype.workflow.state(record.state) if rtype and rtype.workflow else None
    return str(state.title) if state else record.state
