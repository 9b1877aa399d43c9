"""The records a user may see: one rule for lists, detail pages, exports and printouts."""
from __future__ import annotations

import re

from flask import abort, has_request_context
from sqlalchemy import Select, String, and_, cast, false, func, or_, select, union_all

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
    readable = readable_center_ids(rtype, user)
    if not has_request_context() or getattr(access.current_user, "id", None) != getattr(user, "id", None):
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
    return or_(*parts) if parts else false()


def get_or_404(rtype: RecordType, record_id: int, user, action: str = "read"):
    """Load → check access. Not visible: 404 (its existence is not revealed). Not allowed in any state: 403
    (what the record's present state allows is the caller's to say: 409 when nobody may now)."""
    record = db.session.scalar(visible_query(rtype, user).where(rtype.model.id == record_id))
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


def page_of(query: Select, page: int, size: int):
    total = db.session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
    pages = max(1, -(-total // size))
    page = min(max(page, 1), pages)
    rows = db.session.scalars(query.limit(size).offset((page - 1) * size)).all()
    return rows, total, page, pages
