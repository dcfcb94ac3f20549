"""Seats under load: many learners press "Book" at the same instant against a real multi-worker server.

Runs against PostgreSQL (the production database), through HTTP, with gunicorn and several workers.
"""

from __future__ import annotations

import os
import threading
import time
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from app.models import Booking, BookingStatus, LiveSession, Role, SessionHost, User
from course.sessions import SessionFormat

from ..conftest import csrf_token
from .gunicorn import Browser, running_gunicorn

LEARNERS = 50
WORKERS = 4
pytestmark = pytest.mark.skipif(
    not os.environ.get("TEST_DATABASE_URL", "").startswith("postgresql"),
    reason="the load test runs against PostgreSQL; CI runs it with TEST_DATABASE_URL",
)


@pytest.fixture
def server(database_url: str, engine, tmp_path):
    with running_gunicorn(database_url, tmp_path / "gunicorn.log", workers=WORKERS) as gunicorn:
        yield gunicorn.base


def signed_in_learners(db_session, base: str, people) -> list[tuple[User, Browser]]:
    learners = [people.create(Role.LEARNER, email=f"load{i}@example.test", name=f"Learner {i}") for i in range(LEARNERS)]
    browsers = []
    for learner in learners:
        browser = Browser(base)
        browser.login(learner.email)
        browsers.append((learner, browser))
    return browsers


def publish(db_session, mentor: User, fmt: SessionFormat, capacity: int) -> LiveSession:
    live_session = LiveSession(
        uid=f"load-{fmt.value}-{time.time()}@speak-digital",
        theme_id="information-management",
        format=fmt,
        capacity=capacity,
        starts_at=datetime.now(UTC) + timedelta(days=5),
        duration_minutes=90,
        site="Lyon",
        room="Auditorium",
        created_by_id=mentor.id,
        hosts=[SessionHost(mentor_id=mentor.id, position=0)],
    )
    db_session.add(live_session)
    db_session.commit()
    return live_session


def book_all_at_once(browsers: list[tuple[User, Browser]], session_id: int) -> list[tuple[int, str]]:
    """Every learner fetches a token, then all press "Book" together."""
    tokens = [csrf_token(browser.request("/sessions")[1]) for _, browser in browsers]
    start = threading.Barrier(len(browsers))
    results: list[tuple[int, str]] = [(0, "")] * len(browsers)

    def press(index: int) -> None:
        start.wait()
        results[index] = browsers[index][1].request(f"/sessions/{session_id}/book", {"csrf_token": tokens[index]})

    threads = [threading.Thread(target=press, args=(i,)) for i in range(len(browsers))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return results


def test_fifty_learners_booking_fifteen_seats_at_once_fill_exactly_fifteen(server, db_session, people):
    mentor = people.create(Role.MENTOR, name="Load Mentor")
    browsers = signed_in_learners(db_session, server, people)
    live_session = publish(db_session, mentor, SessionFormat.COLLECTIVE, 15)

    results = book_all_at_once(browsers, live_session.id)

    statuses = Counter(status for status, _ in results)
    assert statuses[500] == 0
    assert set(statuses) <= {302}, statuses  # a seat, or a place on the waiting list
    db_session.expire_all()
    bookings = db_session.scalars(select(Booking).where(Booking.session_id == live_session.id)).all()
    assert Counter(b.status for b in bookings) == {BookingStatus.CONFIRMED: 15, BookingStatus.WAITLISTED: LEARNERS - 15}
    assert db_session.get(LiveSession, live_session.id).seats_taken == 15


def test_fifty_learners_racing_for_one_individual_session_leave_one_booking(server, db_session, people):
    mentor = people.create(Role.MENTOR, name="Load Mentor")
    browsers = signed_in_learners(db_session, server, people)
    live_session = publish(db_session, mentor, SessionFormat.INDIVIDUAL, 1)

    results = book_all_at_once(browsers, live_session.id)

    statuses = Counter(status for status, _ in results)
    assert statuses == {302: 1, 409: LEARNERS - 1}
    assert all("was just taken" in page for status, page in results if status == 409)
    db_session.expire_all()
    bookings = db_session.scalars(select(Booking).where(Booking.session_id == live_session.id)).all()
    assert [b.status for b in bookings] == [BookingStatus.CONFIRMED]
    assert db_session.get(LiveSession, live_session.id).seats_taken == 1


def test_one_learner_double_clicking_gets_one_seat(server, db_session, people):
    mentor = people.create(Role.MENTOR, name="Load Mentor")
    learner = people.create(Role.LEARNER, email="clicker@example.test", name="Double Clicker")
    live_session = publish(db_session, mentor, SessionFormat.COLLECTIVE, 15)
    browsers = []
    for _ in range(10):  # the same person in ten tabs
        browser = Browser(server)
        browser.login(learner.email)
        browsers.append((learner, browser))

    results = book_all_at_once(browsers, live_session.id)

    assert Counter(status for status, _ in results) == {302: 1, 409: 9}
    db_session.expire_all()
    assert db_session.get(LiveSession, live_session.id).seats_taken == 1
