import pytest

from course import ContentError, Prose, QuestionKind, Quiz, parse_module, parse_theme
from course.parse import MAX_CONTROL_LINES_REPORTED, MAX_ORDER, MAX_SOURCE_CHARS, MAX_TITLE_CHARS

from .helpers import FRONT, FRONT_LINES, module_with, problems_of, quiz

QUIZ_LINE = FRONT_LINES + 2  # the file line of the first line inside a quiz fence built by `quiz()`


def test_valid_module_gives_its_front_matter(valid_source):
    module = parse_module(valid_source, "valid.md")
    assert (module.id, module.title, module.theme, module.order, module.minutes) == (
        "search-basics",
        "Search basics",
        "information-management",
        1,
        15,
    )
    assert module.objectives == ("Use quotation marks for an exact phrase", "Exclude a word from a search")
    assert module.pass_mark == 75
    assert module.lang == "en"
    assert module.path == "valid.md"


def test_body_is_split_into_prose_and_quizzes_in_reading_order_with_their_lines(valid_source):
    module = parse_module(valid_source, "valid.md")
    kinds = [type(block) for block in module.blocks]
    assert kinds == [Prose, Quiz, Prose]
    assert [block.line for block in module.blocks] == [14, 28, 62]
    assert module.blocks[0].markdown.startswith("Searching well")
    assert "```python" in module.blocks[0].markdown  # ordinary code fences stay prose


def test_single_choice_question_keeps_choices_feedback_and_multiline_explanation(valid_source):
    question = parse_module(valid_source).quizzes[0].question("exact-phrase")
    assert question is not None
    assert question.kind is QuestionKind.SINGLE
    assert question.line == 29
    assert [(c.id, c.text, c.correct) for c in question.choices] == [
        ("a", "claims handling", False),
        ("b", '"claims handling"', True),
        ("c", "claims OR handling", False),
    ]
    assert question.choices[2].feedback == "OR widens the search."
    assert question.explanation == "Quotation marks keep words together,\nin the order you typed them."


def test_multiple_choice_question_has_every_ticked_choice_right(valid_source):
    question = parse_module(valid_source).quizzes[0].question("good-sources")
    assert question is not None
    assert question.kind is QuestionKind.MULTIPLE
    assert question.correct_choice_ids == {"a", "b"}


def test_single_choice_between_true_and_false_is_a_true_false_question(valid_source):
    question = parse_module(valid_source).quizzes[0].question("popular-means-true")
    assert question is not None
    assert question.kind is QuestionKind.TRUE_FALSE
    assert question.correct_choice_ids == {"b"}


def test_text_question_keeps_every_accepted_answer(valid_source):
    question = parse_module(valid_source).quizzes[0].question("either-word")
    assert question is not None
    assert question.kind is QuestionKind.TEXT
    assert question.accepted == ("OR", "the OR operator")


def test_module_without_quiz_is_valid():
    module = parse_module(module_with("Just reading.\n"))
    assert module.quizzes == ()
    assert module.question_count == 0


def test_module_may_hold_several_quizzes():
    body = "Intro\n\n```quiz first\n[question one]\nQ?\n(x) Yes\n( ) No\nExplanation: E.\n```\n\nMiddle\n\n"
    body += "```quiz second\n[question two]\nQ?\n= yes\nExplanation: E.\n```\n"
    module = parse_module(module_with(body))
    assert [q.id for q in module.quizzes] == ["first", "second"]


def test_crlf_line_endings_and_byte_order_mark_are_accepted(valid_source):
    module = parse_module("\ufeff" + valid_source.replace("\n", "\r\n"))
    assert module.question_count == 4
    assert module.quizzes[0].questions[0].line == 29


def test_pass_mark_and_lang_have_defaults():
    module = parse_module(module_with("Text\n"))
    assert (module.pass_mark, module.lang) == (70, "en")


def test_theme_file_gives_its_fields_and_introduction():
    theme = parse_theme(
        "---\nid: a-theme\ntitle: A theme\norder: 2\nsummary: Short.\nlive_session:\n  - One\n  - Two\n---\nIntro text.\n", "t.md"
    )
    assert (theme.id, theme.title, theme.order, theme.summary) == ("a-theme", "A theme", 2, "Short.")
    assert theme.live_session == ("One", "Two")
    assert theme.introduction == "Intro text."


# --- Problems: each is reported at its line, with a message that says what to do ---------------------------


def _lines_and_messages(text: str) -> list[tuple[int, str]]:
    return [(p.line, p.message + " " + p.hint) for p in problems_of(text)]


@pytest.mark.parametrize(
    ("inner", "line_offset", "expected"),
    [
        ("[question one]\nQ?\n( ) A\n( ) B\nExplanation: E.", 0, "has no right choice"),
        ("[question one]\nQ?\n(x) A\n(x) B\nExplanation: E.", 0, "2 choices marked '(x)'"),
        ("[question one]\nQ?\n[ ] A\n[ ] B\nExplanation: E.", 0, "Mark each right choice '[x]'"),
        ("[question one]\nQ?\n(x) A\n[ ] B\nExplanation: E.", 0, "mixes kinds of answers"),
        ("[question one]\nQ?\n(x) A\n= B\nExplanation: E.", 0, "mixes kinds of answers"),
        ("[question one]\nQ?\n(x) A\nExplanation: E.", 0, "has 1 choices"),
        ("[question one]\nQ?\nExplanation: E.", 0, "has no answers"),
        ("[question one]\n(x) A\n( ) B\nExplanation: E.", 0, "has no text"),
        ("[question one]\nQ?\n(x) A\n( ) B", 0, "has no explanation"),
        ("[question One Two]\nQ?\n(x) A\n( ) B\nExplanation: E.", 0, "'One Two' is not valid"),
        ("[question]\nQ?\n(x) A\n( ) B\nExplanation: E.", 0, "has no id"),
        ("Intro line\n[question one]\nQ?\n(x) A\n( ) B\nExplanation: E.", 0, "comes before the first question"),
        ("[question one]\nQ?\n(x) A\n( ) B\nwhat is this\nExplanation: E.", 4, "not understood: 'what is this'"),
        ("[question one]\nQ?\n(x) A\n( )\nExplanation: E.", 3, "This choice has no text"),
        ("[question one]\nQ?\n(x) A\n( ) a\nExplanation: E.", 3, "appears twice"),
        ("[question one]\nQ?\n=\nExplanation: E.", 2, "has no answer after it"),
        ("[question one]\nQ?\nFeedback: too early\n(x) A\n( ) B\nExplanation: E.", 2, "does not follow a choice"),
        ("[question one]\nQ?\n(x) A\nFeedback: one\nFeedback: two\n( ) B\nExplanation: E.", 4, "already has feedback"),
        ("[question one]\nQ?\n(x) A\nFeedback:\n( ) B\nExplanation: E.", 3, "'Feedback:' line is empty"),
        ("[question one]\nQ?\n= yes\nFeedback: no\nExplanation: E.", 3, "does not follow a choice"),
    ],
)
def test_quiz_problem_is_reported_at_its_line(inner, line_offset, expected):
    found = _lines_and_messages(quiz(inner))
    assert any(line == QUIZ_LINE + line_offset and expected in message for line, message in found), found


def test_a_choice_question_with_more_than_eight_choices_is_refused():
    choices = "\n".join(f"( ) C{i}" for i in range(9))
    found = _lines_and_messages(quiz(f"[question one]\nQ?\n(x) right\n{choices}\nExplanation: E."))
    assert (QUIZ_LINE, "The question 'one' has 10 choices. Give it from 2 to 8 choices.") in found


def test_every_problem_of_a_file_is_reported_not_only_the_first():
    text = FRONT.replace("minutes: 10", "minutes: ten").replace("order: 1", "order: 0")
    text += "```quiz q\n[question a]\nQ?\n( ) A\n( ) B\nExplanation: E.\n\n[question b]\nQ?\n= \nExplanation: E.\n```\n"
    found = _lines_and_messages(text)
    assert [line for line, _ in found] == [5, 6, QUIZ_LINE, QUIZ_LINE + 8]


def test_duplicate_question_ids_across_quizzes_are_reported_at_the_second():
    body = "```quiz a\n[question same]\nQ?\n= x\nExplanation: E.\n```\n\n```quiz b\n[question same]\nQ?\n= y\nExplanation: E.\n```\n"
    found = _lines_and_messages(module_with(body))
    assert found == [(QUIZ_LINE + 7, "The question id 'same' is used twice in this module. Give each question its own id.")]


def test_duplicate_quiz_ids_are_reported():
    body = "```quiz a\n[question x]\nQ?\n= x\nExplanation: E.\n```\n\n```quiz a\n[question y]\nQ?\n= y\nExplanation: E.\n```\n"
    assert any("quiz id 'a' is used twice" in m for _, m in _lines_and_messages(module_with(body)))


@pytest.mark.parametrize(
    ("fence", "expected"),
    [("```quiz", "This quiz has no id"), ("```quiz Check Search", "'Check Search' is not valid")],
)
def test_quiz_fence_needs_one_valid_id(fence, expected):
    text = module_with(f"{fence}\n[question x]\nQ?\n= x\nExplanation: E.\n```\n")
    assert any(line == QUIZ_LINE - 1 and expected in m for line, m in _lines_and_messages(text))


def test_unclosed_quiz_is_reported_at_its_opening_line():
    text = module_with("Text\n\n```quiz q\n[question x]\nQ?\n= x\nExplanation: E.\n")
    assert (QUIZ_LINE + 1, "This quiz is never closed. Add a line '```' after its last question.") in _lines_and_messages(text)


def test_quiz_inside_an_ordinary_code_block_is_only_shown_as_code():
    module = parse_module(module_with("````markdown\n```quiz q\n[question x]\n````\n"))
    assert module.quizzes == ()


@pytest.mark.parametrize(
    ("replace", "by", "line", "expected"),
    [
        ("id: a-module", "id: A Module", 2, "'A Module', which is not a valid id"),
        ("minutes: 10", "minutes: ten", 6, "'minutes' must be a whole number from 1 to 240, not 'ten'"),
        ("order: 1", "order: 0", 5, "'order' must be from 1 to 99, not 0"),
        ("title: A module\n", "", 1, "The field 'title' is missing"),
        ("title: A module", "titel: A module", 3, "Unknown field 'titel'. Did you mean 'title'?"),
        ("objectives:\n  - Do one thing", "objectives: Do one thing", 8, "'objectives' must be a list"),
        ("summary: A short summary.", "summary: A short summary.\nsummary: again", 8, "given twice"),
        ("order: 1", "order: 1\nlang: english", 6, "two-letter language code"),
        ("order: 1", "order: 1\npass_mark: 120", 6, "'pass_mark' must be from 0 to 100, not 120"),
        ("title: A module", "title: [unclosed", 4, "front matter cannot be read"),
    ],
)
def test_front_matter_problem_is_reported_at_its_line(replace, by, line, expected):
    text = module_with("Body\n").replace(replace, by)
    found = _lines_and_messages(text)
    assert any(found_line == line and expected in message for found_line, message in found), found


def test_file_without_front_matter_says_how_to_start():
    assert _lines_and_messages("# Just a title\n") == [
        (1, "The file must start with a front-matter block. Put a line '---' first, then the fields (id, title...), then another '---' line.")
    ]


def test_unclosed_front_matter_is_reported():
    assert _lines_and_messages("---\nid: x\n")[0][1].startswith("The front-matter block is never closed.")


def test_oversized_source_is_refused_before_parsing():
    found = _lines_and_messages(module_with("x" * (MAX_SOURCE_CHARS + 1)))
    assert len(found) == 1
    assert "too long" in found[0][1]


def test_problems_print_as_path_line_message_and_hint():
    with pytest.raises(ContentError) as caught:
        parse_module("no front matter", "content/x.md")
    assert str(caught.value).startswith("content/x.md:1: The file must start with a front-matter block.")


def test_theme_problems_are_reported_with_lines():
    found = [(p.line, p.message) for p in problems_of_theme("---\nid: t\ntitle: T\norder: x\nsummary: S\n---\n")]
    assert found == [(1, "The field 'live_session' is missing."), (4, "The field 'order' must be a whole number from 1 to 99, not 'x'.")]


def problems_of_theme(text: str):
    with pytest.raises(ContentError) as caught:
        parse_theme(text, "theme.md")
    return caught.value.problems


def test_each_line_holding_a_control_character_is_reported_with_its_code_point():
    found = problems_of(module_with("A bell\x07 here.\n\nA tab\tis fine.\n\nNUL\x00 there.\n"))
    assert [(p.line, p.message) for p in found] == [
        (FRONT_LINES + 1, "This line holds an invisible control character (U+0007), which cannot be saved."),
        (FRONT_LINES + 5, "This line holds an invisible control character (U+0000), which cannot be saved."),
    ]
    assert found[0].hint.startswith("Delete it, or retype the line")


def test_a_file_full_of_control_characters_lists_ten_lines_then_how_many_more():
    found = problems_of(module_with("\x01\n" * 25))
    assert len(found) == MAX_CONTROL_LINES_REPORTED + 1
    assert found[-1].line == FRONT_LINES + 1 + MAX_CONTROL_LINES_REPORTED
    assert found[-1].message == "15 more lines from here hold control characters."


def test_control_characters_in_a_theme_file_are_reported_too():
    with pytest.raises(ContentError) as caught:
        parse_theme("---\nid: t\ntitle: T\x1b\n---\n", "theme.md")
    assert [(p.line, p.message[:48]) for p in caught.value.problems] == [(3, "This line holds an invisible control character (")]


def test_a_title_longer_than_its_column_is_refused_on_its_line():
    text = FRONT.replace("title: A module", "title: " + "T" * (MAX_TITLE_CHARS + 1))
    assert [(p.line, p.message) for p in problems_of(text)] == [
        (3, f"The field 'title' holds {MAX_TITLE_CHARS + 1} characters; it may hold at most {MAX_TITLE_CHARS}. Shorten it.")
    ]


def test_a_position_past_the_two_digits_of_file_names_is_refused():
    assert [p.message for p in problems_of(FRONT.replace("order: 1", f"order: {MAX_ORDER + 1}"))] == [
        f"The field 'order' must be from 1 to {MAX_ORDER}, not {MAX_ORDER + 1}."
    ]
