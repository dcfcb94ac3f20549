"""Parsing: the text of a module or theme file to frozen dataclasses, or a ContentError listing every problem.

Contract: `parse_module` and `parse_theme` return a value or raise ContentError, whatever the input text;
each problem names the file, the line, what is wrong and how to fix it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from .characters import code_point, forbidden_control_character
from .errors import ContentError, Problem
from .frontmatter import (
    SLUG_HINT,
    FieldSpec,
    FrontMatter,
    int_field,
    is_slug,
    lang_field,
    read_fields,
    short_text_field,
    slug_field,
    split_front_matter,
    text_field,
    text_list_field,
)
from .model import DEFAULT_LANG, DEFAULT_PASS_MARK, Block, Module, Prose, Quiz, Theme
from .quizparse import parse_quiz

MAX_SOURCE_CHARS = 200_000
# A title is stored in a column of this many characters (app.models), and shown whole in menus and headings.
MAX_TITLE_CHARS = 200
# Positions are written with two digits in exported file names (01-..., 99-...), so that they sort in order.
MAX_ORDER = 99
# A file full of control characters is reported on this many lines, then summed up, not listed line by line.
MAX_CONTROL_LINES_REPORTED = 10
FENCE_RE = re.compile(r"^ {0,3}(`{3,}|~{3,})\s*(.*)$")

MODULE_FIELDS = {
    "id": FieldSpec(slug_field, hint=SLUG_HINT),
    "title": FieldSpec(short_text_field(MAX_TITLE_CHARS)),
    "theme": FieldSpec(slug_field, hint="Give the id of the theme, as written in its theme.md."),
    "order": FieldSpec(int_field(1, MAX_ORDER), hint="The module's position in its theme: 1 for the first."),
    "minutes": FieldSpec(int_field(1, 240), hint="The estimated time to read the module and do its exercises."),
    "summary": FieldSpec(text_field),
    "objectives": FieldSpec(text_list_field(1, 8)),
    "pass_mark": FieldSpec(int_field(0, 100), required=False, default=DEFAULT_PASS_MARK, hint="A percentage, such as 70."),
    "lang": FieldSpec(lang_field, required=False, default=DEFAULT_LANG),
}
THEME_FIELDS = {
    "id": FieldSpec(slug_field, hint=SLUG_HINT),
    "title": FieldSpec(short_text_field(MAX_TITLE_CHARS)),
    "order": FieldSpec(int_field(1, MAX_ORDER), hint="The theme's position in the course: 1 for the first."),
    "summary": FieldSpec(text_field),
    "live_session": FieldSpec(text_list_field(1, 10)),
}


def parse_module(text: str, path: str = "<module>") -> Module:
    """Parse a module file's text into a Module, or raise ContentError with every problem found."""
    text, front = _front_matter(text, path)
    fields, field_problems = read_fields(front, MODULE_FIELDS, path)
    blocks, body_problems = parse_body(front.body, front.body_line, path)
    problems = field_problems + body_problems + _duplicate_ids(blocks, path)
    if problems:
        raise ContentError(problems)
    return Module(blocks=tuple(blocks), path=path, source=text, **fields)


def parse_theme(text: str, path: str = "<theme>") -> Theme:
    """Parse a theme file's text into a Theme, or raise ContentError with every problem found."""
    text, front = _front_matter(text, path)
    fields, problems = read_fields(front, THEME_FIELDS, path)
    if problems:
        raise ContentError(problems)
    return Theme(introduction=front.body.strip(), path=path, source=text, **fields)


def _front_matter(text: str, path: str) -> tuple[str, FrontMatter]:
    """The normalised text and its front matter, or a ContentError when either cannot be had."""
    text, problems = prepare_source(text, path)
    front, split_problems = split_front_matter(text, path) if not problems else (None, [])
    if front is None:
        raise ContentError(problems + split_problems)
    return text, front


def prepare_source(text: str, path: str) -> tuple[str, list[Problem]]:
    """The text with its line endings and byte-order mark normalised, and why it cannot even be read: too long, or control characters."""
    if len(text) > MAX_SOURCE_CHARS:
        return text, [
            Problem(path, 1, f"The file is too long ({len(text):,} characters).", f"Split it into modules of at most {MAX_SOURCE_CHARS:,} characters.")
        ]
    text = text.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    return text, control_character_problems(text, path)


def control_character_problems(text: str, path: str) -> list[Problem]:
    """Each line that holds a control character other than a tab (the first few, then how many more)."""
    lines = [(number, found) for number, line in enumerate(text.split("\n"), start=1) if (found := forbidden_control_character(line, multi_line=True))]
    hint = "Delete it, or retype the line: such characters often come with text copied from another program."
    problems = [
        Problem(path, number, f"This line holds an invisible control character ({code_point(found)}), which cannot be saved.", hint)
        for number, found in lines[:MAX_CONTROL_LINES_REPORTED]
    ]
    if len(lines) > MAX_CONTROL_LINES_REPORTED:
        rest = lines[MAX_CONTROL_LINES_REPORTED:]
        problems.append(Problem(path, rest[0][0], f"{len(rest):,} more lines from here hold control characters.", "Save the file again as plain UTF-8 text."))
    return problems


@dataclass(frozen=True)
class _Fence:
    """A fenced block found in the body: its opening line index, closing line index (or None), marker and info."""

    start: int
    end: int | None
    marker: str
    info: str


def parse_body(body: str, first_line: int, path: str) -> tuple[list[Block], list[Problem]]:
    """Split a module body into prose and quiz blocks; `first_line` is the file line of the body's first line."""
    lines = body.split("\n")
    blocks: list[Block] = []
    problems: list[Problem] = []
    prose_start = 0
    for fence in _fences(lines):
        words = fence.info.split()
        if not words or words[0].lower() != "quiz":
            continue
        _add_prose(blocks, lines[prose_start : fence.start], first_line + prose_start)
        quiz, quiz_problems = _read_quiz_fence(fence, words, lines, first_line, path)
        problems += quiz_problems
        if quiz is not None:
            blocks.append(quiz)
        prose_start = len(lines) if fence.end is None else fence.end + 1
    _add_prose(blocks, lines[prose_start:], first_line + prose_start)
    return blocks, problems


def _fences(lines: list[str]) -> Iterator[_Fence]:
    """Every fenced block of the body, in order, following CommonMark's opening and closing rules."""
    index = 0
    while index < len(lines):
        opening = FENCE_RE.match(lines[index])
        if opening is None or (opening.group(1)[0] == "`" and "`" in opening.group(2)):
            index += 1
            continue
        marker = opening.group(1)
        end = next(
            (j for j in range(index + 1, len(lines)) if re.fullmatch(rf" {{0,3}}{re.escape(marker[0])}{{{len(marker)},}}\s*", lines[j])),
            None,
        )
        yield _Fence(index, end, marker, opening.group(2).strip())
        index = len(lines) if end is None else end + 1


def _read_quiz_fence(
    fence: _Fence, words: list[str], lines: list[str], first_line: int, path: str
) -> tuple[Quiz | None, list[Problem]]:
    line_no = first_line + fence.start
    problems: list[Problem] = []
    if fence.end is None:
        problems.append(Problem(path, line_no, "This quiz is never closed.", f"Add a line '{fence.marker}' after its last question."))
    quiz_id = words[1] if len(words) > 1 else ""
    if not quiz_id:
        problems.append(Problem(path, line_no, "This quiz has no id.", "Write the id after 'quiz', for example '```quiz check-search'."))
    elif not is_slug(quiz_id) or len(words) > 2:
        problems.append(Problem(path, line_no, f"The quiz id '{' '.join(words[1:])}' is not valid.", SLUG_HINT))
    end = len(lines) if fence.end is None else fence.end
    quiz, quiz_problems = parse_quiz(quiz_id, lines[fence.start + 1 : end], line_no + 1, path)
    problems += quiz_problems
    return (quiz if not problems else None), problems


def _add_prose(blocks: list[Block], lines: list[str], line: int) -> None:
    text = "\n".join(lines).strip("\n")
    if text.strip():
        leading = len(lines) - len("\n".join(lines).lstrip("\n").split("\n"))
        blocks.append(Prose(text, line + leading))


def _duplicate_ids(blocks: list[Block], path: str) -> list[Problem]:
    """Quiz ids and question ids must be unique within a module: attempts refer to them."""
    problems: list[Problem] = []
    quiz_ids: set[str] = set()
    question_ids: set[str] = set()
    for quiz in (block for block in blocks if isinstance(block, Quiz)):
        if quiz.id in quiz_ids:
            problems.append(Problem(path, quiz.line, f"The quiz id '{quiz.id}' is used twice in this module.", "Give each quiz its own id."))
        quiz_ids.add(quiz.id)
        for question in quiz.questions:
            if question.id in question_ids:
                problems.append(
                    Problem(path, question.line, f"The question id '{question.id}' is used twice in this module.", "Give each question its own id.")
                )
            question_ids.add(question.id)
    return problems
