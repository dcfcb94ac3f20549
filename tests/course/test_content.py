"""The shipped course: it validates, and every module meets the programme's standard."""

import subprocess
import sys
from pathlib import Path

import pytest

from course import Module, Prose, QuestionKind, load_catalog

ROOT = Path(__file__).resolve().parents[2]
CATALOG = load_catalog(ROOT / "content")
THEME_ORDER = [
    "information-management",
    "collaboration-and-networking",
    "personal-branding-and-data",
    "learning-in-digital",
    "in-house-digital-innovations",
]


def test_python_dash_m_course_validates_the_shipped_content_by_default():
    completed = subprocess.run([sys.executable, "-m", "course", "validate"], cwd=ROOT, capture_output=True, text=True, check=False)
    assert completed.returncode == 0, completed.stdout
    assert completed.stdout.startswith("Valid: 5 themes")


def test_the_five_themes_come_in_the_programme_order():
    assert [theme.id for theme in CATALOG.themes] == THEME_ORDER


@pytest.mark.parametrize("theme_id", THEME_ORDER)
def test_every_theme_has_at_least_three_modules_and_says_what_its_live_session_covers(theme_id):
    theme = CATALOG.theme(theme_id)
    assert theme is not None
    assert len(CATALOG.modules_of(theme_id)) >= 3
    assert len(theme.live_session) >= 3
    assert len(theme.introduction.split()) >= 60


def _body_words(module: Module) -> int:
    return sum(len(block.markdown.split()) for block in module.blocks if isinstance(block, Prose))


@pytest.mark.parametrize("module", CATALOG.modules, ids=lambda m: m.id)
def test_every_module_is_ten_to_twenty_five_minutes_with_substantive_text(module):
    assert 10 <= module.minutes <= 25
    assert _body_words(module) >= 1000


@pytest.mark.parametrize("module", CATALOG.modules, ids=lambda m: m.id)
def test_every_module_has_try_it_now_exercises(module):
    prose = "\n".join(block.markdown for block in module.blocks if isinstance(block, Prose))
    assert "## Try it now" in prose


@pytest.mark.parametrize("module", CATALOG.modules, ids=lambda m: m.id)
def test_every_module_quiz_has_four_questions_of_mixed_kinds_with_feedback(module):
    questions = [q for quiz in module.quizzes for q in quiz.questions]
    assert len(questions) >= 4
    assert len({q.kind for q in questions}) >= 3
    assert all(q.explanation for q in questions)
    wrong_choices = [c for q in questions for c in q.choices if not c.correct and q.kind is not QuestionKind.MULTIPLE]
    assert sum(bool(c.feedback) for c in wrong_choices) >= len(wrong_choices) * 0.8
