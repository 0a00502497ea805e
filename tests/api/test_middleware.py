"""The middleware's fast paths answer exactly as the full work would: a request
that cannot carry a body goes to the app unbuffered (any other is still read
and limited), a query is parsed for NULs only when it may hold one, and the
security headers are added to the raw header list, keeping the app's own."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
from collections.abc import Iterator
from typing import Any

import pytest
from anyio import to_thread
from fastapi.testclient import TestClient
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.middleware import JSON_CSP, BodyLimit, InFlightLimit, NulGuard, SecurityHeaders
from tests.conftest import Api

LIMIT = 1024
PROBLEM = b"application/problem+json"
FIXED = [
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"cross-origin-resource-policy", b"same-origin"),
]

Headers = list[tuple[bytes, bytes]]


class Inner:
    """An ASGI app that reads the whole body, notes what it saw, and answers
    with `headers` and the `body` chunks."""

    def __init__(self, headers: Headers | None = None, body: list[bytes] | None = None) -> None:
        self.headers = headers if headers is not None else [(b"content-type", b"application/json")]
        self.body = body if body is not None else [b"{}"]
        self.calls = 0
        self.received_before_start: int | None = None
        self.bodies: list[bytes] = []
        self.queries: list[bytes] = []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        self.calls += 1
        self.queries.append(scope.get("query_string", b""))
        self.received_before_start = scope["test.received"][0]
        chunks = []
        while True:
            message = await receive()
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                break
        self.bodies.append(b"".join(chunks))
        await send({"type": "http.response.start", "status": 200, "headers": self.headers})
        for i, chunk in enumerate(self.body):
            more = i < len(self.body) - 1
            await send({"type": "http.response.body", "body": chunk, "more_body": more})


def run(
    app: ASGIApp,
    *,
    method: str = "POST",
    path: str = "/v1/users",
    query: bytes = b"",
    headers: Headers | None = None,
    chunks: list[bytes] | None = None,
) -> list[Message]:
    """One request through `app`, its body sent in `chunks`; the messages sent back.
    `scope["test.received"][0]` counts the messages received so far."""
    received = [0]
    scope: Scope = {
        "type": "http",
        "method": method,
        "path": path,
        "query_string": query,
        "headers": headers or [],
        "test.received": received,
    }
    parts = chunks if chunks is not None else [b""]
    incoming: list[Message] = [
        {"type": "http.request", "body": chunk, "more_body": i < len(parts) - 1}
        for i, chunk in enumerate(parts)
    ]
    sent: list[Message] = []

    async def receive() -> Message:
        received[0] += 1
        return incoming.pop(0) if incoming else {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        sent.append(message)

    async def main() -> None:
        await app(scope, receive, send)

    asyncio.run(main())
    return sent


def problem_of(sent: list[Message]) -> dict[str, Any]:
    assert (b"content-type", PROBLEM) in sent[0]["headers"]
    problem: dict[str, Any] = json.loads(sent[1]["body"])
    assert problem["status"] == sent[0]["status"]
    return problem


# --- BodyLimit -----------------------------------------------------------------


@pytest.mark.parametrize("headers", [[], [(b"content-length", b"0")]], ids=["none", "zero"])
@pytest.mark.parametrize("method", ["GET", "DELETE", "POST"])
def test_a_request_that_cannot_carry_a_body_reaches_the_app_unbuffered(
    method: str, headers: Headers
) -> None:
    inner = Inner()
    sent = run(BodyLimit(inner, max_bytes=LIMIT), method=method, headers=headers)
    assert sent[0]["status"] == 200
    assert inner.received_before_start == 0
    assert inner.bodies == [b""]


def test_a_body_with_a_length_is_read_whole_before_the_app_runs() -> None:
    inner = Inner()
    headers = [(b"content-length", b"6")]
    sent = run(BodyLimit(inner, max_bytes=LIMIT), headers=headers, chunks=[b"abc", b"def"])
    assert sent[0]["status"] == 200
    assert inner.received_before_start == 2
    assert inner.bodies == [b"abcdef"]


@pytest.mark.parametrize(
    "headers",
    [
        [(b"transfer-encoding", b"chunked")],
        # A zero length does not make a chunked body free.
        [(b"content-length", b"0"), (b"transfer-encoding", b"chunked")],
        [(b"transfer-encoding", b"chunked"), (b"content-length", b"0")],
        # Neither does a length that is not a number.
        [(b"content-length", b"ten")],
    ],
    ids=["chunked", "zero-then-chunked", "chunked-then-zero", "malformed-length"],
)
def test_a_body_without_a_usable_length_is_still_limited(headers: Headers) -> None:
    inner = Inner()
    over = [b"x" * 512, b"x" * 512, b"x"]
    sent = run(BodyLimit(inner, max_bytes=LIMIT), headers=headers, chunks=over)
    assert sent[0]["status"] == 413
    assert (b"connection", b"close") in sent[0]["headers"]
    assert problem_of(sent)["instance"] == "/v1/users"
    assert inner.calls == 0

    sent = run(BodyLimit(inner, max_bytes=LIMIT), headers=headers, chunks=[b"x" * 512] * 2)
    assert sent[0]["status"] == 200
    assert inner.bodies == [b"x" * LIMIT]


def test_a_declared_length_over_the_limit_is_413_even_when_chunked() -> None:
    inner = Inner()
    headers = [(b"transfer-encoding", b"chunked"), (b"content-length", str(LIMIT + 1).encode())]
    sent = run(BodyLimit(inner, max_bytes=LIMIT), headers=headers, chunks=[b"x"])
    assert sent[0]["status"] == 413
    assert inner.calls == 0


def test_a_chunked_body_over_the_limit_is_413_through_the_app(http: TestClient) -> None:
    def chunks() -> Iterator[bytes]:
        yield b'{"external_id": "x", '
        for _ in range(70):
            yield b" " * 1024
        yield b"}"

    response = http.post(
        "/v1/users", content=chunks(), headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 413, response.text
    assert response.headers["content-type"] == PROBLEM.decode()


# --- NulGuard ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "names"),
    [
        (b"q=a%00b", ["q"]),
        (b"Q=%00", ["Q"]),
        (b"%00=1", ["\x00"]),
        (b"Slug=x&external_ID=%0A%00%0a", ["external_ID"]),
        (b"a=1&b=%000", ["b"]),
        (b"q=a\x00b&r=\x00", ["q", "r"]),
    ],
)
def test_a_nul_in_the_query_is_422_however_it_is_written(query: bytes, names: list[str]) -> None:
    inner = Inner()
    sent = run(NulGuard(inner), method="GET", query=query)
    assert sent[0]["status"] == 422
    problem = problem_of(sent)
    assert [error["parameter"] for error in problem["errors"]] == names
    assert inner.calls == 0


@pytest.mark.parametrize(
    "query", [b"", b"q=%2500", b"q=%0", b"q=100%25&r=%20%30%30", b"q=%0a%0A", b"q=0&r=00"]
)
def test_a_query_without_a_nul_reaches_the_app_unchanged(query: bytes) -> None:
    inner = Inner()
    sent = run(NulGuard(inner), method="GET", query=query)
    assert sent[0]["status"] == 200
    assert inner.queries == [query]


def test_a_nul_in_the_path_is_404_whatever_the_query() -> None:
    inner = Inner()
    sent = run(NulGuard(inner), method="GET", path="/v1/users/a\x00", query=b"q=%00")
    assert sent[0]["status"] == 404
    assert inner.calls == 0


@pytest.mark.parametrize("query", ["slug=%00", "SLUG=a%00", "%00=x"])
def test_a_percent_encoded_nul_is_422_through_the_app(http: TestClient, query: str) -> None:
    response = http.get(f"/v1/exercises?{query}")
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["detail"] == "must not contain the NUL character (U+0000)"


# --- SecurityHeaders -------------------------------------------------------------


def test_the_headers_are_added_after_the_apps_own() -> None:
    headers = [(b"content-type", b"application/json"), (b"content-length", b"2")]
    sent = run(SecurityHeaders(Inner(headers)), method="GET")
    assert sent[0]["headers"] == [
        *headers,
        *FIXED,
        (b"cache-control", b"no-store"),
        (b"content-security-policy", JSON_CSP.encode()),
    ]
    assert headers == [(b"content-type", b"application/json"), (b"content-length", b"2")], (
        "the app's own list is left as it was"
    )


def test_headers_the_app_set_are_kept_once() -> None:
    own = [
        (b"content-type", b"application/json"),
        (b"cache-control", b"public, max-age=60"),
        (b"x-frame-options", b"SAMEORIGIN"),
        (b"content-security-policy", b"default-src 'self'"),
        (b"strict-transport-security", b"max-age=60"),
    ]
    sent = run(SecurityHeaders(Inner(own), hsts_max_age=31_536_000), method="GET")
    headers = sent[0]["headers"]
    assert headers[: len(own)] == own
    for name, value in own:
        assert [v for n, v in headers if n == name] == [value]
    assert (b"x-content-type-options", b"nosniff") in headers


@pytest.mark.parametrize(
    ("own", "expected"),
    [
        ([(b"etag", b'"v1"')], b"private, no-cache"),
        ([], b"no-store"),
        ([(b"etag", b'"v1"'), (b"cache-control", b"no-cache")], b"no-cache"),
        ([(b"cache-control", b"public, max-age=60")], b"public, max-age=60"),
    ],
)
def test_cache_control_defaults_on_the_etag(own: Headers, expected: bytes) -> None:
    sent = run(SecurityHeaders(Inner([(b"content-type", b"application/json"), *own])))
    assert [v for n, v in sent[0]["headers"] if n == b"cache-control"] == [expected]


@pytest.mark.parametrize("max_age", [0, 600])
def test_hsts_only_when_configured(max_age: int) -> None:
    sent = run(SecurityHeaders(Inner(), hsts_max_age=max_age))
    hsts = [v for n, v in sent[0]["headers"] if n == b"strict-transport-security"]
    assert hsts == ([f"max-age={max_age}; includeSubDomains".encode()] if max_age else [])


def test_an_html_page_is_held_until_its_inline_scripts_are_hashed() -> None:
    page = [b"<html><script>run(1)", b"</script><script>run(2)</script>", b"</html>"]
    html = [(b"content-type", b"text/html; charset=utf-8")]
    sent = run(SecurityHeaders(Inner(html, page)), method="GET")
    assert [message["type"] for message in sent] == ["http.response.start", "http.response.body"]
    assert sent[1]["body"] == b"".join(page)
    headers = dict(sent[0]["headers"])
    policy = headers[b"content-security-policy"].decode()
    for script in (b"run(1)", b"run(2)"):
        digest = base64.b64encode(hashlib.sha256(script).digest()).decode()
        assert f"'sha256-{digest}'" in policy
    assert policy != JSON_CSP
    assert headers[b"cache-control"] == b"no-store"
    assert headers[b"x-frame-options"] == b"DENY"


def test_an_html_page_keeps_its_own_policy() -> None:
    html = [(b"content-type", b"text/html"), (b"content-security-policy", b"default-src 'self'")]
    sent = run(SecurityHeaders(Inner(html, [b"<script>x</script>"])), method="GET")
    assert [v for n, v in sent[0]["headers"] if n == b"content-security-policy"] == [
        b"default-src 'self'"
    ]
    assert sent[-1]["body"] == b"<script>x</script>"


def test_a_response_keeps_its_headers_through_the_app(api: Api) -> None:
    response = api.get("/v1/exercises")
    assert response.status_code == 200
    assert response.headers["cache-control"] == "private, no-cache"
    assert response.headers["content-security-policy"] == JSON_CSP
    for name, value in FIXED:
        assert response.headers.get_list(name.decode()) == [value.decode()]


# --- InFlightLimit ----------------------------------------------------------------


class Held:
    """An ASGI app whose requests wait until `release` is set."""

    def __init__(self) -> None:
        self.release = asyncio.Event()
        self.entered = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        self.entered += 1
        await self.release.wait()
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})


def test_requests_beyond_the_limit_get_a_503_problem_at_once_and_later_ones_pass() -> None:
    inner = Held()
    limited = InFlightLimit(inner, limit=2)
    scope: Scope = {"type": "http", "method": "GET", "path": "/v1/exercises", "headers": []}

    async def request() -> list[Message]:
        sent: list[Message] = []

        async def receive() -> Message:
            return {"type": "http.request", "body": b"", "more_body": False}

        async def send(message: Message) -> None:
            sent.append(message)

        await limited(scope, receive, send)
        return sent

    async def main() -> tuple[list[list[Message]], list[Message], list[Message]]:
        held = [asyncio.create_task(request()) for _ in range(2)]
        await asyncio.sleep(0)
        turned_away = await request()  # answered while the two are held
        inner.release.set()
        done = await asyncio.gather(*held)
        return list(done), turned_away, await request()

    held, turned_away, after = asyncio.run(main())
    assert [sent[0]["status"] for sent in held] == [204, 204]
    assert turned_away[0]["status"] == 503
    assert (b"retry-after", b"1") in turned_away[0]["headers"]
    assert problem_of(turned_away)["detail"].startswith("Too many requests are in progress")
    assert after[0]["status"] == 204
    assert inner.entered == 3
    assert limited.in_flight == 0


def test_the_thread_pool_has_more_threads_than_requests_let_in(http: TestClient) -> None:
    async def tokens() -> float:
        return to_thread.current_default_thread_limiter().total_tokens

    assert http.portal is not None  # entered: the lifespan ran on this loop
    limit = http.app.state.settings.max_concurrent_requests  # type: ignore[attr-defined]
    assert http.portal.call(tokens) > limit
