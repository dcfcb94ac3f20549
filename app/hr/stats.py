"""The programme's figures for HR: pure query functions over a Session and Filters, each giving one Table.

Every figure is a SQL aggregate (GROUP BY, COUNT, CASE, window functions); Python only merges a handful of
grouped rows (by theme, site or month) and turns counts into percentages. "Learners" are active accounts with
the learner role. The period filters each figure by the date of its own event: registration, first opening,
completion, quiz attempt, session start, questionnaire answer. Site and department filter learners (and, for
live sessions and mentors, the session's site and the mentor's site); the theme filters modules and sessions.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Select, Subquery, and_, case, distinct, func, select
from sqlalchemy.orm import Session, aliased

from course.progress import ModuleStatus
from course.sessions import SessionFormat

from ..models import (
    Attendance,
    Booking,
    BookingStatus,
    LiveSession,
    ModuleProgress,
    ModuleRecord,
    QuestionAnswer,
    QuizAttempt,
    Role,
    SessionFeedback,
    SessionHost,
    SessionStatus,
    ThemeRecord,
    User,
    utcnow,
)
from .sql import DaysBetween, YearMonth

Cell = str | int | float | None
Q = TypeVar("Q", bound=Select[*tuple[Any, ...]])
SMALL_GROUP = 5
SUPPRESSED = "fewer than 5"
NO_DEPARTMENT = "(none)"
AGE_BANDS = ("under 30", "30-44", "45-54", "55 and over", "unknown")
INACTIVE_DAYS = 30


@dataclass(frozen=True)
class Filters:
    """What the dashboard is narrowed to; `now` is the moment figures are computed at."""

    date_from: date | None = None
    date_to: date | None = None
    site: str | None = None
    department: str | None = None
    theme: str | None = None
    now: datetime = field(default_factory=utcnow)

    @property
    def start(self) -> datetime | None:
        """The first moment of the period."""
        return datetime.combine(self.date_from, time(), UTC) if self.date_from else None

    @property
    def end(self) -> datetime | None:
        """The first moment after the period."""
        return datetime.combine(self.date_to + timedelta(days=1), time(), UTC) if self.date_to else None

    @property
    def as_of(self) -> datetime:
        """The moment 'active' and 'at risk' are judged at: the end of the period, or now."""
        end = self.end
        return min(end, self.now) if end else self.now


@dataclass(frozen=True)
class Table:
    """One table of figures: what the page shows and what its CSV export holds."""

    name: str
    title: str
    columns: tuple[str, ...]
    rows: tuple[tuple[Cell, ...], ...]
    note: str = ""


# ---- small SQL helpers ----------------------------------------------------------------------------------


def _count_if(condition: Any) -> ColumnElement[int]:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def _in_period(column: Any, filters: Filters) -> ColumnElement[bool]:
    conditions: list[ColumnElement[bool]] = [column.is_not(None)]
    if filters.start is not None:
        conditions.append(column >= filters.start)
    if filters.end is not None:
        conditions.append(column < filters.end)
    return and_(*conditions)


def _int(value: Any) -> int:
    return int(value or 0)


def _number(value: Any, digits: int = 1) -> float | None:
    if value is None:
        return None
    return round(float(value) if isinstance(value, Decimal) else value, digits)


def percent(part: Any, whole: Any) -> float | None:
    """`part` as a percentage of `whole`, to one decimal; None when there is nothing to divide by."""
    return round(100 * float(part or 0) / float(whole), 1) if whole else None


def _people(filters: Filters) -> Subquery:
    query = select(User.id, User.site, User.department, User.birth_year, User.created_at).where(
        User.role == Role.LEARNER, User.active.is_(True)
    )
    if filters.site:
        query = query.where(User.site == filters.site)
    if filters.department:
        query = query.where(User.department == filters.department)
    return query.subquery("people")


def _published(theme: str | None = None) -> ColumnElement[bool]:
    condition = ModuleRecord.current_revision_id.is_not(None)
    return and_(condition, ModuleRecord.theme_id == theme) if theme else condition


def _module_count(session: Session) -> int:
    return _int(session.scalar(select(func.count()).select_from(ModuleRecord).where(_published())))


def _per_learner(people: Subquery) -> Subquery:
    """One row per learner who opened a module: first opening, last completion, last visit, modules done."""
    progress = ModuleProgress
    return (
        select(
            progress.user_id,
            func.min(progress.first_opened_at).label("first_opened"),
            func.max(progress.completed_at).label("last_completed"),
            func.max(progress.last_viewed_at).label("last_viewed"),
            _count_if(progress.status == ModuleStatus.COMPLETED).label("done"),
        )
        .join(people, people.c.id == progress.user_id)
        .join(ModuleRecord, and_(ModuleRecord.id == progress.module_id, _published()))
        .group_by(progress.user_id)
        .subquery("per_learner")
    )


def _per_learner_theme(people: Subquery, filters: Filters) -> Subquery:
    progress = ModuleProgress
    return (
        select(
            progress.user_id,
            ModuleRecord.theme_id,
            func.min(progress.first_opened_at).label("first_opened"),
            func.max(progress.completed_at).label("last_completed"),
            _count_if(progress.status == ModuleStatus.COMPLETED).label("done"),
        )
        .join(people, people.c.id == progress.user_id)
        .join(ModuleRecord, and_(ModuleRecord.id == progress.module_id, _published(filters.theme)))
        .group_by(progress.user_id, ModuleRecord.theme_id)
        .subquery("per_learner_theme")
    )


def _theme_sizes() -> Subquery:
    return select(ModuleRecord.theme_id, func.count().label("size")).where(_published()).group_by(ModuleRecord.theme_id).subquery("sizes")


def _themes(session: Session, filters: Filters) -> list[tuple[str, str]]:
    query = select(ThemeRecord.id, ThemeRecord.title).order_by(ThemeRecord.position)
    if filters.theme:
        query = query.where(ThemeRecord.id == filters.theme)
    return [(theme_id, title) for theme_id, title in session.execute(query)]


# ---- learning -------------------------------------------------------------------------------------------


def learning_summary(session: Session, filters: Filters) -> Table:
    """Learners registered, active, started, completed all five themes, at risk; median days to complete a module."""
    people = _people(filters)
    learners = _per_learner(people)
    total = _module_count(session)
    since = filters.as_of - timedelta(days=INACTIVE_DAYS)
    registered, active, started, completed, at_risk = session.execute(
        select(
            _count_if(_in_period(people.c.created_at, filters)),
            _count_if(and_(learners.c.last_viewed >= since, learners.c.last_viewed <= filters.as_of)),
            _count_if(_in_period(learners.c.first_opened, filters)),
            _count_if(and_(learners.c.done == total, _in_period(learners.c.last_completed, filters))),
            _count_if(and_(learners.c.done < total, learners.c.last_viewed < since)),
        ).select_from(people.outerjoin(learners, learners.c.user_id == people.c.id))
    ).one()
    rows: tuple[tuple[Cell, ...], ...] = (
        ("Learners registered", _int(registered)),
        (f"Active in the last {INACTIVE_DAYS} days", _int(active)),
        ("Started the course", _int(started)),
        ("Completed all five themes", _int(completed)),
        (f"At risk: started, not completed, inactive for {INACTIVE_DAYS} days", _int(at_risk)),
        ("Median days from opening a module to completing it", median_days_to_complete(session, filters)),
    )
    return Table("learning", "Learning at a glance", ("Figure", "Value"), rows)


def median_days_to_complete(session: Session, filters: Filters) -> float | None:
    """The median of days from first opening a module to completing it, over completions in the period."""
    people = _people(filters)
    progress = ModuleProgress
    days = DaysBetween(progress.first_opened_at, progress.completed_at)
    ranked = (
        select(days.label("days"), func.row_number().over(order_by=days).label("position"), func.count().over().label("total"))
        .join(people, people.c.id == progress.user_id)
        .join(ModuleRecord, and_(ModuleRecord.id == progress.module_id, _published(filters.theme)))
        .where(progress.status == ModuleStatus.COMPLETED, _in_period(progress.completed_at, filters))
        .subquery("ranked")
    )
    middle = ranked.c.position.in_([(ranked.c.total + 1) // 2, (ranked.c.total + 2) // 2])
    return _number(session.scalar(select(func.avg(ranked.c.days)).where(middle)))


def themes(session: Session, filters: Filters) -> Table:
    """Per theme: learners who started it, who completed every module of it, and the completion rate."""
    people = _people(filters)
    per_theme = _per_learner_theme(people, filters)
    sizes = _theme_sizes()
    query = (
        select(
            ThemeRecord.title,
            _count_if(_in_period(per_theme.c.first_opened, filters)),
            _count_if(and_(per_theme.c.done == sizes.c.size, _in_period(per_theme.c.last_completed, filters))),
        )
        .join(sizes, sizes.c.theme_id == ThemeRecord.id)
        .outerjoin(per_theme, per_theme.c.theme_id == ThemeRecord.id)
        .group_by(ThemeRecord.id, ThemeRecord.title, ThemeRecord.position)
        .order_by(ThemeRecord.position)
    )
    if filters.theme:
        query = query.where(ThemeRecord.id == filters.theme)
    rows = tuple((title, _int(started), _int(done), percent(done, started)) for title, started, done in session.execute(query))
    return Table("themes", "Themes: started and completed", ("Theme", "Started", "Completed", "Completion rate (%)"), rows)


def modules(session: Session, filters: Filters) -> Table:
    """Per module: learners who opened it and completed it in the period, and the completion rate."""
    people = _people(filters)
    progress = (
        select(ModuleProgress.module_id, ModuleProgress.first_opened_at, ModuleProgress.completed_at, ModuleProgress.status)
        .join(people, people.c.id == ModuleProgress.user_id)
        .subquery("progress")
    )
    query = (
        select(
            ModuleRecord.title,
            ThemeRecord.title,
            _count_if(_in_period(progress.c.first_opened_at, filters)),
            _count_if(and_(progress.c.status == ModuleStatus.COMPLETED, _in_period(progress.c.completed_at, filters))),
        )
        .join(ThemeRecord, ThemeRecord.id == ModuleRecord.theme_id)
        .outerjoin(progress, progress.c.module_id == ModuleRecord.id)
        .where(_published(filters.theme))
        .group_by(ModuleRecord.id, ModuleRecord.title, ModuleRecord.position, ThemeRecord.title, ThemeRecord.position)
        .order_by(ThemeRecord.position, ModuleRecord.position)
    )
    rows = tuple((title, theme, _int(opened), _int(done), percent(done, opened)) for title, theme, opened, done in session.execute(query))
    return Table("modules", "Modules: opened and completed", ("Module", "Theme", "Opened", "Completed", "Completion rate (%)"), rows)


def funnel(session: Session, filters: Filters) -> Table:
    """Per theme: learners who opened a module, tried a quiz, passed a quiz."""
    people = _people(filters)
    opened = _per_learner_theme(people, filters)
    opened_per_theme = (
        select(opened.c.theme_id, _count_if(_in_period(opened.c.first_opened, filters)).label("opened"))
        .group_by(opened.c.theme_id)
        .subquery("opened_per_theme")
    )
    attempts = (
        select(QuizAttempt.user_id, ModuleRecord.theme_id, func.max(case((QuizAttempt.passed, 1), else_=0)).label("passed"))
        .join(people, people.c.id == QuizAttempt.user_id)
        .join(ModuleRecord, and_(ModuleRecord.id == QuizAttempt.module_id, _published(filters.theme)))
        .where(_in_period(QuizAttempt.created_at, filters))
        .group_by(QuizAttempt.user_id, ModuleRecord.theme_id)
        .subquery("attempts")
    )
    tried = (
        select(attempts.c.theme_id, func.count().label("tried"), func.sum(attempts.c.passed).label("passed"))
        .group_by(attempts.c.theme_id)
        .subquery("tried")
    )
    query = (
        select(ThemeRecord.title, opened_per_theme.c.opened, tried.c.tried, tried.c.passed)
        .outerjoin(opened_per_theme, opened_per_theme.c.theme_id == ThemeRecord.id)
        .outerjoin(tried, tried.c.theme_id == ThemeRecord.id)
        .order_by(ThemeRecord.position)
    )
    if filters.theme:
        query = query.where(ThemeRecord.id == filters.theme)
    rows = tuple((title, _int(o), _int(t), _int(p)) for title, o, t, p in session.execute(query))
    return Table("funnel", "Funnel per theme", ("Theme", "Opened a module", "Tried a quiz", "Passed a quiz"), rows)


# ---- quizzes --------------------------------------------------------------------------------------------


def quizzes(session: Session, filters: Filters) -> Table:
    """Per module with a quiz: attempts, average score, and the share of learners who passed at their first try."""
    people = _people(filters)
    attempt = QuizAttempt
    scores = (
        select(attempt.module_id, func.count().label("attempts"), func.avg(attempt.score).label("score"))
        .join(people, people.c.id == attempt.user_id)
        .where(_in_period(attempt.created_at, filters))
        .group_by(attempt.module_id)
        .subquery("scores")
    )
    firsts = (
        select(func.min(attempt.id).label("id"))
        .join(people, people.c.id == attempt.user_id)
        .group_by(attempt.user_id, attempt.quiz_id)
        .subquery("firsts")
    )
    first_tries = (
        select(attempt.module_id, func.count().label("tries"), _count_if(attempt.passed).label("passed"))
        .join(firsts, firsts.c.id == attempt.id)
        .where(_in_period(attempt.created_at, filters))
        .group_by(attempt.module_id)
        .subquery("first_tries")
    )
    query = (
        select(ModuleRecord.title, scores.c.attempts, scores.c.score, first_tries.c.tries, first_tries.c.passed)
        .join(ThemeRecord, ThemeRecord.id == ModuleRecord.theme_id)
        .join(scores, scores.c.module_id == ModuleRecord.id)
        .outerjoin(first_tries, first_tries.c.module_id == ModuleRecord.id)
        .where(_published(filters.theme))
        .order_by(ThemeRecord.position, ModuleRecord.position)
    )
    rows = tuple((title, _int(n), _number(score), percent(passed, tries)) for title, n, score, tries, passed in session.execute(query))
    return Table("quizzes", "Quizzes per module", ("Module", "Attempts", "Average score (%)", "First-try pass rate (%)"), rows)


def hardest_questions(session: Session, filters: Filters, limit: int = 10) -> Table:
    """The questions with the lowest share of right answers at the first try."""
    people = _people(filters)
    answer = QuestionAnswer
    right = _count_if(answer.correct)
    query = (
        select(ModuleRecord.title, answer.question_id, func.count().label("answers"), right.label("right"))
        .join(people, people.c.id == answer.user_id)
        .join(ModuleRecord, and_(ModuleRecord.id == answer.module_id, _published(filters.theme)))
        .where(answer.first_try.is_(True), _in_period(answer.created_at, filters))
        .group_by(ModuleRecord.title, answer.module_id, answer.question_id)
        .order_by((right * 1.0 / func.count()).asc(), func.count().desc(), answer.module_id, answer.question_id)
        .limit(limit)
    )
    rows = tuple((title, question, _int(n), percent(ok, n)) for title, question, n, ok in session.execute(query))
    return Table("hardest-questions", "Hardest questions", ("Module", "Question", "First-try answers", "Right at first try (%)"), rows)


# ---- live sessions and mentors ---------------------------------------------------------------------------


def _session_filters(query: Q, filters: Filters) -> Q:
    query = query.where(_in_period(LiveSession.starts_at, filters))
    if filters.theme:
        query = query.where(LiveSession.theme_id == filters.theme)
    if filters.site:
        query = query.where(LiveSession.site == filters.site)
    return query


def _held(filters: Filters) -> ColumnElement[bool]:
    return and_(LiveSession.status == SessionStatus.SCHEDULED, LiveSession.starts_at < filters.now)


def live_sessions(session: Session, filters: Filters) -> Table:
    """Sessions held, upcoming and cancelled; formats; seats offered, booked, attended; fill and no-show rates."""
    per_session = (
        select(
            Booking.session_id,
            _count_if(Booking.status == BookingStatus.CONFIRMED).label("booked"),
            _count_if(Booking.attendance == Attendance.ATTENDED).label("attended"),
            _count_if(Booking.attendance == Attendance.NO_SHOW).label("no_shows"),
        )
        .group_by(Booking.session_id)
        .subquery("per_session")
    )
    scheduled = LiveSession.status == SessionStatus.SCHEDULED
    query = select(
        _count_if(_held(filters)),
        _count_if(and_(scheduled, LiveSession.starts_at >= filters.now)),
        _count_if(LiveSession.status == SessionStatus.CANCELLED),
        _count_if(and_(scheduled, LiveSession.format == SessionFormat.INDIVIDUAL)),
        _count_if(and_(scheduled, LiveSession.format == SessionFormat.COLLECTIVE)),
        func.sum(case((scheduled, LiveSession.capacity), else_=0)),
        func.sum(case((scheduled, per_session.c.booked), else_=0)),
        func.sum(case((scheduled, per_session.c.attended), else_=0)),
        func.sum(case((scheduled, per_session.c.no_shows), else_=0)),
    ).outerjoin(per_session, per_session.c.session_id == LiveSession.id)
    held, upcoming, cancelled, individual, collective, offered, booked, attended, no_shows = map(
        _int, session.execute(_session_filters(query, filters)).one()
    )
    rows: tuple[tuple[Cell, ...], ...] = (
        ("Held", held),
        ("Upcoming", upcoming),
        ("Cancelled", cancelled),
        ("Individual (held and upcoming)", individual),
        ("Collective (held and upcoming)", collective),
        ("Seats offered", offered),
        ("Seats booked", booked),
        ("Seats attended", attended),
        ("Fill rate (%)", percent(booked, offered)),
        ("No-show rate (%)", percent(no_shows, attended + no_shows)),
    )
    return Table("sessions", "Live sessions", ("Figure", "Value"), rows, "Site filters by the session's site; department does not apply.")


def waiting_lists(session: Session, filters: Filters) -> Table:
    """People waiting for a seat in scheduled sessions, per theme and site."""
    site = func.coalesce(LiveSession.site, "Online")
    query = (
        select(ThemeRecord.title, site, func.count())
        .select_from(Booking)
        .join(LiveSession, LiveSession.id == Booking.session_id)
        .join(ThemeRecord, ThemeRecord.id == LiveSession.theme_id)
        .where(Booking.status == BookingStatus.WAITLISTED, LiveSession.status == SessionStatus.SCHEDULED)
        .group_by(ThemeRecord.title, ThemeRecord.position, site)
        .order_by(ThemeRecord.position, site)
    )
    rows = tuple((title, where, _int(n)) for title, where, n in session.execute(_session_filters(query, filters)))
    return Table("waiting-lists", "Waiting-list demand", ("Theme", "Site", "People waiting"), rows)


def _mentor_sessions(filters: Filters, mentor: Any) -> Select[*tuple[Any, ...]]:
    query = (
        select(SessionHost.mentor_id)
        .join(LiveSession, LiveSession.id == SessionHost.session_id)
        .join(mentor, mentor.id == SessionHost.mentor_id)
        .where(_held(filters), _in_period(LiveSession.starts_at, filters))
    )
    if filters.theme:
        query = query.where(LiveSession.theme_id == filters.theme)
    if filters.site:
        query = query.where(mentor.site == filters.site)
    return query


def mentors(session: Session, filters: Filters) -> Table:
    """Per mentor's site: mentors who led a session, sessions led, hours, learners reached."""
    mentor = aliased(User, name="mentor")
    led = _mentor_sessions(filters, mentor).with_only_columns(
        mentor.site, func.count(distinct(SessionHost.mentor_id)), func.count(), func.sum(LiveSession.duration_minutes)
    )
    reached_query = (
        _mentor_sessions(filters, mentor)
        .with_only_columns(mentor.site, func.count(distinct(Booking.learner_id)))
        .join(Booking, and_(Booking.session_id == LiveSession.id, Booking.attendance == Attendance.ATTENDED))
    )
    reached: dict[str, int] = dict(session.execute(reached_query.group_by(mentor.site)).all())
    rows = tuple(
        (site, _int(active), _int(sessions), _number(_int(minutes) / 60), _int(reached.get(site)))
        for site, active, sessions, minutes in session.execute(led.group_by(mentor.site).order_by(mentor.site))
    )
    columns = ("Site", "Active mentors", "Sessions led", "Hours", "Learners reached")
    return Table("mentors", "Mentors per site", columns, rows, "Sessions held in the period; co-hosted sessions count for each host.")


def mentor_recognition(session: Session, filters: Filters) -> Table:
    """Per mentor who led a session: their manager, sessions led and hours, most sessions first."""
    mentor = aliased(User, name="mentor")
    manager = aliased(User, name="manager")
    query = (
        _mentor_sessions(filters, mentor)
        .with_only_columns(mentor.name, mentor.email, manager.name, func.count(), func.sum(LiveSession.duration_minutes))
        .outerjoin(manager, manager.id == mentor.manager_id)
        .group_by(mentor.id, mentor.name, mentor.email, manager.name)
        .order_by(func.count().desc(), mentor.name)
    )
    rows = tuple(
        (name, email, boss or "", _int(n), _number(_int(minutes) / 60)) for name, email, boss, n, minutes in session.execute(query)
    )
    return Table("mentor-recognition", "Mentor recognition", ("Mentor", "E-mail", "Manager", "Sessions led", "Hours"), rows)


# ---- programme evaluation --------------------------------------------------------------------------------


def evaluation(session: Session, filters: Filters) -> Table:
    """The questionnaire: three yes shares and the mean satisfaction, each with its number of answers."""
    people = _people(filters)
    feedback = SessionFeedback
    query = (
        select(
            func.count(),
            _count_if(feedback.format_best_suited),
            _count_if(feedback.changed_daily_usage),
            _count_if(feedback.would_recommend),
            func.avg(feedback.satisfaction),
        )
        .join(Booking, Booking.id == feedback.booking_id)
        .join(LiveSession, LiveSession.id == Booking.session_id)
        .join(people, people.c.id == Booking.learner_id)
        .where(_in_period(feedback.created_at, filters))
    )
    if filters.theme:
        query = query.where(LiveSession.theme_id == filters.theme)
    answers, suited, changed, recommend, satisfaction = session.execute(query).one()
    n = _int(answers)
    rows: tuple[tuple[Cell, ...], ...] = (
        ("Find the format best suited to them (%)", percent(suited, n), n),
        ("Changed their daily digital usage (%)", percent(changed, n), n),
        ("Would recommend it to a colleague (%)", percent(recommend, n), n),
        ("Mean satisfaction (1 to 5)", _number(satisfaction, 2), n),
    )
    return Table("evaluation", "Programme evaluation", ("Question", "Result", "Answers"), rows)


# ---- breakdowns -----------------------------------------------------------------------------------------


def _age_band(people: Subquery, year: int) -> ColumnElement[str]:
    age = year - people.c.birth_year
    return case(
        (people.c.birth_year.is_(None), "unknown"),
        (age < 30, "under 30"),
        (age < 45, "30-44"),
        (age < 55, "45-54"),
        else_="55 and over",
    )


def _breakdown(session: Session, filters: Filters, dimension: str) -> list[tuple[Cell, ...]]:
    people = _people(filters)
    learners = _per_learner(people)
    total = _module_count(session)
    groups: dict[str, ColumnElement[Any]] = {
        "site": people.c.site,
        "department": func.coalesce(people.c.department, NO_DEPARTMENT),
        "age": _age_band(people, filters.as_of.year),
    }
    group = groups[dimension].label("grp")
    query = (
        select(
            group,
            func.count(),
            _count_if(_in_period(learners.c.first_opened, filters)),
            _count_if(and_(learners.c.done == total, _in_period(learners.c.last_completed, filters))),
        )
        .select_from(people.outerjoin(learners, learners.c.user_id == people.c.id))
        .group_by(group)
        .order_by(group)
    )
    return [_suppressed(name, _int(n), _int(started), _int(done)) for name, n, started, done in session.execute(query)]


def _suppressed(name: str, learners: int, started: int, done: int) -> tuple[Cell, ...]:
    if learners < SMALL_GROUP:
        return (name, SUPPRESSED, None, None, None)
    return (name, learners, started, done, percent(done, learners))


BREAKDOWN_COLUMNS = ("Learners", "Started", "Completed all five themes", "Completion rate (%)")
BREAKDOWN_NOTE = f"A group of fewer than {SMALL_GROUP} learners shows no figures, so that nobody can be singled out."


def by_site(session: Session, filters: Filters) -> Table:
    """Learners, started and completed per site, small groups suppressed."""
    rows = tuple(_breakdown(session, filters, "site"))
    return Table("by-site", "By site", ("Site", *BREAKDOWN_COLUMNS), rows, BREAKDOWN_NOTE)


def by_department(session: Session, filters: Filters) -> Table:
    """Learners, started and completed per department, small groups suppressed."""
    rows = tuple(_breakdown(session, filters, "department"))
    return Table("by-department", "By department", ("Department", *BREAKDOWN_COLUMNS), rows, BREAKDOWN_NOTE)


def by_age_band(session: Session, filters: Filters) -> Table:
    """Learners, started and completed per age band, small groups suppressed."""
    rows = sorted(_breakdown(session, filters, "age"), key=lambda row: AGE_BANDS.index(str(row[0])))
    return Table("by-age", "By age band", ("Age band", *BREAKDOWN_COLUMNS), tuple(rows), BREAKDOWN_NOTE)


# ---- trends ---------------------------------------------------------------------------------------------


def _monthly(session: Session, query: Select[*tuple[Any, ...]]) -> dict[str, int]:
    return {str(month): _int(n) for month, n in session.execute(query)}


def trends(session: Session, filters: Filters) -> Table:
    """Per month: new learners, module completions and sessions held."""
    people = _people(filters)
    joined_month = YearMonth(people.c.created_at)
    joined = select(joined_month, func.count()).where(_in_period(people.c.created_at, filters)).group_by(joined_month)
    done_month = YearMonth(ModuleProgress.completed_at)
    completions = (
        select(done_month, func.count())
        .join(people, people.c.id == ModuleProgress.user_id)
        .join(ModuleRecord, and_(ModuleRecord.id == ModuleProgress.module_id, _published(filters.theme)))
        .where(ModuleProgress.status == ModuleStatus.COMPLETED, _in_period(ModuleProgress.completed_at, filters))
        .group_by(done_month)
    )
    held_month = YearMonth(LiveSession.starts_at)
    held = _session_filters(select(held_month, func.count()).where(_held(filters)), filters).group_by(held_month)
    series = [_monthly(session, joined), _monthly(session, completions), _monthly(session, held)]
    months = sorted(set().union(*series))
    rows: tuple[tuple[Cell, ...], ...] = tuple((month, *(counts.get(month, 0) for counts in series)) for month in months)  # a few dozen months
    return Table("trends", "Trends by month", ("Month", "New learners", "Module completions", "Sessions held"), rows)


# ---- the whole dashboard --------------------------------------------------------------------------------

SECTIONS: tuple[tuple[str, tuple[Callable[[Session, Filters], Table], ...]], ...] = (
    ("Learning", (learning_summary, themes, funnel, modules)),
    ("Quizzes", (quizzes, hardest_questions)),
    ("Live sessions", (live_sessions, waiting_lists)),
    ("Mentors", (mentors, mentor_recognition)),
    ("Programme evaluation", (evaluation,)),
    ("Breakdowns", (by_site, by_department, by_age_band)),
    ("Trends", (trends,)),
)
TABLE_NAMES = {
    "learning": learning_summary,
    "themes": themes,
    "funnel": funnel,
    "modules": modules,
    "quizzes": quizzes,
    "hardest-questions": hardest_questions,
    "sessions": live_sessions,
    "waiting-lists": waiting_lists,
    "mentors": mentors,
    "mentor-recognition": mentor_recognition,
    "evaluation": evaluation,
    "by-site": by_site,
    "by-department": by_department,
    "by-age": by_age_band,
    "trends": trends,
}


def dashboard(session: Session, filters: Filters) -> list[tuple[str, list[Table]]]:
    """Every section of the dashboard with its tables."""
    return [(title, [build(session, filters) for build in builders]) for title, builders in SECTIONS]


def filter_choices(session: Session) -> dict[str, list[tuple[str, str]]]:
    """The sites, departments and themes the filter form offers, from what is recorded."""
    sites = session.scalars(select(User.site).distinct().where(User.role == Role.LEARNER).order_by(User.site))
    departments = session.scalars(
        select(User.department).distinct().where(User.role == Role.LEARNER, User.department.is_not(None)).order_by(User.department)
    )
    theme_rows = session.execute(select(ThemeRecord.id, ThemeRecord.title).order_by(ThemeRecord.position))
    return {
        "site": [(s, s) for s in sites],
        "department": [(d, d) for d in departments if d],
        "theme": [(theme_id, title) for theme_id, title in theme_rows],
    }


def learner_status_rows(session: Session, filters: Filters) -> tuple[list[str], Iterable[tuple[Any, ...]]]:
    """The per-person export: one row per learner, one status column per module, pivoted in SQL."""
    module_rows = session.execute(
        select(ModuleRecord.id, ModuleRecord.title)
        .join(ThemeRecord, ThemeRecord.id == ModuleRecord.theme_id)
        .where(_published(filters.theme))
        .order_by(ThemeRecord.position, ModuleRecord.position)
    ).all()
    people = _people(filters)
    statuses = [
        func.coalesce(func.max(case((ModuleProgress.module_id == module_id, ModuleProgress.status), else_=None)), ModuleStatus.NOT_STARTED)
        for module_id, _title in module_rows
    ]
    query = (
        select(User.email, User.name, User.site, User.department, *statuses)
        .join(people, people.c.id == User.id)
        .outerjoin(ModuleProgress, ModuleProgress.user_id == User.id)
        .group_by(User.id, User.email, User.name, User.site, User.department)
        .order_by(User.email)
        .execution_options(yield_per=2000)
    )
    header = ["E-mail", "Name", "Site", "Department", *(title for _id, title in module_rows)]
    return header, (tuple(row) for row in session.execute(query))

