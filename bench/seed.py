"""Seed a fresh, migrated database with N people quickly.

A few template people are built with the real code: `api.planning.serve_plan`
stores each week as the service would when an app fetched it on its Monday,
and `db.completions.put_completion` reports its sessions done at low pain.
Their rows are then read back raw and copied per person with new ids by bulk
inserts (executemany on SQLite, COPY on PostgreSQL). Session ids are derived
again for each copy with the engine's own `programs.planner.session_id`, so the
copies hold exactly the ids the service would have given them.

What each person has:
- weeks W-`weeks` .. W-1 stored, every session of them done at pain 1-2 except
  the last week's, left open (the pool of new completions);
- "stored" people: this week stored too (the stored-plan GET);
- "fresh" people: this week never fetched (the first-time GET).

The two kinds are mixed evenly in the insert order, so that the rows the
uncached paths read lie all over the database.
"""

from __future__ import annotations

import time as clock
import uuid
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from typing import Any

from sqlalchemy import Engine, Table, select, text
from sqlmodel import Session, SQLModel, col

from api import keys, planning
from db import completions as completion_store
from db import users as user_store
from db.tables import Completion, PlannedSessionRow
from programs import Completion as CompletionReport
from programs import IsoWeek, Profile
from programs.planner import session_id

# Varied enough that plans differ in size and days; all valid profiles.
TEMPLATE_PROFILES: tuple[dict[str, Any], ...] = (
    {
        "training_days": ["mon", "wed", "fri"],
        "session_minutes": 30,
        "fitness_level": "low",
        "equipment": ["mat"],
        "aerobic_activities": ["walking"],
    },
    {
        "training_days": ["tue", "thu", "sat"],
        "session_minutes": 45,
        "fitness_level": "moderate",
        "equipment": ["mat", "band"],
        "aerobic_activities": ["walking", "cycling"],
    },
    {
        "training_days": ["mon", "tue", "thu", "fri"],
        "session_minutes": 40,
        "fitness_level": "moderate",
        "equipment": ["mat", "chair"],
        "aerobic_activities": ["swimming"],
    },
    {
        "training_days": ["mon", "wed", "fri", "sat"],
        "session_minutes": 60,
        "fitness_level": "high",
        "equipment": ["mat", "band", "dumbbells"],
        "aerobic_activities": ["walking", "elliptical"],
    },
)
# Copy order respects the foreign keys.
TABLES: tuple[Table, ...] = tuple(
    SQLModel.metadata.tables[name]
    for name in ("users", "stored_weeks", "planned_sessions", "completions", "stage_changes")
)
CHUNK_USERS = 500
WRITERS = 2


@dataclass(frozen=True)
class Snapshot:
    """A template person's raw rows, table by table, in storage format."""

    user_id: str
    rows: dict[str, list[tuple[Any, ...]]]
    columns: dict[str, list[str]]
    session_dates: dict[str, date]
    open_sessions: tuple[str, ...]


@dataclass
class Seeded:
    client_key: str
    stored_users: list[str] = field(default_factory=list)
    fresh_users: list[str] = field(default_factory=list)
    # (user id, session id) of past sessions not reported yet.
    open_sessions: list[tuple[str, str]] = field(default_factory=list)
    rows: int = 0
    seconds: float = 0.0


def seed(engine: Engine, *, users: int, fresh_users: int, weeks: int, now: datetime) -> Seeded:
    """Seed `users` people with this week stored and `fresh_users` without it."""
    started = clock.perf_counter()
    with Session(engine, expire_on_commit=False) as session:
        client, key = keys.register_client(session, name="backplan bench", now=now)
        session.commit()
    result = Seeded(client_key=key)
    templates = [
        _build_template(engine, client.id, index, fields, weeks=weeks, now=now)
        for index, fields in enumerate(TEMPLATE_PROFILES)
    ]
    today = now.date()
    # PostgreSQL spends most of a COPY parsing and compressing the sessions'
    # JSON, one core per connection: two writers keep both busy. SQLite has
    # one writer at a time.
    writers = 1 if engine.dialect.name == "sqlite" else WRITERS
    pending: deque[Future[int]] = deque()
    pool = ThreadPoolExecutor(writers)
    snapshots = {
        "fresh": [pair[0] for pair in templates],
        "stored": [pair[1] for pair in templates],
    }
    out = {"fresh": result.fresh_users, "stored": result.stored_users}
    numbers = {"fresh": 0, "stored": 0}
    kinds = interleaved(stored=users, fresh=fresh_users)
    total = users + fresh_users
    for first in range(0, total, CHUNK_USERS):
        batch: dict[str, list[tuple[Any, ...]]] = {table.name: [] for table in TABLES}
        for _ in range(min(CHUNK_USERS, total - first)):
            kind = next(kinds)
            number = numbers[kind]
            numbers[kind] += 1
            template = snapshots[kind][number % len(snapshots[kind])]
            user_id = str(uuid.uuid4())
            out[kind].append(user_id)
            ids = _copy(template, user_id, f"bench-{kind}-{number}", batch)
            result.open_sessions += [
                (user_id, ids[old])
                for old in template.open_sessions
                if template.session_dates[old] < today
            ]
        while len(pending) >= writers:  # bounds the rows held in memory
            result.rows += pending.popleft().result()
        pending.append(pool.submit(_write, engine, batch, templates[0][0].columns))
    while pending:
        result.rows += pending.popleft().result()
    pool.shutdown()
    result.seconds = clock.perf_counter() - started
    return result


def interleaved(*, stored: int, fresh: int) -> Iterator[str]:
    """Yield "stored" `stored` times and "fresh" `fresh` times, evenly mixed: the
    fresh people's rows (the first-time GETs) and everyone's open sessions (the
    completions) lie all over the tables and indexes, not in the part of the
    file written last, which the OS would still have in memory."""
    total = stored + fresh
    for index in range(total):
        yield "fresh" if (index + 1) * fresh // total > index * fresh // total else "stored"


def _build_template(
    engine: Engine, client_id: str, index: int, fields: dict[str, Any], *, weeks: int, now: datetime
) -> tuple[Snapshot, Snapshot]:
    """(fresh, stored) snapshots of one template person."""
    this_week = IsoWeek.of(now.date())
    first = this_week.shift(-weeks)
    start = first.monday()
    profile = Profile.model_validate({**fields, "program_start": start})
    joined = datetime.combine(start, time(6), UTC)
    with Session(engine, expire_on_commit=False) as session:
        user = user_store.create_user(
            session,
            client_id=client_id,
            external_id=f"bench-template-{index}",
            timezone="UTC",
            profile=profile,
            program_start_given=True,
            now=joined,
        )
        for offset in range(weeks):
            week = first.shift(offset)
            fetched = datetime.combine(week.monday(), time(6), UTC)
            plan = planning.serve_plan(session, user=user, week=week, now=fetched)
            if not plan.sessions or plan.preview:
                raise RuntimeError(f"template {index}: week {week} was not stored")
            if offset == weeks - 1:
                continue  # last week: left open for new completions
            for number, planned in enumerate(plan.sessions):
                done = datetime.combine(planned.date, time(18), UTC)
                report = CompletionReport(
                    completed_at=done, pain_during=1 + number % 2, effort=4, pain_before=1
                )
                completion_store.put_completion(
                    session,
                    user_id=user.id,
                    session_id=planned.id,
                    report=report,
                    notes=None,
                    now=done,
                )
        session.commit()
        fresh = _snapshot(session, user.id)
        plan = planning.serve_plan(session, user=user, week=None, now=now)
        if plan.week != str(this_week) or plan.preview:
            raise RuntimeError(f"template {index}: this week was not stored")
        session.commit()
        stored = _snapshot(session, user.id)
    return fresh, stored


def _snapshot(session: Session, user_id: str) -> Snapshot:
    found = session.execute(
        select(col(PlannedSessionRow.id), col(PlannedSessionRow.date)).where(
            col(PlannedSessionRow.user_id) == user_id
        )
    )
    dates: dict[str, date] = {row[0]: row[1] for row in found}
    for sid, day in dates.items():
        # The copies' ids are derived the same way: make sure that holds.
        if sid != session_id(user_id, day):
            raise RuntimeError(f"session id {sid} is not derived as bench.seed expects")
    done = set(
        session.scalars(
            select(col(Completion.session_id)).where(col(Completion.user_id) == user_id)
        )
    )
    rows: dict[str, list[tuple[Any, ...]]] = {}
    columns: dict[str, list[str]] = {}
    for table in TABLES:
        names = [column.name for column in table.columns]
        # JSON as its text, dates and times as the driver gives them: the raw
        # storage format, written back unchanged.
        selected = ", ".join(
            f'CAST("{c.name}" AS TEXT)' if c.type.__class__.__name__ == "JSON" else f'"{c.name}"'
            for c in table.columns
        )
        owner = "id" if table.name == "users" else "user_id"
        statement = text(f'SELECT {selected} FROM "{table.name}" WHERE "{owner}" = :owner')
        rows[table.name] = [tuple(row) for row in session.execute(statement, {"owner": user_id})]
        columns[table.name] = names
    open_ids = tuple(sorted(sid for sid in dates if sid not in done))
    return Snapshot(user_id, rows, columns, dates, open_ids)


def _copy(
    template: Snapshot, user_id: str, external_id: str, batch: dict[str, list[tuple[Any, ...]]]
) -> dict[str, str]:
    """Append the template's rows for a new person to `batch`; the session id map."""
    ids = {old: session_id(user_id, day) for old, day in template.session_dates.items()}
    for table in TABLES:
        names = template.columns[table.name]
        change = _changes(table.name, names, user_id, external_id, ids)
        out = batch[table.name]
        for row in template.rows[table.name]:
            values = list(row)
            for position, how in change:
                values[position] = how(row)
            out.append(tuple(values))
    return ids


Row = tuple[Any, ...]


def _changes(
    table: str, names: list[str], user_id: str, external_id: str, ids: dict[str, str]
) -> list[tuple[int, Callable[[Row], Any]]]:
    """(column position, new value from the template row) for each column to change."""
    at = names.index
    by_column: dict[str, Callable[[Row], Any]] = {"user_id": lambda _: user_id}
    if table == "users":
        by_column = {"id": lambda _: user_id, "external_id": lambda _: external_id}
    elif table == "planned_sessions":
        sid, content = at("id"), at("content")
        by_column |= {
            "id": lambda row: ids[row[sid]],
            # The session's JSON holds its own id.
            "content": lambda row: row[content].replace(row[sid], ids[row[sid]]),
        }
    elif table == "completions":
        sid = at("session_id")
        by_column |= {"session_id": lambda row: ids[row[sid]]}
    elif table == "stage_changes":
        by_column |= {"id": lambda _: str(uuid.uuid4())}
    return [(at(name), how) for name, how in by_column.items()]


def _write(
    engine: Engine, batch: dict[str, list[tuple[Any, ...]]], columns: dict[str, list[str]]
) -> int:
    written = 0
    raw = engine.raw_connection()
    try:
        driver: Any = raw.driver_connection
        if engine.dialect.name == "sqlite":
            cursor = driver.cursor()
            cursor.execute("BEGIN")
            for table in TABLES:
                names = columns[table.name]
                marks = ", ".join("?" for _ in names)
                quoted = ", ".join(f'"{name}"' for name in names)
                cursor.executemany(
                    f'INSERT INTO "{table.name}" ({quoted}) VALUES ({marks})', batch[table.name]
                )
                written += len(batch[table.name])
            cursor.execute("COMMIT")
        else:
            with driver.cursor() as cursor:
                for table in TABLES:
                    quoted = ", ".join(f'"{name}"' for name in columns[table.name])
                    with cursor.copy(f'COPY "{table.name}" ({quoted}) FROM STDIN') as copy:
                        for row in batch[table.name]:
                            copy.write_row(row)
                    written += len(batch[table.name])
            driver.commit()
    finally:
        raw.close()
    return written
