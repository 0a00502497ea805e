"""Entity tags and conditional requests (RFC 9110, section 13).

An ETag is strong and derived from the representation itself: a hash of the
response body, so equal bodies have equal tags and any change of the body
changes the tag. `If-None-Match` on a GET answers 304 (weak comparison);
`If-Match` on an update answers 412 unless it names the current
representation (strong comparison).
"""

from __future__ import annotations

import base64
import hashlib
import re

from pydantic import BaseModel
from starlette.requests import Request
from starlette.responses import Response

from api.errors import ApiError

# What a cache may do with a person's data: keep it privately, revalidate always.
CACHE_CONTROL = "private, no-cache"
_ENTITY_TAG = re.compile(r'\s*(W/)?"([\x21\x23-\x7e\x80-\xff]*)"\s*(?:,|$)')


def etag_of(body: bytes) -> str:
    """The strong ETag of a body: 128 bits of its SHA-256, base64url."""
    digest = hashlib.sha256(body).digest()[:16]
    return '"' + base64.urlsafe_b64encode(digest).decode().rstrip("=") + '"'


def etag_of_model(model: BaseModel) -> str:
    """The ETag of `model` served as JSON, as FastAPI serializes it."""
    return etag_of(model.__pydantic_serializer__.to_json(model))


def _parse(header: str) -> list[tuple[bool, str]] | None:
    """(weak, opaque tag) for each tag of a list; None for `*` or a malformed list."""
    if header.strip() == "*":
        return None
    tags: list[tuple[bool, str]] = []
    position = 0
    while position < len(header):
        found = _ENTITY_TAG.match(header, position)
        if found is None:
            return []
        tags.append((found.group(1) is not None, found.group(2)))
        position = found.end()
    return tags


def _opaque(etag: str) -> str:
    return etag.removeprefix("W/").strip('"')


def none_match(header: str | None, etag: str) -> bool:
    """Whether `If-None-Match` names the current representation (weak comparison)."""
    if header is None:
        return False
    tags = _parse(header)
    return tags is None or any(tag == _opaque(etag) for _weak, tag in tags)


def matches(header: str, etag: str) -> bool:
    """Whether `If-Match` names the current representation (strong comparison)."""
    tags = _parse(header)
    return tags is None or any(not weak and tag == _opaque(etag) for weak, tag in tags)


def require_match(if_match: str | None, current: BaseModel) -> None:
    """412 unless `If-Match` is absent or names `current`'s representation."""
    if if_match is not None and not matches(if_match, etag_of_model(current)):
        raise ApiError(
            412,
            "The resource changed since you read it (If-Match does not match its ETag): "
            "read it again and reapply your change.",
        )


def respond(request: Request, response: Response) -> Response:
    """Tag a successful response with the ETag of its body; a GET whose
    If-None-Match names that tag gets 304 Not Modified, without a body."""
    if not 200 <= response.status_code < 300 or not response.body:
        return response
    etag = response.headers.get("etag") or etag_of(bytes(response.body))
    response.headers["ETag"] = etag
    if request.method != "GET":
        return response
    response.headers.setdefault("Cache-Control", CACHE_CONTROL)
    if none_match(request.headers.get("if-none-match"), etag):
        kept = {
            name: value
            for name in ("etag", "cache-control", "content-location", "vary")
            if (value := response.headers.get(name)) is not None
        }
        return Response(status_code=304, headers=kept)
    return response
