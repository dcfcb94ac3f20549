"""Session figures kept beside the sessions, and indexes that hold everything the dashboard reads of active learners.

Each session gets its seats attended and no-shows, and `reached_learners` the learners each site's mentors reached;
both are filled from the recorded bookings. Active learners get two indexes, by site and by department, that carry
their birth year, joining day and progress summary (on PostgreSQL), in place of the index on role, site and department.
The daily counts gain the day each learner joined: the counted course is forgotten, so that `speak-digital db upgrade`
(or the first dashboard view) rebuilds them.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-21 20:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

LEARNER_FIGURES = ["birth_year", "created_at", "first_opened_at", "last_viewed_at", "modules_done", "last_completed_at"]
ACTIVE_LEARNERS = "role = 'learner' AND active IS true"
TALLIES = """
UPDATE live_sessions SET
    seats_attended = (SELECT count(*) FROM bookings b WHERE b.session_id = live_sessions.id AND b.attendance = 'attended'),
    no_shows = (SELECT count(*) FROM bookings b WHERE b.session_id = live_sessions.id AND b.attendance = 'no_show')
"""
REACHED = """
INSERT INTO reached_learners (site, learner_id, session_id, theme_id, starts_at)
SELECT DISTINCT m.site, b.learner_id, s.id, s.theme_id, s.starts_at
FROM bookings b
JOIN live_sessions s ON s.id = b.session_id
JOIN session_hosts h ON h.session_id = s.id
JOIN users m ON m.id = h.mentor_id
WHERE b.attendance = 'attended' AND s.status = 'scheduled'
"""


FORGET_COUNTED_COURSE = "DELETE FROM statistics_state WHERE name = 'counted_course' OR name LIKE 'course!_%' ESCAPE '!'"


def upgrade() -> None:
    """Apply this migration."""
    with op.batch_alter_table("live_sessions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("seats_attended", sa.Integer(), server_default=sa.text("0"), nullable=False))
        batch_op.add_column(sa.Column("no_shows", sa.Integer(), server_default=sa.text("0"), nullable=False))
    op.execute(TALLIES)
    op.create_table(
        "reached_learners",
        sa.Column("site", sa.String(length=80), nullable=False),
        sa.Column("learner_id", sa.Integer(), nullable=False),
        sa.Column("session_id", sa.Integer(), nullable=False),
        sa.Column("theme_id", sa.String(length=60), nullable=False),
        sa.Column("starts_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["learner_id"], ["users.id"], name=op.f("fk_reached_learners_learner_id_users")),
        sa.ForeignKeyConstraint(["session_id"], ["live_sessions.id"], name=op.f("fk_reached_learners_session_id_live_sessions")),
        sa.PrimaryKeyConstraint("site", "learner_id", "session_id", name=op.f("pk_reached_learners"), postgresql_include=["starts_at", "theme_id"]),
    )
    with op.batch_alter_table("reached_learners", schema=None) as batch_op:
        batch_op.create_index("ix_reached_learners_session", ["session_id"], unique=False)
    op.execute(REACHED)
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_index("ix_users_role_site_department")
        for name, keys in (("ix_learners_by_site", ["site", "department"]), ("ix_learners_by_department", ["department", "site"])):
            batch_op.create_index(name, keys, unique=False, postgresql_include=LEARNER_FIGURES, postgresql_where=sa.text(ACTIVE_LEARNERS))
    op.execute(FORGET_COUNTED_COURSE)


def downgrade() -> None:
    """Revert this migration."""
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_index("ix_learners_by_department")
        batch_op.drop_index("ix_learners_by_site")
        batch_op.create_index("ix_users_role_site_department", ["role", "site", "department"], unique=False)
    op.drop_table("reached_learners")
    op.execute("DELETE FROM daily_counts WHERE measure = 'learner_joined'")
    with op.batch_alter_table("live_sessions", schema=None) as batch_op:
        batch_op.drop_column("no_shows")
        batch_op.drop_column("seats_attended")
