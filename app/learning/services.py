"""The learner's journey as services: opening modules, submitting quizzes, marking done, reading progress.

Views call these; they add and flush, and the request commits once.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Generic, TypeVar

from sqlalchemy import ColumnElement, and_, bindparam, case, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, load_only

from course import Module, QuestionKind, Quiz, QuizResult, RenderedModule, grade, normalize_text_answer, parse_module
from course.grade import Answer
from course.progress import ModuleOutline, ModuleStatus, is_module_passed
from course.progress import ModuleRecord as ProgressRecord

from ..models import ModuleProgress, ModuleRecord, ModuleRevision, QuestionAnswer, QuizAttempt, ThemeRecord, utcnow

T = TypeVar("T")


@dataclass(frozen=True)
class CourseOutline:
    """The published course as the progress rules see it, with the theme records for display."""

    themes: list[ThemeRecord]
    modules: list[ModuleOutline]

    def modules_of(self, theme_id: str) -> list[ModuleOutline]:
        """The modules of one theme, in order."""
        return [m for m in self.modules if m.theme == theme_id]


# Built once: every learner's page runs these, and building a statement costs about as much as running it.
OUTLINE = (
    select(ThemeRecord, ModuleRecord.id, ModuleRecord.title, ModuleRecord.minutes, ModuleRecord.quiz_ids)
    .outerjoin(ModuleRecord, and_(ModuleRecord.theme_id == ThemeRecord.id, ModuleRecord.current_revision_id.is_not(None)))
    # Pages list themes by title and summary: their introduction and source stay in the database.
    .options(load_only(ThemeRecord.id, ThemeRecord.title, ThemeRecord.position, ThemeRecord.summary))
    .order_by(ThemeRecord.position, ModuleRecord.position)
)
PROGRESS = select(
    ModuleProgress.module_id, ModuleProgress.status, ModuleProgress.last_viewed_at, ModuleProgress.completed_at, ModuleProgress.best_score
).where(ModuleProgress.user_id == bindparam("user_id"))


def load_outline(session: Session) -> CourseOutline:
    """Themes and published modules in course order, from one query over both tables."""
    rows = session.execute(OUTLINE).all()
    themes = list(dict.fromkeys(theme for theme, *_ in rows))
    outlines = [
        ModuleOutline(module_id, theme.id, title, minutes, tuple(quiz_ids))
        for theme, module_id, title, minutes, quiz_ids in rows
        if module_id is not None
    ]
    return CourseOutline(themes, outlines)


def progress_records(session: Session, user_id: int) -> dict[str, ProgressRecord]:
    """A learner's progress, by module id."""
    return {row.module_id: ProgressRecord(*row) for row in session.execute(PROGRESS, {"user_id": user_id})}


class RevisionCache(Generic[T]):
    """Values derived from a revision, made once per process: a revision's source and rendering never change.

    Keyed by id and source digest, so that a database rebuilt under the same ids cannot serve another module's
    value; the oldest entries go first once `size` are held.
    """

    def __init__(self, build: Callable[[ModuleRevision], T], size: int = 256) -> None:
        self._build = build
        self._size = size
        self._values: dict[tuple[int, str], T] = {}

    def get(self, revision: ModuleRevision) -> T:
        """The value for `revision`, built from it (reading its deferred columns) only the first time."""
        key = (revision.id, revision.source_sha256)
        value = self._values.get(key)
        if value is None:
            value = self._build(revision)
            self._values[key] = value
            while len(self._values) > self._size:
                self._values.pop(next(iter(self._values)), None)
        return value


_parsed = RevisionCache(lambda revision: parse_module(revision.source, f"revision {revision.id}"))
_rendered = RevisionCache(lambda revision: RenderedModule.from_dict(revision.rendered))


def parsed_revision(revision: ModuleRevision) -> Module:
    """The parsed module of a revision, parsed once per process and revision."""
    return _parsed.get(revision)


def rendered_revision(revision: ModuleRevision) -> RenderedModule:
    """The stored rendering of a revision, read and rebuilt once per process and revision."""
    return _rendered.get(revision)


def _is_progress_row(user_id: int, module_id: str) -> ColumnElement[bool]:
    return and_(ModuleProgress.user_id == user_id, ModuleProgress.module_id == module_id)


def _record_view(session: Session, user_id: int, module_id: str) -> ModuleProgress | None:
    """Move the learner's last view of a module to now in one UPDATE that returns the row; None when never opened."""
    statement = (
        update(ModuleProgress)
        .where(_is_progress_row(user_id, module_id))
        .values(last_viewed_at=utcnow())
        .returning(ModuleProgress)
        .execution_options(synchronize_session=False, populate_existing=True)
    )
    return session.scalars(statement).one_or_none()


def _record_first_view(session: Session, user_id: int, module_id: str) -> ModuleProgress:
    """Create the learner's progress row in one INSERT that returns it.

    A second tab opening the module at the same instant finds the row there, and only moves the last view.
    """
    now = utcnow()
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    statement = (
        insert(ModuleProgress)
        .values(user_id=user_id, module_id=module_id, status=ModuleStatus.IN_PROGRESS, first_opened_at=now, last_viewed_at=now)
        .on_conflict_do_update(index_elements=["user_id", "module_id"], set_={"last_viewed_at": now})
        .returning(ModuleProgress)
        .execution_options(populate_existing=True)
    )
    return session.scalars(statement).one()


def _progress_row(session: Session, user_id: int, module_id: str) -> ModuleProgress:
    """The learner's progress row in a module, created only when missing (a quiz sent without the page being opened)."""
    row = session.scalar(select(ModuleProgress).where(_is_progress_row(user_id, module_id)))
    return row if row is not None else _record_first_view(session, user_id, module_id)


def open_module(session: Session, user_id: int, module_id: str) -> ModuleProgress:
    """Record that a learner opened a module: not started becomes in progress; the last view is now."""
    row = _record_view(session, user_id, module_id)
    if row is not None:
        return row
    return _record_first_view(session, user_id, module_id)


def _complete(row: ModuleProgress) -> None:
    """Completion is recorded once; a later pass never rewrites its date."""
    if row.status is not ModuleStatus.COMPLETED:
        row.status = ModuleStatus.COMPLETED
        row.completed_at = utcnow()


def submit_quiz(
    session: Session, user_id: int, module: ModuleRecord, revision: ModuleRevision, quiz_id: str, answers: Mapping[str, Answer]
) -> tuple[QuizAttempt, QuizResult]:
    """Grade an attempt, store it whole, and update the learner's best score and completion."""
    return _submit_quiz(session, user_id, module, revision, quiz_id, answers)


@dataclass(frozen=True)
class QuizHistory:
    """What a learner did before at one quiz of a module: how many tries, the best score, whether one passed."""

    tries: int
    best_score: int
    passed: bool


def quiz_histories(session: Session, user_id: int, module_id: str) -> dict[str, QuizHistory]:
    """The learner's earlier attempts at each quiz of a module, summed up in one grouped query, by quiz id."""
    rows = session.execute(
        select(QuizAttempt.quiz_id, func.count(), func.max(QuizAttempt.score), func.max(case((QuizAttempt.passed, 1), else_=0)))
        .where(QuizAttempt.user_id == user_id, QuizAttempt.module_id == module_id)
        .group_by(QuizAttempt.quiz_id)
    )
    return {quiz_id: QuizHistory(tries, best or 0, bool(passed)) for quiz_id, tries, best, passed in rows}


def with_result(histories: Mapping[str, QuizHistory], quiz_id: str, result: QuizResult) -> dict[str, QuizHistory]:
    """The histories once this attempt is counted in."""
    before = histories.get(quiz_id, QuizHistory(0, 0, False))
    after = QuizHistory(before.tries + 1, max(before.best_score, result.score), before.passed or result.passed)
    return {**histories, quiz_id: after}


def module_best_score(quiz_ids: list[str], histories: Mapping[str, QuizHistory]) -> int:
    """The mean of the best score of each of the module's quizzes; a quiz not yet tried counts as 0."""
    counted = quiz_ids or list(histories)
    return sum(histories[q].best_score if q in histories else 0 for q in counted) // max(len(counted), 1)


def _submit_quiz(
    session: Session, user_id: int, module: ModuleRecord, revision: ModuleRevision, quiz_id: str, answers: Mapping[str, Answer]
) -> tuple[QuizAttempt, QuizResult]:
    parsed = parsed_revision(revision)
    quiz = parsed.quiz(quiz_id)
    if quiz is None:
        raise LookupError(quiz_id)
    result = grade(quiz, answers, module.pass_mark)
    histories = quiz_histories(session, user_id, module.id)
    first_try = quiz.id not in histories
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
    histories = with_result(histories, quiz.id, result)
    row.best_score = module_best_score(list(module.quiz_ids), histories)
    if is_module_passed(module.quiz_ids, {q for q, history in histories.items() if history.passed}):
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


def mark_done(session: Session, user_id: int, module: ModuleRecord) -> ModuleProgress:
    """Complete a module without a quiz."""
    row = _progress_row(session, user_id, module.id)
    _complete(row)
    return row


def latest_attempts(session: Session, user_id: int, module_id: str) -> dict[str, QuizAttempt]:
    """The learner's latest attempt at each quiz of a module, by quiz id: its score and whether it passed."""
    latest = (
        select(func.max(QuizAttempt.id))
        .where(QuizAttempt.user_id == user_id, QuizAttempt.module_id == module_id)
        .group_by(QuizAttempt.quiz_id)
    )
    attempts = session.scalars(
        select(QuizAttempt)
        .where(QuizAttempt.id.in_(latest))
        .options(load_only(QuizAttempt.quiz_id, QuizAttempt.score, QuizAttempt.passed, QuizAttempt.created_at))
    )
    return {attempt.quiz_id: attempt for attempt in attempts}
