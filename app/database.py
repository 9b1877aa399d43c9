"""Engine set-up: SQLite that never loses an update, PostgreSQL as it is.

SQLite: WAL, busy_timeout, foreign keys on, and every writing transaction begins IMMEDIATE so two writers
doing read-modify-write queue up instead of overwriting each other (see TECH-NOTES.md).
"""
from flask import current_app, has_request_context, request
from sqlalchemy import event
from sqlalchemy.engine import Engine


def configure_engine(engine: Engine) -> None:
    if engine.dialect.name != "sqlite":
        return

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record):
        dbapi_conn.isolation_level = None  # we issue BEGIN ourselves
        cur = dbapi_conn.cursor()
        for pragma in ("journal_mode=WAL", "busy_timeout=10000", "foreign_keys=ON", "synchronous=NORMAL"):
            cur.execute(f"PRAGMA {pragma}")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn):
        # Reads (GET pages) begin DEFERRED so they never queue behind writers under WAL.
        reading = (has_request_context() and request.method in ("GET", "HEAD", "OPTIONS")
                   and not getattr(current_app.view_functions.get(request.endpoint), "writes", False))
        conn.exec_driver_sql("BEGIN" if reading else "BEGIN IMMEDIATE")


def writes(view):
    """Mark a GET view that writes (e.g. issuing a form number) so its transaction begins IMMEDIATE."""
    view.writes = True
    return view


from app.features import Feature, Job  # noqa: E402  (the feature declaration closes the module)

FEATURE = Feature(
    "database",
    jobs=[Job("refresh_statistics", "jobs.housekeeping:refresh_statistics", {"hour": 2, "minute": 50},
              "Refresh the database's query-planner statistics")])
