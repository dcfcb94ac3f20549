"""The authoring guide shows real messages: each mistake it lists gives exactly the message it quotes."""

import re
from pathlib import Path

import pytest

from course import parse_module

from .helpers import module_with, problems_of, quiz

GUIDE = (Path(__file__).resolve().parents[2] / "content" / "README.md").read_text(encoding="utf-8")
QUIZ_MISTAKES = re.findall(r"```text\n(.*?)\n```\n\n> ([^\n]+)", GUIDE, re.DOTALL)
EXAMPLE = re.search(r"````markdown\n(---\nid: search-like-a-pro.*?)\n````", GUIDE, re.DOTALL)


def test_the_guide_lists_quiz_mistakes():
    assert len(QUIZ_MISTAKES) >= 8


@pytest.mark.parametrize(("snippet", "message"), QUIZ_MISTAKES, ids=[m[:40] for _, m in QUIZ_MISTAKES])
def test_each_quiz_mistake_in_the_guide_gives_the_quoted_message(snippet, message):
    found = [f"{p.message} {p.hint}" for p in problems_of(quiz(snippet, "check-search"))]
    assert found == [message]


@pytest.mark.parametrize(
    ("replace", "by", "message_start"),
    [
        ("minutes: 10", "minutes: 20 minutes", "The field 'minutes' must be a whole number from 1 to 240, not '20 minutes'."),
        ("objectives:\n  - Do one thing", "objectives: Search well", "The field 'objectives' must be a list, one '  - item' per line."),
        ("title: A module", "title: Search: the basics", "The front matter cannot be read: mapping values are not allowed here."),
        ("theme: a-theme", "theme: Information management", "The field 'theme' is 'Information management', which is not a valid id."),
        ("title: A module", "titel: A module", "Unknown field 'titel'."),
    ],
)
def test_each_front_matter_mistake_in_the_guide_gives_the_quoted_message(replace, by, message_start):
    found = [f"{p.message} {p.hint}".strip() for p in problems_of(module_with("Body.").replace(replace, by))]
    quoted = [text for text in found if text.startswith(message_start)]
    assert len(quoted) == 1, found
    assert quoted[0] in GUIDE


def test_the_guide_s_complete_example_is_a_valid_module():
    assert EXAMPLE is not None
    module = parse_module(EXAMPLE.group(1), "example.md")
    assert module.question_count == 4
    assert {q.kind.value for q in module.quizzes[0].questions} == {"single", "multiple", "true_false", "text"}
