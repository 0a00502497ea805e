"""`db.raw.Raw` reads and writes exactly what SQLAlchemy's own execution does."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import (
    Column,
    Integer,
    MetaData,
    Table,
    bindparam,
    create_engine,
    func,
    insert,
    literal,
    select,
)
from sqlalchemy.dialects import sqlite
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlmodel import Session, SQLModel

from db import completions
from db.engine import make_engine
from db.raw import Raw, read_together, savepoint, transaction_memo
from db.types import UtcDateTime
from programs import Completion as CompletionReport
from tests.conftest import NOW
from tests.db.test_repositories import new_user, planned, store

COMPLETIONS: Table = SQLModel.metadata.tables["completions"]
SESSIONS: Table = SQLModel.metadata.tables["planned_sessions"]
BY_USER = select(*COMPLETIONS.c, SESSIONS.c.date, SESSIONS.c.content).join(
    SESSIONS,
    (SESSIONS.c.user_id == COMPLETIONS.c.user_id) & (SESSIONS.c.id == COMPLETIONS.c.session_id),
)


def reported(session: Session) -> str:
    user = new_user(session)
    store(session, user.id, "2026-W47", planned("a", date(2026, 11, 16)))
    store(session, user.id, "2026-W48", planned("b", date(2026, 11, 23)))
    for session_id, skipped in (("a", ("cat-cow",)), ("b", ())):
        report = CompletionReport(
            completed_at=NOW, pain_during=1, effort=3, pain_before=None, skipped=skipped
        )
        completions.put_completion(
            session, user_id=user.id, session_id=session_id, report=report, notes="ok", now=NOW
        )
    return user.id


def completion_row(user_id: str, session_id: str) -> dict[str, Any]:
    """A `completions` row's values: done at NOW, pain 0, effort 1."""
    return {
        "user_id": user_id,
        "session_id": session_id,
        "completed_at": NOW,
        "pain_during": 0,
        "effort": 1,
        "pain_before": None,
        "pain_next_morning": None,
        "skipped": [],
        "notes": None,
        "created_at": NOW,
        "updated_at": NOW,
    }


def test_rows_match_sqlalchemy_execution(session: Session) -> None:
    user_id = reported(session)
    statement = BY_USER.where(COMPLETIONS.c.user_id == bindparam("user_id")).order_by(
        COMPLETIONS.c.session_id
    )
    expected = [tuple(row) for row in session.execute(statement, {"user_id": user_id})]
    rows = Raw(statement).all(session, {"user_id": user_id})
    assert rows == expected
    assert len(rows) == 2
    first = rows[0]
    # Types come back as SQLAlchemy gives them: aware UTC datetimes, dates, JSON.
    assert first[2] == NOW
    assert first[2].tzinfo is not None
    assert isinstance(first[-2], date)
    assert first[7] == ["cat-cow"]
    assert Raw(statement).first(session, {"user_id": user_id}) == expected[0]
    assert Raw(statement).first(session, {"user_id": "nobody"}) is None


def test_writes_read_back_as_sqlalchemy_wrote_them(session: Session) -> None:
    user_id = reported(session)
    later = datetime(2026, 11, 24, 7, 30, 15, 123456, tzinfo=UTC)
    store(
        session,
        user_id,
        "2026-W49",
        planned("c", date(2026, 11, 30)),
        planned("d", date(2026, 12, 1)),
    )
    values = {
        "user_id": user_id,
        "completed_at": later,
        "pain_during": 2,
        "effort": 4,
        "pain_before": 1,
        "pain_next_morning": None,
        "skipped": ["bird-dog"],
        "notes": None,
        "created_at": later,
        "updated_at": later,
    }
    returning = insert(COMPLETIONS).returning(COMPLETIONS.c.session_id, COMPLETIONS.c.created_at)
    assert Raw(returning).first(session, {**values, "session_id": "c"}) == ("c", later)
    session.execute(insert(COMPLETIONS), {**values, "session_id": "d"})
    theirs = BY_USER.where(
        COMPLETIONS.c.user_id == bindparam("user_id"), COMPLETIONS.c.session_id > "b"
    )
    rows = Raw(theirs).all(session, {"user_id": user_id})
    written, by_core = sorted(rows)
    # Every completion column alike, written by Raw (c) and by Core (d).
    assert written[2:-2] == by_core[2:-2]
    assert written[2] == later == by_core[2]
    assert written[7] == ["bird-dog"] == by_core[7]


def test_many_and_run(session: Session) -> None:
    user_id = reported(session)
    store(
        session,
        user_id,
        "2026-W49",
        planned("c", date(2026, 11, 30)),
        planned("d", date(2026, 12, 1)),
    )
    rows = [completion_row(user_id, session_id) for session_id in ("c", "d")]
    Raw(insert(COMPLETIONS)).many(session, rows)
    Raw(insert(COMPLETIONS)).many(session, [])
    counted = (
        select(func.count())
        .select_from(COMPLETIONS)
        .where(COMPLETIONS.c.user_id == bindparam("user_id"))
    )
    assert Raw(counted).first(session, {"user_id": user_id}) == (4,)
    touched = Raw(
        COMPLETIONS.update()
        .where(COMPLETIONS.c.user_id == bindparam("user_id"))
        .values(effort=bindparam("effort"))
    )
    assert touched.run(session, {"user_id": user_id, "effort": 9}) == 4


def test_literals_in_the_statement_are_sent(session: Session) -> None:
    statement = select(literal("backplan") + bindparam("suffix"), literal(41) + 1)
    assert Raw(statement).first(session, {"suffix": "!"}) == ("backplan!", 42)


def test_sqlite_reads_a_table_through_the_index_it_is_given() -> None:
    statement = select(SESSIONS.c.date).where(SESSIONS.c.user_id == bindparam("user_id"))
    raw = Raw(statement, sqlite_indexed_by={"planned_sessions": "ix_planned_sessions_target"})
    sql = raw.compiled(sqlite.dialect()).sql
    assert "FROM planned_sessions INDEXED BY ix_planned_sessions_target \nWHERE" in sql
    assert "INDEXED BY" not in raw.compiled(create_engine("postgresql+psycopg://").dialect).sql


def test_an_index_for_a_table_not_read_exactly_once_is_refused() -> None:
    again = SESSIONS.alias("again")
    twice = select(SESSIONS.c.date).join(again, again.c.user_id == SESSIONS.c.user_id)
    for statement in (select(COMPLETIONS.c.user_id), twice):
        raw = Raw(statement, sqlite_indexed_by={"planned_sessions": "ix_planned_sessions_target"})
        with pytest.raises(ValueError, match="planned_sessions"):
            raw.compiled(sqlite.dialect())


def test_expanding_parameters_are_refused(session: Session) -> None:
    statement = select(COMPLETIONS.c.user_id).where(
        COMPLETIONS.c.session_id.in_(bindparam("ids", expanding=True))
    )
    with pytest.raises(ValueError, match="ids"):
        Raw(statement).all(session, {"ids": ["a"]})


def test_a_savepoint_rolls_back_only_its_own_writes(session: Session) -> None:
    user_id = reported(session)
    counted = Raw(
        select(func.count())
        .select_from(COMPLETIONS)
        .where(COMPLETIONS.c.user_id == bindparam("user_id"))
    )
    erase = Raw(COMPLETIONS.delete().where(COMPLETIONS.c.session_id == bindparam("session_id")))
    seen: list[Any] = []

    def erase_then_fail() -> None:
        with savepoint(session):
            erase.run(session, {"session_id": "a"})
            seen.append(counted.first(session, {"user_id": user_id}))
            raise RuntimeError("undo")

    with pytest.raises(RuntimeError, match="undo"):
        erase_then_fail()
    assert seen == [(1,)]
    assert counted.first(session, {"user_id": user_id}) == (2,)
    with savepoint(session):
        erase.run(session, {"session_id": "b"})
    assert counted.first(session, {"user_id": user_id}) == (1,)
    # The transaction goes on after both, and still holds the kept change.
    assert Raw(select(literal(1))).first(session) == (1,)


def test_driver_errors_are_raised_as_sqlalchemys(session: Session) -> None:
    user_id = reported(session)
    again = Raw(insert(COMPLETIONS))
    with pytest.raises(IntegrityError) as raised:
        again.run(session, completion_row(user_id, "a"))  # the completion of "a" exists
    assert raised.value.orig is not None


@given(
    st.datetimes(
        min_value=datetime(1, 1, 2),
        max_value=datetime(9999, 12, 30),
        timezones=st.sampled_from(
            [UTC, timezone(timedelta(hours=-11)), timezone(timedelta(hours=14))]
        ),
    )
)
def test_utc_datetimes_go_to_sqlite_as_sqlalchemy_would_send_them(value: datetime) -> None:
    dialect = sqlite.dialect()
    column = UtcDateTime()
    sqlalchemys = column.dialect_impl(dialect).bind_processor(dialect)
    faster = column.raw_bind_processor(dialect)
    assert sqlalchemys is not None
    assert faster is not None
    assert faster(value) == sqlalchemys(value)
    assert faster(None) is None


def test_naive_datetimes_are_refused_by_the_faster_processor_too() -> None:
    faster = UtcDateTime().raw_bind_processor(sqlite.dialect())
    assert faster is not None
    with pytest.raises(ValueError, match="naive"):
        faster(datetime(2026, 11, 21, 12, 0))
    postgres = make_engine("postgresql://postgres@127.0.0.1:5432/test").dialect  # not connected
    assert UtcDateTime().raw_bind_processor(postgres) is None


def test_a_transaction_memo_lasts_as_long_as_its_transaction(session: Session) -> None:
    memo = transaction_memo(session)
    memo["read once"] = 1
    assert transaction_memo(session) is memo
    session.rollback()  # the next statement begins another transaction
    assert "read once" not in transaction_memo(session)


def test_reads_sent_together_give_what_each_gives_alone(session: Session) -> None:
    user_id = reported(session)
    by_user = BY_USER.where(COMPLETIONS.c.user_id == bindparam("user_id")).order_by(
        COMPLETIONS.c.session_id
    )
    count = select(func.count()).select_from(SESSIONS).where(SESSIONS.c.user_id == bindparam("u"))
    reads: list[tuple[Raw, dict[str, Any] | None]] = [
        (Raw(by_user), {"user_id": user_id}),
        (Raw(count), {"u": user_id}),
        (Raw(by_user), {"user_id": "nobody"}),
        (Raw(select(literal(1))), None),
    ]
    together = read_together(session, reads)
    assert together == [statement.all(session, values) for statement, values in reads]
    assert together[1] == [(2,)]
    assert together[2] == []


def test_an_error_among_reads_sent_together_is_sqlalchemys(session: Session) -> None:
    missing = Table("no_such_table", MetaData(), Column("x", Integer))
    fine = Raw(select(literal(1)))
    with pytest.raises(DBAPIError, match="no_such_table"), savepoint(session):
        read_together(session, [(fine, None), (Raw(select(missing.c.x)), None)])
    # Rolled back to the savepoint, the transaction goes on.
    assert read_together(session, [(fine, None)]) == [[(1,)]]
