"""Change announcements (`db.changes`): other processes hear of a committed
change, and only of a committed one."""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlmodel import Session

from db import changes
from db.changes import PgListener, SqliteWatcher, Watcher, watcher_for
from db.engine import PG_CONNECT_TIMEOUT_S, make_engine
from db.migrate import upgrade


@pytest.fixture
def migrated(empty_engine: Engine) -> Engine:
    upgrade(empty_engine)
    return empty_engine


@pytest.fixture
def watcher(migrated: Engine) -> Iterator[Watcher]:
    found = watcher_for(migrated, connect_timeout_s=PG_CONNECT_TIMEOUT_S)
    assert found is not None
    assert found.poll() is None  # what happened before it looked is unknown
    deadline = time.monotonic() + 5
    while found.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)  # PostgreSQL: connecting, on a thread of its own
    yield found
    found.close()


def heard(watcher: Watcher) -> set[str]:
    """What the watcher reports, waiting a little for NOTIFY to arrive."""
    topics: set[str] = set()
    deadline = time.monotonic() + 2
    while time.monotonic() < deadline:
        polled: Iterable[str] | None = watcher.poll()
        assert polled is not None
        topics |= set(polled)
        if topics:
            return topics
        time.sleep(0.01)
    return topics


def test_a_committed_announcement_reaches_another_connection(
    migrated: Engine, watcher: Watcher
) -> None:
    assert set(watcher.poll() or ()) == set()
    with Session(migrated) as session:
        changes.announce(session, changes.user_topic("u1"))
        changes.announce(session, changes.user_topic("u1"))  # once per transaction
        changes.announce(session, changes.key_topic("k1"))
        session.commit()
        assert changes.announced(session) == {"user:u1", "key:k1"}
        assert changes.announced(session) == frozenset()
    assert heard(watcher) == {"user:u1", "key:k1"}
    assert heard(watcher) == set()


def test_a_rolled_back_announcement_reaches_nobody(migrated: Engine, watcher: Watcher) -> None:
    with Session(migrated) as session:
        changes.announce(session, changes.user_topic("u2"))
        session.rollback()
    with Session(migrated) as session:  # a later commit, so SQLite's data_version moves
        changes.announce(session, changes.user_topic("u3"))
        session.commit()
    assert heard(watcher) == {"user:u3"}


def test_a_watcher_that_cannot_reach_its_database_says_so(tmp_path: Path) -> None:
    sqlite = SqliteWatcher(str(tmp_path / "missing-dir" / "x.db"))
    assert sqlite.poll() is None
    postgres = PgListener("postgresql://postgres@127.0.0.1:1/none", connect_timeout_s=2)
    deadline = time.monotonic() + 3
    while time.monotonic() < deadline:
        assert postgres.poll() is None  # never blocks, never pretends to know
        time.sleep(0.05)
    postgres.close()


def test_an_in_memory_database_needs_no_watcher() -> None:
    assert watcher_for(make_engine("sqlite://"), connect_timeout_s=2) is None


def test_a_sqlite_watcher_looks_at_most_once_an_interval(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path}/watched.db")
    upgrade(engine)
    now = [100.0]
    watcher = SqliteWatcher(str(tmp_path / "watched.db"), interval_s=0.001, clock=lambda: now[0])
    assert watcher.poll() is None  # what happened before it looked is unknown
    with Session(engine) as session:
        changes.announce(session, changes.user_topic("u1"))
        session.commit()
    now[0] += 0.0009
    assert watcher.poll() == ()  # it looked 0.9 ms ago: not again yet
    now[0] += 0.0002
    assert set(watcher.poll() or ()) == {"user:u1"}
    with Session(engine) as session:
        changes.announce(session, changes.user_topic("u2"))
        session.commit()
    assert watcher.poll() == ()
    now[0] += 0.001
    assert set(watcher.poll() or ()) == {"user:u2"}
    watcher.close()
    engine.dispose()
