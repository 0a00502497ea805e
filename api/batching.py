"""Group commit: the writes of requests that arrive together commit together.

Reporting a session done is the most frequent write, and most of its cost
was not its own statements but what surrounds them: a thread hop, BEGIN,
COMMIT (on SQLite, the WAL write and now and then a checkpoint; on
PostgreSQL, a round trip and a WAL flush), and on SQLite the wait for the
single writer's turn. `GroupCommit.run` queues a request's work; one thread
hop then runs every queued piece of work in one transaction and commits once.

A batch first runs optimistically: all its work in one transaction, without
savepoints (on PostgreSQL a savepoint costs two statements and a round trip
per request). If anything in it fails, all of it is rolled back and the batch
runs again, each piece in its own savepoint, as below; so does the batch after
one in which a piece failed. Work must therefore be safe to run again: it
acts on the database only, and builds its answer from what it read.

What each request sees is unchanged:
- an error in its work rolls back its statements only (in the second run,
  in its own savepoint), and the request gets that error (and may answer it
  or go on to the route, as `api.hot` does);
- its answer is given only once the transaction that holds its work has
  committed, so nothing is acknowledged that could still be lost; if the
  commit fails, every request of the batch gets the error and nothing of the
  batch was written;
- what the batch announced (`db.changes`) leaves the caches right after the
  commit, before any of its requests answers (`api.caching.transaction`).

On PostgreSQL a batch is one pipeline (`db.raw.pipeline`): a completion
takes one round trip to the server (its session's read; its writes ride
along with the next piece's read) instead of nine; two when it runs in a
savepoint (its writes are synced as the savepoint ends).

On SQLite one batch runs at a time, in the writer's turn
(`api.caching.write_turn`); on PostgreSQL up to `GroupCommit.concurrent` run side
by side, each on its own connection.

An optimistic batch of completions, or of first serves, also defers what
its pieces only send (`db.raw.deferred`): each of its statements then runs
once for the whole batch, with every piece's row (executemany), as the batch
ends. Pieces that write the same thing twice are caught: the first one's
insert breaks the second one's key, and a piece that reads what an earlier
piece may have written runs what waits before it reads (`db.completions`,
`db.plans`). Run again piece by piece, nothing is deferred.

An optimistic batch may read ahead for its pieces (`GroupCommit.read_ahead`):
each piece is queued with a hint of what it will read, and the batch reads
all of it at once before the first piece runs, in one round trip on
PostgreSQL instead of one per piece (`db.completions.read_targets`: a
completion's session). A piece uses what was read ahead only if no piece
before it in the transaction wrote there; otherwise it reads again. Run
again piece by piece, each piece reads for itself.

Two kinds of work are batched, each by a `GroupCommit` of its own
(`api.main`): completions, which write through `db.raw` only and so run in a
pipeline on PostgreSQL; and the first serve of a week that has begun, which
stores it (`api.reads`). Planning may go through the ORM on rarer paths (a
program start set, an eased session replaced), which reads each result as
it goes: those batches run without a pipeline (`pipelined=False`). Either
way, a request's ORM writes are flushed inside its savepoint, and after a
request failed the ORM forgets every object it held, so no pending or
rolled-back object of that request reaches another's savepoint or the commit.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from typing import Any

from sqlmodel import Session
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import State

from api.caching import transaction, write_turn
from db.raw import deferred, pipeline, savepoint

# At most this many requests' work in one transaction: a batch holds SQLite's
# writer for its whole length, and one failed commit fails all of it.
MAX_BATCH = 64
# PostgreSQL batches at once by default (SQLite: one, its single writer): one
# can fill while the other waits on a round trip or its commit's WAL flush.
# Measured against 1, 4 and 8 on 2 cores: fewer, larger batches commit less
# often. Completions run one at a time (`api.main`).
CONCURRENT_BATCHES = 2

# Work's savepoint is the driver's (`db.raw.savepoint`), which the ORM's
# objects know nothing of (see the module's docstring). In a pipelined batch
# (`db.raw.pipeline`) it reads and writes through `db.raw` only: the
# statements it only sends ride along with the next one it reads.
Work = Callable[[Session], Any]
# Reads, in the batch's transaction before its first piece runs, what the
# pieces' hints name (None for a piece without one), for them to find.
ReadAhead = Callable[[Session, Sequence[Any]], None]


@dataclass(eq=False)
class _Pending:
    work: Work
    done: asyncio.Future[Any]
    hint: Any = None


@dataclass(eq=False)
class GroupCommit:
    """Runs queued work in shared transactions; see the module's docstring."""

    state: State
    pipelined: bool = True
    # Optimistic batches defer what the work only sends (`db.raw.deferred`).
    defers_sends: bool = False
    read_ahead: ReadAhead | None = None
    # Batches at once on PostgreSQL (SQLite: one, its single writer).
    concurrent: int = CONCURRENT_BATCHES
    _queue: list[_Pending] = field(default_factory=list)
    _draining: int = 0  # drainers running
    _careful: bool = False  # the last batch had a failing piece
    _tasks: set[asyncio.Task[None]] = field(default_factory=set)  # held, not collected

    async def run(self, work: Work, *, hint: Any = None) -> Any:
        """`work(session)`'s result once its transaction committed, or the
        error it (or the commit) raised. `hint`: what the work will read, for
        `read_ahead`."""
        done: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._queue.append(_Pending(work, done, hint))
        limit = 1 if self.state.sqlite_writes is not None else self.concurrent
        if self._draining < limit:
            self._draining += 1
            task = asyncio.create_task(self._drain())
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        return await done

    async def _drain(self) -> None:
        # A drainer stops, and counts itself out, in the same step of the
        # event loop in which it finds the queue empty: work queued after
        # that starts a drainer of its own.
        try:
            while self._queue:
                async with write_turn(self.state):
                    batch = self._queue[:MAX_BATCH]
                    del self._queue[:MAX_BATCH]
                    if not batch:
                        continue
                    try:
                        outcomes = await run_in_threadpool(
                            self._commit, [p.work for p in batch], [p.hint for p in batch]
                        )
                    except Exception as error:
                        outcomes = [(False, error)] * len(batch)
                for pending, (ok, value) in zip(batch, outcomes, strict=True):
                    if pending.done.done():  # the request went away meanwhile
                        continue
                    if ok:
                        pending.done.set_result(value)
                    else:
                        pending.done.set_exception(value)
        finally:
            self._draining -= 1

    def _commit(self, batch: list[Work], hints: Sequence[Any] = ()) -> list[tuple[bool, Any]]:
        if not self._careful:
            try:
                results = self._at_once(batch, hints)
            except Exception:  # a piece failed, or the commit: find out below
                pass
            else:
                return [(True, result) for result in results]
        outcomes = self._one_by_one(batch)
        # After a failing piece, the next batch goes one by one at once.
        self._careful = not all(ok for ok, _value in outcomes)
        return outcomes

    def _at_once(self, batch: list[Work], hints: Sequence[Any] = ()) -> list[Any]:
        """Every piece in one transaction, without savepoints; any error rolls
        back all of it. In a pipeline, what the pieces only sent is synced as
        the pipeline ends, before the commit."""
        engine, caches = self.state.engine, self.state.caches
        with transaction(engine, caches) as session, self._pipeline(session):
            if self.read_ahead is not None and any(hint is not None for hint in hints):
                self.read_ahead(session, hints)
            with deferred(session) if self.defers_sends else nullcontext():
                results = [work(session) for work in batch]
            session.flush()
        return results

    def _one_by_one(self, batch: list[Work]) -> list[tuple[bool, Any]]:
        """Every piece in a savepoint of its own: a failing piece rolls back
        alone and gets its own error."""
        outcomes: list[tuple[bool, Any]] = []
        engine, caches = self.state.engine, self.state.caches
        with transaction(engine, caches) as session, self._pipeline(session):
            for work in batch:
                try:
                    with savepoint(session):  # in a pipeline, its errors come up as it ends
                        result = work(session)
                        session.flush()  # its ORM writes, if any, in its savepoint
                except Exception as error:  # handed to its request
                    session.expunge_all()  # objects of writes just rolled back
                    outcomes.append((False, error))
                else:
                    outcomes.append((True, result))
        return outcomes

    def _pipeline(self, session: Session) -> AbstractContextManager[None]:
        return pipeline(session) if self.pipelined else nullcontext()
