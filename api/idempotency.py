"""The Idempotency-Key header (draft-ietf-httpapi-idempotency-key-header) on
every POST, PUT, PATCH and DELETE.

How a request with a key runs:

1. **Claim** (`claim`, a dependency, after authentication): insert an
   in-flight row for (client, key) and commit it at once, so a concurrent
   duplicate's insert fails on the primary key, on SQLite and PostgreSQL
   alike. The duplicate then finds the row: 409 while it is in flight, 422
   when its fingerprint (method, path and query, SHA-256 of the body)
   differs, and otherwise the stored response, replayed.
2. **Work and store** (`complete`, called by the route class before the
   request's transaction commits): the response goes into the claimed row in
   the same transaction as the request's writes, so the effect and its
   stored response commit together or not at all.
3. **Errors** (`IdempotencyMiddleware`): a 4xx response raised as a problem
   is stored the same way (it changed nothing); a 5xx or a crash releases
   the claim, so the client may retry with the same key.

A process that dies mid-request leaves an in-flight row; after `LEASE` a
retry takes it over and runs the request, which is safe because nothing of
the first attempt was committed. Keys are kept at least `ttl` (24 h) and
pruned on a client's claim (at most once a minute per process) and by
`backplan prune`.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import secrets
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy import Engine
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.errors import ApiError, FieldError, ProblemType
from db import idempotency as store
from db.idempotency import StoredResponse
from db.tables import ID_LENGTH, IdempotencyRecord

HEADER = "Idempotency-Key"
REPLAYED = "Idempotent-Replayed"
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
MAX_KEY_LENGTH = 255
# The owner of the operator's keys (admin-token requests); clients own theirs by id.
ADMIN_OWNER = "admin"
# An in-flight claim older than this is taken to be abandoned (its process
# died); a retry takes it over. Longer than any request runs.
LEASE = timedelta(seconds=60)
# Headers replayed with the stored body.
_REPLAYED_HEADERS = ("content-type", "location", "etag")
# A quoted string (RFC 8941 sf-string, not empty) or a bare token.
KEY_PATTERN = r"""^(?:"(?:[ !#-\[\]-~]|\\["\\])+"|[A-Za-z0-9!#$%&'*+.^_`|~:/=-]+)$"""
_KEY = re.compile(KEY_PATTERN)
_PERSON = re.compile(r"^/v1/users/([^/]+)")
_CLAIM = "backplan.idempotency"

F = TypeVar("F", bound=Callable[..., Any])


@dataclass(slots=True)
class Claim:
    """A key this request holds, with the session that will store its response."""

    owner: str
    key: str
    lease: str
    user_id: str | None
    now: datetime
    session: Session
    stored: bool = False


class Replay(Exception):
    """The key's stored response; `IdempotencyMiddleware` sends it."""

    def __init__(self, record: IdempotencyRecord) -> None:
        super().__init__(record.key)
        assert record.status is not None
        self.response = StoredResponse(
            record.status, dict(record.headers or {}), record.body or b""
        )


def secret_fields(*names: str) -> Callable[[F], F]:
    """Mark an endpoint whose response shows a secret once: the stored copy,
    and so any replay, has these top-level fields set to null."""

    def mark(endpoint: F) -> F:
        endpoint.__dict__["secret_fields"] = names
        return endpoint

    return mark


def secret_fields_of(endpoint: Callable[..., Any]) -> tuple[str, ...]:
    names: tuple[str, ...] = getattr(endpoint, "secret_fields", ())
    return names


def parse_key(raw: str) -> str:
    """The key from a structured-field string (`"..."`) or a bare token, at
    most `MAX_KEY_LENGTH` characters as sent; 400 otherwise."""
    value = raw.strip()
    if len(value) > MAX_KEY_LENGTH or not _KEY.fullmatch(value):
        raise _invalid_key()
    if not value.startswith('"'):
        return value
    return re.sub(r"\\(.)", r"\1", value[1:-1])


def _invalid_key() -> ApiError:
    detail = (
        f"{HEADER} must be a quoted string or a token, 1 to {MAX_KEY_LENGTH} printable ASCII "
        'characters in all; a UUID is recommended, e.g. "8e03978e-40d5-43e8-bc93-6894a57f9324".'
    )
    return ApiError(
        400,
        detail,
        type_=ProblemType.invalid_header,
        title="Invalid request header",
        errors=[FieldError(detail=detail, parameter=HEADER)],
    )


def fingerprint(method: str, target: str, body: bytes) -> str:
    """What must be the same for a replay: method, path and query, and body."""
    digest = hashlib.sha256(f"{method} {target}\n".encode())
    digest.update(body)
    return digest.hexdigest()


def target_of(request: Request) -> str:
    """The request's path and query, as `request.url` has them, read from the
    ASGI scope without parsing a URL (every keyed request asks, twice)."""
    scope = request.scope
    path: str = scope["path"]
    query: bytes = scope.get("query_string", b"")
    return f"{path}?{query.decode('latin-1')}" if query else path


# Expired keys go on a client's claim at most this often (per process), and
# with `backplan prune`: a claim need not delete on every request.
PRUNE_INTERVAL = timedelta(minutes=1)
_last_pruned: dict[str, float] = {}


def _expired(record: IdempotencyRecord | None, *, before: datetime) -> bool:
    return record is not None and record.created_at < before


def _prune_now_and_then(session: Session, *, owner: str, before: datetime) -> None:
    now = time.monotonic()
    if now - _last_pruned.get(owner, -math.inf) >= PRUNE_INTERVAL.total_seconds():
        store.drop_expired(session, owner=owner, before=before)
        _last_pruned[owner] = now


def claim(
    request: Request,
    session: Session,
    *,
    owner: str,
    raw_key: str,
    fingerprint: str,
    ttl: timedelta,
    now: datetime,
) -> None:
    """Claim the key for this request, or end it: replay, 409 or 422."""
    key = parse_key(raw_key)
    _prune_now_and_then(session, owner=owner, before=now - ttl)
    lease = secrets.token_hex(16)
    user_id = _person_id(request.path_params.get("user_id"))
    record = IdempotencyRecord(
        owner=owner,
        key=key,
        fingerprint=fingerprint,
        method=request.method,
        path=target_of(request),
        user_id=user_id,
        lease=lease,
        locked_at=now,
        created_at=now,
    )
    inserted = store.insert_claim(session, record=record)
    if not inserted and _expired(store.find(session, owner=owner, key=key), before=now - ttl):
        # Kept past its time and not pruned yet: the key is free again.
        store.prune(session, before=now - ttl, owner=owner)
        inserted = store.insert_claim(session, record=record)
    if not inserted:
        existing = store.find(session, owner=owner, key=key)
        if existing is None:
            raise _in_flight()  # released between our insert and our look: retry
        if existing.fingerprint != fingerprint:
            raise ApiError(
                422,
                f"This {HEADER} was used for another request (a different method, path or "
                "body). Use a new key for a new request.",
                type_=ProblemType.idempotency_key_reused,
                title="Idempotency-Key reused",
            )
        if existing.status is not None:
            raise Replay(existing)
        if existing.lease is None or existing.locked_at > now - LEASE:
            raise _in_flight()
        if not store.take_over(
            session, owner=owner, key=key, stale_lease=existing.lease, lease=lease, now=now
        ):
            raise _in_flight()
    # Commit the claim now: a duplicate must see it while this request works.
    session.commit()
    request.scope[_CLAIM] = Claim(
        owner=owner, key=key, lease=lease, user_id=user_id, now=now, session=session
    )


def record_answer(
    session: Session,
    *,
    owner: str,
    raw_key: str,
    fingerprint: str,
    request: Request,
    response: Response,
    ttl: timedelta,
    now: datetime,
) -> None:
    """Claim the key and store the request's response at once, in the
    request's own transaction, for a request whose work is done in that same
    transaction (`api.hot`). A key known already (in flight, answered, reused
    or expired) is an IntegrityError, here or (in a pipeline) when the
    caller's savepoint ends: the caller then rolls back and the request takes
    the full path of `claim`."""
    key = parse_key(raw_key)
    _prune_now_and_then(session, owner=owner, before=now - ttl)
    stored = _stored(response, secret=())
    user_id = _about(_person_id(request.path_params.get("user_id")), stored)
    store.insert_answered(
        session,
        owner=owner,
        key=key,
        fingerprint=fingerprint,
        method=request.method,
        path=target_of(request),
        user_id=user_id,
        response=stored,
        now=now,
    )


def _in_flight() -> ApiError:
    return ApiError(
        409,
        f"A request with this {HEADER} is still being processed; retry it shortly to get "
        "its response.",
        type_=ProblemType.request_in_progress,
        title="Request in progress",
        headers={"Retry-After": "1"},
    )


def complete(request: Request, response: Response, secret: Sequence[str]) -> None:
    """Store the response of a request that holds a key, in the request's own
    transaction (before it commits)."""
    held: Claim | None = request.scope.get(_CLAIM)
    if held is None or response.status_code >= 500:
        return
    if _store(held.session, held, _stored(response, secret)) == "lost":
        raise _in_flight()
    held.stored = True


def _stored(response: Response, secret: Sequence[str]) -> StoredResponse:
    """What is kept of a response to replay it."""
    return StoredResponse(
        status=response.status_code,
        headers=_replayed_headers(response.headers.items()),
        body=_without(bytes(response.body), secret),
    )


def _about(user_id: str | None, stored: StoredResponse) -> str | None:
    """The person a stored response is about: the path's, or the created one's."""
    return user_id or _person_in(stored.headers.get("location"))


def _store(session: Session, held: Claim, stored: StoredResponse) -> str:
    user_id = _about(held.user_id, stored)
    return store.complete(
        session,
        owner=held.owner,
        key=held.key,
        lease=held.lease,
        response=stored,
        user_id=user_id,
        now=held.now,
    )


def _replayed_headers(headers: Sequence[tuple[str, str]]) -> dict[str, str]:
    return {name: value for name, value in headers if name.lower() in _REPLAYED_HEADERS}


def _person_in(location: str | None) -> str | None:
    """The person a created resource belongs to, from its Location."""
    found = _PERSON.match(location or "")
    return None if found is None else _person_id(found.group(1))


def _person_id(candidate: str | None) -> str | None:
    # A path may name what cannot be a user id; such a request is about nobody.
    return candidate if candidate and len(candidate) <= ID_LENGTH else None


def _without(body: bytes, secret: Sequence[str]) -> bytes:
    if not secret or not body:
        return body
    document = json.loads(body)
    for name in secret:
        if name in document:
            document[name] = None
    return json.dumps(document, separators=(",", ":"), ensure_ascii=False).encode()


def replay_response(stored: StoredResponse) -> Response:
    headers = {**stored.headers, REPLAYED: "true"}
    return Response(content=stored.body or None, status_code=stored.status, headers=headers)


class IdempotencyMiddleware:
    """Sends replays, stores problem responses and releases the key of a
    request that failed on our side (see the module's docstring)."""

    def __init__(self, app: ASGIApp, *, engine: Engine) -> None:
        self.app = app
        self.engine = engine

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in WRITE_METHODS:
            await self.app(scope, receive, send)
            return
        held_messages: list[Message] = []

        async def send_once_stored(message: Message) -> None:
            held: Claim | None = scope.get(_CLAIM)
            if held is None or held.stored:
                await send(message)
                return
            held_messages.append(message)
            if message["type"] == "http.response.body" and not message.get("more_body"):
                await run_in_threadpool(self._finish, held, held_messages)
                for kept in held_messages:
                    await send(kept)

        try:
            await self.app(scope, receive, send_once_stored)
        except Replay as replay:
            await replay_response(replay.response)(scope, receive, send)
        except BaseException:
            held = scope.get(_CLAIM)
            if held is not None:
                await run_in_threadpool(self._release, held)
            raise

    def _finish(self, held: Claim, messages: list[Message]) -> None:
        start = messages[0]
        status: int = start["status"]
        if status >= 500:
            self._release(held)
            return
        headers = [
            (name.decode("latin-1"), value.decode("latin-1")) for name, value in start["headers"]
        ]
        body = b"".join(message.get("body", b"") for message in messages[1:])
        stored = StoredResponse(status=status, headers=_replayed_headers(headers), body=body)
        with Session(self.engine) as session:
            _store(session, held, stored)
            session.commit()
        held.stored = True

    def _release(self, held: Claim) -> None:
        # Only an unfinished claim of ours goes: a stored response stays.
        with Session(self.engine) as session:
            store.release(session, owner=held.owner, key=held.key, lease=held.lease)
            session.commit()
