"""Group commit (`api.batching`): work queued together commits together, a
failing piece rolls back alone, and nobody hears of a write before it committed."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlmodel import Session
from starlette.datastructures import State

from api import batching
from api.batching import GroupCommit
from api.caching import Caches
from db import raw
from db.engine import make_engine
from db.raw import Raw
from tests.conftest import postgres_database
from tests.db.test_raw_deferred import runs_counted


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def scratch(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """An engine on a new database holding one table, `notes (id, body)`."""
    with ExitStack() as stack:
        if request.param == "sqlite":
            url = f"sqlite:///{tmp_path}/batching.db"
        else:
            admin_url = request.getfixturevalue("postgres_admin_url")
            url = stack.enter_context(postgres_database(admin_url))
        engine = make_engine(url)
        stack.callback(engine.dispose)
        with engine.begin() as connection:
            connection.execute(text("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)"))
        yield engine


def group_commit(
    engine: Engine,
    *,
    pipelined: bool = True,
    defers_sends: bool = False,
    concurrent: int = batching.CONCURRENT_BATCHES,
) -> GroupCommit:
    state = State()
    state.engine = engine
    state.caches = Caches(max_bytes=10_000, watcher=None)
    state.sqlite_writes = asyncio.Lock() if engine.dialect.name == "sqlite" else None
    return GroupCommit(state, pipelined=pipelined, defers_sends=defers_sends, concurrent=concurrent)


INSERT_NOTE = Raw(text("INSERT INTO notes (id, body) VALUES (:id, :body)"))
COUNT_NOTES = Raw(text("SELECT count(*) FROM notes"))


def note(number: int, body: str = "ok") -> Callable[[Session], int]:
    def work(session: Session) -> int:
        INSERT_NOTE.send(session, {"id": number, "body": body})
        if body == "fail":
            raise ValueError(f"note {number} failed after writing")
        COUNT_NOTES.first(session)  # a read: in a pipeline, the insert's error shows here
        return number

    return work


def stored(engine: Engine) -> list[int]:
    with engine.connect() as connection:
        return [row[0] for row in connection.execute(text("SELECT id FROM notes ORDER BY id"))]


def commits_counted(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The number of pieces of work in each transaction GroupCommit committed."""
    sizes: list[int] = []
    original = GroupCommit._commit

    def counted(
        self: GroupCommit, batch: list[Any], hints: Sequence[Any] = ()
    ) -> list[tuple[bool, Any]]:
        sizes.append(len(batch))
        return original(self, batch, hints)

    monkeypatch.setattr(GroupCommit, "_commit", counted)
    return sizes


def test_work_queued_together_commits_together(
    scratch: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    sizes = commits_counted(scratch, monkeypatch)
    commit = group_commit(scratch)

    async def main() -> list[int]:
        return list(await asyncio.gather(*(commit.run(note(n)) for n in range(1, 21))))

    assert asyncio.run(main()) == list(range(1, 21))
    assert stored(scratch) == list(range(1, 21))
    assert sum(sizes) == 20
    assert len(sizes) < 20  # shared transactions: here the first alone, then the rest
    assert max(sizes) <= batching.MAX_BATCH


@pytest.mark.parametrize("concurrent", [1, 2])
def test_batches_run_side_by_side_up_to_the_limit_on_postgresql_only(
    scratch: Engine, monkeypatch: pytest.MonkeyPatch, concurrent: int
) -> None:
    """Work queued while a batch runs starts a batch of its own beside it
    while fewer than `concurrent` run (PostgreSQL); SQLite runs one at a time."""
    side_by_side = 1 if scratch.dialect.name == "sqlite" else concurrent
    running: list[int] = []
    most = [0]
    lock = threading.Lock()
    first_started, second_started, release = (threading.Event() for _ in range(3))
    original = GroupCommit._commit

    def counted(
        self: GroupCommit, batch: list[Any], hints: Sequence[Any] = ()
    ) -> list[tuple[bool, Any]]:
        with lock:
            running.append(1)
            most[0] = max(most[0], len(running))
            if len(running) == 2:
                second_started.set()
        try:
            return original(self, batch, hints)
        finally:
            with lock:
                running.pop()

    monkeypatch.setattr(GroupCommit, "_commit", counted)
    commit = group_commit(scratch, concurrent=concurrent)

    def first(session: Session) -> int:
        first_started.set()
        release.wait(timeout=10)
        return note(1)(session)

    async def main() -> list[int]:
        head = asyncio.ensure_future(commit.run(first))
        await asyncio.to_thread(first_started.wait, 10)
        rest = asyncio.gather(*(commit.run(note(n)) for n in range(2, 6)))
        if side_by_side == 2:
            await asyncio.to_thread(second_started.wait, 10)
        else:  # the rest waits for the first batch: give it time to (wrongly) start
            await asyncio.sleep(0.05)
        release.set()
        return [await head, *await rest]

    assert asyncio.run(main()) == [1, 2, 3, 4, 5]
    assert stored(scratch) == [1, 2, 3, 4, 5]
    assert most[0] == side_by_side


def test_a_failing_piece_rolls_back_alone(scratch: Engine) -> None:
    commit = group_commit(scratch)

    async def main() -> list[Any]:
        works = [note(1), note(2, "fail"), note(3)]
        return list(await asyncio.gather(*(commit.run(w) for w in works), return_exceptions=True))

    one, two, three = asyncio.run(main())
    assert (one, three) == (1, 3)
    assert isinstance(two, ValueError)
    assert "note 2" in str(two)
    assert stored(scratch) == [1, 3]  # its insert was rolled back, the others' kept


def test_a_failed_commit_fails_every_piece_and_writes_nothing(
    scratch: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    commit = group_commit(scratch)
    original = Session.commit

    def broken(self: Session) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr(Session, "commit", broken)

    async def main() -> list[Any]:
        return list(
            await asyncio.gather(*(commit.run(note(n)) for n in (1, 2, 3)), return_exceptions=True)
        )

    answers = asyncio.run(main())
    assert all(isinstance(answer, RuntimeError) for answer in answers)
    monkeypatch.setattr(Session, "commit", original)
    assert stored(scratch) == []


def test_work_after_a_quiet_spell_still_runs(scratch: Engine) -> None:
    commit = group_commit(scratch)

    async def main() -> list[int]:
        first = await commit.run(note(1))
        await asyncio.sleep(0)
        second = await commit.run(note(2))
        rest = await asyncio.gather(commit.run(note(3)), commit.run(note(4)))
        return [first, second, *rest]

    assert asyncio.run(main()) == [1, 2, 3, 4]
    assert stored(scratch) == [1, 2, 3, 4]


def test_a_database_error_rolls_back_its_piece_alone(scratch: Engine) -> None:
    commit = group_commit(scratch)

    async def main() -> list[Any]:
        works = [note(1), note(1, "again"), note(3)]  # the second breaks the key
        return list(await asyncio.gather(*(commit.run(w) for w in works), return_exceptions=True))

    one, two, three = asyncio.run(main())
    assert (one, three) == (1, 3)
    assert isinstance(two, IntegrityError)
    assert stored(scratch) == [1, 3]


# --- Work that writes through the ORM (unpipelined batches: `api.reads`) -----------


class _Base(DeclarativeBase):
    """A registry of its own: the service's tables (SQLModel's) stay as they are."""


class Note(_Base):
    __tablename__ = "notes"
    id: Mapped[int] = mapped_column(primary_key=True)
    body: Mapped[str | None]


def orm_note(number: int, *, then: str = "return") -> Callable[[Session], int]:
    """Add a note through the ORM, unflushed; then return, or raise ("raise"),
    or read through the ORM (which flushes what is pending) and raise
    ("flush and raise")."""

    def work(session: Session) -> int:
        session.add(Note(id=number, body="orm"))
        if then == "flush and raise":
            session.get(Note, 10_000)  # autoflush: pending writes go out here
        if then != "return":
            raise ValueError(f"note {number} failed")
        return number

    return work


def test_orm_writes_of_a_failed_piece_reach_no_other_piece_nor_the_commit(
    scratch: Engine,
) -> None:
    commit = group_commit(scratch, pipelined=False)

    async def main() -> list[Any]:
        works = [orm_note(1, then="raise"), orm_note(2), note(3)]
        return list(await asyncio.gather(*(commit.run(w) for w in works), return_exceptions=True))

    one, two, three = asyncio.run(main())
    assert isinstance(one, ValueError)
    assert (two, three) == (2, 3)
    # Note 1 was never flushed: left pending, the next flush would have written it.
    assert stored(scratch) == [2, 3]


def test_orm_writes_of_a_piece_are_kept_when_a_later_piece_fails(scratch: Engine) -> None:
    commit = group_commit(scratch, pipelined=False)

    async def main() -> list[Any]:
        works = [orm_note(1), orm_note(2, then="flush and raise"), orm_note(3)]
        return list(await asyncio.gather(*(commit.run(w) for w in works), return_exceptions=True))

    one, two, three = asyncio.run(main())
    assert (one, three) == (1, 3)
    assert isinstance(two, ValueError)
    # Note 1 went out in its own savepoint, not with note 2's flush (whose
    # rollback would have taken it along).
    assert stored(scratch) == [1, 3]


# --- Optimistic batches: savepoints only when a piece fails ----------------------


def savepoints_counted(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """One entry per savepoint GroupCommit opens."""
    opened: list[int] = []
    original = raw.savepoint

    def counted(session: Session) -> Any:
        opened.append(1)
        return original(session)

    monkeypatch.setattr(batching, "savepoint", counted)
    return opened


def sent_only(number: int) -> Callable[[Session], int]:
    """An insert whose outcome nothing reads: in a pipeline its error, if any,
    comes up only when the pipeline is synced."""

    def work(session: Session) -> int:
        INSERT_NOTE.send(session, {"id": number, "body": "sent"})
        return number

    return work


def test_a_batch_in_which_nothing_fails_takes_no_savepoint(
    scratch: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    opened = savepoints_counted(monkeypatch)
    commit = group_commit(scratch)
    assert commit._commit([note(n) for n in range(1, 11)]) == [(True, n) for n in range(1, 11)]
    assert opened == []
    assert stored(scratch) == list(range(1, 11))


def test_after_a_failing_piece_the_batch_and_the_next_go_one_by_one(
    scratch: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    opened = savepoints_counted(monkeypatch)
    commit = group_commit(scratch)
    first = commit._commit([note(1), note(2, "fail"), note(3)])
    assert first[0] == (True, 1)
    assert first[2] == (True, 3)
    assert isinstance(first[1][1], ValueError)
    assert len(opened) == 3  # run again, a savepoint each
    assert commit._commit([note(4), note(5)]) == [(True, 4), (True, 5)]
    assert len(opened) == 5  # the next batch: one by one at once
    assert commit._commit([note(6)]) == [(True, 6)]
    assert len(opened) == 5  # a clean batch since: optimistic again
    assert stored(scratch) == [1, 3, 4, 5, 6]


def test_an_error_that_comes_up_only_at_the_end_goes_to_its_piece(scratch: Engine) -> None:
    commit = group_commit(scratch)
    assert commit._commit([note(1)]) == [(True, 1)]
    outcomes = commit._commit([note(2), sent_only(3), sent_only(1)])  # the last breaks the key
    assert outcomes[:2] == [(True, 2), (True, 3)]
    ok, error = outcomes[2]
    assert not ok
    assert isinstance(error, IntegrityError)
    assert stored(scratch) == [1, 2, 3]


def test_a_deferring_batch_runs_what_its_pieces_send_once_for_all(
    scratch: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    runs = runs_counted(monkeypatch)
    commit = group_commit(scratch, defers_sends=True)
    assert commit._commit([sent_only(n) for n in range(1, 11)]) == [(True, n) for n in range(1, 11)]
    assert runs == [10]
    assert stored(scratch) == list(range(1, 11))


def test_a_key_a_deferred_insert_breaks_fails_only_its_piece(
    scratch: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    opened = savepoints_counted(monkeypatch)
    commit = group_commit(scratch, defers_sends=True)
    outcomes = commit._commit([sent_only(1), sent_only(2), sent_only(1), sent_only(3)])
    assert len(opened) == 4  # run again, piece by piece, nothing deferred
    assert [outcome[0] for outcome in outcomes] == [True, True, False, True]
    assert isinstance(outcomes[2][1], IntegrityError)
    assert stored(scratch) == [1, 2, 3]


def test_a_batch_reads_ahead_for_its_hinted_pieces_before_they_run(scratch: Engine) -> None:
    """The hints reach `read_ahead` once, in the batch's transaction, before
    its first piece; run again piece by piece, a batch does not read ahead,
    nor does one without hints."""
    seen: list[tuple[list[Any], int]] = []

    def read_ahead(session: Session, hints: Sequence[Any]) -> None:
        found = COUNT_NOTES.first(session)
        assert found is not None
        seen.append((list(hints), found[0]))

    commit = group_commit(scratch)
    commit.read_ahead = read_ahead
    works = [note(1), note(2), note(3)]
    assert commit._commit(works, ["h1", None, "h3"]) == [(True, 1), (True, 2), (True, 3)]
    assert seen == [(["h1", None, "h3"], 0)]
    outcomes = commit._commit([note(4), note(5, "fail")], ["h4", "h5"])
    assert [ok for ok, _value in outcomes] == [True, False]
    assert seen[1:] == [(["h4", "h5"], 3)]  # the optimistic run's, rolled back
    assert commit._commit([note(6)], ["h6"]) == [(True, 6)]  # after a failure: one by one
    assert commit._commit([note(7)], [None]) == [(True, 7)]
    assert len(seen) == 2
    assert stored(scratch) == [1, 2, 3, 4, 6, 7]
