import json
import threading
import uuid
from datetime import timedelta
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlmodel import Session, func, select
from starlette.requests import Request

from api.idempotency import fingerprint, target_of
from db.tables import ApiKey, Episode, IdempotencyRecord
from tests.conftest import Api, Clock, register, user_fields

EPISODE = {"onset_date": "2026-09-01", "pain_now": 1, "resolved_on": "2026-09-20"}


def engine_of(api: Api) -> Engine:
    engine: Engine = api.http.app.state.engine  # type: ignore[attr-defined]
    return engine


def episodes_of(api: Api, user: dict[str, Any]) -> int:
    with Session(engine_of(api)) as session:
        return session.exec(select(func.count()).where(Episode.user_id == user["id"])).one()


def report(
    api: Api, user: dict[str, Any], key: str, body: dict[str, Any] = EPISODE
) -> httpx.Response:
    return api.post(f"/v1/users/{user['id']}/episodes", json=body, headers={"Idempotency-Key": key})


def test_a_repeat_gets_the_stored_response_and_changes_nothing(api: Api, clock: Clock) -> None:
    user = api.user()
    key = f'"{uuid.uuid4()}"'
    first = report(api, user, key)
    assert first.status_code == 201
    assert "idempotent-replayed" not in first.headers
    clock.now += timedelta(minutes=5)
    again = report(api, user, key)
    assert again.status_code == 201
    assert again.headers["idempotent-replayed"] == "true"
    assert again.content == first.content
    for header in ("content-type", "location", "etag"):
        assert again.headers[header] == first.headers[header]
    assert episodes_of(api, user) == 1


def test_a_quoted_key_and_the_same_bare_token_are_one_key(api: Api) -> None:
    user = api.user()
    assert report(api, user, '"abc-123"').status_code == 201
    assert report(api, user, "abc-123").headers["idempotent-replayed"] == "true"
    assert episodes_of(api, user) == 1


def test_without_a_key_every_request_runs(api: Api) -> None:
    user = api.user()
    for _ in range(2):
        assert api.post(f"/v1/users/{user['id']}/episodes", json=EPISODE).status_code == 201
    assert episodes_of(api, user) == 2


def test_the_same_key_for_another_request_is_422(api: Api) -> None:
    user = api.user()
    assert report(api, user, "k-1").status_code == 201
    for response in (
        report(api, user, "k-1", {**EPISODE, "pain_now": 2}),
        api.post("/v1/users", json=user_fields(), headers={"Idempotency-Key": "k-1"}),
    ):
        assert response.status_code == 422
        assert response.json()["type"] == "urn:backplan:problem:idempotency-key-reused"
    assert episodes_of(api, user) == 1


def test_keys_belong_to_their_client(api: Api, http: TestClient) -> None:
    other = register(http, "Other app")
    for client in (api, other):
        response = client.post("/v1/users", json=user_fields(), headers={"Idempotency-Key": "k"})
        assert response.status_code == 201
        assert "idempotent-replayed" not in response.headers


def claim_in_flight(api: Api, *, key: str, path: str, body: bytes, clock: Clock) -> None:
    """What a request still running (or one whose process died) leaves behind."""
    with Session(engine_of(api)) as session:
        session.add(
            IdempotencyRecord(
                owner=api.client_id,
                key=key,
                fingerprint=fingerprint("POST", path, body),
                method="POST",
                path=path,
                lease="0" * 32,
                locked_at=clock.now,
                created_at=clock.now,
            )
        )
        session.commit()


def test_while_the_first_is_in_flight_409_then_an_abandoned_claim_is_taken_over(
    api: Api, clock: Clock
) -> None:
    user = api.user()
    path = f"/v1/users/{user['id']}/episodes"
    body = json.dumps(EPISODE).encode()
    claim_in_flight(api, key="busy", path=path, body=body, clock=clock)

    def send() -> httpx.Response:
        headers = {"Idempotency-Key": "busy", "Content-Type": "application/json"}
        return api.post(path, content=body, headers=headers)

    busy = send()
    assert busy.status_code == 409
    assert busy.json()["type"] == "urn:backplan:problem:request-in-progress"
    assert busy.headers["retry-after"] == "1"
    assert episodes_of(api, user) == 0

    clock.now += timedelta(seconds=61)  # the lease ran out: its process died
    assert send().status_code == 201
    assert send().headers["idempotent-replayed"] == "true"
    assert episodes_of(api, user) == 1


def test_client_errors_are_stored_and_replayed(api: Api) -> None:
    invalid = api.post("/v1/users", json={"external_id": ""}, headers={"Idempotency-Key": "bad"})
    assert invalid.status_code == 422
    again = api.post("/v1/users", json={"external_id": ""}, headers={"Idempotency-Key": "bad"})
    assert again.status_code == 422
    assert again.headers["idempotent-replayed"] == "true"
    assert again.headers["content-type"] == "application/problem+json"
    assert again.json() == invalid.json()

    missing = api.post("/v1/users/nobody/episodes", json=EPISODE, headers={"Idempotency-Key": "nf"})
    assert missing.status_code == 404
    replay = api.post("/v1/users/nobody/episodes", json=EPISODE, headers={"Idempotency-Key": "nf"})
    assert (replay.status_code, replay.headers["idempotent-replayed"]) == (404, "true")


def test_a_server_error_releases_the_key(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    user = api.user()
    quiet = TestClient(api.http.app, raise_server_exceptions=False)
    headers = {"Authorization": f"Bearer {api.key}", "Idempotency-Key": "retry-me"}
    path = f"/v1/users/{user['id']}/episodes"

    def broken(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("the disk is full")

    with monkeypatch.context() as patched:
        patched.setattr("api.routes.episodes.planning.report_episode", broken)
        assert quiet.post(path, json=EPISODE, headers=headers).status_code == 500
    retried = quiet.post(path, json=EPISODE, headers=headers)
    assert retried.status_code == 201
    assert "idempotent-replayed" not in retried.headers
    assert episodes_of(api, user) == 1


@pytest.mark.parametrize(
    "key",
    ["", '""', '"unterminated', '"a"b"', "x" * 256, "with space", '"caf\u00e9"'.encode(), '"\\n"'],
)
def test_an_invalid_key_is_400_naming_the_header(api: Api, key: str | bytes) -> None:
    response = api.post("/v1/users", json=user_fields(), headers={"Idempotency-Key": key})
    assert response.status_code == 400, key
    assert response.json()["errors"][0]["parameter"] == "Idempotency-Key"


def test_concurrent_duplicates_take_effect_once(api: Api) -> None:
    user = api.user()
    start = threading.Barrier(6)
    responses: list[httpx.Response] = []

    def send() -> None:
        start.wait()
        responses.append(report(api, user, "together"))

    threads = [threading.Thread(target=send) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    statuses = [
        (response.status_code, response.headers.get("idempotent-replayed", "no"))
        for response in responses
    ]
    assert statuses.count((201, "no")) == 1
    assert set(statuses) <= {(201, "no"), (201, "true"), (409, "no")}
    assert episodes_of(api, user) == 1


def test_keys_are_kept_a_day_then_forgotten(api: Api, clock: Clock) -> None:
    user = api.user()
    assert report(api, user, "daily").status_code == 201
    clock.now += timedelta(hours=23)
    assert report(api, user, "daily").headers["idempotent-replayed"] == "true"
    clock.now += timedelta(hours=2)
    fresh = report(api, user, "daily", {**EPISODE, "pain_now": 2})
    assert fresh.status_code == 201
    assert "idempotent-replayed" not in fresh.headers


def test_a_replay_does_not_repeat_a_secret(api: Api) -> None:
    body = {"name": "watch", "scopes": ["plans:read"]}
    first = api.post("/v1/keys", json=body, headers={"Idempotency-Key": "new-key"})
    again = api.post("/v1/keys", json=body, headers={"Idempotency-Key": "new-key"})
    assert first.status_code == again.status_code == 201
    assert first.json()["api_key"].startswith("bp_live_")
    assert again.json() == {**first.json(), "api_key": None}
    with Session(engine_of(api)) as session:
        stored = session.exec(select(IdempotencyRecord.body)).all()
        assert not any(first.json()["api_key"].encode() in (body or b"") for body in stored)
        count = select(func.count()).where(ApiKey.client_id == api.client_id)
        assert session.exec(count).one() == 2


def test_every_write_documents_the_header(http: TestClient) -> None:
    document = http.get("/openapi.json").json()
    writes = [
        (method, path, operation)
        for path, item in document["paths"].items()
        for method, operation in item.items()
        if method in {"post", "put", "patch", "delete"}
    ]
    assert len(writes) >= 12
    for method, path, operation in writes:
        headers = [p["name"] for p in operation.get("parameters", []) if p["in"] == "header"]
        assert "Idempotency-Key" in headers, (method, path)
        assert {"400", "409", "422"} <= set(operation["responses"]), (method, path)


def test_a_path_that_cannot_name_a_person_is_stored_about_nobody(api: Api) -> None:
    path = f"/v1/users/{'0' * 64}/calendar-feed"
    for replayed in ("no", "true"):
        response = api.delete(path, headers={"Idempotency-Key": "long-id"})
        assert response.status_code == 404
        assert response.headers.get("idempotent-replayed", "no") == replayed


@pytest.mark.parametrize(
    ("path", "query"),
    [
        ("/v1/users/u-1/sessions/s-1/completion", b""),
        ("/v1/users", b"external_id=a%20b&limit=5"),
        ("/v1/caf\u00e9", b"q=caf%C3%A9"),
    ],
)
def test_a_keys_target_is_the_requests_path_and_query(path: str, query: bytes) -> None:
    scope = {
        "type": "http",
        "method": "PUT",
        "path": path,
        "raw_path": path.encode(),
        "query_string": query,
        "root_path": "",
        "headers": [(b"host", b"api.example.com")],
        "scheme": "https",
        "server": ("api.example.com", 443),
    }
    request = Request(scope)
    url = request.url
    assert target_of(request) == url.path + (f"?{url.query}" if url.query else "")
