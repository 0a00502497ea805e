"""Idempotency keys: a request's claim on its key, then its stored response.

A claim is a row whose `lease` is set and `status` null; the primary key
(owner, key) makes a second claim of the same key fail, on every backend.
Completing the claim stores the response in the caller's transaction, so it
commits with the request's own writes or not at all.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, cast

from sqlalchemy import CursorResult, Table, bindparam, delete, insert, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, SQLModel, col, select

from db.raw import Raw
from db.tables import IdempotencyRecord

_KEYS: Table = SQLModel.metadata.tables["idempotency_keys"]
_INSERT_ANSWERED = Raw(insert(_KEYS))


@dataclass(frozen=True, slots=True)
class StoredResponse:
    status: int
    headers: dict[str, str]
    body: bytes


def find(session: Session, *, owner: str, key: str) -> IdempotencyRecord | None:
    """The key's row as committed now (not a copy cached by the session)."""
    statement = (
        select(IdempotencyRecord)
        .where(IdempotencyRecord.owner == owner, IdempotencyRecord.key == key)
        .execution_options(populate_existing=True)
    )
    return session.exec(statement).first()


def insert_claim(session: Session, *, record: IdempotencyRecord) -> bool:
    """Claim a key; False when a row for it exists already (or appeared meanwhile)."""
    try:
        with session.begin_nested():
            session.add(record)
        return True
    except IntegrityError:
        return False


def insert_answered(
    session: Session,
    *,
    owner: str,
    key: str,
    fingerprint: str,
    method: str,
    path: str,
    user_id: str | None,
    response: StoredResponse,
    now: datetime,
) -> None:
    """Claim a key with its response already stored, in the caller's
    transaction. A key that has a row (or gets one meanwhile) is an
    IntegrityError: the caller, in a savepoint of its own, rolls back and
    takes the full path. Sent on the driver's cursor without reading an
    answer (`db.raw`): in a pipeline it rides along with the next read."""
    values = {
        "owner": owner,
        "key": key,
        "fingerprint": fingerprint,
        "method": method,
        "path": path,
        "user_id": user_id,
        "lease": None,
        "locked_at": now,
        "status": response.status,
        "headers": response.headers,
        "body": response.body,
        "created_at": now,
        "completed_at": now,
    }
    _INSERT_ANSWERED.send(session, values)


def take_over(
    session: Session, *, owner: str, key: str, stale_lease: str, lease: str, now: datetime
) -> bool:
    """Take an abandoned claim over; False when another request got there first."""
    statement = (
        update(IdempotencyRecord)
        .where(
            col(IdempotencyRecord.owner) == owner,
            col(IdempotencyRecord.key) == key,
            col(IdempotencyRecord.lease) == stale_lease,
            col(IdempotencyRecord.status).is_(None),
        )
        .values(lease=lease, locked_at=now)
    )
    return _count(session, statement) == 1


def complete(
    session: Session,
    *,
    owner: str,
    key: str,
    lease: str,
    response: StoredResponse,
    user_id: str | None,
    now: datetime,
) -> Literal["stored", "lost", "gone"]:
    """Store the response of the claim held with `lease`. "lost": another
    request took the claim over; "gone": the row was erased meanwhile (its
    person was deleted, possibly by this very request)."""
    values: dict[str, Any] = {
        "status": response.status,
        "headers": response.headers,
        "body": response.body,
        "lease": None,
        "completed_at": now,
    }
    if user_id is not None:
        values["user_id"] = user_id
    statement = (
        update(IdempotencyRecord)
        .where(
            col(IdempotencyRecord.owner) == owner,
            col(IdempotencyRecord.key) == key,
            col(IdempotencyRecord.lease) == lease,
            col(IdempotencyRecord.status).is_(None),
        )
        .values(**values)
    )
    if _count(session, statement) == 1:
        return "stored"
    return "gone" if find(session, owner=owner, key=key) is None else "lost"


def release(session: Session, *, owner: str, key: str, lease: str) -> None:
    """Drop an unfinished claim, so that the key may be used again."""
    statement = delete(IdempotencyRecord).where(
        col(IdempotencyRecord.owner) == owner,
        col(IdempotencyRecord.key) == key,
        col(IdempotencyRecord.lease) == lease,
        col(IdempotencyRecord.status).is_(None),
    )
    session.execute(statement)


def prune(session: Session, *, before: datetime, owner: str | None = None) -> int:
    """Delete the keys created before `before` (only `owner`'s, if given)."""
    statement = delete(IdempotencyRecord).where(col(IdempotencyRecord.created_at) < before)
    if owner is not None:
        statement = statement.where(col(IdempotencyRecord.owner) == owner)
    return _count(session, statement)


_DROP_EXPIRED = Raw(
    delete(_KEYS).where(
        _KEYS.c.owner == bindparam("owner"), _KEYS.c.created_at < bindparam("before")
    )
)


def drop_expired(session: Session, *, owner: str, before: datetime) -> None:
    """`prune` for one owner, without counting: on the fast completion path,
    which may run it in a pipeline (`db.raw`)."""
    _DROP_EXPIRED.send(session, {"owner": owner, "before": before})


def forget_user(session: Session, *, user_id: str) -> None:
    """Erase the stored responses about a person."""
    session.execute(delete(IdempotencyRecord).where(col(IdempotencyRecord.user_id) == user_id))


def about_user(session: Session, *, user_id: str) -> list[IdempotencyRecord]:
    """The requests about a person whose keys are kept, oldest first."""
    statement = (
        select(IdempotencyRecord)
        .where(IdempotencyRecord.user_id == user_id)
        .order_by(col(IdempotencyRecord.created_at), col(IdempotencyRecord.key))
    )
    return list(session.exec(statement).all())


def _count(session: Session, statement: Any) -> int:
    result = cast(CursorResult[Any], session.execute(statement))
    return result.rowcount
