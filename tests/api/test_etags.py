import threading
from typing import Any

import httpx
import pytest

from api.etags import etag_of, matches, none_match
from tests.conftest import Api

TAG = etag_of(b"{}")


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (TAG, True),
        (f"W/{TAG}", True),  # If-None-Match compares weakly
        (f'"other", {TAG}', True),
        ("*", True),
        ('"other"', False),
        ("not-a-tag", False),
        ("", False),
    ],
)
def test_if_none_match(header: str, expected: bool) -> None:
    assert none_match(header, TAG) is expected


@pytest.mark.parametrize(
    ("header", "expected"),
    [(TAG, True), ("*", True), (f'"x", {TAG}', True), (f"W/{TAG}", False), ('"x"', False)],
)
def test_if_match_compares_strongly(header: str, expected: bool) -> None:
    assert matches(header, TAG) is expected


def test_tags_are_strong_and_follow_the_body() -> None:
    assert TAG.startswith('"')
    assert not TAG.startswith("W/")
    assert etag_of(b"{}") == TAG != etag_of(b"[]")


def a_ready_user(api: Api) -> dict[str, Any]:
    user = api.user(program_start="2026-11-16")
    episode = {"onset_date": "2026-09-01", "pain_now": 1, "resolved_on": "2026-09-20"}
    api.post(f"/v1/users/{user['id']}/episodes", json=episode)
    return user


def test_reads_carry_an_etag_and_answer_304_when_it_matches(api: Api) -> None:
    user = a_ready_user(api)
    episode = api.get(f"/v1/users/{user['id']}/episodes").json()["items"][0]
    paths = [
        f"/v1/users/{user['id']}",
        f"/v1/users/{user['id']}/plan",
        f"/v1/users/{user['id']}/progress",
        f"/v1/users/{user['id']}/episodes/{episode['id']}",
        "/v1/exercises",
        "/v1/exercises/bird-dog",
        "/v1/users",
    ]
    for path in paths:
        first = api.get(path)
        etag = first.headers["etag"]
        assert etag == etag_of(first.content), path
        assert first.headers["cache-control"] == "private, no-cache"
        cached = api.get(path, headers={"If-None-Match": etag})
        assert cached.status_code == 304, path
        assert cached.content == b""
        assert cached.headers["etag"] == etag
    # Weak comparison, lists and `*`; a stale tag gets the representation.
    path, etag = paths[0], api.get(paths[0]).headers["etag"]
    for header in (f"W/{etag}", f'"stale", {etag}', "*"):
        assert api.get(path, headers={"If-None-Match": header}).status_code == 304, header
    assert api.get(path, headers={"If-None-Match": '"stale"'}).status_code == 200


def test_the_etag_changes_with_the_representation(api: Api) -> None:
    user = a_ready_user(api)
    before = api.get(f"/v1/users/{user['id']}/progress").headers["etag"]
    session = api.get(f"/v1/users/{user['id']}/plan").json()["sessions"][0]
    api.put(
        f"/v1/users/{user['id']}/sessions/{session['id']}/completion",
        json={"completed_at": f"{session['date']}T19:00:00Z", "pain_during": 1, "effort": 3},
    )
    after = api.get(f"/v1/users/{user['id']}/progress", headers={"If-None-Match": before})
    assert after.status_code == 200
    assert after.headers["etag"] != before


@pytest.mark.parametrize("kind", ["user", "episode"])
def test_if_match_updates_only_what_was_read(api: Api, kind: str) -> None:
    user = api.user()
    path = f"/v1/users/{user['id']}"
    change, other = {"session_minutes": 40}, {"session_minutes": 45}
    if kind == "episode":
        created = api.post(f"{path}/episodes", json={"onset_date": "2026-11-10", "pain_now": 4})
        path = created.headers["location"]
        change, other = {"pain_now": 3}, {"pain_now": 2}
    read = api.get(path)
    etag = read.headers["etag"]

    updated = api.patch(path, json=change, headers={"If-Match": etag})
    assert updated.status_code == 200
    assert updated.headers["etag"] == api.get(path).headers["etag"] != etag

    stale = api.patch(path, json=other, headers={"If-Match": etag})
    assert stale.status_code == 412
    assert stale.headers["content-type"] == "application/problem+json"
    assert api.get(path).json() == updated.json()
    weak = f"W/{updated.headers['etag']}"
    assert api.patch(path, json=other, headers={"If-Match": weak}).status_code == 412
    assert api.patch(path, json=other, headers={"If-Match": "*"}).status_code == 200


def test_concurrent_updates_with_one_etag_let_one_win(api: Api) -> None:
    user = api.user()
    path = f"/v1/users/{user['id']}"
    etag = api.get(path).headers["etag"]
    start = threading.Barrier(4)
    responses: list[httpx.Response] = []

    def patch(minutes: int) -> None:
        start.wait()
        responses.append(
            api.patch(path, json={"session_minutes": minutes}, headers={"If-Match": etag})
        )

    threads = [threading.Thread(target=patch, args=(20 + i,)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(response.status_code for response in responses) == [200, 412, 412, 412]


def test_the_conditional_headers_are_documented(api: Api) -> None:
    document = api.get("/openapi.json").json()
    for path, item in document["paths"].items():
        if "get" in item and path.startswith("/v1/"):
            names = [p["name"] for p in item["get"]["parameters"]]
            assert "If-None-Match" in names, path
            assert "304" in item["get"]["responses"], path
    for path in ("/v1/users/{user_id}", "/v1/users/{user_id}/episodes/{episode_id}"):
        patch = document["paths"][path]["patch"]
        assert "If-Match" in [p["name"] for p in patch["parameters"]]
        assert "412" in patch["responses"]
