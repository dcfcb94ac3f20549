"""The HR dashboard's rollups: daily counts of learning events and one summary row per learner, kept exact.

Every rollup row is defined by one query, `contributions(people, measures)`, which counts the events of a set of
learners day by day, per site and department. The `daily_counts` table holds that query's result for every active
learner three times over: for everyone, per site and per department (see `FAMILIES`). It is kept up to date where
accounts are created (`count_new_people()`), progress is recorded, questionnaires are answered and people change
role, site or department: `tracking()` locks the learner, computes their contribution before and after the change,
and adds the difference. When the published
course changes (a module published for the first time, moved to another theme or withdrawn), what the events mean
changes too, and `rebuild()` recomputes everything.

The dashboard reads `daily_counts` for everyone, one site or one department, and runs `contributions()` live, for
the selected people only, when both a site and a department narrow it down to a few hundred learners.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import date
from typing import Any

from sqlalchemy import (
    Date,
    Integer,
    Select,
    String,
    Subquery,
    and_,
    case,
    cast,
    delete,
    false,
    func,
    insert,
    literal,
    literal_column,
    or_,
    select,
    text,
    union_all,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.expression import CTE

from course.progress import ModuleStatus

from .hr.sql import DaysBetween
from .models import (
    Booking,
    DailyCount,
    LiveSession,
    ModuleProgress,
    ModuleRecord,
    QuestionAnswer,
    QuizAttempt,
    Role,
    SessionFeedback,
    StatisticsState,
    User,
    utcnow,
)

MODULE_OPENED = "module_opened"
MODULE_COMPLETED = "module_completed"
COMPLETION_TENTHS = "completion_tenths"
THEME_STARTED = "theme_started"
THEME_COMPLETED = "theme_completed"
QUIZ_TRIED = "quiz_tried"
QUIZ_PASSED = "quiz_passed"
ATTEMPTS = "attempts"
FIRST_TRIES = "first_tries"
FIRST_TRY_ANSWERS = "first_try_answers"
FEEDBACK_SUITED = "feedback_suited"
FEEDBACK_CHANGED_USAGE = "feedback_changed_usage"
FEEDBACK_RECOMMEND = "feedback_recommend"
FEEDBACK_SATISFACTION = "feedback_satisfaction"
LEARNER_JOINED = "learner_joined"
VERSION_STATE = "counted_course"  # the version of the course the rollups count; each version's modules are "course_<n>"
CATCH_UP_BATCH = 500
EVERYONE = ""  # the site or department of the rows that count every site or every department

# Which rows a learner's events count in: everyone's, their site's, their department's (when they have one).
FAMILIES = ("everyone", "site", "department")

Course = tuple[tuple[str, str], ...]  # (module, theme) pairs, sorted
Key = tuple[str, str, str, str, str, date]  # site, department, measure, subject, detail, day
Counts = dict[Key, tuple[int, int]]


# ---- who and what is counted -----------------------------------------------------------------------------


def learners(user_ids: Iterable[int] | None = None, site: str | None = None, department: str | None = None) -> Subquery:
    """Active accounts with the learner role and their progress summary, optionally narrowed to ids, a site or a department."""
    summary = (User.first_opened_at, User.last_viewed_at, User.modules_done, User.last_completed_at)
    query = select(User.id, User.site, User.department, User.birth_year, User.created_at, *summary).where(*is_learner(site, department))
    if user_ids is not None:
        query = query.where(User.id.in_(list(user_ids)))
    return query.subquery("people")


def is_learner(site: str | None = None, department: str | None = None) -> list[ColumnElement[bool]]:
    """The conditions on a users row for an active learner, optionally of one site or department."""
    conditions = [User.role == Role.LEARNER, User.active.is_(True)]
    if site:
        conditions.append(User.site == site)
    if department:
        conditions.append(User.department == department)
    return conditions


def course_modules(course: Course | None = None) -> Subquery:
    """The modules of `course` (by default the one published now) with their theme and their theme's number of modules."""
    if course is None:
        size = func.count().over(partition_by=ModuleRecord.theme_id)
        query = select(ModuleRecord.id, ModuleRecord.theme_id, size.label("theme_size")).where(ModuleRecord.current_revision_id.is_not(None))
        return query.subquery("course")
    if not course:
        return select(ModuleRecord.id, ModuleRecord.theme_id, literal(0).label("theme_size")).where(false()).subquery("course")
    rows = [select(literal(module, String).label("id"), literal(theme, String).label("theme_id")) for module, theme in course]
    listed = union_all(*rows).subquery("listed")  # SQLite's VALUES cannot name its columns
    size = func.count().over(partition_by=listed.c.theme_id)
    return select(listed.c.id, listed.c.theme_id, size.label("theme_size")).subquery("course")


def published_course(session: Session) -> Course:
    """Which modules are published in which theme, as (module, theme) pairs: what the rollups' events mean."""
    published = ModuleRecord.current_revision_id.is_not(None)
    return tuple((module, theme) for module, theme in session.execute(select(ModuleRecord.id, ModuleRecord.theme_id).where(published).order_by(ModuleRecord.id)))


# ---- the events, day by day --------------------------------------------------------------------------------


def day_of(moment: Any) -> ColumnElement[date]:
    """The UTC day of a stored moment."""
    return func.date(moment, type_=Date)


_NO_DETAIL = literal_column("''", String)


def _none() -> ColumnElement[str]:
    return _NO_DETAIL


def _zero() -> ColumnElement[int]:
    return literal_column("0", Integer)


def _count_if(condition: Any) -> ColumnElement[int]:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def _daily(who: Any, day: ColumnElement[date], subject: Any, detail: Any, total: Any, source: Select[Any]) -> Select[Any]:
    """`source` counted per site and department of `who`, day, subject and detail, with the sum of `total`."""
    grouping = [who.c.site, who.c.department, day]
    grouping += [column for column in (subject, detail) if column is not _NO_DETAIL]  # PostgreSQL refuses a constant in GROUP BY
    return source.with_only_columns(
        who.c.site.label("site"),
        who.c.department.label("department"),
        day.label("day"),
        subject.label("subject"),
        detail.label("detail"),
        func.count().label("n"),
        total.label("total"),
    ).group_by(*grouping)


def _progress(people: Subquery, course: Subquery) -> Select[Any]:
    return (
        select(ModuleProgress.id)
        .join(people, people.c.id == ModuleProgress.user_id)
        .join(course, course.c.id == ModuleProgress.module_id)
    )


def _module_opened(people: Subquery, course: Subquery) -> Select[Any]:
    return _daily(people, day_of(ModuleProgress.first_opened_at), ModuleProgress.module_id, _none(), _zero(), _progress(people, course))


def _module_completed(people: Subquery, course: Subquery) -> Select[Any]:
    done = _progress(people, course).where(ModuleProgress.status == ModuleStatus.COMPLETED)
    return _daily(people, day_of(ModuleProgress.completed_at), ModuleProgress.module_id, _none(), _zero(), done)


def duration_bucket(days: Any) -> ColumnElement[int]:
    """A duration in tenths of a day, rounded to what matters at its scale.

    A tenth of a day under 3 days, half a day under 10, a day under 30, a week beyond: the histogram of
    completions stays a few dozen rows per day and theme, however many learners there are.
    """
    return cast(
        case(
            (days < 3, func.round(days * 10)),
            (days < 10, func.round(days * 2) * 5),
            (days < 30, func.round(days) * 10),
            else_=func.round(days / 7) * 70,
        ),
        Integer,
    )


def _completion_tenths(people: Subquery, course: Subquery) -> Select[Any]:
    """Completions per theme by how long they took (see duration_bucket): the median is read from this histogram."""
    done = _progress(people, course).where(ModuleProgress.status == ModuleStatus.COMPLETED)
    tenths = cast(duration_bucket(DaysBetween(ModuleProgress.first_opened_at, ModuleProgress.completed_at)), String)
    return _daily(people, day_of(ModuleProgress.completed_at), course.c.theme_id, tenths, _zero(), done)


def _per_learner_theme(people: Subquery, course: Subquery) -> Subquery:
    progress = ModuleProgress
    return (
        select(
            progress.user_id,
            people.c.site,
            people.c.department,
            course.c.theme_id,
            func.max(course.c.theme_size).label("size"),
            func.min(progress.first_opened_at).label("first_opened"),
            func.max(progress.completed_at).label("last_completed"),
            _count_if(progress.status == ModuleStatus.COMPLETED).label("done"),
        )
        .join(people, people.c.id == progress.user_id)
        .join(course, course.c.id == progress.module_id)
        .group_by(progress.user_id, people.c.site, people.c.department, course.c.theme_id)
        .subquery("per_theme")
    )


def _theme_started(people: Subquery, course: Subquery) -> Select[Any]:
    themes = _per_learner_theme(people, course)
    return _daily(themes, day_of(themes.c.first_opened), themes.c.theme_id, _none(), _zero(), select(themes.c.user_id))


def _theme_completed(people: Subquery, course: Subquery) -> Select[Any]:
    themes = _per_learner_theme(people, course)
    done = select(themes.c.user_id).where(themes.c.done == themes.c.size)
    return _daily(themes, day_of(themes.c.last_completed), themes.c.theme_id, _none(), _zero(), done)


def _quizzes_per_learner_theme(people: Subquery, course: Subquery) -> Subquery:
    attempt = QuizAttempt
    return (
        select(
            attempt.user_id,
            people.c.site,
            people.c.department,
            course.c.theme_id,
            func.min(attempt.created_at).label("tried"),
            func.min(case((attempt.passed, attempt.created_at))).label("passed"),
        )
        .join(people, people.c.id == attempt.user_id)
        .join(course, course.c.id == attempt.module_id)
        .group_by(attempt.user_id, people.c.site, people.c.department, course.c.theme_id)
        .subquery("quizzes_per_theme")
    )


def _quiz_tried(people: Subquery, course: Subquery) -> Select[Any]:
    quizzes = _quizzes_per_learner_theme(people, course)
    return _daily(quizzes, day_of(quizzes.c.tried), quizzes.c.theme_id, _none(), _zero(), select(quizzes.c.user_id))


def _quiz_passed(people: Subquery, course: Subquery) -> Select[Any]:
    quizzes = _quizzes_per_learner_theme(people, course)
    passed = select(quizzes.c.user_id).where(quizzes.c.passed.is_not(None))
    return _daily(quizzes, day_of(quizzes.c.passed), quizzes.c.theme_id, _none(), _zero(), passed)


def _attempts(people: Subquery, course: Subquery) -> Select[Any]:
    attempts = (
        select(QuizAttempt.id).join(people, people.c.id == QuizAttempt.user_id).join(course, course.c.id == QuizAttempt.module_id)
    )
    return _daily(people, day_of(QuizAttempt.created_at), QuizAttempt.module_id, _none(), func.sum(QuizAttempt.score), attempts)


def _first_tries(people: Subquery, course: Subquery) -> Select[Any]:
    firsts = (
        select(QuizAttempt.id)
        .join(people, people.c.id == QuizAttempt.user_id)
        .join(course, course.c.id == QuizAttempt.module_id)
        .where(QuizAttempt.first_try.is_(True))
    )
    return _daily(people, day_of(QuizAttempt.created_at), QuizAttempt.module_id, _none(), _count_if(QuizAttempt.passed), firsts)


def _first_try_answers(people: Subquery, course: Subquery) -> Select[Any]:
    answer = QuestionAnswer
    answers = (
        select(answer.id)
        .join(people, people.c.id == answer.user_id)
        .join(course, course.c.id == answer.module_id)
        .where(answer.first_try.is_(True))
    )
    return _daily(people, day_of(answer.created_at), answer.module_id, answer.question_id, _count_if(answer.correct), answers)


def _feedback(answer: Any) -> Callable[[Subquery, Subquery], Select[Any]]:
    """Questionnaire answers per day and theme of the session, with the sum of `answer` (1 for yes, or 1 to 5)."""

    def measure(people: Subquery, _course: Subquery) -> Select[Any]:
        feedback = SessionFeedback
        answers = (
            select(feedback.id)
            .join(Booking, Booking.id == feedback.booking_id)
            .join(people, people.c.id == Booking.learner_id)
            .join(LiveSession, LiveSession.id == Booking.session_id)
        )
        return _daily(people, day_of(feedback.created_at), LiveSession.theme_id, _none(), func.sum(answer), answers)

    return measure


def _learner_joined(people: Subquery, _course: Subquery) -> Select[Any]:
    """Learners by the day their account was created: the new learners of each month."""
    return _daily(people, day_of(people.c.created_at), _none(), _none(), _zero(), select(people.c.id))


def _yes(column: Any) -> ColumnElement[int]:
    return case((column, 1), else_=0)


QUESTIONNAIRE = (FEEDBACK_SUITED, FEEDBACK_CHANGED_USAGE, FEEDBACK_RECOMMEND, FEEDBACK_SATISFACTION)
MEASURES: dict[str, Callable[[Subquery, Subquery], Select[Any]]] = {
    MODULE_OPENED: _module_opened,
    MODULE_COMPLETED: _module_completed,
    COMPLETION_TENTHS: _completion_tenths,
    THEME_STARTED: _theme_started,
    THEME_COMPLETED: _theme_completed,
    QUIZ_TRIED: _quiz_tried,
    QUIZ_PASSED: _quiz_passed,
    ATTEMPTS: _attempts,
    FIRST_TRIES: _first_tries,
    FIRST_TRY_ANSWERS: _first_try_answers,
    FEEDBACK_SUITED: _feedback(_yes(SessionFeedback.format_best_suited)),
    FEEDBACK_CHANGED_USAGE: _feedback(_yes(SessionFeedback.changed_daily_usage)),
    FEEDBACK_RECOMMEND: _feedback(_yes(SessionFeedback.would_recommend)),
    FEEDBACK_SATISFACTION: _feedback(SessionFeedback.satisfaction),
    LEARNER_JOINED: _learner_joined,
}
# What a change of course changes: neither the questionnaire nor the day a learner joined depends on the modules.
COURSE_MEASURES = tuple(measure for measure in MEASURES if measure not in (*QUESTIONNAIRE, LEARNER_JOINED))


def contributions(people: Subquery, measures: Iterable[str] = tuple(MEASURES), course: Course | None = None) -> Select[Any]:
    """Rows (site, department, measure, subject, detail, day, n, total) counting the events of `people`.

    One row per measure, day, and site and department of the learners: the learners' own department, which may be
    NULL, not the families of `daily_counts`. Modules and themes are those of `course`, by default the published one.
    """
    modules = course_modules(course)
    parts = []
    for measure in measures:
        daily = MEASURES[measure](people, modules).subquery(measure)
        parts.append(
            select(
                daily.c.site,
                daily.c.department,
                literal_column(f"'{measure}'", String).label("measure"),
                daily.c.subject,
                daily.c.detail,
                daily.c.day,
                daily.c.n,
                daily.c.total,
            )
        )
    query = parts[0]
    return query.union_all(*parts[1:]) if len(parts) > 1 else query  # type: ignore[return-value]


def counts_source(measures: Iterable[str], site: str | None = None, department: str | None = None) -> Subquery:
    """The daily counts of `measures` for everyone, one site or one department; live for a site and a department."""
    wanted = list(measures)
    if site and department:
        return contributions(learners(site=site, department=department), wanted).subquery("counts")
    columns = (DailyCount.measure, DailyCount.subject, DailyCount.detail, DailyCount.day, DailyCount.n, DailyCount.total)
    family = and_(DailyCount.site == (site or EVERYONE), DailyCount.department == (department or EVERYONE))
    return select(*columns).where(family, DailyCount.measure.in_(wanted)).subquery("counts")


def _in_families(contribution: CTE) -> Select[Any]:
    """Each contribution row counted for everyone, for its site and for its department (see FAMILIES)."""
    c = contribution.c
    everyone: ColumnElement[str] = literal_column(f"'{EVERYONE}'", String)
    parts = []
    for family in FAMILIES:
        grouping = [c.measure, c.subject, c.detail, c.day]
        site, department = everyone, everyone
        if family == "site":
            site = c.site
            grouping.append(c.site)
        elif family == "department":
            department = c.department
            grouping.append(c.department)
        part = select(
            site.label("site"), department.label("department"), c.measure, c.subject, c.detail, c.day, func.sum(c.n).label("n"), func.sum(c.total).label("total")
        ).group_by(*grouping)
        parts.append(part.where(c.department.is_not(None)) if family == "department" else part)
    return parts[0].union_all(*parts[1:])  # type: ignore[return-value]


# ---- keeping the rollups exact ------------------------------------------------------------------------------


def _counts_of(session: Session, user_ids: list[int], course: Course, measures: Iterable[str] = tuple(MEASURES)) -> Counts:
    counts: Counts = {}
    rows = session.execute(contributions(learners(user_ids), measures, course))
    for site, department, measure, subject, detail, day, n, total in rows:
        families = [(EVERYONE, EVERYONE), (site, EVERYONE)] + ([(EVERYONE, department)] if department else [])
        for family in families:
            key = (*family, measure, subject, detail, _as_date(day))
            n0, total0 = counts.get(key, (0, 0))
            counts[key] = (n0 + int(n), total0 + int(total or 0))
    return counts


def _as_date(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def _difference(before: Counts, after: Counts) -> list[dict[str, Any]]:
    changes = []
    for key in sorted(before.keys() | after.keys()):  # one order for every writer, so that two never deadlock
        n0, total0 = before.get(key, (0, 0))
        n1, total1 = after.get(key, (0, 0))
        if (n1 - n0, total1 - total0) != (0, 0):
            site, department, measure, subject, detail, day = key
            changes.append(
                {
                    "site": site,
                    "department": department,
                    "measure": measure,
                    "subject": subject,
                    "detail": detail,
                    "day": day,
                    "n": n1 - n0,
                    "total": total1 - total0,
                }
            )
    return changes


def _add_counts(session: Session, changes: list[dict[str, Any]]) -> None:
    if not changes:
        return
    dialect = session.get_bind().dialect.name
    upsert = postgresql.insert(DailyCount) if dialect == "postgresql" else sqlite.insert(DailyCount)
    statement = upsert.on_conflict_do_update(
        index_elements=["site", "department", "measure", "subject", "detail", "day"],
        set_={"n": DailyCount.n + upsert.excluded.n, "total": DailyCount.total + upsert.excluded.total},
    )
    session.execute(statement, changes)


def _update_people(session: Session, statement: Any) -> None:
    """Run an UPDATE of many people's rows without reloading them into the session: nothing here reads them back."""
    session.execute(statement, execution_options={"synchronize_session": False})


def _lock_people(session: Session, user_ids: list[int]) -> None:
    """Serialize changes to the same learners, so that two tabs never count one event twice.

    On PostgreSQL the rollup table's writer lock comes first: a rebuild, which takes the table and then updates
    every learner's row, waits for changes in flight and is waited for by new ones, in one order that never deadlocks.
    """
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("LOCK TABLE daily_counts IN ROW EXCLUSIVE MODE"))
    session.execute(select(User.id).where(User.id.in_(user_ids)).order_by(User.id).with_for_update())


def refresh_learner_summary(session: Session, user_ids: Iterable[int] | None = None) -> None:
    """Recompute the progress summary on some learners' rows (or everyone's) from their progress in the published course."""
    ids = None if user_ids is None else sorted(set(user_ids))
    progress = ModuleProgress
    course = course_modules()
    summary = (
        select(
            progress.user_id,
            func.min(progress.first_opened_at).label("first_opened_at"),
            func.max(progress.last_viewed_at).label("last_viewed_at"),
            _count_if(progress.status == ModuleStatus.COMPLETED).label("modules_done"),
            func.max(progress.completed_at).label("last_completed_at"),
        )
        .join(course, course.c.id == progress.module_id)
        .group_by(progress.user_id)
    )
    holding = or_(User.first_opened_at.is_not(None), User.modules_done != 0)  # only the rows that hold a summary
    if ids is not None:
        _lock_people(session, ids)
        summary = summary.where(progress.user_id.in_(ids))
        holding = and_(holding, User.id.in_(ids))
    found = summary.subquery("summary")
    emptied = and_(holding, User.id.not_in(select(found.c.user_id)))  # e.g. progress only in a withdrawn module
    _update_people(session, update(User).where(emptied).values(first_opened_at=None, last_viewed_at=None, modules_done=0, last_completed_at=None))
    _update_people(
        session,
        update(User)
        .where(User.id == found.c.user_id)
        .values({name: found.c[name] for name in ("first_opened_at", "last_viewed_at", "modules_done", "last_completed_at")}),
    )


# ---- the course the rollups count, version by version ------------------------------------------------------
#
# Each learner's events are counted under one version of the course, recorded on their row: the rollups hold, for
# every learner, their contribution under that version. When the published course changes, ensure_current() records
# a new version; catch_up() then moves learners to it a batch at a time (adding the difference between their
# contribution under the new version and the old one) while everyone keeps learning, and tracking() counts each
# learner's changes under the version they are at.


def counted_version(session: Session) -> int | None:
    """The version of the course the rollups count, or None before they were first built."""
    state = session.get(StatisticsState, VERSION_STATE)
    return int(state.value) if state is not None else None


def _course_state(version: int) -> str:
    return f"course_{version}"


def _course_of(session: Session, version: int) -> Course:
    state = session.get(StatisticsState, _course_state(version))
    if state is None:
        raise LookupError(f"course version {version} is not recorded")
    return tuple((module, theme) for module, theme in json.loads(state.value))


def _set_state(session: Session, name: str, value: str) -> None:
    state = session.get(StatisticsState, name) or StatisticsState(name=name)
    state.value, state.updated_at = value, utcnow()
    session.add(state)


def _record_course(session: Session, course: Course) -> int:
    version = (counted_version(session) or 0) + 1
    _set_state(session, _course_state(version), json.dumps(course))
    _set_state(session, VERSION_STATE, str(version))
    session.flush()
    return version


def _versions_of(session: Session, user_ids: list[int], target: int) -> dict[int, list[int]]:
    """The learners grouped by the version they are counted under; those never counted yet start at `target`."""
    _update_people(session, update(User).where(User.id.in_(user_ids), User.statistics_version.is_(None)).values(statistics_version=target))
    groups: dict[int, list[int]] = {}
    for user_id, version in session.execute(select(User.id, User.statistics_version).where(User.id.in_(user_ids))):
        groups.setdefault(target if version is None else version, []).append(user_id)
    return groups


def _counts_by_version(session: Session, groups: dict[int, list[int]]) -> Counts:
    total: Counts = {}
    for version, ids in sorted(groups.items()):
        _merge(total, _counts_of(session, ids, _course_of(session, version)))
    return total


@contextmanager
def tracking(session: Session, user_ids: Iterable[int]) -> Iterator[None]:
    """Apply what the enclosed change does to these learners' events to the rollups, exactly once."""
    ids = sorted(set(user_ids))
    target = counted_version(session)
    if not ids or target is None:  # before the first build, the build counts everything
        yield
        return
    _lock_people(session, ids)
    session.flush()
    uncounted = _uncounted(session, ids)
    groups = _versions_of(session, ids, target)
    before = _counts_by_version(session, {version: [i for i in members if i not in uncounted] for version, members in groups.items()})
    yield
    session.flush()
    _add_counts(session, _difference(before, _counts_by_version(session, groups)))
    refresh_learner_summary(session, ids)


def _uncounted(session: Session, user_ids: list[int]) -> set[int]:
    """Those of these people the rollups do not count yet: they have no version (see count_new_people())."""
    return set(session.scalars(select(User.id).where(User.id.in_(user_ids), User.statistics_version.is_(None))))


def count_new_people(session: Session, user_ids: Iterable[int]) -> None:
    """Count people just created in the rollups: a new learner joins the monthly figures at once.

    Someone created elsewhere (by hand in the database, say) has no version yet and is counted in full the first
    time anything they do is tracked.
    """
    with tracking(session, user_ids):
        pass  # before: nothing, as they are not counted yet; after: their joining and any events


def catch_up_batch(session: Session, size: int = CATCH_UP_BATCH) -> int:
    """Move up to `size` learners counted under an older course to the current one; the number moved."""
    target = counted_version(session)
    if target is None:
        return 0
    ids = list(session.scalars(select(User.id).where(User.statistics_version < target).order_by(User.id).limit(size)))
    if not ids:
        return 0
    _lock_people(session, ids)
    groups = _versions_of(session, ids, target)
    groups.pop(target, None)  # moved meanwhile by another process
    moving = sorted(user_id for members in groups.values() for user_id in members)
    if not moving:
        return len(ids)
    course = _course_of(session, target)
    before: Counts = {}
    after: Counts = {}
    for version, members in sorted(groups.items()):
        old, new = _changed_themes(_course_of(session, version), course)
        _merge(before, _counts_of(session, members, old, COURSE_MEASURES))
        _merge(after, _counts_of(session, members, new, COURSE_MEASURES))
    _add_counts(session, _difference(before, after))
    _update_people(session, update(User).where(User.id.in_(moving)).values(statistics_version=target))
    refresh_learner_summary(session, moving)
    return len(ids)


def _changed_themes(old: Course, new: Course) -> tuple[Course, Course]:
    """Both courses narrowed to the themes whose modules differ: elsewhere every event means the same in both.

    Whole themes are kept, so that "completed the theme" is counted over all of a theme's modules.
    """
    changed = {theme for _module, theme in set(old) ^ set(new)}
    return tuple(p for p in old if p[1] in changed), tuple(p for p in new if p[1] in changed)


def _merge(total: Counts, more: Counts) -> None:
    for key, (n, amount) in more.items():
        n0, amount0 = total.get(key, (0, 0))
        total[key] = (n0 + n, amount0 + amount)


def catch_up(sessions: Callable[[], Session], size: int = CATCH_UP_BATCH) -> int:
    """Move every learner to the current course, one committed batch at a time; the number moved."""
    moved = 0
    while True:
        with sessions() as session:
            done = catch_up_batch(session, size)
            if not done:
                _forget_unused_courses(session)
                session.commit()
                return moved
            session.commit()
            moved += done


def _forget_unused_courses(session: Session) -> None:
    target = counted_version(session)
    versions = session.scalars(select(User.statistics_version).where(User.statistics_version.is_not(None)).distinct())
    used = {_course_state(version) for version in [*versions, target] if version is not None}
    session.execute(delete(StatisticsState).where(StatisticsState.name.like("course\\_%", escape="\\"), StatisticsState.name.not_in(used)))


def lagging_learners(session: Session) -> int:
    """How many people are still counted under an older version of the course."""
    target = counted_version(session)
    if target is None:
        return 0
    return int(session.scalar(select(func.count()).select_from(User).where(User.statistics_version < target)) or 0)


def rebuild(session: Session) -> None:
    """Recompute every rollup from the recorded progress, for the course as it is published now."""
    if session.get_bind().dialect.name == "postgresql":
        # Writers wait while the rollups are rebuilt, so that no change is counted twice or lost (see _lock_people()).
        session.execute(text("LOCK TABLE daily_counts IN EXCLUSIVE MODE"))
    course = published_course(session)
    session.execute(delete(DailyCount))
    columns = ["site", "department", "measure", "subject", "detail", "day", "n", "total"]
    counted = contributions(learners(), course=course).cte("contributions")
    families = _in_families(counted).subquery("families")
    in_key_order = select(*(families.c[name] for name in columns)).order_by(*(families.c[name] for name in columns[:6]))
    session.execute(insert(DailyCount).from_select(columns, in_key_order))  # rows read together are stored together
    refresh_learner_summary(session)
    version = _record_course(session, course)
    _update_people(session, update(User).values(statistics_version=version))
    _forget_unused_courses(session)
    session.flush()


def is_current(session: Session) -> bool:
    """Whether the rollups count the course as it is published now."""
    target = counted_version(session)
    return target is not None and _course_of(session, target) == published_course(session)


def ensure_current(session: Session) -> bool:
    """Make the rollups count the published course; True when learners must now be moved to it (see catch_up()).

    The first time, everything is built at once. Afterwards a change of course only records a new version, at once.
    """
    target = counted_version(session)
    if target is None:
        rebuild(session)
        return False
    course = published_course(session)
    if _course_of(session, target) == course:
        return False
    _record_course(session, course)
    return True
