"""Generic pages for every declared record type: list, new, view, edit, transition, void, print, export.

Every view follows load → check access → act; the request wrapper commits or rolls back.
"""
from __future__ import annotations

import io
import re
import secrets
from app.timeutil import today

from flask import (Blueprint, Response, abort, current_app, flash, redirect, render_template, request,
                   url_for)
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.exceptions import Forbidden

from app import access, audit
from app.database import writes
from app.extensions import db
from app.params import parse_id, parse_int, parse_page
from app.records import query as rq
from app.records import operations
from app.records.forms import build_form, conceal_id_numbers, may_unmask
from app.records.registry import REGISTRY, RecordType, Refused
from app.records.workflow import available, edit_refusal, not_in_this_state, refusal

bp = Blueprint("records", __name__, url_prefix="/r")


def _type_or_404(key: str) -> RecordType:
    rtype = REGISTRY.get(key)
    if rtype is None:
        abort(404)
    return rtype


def _is_htmx() -> bool:
    return request.headers.get("HX-Request") == "true" and request.headers.get("HX-Boosted") != "true"


@bp.before_request
@login_required
def _login_first():
    return None


# ---------------------------------------------------------------- list and export

@bp.route("/<key>/")
def list_view(key):
    rtype = _type_or_404(key)
    if not rq.readable_center_ids(rtype, current_user):
        abort(403)
    query, active = rq.filtered_query(rtype, current_user, request.args)
    # Next/Previous carry the cursor of the last/first row shown (an index range, not OFFSET); `page`
    # alone is an old link or the number shown: see app/records/query.py, "pages of a list".
    pager = rq.page_of(query, parse_page(request.args.get("page")), current_app.config["PAGE_SIZE"],
                       sort=active["sort"], after=request.args.get("after"), before=request.args.get("before"),
                       known_total=parse_int(request.args.get("n")),
                       cap=rq.SEARCH_COUNT_CAP if active.get("q") else rq.COUNT_CAP,
                       count_key=(rtype.key, current_user.id, tuple(rq.listed_center_ids(rtype, current_user)), today(),
                                  repr(sorted((k, str(v)) for k, v in active.items() if k != "sort"))))
    ctx = dict(rtype=rtype, rows=pager.rows, total=pager.total, page=pager.page, pages=pager.pages, pager=pager,
               active=active, can_create=_can_create(rtype),
               filter_choices={} if _is_htmx() else _filter_choices(rtype),  # the table alone shows no filters
               unmask=lambda r: may_unmask(rtype, current_user, r.center_id),
               centers=_readable_centers(rtype), show_id=_own_number(rtype) is None)
    if _is_htmx():
        return render_template("records/_table.html", **ctx)
    return render_template("records/list.html", **ctx)


def _own_number(rtype):
    """The type's own number (受理编号, window number) when it has one in its list: lists and exports lead
    with it and the internal id stays out of sight (the number links to the record)."""
    return next((f for f in rtype.list_fields if f.name == "number" or f.name.endswith("_no")), None)


def _readable_centers(rtype):
    ids = rq.listed_center_ids(rtype, current_user)
    if len(ids) < 2:
        return []
    return access.centre_directory().entries(ids)


def _choice_centers(rtype):
    """Centres whose windows, departments and staff the list's filters offer: those the list shows;
    the county centre itself only when it is the only one (its supervisors own no township records)."""
    centers = access.centre_directory().entries(rq.listed_center_ids(rtype, current_user))
    below = [c for c in centers if c.kind != "county"]
    return below or centers


def _filter_choices(rtype):
    centers = _choice_centers(rtype)
    several = len(centers) > 1

    def gather(pick):
        seen, out = set(), []
        for center in centers:
            for value, label in pick(center.id):
                if value not in seen:
                    seen.add(value)
                    out.append((value, f"{center.name} · {label}" if several else label))
        return out

    out = {}
    for f in rtype.filter_fields:
        choices = f.k.filter_choices(f, gather)
        if choices is not None:
            out[f.name] = choices
    return out


@bp.route("/<key>/export.xlsx")
def export_view(key):
    """The list as filtered on screen, as an Excel workbook (same visibility rule as the list)."""
    from openpyxl import Workbook

    from app.xlsx import append_row

    rtype = _type_or_404(key)
    centers = rq.readable_center_ids(rtype, current_user)
    if not any(rtype.allows("export", access.roles_in(current_user, c)) for c in centers):
        abort(403)
    centers = rq.listed_center_ids(rtype, current_user)  # the centre chosen in the header
    query, _active = rq.filtered_query(rtype, current_user, request.args)
    allowed = [c for c in centers if rtype.allows("export", access.roles_in(current_user, c))]
    query = query.where(rtype.model.center_id.in_(allowed))
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(re.sub(r"[\\/*?:\[\]]", " ", str(rtype.title_plural))[:31])
    fields = rtype.list_fields
    show_id = _own_number(rtype) is None
    append_row(ws, [*([_("No.")] if show_id else []), *[str(f.label) for f in fields],
                    *([_("State")] if rtype.workflow else [])])
    for record in db.session.scalars(query.limit(100_000)):
        values = [_cell(rtype, f, record) for f in fields]
        state = rtype.workflow.state(record.state) if rtype.workflow else None
        append_row(ws, [*([record.id] if show_id else []), *values,
                        *([str(state.title) if state else record.state] if rtype.workflow else [])])
    buf = io.BytesIO()
    wb.save(buf)
    name = f"{rtype.key}-{today().isoformat()}.xlsx"
    return Response(buf.getvalue(), headers={"Content-Disposition": f"attachment; filename={name}"},
                    mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")


LEDGER_MAX_ROWS = 5000


@bp.route("/<key>/ledger")
@bp.route("/<key>/ledger.pdf", endpoint="ledger_pdf")
def ledger_view(key):
    """The list as filtered on screen, as a printable paper ledger (台账): print view or A4 PDF."""
    import printouts

    rtype = _type_or_404(key)
    centers = rq.readable_center_ids(rtype, current_user)
    allowed = [c for c in centers if rtype.allows("print", access.roles_in(current_user, c))]
    if not allowed:
        abort(403)
    query, active = rq.filtered_query(rtype, current_user, request.args)
    rows = db.session.scalars(query.where(rtype.model.center_id.in_(allowed)).limit(LEDGER_MAX_ROWS + 1)).all()
    # Columns: the type's declared ledger columns (a name, or a pair: a value and the one that replaced it).
    columns = [[rtype.field(n) for n in ((e,) if isinstance(e, str) else e)] for e in rtype.ledger_columns] \
        if rtype.ledger_columns else [[f] for f in rtype.list_fields]
    ctx = dict(rtype=rtype, rows=rows[:LEDGER_MAX_ROWS], truncated=len(rows) > LEDGER_MAX_ROWS, active=active,
               columns=columns, filter_words=_ledger_filter_words(rtype, active),
               today=today(), center=access.current_center(), page_orientation="landscape",
               unmask=lambda r: may_unmask(rtype, current_user, r.center_id),
               pdf_url=url_for("records.ledger_pdf", key=key, **request.args))
    if request.endpoint == "records.ledger_pdf":
        from printouts.ledger_pdf import build_ledger_pdf  # ReportLab platypus: 2,000 rows in seconds
        return Response(build_ledger_pdf(**ctx), mimetype="application/pdf",
                        headers={"Content-Disposition": f"inline; filename={key}-ledger.pdf"})
    return printouts.render_html("print/ledger.html", **ctx)


def _ledger_filter_words(rtype, active) -> list[tuple[str, str]]:
    """The filter a ledger was printed with, in words for its header: (label, value) pairs."""
    from functools import cache

    from models.core import Center
    words = []
    if active.get("q"):
        words.append((_("Search"), f"“{active['q']}”"))
    if active.get("view") and rtype.view(active["view"]):
        words.append((_("Quick view"), str(rtype.view(active["view"]).title)))
    if active.get("state") and rtype.workflow:
        state = rtype.workflow.state(active["state"])
        words.append((_("State"), str(state.title) if state else active["state"]))
    if active.get("center"):
        center = db.session.get(Center, active["center"])
        words.append((_("Centre"), center.name if center else str(active["center"])))
    choices = cache(lambda: _filter_choices(rtype))  # the list's choices, looked up once if at all
    for f in rtype.filter_fields:
        text = f.k.filter_words(f, active, choices)
        if text is not None:
            words.append((str(f.label), text))
    if active.get("void"):
        words.append((_("Show void"), _("Yes")))
    return words


def _cell(rtype, f, record):
    return f.k.cell(f, record, getattr(record, f.name, None), may_unmask(rtype, current_user, record.center_id))


# ---------------------------------------------------------------- create and edit

def _can_create(rtype) -> bool:
    """From the list page; a child type is created from its parent's page instead."""
    return rtype.parent is None and rtype.allows("create", access.roles_in(current_user, access.current_center_id()))


def _added_row(rtype, form) -> bool:
    """The form's "add a row" button: show one more empty row, save nothing (works without JS)."""
    name = request.form.get("add_row") if request.method == "POST" else None
    if name not in {c.name for c in rtype.children}:
        return False
    getattr(form, name).append_entry()
    return True


def _child_rows_from(rtype, record):
    data = {}
    for child in rtype.children:
        rows = [{**{f.name: getattr(row, f.name) for f in child.fields}, "row_id": row.id}
                for row in getattr(record, child.name)]
        data[child.name] = rows + [{}] * child.blank_rows
    return data


def _form_values(rtype, form) -> dict:
    """The declared fields the form shows, parsed by their kinds (computed fields are never typed), and the
    type's form options as sent (e.g. the intake's "register and accept" button)."""
    values = {name: request.form.get(name, "") for name in rtype.options}
    for f in rtype.fields:
        if f.in_form and f.name in form:
            column = rtype.model.__table__.c.get(f.name)
            values[f.name] = f.k.from_form(f, form[f.name].data, column is None or column.nullable)
    return values


def _form_rows(rtype, form) -> dict:
    """The inline rows as submitted (an unknown row id, "²" or 10**20, is a new row)."""
    return {child.name: [{**{f.name: entry.form[f.name].data for f in child.fields},
                          "row_id": parse_id(str(entry.form.row_id.data or ""))}
                         for entry in getattr(form, child.name).entries]
            for child in rtype.children}


def _show_errors(form, invalid: operations.Invalid) -> None:
    """An operation's refusal, beside the fields it names (else at the top of the form)."""
    for name, message in invalid.errors.items():
        target = form[name] if name and name in form else None
        (target.errors if target is not None else form.form_errors).append(str(message))
    for (child, index, name), message in invalid.rows.items():
        rows = getattr(form, child)
        (rows.errors if index is None else rows.entries[index].form[name].errors).append(str(message))


def _saved(rtype, record):
    for message in (rtype.warnings(rtype.ctx(record, current_user)) if rtype.warnings else []):
        flash(str(message), "warning")
    flash(_("Saved."), "success")
    return redirect(url_for("records.view", key=rtype.key, record_id=record.id))


def _parent_of(rtype):
    """The parent record a child type is created under (?case_id=…), checked like any record."""
    if rtype.parent is None:
        return None
    column, model = rtype.parent
    from app.records.registry import for_model
    parent_id = parse_id(request.args.get(column))  # None for "²" or a number no id can be: 404
    if not parent_id:
        abort(404)
    return rq.get_or_404(for_model(model), parent_id, current_user)


@bp.route("/<key>/new", methods=["GET", "POST"])
def new_view(key):
    rtype = _type_or_404(key)
    parent = _parent_of(rtype)
    center_id = parent.center_id if parent is not None else access.current_center_id()
    if not rtype.allows("create", access.roles_in(current_user, center_id)):
        abort(403)
    form_class = build_form(rtype, center_id)
    if request.method == "GET":
        prefill = {k: v for k, v in request.args.items() if rtype.field(k)}
        if rtype.prefill is not None:
            prefill.update(rtype.prefill(rtype.ctx(None, current_user, center_id, values=request.args)))
        form = form_class(formdata=None, data={
            "form_token": secrets.token_hex(16),
            **{c.name: [{}] * max(c.blank_rows, c.min_rows) for c in rtype.children}, **prefill})
    else:
        form = form_class()
        # The same form sent again (a double click, or Back then Save): never a second record, whatever
        # the form holds now; the record this form made, saying so.
        done = operations.submitted_before(rtype, form.form_token.data)
        if done is not None:
            return _saved_already(key, done.record_id)
    if _added_row(rtype, form):
        return render_template(rtype.template_form, rtype=rtype, form=form, record=None, parent=parent)
    if form.validate_on_submit():
        try:
            record = operations.create(rtype, current_user, _form_values(rtype, form), center_id=center_id,
                                       children=_form_rows(rtype, form), parent=parent, token=form.form_token.data)
        except operations.AlreadySaved as done:
            return _saved_already(key, done.record_id)
        except operations.Invalid as invalid:
            _show_errors(form, invalid)
        except Refused as refused:  # a step the new record takes at once (register and accept) said no
            db.session.rollback()
            _show_errors(form, operations.Invalid({refused.field or "": refused.message}))
        else:
            return _saved(rtype, record)
    return render_template(rtype.template_form, rtype=rtype, form=form, record=None, parent=parent)


def _saved_already(key: str, record_id: int):
    flash(_("This form was saved already; here is the record it created. Nothing was saved twice."), "info")
    return redirect(url_for("records.view", key=key, record_id=record_id))


@bp.route("/<key>/<int:record_id>/edit", methods=["GET", "POST"])
def edit(key, record_id):
    rtype = _type_or_404(key)
    record = rq.get_or_404(rtype, record_id, current_user, "edit")
    if record.voided or not rtype.anyone_may("edit", getattr(record, "state", None)):
        return _not_now(rtype, record)
    reason = edit_refusal(rtype, record, current_user)
    if reason:  # this state's rights, then the type's rule (e.g. only the first-responsible clerk or a manager)
        return render_template("errors/error.html", error=Forbidden(), reason=str(reason),
                               back=url_for("records.view", key=key, record_id=record_id)), 403
    form_class = build_form(rtype, record.center_id)
    show_full = may_unmask(rtype, current_user, record.center_id)
    if request.method == "GET":
        data = {f.name: getattr(record, f.name) for f in rtype.fields if f.in_form}
        for f in rtype.fields:
            if f.in_form:
                data[f.name] = f.k.form_value(f, data.get(f.name))
        form = form_class(formdata=None, data={**data, **_child_rows_from(rtype, record),
                                               "form_version": record.version})
    else:
        form = form_class()
    conceal_id_numbers(rtype, form, record, show_full)
    if _added_row(rtype, form):
        return render_template(rtype.template_form, rtype=rtype, form=form, record=record)
    if form.validate_on_submit():
        if str(form.form_version.data) != str(record.version):
            form.form_errors.append(_("Someone else saved this record after you opened it. "
                                      "Reload the page to see their changes, then edit again."))
        else:
            try:
                operations.update(rtype, record, current_user, _form_values(rtype, form), _form_rows(rtype, form))
            except StaleDataError:
                db.session.rollback()
                flash(_("Someone else saved this record at the same moment; nothing was changed."), "error")
                return redirect(url_for("records.view", key=key, record_id=record_id))
            except (operations.Invalid, Refused) as invalid:
                if isinstance(invalid, Refused):
                    invalid = operations.Invalid({invalid.field or "": invalid.message})
                _show_errors(form, invalid)
                db.session.rollback()
                record = rq.get_or_404(rtype, record_id, current_user, "edit")
                conceal_id_numbers(rtype, form, record, show_full)
            else:
                return _saved(rtype, record)
    return render_template(rtype.template_form, rtype=rtype, form=form, record=record)


def _not_now(rtype, record, reason: str | None = None):
    """A change the record's state does not allow: say so (409 Conflict), not "you may not" (403)."""
    from werkzeug.exceptions import Conflict
    if reason is None:
        reason = _("This record is void.") if record.voided else not_in_this_state(rtype, record)
    return render_template("errors/error.html", error=Conflict(), reason=reason,
                           back=url_for("records.view", key=rtype.key, record_id=record.id)), 409


# ---------------------------------------------------------------- view, transitions, void

@bp.route("/<key>/<int:record_id>")
def view(key, record_id):
    rtype = _type_or_404(key)
    record = rq.get_or_404(rtype, record_id, current_user, options=rtype.view_options)
    roles = access.roles_in(current_user, record.center_id)
    return render_template(
        rtype.template_view, rtype=rtype, record=record,
        trail=audit.described(rtype, record, may_unmask(rtype, current_user, record.center_id)),
        transitions=[] if record.voided else available(rtype, record, current_user),
        can_edit=not record.voided and edit_refusal(rtype, record, current_user) is None,
        can_void=not record.voided and rtype.may("void", current_user, record),
        prints=_printable(rtype, record, roles),
        opinions=operations.opinions(record) if rtype.workflow and rtype.workflow.chains else [],
        notices=_notices(rtype, record),
        unmask=may_unmask(rtype, current_user, record.center_id))


def _notices(rtype, record) -> list:
    """The type's warnings about a record still in progress, on its page: what the next person to act on it
    should know (a leave that would empty a post), not only its author right after saving."""
    if rtype.warnings is None or record.voided or _is_final(rtype, record):
        return []
    return [str(m) for m in rtype.warnings(rtype.ctx(record, current_user))]


def _is_final(rtype, record) -> bool:
    state = rtype.workflow.state(record.state) if rtype.workflow else None
    return bool(state and state.final)


def _printable(rtype, record, roles):
    """The paper forms this user may print of the record now: the form's roles, else the state's print right."""
    out = []
    state = getattr(record, "state", None)
    for p in rtype.prints:
        allowed = p.roles if p.roles is not None else rtype.rights_in(state).get("print", frozenset())
        if (rtype.grants(allowed, current_user, record, roles) and (p.states is None or state in p.states)
                and not record.voided
                and (p.when is None or p.when(record))):
            out.append(p)
    return out


@bp.route("/<key>/<int:record_id>/t/<name>", methods=["GET", "POST"])
def transition(key, record_id, name):
    rtype = _type_or_404(key)
    record = rq.get_or_404(rtype, record_id, current_user)
    step = rtype.workflow.transition(name) if rtype.workflow else None
    if step is None:
        abort(404)
    if step.view and request.method == "GET":
        return redirect(url_for(step.view, record_id=record.id))   # the step has a page of its own
    if request.method == "POST" and _older_version(request.form.get("form_version"), record.version):
        return _handled_by_someone_else(key, record_id)  # before "may I?": the answer changed with the record
    if step not in available(rtype, record, current_user):
        # Say why (e.g. someone else took this step a moment ago), with the way back to the record.
        reason = refusal(rtype, record, step, current_user)
        if not record.voided and record.state in step.source:  # who may (roles, guards): 403
            return render_template("errors/error.html", error=Forbidden(), reason=reason,
                                   back=url_for("records.view", key=key, record_id=record_id)), 403
        return _not_now(rtype, record, reason)
    form_class = build_form(rtype, record.center_id, field_names=list(step.fields), with_children=False)
    from wtforms import TextAreaField
    form_class.comment = TextAreaField(_("Comment"))
    if request.method == "GET":
        form = form_class(formdata=None, data={**{f: getattr(record, f) for f in step.fields},
                                               "form_version": record.version})
    else:
        form = form_class()
    if form.validate_on_submit():
        if str(form.form_version.data) != str(record.version):
            return _handled_by_someone_else(key, record_id)
        values = {}
        for f in step.fields:
            fdecl = rtype.field(f)
            if f not in request.form and not (fdecl and fdecl.k.posted_when_absent):
                continue  # not submitted (an unticked box is, as False): the record keeps what it has
            value = form[f].data
            # A step never clears a choice to None: "—" leaves it "" (nullable=False).
            values[f] = fdecl.k.from_form(fdecl, value, nullable=False) if fdecl else value
        try:
            operations.transition(rtype, record, name, current_user, values, form.comment.data or "")
        except Refused as refused:
            db.session.rollback()
            record = rq.get_or_404(rtype, record_id, current_user)
            target = form[refused.field] if refused.field and refused.field in form else None
            (target.errors if target is not None else form.form_errors).append(refused.message)
        except StaleDataError:
            db.session.rollback()
            flash(_("Someone else acted on this record at the same moment; nothing was changed."), "error")
            return redirect(url_for("records.view", key=key, record_id=record_id))
        else:
            flash(_("Done: %(step)s.", step=step.title), "success")
            return redirect(url_for("records.view", key=key, record_id=record_id))
    return render_template("records/transition.html", rtype=rtype, record=record, step=step, form=form)


def _older_version(submitted, current) -> bool:
    return bool(submitted) and submitted.isascii() and submitted.isdigit() and int(submitted) < current


def _handled_by_someone_else(key, record_id):
    """The loser of a simultaneous step: told so, and shown the record as it is now (not a 403 or 409)."""
    flash(_("This record has already been handled by someone else; look at it again before you act."), "error")
    return redirect(url_for("records.view", key=key, record_id=record_id))


@bp.route("/<key>/<int:record_id>/void", methods=["GET", "POST"])
def void(key, record_id):
    from forms.records import VoidForm

    rtype = _type_or_404(key)
    record = rq.get_or_404(rtype, record_id, current_user, "void")
    if record.voided:
        return _not_now(rtype, record)
    if not rtype.may("void", current_user, record):
        return _not_now(rtype, record) if not rtype.anyone_may("void", record.state) else abort(403)
    form = VoidForm()
    if form.validate_on_submit():
        operations.void(rtype, record, current_user, form.reason.data)
        flash(_("The record is void; it stays on file with the reason."), "success")
        return redirect(url_for("records.view", key=key, record_id=record_id))
    return render_template("records/void.html", rtype=rtype, record=record, form=form)


# ---------------------------------------------------------------- printouts

@bp.route("/<key>/<int:record_id>/print/<name>", methods=["GET", "POST"])
@bp.route("/<key>/<int:record_id>/print/<name>.pdf", endpoint="print_pdf")
def print_view(key, record_id, name):
    """A printout. GET only reads (never @writes): it shows the number the form already has. A numbered
    form gets its number by POST ("出具并编号"), committed at once, then back to the print view; a reprint
    keeps it. The PDF is rendered with no write transaction open, so a long render blocks no clerk."""
    import printouts
    from app.numbering import issued_number, number_for

    rtype = _type_or_404(key)
    record = rq.get_or_404(rtype, record_id, current_user)
    form = next((p for p in _printable(rtype, record, access.roles_in(current_user, record.center_id))
                 if p.name == name), None)
    if form is None:
        abort(404 if all(p.name != name for p in rtype.prints) else 403)
    here = url_for("records.print_view", key=key, record_id=record_id, name=name)
    if request.method == "POST":
        if form.form_type:
            try:
                number_for(record, form)
                db.session.commit()  # its own short transaction, before anything is rendered
            except IntegrityError:  # someone issued it at the same moment: theirs stands, ours rolls back
                db.session.rollback()
        return redirect(here, 303)
    number = issued_number(record, form) if form.form_type else ""
    if form.form_type and not number and request.endpoint == "records.print_pdf":
        return redirect(here)  # the print view offers "出具并编号"
    ctx = dict(record=record, rtype=rtype, number=number, today=today(), form=form,
               issue_url=here if form.form_type and not number else None)
    if request.endpoint == "records.print_pdf":
        pdf = printouts.render_pdf(form.template, **ctx)
        filename = f"{rtype.key}-{record.id}-{name}.pdf"
        return Response(pdf, mimetype="application/pdf",
                        headers={"Content-Disposition": f"inline; filename={filename}"})
    return printouts.render_html(form.template, **ctx)
