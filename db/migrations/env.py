"""Alembic environment: runs with a URL given by db/migrate.py or `-x url=...`."""

from __future__ import annotations

from typing import Any, Literal

from alembic import context
from alembic.autogenerate.api import AutogenContext
from sqlalchemy import Connection
from sqlmodel import SQLModel
from sqlmodel.sql.sqltypes import AutoString

import db.tables  # noqa: F401  (registers the tables on SQLModel.metadata)
from db.engine import make_engine
from db.migrate import compared
from db.types import UtcDateTime

# Any fixed number: every process migrating PostgreSQL takes this lock first,
# so workers that start together migrate one after the other.
MIGRATION_LOCK_ID = 4_207_001

config = context.config


def _url() -> str:
    url = config.attributes.get("url") or context.get_x_argument(as_dictionary=True).get("url")
    if not url:
        raise RuntimeError("no database URL: use `backplan migrate` or `-x url=...`")
    return str(url)


def _render_item(kind: str, obj: Any, autogen_context: AutogenContext) -> str | Literal[False]:
    # Render the SQLModel and project types as plain SQLAlchemy ones, so
    # revisions import nothing from the application.
    if kind == "type" and isinstance(obj, AutoString):
        return f"sa.String(length={obj.length!r})" if obj.length else "sa.String()"
    if kind == "type" and isinstance(obj, UtcDateTime):
        return "sa.DateTime(timezone=True)"
    return False


def _configure(**options: Any) -> None:
    context.configure(
        target_metadata=SQLModel.metadata,
        render_item=_render_item,
        compare_type=True,
        **options,
    )


def _run(connection: Connection) -> None:
    dialect = connection.dialect.name
    _configure(
        connection=connection,
        render_as_batch=dialect == "sqlite",
        include_object=compared(dialect),
    )
    with context.begin_transaction():
        if connection.dialect.name == "postgresql":
            connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({MIGRATION_LOCK_ID})")
        context.run_migrations()


if context.is_offline_mode():
    _configure(url=_url(), literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()
else:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
    else:
        engine = make_engine(_url())
        try:
            with engine.connect() as connection:
                _run(connection)
        finally:
            engine.dispose()
