"""Accounts, course content, progress and attempts.

Revision ID: 0001
Revises:
Create Date: 2026-11-21 16:06:43.820904
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this migration."""
    op.create_table(
        "login_failures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=300), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_login_failures")),
    )
    with op.batch_alter_table("login_failures", schema=None) as batch_op:
        batch_op.create_index("ix_login_failures_key_at", ["key", "at"], unique=False)

    op.create_table(
        "themes",
        sa.Column("id", sa.String(length=60), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("live_session", sa.JSON(), nullable=False),
        sa.Column("introduction_html", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_themes")),
    )
    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=False),
        sa.Column("site", sa.String(length=80), nullable=False),
        sa.Column("department", sa.String(length=120), nullable=True),
        sa.Column("role", sa.Enum("learner", "mentor", "hr", "admin", name="role", native_enum=False, length=20), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("auth_version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("last_login_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("email", name=op.f("uq_users_email")),
    )
    op.create_table(
        "module_progress",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("module_id", sa.String(length=60), nullable=False),
        sa.Column(
            "status",
            sa.Enum("not_started", "in_progress", "completed", name="modulestatus", native_enum=False, length=20),
            nullable=False,
        ),
        sa.Column("first_opened_at", sa.DateTime(), nullable=False),
        sa.Column("last_viewed_at", sa.DateTime(), nullable=False),
        sa.Column("completed_at", sa.DateTime(), nullable=True),
        sa.Column("best_score", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_module_progress_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_module_progress")),
        sa.UniqueConstraint("user_id", "module_id", name=op.f("uq_module_progress_user_id_module_id")),
    )
    with op.batch_alter_table("module_progress", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_module_progress_module_id"), ["module_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_module_progress_user_id"), ["user_id"], unique=False)

    op.create_table(
        "modules",
        sa.Column("id", sa.String(length=60), nullable=False),
        sa.Column("theme_id", sa.String(length=60), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("minutes", sa.Integer(), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("objectives", sa.JSON(), nullable=False),
        sa.Column("pass_mark", sa.Integer(), nullable=False),
        sa.Column("quiz_ids", sa.JSON(), nullable=False),
        sa.Column("current_revision_id", sa.Integer(), nullable=True),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["theme_id"], ["themes.id"], name=op.f("fk_modules_theme_id_themes")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_modules")),
    )
    with op.batch_alter_table("modules", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_modules_theme_id"), ["theme_id"], unique=False)

    op.create_table(
        "module_revisions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("module_id", sa.String(length=60), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("source_sha256", sa.String(length=64), nullable=False),
        sa.Column("rendered", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["module_id"], ["modules.id"], name=op.f("fk_module_revisions_module_id_modules")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_module_revisions")),
        sa.UniqueConstraint("module_id", "number", name=op.f("uq_module_revisions_module_id_number")),
    )
    with op.batch_alter_table("module_revisions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_module_revisions_module_id"), ["module_id"], unique=False)

    # modules and module_revisions refer to each other: the second reference is added once both exist.
    with op.batch_alter_table("modules", schema=None) as batch_op:
        batch_op.create_foreign_key(
            batch_op.f("fk_modules_current_revision_id_module_revisions"), "module_revisions", ["current_revision_id"], ["id"]
        )

    op.create_table(
        "quiz_attempts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("module_id", sa.String(length=60), nullable=False),
        sa.Column("quiz_id", sa.String(length=60), nullable=False),
        sa.Column("revision_id", sa.Integer(), nullable=False),
        sa.Column("question_ids", sa.JSON(), nullable=False),
        sa.Column("answers", sa.JSON(), nullable=False),
        sa.Column("results", sa.JSON(), nullable=False),
        sa.Column("score", sa.Integer(), nullable=False),
        sa.Column("pass_mark", sa.Integer(), nullable=False),
        sa.Column("passed", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["revision_id"], ["module_revisions.id"], name=op.f("fk_quiz_attempts_revision_id_module_revisions")
        ),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_quiz_attempts_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_quiz_attempts")),
    )
    with op.batch_alter_table("quiz_attempts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_quiz_attempts_revision_id"), ["revision_id"], unique=False)
        batch_op.create_index("ix_quiz_attempts_user_module", ["user_id", "module_id"], unique=False)


def downgrade() -> None:
    """Revert this migration."""
    with op.batch_alter_table("modules", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_modules_current_revision_id_module_revisions"), type_="foreignkey")
    with op.batch_alter_table("quiz_attempts", schema=None) as batch_op:
        batch_op.drop_index("ix_quiz_attempts_user_module")
        batch_op.drop_index(batch_op.f("ix_quiz_attempts_revision_id"))

    op.drop_table("quiz_attempts")
    with op.batch_alter_table("module_revisions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_module_revisions_module_id"))

    op.drop_table("module_revisions")
    with op.batch_alter_table("modules", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_modules_theme_id"))

    op.drop_table("modules")
    with op.batch_alter_table("module_progress", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_module_progress_user_id"))
        batch_op.drop_index(batch_op.f("ix_module_progress_module_id"))

    op.drop_table("module_progress")
    op.drop_table("users")
    op.drop_table("themes")
    with op.batch_alter_table("login_failures", schema=None) as batch_op:
        batch_op.drop_index("ix_login_failures_key_at")

    op.drop_table("login_failures")
