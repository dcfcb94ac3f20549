from course import RenderedModule, parse_module, render_markdown, render_module
from course.parse import MAX_SOURCE_CHARS
from course.render import slugify

from .helpers import module_with


def test_headings_get_prefixed_anchors_and_fill_the_table_of_contents():
    rendered = render_markdown("## Why it matters\n\n### Search *operators*\n\n#### Deep")
    assert '<h2 id="sec-why-it-matters">' in rendered.html
    assert '<h3 id="sec-search-operators">' in rendered.html
    assert '<h4 id="sec-deep">' in rendered.html
    assert [(e.level, e.anchor, e.text) for e in rendered.toc] == [
        (2, "sec-why-it-matters", "Why it matters"),
        (3, "sec-search-operators", "Search operators"),
    ]


def test_repeated_headings_get_distinct_anchors_across_a_whole_module():
    body = "## Try it now\n\n```quiz q\n[question x]\nQ?\n= y\nExplanation: E.\n```\n\n## Try it now\n"
    rendered = render_module(parse_module(module_with(body)))
    assert [entry.anchor for entry in rendered.toc] == ["sec-try-it-now", "sec-try-it-now-2"]


def test_a_top_level_heading_is_shown_as_a_section_heading_because_the_page_holds_the_title():
    assert render_markdown("# Title").html == '<h2 id="sec-title">Title</h2>\n'


def test_module_links_become_links_to_the_module_page_with_their_anchor():
    html = render_markdown("[passwords](module:passwords-and-two-factor#sec-why)", {"module_href": "/m/{id}"}).html
    assert '<a href="/m/passwords-and-two-factor#sec-why">passwords</a>' in html


def test_slugs_drop_accents_and_punctuation():
    assert slugify("Données & vie privée : l'essentiel") == "donnees-vie-privee-l-essentiel"


def test_rendered_module_keeps_quizzes_in_place_and_round_trips_through_its_stored_form(valid_source):
    rendered = render_module(parse_module(valid_source))
    assert [type(part).__name__ for part in rendered.parts] == ["str", "RenderedQuiz", "str"]
    quiz = rendered.parts[1]
    assert quiz.questions[0].prompt_html == "Which search finds pages that contain the exact phrase <em>claims handling</em>?"
    assert quiz.questions[0].choices[2].feedback_html == "OR widens the search."
    assert quiz.questions[0].explanation_html.startswith("<p>Quotation marks")
    assert RenderedModule.from_dict(rendered.to_dict()) == rendered


def test_quiz_text_is_sanitized_too():
    body = "```quiz q\n[question x]\n<img src=x onerror=alert(1)>Q?\n(x) <script>a</script>Yes\n    Feedback: <b onclick=x>f</b>\n( ) No\nExplanation: [e](javascript:alert(1))\n```\n"
    question = render_module(parse_module(module_with(body))).parts[0].questions[0]
    assert "onerror" not in question.prompt_html
    assert "<script>" not in question.choices[0].html
    assert question.choices[0].feedback_html == "<b>f</b>"
    assert "href" not in question.explanation_html


def test_largest_allowed_source_renders():
    paragraph = "Plain words in a paragraph. " * 30 + "\n\n"
    text = module_with(paragraph * ((MAX_SOURCE_CHARS - 400) // len(paragraph)))
    rendered = render_module(parse_module(text))
    assert rendered.parts[0].count("<p>") > 200
