"""Reminders two days and two hours before each session, for everyone holding a seat.

Each reminder is claimed before it is sent: a `reminders_sent` row is inserted (unique per booking and kind)
with its e-mail in the outbox, and committed first; only the run whose insert succeeded has the e-mail sent, by a
job that tries again while the mail server is down (app/notifications/outbox.py). A rerun, or two runs at the same time,
therefore never send the same reminder twice. The workers run this every five minutes by themselves;
`speak-digital send-reminders` does it by hand.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

import click
from flask.cli import with_appcontext
from huey import crontab
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from ..extensions import db
from ..jobs import periodic_job
from ..models import (
    Booking,
    BookingStatus,
    LiveSession,
    Notification,
    OutboundEmail,
    ReminderSent,
    SessionHost,
    SessionStatus,
    utcnow,
)
from .kinds import Event
from .mail import session_message
from .outbox import record_email, send_email

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Reminder:
    """A kind of reminder: due once a session starts within `lead` from now."""

    kind: str
    event: Event
    lead: timedelta


TWO_HOURS = Reminder("2_hours", Event.REMINDER_2_HOURS, timedelta(hours=2))
TWO_DAYS = Reminder("2_days", Event.REMINDER_2_DAYS, timedelta(hours=48))


def reminder_for(starts_at: datetime, now: datetime) -> Reminder | None:
    """The reminder a session starting at `starts_at` calls for at `now`: the nearest lead time it is within, or none.

    A session within two hours only calls for the two-hour reminder, so somebody who booked late is never sent
    the two-day one after it.
    """
    if starts_at <= now:
        return None
    for reminder in (TWO_HOURS, TWO_DAYS):
        if starts_at <= now + reminder.lead:
            return reminder
    return None


def due_reminders(session: Session, now: datetime) -> list[tuple[Booking, Reminder]]:
    """Confirmed bookings of scheduled sessions with a reminder due at `now` and not yet recorded as sent."""
    bookings = list(
        session.scalars(
            select(Booking)
            .join(LiveSession, LiveSession.id == Booking.session_id)
            .where(
                Booking.status == BookingStatus.CONFIRMED,
                LiveSession.status == SessionStatus.SCHEDULED,
                LiveSession.starts_at > now,
                LiveSession.starts_at <= now + TWO_DAYS.lead,
            )
            .options(
                selectinload(Booking.learner),
                selectinload(Booking.session).selectinload(LiveSession.hosts).selectinload(SessionHost.mentor),
                selectinload(Booking.session).selectinload(LiveSession.theme),
            )
            .order_by(LiveSession.starts_at, Booking.id)
        )
    )
    if not bookings:
        return []
    recorded = {
        (booking_id, kind)
        for booking_id, kind in session.execute(
            select(ReminderSent.booking_id, ReminderSent.kind).where(ReminderSent.booking_id.in_([b.id for b in bookings]))
        )
    }
    due = []
    for booking in bookings:
        reminder = reminder_for(booking.session.starts_at, now)
        if reminder is not None and (booking.id, reminder.kind) not in recorded:
            due.append((booking, reminder))
    return due


def claim_reminder(session: Session, booking: Booking, reminder: Reminder, message: str) -> OutboundEmail | None:
    """Record the reminder, its in-app notification and its e-mail; None when another run recorded it first. The caller commits."""
    try:
        with session.begin_nested():
            session.add(ReminderSent(booking_id=booking.id, kind=reminder.kind))
            session.add(
                Notification(
                    user_id=booking.learner_id, session_id=booking.session_id, kind=reminder.event.value, message=message
                )
            )
            session.flush()
            outgoing = session_message(reminder.event, booking.session, booking.learner, message)
            return record_email(session, outgoing, f"reminder:{booking.id}:{reminder.kind}")
    except IntegrityError:
        return None


def starts_in(delta: timedelta) -> str:
    """How soon a session starts, as people say it: in two days, in 5 hours, in 90 minutes."""
    hours = delta.total_seconds() / 3600
    if hours >= 36:
        return "in two days"
    if hours >= 2.5:
        return f"in {round(hours)} hours"
    minutes = round(hours * 60 / 5) * 5
    return f"in {minutes} minutes" if minutes >= 5 else "in a few minutes"


def send_due_reminders(session: Session, now: datetime) -> int:
    """Have every reminder due at `now` that no run has claimed yet sent, in the app and by e-mail; how many."""
    sent = 0
    for booking, reminder in due_reminders(session, now):
        message = f"A reminder: your live session starts {starts_in(booking.session.starts_at - now)}."
        email = claim_reminder(session, booking, reminder, message)
        session.commit()  # the claim and its e-mail are saved before anything leaves
        if email is not None:
            send_email(email.id)
            sent += 1
    return sent


@periodic_job(crontab(minute="*/5"))
def send_reminders_job() -> None:
    """Every five minutes, on the workers: the reminders that have become due."""
    count = send_due_reminders(db.session, utcnow())
    if count:
        log.info("Sent %s reminder(s).", count)


@click.command("send-reminders")
@with_appcontext
def send_reminders_command() -> None:
    """Send the reminders due now (two days and two hours before each session); safe to run as often as you like."""
    count = send_due_reminders(db.session, utcnow())
    click.echo(f"Sent {count} reminder(s).")
