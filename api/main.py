"""The ASGI app: `api.main:app`, or `create_app(settings)` for tests."""

from __future__ import annotations

import asyncio
import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib.metadata import version
from typing import Any

from anyio import to_thread
from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from starlette.concurrency import run_in_threadpool

from api import errors, hot, middleware
from api.batching import GroupCommit
from api.caching import Caches
from api.idempotency import IdempotencyMiddleware
from api.routes import (
    calendar,
    clients,
    completions,
    episodes,
    exercises,
    export,
    fhir,
    health,
    keys,
    plans,
    progress,
    users,
)
from api.routes import webhooks as webhook_routes
from api.settings import Settings, get_settings
from api.webhooks.worker import BackgroundWorker, WorkerConfig
from db import completions as completion_store
from db import plans as plan_store
from db.changes import watcher_for
from db.engine import PG_CONNECT_TIMEOUT_S, checkpointer_for, make_engine
from db.migrate import upgrade

# Threads beyond one per request in flight, for work outside requests
# (start-up, shutdown) so that it never waits for a request's thread.
SPARE_THREADS = 8

DESCRIPTION = """\
Exercise programs that prevent the next episode of back pain with muscle spasm.

**Authentication**: `Authorization: Bearer <api key>` on every `/v1` call
(`POST /v1/clients` takes the operator's admin token instead). A missing or
invalid key answers 401; another client's user answers 404, as an unknown id.

**Errors** are RFC 9457 problem details (`application/problem+json`). Problem
types are `about:blank` when the status says it all, otherwise
`urn:backplan:problem:validation-error` (422, with `errors[]` naming each field
by a JSON `pointer` into the body or a query/path `parameter`),
`urn:backplan:problem:malformed-request` (400, the body is not JSON) and
`urn:backplan:problem:already-exists` (409).

**Scopes**: each API key holds some of `plans:read`, `sessions:write`,
`users:write` and `users:delete`, and each operation needs one, shown as its
security requirement and at the end of its description. `plans:read` reads
people, episodes, plans, progress, completions, exercises, calendars, FHIR
and exports; `sessions:write` reports and undoes completions; `users:write`
creates and changes people and episodes, issues calendar feeds and manages
keys and webhook endpoints; `users:delete` erases people. A missing scope answers 403
(`urn:backplan:problem:insufficient-scope`); a revoked key 401, as an unknown
one. Keys from `POST /v1/clients` have every scope; `POST /v1/keys` makes
keys with a subset of the caller's.

**Idempotency-Key** (draft-ietf-httpapi-idempotency-key-header) on every
POST, PUT, PATCH and DELETE, per client: a quoted string or token up to 255
characters, a UUID recommended. A repeat with the same method, path and body
gets the stored response (errors included) with `Idempotent-Replayed: true`,
and the change happens once; the same key with another request answers 422
(`urn:backplan:problem:idempotency-key-reused`); while the first is still
running, 409 (`urn:backplan:problem:request-in-progress`, `Retry-After`). A
5xx is not stored: the key is released, retry with it. Responses are kept 24
hours (`BACKPLAN_IDEMPOTENCY_TTL_HOURS`), a claim abandoned by a crashed
process is taken over after 60 s. Replays of responses that showed a secret
once (API keys, calendar feed URLs) have that field null. Erasing a person
forgets the keys of requests about them.

**ETags**: every successful response with a body carries a strong ETag, a
hash of the body. Send it back in `If-None-Match` on a GET to get 304 Not
Modified without a body, and in `If-Match` on a PATCH of a user or an
episode to update only what you read (412 if it changed since).

**Pagination**: lists take `limit` (1-100, default 50) and `cursor`, and
answer `{items, next_cursor}`; pass `next_cursor` as `cursor` for the next
page (null on the last). Users and keys sort by creation, episodes by report
order, exercises by slug; an invalid cursor answers 422.

**Dates** are in the person's time zone; times are RFC 3339 (UTC when no
offset is given).

**Webhooks**: register an endpoint with `POST /v1/webhooks` to receive events
(`webhooks` below), signed per Standard Webhooks 1.0.
"""


# CPython collects its youngest generation after 700 more container objects
# were made than freed: on the hot paths, every few requests, each collection
# walking what survived, and a full collection every 100 of those. Requests
# make and drop thousands of objects, nearly all freed by reference counting,
# so collecting 14x less often cost nothing in memory here and made completion
# PUTs ~40% faster (BENCHMARKS.md).
GC_THRESHOLDS = (10_000, 10, 10)


def _tune_collector() -> None:
    """After start-up: what was loaded lives as long as the process, so it
    goes out of the collector's way (`gc.freeze`), or every full collection
    would walk it again; then the thresholds above."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    engine = make_engine(settings.database_url, echo=settings.log_sql)
    caches = Caches(
        max_bytes=settings.cache_max_bytes,
        watcher=watcher_for(engine, connect_timeout_s=PG_CONNECT_TIMEOUT_S),
    )

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        # More threads than requests let in (`api.middleware.InFlightLimit`):
        # a request that needs a thread always finds one.
        threads = to_thread.current_default_thread_limiter()
        threads.total_tokens = settings.max_concurrent_requests + SPARE_THREADS
        if settings.migrate_on_start:
            await run_in_threadpool(upgrade, engine)
        worker = None
        if settings.webhooks_run_in_process:
            worker = BackgroundWorker(engine, WorkerConfig.from_settings(settings))
            worker.start()
        _tune_collector()
        # SQLite: the WAL is checkpointed off the writers' path (`db.engine`).
        checkpointer = checkpointer_for(engine)
        if checkpointer is not None:
            checkpointer.start()
        yield
        if checkpointer is not None:
            await run_in_threadpool(checkpointer.stop)
        if worker is not None:
            await run_in_threadpool(worker.stop)
        caches.close()
        engine.dispose()

    app = FastAPI(
        title="backplan",
        version=version("backplan"),
        description=DESCRIPTION,
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.engine = engine
    app.state.caches = caches
    # SQLite's writers take turns on the event loop (`api.caching.write_turn`).
    app.state.sqlite_writes = asyncio.Lock() if engine.dialect.name == "sqlite" else None
    # Completion PUTs that arrive together commit together (`api.batching`).
    # One batch at a time: on PostgreSQL a batch of them waits on two round
    # trips (its read-ahead and its commit) and otherwise holds the GIL, so a
    # second batch beside it gained nothing but made both smaller (a rig on
    # 2 cores, 6 A/B pairs: 611 -> 640 completions/s at the median, 1.32 ->
    # 1.20 ms of the service's CPU a completion).
    app.state.group_commit = GroupCommit(
        app.state, defers_sends=True, read_ahead=completion_store.read_targets, concurrent=1
    )
    # So do the first serves of weeks that have begun, which store them: on
    # PostgreSQL a batch reads what its people's plans need all at once, and
    # on both backends it stores every week it serves as it ends, each
    # statement once for the batch (`db.plans.read_ahead`, `store_week`).
    app.state.plan_commit = GroupCommit(
        app.state, pipelined=False, defers_sends=True, read_ahead=plan_store.read_ahead
    )
    errors.install(app)
    hot.install(app)
    middleware.install(app, settings)
    app.add_middleware(IdempotencyMiddleware, engine=engine)
    # Routes are matched in this order, router by router: the busiest first.
    # No two of them overlap (no path matches two routes of different
    # routers), so the order changes no match, only its cost.
    for module in (
        plans,
        completions,
        progress,
        exercises,
        health,
        clients,
        keys,
        users,
        episodes,
        calendar,
        fhir,
        export,
    ):
        app.include_router(module.router)
    app.include_router(webhook_routes.router)
    app.webhooks.include_router(webhook_routes.events)
    app.openapi = lambda: _openapi(app)  # type: ignore[method-assign]
    return app


def _openapi(app: FastAPI) -> dict[str, Any]:
    if app.openapi_schema is None:
        schema = get_openapi(
            title=app.title,
            version=app.version,
            description=app.description,
            routes=app.routes,
            webhooks=app.webhooks.routes,
        )
        _problems_as_problem_json(schema)
        middleware.document_common_problems(schema)
        app.openapi_schema = schema
    return app.openapi_schema


def _problems_as_problem_json(schema: dict[str, Any]) -> None:
    # FastAPI documents every response as application/json; errors are problem+json.
    for path in schema.get("paths", {}).values():
        for operation in path.values():
            for status, response in operation.get("responses", {}).items():
                content = response.get("content", {})
                if status[0] in "45" and "application/json" in content:
                    content[errors.PROBLEM_JSON] = content.pop("application/json")


app = create_app()
