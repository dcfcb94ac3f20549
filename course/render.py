"""Rendering: course Markdown to safe HTML, computed once per revision and stored by the caller.

`render_markdown` turns Markdown into sanitized HTML with a table of contents; `render_module` renders a
whole module, quizzes included, into a RenderedModule that holds everything a page needs to show it.
Raw HTML is allowed in the source and always goes through `sanitize`.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import MutableMapping
from dataclasses import dataclass
from typing import Any

from markdown_it import MarkdownIt
from markdown_it.rules_core import StateCore

from .model import Module, Prose, QuestionKind, Quiz
from .sanitize import ANCHOR_PREFIX, sanitize

MODULE_LINK_PREFIX = "module:"
DEFAULT_MODULE_HREF = "/modules/{id}"
TOC_LEVELS = (2, 3)


@dataclass(frozen=True)
class TocEntry:
    """One heading of a page's table of contents."""

    level: int
    anchor: str
    text: str


@dataclass(frozen=True)
class RenderedHtml:
    """Sanitized HTML and the headings it holds."""

    html: str
    toc: tuple[TocEntry, ...]


@dataclass(frozen=True)
class RenderedChoice:
    """A choice's label and feedback, as sanitized inline HTML."""

    id: str
    html: str
    feedback_html: str


@dataclass(frozen=True)
class RenderedQuestion:
    """A question ready to show: its prompt, choices and explanation as sanitized HTML."""

    id: str
    kind: QuestionKind
    prompt_html: str
    choices: tuple[RenderedChoice, ...]
    explanation_html: str


@dataclass(frozen=True)
class RenderedQuiz:
    """A quiz ready to show."""

    id: str
    questions: tuple[RenderedQuestion, ...]


@dataclass(frozen=True)
class RenderedModule:
    """A module ready to show: HTML parts and quizzes in reading order, and a table of contents."""

    parts: tuple[str | RenderedQuiz, ...]
    toc: tuple[TocEntry, ...]

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready form, for storing the rendering beside its revision."""
        return {
            "parts": [part if isinstance(part, str) else _quiz_to_dict(part) for part in self.parts],
            "toc": [[entry.level, entry.anchor, entry.text] for entry in self.toc],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RenderedModule:
        """Rebuild a rendering stored with `to_dict`."""
        return cls(
            parts=tuple(part if isinstance(part, str) else _quiz_from_dict(part) for part in data["parts"]),
            toc=tuple(TocEntry(int(level), anchor, text) for level, anchor, text in data["toc"]),
        )


def _quiz_to_dict(quiz: RenderedQuiz) -> dict[str, Any]:
    return {
        "id": quiz.id,
        "questions": [
            {
                "id": q.id,
                "kind": q.kind.value,
                "prompt_html": q.prompt_html,
                "explanation_html": q.explanation_html,
                "choices": [[c.id, c.html, c.feedback_html] for c in q.choices],
            }
            for q in quiz.questions
        ],
    }


def _quiz_from_dict(data: dict[str, Any]) -> RenderedQuiz:
    return RenderedQuiz(
        id=data["id"],
        questions=tuple(
            RenderedQuestion(
                id=q["id"],
                kind=QuestionKind(q["kind"]),
                prompt_html=q["prompt_html"],
                explanation_html=q["explanation_html"],
                choices=tuple(RenderedChoice(cid, html, feedback) for cid, html, feedback in q["choices"]),
            )
            for q in data["questions"]
        ),
    )


def slugify(text: str) -> str:
    """A lowercase ASCII slug of `text`: letters and digits joined by single hyphens."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")[:60].strip("-")


def _anchor_for(text: str, used: set[str]) -> str:
    base = ANCHOR_PREFIX + (slugify(text) or "section")
    anchor, number = base, 2
    while anchor in used:
        anchor, number = f"{base}-{number}", number + 1
    used.add(anchor)
    return anchor


def _course_rules(state: StateCore) -> None:
    """Anchor headings, demote h1, turn table alignment styles into classes and resolve module links."""
    env: MutableMapping[str, Any] = state.env
    used: set[str] = env.setdefault("anchors", set())
    toc: list[TocEntry] = env.setdefault("toc", [])
    href_template: str = env.get("module_href", DEFAULT_MODULE_HREF)
    tokens = state.tokens
    for index, token in enumerate(tokens):
        if token.type in ("heading_open", "heading_close") and token.tag == "h1":
            token.tag = "h2"
        if token.type == "heading_open":
            text = tokens[index + 1].content if index + 1 < len(tokens) else ""
            anchor = _anchor_for(text, used)
            token.attrSet("id", anchor)
            if int(token.tag[1]) in TOC_LEVELS:
                toc.append(TocEntry(int(token.tag[1]), anchor, _plain(text)))
        elif token.type in ("th_open", "td_open"):
            style = str(token.attrGet("style") or "")
            if token.attrs.pop("style", None) is not None and (align := re.search(r"text-align:(\w+)", style)):
                token.attrSet("class", f"align-{align.group(1)}")
        elif token.type == "inline" and token.children:
            for child in token.children:
                _resolve_module_link(child.attrs, href_template)


def _resolve_module_link(attrs: dict[str, Any], href_template: str) -> None:
    href = str(attrs.get("href", ""))
    if href.startswith(MODULE_LINK_PREFIX):
        target, _, fragment = href[len(MODULE_LINK_PREFIX) :].partition("#")
        attrs["href"] = href_template.format(id=target) + (f"#{fragment}" if fragment else "")


def _plain(inline_markdown: str) -> str:
    """Heading text without Markdown emphasis or code marks, for the table of contents."""
    return re.sub(r"[*_`]+", "", inline_markdown).strip()


def _build_parser() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": True, "typographer": False}).enable(["table", "strikethrough"])
    md.core.ruler.push("speak_digital", _course_rules)
    return md


_MD = _build_parser()


def render_markdown(markdown: str, env: MutableMapping[str, Any] | None = None) -> RenderedHtml:
    """Render block Markdown to sanitized HTML; pass one `env` to several calls to keep anchors unique."""
    env = {} if env is None else env
    toc_before = len(env.get("toc", []))
    html = sanitize(_MD.render(markdown, env))
    return RenderedHtml(html, tuple(env.get("toc", [])[toc_before:]))


def render_inline(markdown: str, env: MutableMapping[str, Any] | None = None) -> str:
    """Render a line of Markdown (a choice, a feedback) to sanitized inline HTML."""
    return sanitize(_MD.renderInline(markdown, {} if env is None else env)).strip()


def render_quiz(quiz: Quiz, env: MutableMapping[str, Any] | None = None) -> RenderedQuiz:
    """Render a quiz's prompts, choices, feedback and explanations."""
    env = {} if env is None else env
    return RenderedQuiz(
        quiz.id,
        tuple(
            RenderedQuestion(
                question.id,
                question.kind,
                render_inline(question.prompt, env),
                tuple(RenderedChoice(c.id, render_inline(c.text, env), render_inline(c.feedback, env)) for c in question.choices),
                render_markdown(question.explanation, env).html,
            )
            for question in quiz.questions
        ),
    )


def render_module(module: Module, module_href: str = DEFAULT_MODULE_HREF) -> RenderedModule:
    """Render a whole module; `module_href` is the URL pattern for `module:ID` links, with `{id}`."""
    env: dict[str, Any] = {"module_href": module_href}
    parts: list[str | RenderedQuiz] = []
    for block in module.blocks:
        if isinstance(block, Prose):
            parts.append(render_markdown(block.markdown, env).html)
        else:
            parts.append(render_quiz(block, env))
    return RenderedModule(tuple(parts), tuple(env.get("toc", [])))
