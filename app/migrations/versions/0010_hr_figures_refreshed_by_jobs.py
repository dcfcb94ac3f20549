"""The HR figures become the HR wing's own tables, brought up to date by background jobs from what is recorded.

Learners' progress summaries leave `users` for `hr_learners`, which holds each counted learner as they were when
last counted; `hr_contributions` holds what each contributed to `daily_counts`. The tables the figures read gain an
`updated_at` (left empty on existing rows: the first refresh counts everything), by which the refresh job finds the
learners who changed. The figures are forgotten: the first refresh job builds them again.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03 14:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CHANGED_TABLES = ("users", "module_progress", "quiz_attempts", "bookings", "session_feedback")
HR_LEARNER_FIGURES = ["birth_year", "joined_at", "first_opened_at", "last_viewed_at", "modules_done", "last_completed_at"]
OLD_LEARNER_FIGURES = ["birth_year", "created_at", "first_opened_at", "last_viewed_at", "modules_done", "last_completed_at"]
ACTIVE_LEARNERS = "role = 'learner' AND active IS true"
CONTRIBUTION_COLUMNS = ["measure", "subject", "detail", "day", "n", "total"]
ANSWERED = "measure = 'feedback_suited'"
OLD_INDEXES = (("ix_learners_by_site", ["site", "department"]), ("ix_learners_by_department", ["department", "site"]))


def _old_summary() -> list[sa.Column[object]]:
    return [
        sa.Column("first_opened_at", sa.DateTime(), nullable=True),
        sa.Column("last_viewed_at", sa.DateTime(), nullable=True),
        sa.Column("modules_done", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("last_completed_at", sa.DateTime(), nullable=True),
        sa.Column("statistics_version", sa.Integer(), nullable=True),
    ]


def _forget_figures() -> None:
    op.execute("DELETE FROM daily_counts")
    op.execute("DELETE FROM statistics_state")


def upgrade() -> None:
    """Apply this migration."""
    with op.batch_alter_table("users", schema=None) as batch_op:
        for name, _keys in OLD_INDEXES:
            batch_op.drop_index(name)
        batch_op.drop_index("ix_users_statistics_version")
        for column in _old_summary():
            batch_op.drop_column(column.name)
    for table in CHANGED_TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column("updated_at", sa.DateTime(), nullable=True))
            batch_op.create_index(f"ix_{table}_updated_at", ["updated_at"], unique=False)
    op.create_table(
        "hr_learners",
        sa.Column("user_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("site", sa.String(length=80), nullable=False),
        sa.Column("department", sa.String(length=120), nullable=True),
        sa.Column("birth_year", sa.Integer(), nullable=True),
        sa.Column("joined_at", sa.DateTime(), nullable=False),
        sa.Column("first_opened_at", sa.DateTime(), nullable=True),
        sa.Column("last_viewed_at", sa.DateTime(), nullable=True),
        sa.Column("modules_done", sa.Integer(), nullable=False),
        sa.Column("last_completed_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_hr_learners")),
    )
    op.create_index("ix_hr_learners_site", "hr_learners", ["site", "department"], unique=False, postgresql_include=HR_LEARNER_FIGURES)
    op.create_index("ix_hr_learners_department", "hr_learners", ["department", "site"], unique=False, postgresql_include=HR_LEARNER_FIGURES)
    op.create_table(
        "hr_contributions",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("measure", sa.String(length=30), nullable=False),
        sa.Column("subject", sa.String(length=60), nullable=False),
        sa.Column("detail", sa.String(length=60), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.Column("total", sa.Integer(), nullable=False),
    )
    op.create_index("ix_hr_contributions_user_id", "hr_contributions", ["user_id"], unique=False, postgresql_include=CONTRIBUTION_COLUMNS)
    op.create_index(
        "ix_hr_contributions_answered", "hr_contributions", ["user_id", "subject", "day"], unique=False,
        postgresql_where=sa.text(ANSWERED), sqlite_where=sa.text(ANSWERED),
    )  # fmt: skip
    _forget_figures()


def downgrade() -> None:
    """Revert this migration: the summaries return to `users`, empty, and the old code rebuilds every figure."""
    op.drop_index("ix_hr_contributions_answered", table_name="hr_contributions")
    op.drop_index("ix_hr_contributions_user_id", table_name="hr_contributions")
    op.drop_table("hr_contributions")
    op.drop_index("ix_hr_learners_department", table_name="hr_learners")
    op.drop_index("ix_hr_learners_site", table_name="hr_learners")
    op.drop_table("hr_learners")
    for table in CHANGED_TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_index(f"ix_{table}_updated_at")
            batch_op.drop_column("updated_at")
    with op.batch_alter_table("users", schema=None) as batch_op:
        for column in _old_summary():
            batch_op.add_column(column)
        batch_op.create_index("ix_users_statistics_version", ["statistics_version"], unique=False)
        for name, keys in OLD_INDEXES:
            batch_op.create_index(name, keys, unique=False, postgresql_include=OLD_LEARNER_FIGURES, postgresql_where=sa.text(ACTIVE_LEARNERS))
    _forget_figures()
