"""Record types declared by the tests alone (never by the app): each module here declares one type the
way a feature would — model, declaration, sample builder — and the generated tests (access matrix,
worklist) cover it without an edit to any shared test. Their tables are marked test-only, so the
migration check leaves them out."""
from __future__ import annotations

import importlib
import pkgutil


def load() -> None:
    for module in pkgutil.iter_modules(__path__):
        importlib.import_module(f"{__name__}.{module.name}")
