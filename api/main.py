"""The ASGI app: `api.main:app`, or `create_app(settings)` for tests."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib.metadata import version
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from starlette.concurrency import run_in_threadpool

from api import errors
from api.routes import clients, completions, episodes, exercises, health, plans, progress, users
from api.settings import Settings, get_settings
from db.engine import make_engine
from db.migrate import upgrade

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

**Dates** are in the person's time zone; times are RFC 3339 (UTC when no
offset is given).
"""


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    engine = make_engine(settings.database_url, echo=settings.log_sql)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        if settings.migrate_on_start:
            await run_in_threadpool(upgrade, engine)
        yield
        engine.dispose()

    app = FastAPI(
        title="backplan",
        version=version("backplan"),
        description=DESCRIPTION,
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.engine = engine
    errors.install(app)
    for module in (health, clients, users, episodes, plans, completions, progress, exercises):
        app.include_router(module.router)
    app.openapi = lambda: _openapi(app)  # type: ignore[method-assign]
    return app


def _openapi(app: FastAPI) -> dict[str, Any]:
    if app.openapi_schema is None:
        schema = get_openapi(
            title=app.title, version=app.version, description=app.description, routes=app.routes
        )
        _problems_as_problem_json(schema)
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
