"""`backplan prune`, and the scopes of `backplan clients create` keys."""

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlmodel import Session, select
from typer.testing import CliRunner

from api import cli
from api.keys import key_id_of
from api.settings import get_settings
from db.engine import make_engine
from db.migrate import upgrade
from db.tables import ApiKey, IdempotencyRecord

runner = CliRunner()


@pytest.fixture
def sqlite_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    url = f"sqlite:///{tmp_path}/cli.db"
    monkeypatch.setenv("DATABASE_URL", url)
    get_settings.cache_clear()
    yield url
    get_settings.cache_clear()


def test_prune_deletes_keys_older_than_a_day(sqlite_url: str) -> None:
    engine = make_engine(sqlite_url)
    upgrade(engine)
    now = datetime.now(UTC)
    with Session(engine) as session:
        for key, age in (("old", timedelta(hours=25)), ("recent", timedelta(hours=23))):
            session.add(
                IdempotencyRecord(
                    owner="c",
                    key=key,
                    fingerprint="f",
                    method="POST",
                    path="/v1/users",
                    locked_at=now - age,
                    created_at=now - age,
                    status=201,
                )
            )
        session.commit()
    result = runner.invoke(cli.app, ["prune"])
    assert result.exit_code == 0, result.output
    assert "pruned 1 " in result.stdout
    with Session(engine) as session:
        assert session.exec(select(IdempotencyRecord.key)).all() == ["recent"]
    engine.dispose()


def test_clients_create_gives_every_scope(sqlite_url: str) -> None:
    result = runner.invoke(cli.app, ["clients", "create", "Stride"])
    assert result.exit_code == 0, result.output
    key = next(
        line.split(":", 1)[1].strip() for line in result.stdout.splitlines() if "api key" in line
    )
    engine = make_engine(sqlite_url)
    with Session(engine) as session:
        stored = session.exec(select(ApiKey).where(ApiKey.id == key_id_of(key))).one()
    engine.dispose()
    assert stored.scopes == ["plans:read", "sessions:write", "users:write", "users:delete"]
