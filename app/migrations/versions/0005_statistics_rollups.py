"""Rollups for the HR dashboard: one row per learner, daily counts of learning events, first tries marked on attempts.

The new tables start empty; `speak-digital db upgrade` (or the first dashboard view) fills them from the recorded
progress, because their content depends on the published course.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-21 09:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this migration."""
    op.create_table(
        "daily_counts",
        sa.Column("measure", sa.String(length=30), nullable=False),
        sa.Column("subject", sa.String(length=60), nullable=False),
        sa.Column("detail", sa.String(length=60), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("measure", "subject", "detail", "day", name=op.f("pk_daily_counts")),
    )
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
    op.create_table(
        "statistics_state",
        sa.Column("name", sa.String(length=30), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_statistics_state")),
    )
    with op.batch_alter_table("quiz_attempts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("first_try", sa.Boolean(), server_default=sa.text("false"), nullable=False))
    # Mark each learner's first attempt at each quiz of a module, as the application now records it.
    op.execute(
        """
        UPDATE quiz_attempts SET first_try = true
        WHERE id IN (SELECT min(id) FROM quiz_attempts GROUP BY user_id, module_id, quiz_id)
        """
    )
    # The progress and attempts of the people a site or department filter selects, read from the index alone.
    with op.batch_alter_table("module_progress", schema=None) as batch_op:
        batch_op.drop_index("ix_module_progress_user_id")
        batch_op.create_index(
            "ix_module_progress_user_covering",
            ["user_id"],
            unique=False,
            postgresql_include=["module_id", "status", "first_opened_at", "completed_at"],
        )
    with op.batch_alter_table("quiz_attempts", schema=None) as batch_op:
        batch_op.drop_index("ix_quiz_attempts_user_module")
        batch_op.create_index(
            "ix_quiz_attempts_user_module",
            ["user_id", "module_id"],
            unique=False,
            postgresql_include=["created_at", "score", "passed", "first_try"],
        )
    with op.batch_alter_table("question_answers", schema=None) as batch_op:
        batch_op.create_index(
            "ix_question_answers_first_try",
            ["user_id"],
            unique=False,
            postgresql_include=["module_id", "question_id", "correct", "created_at"],
            postgresql_where=sa.text("first_try"),
            sqlite_where=sa.text("first_try"),
        )


def downgrade() -> None:
    """Revert this migration."""
    with op.batch_alter_table("question_answers", schema=None) as batch_op:
        batch_op.drop_index("ix_question_answers_first_try")
    with op.batch_alter_table("quiz_attempts", schema=None) as batch_op:
        batch_op.drop_index("ix_quiz_attempts_user_module")
        batch_op.create_index("ix_quiz_attempts_user_module", ["user_id", "module_id"], unique=False)
        batch_op.drop_column("first_try")
    with op.batch_alter_table("module_progress", schema=None) as batch_op:
        batch_op.drop_index("ix_module_progress_user_covering")
        batch_op.create_index("ix_module_progress_user_id", ["user_id"], unique=False)
    op.drop_table("statistics_state")
    op.drop_table("learner_stats")
    op.drop_table("daily_counts")
