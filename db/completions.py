"""Completions: what a person reported for a stored session.

Written with Core statements on the table: reporting a session done is the
most frequent write, and the ORM's unit of work cost more than the SQL."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy import Table, bindparam, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, SQLModel

from db import changes, outbox
from db.errors import NotFound
from db.outbox import EventType
from db.tables import Completion
from programs import Completion as CompletionReport

_COMPLETIONS: Table = SQLModel.metadata.tables["completions"]
_USERS: Table = SQLModel.metadata.tables["users"]
_FIND = select(*_COMPLETIONS.c).where(
    _COMPLETIONS.c.user_id == bindparam("user_id"),
    _COMPLETIONS.c.session_id == bindparam("session_id"),
)
_CLIENT_AND_EXTERNAL_ID = select(_USERS.c.client_id, _USERS.c.external_id).where(
    _USERS.c.id == bindparam("user_id")
)

# Built once (the values come as parameters), per dialect: INSERT unless a
# row for the session exists, telling which.
_INSERT_NEW = {
    name: insert(_COMPLETIONS).on_conflict_do_nothing().returning(_COMPLETIONS.c.session_id)
    for name, insert in (("sqlite", sqlite_insert), ("postgresql", postgresql_insert))
}


@dataclass(frozen=True, slots=True)
class StoredCompletion:
    """A completion as stored (the columns of `completions`)."""

    user_id: str
    session_id: str
    completed_at: datetime
    pain_during: int
    effort: int
    pain_before: int | None
    pain_next_morning: int | None
    skipped: list[str]
    notes: str | None
    created_at: datetime
    updated_at: datetime


def get_completion(session: Session, *, user_id: str, session_id: str) -> Completion:
    row = session.get(Completion, (user_id, session_id))
    if row is None:
        raise NotFound("completion of session", session_id)
    return row


def put_completion(
    session: Session,
    *,
    user_id: str,
    session_id: str,
    report: CompletionReport,
    notes: str | None,
    now: datetime,
) -> tuple[StoredCompletion, bool]:
    """Create or overwrite the session's completion; True when it was created,
    which emits `session.completed`. An identical report changes nothing,
    timestamps included."""
    values = _columns(report, notes)
    stored = _find(session, user_id=user_id, session_id=session_id)
    if stored is None:
        new = StoredCompletion(
            user_id=user_id, session_id=session_id, created_at=now, updated_at=now, **values
        )
        if _insert_new(session, new):
            changes.announce(session, changes.user_topic(user_id))
            client_id, external_id = (
                session.connection().execute(_CLIENT_AND_EXTERNAL_ID, {"user_id": user_id}).one()
            )
            outbox.emit_about(
                session,
                client_id=client_id,
                user_id=user_id,
                external_id=external_id,
                type=EventType.session_completed,
                now=now,
                session_id=session_id,
            )
            return new, True
        # A concurrent first report won; overwrite it as a later one would.
        stored = _find(session, user_id=user_id, session_id=session_id)
        if stored is None:
            raise NotFound("completion of session", session_id)
    changed = {key: value for key, value in values.items() if getattr(stored, key) != value}
    if not changed:
        return stored, False
    session.execute(
        update(_COMPLETIONS)
        .where(_COMPLETIONS.c.user_id == user_id, _COMPLETIONS.c.session_id == session_id)
        .values(**changed, updated_at=now)
    )
    changes.announce(session, changes.user_topic(user_id))
    return replace(stored, **changed, updated_at=now), False


def delete_completion(session: Session, *, user_id: str, session_id: str) -> None:
    session.delete(get_completion(session, user_id=user_id, session_id=session_id))
    session.flush()
    changes.announce(session, changes.user_topic(user_id))


def _find(session: Session, *, user_id: str, session_id: str) -> StoredCompletion | None:
    params = {"user_id": user_id, "session_id": session_id}
    found = session.connection().execute(_FIND, params).first()
    return None if found is None else StoredCompletion(**found._asdict())


def _insert_new(session: Session, row: StoredCompletion) -> bool:
    """Insert the row unless one for its session exists (or appeared
    meanwhile); whether it was inserted."""
    statement = _INSERT_NEW[session.get_bind().dialect.name]
    values = {name: getattr(row, name) for name in StoredCompletion.__slots__}
    return session.connection().execute(statement, values).first() is not None


def _columns(report: CompletionReport, notes: str | None) -> dict[str, Any]:
    return {
        "completed_at": report.completed_at,
        "pain_during": report.pain_during,
        "effort": report.effort,
        "pain_before": report.pain_before,
        "pain_next_morning": report.pain_next_morning,
        "skipped": list(report.skipped),
        "notes": notes,
    }
