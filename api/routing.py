"""The route classes of the /v1 routers: HTTP semantics every operation shares.

- Every successful response with a body gets a strong ETag of that body; a
  GET answers 304 when If-None-Match names it (`api.etags`).
- Every POST, PUT, PATCH and DELETE takes an Idempotency-Key: the claim is a
  dependency, and the response is stored before the request's transaction
  commits (`api.idempotency`).
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any, ClassVar

from fastapi import params
from fastapi.routing import APIRoute
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from api import etags, idempotency
from api.deps import AdminIdempotent, Idempotent
from api.errors import problem_responses

_IF_NONE_MATCH = {
    "name": "If-None-Match",
    "in": "header",
    "required": False,
    "description": "ETags of representations you hold: 304 Not Modified, without a body, "
    "when one is current (weak comparison; `*` matches any).",
    "schema": {"type": "string"},
}
_ETAG = {
    "ETag": {
        "description": "Strong entity tag of this representation.",
        "schema": {"type": "string"},
    }
}


class Route(APIRoute):
    """A /v1 operation called with an API key."""

    claim: ClassVar[params.Depends] = Idempotent

    def __init__(self, path: str, endpoint: Callable[..., Any], **options: Any) -> None:
        methods = set(options.get("methods") or ())
        responses = dict(options.get("responses") or {})
        if methods & idempotency.WRITE_METHODS:
            dependencies = list(options.get("dependencies") or [])
            if not any(dep.dependency is self.claim.dependency for dep in dependencies):
                dependencies.append(self.claim)
            options["dependencies"] = dependencies
            responses = {**problem_responses(400, 409, 422), **responses}
        if "GET" in methods:
            responses[200] = {"headers": _ETAG, **responses.get(200, {})}
            responses[304] = {"description": "Not Modified: If-None-Match names the ETag."}
            extra = dict(options.get("openapi_extra") or {})
            parameters = list(extra.get("parameters", []))
            if _IF_NONE_MATCH not in parameters:
                parameters.append(_IF_NONE_MATCH)
            options["openapi_extra"] = {**extra, "parameters": parameters}
        options["responses"] = responses
        super().__init__(path, endpoint, **options)

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()
        secret = idempotency.secret_fields_of(self.endpoint)

        async def handle(request: Request) -> Response:
            response = await handler(request)
            if not secret:
                response = etags.respond(request, response)
            if request.method in idempotency.WRITE_METHODS:
                await run_in_threadpool(idempotency.complete, request, response, secret)
            return response

        return handle


class AdminRoute(Route):
    """A /v1 operation called with the operator's admin token."""

    claim = AdminIdempotent
