"""One registration per feature (app/features.py): menus, home panels, blueprints, jobs and record types
all come from the features; app/web.py knows no feature by name."""
from __future__ import annotations

import ast

import pytest
from flask import url_for
from jinja2 import ChoiceLoader, DictLoader

import jobs
from app import features
from app.config import ROOT
from app.features import FEATURE_MODULES, Feature, HomePanel, MenuLink
from jobs.runner import resolve


def test_every_menu_link_resolves_to_an_endpoint(app):
    links = features.menu_links()
    assert links
    with app.test_request_context():
        for link in links:
            assert link.endpoint in app.view_functions, link.endpoint
            assert url_for(link.endpoint, **link.kwargs)


def test_every_job_function_imports():
    assert jobs.JOBS
    for spec in jobs.JOBS:
        assert callable(resolve(spec.func)), spec.func
        assert jobs.job(spec.name) is spec


def test_jobs_are_the_union_of_the_features_jobs_in_feature_order():
    names = [j.name for j in jobs.JOBS]
    assert names[:3] == ["empty_posts", "case_deadlines", "case_warnings"]  # catalogue's, then the cases'
    assert {"refresh_statistics", "purge_notifications", "backup"} <= set(names)
    assert jobs.JOBS == [j for f in features.load_features() for j in f.jobs]
    assert jobs.Job is features.Job


def test_features_are_listed_once_and_named_once():
    loaded = features.load_features()
    names = [f.name for f in loaded]
    assert len(names) == len(set(names))
    assert len(FEATURE_MODULES) == len(set(FEATURE_MODULES))


def test_blueprints_record_types_and_home_panels_come_from_the_features(app):
    for f in features.load_features():
        for bp in f.blueprint_list():
            assert app.blueprints.get(bp.name) is bp, f.name
    from app.records import REGISTRY
    assert {"cases", "matters"} <= set(REGISTRY)
    assert "cases/_home_panel.html" in [p.template for p in features.home_panels()]
    endpoints = [link.endpoint for link in features.menu_links()]
    assert endpoints[:5] == ["admin.users", "admin.centers", "holidays.years", "case_reports.report", "status.lookup"]


def test_web_imports_no_feature_module():
    tree = ast.parse((ROOT / "app" / "web.py").read_text(encoding="utf-8"))
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            imported.add(node.module or "")
            imported |= {f"{node.module}.{alias.name}" for alias in node.names}
    feature_modules = set(FEATURE_MODULES) | {t for f in features.load_features() for t in f.types}
    assert not imported & feature_modules, imported & feature_modules
    text = (ROOT / "app" / "web.py").read_text(encoding="utf-8")
    for name in ("admin", "case_reports", "holidays_views", "public", "status", "cases", "catalogue"):
        assert f"app.{name}" not in text and f"import {name}" not in text, name


@pytest.fixture
def fake_feature(app):
    app.jinja_env.loader = ChoiceLoader([
        DictLoader({"tests/_fake_panel.html": '<section id="fake-panel">Fake panel FP-17</section>'}),
        app.jinja_env.loader])
    fake = features.feature(
        "fake", menu=[MenuLink("web.my_worklist", "Fake menu entry FM-42", frozenset({"clerk"}), group="reports")],
        home_panels=[HomePanel("tests/_fake_panel.html", frozenset({"clerk"}))])
    try:
        yield fake
    finally:
        features.unregister("fake")


def test_a_registered_feature_adds_a_menu_entry_and_a_home_panel(client, auth, county, fake_feature):
    assert isinstance(fake_feature, Feature) and fake_feature in features.load_features()
    auth.login("a_clerk")
    home = client.get("/").get_data(as_text=True)
    assert "Fake panel FP-17" in home
    group = client.get("/g/reports").get_data(as_text=True)
    assert "Fake menu entry FM-42" in group and "/worklist" in group
    auth.logout()
    auth.login("a_agent")  # not one of the fake feature's roles
    assert "Fake panel FP-17" not in client.get("/").get_data(as_text=True)


def test_an_unregistered_feature_is_gone(client, auth, county):
    features.feature("gone", home_panels=[HomePanel("cases/_home_panel.html", frozenset({"agent"}))])
    features.unregister("gone")
    assert "gone" not in [f.name for f in features.load_features()]


def test_a_feature_name_or_job_declared_twice_is_refused():
    with pytest.raises(RuntimeError, match="declared twice"):
        features.feature("cases")
    with pytest.raises(RuntimeError, match="declared twice"):
        features.feature("other", jobs=[features.Job("backup", "jobs.backup_jobs:daily_backup")])
    assert [f.name for f in features.load_features()].count("cases") == 1
