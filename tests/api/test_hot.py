"""The fast path for the hottest reads (`api.hot`) answers exactly as the
documented routes do: same bytes, headers and conditional requests; and it
leaves every error to the routes."""

from __future__ import annotations

import httpx

from api.keys import generate_key
from programs import IsoWeek
from tests.conftest import Api, Clock

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
