"""Telling people what happened to their sessions: in the app, and by e-mail.

The e-mail is recorded in the outbox with the change itself and sent by a job only once the request's changes are
committed, so nobody is told about a booking that was rolled back, and a mail server that is down delays the
message instead of losing it (see app/outbox.py).
"""

from __future__ import annotations

import enum

from sqlalchemy.orm import Session

from ..models import LiveSession, Notification, User


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
    """Record an in-app notification and its e-mail; the e-mail is sent by a job once the request has committed."""
    from .mail import session_message
    from .outbox import record_email, send_after_commit

    notification = Notification(user_id=person.id, session_id=live_session.id, kind=event.value, message=message)
    session.add(notification)
    session.flush()
    email = record_email(session, session_message(event, live_session, person, message), f"notification:{notification.id}")
    send_after_commit(email)
