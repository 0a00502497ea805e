"""Cursor pagination for every list: `limit` and an opaque `cursor`.

A cursor is the sort key of the last item served (base64url JSON, tagged with
its list), so pages stay stable while rows are added: nothing repeats and
nothing is skipped. Lists sort by (created_at, id), episodes by report order,
exercises by slug.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar

from api.errors import FieldError, invalid_fields
from db.pages import Position

DEFAULT_LIMIT = 50
MAX_LIMIT = 100

T = TypeVar("T")
Key = list[str | int]


@dataclass(frozen=True, slots=True)
class PageRequest:
    limit: int
    cursor: str | None

    def after(self, kind: str) -> Key | None:
        """The sort key the page starts after; 422 for a cursor of another list."""
        return None if self.cursor is None else _decode(self.cursor, kind)

    def after_number(self, kind: str) -> int | None:
        """The sequence number the page starts after."""
        key = self.after(kind)
        if key is not None and (len(key) != 1 or not isinstance(key[0], int)):
            raise _invalid()
        return None if key is None else int(key[0])

    def after_text(self, kind: str) -> str | None:
        """The name (e.g. slug) the page starts after."""
        key = self.after(kind)
        if key is not None and (len(key) != 1 or not isinstance(key[0], str)):
            raise _invalid()
        return None if key is None else str(key[0])

    def after_position(self, kind: str) -> Position | None:
        """The (created_at, id) the page starts after."""
        key = self.after(kind)
        if key is None:
            return None
        moment, ident = key if len(key) == 2 else (None, None)
        if not isinstance(moment, str) or not isinstance(ident, str):
            raise _invalid()
        try:
            return datetime.fromisoformat(moment), ident
        except ValueError:
            raise _invalid() from None


def page(
    rows: Sequence[T], request: PageRequest, *, kind: str, key: Callable[[T], Key]
) -> tuple[list[T], str | None]:
    """The page of `rows` (fetched with `limit + 1` to see whether more follow)
    and the cursor of the next page, if any."""
    items = list(rows[: request.limit])
    more = len(rows) > request.limit
    return items, _encode(kind, key(items[-1])) if more and items else None


def by_creation(created_at: datetime, ident: str) -> Key:
    return [created_at.isoformat(), ident]


def _encode(kind: str, key: Key) -> str:
    raw = json.dumps([kind, *key], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode(cursor: str, kind: str) -> Key:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        decoded = json.loads(raw)
    except (binascii.Error, ValueError):
        raise _invalid() from None
    if not isinstance(decoded, list) or not decoded or decoded[0] != kind:
        raise _invalid()
    values = decoded[1:]
    if not all(isinstance(value, str | int) and not isinstance(value, bool) for value in values):
        raise _invalid()
    return values


def _invalid() -> Exception:
    return invalid_fields(
        [
            FieldError(
                detail="is not a cursor of this list: pass the next_cursor of a previous page "
                "as it is, or leave it out for the first page",
                parameter="cursor",
            )
        ]
    )
