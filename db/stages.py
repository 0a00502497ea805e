"""Stage changes: one row each time the engine reports a different stage."""

from __future__ import annotations

from datetime import date, datetime

from sqlmodel import Session, col, select

from db.tables import StageChange


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
    """Insert a row when `stage` differs from the latest one; the new row, if any."""
    latest = latest_stage(session, user_id=user_id)
    if latest is not None and latest.stage == stage:
        return None
    change = StageChange(user_id=user_id, stage=stage, since=since, recorded_at=now)
    session.add(change)
    session.flush()
    return change
