"""The worker against a real receiver: signatures, retries, timeouts, 410,
Retry-After, rotation, replay and refusals at delivery time."""

import json
import shutil
import ssl
import subprocess
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from sqlmodel import Session
from standardwebhooks import WebhookVerificationError

from api.webhooks.targets import TargetPolicy
from api.webhooks.worker import USER_AGENT, Worker, parse_retry_after
from db import deliveries as delivery_store
from tests.api.webhooks.conftest import deliver, deliveries, emit, fake_resolver, fast_config
from tests.api.webhooks.receiver import Receiver, Reply, verify
from tests.conftest import Api, Clock


@pytest.fixture
def engine_of(app: FastAPI) -> Any:
    return app.state.engine


def only(api: Api, hook: dict[str, Any]) -> dict[str, Any]:
    [delivery] = deliveries(api, hook["id"])
    return delivery


def test_a_delivery_is_signed_and_logged(
    api: Api, hook: dict[str, Any], receiver: Receiver, worker: Worker, app: FastAPI
) -> None:
    [event_id] = emit(app.state.engine, api.client_id)
    deliver(worker, until=lambda: len(receiver.received) == 1)
    [received] = receiver.received
    assert received.verified
    assert verify(received, hook["secret"]) == json.loads(received.body)
    assert received.webhook_id == event_id
    assert received.headers["content-type"] == "application/json"
    assert received.headers["user-agent"] == USER_AGENT
    assert received.headers["webhook-signature"].startswith("v1,")
    assert abs(int(received.headers["webhook-timestamp"]) - time.time()) < 5

    delivery = only(api, hook)
    assert (delivery["event_id"], delivery["status"]) == (event_id, "delivered")
    assert delivery["payload"] == received.payload
    [attempt] = delivery["attempts"]
    assert attempt["number"] == 1
    assert attempt["status_code"] == 204
    assert attempt["error"] is None
    assert attempt["duration_ms"] >= 0
    assert attempt["next_attempt_at"] is None


def test_a_tampered_delivery_fails_verification(
    api: Api, hook: dict[str, Any], receiver: Receiver, worker: Worker, app: FastAPI
) -> None:
    emit(app.state.engine, api.client_id)
    deliver(worker, until=lambda: len(receiver.received) == 1)
    [received] = receiver.received
    tampered = received.body.replace(b'"u-0"', b'"u-1"')
    assert tampered != received.body
    with pytest.raises(WebhookVerificationError):
        verify(received, hook["secret"], body=tampered)
    other_id = {**received.headers, "webhook-id": "evt_other"}
    with pytest.raises(WebhookVerificationError):
        verify(type(received)(headers=other_id, body=received.body, verified=False), hook["secret"])
    with pytest.raises(WebhookVerificationError):
        verify(received, "whsec_" + "QUJD" * 8)


def test_500s_and_timeouts_are_retried_with_the_same_webhook_id(
    api: Api, hook: dict[str, Any], receiver: Receiver, app: FastAPI
) -> None:
    receiver.replies = [Reply(500, body=b"oops"), Reply(delay=1.0), Reply(503)]
    [event_id] = emit(app.state.engine, api.client_id)
    with Worker(app.state.engine, fast_config(timeout=0.5)) as worker:
        deliver(worker, until=lambda: len(receiver.received) == 4)
        deliver(worker, until=lambda: only(api, hook)["status"] == "delivered")
    assert receiver.ids() == {event_id: 4}
    assert all(r.verified for r in receiver.received)
    assert len({r.body for r in receiver.received}) == 1
    attempts = only(api, hook)["attempts"]
    assert [(a["number"], a["status_code"]) for a in attempts] == [
        (1, 500),
        (2, None),
        (3, 503),
        (4, 204),
    ]
    assert attempts[0]["response_excerpt"] == "oops"
    assert attempts[1]["error"] == "No response within 0.5 s."
    assert all(a["next_attempt_at"] for a in attempts[:3])


def test_retry_after_is_honoured(
    api: Api, hook: dict[str, Any], receiver: Receiver, worker: Worker, app: FastAPI
) -> None:
    receiver.default = Reply(429, headers={"Retry-After": "120"})
    emit(app.state.engine, api.client_id)
    deliver(worker, until=lambda: len(receiver.received) == 1)
    deliver(worker, until=lambda: bool(only(api, hook)["attempts"]))
    delivery = only(api, hook)
    wait = datetime.fromisoformat(delivery["next_attempt_at"]) - datetime.now(UTC)
    assert timedelta(seconds=110) < wait <= timedelta(seconds=120)
    assert worker.run_once() == 0  # not due before then


def test_retry_after_headers() -> None:
    now = datetime(2026, 11, 18, 10, 0, tzinfo=UTC)
    assert parse_retry_after("30", now=now) == timedelta(seconds=30)
    assert parse_retry_after("Wed, 18 Nov 2026 10:02:00 GMT", now=now) == timedelta(minutes=2)
    assert parse_retry_after("Wed, 18 Nov 2026 09:00:00 GMT", now=now) == timedelta(0)
    assert parse_retry_after("soon", now=now) is None
    assert parse_retry_after(None, now=now) is None


def test_410_disables_the_endpoint_until_re_enabled(
    api: Api, hook: dict[str, Any], receiver: Receiver, worker: Worker, app: FastAPI
) -> None:
    receiver.replies = [Reply(410)]
    emit(app.state.engine, api.client_id)
    deliver(worker, until=lambda: only(api, hook)["status"] == "failed")
    endpoint = api.get(f"/v1/webhooks/{hook['id']}").json()
    assert endpoint["enabled"] is False
    assert "410 Gone" in endpoint["disabled_reason"]
    emit(app.state.engine, api.client_id)
    assert len(deliveries(api, hook["id"])) == 1  # nothing queued while disabled
    enabled = api.patch(f"/v1/webhooks/{hook['id']}", json={"enabled": True}).json()
    assert enabled["disabled_reason"] is None
    emit(app.state.engine, api.client_id)
    deliver(worker, until=lambda: len(receiver.received) == 2)


def test_sustained_failure_disables_the_endpoint(
    api: Api, hook: dict[str, Any], receiver: Receiver, app: FastAPI
) -> None:
    receiver.default = Reply(500)
    emit(app.state.engine, api.client_id)
    schedule = (timedelta(0), timedelta(milliseconds=20), timedelta(milliseconds=20))
    with Worker(app.state.engine, fast_config(schedule=schedule)) as worker:
        deliver(worker, until=lambda: only(api, hook)["status"] == "failed")
    assert len(receiver.received) == 3
    endpoint = api.get(f"/v1/webhooks/{hook['id']}").json()
    assert endpoint["enabled"] is False
    assert "3 attempts" in endpoint["disabled_reason"]
    assert "HTTP 500" in endpoint["disabled_reason"]


def test_a_failing_event_does_not_disable_an_endpoint_that_receives_others(
    api: Api, hook: dict[str, Any], receiver: Receiver, app: FastAPI
) -> None:
    [poison] = emit(app.state.engine, api.client_id)
    receiver.decide = lambda received: Reply(400 if received.webhook_id == poison else 204)
    schedule = (timedelta(0), timedelta(milliseconds=100), timedelta(milliseconds=100))
    with Worker(app.state.engine, fast_config(schedule=schedule)) as worker:
        worker.run_once()
        emit(app.state.engine, api.client_id)
        deliver(
            worker,
            until=lambda: (
                {d["status"] for d in deliveries(api, hook["id"])}
                == {
                    "failed",
                    "delivered",
                }
            ),
        )
    assert api.get(f"/v1/webhooks/{hook['id']}").json()["enabled"] is True


def test_redirects_are_not_followed(
    api: Api, hook: dict[str, Any], receiver: Receiver, worker: Worker, app: FastAPI
) -> None:
    receiver.replies = [Reply(307, headers={"Location": "http://127.0.0.1:9/elsewhere"})]
    emit(app.state.engine, api.client_id)
    deliver(worker, until=lambda: only(api, hook)["status"] == "delivered")
    first = only(api, hook)["attempts"][0]
    assert first["status_code"] == 307
    assert "Redirects are not followed" in first["error"]


def test_the_response_excerpt_is_capped(
    api: Api, hook: dict[str, Any], receiver: Receiver, worker: Worker, app: FastAPI
) -> None:
    receiver.replies = [Reply(200, body=b"x" * 5000)]
    emit(app.state.engine, api.client_id)
    deliver(worker, until=lambda: only(api, hook)["status"] == "delivered")
    assert only(api, hook)["attempts"][0]["response_excerpt"] == "x" * 1024


def test_both_secrets_sign_during_a_rotation(
    api: Api, hook: dict[str, Any], receiver: Receiver, app: FastAPI, clock: Clock
) -> None:
    old = hook["secret"]
    new = api.post(f"/v1/webhooks/{hook['id']}/rotate-secret").json()["secret"]
    receiver.secrets = [new]
    emit(app.state.engine, api.client_id, now=clock.now)
    # The worker's clock follows the test's, so the 24-hour grace can end.
    with Worker(app.state.engine, fast_config(), clock=lambda: clock.now) as worker:
        deliver(worker, until=lambda: len(receiver.received) == 1)
        during = receiver.received[0]
        assert len(during.headers["webhook-signature"].split(" ")) == 2
        assert verify(during, old)
        assert verify(during, new)

        clock.now += timedelta(hours=25)
        emit(app.state.engine, api.client_id, now=clock.now)
        deliver(worker, until=lambda: len(receiver.received) == 2)
    after = receiver.received[1]
    assert len(after.headers["webhook-signature"].split(" ")) == 1
    assert verify(after, new)
    with pytest.raises(WebhookVerificationError):
        verify(after, old)
    assert all(r.verified for r in receiver.received)


def test_a_replay_sends_the_event_again(
    api: Api, hook: dict[str, Any], receiver: Receiver, worker: Worker, app: FastAPI
) -> None:
    [event_id] = emit(app.state.engine, api.client_id)
    deliver(worker, until=lambda: len(receiver.received) == 1)
    delivery = only(api, hook)
    replayed = api.post(f"/v1/webhooks/{hook['id']}/deliveries/{delivery['id']}/replay")
    assert replayed.status_code == 202, replayed.text
    assert replayed.json()["status"] == "pending"
    deliver(worker, until=lambda: len(receiver.received) == 2)
    assert receiver.ids() == {event_id: 2}
    deliver(worker, until=lambda: only(api, hook)["status"] == "delivered")
    assert [a["number"] for a in only(api, hook)["attempts"]] == [1, 2]
    missing = api.post(f"/v1/webhooks/{hook['id']}/deliveries/nope/replay")
    assert missing.status_code == 404


def test_no_replay_while_an_attempt_is_in_flight(
    api: Api, hook: dict[str, Any], app: FastAPI
) -> None:
    emit(app.state.engine, api.client_id)
    with Session(app.state.engine) as session:
        [job] = delivery_store.claim(
            session, now=datetime.now(UTC), lease=timedelta(minutes=1), limit=10
        )
        session.commit()
    path = f"/v1/webhooks/{hook['id']}/deliveries/{job.delivery_id}"
    response = api.post(f"{path}/replay")
    assert response.status_code == 409
    assert response.headers["content-type"] == "application/problem+json"
    assert api.get(path).json()["attempt_count"] == 1


def test_the_log_pages_newest_first_and_filters_by_status(
    api: Api, hook: dict[str, Any], receiver: Receiver, worker: Worker, app: FastAPI
) -> None:
    receiver.replies = [Reply(410)]
    first = emit(app.state.engine, api.client_id)
    deliver(worker, until=lambda: only(api, hook)["status"] == "failed")
    api.patch(f"/v1/webhooks/{hook['id']}", json={"enabled": True})
    later = emit(app.state.engine, api.client_id, count=2)
    page = api.get(f"/v1/webhooks/{hook['id']}/deliveries", params={"limit": 2}).json()
    assert {d["event_id"] for d in page["items"]} == set(later)
    rest = api.get(
        f"/v1/webhooks/{hook['id']}/deliveries", params={"limit": 2, "cursor": page["next_cursor"]}
    ).json()
    assert [d["event_id"] for d in rest["items"]] == first
    assert rest["next_cursor"] is None
    failed = deliveries(api, hook["id"], status="failed")
    assert [d["event_id"] for d in failed] == first


def test_the_address_is_checked_again_at_delivery_time(
    api: Api, receiver: Receiver, app: FastAPI, dev_urls: None
) -> None:
    port = receiver.url.split(":")[2].split("/")[0]
    url = f"http://rebind.example.com:{port}/hooks"
    endpoint = api.post("/v1/webhooks", json={"url": url, "events": ["session.completed"]}).json()
    receiver.secrets.append(endpoint["secret"])
    emit(app.state.engine, api.client_id)

    # The name now resolves to a private address: nothing is sent.
    rebound = TargetPolicy(
        allow_http=True, resolver=fake_resolver({"rebind.example.com": "10.1.2.3"})
    )
    with Worker(app.state.engine, fast_config(policy=rebound)) as worker:
        deliver(worker, until=lambda: bool(only(api, endpoint)["attempts"]))
    attempt = only(api, endpoint)["attempts"][0]
    assert attempt["status_code"] is None
    assert "10.1.2.3, a private address" in attempt["error"]
    assert receiver.received == []

    # Resolved to loopback (allowed here): sent to the address checked, for the name.
    with Worker(app.state.engine, fast_config()) as worker:
        deliver(worker, until=lambda: len(receiver.received) == 1)
    assert receiver.received[0].headers["host"] == f"rebind.example.com:{port}"
    assert receiver.received[0].verified


def test_a_worker_shares_nothing_with_other_clients(
    api: Api, hook: dict[str, Any], receiver: Receiver, worker: Worker, app: FastAPI
) -> None:
    from tests.conftest import register

    other = register(api.http, "Other app")
    emit(app.state.engine, other.client_id)
    assert worker.run_once() == 0
    assert receiver.received == []


def test_in_flight_deliveries_finish_when_the_loop_stops(
    api: Api, hook: dict[str, Any], receiver: Receiver, app: FastAPI
) -> None:
    receiver.replies = [Reply(delay=0.2)]
    emit(app.state.engine, api.client_id)
    stop = threading.Event()
    with Worker(app.state.engine, fast_config()) as worker:
        loop = threading.Thread(target=worker.run, args=(stop,))
        loop.start()
        receiver.wait_for(1)
        stop.set()
        loop.join(5)
    assert only(api, hook)["status"] == "delivered"


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed certificate for hooks.example.com, and its key."""
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("needs the openssl command to make a test certificate")
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [
            openssl,
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=hooks.example.com",
            "-addext",
            "subjectAltName=DNS:hooks.example.com",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
    )
    return cert, key


def test_https_goes_to_the_checked_address_and_verifies_the_host_name(
    api: Api, app: FastAPI, dev_urls: None, certificate: tuple[Path, Path]
) -> None:
    cert, key = certificate
    server_tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_tls.load_cert_chain(cert, key)
    receiver = Receiver(tls=server_tls)
    try:
        hooks: dict[str, dict[str, Any]] = {}
        for name in ("hooks.example.com", "other.example.com"):
            url = f"https://{name}:{receiver.port}/in"
            hooks[name] = api.post(
                "/v1/webhooks", json={"url": url, "events": ["session.completed"]}
            ).json()
            receiver.secrets.append(hooks[name]["secret"])
        emit(app.state.engine, api.client_id)
        # Both names now resolve to the receiver; only one has its certificate.
        local = fake_resolver(dict.fromkeys(hooks, "127.0.0.1"))
        config = fast_config(
            policy=TargetPolicy(allow_http=True, resolver=local),
            tls=ssl.create_default_context(cafile=cert),
        )
        with Worker(app.state.engine, config) as worker:
            deliver(worker, until=lambda: all(only(api, h)["attempts"] for h in hooks.values()))
        [received] = receiver.received
        assert received.verified
        assert received.headers["host"] == f"hooks.example.com:{receiver.port}"
        assert only(api, hooks["hooks.example.com"])["status"] == "delivered"
        refused = only(api, hooks["other.example.com"])["attempts"][0]
        assert refused["status_code"] is None
        assert "CERTIFICATE_VERIFY_FAILED" in refused["error"]
    finally:
        receiver.close()
