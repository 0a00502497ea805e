"""Stage changes: one row each time the engine reports a different stage."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Table, bindparam, insert, select
from sqlmodel import Session, SQLModel

from db import outbox
from db.errors import NotFound
from db.outbox import EventType
from db.raw import Raw, read_together
from db.tables import StageChange, new_id

# Built once: statements on the tables, run on the driver's cursor (`db.raw`)
# on every plan and progress.
_USERS: Table = SQLModel.metadata.tables["users"]
_STAGES: Table = SQLModel.metadata.tables["stage_changes"]
# NO KEY UPDATE lets rows referring to the person be written meanwhile.
_LOCK_USER = Raw(
    select(_USERS.c.client_id, _USERS.c.external_id)
    .where(_USERS.c.id == bindparam("user_id"))
    .with_for_update(key_share=True)
)
_LATEST_STAGE = Raw(
    select(_STAGES.c.stage)
    .where(_STAGES.c.user_id == bindparam("user_id"))
    .order_by(_STAGES.c.recorded_at.desc(), _STAGES.c.since.desc())
    .limit(1)
)
_INSERT_STAGE = Raw(insert(_STAGES))


def record_stage(
    session: Session, *, user_id: str, stage: int, since: date, now: datetime
) -> StageChange | None:
    """Insert a row when `stage` differs from the latest one, and emit
    `stage.changed`; the new row, if any."""
    # Two requests for one person would both see the same latest row and record
    # the change twice: lock the person first (PostgreSQL; a SQLite transaction
    # holds the write lock already).
    # The server runs them in order: the lock is held before the latest row
    # is read; both take one round trip.
    params = {"user_id": user_id}
    people, latest = read_together(session, [(_LOCK_USER, params), (_LATEST_STAGE, params)])
    if not people:
        raise NotFound("user", user_id)
    if latest and latest[0][0] == stage:
        return None
    change = StageChange(id=new_id(), user_id=user_id, stage=stage, since=since, recorded_at=now)
    _INSERT_STAGE.run(session, change.model_dump())
    client_id, external_id = people[0]
    outbox.emit_about(
        session,
        client_id=client_id,
        user_id=user_id,
        external_id=external_id,
        type=EventType.stage_changed,
        now=now,
        stage=stage,
    )
    return change
