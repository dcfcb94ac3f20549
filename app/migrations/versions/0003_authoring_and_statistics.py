"""Authoring revisions, answers per question, media and birth years.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-21 16:50:04.758065
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this migration."""
    op.create_table(
        "media_files",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("module_id", sa.String(length=60), nullable=False),
        sa.Column("filename", sa.String(length=200), nullable=False),
        sa.Column("content_type", sa.String(length=40), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("uploaded_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["uploaded_by_id"], ["users.id"], name=op.f("fk_media_files_uploaded_by_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_media_files")),
    )
    with op.batch_alter_table("media_files", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_media_files_module_id"), ["module_id"], unique=False)

    op.create_table(
        "question_answers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("attempt_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("module_id", sa.String(length=60), nullable=False),
        sa.Column("quiz_id", sa.String(length=60), nullable=False),
        sa.Column("question_id", sa.String(length=60), nullable=False),
        sa.Column("answer_key", sa.String(length=300), nullable=False),
        sa.Column("correct", sa.Boolean(), nullable=False),
        sa.Column("first_try", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["attempt_id"], ["quiz_attempts.id"], name=op.f("fk_question_answers_attempt_id_quiz_attempts")),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_question_answers_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_question_answers")),
    )
    with op.batch_alter_table("question_answers", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_question_answers_attempt_id"), ["attempt_id"], unique=False)
        batch_op.create_index("ix_question_answers_module_question", ["module_id", "question_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_question_answers_user_id"), ["user_id"], unique=False)

    with op.batch_alter_table("module_revisions", schema=None) as batch_op:
        # Existing revisions came from the content folder and were valid: the defaults say so.
        batch_op.add_column(sa.Column("problems", sa.JSON(), nullable=False, server_default=sa.text("'[]'")))
        batch_op.add_column(
            sa.Column(
                "origin",
                sa.Enum("import", "editor", name="revisionorigin", native_enum=False, length=20),
                nullable=False,
                server_default="import",
            )
        )
        batch_op.add_column(sa.Column("author_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("published_at", sa.DateTime(), nullable=True))
        batch_op.create_foreign_key(batch_op.f("fk_module_revisions_author_id_users"), "users", ["author_id"], ["id"])

    op.execute("UPDATE module_revisions SET published_at = created_at WHERE id IN (SELECT current_revision_id FROM modules)")
    with op.batch_alter_table("themes", schema=None) as batch_op:
        batch_op.add_column(sa.Column("source", sa.Text(), nullable=False, server_default=""))

    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("birth_year", sa.Integer(), nullable=True))


def downgrade() -> None:
    """Revert this migration."""
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("birth_year")

    with op.batch_alter_table("themes", schema=None) as batch_op:
        batch_op.drop_column("source")

    with op.batch_alter_table("module_revisions", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_module_revisions_author_id_users"), type_="foreignkey")
        batch_op.drop_column("published_at")
        batch_op.drop_column("author_id")
        batch_op.drop_column("origin")
        batch_op.drop_column("problems")

    with op.batch_alter_table("question_answers", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_question_answers_user_id"))
        batch_op.drop_index("ix_question_answers_module_question")
        batch_op.drop_index(batch_op.f("ix_question_answers_attempt_id"))

    op.drop_table("question_answers")
    with op.batch_alter_table("media_files", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_media_files_module_id"))

    op.drop_table("media_files")
