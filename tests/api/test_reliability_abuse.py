"""Abuse: a rate limit per API key shared by every process, 401s that tell
nothing, keys stored only as hashes, CORS off unless configured, and the
security headers of a JSON API on every response."""

from __future__ import annotations

import base64
import hashlib
import json
import re
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from fastapi import FastAPI, Response
from fastapi.testclient import TestClient
from sqlalchemy import Engine, MetaData, select
from sqlmodel import Session, col

from api.keys import generate_key, hash_key
from api.main import create_app
from api.middleware import JSON_CSP
from api.settings import Settings
from db import clients as client_store
from db.tables import ApiKey
from tests.api.test_caching import eventually
from tests.conftest import ADMIN_TOKEN, Api, register

AppFactory = Callable[..., AbstractContextManager[TestClient]]


@pytest.fixture
def app_with(database_url: str, engine: Engine) -> AppFactory:
    """A TestClient on a new app over the run's (migrated) database, with these settings."""

    @contextmanager
    def make(**settings: Any) -> Iterator[TestClient]:
        with TestClient(app_over(database_url, **settings)) as client:
            yield client

    return make


def app_over(database_url: str, **settings: Any) -> FastAPI:
    """A new app over the run's (migrated) database, with these settings."""
    return create_app(
        Settings(
            database_url=database_url,
            admin_token=ADMIN_TOKEN,
            migrate_on_start=False,
            webhooks_in_process=False,
            **settings,
        )
    )


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def within_one_window(seconds: int, needed: float = 5) -> None:
    """Wait, if need be, so that the next `needed` seconds fall in one fixed window."""
    left = seconds - time.time() % seconds
    if left < needed:
        time.sleep(left + 0.05)


# --- Rate limit ----------------------------------------------------------------


def test_a_key_over_its_limit_gets_a_429_problem_with_retry_after(app_with: AppFactory) -> None:
    with app_with(rate_limit_requests=5, rate_limit_window_seconds=3600) as http:
        mine, theirs = register(http), register(http)
        within_one_window(3600)
        for _ in range(5):
            assert mine.get("/v1/exercises").status_code == 200
        limited = mine.get("/v1/exercises")
        assert limited.status_code == 429
        assert limited.headers["content-type"] == "application/problem+json"
        assert limited.json()["status"] == 429
        assert 0 < int(limited.headers["retry-after"]) <= 3600
        assert mine.post("/v1/users", json={}).status_code == 429, "every operation counts"
        assert theirs.get("/v1/exercises").status_code == 200, "another key has its own limit"


def test_the_count_is_shared_by_every_process(app_with: AppFactory) -> None:
    # Two apps with engines of their own stand for two uvicorn workers.
    with (
        app_with(rate_limit_requests=6, rate_limit_window_seconds=3600) as one,
        app_with(rate_limit_requests=6, rate_limit_window_seconds=3600) as two,
    ):
        key = register(one).key
        within_one_window(3600)
        statuses = [
            worker.get("/v1/exercises", headers=bearer(key)).status_code
            for worker in [one, two] * 5
        ]
    assert statuses == [200] * 6 + [429] * 4


def test_the_limit_lifts_in_the_next_window(app_with: AppFactory) -> None:
    with app_with(rate_limit_requests=2, rate_limit_window_seconds=1) as http:
        api = register(http)
        within_one_window(1, needed=0.5)
        assert [api.get("/v1/exercises").status_code for _ in range(3)] == [200, 200, 429]
        time.sleep(float(api.get("/v1/exercises").headers["retry-after"]))
        assert api.get("/v1/exercises").status_code == 200


def test_made_up_keys_do_not_spend_a_clients_limit(app_with: AppFactory) -> None:
    with app_with(rate_limit_requests=3, rate_limit_window_seconds=3600) as http:
        victim = register(http)
        within_one_window(3600)
        key_id = victim.key.split("_")[2]
        forged = generate_key()
        for _ in range(10):
            # The victim's public key id with a secret and checksum of the attacker's.
            guess = forged.key.replace(forged.key_id, key_id)
            assert http.get("/v1/exercises", headers=bearer(guess)).status_code == 401
        assert [victim.get("/v1/exercises").status_code for _ in range(3)] == [200] * 3


def test_the_default_limit_is_configurable_and_on(app_with: AppFactory) -> None:
    settings = Settings()
    assert settings.rate_limit_requests >= 600
    assert settings.rate_limit_window_seconds == 60
    with app_with(rate_limit_requests=0) as http:
        api = register(http)
        assert all(api.get("/v1/exercises").status_code == 200 for _ in range(20))


# --- 401s ------------------------------------------------------------------------


def comparable(response: httpx.Response) -> tuple[int, bytes, list[tuple[str, str]]]:
    headers = sorted((k, v) for k, v in response.headers.items() if k != "date")
    return response.status_code, response.content, headers


def test_unknown_revoked_forged_and_malformed_keys_get_identical_401s(
    api: Api, http: TestClient, engine: Engine
) -> None:
    revoked = register(http)
    user = revoked.user()
    key_id = revoked.key.split("_")[2]
    # Through the store, which tells every worker's cache (db.changes).
    with Session(engine) as session:
        client_store.revoke_key(session, key=session.get_one(ApiKey, key_id), now=datetime.now(UTC))
        session.commit()
    # On PostgreSQL the app hears of it by NOTIFY, a moment after the commit.
    refused = eventually(
        lambda: http.get("/v1/exercises", headers=bearer(revoked.key)),
        lambda answer: answer.status_code == 401,
    )
    assert refused.status_code == 401
    forged = generate_key()
    keys = {
        "revoked": revoked.key,
        "never issued": generate_key().key,
        "wrong secret": forged.key.replace(forged.key_id, key_id),
        "bad checksum": revoked.key[:-1] + ("A" if revoked.key[-1] != "A" else "B"),
        "not a key": "hunter2",
        "prefix only": "bp_live_",
    }
    for path in ("/v1/users", f"/v1/users/{user['id']}", "/v1/exercises"):
        answers = {
            name: comparable(http.get(path, headers=bearer(key))) for name, key in keys.items()
        }
        assert answers["revoked"][0] == 401
        assert all(answer == answers["revoked"] for answer in answers.values()), answers


# --- Stored keys -------------------------------------------------------------------


def every_stored_value(engine: Engine) -> Iterator[tuple[str, str]]:
    """(table, text) for every value of every row of every table."""
    metadata = MetaData()
    metadata.reflect(engine)
    with engine.connect() as connection:
        for table in metadata.sorted_tables:
            for row in connection.execute(select(table)):
                for value in row:
                    if isinstance(value, bytes | memoryview):
                        yield table.name, bytes(value).decode("latin-1")
                    elif isinstance(value, dict | list):
                        yield table.name, json.dumps(value)
                    elif value is not None:
                        yield table.name, str(value)


def test_the_tables_hold_only_hashes_of_the_keys(http: TestClient, engine: Engine) -> None:
    admin = bearer(ADMIN_TOKEN)
    replayable = {**admin, "Idempotency-Key": '"2f0c7d52-7f55-4d0e-9b4e-0d8e3b9b6f31"'}
    issued = [
        http.post("/v1/clients", json={"name": "Hashed"}, headers=admin).json()["api_key"],
        http.post("/v1/clients", json={"name": "Replayable"}, headers=replayable).json()["api_key"],
    ]
    secrets = [key.split("_")[3] for key in issued]
    for key in issued:
        assert http.get("/v1/exercises", headers=bearer(key)).status_code == 200
    stored = list(every_stored_value(engine))
    leaks = [(table, text) for table, text in stored for secret in secrets if secret in text]
    assert leaks == []
    with engine.connect() as connection:
        hashes = set(connection.execute(select(col(ApiKey.key_hash))).scalars())
    assert {hash_key(key) for key in issued} <= hashes
    assert all(re.fullmatch(r"[0-9a-f]{64}", value) for value in hashes)


# --- CORS ---------------------------------------------------------------------------

PREFLIGHT = {
    "Origin": "https://app.example",
    "Access-Control-Request-Method": "PUT",
    "Access-Control-Request-Headers": "authorization, content-type, idempotency-key",
}


def test_cors_is_off_by_default(http: TestClient, api: Api) -> None:
    assert Settings().cors_origins == []
    preflight = http.options("/v1/exercises", headers=PREFLIGHT)
    assert "access-control-allow-origin" not in preflight.headers
    simple = api.get("/v1/exercises", headers={"Origin": "https://app.example"})
    assert simple.status_code == 200
    assert not any(name.startswith("access-control-") for name in simple.headers)


def test_cors_allows_only_the_configured_origins(app_with: AppFactory) -> None:
    with app_with(cors_origins=["https://app.example"]) as http:
        api = register(http)
        preflight = http.options("/v1/exercises", headers=PREFLIGHT)
        assert preflight.status_code == 200
        assert preflight.headers["access-control-allow-origin"] == "https://app.example"
        allowed = preflight.headers["access-control-allow-headers"].lower()
        assert {"authorization", "content-type", "idempotency-key"} <= set(allowed.split(", "))
        assert "access-control-allow-credentials" not in preflight.headers

        simple = api.get("/v1/exercises", headers={"Origin": "https://app.example"})
        assert simple.headers["access-control-allow-origin"] == "https://app.example"
        exposed = simple.headers["access-control-expose-headers"].lower()
        assert {"etag", "retry-after"} <= set(exposed.split(", "))
        denied = http.get("/v1/exercises", headers={"Origin": "https://app.example"})
        assert denied.status_code == 401
        assert denied.headers["access-control-allow-origin"] == "https://app.example"

        other = {**PREFLIGHT, "Origin": "https://evil.example"}
        assert (
            "access-control-allow-origin"
            not in http.options("/v1/exercises", headers=other).headers
        )
        foreign = api.get("/v1/exercises", headers={"Origin": "https://evil.example"})
        assert "access-control-allow-origin" not in foreign.headers


def test_cors_origins_are_read_comma_separated(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BACKPLAN_CORS_ORIGINS", "https://a.example, https://b.example")
    assert Settings().cors_origins == ["https://a.example", "https://b.example"]


# --- Security headers -----------------------------------------------------------------

SECURITY_HEADERS = {
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
    "content-security-policy": JSON_CSP,
}


def test_every_kind_of_response_carries_the_security_headers(
    database_url: str, engine: Engine
) -> None:
    app = app_over(database_url, rate_limit_requests=3)
    add_probe_routes(app)
    with TestClient(app, raise_server_exceptions=False) as http:
        api = register(http)
        within_one_window(60)
        responses = {
            "200": api.get("/v1/exercises"),
            "201": api.post(
                "/v1/users",
                json={"external_id": "x", "training_days": ["mon", "thu"], "session_minutes": 30},
            ),
            "404": api.get("/v1/users/nobody"),
            "429": api.get("/v1/exercises"),
            "401": http.get("/v1/users"),
            "405": http.put("/healthz"),
            "413": http.post("/v1/users", content=b" " * 70_000),
            "422": http.post("/v1/clients", json={}, headers=bearer(ADMIN_TOKEN)),
            "500": http.get("/probe/boom"),
            "healthz": http.get("/healthz"),
            "openapi": http.get("/openapi.json"),
        }
    for name, response in responses.items():
        assert response.status_code == (int(name) if name.isdigit() else 200), name
        for header, value in SECURITY_HEADERS.items():
            assert response.headers.get(header) == value, (name, header)
        expected = "private, no-cache" if "etag" in response.headers else "no-store"
        assert response.headers["cache-control"] == expected, name
        assert "strict-transport-security" not in response.headers


def add_probe_routes(app: FastAPI) -> None:
    @app.get("/probe/boom")
    def boom() -> None:
        raise RuntimeError("boom")

    @app.get("/probe/etag")
    def etagged(response: Response) -> dict[str, str]:
        response.headers["ETag"] = '"v1"'
        return {"ok": "yes"}

    @app.get("/probe/cached")
    def cached(response: Response) -> dict[str, str]:
        response.headers["Cache-Control"] = "public, max-age=60"
        return {"ok": "yes"}


def test_a_response_with_an_etag_may_be_kept_but_must_be_revalidated(
    app_with: AppFactory,
) -> None:
    with app_with() as http:
        add_probe_routes(http.app)  # type: ignore[arg-type]
        assert http.get("/probe/etag").headers["cache-control"] == "private, no-cache"
        assert http.get("/probe/cached").headers["cache-control"] == "public, max-age=60"


def test_hsts_is_sent_only_when_configured(app_with: AppFactory) -> None:
    assert Settings().hsts_max_age == 0
    with app_with(hsts_max_age=31_536_000) as http:
        hsts = http.get("/healthz").headers["strict-transport-security"]
    assert hsts == "max-age=31536000; includeSubDomains"


def test_the_docs_page_runs_under_its_content_security_policy(http: TestClient) -> None:
    for page in ("/docs", "/redoc"):
        response = http.get(page)
        assert response.status_code == 200
        policy = dict(
            directive.strip().split(" ", 1)
            for directive in response.headers["content-security-policy"].split(";")
        )
        assert policy["default-src"] == "'none'"
        assert policy["frame-ancestors"] == "'none'"
        scripts = policy["script-src"].split()
        assert "'unsafe-inline'" not in scripts
        for inline in re.findall(r"<script>(.*?)</script>", response.text, re.DOTALL):
            digest = base64.b64encode(hashlib.sha256(inline.encode()).digest()).decode()
            assert f"'sha256-{digest}'" in scripts, page
        for source in re.findall(r'<script src="(https://[^/"]+)/', response.text):
            assert source in scripts, page
        for sheet in re.findall(
            r'<link[^>]*href="(https://[^/"]+)/[^"]*"[^>]*stylesheet', response.text
        ):
            assert sheet in policy["style-src"], page
        assert "'self'" in policy["connect-src"], "the page fetches /openapi.json"
