"""Sessions' blocks, each stored once, under the digest of its JSON.

A session is mostly its blocks (warm-up, stretching, strengthening, ...: each
exercise with its dosage, instructions, cues and cautions), about 9 KB of a
session's 9.4 on average, and the engine builds the same blocks for many
sessions and people (`programs.planner`): the bench's 200,000 sessions held
114 distinct ones. So a stored session keeps its own fields as JSON with an
empty block list (`planned_sessions.content`, about 190 bytes) and its
blocks' digests in order (`planned_sessions.blocks`); each distinct block is
one row of `session_blocks`. Spliced together (`SessionJson.whole`) they are
byte for byte the JSON pydantic makes of the whole session, as it is served.

A block's row never changes and is never deleted: a digest names exactly one
content, and a block says nothing about a person (erasing a person erases
their sessions, which name the blocks). Hence two process-wide caches that
stay correct across workers:

- a digest's content, from wherever it was seen (made here or read);
- which digests are stored, per database. A process learns that a block is stored when it
  reads it in a transaction that did not write it: then another, committed
  transaction did, and the row stays. A block written by this transaction
  may still be rolled back with it (or with a savepoint), so it is not
  counted until seen again. Storing a week writes only the blocks not known
  to be stored, after asking which of them already are (`store`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from weakref import WeakKeyDictionary

from pydantic_core import from_json
from sqlalchemy import Engine, Table, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session

from db.raw import Raw, transaction_memo
from db.tables import SessionBlock
from programs import Block, PlannedSession

_BLOCKS: Table = SessionBlock.__table__  # type: ignore[attr-defined]
_INSERT = {
    "sqlite": Raw(sqlite.insert(_BLOCKS).on_conflict_do_nothing()),
    "postgresql": Raw(postgresql.insert(_BLOCKS).on_conflict_do_nothing()),
}
# Bytes of BLAKE2b: 128 bits, as hex (32 characters, `SessionBlock.digest`).
DIGEST_BYTES = 16
# Bounds on the caches: past them a cache is emptied and fills again (a
# content is read again, a block asked about again). Blocks are ~2.8 KB.
MAX_CACHED = 1 << 14
# Digests this transaction wrote (`transaction_memo`): not yet known stored.
_WRITTEN = "blocks_written"

_content: dict[str, bytes] = {}
# Per database (its engine): a process may hold several, as the tests do.
_stored: WeakKeyDictionary[Engine, set[str]] = WeakKeyDictionary()
# Blocks serialized, by identity (the engine shares block objects between
# sessions): an entry holds its block, so that no other object takes its id
# while it is kept.
_by_identity: dict[int, tuple[Block, bytes, str]] = {}

_EMPTY = b'"blocks":[]'


class MissingBlock(LookupError):
    """A stored session names a block that is not stored: the store is damaged."""


@dataclass(frozen=True, slots=True)
class SessionJson:
    """A session as stored: its JSON without its blocks' content (`rest`,
    whose block list is empty) and its blocks' digests, in order."""

    rest: bytes
    digests: tuple[str, ...]

    def whole(self, contents: Mapping[str, bytes]) -> bytes:
        """The session's JSON, its blocks' `contents` spliced in."""
        return _splice(self.rest, [contents[digest] for digest in self.digests])


@dataclass(frozen=True, slots=True)
class SplitSession(SessionJson):
    """A session just split (`split`), with its blocks' content."""

    contents: Mapping[str, bytes]

    def json(self) -> bytes:
        """The session's JSON, exactly as served: its own blocks spliced in."""
        return self.whole(self.contents)


def _splice(rest: bytes, blocks: Sequence[bytes]) -> bytes:
    """`rest` with `blocks` as its block list. Keys are unique and a quote
    inside a string is escaped: the only `"blocks":[]` is the field's."""
    return rest.replace(_EMPTY, b'"blocks":[' + b",".join(blocks) + b"]", 1)


def digest_of(content: bytes) -> str:
    return hashlib.blake2b(content, digest_size=DIGEST_BYTES).hexdigest()


def split(planned: PlannedSession) -> SplitSession:
    """`planned` as stored, with its blocks' content."""
    rest = planned.model_copy(update={"blocks": ()})
    serialized = [_block_json(block) for block in planned.blocks]
    return SplitSession(
        rest=rest.__pydantic_serializer__.to_json(rest),
        digests=tuple(digest for digest, _content in serialized),
        contents=dict(serialized),
    )


def _block_json(block: Block) -> tuple[str, bytes]:
    found = _by_identity.get(id(block))
    if found is not None and found[0] is block:
        return found[2], found[1]
    content = block.__pydantic_serializer__.to_json(block)
    digest = digest_of(content)
    _bounded(_by_identity)[id(block)] = (block, content, digest)
    _bounded(_content)[digest] = content
    return digest, content


def _bounded(cache: Any) -> Any:
    """`cache` (a dict or a set), emptied first if it is full."""
    if len(cache) >= MAX_CACHED:
        cache.clear()
    return cache


def store(session: Session, contents: Mapping[str, bytes]) -> None:
    """Make sure each block of `contents` (digest: JSON) is stored once this
    transaction commits."""
    stored = _stored_in(session)
    unknown = {digest for digest in contents if digest not in stored}
    if not unknown:
        return
    rows = session.connection().execute(
        select(_BLOCKS.c.digest).where(_BLOCKS.c.digest.in_(sorted(unknown)))
    )
    present = {digest for (digest,) in rows}
    _seen(session, present)
    missing = sorted(unknown - present)
    if not missing:
        return
    dialect = session.get_bind().dialect.name
    # A concurrent transaction may be storing the same block: nothing is
    # inserted then (PostgreSQL waits for it to end, and inserts if it did not
    # commit).
    _INSERT[dialect].many(
        session, [{"digest": d, "content": contents[d].decode()} for d in missing]
    )
    transaction_memo(session).setdefault(_WRITTEN, set()).update(missing)


def load(session: Session, digests: Iterable[str]) -> dict[str, bytes]:
    """The content of each of `digests`, read if not cached; MissingBlock for
    one that is not stored."""
    contents: dict[str, bytes] = {}
    wanted: set[str] = set()
    for digest in digests:
        found = _content.get(digest)
        if found is None:
            wanted.add(digest)
        else:
            contents[digest] = found
    if not wanted:
        return contents
    rows = session.connection().execute(
        select(_BLOCKS.c.digest, _BLOCKS.c.content).where(_BLOCKS.c.digest.in_(sorted(wanted)))
    )
    read = {digest: _text(content).encode() for digest, content in rows}
    if len(read) != len(wanted):
        raise MissingBlock(f"blocks not stored: {sorted(wanted - set(read))}")
    _bounded(_content).update(read)
    _seen(session, read)
    return contents | read


def _seen(session: Session, digests: Iterable[str]) -> None:
    """`digests` were read in this transaction: stored for good, unless this
    transaction wrote them (see the module's docstring)."""
    written: set[str] = transaction_memo(session).get(_WRITTEN, set())
    _bounded(_stored_in(session)).update(digest for digest in digests if digest not in written)


def _stored_in(session: Session) -> set[str]:
    """The digests known to be stored in the session's database."""
    engine = session.get_bind()
    if not isinstance(engine, Engine):
        engine = engine.engine
    found = _stored.get(engine)
    if found is None:
        found = _stored.setdefault(engine, set())
    return found


def stored_json(session: Session, items: Sequence[tuple[Any, Any]]) -> list[bytes]:
    """Each (content, blocks) pair as read from `planned_sessions` turned
    into the session's whole JSON: `content` as text, `blocks` as JSON text
    (SQLite) or as the list psycopg decodes."""
    parsed = [SessionJson(_text(rest).encode(), tuple(_list(blocks))) for rest, blocks in items]
    contents = load(session, (digest for item in parsed for digest in item.digests))
    return [item.whole(contents) for item in parsed]


def slugs(session: Session, blocks: Any) -> frozenset[str]:
    """The slugs of the exercises in the blocks a session names."""
    contents = load(session, _list(blocks))
    return frozenset(
        exercise["slug"]
        for content in contents.values()
        for exercise in from_json(content)["exercises"]
    )


def _text(value: Any) -> str:
    """A text column's value (or JSON read as text, a CAST), as both drivers give it."""
    if isinstance(value, str):
        return value
    raise TypeError(f"stored session content read as {type(value).__name__}, not as text")


def _list(value: Any) -> list[str]:
    """A JSON list column's value: SQLite gives its text, psycopg decodes it."""
    found: list[str] = from_json(value) if isinstance(value, str) else value
    return found


def known_stored(session: Session, digests: Iterable[str]) -> frozenset[str]:
    """Which of `digests` this process knows to be stored in the session's database."""
    stored = _stored_in(session)
    return frozenset(digest for digest in digests if digest in stored)
