"""Keyset pagination: a page starts after the last row of the one before, so
rows inserted meanwhile never shift a page or repeat one."""

from __future__ import annotations

from datetime import datetime
from typing import Any, TypeVar

from sqlmodel import and_, or_
from sqlmodel.sql.expression import SelectOfScalar

T = TypeVar("T")

# The sort key of the last row served: (created_at, id).
Position = tuple[datetime, str]


def page_by_creation(
    statement: SelectOfScalar[T], *, created: Any, ident: Any, after: Position | None, limit: int
) -> SelectOfScalar[T]:
    """`statement` ordered by (created, ident), from just after `after`, at most `limit` rows."""
    if after is not None:
        moment, last_id = after
        statement = statement.where(or_(created > moment, and_(created == moment, ident > last_id)))
    return statement.order_by(created, ident).limit(limit)
