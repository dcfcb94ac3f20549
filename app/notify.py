"""Telling people what happened to their sessions: always in the app, and by e-mail when it is configured.

An e-mail is sent only once the request's changes are committed, so nobody is told about a booking that
was rolled back.
"""

from __future__ import annotations

import enum
import logging

from flask import current_app
from sqlalchemy.orm import Session

from .extensions import db
from .models import LiveSession, Notification, User

log = logging.getLogger(__name__)


class Event(enum.StrEnum):
    """What happened, from the point of view of the person told."""

    BOOKED = "booked"
    WAITLISTED = "waitlisted"
    PROMOTED = "promoted"
    BOOKING_CANCELLED = "booking_cancelled"
    SESSION_CHANGED = "session_changed"
    SESSION_CANCELLED = "session_cancelled"
    REMINDER_2_DAYS = "reminder_2_days"
    REMINDER_2_HOURS = "reminder_2_hours"

    @property
    def calendar_method(self) -> str | None:
        """The iCalendar method the e-mail's invitation carries, if it carries one."""
        if self in (Event.BOOKED, Event.PROMOTED, Event.SESSION_CHANGED):
            return "REQUEST"
        if self in (Event.BOOKING_CANCELLED, Event.SESSION_CANCELLED):
            return "CANCEL"
        return None


def tell(session: Session, person: User, event: Event, live_session: LiveSession, message: str) -> None:
    """Record an in-app notification and, after the commit, e-mail it with its invitation."""
    session.add(Notification(user_id=person.id, session_id=live_session.id, kind=event.value, message=message))
    from .mail import deliver, session_message

    outgoing = session_message(event, live_session, person, message)
    config = current_app.config

    def send() -> None:
        try:
            deliver(outgoing, config)
        except Exception:  # a mail server that is down must not undo a booking already saved
            log.exception("Could not send the '%s' e-mail to %s", event.value, person.email)

    db.after_commit(send)
