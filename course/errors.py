"""Named errors of the course domain.

Every error carries plain-language problems that say where (file and line) and what to do,
so that the command line, the editor and the web layer can all show them as they are.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, order=True)
class Problem:
    """One thing wrong in a content file: where it is, what is wrong, how to fix it."""

    path: str
    line: int
    message: str
    hint: str = ""

    def __str__(self) -> str:
        text = f"{self.path}:{self.line}: {self.message}"
        return f"{text} {self.hint}" if self.hint else text


class CourseError(Exception):
    """Base class of every error the course domain raises."""


class ContentError(CourseError):
    """A content file or folder holds one or more problems; nothing was loaded."""

    def __init__(self, problems: list[Problem] | tuple[Problem, ...]) -> None:
        self.problems: tuple[Problem, ...] = tuple(sorted(problems))
        super().__init__("\n".join(str(problem) for problem in self.problems))


class AnswerError(CourseError):
    """Submitted answers do not fit the quiz (unknown question or choice, malformed value)."""

    def __init__(self, messages: list[str] | tuple[str, ...]) -> None:
        self.messages: tuple[str, ...] = tuple(messages)
        super().__init__("; ".join(self.messages))


class MissingAnswersError(AnswerError):
    """Some questions of the quiz were left unanswered."""

    def __init__(self, question_ids: list[str] | tuple[str, ...]) -> None:
        self.question_ids: tuple[str, ...] = tuple(question_ids)
        super().__init__([f"question '{qid}' has no answer" for qid in self.question_ids])
