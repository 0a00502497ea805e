"""Completions: what a person reported for a stored session.

Reporting a session done is the most frequent write: its statements are
built once and run on the driver's cursor (`db.raw`), and a report reads
its session, person and earlier completion in one statement. The ORM's
unit of work cost more than the SQL."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any, NamedTuple

from sqlalchemy import (
    Select,
    Table,
    Text,
    and_,
    bindparam,
    insert,
    select,
    type_coerce,
    update,
)
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, SQLModel

from db import blocks, changes, outbox
from db.errors import NotFound
from db.outbox import EventType
from db.raw import Raw, pairs_among, read_together, run_deferred, transaction_memo
from db.tables import Completion
from programs import Completion as CompletionReport

_COMPLETIONS: Table = SQLModel.metadata.tables["completions"]
_SESSIONS: Table = SQLModel.metadata.tables["planned_sessions"]
_USERS: Table = SQLModel.metadata.tables["users"]
_FIELDS = tuple(_COMPLETIONS.c.keys())
# What a report sets (`_columns`).
_REPORTED = (
    "completed_at",
    "pain_during",
    "effort",
    "pain_before",
    "pain_next_morning",
    "skipped",
    "notes",
)


def _targets(*extra: Any) -> Select[Any]:
    """Stored sessions, their persons and their completions, if any."""
    return select(
        _SESSIONS.c.date,
        _USERS.c.client_id,
        _USERS.c.external_id,
        _USERS.c.timezone,
        *_COMPLETIONS.c,
        *extra,
    ).select_from(
        _SESSIONS.join(_USERS, _USERS.c.id == _SESSIONS.c.user_id).outerjoin(
            _COMPLETIONS,
            and_(
                _COMPLETIONS.c.user_id == _SESSIONS.c.user_id,
                _COMPLETIONS.c.session_id == _SESSIONS.c.id,
            ),
        )
    )


def _target(*extra: Any) -> Raw:
    """The stored session, its person and its completion, if any: one read."""
    return Raw(
        _targets(*extra).where(
            _SESSIONS.c.user_id == bindparam("user_id"), _SESSIONS.c.id == bindparam("session_id")
        ),
        # Without the blocks, through the index that holds all it reads
        # (migration 0009); SQLite's planner would take the primary key's.
        sqlite_indexed_by={} if extra else {"planned_sessions": "ix_planned_sessions_target"},
    )


# On the driver's cursor (`db.raw`): reporting a session done is the most
# frequent write. The session's blocks are read only when its slugs are
# needed (on PostgreSQL a batch reads them ahead with the rest: `_PG_TARGETS`).
_BLOCKS = type_coerce(_SESSIONS.c.blocks, Text)
_TARGET = _target()
_TARGET_WITH_BLOCKS = _target(_BLOCKS)
# PostgreSQL: a batch's targets, with their blocks, in one statement, each row
# led by its (user id, session id): a statement of its own each, pipelined,
# cost a flush and a poll of the socket per target, and a result to read.
_PG_TARGETS = Raw(
    _targets(_BLOCKS, _SESSIONS.c.user_id, _SESSIONS.c.id).where(
        pairs_among((_SESSIONS.c.user_id, "user_ids"), (_SESSIONS.c.id, "session_ids"))
    )
)
# INSERT unless a row for the session exists, telling which; per dialect.
_INSERT_NEW = {
    name: Raw(
        dialect_insert(_COMPLETIONS).on_conflict_do_nothing().returning(_COMPLETIONS.c.session_id)
    )
    for name, dialect_insert in (("sqlite", sqlite_insert), ("postgresql", postgresql_insert))
}
_INSERT = Raw(insert(_COMPLETIONS))
_REPLACE = Raw(
    update(_COMPLETIONS)
    .where(
        _COMPLETIONS.c.user_id == bindparam("user_id"),
        _COMPLETIONS.c.session_id == bindparam("session_id"),
    )
    .values(
        {
            **{name: bindparam(name) for name in _REPORTED},
            "updated_at": bindparam("now"),
        }
    )
)
_FIND = Raw(
    select(*_COMPLETIONS.c).where(
        _COMPLETIONS.c.user_id == bindparam("user_id"),
        _COMPLETIONS.c.session_id == bindparam("session_id"),
    )
)


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


@dataclass(frozen=True, slots=True)
class Target:
    """A stored session about to be reported done: its date, its exercises'
    slugs (when asked for), its person, and its completion if there is one."""

    user_id: str
    session_id: str
    day: date
    slugs: frozenset[str]
    client_id: str
    external_id: str
    timezone: str
    stored: StoredCompletion | None


class TargetHint(NamedTuple):
    """What `find_target` will be asked, for `read_targets`."""

    user_id: str
    session_id: str
    with_slugs: bool


def read_targets(session: Session, hints: Sequence[TargetHint | None]) -> None:
    """Read what `find_target` will be asked for each hint, all at once (one
    statement on PostgreSQL, with every session's blocks; elsewhere one a
    session, `db.raw.read_together`), for it to find in
    this transaction until something writes there (`api.batching`)."""
    # A session asked for twice is read once, with its slugs if either asks.
    wanted: dict[tuple[str, str], bool] = {}
    for hint in hints:
        if hint is not None:
            key = (hint.user_id, hint.session_id)
            wanted[key] = wanted.get(key, False) or hint.with_slugs
    if not wanted:
        return
    if _written(session):
        raise RuntimeError("targets are read ahead before anything is reported")
    ahead: dict[tuple[str, str], tuple[bool, tuple[Any, ...] | None]]
    if session.get_bind().dialect.name == "postgresql":
        pairs = list(wanted)
        rows = _PG_TARGETS.all(
            session,
            {"user_ids": [pair[0] for pair in pairs], "session_ids": [pair[1] for pair in pairs]},
        )
        by_pair = {(row[-2], row[-1]): row[:-2] for row in rows}
        ahead = {pair: (True, by_pair.get(pair)) for pair in pairs}
    else:
        reads = [
            (
                _TARGET_WITH_BLOCKS if with_slugs else _TARGET,
                {"user_id": user_id, "session_id": session_id},
            )
            for (user_id, session_id), with_slugs in wanted.items()
        ]
        found = read_together(session, reads)
        ahead = {
            key: (with_slugs, rows[0] if rows else None)
            for (key, with_slugs), rows in zip(wanted.items(), found, strict=True)
        }
    transaction_memo(session)[_AHEAD] = ahead


def find_target(session: Session, *, user_id: str, session_id: str, with_slugs: bool) -> Target:
    """The session `session_id` of the user, with what reporting it needs, in
    one read (or none: `read_targets`); NotFound when the user has no such
    session. `with_slugs` reads the session's blocks too (for a report that
    names skipped exercises)."""
    key = (user_id, session_id)
    ahead: dict[tuple[str, str], tuple[bool, tuple[Any, ...] | None]] | None
    ahead = transaction_memo(session).get(_AHEAD)
    read = None if ahead is None else ahead.pop(key, None)
    written = key in _written(session)
    if read is not None and not written and (read[0] or not with_slugs):
        found = read[1]
    else:
        if written:
            run_deferred(session)  # this session's report written earlier, still waiting
        params = {"user_id": user_id, "session_id": session_id}
        found = (_TARGET_WITH_BLOCKS if with_slugs else _TARGET).first(session, params)
    if found is None:
        raise NotFound("session", session_id)
    day, client_id, external_id, timezone = found[:4]
    columns = found[4 : 4 + len(_FIELDS)]
    slugs: frozenset[str] = frozenset()
    if with_slugs:
        slugs = blocks.slugs(session, found[4 + len(_FIELDS)])
    # No completion: the outer join's columns are all NULL.
    stored = (
        None if columns[0] is None else StoredCompletion(**dict(zip(_FIELDS, columns, strict=True)))
    )
    return Target(
        user_id=user_id,
        session_id=session_id,
        day=day,
        slugs=slugs,
        client_id=client_id,
        external_id=external_id,
        timezone=timezone,
        stored=stored,
    )


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
    """Create or overwrite the session's completion; True when it was created.
    `store_report` for a caller that has not read the session yet."""
    target = find_target(session, user_id=user_id, session_id=session_id, with_slugs=False)
    return store_report(session, target=target, report=report, notes=notes, now=now)


def store_report(
    session: Session,
    *,
    target: Target,
    report: CompletionReport,
    notes: str | None,
    now: datetime,
    unread: bool = False,
) -> tuple[StoredCompletion, bool]:
    """Create or overwrite the target session's completion; True when it was
    created, which emits `session.completed`. An identical report changes
    nothing, timestamps included.

    `unread`: for a caller in a savepoint of its own that retries elsewhere
    (`api.batching`): a first report that races another one is an
    IntegrityError instead of an overwrite, so the insert's answer is never
    read, which in a pipeline (`db.raw`) spares a round trip."""
    user_id, session_id = target.user_id, target.session_id
    values = _columns(report, notes)
    stored = target.stored
    _written(session).add((user_id, session_id))
    if stored is None:
        new = StoredCompletion(
            user_id=user_id, session_id=session_id, created_at=now, updated_at=now, **values
        )
        if unread:
            _INSERT.send(session, {name: getattr(new, name) for name in _FIELDS})
        if unread or _insert_new(session, new):
            changes.announce(session, changes.user_topic(user_id))
            outbox.emit_about(
                session,
                client_id=target.client_id,
                user_id=user_id,
                external_id=target.external_id,
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
    # Every reported column is set (the unchanged ones to what they hold):
    # one statement, built once.
    _REPLACE.send(session, {**values, "user_id": user_id, "session_id": session_id, "now": now})
    changes.announce(session, changes.user_topic(user_id))
    return replace(stored, **changed, updated_at=now), False


def delete_completion(session: Session, *, user_id: str, session_id: str) -> None:
    _written(session).add((user_id, session_id))
    session.delete(get_completion(session, user_id=user_id, session_id=session_id))
    session.flush()
    changes.announce(session, changes.user_topic(user_id))


def _written(session: Session) -> set[tuple[str, str]]:
    """The (user, session) pairs whose completion this transaction wrote, or
    may have: a later read of one of them must see what is still deferred."""
    written: set[tuple[str, str]] = transaction_memo(session).setdefault(_WRITTEN, set())
    return written


_WRITTEN = "completions_written"
# What `read_targets` read: (user id, session id) -> (with slugs, the row or None).
_AHEAD = "completions_read_ahead"


def _find(session: Session, *, user_id: str, session_id: str) -> StoredCompletion | None:
    found = _FIND.first(session, {"user_id": user_id, "session_id": session_id})
    return None if found is None else StoredCompletion(**dict(zip(_FIELDS, found, strict=True)))


def _insert_new(session: Session, row: StoredCompletion) -> bool:
    """Insert the row unless one for its session exists (or appeared
    meanwhile); whether it was inserted."""
    statement = _INSERT_NEW[session.get_bind().dialect.name]
    values = {name: getattr(row, name) for name in StoredCompletion.__slots__}
    return statement.first(session, values) is not None


def _columns(report: CompletionReport, notes: str | None) -> dict[str, Any]:
    """The reported columns (`_REPORTED`) and their values."""
    return {
        "completed_at": report.completed_at,
        "pain_during": report.pain_during,
        "effort": report.effort,
        "pain_before": report.pain_before,
        "pain_next_morning": report.pain_next_morning,
        "skipped": list(report.skipped),
        "notes": notes,
    }
