"""Authoring in the browser: drafts, validation, publishing, history, diffs and restore.

A module's published revision is what learners see; every save makes a new revision (a draft until it is
published). A draft is parsed and rendered by the same `course/` pipeline as imported content, so what a
mentor previews is what learners get; a draft with problems keeps them and can never be published.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from course import ContentError, Module, Problem, parse_module, render_module
from course.catalog import MODULE_LINK_RE
from course.frontmatter import is_slug
from course.parse import MAX_ORDER, MAX_TITLE_CHARS

from ..models import ModuleRecord, ModuleRevision, QuestionAnswer, RevisionOrigin, ThemeRecord, User, utcnow
from .content import MODULE_HREF, copy_outline, source_digest

EMPTY_RENDERING: dict[str, Any] = {"parts": [], "toc": []}


class AuthoringError(Exception):
    """An authoring action that cannot be done; the message says why and what to do."""


@dataclass(frozen=True)
class Checked:
    """A source checked by the course pipeline: the parsed module, or the problems that stop it."""

    module: Module | None
    problems: tuple[Problem, ...]

    @property
    def is_valid(self) -> bool:
        """True when the source can be published."""
        return self.module is not None and not self.problems


def check_source(session: Session, module_id: str, source: str) -> Checked:
    """Parse a module's source and check it against the course: its id, its theme and its links."""
    path = f"{module_id}.md"
    try:
        module = parse_module(source, path)
    except ContentError as error:
        return Checked(None, error.problems)
    problems: list[Problem] = []
    if module.id != module_id:
        problems.append(Problem(path, 2, f"The id must stay '{module_id}': learners' progress is recorded against it.", "Put the id back."))
    if session.get(ThemeRecord, module.theme) is None:
        problems.append(Problem(path, 4, f"The theme '{module.theme}' does not exist.", "Give the id of one of the five themes."))
    known = set(session.scalars(select(ModuleRecord.id)))
    for offset, line in enumerate(source.split("\n"), start=1):
        for match in MODULE_LINK_RE.finditer(line):
            if match.group(1) not in known:
                problems.append(Problem(path, offset, f"The link 'module:{match.group(1)}' points to no module.", "Link to a module by its id."))
    return Checked(module, tuple(problems))


def preview(session: Session, module_id: str, source: str) -> tuple[dict[str, Any], tuple[Problem, ...]]:
    """The rendering a draft would have, and its problems: the same pipeline as learners' pages."""
    checked = check_source(session, module_id, source)
    rendering = render_module(checked.module, MODULE_HREF).to_dict() if checked.module is not None else EMPTY_RENDERING
    return rendering, checked.problems


def latest_revision(session: Session, module_id: str) -> ModuleRevision | None:
    """A module's newest revision, draft or published."""
    return session.scalar(select(ModuleRevision).where(ModuleRevision.module_id == module_id).order_by(ModuleRevision.number.desc()).limit(1))


def save_draft(session: Session, author: User, record: ModuleRecord, source: str) -> tuple[ModuleRevision, bool]:
    """Save the source as a new draft revision; an unchanged source makes none. Returns the revision and whether it is new."""
    latest = latest_revision(session, record.id)
    digest = source_digest(source)
    if latest is not None and latest.source_sha256 == digest:
        return latest, False
    rendering, problems = preview(session, record.id, source)
    revision = ModuleRevision(
        module_id=record.id,
        number=(latest.number if latest else 0) + 1,
        source=source,
        source_sha256=digest,
        rendered=rendering,
        problems=[{"line": p.line, "message": f"{p.message} {p.hint}".strip()} for p in problems],
        origin=RevisionOrigin.EDITOR,
        author_id=author.id,
    )
    session.add(revision)
    session.flush()
    record.updated_at = utcnow()
    return revision, True


def publish(session: Session, record: ModuleRecord, revision: ModuleRevision) -> None:
    """Make a valid revision the one learners see; a revision with problems is refused."""
    if revision.module_id != record.id:
        raise AuthoringError("This revision belongs to another module.")
    if revision.problems:
        raise AuthoringError("This draft has problems: fix them, save, then publish.")
    checked = check_source(session, record.id, revision.source)
    if not checked.is_valid or checked.module is None:
        raise AuthoringError("This draft no longer passes the checks (a module it links to may have gone). Save it again to see why.")
    copy_outline(record, checked.module)
    record.current_revision = revision
    revision.published_at = utcnow()
    session.flush()


def restore(session: Session, author: User, record: ModuleRecord, number: int) -> ModuleRevision:
    """Start a new draft from an earlier revision's source."""
    old = session.scalar(select(ModuleRevision).where(ModuleRevision.module_id == record.id, ModuleRevision.number == number))
    if old is None:
        raise LookupError(number)
    revision, _ = save_draft(session, author, record, old.source)
    return revision


def revision_pair(session: Session, module_id: str, first: int, second: int) -> tuple[ModuleRevision, ModuleRevision] | None:
    """Two revisions of one module by number, or None when either is missing."""
    rows = {
        r.number: r
        for r in session.scalars(select(ModuleRevision).where(ModuleRevision.module_id == module_id, ModuleRevision.number.in_([first, second])))
    }
    return (rows[first], rows[second]) if first in rows and second in rows else None


@dataclass(frozen=True)
class DiffLine:
    """One line of a diff: '+' added, '-' removed, ' ' unchanged, '@' a position marker."""

    kind: str
    text: str


def diff_lines(old: str, new: str) -> list[DiffLine]:
    """A unified diff of two sources, line by line."""
    lines = difflib.unified_diff(old.split("\n"), new.split("\n"), lineterm="", n=3)
    result = []
    for line in list(lines)[2:]:  # the first two lines name the files
        result.append(DiffLine(line[:1] if line[:1] in "+- " else "@", line[1:] if line[:1] in "+- " else line))
    return result


def create_module(session: Session, author: User, theme_id: str, module_id: str, title: str) -> ModuleRecord:
    """A new, unpublished module with a first draft that already follows the format."""
    if not is_slug(module_id):
        raise AuthoringError("The id must use lowercase letters, digits and single hyphens, such as 'search-like-a-pro'.")
    if len(title) > MAX_TITLE_CHARS:
        raise AuthoringError(f"The title holds {len(title):,} characters; a title holds at most {MAX_TITLE_CHARS:,}. Shorten it.")
    if session.get(ModuleRecord, module_id) is not None:
        raise AuthoringError(f"A module with the id '{module_id}' already exists. Choose another id.")
    theme = session.get(ThemeRecord, theme_id)
    if theme is None:
        raise AuthoringError("Choose one of the five themes.")
    position = (session.scalar(select(func.max(ModuleRecord.position)).where(ModuleRecord.theme_id == theme_id)) or 0) + 1
    if position > MAX_ORDER:
        raise AuthoringError(
            f"The theme “{theme.title}” already has a module at position {MAX_ORDER}, the last position a theme has. "
            "Give that module a lower 'order' first, or put the new module in another theme."
        )
    record = ModuleRecord(
        id=module_id, theme_id=theme_id, position=position, title=title, minutes=15, summary="", objectives=[], pass_mark=70, quiz_ids=[]
    )
    session.add(record)
    session.flush()
    save_draft(session, author, record, starter_source(module_id, title, theme_id, position))
    return record


def starter_source(module_id: str, title: str, theme_id: str, position: int) -> str:
    """The first draft of a new module: valid, with every part a module needs, ready to be written over."""
    quoted_title = title.replace('"', "'")
    return f"""---
id: {module_id}
title: "{quoted_title}"
theme: {theme_id}
order: {position}
minutes: 15
summary: One sentence that tells learners what they will be able to do.
objectives:
  - The first thing a learner can do after this module
pass_mark: 70
---

Start with a short paragraph on why this matters in daily work.

## The first idea

Explain it with an example from your own work.

## Try it now

1. A concrete exercise a learner can do at their desk.

```quiz check-{module_id}
[question first-question]
Write the question here.
( ) A wrong answer
    Feedback: Why it is not right.
(x) The right answer
Explanation: Why the right answer is right.
```
"""


@dataclass(frozen=True)
class QuestionInsight:
    """What learners made of one question: first-try right share and the most chosen wrong answer."""

    question_id: str
    first_tries: int
    right_first_time: int
    common_wrong_answer: str | None
    common_wrong_count: int

    @property
    def right_percent(self) -> int | None:
        """The share right at the first try, in whole percent; None without answers."""
        return self.right_first_time * 100 // self.first_tries if self.first_tries else None


def question_insights(session: Session, module_id: str, question_ids: Iterable[str]) -> list[QuestionInsight]:
    """Per question, from two aggregate queries: first-try results and the most chosen wrong answer."""
    first = {
        question_id: (int(total), int(right or 0))
        for question_id, total, right in session.execute(
            select(QuestionAnswer.question_id, func.count(), func.sum(case((QuestionAnswer.correct, 1), else_=0)))
            .where(QuestionAnswer.module_id == module_id, QuestionAnswer.first_try)
            .group_by(QuestionAnswer.question_id)
        )
    }
    wrong: dict[str, tuple[str, int]] = {}
    for question_id, key, count in session.execute(
        select(QuestionAnswer.question_id, QuestionAnswer.answer_key, func.count().label("n"))
        .where(QuestionAnswer.module_id == module_id, QuestionAnswer.correct.is_(False))
        .group_by(QuestionAnswer.question_id, QuestionAnswer.answer_key)
        .order_by(QuestionAnswer.question_id, func.count().desc(), QuestionAnswer.answer_key)
    ):
        wrong.setdefault(question_id, (key, int(count)))
    return [
        QuestionInsight(qid, first.get(qid, (0, 0))[0], first.get(qid, (0, 0))[1], wrong.get(qid, (None, 0))[0], wrong.get(qid, (None, 0))[1])
        for qid in question_ids
    ]
