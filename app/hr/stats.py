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
from typing import Any, TypeVar, cast

from sqlalchemy import ColumnElement, Select, String, Subquery, and_, case, distinct, func, select, type_coerce
from sqlalchemy.orm import Session, aliased

from course.progress import ModuleStatus
from course.sessions import SessionFormat

from .. import statistics
from ..models import (
    Booking,
    BookingStatus,
    LiveSession,
    ModuleProgress,
    ModuleRecord,
    ReachedLearner,
    SessionHost,
    SessionStatus,
    ThemeRecord,
    User,
    utcnow,
)
from .sql import YearMonth

Cell = str | int | float | None
Q = TypeVar("Q", bound=Select[*tuple[Any, ...]])
R = TypeVar("R")
MEMO = "hr_dashboard_figures"
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


def _published(theme: str | None = None) -> ColumnElement[bool]:
    condition = ModuleRecord.current_revision_id.is_not(None)
    return and_(condition, ModuleRecord.theme_id == theme) if theme else condition


def _module_count(session: Session) -> int:
    return _int(session.scalar(select(func.count()).select_from(ModuleRecord).where(_published())))


def _themes_with_modules() -> Subquery:
    return select(ModuleRecord.theme_id).where(_published()).group_by(ModuleRecord.theme_id).subquery("themes_with_modules")


def _memoized(session: Session, key: tuple[Any, ...], compute: Callable[[], R]) -> R:
    """Within one dashboard, a figure several tables share is computed once (see dashboard())."""
    memo = session.info.get(MEMO)
    if memo is None:
        return compute()
    if key not in memo:
        memo[key] = compute()
    return cast(R, memo[key])


# ---- daily counts (see app.statistics) ----------------------------------------------------------------------


def _counts(filters: Filters, *measures: str) -> Subquery:
    return statistics.counts_source(measures, filters.site, filters.department)


def _in_days(counts: Subquery, filters: Filters) -> ColumnElement[bool]:
    conditions: list[ColumnElement[bool]] = [counts.c.day.is_not(None)]
    if filters.date_from is not None:
        conditions.append(counts.c.day >= filters.date_from)
    if filters.date_to is not None:
        conditions.append(counts.c.day <= filters.date_to)
    return and_(*conditions)


def _sum_of(counts: Subquery, measure: str, column: str = "n") -> ColumnElement[int]:
    return func.coalesce(func.sum(case((counts.c.measure == measure, counts.c[column]), else_=0)), 0)


def _per_subject(filters: Filters, measures: dict[str, str], totals: tuple[str, ...] = ()) -> Subquery:
    """Per subject (module or theme) in the period: the count of each measure, labelled, and the totals asked for."""
    counts = _counts(filters, *measures.values())
    columns = [_sum_of(counts, measure).label(label) for label, measure in measures.items()]
    columns += [_sum_of(counts, measures[label], "total").label(f"{label}_total") for label in totals]
    return select(counts.c.subject, *columns).where(_in_days(counts, filters)).group_by(counts.c.subject).subquery("per_subject")


# ---- learning -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Group:
    """The learners of one site, department and age band, with what they did in the period."""

    site: str
    department: str
    age_band: str
    learners: int
    registered: int
    active: int
    started: int
    completed: int
    at_risk: int


def _age_band(people: Subquery, year: int) -> ColumnElement[str]:
    age = year - people.c.birth_year
    return case(
        (people.c.birth_year.is_(None), "unknown"),
        (age < 30, "under 30"),
        (age < 45, "30-44"),
        (age < 55, "45-54"),
        else_="55 and over",
    )


def learner_groups(session: Session, filters: Filters) -> list[Group]:
    """Learners grouped by site, department and age band, from one row per learner: a few hundred groups at most."""
    return _memoized(session, ("groups", filters), lambda: _learner_groups(session, filters))


def _learner_groups(session: Session, filters: Filters) -> list[Group]:
    people = statistics.learners(site=filters.site, department=filters.department)
    summary = people.c  # each learner's progress summary, kept on their row (see statistics.refresh_learner_summary)
    total = _module_count(session)
    since = filters.as_of - timedelta(days=INACTIVE_DAYS)
    site = people.c.site
    department = func.coalesce(people.c.department, NO_DEPARTMENT)
    band = _age_band(people, filters.as_of.year)
    query = (
        select(
            site,
            department,
            band,
            func.count(),
            _count_if(_in_period(people.c.created_at, filters)),
            _count_if(and_(summary.last_viewed_at >= since, summary.last_viewed_at <= filters.as_of)),
            _count_if(_in_period(summary.first_opened_at, filters)),
            _count_if(and_(summary.modules_done == total, _in_period(summary.last_completed_at, filters))),
            _count_if(and_(summary.modules_done < total, summary.last_viewed_at < since)),
        )
        .group_by(site, department, band)
    )
    return [Group(str(s), str(d), str(b), *map(_int, figures)) for s, d, b, *figures in session.execute(query)]


def learning_summary(session: Session, filters: Filters) -> Table:
    """Learners registered, active, started, completed all five themes, at risk; median days to complete a module."""
    groups = learner_groups(session, filters)
    rows: tuple[tuple[Cell, ...], ...] = (
        ("Learners registered", sum(g.registered for g in groups)),
        (f"Active in the last {INACTIVE_DAYS} days", sum(g.active for g in groups)),
        ("Started the course", sum(g.started for g in groups)),
        ("Completed all five themes", sum(g.completed for g in groups)),
        (f"At risk: started, not completed, inactive for {INACTIVE_DAYS} days", sum(g.at_risk for g in groups)),
        ("Median days from opening a module to completing it", median_days_to_complete(session, filters)),
    )
    note = "The median is exact to a tenth of a day under 3 days, then rounded to half days, days and weeks."
    return Table("learning", "Learning at a glance", ("Figure", "Value"), rows, note)


def median_days_to_complete(session: Session, filters: Filters) -> float | None:
    """The median of days from first opening a module to completing it, over completions in the period.

    Exact to a tenth of a day under 3 days, then to half a day, a day, a week (see statistics.duration_bucket).
    """
    counts = _counts(filters, statistics.COMPLETION_TENTHS)
    query = select(counts.c.detail, func.sum(counts.c.n)).where(_in_days(counts, filters)).group_by(counts.c.detail)
    if filters.theme:
        query = query.where(counts.c.subject == filters.theme)
    histogram = sorted((int(tenths), _int(n)) for tenths, n in session.execute(query))
    return median_of_histogram(histogram)


def median_of_histogram(histogram: list[tuple[int, int]]) -> float | None:
    """The median, in days, of values given in tenths of a day as (value, how many) pairs sorted by value."""
    size = sum(n for _value, n in histogram)
    if not size:
        return None
    wanted = [(size + 1) // 2, (size + 2) // 2]
    found: list[int] = []
    seen = 0
    for value, n in histogram:
        seen += n
        while wanted and wanted[0] <= seen:
            found.append(value)
            wanted.pop(0)
    return round(sum(found) / len(found) / 10, 1)


def themes(session: Session, filters: Filters) -> Table:
    """Per theme: learners who started it, who completed every module of it, and the completion rate."""
    per_theme = _per_subject(filters, {"started": statistics.THEME_STARTED, "done": statistics.THEME_COMPLETED})
    with_modules = _themes_with_modules()
    query = (
        select(ThemeRecord.title, per_theme.c.started, per_theme.c.done)
        .join(with_modules, with_modules.c.theme_id == ThemeRecord.id)
        .outerjoin(per_theme, per_theme.c.subject == ThemeRecord.id)
        .order_by(ThemeRecord.position)
    )
    if filters.theme:
        query = query.where(ThemeRecord.id == filters.theme)
    rows = tuple((title, _int(started), _int(done), percent(done, started)) for title, started, done in session.execute(query))
    return Table("themes", "Themes: started and completed", ("Theme", "Started", "Completed", "Completion rate (%)"), rows)


def modules(session: Session, filters: Filters) -> Table:
    """Per module: learners who opened it and completed it in the period, and the completion rate."""
    per_module = _per_subject(filters, {"opened": statistics.MODULE_OPENED, "done": statistics.MODULE_COMPLETED})
    query = (
        select(ModuleRecord.title, ThemeRecord.title, per_module.c.opened, per_module.c.done)
        .join(ThemeRecord, ThemeRecord.id == ModuleRecord.theme_id)
        .outerjoin(per_module, per_module.c.subject == ModuleRecord.id)
        .where(_published(filters.theme))
        .order_by(ThemeRecord.position, ModuleRecord.position)
    )
    rows = tuple((title, theme, _int(opened), _int(done), percent(done, opened)) for title, theme, opened, done in session.execute(query))
    return Table("modules", "Modules: opened and completed", ("Module", "Theme", "Opened", "Completed", "Completion rate (%)"), rows)


def funnel(session: Session, filters: Filters) -> Table:
    """Per theme: learners who first opened one of its modules, first tried one of its quizzes, first passed one, in the period."""
    stages = {"opened": statistics.THEME_STARTED, "tried": statistics.QUIZ_TRIED, "passed": statistics.QUIZ_PASSED}
    per_theme = _per_subject(filters, stages)
    query = (
        select(ThemeRecord.title, per_theme.c.opened, per_theme.c.tried, per_theme.c.passed)
        .outerjoin(per_theme, per_theme.c.subject == ThemeRecord.id)
        .order_by(ThemeRecord.position)
    )
    if filters.theme:
        query = query.where(ThemeRecord.id == filters.theme)
    rows = tuple((title, _int(o), _int(t), _int(p)) for title, o, t, p in session.execute(query))
    note = "Each learner counts once per stage and theme, in the period of their first opening, first try and first pass."
    return Table("funnel", "Funnel per theme", ("Theme", "Opened a module", "Tried a quiz", "Passed a quiz"), rows, note)


# ---- quizzes --------------------------------------------------------------------------------------------


def quizzes(session: Session, filters: Filters) -> Table:
    """Per module with a quiz: attempts, average score, and the share of first tries that passed."""
    measures = {"attempts": statistics.ATTEMPTS, "firsts": statistics.FIRST_TRIES}
    per_module = _per_subject(filters, measures, totals=("attempts", "firsts"))
    query = (
        select(
            ModuleRecord.title, per_module.c.attempts, per_module.c.attempts_total, per_module.c.firsts, per_module.c.firsts_total
        )
        .join(ThemeRecord, ThemeRecord.id == ModuleRecord.theme_id)
        .join(per_module, per_module.c.subject == ModuleRecord.id)
        .where(_published(filters.theme), per_module.c.attempts > 0)
        .order_by(ThemeRecord.position, ModuleRecord.position)
    )
    rows = tuple(
        (title, _int(n), _number(_int(scores) / _int(n)), percent(passed, tries))
        for title, n, scores, tries, passed in session.execute(query)
    )
    return Table("quizzes", "Quizzes per module", ("Module", "Attempts", "Average score (%)", "First-try pass rate (%)"), rows)


def hardest_questions(session: Session, filters: Filters, limit: int = 10) -> Table:
    """The questions with the lowest share of right answers at the first try."""
    counts = _counts(filters, statistics.FIRST_TRY_ANSWERS)
    answers, right = func.sum(counts.c.n), func.sum(counts.c.total)
    query = (
        select(ModuleRecord.title, counts.c.detail, answers, right)
        .join(ModuleRecord, and_(ModuleRecord.id == counts.c.subject, _published(filters.theme)))
        .where(_in_days(counts, filters))
        .group_by(ModuleRecord.title, counts.c.subject, counts.c.detail)
        .having(answers > 0)
        .order_by((right * 1.0 / answers).asc(), answers.desc(), counts.c.subject, counts.c.detail)
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
    scheduled = LiveSession.status == SessionStatus.SCHEDULED

    def seats(column: Any) -> ColumnElement[int]:
        return func.coalesce(func.sum(case((scheduled, column), else_=0)), 0)

    # Each session carries its seats taken, attended and no-shows (see app.session_figures): no booking is read.
    query = select(
        _count_if(_held(filters)),
        _count_if(and_(scheduled, LiveSession.starts_at >= filters.now)),
        _count_if(LiveSession.status == SessionStatus.CANCELLED),
        _count_if(and_(scheduled, LiveSession.format == SessionFormat.INDIVIDUAL)),
        _count_if(and_(scheduled, LiveSession.format == SessionFormat.COLLECTIVE)),
        seats(LiveSession.capacity),
        seats(LiveSession.seats_taken),
        seats(LiveSession.seats_attended),
        seats(LiveSession.no_shows),
    )
    figures = map(_int, session.execute(_session_filters(query, filters)).one())
    held, upcoming, cancelled, individual, collective, offered, booked, attended, no_shows = figures
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


@dataclass(frozen=True)
class Led:
    """What one mentor led in the period: sessions held and their minutes."""

    name: str
    email: str
    manager: str
    site: str
    sessions: int
    minutes: int


def sessions_led(session: Session, filters: Filters) -> list[Led]:
    """Per mentor who led a session held in the period: one grouped query, shared by the two mentor tables."""
    return _memoized(session, ("led", filters), lambda: _sessions_led(session, filters))


def _sessions_led(session: Session, filters: Filters) -> list[Led]:
    # Sessions are counted per mentor first, then each of these few hundred rows meets its mentor and manager.
    per_mentor = (
        select(SessionHost.mentor_id, func.count().label("sessions"), func.sum(LiveSession.duration_minutes).label("minutes"))
        .join(LiveSession, LiveSession.id == SessionHost.session_id)
        .where(_held(filters), _in_period(LiveSession.starts_at, filters))
        .group_by(SessionHost.mentor_id)
    )
    if filters.theme:
        per_mentor = per_mentor.where(LiveSession.theme_id == filters.theme)
    led = per_mentor.subquery("led")
    mentor = aliased(User, name="mentor")
    manager = aliased(User, name="manager")
    query = (
        select(mentor.name, mentor.email, manager.name, mentor.site, led.c.sessions, led.c.minutes)
        .join(mentor, mentor.id == led.c.mentor_id)
        .outerjoin(manager, manager.id == mentor.manager_id)
    )
    if filters.site:
        query = query.where(mentor.site == filters.site)
    return [Led(name, email, boss or "", site, _int(n), _int(minutes)) for name, email, boss, site, n, minutes in session.execute(query)]


def mentors(session: Session, filters: Filters) -> Table:
    """Per mentor's site: mentors who led a session, sessions led, hours, learners reached."""
    per_site: dict[str, list[int]] = {}
    for led in sessions_led(session, filters):  # a few hundred mentors at most
        figures = per_site.setdefault(led.site, [0, 0, 0])
        figures[0], figures[1], figures[2] = figures[0] + 1, figures[1] + led.sessions, figures[2] + led.minutes
    reached = learners_reached(session, filters)
    rows = tuple(
        (site, active, sessions, _number(minutes / 60), _int(reached.get(site))) for site, (active, sessions, minutes) in sorted(per_site.items())
    )
    columns = ("Site", "Active mentors", "Sessions led", "Hours", "Learners reached")
    return Table("mentors", "Mentors per site", columns, rows, "Sessions held in the period; co-hosted sessions count for each host.")


def learners_reached(session: Session, filters: Filters) -> dict[str, int]:
    """Per mentors' site: the distinct learners who attended a session they led, held in the period."""
    reached = ReachedLearner  # one row per learner, session attended and site of its mentors (see app.session_figures)
    conditions = [reached.starts_at < filters.now, _in_period(reached.starts_at, filters)]
    if filters.theme:
        conditions.append(reached.theme_id == filters.theme)
    if filters.site:
        conditions.append(reached.site == filters.site)
    query = select(reached.site, func.count(distinct(reached.learner_id))).where(*conditions).group_by(reached.site)
    return {site: _int(n) for site, n in session.execute(query)}


def mentor_recognition(session: Session, filters: Filters) -> Table:
    """Per mentor who led a session: their manager, sessions led and hours, most sessions first."""
    ranked = sorted(sessions_led(session, filters), key=lambda led: (-led.sessions, led.name, led.email))
    rows = tuple((led.name, led.email, led.manager, led.sessions, _number(led.minutes / 60)) for led in ranked)
    return Table("mentor-recognition", "Mentor recognition", ("Mentor", "E-mail", "Manager", "Sessions led", "Hours"), rows)


# ---- programme evaluation --------------------------------------------------------------------------------


def evaluation(session: Session, filters: Filters) -> Table:
    """The questionnaire: three yes shares and the mean satisfaction, each with its number of answers."""
    questions = statistics.QUESTIONNAIRE  # best suited, changed usage, would recommend, satisfaction
    counts = _counts(filters, *questions)
    query = select(counts.c.measure, func.sum(counts.c.n), func.sum(counts.c.total)).where(_in_days(counts, filters))
    if filters.theme:
        query = query.where(counts.c.subject == filters.theme)
    answered = {measure: (_int(n), _int(total)) for measure, n, total in session.execute(query.group_by(counts.c.measure))}
    (n, suited), (_, changed), (_, recommend), (_, satisfaction) = (answered.get(question, (0, 0)) for question in questions)
    rows: tuple[tuple[Cell, ...], ...] = (
        ("Find the format best suited to them (%)", percent(suited, n), n),
        ("Changed their daily digital usage (%)", percent(changed, n), n),
        ("Would recommend it to a colleague (%)", percent(recommend, n), n),
        ("Mean satisfaction (1 to 5)", _number(satisfaction / n, 2) if n else None, n),
    )
    return Table("evaluation", "Programme evaluation", ("Question", "Result", "Answers"), rows)


# ---- breakdowns -----------------------------------------------------------------------------------------


def _breakdown(session: Session, filters: Filters, dimension: str) -> list[tuple[Cell, ...]]:
    totals: dict[str, list[int]] = {}
    for group in learner_groups(session, filters):
        figures = totals.setdefault(getattr(group, dimension), [0, 0, 0])
        for index, value in enumerate((group.learners, group.started, group.completed)):
            figures[index] += value
    return [_suppressed(name, *figures) for name, figures in sorted(totals.items())]


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
    rows = sorted(_breakdown(session, filters, "age_band"), key=lambda row: AGE_BANDS.index(str(row[0])))
    return Table("by-age", "By age band", ("Age band", *BREAKDOWN_COLUMNS), tuple(rows), BREAKDOWN_NOTE)


# ---- trends ---------------------------------------------------------------------------------------------


def _monthly(session: Session, query: Select[*tuple[Any, ...]]) -> dict[str, int]:
    return {str(month): _int(n) for month, n in session.execute(query)}


def trends(session: Session, filters: Filters) -> Table:
    """Per month: new learners, module completions and sessions held."""
    counts = _counts(filters, statistics.LEARNER_JOINED)
    joined_month = YearMonth(counts.c.day)
    joined = select(joined_month, func.sum(counts.c.n)).where(_in_days(counts, filters)).group_by(joined_month)
    counts = _counts(filters, statistics.MODULE_COMPLETED)
    done_month = YearMonth(counts.c.day)
    completions = (
        select(done_month, func.sum(counts.c.n))
        .join(ModuleRecord, and_(ModuleRecord.id == counts.c.subject, _published(filters.theme)))
        .where(_in_days(counts, filters))
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
    session.info[MEMO] = {}
    try:
        return [(title, [build(session, filters) for build in builders]) for title, builders in SECTIONS]
    finally:
        session.info.pop(MEMO, None)


def filter_choices(session: Session) -> dict[str, list[tuple[str, str]]]:
    """The sites, departments and themes the filter form offers, from what is recorded."""
    sites, departments = _values_of_learners(session, User.site), _values_of_learners(session, User.department)
    theme_rows = session.execute(select(ThemeRecord.id, ThemeRecord.title).order_by(ThemeRecord.position))
    return {
        "site": [(s, s) for s in sites],
        "department": [(d, d) for d in departments],
        "theme": [(theme_id, title) for theme_id, title in theme_rows],
    }


def _values_of_learners(session: Session, column: Any) -> list[str]:
    """The distinct values of a column over active learners, smallest first, found one index probe per value."""
    learner = statistics.is_learner()
    found = select(func.min(column).label("value")).where(*learner).cte("found", recursive=True)
    following = select(func.min(column)).where(*learner, column > found.c.value).scalar_subquery()
    found = found.union_all(select(following).where(found.c.value.is_not(None)))
    return [value for value in session.scalars(select(found.c.value)) if value is not None]


def learner_status_rows(session: Session, filters: Filters) -> tuple[list[str], Iterable[tuple[Any, ...]]]:
    """The per-person export: one row per learner, one status column per module, pivoted in SQL."""
    module_rows = session.execute(
        select(ModuleRecord.id, ModuleRecord.title)
        .join(ThemeRecord, ThemeRecord.id == ModuleRecord.theme_id)
        .where(_published(filters.theme))
        .order_by(ThemeRecord.position, ModuleRecord.position)
    ).all()
    status = type_coerce(ModuleProgress.status, String)  # written out as it is stored: no conversion per cell
    statuses = [
        func.coalesce(func.max(case((ModuleProgress.module_id == module_id, status), else_=None)), ModuleStatus.NOT_STARTED.value)
        for module_id, _title in module_rows
    ]
    query = (
        select(User.email, User.name, User.site, User.department, *statuses)
        .where(*statistics.is_learner(filters.site, filters.department))
        .outerjoin(ModuleProgress, ModuleProgress.user_id == User.id)
        .group_by(User.id, User.email, User.name, User.site, User.department)
        .order_by(User.email)
        .execution_options(yield_per=2000)
    )
    header = ["E-mail", "Name", "Site", "Department", *(title for _id, title in module_rows)]
    return header, (tuple(row) for row in session.execute(query))
