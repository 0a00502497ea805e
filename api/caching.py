"""In-process caches for the hot reads, kept correct across workers.

Each entry belongs to one topic (`db.changes`: `user:<id>`, `key:<id>`, or
none for what never changes, such as the exercise list). An entry leaves the
cache when its topic is announced:

- by this process, right after the announcing transaction commits (before
  its response is sent), so a client never reads its own write stale;
- by another process, when the watcher reports it: PostgreSQL delivers the
  NOTIFY at commit and every cached read polls for it first; SQLite readers
  check `PRAGMA data_version`, at most once a millisecond
  (`db.changes.SQLITE_POLL_INTERVAL_S`).

A read computed from the database may land in the cache only if its topic
was not announced while it was being computed (a per-topic generation taken
before, compared after), so a slow reader never stores what a concurrent
writer just replaced. When the watcher cannot tell what changed (connection
lost, first poll) the caches empty themselves and are bypassed until it can.
"""

from __future__ import annotations

import asyncio
import threading
from collections import OrderedDict
from collections.abc import AsyncIterator, Hashable, Iterable, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from typing import Any, NamedTuple

from sqlalchemy import Engine
from sqlmodel import Session
from starlette.datastructures import State

from db import changes
from db.changes import Watcher
from db.engine import reader

# Bounds the generations kept for topics announced since the last reset: past
# it, everything is dropped and counting starts over.
MAX_GENERATIONS = 100_000


class Stamp(NamedTuple):
    """The state of a topic before a computation: `put` compares it after."""

    epoch: int
    generation: int


@dataclass(frozen=True, slots=True)
class Body:
    """A serialized response body with its strong ETag."""

    content: bytes
    etag: str


class Caches:
    """A size-bounded LRU map from keys to values, each tied to a topic."""

    def __init__(self, *, max_bytes: int, watcher: Watcher | None) -> None:
        self.max_bytes = max_bytes
        self.watcher = watcher
        self._lock = threading.Lock()
        self._entries: OrderedDict[Hashable, tuple[str | None, Any, int]] = OrderedDict()
        self._by_topic: dict[str, set[Hashable]] = {}
        self._generations: dict[str, int] = {}
        self._counter = 0
        self._epoch = 0
        self._bytes = 0
        self._usable = max_bytes > 0

    @property
    def size_bytes(self) -> int:
        return self._bytes

    def __len__(self) -> int:
        return len(self._entries)

    def sync(self) -> bool:
        """Apply what other processes changed; False when the cache cannot
        be trusted now (it is then empty, and callers compute instead)."""
        if self.max_bytes <= 0:
            return False
        if self.watcher is None:
            return True
        topics = self.watcher.poll()
        if topics is None:
            self.clear()
            self._usable = False
            return False
        if not self._usable:
            # Back from not knowing: what was computed meanwhile may predate a
            # change nobody heard of, so none of it may land (a new epoch).
            self.clear()
            self._usable = True
        self.evict(topics)
        return True

    def stamp(self, topic: str | None) -> Stamp:
        with self._lock:
            generation = 0 if topic is None else self._generations.get(topic, 0)
            return Stamp(self._epoch, generation)

    def get(self, key: Hashable) -> Any:
        """The cached value, or None."""
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None
            self._entries.move_to_end(key)
            return entry[1]

    def put(self, key: Hashable, value: Any, *, topic: str | None, stamp: Stamp, size: int) -> bool:
        """Cache `value` unless its topic was announced since `stamp` was taken."""
        if not self._usable or size > self.max_bytes:
            return False
        with self._lock:
            current = 0 if topic is None else self._generations.get(topic, 0)
            if stamp != Stamp(self._epoch, current):
                return False
            self._remove(key)
            self._entries[key] = (topic, value, size)
            self._bytes += size
            if topic is not None:
                self._by_topic.setdefault(topic, set()).add(key)
            while self._bytes > self.max_bytes:
                self._remove(next(iter(self._entries)))
            return True

    def evict(self, topics: Iterable[str]) -> None:
        """Drop every entry of these topics and fail puts stamped before now."""
        with self._lock:
            for topic in topics:
                self._counter += 1
                self._generations[topic] = self._counter
                for key in self._by_topic.pop(topic, ()):
                    self._remove(key)
            if len(self._generations) > MAX_GENERATIONS:
                self._clear()

    def clear(self) -> None:
        with self._lock:
            self._clear()

    def close(self) -> None:
        if self.watcher is not None:
            self.watcher.close()

    def _clear(self) -> None:
        self._entries.clear()
        self._by_topic.clear()
        self._generations.clear()
        self._bytes = 0
        self._epoch += 1

    def _remove(self, key: Hashable) -> None:
        entry = self._entries.pop(key, None)
        if entry is None:
            return
        topic, _value, size = entry
        self._bytes -= size
        if topic is not None:
            keys = self._by_topic.get(topic)
            if keys is not None:
                keys.discard(key)
                if not keys:
                    del self._by_topic[topic]


@contextmanager
def transaction(engine: Engine, caches: Caches, *, read_first: bool = False) -> Iterator[Session]:
    """A session in one transaction: committed at the end, rolled back if the
    block raised. What it announced (`db.changes`) leaves the caches right
    after the commit, before any response about it is sent.

    `read_first`: for work that usually only reads. On SQLite it begins
    without the write lock, runs beside other readers and takes the lock at
    its first write; if another writer committed meanwhile, that write fails
    (`db.engine.lost_write_race`) and the caller runs the work again without
    `read_first`."""
    bind = reader(engine) if read_first else engine
    with Session(bind, expire_on_commit=False) as session:
        try:
            yield session
        except BaseException:
            session.rollback()
            changes.announced(session)
            raise
        session.commit()
        caches.evict(changes.announced(session))


@asynccontextmanager
async def write_turn(state: State) -> AsyncIterator[None]:
    """On SQLite, one writer at a time: requests that will write wait their
    turn here, on the event loop, before they take a thread. Waiting as
    threads instead, they took turns through the GIL and the engine's lock,
    about 3x slower under load. PostgreSQL writers run side by side."""
    lock: asyncio.Lock | None = getattr(state, "sqlite_writes", None)
    if lock is None:
        yield
        return
    async with lock:
        yield
