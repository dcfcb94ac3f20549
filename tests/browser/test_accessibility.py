"""axe-core finds no serious or critical accessibility problem on the pages a learner uses."""

from collections.abc import Callable

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page, expect
from sqlalchemy import Engine

from app.models import User

from .conftest import MODULE, THEME, answer_quiz, quiz_of, sign_in, submit_quiz

AXE = Axe()
BLOCKING = ("serious", "critical")


def quiz_result(*, right: bool) -> Callable[[Page, Engine], None]:
    def visit(page: Page, engine: Engine) -> None:
        quiz = quiz_of(engine)
        page.goto(f"/modules/{MODULE}")
        answer_quiz(page, quiz, right=right)
        submit_quiz(page, quiz)

    return visit


def path(address: str) -> Callable[[Page, Engine], None]:
    return lambda page, _engine: page.goto(address)


def registration_with_errors(page: Page, _engine: Engine) -> None:
    page.goto("/register")
    page.get_by_role("button", name="Create my account").click()
    expect(page.get_by_role("alert")).to_contain_text("Please correct the following")


SIGNED_IN = [
    pytest.param(path("/"), id="home"),
    pytest.param(path("/themes"), id="catalog"),
    pytest.param(path(f"/themes/{THEME}"), id="theme"),
    pytest.param(path(f"/modules/{MODULE}"), id="module"),
    pytest.param(quiz_result(right=False), id="quiz result not passed"),
    pytest.param(quiz_result(right=True), id="quiz result passed"),
    pytest.param(path("/no-such-page"), id="error page"),
]
ANONYMOUS = [
    pytest.param(path("/login"), id="login"),
    pytest.param(path("/register"), id="registration"),
    pytest.param(registration_with_errors, id="registration with errors"),
]


def assert_no_serious_violations(page: Page) -> None:
    violations = AXE.run(page).response["violations"]
    blocking = [v for v in violations if v["impact"] in BLOCKING]
    details = "\n".join(f"- {v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']]}" for v in blocking)
    minor = sorted(f"{v['id']} ({v['impact']})" for v in violations if v["impact"] not in BLOCKING) or "none"
    assert [v["id"] for v in blocking] == [], (
        f"axe found serious or critical problems on {page.url}:\n{details}\nMinor or moderate: {minor}"
    )


@pytest.mark.parametrize("visit", SIGNED_IN)
def test_learner_pages_have_no_serious_accessibility_problem(page: Page, engine: Engine, learner: User, visit) -> None:
    sign_in(page, learner)
    visit(page, engine)
    assert_no_serious_violations(page)


@pytest.mark.parametrize("visit", ANONYMOUS)
def test_sign_in_and_registration_pages_have_no_serious_accessibility_problem(page: Page, engine: Engine, visit) -> None:
    visit(page, engine)
    assert_no_serious_violations(page)


def with_a_session(page: Page, engine: Engine, people, address: Callable[[int], str]) -> None:
    from datetime import UTC, datetime, timedelta

    from sqlalchemy.orm import Session

    from app.models import LiveSession, Role, SessionHost
    from course.sessions import SessionFormat

    mentor = people.create(Role.MENTOR, name="Axe Mentor")
    with Session(engine) as session:
        live_session = LiveSession(
            uid="axe@speak-digital", theme_id=THEME, format=SessionFormat.COLLECTIVE, capacity=8,
            starts_at=datetime.now(UTC) + timedelta(days=4), duration_minutes=90, site="Lyon", room="2.14",
            created_by_id=mentor.id, hosts=[SessionHost(mentor_id=mentor.id, position=0)],
        )  # fmt: skip
        session.add(live_session)
        session.commit()
        session_id = live_session.id
    page.goto(address(session_id))


SESSION_PAGES = [
    pytest.param(lambda _id: "/sessions", id="sessions"),
    pytest.param(lambda session_id: f"/sessions/{session_id}", id="session detail"),
    pytest.param(lambda _id: f"/themes/{THEME}/sessions", id="theme sessions"),
    pytest.param(lambda _id: "/my-sessions", id="my sessions"),
]


@pytest.mark.parametrize("address", SESSION_PAGES)
def test_live_session_pages_have_no_serious_accessibility_problem(page: Page, engine: Engine, learner: User, people, address) -> None:
    sign_in(page, learner)
    with_a_session(page, engine, people, address)
    assert_no_serious_violations(page)


@pytest.mark.parametrize("address", ["/mentor/", "/mentor/sessions/new", "/mentor/profile"])
def test_mentor_pages_have_no_serious_accessibility_problem(page: Page, engine: Engine, people, address: str) -> None:
    from app.models import Role

    mentor = people.create(Role.MENTOR, name="Page Mentor")
    sign_in(page, mentor)
    page.goto(address)
    assert_no_serious_violations(page)
