"""Calendar invitations: one UID forever, a rising SEQUENCE, REQUEST and CANCEL, UTC times across daylight saving."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from icalendar import Calendar

from app.models import Role, SessionStatus
from app.notifications.calendar import invitation

from ..conftest import add_live_session

THEME = "information-management"
PARIS = ZoneInfo("Europe/Paris")


@pytest.fixture
def mentor(people):
    return people.create(Role.MENTOR, email="yanis@example.test", name="Yanis Mentor")


@pytest.fixture
def co_host(people):
    return people.create(Role.MENTOR, email="ines@example.test", name="Inès Co-host")


@pytest.fixture
def attendee(people):
    return people.create(Role.LEARNER, email="martine@example.test", name="Martine Lé")


def make_session(db_session, hosts, starts_at, minutes=90, **place):
    return add_live_session(db_session, hosts, starts_at, minutes=minutes, **place)


def parsed(live_session, attendee, method="REQUEST"):
    body = invitation(live_session, live_session.theme.title, attendee, method)
    assert isinstance(body, bytes)
    calendar = Calendar.from_ical(body)
    (event,) = calendar.walk("VEVENT")
    return body, calendar, event


def paris(year, month, day, hour, minute=0):
    return datetime(year, month, day, hour, minute, tzinfo=PARIS)


def test_a_request_describes_the_session_for_its_attendee(db_session, mentor, co_host, attendee):
    live_session = make_session(db_session, [mentor, co_host], paris(2026, 11, 24, 14), note="Bring your phone.")
    body, calendar, event = parsed(live_session, attendee)

    assert str(calendar["VERSION"]) == "2.0"
    assert str(calendar["PRODID"]).startswith("-//Speak Digital//")
    assert str(calendar["METHOD"]) == "REQUEST"
    assert str(event["UID"]) == live_session.uid
    assert int(event["SEQUENCE"]) == 0
    assert str(event["STATUS"]) == "CONFIRMED"
    assert str(event["SUMMARY"]) == "Speak Digital live session: Information management"
    assert str(event["LOCATION"]) == "Lyon, Room 4.01"
    assert "Bring your phone." in str(event["DESCRIPTION"])
    assert abs(event["DTSTAMP"].dt - datetime.now(UTC)) < timedelta(minutes=1)

    organizer = event["ORGANIZER"]
    assert str(organizer) == "mailto:yanis@example.test"
    assert organizer.params["CN"] == "Yanis Mentor"
    attendee_line = event["ATTENDEE"]
    assert str(attendee_line) == "mailto:martine@example.test"
    assert attendee_line.params["CN"] == "Martine Lé"
    assert attendee_line.params["ROLE"] == "REQ-PARTICIPANT"
    assert attendee_line.params["PARTSTAT"] == "NEEDS-ACTION"
    assert attendee_line.params["RSVP"] == "FALSE"

    assert event["DTSTART"].dt == datetime(2026, 11, 24, 13, 0, tzinfo=UTC)
    assert event["DTEND"].dt == datetime(2026, 11, 24, 14, 30, tzinfo=UTC)
    assert b"DTSTART:20261124T130000Z\r\n" in body
    assert b"DTEND:20261124T143000Z\r\n" in body
    assert b"TZID" not in body


def test_the_uid_stays_and_the_sequence_rises_when_the_session_changes_then_a_cancel_removes_it(db_session, mentor, attendee):
    live_session = make_session(db_session, [mentor], paris(2026, 11, 24, 14))
    _, _, first = parsed(live_session, attendee)

    live_session.starts_at = paris(2026, 11, 25, 9).astimezone(UTC)
    live_session.room = "Room 2.12"
    live_session.sequence += 1
    db_session.commit()
    _, changed_calendar, changed = parsed(live_session, attendee)

    live_session.status = SessionStatus.CANCELLED
    live_session.sequence += 1
    db_session.commit()
    _, cancel_calendar, cancelled = parsed(live_session, attendee, "CANCEL")

    assert str(first["UID"]) == str(changed["UID"]) == str(cancelled["UID"]) == live_session.uid
    assert [int(e["SEQUENCE"]) for e in (first, changed, cancelled)] == [0, 1, 2]
    assert str(changed_calendar["METHOD"]) == "REQUEST"
    assert str(changed["STATUS"]) == "CONFIRMED"
    assert changed["DTSTART"].dt == datetime(2026, 11, 25, 8, 0, tzinfo=UTC)
    assert str(changed["LOCATION"]) == "Lyon, Room 2.12"
    assert str(cancel_calendar["METHOD"]) == "CANCEL"
    assert str(cancelled["STATUS"]) == "CANCELLED"
    assert str(cancelled["ATTENDEE"]) == "mailto:martine@example.test"
    assert str(cancelled["ORGANIZER"]) == "mailto:yanis@example.test"


def test_an_online_session_is_located_at_its_video_link(db_session, mentor, attendee):
    link = "https://meet.example.test/speak-digital?room=42"
    live_session = make_session(
        db_session, [mentor], paris(2026, 11, 24, 14), site=None, room=None, video_url=link, note="Camera optional."
    )
    _, _, event = parsed(live_session, attendee)
    assert str(event["LOCATION"]) == link
    assert str(event["DESCRIPTION"]) == f"Camera optional.\n\nJoin online: {link}"


def test_an_unknown_method_is_refused(db_session, mentor, attendee):
    live_session = make_session(db_session, [mentor], paris(2026, 11, 24, 14))
    with pytest.raises(ValueError, match="REQUEST or CANCEL"):
        invitation(live_session, "Information management", attendee, "PUBLISH")


@pytest.mark.parametrize(
    ("local_start", "minutes", "utc_start", "utc_end"),
    [
        # Last Sunday of March 2026: the clocks go from 02:00 to 03:00, Paris is UTC+2 for the rest of the day.
        (paris(2026, 3, 29, 10), 90, datetime(2026, 3, 29, 8, 0, tzinfo=UTC), datetime(2026, 3, 29, 9, 30, tzinfo=UTC)),
        # Last Sunday of October 2026: the clocks go from 03:00 back to 02:00, Paris is UTC+1 afterwards.
        (paris(2026, 10, 25, 10), 90, datetime(2026, 10, 25, 9, 0, tzinfo=UTC), datetime(2026, 10, 25, 10, 30, tzinfo=UTC)),
        # Across the change: 01:30 (UTC+1) plus 90 minutes is 04:00 (UTC+2), because 02:00 to 03:00 does not exist.
        (paris(2026, 3, 29, 1, 30), 90, datetime(2026, 3, 29, 0, 30, tzinfo=UTC), datetime(2026, 3, 29, 2, 0, tzinfo=UTC)),
    ],
    ids=["march-summer-time", "october-winter-time", "across-the-spring-change"],
)
def test_times_are_written_in_utc_across_daylight_saving(db_session, mentor, attendee, local_start, minutes, utc_start, utc_end):
    live_session = make_session(db_session, [mentor], local_start.astimezone(UTC), minutes)
    body, _, event = parsed(live_session, attendee)

    assert event["DTSTART"].dt == local_start.astimezone(UTC) == utc_start
    assert event["DTEND"].dt == utc_end
    assert event["DTSTART"].dt.utcoffset() == timedelta(0)
    assert f"DTSTART:{utc_start:%Y%m%dT%H%M%S}Z\r\n".encode() in body
    assert f"DTEND:{utc_end:%Y%m%dT%H%M%S}Z\r\n".encode() in body


def test_a_session_across_the_spring_change_ends_at_four_local_time(db_session, mentor, attendee):
    live_session = make_session(db_session, [mentor], paris(2026, 3, 29, 1, 30).astimezone(UTC), 90)
    _, _, event = parsed(live_session, attendee)
    start, end = event["DTSTART"].dt.astimezone(PARIS), event["DTEND"].dt.astimezone(PARIS)
    assert (start.hour, start.minute, start.utcoffset()) == (1, 30, timedelta(hours=1))
    assert (end.hour, end.minute, end.utcoffset()) == (4, 0, timedelta(hours=2))
    assert event["DTEND"].dt - event["DTSTART"].dt == timedelta(minutes=90)
    # Wall-clock arithmetic in the same zone ignores the change; that is why the end is computed in UTC.
    assert end - start == timedelta(hours=2, minutes=30)
