"""What the HR figures count, learner by learner, from what the platform records: the rollups' one definition.

`contributions(people)` counts the events of a set of learners day by day: per learner, measure (a module opened, a
theme completed, a first-try answer, a questionnaire answer...), subject (module or theme), detail and day. The
refresh jobs (app.hr.refresh) store each learner's rows in `hr_contributions` and their sums in `daily_counts`, for
everyone, per site and per department (see `FAMILIES`). Nothing here writes; nothing outside app.hr calls it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date
from typing import Any

from sqlalchemy import (
    Date,
    Integer,
    Select,
    String,
    Subquery,
    case,
    cast,
    false,
    func,
    literal,
    literal_column,
    select,
    union_all,
)
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from course.progress import ModuleStatus

from ..models import Booking, LiveSession, ModuleProgress, ModuleRecord, QuestionAnswer, QuizAttempt, Role, SessionFeedback, User
from .sql import DaysBetween

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
EVERYONE = ""  # the site or department of the rows that count every site or every department

# Which rows a learner's events count in: everyone's, their site's, their department's (when they have one).
FAMILIES = ("everyone", "site", "department")

Course = tuple[tuple[str, str], ...]  # (module, theme) pairs, sorted


# ---- who and what is counted -----------------------------------------------------------------------------


def learners(user_ids: Iterable[int] | None = None) -> Subquery:
    """Active accounts with the learner role, as recorded now, optionally narrowed to some ids."""
    query = select(User.id.label("user_id"), User.site, User.department, User.birth_year, User.created_at).where(*is_learner())
    if user_ids is not None:
        query = query.where(User.id.in_(list(user_ids)))
    return query.subquery("people")


def is_learner() -> list[ColumnElement[bool]]:
    """The conditions on a users row for an active learner: who the figures count."""
    return [User.role == Role.LEARNER, User.active.is_(True)]


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
    """`source` counted per learner of `who`, day, subject and detail, with the sum of `total`."""
    grouping = [who.c.user_id, day]
    grouping += [column for column in (subject, detail) if column is not _NO_DETAIL]  # PostgreSQL refuses a constant in GROUP BY
    return source.with_only_columns(
        who.c.user_id.label("user_id"),
        day.label("day"),
        subject.label("subject"),
        detail.label("detail"),
        func.count().label("n"),
        total.label("total"),
    ).group_by(*grouping)


def _progress(people: Subquery, course: Subquery) -> Select[Any]:
    return (
        select(ModuleProgress.id)
        .join(people, people.c.user_id == ModuleProgress.user_id)
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
            course.c.theme_id,
            func.max(course.c.theme_size).label("size"),
            func.min(progress.first_opened_at).label("first_opened"),
            func.max(progress.completed_at).label("last_completed"),
            _count_if(progress.status == ModuleStatus.COMPLETED).label("done"),
        )
        .join(people, people.c.user_id == progress.user_id)
        .join(course, course.c.id == progress.module_id)
        .group_by(progress.user_id, course.c.theme_id)
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
            course.c.theme_id,
            func.min(attempt.created_at).label("tried"),
            func.min(case((attempt.passed, attempt.created_at))).label("passed"),
        )
        .join(people, people.c.user_id == attempt.user_id)
        .join(course, course.c.id == attempt.module_id)
        .group_by(attempt.user_id, course.c.theme_id)
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
        select(QuizAttempt.id).join(people, people.c.user_id == QuizAttempt.user_id).join(course, course.c.id == QuizAttempt.module_id)
    )
    return _daily(people, day_of(QuizAttempt.created_at), QuizAttempt.module_id, _none(), func.sum(QuizAttempt.score), attempts)


def _first_tries(people: Subquery, course: Subquery) -> Select[Any]:
    firsts = (
        select(QuizAttempt.id)
        .join(people, people.c.user_id == QuizAttempt.user_id)
        .join(course, course.c.id == QuizAttempt.module_id)
        .where(QuizAttempt.first_try.is_(True))
    )
    return _daily(people, day_of(QuizAttempt.created_at), QuizAttempt.module_id, _none(), _count_if(QuizAttempt.passed), firsts)


def _first_try_answers(people: Subquery, course: Subquery) -> Select[Any]:
    answer = QuestionAnswer
    answers = (
        select(answer.id)
        .join(people, people.c.user_id == answer.user_id)
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
            .join(people, people.c.user_id == Booking.learner_id)
            .join(LiveSession, LiveSession.id == Booking.session_id)
        )
        return _daily(people, day_of(feedback.created_at), LiveSession.theme_id, _none(), func.sum(answer), answers)

    return measure


def _learner_joined(people: Subquery, _course: Subquery) -> Select[Any]:
    """Learners by the day their account was created: the new learners of each month."""
    return _daily(people, day_of(people.c.created_at), _none(), _none(), _zero(), select(people.c.user_id))


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


def contributions(people: Subquery, measures: Iterable[str] = tuple(MEASURES), course: Course | None = None) -> Select[Any]:
    """Rows (user_id, measure, subject, detail, day, n, total) counting the events of `people`, learner by learner.

    Modules and themes are those of `course`, by default the published one.
    """
    modules = course_modules(course)
    parts = []
    for measure in measures:
        daily = MEASURES[measure](people, modules).subquery(measure)
        parts.append(
            select(
                daily.c.user_id,
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




def learner_summaries(people: Subquery, course: Course) -> Select[Any]:
    """One row per learner of `people`: where they are and their progress summary in `course` (see CountedLearner)."""
    progress = ModuleProgress
    modules = course_modules(course)
    summary = (
        select(
            progress.user_id,
            func.min(progress.first_opened_at).label("first_opened_at"),
            func.max(progress.last_viewed_at).label("last_viewed_at"),
            _count_if(progress.status == ModuleStatus.COMPLETED).label("modules_done"),
            func.max(progress.completed_at).label("last_completed_at"),
        )
        .join(people, people.c.user_id == progress.user_id)
        .join(modules, modules.c.id == progress.module_id)
        .group_by(progress.user_id)
        .subquery("summary")
    )
    return select(
        people.c.user_id,
        people.c.site,
        people.c.department,
        people.c.birth_year,
        people.c.created_at.label("joined_at"),
        summary.c.first_opened_at,
        summary.c.last_viewed_at,
        func.coalesce(summary.c.modules_done, 0).label("modules_done"),
        summary.c.last_completed_at,
    ).outerjoin(summary, summary.c.user_id == people.c.user_id)

