"""Daily counts for everyone, per site and per department, read from the key's index; each learner's summary on their row.

Both are rollups: the daily counts are recreated empty with their new key, the summary columns are added empty in
place of the learner_stats table with the version of the course each learner is counted under, and the recorded
course fingerprint is forgotten, so that `speak-digital db upgrade` (or the first dashboard view) rebuilds them from
the recorded progress.

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


def _learner_summary() -> list[sa.Column[object]]:
    return [
        sa.Column("first_opened_at", sa.DateTime(), nullable=True),
        sa.Column("last_viewed_at", sa.DateTime(), nullable=True),
        sa.Column("modules_done", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("last_completed_at", sa.DateTime(), nullable=True),
        sa.Column("statistics_version", sa.Integer(), nullable=True),
    ]


def upgrade() -> None:
    """Apply this migration."""
    op.drop_table("learner_stats")
    with op.batch_alter_table("users", schema=None) as batch_op:
        for column in _learner_summary():
            batch_op.add_column(column)
        batch_op.create_index(batch_op.f("ix_users_statistics_version"), ["statistics_version"], unique=False)
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
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_users_statistics_version"))
        for column in _learner_summary():
            batch_op.drop_column(column.name)
    op.create_table(
        "learner_stats",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("first_opened_at", sa.DateTime(), nullable=False),
        sa.Column("last_viewed_at", sa.DateTime(), nullable=False),
        sa.Column("modules_done", sa.Integer(), nullable=False),
        sa.Column("last_completed_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_learner_stats_user_id_users")),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_learner_stats")),
    )
    op.drop_table("daily_counts")
    op.create_table(
        "daily_counts", *_counts(), sa.PrimaryKeyConstraint("measure", "subject", "detail", "day", name=op.f("pk_daily_counts"))
    )
    op.execute("DELETE FROM statistics_state WHERE name = 'course'")
