"""Bad input: too large, malformed, unknown fields, out-of-range dates and
pain, someone else's session, and hostile text. Each is refused with a
problem and changes nothing, or (hostile text) is kept as plain data."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from starlette.types import Message, Receive, Scope, Send

from api.middleware import BodyLimit
from tests.conftest import Api, register, user_fields

LIMIT = 64 * 1024
PROBLEM = "application/problem+json"
REPORT = {"completed_at": "2026-11-16T18:30:00Z", "pain_during": 2, "effort": 4}


@pytest.fixture
def user(api: Api) -> dict[str, Any]:
    """A user whose program began on Monday 2026-11-16 (the clock says Wednesday)."""
    return api.user(program_start="2026-11-16")


@pytest.fixture
def completion(api: Api, user: dict[str, Any]) -> str:
    """The completion URL of the user's Monday session."""
    session = api.get(f"/v1/users/{user['id']}/plan").json()["sessions"][0]
    return f"/v1/users/{user['id']}/sessions/{session['id']}/completion"


def assert_problem(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    problem: dict[str, Any] = response.json()
    assert problem["status"] == status
    return problem


def padded(fields: dict[str, Any], size: int) -> bytes:
    """`fields` as a JSON object of exactly `size` bytes (whitespace inside)."""
    body = json.dumps(fields).encode()
    return body[:-1] + b" " * (size - len(body)) + b"}"


# --- Size -------------------------------------------------------------------


def test_a_body_over_64_kib_is_a_413_problem_and_stores_nothing(api: Api) -> None:
    fields = user_fields()
    response = api.post(
        "/v1/users", content=padded(fields, LIMIT + 1), headers={"Content-Type": "application/json"}
    )
    problem = assert_problem(response, 413)
    assert problem["instance"] == "/v1/users"
    found = api.get("/v1/users", params={"external_id": fields["external_id"]})
    assert found.json()["items"] == []


def test_a_body_of_exactly_64_kib_is_accepted(api: Api) -> None:
    response = api.post(
        "/v1/users",
        content=padded(user_fields(), LIMIT),
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == 201, response.text


def run_asgi(
    app: BodyLimit, chunks: list[bytes], headers: list[tuple[bytes, bytes]]
) -> list[Message]:
    """One request through `app`, its body sent in `chunks`; the messages sent back."""
    scope: Scope = {"type": "http", "method": "POST", "path": "/v1/users", "headers": headers}
    incoming = [
        {"type": "http.request", "body": chunk, "more_body": i < len(chunks) - 1}
        for i, chunk in enumerate(chunks)
    ]
    sent: list[Message] = []

    async def receive() -> Message:
        return incoming.pop(0) if incoming else {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        sent.append(message)

    asyncio.run(app(scope, receive, send))
    return sent


class Recorder:
    """An ASGI app that records the body it was given and answers 204."""

    def __init__(self) -> None:
        self.bodies: list[bytes] = []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        message = await receive()
        assert message["more_body"] is False
        self.bodies.append(message["body"])
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})


def test_a_chunked_body_over_the_limit_is_413_before_the_app_sees_it() -> None:
    app = Recorder()
    chunked = [(b"transfer-encoding", b"chunked")]
    sent = run_asgi(BodyLimit(app, max_bytes=LIMIT), [b"x" * 16384] * 4 + [b"x"], chunked)
    assert sent[0]["status"] == 413
    assert (b"content-type", PROBLEM.encode()) in sent[0]["headers"]
    assert json.loads(sent[1]["body"])["status"] == 413
    assert app.bodies == []

    sent = run_asgi(BodyLimit(app, max_bytes=LIMIT), [b"x" * 16384] * 4, chunked)
    assert sent[0]["status"] == 204
    assert app.bodies == [b"x" * LIMIT]


def test_a_declared_length_over_the_limit_is_413_without_reading_the_body() -> None:
    app = Recorder()
    sent = run_asgi(
        BodyLimit(app, max_bytes=LIMIT), [], [(b"content-length", str(LIMIT + 1).encode())]
    )
    assert sent[0]["status"] == 413
    assert app.bodies == []


# --- Malformed JSON and unknown fields ----------------------------------------

MALFORMED = [b"{", b'{"pain_during": 2,}', b"\xff\xfe\x00", b"{'single': 'quotes'}", b"NaN"]


@pytest.mark.parametrize("body", MALFORMED)
def test_malformed_json_is_a_400_or_422_problem_on_every_body(
    api: Api, user: dict[str, Any], completion: str, body: bytes
) -> None:
    episode = api.post(
        f"/v1/users/{user['id']}/episodes", json={"onset_date": "2026-10-01", "pain_now": 2}
    ).json()
    targets = [
        ("POST", "/v1/users"),
        ("PATCH", f"/v1/users/{user['id']}"),
        ("POST", f"/v1/users/{user['id']}/episodes"),
        ("PATCH", f"/v1/users/{user['id']}/episodes/{episode['id']}"),
        ("PUT", completion),
    ]
    for method, path in targets:
        response = api.call(
            method, path, content=body, headers={"Content-Type": "application/json"}
        )
        assert response.status_code in {400, 422}, (method, path, response.text)
        assert response.headers["content-type"] == PROBLEM
    assert api.get(completion).status_code == 404


@pytest.mark.parametrize("body", [[], "text", 42, None, True])
def test_json_that_is_not_an_object_is_422(api: Api, completion: str, body: object) -> None:
    assert_problem(api.put(completion, json=body), 422)


def test_unknown_fields_are_rejected_on_every_body(
    api: Api, user: dict[str, Any], completion: str
) -> None:
    episodes = f"/v1/users/{user['id']}/episodes"
    episode = api.post(episodes, json={"onset_date": "2026-10-01", "pain_now": 2}).json()
    cases = [
        ("POST", "/v1/users", {**user_fields(), "is_admin": True}, "is_admin"),
        (
            "PATCH",
            f"/v1/users/{user['id']}",
            {"session_minutes": 45, "client_id": "x"},
            "client_id",
        ),
        ("POST", episodes, {"onset_date": "2026-10-01", "pain_now": 2, "seq": 1}, "seq"),
        ("PATCH", f"{episodes}/{episode['id']}", {"pain_now": 1, "user_id": "x"}, "user_id"),
        ("PUT", completion, {**REPORT, "user_id": "someone-else"}, "user_id"),
    ]
    for method, path, body, extra in cases:
        problem = assert_problem(api.call(method, path, json=body), 422)
        assert f"#/{extra}" in [e["pointer"] for e in problem["errors"]], (path, problem)
    assert api.get(f"/v1/users/{user['id']}").json() == user
    assert api.get(f"{episodes}/{episode['id']}").json() == episode
    assert api.get(completion).status_code == 404
    admin = {"Authorization": "Bearer test-admin-token"}
    clients = api.http.post("/v1/clients", json={"name": "x", "owner": "y"}, headers=admin)
    assert_problem(clients, 422)


# --- Out of range --------------------------------------------------------------


BAD_REPORTS: list[tuple[dict[str, Any], str]] = [
    ({"completed_at": "0001-01-01T00:00:00+14:00"}, "#/completed_at"),  # before year 1 in UTC
    ({"completed_at": "9999-12-31T23:59:59-14:00"}, "#/completed_at"),  # after year 9999
    ({"completed_at": "2026-11-18T12:00:00Z"}, "#/completed_at"),  # in the future
    ({"completed_at": "2026-11-15T23:59:59Z"}, "#/completed_at"),  # before the session
    ({"completed_at": "2026-02-30T10:00:00Z"}, "#/completed_at"),
    ({"completed_at": "10000-01-01T00:00:00Z"}, "#/completed_at"),
    ({"completed_at": 1763300000}, "#/completed_at"),
    ({"pain_during": -1}, "#/pain_during"),
    ({"pain_during": 11}, "#/pain_during"),
    ({"pain_during": 10.5}, "#/pain_during"),
    ({"pain_during": 1e300}, "#/pain_during"),
    ({"pain_during": True}, "#/pain_during"),
    ({"pain_during": "5"}, "#/pain_during"),
    ({"pain_during": None}, "#/pain_during"),
    ({"effort": 11}, "#/effort"),
    ({"pain_before": -1}, "#/pain_before"),
    ({"pain_next_morning": 12}, "#/pain_next_morning"),
]


def test_completion_dates_and_pain_out_of_range_are_422(api: Api, completion: str) -> None:
    for change, pointer in BAD_REPORTS:
        problem = assert_problem(api.put(completion, json={**REPORT, **change}), 422)
        assert pointer in [e["pointer"] for e in problem["errors"]], change
    assert api.get(completion).status_code == 404


BAD_EPISODES: list[tuple[dict[str, Any], str]] = [
    ({"onset_date": "2026-11-19", "pain_now": 3}, "#/onset_date"),  # tomorrow
    ({"onset_date": "9999-12-31", "pain_now": 3}, "#/onset_date"),
    ({"onset_date": "2026-13-01", "pain_now": 3}, "#/onset_date"),
    ({"onset_date": "2026-11-01", "pain_now": 3, "resolved_on": "2026-10-01"}, "#/resolved_on"),
    ({"onset_date": "2026-11-01", "pain_now": 11}, "#/pain_now"),
    ({"onset_date": "2026-11-01", "pain_now": -1}, "#/pain_now"),
    ({"onset_date": "2026-11-01", "pain_now": False}, "#/pain_now"),
]


def test_episode_dates_and_pain_out_of_range_are_422(api: Api, user: dict[str, Any]) -> None:
    path = f"/v1/users/{user['id']}/episodes"
    for body, pointer in BAD_EPISODES:
        problem = assert_problem(api.post(path, json=body), 422)
        assert pointer in [e["pointer"] for e in problem["errors"]], body
    assert api.get(path).json()["items"] == []
    episode = api.post(path, json={"onset_date": "2026-11-01", "pain_now": 3}).json()
    for change in ({"pain_now": 11}, {"resolved_on": "2026-10-31"}, {"resolved_on": "2026-11-19"}):
        assert_problem(api.patch(f"{path}/{episode['id']}", json=change), 422)
    assert api.get(f"{path}/{episode['id']}").json() == episode


BAD_USERS: list[tuple[dict[str, Any], str]] = [
    ({"program_start": "0001-01-01"}, "#/program_start"),
    ({"program_start": "1900-01-01"}, "#/program_start"),
    ({"program_start": "9999-12-31"}, "#/program_start"),
    ({"program_start": "2026-02-29"}, "#/program_start"),  # not a leap year
    ({"birth_year": 1899}, "#/birth_year"),
    ({"birth_year": 2027}, "#/birth_year"),
    ({"session_minutes": 14}, "#/session_minutes"),
    ({"session_minutes": True}, "#/session_minutes"),
]


def test_user_dates_and_numbers_out_of_range_are_422(api: Api, user: dict[str, Any]) -> None:
    for change, pointer in BAD_USERS:
        created = api.post("/v1/users", json=user_fields(**change))
        assert pointer in [e["pointer"] for e in assert_problem(created, 422)["errors"]], change
        patched = api.patch(f"/v1/users/{user['id']}", json=change)
        assert pointer in [e["pointer"] for e in assert_problem(patched, 422)["errors"]], change
    assert api.get(f"/v1/users/{user['id']}").json() == user
    assert api.get("/v1/users").json()["items"] == [user]


def test_weeks_out_of_range_are_422(api: Api, user: dict[str, Any]) -> None:
    # 2028-W46 is the last week a plan can be previewed, 104 weeks ahead.
    assert api.get(f"/v1/users/{user['id']}/plan", params={"week": "2028-W46"}).status_code == 200
    for week in ("0000-W01", "9999-W52", "2026-W00", "2025-W53", "2026-W54", "2028-W47", "26-W1"):
        response = api.get(f"/v1/users/{user['id']}/plan", params={"week": week})
        problem = assert_problem(response, 422)
        assert problem["errors"][0]["parameter"] == "week", week


# --- Someone else's session ------------------------------------------------------


def test_a_session_of_another_user_or_client_is_404_like_an_unknown_one(
    api: Api, user: dict[str, Any], completion: str
) -> None:
    assert api.put(completion, json=REPORT).status_code == 201
    session_id = completion.split("/")[-2]
    other_user = api.user()
    stranger = register(api.http, "Another app")
    their_user = stranger.user(program_start="2026-11-16")
    attempts = [
        (api, f"/v1/users/{other_user['id']}/sessions/{session_id}/completion"),
        (stranger, completion),
        (stranger, f"/v1/users/{their_user['id']}/sessions/{session_id}/completion"),
    ]
    unknown = api.get(f"/v1/users/{user['id']}/sessions/no-such-session/completion")
    assert_problem(unknown, 404)
    for caller, path in attempts:
        for method, body in (
            ("GET", None),
            ("PUT", {**REPORT, "pain_during": 9}),
            ("DELETE", None),
        ):
            response = caller.call(method, path, json=body)
            problem = assert_problem(response, 404)
            assert problem["title"] == unknown.json()["title"]
    assert api.get(completion).json()["pain_during"] == REPORT["pain_during"]


# --- Hostile text ------------------------------------------------------------------

HOSTILE = [
    "'); DROP TABLE completions; --",
    "1' OR '1'='1",
    "<script>alert(document.cookie)</script>",
    '"><img src=x onerror=alert(1)>',
    "{{7*7}} ${7*7} %s %n",
    "Robert\u202eexe.txt \U0001f4aa ünïcødé",
]


@pytest.mark.parametrize("text", HOSTILE)
def test_sql_and_html_in_text_fields_are_stored_and_returned_verbatim(
    api: Api, completion: str, text: str
) -> None:
    stored = api.put(completion, json={**REPORT, "notes": text})
    assert stored.status_code == 201, stored.text
    assert stored.headers["content-type"] == "application/json"
    assert stored.json()["notes"] == text
    assert api.get(completion).json()["notes"] == text
    user = api.user(external_id=text)
    assert api.get("/v1/users", params={"external_id": text}).json()["items"] == [user]
    assert api.get("/v1/users", params={"external_id": "1' OR '1'='1' --"}).json()["items"] in (
        [],
        [user],
    )


def test_nul_characters_are_refused_before_they_reach_the_store(
    api: Api, user: dict[str, Any], completion: str
) -> None:
    body = assert_problem(api.put(completion, json={**REPORT, "notes": "a\x00b"}), 422)
    assert body["errors"][0]["pointer"] == "#/notes"
    listed = assert_problem(api.get("/v1/users", params={"external_id": "a\x00"}), 422)
    assert listed["errors"][0]["parameter"] == "external_id"
    assert_problem(api.get(f"/v1/users/{user['id']}%00"), 404)
    assert_problem(api.post("/v1/users", json=user_fields(external_id="\x00")), 422)
