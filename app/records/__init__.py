"""The record engine: declarations (registry), forms, visibility (query), workflow, generic views."""
from __future__ import annotations

import importlib

from app.records.registry import REGISTRY  # noqa: F401

# Modules that declare record types; each calls registry.register(...) at import.
TYPE_MODULES = ("app.catalogue", "app.cases")


def load_record_types() -> None:
    for name in TYPE_MODULES:
        importlib.import_module(name)


def check_all_workflows() -> None:
    """Start-up check: refuse to run with an inconsistent workflow declaration."""
    from app.records.workflow import check_workflow
    problems = [p for rtype in REGISTRY.values() for p in check_workflow(rtype)]
    if problems:
        raise RuntimeError("inconsistent workflows:\n" + "\n".join(problems))


def init_app(app) -> None:
    from app.records.registry import state_title
    from app.records.views import bp
    app.register_blueprint(bp)
    app.jinja_env.globals["state_title"] = state_title
