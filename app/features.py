"""One registration per feature: its record types, pages, menu links, home panels, jobs and set-up.

A feature is a `Feature(...)`; the app, the menu, the home page and the job scheduler read them all from
here and know no feature by name. The features are listed once, in `FEATURE_MODULES`, in the order their
blueprints register, their menu links and home panels show, and their jobs are listed. A module there
declares `FEATURE = Feature(...)` at its end; the modules that do not (yet) carry their own are declared in
`_DECLARED_HERE` below (move one into its module by deleting it here). Tests and plug-ins may add more with
`feature(...)` / `register(...)`.

Only lightweight imports at the top: `jobs` imports this module to list its jobs.
"""
from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from flask_babel import lazy_gettext as _l


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


def _blueprint_of(module: str) -> Callable[[], list]:
    """The module's `bp`, imported only when the app registers it."""
    return lambda: [importlib.import_module(module).bp]


def _visitor_home() -> object:
    from app.public import public_home
    return public_home()


STAFF_CASE_ROLES = frozenset({"clerk", "deputy", "director", "leader", "county", "admin"})

# Features whose module does not declare FEATURE itself, by module name.
_DECLARED_HERE: dict[str, Feature] = {
    "app.catalogue": Feature(
        "catalogue", types=("app.catalogue",),
        jobs=[Job("empty_posts", "jobs.catalogue_jobs:empty_posts", {"day_of_week": "*", "hour": 8, "minute": 40},
                  "Tell directors about A/B posts with nobody to staff them (空岗)", reminder=True)]),
    "app.admin": Feature(
        "admin", blueprints=_blueprint_of("app.admin"),
        menu=[MenuLink("admin.users", _l("Users"), frozenset({"admin"})),
              MenuLink("admin.centers", _l("Centres"), frozenset({"admin"}))]),
    "app.holidays_views": Feature(
        "holidays", blueprints=_blueprint_of("app.holidays_views"),
        menu=[MenuLink("holidays.years", _l("Holiday schedule"), frozenset({"admin"}))]),
    "app.case_reports": Feature(
        "case_reports", blueprints=_blueprint_of("app.case_reports"),
        menu=[MenuLink("case_reports.report", _l("Monthly case report"), STAFF_CASE_ROLES, group="cases")]),
    "app.status": Feature(
        "status", blueprints=_blueprint_of("app.status"),
        menu=[MenuLink("status.lookup", _l("Public case lookup"), frozenset({"clerk", "agent", "deputy", "director"}),
                       group="cases")]),
    "app.public": Feature("public", blueprints=_blueprint_of("app.public"), visitor_home=_visitor_home),
    "app.database": Feature(
        "database",
        jobs=[Job("refresh_statistics", "jobs.housekeeping:refresh_statistics", {"hour": 2, "minute": 50},
                  "Refresh the database's query-planner statistics")]),
    "app.notifications": Feature(
        "notifications",
        jobs=[Job("purge_notifications", "jobs.housekeeping:purge_notifications", {"hour": 2, "minute": 30},
                  "Delete read notifications older than 180 days")]),
    "app.backup": Feature(
        "backup",
        jobs=[Job("backup", "jobs.backup_jobs:daily_backup", {"hour": 12, "minute": 15},
                  "Back up the database to BACKUP_DIR (30 daily and 12 monthly kept)")]),
}

# THE list of features, in order. Each module is imported in this order (record types register in it).
FEATURE_MODULES: tuple[str, ...] = (
    "app.catalogue",
    "app.admin",
    "app.holidays_views",
    "app.case_reports",
    "app.status",
    "app.cases",
    "app.public",
    "app.database",
    "app.notifications",
    "app.backup",
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
            own, here = getattr(module, "FEATURE", None), _DECLARED_HERE.get(name)
            if own is not None and here is not None:
                raise RuntimeError(f"feature of {name} declared twice: in the module and in app/features.py")
            if own is None and here is None:
                raise RuntimeError(f"{name} is listed in FEATURE_MODULES but declares no FEATURE")
            listed.append(own or here)
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
