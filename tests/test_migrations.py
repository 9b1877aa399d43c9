"""The Alembic migrations build exactly the schema the models declare (SQLite and PostgreSQL)."""
from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import upgrade
from sqlalchemy import text


def _test_only(difference, metadata) -> bool:
    names = {t.name for t in metadata.tables.values() if t.info.get("test_only")}
    table = difference[1] if difference[0] == "add_table" else getattr(difference[1], "table", None)
    return table is not None and table.name in names


def test_migrations_upgrade_an_empty_database_to_the_models_schema(app, db):
    db.drop_all()
    with db.engine.begin() as connection:
        connection.execute(text("DROP TABLE IF EXISTS alembic_version"))
    upgrade(directory=app.extensions["migrate"].directory)
    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": False})
        diff = [d for d in compare_metadata(context, db.metadata)  # tables of tests/types/ are the tests' own
                if not _test_only(d, db.metadata)]
    assert diff == [], f"models and migrations differ: {diff[:5]} — run `flask --app wsgi db migrate`"
    with db.engine.begin() as connection:
        connection.execute(text("DROP TABLE alembic_version"))
