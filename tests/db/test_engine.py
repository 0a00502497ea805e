import sqlite3
import threading
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import OperationalError, StatementError
from sqlmodel import Session

import db.engine
from db.engine import Checkpointer, checkpointer_for, lost_write_race, make_engine, reader
from db.tables import Client


def test_sqlite_connections_enforce_foreign_keys_and_use_wal(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path}/x.db")
    with engine.connect() as connection:
        assert connection.execute(text("PRAGMA foreign_keys")).scalar() == 1
        assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert connection.execute(text("PRAGMA busy_timeout")).scalar() == 10_000
        autocheckpoint = connection.execute(text("PRAGMA wal_autocheckpoint")).scalar()
        assert autocheckpoint == db.engine.SQLITE_WAL_AUTOCHECKPOINT_PAGES
    engine.dispose()


def test_sqlite_lends_the_connection_returned_last(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path}/x.db")
    first, second = engine.connect(), engine.connect()
    warm = second.connection.dbapi_connection
    first.close()
    second.close()  # returned last: its page cache is the warmest
    with engine.connect() as again:
        assert again.connection.dbapi_connection is warm
    engine.dispose()


def test_a_postgresql_url_uses_psycopg_3() -> None:
    engine = make_engine("postgresql://postgres@127.0.0.1:5432/test")
    assert engine.url.drivername == "postgresql+psycopg"
    assert engine.pool._pre_ping
    engine.dispose()


def test_times_come_back_as_aware_utc(engine: Engine) -> None:
    berlin = timezone(timedelta(hours=1))
    with Session(engine) as session:
        client = Client(name="tz", created_at=datetime(2026, 3, 1, 13, 0, tzinfo=berlin))
        session.add(client)
        session.commit()
        session.expire_all()
        loaded = session.get(Client, client.id)
        assert loaded is not None
        assert loaded.created_at == datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
        assert loaded.created_at.tzinfo == UTC


def test_naive_times_are_refused(engine: Engine) -> None:
    with Session(engine) as session:
        session.add(Client(name="naive", created_at=datetime(2026, 3, 1, 12, 0)))
        with pytest.raises(StatementError, match="naive datetime"):
            session.flush()


def test_sqlite_writers_take_turns_and_every_ending_gives_the_turn_back(tmp_path: Path) -> None:
    # Were a turn not given back, the next writer would wait the whole busy
    # timeout and fail with "database is locked".
    engine = make_engine(f"sqlite:///{tmp_path}/turns.db")
    for _ in range(3):
        with Session(engine) as session:
            session.execute(text("SELECT 1"))
            session.commit()
        with Session(engine) as session:
            session.execute(text("SELECT 1"))
            session.rollback()
        with Session(engine) as session:
            session.execute(text("SELECT 1"))  # closed without either
        with engine.begin() as connection:
            connection.execute(text("SELECT 1"))
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    with Session(engine) as session:
        session.execute(text("CREATE TABLE t (x INTEGER)"))
        session.commit()
    engine.dispose()


def test_a_writer_that_waited_its_whole_turn_fails_as_a_locked_database(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The API answers SQLAlchemy's OperationalError with a 503 to retry.
    monkeypatch.setattr(db.engine, "SQLITE_BUSY_TIMEOUT_MS", 50)
    engine = make_engine(f"sqlite:///{tmp_path}/turns.db")
    with Session(engine) as holder:
        holder.execute(text("SELECT 1"))  # holds this process's writer turn
        with Session(engine) as waiter, pytest.raises(OperationalError, match="database is locked"):
            waiter.execute(text("SELECT 1"))
    engine.dispose()


def test_a_reader_that_must_write_after_another_writer_is_told_to_run_again(
    tmp_path: Path,
) -> None:
    engine = make_engine(f"sqlite:///{tmp_path}/race.db")
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE t (x INTEGER)"))
    with Session(reader(engine)) as first:
        first.execute(text("SELECT count(*) FROM t"))  # its snapshot begins
        with Session(engine) as second:
            second.execute(text("INSERT INTO t VALUES (1)"))
            second.commit()
        with pytest.raises(OperationalError) as raised:
            first.execute(text("INSERT INTO t VALUES (2)"))
        assert lost_write_race(raised.value)
    with Session(engine) as again:
        again.execute(text("INSERT INTO t VALUES (2)"))
        again.commit()
        assert again.execute(text("SELECT count(*) FROM t")).scalar() == 2
    engine.dispose()


def wal_with_writes(tmp_path: Path) -> Engine:
    """A SQLite file whose WAL holds writes nobody has checkpointed yet."""
    engine = make_engine(f"sqlite:///{tmp_path}/wal.db")
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE notes (body TEXT)"))
    for _ in range(20):
        with engine.begin() as connection:
            connection.execute(text("INSERT INTO notes VALUES (:body)"), {"body": "x" * 2000})
    return engine


def test_a_checkpoint_copies_the_whole_wal_back(tmp_path: Path) -> None:
    engine = wal_with_writes(tmp_path)
    checkpointer = checkpointer_for(engine)
    assert checkpointer is not None
    with sqlite3.connect(checkpointer.path) as connection:
        busy, frames, done = checkpointer.checkpoint(connection)
    assert busy == 0
    assert frames > 0
    assert done == frames
    with engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM notes")).scalar() == 20
    engine.dispose()


def test_the_checkpointer_thread_checkpoints_until_stopped(tmp_path: Path) -> None:
    engine = wal_with_writes(tmp_path)
    seen: list[tuple[int, int, int]] = []
    checkpointed = threading.Event()

    class Watched(Checkpointer):
        def checkpoint(self, connection: sqlite3.Connection) -> tuple[int, int, int]:
            seen.append(super().checkpoint(connection))
            checkpointed.set()
            return seen[-1]

    checkpointer = Watched(str(engine.url.database), interval_s=0.01)
    checkpointer.start()
    assert checkpointed.wait(timeout=30)
    checkpointer.stop()
    assert checkpointer._thread is not None
    assert not checkpointer._thread.is_alive()
    _busy, frames, done = seen[0]
    assert frames > 0
    assert done == frames
    engine.dispose()


def test_only_a_sqlite_file_gets_a_checkpointer(tmp_path: Path) -> None:
    assert checkpointer_for(make_engine("sqlite://")) is None
    assert checkpointer_for(make_engine("postgresql://postgres@127.0.0.1:5432/test")) is None
    found = checkpointer_for(make_engine(f"sqlite:///{tmp_path}/x.db"))
    assert found is not None
    assert found.path == f"{tmp_path}/x.db"
