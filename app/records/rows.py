"""Table rows as HTML, written in Python: the list page's rows and the worklist's. The same cells the
templates wrote (first column links to the record, ID numbers masked unless the reader may unmask them, the
centre, the state and its flags, the steps one may take), but a row costs a few string joins instead of a
dozen template calls, and each label is translated once a page, not once a row."""
from __future__ import annotations

from flask import url_for
from flask_babel import gettext as _
from markupsafe import Markup, escape


class _Badges:
    """A record's state badge, its flags and the void mark (the `state_badge` macro, for many rows)."""

    def __init__(self, rtype):
        workflow = rtype.workflow
        self.states = {s.name: (s.css, escape(str(s.title))) for s in workflow.states} if workflow else None
        self.flags = rtype.flags
        self.void = Markup('<span class="badge bad">%s</span>') % _("Void")

    def __call__(self, r) -> str:
        out = []
        if self.states is not None:
            css, title = self.states.get(r.state, ("neutral", escape(r.state)))
            out.append(f'<span class="badge {css}">{title}</span>')
        if self.flags:
            out += [f'<span class="badge {escape(c)}">{escape(label)}</span>' for label, c in self.flags(r)]
        if r.voided:
            out.append(self.void)
        return " ".join(out)


def _record_base(rtype) -> str:
    return url_for("records.view", key=rtype.key, record_id=0)[:-1]   # "/r/<key>/": the record's id follows


def row_renderer(rtype, *, show_id: bool, centers, unmask):
    """A function record → the <tr> of the list table (Markup)."""
    base = _record_base(rtype)
    fields = [(f, Markup(f'<td class="k-{f.kind} col-{f.name}">'), f.kind == "idno") for f in rtype.list_fields]
    badges = _Badges(rtype) if rtype.workflow else None
    centre_names = {c.id: escape(c.name) for c in centers or ()}

    def render(r) -> Markup:
        href = f"{base}{r.id}"
        out = ['<tr class="void">' if r.voided else "<tr>"]
        if show_id:
            out.append(f'<td><a href="{href}">{r.id}</a></td>')
        for i, (f, td, idno) in enumerate(fields):
            text = getattr(r, f.name) if idno and unmask(r) else f.display(r)
            if i == 0:
                out.append(f'{td}<a href="{href}">{escape(text or ("" if show_id else f"#{r.id}"))}</a></td>')
            else:
                out.append(f"{td}{escape(text or '')}</td>")
        if centers:
            out.append(f"<td>{centre_names.get(r.center_id) or escape(r.center.name)}</td>")
        if badges is not None:
            out.append(f"<td>{badges(r)}</td>")
        out.append("</tr>")
        return Markup("".join(out))
    return render


def worklist_rows(items) -> Markup:
    """The worklist's rows: type, record, state, and a button for each step the reader may take."""
    from app.records import step_url
    per_type: dict = {}
    titles: dict = {}
    out = []
    for item in items:
        rtype, record = item.rtype, item.record
        if rtype.key not in per_type:
            per_type[rtype.key] = (escape(str(rtype.title)), _record_base(rtype), _Badges(rtype))
        title, base, badges = per_type[rtype.key]
        steps = []
        for t in item.transitions:
            if id(t) not in titles:
                titles[id(t)] = escape(str(t.title))
            href = f"{base}{record.id}/t/{t.name}" if not t.view else step_url(rtype, record, t)
            steps.append(f'<a class="button small {t.css}" href="{escape(href)}">{titles[id(t)]}</a>')
        out.append(f'<tr><td>{title}</td><td><a href="{base}{record.id}">{escape(str(record))}</a></td>'
                   f'<td>{badges(record)}</td><td>{" ".join(steps)}</td></tr>')
    return Markup("\n".join(out))
