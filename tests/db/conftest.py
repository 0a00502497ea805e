"""Fixtures for the storage tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import Engine
from sqlalchemy.exc import OperationalError
from sqlmodel import Session

from db.engine import make_engine
from db.migrate import upgrade
from tests.conftest import postgres_database


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def empty_engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """An engine on a brand-new, empty database: SQLite, then PostgreSQL."""
    if request.param == "sqlite":
        engine = make_engine(f"sqlite:///{tmp_path}/empty.db")
        yield engine
        engine.dispose()
        return
    with postgres_database(request.getfixturevalue("postgres_admin_url")) as url:
        engine = make_engine(url)
        yield engine
        engine.dispose()


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    """A session on the run's database whose work is rolled back at the end
    (the repositories never commit)."""
    with Session(engine) as session:
        yield session
        session.rollback()


@pytest.fixture
def pg_session(postgres_url: str) -> Iterator[Session]:
    """A session on the run's PostgreSQL database, rolled back at the end:
    for what only PostgreSQL does."""
    engine = make_engine(postgres_url)
    upgrade(engine)
    with Session(engine) as session:
        yield session
        session.rollback()
    engine.dispose()


@pytest.fixture
def pg_scratch(postgres_admin_url: str) -> Iterator[Engine]:
    """An engine on a new PostgreSQL database of its own, migrated: for
    tests whose setup commits, or that watch one connection from another."""
    with postgres_database(postgres_admin_url) as url:
        engine = make_engine(url)
        try:
            upgrade(engine)
            yield engine
        finally:
            engine.dispose()


def locked_elsewhere(engine: Engine, user_id: str) -> bool:
    """Whether another transaction holds the person's row locked (NO KEY
    UPDATE or stronger): a lock taken on another connection, NOWAIT."""
    lock = "SELECT id FROM users WHERE id = %(id)s FOR NO KEY UPDATE NOWAIT"
    with engine.connect() as other:
        try:
            rows = other.exec_driver_sql(lock, {"id": user_id}).all()
        except OperationalError as error:
            if isinstance(error.orig, psycopg.errors.LockNotAvailable):
                return True
            raise
    if rows != [(user_id,)]:
        raise LookupError(f"no such person: {user_id}")
    return False
