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
# Actions a state may grant or withhold for its records (a Plone-like permission map per state).
STATE_ACTIONS = ("read", "edit", "print", "void")
# A pseudo-role in permissions, state rights and transitions: the person the record is about
# (`RecordType.subject`), whatever their roles — "a clerk reads and edits their own leave slip".
SUBJECT = "subject"


@dataclass
class Field:
    """A form/list field of a record. `kind` is inferred from the model column when not given."""
    name: str
    label: Any
    kind: str | None = None          # str text int date datetime bool choice ref user phone idno
    required: bool = False
    choices: tuple | None = None     # ((code, label), …) for kind "choice"
    # A computed field: compute(ctx) → value from the fields named in `depends`; evaluated before
    # validation and on every transition, stored (lists and filters read it), read-only on forms.
    compute: Callable | None = None
    depends: tuple[str, ...] = ()
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

    @property
    def k(self):
        """The field's Kind (app.records.kinds): its widget, filter, display, Excel cell, sample."""
        from app.records.kinds import kind_of
        return kind_of(self)

    def display(self, record) -> str:
        return self.k.record_text(self, record)


def format_value(f: Field, value) -> str:
    return f.k.display(f, value)


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
    # What each role (and SUBJECT) may do with a record in this state, for the actions named here
    # (STATE_ACTIONS); an action not named keeps the type's permission. Final states allow no edit
    # unless they say so.
    rights: dict[str, frozenset[str]] = field(default_factory=dict)

    def __post_init__(self):
        self.rights = {k: frozenset(v) for k, v in self.rights.items()}


@dataclass(frozen=True)
class When:
    """A condition on one value of the record, both in Python and in SQL (so a worklist can find the
    records a conditioned step applies to in one query): above < value <= upto (None: unbounded)."""
    field: str
    above: Any = None
    upto: Any = None

    def holds(self, record) -> bool:
        value = getattr(record, self.field, None)
        if value is None:
            return False
        return (self.above is None or value > self.above) and (self.upto is None or value <= self.upto)

    def sql(self, model):
        column = getattr(model, self.field)
        parts = [column.is_not(None)]
        if self.above is not None:
            parts.append(column > self.above)
        if self.upto is not None:
            parts.append(column <= self.upto)
        from sqlalchemy import and_
        return and_(*parts)


@dataclass
class Transition:
    name: str
    title: Any
    source: tuple[str, ...]
    target: str
    roles: frozenset[str]
    requires: tuple[str, ...] = ()     # fields that must be filled for this transition
    fields: tuple[str, ...] = ()       # fields offered on the transition form (requires ⊆ fields)
    guard: Callable | None = None      # (ctx) → raises Refused when this user may not take it now
    comment_required: bool = False
    not_by_subject: bool = False       # no self-approval: not by the record's subject (else its author)
    on_apply: Callable | None = None   # (ctx) after the fields are set; may raise Refused
    css: str = "primary"
    worklist: bool = True              # False: a correction or note, not work that awaits anyone
    approval: bool = False             # a manager's decision: heads "awaiting my approval" in the worklist
    when: tuple[When, ...] = ()        # offered only when one of these holds (SQL-expressible)
    opinion: str = ""                  # a step of an approval chain: "opinion" / "approve" / "reject"
    view: str = ""                     # the endpoint (taking record_id) of a page of its own for this step

    def __post_init__(self):
        self.roles = frozenset(self.roles)
        self.fields = tuple(dict.fromkeys((*self.requires, *self.fields)))
        if isinstance(self.when, When):
            self.when = (self.when,)

    def applies(self, record) -> bool:
        return not self.when or any(w.holds(record) for w in self.when)


@dataclass(frozen=True)
class Route:
    """One way through an approval chain, taken while the routing value is at most `upto` (and above
    the previous route's): `roles` act in order; the last decides, the ones before give an opinion."""
    upto: Any
    roles: tuple[str, ...]


@dataclass
class Chain:
    """An approval chain routed by a value of the record (a leave slip's days: ≤ 1 deputy decides;
    ≤ 2 deputy's opinion, director decides; more: deputy and director, then the town leader).
    The workflow expands it into one "awaiting <role>" state per role and conditioned transitions
    (`When` on the routing field), so who approves what stays data and the worklist finds it in SQL.
    Every step writes an opinion (who, when, what) that the paper form prints."""
    by: str                            # the field whose value routes the record
    routes: tuple[Route, ...]
    submit_from: tuple[str, ...]       # states the chain starts from (draft, returned)
    submit_roles: frozenset[str]       # who submits (e.g. SUBJECT)
    approved: str                      # state after the final approval
    rejected: str                      # state after a refusal
    returned: str | None = None        # state after "return for changes" (None: no such step)
    on_submit: Callable | None = None  # (ctx) when the record enters the chain (e.g. mark a late request)
    on_approved: Callable | None = None  # (ctx) after the final approval (e.g. schedule a cover)

    def ranges(self) -> list[tuple[When, Route]]:
        out, above = [], None
        for route in self.routes:
            out.append((When(self.by, above, route.upto), route))
            above = route.upto
        return out

    def roles(self) -> list[str]:
        return list(dict.fromkeys(r for route in self.routes for r in route.roles))

    @staticmethod
    def state_of(role: str) -> str:
        return f"awaiting_{role}"

    def expand(self) -> tuple[list[State], list[Transition]]:
        from app.access import ROLE_TITLES
        # Under decision nobody changes the record: what each person approves is what the next one sees.
        states = [State(self.state_of(r), _l("Awaiting %(who)s", who=ROLE_TITLES.get(r, r)), css="info",
                        rights={"edit": frozenset()}) for r in self.roles()]
        moves: dict[tuple[str, str, str], list[When]] = {}   # (role, kind, next role) → ranges
        for when, route in self.ranges():
            moves.setdefault(("", "submit", route.roles[0]), []).append(when)
            for i, role in enumerate(route.roles):
                last = i == len(route.roles) - 1
                key = (role, "approve", "") if last else (role, "opinion", route.roles[i + 1])
                moves.setdefault(key, []).append(when)
        transitions = []
        firsts = {nxt for (role, kind, nxt) in moves if kind == "submit"}
        for (role, kind, nxt), whens in moves.items():
            if kind == "submit":
                name = "submit" if len(firsts) == 1 else f"submit_to_{nxt}"
                transitions.append(Transition(name, _l("Submit for approval"), self.submit_from, self.state_of(nxt),
                                              self.submit_roles, when=tuple(whens), on_apply=self.on_submit))
            elif kind == "approve":
                transitions.append(Transition(f"{role}_approve", _l("Approve"), (self.state_of(role),), self.approved,
                                              frozenset({role}), not_by_subject=True, approval=True,
                                              opinion="approve", when=tuple(whens), on_apply=self.on_approved))
            else:
                transitions.append(Transition(
                    f"{role}_to_{nxt}", _l("Give my opinion, pass on to %(who)s", who=ROLE_TITLES.get(nxt, nxt)),
                    (self.state_of(role),), self.state_of(nxt), frozenset({role}), not_by_subject=True,
                    approval=True, opinion="opinion", comment_required=True, when=tuple(whens)))
        for role in self.roles():
            transitions.append(Transition(f"{role}_reject", _l("Refuse"), (self.state_of(role),), self.rejected,
                                          frozenset({role}), not_by_subject=True, approval=True, opinion="reject",
                                          comment_required=True, css="danger"))
            if self.returned:
                transitions.append(Transition(f"{role}_return", _l("Return for changes"), (self.state_of(role),),
                                              self.returned, frozenset({role}), not_by_subject=True, approval=True,
                                              opinion="return", comment_required=True, css="secondary"))
        return states, transitions


@dataclass
class Workflow:
    states: list[State]
    initial: str
    transitions: list[Transition]
    chains: list[Chain] = field(default_factory=list)

    def __post_init__(self):
        for chain in self.chains:
            states, transitions = chain.expand()
            self.states += [s for s in states if self.state(s.name) is None]
            self.transitions += transitions

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


class Refused(Exception):
    """A hook's or a step's "no", shown to the user beside `field` (else at the top of the form).
    Guards, edit checks and on_apply hooks all refuse this way."""

    def __init__(self, message, field: str | None = None):
        super().__init__(str(message))
        self.message = str(message)
        self.field = field


@dataclass
class Ctx:
    """What every hook receives: the record, who acts, in which centre, on which day, and the values
    submitted (a form's fields, a new record's query arguments)."""
    rtype: "RecordType"
    record: Any
    user: Any
    center_id: int | None
    today: Any
    values: dict = field(default_factory=dict)
    comment: str = ""


@dataclass
class RecordType:
    key: str                      # URL slug
    model: type
    title: Any                    # singular
    title_plural: Any
    fields: list[Field]
    permissions: dict[str, frozenset[str]]   # action → roles (and SUBJECT), for every state
    workflow: Workflow | None = None
    children: list[Child] = field(default_factory=list)
    prints: list[PrintForm] = field(default_factory=list)
    default_sort: str = "-id"
    edit_states: tuple[str, ...] | None = None   # None: editable in any non-final state (State.rights refine)
    unmask_roles: frozenset[str] = frozenset()
    subject: str | None = None    # column holding the user the record is about (a leave slip's staff member)
    owner: str | None = None      # column holding the user who works it ("mine"); default: subject, else author
    withheld_from: str | None = None  # column holding a person who never reads it, whatever their roles
                                      # (the staff member a complaint is about)
    # Hooks, each called with one Ctx; refusals raise Refused:
    validate: Callable | None = None              # → {field: message} (empty: valid)
    warnings: Callable | None = None              # → [message] shown after saving
    before_save: Callable | None = None           # after validation, before the flush
    after_create: Callable | None = None          # after a new record's first flush
    can_edit: Callable | None = None              # raises Refused when this user may not edit it now
    flags: Callable | None = None                 # record → [(label, css)] badges beside the state
    prefill: Callable | None = None               # → initial form data of a new record (ctx.values: query args)
    sample: Callable | None = None                # (center) → a valid saved record, for generated tests
    options: tuple[str, ...] = ()                 # form inputs that are not stored (buttons, ticks): in ctx.values
    parent: tuple[str, type] | None = None        # (fk column, model): created from a parent record's page
    list_options: tuple = ()                      # loader options for list pages (avoid N+1)
    view_options: tuple = ()                      # loader options for the record's page (what it shows of others)
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
        for f in self.fields:
            if f.compute is not None:
                f.in_form = False   # shown, never typed

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

    @property
    def computed_fields(self) -> list[Field]:
        """Computed fields in an order where each comes after the computed fields it depends on."""
        pending = [f for f in self.fields if f.compute is not None]
        done: list[Field] = []
        while pending:
            ready = [f for f in pending if not any(d in {p.name for p in pending if p is not f} for d in f.depends)]
            if not ready:
                raise ValueError(f"{self.key}: computed fields depend on each other in a circle")
            done += ready
            pending = [f for f in pending if f not in ready]
        return done

    # ------------------------------------------------------------ rights

    def allows(self, action: str, roles: frozenset[str]) -> bool:
        """The type-wide permission (create, export, the ledger; the default of every state)."""
        return bool(self.permissions.get(action, frozenset()) & roles)

    def rights_in(self, state: str | None) -> dict[str, frozenset[str]]:
        """Action → roles (and SUBJECT) for a record in this state: the type's permissions, no edit in a
        final state or outside `edit_states`, then the state's own declared rights."""
        rights = dict(self.permissions)
        st = self.workflow.state(state) if self.workflow is not None and state else None
        if st is not None:
            if st.final or (self.edit_states is not None and state not in self.edit_states):
                rights["edit"] = frozenset()
            rights.update(st.rights)
        return rights

    def states(self) -> list[str | None]:
        return [s.name for s in self.workflow.states] if self.workflow is not None else [None]

    def states_allowing(self, action: str, roles: frozenset[str]) -> list[str | None]:
        """The states in which holders of these roles (or SUBJECT) may take the action."""
        return [s for s in self.states() if self.rights_in(s).get(action, frozenset()) & roles]

    def subject_id(self, record) -> int | None:
        """Whose record it is: the subject, else its author (no self-approval compares this)."""
        return getattr(record, self.subject) if self.subject else record.created_by_id

    def is_subject(self, user, record) -> bool:
        return self.subject is not None and getattr(record, self.subject, None) == user.id

    def grants(self, allowed: frozenset[str], user, record, roles: frozenset[str]) -> bool:
        """Roles held in the record's centre, or being its subject (a member of that centre)."""
        return bool(allowed & roles) or bool(roles and SUBJECT in allowed and self.is_subject(user, record))

    def may(self, action: str, user, record, any_state: bool = False) -> bool:
        """May this user take the action on this record now (or in some state, with any_state)?"""
        from app.access import roles_in
        roles = roles_in(user, record.center_id)
        states = self.states() if any_state else [getattr(record, "state", None)]
        return any(self.grants(self.rights_in(s).get(action, frozenset()), user, record, roles) for s in states)

    def anyone_may(self, action: str, state: str | None) -> bool:
        return bool(self.rights_in(state).get(action))

    def readable_by(self, roles: frozenset[str]) -> bool:
        """Someone holding these roles sees some records of the type (maybe only their own)."""
        return bool(roles) and bool(self.states_allowing("read", roles | {SUBJECT} if self.subject else roles))

    def printed(self, record) -> list[tuple[str, str]]:
        """(label, text) of every declared field, the subject's first: a generic paper form's grid."""
        fields = sorted(self.fields, key=lambda f: f.name != self.subject)
        return [(str(f.label), f.display(record)) for f in fields]

    def ctx(self, record, user, center_id=None, values=None, comment: str = "", on=None) -> Ctx:
        from app.timeutil import today
        return Ctx(self, record, user, center_id if center_id is not None else getattr(record, "center_id", None),
                   on or today(), values or {}, comment)


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
    from sqlalchemy import Boolean, Date, DateTime, Integer, Numeric, String, Text, Time
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
                      else "date" if isinstance(ctype, Date) else "time" if isinstance(ctype, Time)
                      else "int" if isinstance(ctype, Integer)
                      else "decimal" if isinstance(ctype, Numeric) else "text" if isinstance(ctype, Text)
                      else "str")
            if f.kind == "str" and f.max_length is None and isinstance(ctype, String):
                f.max_length = ctype.length


def state_title(record) -> str:
    """The state of any declared record, as its workflow titles it."""
    rtype = for_model(type(record))
    state = rtype.workflow.state(record.state) if rtype and rtype.workflow else None
    return str(state.title) if state else record.state
