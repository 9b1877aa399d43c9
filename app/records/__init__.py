"""The record engine: declarations (registry), forms, visibility (query), workflow, generic views."""
from __future__ import annotations

import importlib

from app.records.registry import REGISTRY  # noqa: F401

def load_record_types() -> None:
    """Import every feature's record-type modules; each calls registry.register(...) at import."""
    from app.features import type_modules
    for name in type_modules():
        importlib.import_module(name)


def check_declarations() -> None:
    """Start-up check: refuse to run with an inconsistent declaration (fields, workflow, rights, subject,
    chains, computed fields, printouts)."""
    from app.records.workflow import check_declaration
    problems = [p for rtype in REGISTRY.values() for p in check_declaration(rtype)]
    if problems:
        raise RuntimeError("inconsistent record declarations:\n" + "\n".join(problems))


def init_app(app) -> None:
    from app.records.registry import state_title
    from app.records.views import bp
    app.register_blueprint(bp)
    app.jinja_env.globals["state_title"] = state_title
    app.jinja_env.globals["step_url"] = step_url
    from app.records.rows import row_renderer, worklist_rows
    app.jinja_env.globals.update(list_row=row_renderer, worklist_rows=worklist_rows)
    from app.records.operations import opinions
    from app.access import ROLE_TITLES
    from app.records.operations import OPINION_KINDS
    app.jinja_env.globals.update(record_opinions=opinions, opinion_kinds=OPINION_KINDS, role_titles=ROLE_TITLES)


def step_url(rtype, record, step) -> str:
    """Where a step's button leads: the step's own page when the feature gives it one, else the generic form."""
    from flask import url_for
    if step.view:
        return url_for(step.view, record_id=record.id)
    return url_for("records.transition", key=rtype.key, record_id=record.id, name=step.name)
