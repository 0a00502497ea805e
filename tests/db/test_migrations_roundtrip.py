"""Migrations, one revision at a time, on SQLite and PostgreSQL: every
upgrade has a downgrade that restores the schema before it exactly, and head
matches the table models (no drift)."""

from __future__ import annotations

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, inspect, text
from sqlmodel import SQLModel

import db.tables  # noqa: F401  (the tables the migrations must match)
from db.migrate import (
    alembic_config,
    compared,
    current_revision,
    downgrade,
    head_revision,
    upgrade,
)


def revisions() -> list[str]:
    """Every revision, oldest first."""
    script = ScriptDirectory.from_config(alembic_config(""))
    return [revision.revision for revision in reversed(list(script.walk_revisions()))]


def schema_of(engine: Engine) -> dict[str, Any]:
    """What the database's tables look like, comparable between two states."""
    inspector = inspect(engine)
    tables: dict[str, Any] = {}
    for table in sorted(set(inspector.get_table_names()) - {"alembic_version"}):
        tables[table] = {
            "columns": [
                (c["name"], str(c["type"]), c["nullable"], c.get("default"))
                for c in inspector.get_columns(table)
            ],
            "primary_key": inspector.get_pk_constraint(table)["constrained_columns"],
            "foreign_keys": sorted(
                (
                    tuple(fk["constrained_columns"]),
                    fk["referred_table"],
                    tuple(fk["referred_columns"]),
                    (fk.get("options") or {}).get("ondelete"),
                )
                for fk in inspector.get_foreign_keys(table)
            ),
            "indexes": sorted(
                (ix["name"], tuple(ix["column_names"]), bool(ix["unique"]))
                for ix in inspector.get_indexes(table)
            ),
            "unique": sorted(
                tuple(uq["column_names"]) for uq in inspector.get_unique_constraints(table)
            ),
        }
        inspector.clear_cache()
    if engine.dialect.name == "postgresql":
        tables["(compression)"] = _compression(engine)
    return tables


# Revisions that change storage settings SQLite does not have.
POSTGRESQL_ONLY = {"0008"}
# Revisions that change only SQLite.
SQLITE_ONLY = {"0009"}


def _compression(engine: Engine) -> list[tuple[str, str, str]]:
    """Columns with a compression method of their own (TOAST; PostgreSQL 14+)."""
    query = text(
        "SELECT c.relname, a.attname, a.attcompression FROM pg_attribute a "
        "JOIN pg_class c ON c.oid = a.attrelid "
        "JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = current_schema() AND c.relkind = 'r' "
        "AND a.attnum > 0 AND a.attcompression <> '' ORDER BY 1, 2"
    )
    with engine.connect() as connection:
        return [(str(t), str(c), str(m)) for t, c, m in connection.execute(query)]


def test_each_revision_downgrades_to_exactly_the_schema_before_it(empty_engine: Engine) -> None:
    chain = revisions()
    assert chain[-1] == head_revision()
    before: list[dict[str, Any]] = [schema_of(empty_engine)]
    for revision in chain:
        upgrade(empty_engine, revision)
        assert current_revision(empty_engine) == revision
        before.append(schema_of(empty_engine))
        other = POSTGRESQL_ONLY if empty_engine.dialect.name == "sqlite" else SQLITE_ONLY
        if revision in other:
            assert before[-1] == before[-2], f"{revision} changes this backend"
            continue
        assert before[-1] != before[-2], f"{revision} changes nothing"

    for revision, expected in zip(
        [*reversed(chain[:-1]), "base"], reversed(before[:-1]), strict=True
    ):
        downgrade(empty_engine, revision)
        assert current_revision(empty_engine) == (None if revision == "base" else revision)
        assert schema_of(empty_engine) == expected, f"downgrade to {revision}"


def test_head_has_no_drift_from_the_models(empty_engine: Engine) -> None:
    upgrade(empty_engine)
    with empty_engine.connect() as connection:
        context = MigrationContext.configure(
            connection,
            opts={
                "compare_type": True,
                "compare_server_default": True,
                "include_object": compared(connection.dialect.name),
            },
        )
        assert compare_metadata(context, SQLModel.metadata) == []
