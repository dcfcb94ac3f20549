"""Calendar invitations for live sessions (iCalendar, RFC 5545, with the iTIP methods of RFC 5546).

One UID per session forever and a SEQUENCE that rises with every change let calendars update or remove the
event they already hold instead of adding a second one. Times are written in UTC (a trailing Z), so that no
calendar has to know the site's daylight-saving rules.
"""

from __future__ import annotations

from datetime import UTC, timedelta

from icalendar import Calendar, Event, vCalAddress, vText

from ..models import LiveSession, User, utcnow

PRODID = "-//Speak Digital//Live sessions//EN"
STATUS_FOR_METHOD = {"REQUEST": "CONFIRMED", "CANCEL": "CANCELLED"}


def invitation(live_session: LiveSession, theme_title: str, attendee: User, method: str) -> bytes:
    """The session as an iCalendar invitation for one attendee: METHOD REQUEST to add or update it, CANCEL to remove it."""
    if method not in STATUS_FOR_METHOD:
        raise ValueError(f"an invitation's method is REQUEST or CANCEL, not {method!r}")
    if not live_session.hosts:
        raise ValueError(f"live session {live_session.uid} has no host to organise it")
    organiser = live_session.hosts[0].mentor
    starts_at = live_session.starts_at.astimezone(UTC)

    event = Event()
    event.add("uid", live_session.uid)
    event.add("sequence", live_session.sequence)
    event.add("dtstamp", utcnow().replace(microsecond=0))
    event.add("dtstart", starts_at)
    event.add("dtend", starts_at + timedelta(minutes=live_session.duration_minutes))
    event.add("summary", f"Speak Digital live session: {theme_title}")
    event.add("location", location(live_session))
    description = "\n\n".join(part for part in (live_session.note, _video_line(live_session)) if part)
    if description:
        event.add("description", description)
    event.add("organizer", _address(organiser, {}))
    event.add("attendee", _address(attendee, {"ROLE": "REQ-PARTICIPANT", "PARTSTAT": "NEEDS-ACTION", "RSVP": "FALSE"}))
    event.add("status", STATUS_FOR_METHOD[method])

    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", method)
    calendar.add_component(event)
    body: bytes = calendar.to_ical()
    return body


def location(live_session: LiveSession) -> str:
    """Where the session takes place: the site and room, or the video link of an online session."""
    if live_session.video_url and not live_session.room:
        return live_session.video_url
    place = ", ".join(part for part in (live_session.site, live_session.room) if part)
    return place or live_session.video_url or ""


def _video_line(live_session: LiveSession) -> str | None:
    return f"Join online: {live_session.video_url}" if live_session.video_url else None


def _address(person: User, parameters: dict[str, str]) -> vCalAddress:
    address = vCalAddress(f"mailto:{person.email}")
    address.params["CN"] = vText(person.name)
    for name, value in parameters.items():
        address.params[name] = vText(value)
    return address
