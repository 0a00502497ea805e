"""Stage changes: one row each time the engine reports a different stage."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Table, bindparam, insert, literal_column, select
from sqlalchemy.dialects.postgresql import distinct_on
from sqlmodel import Session, SQLModel

from db import outbox
from db.errors import NotFound
from db.outbox import EventType
from db.raw import Raw, any_of, read_together
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
    .limit(literal_column("1"))
)
_INSERT_STAGE = Raw(insert(_STAGES))


# PostgreSQL: `_LATEST_STAGE` of each of the people in `user_ids` (an
# array), one row each, led by their id.
LATEST_STAGES = Raw(
    select(_STAGES.c.user_id, _STAGES.c.stage)
    .where(any_of(_STAGES.c.user_id, "user_ids"))
    .ext(distinct_on(_STAGES.c.user_id))
    .order_by(_STAGES.c.user_id, _STAGES.c.recorded_at.desc(), _STAGES.c.since.desc())
)


@dataclass(frozen=True, slots=True)
class StageReads:
    """What `record_stage` reads before it writes: the person (client id,
    external id; None if there is no such person), locked, and their latest
    stage (None before the first). `planning_reads` reads it ahead with the
    rest, in the same round trip."""

    person: tuple[str, str] | None
    latest: int | None


def stage_reads(user_id: str) -> list[tuple[Raw, dict[str, Any]]]:
    """The statements behind `StageReads`, in the order they must run: the
    lock is held before the latest row is read (`read_together`)."""
    return [lock_read(user_id), latest_stage_read(user_id)]


def lock_read(user_id: str) -> tuple[Raw, dict[str, Any]]:
    """The statement behind `StageReads.person`: the person's client and
    external ids, their row locked (NO KEY UPDATE) until the transaction ends."""
    return _LOCK_USER, {"user_id": user_id}


def latest_stage_read(user_id: str) -> tuple[Raw, dict[str, Any]]:
    """The statement behind `StageReads.latest`, for a caller that locks the
    person's row itself (NO KEY UPDATE, as `stage_reads` does) just before."""
    return _LATEST_STAGE, {"user_id": user_id}


def latest_of(latest: Sequence[Sequence[Any]]) -> int | None:
    """`StageReads.latest` from the rows of `latest_stage_read`'s statement."""
    return latest[0][0] if latest else None


def stage_reads_of(people: Sequence[Sequence[Any]], latest: Sequence[Sequence[Any]]) -> StageReads:
    """`StageReads` from the rows of `stage_reads`' statements."""
    return StageReads(
        person=(people[0][0], people[0][1]) if people else None,
        latest=latest_of(latest),
    )


def record_stage(
    session: Session,
    *,
    user_id: str,
    stage: int,
    since: date,
    now: datetime,
    read: StageReads | None = None,
) -> StageChange | None:
    """Insert a row when `stage` differs from the latest one, and emit
    `stage.changed`; the new row, if any. `read`: what `stage_reads` read
    earlier in this transaction, its lock still held (otherwise read now)."""
    # Two requests for one person would both see the same latest row and record
    # the change twice: lock the person first (PostgreSQL; a SQLite transaction
    # holds the write lock already). The server runs both reads in order, in
    # one round trip.
    if read is None:
        read = stage_reads_of(*read_together(session, stage_reads(user_id)))
    if read.person is None:
        raise NotFound("user", user_id)
    if read.latest == stage:
        return None
    change = StageChange(id=new_id(), user_id=user_id, stage=stage, since=since, recorded_at=now)
    _INSERT_STAGE.run(session, change.model_dump())
    client_id, external_id = read.person
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
