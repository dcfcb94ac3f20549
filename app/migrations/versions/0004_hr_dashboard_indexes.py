"""Indexes for the HR dashboard: learners by role, site and department; completions, sessions and answers by date.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-21 17:09:24.718606
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this migration."""
    with op.batch_alter_table("bookings", schema=None) as batch_op:
        batch_op.create_index("ix_bookings_session_status", ["session_id", "status"], unique=False)

    with op.batch_alter_table("live_sessions", schema=None) as batch_op:
        batch_op.create_index("ix_live_sessions_status_starts", ["status", "starts_at"], unique=False)

    with op.batch_alter_table("module_progress", schema=None) as batch_op:
        batch_op.create_index("ix_module_progress_completed_at", ["completed_at"], unique=False)

    with op.batch_alter_table("quiz_attempts", schema=None) as batch_op:
        batch_op.create_index("ix_quiz_attempts_user_quiz", ["user_id", "quiz_id", "id"], unique=False)

    with op.batch_alter_table("session_feedback", schema=None) as batch_op:
        batch_op.create_index("ix_session_feedback_created_at", ["created_at"], unique=False)

    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.create_index("ix_users_role_site_department", ["role", "site", "department"], unique=False)


def downgrade() -> None:
    """Revert this migration."""
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_index("ix_users_role_site_department")

    with op.batch_alter_table("session_feedback", schema=None) as batch_op:
        batch_op.drop_index("ix_session_feedback_created_at")

    with op.batch_alter_table("quiz_attempts", schema=None) as batch_op:
        batch_op.drop_index("ix_quiz_attempts_user_quiz")

    with op.batch_alter_table("module_progress", schema=None) as batch_op:
        batch_op.drop_index("ix_module_progress_completed_at")

    with op.batch_alter_table("live_sessions", schema=None) as batch_op:
        batch_op.drop_index("ix_live_sessions_status_starts")

    with op.batch_alter_table("bookings", schema=None) as batch_op:
        batch_op.drop_index("ix_bookings_session_status")
