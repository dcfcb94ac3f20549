"""The course works on a phone-sized screen and without JavaScript."""

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect
from sqlalchemy import Engine

from app.models import User

from .conftest import MODULE, answer_quiz, new_context, quiz_of, sign_in, submit_quiz

PHONE_WIDTH = 375


@pytest.fixture
def phone(browser: Browser, live_server: str) -> Iterator[Page]:
    """A tab on a 375-pixel-wide touch screen."""
    context = new_context(browser, live_server, viewport={"width": PHONE_WIDTH, "height": 812}, is_mobile=True, has_touch=True)
    yield context.new_page()
    context.close()


@pytest.fixture
def no_javascript(browser: Browser, live_server: str) -> Iterator[BrowserContext]:
    """A browser context with JavaScript turned off."""
    context = new_context(browser, live_server, java_script_enabled=False)
    yield context
    context.close()


def test_a_module_fits_a_phone_screen_without_sideways_scrolling_in_large_type(phone: Page, learner: User) -> None:
    sign_in(phone, learner)
    phone.goto(f"/modules/{MODULE}")
    expect(phone.get_by_role("heading", level=1)).to_have_text("Search like a professional")
    scroll_width = phone.evaluate("document.documentElement.scrollWidth")
    assert scroll_width <= PHONE_WIDTH, f"the module page is {scroll_width}px wide on a {PHONE_WIDTH}px screen"
    font_size = phone.evaluate("parseFloat(getComputedStyle(document.body).fontSize)")
    assert font_size >= 18, f"the base font is {font_size}px on a phone"


def test_a_learner_without_javascript_submits_a_quiz_and_sees_the_result(
    no_javascript: BrowserContext, learner: User, engine: Engine
) -> None:
    page = no_javascript.new_page()
    quiz = quiz_of(engine)
    sign_in(page, learner)
    page.goto(f"/modules/{MODULE}")
    answer_quiz(page, quiz, right=True)
    submit_quiz(page, quiz)
    expect(page.get_by_role("heading", level=1)).to_have_text("Your result: Search like a professional")
    expect(page.get_by_role("heading", name="Passed with 100%")).to_be_visible()
