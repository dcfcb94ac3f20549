"""The quiz block syntax: from the lines of a ```quiz fence to a Quiz, or to the problems found in it.

A quiz block holds questions, each opened by `[question ID]`, followed by its text, then its answer lines:
`( )`/`(x)` for single choice, `[ ]`/`[x]` for multiple choice, `= text` for accepted short answers,
with `Feedback:` after a choice and `Explanation:` for the question.
"""

from __future__ import annotations

import re
import string
from dataclasses import dataclass, field

from .errors import Problem
from .frontmatter import SLUG_HINT, is_slug
from .model import Choice, Question, QuestionKind, Quiz

MAX_CHOICES = 8
MIN_CHOICES = 2
QUESTION_RE = re.compile(r"^\[\s*question\b\s*(.*?)\s*\]$", re.IGNORECASE)
SINGLE_RE = re.compile(r"^\(\s*([xX]?)\s*\)(.*)$")
MULTIPLE_RE = re.compile(r"^\[\s*([xX]?)\s*\](.*)$")
TEXT_RE = re.compile(r"^=(.*)$")
FEEDBACK_RE = re.compile(r"^feedback\s*:(.*)$", re.IGNORECASE)
EXPLANATION_RE = re.compile(r"^explanation\s*:(.*)$", re.IGNORECASE)
ANSWER_LINES_HINT = (
    "After the question text, each line must start with '( )', '(x)', '[ ]', '[x]', '=', 'Feedback:' or 'Explanation:'."
)


@dataclass
class _Draft:
    """A question while its lines are being read."""

    id: str
    line: int
    prompt: list[str] = field(default_factory=list)
    choices: list[tuple[str, str, bool, int]] = field(default_factory=list)  # (marker kind, text, correct, line)
    feedback: dict[int, str] = field(default_factory=dict)  # choice index -> feedback
    accepted: list[tuple[str, int]] = field(default_factory=list)
    explanation: list[str] = field(default_factory=list)
    in_explanation: bool = False

    @property
    def has_answers(self) -> bool:
        return bool(self.choices or self.accepted)


def parse_quiz(quiz_id: str, lines: list[str], first_line: int, path: str) -> tuple[Quiz | None, list[Problem]]:
    """Read the inside of a quiz fence; `first_line` is the file line of `lines[0]`."""
    problems: list[Problem] = []
    drafts: list[_Draft] = []
    for offset, raw in enumerate(lines):
        line_no = first_line + offset
        _read_line(raw.strip(), line_no, drafts, problems, path)
    questions = [q for q in (_finish(d, path, problems) for d in drafts) if q is not None]
    if not drafts:
        problems.append(
            Problem(path, first_line - 1, f"The quiz '{quiz_id}' has no questions.", "Start each question with '[question ID]'.")
        )
    if problems:
        return None, problems
    return Quiz(quiz_id, tuple(questions), first_line - 1), []


def _read_line(text: str, line_no: int, drafts: list[_Draft], problems: list[Problem], path: str) -> None:
    question = QUESTION_RE.match(text)
    if question:
        drafts.append(_start_question(question.group(1), line_no, problems, path))
        return
    if not drafts:
        if text:
            problems.append(
                Problem(path, line_no, "This line comes before the first question.", "Start the quiz with '[question ID]'.")
            )
        return
    _read_question_line(text, line_no, drafts[-1], problems, path)


def _start_question(question_id: str, line_no: int, problems: list[Problem], path: str) -> _Draft:
    if not question_id:
        problems.append(Problem(path, line_no, "This question has no id.", "Write '[question ID]', for example '[question exact-phrase]'."))
    elif not is_slug(question_id):
        problems.append(Problem(path, line_no, f"The question id '{question_id}' is not valid.", SLUG_HINT))
    return _Draft(question_id, line_no)


def _read_question_line(text: str, line_no: int, draft: _Draft, problems: list[Problem], path: str) -> None:
    if not text:
        draft.in_explanation = False
        if not draft.has_answers and draft.prompt:
            draft.prompt.append("")
        return
    if explanation := EXPLANATION_RE.match(text):
        draft.explanation.append(explanation.group(1).strip())
        draft.in_explanation = True
        return
    if feedback := FEEDBACK_RE.match(text):
        _attach_feedback(feedback.group(1).strip(), line_no, draft, problems, path)
        return
    for kind, pattern in (("single", SINGLE_RE), ("multiple", MULTIPLE_RE)):
        if choice := pattern.match(text):
            draft.in_explanation = False
            draft.choices.append((kind, choice.group(2).strip(), bool(choice.group(1)), line_no))
            return
    if accepted := TEXT_RE.match(text):
        draft.in_explanation = False
        draft.accepted.append((accepted.group(1).strip(), line_no))
        return
    if draft.in_explanation:
        draft.explanation.append(text)
    elif not draft.has_answers:
        draft.prompt.append(text)
    else:
        problems.append(Problem(path, line_no, f"This line is not understood: '{_shorten(text)}'.", ANSWER_LINES_HINT))


def _attach_feedback(text: str, line_no: int, draft: _Draft, problems: list[Problem], path: str) -> None:
    if not draft.choices or draft.accepted:
        problems.append(
            Problem(path, line_no, "This 'Feedback:' line does not follow a choice.", "Put it on the line right after the choice it answers.")
        )
    elif not text:
        problems.append(Problem(path, line_no, "This 'Feedback:' line is empty.", "Write the feedback after 'Feedback:', or remove the line."))
    elif len(draft.choices) - 1 in draft.feedback:
        problems.append(Problem(path, line_no, "This choice already has feedback.", "Give each choice one 'Feedback:' line."))
    else:
        draft.feedback[len(draft.choices) - 1] = text


def _finish(draft: _Draft, path: str, problems: list[Problem]) -> Question | None:
    """Turn a draft into a Question, adding a problem for everything that is missing or contradictory."""
    before = len(problems)
    prompt = "\n".join(draft.prompt).strip()
    explanation = "\n".join(draft.explanation).strip()
    where = f"The question '{draft.id}'" if draft.id else "This question"
    if not prompt:
        problems.append(Problem(path, draft.line, f"{where} has no text.", "Write the question on the line after '[question ID]'."))
    if not explanation:
        problems.append(
            Problem(path, draft.line, f"{where} has no explanation.", "Add a line 'Explanation: ...' saying why the right answer is right.")
        )
    if not draft.has_answers:
        problems.append(
            Problem(path, draft.line, f"{where} has no answers.", "Add choices such as '( ) ...' and '(x) ...', or accepted answers such as '= ...'.")
        )
        return None
    kinds = {kind for kind, *_ in draft.choices} | ({"text"} if draft.accepted else set())
    if len(kinds) > 1:
        problems.append(
            Problem(
                path,
                draft.line,
                f"{where} mixes kinds of answers ({', '.join(sorted(kinds))}).",
                "Use only '( )' lines (one right answer), only '[ ]' lines (tick all that apply), or only '=' lines (typed answer).",
            )
        )
        return None
    kind = kinds.pop()
    question = _build_text(draft, prompt, explanation, where, path, problems) if kind == "text" else _build_choice(
        draft, kind, prompt, explanation, where, path, problems
    )
    return question if len(problems) == before else None


def _build_text(draft: _Draft, prompt: str, explanation: str, where: str, path: str, problems: list[Problem]) -> Question:
    for text, line_no in draft.accepted:
        if not text:
            problems.append(Problem(path, line_no, "This '=' line has no answer after it.", "Write an accepted answer after '=', for example '= OR'."))
    return Question(
        draft.id, QuestionKind.TEXT, prompt, accepted=tuple(t for t, _ in draft.accepted), explanation=explanation, line=draft.line
    )


def _build_choice(
    draft: _Draft, kind: str, prompt: str, explanation: str, where: str, path: str, problems: list[Problem]
) -> Question:
    choices = tuple(
        Choice(string.ascii_lowercase[i], text, correct, draft.feedback.get(i, ""), line_no)
        for i, (_, text, correct, line_no) in enumerate(draft.choices[: len(string.ascii_lowercase)])
    )
    for choice in choices:
        if not choice.text:
            problems.append(Problem(path, choice.line, "This choice has no text.", "Write the choice after the brackets, for example '( ) Yes'."))
    seen: set[str] = set()
    for choice in choices:
        folded = _fold(choice.text)
        if folded and folded in seen:
            problems.append(Problem(path, choice.line, f"The choice '{_shorten(choice.text)}' appears twice.", "Remove or reword one of them."))
        seen.add(folded)
    if not MIN_CHOICES <= len(draft.choices) <= MAX_CHOICES:
        problems.append(
            Problem(path, draft.line, f"{where} has {len(draft.choices)} choices.", f"Give it from {MIN_CHOICES} to {MAX_CHOICES} choices.")
        )
    right = sum(choice.correct for choice in choices)
    if kind == "single" and right != 1:
        problems.append(_single_choice_problem(right, where, draft.line, path))
    if kind == "multiple" and right == 0:
        problems.append(Problem(path, draft.line, f"{where} has no right choice.", "Mark each right choice '[x]'."))
    question_kind = QuestionKind.MULTIPLE if kind == "multiple" else QuestionKind.SINGLE
    if question_kind is QuestionKind.SINGLE and sorted(_fold(c.text) for c in choices) == ["false", "true"]:
        question_kind = QuestionKind.TRUE_FALSE
    return Question(draft.id, question_kind, prompt, choices=choices, explanation=explanation, line=draft.line)


def _single_choice_problem(right: int, where: str, line: int, path: str) -> Problem:
    if right == 0:
        return Problem(path, line, f"{where} has no right choice.", "Mark the right choice '(x)'.")
    return Problem(
        path,
        line,
        f"{where} has {right} choices marked '(x)', but '( )' questions have exactly one right answer.",
        "Keep one '(x)', or use '[ ]' and '[x]' for a 'tick all that apply' question.",
    )


def _fold(text: str) -> str:
    return " ".join(text.casefold().split())


def _shorten(text: str, limit: int = 50) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
