"""Sessions' blocks stored once each, by digest (`db.blocks`): what a stored
session names is always stored, whatever was rolled back, and the process
learns a block is stored only from a transaction that did not write it."""

from __future__ import annotations

import itertools
import subprocess
import sys
import uuid
from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest
from sqlalchemy import Engine, event, func
from sqlmodel import Session, col, select

from db import blocks, plans
from db.blocks import MissingBlock
from db.raw import Raw, savepoint
from db.tables import PlannedSessionRow, SessionBlock, User
from programs import Block, BlockType, PlannedSession
from tests.conftest import NOW
from tests.db.test_repositories import new_user

# Blocks no other test makes: each is new to the database it goes to.
_minutes = itertools.count(10_000 + uuid.uuid4().int % 1_000_000 * 100)


def new_block() -> Block:
    return Block(type=BlockType.cool_down, minutes=next(_minutes), exercises=())


def week_of(user_id: str, *shared: Block) -> plans.SessionToStore:
    """One session holding `shared` blocks and one block of its own."""
    planned = PlannedSession(
        id=f"s-{user_id}", date=date(2026, 11, 16), minutes=30, blocks=(*shared, new_block())
    )
    return plans.SessionToStore(planned=planned, aerobic_minutes=0, strength_seconds=0)


def store(session: Session, user_id: str, item: plans.SessionToStore) -> None:
    plans.store_week(session, user_id=user_id, week="2026-W47", sessions=[item], now=NOW)


def two_weeks_sharing(session: Session, shared: Block) -> tuple[User, User]:
    """Two new people, each with a week stored whose session holds `shared`."""
    people = new_user(session), new_user(session, external_id="v")
    for user in people:
        store(session, user.id, week_of(user.id, shared))
    return people


def digests(*found: Block) -> list[str]:
    return [blocks.digest_of(block.__pydantic_serializer__.to_json(block)) for block in found]


def stored_blocks(session: Session, names: list[str]) -> int:
    statement = select(func.count()).where(col(SessionBlock.digest).in_(names))
    return session.exec(statement).one()


@pytest.fixture
def committed(engine: Engine) -> Iterator[Session]:
    """A session whose transactions commit (its rows stay in the run's database)."""
    with Session(engine) as session:
        yield session


def test_a_shared_block_is_stored_once_and_reads_back_in_each_session(
    committed: Session,
) -> None:
    shared = new_block()
    people = two_weeks_sharing(committed, shared)
    committed.commit()
    assert stored_blocks(committed, digests(shared)) == 1
    for user in people:
        (read,) = plans.week_sessions(committed, user_id=user.id, week="2026-W47")
        assert read.planned.blocks[0] == shared
        row = committed.get(PlannedSessionRow, (user.id, f"s-{user.id}"))
        assert row is not None
        assert row.blocks[0] == digests(shared)[0]


def test_a_block_found_by_the_transaction_that_wrote_it_is_not_yet_known(
    committed: Session,
) -> None:
    # As in a group commit's batch: two pieces in one transaction name the
    # same new block; the second finds it stored (by the first), and then
    # the whole batch is rolled back.
    shared = new_block()
    two_weeks_sharing(committed, shared)
    assert stored_blocks(committed, digests(shared)) == 1
    assert blocks.known_stored(committed, digests(shared)) == frozenset()
    committed.rollback()
    # The write is gone with its transaction; the next one stores it again.
    other = new_user(committed, external_id="w")
    store(committed, other.id, week_of(other.id, shared))
    committed.commit()
    assert stored_blocks(committed, digests(shared)) == 1
    (read,) = plans.week_sessions(committed, user_id=other.id, week="2026-W47")
    assert read.planned.blocks[0] == shared


def test_a_block_seen_in_another_transaction_is_known_and_not_written_again(
    committed: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    shared = new_block()
    user = new_user(committed)
    store(committed, user.id, week_of(user.id, shared))
    committed.commit()
    other = new_user(committed, external_id="w")
    item = week_of(other.id, shared)
    own = digests(item.planned.blocks[-1])
    store(committed, other.id, item)
    # It asked which blocks were stored: the shared one, committed before,
    # is known from now on; its own, written now, is not yet.
    assert blocks.known_stored(committed, [*digests(shared), *own]) == frozenset(digests(shared))
    committed.commit()
    assert stored_blocks(committed, [*digests(shared), *own]) == 2
    third = new_user(committed, external_id="x")
    sent = statements_sent(committed.get_bind(), monkeypatch)
    only_shared = PlannedSession(id="t", date=date(2026, 11, 16), minutes=30, blocks=(shared,))
    store(committed, third.id, plans.SessionToStore(only_shared, 0, 0))
    assert sent  # it stored the week
    assert [sql for sql in sent if "session_blocks" in sql] == []
    committed.rollback()


def statements_sent(engine: Any, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The SQL of every statement run from now on, through SQLAlchemy or `db.raw`."""
    sent: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        sent.append(statement)

    def spy(method: Any) -> Any:
        def spied(self: Raw, *args: Any, **kwargs: Any) -> Any:
            sent.append(str(self.statement))
            return method(self, *args, **kwargs)

        return spied

    event.listen(engine, "before_cursor_execute", record)
    monkeypatch.setattr(Raw, "_execute", spy(Raw._execute))
    monkeypatch.setattr(Raw, "_run_many", spy(Raw._run_many))
    return sent


def test_a_block_whose_savepoint_rolled_back_is_stored_by_the_next_piece(
    committed: Session,
) -> None:
    # As a group commit's pieces run one by one: the first fails after
    # storing its week, the second names the same new block.
    shared = new_block()
    first_id = new_user(committed).id
    second_id = new_user(committed, external_id="v").id
    committed.commit()

    def failing_piece() -> None:
        with savepoint(committed):
            store(committed, first_id, week_of(first_id, shared))
            raise RuntimeError("the first piece fails")

    with pytest.raises(RuntimeError, match="first piece"):
        failing_piece()
    store(committed, second_id, week_of(second_id, shared))
    committed.commit()
    assert stored_blocks(committed, digests(shared)) == 1
    (read,) = plans.week_sessions(committed, user_id=second_id, week="2026-W47")
    assert read.planned.blocks[0] == shared


def test_a_session_naming_a_block_not_stored_is_reported(session: Session) -> None:
    user = new_user(session)
    store(session, user.id, week_of(user.id))
    row = session.get(PlannedSessionRow, (user.id, f"s-{user.id}"))
    assert row is not None
    row.blocks = ["0" * 32]
    session.add(row)
    session.flush()
    with pytest.raises(MissingBlock, match="0" * 32):
        plans.week_sessions(session, user_id=user.id, week="2026-W47")


def test_a_split_session_puts_together_as_pydantic_serializes_it() -> None:
    shared = new_block()
    planned = PlannedSession(
        id="x", date=date(2026, 11, 16), minutes=9, blocks=(shared, new_block(), shared)
    )
    split = blocks.split(planned)
    assert split.rest == planned.model_copy(update={"blocks": ()}).model_dump_json().encode()
    assert len(split.digests) == 3
    assert split.digests[0] == split.digests[2]
    assert split.whole(split.contents) == planned.__pydantic_serializer__.to_json(planned)


def test_the_module_imports_on_its_own() -> None:
    """Its table comes from `db.tables`, which it imports (a script that
    imports `db.plans` first once failed with a KeyError)."""
    found = subprocess.run(
        [sys.executable, "-c", "import db.blocks, db.plans"], capture_output=True, text=True
    )
    assert found.returncode == 0, found.stderr
