from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, inspect, text
from sqlmodel import SQLModel

import db.tables  # noqa: F401  (the tables the migrations must match)
from db.migrate import compared, current_revision, downgrade, head_revision, upgrade

TABLES = {
    "clients",
    "api_keys",
    "users",
    "episodes",
    "stored_weeks",
    "planned_sessions",
    "session_blocks",
    "completions",
    "stage_changes",
    "idempotency_keys",
    "calendar_feeds",
    "webhook_endpoints",
    "webhook_events",
    "webhook_deliveries",
    "webhook_attempts",
    "rate_limit_windows",
    "changes",
}


def test_upgrade_from_empty_to_head_creates_the_tables(empty_engine: Engine) -> None:
    assert current_revision(empty_engine) is None
    upgrade(empty_engine)
    assert set(inspect(empty_engine).get_table_names()) == TABLES | {"alembic_version"}
    assert current_revision(empty_engine) == head_revision()


def test_head_matches_the_table_models(empty_engine: Engine) -> None:
    upgrade(empty_engine)
    with empty_engine.connect() as connection:
        context = MigrationContext.configure(
            connection,
            opts={"compare_type": True, "include_object": compared(connection.dialect.name)},
        )
        assert compare_metadata(context, SQLModel.metadata) == []


def test_upgrade_twice_is_harmless_and_downgrade_removes_everything(empty_engine: Engine) -> None:
    upgrade(empty_engine)
    upgrade(empty_engine)
    downgrade(empty_engine, "base")
    assert set(inspect(empty_engine).get_table_names()) <= {"alembic_version"}
    assert current_revision(empty_engine) is None
    upgrade(empty_engine)
    assert current_revision(empty_engine) == head_revision()


def test_session_content_is_compressed_with_lz4_on_postgresql(empty_engine: Engine) -> None:
    upgrade(empty_engine)
    if empty_engine.dialect.name != "postgresql":
        return  # SQLite stores text as it is
    method = text(
        "SELECT attcompression FROM pg_attribute "
        "WHERE attrelid = 'planned_sessions'::regclass AND attname = 'content'"
    )
    with empty_engine.connect() as connection:
        assert connection.execute(method).scalar_one() == "l"
    downgrade(empty_engine, "0007")
    with empty_engine.connect() as connection:
        assert connection.execute(method).scalar_one() == ""  # the server's default
