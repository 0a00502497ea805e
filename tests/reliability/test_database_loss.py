"""Database loss: with PostgreSQL out of reach, requests fail fast with a 503
problem and /readyz says so; once it is back, the same process serves again.

The app reaches PostgreSQL through a TCP proxy the test cuts and restores."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import make_url

from api.main import create_app
from api.settings import Settings
from db.engine import PG_CONNECT_TIMEOUT_S
from tests.conftest import ADMIN_TOKEN, postgres_database, user_fields
from tests.reliability.service import Proxy

pytestmark = pytest.mark.postgres

# Well under the 30 s a client would wait on SQLAlchemy's default pool timeout.
FAST_S = 2.0


@pytest.fixture
def proxy(postgres_admin_url: str) -> Iterator[Proxy]:
    target = make_url(postgres_admin_url)
    proxy = Proxy(target=(target.host or "127.0.0.1", target.port or 5432))
    yield proxy
    proxy.close()


@pytest.fixture
def http(postgres_admin_url: str, proxy: Proxy) -> Iterator[TestClient]:
    """The app on a new database, reached through the proxy."""
    with postgres_database(postgres_admin_url) as url:
        proxied = make_url(url).set(host="127.0.0.1", port=proxy.port)
        settings = Settings(
            database_url=proxied.render_as_string(hide_password=False), admin_token=ADMIN_TOKEN
        )
        with TestClient(create_app(settings)) as client:
            yield client
        proxy.close()


def key_for(http: TestClient) -> dict[str, str]:
    response = http.post(
        "/v1/clients", json={"name": "Flaky"}, headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}
    )
    assert response.status_code == 201, response.text
    return {"Authorization": f"Bearer {response.json()['api_key']}"}


def timed(call: Callable[[], httpx.Response]) -> tuple[httpx.Response, float]:
    started = time.monotonic()
    response = call()
    return response, time.monotonic() - started


def assert_unavailable(response: httpx.Response) -> None:
    assert response.status_code == 503, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["status"] == 503
    assert int(response.headers["retry-after"]) > 0


def test_requests_fail_fast_with_503_while_the_database_is_gone_and_recover(
    http: TestClient, proxy: Proxy
) -> None:
    auth = key_for(http)
    user = http.post("/v1/users", json=user_fields(), headers=auth).json()
    path = f"/v1/users/{user['id']}"
    assert http.get(path, headers=auth).status_code == 200

    proxy.cut()
    for call in (
        lambda: http.get(path, headers=auth),
        lambda: http.post("/v1/users", json=user_fields(), headers=auth),
        lambda: http.patch(path, json={"session_minutes": 45}, headers=auth),
    ):
        response, elapsed = timed(call)
        assert_unavailable(response)
        assert elapsed < FAST_S
    ready, elapsed = timed(lambda: http.get("/readyz"))
    assert_unavailable(ready)
    assert elapsed < FAST_S
    assert http.get("/healthz").status_code == 200

    proxy.restore()
    assert http.get("/readyz").status_code == 200
    back = http.get(path, headers=auth)
    assert back.status_code == 200
    assert back.json()["session_minutes"] == user["session_minutes"], "the PATCH was not applied"
    assert http.patch(path, json={"session_minutes": 45}, headers=auth).status_code == 200


def test_an_unanswering_database_is_a_503_within_the_connect_timeout(
    http: TestClient, proxy: Proxy
) -> None:
    auth = key_for(http)
    proxy.blackhole()
    response, elapsed = timed(lambda: http.get("/v1/users", headers=auth))
    assert_unavailable(response)
    assert elapsed < PG_CONNECT_TIMEOUT_S + FAST_S
    ready, elapsed = timed(lambda: http.get("/readyz"))
    assert_unavailable(ready)
    assert elapsed < PG_CONNECT_TIMEOUT_S + FAST_S

    proxy.restore()
    assert http.get("/v1/users", headers=auth).status_code == 200
    assert http.get("/readyz").status_code == 200
