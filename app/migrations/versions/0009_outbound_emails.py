"""E-mails go through an outbox: recorded with the change that calls for them, sent by a job once, every try recorded.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03 09:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this migration."""
    op.create_table(
        "outbound_emails",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=120), nullable=False),
        sa.Column("recipient", sa.String(length=400), nullable=False),
        sa.Column("subject", sa.String(length=300), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("calendar", sa.LargeBinary(), nullable=True),
        sa.Column("calendar_method", sa.String(length=10), nullable=True),
        sa.Column("status", sa.Enum("queued", "sending", "sent", "failed", name="emailstatus", native_enum=False, length=20), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("claimed_at", sa.DateTime(), nullable=True),
        sa.Column("sent_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbound_emails")),
        sa.UniqueConstraint("key", name=op.f("uq_outbound_emails_key")),
    )
    op.create_index("ix_outbound_emails_status_created_at", "outbound_emails", ["status", "created_at"], unique=False)
    op.create_table(
        "email_attempts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("email_id", sa.Integer(), nullable=False),
        sa.Column("succeeded", sa.Boolean(), nullable=False),
        sa.Column("error", sa.String(length=500), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["email_id"], ["outbound_emails.id"], name=op.f("fk_email_attempts_email_id_outbound_emails")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_email_attempts")),
    )
    op.create_index(op.f("ix_email_attempts_email_id"), "email_attempts", ["email_id"], unique=False)


def downgrade() -> None:
    """Revert this migration."""
    op.drop_index(op.f("ix_email_attempts_email_id"), table_name="email_attempts")
    op.drop_table("email_attempts")
    op.drop_index("ix_outbound_emails_status_created_at", table_name="outbound_emails")
    op.drop_table("outbound_emails")
