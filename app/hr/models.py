"""The HR wing's own tables: written only by the figures' refresh jobs (app.hr.refresh), read by the dashboard.

`hr_learners` holds each counted learner as they were at their last count (site, department, birth year, progress
summary); `hr_contributions` what they contributed to the rollups then; `daily_counts` the sum of those
contributions for everyone, per site and per department. A refresh subtracts a changed learner's stored contribution
and adds the one computed from the recorded truth, so the aggregates never need the past to be recomputed.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, Index, PrimaryKeyConstraint, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from ..models import Base, ContentId, OptionalTimestamp, Timestamp, UTCDateTime

# What the dashboard groups learners by and counts of them: carried by the two indexes, so that PostgreSQL reads them alone.
# Rows of the questionnaire's first question: one per learner, day and theme they answered on (see stats.evaluation).
ANSWERED = "measure = 'feedback_suited'"
LEARNER_FIGURES = ["birth_year", "joined_at", "first_opened_at", "last_viewed_at", "modules_done", "last_completed_at"]


class CountedLearner(Base):
    """An active learner as the figures last counted them: where they were and their progress summary then."""

    __tablename__ = "hr_learners"
    __table_args__ = (
        Index("ix_hr_learners_site", "site", "department", postgresql_include=LEARNER_FIGURES),
        Index("ix_hr_learners_department", "department", "site", postgresql_include=LEARNER_FIGURES),
    )

    user_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)  # no foreign key: a deleted person is found and removed
    site: Mapped[str] = mapped_column(String(80))
    department: Mapped[str | None] = mapped_column(String(120))
    birth_year: Mapped[int | None]
    joined_at: Mapped[datetime] = mapped_column(UTCDateTime())
    first_opened_at: Mapped[OptionalTimestamp]
    last_viewed_at: Mapped[OptionalTimestamp]
    modules_done: Mapped[int] = mapped_column(default=0)
    last_completed_at: Mapped[OptionalTimestamp]


class Contribution(Base):
    """What one learner contributed to one rollup row (see DailyCount) at their last count.

    Eight million rows at 100,000 learners, rewritten by every full refresh, which builds the indexes once the rows
    are in (see app.hr.refresh). One index by learner carries every column, so that a learner's rows, or a site and
    department's few hundred learners', are read from it alone; a partial one finds who answered the questionnaire.
    """

    __tablename__ = "hr_contributions"
    __table_args__ = (
        Index("ix_hr_contributions_user_id", "user_id", postgresql_include=["measure", "subject", "detail", "day", "n", "total"]),
        Index("ix_hr_contributions_answered", "user_id", "subject", "day", postgresql_where=text(ANSWERED), sqlite_where=text(ANSWERED)),
    )

    user_id: Mapped[int] = mapped_column()
    measure: Mapped[str] = mapped_column(String(30))
    subject: Mapped[str] = mapped_column(String(60))
    detail: Mapped[str] = mapped_column(String(60))
    day: Mapped[date] = mapped_column(Date)
    n: Mapped[int]
    total: Mapped[int]

    # Unique by construction (rows come out of one GROUP BY), so the database keeps no key: the mapper names one.
    __mapper_args__ = {"primary_key": [user_id, measure, subject, detail, day]}  # noqa: RUF012 - SQLAlchemy's own mapping


class DailyCount(Base):
    """How many times a learning event happened on one day, for everyone, one site or one department: the HR rollup.

    `site` and `department` name the learners counted: both empty for everyone, one of them set for a site's or a
    department's learners (see app.hr.rollups.FAMILIES). `measure` names the event (a module opened, a theme
    completed, a first-try answer, a questionnaire answer...), `subject` the module or theme, `detail` the question or
    the tenths of days a completion took; `total` sums a value (scores, passes, right answers, yes answers) over the
    `n` events. The sum of the learners' contributions (see Contribution).
    """

    __tablename__ = "daily_counts"
    # The dashboard reads n and total from the key's index alone (an index-only scan on PostgreSQL).
    __table_args__ = (
        PrimaryKeyConstraint("site", "department", "measure", "subject", "detail", "day", postgresql_include=["n", "total"]),
    )

    site: Mapped[str] = mapped_column(String(80), primary_key=True)
    department: Mapped[str] = mapped_column(String(120), primary_key=True)
    measure: Mapped[str] = mapped_column(String(30), primary_key=True)
    subject: Mapped[ContentId] = mapped_column(primary_key=True)
    detail: Mapped[ContentId] = mapped_column(primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    n: Mapped[int]
    total: Mapped[int]


class StatisticsState(Base):
    """The figures' bookkeeping, by name: when they were last brought up to date, and the course they count."""

    __tablename__ = "statistics_state"

    name: Mapped[str] = mapped_column(String(30), primary_key=True)
    value: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[Timestamp]

