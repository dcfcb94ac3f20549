"""A new learner's first visit, driven through labels, links and the keyboard as a person would."""

import re

from playwright.sync_api import Page, expect
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from app.models import ModuleRecord
from course.progress import percent

from .conftest import MODULE, THEME, answer_quiz, quiz_of, submit_quiz

NAME = "Martine Durand"


def module_count(engine: Engine) -> int:
    with Session(engine) as session:
        return (
            session.scalar(select(func.count()).select_from(ModuleRecord).where(ModuleRecord.current_revision_id.is_not(None)))
            or 0
        )


def register(page: Page) -> None:
    page.get_by_label("Full name").fill(NAME)
    page.get_by_label("Work e-mail address").fill("martine.durand@example.test")
    page.get_by_label("Site").select_option("Lyon")
    page.get_by_label("Department (optional)").fill("Claims")
    page.get_by_label("Password", exact=True).fill("a kettle of quiet herons")
    page.get_by_label("Password again").fill("a kettle of quiet herons")
    page.get_by_label("Password again").press("Enter")  # the keyboard sends the form


def test_a_new_learner_registers_fails_then_passes_a_quiz_and_sees_the_progress_at_home(page: Page, engine: Engine) -> None:
    quiz = quiz_of(engine)

    page.goto("/")
    expect(page).to_have_url(re.compile(r"/login\?next="))
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign in to Speak Digital")

    page.get_by_role("link", name="Create your account").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Create your account")
    register(page)
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Hello, {NAME}")
    expect(page.get_by_role("status")).to_contain_text(f"Welcome, {NAME}!")

    main_nav = page.get_by_role("navigation", name="Main")
    main_nav.get_by_role("link", name="Course").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("The course")
    page.get_by_role("link", name=re.compile("Information management")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Information management")
    page.get_by_role("link", name="Search like a professional").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Search like a professional")
    expect(page).to_have_url(re.compile(f"/modules/{MODULE}$"))

    booking_links = page.get_by_role("link", name="Book a live session on this theme")
    expect(booking_links.first).to_be_visible()
    for link in booking_links.all():
        expect(link).to_have_attribute("href", f"/themes/{THEME}/sessions")
    booking_links.first.click()
    expect(page).to_have_url(re.compile(f"/themes/{THEME}/sessions$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Live sessions: Information management")
    page.go_back()
    expect(page.get_by_role("heading", level=1)).to_have_text("Search like a professional")

    answer_quiz(page, quiz, right=False)
    submit_quiz(page, quiz)
    expect(page.get_by_role("heading", name=re.compile(r"^Not passed yet"))).to_be_visible()

    page.get_by_role("link", name="Try the quiz again").click()
    expect(page).to_have_url(re.compile(f"/modules/{MODULE}#quiz-{quiz.id}$"))
    answer_quiz(page, quiz, right=True)
    submit_quiz(page, quiz)
    expect(page.get_by_role("heading", name="Passed with 100%")).to_be_visible()

    main_nav.get_by_role("link", name="Home").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Hello, {NAME}")
    first_theme = page.get_by_role("listitem").filter(has=page.get_by_role("link", name="Information management", exact=True))
    expect(first_theme.get_by_role("progressbar", name="1 of 3 modules completed")).to_have_attribute("value", "33")
    overall = percent(1, module_count(engine))
    expect(page.get_by_role("progressbar", name=f"The whole course: {overall}% complete")).to_have_attribute(
        "value", str(overall)
    )
