"""Completions: what a person reported for a stored session."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from db import changes, outbox
from db.errors import NotFound
from db.outbox import EventType
from db.tables import Completion, User
from programs import Completion as CompletionReport


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
) -> tuple[Completion, bool]:
    """Create or overwrite the session's completion; True when it was created,
    which emits `session.completed`. An identical report changes nothing,
    timestamps included."""
    values = _columns(report, notes)
    row = session.get(Completion, (user_id, session_id))
    if row is None:
        row = Completion(
            user_id=user_id,
            session_id=session_id,
            completed_at=report.completed_at,
            pain_during=report.pain_during,
            effort=report.effort,
            created_at=now,
            updated_at=now,
        )
        for key, value in values.items():
            setattr(row, key, value)
        try:
            with session.begin_nested():
                session.add(row)
        except IntegrityError:
            # A concurrent first report won; overwrite it as a later one would.
            row = get_completion(session, user_id=user_id, session_id=session_id)
        else:
            changes.announce(session, changes.user_topic(user_id))
            outbox.emit_for_user(
                session,
                user=session.get_one(User, user_id),
                type=EventType.session_completed,
                now=now,
                session_id=session_id,
            )
            return row, True
    changed = {key: value for key, value in values.items() if getattr(row, key) != value}
    if changed:
        for key, value in changed.items():
            setattr(row, key, value)
        row.updated_at = now
        session.add(row)
        session.flush()
        changes.announce(session, changes.user_topic(user_id))
    return row, False


def delete_completion(session: Session, *, user_id: str, session_id: str) -> None:
    session.delete(get_completion(session, user_id=user_id, session_id=session_id))
    session.flush()
    changes.announce(session, changes.user_topic(user_id))


def _columns(report: CompletionReport, notes: str | None) -> dict[str, object]:
    return {
        "completed_at": report.completed_at,
        "pain_during": report.pain_during,
        "effort": report.effort,
        "pain_before": report.pain_before,
        "pain_next_morning": report.pain_next_morning,
        "skipped": list(report.skipped),
        "notes": notes,
    }
