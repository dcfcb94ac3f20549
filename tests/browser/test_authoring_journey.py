"""A mentor edits a module in the browser, sees the live preview change as they type, publishes, and a learner sees it."""

from playwright.sync_api import Browser, Page, expect

from app.models import Role

from .conftest import MODULE, new_context, sign_in


def test_the_preview_follows_the_typing_and_a_published_change_reaches_learners(page: Page, browser: Browser, live_server: str, people, learner) -> None:
    mentor = people.create(Role.MENTOR, name="Mona Mentor")
    sign_in(page, mentor)
    page.goto(f"/authoring/modules/{MODULE}")
    source = page.get_by_label("Markdown source")
    text = source.input_value()
    source.fill(text.replace("## Try it now", "## Searching with a colleague\n\nAsk them which words they would type.\n\n## Try it now", 1))
    preview = page.locator("#preview")
    expect(preview.get_by_role("heading", name="Searching with a colleague")).to_be_visible()
    expect(page.locator("#problems-title")).to_have_text("No problems found")

    source.fill(source.input_value().replace("(x) ", "( ) ", 1))
    expect(page.locator("#problems-title")).to_contain_text("problem(s) to fix before publishing")
    source.fill(source.input_value().replace("( ) ", "(x) ", 1))
    expect(page.locator("#problems-title")).to_have_text("No problems found")

    page.get_by_role("button", name="Save and publish").click()
    expect(page.get_by_text("Published: learners now see revision").first).to_be_visible()

    learner_context = new_context(browser, live_server)
    learner_page = learner_context.new_page()
    sign_in(learner_page, learner)
    learner_page.goto(f"/modules/{MODULE}")
    expect(learner_page.get_by_role("heading", name="Searching with a colleague")).to_be_visible()
    learner_context.close()
