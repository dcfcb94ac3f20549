"""Live sessions, bookings, notifications and feedback.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-21 16:18:33.548132
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this migration."""
    op.create_table(
        "live_sessions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("uid", sa.String(length=100), nullable=False),
        sa.Column("theme_id", sa.String(length=60), nullable=False),
        sa.Column(
            "format", sa.Enum("individual", "collective", name="sessionformat", native_enum=False, length=20), nullable=False
        ),
        sa.Column("capacity", sa.Integer(), nullable=False),
        sa.Column("seats_taken", sa.Integer(), nullable=False),
        sa.Column("starts_at", sa.DateTime(), nullable=False),
        sa.Column("duration_minutes", sa.Integer(), nullable=False),
        sa.Column("time_zone", sa.String(length=60), nullable=False),
        sa.Column("site", sa.String(length=80), nullable=True),
        sa.Column("room", sa.String(length=120), nullable=True),
        sa.Column("video_url", sa.String(length=500), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column(
            "status", sa.Enum("scheduled", "cancelled", name="sessionstatus", native_enum=False, length=20), nullable=False
        ),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint("capacity >= 1 AND capacity <= 15", name=op.f("ck_live_sessions_capacity_range")),
        sa.CheckConstraint("seats_taken >= 0 AND seats_taken <= capacity", name=op.f("ck_live_sessions_seats_within_capacity")),
        sa.ForeignKeyConstraint(["created_by_id"], ["users.id"], name=op.f("fk_live_sessions_created_by_id_users")),
        sa.ForeignKeyConstraint(["theme_id"], ["themes.id"], name=op.f("fk_live_sessions_theme_id_themes")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_live_sessions")),
        sa.UniqueConstraint("uid", name=op.f("uq_live_sessions_uid")),
    )
    with op.batch_alter_table("live_sessions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_live_sessions_starts_at"), ["starts_at"], unique=False)
        batch_op.create_index("ix_live_sessions_theme_starts", ["theme_id", "starts_at"], unique=False)

    op.create_table(
        "mentor_profiles",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("themes", sa.JSON(), nullable=False),
        sa.Column("sites", sa.JSON(), nullable=False),
        sa.Column("languages", sa.JSON(), nullable=False),
        sa.Column("introduction", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_mentor_profiles_user_id_users")),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_mentor_profiles")),
    )
    op.create_table(
        "bookings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("session_id", sa.Integer(), nullable=False),
        sa.Column("learner_id", sa.Integer(), nullable=False),
        sa.Column(
            "status",
            sa.Enum("confirmed", "waitlisted", "cancelled", name="bookingstatus", native_enum=False, length=20),
            nullable=False,
        ),
        sa.Column("attendance", sa.Enum("attended", "no_show", name="attendance", native_enum=False, length=20), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("confirmed_at", sa.DateTime(), nullable=True),
        sa.Column("cancelled_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(["learner_id"], ["users.id"], name=op.f("fk_bookings_learner_id_users")),
        sa.ForeignKeyConstraint(["session_id"], ["live_sessions.id"], name=op.f("fk_bookings_session_id_live_sessions")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bookings")),
    )
    with op.batch_alter_table("bookings", schema=None) as batch_op:
        batch_op.create_index("ix_bookings_learner_status", ["learner_id", "status"], unique=False)
        batch_op.create_index(batch_op.f("ix_bookings_session_id"), ["session_id"], unique=False)
        batch_op.create_index(
            "uq_bookings_active_learner_session",
            ["session_id", "learner_id"],
            unique=True,
            sqlite_where=sa.text("status != 'cancelled'"),
            postgresql_where=sa.text("status != 'cancelled'"),
        )

    op.create_table(
        "notifications",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("session_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("read_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(["session_id"], ["live_sessions.id"], name=op.f("fk_notifications_session_id_live_sessions")),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_notifications_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notifications")),
    )
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.create_index("ix_notifications_user_created", ["user_id", "created_at"], unique=False)

    op.create_table(
        "session_hosts",
        sa.Column("session_id", sa.Integer(), nullable=False),
        sa.Column("mentor_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["mentor_id"], ["users.id"], name=op.f("fk_session_hosts_mentor_id_users")),
        sa.ForeignKeyConstraint(["session_id"], ["live_sessions.id"], name=op.f("fk_session_hosts_session_id_live_sessions")),
        sa.PrimaryKeyConstraint("session_id", "mentor_id", name=op.f("pk_session_hosts")),
    )
    with op.batch_alter_table("session_hosts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_session_hosts_mentor_id"), ["mentor_id"], unique=False)

    op.create_table(
        "reminders_sent",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("booking_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("sent_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["booking_id"], ["bookings.id"], name=op.f("fk_reminders_sent_booking_id_bookings")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reminders_sent")),
        sa.UniqueConstraint("booking_id", "kind", name=op.f("uq_reminders_sent_booking_id_kind")),
    )
    op.create_table(
        "session_feedback",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("booking_id", sa.Integer(), nullable=False),
        sa.Column("satisfaction", sa.Integer(), nullable=False),
        sa.Column("format_best_suited", sa.Boolean(), nullable=False),
        sa.Column("changed_daily_usage", sa.Boolean(), nullable=False),
        sa.Column("would_recommend", sa.Boolean(), nullable=False),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint("satisfaction BETWEEN 1 AND 5", name=op.f("ck_session_feedback_satisfaction_range")),
        sa.ForeignKeyConstraint(["booking_id"], ["bookings.id"], name=op.f("fk_session_feedback_booking_id_bookings")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_session_feedback")),
        sa.UniqueConstraint("booking_id", name=op.f("uq_session_feedback_booking_id")),
    )
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("manager_id", sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f("ix_users_manager_id"), ["manager_id"], unique=False)
        batch_op.create_foreign_key(batch_op.f("fk_users_manager_id_users"), "users", ["manager_id"], ["id"])


def downgrade() -> None:
    """Revert this migration."""
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_users_manager_id_users"), type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_users_manager_id"))
        batch_op.drop_column("manager_id")

    op.drop_table("session_feedback")
    op.drop_table("reminders_sent")
    with op.batch_alter_table("session_hosts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_session_hosts_mentor_id"))

    op.drop_table("session_hosts")
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.drop_index("ix_notifications_user_created")

    op.drop_table("notifications")
    with op.batch_alter_table("bookings", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_bookings_active_learner_session",
            sqlite_where=sa.text("status != 'cancelled'"),
            postgresql_where=sa.text("status != 'cancelled'"),
        )
        batch_op.drop_index(batch_op.f("ix_bookings_session_id"))
        batch_op.drop_index("ix_bookings_learner_status")

    op.drop_table("bookings")
    op.drop_table("mentor_profiles")
    with op.batch_alter_table("live_sessions", schema=None) as batch_op:
        batch_op.drop_index("ix_live_sessions_theme_starts")
        batch_op.drop_index(batch_op.f("ix_live_sessions_starts_at"))

    op.drop_table("live_sessions")
