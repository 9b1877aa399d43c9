"""A server that starts when something is wrong, says in Chinese what is wrong, and keeps serving what it can."""
from __future__ import annotations

import logging
import sqlite3

import psycopg.errors
import pytest
from sqlalchemy.exc import InternalError, OperationalError

from app import create_app
from app.extensions import db as _db
from tests.conftest import PASSWORD, RequestClient, make_center, make_user
from tests.test_printouts import no_fonts, serve_without_serving  # noqa: F401  (shared fixtures)


@pytest.fixture
def no_jobs_child(monkeypatch):
    """`serve` may try to start the jobs child: record it instead of starting a process."""
    started = []
    monkeypatch.setattr("app.cli.start_jobs_process", lambda argv: started.append(argv))
    monkeypatch.setattr("app.cli.lan_address", lambda: "192.168.1.20")
    return started


def test_serve_starts_without_a_cjk_font_and_says_pdfs_are_unavailable(serve_without_serving, no_fonts,
                                                                         no_jobs_child):
    app = serve_without_serving
    result = app.test_cli_runner().invoke(args=["serve"])
    assert result.exit_code == 0, result.output
    assert "PDF" in result.output and "不可用" in result.output
    assert no_jobs_child, "the jobs child still starts: only PDFs are missing"
    problems = app.extensions["startup_problems"]
    assert any("PDF" in p and "浏览器打印页仍可使用" in p for p in problems)


def test_serve_starts_on_a_read_only_database_in_read_only_mode(serve_without_serving, no_jobs_child,
                                                               monkeypatch, tmp_path):
    # The tests run as root, where chmod does not stop a write, so the read-only file is simulated with
    # SQLite's own read-only open (?mode=ro): every write fails exactly as on a read-only file or folder.
    if _db.engine.dialect.name != "sqlite":
        pytest.skip("a read-only SQLite file; PostgreSQL's read-only answer is tested with the storage errors")
    upgrades = []
    monkeypatch.setattr("flask_migrate.upgrade", lambda **kw: upgrades.append(kw))
    make_user(make_center(), "admin", username="ro_admin")
    _db.session.commit()
    ro_url = f"sqlite:///file:{tmp_path / 'test.sqlite3'}?mode=ro&uri=true"
    ro_app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": ro_url, "WTF_CSRF_ENABLED": False,
                         "SECRET_KEY": "test"})
    ro_app.test_client_class = RequestClient
    with ro_app.app_context():
        try:
            result = ro_app.test_cli_runner().invoke(args=["serve"])
            assert result.exit_code == 0, result.output
            assert "只读" in result.output
            assert upgrades == [], "no migration on a database that cannot be written"
            assert no_jobs_child == [], "no jobs process: every job writes"
            assert ro_app.config["READ_ONLY"]
            assert any("只读" in p for p in ro_app.extensions["startup_problems"])

            client = ro_app.test_client()
            assert client.get("/login").status_code == 200
            assert client.post("/login", data={"username": "ro_admin", "password": PASSWORD}).status_code == 302
            page = client.post("/password", data={"current": PASSWORD, "new": "a-much-longer-pass-9",
                                                  "confirm": "a-much-longer-pass-9"})
            assert page.status_code == 503
            assert "系统处于只读模式：" in page.get_data(as_text=True)
        finally:
            _db.session.remove()
            _db.engine.dispose()


@pytest.mark.parametrize("error, words", [
    (OperationalError("COMMIT", {}, sqlite3.OperationalError("database or disk is full")), "磁盘"),
    (OperationalError("COMMIT", {}, sqlite3.OperationalError("attempt to write a readonly database")), "权限"),
    (OperationalError("COMMIT", {}, psycopg.errors.DiskFull("could not extend file")), "磁盘"),
    (InternalError("COMMIT", {}, psycopg.errors.ReadOnlySqlTransaction("read-only transaction")), "只读"),
], ids=["sqlite-full", "sqlite-readonly", "pg-full", "pg-readonly"])
def test_a_write_on_a_full_disk_shows_the_chinese_error_page(app, auth, client, monkeypatch, caplog, error, words):
    user = make_user(make_center(), "clerk")
    _db.session.commit()
    auth.login(user)
    app.config["PROPAGATE_EXCEPTIONS"] = False  # as in production: the test client would re-raise otherwise

    def full_disk():
        raise error
    monkeypatch.setattr(_db.session, "commit", full_disk)  # the request's one commit, after the view
    with caplog.at_level(logging.ERROR):
        page = client.post("/password", data={"current": PASSWORD, "new": "a-much-longer-pass-9",
                                              "confirm": "a-much-longer-pass-9"})
    text = page.get_data(as_text=True)
    assert page.status_code == 503
    assert words in text and "未保存" in text
    assert "Internal Server Error" not in text
    assert any("storage" in r.getMessage().lower() for r in caplog.records)


def test_administrators_see_the_startup_problems_banner(serve_without_serving, no_fonts, no_jobs_child, auth,
                                                        client):
    app = serve_without_serving
    center = make_center(code="banner")
    admin = make_user(center, "admin")
    director = make_user(center, "director")
    clerk = make_user(center, "clerk")
    _db.session.commit()
    who = [(admin.username, True), (director.username, True), (clerk.username, False)]
    assert app.test_cli_runner().invoke(args=["serve", "--no-jobs"]).exit_code == 0
    for username, sees in who:
        auth.login(username)
        text = client.get("/").get_data(as_text=True)
        assert ("startup-problems" in text) is sees, username
        assert ("无法生成 PDF" in text) is sees, username
        auth.logout()


def test_a_read_only_instance_folder_gives_a_key_for_this_run_only(monkeypatch, tmp_path, capsys):
    # As root, chmod would not stop the write: the refusal a read-only folder gives is simulated.
    from pathlib import Path

    from app.config import from_environment

    def refuse(*_a, **_kw):
        raise PermissionError(13, "Permission denied")
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.setenv("HALL_INSTANCE", str(tmp_path))
    monkeypatch.setattr(Path, "write_text", refuse)
    config = from_environment()
    assert len(config["SECRET_KEY"]) >= 32
    assert from_environment()["SECRET_KEY"] != config["SECRET_KEY"], "a fresh key per run, none stored"
    assert "重新启动" in config["SECRET_KEY_PROBLEM"]
    assert "SECRET_KEY" in capsys.readouterr().err
