"""Stored weeks and their sessions, and the history the engine plans from."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from pydantic import TypeAdapter
from pydantic_core import from_json
from sqlalchemy import Select, Table, Text, bindparam, insert, select, type_coerce
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, SQLModel, and_, col

from db import changes
from db.errors import NotFound
from db.tables import Completion, PlannedSessionRow
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


@dataclass(frozen=True, slots=True)
class WeekSession:
    """A stored session of a week, as serving the week's plan needs it."""

    id: str
    date: date
    done: bool
    planned: PlannedSession


# Statements of the hot reads, built once: Core on the tables, so a call
# neither rebuilds them nor goes through the ORM's loading.
_SESSIONS: Table = SQLModel.metadata.tables["planned_sessions"]
_COMPLETIONS: Table = SQLModel.metadata.tables["completions"]
_SESSIONS_WITH_COMPLETIONS = _SESSIONS.outerjoin(
    _COMPLETIONS,
    and_(
        _COMPLETIONS.c.user_id == _SESSIONS.c.user_id,
        _COMPLETIONS.c.session_id == _SESSIONS.c.id,
    ),
)
_HISTORY = (
    select(
        _SESSIONS.c.id,
        _SESSIONS.c.date,
        _SESSIONS.c.aerobic_minutes,
        _SESSIONS.c.strength_seconds,
        _COMPLETIONS.c.completed_at,
        _COMPLETIONS.c.pain_during,
        _COMPLETIONS.c.effort,
        _COMPLETIONS.c.pain_before,
        _COMPLETIONS.c.pain_next_morning,
        type_coerce(_COMPLETIONS.c.skipped, Text),
    )
    .select_from(_SESSIONS_WITH_COMPLETIONS)
    .where(_SESSIONS.c.user_id == bindparam("user_id"))
    .order_by(_SESSIONS.c.date, _SESSIONS.c.position)
)
_WEEK = (
    select(
        _SESSIONS.c.id,
        _SESSIONS.c.date,
        _COMPLETIONS.c.session_id,
        type_coerce(_SESSIONS.c.content, Text),
    )
    .select_from(_SESSIONS_WITH_COMPLETIONS)
    .where(_SESSIONS.c.user_id == bindparam("user_id"), _SESSIONS.c.week == bindparam("week"))
    .order_by(_SESSIONS.c.date, _SESSIONS.c.position)
)
_INSERT_SESSIONS = insert(_SESSIONS)
_WEEKS: Table = SQLModel.metadata.tables["stored_weeks"]
_INSERT_WEEK = insert(_WEEKS)
_IS_STORED = select(_WEEKS.c.week).where(
    _WEEKS.c.user_id == bindparam("user_id"), _WEEKS.c.week == bindparam("week")
)
_HISTORY_ADAPTER = TypeAdapter(list[SessionLog])


# The statements above read JSON columns as text, to be parsed by pydantic's
# own parser rather than decoded by `json` first and validated after. SQLite
# gives that text; psycopg decodes JSON itself, whatever the column is read as.
def _json(value: Any) -> Any:
    return from_json(value) if isinstance(value, str) else value


def _planned(content: Any) -> PlannedSession:
    if isinstance(content, str):
        return PlannedSession.model_validate_json(content)
    return PlannedSession.model_validate(content)


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
    history: one query whatever its length, without the sessions' content.

    Validated in one call for the whole list: the rows' own values, as
    `store_week` and `db.completions` wrote them."""
    rows = session.execute(_HISTORY, {"user_id": user_id}).all()
    return _HISTORY_ADAPTER.validate_python(
        [
            {
                "session_id": session_id,
                "date": day,
                "aerobic_minutes": aerobic,
                "strength_seconds": strength,
                # NOT NULL in a completion: None when none was reported.
                "completion": None
                if completed_at is None
                else {
                    "completed_at": completed_at,
                    "pain_during": pain_during,
                    "effort": effort,
                    "pain_before": pain_before,
                    "pain_next_morning": pain_next_morning,
                    "skipped": _json(skipped),
                },
            }
            for (
                session_id,
                day,
                aerobic,
                strength,
                completed_at,
                pain_during,
                effort,
                pain_before,
                pain_next_morning,
                skipped,
            ) in rows
        ]
    )


def logs_of(sessions: Sequence[SessionToStore]) -> list[SessionLog]:
    """Sessions just stored by `store_week`, as `load_history` reads them back."""
    return [
        SessionLog(
            session_id=item.planned.id,
            date=item.planned.date,
            aerobic_minutes=item.aerobic_minutes,
            strength_seconds=item.strength_seconds,
            completion=None,
        )
        for item in sessions
    ]


def load_week(session: Session, *, user_id: str, week: str) -> list[StoredSession]:
    """The week's stored sessions with their completions, in date order."""
    statement = _with_completions(PlannedSessionRow).where(
        col(PlannedSessionRow.user_id) == user_id, col(PlannedSessionRow.week) == week
    )
    return [StoredSession(row, completion) for row, completion in session.execute(statement)]


def week_sessions(session: Session, *, user_id: str, week: str) -> list[WeekSession]:
    """The week's stored sessions, in date order, with whether each was
    reported done: `load_week` without loading the rows as objects."""
    rows = session.execute(_WEEK, {"user_id": user_id, "week": week}).all()
    return [
        WeekSession(
            id=session_id,
            date=day,
            done=completion is not None,
            planned=_planned(content),
        )
        for session_id, day, completion, content in rows
    ]


def report_of(completion: Completion) -> CompletionReport:
    return CompletionReport(
        completed_at=completion.completed_at,
        pain_during=completion.pain_during,
        effort=completion.effort,
        pain_before=completion.pain_before,
        pain_next_morning=completion.pain_next_morning,
        skipped=tuple(completion.skipped),
    )


def is_stored(session: Session, *, user_id: str, week: str) -> bool:
    """Whether the user's `week` was stored (served once since it began)."""
    found = session.execute(_IS_STORED, {"user_id": user_id, "week": week})
    return found.first() is not None


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
            session.execute(_INSERT_WEEK, {"user_id": user_id, "week": week, "stored_at": now})
    except IntegrityError:
        return False
    rows = [
        {
            "user_id": user_id,
            "id": item.planned.id,
            "week": week,
            "date": item.planned.date,
            "position": position,
            "content": item.planned.model_dump(mode="json"),
            "aerobic_minutes": item.aerobic_minutes,
            "strength_seconds": item.strength_seconds,
            "eased": item.planned.eased,
            "created_at": now,
            "updated_at": now,
        }
        for position, item in enumerate(sessions)
    ]
    if rows:
        session.execute(_INSERT_SESSIONS, rows)
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


_SESSION_DAY = select(_SESSIONS.c.date).where(
    _SESSIONS.c.user_id == bindparam("user_id"), _SESSIONS.c.id == bindparam("session_id")
)
_SESSION_DAY_AND_CONTENT = select(_SESSIONS.c.date, _SESSIONS.c.content).where(
    _SESSIONS.c.user_id == bindparam("user_id"), _SESSIONS.c.id == bindparam("session_id")
)


def session_day(
    session: Session, *, user_id: str, session_id: str, with_slugs: bool
) -> tuple[date, frozenset[str]]:
    """A stored session's date and, `with_slugs`, its exercises' slugs (empty
    otherwise: the session's content is then not read)."""
    statement = _SESSION_DAY_AND_CONTENT if with_slugs else _SESSION_DAY
    params = {"user_id": user_id, "session_id": session_id}
    found = session.connection().execute(statement, params).first()
    if found is None:
        raise NotFound("session", session_id)
    if not with_slugs:
        return found[0], frozenset()
    content = _json(found[1])
    slugs = (exercise["slug"] for block in content["blocks"] for exercise in block["exercises"])
    return found[0], frozenset(slugs)


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
