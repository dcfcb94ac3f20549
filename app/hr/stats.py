"""The programme's figures for HR: pure query functions over a Session and Filters, each giving one Table.

Every figure is a SQL aggregate (GROUP BY, COUNT, CASE, window functions); Python only merges a handful of
grouped rows (by theme, site or month) and turns counts into percentages. "Learners" are active accounts with
the learner role. The period filters each figure by the date of its own event: registration, first opening,
completion, quiz attempt, session start, questionnaire answer. Site and department filter learners (and, for
live sessions and mentors, the session's site and the mentor's site); the theme filters modules and sessions.

No figure about fewer than 5 learners is shown or can be worked out from other views: each table applies the rule of
`app.hr.privacy`, from counts its own grouped queries return and at most one more grouped query per table.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any, TypeVar, cast

from sqlalchemy import ColumnElement, Select, String, Subquery, and_, case, distinct, func, not_, select, text, type_coerce
from sqlalchemy.orm import Session, aliased

from course.progress import ModuleStatus
from course.sessions import SessionFormat

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
from . import privacy, rollups
from .models import ANSWERED, Contribution, CountedLearner, DailyCount
from .privacy import ALL, WITHHELD, row_marker
from .sql import YearMonth

Cell = str | int | float | None
Q = TypeVar("Q", bound=Select[*tuple[Any, ...]])
R = TypeVar("R")
MEMO = "hr_dashboard_figures"
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


# ---- privacy: the organisation's pattern and the views wider than this one (see app.hr.privacy) -------------

PLACE_AND_PERIOD = ("site", "department", "date_from", "date_to")
EVERY_FILTER = (*PLACE_AND_PERIOD, "theme")
HIDDEN_TOGETHER = "Groups not shown above, together"
BASE_NOTE = (
    f"A row whose figures are over fewer than {privacy.MIN_GROUP} learners ({{base}}), or whose difference with a wider "
    "view (fewer filters) would be such a group, shows no figure."
)
BaseKey = tuple[str, str, str]  # measure, subject, detail: one base of a row of the learning tables
# The counts the learning tables' rows are over: each learner counts once per subject, so two views differ by learners.
BASE_MEASURES = (
    rollups.THEME_STARTED,
    rollups.QUIZ_TRIED,
    rollups.MODULE_OPENED,
    rollups.FIRST_TRIES,
    rollups.ATTEMPTS,
    rollups.FIRST_TRY_ANSWERS,
)


def wider_views(filters: Filters, names: tuple[str, ...] = PLACE_AND_PERIOD) -> list[Filters]:
    """Every view holding this one: the same filters with one or more of `names` (site, department, theme, dates) removed."""
    return privacy.wider_views(filters, names)


def suppression(session: Session, filters: Filters) -> privacy.Pattern:
    """Which cells of the organisation's site × department × age band cube no view may show."""
    return _memoized(session, ("pattern", filters.as_of.year), lambda: privacy.suppression_pattern(_organisation(session, filters)))


def _organisation(session: Session, filters: Filters) -> dict[privacy.Leaf, int]:
    """The learners of every site, department and age band at the period's end, whatever this view narrows to."""
    if not (filters.site or filters.department):
        return {(g.site, g.department, g.age_band): g.learners for g in learner_groups(session, filters)}  # the page's own query
    people = CountedLearner
    department = func.coalesce(people.department, NO_DEPARTMENT)
    band = _age_band(people.birth_year, filters.as_of.year)
    query = select(people.site, department, band, func.count()).group_by(people.site, department, band)
    return {(str(site), str(dept), str(age)): _int(n) for site, dept, age, n in session.execute(query)}


def view_marker(session: Session, filters: Filters) -> str | None:
    """What every figure about this view's learners says when the view is refused; None when it is shown."""
    return suppression(session, filters).marker((filters.site, filters.department, ALL))


def _hidden_row(labels: tuple[Cell, ...], marker: str, width: int) -> tuple[Cell, ...]:
    """A row that keeps its labels and says `marker` in its first figure's place, its other cells left empty."""
    return (*labels, marker, *([None] * (width - len(labels) - 1)))


@dataclass(frozen=True)
class Guard:
    """What a learning table needs to hide its rows: whether the view is refused, and the rows' bases in every wider view."""

    refused: str | None
    wider: list[dict[BaseKey, int]]

    def marker(self, bases: dict[BaseKey, int]) -> str | None:
        """What a row over these bases says instead of its figures (see privacy.row_marker); None to show them."""
        if self.refused:
            return self.refused
        outside = [counts.get(key, 0) - n for counts in self.wider for key, n in bases.items()]
        return row_marker(list(bases.values()), outside)


def learning_guard(session: Session, filters: Filters) -> Guard:
    """The guard of a learning table, read once per table (or once per dashboard): never a query per row."""
    refused = view_marker(session, filters)
    views = [] if refused else wider_views(filters)
    if not views:
        return Guard(refused, [])
    return Guard(None, _memoized(session, ("wider bases", filters), lambda: _count_bases(session, views)))


def _count_bases(session: Session, views: list[Filters]) -> list[dict[BaseKey, int]]:
    periods = sorted({(view.date_from, view.date_to) for view in views}, key=str)
    places = {(view.site, view.department) for view in views}
    found: dict[tuple[tuple[str | None, str | None], tuple[date | None, date | None]], dict[BaseKey, int]] = {}

    def record(place: tuple[str | None, str | None], key: BaseKey, sums: Iterable[Any]) -> None:
        for period, n in zip(periods, sums, strict=True):
            found.setdefault((place, period), {})[key] = _int(n)

    rolled_up = [(site, department) for site, department in places if not (site and department)]
    key = (DailyCount.measure, DailyCount.subject, DailyCount.detail)
    for place in rolled_up:  # one query per family: each an index-only scan of its own rows, where an OR of them is not
        family = and_(DailyCount.site == (place[0] or rollups.EVERYONE), DailyCount.department == (place[1] or rollups.EVERYONE))
        query = select(*key, *_sums_per_period(DailyCount.day, DailyCount.n, periods)).where(family, DailyCount.measure.in_(BASE_MEASURES))
        for measure, subject, detail, *sums in session.execute(query.group_by(*key)):
            record(place, (measure, subject, detail), sums)
    for place in places - set(rolled_up):  # a site and a department: counted live, as the tables do
        live = counts_source(BASE_MEASURES, *place)
        by = (live.c.measure, live.c.subject, live.c.detail)
        for measure, subject, detail, *sums in session.execute(select(*by, *_sums_per_period(live.c.day, live.c.n, periods)).group_by(*by)):
            record(place, (measure, subject, detail), sums)
    return [found.get(((view.site, view.department), (view.date_from, view.date_to)), {}) for view in views]


def _sums_per_period(day: Any, n: Any, periods: list[tuple[date | None, date | None]]) -> list[ColumnElement[int]]:
    sums: list[ColumnElement[int]] = []
    for start, end in periods:
        conditions = [day.is_not(None)] + ([day >= start] if start else []) + ([day <= end] if end else [])
        sums.append(func.coalesce(func.sum(case((and_(*conditions), n), else_=0)), 0))
    return sums


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
    """Within one dashboard or export, a figure several tables share is computed once (see _sharing_figures)."""
    memo = session.info.get(MEMO)
    if memo is None:
        return compute()
    if key not in memo:
        memo[key] = compute()
    return cast(R, memo[key])


# ---- daily counts (see app.hr.refresh) ----------------------------------------------------------------------


def _counts(filters: Filters, *measures: str) -> Subquery:
    return counts_source(measures, filters.site, filters.department)


def counts_source(measures: Iterable[str], site: str | None = None, department: str | None = None) -> Subquery:
    """The daily counts of `measures` for everyone, one site or one department; summed from the learners' own for a site and a department."""
    wanted = list(measures)
    if site and department:  # a few hundred learners: their stored contributions, summed here
        c = Contribution
        people = and_(CountedLearner.user_id == c.user_id, CountedLearner.site == site, CountedLearner.department == department)
        by = (c.measure, c.subject, c.detail, c.day)
        query = select(*by, func.sum(c.n).label("n"), func.sum(c.total).label("total")).join(CountedLearner, people).where(c.measure.in_(wanted))
        return query.group_by(*by).subquery("counts")
    columns = (DailyCount.measure, DailyCount.subject, DailyCount.detail, DailyCount.day, DailyCount.n, DailyCount.total)
    family = and_(DailyCount.site == (site or rollups.EVERYONE), DailyCount.department == (department or rollups.EVERYONE))
    return select(*columns).where(family, DailyCount.measure.in_(wanted)).subquery("counts")


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


def _age_band(birth_year: Any, year: int) -> ColumnElement[str]:
    age = year - birth_year
    return case(
        (birth_year.is_(None), "unknown"),
        (age < 30, "under 30"),
        (age < 45, "30-44"),
        (age < 55, "45-54"),
        else_="55 and over",
    )


def _counted_in(site: str | None, department: str | None) -> list[ColumnElement[bool]]:
    """The conditions on a counted learner for being of this site and department (None: any)."""
    return ([CountedLearner.site == site] if site else []) + ([CountedLearner.department == department] if department else [])


def learner_groups(session: Session, filters: Filters) -> list[Group]:
    """Learners grouped by site, department and age band, from one row per learner: a few hundred groups at most."""
    return _memoized(session, ("groups", filters), lambda: _learner_groups(session, filters))


def _learner_groups(session: Session, filters: Filters) -> list[Group]:
    summary = CountedLearner  # each learner's place and progress summary when last counted (see app.hr.refresh)
    total = _module_count(session)
    since = filters.as_of - timedelta(days=INACTIVE_DAYS)
    site = summary.site
    department = func.coalesce(summary.department, NO_DEPARTMENT)
    band = _age_band(summary.birth_year, filters.as_of.year)
    query = (
        select(
            site,
            department,
            band,
            func.count(),
            _count_if(_in_period(summary.joined_at, filters)),
            _count_if(and_(summary.last_viewed_at >= since, summary.last_viewed_at <= filters.as_of)),
            _count_if(_in_period(summary.first_opened_at, filters)),
            _count_if(and_(summary.modules_done == total, _in_period(summary.last_completed_at, filters))),
            _count_if(and_(summary.modules_done < total, summary.last_viewed_at < since)),
        )
        .where(*_counted_in(filters.site, filters.department))
        .group_by(site, department, band)
    )
    return [Group(str(s), str(d), str(b), *map(_int, figures)) for s, d, b, *figures in session.execute(query)]


def learning_summary(session: Session, filters: Filters) -> Table:
    """Learners registered, active, started, completed all five themes, at risk; median days to complete a module."""
    labels = (
        "Learners registered",
        f"Active in the last {INACTIVE_DAYS} days",
        "Started the course",
        "Completed all five themes",
        f"At risk: started, not completed, inactive for {INACTIVE_DAYS} days",
        "Median days from opening a module to completing it",
    )
    note = "The median is exact to a tenth of a day under 3 days, then rounded to half days, days and weeks."
    hidden = view_marker(session, filters)
    if hidden:
        return Table("learning", "Learning at a glance", ("Figure", "Value"), tuple((label, hidden) for label in labels), note)
    groups = learner_groups(session, filters)
    figures: list[Cell] = [
        sum(g.registered for g in groups),
        sum(g.active for g in groups),
        sum(g.started for g in groups),
        sum(g.completed for g in groups),
        sum(g.at_risk for g in groups),
        _median_if_enough_learners(session, filters),
    ]
    return Table("learning", "Learning at a glance", ("Figure", "Value"), tuple(zip(labels, figures, strict=True)), note)


def _median_if_enough_learners(session: Session, filters: Filters) -> Cell:
    """The median, unless the completions it is over may come from fewer than 5 learners."""
    # Each learner completes a module once, so the module completed most often gives a floor on the learners counted.
    # A median cannot be subtracted from another view's, so no wider view is compared.
    counts = _counts(filters, rollups.MODULE_COMPLETED)
    per_module = (
        select(func.sum(counts.c.n).label("n"))
        .join(ModuleRecord, and_(ModuleRecord.id == counts.c.subject, _published(filters.theme)))
        .where(_in_days(counts, filters))
        .group_by(counts.c.subject)
        .subquery("per_module")
    )
    marker = row_marker([_int(session.scalar(select(func.max(per_module.c.n))))])
    return marker or median_days_to_complete(session, filters)


def median_days_to_complete(session: Session, filters: Filters) -> float | None:
    """The median of days from first opening a module to completing it, over completions in the period.

    Exact to a tenth of a day under 3 days, then to half a day, a day, a week (see rollups.duration_bucket).
    """
    counts = _counts(filters, rollups.COMPLETION_TENTHS)
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
    per_theme = _per_subject(filters, {"started": rollups.THEME_STARTED, "done": rollups.THEME_COMPLETED})
    with_modules = _themes_with_modules()
    query = (
        select(ThemeRecord.id, ThemeRecord.title, per_theme.c.started, per_theme.c.done)
        .join(with_modules, with_modules.c.theme_id == ThemeRecord.id)
        .outerjoin(per_theme, per_theme.c.subject == ThemeRecord.id)
        .order_by(ThemeRecord.position)
    )
    if filters.theme:
        query = query.where(ThemeRecord.id == filters.theme)
    guard = learning_guard(session, filters)
    rows = []
    for theme_id, title, started, done in session.execute(query):
        marker = guard.marker({(rollups.THEME_STARTED, theme_id, ""): _int(started)})
        rows.append(_hidden_row((title,), marker, 4) if marker else (title, _int(started), _int(done), percent(done, started)))
    columns = ("Theme", "Started", "Completed", "Completion rate (%)")
    return Table("themes", "Themes: started and completed", columns, tuple(rows), BASE_NOTE.format(base="who started it"))


def modules(session: Session, filters: Filters) -> Table:
    """Per module: learners who opened it and completed it in the period, and the completion rate."""
    per_module = _per_subject(filters, {"opened": rollups.MODULE_OPENED, "done": rollups.MODULE_COMPLETED})
    query = (
        select(ModuleRecord.id, ModuleRecord.title, ThemeRecord.title, per_module.c.opened, per_module.c.done)
        .join(ThemeRecord, ThemeRecord.id == ModuleRecord.theme_id)
        .outerjoin(per_module, per_module.c.subject == ModuleRecord.id)
        .where(_published(filters.theme))
        .order_by(ThemeRecord.position, ModuleRecord.position)
    )
    guard = learning_guard(session, filters)
    rows = []
    for module_id, title, theme, opened, done in session.execute(query):
        marker = guard.marker({(rollups.MODULE_OPENED, module_id, ""): _int(opened)})
        rows.append(_hidden_row((title, theme), marker, 5) if marker else (title, theme, _int(opened), _int(done), percent(done, opened)))
    columns = ("Module", "Theme", "Opened", "Completed", "Completion rate (%)")
    return Table("modules", "Modules: opened and completed", columns, tuple(rows), BASE_NOTE.format(base="who opened it"))


def funnel(session: Session, filters: Filters) -> Table:
    """Per theme: learners who first opened one of its modules, first tried one of its quizzes, first passed one, in the period."""
    stages = {"opened": rollups.THEME_STARTED, "tried": rollups.QUIZ_TRIED, "passed": rollups.QUIZ_PASSED}
    per_theme = _per_subject(filters, stages)
    query = (
        select(ThemeRecord.id, ThemeRecord.title, per_theme.c.opened, per_theme.c.tried, per_theme.c.passed)
        .outerjoin(per_theme, per_theme.c.subject == ThemeRecord.id)
        .order_by(ThemeRecord.position)
    )
    if filters.theme:
        query = query.where(ThemeRecord.id == filters.theme)
    guard = learning_guard(session, filters)
    rows = []
    for theme_id, title, opened, tried, passed in session.execute(query):
        marker = guard.marker({(rollups.THEME_STARTED, theme_id, ""): _int(opened), (rollups.QUIZ_TRIED, theme_id, ""): _int(tried)})
        rows.append(_hidden_row((title,), marker, 4) if marker else (title, _int(opened), _int(tried), _int(passed)))
    note = (
        "Each learner counts once per stage and theme, in the period of their first opening, first try and first pass. "
        + BASE_NOTE.format(base="who opened a module or tried a quiz of it")
    )
    return Table("funnel", "Funnel per theme", ("Theme", "Opened a module", "Tried a quiz", "Passed a quiz"), tuple(rows), note)


# ---- quizzes --------------------------------------------------------------------------------------------


def quizzes(session: Session, filters: Filters) -> Table:
    """Per module with a quiz: attempts, average score, and the share of first tries that passed."""
    measures = {"attempts": rollups.ATTEMPTS, "firsts": rollups.FIRST_TRIES}
    per_module = _per_subject(filters, measures, totals=("attempts", "firsts"))
    query = (
        select(
            ModuleRecord.id,
            ModuleRecord.title,
            per_module.c.attempts,
            per_module.c.attempts_total,
            per_module.c.firsts,
            per_module.c.firsts_total,
        )
        .join(ThemeRecord, ThemeRecord.id == ModuleRecord.theme_id)
        .join(per_module, per_module.c.subject == ModuleRecord.id)
        .where(_published(filters.theme), per_module.c.attempts > 0)
        .order_by(ThemeRecord.position, ModuleRecord.position)
    )
    guard = learning_guard(session, filters)
    rows = []
    for module_id, title, n, scores, tries, passed in session.execute(query):
        # Attempts stand in for the learners behind the average score: it counts retries too.
        marker = guard.marker({(rollups.FIRST_TRIES, module_id, ""): _int(tries), (rollups.ATTEMPTS, module_id, ""): _int(n)})
        rows.append(_hidden_row((title,), marker, 4) if marker else (title, _int(n), _number(_int(scores) / _int(n)), percent(passed, tries)))
    columns = ("Module", "Attempts", "Average score (%)", "First-try pass rate (%)")
    return Table("quizzes", "Quizzes per module", columns, tuple(rows), BASE_NOTE.format(base="who tried its quiz for the first time, or its attempts"))


def hardest_questions(session: Session, filters: Filters, limit: int = 10) -> Table:
    """The questions with the lowest share of right answers at the first try."""
    columns = ("Module", "Question", "First-try answers", "Right at first try (%)")
    note = (
        f"Questions answered at the first try by fewer than {privacy.MIN_GROUP} learners, or whose difference with a wider "
        "view (fewer filters) would be such a group, are left out to protect privacy."
    )
    guard = learning_guard(session, filters)
    if guard.refused:
        return Table("hardest-questions", "Hardest questions", columns, (_hidden_row(("Every module", "Every question"), guard.refused, 4),), note)
    counts = _counts(filters, rollups.FIRST_TRY_ANSWERS)
    answers, right = func.sum(counts.c.n), func.sum(counts.c.total)
    query = (
        select(counts.c.subject, ModuleRecord.title, counts.c.detail, answers, right)
        .join(ModuleRecord, and_(ModuleRecord.id == counts.c.subject, _published(filters.theme)))
        .where(_in_days(counts, filters))
        .group_by(ModuleRecord.title, counts.c.subject, counts.c.detail)
        .having(answers > 0)
        .order_by((right * 1.0 / answers).asc(), answers.desc(), counts.c.subject, counts.c.detail)
    )
    # Hidden questions are dropped before ranking, not marked: a marked row's place in the ranking would tell its share.
    rows: list[tuple[Cell, ...]] = []
    for module_id, title, question, n, ok in session.execute(query):  # a few hundred questions at most
        if len(rows) < limit and not guard.marker({(rollups.FIRST_TRY_ANSWERS, module_id, question): _int(n)}):
            rows.append((title, question, _int(n), percent(ok, n)))
    return Table("hardest-questions", "Hardest questions", columns, tuple(rows), note)


# ---- live sessions and mentors ---------------------------------------------------------------------------


def _session_filters(query: Q, filters: Filters) -> Q:
    query = query.where(_in_period(LiveSession.starts_at, filters))
    if filters.theme:
        query = query.where(LiveSession.theme_id == filters.theme)
    if filters.site:
        query = query.where(LiveSession.site == filters.site)
    return query


def _session_in(view: Filters) -> ColumnElement[bool]:
    """Whether a session belongs to the view: in its period, on its theme, at its site (an online session at none)."""
    conditions = [_in_period(LiveSession.starts_at, view)]
    if view.theme:
        conditions.append(LiveSession.theme_id == view.theme)
    if view.site:
        conditions.append(LiveSession.site.is_not_distinct_from(view.site))
    return and_(*conditions)


SESSION_FILTERS = ("site", "theme", "date_from", "date_to")


def _held(filters: Filters) -> ColumnElement[bool]:
    return and_(LiveSession.status == SessionStatus.SCHEDULED, LiveSession.starts_at < filters.now)


def live_sessions(session: Session, filters: Filters) -> Table:
    """Sessions held, upcoming and cancelled; formats; seats offered, booked, attended; fill and no-show rates."""
    scheduled = LiveSession.status == SessionStatus.SCHEDULED

    def seats(column: Any) -> ColumnElement[int]:
        return func.coalesce(func.sum(case((scheduled, column), else_=0)), 0)

    # Each session carries its seats taken, attended and no-shows (see app.sessions.figures): no booking is read.
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
    # Seats booked and attendance are figures about learners: hidden like any other small group of them.
    booking, attendance = _seat_markers(session, filters, booked, attended + no_shows)
    rows: tuple[tuple[Cell, ...], ...] = (
        ("Held", held),
        ("Upcoming", upcoming),
        ("Cancelled", cancelled),
        ("Individual (held and upcoming)", individual),
        ("Collective (held and upcoming)", collective),
        ("Seats offered", offered),
        ("Seats booked", booking or booked),
        ("Seats attended", attendance or attended),
        ("Fill rate (%)", booking or percent(booked, offered)),
        ("No-show rate (%)", attendance or percent(no_shows, attended + no_shows)),
    )
    note = "Site filters by the session's site; department does not apply. " + BASE_NOTE.format(base="seats booked, or attendance recorded")
    return Table("sessions", "Live sessions", ("Figure", "Value"), rows, note)


def _seat_markers(session: Session, filters: Filters, booked: int, recorded: int) -> tuple[str | None, str | None]:
    """What the seats booked and the attendance recorded say instead, given how many of each every wider view adds."""
    outside: list[int] = []
    wider = wider_views(filters, SESSION_FILTERS)
    if wider:
        here = _session_in(filters)
        columns = []
        for view in wider:  # one query over the sessions, whatever the number of wider views
            beyond = and_(LiveSession.status == SessionStatus.SCHEDULED, _session_in(view), not_(here))
            columns.append(func.coalesce(func.sum(case((beyond, LiveSession.seats_taken), else_=0)), 0))
            columns.append(func.coalesce(func.sum(case((beyond, LiveSession.seats_attended + LiveSession.no_shows), else_=0)), 0))
        outside = [_int(n) for n in session.execute(select(*columns)).one()]
    return row_marker([booked], outside[0::2]), row_marker([recorded], outside[1::2])


def waiting_lists(session: Session, filters: Filters) -> Table:
    """People waiting for a seat in scheduled sessions, per theme and site."""
    site = func.coalesce(LiveSession.site, "Online")
    here = _session_in(filters)
    waiting = _count_if(here)
    # A theme or a site only picks rows; the same row over a wider period must not differ by a small group.
    outside = [_count_if(and_(_session_in(view), not_(here))) for view in wider_views(filters, ("date_from", "date_to"))]
    query = (
        select(ThemeRecord.title, site, waiting, *outside)
        .select_from(Booking)
        .join(LiveSession, LiveSession.id == Booking.session_id)
        .join(ThemeRecord, ThemeRecord.id == LiveSession.theme_id)
        .where(Booking.status == BookingStatus.WAITLISTED, LiveSession.status == SessionStatus.SCHEDULED)
        .group_by(ThemeRecord.title, ThemeRecord.position, site)
        .having(waiting > 0)
        .order_by(ThemeRecord.position, site)
    )
    if filters.theme:
        query = query.where(LiveSession.theme_id == filters.theme)
    if filters.site:
        query = query.where(LiveSession.site == filters.site)
    rows = tuple((title, where, row_marker([_int(n)], map(_int, beyond)) or _int(n)) for title, where, n, *beyond in session.execute(query))
    note = (
        f"A theme and site with fewer than {privacy.MIN_GROUP} people waiting, or whose difference with a wider period "
        "would be such a group, shows no figure."
    )
    return Table("waiting-lists", "Waiting-list demand", ("Theme", "Site", "People waiting"), rows, note)


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
    wider = _reached_in_wider_views(session, filters)
    rows = tuple(
        (site, active, sessions, _number(minutes / 60), _reached_cell(reached.get(site, 0), wider.get(site, [])))
        for site, (active, sessions, minutes) in sorted(per_site.items())
    )
    columns = ("Site", "Active mentors", "Sessions led", "Hours", "Learners reached")
    note = (
        f"Sessions held in the period; co-hosted sessions count for each host. Fewer than {privacy.MIN_GROUP} learners reached, "
        f"or 1 to {privacy.MIN_GROUP - 1} more in a wider view (fewer filters), shows no figure."
    )
    return Table("mentors", "Mentors per site", columns, rows, note)


def _reached_cell(reached: int, wider: list[int]) -> Cell:
    return row_marker([reached], (outer - reached for outer in wider)) or reached


def learners_reached(session: Session, filters: Filters) -> dict[str, int]:
    """Per mentors' site: the distinct learners who attended a session they led, held in the period."""
    reached = ReachedLearner  # one row per learner, session attended and site of its mentors (see app.sessions.figures)
    conditions = [reached.starts_at < filters.now, _in_period(reached.starts_at, filters)]
    if filters.theme:
        conditions.append(reached.theme_id == filters.theme)
    if filters.site:
        conditions.append(reached.site == filters.site)
    query = select(reached.site, func.count(distinct(reached.learner_id))).where(*conditions).group_by(reached.site)
    return {site: _int(n) for site, n in session.execute(query)}


def _reached_in_wider_views(session: Session, filters: Filters) -> dict[str, list[int]]:
    """Per mentors' site: the learners reached in each view wider in theme or period (the site only picks the row)."""
    views = wider_views(filters, ("theme", "date_from", "date_to"))
    if not views:
        return {}
    reached = ReachedLearner

    def within(view: Filters) -> ColumnElement[bool]:
        conditions = [_in_period(reached.starts_at, view)] + ([reached.theme_id == view.theme] if view.theme else [])
        return and_(*conditions)

    counts = [func.count(distinct(case((within(view), reached.learner_id)))) for view in views]
    query = select(reached.site, *counts).where(reached.starts_at < filters.now).group_by(reached.site)
    if filters.site:
        query = query.where(reached.site == filters.site)
    return {site: [_int(n) for n in ns] for site, *ns in session.execute(query)}


def mentor_recognition(session: Session, filters: Filters) -> Table:
    """Per mentor who led a session: their manager, sessions led and hours, most sessions first."""
    ranked = sorted(sessions_led(session, filters), key=lambda led: (-led.sessions, led.name, led.email))
    rows = tuple((led.name, led.email, led.manager, led.sessions, _number(led.minutes / 60)) for led in ranked)
    return Table("mentor-recognition", "Mentor recognition", ("Mentor", "E-mail", "Manager", "Sessions led", "Hours"), rows)


# ---- programme evaluation --------------------------------------------------------------------------------


def evaluation(session: Session, filters: Filters) -> Table:
    """The questionnaire: three yes shares and the mean satisfaction, each with its number of answers."""
    questions = rollups.QUESTIONNAIRE  # best suited, changed usage, would recommend, satisfaction
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
    marker = view_marker(session, filters) or _evaluation_marker(session, filters)
    if marker:
        rows = tuple(_hidden_row((question,), marker, 3) for question, _result, _answers in rows)
    note = (
        f"Shown only when at least {privacy.MIN_GROUP} learners answered, and when no wider view (fewer filters) holds "
        f"answers of 1 to {privacy.MIN_GROUP - 1} other learners. A learner answers once per session attended."
    )
    return Table("evaluation", "Programme evaluation", ("Question", "Result", "Answers"), rows, note)


def _evaluation_marker(session: Session, filters: Filters) -> str | None:
    """Whether the questionnaire's answers can be shown: counted in learners who answered, here and beyond this view."""
    # Each learner's answers are in their contributions: one row per day and theme they answered on.
    learner = Contribution.user_id
    here = _answered_in(filters)
    # In each wider view, the learners who gave its answers that this view does not hold: what the difference shows.
    outside = [func.count(distinct(case((and_(_answered_in(view), not_(here)), learner)))) for view in wider_views(filters, EVERY_FILTER)]
    query = (
        select(func.count(distinct(case((here, learner)))), *outside)
        .select_from(Contribution)
        .join(CountedLearner, CountedLearner.user_id == learner)
        .where(text(ANSWERED))  # spelled as the partial index that holds these rows
    )
    respondents, *beyond = (_int(n) for n in session.execute(query).one())
    return row_marker([respondents], beyond)


def _answered_in(view: Filters) -> ColumnElement[bool]:
    """Whether an answer belongs to the view: given in its period, after a session on its theme, by a learner of its site and department."""
    day = Contribution.day
    conditions = [day.is_not(None)] + ([day >= view.date_from] if view.date_from else []) + ([day <= view.date_to] if view.date_to else [])
    conditions += _counted_in(view.site, view.department)  # a learner with no department is outside any department
    if view.theme:
        conditions.append(Contribution.subject == view.theme)
    return and_(*conditions)


# ---- breakdowns -----------------------------------------------------------------------------------------


def _breakdown(session: Session, filters: Filters, dimension: str) -> list[tuple[Cell, ...]]:
    """One row per value of `dimension`, each hidden as the organisation's pattern says, the hidden ones then summed."""
    totals: dict[str, list[int]] = {}
    for group in learner_groups(session, filters):
        figures = totals.setdefault(getattr(group, dimension), [0, 0, 0])
        for index, value in enumerate((group.learners, group.started, group.completed)):
            figures[index] += value
    pattern = suppression(session, filters)
    refused = pattern.marker((filters.site, filters.department, ALL))
    rows: list[tuple[Cell, ...]] = []
    hidden = [0, 0, 0]
    for name, figures in sorted(totals.items()):
        marker = pattern.marker(_cell_of_row(filters, dimension, name)) or (WITHHELD if refused else None)
        if marker:
            rows.append(_hidden_row((name,), marker, 5))
            hidden = [a + b for a, b in zip(hidden, figures, strict=True)]
        else:
            rows.append(_breakdown_row(name, *figures))
    # The hidden rows' sum is the view's total minus the rows shown, so it can be given; the pattern makes it 5 or more.
    if hidden[0] and not refused and not privacy.is_small(hidden[0]):
        rows.append(_breakdown_row(HIDDEN_TOGETHER, *hidden))
    return rows


def _cell_of_row(filters: Filters, dimension: str, value: str) -> privacy.Cell:
    """The cell of the organisation's cube a breakdown row of this view counts."""
    if dimension == "site":
        return (value, filters.department, ALL)
    if dimension == "department":
        return (filters.site, value, ALL)
    return (filters.site, filters.department, value)


def _breakdown_row(name: str, learners: int, started: int, done: int) -> tuple[Cell, ...]:
    return (name, learners, started, done, percent(done, learners))


BREAKDOWN_COLUMNS = ("Learners", "Started", "Completed all five themes", "Completion rate (%)")
BREAKDOWN_NOTE = (
    f"A group of fewer than {privacy.MIN_GROUP} learners shows no figures, and neither does a larger group whose figures "
    "would let a smaller one be worked out, here or by comparing with another view; the groups not shown are given together."
)


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
    order = [*AGE_BANDS, HIDDEN_TOGETHER]
    rows = sorted(_breakdown(session, filters, "age_band"), key=lambda row: order.index(str(row[0])))
    return Table("by-age", "By age band", ("Age band", *BREAKDOWN_COLUMNS), tuple(rows), BREAKDOWN_NOTE)


# ---- trends ---------------------------------------------------------------------------------------------


def _monthly(session: Session, query: Select[*tuple[Any, ...]]) -> dict[str, int]:
    return {str(month): _int(n) for month, n in session.execute(query)}


def trends(session: Session, filters: Filters) -> Table:
    """Per month: new learners, module completions and sessions held; only sessions when the view's learners are hidden."""
    held_month = YearMonth(LiveSession.starts_at)
    held = _session_filters(select(held_month, func.count()).where(_held(filters)), filters).group_by(held_month)
    refused = view_marker(session, filters)
    if refused:  # the learners' columns go, so that neither the table nor its chart draws them
        sessions_only = tuple(sorted(_monthly(session, held).items()))
        return Table("trends", "Trends by month", ("Month", "Sessions held"), sessions_only, f"New learners and module completions: {refused}.")
    counts = _counts(filters, rollups.LEARNER_JOINED)
    joined_month = YearMonth(counts.c.day)
    joined = select(joined_month, func.sum(counts.c.n)).where(_in_days(counts, filters)).group_by(joined_month)
    counts = _counts(filters, rollups.MODULE_COMPLETED)
    done_month = YearMonth(counts.c.day)
    completions = (
        select(done_month, func.sum(counts.c.n))
        .join(ModuleRecord, and_(ModuleRecord.id == counts.c.subject, _published(filters.theme)))
        .where(_in_days(counts, filters))
        .group_by(done_month)
    )
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
    with _sharing_figures(session):
        return [(title, [build(session, filters) for build in builders]) for title, builders in SECTIONS]


def one_table(session: Session, build: Callable[[Session, Filters], Table], filters: Filters) -> Table:
    """One table of the dashboard (for its CSV export), the figures it reads twice computed once."""
    with _sharing_figures(session):
        return build(session, filters)


@contextmanager
def _sharing_figures(session: Session) -> Iterator[None]:
    """Within the block, figures several tables share are computed once (see _memoized); never kept beyond it."""
    session.info[MEMO] = {}
    try:
        yield
    finally:
        session.info.pop(MEMO, None)


def filter_choices(session: Session) -> dict[str, list[tuple[str, str]]]:
    """The sites, departments and themes the filter form offers, from what is recorded."""
    sites, departments = _values_of_learners(session, CountedLearner.site), _values_of_learners(session, CountedLearner.department)
    theme_rows = session.execute(select(ThemeRecord.id, ThemeRecord.title).order_by(ThemeRecord.position))
    return {
        "site": [(s, s) for s in sites],
        "department": [(d, d) for d in departments],
        "theme": [(theme_id, title) for theme_id, title in theme_rows],
    }


def _values_of_learners(session: Session, column: Any) -> list[str]:
    """The distinct values of a column over counted learners, smallest first, found one index probe per value."""
    found = select(func.min(column).label("value")).cte("found", recursive=True)
    following = select(func.min(column)).where(column > found.c.value).scalar_subquery()
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
        .where(*rollups.is_learner(), *([User.site == filters.site] if filters.site else []), *([User.department == filters.department] if filters.department else []))
        .outerjoin(ModuleProgress, ModuleProgress.user_id == User.id)
        .group_by(User.id, User.email, User.name, User.site, User.department)
        .order_by(User.email)
        .execution_options(yield_per=2000)
    )
    header = ["E-mail", "Name", "Site", "Department", *(title for _id, title in module_rows)]
    return header, (tuple(row) for row in session.execute(query))
