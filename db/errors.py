"""Errors the storage layer raises; `api/errors.py` turns them into problems.

StoreError        base class; never raised itself
├── NotFound      no such row for this owner (or it belongs to someone else)
└── Conflict      the write would break a uniqueness rule
"""

from __future__ import annotations


class StoreError(Exception):
    """Base class for storage errors."""


class NotFound(StoreError):
    def __init__(self, what: str, ident: str) -> None:
        super().__init__(f"no {what} with id {ident!r}")
        self.what = what
        self.ident = ident


class Conflict(StoreError):
    """`field` names the request field that clashes, when there is one."""

    def __init__(self, detail: str, *, field: str | None = None) -> None:
        super().__init__(detail)
        self.field = field
