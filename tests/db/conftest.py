"""Fixtures for the storage tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine
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
