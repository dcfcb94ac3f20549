"""Progress rules: from a learner's records to module status, theme and course percentages, and what to do next.

Pure functions over plain values. A module is completed when every one of its quizzes has been passed at the
pass mark, or, for a module without a quiz, when the learner marks it as done. Percentages count completed
modules, and are derived here only, so that every page shows the same figures.
"""

from __future__ import annotations

import enum
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime


class ModuleStatus(enum.StrEnum):
    """Where a learner stands in one module."""

    NOT_STARTED = "not_started"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"

    @property
    def label(self) -> str:
        """The status in words, for people."""
        return {"not_started": "Not started", "in_progress": "In progress", "completed": "Completed"}[self.value]


@dataclass(frozen=True)
class ModuleOutline:
    """What the progress rules need to know of a module."""

    id: str
    theme: str
    title: str
    minutes: int
    quiz_ids: tuple[str, ...]


@dataclass(frozen=True)
class ModuleRecord:
    """What is recorded of one learner in one module."""

    module_id: str
    status: ModuleStatus
    last_viewed_at: datetime | None = None
    completed_at: datetime | None = None
    best_score: int | None = None


@dataclass(frozen=True)
class ThemeProgress:
    """How far a learner is in a theme: completed modules out of its modules."""

    theme_id: str
    completed: int
    total: int

    @property
    def percent(self) -> int:
        """Completed modules as a whole percentage, rounded down."""
        return percent(self.completed, self.total)

    @property
    def is_complete(self) -> bool:
        """True when every module of the theme is completed (and it has modules)."""
        return self.total > 0 and self.completed == self.total


def percent(part: int, whole: int) -> int:
    """`part` of `whole` as a whole percentage, rounded down; 0 when there is nothing to count."""
    return part * 100 // whole if whole else 0


def is_module_passed(quiz_ids: Collection[str], passed_quiz_ids: Collection[str]) -> bool:
    """True when every quiz of a module with quizzes has been passed at least once."""
    return bool(quiz_ids) and set(quiz_ids) <= set(passed_quiz_ids)


def can_mark_done(module: ModuleOutline) -> bool:
    """Only a module without a quiz is completed by marking it done; the others by passing their quizzes."""
    return not module.quiz_ids


def status_of(module_id: str, records: Mapping[str, ModuleRecord]) -> ModuleStatus:
    """A learner's status in a module; a module never opened is not started."""
    record = records.get(module_id)
    return record.status if record else ModuleStatus.NOT_STARTED


def theme_progress(theme_id: str, modules: Iterable[ModuleOutline], records: Mapping[str, ModuleRecord]) -> ThemeProgress:
    """Completed modules out of the modules of one theme."""
    in_theme = [m for m in modules if m.theme == theme_id]
    done = sum(status_of(m.id, records) is ModuleStatus.COMPLETED for m in in_theme)
    return ThemeProgress(theme_id, done, len(in_theme))


def overall_percent(modules: Sequence[ModuleOutline], records: Mapping[str, ModuleRecord]) -> int:
    """Completed modules out of all modules of the course."""
    return percent(sum(status_of(m.id, records) is ModuleStatus.COMPLETED for m in modules), len(modules))


def continue_module(modules: Sequence[ModuleOutline], records: Mapping[str, ModuleRecord]) -> ModuleOutline | None:
    """The module viewed most recently among those in progress, or None."""
    in_progress = [
        (records[m.id].last_viewed_at or datetime.min, m)
        for m in modules
        if status_of(m.id, records) is ModuleStatus.IN_PROGRESS
    ]
    return max(in_progress, key=lambda pair: pair[0])[1] if in_progress else None


def next_module(modules: Sequence[ModuleOutline], records: Mapping[str, ModuleRecord]) -> ModuleOutline | None:
    """The first module in course order that the learner has not started, or None when all are started."""
    return next((m for m in modules if status_of(m.id, records) is ModuleStatus.NOT_STARTED), None)


def recently_completed(
    modules: Sequence[ModuleOutline], records: Mapping[str, ModuleRecord], limit: int = 3
) -> list[tuple[ModuleOutline, datetime]]:
    """The most recently completed modules with their completion time, newest first."""
    done = [(m, records[m.id].completed_at) for m in modules if status_of(m.id, records) is ModuleStatus.COMPLETED]
    dated = [(m, at) for m, at in done if at is not None]
    return sorted(dated, key=lambda pair: pair[1], reverse=True)[:limit]


def is_course_complete(theme_ids: Iterable[str], modules: Sequence[ModuleOutline], records: Mapping[str, ModuleRecord]) -> bool:
    """True when every theme of the course is complete."""
    themes = list(theme_ids)
    return bool(themes) and all(theme_progress(t, modules, records).is_complete for t in themes)


def study_minutes(modules: Iterable[ModuleOutline], records: Mapping[str, ModuleRecord]) -> int:
    """The estimated study time of the modules completed."""
    return sum(m.minutes for m in modules if status_of(m.id, records) is ModuleStatus.COMPLETED)


def completion_date(records: Mapping[str, ModuleRecord]) -> datetime | None:
    """When the last module was completed: the date a certificate shows."""
    dates = [r.completed_at for r in records.values() if r.status is ModuleStatus.COMPLETED and r.completed_at]
    return max(dates) if dates else None
