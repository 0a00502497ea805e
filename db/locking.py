"""Locking a row a request already read, before it changes it."""

from __future__ import annotations

from sqlalchemy.exc import InvalidRequestError
from sqlmodel import Session, SQLModel

from db.errors import NotFound


def lock_row(session: Session, row: SQLModel, *, what: str, ident: str) -> None:
    """Reload `row` and lock it until the transaction ends (PostgreSQL;
    SQLite's write transactions hold the whole database already). NotFound
    (`what`, `ident`) when a concurrent request deleted it since it was read:
    a failed reload leaves the object expired, so its own fields cannot name
    it then."""
    try:
        session.refresh(row, with_for_update=True)
    except InvalidRequestError:
        raise NotFound(what, ident) from None
