"""Stored weeks and their sessions, and the history the engine plans from."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from pydantic import TypeAdapter
from pydantic_core import from_json
from sqlalchemy import (
    JSON,
    Select,
    Table,
    Text,
    bindparam,
    cast,
    insert,
    select,
    type_coerce,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, SQLModel, and_, col

from db import changes
from db.errors import NotFound
from db.raw import Raw
from db.tables import Completion, PlannedSessionRow, User
from db.types import as_utc
from programs import Block, PlannedSession, Profile, SessionLog
from programs import Completion as CompletionReport


@dataclass(frozen=True, slots=True)
class SessionToStore:
    planned: PlannedSession
    aerobic_minutes: int
    strength_seconds: int
    # The session as JSON (`content_of`), when the caller serialized it already.
    content: bytes | None = None


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


@dataclass(frozen=True, slots=True)
class Person:
    """A user as planning reads them: ids, time zone, program start and the
    profile's fields, without loading the row as an object."""

    id: str
    client_id: str
    external_id: str
    timezone: str
    program_start: date | None
    program_start_given: bool
    training_days: list[str]
    session_minutes: int
    fitness_level: str
    equipment: list[str]
    aerobic_activities: list[str]
    birth_year: int | None

    @property
    def profile(self) -> Profile:
        """The engine's profile, as `db.users.profile_of` gives it."""
        return Profile.model_validate(
            {
                "training_days": self.training_days,
                "session_minutes": self.session_minutes,
                "fitness_level": self.fitness_level,
                "equipment": self.equipment,
                "aerobic_activities": self.aerobic_activities,
                "birth_year": self.birth_year,
                "program_start": self.program_start,
            }
        )


# Statements of the hot reads and writes, built once: Core on the tables, run
# on the driver's cursor (`db.raw`), so a call neither rebuilds them nor goes
# through SQLAlchemy's execution and the ORM's loading.
_SESSIONS: Table = SQLModel.metadata.tables["planned_sessions"]
_COMPLETIONS: Table = SQLModel.metadata.tables["completions"]
_USERS: Table = SQLModel.metadata.tables["users"]
_SESSIONS_WITH_COMPLETIONS = _SESSIONS.outerjoin(
    _COMPLETIONS,
    and_(
        _COMPLETIONS.c.user_id == _SESSIONS.c.user_id,
        _COMPLETIONS.c.session_id == _SESSIONS.c.id,
    ),
)
# Its date and time are read as the driver gives them (`load_history` reads
# them): with no column to process, `Raw` hands the rows over as they come,
# instead of visiting every value.
_HISTORY = Raw(
    select(
        _SESSIONS.c.id,
        type_coerce(_SESSIONS.c.date, Text),
        _SESSIONS.c.aerobic_minutes,
        _SESSIONS.c.strength_seconds,
        type_coerce(_COMPLETIONS.c.completed_at, Text),
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
_WEEK = Raw(
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
# The content goes in as the JSON text `content_of` made (SQLite keeps it as
# given; PostgreSQL casts it to its json type): not dumped again by `json`.
_SESSION_VALUES: dict[str, Any] = {
    column.name: bindparam(column.name) for column in _SESSIONS.columns
}
_INSERT_SESSIONS = {
    "sqlite": Raw(
        insert(_SESSIONS).values({**_SESSION_VALUES, "content": bindparam("content", type_=Text)})
    ),
    "postgresql": Raw(
        insert(_SESSIONS).values(
            {**_SESSION_VALUES, "content": cast(bindparam("content", type_=Text), JSON)}
        )
    ),
}
_WEEKS: Table = SQLModel.metadata.tables["stored_weeks"]
# Insert-once without a savepoint: a week a concurrent request stored first
# (PostgreSQL waits for it to commit) inserts nothing.
_INSERT_WEEK = {
    "sqlite": Raw(sqlite.insert(_WEEKS).on_conflict_do_nothing()),
    "postgresql": Raw(postgresql.insert(_WEEKS).on_conflict_do_nothing()),
}
_PERSON = Raw(
    select(
        _USERS.c.id,
        _USERS.c.client_id,
        _USERS.c.external_id,
        _USERS.c.timezone,
        _USERS.c.program_start,
        _USERS.c.program_start_given,
        _USERS.c.training_days,
        _USERS.c.session_minutes,
        _USERS.c.fitness_level,
        _USERS.c.equipment,
        _USERS.c.aerobic_activities,
        _USERS.c.birth_year,
    ).where(_USERS.c.id == bindparam("user_id"), _USERS.c.client_id == bindparam("client_id"))
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


def find_person(session: Session, *, client_id: str, user_id: str) -> Person:
    """The client's user as planning reads them; NotFound for an unknown id
    and for another client's user alike (as `db.users.get_user`)."""
    found = _PERSON.first(session, {"user_id": user_id, "client_id": client_id})
    if found is None:
        raise NotFound("user", user_id)
    return Person(*found)


def person_of(user: User) -> Person:
    """A loaded user row as planning reads it."""
    return Person(
        id=user.id,
        client_id=user.client_id,
        external_id=user.external_id,
        timezone=user.timezone,
        program_start=user.program_start,
        program_start_given=user.program_start_given,
        training_days=user.training_days,
        session_minutes=user.session_minutes,
        fitness_level=user.fitness_level,
        equipment=user.equipment,
        aerobic_activities=user.aerobic_activities,
        birth_year=user.birth_year,
    )


def load_history(session: Session, *, user_id: str) -> list[SessionLog]:
    """Every stored session of the user with its completion, as the engine's
    history: one query whatever its length, without the sessions' content.

    Validated in one call for the whole list: the rows' own values, as
    `store_week` and `db.completions` wrote them. A date comes as SQLite's
    ISO text or psycopg's date, and pydantic reads either as SQLAlchemy would."""
    rows = _HISTORY.all(session, {"user_id": user_id})
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
                    "completed_at": _utc(completed_at),
                    "pain_during": pain_during,
                    "effort": effort,
                    "pain_before": pain_before,
                    "pain_next_morning": pain_next_morning,
                    "skipped": () if skipped == _NOTHING_SKIPPED else _json(skipped),
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


# How SQLite keeps an empty list of skipped exercises, the usual one.
_NOTHING_SKIPPED = "[]"


def _utc(value: str | datetime) -> datetime:
    """A completion's time as `UtcDateTime` reads it: SQLite gives the text of
    SQLAlchemy's DATETIME, which its processor reads with `fromisoformat`;
    psycopg gives a datetime."""
    return as_utc(datetime.fromisoformat(value) if isinstance(value, str) else value)


def load_week(session: Session, *, user_id: str, week: str) -> list[StoredSession]:
    """The week's stored sessions with their completions, in date order."""
    statement = _with_completions(PlannedSessionRow).where(
        col(PlannedSessionRow.user_id) == user_id, col(PlannedSessionRow.week) == week
    )
    return [StoredSession(row, completion) for row, completion in session.execute(statement)]


def week_sessions(session: Session, *, user_id: str, week: str) -> list[WeekSession]:
    """The week's stored sessions, in date order, with whether each was
    reported done: `load_week` without loading the rows as objects."""
    rows = _WEEK.all(session, {"user_id": user_id, "week": week})
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


def content_of(planned: PlannedSession) -> bytes:
    """A session as stored: its JSON, exactly as it is served.

    Most of it is its blocks, which the engine builds once and shares between
    sessions (`programs.planner`): each is serialized once too, and spliced
    into the rest of the session's JSON. A session serializes its blocks
    exactly as they serialize on their own; keys are unique and a quote
    inside a string is escaped, so the only `"blocks":[]` is the field's."""
    rest = planned.model_copy(update={"blocks": ()})
    blocks = b'"blocks":[' + b",".join(map(_block_json, planned.blocks)) + b"]"
    return rest.__pydantic_serializer__.to_json(rest).replace(_NO_BLOCKS, blocks, 1)


_NO_BLOCKS = b'"blocks":[]'
# Blocks serialized, by identity: an entry holds its block, so that no other
# object takes its id while it is kept. Bounded like the engine's block cache.
_BLOCK_JSON: dict[int, tuple[Block, bytes]] = {}
_BLOCK_JSON_MAX = 1 << 14


def _block_json(block: Block) -> bytes:
    found = _BLOCK_JSON.get(id(block))
    if found is not None and found[0] is block:
        return found[1]
    content = block.__pydantic_serializer__.to_json(block)
    if len(_BLOCK_JSON) >= _BLOCK_JSON_MAX:
        _BLOCK_JSON.clear()
    _BLOCK_JSON[id(block)] = (block, content)
    return content


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
    dialect = session.get_bind().dialect.name
    stored = _INSERT_WEEK[dialect].run(
        session, {"user_id": user_id, "week": week, "stored_at": now}
    )
    if not stored:
        return False
    rows = [
        {
            "user_id": user_id,
            "id": item.planned.id,
            "week": week,
            "date": item.planned.date,
            "position": position,
            "content": (item.content or content_of(item.planned)).decode(),
            "aerobic_minutes": item.aerobic_minutes,
            "strength_seconds": item.strength_seconds,
            "eased": item.planned.eased,
            "created_at": now,
            "updated_at": now,
        }
        for position, item in enumerate(sessions)
    ]
    _INSERT_SESSIONS[dialect].many(session, rows)
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
