"""The engine: one per process, built from a database URL."""

from __future__ import annotations

import sqlite3
import threading
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

# How long a SQLite writer waits for another one before giving up.
SQLITE_BUSY_TIMEOUT_MS = 10_000
# So that requests and /readyz answer 503 promptly instead of hanging on an
# unreachable server (libpq's minimum is 2).
PG_CONNECT_TIMEOUT_S = 3
# How long a request waits for a free pooled connection before it answers 503.
POOL_TIMEOUT_S = 10
# Connections per worker process: enough for the thread pool that runs the
# requests' database work (AnyIO's default: 40 threads) without queueing, well
# within PostgreSQL's default max_connections of 100 for two workers.
PG_POOL_SIZE = 10
PG_POOL_OVERFLOW = 30


READ_ONLY_OPTION = "backplan_read_only"
_HOLDS_TURN = "backplan.holds_write_turn"


def reader(engine: Engine) -> Engine:
    """The engine for transactions that only read: on SQLite they begin
    DEFERRED, so they run beside a writer instead of queueing for its lock."""
    return engine.execution_options(**{READ_ONLY_OPTION: True})


# SQLite's result codes when a transaction that began reading cannot start
# writing: another connection holds the write lock (SQLite answers at once
# rather than wait, which could deadlock) or wrote since its snapshot.
SQLITE_BUSY = 5
SQLITE_BUSY_SNAPSHOT = 517


def lost_write_race(error: BaseException) -> bool:
    """Whether `error` is a read-first (`reader`) SQLite transaction that could
    not turn into a writer because another connection writes or wrote: run
    the work again as a writer, which waits its turn."""
    original = getattr(error, "orig", None)
    code = getattr(original, "sqlite_errorcode", None)
    return code in {SQLITE_BUSY, SQLITE_BUSY_SNAPSHOT}


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
        pool_size=PG_POOL_SIZE,
        max_overflow=PG_POOL_OVERFLOW,
        connect_args={"connect_timeout": PG_CONNECT_TIMEOUT_S},
    )


def _configure_sqlite(engine: Engine) -> None:
    # pysqlite's own transaction handling breaks SAVEPOINT and defers BEGIN;
    # take it over (SQLAlchemy docs, "Serializable isolation / Savepoints").
    # BEGIN IMMEDIATE takes the write lock up front, so two requests never
    # deadlock upgrading a read lock; the busy timeout makes the second wait.
    # Transactions that only read (`reader`) begin DEFERRED: with WAL they read
    # a snapshot and never wait.
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

    # Writers of this process take turns on a lock of its own before BEGIN
    # IMMEDIATE. SQLite's busy handler polls with sleeps of up to 100 ms, so
    # threads waiting on it wake late and in no order: under load most of
    # the time went to sleeping while the database was free. A released
    # Python lock hands over at once; other processes still meet the busy
    # timeout.
    turns = threading.Lock()

    def _release(info: dict[str, Any]) -> None:
        if info.pop(_HOLDS_TURN, False):
            turns.release()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        if connection.get_execution_options().get(READ_ONLY_OPTION):
            connection.exec_driver_sql("BEGIN")
            return
        if not turns.acquire(timeout=SQLITE_BUSY_TIMEOUT_MS / 1000):
            # As SQLAlchemy wraps SQLite's own "database is locked": a 503.
            locked = sqlite3.OperationalError("database is locked (another writer of this process)")
            raise OperationalError("BEGIN IMMEDIATE", None, locked)
        connection.info[_HOLDS_TURN] = True
        try:
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        except BaseException:
            _release(connection.info)
            raise

    @event.listens_for(engine, "commit")
    @event.listens_for(engine, "rollback")
    def _on_end(connection: Any) -> None:
        _release(connection.info)

    @event.listens_for(engine, "checkin")
    def _on_checkin(_dbapi_connection: Any, record: Any) -> None:
        _release(record.info)
