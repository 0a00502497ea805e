"""Planned sessions: on SQLite, a covering index for reporting a session done.

A completion reads its session's date by (user_id, id) (`db.completions`'s
target). SQLite keeps each session's content (about 9 KB) in its table row,
so that lookup read a table page per session, and at 100,000 people the
table (29 GB) no longer fits in memory: completions grew to 1.84 times their
p50 at 1,000 people. This index holds what the lookup reads, a few dozen
bytes a session. PostgreSQL keeps the content out of line (TOAST), so its
rows are small, and its completions stayed within 1.22 times: no index there.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-22
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.create_index(
            "ix_planned_sessions_target",
            "planned_sessions",
            ["user_id", "id", "date"],
            unique=False,
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.drop_index("ix_planned_sessions_target", table_name="planned_sessions")
