"""Daily counts for everyone, per site and per department, questionnaire answers among them, read from the key's index.

The table is a rollup: it is recreated empty with its new key, and the recorded course fingerprint is forgotten, so
that `speak-digital db upgrade` (or the first dashboard view) rebuilds it from the recorded progress.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-21 14:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _counts() -> list[sa.Column[object]]:
    return [
        sa.Column("measure", sa.String(length=30), nullable=False),
        sa.Column("subject", sa.String(length=60), nullable=False),
        sa.Column("detail", sa.String(length=60), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.Column("total", sa.Integer(), nullable=False),
    ]


def upgrade() -> None:
    """Apply this migration."""
    op.drop_table("daily_counts")
    op.create_table(
        "daily_counts",
        sa.Column("site", sa.String(length=80), nullable=False),
        sa.Column("department", sa.String(length=120), nullable=False),
        *_counts(),
        sa.PrimaryKeyConstraint(
            "site", "department", "measure", "subject", "detail", "day", name=op.f("pk_daily_counts"), postgresql_include=["n", "total"]
        ),
    )
    op.execute("DELETE FROM statistics_state WHERE name = 'course'")


def downgrade() -> None:
    """Revert this migration."""
    op.drop_table("daily_counts")
    op.create_table(
        "daily_counts", *_counts(), sa.PrimaryKeyConstraint("measure", "subject", "detail", "day", name=op.f("pk_daily_counts"))
    )
    op.execute("DELETE FROM statistics_state WHERE name = 'course'")
