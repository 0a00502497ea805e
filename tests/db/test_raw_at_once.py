"""`db.raw`: rows of parameters sent together (`Raw.many`, a `deferred`
block's end) run on PostgreSQL as one statement where the statement has a
form for many rows (`_rows_at_once`), and write what executemany writes."""

from __future__ import annotations

from datetime import date
from typing import Any

import psycopg
import pytest
from sqlalchemy import Table, bindparam, create_engine, func, insert, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, SQLModel

from db import changes, raw
from db.raw import Raw, deferred
from tests.db.test_raw import completion_row
from tests.db.test_repositories import new_user, planned, store

COMPLETIONS: Table = SQLModel.metadata.tables["completions"]
BLOCKS: Table = SQLModel.metadata.tables["session_blocks"]
INSERT = Raw(insert(COMPLETIONS))
INSERT_BLOCK = Raw(postgresql.insert(BLOCKS).on_conflict_do_nothing())
STORED = Raw(
    select(*COMPLETIONS.c)
    .where(COMPLETIONS.c.user_id == bindparam("user_id"))
    .order_by(COMPLETIONS.c.session_id)
)
PG = create_engine("postgresql+psycopg://").dialect  # not connected


def at_once(statement: Any) -> raw._RowsAtOnce | None:
    return Raw(statement).compiled(PG).rows_at_once()


def test_an_insert_takes_its_rows_as_one_values_list() -> None:
    found = at_once(postgresql.insert(BLOCKS).on_conflict_do_nothing())
    assert found is not None
    assert found.names == ("digest", "content")
    assert found.sql(1) == (
        "INSERT INTO session_blocks (digest, content) VALUES ($1::VARCHAR, $2::VARCHAR) "
        "ON CONFLICT DO NOTHING"
    )
    assert found.sql(3) == (
        "INSERT INTO session_blocks (digest, content) VALUES ($1::VARCHAR, $2::VARCHAR), "
        "($3::VARCHAR, $4::VARCHAR), ($5::VARCHAR, $6::VARCHAR) ON CONFLICT DO NOTHING"
    )
    rows = [{"digest": "d1", "content": "c1"}, {"digest": "d2", "content": "c2"}]
    assert found.parameters(rows) == ["d1", "c1", "d2", "c2"]


def test_a_select_of_values_takes_its_rows_joined_by_union_all() -> None:
    found = at_once(select(func.pg_notify("channel", bindparam("topic"))))
    assert found is not None
    assert found.sql(2).count("pg_notify(") == 2
    assert " UNION ALL SELECT pg_notify($3::VARCHAR, $4)" in found.sql(2)
    assert found.parameters(
        [{"pg_notify_2": "c", "topic": "a"}, {"pg_notify_2": "c", "topic": "b"}]
    )


def test_statements_without_a_form_for_many_rows_keep_executemany() -> None:
    upsert = postgresql.insert(BLOCKS).on_conflict_do_update(
        index_elements=["digest"], set_={"content": bindparam("new_content")}
    )
    returning = insert(COMPLETIONS).returning(COMPLETIONS.c.user_id)
    update = COMPLETIONS.update().values(effort=bindparam("new_effort"))
    reading = select(COMPLETIONS.c.user_id).where(COMPLETIONS.c.effort == bindparam("effort"))
    for statement in (upsert, returning, update, reading):
        assert at_once(statement) is None, statement
    assert raw._rows_at_once("INSERT INTO t (a) VALUES (%(a)s || ')')") is None  # quoted
    assert raw._rows_at_once("INSERT INTO t (a) VALUES (%(a)s") is None  # never closes
    assert Raw(insert(COMPLETIONS)).compiled(sqlite.dialect()).rows_at_once() is None


def test_a_statement_holds_at_most_its_share_of_parameters() -> None:
    found = at_once(insert(COMPLETIONS))
    assert found is not None
    assert found.most_rows * len(found.names) <= raw.MAX_PARAMETERS_AT_ONCE < 65_535
    assert (found.most_rows + 1) * len(found.names) > raw.MAX_PARAMETERS_AT_ONCE


def sessions_of_a_person(session: Session, count: int) -> tuple[str, list[str]]:
    user = new_user(session)
    ids = [f"s{number}" for number in range(count)]
    store(session, user.id, "2026-W48", *(planned(i, date(2026, 11, 23)) for i in ids))
    return user.id, ids


def test_rows_sent_together_are_written_as_one_at_a_time(session: Session) -> None:
    user_id, ids = sessions_of_a_person(session, 5)
    rows = [
        completion_row(user_id, i) | {"effort": n + 1, "skipped": ["x"] * n}
        for n, i in enumerate(ids)
    ]
    INSERT.many(session, rows[:4])
    with deferred(session):
        INSERT.send(session, rows[4])
    stored = STORED.all(session, {"user_id": user_id})
    by_core = session.execute(
        select(*COMPLETIONS.c)
        .where(COMPLETIONS.c.user_id == user_id)
        .order_by(COMPLETIONS.c.session_id)
    ).all()
    assert [row[4] for row in stored] == [1, 2, 3, 4, 5]
    assert [row[7] for row in stored] == [["x"] * n for n in range(5)]
    assert stored == [tuple(row) for row in by_core]


def test_many_rows_go_in_several_statements_past_the_limit(
    session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    user_id, ids = sessions_of_a_person(session, 7)
    monkeypatch.setattr(raw, "MAX_PARAMETERS_AT_ONCE", 3 * len(COMPLETIONS.c))
    raw._rows_at_once.cache_clear()
    try:
        executed: list[str] = []
        original = psycopg.RawCursor.execute

        def counted(self: Any, query: Any, params: Any = None, **kwargs: Any) -> Any:
            executed.append(str(query))
            return original(self, query, params, **kwargs)

        monkeypatch.setattr(psycopg.RawCursor, "execute", counted)
        INSERT.many(session, [completion_row(user_id, i) for i in ids])
    finally:
        raw._rows_at_once.cache_clear()
    assert len(STORED.all(session, {"user_id": user_id})) == 7
    if session.get_bind().dialect.name == "postgresql":
        assert [query.count("), (") + 1 for query in executed] == [3, 3, 1]
    else:
        assert executed == []


def test_a_key_broken_among_rows_sent_together_is_sqlalchemys_error(session: Session) -> None:
    user_id, ids = sessions_of_a_person(session, 2)
    rows = [completion_row(user_id, ids[0]), completion_row(user_id, ids[1])]
    with pytest.raises(IntegrityError):
        INSERT.many(session, [*rows, rows[0]])


@pytest.mark.postgres
def test_on_conflict_do_nothing_skips_repeats_within_the_rows_too(pg_session: Session) -> None:
    session = pg_session
    rows = [
        {"digest": "at-once-1", "content": "first"},
        {"digest": "at-once-2", "content": "second"},
        {"digest": "at-once-1", "content": "repeat"},
    ]
    INSERT_BLOCK.many(session, rows)
    INSERT_BLOCK.many(session, [{"digest": "at-once-2", "content": "again"}, rows[0]])
    found = Raw(
        select(BLOCKS.c.digest, BLOCKS.c.content)
        .where(BLOCKS.c.digest.like("at-once-%"))
        .order_by(BLOCKS.c.digest)
    ).all(session)
    assert found == [("at-once-1", "first"), ("at-once-2", "second")]


@pytest.mark.postgres
def test_announcements_sent_together_each_reach_a_listener(
    pg_session: Session, postgres_url: str
) -> None:
    session = pg_session
    listener = psycopg.connect(postgres_url.replace("postgresql+psycopg://", "postgresql://"))
    listener.autocommit = True
    try:
        listener.execute(f"LISTEN {changes.CHANNEL}")
        topics = [changes.user_topic(f"at-once-{n}") for n in range(3)]
        with deferred(session):
            for topic in topics:
                changes.announce(session, topic)
        session.commit()
        heard = [note.payload for note in listener.notifies(timeout=5, stop_after=3)]
    finally:
        listener.close()
    assert sorted(heard) == sorted(topics)
