"""Registering, listing, changing, rotating and deleting webhook endpoints."""

import base64
from ipaddress import ip_network
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlmodel import Session

from api.deps import get_target_policy
from api.webhooks.targets import TargetPolicy
from db import idempotency
from tests.api.webhooks.conftest import ALL_EVENTS, fake_resolver
from tests.conftest import Api, Clock, register

URL = "https://hooks.example.com/backplan"


def create(api: Api, **fields: Any) -> dict[str, Any]:
    response = api.post("/v1/webhooks", json={"url": URL, "events": ALL_EVENTS, **fields})
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def test_registering_answers_the_secret_once(api: Api, dev_urls: None, clock: Clock) -> None:
    created = create(api, events=["session.completed", "user.deleted"], description="prod")
    secret = created.pop("secret")
    assert secret.startswith("whsec_")
    assert len(base64.b64decode(secret.removeprefix("whsec_"))) >= 24
    assert created["url"] == URL
    assert created["events"] == ["session.completed", "user.deleted"]
    assert created["description"] == "prod"
    assert created["enabled"] is True
    assert created["disabled_reason"] is None
    assert created["created_at"] == "2026-11-18T10:00:00Z"
    read = api.get(f"/v1/webhooks/{created['id']}").json()
    assert read == created
    assert "secret" not in api.get("/v1/webhooks").json()["items"][0]


def test_events_must_be_known_and_repeats_collapse(api: Api, dev_urls: None) -> None:
    assert create(api, events=["stage.changed", "stage.changed"])["events"] == ["stage.changed"]
    for events, pointer in (([], "#/events"), (["session.started"], "#/events/0")):
        response = api.post("/v1/webhooks", json={"url": URL, "events": events})
        assert response.status_code == 422
        assert [e["pointer"] for e in response.json()["errors"]] == [pointer]
    response = api.post("/v1/webhooks", json={"url": URL, "events": ALL_EVENTS, "secret": "x"})
    assert response.status_code == 422


def test_urls_that_could_reach_inside_are_refused(api: Api, app: FastAPI) -> None:
    # Every kind of address is covered by test_targets; here, the problem's shape.
    app.dependency_overrides[get_target_policy] = lambda: TargetPolicy(resolver=fake_resolver())
    try:
        for url, reason in (
            ("http://hooks.example.com/x", "must use https"),
            ("https://127.0.0.1/x", "loopback"),
            ("https://internal.example.com/x", "private"),
            ("https://169.254.169.254/latest/meta-data", "link-local"),
        ):
            response = api.post("/v1/webhooks", json={"url": url, "events": ALL_EVENTS})
            assert response.status_code == 422, response.text
            assert response.headers["content-type"] == "application/problem+json"
            [error] = response.json()["errors"]
            assert error["pointer"] == "#/url"
            assert reason in error["detail"]
    finally:
        app.dependency_overrides.pop(get_target_policy, None)
    assert api.get("/v1/webhooks").json()["items"] == []


def test_loopback_over_http_only_with_the_development_setting(api: Api, dev_urls: None) -> None:
    assert create(api, url="http://127.0.0.1:9/hook")["url"] == "http://127.0.0.1:9/hook"
    assert create(api, url="https://rebind.example.com/hook")["enabled"]
    refused = api.post("/v1/webhooks", json={"url": "http://10.0.0.7/x", "events": ALL_EVENTS})
    assert refused.status_code == 422
    assert "private" in refused.json()["errors"][0]["detail"]


def test_the_operator_may_allow_a_private_network(api: Api, app: FastAPI) -> None:
    app.dependency_overrides[get_target_policy] = lambda: TargetPolicy(
        allowed_networks=(ip_network("10.0.0.0/8"),), resolver=fake_resolver()
    )
    try:
        assert create(api, url="https://internal.example.com/x")["enabled"]
        other = api.post("/v1/webhooks", json={"url": "https://192.168.1.2/", "events": ["a"]})
        assert other.status_code == 422
    finally:
        app.dependency_overrides.pop(get_target_policy, None)


def test_the_real_policy_refuses_loopback(api: Api) -> None:
    response = api.post("/v1/webhooks", json={"url": "http://127.0.0.1:9/", "events": ALL_EVENTS})
    assert response.status_code == 422
    assert "https" in response.json()["errors"][0]["detail"]


def test_updates(api: Api, dev_urls: None, clock: Clock) -> None:
    endpoint = create(api, description="first")
    path = f"/v1/webhooks/{endpoint['id']}"
    changed = api.patch(path, json={"events": ["referral.needed"], "description": None})
    assert changed.status_code == 200, changed.text
    assert changed.json()["events"] == ["referral.needed"]
    assert changed.json()["description"] is None
    disabled = api.patch(path, json={"enabled": False}).json()
    assert disabled["enabled"] is False
    assert disabled["disabled_reason"] == "Disabled by the client."
    assert disabled["disabled_at"] == "2026-11-18T10:00:00Z"
    enabled = api.patch(path, json={"enabled": True}).json()
    assert (enabled["enabled"], enabled["disabled_reason"], enabled["disabled_at"]) == (
        True,
        None,
        None,
    )
    for bad, pointer in (
        ({"enabled": None}, "#/enabled"),
        ({"enabled": "yes"}, "#/enabled"),
        ({"url": None}, "#/url"),
        ({"events": []}, "#/events"),
        ({"url": "https://10.0.0.7/x"}, "#/url"),
    ):
        response = api.patch(path, json=bad)
        assert response.status_code == 422, bad
        assert [e["pointer"] for e in response.json()["errors"]] == [pointer]
    assert api.get(path).json()["url"] == URL


def test_rotation_gives_a_new_secret_and_a_grace_period(
    api: Api, dev_urls: None, clock: Clock
) -> None:
    endpoint = create(api)
    rotated = api.post(f"/v1/webhooks/{endpoint['id']}/rotate-secret")
    assert rotated.status_code == 200
    assert rotated.json()["secret"].startswith("whsec_")
    assert rotated.json()["secret"] != endpoint["secret"]
    assert rotated.json()["previous_secret_expires_at"] == "2026-11-19T10:00:00Z"
    assert endpoint["previous_secret_expires_at"] is None


def test_listing_pages_with_a_cursor(api: Api, dev_urls: None, clock: Clock) -> None:
    ids = sorted(create(api)["id"] for _ in range(3))  # one instant: by id
    first = api.get("/v1/webhooks", params={"limit": 2}).json()
    assert [e["id"] for e in first["items"]] == ids[:2]
    assert first["next_cursor"]
    second = api.get("/v1/webhooks", params={"limit": 2, "cursor": first["next_cursor"]}).json()
    assert [e["id"] for e in second["items"]] == ids[2:]
    assert second["next_cursor"] is None
    bad = api.get("/v1/webhooks", params={"cursor": "not-a-cursor"})
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["parameter"] == "cursor"


def test_another_clients_endpoint_is_not_found(api: Api, http: TestClient, dev_urls: None) -> None:
    endpoint = create(api)
    other = register(http, "Other app")
    path = f"/v1/webhooks/{endpoint['id']}"
    for method, suffix in (
        ("GET", ""),
        ("PATCH", ""),
        ("DELETE", ""),
        ("POST", "/rotate-secret"),
        ("GET", "/deliveries"),
    ):
        kwargs: dict[str, Any] = {"json": {"enabled": False}} if method == "PATCH" else {}
        response = other.call(method, path + suffix, **kwargs)
        assert response.status_code == 404, (method, suffix)
    assert other.get("/v1/webhooks").json()["items"] == []
    assert api.get(path).json()["enabled"] is True


def test_deleting(api: Api, dev_urls: None) -> None:
    path = f"/v1/webhooks/{create(api)['id']}"
    assert api.delete(path).status_code == 204
    assert api.get(path).status_code == 404
    assert api.delete(path).status_code == 404


def test_a_key_is_required(http: TestClient) -> None:
    response = http.get("/v1/webhooks")
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Bearer")


def test_the_openapi_document_describes_every_event(http: TestClient) -> None:
    schema = http.get("/openapi.json").json()
    assert set(schema["webhooks"]) == set(ALL_EVENTS)
    for name, webhook in schema["webhooks"].items():
        operation = webhook["post"]
        headers = {p["name"] for p in operation["parameters"] if p["in"] == "header"}
        assert headers == {"webhook-id", "webhook-timestamp", "webhook-signature"}, name
        assert "requestBody" in operation
        assert "Standard Webhooks" in operation["description"]
    create_op = schema["paths"]["/v1/webhooks"]["post"]
    assert "webhook-signature" in create_op["description"]
    assert (
        "409"
        in schema["paths"]["/v1/webhooks/{endpoint_id}/deliveries/{delivery_id}/replay"]["post"][
            "responses"
        ]
    )


def test_an_idempotent_replay_never_shows_or_stores_the_secret(
    api: Api, app: FastAPI, dev_urls: None
) -> None:
    key = {"Idempotency-Key": '"8e03978e-40d5-43e8-bc93-6894a57f9324"'}
    body = {"url": URL, "events": ALL_EVENTS}
    first = api.post("/v1/webhooks", json=body, headers=key)
    again = api.post("/v1/webhooks", json=body, headers=key)
    assert first.status_code == again.status_code == 201
    assert first.json()["secret"].startswith("whsec_")
    assert again.headers["idempotent-replayed"] == "true"
    assert again.json() == {**first.json(), "secret": None}
    assert len(api.get("/v1/webhooks").json()["items"]) == 1
    with Session(app.state.engine) as session:
        stored = idempotency.find(session, owner=api.client_id, key=key["Idempotency-Key"][1:-1])
    assert stored is not None
    assert stored.body is not None
    assert b"whsec_" not in stored.body
