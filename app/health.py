"""What is wrong with this server, said in Chinese: problems found at start (no PDF font, a database that
cannot be written), read-only mode, and storage errors while running (full disk, read-only database).

`serve` adds startup problems with `add_problem`; administrators and directors see them as a banner on
every page. In read-only mode every POST gets a 503 page saying why, instead of failing half-way.
"""
from __future__ import annotations

import logging
import os
import sqlite3

from flask import current_app, has_request_context, render_template, request
from flask_babel import gettext as _
from markupsafe import escape
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from app.extensions import db

log = logging.getLogger(__name__)

PROBLEMS = "startup_problems"  # app.extensions key: list of Chinese sentences
SEE_PROBLEMS = frozenset({"admin", "director"})
# POSTs that write nothing when they succeed, so they work in read-only mode.
READ_ONLY_ALLOWED = frozenset({"auth.login", "web.set_locale"})

FULL, READ_ONLY, STANDBY, UNOPENABLE = "full", "read-only", "standby", "unopenable"

# Why `serve` started in read-only mode (console, banner and the 503 page).
READ_ONLY_REASONS = {
    READ_ONLY: "数据库文件或其所在文件夹无法写入（{detail}）。系统以只读模式启动：可以查看，不能保存任何修改，"
               "定时任务暂停。请检查权限（运行服务器的账户必须能写入数据库文件和所在文件夹），然后重新启动服务器。",
    FULL: "磁盘已满（{detail}）。系统以只读模式启动：可以查看，不能保存任何修改，定时任务暂停。"
          "请清理服务器磁盘空间（删除无用文件、把备份移到别处），然后重新启动服务器。",
    STANDBY: "数据库处于只读状态（{detail}，可能是备用服务器或只读设置）。系统以只读模式启动：可以查看，"
             "不能保存任何修改，定时任务暂停。请把 DATABASE_URL 指向主数据库或联系数据库管理员，然后重新启动服务器。",
    UNOPENABLE: "无法打开或创建数据库文件（{detail}）。系统以只读模式启动，多数页面无法显示。"
                "请检查数据库文件夹是否存在及其权限，然后重新启动服务器。",
}


def init_app(app) -> None:
    app.extensions[PROBLEMS] = []
    app.config.setdefault("READ_ONLY", "")  # a Chinese reason when the server runs read-only
    if app.config.get("SECRET_KEY_PROBLEM"):
        app.extensions[PROBLEMS].append(app.config["SECRET_KEY_PROBLEM"])
    app.before_request(_refuse_writes_when_read_only)
    app.register_error_handler(DBAPIError, _storage_error)
    app.register_error_handler(500, _server_error)  # a failed commit after the view ends up here

    @app.context_processor
    def startup_banner():
        return {"startup_problems": visible_problems()}


# ---------------------------------------------------------------- startup

def add_problem(app, sentence: str) -> None:
    problems = app.extensions.setdefault(PROBLEMS, [])
    if sentence not in problems:
        problems.append(sentence)
        log.info("Startup problem: %s", sentence)


def enter_read_only(app, kind: str, detail: str) -> str:
    reason = READ_ONLY_REASONS[kind].format(detail=detail)
    app.config["READ_ONLY"] = reason
    add_problem(app, reason)
    return reason


def write_problem() -> tuple[str, str] | None:
    """(kind, detail) when the database cannot be written now, else None. Writes nothing that stays."""
    engine = db.engine
    if engine.dialect.name == "sqlite":
        path = _sqlite_path(engine.url)
        if path and os.path.exists(path):
            for target in (path, os.path.dirname(path) or "."):
                if not os.access(target, os.W_OK):
                    return READ_ONLY, f"{target} 不可写"
    # On the session's own connection: a second connection would wait for a transaction the session holds.
    try:
        if engine.dialect.name == "sqlite":
            db.session.execute(text("CREATE TABLE _hall_write_probe (x INTEGER)"))  # rolled back below
        elif str(db.session.execute(text("SHOW transaction_read_only")).scalar()).lower() == "on":
            return STANDBY, "transaction_read_only = on"
    except DBAPIError as exc:
        kind = storage_problem(exc)
        if kind is None:
            raise
        return kind, str(getattr(exc, "orig", exc))
    finally:
        db.session.rollback()
    return None


def _sqlite_path(url) -> str | None:
    database = url.database or ""
    if database in ("", ":memory:"):
        return None
    if database.startswith("file:"):  # sqlite:///file:/path?mode=ro&uri=true
        database = database[len("file:"):].partition("?")[0]
    return database


def problems_block(app) -> str:
    """The problems as one block for the console ('' when there are none)."""
    problems = app.extensions.get(PROBLEMS) or []
    if not problems:
        return ""
    lines = ["=" * 60, "注意：系统已启动，但有以下问题（管理员和中心主任登录后在每页顶部也能看到）："]
    lines += [f"  {n}. {p}" for n, p in enumerate(problems, 1)]
    lines.append("=" * 60)
    return "\n".join(lines)


def visible_problems() -> list[str]:
    """Startup problems for the logged-in administrator or director; nothing for anyone else."""
    if not has_request_context():
        return []
    problems = current_app.extensions.get(PROBLEMS) or []
    if not problems:
        return []
    from flask_login import current_user

    from app import access
    if not getattr(current_user, "is_authenticated", False):
        return []
    try:
        return list(problems) if access.all_roles(current_user) & SEE_PROBLEMS else []
    except DBAPIError:  # the banner never takes a page down
        return []


# ---------------------------------------------------------------- while running

def storage_problem(exc: BaseException | None) -> str | None:
    """FULL, READ_ONLY, STANDBY or UNOPENABLE when `exc` says the database cannot store anything, else None."""
    orig = getattr(exc, "orig", exc)
    if orig is None:
        return None
    if isinstance(orig, sqlite3.OperationalError):
        message = str(orig).lower()
        if "disk is full" in message:
            return FULL
        if "readonly database" in message or "read-only" in message:
            return READ_ONLY
        if "unable to open database file" in message:
            return UNOPENABLE
        return None
    try:
        from psycopg import errors as pg
    except ImportError:  # PostgreSQL driver not installed
        return None
    if isinstance(orig, pg.DiskFull):
        return FULL
    if isinstance(orig, pg.ReadOnlySqlTransaction):
        return STANDBY
    return None


def _what_to_do(kind: str) -> tuple[str, str]:
    if kind == FULL:
        return (_("The server's disk is full: your change was not saved."),
                _("Free disk space on the server (delete files no longer needed, move old backups elsewhere), "
                  "then try again."))
    if kind == STANDBY:
        return (_("The database is read-only: your change was not saved."),
                _("The database is a standby or set read-only: point DATABASE_URL at the primary database or "
                  "ask the database administrator, then restart the server."))
    if kind == UNOPENABLE:
        return (_("The database file cannot be opened."),
                _("Check that the database folder exists and its permissions, then restart the server."))
    return (_("The database cannot be written: your change was not saved."),
            _("Check the permissions of the database file and its folder (the account running the server "
              "must be able to write both), then restart the server."))


def _page(title: str, advice: str):
    try:
        return render_template("errors/storage.html", title=title, advice=advice), 503
    except Exception:  # noqa: BLE001 - the page must show even when the layout itself cannot be drawn
        log.exception("Storage error page could not use the layout")
        return f"<!doctype html><meta charset='utf-8'><h1>{escape(title)}</h1><p>{escape(advice)}</p>", 503


def _storage_page(exc: BaseException, kind: str):
    try:
        db.session.rollback()
    except Exception:  # noqa: BLE001 - a failed rollback must not hide the page
        log.exception("Rollback after a storage error failed")
    log.error("Storage problem (%s) on %s %s: %s", kind, request.method, request.path, exc)
    return _page(*_what_to_do(kind))


def _storage_error(error: DBAPIError):
    kind = storage_problem(error)
    if kind is None:
        raise error
    return _storage_page(error, kind)


def _server_error(error):
    original = getattr(error, "original_exception", None)
    kind = storage_problem(original) if isinstance(original, DBAPIError) else None
    if kind is None:
        return error  # Flask's own 500 page, as before
    return _storage_page(original, kind)


def _refuse_writes_when_read_only():
    reason = current_app.config.get("READ_ONLY")
    if not reason or request.method in ("GET", "HEAD", "OPTIONS") or request.endpoint in READ_ONLY_ALLOWED:
        return None
    return _page(_("The system is in read-only mode: %(reason)s", reason=reason),
                 _("Pages can be viewed, but nothing can be saved until an administrator fixes this "
                   "and restarts the server."))
