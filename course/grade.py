"""Grading: a quiz and a learner's answers to a result. A pure function that changes nothing.

Answers map question ids to a choice id (single choice, true/false), a collection of choice ids
(multiple choice) or a text (short answer). A question is right or wrong as a whole; the score is
the share of right questions in whole percent, rounded down, and passes at `pass_mark` or more.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Collection, Mapping
from dataclasses import dataclass

from .errors import AnswerError, MissingAnswersError
from .model import Question, QuestionKind, Quiz

MAX_TEXT_ANSWER = 200
Answer = str | Collection[str]


@dataclass(frozen=True)
class QuestionResult:
    """How one question was answered: right or wrong, what was given, the feedback and the explanation."""

    question_id: str
    kind: QuestionKind
    correct: bool
    given: tuple[str, ...]
    feedback: tuple[str, ...]
    explanation: str


@dataclass(frozen=True)
class QuizResult:
    """The grade of one attempt at a quiz."""

    quiz_id: str
    questions: tuple[QuestionResult, ...]
    score: int
    pass_mark: int

    @property
    def passed(self) -> bool:
        """True when the score reaches the pass mark."""
        return self.score >= self.pass_mark

    @property
    def right_count(self) -> int:
        """How many questions were answered right."""
        return sum(result.correct for result in self.questions)

    def result_for(self, question_id: str) -> QuestionResult | None:
        """The result of one question, or None."""
        return next((r for r in self.questions if r.question_id == question_id), None)


def normalize_text_answer(text: str) -> str:
    """Fold case, accents, spaces, hyphens and surrounding punctuation: 'Two-Factor.' matches 'two factor'."""
    decomposed = unicodedata.normalize("NFKD", text)
    without_accents = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    folded = without_accents.casefold()
    return "".join(folded.replace("-", " ").split()).strip(".!?;:,\"'«»“”‘’")


def grade(quiz: Quiz, answers: Mapping[str, Answer], pass_mark: int) -> QuizResult:
    """Grade `answers` to `quiz`; raise AnswerError for answers that do not fit, MissingAnswersError for gaps."""
    if not 0 <= pass_mark <= 100:
        raise AnswerError([f"the pass mark must be from 0 to 100, not {pass_mark}"])
    known = {question.id for question in quiz.questions}
    problems = [f"there is no question '{qid}' in quiz '{quiz.id}'" for qid in answers if qid not in known]
    given = {q.id: _given(q, answers.get(q.id), problems) for q in quiz.questions}
    if problems:
        raise AnswerError(problems)
    missing = [qid for qid, values in given.items() if not values]
    if missing:
        raise MissingAnswersError(missing)
    results = tuple(_judge(question, given[question.id]) for question in quiz.questions)
    right = sum(result.correct for result in results)
    score = right * 100 // len(results) if results else 100
    return QuizResult(quiz.id, results, score, pass_mark)


def _given(question: Question, answer: Answer | None, problems: list[str]) -> tuple[str, ...]:
    """The answer as a tuple of values, checked against the question's kind and choices."""
    if answer is None:
        return ()
    if question.kind is QuestionKind.TEXT:
        if not isinstance(answer, str):
            problems.append(f"question '{question.id}' takes a typed answer")
            return ()
        if len(answer) > MAX_TEXT_ANSWER:
            problems.append(f"the answer to question '{question.id}' is longer than {MAX_TEXT_ANSWER} characters")
            return ()
        return (answer.strip(),) if answer.strip() else ()
    values = (answer,) if isinstance(answer, str) else tuple(answer)
    if not all(isinstance(value, str) for value in values):
        problems.append(f"question '{question.id}' takes choice ids")
        return ()
    if question.kind is not QuestionKind.MULTIPLE and len(values) > 1:
        problems.append(f"question '{question.id}' takes one choice, not {len(values)}")
        return ()
    unknown = [value for value in values if question.choice(value) is None]
    if unknown:
        problems.append(f"question '{question.id}' has no choice '{unknown[0][:20]}'")
        return ()
    return tuple(sorted(set(values)))


def _judge(question: Question, values: tuple[str, ...]) -> QuestionResult:
    if question.kind is QuestionKind.TEXT:
        accepted = {normalize_text_answer(text) for text in question.accepted}
        correct = normalize_text_answer(values[0]) in accepted
        return QuestionResult(question.id, question.kind, correct, values, (), question.explanation)
    correct = frozenset(values) == question.correct_choice_ids
    feedback = tuple(choice.feedback for value in values if (choice := question.choice(value)) and choice.feedback)
    return QuestionResult(question.id, question.kind, correct, values, feedback, question.explanation)
