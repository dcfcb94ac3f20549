"""Small builders for course tests."""

from __future__ import annotations

import pytest

from course import ContentError, Problem, parse_module

FRONT = """---
id: a-module
title: A module
theme: a-theme
order: 1
minutes: 10
summary: A short summary.
objectives:
  - Do one thing
---
"""
FRONT_LINES = FRONT.count("\n")


def module_with(body: str) -> str:
    """A valid front matter followed by `body`."""
    return FRONT + body


def quiz(inner: str, quiz_id: str = "q") -> str:
    """A body holding one quiz fence around `inner`; the quiz's first inner line is file line FRONT_LINES + 2."""
    return module_with(f"```quiz {quiz_id}\n{inner}\n```\n")


def problems_of(text: str) -> tuple[Problem, ...]:
    """The problems parse_module reports for `text` (fails the test if it parses)."""
    with pytest.raises(ContentError) as caught:
        parse_module(text, "m.md")
    return caught.value.problems
