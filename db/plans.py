"""Stored weeks and their sessions, and the history the engine plans from."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, NamedTuple

from pydantic_core import from_json
from sqlalchemy import (
    JSON,
    ColumnElement,
    Select,
    Table,
    Text,
    bindparam,
    cast,
    insert,
    select,
    type_coerce,
)
from sqlmodel import Session, SQLModel, and_, col

from db import blocks, changes
from db import episodes as episode_store
from db.blocks import SplitSession
from db.errors import NotFound
from db.raw import (
    Raw,
    any_of,
    pairs_among,
    pipeline,
    read_together,
    run_deferred,
    transaction_memo,
)
from db.stages import (
    LATEST_STAGES,
    StageReads,
    latest_of,
    latest_stage_read,
    lock_read,
    stage_reads_of,
)
from db.tables import Completion, PlannedSessionRow, User
from programs import Completion as CompletionReport
from programs import Episode as EpisodeReport
from programs import LogEntry, Pains, PlannedSession, Profile


@dataclass(frozen=True, slots=True)
class SessionToStore:
    planned: PlannedSession
    aerobic_minutes: int
    strength_seconds: int
    # The session split for storing (`db.blocks.split`), when the caller
    # split it already.
    split: SplitSession | None = None


@dataclass(frozen=True, slots=True)
class StoredSession:
    row: PlannedSessionRow
    # The session as stored, its blocks read back (`db.blocks`).
    planned: PlannedSession
    completion: Completion | None


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
# What planning reads of the history (`programs.LogEntry`): each session's
# id, date and aerobic minutes, and its completion's pains. Its date is read
# as the driver gives it (`_history_of` reads it): with no column to
# process, `Raw` hands the rows over as they come, instead of visiting every
# value.
_HISTORY_COLUMNS = (
    _SESSIONS.c.id,
    type_coerce(_SESSIONS.c.date, Text),
    _SESSIONS.c.aerobic_minutes,
    _COMPLETIONS.c.session_id,
    _COMPLETIONS.c.pain_during,
    _COMPLETIONS.c.pain_before,
    _COMPLETIONS.c.pain_next_morning,
)
_HISTORY = Raw(
    select(*_HISTORY_COLUMNS)
    .select_from(_SESSIONS_WITH_COMPLETIONS)
    .where(_SESSIONS.c.user_id == bindparam("user_id"))
    .order_by(_SESSIONS.c.date, _SESSIONS.c.position)
)
_WEEK_INDEX = "ix_planned_sessions_user_id_week"
# A session's content as the text stored (psycopg would decode JSON), and
# its blocks' digests as the driver gives them (`db.blocks.stored_json`).
# Through the week's index: SQLite's planner, sparing itself the sort, took
# the history index, which finds the person's sessions of every week and
# reads each one's table row to test its week, so the read grew with the
# person's history (a first-time plan read 40-odd rows to find none).
_WEEK_COLUMNS = (
    _SESSIONS.c.id,
    _SESSIONS.c.date,
    _COMPLETIONS.c.session_id,
    cast(_SESSIONS.c.content, Text),
    type_coerce(_SESSIONS.c.blocks, Text),
)


_ONE_PERSON = _SESSIONS.c.user_id == bindparam("user_id")


def _week_read(
    *leading: ColumnElement[Any],
    weeks: ColumnElement[bool],
    people: ColumnElement[bool] = _ONE_PERSON,
) -> Raw:
    """A person's sessions of the `weeks` asked for, as `_week_of` reads them
    (after the `leading` columns), in date order; for several `people`, a
    person's rows together (led by their id)."""
    order = () if people is _ONE_PERSON else (_SESSIONS.c.user_id,)
    return Raw(
        select(*leading, *_WEEK_COLUMNS)
        .select_from(_SESSIONS_WITH_COMPLETIONS)
        .where(people, weeks)
        .order_by(*order, _SESSIONS.c.date, _SESSIONS.c.position),
        sqlite_indexed_by={"planned_sessions": _WEEK_INDEX},
    )


_WEEK = _week_read(weeks=_SESSIONS.c.week == bindparam("week"))
# The content and the blocks go in as the JSON text made here (SQLite keeps
# it as given; PostgreSQL casts it to its json type): not dumped again by `json`.
_SESSION_VALUES: dict[str, Any] = {
    column.name: bindparam(column.name) for column in _SESSIONS.columns
}
_JSON_TEXT = ("content", "blocks")
_INSERT_SESSIONS = {
    "sqlite": Raw(
        insert(_SESSIONS).values(
            {**_SESSION_VALUES, **{name: bindparam(name, type_=Text) for name in _JSON_TEXT}}
        )
    ),
    "postgresql": Raw(
        insert(_SESSIONS).values(
            {
                **_SESSION_VALUES,
                **{name: cast(bindparam(name, type_=Text), JSON) for name in _JSON_TEXT},
            }
        )
    ),
}
_WEEKS: Table = SQLModel.metadata.tables["stored_weeks"]
# A week is stored once (`store_week`): a second time breaks its key.
_INSERT_WEEK = Raw(insert(_WEEKS))
_PERSON_COLUMNS = (
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
)
# The client's user as planning reads them (`Person`), locked as
# `db.stages.stage_reads` locks them before recording a stage (NO KEY UPDATE:
# rows referring to the person may be written meanwhile).
_LOCKED_PERSON = Raw(
    select(*_PERSON_COLUMNS)
    .where(_USERS.c.id == bindparam("user_id"), _USERS.c.client_id == bindparam("client_id"))
    .with_for_update(key_share=True)
)
# `_WEEK` for the weeks from `first` to `last` (`YYYY-Www` sorts as weeks
# do), each row led by its week.
_FROM_TO = and_(_SESSIONS.c.week >= bindparam("first"), _SESSIONS.c.week <= bindparam("last"))
_WEEKS_FROM_TO = _week_read(_SESSIONS.c.week, weeks=_FROM_TO)

# PostgreSQL: a batch's first serves read ahead (`read_ahead`), each
# statement once for all its people (`user_ids`, an array) instead of once
# a person, each row led by the person's id. The people are locked in the
# order of their ids, so that two batches locking some of the same people
# wait for each other rather than deadlock.
_PEOPLE_AHEAD = Raw(
    select(*_PERSON_COLUMNS)
    .where(pairs_among((_USERS.c.id, "user_ids"), (_USERS.c.client_id, "client_ids")))
    .order_by(_USERS.c.id)
    .with_for_update(key_share=True)
)
_HISTORY_AHEAD = Raw(
    select(_SESSIONS.c.user_id, *_HISTORY_COLUMNS)
    .select_from(_SESSIONS_WITH_COMPLETIONS)
    .where(any_of(_SESSIONS.c.user_id, "user_ids"))
    .order_by(_SESSIONS.c.user_id, _SESSIONS.c.date, _SESSIONS.c.position)
)
_WEEKS_AHEAD = _week_read(
    _SESSIONS.c.user_id,
    _SESSIONS.c.week,
    weeks=_FROM_TO,
    people=any_of(_SESSIONS.c.user_id, "user_ids"),
)


def _with_completions() -> Select[PlannedSessionRow, Completion]:
    """Session rows with their completions, in no order."""
    return select(PlannedSessionRow, Completion).outerjoin(
        Completion,
        and_(
            col(Completion.user_id) == col(PlannedSessionRow.user_id),
            col(Completion.session_id) == col(PlannedSessionRow.id),
        ),
    )


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


def load_history(session: Session, *, user_id: str) -> list[LogEntry]:
    """Every stored session of the user with its completion's pains, as the
    engine's history: one query whatever its length, without the sessions'
    content."""
    return _history_of(_HISTORY.all(session, {"user_id": user_id}))


def _history_of(rows: Sequence[tuple[Any, ...]]) -> list[LogEntry]:
    """The rows as `programs.LogEntry`, not validated again: `store_week`
    and `db.completions` wrote them from validated models. A date comes as
    SQLite's ISO text or psycopg's date."""
    return [
        LogEntry(
            session_id,
            _date(day),
            aerobic,
            None if done is None else Pains(pain_during, pain_before, pain_next_morning),
        )
        for (
            session_id,
            day,
            aerobic,
            done,
            pain_during,
            pain_before,
            pain_next_morning,
        ) in rows
    ]


def _date(value: str | date) -> date:
    return date.fromisoformat(value) if isinstance(value, str) else value


@dataclass(frozen=True, slots=True)
class PlanningReads:
    """What planning a week reads of a person, besides the person."""

    episodes: list[EpisodeReport]
    history: list[LogEntry]
    # The week's stored sessions (`week_sessions`), when asked for.
    week: list[WeekSession] | None
    # What recording the stage the plan reaches reads first, the person's
    # row locked (`db.stages.record_stage`).
    stage: StageReads


def planning_reads(session: Session, *, user_id: str, week: str | None) -> PlanningReads:
    """The person's episodes and history (`db.episodes.list_reports`,
    `load_history`), what recording their stage reads (`db.stages.stage_reads`,
    which locks the person's row until the transaction ends) and, given a
    week, its stored sessions (`week_sessions`): read together, one round
    trip on PostgreSQL instead of one a statement."""
    week_read = None if week is None else (_WEEK, {"user_id": user_id, "week": week})
    found = _read_for_planning(session, user_id=user_id, lock=lock_read(user_id), week=week_read)
    return _planning_reads_of(
        found,
        week=None if week is None else _week_of(session, found[4]),
        stage=stage_reads_of(found[0], found[1]),
    )


def person_and_reads(
    session: Session,
    *,
    client_id: str,
    user_id: str,
    weeks: tuple[str, str] | None,
    week_of: Callable[[Person], str | None],
) -> tuple[Person, PlanningReads]:
    """The client's user as planning reads them, with what `planning_reads`
    reads: the person is read first, locked (the lock `planning_reads`
    takes), and the rest in the same round trip on PostgreSQL. NotFound for
    an unknown id and for another client's user alike (as
    `db.users.get_user`).

    Which week's sessions to read may depend on the person (their time zone
    decides what this week is): `weeks` (first, last) are read with the
    rest, and `week_of(person)` then picks the week wanted (None: none). A
    week outside `weeks` is read on its own."""
    found = _read_ahead_for(session, client_id=client_id, user_id=user_id, weeks=weeks)
    if found is None:
        lock = (_LOCKED_PERSON, {"user_id": user_id, "client_id": client_id})
        week_read = None
        if weeks is not None:
            week_read = (
                _WEEKS_FROM_TO,
                {"user_id": user_id, "first": weeks[0], "last": weeks[1]},
            )
        found = _read_for_planning(session, user_id=user_id, lock=lock, week=week_read)
    if not found[0]:
        raise NotFound("user", user_id)
    person = Person(*found[0][0])
    week = week_of(person)
    sessions = None
    if week is not None:
        if weeks is not None and weeks[0] <= week <= weeks[1]:
            sessions = _week_of(session, [row[1:] for row in found[4] if row[0] == week])
        else:
            sessions = week_sessions(session, user_id=user_id, week=week)
    stage = StageReads(person=(person.client_id, person.external_id), latest=latest_of(found[1]))
    return person, _planning_reads_of(found, week=sessions, stage=stage)


class PlanHint(NamedTuple):
    """What `person_and_reads` will be asked, for `read_ahead`."""

    client_id: str
    user_id: str
    weeks: tuple[str, str] | None


@dataclass(frozen=True, slots=True)
class _Ahead:
    """What `read_ahead` read of a person: `_read_for_planning`'s rows, the
    weeks' sessions those of every week in `weeks` (first, last)."""

    client_id: str
    weeks: tuple[str, str] | None
    found: list[list[tuple[Any, ...]]]


# What `read_ahead` read: user id -> _Ahead, taken by the first read of them.
_AHEAD = "plans_read_ahead"


def read_ahead(session: Session, hints: Sequence[PlanHint | None]) -> None:
    """Read what `person_and_reads` will be asked for each hint, all at once,
    for it to find in this transaction (`api.batching`): on PostgreSQL, five
    statements for the whole batch in one round trip, instead of five for
    each person; elsewhere nothing (SQLite's reads take no round trip).

    Each person's rows are taken by the first `person_and_reads` of them
    (a second one, after the first wrote their week, reads again), and only
    if it asks for weeks that were read. The people are locked here, as
    `person_and_reads` locks them, until the transaction ends: nothing
    written about them by others comes between what is read here and its use."""
    wanted: dict[str, PlanHint] = {}
    for hint in hints:
        if hint is not None:
            wanted.setdefault(hint.user_id, hint)
    if not wanted or session.get_bind().dialect.name != "postgresql":
        return
    ids = list(wanted)
    people = {"user_ids": ids}
    reads: list[_Read] = [
        (_PEOPLE_AHEAD, {**people, "client_ids": [wanted[id_].client_id for id_ in ids]}),
        (LATEST_STAGES, people),
        (episode_store.MANY_REPORTS, people),
        (_HISTORY_AHEAD, people),
    ]
    spans = [hint.weeks for hint in wanted.values() if hint.weeks is not None]
    weeks = (min(span[0] for span in spans), max(span[1] for span in spans)) if spans else None
    if weeks is not None:
        reads.append((_WEEKS_AHEAD, {**people, "first": weeks[0], "last": weeks[1]}))
    found = read_together(session, reads)
    # The people's rows are theirs whole (led by their id); the others'
    # lose their leading id, to be as `_read_for_planning` gives them.
    grouped = [_by_person(found[0], keep_id=True)]
    grouped += [_by_person(rows, keep_id=False) for rows in found[1:]]
    if weeks is None:
        grouped.append({})
    transaction_memo(session)[_AHEAD] = {
        id_: _Ahead(hint.client_id, weeks, [rows.get(id_, []) for rows in grouped])
        for id_, hint in wanted.items()
    }


def _by_person(
    rows: Sequence[tuple[Any, ...]], *, keep_id: bool
) -> dict[str, list[tuple[Any, ...]]]:
    """Rows led by a person's id, by person, in the order read."""
    by_person: dict[str, list[tuple[Any, ...]]] = {}
    for row in rows:
        by_person.setdefault(row[0], []).append(row if keep_id else row[1:])
    return by_person


def _read_ahead_for(
    session: Session, *, client_id: str, user_id: str, weeks: tuple[str, str] | None
) -> list[list[tuple[Any, ...]]] | None:
    """What `read_ahead` read for the client's user, taken (it is theirs
    once), if it covers `weeks`; None otherwise."""
    ahead: dict[str, _Ahead] | None = transaction_memo(session).get(_AHEAD)
    read = None if ahead is None else ahead.pop(user_id, None)
    if read is None or read.client_id != client_id:
        return None
    if weeks is not None and (
        read.weeks is None or not read.weeks[0] <= weeks[0] <= weeks[1] <= read.weeks[1]
    ):
        return None
    return read.found


_Read = tuple[Raw, dict[str, Any]]


def _read_for_planning(
    session: Session, *, user_id: str, lock: _Read, week: _Read | None
) -> list[list[tuple[Any, ...]]]:
    """The rows of `lock` (a read that locks the person's row), the latest
    stage, the episodes, the history and `week`'s read, if any: sent
    together, one round trip on PostgreSQL. The lock goes first: the server
    runs the reads in order, so all of them see what a concurrent request
    for the person committed before letting go."""
    _written_before_read(session, user_id)
    params = {"user_id": user_id}
    reads = [lock, latest_stage_read(user_id), (episode_store.REPORTS, params), (_HISTORY, params)]
    if week is not None:
        reads.append(week)
    return read_together(session, reads)


def _planning_reads_of(
    found: list[list[tuple[Any, ...]]], *, week: list[WeekSession] | None, stage: StageReads
) -> PlanningReads:
    """`PlanningReads` from `_read_for_planning`'s rows."""
    return PlanningReads(
        episodes=episode_store.reports_of(found[2]),
        history=_history_of(found[3]),
        week=week,
        stage=stage,
    )


def load_week(session: Session, *, user_id: str, week: str) -> list[StoredSession]:
    """The week's stored sessions with their completions, in date order."""
    found = session.execute(week_statement(user_id=user_id, week=week))
    rows = sorted(_pairs(found), key=lambda pair: (pair[0].date, pair[0].position))
    return _stored_sessions(session, rows)


def week_statement(*, user_id: str, week: str) -> Select[PlannedSessionRow, Completion]:
    """`load_week`'s query. Unordered, so that SQLite's planner takes the
    week's index (as `_WEEK` does) rather than the history index for its
    order: a week has a few sessions to sort, a person's history many."""
    return _with_completions().where(
        col(PlannedSessionRow.user_id) == user_id, col(PlannedSessionRow.week) == week
    )


def _stored_sessions(
    session: Session, rows: Sequence[tuple[PlannedSessionRow, Completion | None]]
) -> list[StoredSession]:
    planned = planned_sessions(session, [row for row, _completion in rows])
    return [
        StoredSession(row, item, completion)
        for (row, completion), item in zip(rows, planned, strict=True)
    ]


def planned_sessions(session: Session, rows: Sequence[PlannedSessionRow]) -> list[PlannedSession]:
    """Loaded session rows as the engine's sessions, their blocks read back."""
    contents = blocks.load(session, (digest for row in rows for digest in row.blocks))
    return [
        PlannedSession.model_validate(
            {**row.content, "blocks": [from_json(contents[digest]) for digest in row.blocks]}
        )
        for row in rows
    ]


def week_sessions(session: Session, *, user_id: str, week: str) -> list[WeekSession]:
    """The week's stored sessions, in date order, with whether each was
    reported done: `load_week` without loading the rows as objects."""
    _written_before_read(session, user_id)
    return _week_of(session, _WEEK.all(session, {"user_id": user_id, "week": week}))


def _week_of(session: Session, rows: Sequence[tuple[Any, ...]]) -> list[WeekSession]:
    contents = blocks.stored_json(session, [(content, digests) for *_, content, digests in rows])
    return [
        WeekSession(
            id=session_id,
            date=day,
            done=completion is not None,
            planned=PlannedSession.model_validate_json(whole),
        )
        for (session_id, day, completion, _content, _digests), whole in zip(
            rows, contents, strict=True
        )
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
    """A session's JSON, exactly as it is served: put together from its parts
    as stored (`db.blocks.split`), each block serialized once per process."""
    return blocks.split(planned).json()


def store_week(
    session: Session,
    *,
    user_id: str,
    week: str,
    sessions: Sequence[SessionToStore],
    now: datetime,
) -> None:
    """Store a week, not stored yet, with its sessions. The caller holds the
    person's lock and read that the week has no sessions (`person_and_reads`,
    `planning_reads`): every week is stored so, so no other transaction can
    be storing it meanwhile. A week stored already breaks its key
    (IntegrityError), as the statement runs or, in a `deferred` block, as
    the block ends: nothing is stored twice, nor over what is stored.

    Its statements are only sent: in one round trip on PostgreSQL, and in a
    `deferred` block (a batch of first serves, `api.batching`) with every
    other week's of the batch, as it ends."""
    dialect = session.get_bind().dialect.name
    parts = [item.split or blocks.split(item.planned) for item in sessions]
    blocks.store(session, {d: c for part in parts for d, c in part.contents.items()})
    rows = [
        {
            "user_id": user_id,
            "id": item.planned.id,
            "week": week,
            "date": item.planned.date,
            "position": position,
            "content": part.rest.decode(),
            "blocks": _digests_json(part.digests),
            "aerobic_minutes": item.aerobic_minutes,
            "strength_seconds": item.strength_seconds,
            "eased": item.planned.eased,
            "created_at": now,
            "updated_at": now,
        }
        for position, (item, part) in enumerate(zip(sessions, parts, strict=True))
    ]
    transaction_memo(session).setdefault(_WRITTEN, set()).add(user_id)
    with pipeline(session):
        _INSERT_WEEK.send(session, {"user_id": user_id, "week": week, "stored_at": now})
        _INSERT_SESSIONS[dialect].many(session, rows)
        changes.announce(session, changes.user_topic(user_id))


# The people whose week this transaction stored, perhaps still waiting in a
# `deferred` block (`store_week`).
_WRITTEN = "plans_written"


def _written_before_read(session: Session, user_id: str) -> None:
    """Before reading the person's weeks: run what waits in the `deferred`
    block if it may hold a week of theirs (a batch's earlier first serve of
    the same person). Others' waiting weeks go on waiting."""
    if user_id in transaction_memo(session).get(_WRITTEN, ()):
        run_deferred(session)


def replace_session(
    session: Session, *, row: PlannedSessionRow, item: SessionToStore, now: datetime
) -> None:
    """Swap a stored session's content for a new version with the same id."""
    if item.planned.id != row.id:
        raise ValueError(f"session {item.planned.id!r} cannot replace {row.id!r}")
    parts = item.split or blocks.split(item.planned)
    blocks.store(session, parts.contents)
    row.content = from_json(parts.rest)
    row.blocks = list(parts.digests)
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
_SESSION_DAY_AND_BLOCKS = select(_SESSIONS.c.date, _SESSIONS.c.blocks).where(
    _SESSIONS.c.user_id == bindparam("user_id"), _SESSIONS.c.id == bindparam("session_id")
)


def session_day(
    session: Session, *, user_id: str, session_id: str, with_slugs: bool
) -> tuple[date, frozenset[str]]:
    """A stored session's date and, `with_slugs`, its exercises' slugs (empty
    otherwise: the session's blocks are then not read)."""
    statement = _SESSION_DAY_AND_BLOCKS if with_slugs else _SESSION_DAY
    params = {"user_id": user_id, "session_id": session_id}
    found = session.connection().execute(statement, params).first()
    if found is None:
        raise NotFound("session", session_id)
    if not with_slugs:
        return found[0], frozenset()
    return found[0], blocks.slugs(session, found[1])


def get_session_row(session: Session, *, user_id: str, session_id: str) -> PlannedSessionRow:
    row = session.get(PlannedSessionRow, (user_id, session_id))
    if row is None:
        raise NotFound("session", session_id)
    return row


def all_sessions(session: Session, *, user_id: str) -> list[StoredSession]:
    """Every stored session of the user with its completion, in date order."""
    return _in_date_order(session, col(PlannedSessionRow.user_id) == user_id)


def completed_sessions(session: Session, *, user_id: str) -> list[StoredSession]:
    """The user's stored sessions that were reported done, in date order."""
    return _in_date_order(
        session,
        col(PlannedSessionRow.user_id) == user_id,
        col(Completion.session_id).is_not(None),
    )


def _in_date_order(session: Session, *where: Any) -> list[StoredSession]:
    statement = (
        _with_completions()
        .where(*where)
        .order_by(col(PlannedSessionRow.date), col(PlannedSessionRow.position))
    )
    return _stored_sessions(session, _pairs(session.execute(statement)))


def _pairs(
    found: Iterable[tuple[PlannedSessionRow, Completion | None]],
) -> list[tuple[PlannedSessionRow, Completion | None]]:
    """Rows of `_with_completions` as plain (session, completion) pairs."""
    return [(row, completion) for row, completion in found]


def _digests_json(digests: Sequence[str]) -> str:
    """A session's block digests as a JSON list (hex digits need no escaping)."""
    return "[" + ",".join(f'"{digest}"' for digest in digests) + "]"
