"""`db.raw.deferred`: what a block only sends runs as it ends, a statement
once for all its rows, in the order sent; and a completion's report read
again in the same block sees what its earlier report still has waiting."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import Table, bindparam, func, insert, select
from sqlmodel import Session, SQLModel

from db import completions, raw
from db.raw import Raw, deferred, run_deferred
from programs import Completion as CompletionReport
from tests.conftest import NOW
from tests.db.test_raw import completion_row
from tests.db.test_repositories import new_user, planned, store

COMPLETIONS: Table = SQLModel.metadata.tables["completions"]
INSERT = Raw(insert(COMPLETIONS))
SET_EFFORT = Raw(
    COMPLETIONS.update()
    .where(COMPLETIONS.c.user_id == bindparam("user_id"))
    .values(effort=bindparam("effort"))
)
COUNT = Raw(
    select(func.count())
    .select_from(COMPLETIONS)
    .where(COMPLETIONS.c.user_id == bindparam("user_id"))
)
EFFORTS = Raw(
    select(COMPLETIONS.c.effort)
    .where(COMPLETIONS.c.user_id == bindparam("user_id"))
    .order_by(COMPLETIONS.c.session_id)
)


def with_sessions(session: Session, *ids: str) -> str:
    user = new_user(session)
    days = [date(2026, 11, 16) + timedelta(days=n) for n in range(len(ids))]
    store(session, user.id, "2026-W47", *(planned(i, d) for i, d in zip(ids, days, strict=True)))
    return user.id


def runs_counted(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The rows of each executemany a deferred block ran."""
    runs: list[int] = []
    original = Raw._run_many

    def counted(self: Raw, dialect: Any, driver: Any, parameters: list[Any]) -> None:
        runs.append(len(parameters))
        original(self, dialect, driver, parameters)

    monkeypatch.setattr(Raw, "_run_many", counted)
    return runs


def test_sent_statements_wait_for_the_end_and_run_once_each_in_order(
    session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    user_id = with_sessions(session, "a", "b", "c")
    runs = runs_counted(monkeypatch)
    with deferred(session):
        INSERT.send(session, completion_row(user_id, "a"))
        SET_EFFORT.send(session, {"user_id": user_id, "effort": 7})
        INSERT.many(session, [completion_row(user_id, "b"), completion_row(user_id, "c")])
        assert COUNT.first(session, {"user_id": user_id}) == (0,)  # nothing ran yet
        assert runs == []
    # The inserts ran first, as INSERT was sent first: the update saw all three.
    assert runs == [3, 1]
    assert EFFORTS.all(session, {"user_id": user_id}) == [(7,), (7,), (7,)]


def test_a_block_that_raises_runs_nothing_it_sent(session: Session) -> None:
    user_id = with_sessions(session, "a")

    def failing_work() -> None:
        with deferred(session):
            INSERT.send(session, completion_row(user_id, "a"))
            raise RuntimeError("the work failed")

    with pytest.raises(RuntimeError):
        failing_work()
    assert COUNT.first(session, {"user_id": user_id}) == (0,)
    INSERT.send(session, completion_row(user_id, "a"))  # outside a block: at once
    assert COUNT.first(session, {"user_id": user_id}) == (1,)


def test_run_deferred_runs_what_waits_and_nested_blocks_wait_for_the_outer(
    session: Session,
) -> None:
    user_id = with_sessions(session, "a", "b")
    with deferred(session):
        with deferred(session):
            INSERT.send(session, completion_row(user_id, "a"))
        assert COUNT.first(session, {"user_id": user_id}) == (0,)
        run_deferred(session)
        assert COUNT.first(session, {"user_id": user_id}) == (1,)
        INSERT.send(session, completion_row(user_id, "b"))
    assert COUNT.first(session, {"user_id": user_id}) == (2,)
    run_deferred(session)  # outside a block: nothing to do


def report(effort: int) -> CompletionReport:
    return CompletionReport(completed_at=NOW, pain_during=1, effort=effort)


def test_a_report_read_again_in_the_block_sees_the_earlier_one(session: Session) -> None:
    """A, then B and A again in one block: the last report is what is kept,
    and its answer says so, as if they had run one after the other."""
    user_id = with_sessions(session, "a")
    completions.put_completion(
        session, user_id=user_id, session_id="a", report=report(3), notes=None, now=NOW
    )
    answers = []
    with deferred(session):
        for effort in (5, 3):
            target = completions.find_target(
                session, user_id=user_id, session_id="a", with_slugs=False
            )
            answers.append(
                completions.store_report(
                    session, target=target, report=report(effort), notes=None, now=NOW
                )
            )
    assert [(stored.effort, created) for stored, created in answers] == [(5, False), (3, False)]
    assert EFFORTS.all(session, {"user_id": user_id}) == [(3,)]


def test_the_memo_of_written_reports_lasts_one_transaction(session: Session) -> None:
    user_id = with_sessions(session, "a")
    completions.put_completion(
        session, user_id=user_id, session_id="a", report=report(3), notes=None, now=NOW
    )
    assert (user_id, "a") in raw.transaction_memo(session)[completions._WRITTEN]
    session.rollback()
    assert completions._WRITTEN not in raw.transaction_memo(session)
