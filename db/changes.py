"""Change announcements, so that in-process caches stay correct across workers.

Every transaction that changes what a cached read returns announces a topic:
`user:<id>` for anything about a person (profile, episodes, stored weeks,
completions, erasure), `key:<id>` for an API key's revocation. The topics go
three ways:

- to this process, right after the commit (`announced`, called by whoever
  commits, hands them to the caches);
- on PostgreSQL, to every other process by `pg_notify` inside the same
  transaction, so they are delivered when, and only if, it commits;
  `PgListener` receives them on its own connection;
- on SQLite, as a row in `changes` (topic, commit-ordered seq) written in the
  same transaction; `SqliteWatcher` notices any other connection's commit by
  `PRAGMA data_version` and reads the topics changed since it last looked,
  looking at most once every SQLITE_POLL_INTERVAL_S.

A watcher's `poll()` answers the topics changed elsewhere since the last poll,
or None when it cannot tell (no connection, table missing): then the caller
must drop everything it cached and not cache until a poll succeeds again.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable, Iterable
from typing import Protocol

import psycopg
from sqlalchemy import Engine, bindparam, func, select, text
from sqlmodel import Session

from db.raw import Raw

CHANNEL = "backplan_changes"
_TOPICS = "backplan.changed_topics"
# How long a watcher that lost its connection waits before trying again.
RECONNECT_INTERVAL_S = 1.0
# A SQLite watcher looks for other processes' commits at most this often, so
# a change another worker commits reaches this one's caches within about a
# millisecond (PostgreSQL's NOTIFY arrives about as soon). Looking costs a
# statement on the watcher's connection, during which SQLite lets go of the
# GIL; once per cached read it took 5-7% of the exercise list's CPU under
# load (a rig, 2 cores: 534-586 us a request, 480-547 looking at most once
# a millisecond).
SQLITE_POLL_INTERVAL_S = 0.001

_PG_ANNOUNCE = Raw(select(func.pg_notify(CHANNEL, bindparam("topic"))))
_SQLITE_ANNOUNCE = Raw(
    text(
        "INSERT INTO changes (topic, seq) "
        "VALUES (:topic, (SELECT coalesce(max(seq), 0) + 1 FROM changes)) "
        "ON CONFLICT (topic) DO UPDATE SET seq = excluded.seq"
    )
)


def user_topic(user_id: str) -> str:
    return f"user:{user_id}"


def key_topic(key_id: str) -> str:
    return f"key:{key_id}"


def announce(session: Session, topic: str) -> None:
    """Tell every worker's caches, once this transaction commits, that `topic`
    changed. Once per topic and transaction."""
    topics: set[str] = session.info.setdefault(_TOPICS, set())
    if topic in topics:
        return
    topics.add(topic)
    if session.get_bind().dialect.name == "postgresql":
        _PG_ANNOUNCE.send(session, {"topic": topic})
    else:
        _SQLITE_ANNOUNCE.send(session, {"topic": topic})


def announced(session: Session) -> frozenset[str]:
    """The topics this session announced since the last call (call it after
    the commit, or after a rollback to forget them)."""
    topics: set[str] = session.info.pop(_TOPICS, set())
    return frozenset(topics)


class Watcher(Protocol):
    def poll(self) -> Iterable[str] | None: ...

    def close(self) -> None: ...


class SqliteWatcher:
    """Topics other connections to a SQLite file committed, read on demand."""

    def __init__(
        self,
        path: str,
        *,
        interval_s: float = SQLITE_POLL_INTERVAL_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.path = path
        self.interval_s = interval_s
        self.clock = clock
        self._lock = threading.Lock()
        self._connection: sqlite3.Connection | None = None
        self._version = -1
        self._seq = 0
        self._looked_at: float | None = None

    def poll(self) -> Iterable[str] | None:
        """What other connections committed since the last look; nothing
        when it looked less than `interval_s` ago."""
        now = self.clock()
        looked_at = self._looked_at
        if looked_at is not None and now - looked_at < self.interval_s:
            return ()
        with self._lock:
            try:
                if self._connection is None:
                    self._connection = sqlite3.connect(
                        self.path, check_same_thread=False, isolation_level=None
                    )
                    self._version = self._data_version()
                    row = self._connection.execute("SELECT max(seq) FROM changes").fetchone()
                    self._seq = row[0] or 0
                    self._looked_at = now
                    return None  # what changed before we looked is unknown
                version = self._data_version()
                self._looked_at = now
                if version == self._version:
                    return ()
                self._version = version
                rows = self._connection.execute(
                    "SELECT topic, seq FROM changes WHERE seq > ?", (self._seq,)
                ).fetchall()
            except sqlite3.Error:
                self._drop()
                return None
            if rows:
                self._seq = max(seq for _topic, seq in rows)
            return [topic for topic, _seq in rows]

    def _data_version(self) -> int:
        assert self._connection is not None
        version: int = self._connection.execute("PRAGMA data_version").fetchone()[0]
        return version

    def _drop(self) -> None:
        if self._connection is not None:
            self._connection.close()
        self._connection = None
        self._looked_at = None

    def close(self) -> None:
        with self._lock:
            self._drop()


class PgListener:
    """Topics other sessions committed on PostgreSQL, from LISTEN on a
    connection of its own, read without blocking on each poll. Connecting
    happens on a thread of its own, so that a database that does not answer
    never holds up the caller (the event loop)."""

    def __init__(self, conninfo: str, *, connect_timeout_s: int) -> None:
        self.conninfo = conninfo
        self.connect_timeout_s = connect_timeout_s
        self._lock = threading.Lock()
        self._connection: psycopg.Connection[tuple[object, ...]] | None = None
        self._connecting = False
        self._retry_at = 0.0

    def poll(self) -> Iterable[str] | None:
        with self._lock:
            connection = self._connection
            if connection is None:
                if not self._connecting and time.monotonic() >= self._retry_at:
                    self._connecting = True
                    threading.Thread(target=self._connect, daemon=True).start()
                return None
            pgconn = connection.pgconn
            try:
                pgconn.consume_input()  # reads what arrived, never waits
                topics = []
                while (notice := pgconn.notifies()) is not None:
                    topics.append(notice.extra.decode())
            except psycopg.Error:
                self._drop()
                return None
            if connection.closed:
                self._drop()
                return None
            return topics

    def _connect(self) -> None:
        connection = None
        try:
            connection = psycopg.connect(
                self.conninfo, autocommit=True, connect_timeout=self.connect_timeout_s
            )
            connection.execute(f"LISTEN {CHANNEL}")
        except psycopg.Error:
            if connection is not None:
                connection.close()
            connection = None
        with self._lock:
            self._connecting = False
            # Notifications sent before LISTEN are lost: the first poll after
            # this one reports them as unknown (None) by finding no connection.
            self._connection = connection
            if connection is None:
                self._retry_at = time.monotonic() + RECONNECT_INTERVAL_S

    def _drop(self) -> None:
        if self._connection is not None:
            self._connection.close()
        self._connection = None
        self._retry_at = time.monotonic() + RECONNECT_INTERVAL_S

    def close(self) -> None:
        with self._lock:
            self._drop()


def watcher_for(engine: Engine, *, connect_timeout_s: int) -> Watcher | None:
    """The watcher for the engine's database; None for an in-memory SQLite
    database, which no other process can reach."""
    url = engine.url
    if url.get_backend_name() == "postgresql":
        conninfo = url.set(drivername="postgresql").render_as_string(hide_password=False)
        return PgListener(conninfo, connect_timeout_s=connect_timeout_s)
    if url.database in {None, "", ":memory:"}:
        return None
    return SqliteWatcher(url.database)
