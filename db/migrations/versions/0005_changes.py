"""Changes: the latest change of each cached topic, for SQLite workers.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-21
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "changes",
        sa.Column("topic", sa.String(length=80), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("topic", name=op.f("pk_changes")),
    )
    op.create_index(op.f("ix_changes_seq"), "changes", ["seq"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_changes_seq"), table_name="changes")
    op.drop_table("changes")
