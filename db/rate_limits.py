"""Rate limit counters: one row per API key, shared by every worker process."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import case
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session

from db.tables import RateLimitWindow


def count_request(session: Session, *, key_id: str, window_start: datetime) -> int:
    """Count one request of the key in the window starting at `window_start`;
    the window's count so far, this request included.

    One atomic upsert, so concurrent requests from any process never lose a
    count. A later window restarts the count; a request still in an earlier
    one (another worker's clock a little behind) counts in the current one."""
    table = RateLimitWindow.__table__  # type: ignore[attr-defined]
    dialect = session.get_bind().dialect.name
    insert = postgresql_insert if dialect == "postgresql" else sqlite_insert
    values = insert(table).values(key_id=key_id, window_start=window_start, count=1)
    newer = values.excluded.window_start > table.c.window_start
    statement = values.on_conflict_do_update(
        index_elements=[table.c.key_id],
        set_={
            "count": case((newer, 1), else_=table.c.count + 1),
            "window_start": case((newer, values.excluded.window_start), else_=table.c.window_start),
        },
    ).returning(table.c.count)
    count: int = session.execute(statement).scalar_one()
    return count
