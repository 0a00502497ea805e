"""The engine: one per process, built from a database URL."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url

# How long a SQLite writer waits for another one before giving up.
SQLITE_BUSY_TIMEOUT_MS = 10_000
# So that requests and /readyz answer 503 promptly instead of hanging on an
# unreachable server (libpq's minimum is 2).
PG_CONNECT_TIMEOUT_S = 3
# How long a request waits for a free pooled connection before it answers 503.
POOL_TIMEOUT_S = 10


def make_engine(url: str, *, echo: bool = False) -> Engine:
    """An engine for a SQLite or PostgreSQL URL (`postgresql://` means psycopg 3)."""
    parsed = make_url(url)
    if parsed.drivername in {"postgresql", "postgres"}:
        parsed = parsed.set(drivername="postgresql+psycopg")
    if parsed.get_backend_name() == "sqlite":
        engine = create_engine(
            parsed, echo=echo, connect_args={"check_same_thread": False, "timeout": 10}
        )
        _configure_sqlite(engine)
        return engine
    return create_engine(
        parsed,
        echo=echo,
        # A connection the server dropped is replaced on checkout, so the
        # service recovers by itself once the database is back.
        pool_pre_ping=True,
        pool_timeout=POOL_TIMEOUT_S,
        connect_args={"connect_timeout": PG_CONNECT_TIMEOUT_S},
    )


def _configure_sqlite(engine: Engine) -> None:
    # pysqlite's own transaction handling breaks SAVEPOINT and defers BEGIN;
    # take it over (SQLAlchemy docs, "Serializable isolation / Savepoints").
    # BEGIN IMMEDIATE takes the write lock up front, so two requests never
    # deadlock upgrading a read lock; the busy timeout makes the second wait.
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        if engine.url.database not in {None, "", ":memory:"}:
            # WAL lets readers run beside the writer; with it, NORMAL sync is
            # safe from corruption and spares an fsync per commit (SQLite docs).
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")
