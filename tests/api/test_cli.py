"""The `backplan` command: serve, migrate, clients create."""

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from api import cli
from api.main import create_app
from api.server import HTTP_PROTOCOL
from api.settings import Settings, get_settings

runner = CliRunner()


@pytest.fixture
def sqlite_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    url = f"sqlite:///{tmp_path}/cli.db"
    monkeypatch.setenv("DATABASE_URL", url)
    get_settings.cache_clear()
    yield url
    get_settings.cache_clear()


def test_clients_create_prints_a_working_key_once(sqlite_env: str) -> None:
    result = runner.invoke(cli.app, ["clients", "create", "Stride Fitness"])
    assert result.exit_code == 0, result.output
    lines = dict(line.split(":", 1) for line in result.stdout.splitlines() if ":" in line)
    key = lines["api key"].strip()
    assert key.startswith("bp_live_")
    app = create_app(Settings(database_url=sqlite_env))
    with TestClient(app) as http:
        response = http.get("/v1/users", headers={"Authorization": f"Bearer {key}"})
    assert response.status_code == 200


def test_migrate_brings_the_database_to_head(sqlite_env: str) -> None:
    result = runner.invoke(cli.app, ["migrate"])
    assert result.exit_code == 0, result.output
    app = create_app(Settings(database_url=sqlite_env, migrate_on_start=False))
    with TestClient(app) as http:
        assert http.get("/readyz").status_code == 200


def test_serve_migrates_then_runs_uvicorn(sqlite_env: str, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[Any, ...]] = []
    monkeypatch.setattr("uvicorn.run", lambda *args, **kwargs: calls.append((args, kwargs)))
    result = runner.invoke(cli.app, ["serve", "--port", "8123", "--workers", "2"])
    assert result.exit_code == 0, result.output
    options = {"host": "127.0.0.1", "port": 8123, "workers": 2, "http": HTTP_PROTOCOL}
    assert calls == [(("api.main:app",), options)]
    app = create_app(Settings(database_url=sqlite_env, migrate_on_start=False))
    with TestClient(app) as http:
        assert http.get("/readyz").status_code == 200


def test_the_existing_commands_still_work() -> None:
    result = runner.invoke(cli.app, ["exercises"])
    assert result.exit_code == 0
    assert "bird" in result.stdout.lower()
