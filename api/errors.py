"""Every error becomes an RFC 9457 problem (`application/problem+json`), here
and nowhere else: request validation, HTTP errors, the domain's and the
store's errors, and anything unexpected (a 500 without internals).

Problem types: `about:blank` where the status code says it all; otherwise a
`urn:backplan:problem:<name>` URN, listed in `ProblemType`.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Mapping, Sequence
from enum import StrEnum
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException

from db.errors import Conflict, NotFound
from programs import InvalidInput, InvalidWeek, ProgramError, UnknownExercise

PROBLEM_JSON = "application/problem+json"
# When the database is unreachable, locked or out of connections: retry after this long.
RETRY_AFTER_UNAVAILABLE_S = 2
logger = logging.getLogger("api")


class ProblemType(StrEnum):
    blank = "about:blank"
    validation = "urn:backplan:problem:validation-error"
    malformed = "urn:backplan:problem:malformed-request"
    conflict = "urn:backplan:problem:already-exists"
    invalid_header = "urn:backplan:problem:invalid-header"
    idempotency_key_reused = "urn:backplan:problem:idempotency-key-reused"
    request_in_progress = "urn:backplan:problem:request-in-progress"
    insufficient_scope = "urn:backplan:problem:insufficient-scope"


class FieldError(BaseModel):
    """One invalid input: `pointer` into the JSON body, or a query/path `parameter`."""

    detail: str
    pointer: str | None = Field(default=None, examples=["#/training_days/0"])
    parameter: str | None = Field(default=None, examples=["week"])


class Problem(BaseModel):
    """RFC 9457 problem details."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "type": ProblemType.validation,
                    "title": "Invalid request",
                    "status": 422,
                    "detail": "1 field is invalid.",
                    "instance": "/v1/users",
                    "errors": [{"detail": "must be 0 to 10", "pointer": "#/pain_now"}],
                }
            ]
        }
    )

    type: str = ProblemType.blank
    title: str
    status: int
    detail: str
    instance: str | None = None
    errors: list[FieldError] | None = None


class ApiError(Exception):
    """A problem raised by the HTTP layer itself."""

    def __init__(
        self,
        status: int,
        detail: str,
        *,
        type_: ProblemType = ProblemType.blank,
        title: str | None = None,
        errors: Sequence[FieldError] = (),
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.type = type_
        self.title = title or HTTPStatus(status).phrase
        self.errors = list(errors)
        self.headers = dict(headers or {})


def unauthorized(detail: str, *, invalid: bool = False) -> ApiError:
    """401 with the RFC 6750 challenge."""
    challenge = 'Bearer realm="backplan"' + (', error="invalid_token"' if invalid else "")
    return ApiError(401, detail, headers={"WWW-Authenticate": challenge})


def insufficient_scope(scope: str) -> ApiError:
    """403 naming the scope the key lacks, with the RFC 6750 challenge."""
    return ApiError(
        403,
        f"This API key lacks the scope '{scope}' that this operation needs; use a key that has it.",
        type_=ProblemType.insufficient_scope,
        title="Insufficient scope",
        headers={
            "WWW-Authenticate": f'Bearer realm="backplan", error="insufficient_scope", '
            f'scope="{scope}"'
        },
    )


def invalid_fields(errors: Iterable[FieldError]) -> ApiError:
    """422 naming each invalid field."""
    listed = list(errors)
    count = f"{len(listed)} field is" if len(listed) == 1 else f"{len(listed)} fields are"
    return ApiError(
        422,
        f"{count} invalid: " + "; ".join(_describe(error) for error in listed),
        type_=ProblemType.validation,
        title="Invalid request",
        errors=listed,
    )


def invalid_field(pointer: str, detail: str) -> ApiError:
    return invalid_fields([FieldError(detail=detail, pointer=pointer)])


def pointer_to(path: Iterable[str | int]) -> str:
    """A JSON pointer (RFC 6901) in URI fragment form: ("a", 0) -> "#/a/0"."""
    parts = (str(part).replace("~", "~0").replace("/", "~1") for part in path)
    return "#" + "".join(f"/{part}" for part in parts)


def field_errors(exc: ValidationError, *, prefix: Sequence[str | int] = ()) -> list[FieldError]:
    """A pydantic error on a body model as field errors with pointers."""
    return [
        FieldError(detail=_message(error["msg"]), pointer=pointer_to([*prefix, *error["loc"]]))
        for error in exc.errors()
    ]


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses=` entries for these problem statuses."""
    return {
        status: {"model": Problem, "description": HTTPStatus(status).phrase} for status in statuses
    }


def install(app: FastAPI) -> None:
    """Register the one set of problem handlers."""
    app.add_exception_handler(RequestValidationError, _on_request_validation)
    app.add_exception_handler(StarletteHTTPException, _on_http)
    app.add_exception_handler(ApiError, _on_api_error)
    app.add_exception_handler(ProgramError, _on_program_error)
    app.add_exception_handler(NotFound, _on_not_found)
    app.add_exception_handler(Conflict, _on_conflict)
    app.add_exception_handler(DBAPIError, _on_database_error)
    app.add_exception_handler(PoolTimeout, _on_database_error)
    app.add_exception_handler(Exception, _on_unexpected)


def problem(request: Request, error: ApiError) -> JSONResponse:
    body = Problem(
        type=error.type,
        title=error.title,
        status=error.status,
        detail=error.detail,
        instance=request.url.path,
        errors=error.errors or None,
    )
    return JSONResponse(
        body.model_dump(mode="json", exclude_none=True),
        status_code=error.status,
        headers=error.headers,
        media_type=PROBLEM_JSON,
    )


async def _on_request_validation(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = list(exc.errors())
    malformed = next((e for e in errors if e.get("type") == "json_invalid"), None)
    if malformed is not None:
        reason = (malformed.get("ctx") or {}).get("error", "invalid JSON")
        return problem(
            request,
            ApiError(
                400,
                f"The request body is not valid JSON: {reason}.",
                type_=ProblemType.malformed,
                title="Malformed request body",
            ),
        )
    return problem(request, invalid_fields(_request_field_error(e) for e in errors))


def _request_field_error(error: Mapping[str, Any]) -> FieldError:
    where, *path = error["loc"]
    detail = _message(error["msg"])
    if where == "body":
        if not path and error.get("type") == "missing":
            detail = "A JSON request body is required."
        return FieldError(detail=detail, pointer=pointer_to(path))
    return FieldError(detail=detail, parameter=".".join(str(part) for part in path) or where)


async def _on_http(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    detail = exc.detail if isinstance(exc.detail, str) else HTTPStatus(exc.status_code).phrase
    if exc.status_code == 404 and detail == "Not Found":
        detail = f"No resource at {request.url.path}."
    headers = dict(exc.headers or {})
    if exc.status_code == 405:
        detail = f"{request.method} is not allowed on {request.url.path}."
        headers["Allow"] = _allowed_methods(request) or headers.get("Allow", "")
    return problem(request, ApiError(exc.status_code, detail, headers=headers))


_HTTP_METHODS = frozenset({"get", "put", "post", "delete", "options", "head", "patch", "trace"})


def _allowed_methods(request: Request) -> str | None:
    """Every method the OpenAPI document gives the request's path. Starlette's
    Allow names only those of the first route whose path matched."""
    methods: set[str] = set()
    for template, operations in request.app.openapi().get("paths", {}).items():
        pattern = re.sub(r"\\\{[^/]+?\\\}", "[^/]+", re.escape(template))
        if re.fullmatch(pattern, request.url.path):
            methods.update(method.upper() for method in operations if method in _HTTP_METHODS)
    return ", ".join(sorted(methods)) or None


async def _on_api_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ApiError)
    return problem(request, exc)


async def _on_program_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ProgramError)
    if isinstance(exc, UnknownExercise):
        return problem(request, ApiError(404, f"No exercise with slug {exc.slug!r}."))
    if isinstance(exc, InvalidWeek):
        error = FieldError(detail=str(exc), parameter="week")
        return problem(request, invalid_fields([error]))
    if isinstance(exc, InvalidInput):
        return problem(request, ApiError(422, str(exc)))
    logger.exception("unmapped domain error")
    return problem(request, ApiError(422, str(exc)))


async def _on_not_found(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, NotFound)
    return problem(request, ApiError(404, f"No {exc.what} {exc.ident!r}."))


async def _on_conflict(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, Conflict)
    errors = (
        [] if exc.field is None else [FieldError(detail=str(exc), pointer=pointer_to([exc.field]))]
    )
    return problem(
        request,
        ApiError(409, str(exc), type_=ProblemType.conflict, title="Already exists", errors=errors),
    )


async def _on_database_error(request: Request, exc: Exception) -> JSONResponse:
    """A lost, refused, locked or exhausted database is temporary: 503 at once,
    with Retry-After. Any other database error is a bug: 500."""
    transient = isinstance(exc, PoolTimeout | OperationalError | InterfaceError) or (
        isinstance(exc, DBAPIError) and exc.connection_invalidated
    )
    if not transient:
        return await _on_unexpected(request, exc)
    logger.warning("database unavailable on %s %s: %s", request.method, request.url.path, exc)
    return problem(
        request,
        ApiError(
            503,
            "The database is unavailable; try again shortly.",
            headers={"Retry-After": str(RETRY_AFTER_UNAVAILABLE_S)},
        ),
    )


async def _on_unexpected(request: Request, exc: Exception) -> JSONResponse:
    logger.error("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return problem(request, ApiError(500, "Something went wrong on our side; try again later."))


def _message(msg: str) -> str:
    # pydantic prefixes a validator's own message with "Value error, ".
    return msg.removeprefix("Value error, ")


def _describe(error: FieldError) -> str:
    where = error.pointer or (f"parameter {error.parameter}" if error.parameter else "")
    return f"{where}: {error.detail}" if where else error.detail
