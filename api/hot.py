"""A fast path for what apps do most: read this week's plan, progress and the
exercise list (without query parameters), and report a session done.

FastAPI resolves an operation's dependencies anew on every request, which
here cost more than everything else a cached read does (about 60% of its
time in-process). This ASGI layer sits just inside the app's own middleware
(security headers, body limit, NUL guard) and answers those three requests
with the very functions the documented routes use: `api.deps.authenticate`
(rate limit, API key), the plans:read scope check, the cached user
(`api.deps`), and the cached bodies of `api.reads`, with the same ETag and
304 handling (`api.etags`). It answers only what succeeds; anything else, an
error included, goes on to the routes, which answer it as always. The routes
stay the API's definition and documentation.

A completion PUT (`api.routes.completions.report`) runs here as one piece of
work: the user's and session's lookup (one read, made ahead with the rest of
its batch's: `db.completions.TargetHint`), the work, its response and, with
an Idempotency-Key, the key's stored response, which commit together, in a
transaction shared with the completions that arrived with it
(`api.batching`: group commit, one thread hop and one commit for all). The
route's path takes three transactions and several hops (the key's
claim, committed first; the work; the stored response). Only a key never
seen before is taken here: a key already known (a retry, a reuse, a request
still running) rolls the savepoint back and the request goes on to the
routes, whose claim answers it.
"""

from __future__ import annotations

import inspect
from datetime import datetime, timedelta

from fastapi import FastAPI
from sqlmodel import Session
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from api import etags, idempotency, reads
from api.caching import Body
from api.deps import (
    api_key_scheme,
    authenticate,
    get_now,
    known_user_ref,
    require_scopes,
    user_ref,
)
from api.middleware import replay_body
from api.pagination import DEFAULT_LIMIT, PageRequest
from api.routes import completions
from api.schemas import CompletionPut
from api.schemas import Scope as ApiScope
from db.completions import TargetHint

_USERS = "/v1/users/"
_EXERCISES = "/v1/exercises"
_USER_READS = ("plan", "progress")
_MAX_USER_ID = 64
_SESSIONS = "/sessions/"
_COMPLETION = "/completion"
_JSON = "application/json"


class HotPaths:
    """Serves GET /v1/users/{id}/plan, /v1/users/{id}/progress and /v1/exercises
    without query parameters, when they succeed; passes on everything else."""

    def __init__(self, app: ASGIApp, *, api: FastAPI) -> None:
        self.app = app
        self.api = api

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and not scope["query_string"]:
            response: Response | None = None
            if scope["method"] == "GET":
                response = await self._answer(scope)
            elif scope["method"] == "PUT" and scope["path"].endswith(_COMPLETION):
                body, receive = await _read(receive)
                response = await self._report(scope, body)
            if response is not None:
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)

    async def _report(self, scope: Scope, body: bytes) -> Response | None:
        """PUT /v1/users/{id}/sessions/{session_id}/completion, if it succeeds."""
        found = _completion_path(scope["path"])
        if found is None:
            return None
        scope["path_params"] = {"user_id": found[0], "session_id": found[1]}
        request = Request(scope)
        if request.headers.get("content-type", "").partition(";")[0].strip() != _JSON:
            return None
        try:
            caller = await authenticate(request, await api_key_scheme(request))
            require_scopes([ApiScope.sessions_write], caller)
            report = CompletionPut.model_validate_json(body)
            now = await self._now()
            client_id = caller.client.id

            def work(session: Session) -> Response:
                return self._report_in(session, request, client_id, found, report, body, now)

            hint = TargetHint(found[0], found[1], with_slugs=bool(report.skipped))
            response: Response = await request.app.state.group_commit.run(work, hint=hint)
            return response
        except Exception:  # the route answers it, error and all
            return None

    def _report_in(
        self,
        session: Session,
        request: Request,
        client_id: str,
        ids: tuple[str, str],
        report: CompletionPut,
        body: bytes,
        now: datetime,
    ) -> Response:
        """The report, its response and the key's stored response, written in
        `session` (a savepoint of a shared transaction: `api.batching`)."""
        state = request.app.state
        raw_key = request.headers.get(idempotency.HEADER)
        user_id, session_id = ids
        public, created = completions.report(
            session,
            client_id=client_id,
            user_id=user_id,
            session_id=session_id,
            body=report,
            now=now,
            unread=True,  # a race with another first report: the route overwrites
        )
        content = public.__pydantic_serializer__.to_json(public)
        response = Response(content, status_code=201 if created else 200, media_type=_JSON)
        response = etags.respond(request, response)
        if raw_key is not None:
            idempotency.record_answer(
                session,
                owner=client_id,
                raw_key=raw_key,
                fingerprint=idempotency.fingerprint("PUT", idempotency.target_of(request), body),
                request=request,
                response=response,
                ttl=timedelta(hours=state.settings.idempotency_ttl_hours),
                now=now,
            )
        return response

    async def _answer(self, scope: Scope) -> Response | None:
        path: str = scope["path"]
        if path == _EXERCISES:
            user_id, what = None, "exercises"
        elif path.startswith(_USERS):
            user_id, _, what = path[len(_USERS) :].partition("/")
            if what not in _USER_READS or not user_id or len(user_id) > _MAX_USER_ID:
                return None
        else:
            return None
        request = Request(scope)  # Starlette set scope["app"] to the FastAPI app
        try:
            body = await self._body(request, user_id, what)
        except Exception:  # the route answers it, error and all
            return None
        return etags.respond(request, reads.respond(body))

    async def _body(self, request: Request, user_id: str | None, what: str) -> Body:
        caller = await authenticate(request, await api_key_scheme(request))
        require_scopes([ApiScope.plans_read], caller)
        state = request.app.state
        if user_id is None:
            paging = PageRequest(limit=DEFAULT_LIMIT, cursor=None)
            return await reads.exercises(state.caches, paging, reads.ExerciseFilters())
        now = await self._now()
        if what == "plan":
            known = known_user_ref(request, caller, user_id)
            if known is None:  # most likely a first-time plan: one transaction for both
                return await reads.this_weeks_plan_of(
                    state, client_id=caller.client.id, user_id=user_id, now=now
                )
            return await reads.plan(state, ref=known, week=None, now=now)
        ref = await user_ref(request, caller, user_id)
        return await reads.progress(state, ref=ref, now=now)

    async def _now(self) -> datetime:
        # The routes' clock, overridden in tests as theirs is.
        clock = self.api.dependency_overrides.get(get_now, get_now)
        now = clock()
        if inspect.isawaitable(now):
            now = await now
        assert isinstance(now, datetime)
        return now


def _completion_path(path: str) -> tuple[str, str] | None:
    """(user id, session id) of /v1/users/{id}/sessions/{session_id}/completion."""
    if not path.startswith(_USERS):
        return None
    user_id, sessions, rest = path[len(_USERS) : -len(_COMPLETION)].partition(_SESSIONS)
    if not sessions or not user_id or not rest or "/" in user_id or "/" in rest:
        return None
    if len(user_id) > _MAX_USER_ID or len(rest) > _MAX_USER_ID:
        return None
    return user_id, rest


async def _read(receive: Receive) -> tuple[bytes, Receive]:
    """The whole request body, and a `receive` that hands it over again to
    the routes, should the request go on to them."""
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    body = b"".join(chunks)
    return body, replay_body(body, receive)


def install(app: FastAPI) -> None:
    """Put `HotPaths` around the app's middleware stack (install it before
    `api.middleware.install`, which wraps it in turn)."""
    build = app.build_middleware_stack

    def build_wrapped() -> ASGIApp:
        return HotPaths(build(), api=app)

    app.build_middleware_stack = build_wrapped  # type: ignore[method-assign]
