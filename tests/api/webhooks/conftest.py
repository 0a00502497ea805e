"""Webhook fixtures: a receiver on 127.0.0.1, an endpoint of the test's client
pointing at it, and a delivery worker with test timings (short timeout,
lease and retry schedule) on the test database."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from ipaddress import ip_address
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlmodel import Session

from api.deps import get_target_policy
from api.webhooks.targets import Address, TargetPolicy, TargetRefused
from api.webhooks.worker import Worker, WorkerConfig
from db import outbox
from db.outbox import EventType
from tests.api.webhooks.receiver import Receiver
from tests.conftest import Api, Clock, register

ALL_EVENTS = [event.value for event in EventType]

# A DNS stand-in, so no test depends on the network.
NAMES = {
    "hooks.example.com": "93.184.216.34",
    "other.example.com": "93.184.216.35",
    "internal.example.com": "10.0.0.7",
    "metadata.example.com": "169.254.169.254",
    "rebind.example.com": "127.0.0.1",
}


def fake_resolver(names: dict[str, str] = NAMES) -> Callable[[str, int], list[Address]]:
    def resolve(host: str, _port: int) -> list[Address]:
        if host not in names:
            raise TargetRefused(f"names host {host!r}, which does not resolve")
        return [ip_address(names[host])]

    return resolve


def fast_config(**changes: Any) -> WorkerConfig:
    """Test timings: retries 50 ms apart, a 2 s timeout, a 4 s lease."""
    config = WorkerConfig(
        policy=TargetPolicy(allow_http=True, resolver=fake_resolver()),
        timeout=2,
        lease=timedelta(seconds=4),
        concurrency=4,
        poll_interval=0.02,
        schedule=(timedelta(0), *[timedelta(milliseconds=50)] * 9),
        jitter=0,
    )
    return replace(config, **changes)


def deliver(worker: Worker, until: Callable[[], bool], timeout: float = 5.0) -> None:
    """Run the worker until `until()` holds."""
    deadline = time.monotonic() + timeout
    while not until():
        if time.monotonic() > deadline:
            raise AssertionError("the deliveries did not happen in time")
        if worker.run_once() == 0:
            time.sleep(0.01)


def emit(
    engine: Engine, client_id: str, count: int = 1, *, now: datetime | None = None
) -> list[str]:
    """Events written straight to the outbox (as a committed change would); their ids."""
    with Session(engine) as session:
        ids = [
            outbox.emit(
                session,
                client_id=client_id,
                type=EventType.session_completed,
                data={"user_id": f"u-{i}", "external_id": f"x-{i}", "session_id": "s"},
                now=now or datetime.now(UTC),
            )
            for i in range(count)
        ]
        session.commit()
    return ids


@pytest.fixture
def dev_urls(app: FastAPI) -> Iterator[None]:
    """The API accepts http:// loopback URLs (the development setting) and
    resolves names with `NAMES`."""
    app.dependency_overrides[get_target_policy] = lambda: TargetPolicy(
        allow_http=True, resolver=fake_resolver()
    )
    yield
    app.dependency_overrides.pop(get_target_policy, None)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver()
    yield server
    server.close()


@pytest.fixture
def hook(api: Api, receiver: Receiver, dev_urls: None) -> dict[str, Any]:
    """An endpoint of the test's client at the receiver, for every event."""
    response = api.post("/v1/webhooks", json={"url": receiver.url, "events": ALL_EVENTS})
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    receiver.secrets.append(body["secret"])
    return body


@pytest.fixture
def worker(app: FastAPI) -> Iterator[Worker]:
    with Worker(app.state.engine, fast_config()) as deliverer:
        yield deliverer


@pytest.fixture
def api(http: TestClient, clock: Clock) -> Iterator[Api]:
    """A fresh client per test, whose endpoints (and so their deliveries) go
    at the end: tests share the database, and a later test's worker must not
    find this test's deliveries."""
    client = register(http)
    yield client
    for endpoint in client.get("/v1/webhooks", params={"limit": 100}).json()["items"]:
        client.delete(f"/v1/webhooks/{endpoint['id']}")


def deliveries(api: Api, endpoint_id: str, **params: Any) -> list[dict[str, Any]]:
    response = api.get(f"/v1/webhooks/{endpoint_id}/deliveries", params=params)
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items
