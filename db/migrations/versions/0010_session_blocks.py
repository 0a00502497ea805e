"""Planned sessions: their blocks stored once each, by digest.

A stored session was about 9.4 KB of JSON, of which some 9 KB its blocks
(each exercise with its dosage, instructions, cues and cautions); the same
blocks recur in session after session and person after person (the bench's
200,000 sessions held 114 distinct ones). At 100,000 people the SQLite file
was 30 GB, far more than the page cache of the machines we run on, and the
uncached paths' latency grew with it; every first-time plan wrote ~45 KB.

Now a session row keeps its own fields as JSON with an empty block list
(`content`, about 190 bytes) and its blocks' digests in order (`blocks`);
`session_blocks` holds each distinct block once, under the BLAKE2b-128 digest
of its JSON (`db.blocks`). The JSON is the compact form pydantic writes,
which `json.dumps` with these separators reproduces byte for byte; so the
stored rows are split here as the service splits new ones, and put together
again on downgrade.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-22
"""

import hashlib
import json
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Rows split or joined per statement round.
CHUNK = 500
DIGEST_BYTES = 16
_EMPTY = '"blocks":[]'


def _dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def _json_param(name: str) -> str:
    """A bound JSON text: cast on PostgreSQL; SQLite keeps the text (a CAST
    to an unknown type there would take it as a number)."""
    return f"CAST(:{name} AS JSON)" if op.get_bind().dialect.name == "postgresql" else f":{name}"


def _rows(after: tuple[str, str] | None) -> list[Any]:
    """The next chunk of sessions after the key `after`, in key order."""
    where = "" if after is None else "WHERE (user_id, id) > (:user_id, :id) "
    params = {} if after is None else {"user_id": after[0], "id": after[1]}
    statement = sa.text(
        "SELECT user_id, id, CAST(content AS TEXT), CAST(blocks AS TEXT) "
        f"FROM planned_sessions {where}ORDER BY user_id, id LIMIT {CHUNK}"
    )
    return list(op.get_bind().execute(statement, params))


def _each_chunk() -> Any:
    after = None
    while rows := _rows(after):
        yield rows
        after = (rows[-1][0], rows[-1][1])


def upgrade() -> None:
    op.create_table(
        "session_blocks",
        sa.Column("digest", sa.String(length=32), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("digest", name=op.f("pk_session_blocks")),
    )
    with op.batch_alter_table("planned_sessions") as batch:
        batch.add_column(
            sa.Column("blocks", sa.JSON(), nullable=False, server_default=sa.text("'[]'"))
        )
    bind = op.get_bind()
    insert = sa.text(
        "INSERT INTO session_blocks (digest, content) VALUES (:digest, :content) "
        "ON CONFLICT (digest) DO NOTHING"
    )
    update = sa.text(
        f"UPDATE planned_sessions SET content = {_json_param('content')}, "
        f"blocks = {_json_param('blocks')} WHERE user_id = :user_id AND id = :id"
    )
    for rows in _each_chunk():
        found: dict[str, str] = {}
        changed = []
        for user_id, session_id, content, _blocks in rows:
            session = json.loads(content)
            digests = []
            for block in session["blocks"]:
                text = _dumps(block)
                digest = hashlib.blake2b(text.encode(), digest_size=DIGEST_BYTES).hexdigest()
                found[digest] = text
                digests.append(digest)
            session["blocks"] = []
            changed.append(
                {
                    "user_id": user_id,
                    "id": session_id,
                    "content": _dumps(session),
                    "blocks": _dumps(digests),
                }
            )
        if found:
            bind.execute(insert, [{"digest": d, "content": c} for d, c in found.items()])
        bind.execute(update, changed)
    with op.batch_alter_table("planned_sessions") as batch:
        batch.alter_column("blocks", existing_type=sa.JSON(), server_default=None)


def downgrade() -> None:
    bind = op.get_bind()
    found = bind.execute(sa.text("SELECT digest, content FROM session_blocks"))
    contents: dict[str, str] = {row[0]: row[1] for row in found}
    update = sa.text(
        f"UPDATE planned_sessions SET content = {_json_param('content')} "
        "WHERE user_id = :user_id AND id = :id"
    )
    for rows in _each_chunk():
        changed = []
        for user_id, session_id, content, blocks in rows:
            joined = ",".join(contents[digest] for digest in json.loads(blocks))
            whole = content.replace(_EMPTY, f'"blocks":[{joined}]', 1)
            changed.append({"user_id": user_id, "id": session_id, "content": whole})
        bind.execute(update, changed)
    with op.batch_alter_table("planned_sessions") as batch:
        batch.drop_column("blocks")
    op.drop_table("session_blocks")
