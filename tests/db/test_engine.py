from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import StatementError
from sqlmodel import Session

from db.engine import make_engine
from db.tables import Client


def test_sqlite_connections_enforce_foreign_keys_and_use_wal(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path}/x.db")
    with engine.connect() as connection:
        assert connection.execute(text("PRAGMA foreign_keys")).scalar() == 1
        assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert connection.execute(text("PRAGMA busy_timeout")).scalar() == 10_000
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
