"""Shared fixtures: a SQLite and a PostgreSQL database, the app on each, a
controllable clock, and factories for clients and users.

PostgreSQL runs at 127.0.0.1:5432 (trust auth, user postgres); the run gets a
database of its own, dropped at the end. When the server is unreachable its
tests are skipped, unless CI=true: then they fail.

Each backend's database is created and migrated once per run: tests share it
but not their data, because each test registers a client of its own and
every API call is scoped to the calling client (tests/db roll back instead).
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, create_engine
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from api.caching import Caches
from api.deps import get_now
from api.main import create_app
from api.settings import Settings
from db.engine import make_engine
from db.migrate import upgrade

POSTGRES_ADMIN_URL = os.environ.get(
    "BACKPLAN_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
ADMIN_TOKEN = "test-admin-token"
# A Wednesday morning in ISO week 2026-W47: tests move the clock from here.
NOW = datetime(2026, 11, 18, 10, 0, tzinfo=UTC)


@pytest.fixture(scope="session")
def postgres_admin_url() -> str:
    engine = create_engine(POSTGRES_ADMIN_URL, connect_args={"connect_timeout": 3})
    try:
        with engine.connect():
            pass
    except OperationalError as exc:
        message = f"PostgreSQL is unreachable at {POSTGRES_ADMIN_URL}: {exc}"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message)
        pytest.skip(message)
    finally:
        engine.dispose()
    return POSTGRES_ADMIN_URL


@contextmanager
def postgres_database(admin_url: str) -> Iterator[str]:
    """A new, empty database on the server; dropped afterwards."""
    name = f"backplan_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
        yield make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


@pytest.fixture(scope="session")
def sqlite_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    path: Path = tmp_path_factory.mktemp("db") / "backplan.db"
    return f"sqlite:///{path}"


@pytest.fixture(scope="session")
def postgres_url(postgres_admin_url: str) -> Iterator[str]:
    with postgres_database(postgres_admin_url) as url:
        yield url


@pytest.fixture(
    scope="session", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def database_url(request: pytest.FixtureRequest) -> str:
    """A database of each backend, shared by the run."""
    url: str = request.getfixturevalue(f"{request.param}_url")
    return url


@pytest.fixture(scope="session")
def engine(database_url: str) -> Iterator[Engine]:
    """An engine on the module's database, migrated to the latest revision."""
    engine = make_engine(database_url)
    upgrade(engine)
    yield engine
    engine.dispose()


@pytest.fixture(scope="session")
def app(database_url: str) -> FastAPI:
    # Webhook tests run their own delivery workers, with test timings.
    settings = Settings(
        database_url=database_url, admin_token=ADMIN_TOKEN, webhooks_in_process=False
    )
    return create_app(settings)


@pytest.fixture(scope="session")
def http(app: FastAPI) -> Iterator[TestClient]:
    """The app over HTTP; entering it runs the lifespan, which migrates."""
    with TestClient(app) as client:
        yield client


class Clock:
    """Stands in for `api.deps.get_now`."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock(app: FastAPI) -> Iterator[Clock]:
    clock = Clock(NOW)
    app.dependency_overrides[get_now] = clock
    yield clock
    app.dependency_overrides.pop(get_now, None)


@dataclass
class Api:
    """One registered client calling the API with its key."""

    http: TestClient
    client_id: str
    key: str

    def call(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        headers = {"Authorization": f"Bearer {self.key}", **kwargs.pop("headers", {})}
        response: httpx.Response = self.http.request(method, path, headers=headers, **kwargs)
        return response

    def get(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.call("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.call("POST", path, **kwargs)

    def put(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.call("PUT", path, **kwargs)

    def patch(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.call("PATCH", path, **kwargs)

    def delete(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.call("DELETE", path, **kwargs)

    def user(self, **fields: Any) -> dict[str, Any]:
        """Create a user (defaults filled in) and return the response body."""
        response = self.post("/v1/users", json=user_fields(**fields))
        assert response.status_code == 201, response.text
        body: dict[str, Any] = response.json()
        return body


def user_fields(**overrides: Any) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "external_id": f"ext-{uuid.uuid4().hex[:10]}",
        "timezone": "UTC",
        "training_days": ["mon", "wed", "fri"],
        "session_minutes": 30,
        "fitness_level": "moderate",
        "equipment": ["mat", "band"],
        "aerobic_activities": ["walking"],
    }
    return {**fields, **overrides}


def register(http: TestClient, name: str = "Stride Fitness") -> Api:
    response = http.post(
        "/v1/clients", json={"name": name}, headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}
    )
    assert response.status_code == 201, response.text
    body = response.json()
    return Api(http=http, client_id=body["id"], key=body["api_key"])


def listening(caches: Caches) -> None:
    """Wait until the caches hear other workers (PostgreSQL: LISTEN connects
    on a thread of its own); before, they cache nothing."""
    deadline = time.monotonic() + 5
    while not caches.sync() and time.monotonic() < deadline:
        time.sleep(0.01)
    assert caches.sync()


@contextmanager
def unlimited_api(database_url: str, *, now: datetime | None = None) -> Iterator[Api]:
    """A client of an app of its own without a rate limit (whose counting
    writes to the database on every request), caching from the start; at
    `now` if given, else the real clock."""
    settings = Settings(
        database_url=database_url,
        admin_token=ADMIN_TOKEN,
        webhooks_in_process=False,
        rate_limit_requests=0,
    )
    app = create_app(settings)
    if now is not None:
        app.dependency_overrides[get_now] = Clock(now)
    with TestClient(app) as client:
        listening(app.state.caches)
        yield register(client)


@pytest.fixture
def api(http: TestClient, clock: Clock) -> Api:
    """A fresh client per test, so tests share the database without sharing data."""
    return register(http)
