"""No input ever makes the parser fail with anything but a ContentError."""

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from course import ContentError, Module, Theme, parse_module, parse_theme, render_module

from .helpers import FRONT

LINES = st.sampled_from(
    [
        "---", "```quiz q", "```", "~~~quiz x", "[question a]", "[question]", "(x) A", "( ) B", "[x] C", "[ ] D",
        "= answer", "=", "Feedback: f", "Explanation: e", "", "id: x", "title: T", "order: 1", "- item", "  - item",
        "objectives:", "## Heading", "<script>x</script>", "[l](module:x)", "Q?", "pass_mark: 200", ": :", "{[", "\t",
    ]
)  # fmt: skip
SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _parse_or_content_error(text: str) -> None:
    try:
        outcome: Module | ContentError = parse_module(text, "fuzz.md")
    except ContentError as error:
        outcome = error
    if isinstance(outcome, ContentError):
        assert outcome.problems, "a ContentError always names at least one problem"
        assert all(p.path == "fuzz.md" and p.line >= 0 for p in outcome.problems)
    else:
        render_module(outcome)


@SETTINGS
@given(st.text())
def test_arbitrary_text_gives_a_module_or_a_content_error(text):
    _parse_or_content_error(text)


@SETTINGS
@given(st.lists(LINES, max_size=40))
def test_arbitrary_arrangements_of_format_lines_give_a_module_or_a_content_error(lines):
    _parse_or_content_error("\n".join(lines))


@SETTINGS
@given(st.lists(st.one_of(LINES, st.text(max_size=30)), max_size=30))
def test_valid_front_matter_followed_by_anything_gives_a_module_or_a_content_error(lines):
    _parse_or_content_error(FRONT + "\n".join(lines))


@SETTINGS
@given(st.text())
def test_arbitrary_text_gives_a_theme_or_a_content_error(text):
    try:
        outcome: Theme | ContentError = parse_theme(text, "t.md")
    except ContentError as error:
        outcome = error
    assert isinstance(outcome, Theme) or outcome.problems
