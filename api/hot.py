"""A fast path for the three reads apps make most: this week's plan, progress
and the exercise list, asked without query parameters.

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
"""

from __future__ import annotations

import inspect
from datetime import datetime

from fastapi import FastAPI
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from api import etags, reads
from api.caching import Body
from api.deps import api_key_scheme, authenticate, get_now, require_scopes, user_ref
from api.pagination import DEFAULT_LIMIT, PageRequest
from api.schemas import Scope as ApiScope

_USERS = "/v1/users/"
_EXERCISES = "/v1/exercises"
_USER_READS = ("plan", "progress")
_MAX_USER_ID = 64


class HotReads:
    """Serves GET /v1/users/{id}/plan, /v1/users/{id}/progress and /v1/exercises
    without query parameters, when they succeed; passes on everything else."""

    def __init__(self, app: ASGIApp, *, api: FastAPI) -> None:
        self.app = app
        self.api = api

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "GET" and not scope["query_string"]:
            response = await self._answer(scope)
            if response is not None:
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)

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
        ref = await user_ref(request, caller, user_id)
        now = await self._now()
        if what == "plan":
            return await reads.plan(state, ref=ref, week=None, now=now)
        return await reads.progress(state, ref=ref, now=now)

    async def _now(self) -> datetime:
        # The routes' clock, overridden in tests as theirs is.
        clock = self.api.dependency_overrides.get(get_now, get_now)
        now = clock()
        if inspect.isawaitable(now):
            now = await now
        assert isinstance(now, datetime)
        return now


def install(app: FastAPI) -> None:
    """Put `HotReads` around the app's middleware stack (install it before
    `api.middleware.install`, which wraps it in turn)."""
    build = app.build_middleware_stack

    def build_wrapped() -> ASGIApp:
        return HotReads(build(), api=app)

    app.build_middleware_stack = build_wrapped  # type: ignore[method-assign]
