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
# SQLite checkpoints (copies the WAL back into the database file, with an
# fsync) in the commit that takes the WAL past `wal_autocheckpoint` pages
# (default 1,000): then that commit, and every writer queued behind it, waits
# for the disk. The service checkpoints from a thread of its own instead
# (`Checkpointer`), every CHECKPOINT_INTERVAL_S; writers checkpoint themselves
# only past SQLITE_WAL_AUTOCHECKPOINT_PAGES (~40 MB at 4 KiB pages), a bound
# on the WAL should the thread not run (the CLI, a stopped service).
CHECKPOINT_INTERVAL_S = 0.05
SQLITE_WAL_AUTOCHECKPOINT_PAGES = 10_000
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
        # SQLite's page cache is per connection, and its writers take turns:
        # the last connection returned, whose cache the last writer warmed,
        # is the next one lent (measured ~10% more first-time plans). A file's
        # connections are pooled; an in-memory database has one per thread.
        pooled = parsed.database not in {None, "", ":memory:"}
        engine = create_engine(
            parsed,
            echo=echo,
            connect_args={"check_same_thread": False, "timeout": 10},
            **({"pool_use_lifo": True} if pooled else {}),
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
            cursor.execute(f"PRAGMA wal_autocheckpoint={SQLITE_WAL_AUTOCHECKPOINT_PAGES}")
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


class Checkpointer:
    """Checkpoints a SQLite file's WAL every `interval_s` from a thread and a
    connection of its own (see SQLITE_WAL_AUTOCHECKPOINT_PAGES). PASSIVE: it
    takes no lock writers or readers wait for, and copies what no reader
    still needs; what is left goes with the next one."""

    def __init__(self, path: str, *, interval_s: float = CHECKPOINT_INTERVAL_S) -> None:
        self.path = path
        self.interval_s = interval_s
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="sqlite-checkpoint", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()

    def checkpoint(self, connection: sqlite3.Connection) -> tuple[int, int, int]:
        """(busy, frames in the WAL, frames checkpointed), as SQLite tells."""
        busy, frames, done = connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        return int(busy), int(frames), int(done)

    def _run(self) -> None:
        connection: sqlite3.Connection | None = None
        while not self._stop.wait(self.interval_s):
            try:
                if connection is None:
                    connection = sqlite3.connect(
                        self.path, check_same_thread=False, isolation_level=None
                    )
                    connection.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
                self.checkpoint(connection)
            except sqlite3.Error:
                # The file is gone or locked for long: writers still
                # checkpoint past the bound; try again with a new connection.
                if connection is not None:
                    connection.close()
                connection = None
        if connection is not None:
            connection.close()


def checkpointer_for(engine: Engine) -> Checkpointer | None:
    """A `Checkpointer` for a SQLite file engine; None otherwise."""
    if engine.dialect.name != "sqlite" or engine.url.database in {None, "", ":memory:"}:
        return None
    return Checkpointer(str(engine.url.database))
