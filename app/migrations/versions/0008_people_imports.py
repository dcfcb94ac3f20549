"""People imports run as background jobs: each upload is kept with its progress and report until it is done.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

STATUSES = ("queued", "checking", "importing", "done", "refused", "failed")


def upgrade() -> None:
    """Apply this migration."""
    op.create_table(
        "people_imports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=False),
        sa.Column("filename", sa.String(length=200), nullable=False),
        sa.Column("allow_admin", sa.Boolean(), nullable=False),
        sa.Column("status", sa.Enum(*STATUSES, name="importstatus", native_enum=False, length=20), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=True),
        sa.Column("people_total", sa.Integer(), nullable=False),
        sa.Column("people_applied", sa.Integer(), nullable=False),
        sa.Column("created_count", sa.Integer(), nullable=False),
        sa.Column("updated_count", sa.Integer(), nullable=False),
        sa.Column("problems", sa.JSON(), nullable=True),
        sa.Column("problem_count", sa.Integer(), nullable=False),
        sa.Column("awaiting_ids", sa.JSON(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("finished_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(["created_by_id"], ["users.id"], name=op.f("fk_people_imports_created_by_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_people_imports")),
    )
    op.create_index("ix_people_imports_created_by_created_at", "people_imports", ["created_by_id", "created_at"], unique=False)


def downgrade() -> None:
    """Revert this migration."""
    op.drop_index("ix_people_imports_created_by_created_at", table_name="people_imports")
    op.drop_table("people_imports")
