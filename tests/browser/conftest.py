"""Real-browser fixtures: the application served over HTTP from a thread, and Debian's Chromium driven by Playwright.

The application runs as in production, CSRF protection included, on the run's database (see tests/conftest.py).
Chromium is required: without it these tests fail, because CI installs it and a silent skip would hide a broken setup.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from playwright.sync_api import Browser, BrowserContext, Page, Playwright, expect, sync_playwright
from sqlalchemy import Engine
from sqlalchemy.orm import Session
from werkzeug.serving import make_server

from app import create_app
from app.learning.services import parsed_revision
from app.models import ModuleRecord, User
from course import Quiz

from ..conftest import PASSWORD

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
TIMEOUT_MS = 5_000  # a local server answers in milliseconds; a stuck page should fail fast, not hang the run
MODULE = "search-like-a-pro"
THEME = "information-management"


@pytest.fixture
def app(engine: Engine, database_url: str) -> Iterator[Flask]:
    """The application as the browser meets it: testing mode with CSRF protection on.

    It replaces the shared `app` fixture here, so that `people` and `learner` create accounts for this application.
    Depending on `engine` means people and their records are removed after each test.
    """
    from app.extensions import db

    application = create_app("testing", {"DATABASE_URL": database_url, "WTF_CSRF_ENABLED": True})
    app_engine = db.engine
    yield application
    if app_engine is not None:
        app_engine.dispose()


@pytest.fixture
def live_server(app: Flask) -> Iterator[str]:
    """The base URL of the application served by Werkzeug from a daemon thread, stopped after the test."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=5)
        server.server_close()


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    """Playwright's driver, once per run."""
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="session")
def browser(playwright: Playwright) -> Iterator[Browser]:
    """Debian's headless Chromium, once per run. Missing Chromium is a failure, never a skip."""
    if not CHROMIUM.exists():
        pytest.fail(
            f"The browser tests need Chromium at {CHROMIUM}, and it is not there. "
            "Install Debian's package (apt-get install chromium); Playwright's own browsers are not used.",
            pytrace=False,
        )
    chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
    expect.set_options(timeout=TIMEOUT_MS)
    yield chromium
    chromium.close()


def new_context(browser: Browser, base_url: str, **options: Any) -> BrowserContext:
    """A fresh, cookie-less browser context on the live server, failing fast."""
    context = browser.new_context(base_url=base_url, **options)
    context.set_default_timeout(TIMEOUT_MS)
    return context


@pytest.fixture
def context(browser: Browser, live_server: str) -> Iterator[BrowserContext]:
    """A desktop-sized browser context of its own for each test."""
    context = new_context(browser, live_server, viewport={"width": 1280, "height": 900})
    yield context
    context.close()


@pytest.fixture
def page(context: BrowserContext) -> Page:
    """A tab in the test's context."""
    return context.new_page()


def quiz_of(engine: Engine, module_id: str = MODULE) -> Quiz:
    """The first quiz of a module, parsed from its current revision as the server grades it."""
    with Session(engine) as session:
        record = session.get(ModuleRecord, module_id)
        revision = record.current_revision if record else None
        assert revision is not None, f"module {module_id} is not imported"
        return parsed_revision(revision).quizzes[0]


def answer_quiz(page: Page, quiz: Quiz, *, right: bool) -> None:
    """Answer every question of `quiz` on the open module page, by clicking choice labels and typing text answers.

    Right means the correct choices (all of them, and only them, for multiple answers) and an accepted text;
    wrong means a wrong choice, every wrong choice for multiple answers, and a text no grader accepts.
    """
    for question in quiz.questions:
        fieldset = page.locator(f"#question-{question.id}")
        if question.kind.value == "text":
            fieldset.get_by_label("Your answer").fill(question.accepted[0] if right else "no idea")
            continue
        correct = question.correct_choice_ids
        if question.kind.value == "multiple":
            chosen = correct if right else {c.id for c in question.choices} - correct
        else:
            chosen = set(correct) if right else {next(c.id for c in question.choices if not c.correct)}
        for choice in question.choices:
            label = fieldset.locator(f'label[for="answer-{question.id}-{choice.id}"]')
            if choice.id in chosen:
                label.check()
            elif question.kind.value == "multiple":
                label.uncheck()


def submit_quiz(page: Page, quiz: Quiz) -> None:
    """Press the quiz's submit button and wait for the result page."""
    page.locator(f"#quiz-{quiz.id}").get_by_role("button", name="Submit my answers").click()
    page.wait_for_url("**/attempts/*")


def sign_in(page: Page, user: User, password: str = PASSWORD) -> None:
    """Sign in through the login form, by its labels, and wait for the home page."""
    page.goto("/login")
    page.get_by_label("E-mail address", exact=True).fill(user.email)
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Hello, {user.name}")
