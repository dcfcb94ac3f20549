"""A learner books a live session from a module page, sees it at home, downloads the invitation and cancels."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from icalendar import Calendar
from playwright.sync_api import Page, expect
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from app.models import Booking, BookingStatus, LiveSession, Role

from ..conftest import add_live_session
from .conftest import MODULE, sign_in

STARTS_AT = (datetime.now(UTC) + timedelta(days=10)).replace(hour=13, minute=0, second=0, microsecond=0)


def label(moment: datetime) -> str:
    """The session's start as the pages show it, in Paris time."""
    local = moment.astimezone(ZoneInfo("Europe/Paris"))
    return f"{local:%A} {local.day} {local:%B %Y} at {local:%H:%M}"


def publish_session(engine: Engine, mentor) -> int:
    with Session(engine) as session:
        live_session = add_live_session(session, [mentor], STARTS_AT, capacity=10, room="Room 2.14", uid="browser-journey@speak-digital")
        return live_session.id


def test_a_learner_books_from_a_module_sees_it_at_home_downloads_the_invitation_and_cancels(page: Page, engine: Engine, people, learner) -> None:
    mentor = people.create(Role.MENTOR, name="Yanis Mentor")
    session_id = publish_session(engine, mentor)
    sign_in(page, learner)

    page.goto(f"/modules/{MODULE}")
    sessions = page.locator(".module-sessions")
    expect(sessions.get_by_role("link", name=label(STARTS_AT))).to_be_visible()
    sessions.get_by_role("button", name="Book this session").click()
    expect(page.get_by_text("Your seat is booked.").first).to_be_visible()

    page.get_by_role("link", name="Home", exact=True).click()
    expect(page.get_by_role("link", name=label(STARTS_AT))).to_be_visible()

    page.get_by_role("link", name="My sessions", exact=True).click()
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Add to my calendar (.ics)").click()
    calendar = Calendar.from_ical(download_info.value.path().read_bytes())
    event = next(component for component in calendar.walk("VEVENT"))
    assert str(calendar["METHOD"]) == "REQUEST"
    assert str(event["UID"]) == "browser-journey@speak-digital"
    assert event.decoded("DTSTART") == STARTS_AT

    page.once("dialog", lambda dialog: dialog.accept())  # the page asks once more before giving up the seat
    page.get_by_role("button", name="Cancel my booking").click()
    expect(page.get_by_text("Your booking is cancelled.").first).to_be_visible()
    with Session(engine) as session:
        booking = session.scalars(select(Booking).where(Booking.session_id == session_id)).one()
        assert booking.status is BookingStatus.CANCELLED
        assert session.get(LiveSession, session_id).seats_taken == 0
