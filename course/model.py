"""The course's data: frozen, behaviour-free dataclasses produced by the parser.

Nothing here imports the rest of the package; rules live in parse, render, grade, catalog and progress.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

DEFAULT_LANG = "en"
DEFAULT_PASS_MARK = 70


class QuestionKind(enum.StrEnum):
    """How a question is answered."""

    SINGLE = "single"
    MULTIPLE = "multiple"
    TRUE_FALSE = "true_false"
    TEXT = "text"

    @property
    def has_choices(self) -> bool:
        """True for the kinds answered by picking choices."""
        return self is not QuestionKind.TEXT


@dataclass(frozen=True)
class Choice:
    """One choice of a choice question; its id is its letter (a, b, c...) in the question."""

    id: str
    text: str
    correct: bool
    feedback: str = ""
    line: int = 0


@dataclass(frozen=True)
class Question:
    """A quiz question with a stable id; `accepted` holds the accepted answers of a text question."""

    id: str
    kind: QuestionKind
    prompt: str
    choices: tuple[Choice, ...] = ()
    accepted: tuple[str, ...] = ()
    explanation: str = ""
    line: int = 0

    @property
    def correct_choice_ids(self) -> frozenset[str]:
        """The ids of the choices a right answer selects."""
        return frozenset(choice.id for choice in self.choices if choice.correct)

    def choice(self, choice_id: str) -> Choice | None:
        """The choice with this id, or None."""
        return next((choice for choice in self.choices if choice.id == choice_id), None)


@dataclass(frozen=True)
class Quiz:
    """A block of questions inside a module, graded as one attempt."""

    id: str
    questions: tuple[Question, ...]
    line: int = 0

    def question(self, question_id: str) -> Question | None:
        """The question with this id, or None."""
        return next((q for q in self.questions if q.id == question_id), None)


@dataclass(frozen=True)
class Prose:
    """A run of ordinary Markdown between quizzes; `line` is where it starts in the file."""

    markdown: str
    line: int


Block = Prose | Quiz


@dataclass(frozen=True)
class Module:
    """One module: its front matter and its body, as prose and quiz blocks in reading order."""

    id: str
    title: str
    theme: str
    order: int
    minutes: int
    summary: str
    objectives: tuple[str, ...]
    pass_mark: int
    blocks: tuple[Block, ...]
    lang: str = DEFAULT_LANG
    path: str = ""
    source: str = field(default="", repr=False, compare=False)

    @property
    def quizzes(self) -> tuple[Quiz, ...]:
        """The module's quizzes, in reading order."""
        return tuple(block for block in self.blocks if isinstance(block, Quiz))

    @property
    def question_count(self) -> int:
        """How many questions the module's quizzes hold."""
        return sum(len(quiz.questions) for quiz in self.quizzes)

    def quiz(self, quiz_id: str) -> Quiz | None:
        """The quiz with this id, or None."""
        return next((quiz for quiz in self.quizzes if quiz.id == quiz_id), None)


@dataclass(frozen=True)
class Theme:
    """One of the course's themes: its front matter and its introduction."""

    id: str
    title: str
    order: int
    summary: str
    live_session: tuple[str, ...]
    introduction: str
    path: str = ""
    source: str = field(default="", repr=False, compare=False)
