"""Stage changes: one row each time the engine reports a different stage."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Table, bindparam
from sqlalchemy import select as core_select
from sqlmodel import Session, SQLModel, col, select

from db import outbox
from db.outbox import EventType
from db.tables import StageChange, User

# Built once: Core statements on the tables, run on every plan and progress.
_USERS: Table = SQLModel.metadata.tables["users"]
_STAGES: Table = SQLModel.metadata.tables["stage_changes"]
# NO KEY UPDATE lets rows referring to the person be written meanwhile.
_LOCK_USER = (
    core_select(_USERS.c.id)
    .where(_USERS.c.id == bindparam("user_id"))
    .with_for_update(key_share=True)
)
_LATEST_STAGE = (
    core_select(_STAGES.c.stage)
    .where(_STAGES.c.user_id == bindparam("user_id"))
    .order_by(_STAGES.c.recorded_at.desc(), _STAGES.c.since.desc())
    .limit(1)
)


def latest_stage(session: Session, *, user_id: str) -> StageChange | None:
    statement = (
        select(StageChange)
        .where(StageChange.user_id == user_id)
        .order_by(col(StageChange.recorded_at).desc(), col(StageChange.since).desc())
        .limit(1)
    )
    return session.exec(statement).first()


def record_stage(
    session: Session, *, user_id: str, stage: int, since: date, now: datetime
) -> StageChange | None:
    """Insert a row when `stage` differs from the latest one, and emit
    `stage.changed`; the new row, if any."""
    # Two requests for one person would both see the same latest row and record
    # the change twice: lock the person first (PostgreSQL; a SQLite transaction
    # holds the write lock already).
    session.execute(_LOCK_USER, {"user_id": user_id})
    if session.execute(_LATEST_STAGE, {"user_id": user_id}).scalar() == stage:
        return None
    change = StageChange(user_id=user_id, stage=stage, since=since, recorded_at=now)
    session.add(change)
    session.flush()
    outbox.emit_for_user(
        session,
        user=session.get_one(User, user_id),
        type=EventType.stage_changed,
        now=now,
        stage=stage,
    )
    return change
