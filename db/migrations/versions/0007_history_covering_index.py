"""Planned sessions: a covering index for a person's history.

Every plan and progress report replays the person's stored sessions in date
order (`db.plans.load_history`), reading only their dates, ids and volumes.
Found through (user_id, week), each row was read from the table, and on
SQLite that meant walking the overflow pages of the session's content (about
9 KB, stored before the volumes) to reach the volumes: half of the page reads
of a first-time plan. This index holds everything the history reads, in the
order it reads it.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-22
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_planned_sessions_history",
        "planned_sessions",
        ["user_id", "date", "position", "id", "aerobic_minutes", "strength_seconds"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_planned_sessions_history", table_name="planned_sessions")
