"""Engine set-up: SQLite that never loses an update, PostgreSQL as it is.

SQLite: WAL, busy_timeout, foreign keys on, and every writing transaction begins IMMEDIATE so two writers
doing read-modify-write queue up instead of overwriting each other (see TECH-NOTES.md).
"""
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from app.extensions import reading_request

# The session's identity map holds records weakly: a matter, window or user read for one line of a page and
# not referenced any more was read again by the next line that asked for it (`session.get` found nothing).
# Each transaction holds the records it loads, up to this many (an export of 100,000 rows holds no more),
# and lets them go when it ends: the same row is read once a request.
HOLD_PER_TRANSACTION = 2000


@event.listens_for(Session, "loaded_as_persistent")
def _hold_loaded(session, instance):
    held = session.info.setdefault("_held", [])
    if len(held) < HOLD_PER_TRANSACTION:
        held.append(instance)


@event.listens_for(Session, "after_commit")
@event.listens_for(Session, "after_rollback")
def _release_before_expiring(session):
    """Let go before the commit expires what the session holds (a record nobody else holds is then simply
    forgotten, not expired one by one); a savepoint's end keeps them."""
    if session.get_nested_transaction() is None:
        session.info.pop("_held", None)


@event.listens_for(Session, "after_transaction_end")
def _release_held(session, transaction):
    if transaction.parent is None:
        session.info.pop("_held", None)


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
        conn.exec_driver_sql("BEGIN" if reading_request() else "BEGIN IMMEDIATE")


def writes(view):
    """Mark a GET view that writes (e.g. issuing a form number) so its transaction begins IMMEDIATE."""
    view.writes = True
    return view


from app.features import Feature, Job  # noqa: E402  (the feature declaration closes the module)

FEATURE = Feature(
    "database",
    jobs=[Job("refresh_statistics", "jobs.housekeeping:refresh_statistics", {"hour": 2, "minute": 50},
              "Refresh the database's query-planner statistics")])
