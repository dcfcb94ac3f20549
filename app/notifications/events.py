"""Telling people what happened to their sessions: in the app, and by e-mail.

The e-mail is recorded in the outbox with the change itself and sent by a job only once the request's changes are
committed, so nobody is told about a booking that was rolled back, and a mail server that is down delays the
message instead of losing it (see app/notifications/outbox.py).
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from ..models import LiveSession, Notification, User
from .kinds import Event
from .mail import session_message
from .outbox import record_email, send_after_commit


def tell(session: Session, person: User, event: Event, live_session: LiveSession, message: str) -> None:
    """Record an in-app notification and its e-mail; the e-mail is sent by a job once the request has committed."""
    notification = Notification(user_id=person.id, session_id=live_session.id, kind=event.value, message=message)
    session.add(notification)
    session.flush()
    email = record_email(session, session_message(event, live_session, person, message), f"notification:{notification.id}")
    send_after_commit(email)
