"""One registration per feature: its record types, pages, menu links, home panels, jobs and set-up.

A feature is a `Feature(...)`; the app, the menu, the home page and the job scheduler read them all from
here and know no feature by name. The features are listed once, in `FEATURE_MODULES`, in the order their
blueprints register, their menu links and home panels show, and their jobs are listed. Each module there
declares `FEATURE = Feature(...)` at its end. Tests and plug-ins may add more with `feature(...)` /
`register(...)`.

Only lightweight imports at the top: `jobs` imports this module to list its jobs.
"""
from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field



@dataclass
class MenuLink:
    endpoint: str
    title: object
    roles: frozenset[str]
    kwargs: dict = field(default_factory=dict)
    group: str = "admin"


@dataclass
class HomePanel:
    template: str
    roles: frozenset[str]


@dataclass(frozen=True)
class Job:
    name: str
    func: str                      # "module:function"
    cron: dict = field(default_factory=dict)   # APScheduler cron trigger fields
    description: str = ""
    reminder: bool = False         # sends reminders: only on working days in working hours


@dataclass
class Feature:
    name: str
    types: tuple[str, ...] = ()    # modules that declare record types (registry.register at import)
    blueprints: Callable[[], Iterable] | list = field(default_factory=list)  # a callable: imported when registered
    menu: list[MenuLink] = field(default_factory=list)
    home_panels: list[HomePanel] = field(default_factory=list)
    jobs: list[Job] = field(default_factory=list)
    init_app: Callable | None = None  # called with the app after every feature's blueprints are registered
    visitor_home: Callable | None = None  # the view `/` shows a visitor who is not logged in (the first one wins)

    def blueprint_list(self) -> list:
        return list(self.blueprints() if callable(self.blueprints) else self.blueprints)


# THE list of features, in order. Each module is imported in this order (record types register in it).
FEATURE_MODULES: tuple[str, ...] = (
    "app.catalogue",
    "app.admin",
    "app.holidays_views",
    "app.case_reports",
    "app.status",
    "app.cases",
    "app.complaints",
    "app.public",
    "app.database",
    "app.notifications",
    "app.backup",
    "app.ratings",
    "app.bad_reviews",
    "app.rating_stats",
    "app.leave",
    "app.queue",
    "app.appointments",
    "app.home_visits",
    "app.roster",
    "app.attendance",
    "app.extended_hours",
    "app.accountability",
    "app.village",
    "app.agency",
)

FEATURES: list[Feature] = []
_state = {"loaded": False, "loading": False}


def load_features() -> list[Feature]:
    """Import the feature modules once and return every feature, the listed ones first."""
    if _state["loaded"] or _state["loading"]:  # loading: a feature module asked during its own import
        return FEATURES
    _state["loading"] = True
    try:
        listed = []
        for name in FEATURE_MODULES:
            module = importlib.import_module(name)
            own = getattr(module, "FEATURE", None)
            if own is None:
                raise RuntimeError(f"{name} is listed in FEATURE_MODULES but declares no FEATURE")
            listed.append(own)
        _check_unique([*listed, *FEATURES])
        FEATURES[:0] = listed  # features registered before the load (plug-ins) stay after the listed ones
        _state["loaded"] = True
    finally:
        _state["loading"] = False
    return FEATURES


def register(item: Feature) -> Feature:
    """Add a feature (a plug-in, a test) after the listed ones."""
    load_features()
    _check_unique([*FEATURES, item])
    FEATURES.append(item)
    return item


def unregister(name: str) -> None:
    FEATURES[:] = [f for f in FEATURES if f.name != name]


def feature(name: str, **declaration) -> Feature:
    """Declare and register a feature: `feature("x", menu=[...], home_panels=[...])`."""
    return register(Feature(name, **declaration))


def _check_unique(features: list[Feature]) -> None:
    for what, names in (("feature", [f.name for f in features]),
                        ("job", [j.name for f in features for j in f.jobs])):
        doubles = sorted({n for n in names if names.count(n) > 1})
        if doubles:
            raise RuntimeError(f"{what} declared twice: {', '.join(doubles)}")


def type_modules() -> list[str]:
    return [module for f in load_features() for module in f.types]


def blueprints() -> list:
    return [bp for f in load_features() for bp in f.blueprint_list()]


def menu_links() -> list[MenuLink]:
    return [link for f in load_features() for link in f.menu]


def home_panels() -> list[HomePanel]:
    return [panel for f in load_features() for panel in f.home_panels]


def jobs() -> list[Job]:
    return [j for f in load_features() for j in f.jobs]


def visitor_home() -> Callable | None:
    return next((f.visitor_home for f in load_features() if f.visitor_home), None)


def init_app(app) -> None:
    """Register every feature's blueprints, then run each feature's own set-up, in feature order."""
    for bp in blueprints():
        app.register_blueprint(bp)
    for f in load_features():
        if f.init_app is not None:
            f.init_app(app)
