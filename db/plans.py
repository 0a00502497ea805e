"""Stored weeks and their sessions, and the history the engine plans from."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, and_, col

from db import changes
from db.errors import NotFound
from db.tables import Completion, PlannedSessionRow, StoredWeek
from programs import Completion as CompletionReport
from programs import PlannedSession, SessionLog


@dataclass(frozen=True, slots=True)
class SessionToStore:
    planned: PlannedSession
    aerobic_minutes: int
    strength_seconds: int


@dataclass(frozen=True, slots=True)
class StoredSession:
    row: PlannedSessionRow
    completion: Completion | None

    @property
    def planned(self) -> PlannedSession:
        return PlannedSession.model_validate(self.row.content)


def _with_completions(*columns: Any) -> Select[Any]:
    return (
        select(*columns, Completion)
        .outerjoin(
            Completion,
            and_(
                col(Completion.user_id) == col(PlannedSessionRow.user_id),
                col(Completion.session_id) == col(PlannedSessionRow.id),
            ),
        )
        .order_by(col(PlannedSessionRow.date), col(PlannedSessionRow.position))
    )


def load_history(session: Session, *, user_id: str) -> list[SessionLog]:
    """Every stored session of the user with its completion, as the engine's
    history: one query whatever its length, without the sessions' content."""
    statement = _with_completions(
        PlannedSessionRow.id,
        PlannedSessionRow.date,
        PlannedSessionRow.aerobic_minutes,
        PlannedSessionRow.strength_seconds,
    ).where(col(PlannedSessionRow.user_id) == user_id)
    return [
        SessionLog(
            session_id=session_id,
            date=day,
            aerobic_minutes=aerobic,
            strength_seconds=strength,
            completion=None if completion is None else report_of(completion),
        )
        for session_id, day, aerobic, strength, completion in session.execute(statement)
    ]


def load_week(session: Session, *, user_id: str, week: str) -> list[StoredSession]:
    """The week's stored sessions with their completions, in date order."""
    statement = _with_completions(PlannedSessionRow).where(
        col(PlannedSessionRow.user_id) == user_id, col(PlannedSessionRow.week) == week
    )
    return [StoredSession(row, completion) for row, completion in session.execute(statement)]


def report_of(completion: Completion) -> CompletionReport:
    return CompletionReport(
        completed_at=completion.completed_at,
        pain_during=completion.pain_during,
        effort=completion.effort,
        pain_before=completion.pain_before,
        pain_next_morning=completion.pain_next_morning,
        skipped=tuple(completion.skipped),
    )


def store_week(
    session: Session,
    *,
    user_id: str,
    week: str,
    sessions: Sequence[SessionToStore],
    now: datetime,
) -> bool:
    """Store a week's sessions once. False when a concurrent request stored it
    first; then read that request's sessions instead."""
    try:
        with session.begin_nested():
            session.add(StoredWeek(user_id=user_id, week=week, stored_at=now))
    except IntegrityError:
        return False
    for position, item in enumerate(sessions):
        session.add(
            PlannedSessionRow(
                user_id=user_id,
                id=item.planned.id,
                week=week,
                date=item.planned.date,
                position=position,
                content=item.planned.model_dump(mode="json"),
                aerobic_minutes=item.aerobic_minutes,
                strength_seconds=item.strength_seconds,
                eased=item.planned.eased,
                created_at=now,
                updated_at=now,
            )
        )
    session.flush()
    changes.announce(session, changes.user_topic(user_id))
    return True


def replace_session(
    session: Session, *, row: PlannedSessionRow, item: SessionToStore, now: datetime
) -> None:
    """Swap a stored session's content for a new version with the same id."""
    if item.planned.id != row.id:
        raise ValueError(f"session {item.planned.id!r} cannot replace {row.id!r}")
    row.content = item.planned.model_dump(mode="json")
    row.date = item.planned.date
    row.aerobic_minutes = item.aerobic_minutes
    row.strength_seconds = item.strength_seconds
    row.eased = item.planned.eased
    row.updated_at = now
    session.add(row)
    session.flush()
    changes.announce(session, changes.user_topic(row.user_id))


def exercise_slugs(row: PlannedSessionRow) -> frozenset[str]:
    """The slugs of the stored session's exercises, read without validating
    the whole session."""
    return frozenset(
        exercise["slug"] for block in row.content["blocks"] for exercise in block["exercises"]
    )


def get_session_row(session: Session, *, user_id: str, session_id: str) -> PlannedSessionRow:
    row = session.get(PlannedSessionRow, (user_id, session_id))
    if row is None:
        raise NotFound("session", session_id)
    return row


def completed_sessions(session: Session, *, user_id: str) -> list[StoredSession]:
    """The user's stored sessions that were reported done, in date order."""
    statement = _with_completions(PlannedSessionRow).where(
        col(PlannedSessionRow.user_id) == user_id, col(Completion.session_id).is_not(None)
    )
    return [StoredSession(row, completion) for row, completion in session.execute(statement)]
