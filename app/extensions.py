"""Flask extensions, created before the app and bound in create_app (init_app)."""
from flask import current_app, has_request_context, request
from flask_babel import Babel
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from sqlalchemy import event
from sqlalchemy.orm import DeclarativeBase, Session


class Base(DeclarativeBase):
    pass


db = SQLAlchemy(model_class=Base)
migrate = Migrate()
login_manager = LoginManager()
csrf = CSRFProtect()
babel = Babel()


# ---------------------------------------------------------------- a request's transaction

@event.listens_for(Session, "after_flush")
def _note_flush(session, _context):
    session.info["_wrote"] = True


@event.listens_for(Session, "do_orm_execute")
def _note_statement(state):
    if not state.is_select:  # an UPDATE, DELETE, INSERT or text statement run through the session
        state.session.info["_wrote"] = True


@event.listens_for(Session, "after_transaction_end")
def _forget_writes(session, transaction):
    if transaction.parent is None:
        session.info.pop("_wrote", None)


def reading_request() -> bool:
    """A page that only reads: a GET (HEAD, OPTIONS) whose view is not marked `writes`."""
    return (has_request_context() and request.method in ("GET", "HEAD", "OPTIONS")
            and not getattr(current_app.view_functions.get(request.endpoint), "writes", False))


def end_request_transaction() -> None:
    """Commit the request's transaction. When the page only read (no flush, no statement that writes),
    nothing it loaded can be stale for this session, which is thrown away after the response: the commit
    then skips expiring every loaded record one by one (about 5 % of a list page)."""
    session = db.session()
    if reading_request() and not session.info.get("_wrote"):
        previous, session.expire_on_commit = session.expire_on_commit, False
        try:
            db.session.commit()
        finally:
            session.expire_on_commit = previous
    else:
        db.session.commit()
