"""Speak Digital's course domain: parsing, rendering, grading and progress rules, in plain Python.

This package never imports the web or database layers; its inputs and outputs are plain values
and frozen dataclasses, and its failures are the named errors of `course.errors`.
"""

from .catalog import Catalog, load_catalog
from .errors import AnswerError, ContentError, CourseError, MissingAnswersError, Problem
from .grade import QuestionResult, QuizResult, grade, normalize_text_answer
from .model import Choice, Module, Prose, Question, QuestionKind, Quiz, Theme
from .parse import parse_module, parse_theme
from .render import RenderedModule, render_markdown, render_module
from .sanitize import sanitize

__all__ = [
    "AnswerError",
    "Catalog",
    "Choice",
    "ContentError",
    "CourseError",
    "MissingAnswersError",
    "Module",
    "Problem",
    "Prose",
    "Question",
    "QuestionKind",
    "QuestionResult",
    "Quiz",
    "QuizResult",
    "RenderedModule",
    "Theme",
    "grade",
    "load_catalog",
    "normalize_text_answer",
    "parse_module",
    "parse_theme",
    "render_markdown",
    "render_module",
    "sanitize",
]
