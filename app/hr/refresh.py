"""Bringing the HR figures up to date from what the platform records, in background jobs only.

Each counted learner has a row in `hr_learners` (where they were and their progress summary when last counted) and
their rows in `hr_contributions`; `daily_counts` holds the sums of those contributions per family (everyone, site,
department). An incremental refresh finds the learners whose records changed since the last one by their
`updated_at` timestamps, subtracts their stored contribution from `daily_counts` (under the site and department they
were counted at), recomputes them from the truth and adds the new one. A change of the published course changes what
every event means, so it calls for a full refresh, as does the first run; a full refresh also runs nightly, which
corrects what was changed outside the application. Only one refresh runs at a time (see app.hr.jobs).
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import (
    Column,
    Index,
    MetaData,
    Select,
    String,
    Table,
    case,
    delete,
    exists,
    func,
    insert,
    literal_column,
    or_,
    select,
    text,
    true,
    tuple_,
    union,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session
from sqlalchemy.schema import CreateIndex

from ..models import Booking, ModuleProgress, QuizAttempt, SessionFeedback, User, utcnow
from . import rollups
from .models import Contribution, CountedLearner, DailyCount, StatisticsState

log = logging.getLogger(__name__)
AS_OF = "figures_as_of"  # the moment of the last completed refresh: every change committed before it is counted
FULL_AS_OF = "full_refresh_as_of"
COURSE = "counted_course"  # the published course, as (module, theme) pairs, the figures count
BATCH = 500  # learners recomputed per committed transaction: small enough for PostgreSQL to reach each one by its indexes
BUILD = "hr_contributions_next"  # where a full refresh loads the contributions before they take the table's place
# A change committed up to this long after its timestamp was taken is still found by the next refresh: the window
# reaches this far before the last refresh, and recounting a learner twice is harmless. Requests and the people
# import's batches commit within seconds; a longer transaction is corrected by the nightly full refresh.
GRACE = timedelta(seconds=20)
KEY = ("site", "department", "measure", "subject", "detail", "day")
CONTRIBUTION = ("user_id", "measure", "subject", "detail", "day", "n", "total")
LEARNER = ("user_id", "site", "department", "birth_year", "joined_at", "first_opened_at", "last_viewed_at", "modules_done", "last_completed_at")


@dataclass(frozen=True)
class Outcome:
    """What a refresh did: full or incremental, how many learners it recomputed, and the moment its figures are as of."""

    full: bool
    learners: int
    as_of: datetime


# ---- bookkeeping ---------------------------------------------------------------------------------------------


def _state(session: Session, name: str) -> str | None:
    row = session.get(StatisticsState, name)
    return row.value if row is not None else None


def _set_state(session: Session, name: str, value: str) -> None:
    row = session.get(StatisticsState, name) or StatisticsState(name=name)
    row.value, row.updated_at = value, utcnow()
    session.add(row)


def figures_as_of(session: Session) -> datetime | None:
    """When the figures were last brought up to date, or None before the first refresh ever."""
    value = _state(session, AS_OF)
    return datetime.fromisoformat(value) if value else None


def counted_course(session: Session) -> rollups.Course | None:
    """The published course the figures count, or None before the first refresh."""
    value = _state(session, COURSE)
    return tuple((module, theme) for module, theme in json.loads(value)) if value else None


def _record(session: Session, as_of: datetime, course: rollups.Course, full: bool) -> None:
    _set_state(session, AS_OF, as_of.isoformat())
    _set_state(session, COURSE, json.dumps(course))
    if full:
        _set_state(session, FULL_AS_OF, as_of.isoformat())


# ---- the per-learner rows and their sums ------------------------------------------------------------------------


def _in_families(rows: Any, changed_only: bool) -> Select[Any]:
    """Per-learner rows (with the learner's site and department) summed per rollup row: everyone's, their site's, their department's."""
    everyone = literal_column(f"'{rollups.EVERYONE}'", String)
    parts = []
    for family in rollups.FAMILIES:
        site = rows.c.site if family == "site" else everyone
        department = rows.c.department if family == "department" else everyone
        extra = [rows.c.site] if family == "site" else [rows.c.department] if family == "department" else []
        n, total = func.sum(rows.c.n), func.sum(rows.c.total)
        part = select(site.label("site"), department.label("department"), rows.c.measure, rows.c.subject, rows.c.detail, rows.c.day, n.label("n"), total.label("total"))
        part = part.group_by(rows.c.measure, rows.c.subject, rows.c.detail, rows.c.day, *extra)
        if family == "department":
            part = part.where(rows.c.department.is_not(None))
        if changed_only:  # a learner who only looked at a page changes no rollup row: nothing to write
            part = part.having(or_(n != 0, total != 0))
        parts.append(part)
    flat = parts[0].union_all(*parts[1:]).subquery("families")
    return select(*(flat.c[name] for name in (*KEY, "n", "total"))).where(true())  # SQLite's upsert needs a WHERE


def _everyone_in_families(session: Session, contributions: Table) -> Select[Any]:
    """Every stored contribution summed per rollup row; on PostgreSQL in one pass over them (GROUPING SETS)."""
    c, who = contributions.c, CountedLearner
    if session.get_bind().dialect.name != "postgresql":
        columns = (who.site, who.department, c.measure, c.subject, c.detail, c.day, c.n, c.total)
        return _in_families(select(*columns).join(who, who.user_id == c.user_id).subquery("stored"), changed_only=False)
    key = (c.measure, c.subject, c.detail, c.day)
    families = func.grouping_sets(tuple_(*key), tuple_(who.site, *key), tuple_(who.department, *key))
    site = case((func.grouping(who.site) == 0, who.site), else_=rollups.EVERYONE)
    department = case((func.grouping(who.department) == 0, who.department), else_=rollups.EVERYONE)
    counted = (site.label("site"), department.label("department"), *key, func.sum(c.n).label("n"), func.sum(c.total).label("total"))
    query = select(*counted).join(who, who.user_id == c.user_id).group_by(families)
    return query.having(or_(func.grouping(who.department) == 1, who.department.is_not(None)))  # no department: in no department's rows


def _stored(people: list[int] | None, sign: int = 1) -> Select[Any]:
    """The stored contributions of these learners (everyone's when None), times `sign`, with where they were counted."""
    c, who = Contribution, CountedLearner
    columns = (c.user_id, who.site, who.department, c.measure, c.subject, c.detail, c.day, (c.n * sign).label("n"), (c.total * sign).label("total"))
    query = select(*columns).join(who, who.user_id == c.user_id)
    return cast(Select[Any], query if people is None else query.where(c.user_id.in_(people)))


def _recounted_table() -> Table:
    """A temporary table for the contributions of the learners being recounted, computed once and read three times."""
    columns = [Column(name, column.type) for name, column in Contribution.__table__.c.items()]
    return Table("hr_recounted", MetaData(), *columns, prefixes=["TEMPORARY"], postgresql_on_commit="DROP")


RECOUNTED = _recounted_table()


def _recount_now(session: Session, people: list[int], course: rollups.Course) -> None:
    """These learners' contributions as recorded now, into the transaction's temporary table."""
    session.execute(text("DROP TABLE IF EXISTS hr_recounted"))  # SQLite keeps temporary tables past a commit
    RECOUNTED.create(session.connection())
    session.execute(insert(RECOUNTED).from_select(list(CONTRIBUTION), rollups.contributions(rollups.learners(people), course=course)))


def _recorded(people: list[int]) -> Select[Any]:
    """The recounted contributions with where their learners are now (no row for someone who is no longer a learner)."""
    now, who = RECOUNTED.c, rollups.learners(people)
    columns = (now.user_id, who.c.site, who.c.department, now.measure, now.subject, now.detail, now.day, now.n, now.total)
    return select(*columns).join(who, who.c.user_id == now.user_id)


def _add_difference(session: Session, changes: Any) -> None:
    """Add to the rollup rows what the learners contribute now minus what they contributed when last counted."""
    dialect = session.get_bind().dialect.name
    upsert = postgresql.insert(DailyCount) if dialect == "postgresql" else sqlite.insert(DailyCount)
    statement = upsert.from_select([*KEY, "n", "total"], _in_families(changes, changed_only=True)).on_conflict_do_update(
        index_elements=list(KEY),
        set_={"n": DailyCount.n + upsert.excluded.n, "total": DailyCount.total + upsert.excluded.total},
    )
    session.execute(statement)


def _with_other_rows(session: Session, people: list[int]) -> list[int]:
    """Those of these learners whose stored contribution rows differ from the recounted ones."""
    c, now = Contribution, RECOUNTED.c
    mine = select(c.user_id, c.measure, c.subject, c.detail, c.day, (-c.n).label("n"), (-c.total).label("total")).where(c.user_id.in_(people))
    rows = mine.union_all(select(now.user_id, now.measure, now.subject, now.detail, now.day, now.n, now.total)).subquery("rows")
    per_row = select(rows.c.user_id).group_by(rows.c.user_id, rows.c.measure, rows.c.subject, rows.c.detail, rows.c.day)
    differing = per_row.having(or_(func.sum(rows.c.n) != 0, func.sum(rows.c.total) != 0)).subquery("differing")
    return sorted(set(session.scalars(select(differing.c.user_id))))


def recount(session: Session, people: list[int], course: rollups.Course) -> None:
    """Replace these learners' counted state and contribution by what is recorded now, and move the rollups with it."""
    _recount_now(session, people, course)
    _add_difference(session, _stored(people, -1).union_all(_recorded(people)).cte("changes"))
    rewritten = _with_other_rows(session, people)  # a learner who only looked at a page keeps their rows
    if rewritten:
        session.execute(delete(Contribution).where(Contribution.user_id.in_(rewritten)))
        now = RECOUNTED.c
        session.execute(insert(Contribution).from_select(list(CONTRIBUTION), select(*(now[name] for name in CONTRIBUTION)).where(now.user_id.in_(rewritten))))
    session.execute(delete(CountedLearner).where(CountedLearner.user_id.in_(people)))
    session.execute(insert(CountedLearner).from_select(list(LEARNER), rollups.learner_summaries(rollups.learners(people), course)))
    session.execute(text("DROP TABLE IF EXISTS hr_recounted"))


# ---- finding who changed -------------------------------------------------------------------------------------


def changed_learners(session: Session, since: datetime) -> list[int]:
    """Everyone whose recorded account, progress, attempts, bookings or answers changed at or after `since`, and anyone counted who is gone."""
    feedback = select(Booking.learner_id).join(SessionFeedback, SessionFeedback.booking_id == Booking.id).where(SessionFeedback.updated_at >= since)
    gone = select(CountedLearner.user_id).where(~exists().where(User.id == CountedLearner.user_id))
    sources = union(
        select(User.id).where(User.updated_at >= since),
        select(ModuleProgress.user_id).where(ModuleProgress.updated_at >= since),
        select(QuizAttempt.user_id).where(QuizAttempt.updated_at >= since),
        select(Booking.learner_id).where(Booking.updated_at >= since),
        feedback,
        gone,
    ).subquery("changed")
    return sorted(session.scalars(select(sources.c[0])))


# ---- the refreshes ---------------------------------------------------------------------------------------------


def full_refresh(session: Session) -> Outcome:
    """Recompute every figure from scratch from what is recorded, in one transaction: readers see the old figures until it commits."""
    as_of = utcnow()
    course = rollups.published_course(session)
    people = rollups.learners()
    session.execute(delete(CountedLearner))
    session.execute(insert(CountedLearner).from_select(list(LEARNER), rollups.learner_summaries(people, course)))
    contributions = rollups.contributions(people, course=course)
    if session.get_bind().dialect.name == "postgresql":
        _rebuild_contributions_postgresql(session, contributions)
    else:
        session.execute(delete(Contribution))
        session.execute(insert(Contribution).from_select(list(CONTRIBUTION), contributions))
        _rebuild_counts(session, cast(Table, Contribution.__table__))
    _record(session, as_of, course, full=True)
    session.commit()
    learners = int(session.scalar(select(func.count()).select_from(CountedLearner)) or 0)
    log.info("HR figures: full refresh of %d learners", learners)
    return Outcome(True, learners, as_of)


def _rebuild_counts(session: Session, contributions: Table) -> None:
    session.execute(delete(DailyCount))
    in_key_order = _everyone_in_families(session, contributions).order_by(*(literal_column(name) for name in KEY))  # rows read together are stored together
    session.execute(insert(DailyCount).from_select([*KEY, "n", "total"], in_key_order))


def _rebuild_contributions_postgresql(session: Session, rows: Select[Any]) -> None:
    """Load every contribution into a new table, sum the rollups from it, index it, then put it in the old one's place.

    Building an index over loaded rows costs a fraction of keeping it up to date row by row; the dashboard reads the
    old table until the swap at the very end, which waits only for the queries in flight.
    """
    model = cast(Table, Contribution.__table__)
    build = Table(BUILD, MetaData(), *(Column(column.name, column.type, nullable=column.nullable) for column in model.columns))
    session.execute(text(f"DROP TABLE IF EXISTS {BUILD}"))
    session.execute(text(f"CREATE TABLE {BUILD} (LIKE {model.name} INCLUDING DEFAULTS)"))
    session.execute(insert(build).from_select(list(CONTRIBUTION), rows))
    _rebuild_counts(session, build)
    for index in model.indexes:
        columns = [build.c[column.name] for column in index.columns]
        session.execute(CreateIndex(Index(f"{index.name}_next", *columns, **index.dialect_kwargs)))
    session.execute(text(f"DROP TABLE {model.name}"))
    session.execute(text(f"ALTER TABLE {BUILD} RENAME TO {model.name}"))
    for index in model.indexes:
        session.execute(text(f"ALTER INDEX {index.name}_next RENAME TO {index.name}"))


def refresh(session: Session) -> Outcome:
    """Bring the figures up to date: recompute the learners who changed, or everything after a change of course."""
    last = figures_as_of(session)
    course = rollups.published_course(session)
    if last is None or counted_course(session) != course:
        return full_refresh(session)
    as_of = utcnow()  # taken before looking: whatever commits later is found by the next run
    people = changed_learners(session, last - GRACE)
    for start in range(0, len(people), BATCH):
        recount(session, people[start : start + BATCH], course)
        session.commit()  # a refresh stopped halfway is finished by the next one, which looks from the same moment
    _record(session, as_of, course, full=False)
    session.commit()
    return Outcome(False, len(people), as_of)


def is_due(session: Session, max_age: timedelta, period: timedelta, now: datetime | None = None) -> bool:
    """Whether the figures must be refreshed now, run `period` apart, so that they are never older than `max_age`."""
    last = figures_as_of(session)
    # Half a period to spare: a periodic run starts a little late or early, and the refresh itself takes time.
    return last is None or (now or utcnow()) - last >= max_age - period * 3 / 2

