"""The fast path for the hottest reads (`api.hot`) answers exactly as the
documented routes do: same bytes, headers and conditional requests; and it
leaves every error to the routes."""

from __future__ import annotations

import json

import httpx
import pytest
from sqlalchemy import Engine
from sqlmodel import Session
from starlette.responses import Response
from starlette.types import Scope

from api.etags import etag_of
from api.hot import HotPaths
from api.idempotency import fingerprint
from api.keys import generate_key
from db.tables import IdempotencyRecord
from programs import IsoWeek
from tests.conftest import Api, Clock, register

# Headers that must match between the fast path and the routes.
COMPARED = (
    "content-type",
    "content-length",
    "etag",
    "cache-control",
    "content-security-policy",
    "x-content-type-options",
    "x-frame-options",
    "referrer-policy",
)


def same_answer(fast: httpx.Response, routed: httpx.Response) -> None:
    assert fast.status_code == routed.status_code == 200
    assert fast.content == routed.content
    for name in COMPARED:
        assert fast.headers.get(name) == routed.headers.get(name), name


def test_the_fast_path_answers_as_the_routes_do(api: Api, clock: Clock) -> None:
    user = api.user()
    week = IsoWeek.of(clock.now.date())
    plan_path = f"/v1/users/{user['id']}/plan"
    # A query parameter takes a request past the fast path, to the route.
    routed_plan = api.get(f"{plan_path}?week={week}")
    same_answer(api.get(plan_path), routed_plan)
    progress_path = f"/v1/users/{user['id']}/progress"
    routed_progress = api.get(f"{progress_path}?unused=1")
    same_answer(api.get(progress_path), routed_progress)
    same_answer(api.get("/v1/exercises"), api.get("/v1/exercises?limit=50"))


def test_the_fast_path_answers_if_none_match_with_304(api: Api) -> None:
    user = api.user()
    path = f"/v1/users/{user['id']}/plan"
    etag = api.get(path).headers["etag"]
    not_modified = api.get(path, headers={"If-None-Match": etag})
    assert not_modified.status_code == 304
    assert not_modified.content == b""
    assert not_modified.headers["etag"] == etag


def test_errors_are_the_routes_answers(api: Api) -> None:
    user = api.user()
    for path in (f"/v1/users/{user['id']}/plan", "/v1/exercises"):
        missing = api.http.get(path)
        assert missing.status_code == 401
        assert missing.headers["content-type"] == "application/problem+json"
        assert "www-authenticate" in missing.headers
        unknown = api.http.get(path, headers={"Authorization": f"Bearer {generate_key().key}"})
        assert unknown.status_code == 401
    other = api.get("/v1/users/no-such-person/progress")
    assert other.status_code == 404
    assert other.json()["status"] == 404
    writer = api.post("/v1/keys", json={"name": "writer", "scopes": ["sessions:write"]})
    assert writer.status_code == 201, writer.text
    scoped = Api(http=api.http, client_id=api.client_id, key=writer.json()["api_key"])
    refused = scoped.get(f"/v1/users/{user['id']}/plan")
    assert refused.status_code == 403
    assert refused.json()["type"] == "urn:backplan:problem:insufficient-scope"


# --- Completion PUT ----------------------------------------------------------------

REPORT = {"completed_at": "2026-11-18T09:30:00Z", "pain_during": 2, "effort": 4}


@pytest.fixture
def fast_reports(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The session ids of the completion PUTs the fast path answered itself."""
    answered: list[str] = []
    original = HotPaths._report

    async def counted(self: HotPaths, scope: Scope, body: bytes) -> Response | None:
        response = await original(self, scope, body)
        if response is not None:  # committed and answered here, not by the route
            answered.append(scope["path_params"]["session_id"])
        return response

    monkeypatch.setattr(HotPaths, "_report", counted)
    return answered


def two_sessions(api: Api) -> tuple[str, list[str]]:
    """A person whose program began on Monday of this week, and two paths of
    their completions."""
    user = api.user(program_start="2026-11-16", training_days=["mon", "wed", "fri"])
    sessions = api.get(f"/v1/users/{user['id']}/plan").json()["sessions"]
    paths = [f"/v1/users/{user['id']}/sessions/{s['id']}/completion" for s in sessions[:2]]
    return user["id"], paths


def test_a_completion_put_answers_as_the_route_does(
    api: Api, clock: Clock, fast_reports: list[str]
) -> None:
    _, (first, second) = two_sessions(api)
    for status in (201, 200):
        fast = api.put(first, json=REPORT)
        routed = api.put(f"{second}?via=route", json=REPORT)  # a query: the route
        assert fast.status_code == routed.status_code == status
        assert fast.json() | {"session_id": ""} == routed.json() | {"session_id": ""}
        for name in COMPARED:
            if name != "etag":  # of bodies that differ in the session id
                assert fast.headers.get(name) == routed.headers.get(name), name
        assert fast.headers["etag"] == etag_of(fast.content)
        assert routed.headers["etag"] == etag_of(routed.content)
    assert fast_reports == [first.split("/")[-2]] * 2
    assert api.get(first).json() == fast.json()


def test_a_fast_completion_is_stored_with_its_key_and_replayed(
    api: Api, clock: Clock, fast_reports: list[str]
) -> None:
    _, (path, _) = two_sessions(api)
    key = {"Idempotency-Key": "fast-1"}
    first = api.put(path, json={**REPORT, "skipped": []}, headers=key)
    assert first.status_code == 201
    assert len(fast_reports) == 1
    replayed = api.put(path, json={**REPORT, "skipped": []}, headers=key)
    assert replayed.status_code == 201
    assert replayed.headers["idempotent-replayed"] == "true"
    assert replayed.content == first.content
    assert replayed.headers["etag"] == first.headers["etag"]
    reused = api.put(path, json={**REPORT, "effort": 5}, headers=key)
    assert reused.status_code == 422
    assert reused.json()["type"] == "urn:backplan:problem:idempotency-key-reused"
    assert len(fast_reports) == 1  # the known key went to the routes both times
    assert api.get(path).json()["effort"] == REPORT["effort"]


def test_a_key_in_flight_leaves_the_report_to_the_routes_and_nothing_written(
    api: Api, clock: Clock, engine: Engine, fast_reports: list[str]
) -> None:
    _, (path, _) = two_sessions(api)
    body = json.dumps(REPORT).encode()
    with Session(engine) as session:
        session.add(
            IdempotencyRecord(
                owner=api.client_id,
                key="busy",
                fingerprint=fingerprint("PUT", path, body),
                method="PUT",
                path=path,
                lease="a" * 32,
                locked_at=clock.now,
                created_at=clock.now,
            )
        )
        session.commit()
    headers = {"Idempotency-Key": "busy", "Content-Type": "application/json"}
    busy = api.put(path, content=body, headers=headers)
    assert busy.status_code == 409
    assert fast_reports == []
    assert api.get(path).status_code == 404  # the fast path's work was rolled back


def test_a_fast_completion_with_skipped_exercises_checks_them(
    api: Api, clock: Clock, fast_reports: list[str]
) -> None:
    user_id, (path, _) = two_sessions(api)
    plan = api.get(f"/v1/users/{user_id}/plan").json()
    slug = plan["sessions"][0]["blocks"][0]["exercises"][0]["slug"]
    done = api.put(path, json={**REPORT, "skipped": [slug, slug]})
    assert done.status_code == 201
    assert done.json()["skipped"] == [slug]
    wrong = api.put(path, json={**REPORT, "skipped": ["not-in-this-session"]})
    assert wrong.status_code == 422
    assert wrong.json()["errors"][0]["pointer"] == "#/skipped/0"
    assert len(fast_reports) == 1


def test_completion_errors_are_the_routes_answers_and_stored_with_the_key(
    api: Api, clock: Clock, fast_reports: list[str]
) -> None:
    user_id, (path, _) = two_sessions(api)
    key = {"Idempotency-Key": "bad-1"}
    bad = api.put(path, json={**REPORT, "pain_during": 11}, headers=key)
    assert bad.status_code == 422
    again = api.put(path, json={**REPORT, "pain_during": 11}, headers=key)
    assert again.status_code == 422
    assert again.headers["idempotent-replayed"] == "true"
    early = api.put(path, json={**REPORT, "completed_at": "2026-11-14T18:30:00Z"})
    assert early.status_code == 422
    unknown = api.put(f"/v1/users/{user_id}/sessions/nope/completion", json=REPORT)
    assert unknown.status_code == 404
    text = api.put(path, content=b"pain", headers={"Content-Type": "text/plain"})
    assert text.status_code == 422
    assert api.http.put(path, json=REPORT).status_code == 401
    reader = api.post("/v1/keys", json={"name": "reader", "scopes": ["plans:read"]})
    scoped = Api(http=api.http, client_id=api.client_id, key=reader.json()["api_key"])
    assert scoped.put(path, json=REPORT).status_code == 403
    assert fast_reports == []


def test_another_clients_user_is_the_routes_404_and_nothing_is_written(
    api: Api, clock: Clock, fast_reports: list[str]
) -> None:
    _, (path, _) = two_sessions(api)
    other = register(api.http, "Another App")
    answer = other.put(path, json=REPORT, headers={"Idempotency-Key": "theirs-1"})
    assert answer.status_code == 404
    assert "user" in answer.json()["detail"]
    assert fast_reports == []
    assert api.get(path).status_code == 404  # no completion was stored
    assert api.put(path, json=REPORT).status_code == 201
