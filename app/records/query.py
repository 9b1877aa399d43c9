"""The records a user may see: one rule for lists, detail pages, exports and printouts."""
from __future__ import annotations

import re
import time
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from flask import abort, has_request_context
from sqlalchemy import Select, String, and_, cast, false, func, literal, or_, select, union_all
from sqlalchemy.sql import operators
from sqlalchemy.sql.elements import BinaryExpression, BindParameter, BooleanClauseList, UnaryExpression

from app import access
from app.extensions import db
from app.params import parse_date, parse_id, parse_int
from app.records.registry import SUBJECT, RecordType
from app.timeutil import today


def readable_center_ids(rtype: RecordType, user) -> list[int]:
    """Centres where the user sees some records of the type (maybe only those they are the subject of)."""
    return sorted(cid for cid in access.visible_center_ids(user) if rtype.readable_by(access.roles_in(user, cid)))


def listed_center_ids(rtype: RecordType, user) -> list[int]:
    """The centres a list, export or ledger shows: readable ones within the centre chosen in the header."""
    user = access.unproxied(user)
    readable = readable_center_ids(rtype, user)
    if not has_request_context() or access.signed_in_id() != getattr(user, "id", None):
        return readable  # not the signed-in user's screen (a job, a report for someone else)
    scope = access.current_scope_ids()
    return [cid for cid in readable if cid in scope]


def visible_query(rtype: RecordType, user) -> Select:
    return select(rtype.model).where(read_condition(rtype, user))


def read_condition(rtype: RecordType, user):
    """The records the user may read, as SQL: by the roles they hold in each centre and the states those
    roles may read there, plus — for a type with a subject — their own records in the states the subject
    may read (a clerk's own leave slips, not their colleagues')."""
    model = rtype.model
    by_roles: dict[frozenset[str], list[int]] = {}
    for cid in access.visible_center_ids(user):
        by_roles.setdefault(access.roles_in(user, cid), []).append(cid)
    every_state = rtype.states()
    parts, member_of = [], []
    for roles, cids in by_roles.items():
        if roles:
            member_of += cids
        states = rtype.states_allowing("read", roles)
        if states == every_state:
            parts.append(model.center_id.in_(cids))
        elif states:
            parts.append(and_(model.center_id.in_(cids), model.state.in_(states)))
    if rtype.subject and member_of:
        states = rtype.states_allowing("read", frozenset({SUBJECT}))
        if states:
            mine = and_(model.center_id.in_(member_of), getattr(model, rtype.subject) == user.id)
            parts.append(mine if states == every_state else and_(mine, model.state.in_(states)))
    if not parts:
        return false()
    if rtype.withheld_from:   # never shown to the person it is about, in a list, a page, an export or a step
        about = getattr(model, rtype.withheld_from)
        return and_(or_(*parts), or_(about.is_(None), about != user.id))
    return or_(*parts)


def get_or_404(rtype: RecordType, record_id: int, user, action: str = "read", options=()):
    """Load → check access. Not visible: 404 (its existence is not revealed). Not allowed in any state: 403
    (what the record's present state allows is the caller's to say: 409 when nobody may now). `options`:
    loader options for what the page shows of it (the record page: the references its list joins)."""
    record = db.session.scalar(visible_query(rtype, user).where(rtype.model.id == record_id).options(*options))
    if record is None:
        abort(404)
    if action != "read" and not rtype.may(action, user, record, any_state=True):
        abort(403)
    return record


ID_NUMBER = re.compile(r"\d{17}[\dXx]")


def search_condition(column, mode, q: str):
    """The condition a searched field puts on its records, or None when the field cannot match the text.

    "prefix": starts with it (an index range: receipt numbers, phones); "idno": an 18-character ID
    number exactly, X in either case (an index lookup); True: contains it (a scan: small tables only).
    "ngram" (any part of a name) is found through a side table instead: see `name_part_ids`.
    """
    if mode == "prefix":
        return and_(column >= q, column < q + "\U0010ffff")
    if mode == "idno":
        return column.in_(sorted({q.upper(), q.lower()})) if ID_NUMBER.fullmatch(q) else None
    if column.type.python_type is not str:
        column = cast(column, String)
    return _contains(column, q)


def name_part_ids(column, q: str, center_ids) -> Select:
    """Ids of the records in the centres whose field contains the text anywhere, in any letter case,
    through the model's table of the field's 1- and 2-character pieces (`__name_grams__`, kept by
    the model's events): one or two characters are one index lookup; a longer text is looked up by its
    first two characters, then compared whole on those rows only."""
    model = column.class_
    grams = model.__name_grams__[column.key]
    text = q.lower()
    ids = select(grams.case_id).where(grams.center_id.in_(center_ids), grams.gram == text[:2])
    if len(text) > 2:
        ids = ids.join(model, model.id == grams.case_id).where(_contains(column, q))
    return ids


def _contains(column, q: str):
    # SQLite's LIKE already ignores ASCII case; lower() on both sides would cost a full rewrite.
    if db.engine.dialect.name == "sqlite":
        return column.contains(q, autoescape=True)
    return column.icontains(q, autoescape=True)


def filtered_query(rtype: RecordType, user, args) -> tuple[Select, dict]:
    """Apply the list page's search, filters and sort; returns the query and the active filters."""
    model = rtype.model
    listed = listed_center_ids(rtype, user)
    query = visible_query(rtype, user).where(model.center_id.in_(listed))
    active: dict = {}
    if args.get("void") != "1":
        query = query.where(model.voided.is_(False))
    else:
        active["void"] = "1"
    q = (args.get("q") or "").strip()
    if q:
        active["q"] = q
        # The ids each searched field finds through its own index within the listed centres, put
        # together: an OR across the fields would make PostgreSQL scan the whole register.
        matches = []
        for f in rtype.fields:
            column = getattr(model, f.name) if f.search else None
            if f.search == "ngram":
                matches.append(name_part_ids(column, q, listed))
            elif f.search and (condition := search_condition(column, f.search, q)) is not None:
                matches.append(select(model.id).where(model.center_id.in_(listed), condition))
        if matches:
            query = query.where(model.id.in_(union_all(*matches) if len(matches) > 1 else matches[0]))
        elif any(f.search for f in rtype.fields):
            query = query.where(false())  # e.g. only an ID number is searched and this is none
    view = rtype.view(args.get("view") or "")
    if view is not None:
        active["view"] = view.key
        query = query.where(view.condition(today()))
    if rtype.workflow and args.get("state"):
        active["state"] = args["state"]
        query = query.where(model.state == args["state"])
    if parse_id(args.get("center")) and len(listed) > 1:
        active["center"] = parse_id(args.get("center"))
        query = query.where(model.center_id == active["center"])
    for f in rtype.filter_fields:
        # Its kind parses the argument (a bad one is ignored) and notes it in `active`.
        condition = f.k.filter(f, getattr(model, f.name), args, active)
        if condition is not None:
            query = query.where(condition)
    sort = args.get("sort") or rtype.default_sort
    name = sort.lstrip("-")
    sortable = {f.name for f in rtype.list_fields if f.sortable} | {"id", "state", "created_at"}
    if name not in sortable:
        sort, name = rtype.default_sort, rtype.default_sort.lstrip("-")
    column = getattr(model, name)
    query = query.order_by(column.desc() if sort.startswith("-") else column.asc(), model.id.desc())
    if rtype.list_options:
        query = query.options(*rtype.list_options)
    active["sort"] = sort
    return query, active


# ---------------------------------------------------------------- pages of a list
#
# A list page costs the same on the first page and the thousandth: "Next" and "Previous" carry the
# sort value and id of the last (first) row shown, and the page is read as an index range from there
# (keyset or seek paging), never by skipping rows with OFFSET. The count of matching rows stops at
# COUNT_CAP: beyond it the pager says "10,000+" instead of reading the whole register to say how many.
#
# The cursor: `after=ID:VALUE` (Next) or `before=ID:VALUE` (Previous), VALUE the row's value of the
# sort column as text (ISO for dates; nothing to write when sorted by id: `after=ID`); a row whose
# sort value is NULL writes `after=ID` without the colon, so NULL and "" stay apart. `page=N` rides
# along only as the number to show. A cursor that does not parse for the sort column (text for a
# date, 10**20, "²", an unknown sort) is no cursor: the first page. An old link with `page=N` alone
# still works (OFFSET: slower deep down, but the pager's own links never need it).
#
# Order and NULLs: the list is ordered `sort column (asc or desc), id desc`, NULLs where the database
# puts them by itself, so its index on the column serves: SQLite (and MySQL) sort NULL before every
# value ascending (after them descending), PostgreSQL after every value ascending (before them
# descending). The seek condition mirrors the same rule (`_nulls_smallest`), so rows with a NULL sort
# value are visited exactly once, as a block at that end, ties broken by id like any other value.

COUNT_CAP = 10_000
# A search counts its matches no further (page_of's `cap`): 王 matches 19,000 cases of a busy centre and
# counting 10,001 of them cost PostgreSQL 33 ms; nobody pages through a thousand hits, they type more.
SEARCH_COUNT_CAP = 1_000
# A list known to match more than COUNT_CAP rows says so again without counting for this long (its
# "10,000+" cannot change with a few new cases); a count under the cap is always made afresh.
CAPPED_COUNT_SECONDS = 60
_capped_lists: dict = {}  # count key → monotonic time it was counted over the cap


@dataclass
class Page:
    rows: list
    page: int                   # the page's number as shown (1 for the first)
    total: int                  # matching rows, exact up to the cap (COUNT_CAP, a search's SEARCH_COUNT_CAP)
    capped: bool                # more than the cap match: total is the cap, shown as "10,000+"
    pages: int                  # total pages (at least; exact unless capped)
    next_after: str | None      # cursor for "Next"; None on the last page
    prev_before: str | None     # cursor for "Previous"; None on the first page

    @property
    def carried(self) -> int:
        """The count as the pager's links carry it to the next page (`n`): the cap + 1 when over it."""
        return self.total + 1 if self.capped else self.total

    def __iter__(self):  # rows, total, page, pages: what page_of returned before
        return iter((self.rows, self.total, self.page, self.pages))


def count_capped(query: Select, cap: int | None = None, key=None) -> int:
    """The number of rows the query matches, counting no further than cap + 1 (COUNT_CAP + 1). With a
    key (the list's filters, user and centres: see list_view), a list over the cap stays so for
    CAPPED_COUNT_SECONDS without being counted again (Next, Previous, another sort)."""
    cap = COUNT_CAP if cap is None else cap
    if key is not None:
        key = (str(db.engine.url), cap, key)
        counted = _capped_lists.get(key)
        if counted is not None and time.monotonic() - counted < CAPPED_COUNT_SECONDS:
            return cap + 1
    ids = query.order_by(None).with_only_columns(literal(1), maintain_column_froms=True).limit(cap + 1)
    total = db.session.scalar(select(func.count()).select_from(ids.subquery()))
    if key is not None and total > cap:
        if len(_capped_lists) >= 2000:
            _capped_lists.clear()
        _capped_lists[key] = time.monotonic()
    return total


def _nulls_smallest() -> bool:
    return db.engine.dialect.name in ("sqlite", "mysql", "mariadb")


def sort_of(query: Select):
    """(column, descending) of the list's sort: the first of `filtered_query`'s two ORDER BY terms."""
    first = query._order_by_clauses[0]
    return first.element, first.modifier is not None and first.modifier.__name__ == "desc_op"


def cursor_of(record, column) -> str:
    """The cursor of a row: `ID:VALUE`, `ID` alone when the value is NULL or the sort is by id."""
    value = getattr(record, column.key)
    if column.key == "id" or value is None:
        return str(record.id)
    if isinstance(value, bool):
        value = int(value)
    return f"{record.id}:{value.isoformat() if isinstance(value, (date, datetime)) else value}"


def parse_cursor(text, column):
    """(id, value) from a cursor, or None when it is not one for this column (never an error)."""
    if not isinstance(text, str) or not text or len(text) > 300:
        return None
    ident, colon, raw = text.partition(":")
    ident = parse_id(ident)
    if ident is None:
        return None
    if column.key == "id":
        return ident, ident
    if not colon:
        return ident, None
    try:
        kind = column.type.python_type
    except NotImplementedError:
        return None
    value = _parse_value(kind, raw)
    return (ident, value) if value is not None else None


def _parse_value(kind, raw: str):
    if kind is bool:
        return {"1": True, "0": False}.get(raw)
    if kind is int:
        return parse_int(raw)
    if kind is datetime:
        if not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9:.+]{2,21}", raw):
            return None
        try:
            return datetime.fromisoformat(raw)
        except ValueError:
            return None
    if kind is date:
        return parse_date(raw)
    if kind is str:  # no NUL or other control character: PostgreSQL refuses NUL in text, no value holds one
        return None if re.search(r"[\x00-\x1f\x7f]", raw) else raw
    if kind in (float, Decimal):
        try:
            value = kind(raw)
        except (ValueError, InvalidOperation):
            return None
        return value if value == value and abs(value) < 10**15 else None  # no NaN, no inf
    return None


def _seek(column, descending: bool, cursor, forward: bool, model) -> list:
    """The rows after (forward) or before the cursor in the order `column asc|desc, id desc`, as the
    conditions of consecutive stretches of that order, each an index range: the rest of the values,
    then the NULL block when it comes after them (or the rest of the NULL block, then every value).
    One `... OR column IS NULL` would make SQLite walk the index from its start on every deep page."""
    ident, value = cursor
    if column.key == "id":
        return [(column < ident) if descending == forward else (column > ident)]
    id_next = model.id < ident if forward else model.id > ident
    # Along the direction walked, are values increasing, and do NULLs come after every value?
    increasing = descending != forward
    nulls_after = increasing != _nulls_smallest()
    if value is None:
        same = and_(column.is_(None), id_next)
        return [same] if nulls_after else [same, column.is_not(None)]
    bound = column >= value if increasing else column <= value  # the index range; the OR picks within it
    beyond = column > value if increasing else column < value
    condition = and_(bound, or_(beyond, and_(column == value, id_next)))
    return [condition, column.is_(None)] if nulls_after else [condition]


def _seek_rows(query: Select, conditions: list, want: int) -> list:
    """Up to `want` rows of the query's order from the stretches `_seek` gave, one after the other: a
    second statement only on the page where the values end and the NULL block begins."""
    rows = []
    for condition in conditions:
        rows += _fetch(query.where(condition), want - len(rows))
        if len(rows) >= want:
            break
    return rows


def _fetch(query: Select, limit: int, offset: int = 0) -> list:
    """The rows of one page with their references (the type's `list_options`), in one statement: the
    list's conditions and order pick the ids first (from an index; no wide joined rows sorted), then
    only those rows are read and joined — a date-range filter sorted by id no longer sorts every
    case of the range with its matter and window to keep 26."""
    model = query.column_descriptions[0]["entity"]
    ids = query.with_only_columns(model.id, maintain_column_froms=True).limit(limit).offset(offset)
    rows = select(model).where(model.id.in_(ids)).order_by(*query._order_by_clauses).options(*query._with_options)
    return db.session.scalars(rows).unique().all()


def _sorted_after_filtering(column):
    """The sort column as an expression no index orders (`+column`, SQLite's no-op unary plus): a list of
    at most the count's cap is then found by its filter's index and sorted, which costs a few ms. SQLite
    (without stat4) believes each state holds a tenth of the cases, so for `state=accepted` sorted by
    receipt it walked the receipt index from the oldest case, through 240,000 delivered ones, to the
    recent accepted ones (40–60 ms). PostgreSQL's planner knows the skew and keeps the plain column."""
    return UnaryExpression(column, operator=operators.custom_op("+"))


def _fixed_columns(query: Select, model) -> set[str] | None:
    """The model's columns the query's conditions hold to one value each (`=`, `IS`, `IN` one value), or
    None when some condition does anything else (a range, a search, an OR)."""
    fixed, todo = set(), list(query._where_criteria)
    while todo:
        condition = todo.pop()
        if isinstance(condition, BooleanClauseList) and condition.operator is operators.and_:
            todo += condition.clauses
            continue
        if not isinstance(condition, BinaryExpression) or getattr(condition.left, "table", None) is not model.__table__:
            return None
        one_value = condition.operator in (operators.eq, operators.is_) or (
            condition.operator is operators.in_op and isinstance(condition.right, BindParameter)
            and isinstance(condition.right.value, (list, tuple)) and len(condition.right.value) == 1)
        if not one_value:
            return None
        fixed.add(condition.left.key)
    return fixed


def _index_in_id_order(query: Select, column, model) -> bool:
    """Sorted by id, and an index holds exactly the columns the conditions fix (then the id: SQLite ends
    every index with the row id): the index range is the list in id order, read as far as the page goes.
    `state=accepted` newest first is the tail of (centre, void, state), not 7,018 cases sorted."""
    if column.key != "id":
        return False
    fixed = _fixed_columns(query, model)
    if not fixed:
        return False
    for index in model.__table__.indexes:
        names = [c.key for c in index.columns]
        if names and names[-1] == "id":
            names = names[:-1]
        if set(names) == fixed:
            return True
    return False


def _reversed(query: Select, column, descending: bool, model) -> Select:
    return query.order_by(None).order_by(column.asc() if descending else column.desc(), model.id.asc())


def page_of(query: Select, page: int, size: int, *, sort: str | None = None, after: str | None = None,
            before: str | None = None, count_key=None, known_total: int | None = None,
            cap: int | None = None) -> Page:
    """One page of a list made by `filtered_query`: the first, the one after or before a cursor (an
    index range), or — an old link — page N by OFFSET. Reads size + 1 rows to know if there is more,
    with their references in the same statement (the type's `list_options`), and a capped count.
    `sort` is the sort `filtered_query` applied (its `active["sort"]`), else read from the query;
    `count_key` names the list for `count_capped`. `known_total`: the count a cursor page's link carried
    from the page before (`Page.carried`), used instead of counting again; a page without a cursor counts.
    `cap`: how far to count (COUNT_CAP unless given)."""
    model = query.column_descriptions[0]["entity"]
    if sort:
        column, descending = getattr(model, sort.lstrip("-")), sort.startswith("-")
    else:
        column, descending = sort_of(query)
    after_cursor = parse_cursor(after, column) if after else None
    before_cursor = parse_cursor(before, column) if before and after_cursor is None else None
    cap = COUNT_CAP if cap is None else cap
    if known_total is not None and 0 <= known_total <= cap + 1 and (after_cursor or before_cursor):
        total = known_total
    else:
        total = count_capped(query, cap, key=count_key)
    capped = total > cap
    total = min(total, cap)
    order_key = column
    if not capped and db.engine.dialect.name == "sqlite" and not _index_in_id_order(query, column, model):
        order_key = _sorted_after_filtering(column)
        query = query.order_by(None).order_by(order_key.desc() if descending else order_key.asc(), model.id.desc())
    pages = max(1, -(-total // size))
    has_prev = has_next = False
    if (after or before) and after_cursor is None and before_cursor is None:
        page = 1  # a cursor that is none: the first page, whatever number came with it
    if after_cursor is not None:
        rows = _seek_rows(query, _seek(column, descending, after_cursor, True, model), size + 1)
        page, has_prev, has_next = max(page, 2), True, len(rows) > size
        rows = rows[:size]
        if not rows:  # past the last row (a cursor made up): the first page, as for one that does not parse
            after_cursor, page = None, 1
    elif before_cursor is not None:
        rows = _seek_rows(_reversed(query, order_key, descending, model),
                          _seek(column, descending, before_cursor, False, model), size + 1)
        has_prev, has_next = len(rows) > size, True
        rows = rows[:size][::-1]
        page = max(page, 2) if has_prev else 1
        if not has_prev and len(rows) < size:  # back at the start (rows were added since): the whole first page
            before_cursor, page = None, 1
    if after_cursor is None and before_cursor is None:
        if page > 1 and not capped:
            page = min(page, pages)
        rows = _fetch(query, size + 1, (page - 1) * size) if page > 1 else []
        if not rows:  # the first page (or an old link past the end of a capped list)
            page = 1
            rows = _fetch(query, size + 1)
        has_prev, has_next = page > 1, len(rows) > size
        rows = rows[:size]
    if capped:
        pages = max(pages, page + has_next)
    return Page(rows=rows, page=page, total=total, capped=capped, pages=pages,
                next_after=cursor_of(rows[-1], column) if has_next and rows else None,
                prev_before=cursor_of(rows[0], column) if has_prev and rows else None)
