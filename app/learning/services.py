"""The learner's journey as services: opening modules, submitting quizzes, marking done, reading progress.

Views call these; they add and flush, and the request commits once.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from course import Module, QuestionKind, Quiz, QuizResult, grade, normalize_text_answer, parse_module
from course.grade import Answer
from course.progress import ModuleOutline, ModuleStatus, is_module_passed
from course.progress import ModuleRecord as ProgressRecord

from .. import statistics
from ..models import ModuleProgress, ModuleRecord, ModuleRevision, QuestionAnswer, QuizAttempt, ThemeRecord, utcnow


@dataclass(frozen=True)
class CourseOutline:
    """The published course as the progress rules see it, with the theme records for display."""

    themes: list[ThemeRecord]
    modules: list[ModuleOutline]

    def modules_of(self, theme_id: str) -> list[ModuleOutline]:
        """The modules of one theme, in order."""
        return [m for m in self.modules if m.theme == theme_id]


def load_outline(session: Session) -> CourseOutline:
    """Themes and modules in course order, from two small queries."""
    themes = list(session.scalars(select(ThemeRecord).order_by(ThemeRecord.position)))
    position = {t.id: t.position for t in themes}
    rows = session.scalars(select(ModuleRecord).where(ModuleRecord.current_revision_id.is_not(None)))
    records = sorted(rows, key=lambda m: (position.get(m.theme_id, 0), m.position))
    outlines = [ModuleOutline(m.id, m.theme_id, m.title, m.minutes, tuple(m.quiz_ids)) for m in records]
    return CourseOutline(themes, outlines)


def progress_records(session: Session, user_id: int) -> dict[str, ProgressRecord]:
    """A learner's progress, by module id."""
    rows = session.scalars(select(ModuleProgress).where(ModuleProgress.user_id == user_id))
    return {
        row.module_id: ProgressRecord(row.module_id, row.status, row.last_viewed_at, row.completed_at, row.best_score)
        for row in rows
    }


@functools.lru_cache(maxsize=128)
def _parse_cached(revision_id: int, digest: str, source: str) -> Module:
    return parse_module(source, f"revision {revision_id}")


def parsed_revision(revision: ModuleRevision) -> Module:
    """The parsed module of a revision, parsed once per process and revision."""
    return _parse_cached(revision.id, revision.source_sha256, revision.source)


def _insert_ignoring_duplicate(session: Session, values: Mapping[str, Any]) -> None:
    """Insert a progress row unless one exists: two tabs opening a module at once must not collide."""
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = insert(ModuleProgress).values(**values).on_conflict_do_nothing(index_elements=["user_id", "module_id"])
    session.execute(statement)


def _progress_row(session: Session, user_id: int, module_id: str) -> ModuleProgress:
    now = utcnow()
    _insert_ignoring_duplicate(
        session,
        {"user_id": user_id, "module_id": module_id, "status": ModuleStatus.IN_PROGRESS, "first_opened_at": now, "last_viewed_at": now},
    )
    row = session.scalar(select(ModuleProgress).where(ModuleProgress.user_id == user_id, ModuleProgress.module_id == module_id))
    if row is None:  # pragma: no cover - the insert above guarantees a row
        raise LookupError(module_id)
    return row


def open_module(session: Session, user_id: int, module_id: str) -> ModuleProgress:
    """Record that a learner opened a module: not started becomes in progress; the last view is now."""
    row = session.scalar(select(ModuleProgress).where(ModuleProgress.user_id == user_id, ModuleProgress.module_id == module_id))
    if row is not None:
        # A later visit changes no event the rollups count, only the learner's last visit.
        row.last_viewed_at = utcnow()
        session.flush()
        statistics.refresh_learner_summary(session, [user_id])
        return row
    with statistics.tracking(session, [user_id]):
        row = _progress_row(session, user_id, module_id)
        row.last_viewed_at = utcnow()
    return row


def _complete(row: ModuleProgress) -> None:
    """Completion is recorded once; a later pass never rewrites its date."""
    if row.status is not ModuleStatus.COMPLETED:
        row.status = ModuleStatus.COMPLETED
        row.completed_at = utcnow()


def submit_quiz(
    session: Session, user_id: int, module: ModuleRecord, revision: ModuleRevision, quiz_id: str, answers: Mapping[str, Answer]
) -> tuple[QuizAttempt, QuizResult]:
    """Grade an attempt, store it whole, and update the learner's best score and completion."""
    with statistics.tracking(session, [user_id]):
        return _submit_quiz(session, user_id, module, revision, quiz_id, answers)


def _submit_quiz(
    session: Session, user_id: int, module: ModuleRecord, revision: ModuleRevision, quiz_id: str, answers: Mapping[str, Answer]
) -> tuple[QuizAttempt, QuizResult]:
    parsed = parsed_revision(revision)
    quiz = parsed.quiz(quiz_id)
    if quiz is None:
        raise LookupError(quiz_id)
    result = grade(quiz, answers, module.pass_mark)
    first_try = not session.scalar(
        select(func.count()).select_from(QuizAttempt).where(QuizAttempt.user_id == user_id, QuizAttempt.module_id == module.id, QuizAttempt.quiz_id == quiz.id)
    )
    attempt = QuizAttempt(
        user_id=user_id,
        module_id=module.id,
        quiz_id=quiz.id,
        revision_id=revision.id,
        question_ids=[q.id for q in quiz.questions],
        answers={qid: (list(value) if not isinstance(value, str) else value) for qid, value in answers.items()},
        results=[{"question_id": r.question_id, "correct": r.correct, "given": list(r.given)} for r in result.questions],
        score=result.score,
        pass_mark=result.pass_mark,
        passed=result.passed,
        first_try=first_try,
    )
    session.add(attempt)
    session.flush()
    session.add_all(
        QuestionAnswer(
            attempt_id=attempt.id,
            user_id=user_id,
            module_id=module.id,
            quiz_id=quiz.id,
            question_id=outcome.question_id,
            answer_key=answer_key(quiz, outcome.question_id, outcome.given),
            correct=outcome.correct,
            first_try=first_try,
        )
        for outcome in result.questions
    )
    row = _progress_row(session, user_id, module.id)
    session.flush()
    row.best_score = _module_best_score(session, user_id, module)
    if is_module_passed(module.quiz_ids, _passed_quiz_ids(session, user_id, module.id)):
        _complete(row)
    session.flush()
    return attempt, result


def answer_key(quiz: Quiz, question_id: str, given: tuple[str, ...]) -> str:
    """What was answered, in words: the chosen choices' text, or the typed text folded as the grader compares it."""
    question = quiz.question(question_id)
    if question is None or question.kind is QuestionKind.TEXT:
        return normalize_text_answer(given[0] if given else "")[:300]
    texts = [choice.text for value in given if (choice := question.choice(value))]
    return " + ".join(texts)[:300]


def _passed_quiz_ids(session: Session, user_id: int, module_id: str) -> set[str]:
    return set(
        session.scalars(
            select(QuizAttempt.quiz_id).where(QuizAttempt.user_id == user_id, QuizAttempt.module_id == module_id, QuizAttempt.passed)
        )
    )


def _module_best_score(session: Session, user_id: int, module: ModuleRecord) -> int:
    """The mean of the best score of each of the module's quizzes; a quiz not yet tried counts as 0."""
    best = dict(
        session.execute(
            select(QuizAttempt.quiz_id, func.max(QuizAttempt.score))
            .where(QuizAttempt.user_id == user_id, QuizAttempt.module_id == module.id)
            .group_by(QuizAttempt.quiz_id)
        ).all()
    )
    quiz_ids = module.quiz_ids or list(best)
    return sum(best.get(q, 0) for q in quiz_ids) // max(len(quiz_ids), 1)


def mark_done(session: Session, user_id: int, module: ModuleRecord) -> ModuleProgress:
    """Complete a module without a quiz."""
    with statistics.tracking(session, [user_id]):
        row = _progress_row(session, user_id, module.id)
        _complete(row)
    return row


def latest_attempts(session: Session, user_id: int, module_id: str) -> dict[str, QuizAttempt]:
    """The learner's latest attempt at each quiz of a module, by quiz id."""
    attempts = session.scalars(
        select(QuizAttempt)
        .where(QuizAttempt.user_id == user_id, QuizAttempt.module_id == module_id)
        .order_by(QuizAttempt.created_at, QuizAttempt.id)
    )
    return {attempt.quiz_id: attempt for attempt in attempts}
