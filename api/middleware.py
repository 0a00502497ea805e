"""ASGI middleware around the whole app: a request body limit, a guard
against NUL in URLs, CORS (off unless configured) and the security headers of
a JSON API; and the problems they add, in the OpenAPI document.

They wrap Starlette's ServerErrorMiddleware rather than sit inside it, so the
500 problem gets the headers too, and a browser app can read it under CORS.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qsl

from fastapi import FastAPI
from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.errors import PROBLEM_JSON, ApiError, FieldError, Problem, invalid_fields
from api.settings import Settings

# For JSON nothing may load, run or frame.
JSON_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
# /docs and /redoc load Swagger UI and ReDoc from jsDelivr and run one inline
# script, allowed by its hash (added per page). ReDoc writes inline styles.
HTML_CSP = (
    "default-src 'none'; script-src https://cdn.jsdelivr.net{hashes}; "
    "style-src https://cdn.jsdelivr.net https://fonts.googleapis.com 'unsafe-inline'; "
    "font-src https://fonts.gstatic.com; img-src 'self' data: https://fastapi.tiangolo.com "
    "https://cdn.jsdelivr.net; connect-src 'self'; worker-src blob:; "
    "frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
)
_INLINE_SCRIPT = re.compile(rb"<script>(.*?)</script>", re.DOTALL)

# Seconds a client is asked to wait when the server has too many requests in flight.
RETRY_AFTER_BUSY_S = 1

CORS_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
CORS_REQUEST_HEADERS = (
    "Authorization",
    "Content-Type",
    "Idempotency-Key",
    "If-Match",
    "If-None-Match",
)
CORS_EXPOSED_HEADERS = ("ETag", "Location", "Retry-After", "Idempotent-Replayed")


def install(app: FastAPI, settings: Settings) -> None:
    """Wrap the app's middleware stack, outermost first: security headers,
    CORS (when origins are configured), the limit on requests in flight, body
    limit, NUL guard."""
    build = app.build_middleware_stack

    def build_wrapped() -> ASGIApp:
        inner: ASGIApp = BodyLimit(NulGuard(build()), max_bytes=settings.max_body_bytes)
        inner = InFlightLimit(inner, limit=settings.max_concurrent_requests)
        if settings.cors_origins:
            inner = CORSMiddleware(
                inner,
                allow_origins=settings.cors_origins,
                allow_methods=CORS_METHODS,
                allow_headers=CORS_REQUEST_HEADERS,
                expose_headers=CORS_EXPOSED_HEADERS,
            )
        return SecurityHeaders(inner, hsts_max_age=settings.hsts_max_age)

    app.build_middleware_stack = build_wrapped  # type: ignore[method-assign]


class InFlightLimit:
    """503 problem, with Retry-After, for a request beyond `limit` in flight in
    this process.

    Why it exists: each request runs its database work in the thread pool, one
    hop at a time, and some keep a transaction open between hops. A thread
    waiting on the database (SQLite's writer turn, a pooled connection) holds
    its thread. Were there more requests in flight than threads, the waiting
    threads could take them all while the request they wait on needs one more
    to finish: every request would stall until a timeout. `api.main` gives the
    thread pool more threads than this limit lets requests in, so a request
    always finds a thread. A request that leaves counts until it is finished
    here, even if its client is gone."""

    def __init__(self, app: ASGIApp, *, limit: int) -> None:
        self.app = app
        self.limit = limit
        self.in_flight = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if self.in_flight >= self.limit:
            error = ApiError(
                HTTPStatus.SERVICE_UNAVAILABLE,
                "Too many requests are in progress on this server; try again shortly.",
                headers={"Retry-After": str(RETRY_AFTER_BUSY_S)},
            )
            await send_problem(scope, send, error)
            return
        self.in_flight += 1
        try:
            await self.app(scope, receive, send)
        finally:
            self.in_flight -= 1


class BodyLimit:
    """413 problem for a body over `max_bytes`: at once when Content-Length says
    so, otherwise as soon as the chunks received add up to more. The body is
    read whole before the app runs, so the app never sees part of one. A
    request that cannot carry a body (no Transfer-Encoding, and no or a zero
    Content-Length: RFC 9112, section 6.3) goes straight through."""

    def __init__(self, app: ASGIApp, *, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared: bytes | None = None
        chunked = False
        for name, value in scope["headers"]:
            if name == b"content-length":
                if declared is None:
                    declared = value
            elif name == b"transfer-encoding":
                chunked = True
        length = int(declared) if declared is not None and declared.isdigit() else None
        if length is not None and length > self.max_bytes:
            await self._too_large(scope, send)
            return
        if not chunked and (declared is None or length == 0):
            await self.app(scope, receive, send)
            return
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk: bytes = message.get("body", b"")
            size += len(chunk)
            if size > self.max_bytes:
                await self._too_large(scope, send)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        await self.app(scope, replay_body(b"".join(chunks), receive), send)

    async def _too_large(self, scope: Scope, send: Send) -> None:
        status = HTTPStatus.REQUEST_ENTITY_TOO_LARGE
        error = ApiError(status, f"The request body is larger than {self.max_bytes} bytes.")
        # The rest of the body is not read: the connection cannot be reused.
        await send_problem(scope, send, error, close=True)


class NulGuard:
    """PostgreSQL text cannot hold U+0000, so a NUL in the URL never reaches the
    store: in the path no resource can match (404); in the query it is an
    invalid parameter (422). Request bodies reject it in `api.schemas.Request`."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            if "\x00" in scope["path"]:
                await send_problem(scope, send, ApiError(404, "No resource at this path."))
                return
            raw: bytes = scope["query_string"]
            # A query decodes to a NUL only from a raw NUL or `%00` (no letters
            # in it, so no case to fold): parse nothing else.
            if b"\x00" in raw or b"%00" in raw:
                query = parse_qsl(raw.decode("latin-1"), keep_blank_values=True)
                bad = [name for name, value in query if "\x00" in name or "\x00" in value]
                if bad:
                    detail = "must not contain the NUL character (U+0000)"
                    await send_problem(
                        scope,
                        send,
                        invalid_fields(FieldError(detail=detail, parameter=name) for name in bad),
                    )
                    return
        await self.app(scope, receive, send)


async def send_problem(scope: Scope, send: Send, error: ApiError, *, close: bool = False) -> None:
    """Answer with a problem from outside the app's exception handlers."""
    body = (
        Problem(
            type=error.type,
            title=error.title,
            status=error.status,
            detail=error.detail,
            instance=scope["path"],
            errors=error.errors or None,
        )
        .model_dump_json(exclude_none=True)
        .encode()
    )
    headers = [
        (b"content-type", PROBLEM_JSON.encode()),
        (b"content-length", str(len(body)).encode()),
    ]
    headers += [(name.lower().encode(), value.encode()) for name, value in error.headers.items()]
    if close:
        headers.append((b"connection", b"close"))
    await send({"type": "http.response.start", "status": int(error.status), "headers": headers})
    await send({"type": "http.response.body", "body": body})


def replay_body(body: bytes, receive: Receive) -> Receive:
    """A `receive` that hands over the buffered body, then waits for the
    client's disconnect as the original would."""
    pending = True

    async def replayed() -> Message:
        nonlocal pending
        if pending:
            pending = False
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replayed


class SecurityHeaders:
    """Headers for a JSON API holding health data (OWASP REST Security Cheat
    Sheet): no sniffing, framing or referrers; a CSP that loads nothing (HTML
    docs excepted); no caching of responses unless an ETag makes revalidation
    possible; HSTS when configured. Headers the app set itself are kept."""

    def __init__(self, app: ASGIApp, *, hsts_max_age: int = 0) -> None:
        self.app = app
        fixed = {
            "x-content-type-options": "nosniff",
            "x-frame-options": "DENY",
            "referrer-policy": "no-referrer",
            "cross-origin-resource-policy": "same-origin",
        }
        if hsts_max_age:
            fixed["strict-transport-security"] = f"max-age={hsts_max_age}; includeSubDomains"
        # Encoded once: each response only picks the pairs it lacks.
        self.fixed = tuple((name.encode(), value.encode()) for name, value in fixed.items())

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        await self.app(scope, receive, _HeaderWriter(self.fixed, send))


_CACHE_CONTROL = b"cache-control"
_REVALIDATE = (_CACHE_CONTROL, b"private, no-cache")
_NO_STORE = (_CACHE_CONTROL, b"no-store")
_CSP = b"content-security-policy"
_JSON_CSP = (_CSP, JSON_CSP.encode())


class _HeaderWriter:
    """The `send` that adds the headers, to the raw ASGI header list; an HTML
    page is held back until its inline scripts are hashed for the CSP."""

    __slots__ = ("fixed", "has_csp", "html", "send", "start")

    def __init__(self, fixed: tuple[tuple[bytes, bytes], ...], send: Send) -> None:
        self.fixed = fixed
        self.send = send
        self.start: Message | None = None
        self.has_csp = False
        self.html: list[bytes] = []

    async def __call__(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            # A copy: the list may be the response's own (Response.raw_headers).
            headers = list(message.get("headers", ()))
            # Each name present, with its first value.
            present: dict[bytes, bytes] = dict(reversed(headers))
            headers.extend(pair for pair in self.fixed if pair[0] not in present)
            if _CACHE_CONTROL not in present:
                headers.append(_REVALIDATE if b"etag" in present else _NO_STORE)
            message["headers"] = headers
            if present.get(b"content-type", b"").startswith(b"text/html"):
                self.start = message
                self.has_csp = _CSP in present
                return
            if _CSP not in present:
                headers.append(_JSON_CSP)
            await self.send(message)
            return
        if message["type"] == "http.response.body" and self.start is not None:
            self.html.append(message.get("body", b""))
            if message.get("more_body", False):
                return
            page = b"".join(self.html)
            if not self.has_csp:
                self.start["headers"].append((_CSP, _html_csp(page).encode()))
            await self.send(self.start)
            await self.send({"type": "http.response.body", "body": page})
            return
        await self.send(message)


def _html_csp(page: bytes) -> str:
    hashes = "".join(f" '{_sha256(script)}'" for script in _INLINE_SCRIPT.findall(page))
    return HTML_CSP.format(hashes=hashes)


def _sha256(script: bytes) -> str:
    return "sha256-" + base64.b64encode(hashlib.sha256(script).digest()).decode()


def document_common_problems(schema: dict[str, Any]) -> None:
    """Add the problems any operation may answer to the OpenAPI document: 413
    where there is a body, 429 where an API key is counted, 503 wherever the
    store is used (the operations that document a 500). FastAPI's own 422
    (`HTTPValidationError`) becomes the problem it really is."""
    problem = {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}}
    default_422 = "#/components/schemas/HTTPValidationError"
    retry_after = {
        "Retry-After": {
            "description": "Seconds to wait before trying again.",
            "schema": {"type": "string"},
        }
    }
    for path in schema.get("paths", {}).values():
        for operation in path.values():
            if not isinstance(operation, dict):
                continue
            responses = operation.setdefault("responses", {})
            for content in responses.get("422", {}).get("content", {}).values():
                if content.get("schema", {}).get("$ref") == default_422:
                    content["schema"] = {"$ref": "#/components/schemas/Problem"}
            added: dict[HTTPStatus, bool] = {
                HTTPStatus.REQUEST_ENTITY_TOO_LARGE: "requestBody" in operation,
                HTTPStatus.TOO_MANY_REQUESTS: any(
                    "ApiKey" in requirement for requirement in operation.get("security", [])
                ),
                HTTPStatus.SERVICE_UNAVAILABLE: "500" in responses,
            }
            for status, applies in added.items():
                if applies and str(int(status)) not in responses:
                    response: dict[str, Any] = {"description": status.phrase, "content": problem}
                    if status != HTTPStatus.REQUEST_ENTITY_TOO_LARGE:
                        response["headers"] = retry_after
                    responses[str(int(status))] = response
    components = schema.get("components", {}).get("schemas", {})
    if default_422 not in json.dumps({k: v for k, v in schema.items() if k != "components"}):
        components.pop("HTTPValidationError", None)
        components.pop("ValidationError", None)
