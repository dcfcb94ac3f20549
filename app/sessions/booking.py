"""Live sessions as services: publish, change, cancel, book, cancel a booking, attendance and feedback.

Every entry point that books a seat goes through `book_seat`, which applies every rule in one transaction:
the session row is locked (PostgreSQL), the seat is taken by a conditional UPDATE that can never exceed the
capacity, and a partial unique index allows one active booking per learner and session.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from course.sessions import (
    Refusal,
    SessionDraft,
    SessionFacts,
    SessionFormat,
    booking_refusal,
    cancellation_refusal,
)

from ..db import rowcount
from ..models import Attendance, Booking, BookingStatus, LiveSession, SessionFeedback, SessionHost, SessionStatus, User, utcnow
from ..notifications.events import tell
from ..notifications.kinds import Event
from ..people.services import managers_around
from . import figures as session_figures

ACTIVE = (BookingStatus.CONFIRMED, BookingStatus.WAITLISTED)


class BookingError(Exception):
    """A booking or cancellation that the rules refuse; `message` says why and what to do."""

    def __init__(self, refusal: Refusal, message: str) -> None:
        super().__init__(message)
        self.refusal = refusal
        self.message = message


def guard_time() -> timedelta:
    """How long before a session booking and cancelling close."""
    return timedelta(hours=current_app.config["BOOKING_GUARD_HOURS"])


def facts_of(live_session: LiveSession) -> SessionFacts:
    """The facts the pure rules need about a session."""
    return SessionFacts(
        live_session.starts_at,
        live_session.duration_minutes,
        live_session.format,
        live_session.host_ids,
        live_session.status is SessionStatus.CANCELLED,
    )


def _lock_session(session: Session, session_id: int) -> LiveSession | None:
    """The session's row, locked until the end of the transaction on PostgreSQL (SQLite serialises writers)."""
    return session.scalar(select(LiveSession).where(LiveSession.id == session_id).with_for_update())


def learner_upcoming_sessions(session: Session, learner_id: int, now: datetime) -> list[LiveSession]:
    """The scheduled sessions still to come in which the learner holds a seat or a place in the queue."""
    return list(
        session.scalars(
            select(LiveSession)
            .join(Booking, Booking.session_id == LiveSession.id)
            .where(
                Booking.learner_id == learner_id,
                Booking.status.in_(ACTIVE),
                LiveSession.status == SessionStatus.SCHEDULED,
                LiveSession.starts_at > now,
            )
            .order_by(LiveSession.starts_at)
        )
    )


def book_seat(session: Session, learner: User, session_id: int, now: datetime | None = None) -> Booking:
    """Book `learner` into a session, or put them on its waiting list; raise BookingError when a rule refuses."""
    now = now or utcnow()
    session.execute(select(User.id).where(User.id == learner.id).with_for_update())  # one booking at a time per learner
    live_session = _lock_session(session, session_id)
    if live_session is None:
        raise LookupError(session_id)
    theirs = learner_upcoming_sessions(session, learner.id, now)
    already = any(s.id == live_session.id for s in theirs)
    cap = current_app.config["BOOKING_MAX_UPCOMING"]
    refusal = booking_refusal(
        learner.id,
        facts_of(live_session),
        now,
        guard_time(),
        managers_around(session, [learner.id, *live_session.host_ids]),
        [facts_of(s) for s in theirs if s.id != live_session.id],
        len(theirs),
        cap,
        already,
    )
    if refusal is not None:
        raise BookingError(refusal, refusal.message(guard_time().total_seconds() / 3600, cap))
    booking = _take_seat_or_queue(session, learner, live_session, now)
    if booking.status is BookingStatus.CONFIRMED:
        tell(
            session,
            learner,
            Event.BOOKED,
            live_session,
            "Your seat is booked. The invitation is attached to add it to your calendar.",
        )
    else:
        tell(
            session,
            learner,
            Event.WAITLISTED,
            live_session,
            "The session is full: you are on its waiting list. If a seat frees up, it is yours and we tell you.",
        )
    return booking


def _take_seat_or_queue(session: Session, learner: User, live_session: LiveSession, now: datetime) -> Booking:
    """Take a seat with a conditional UPDATE, or queue for a full group session; both or neither are saved."""
    try:
        with session.begin_nested():
            taken = rowcount(
                session.execute(
                    update(LiveSession)
                    .where(
                        LiveSession.id == live_session.id,
                        LiveSession.seats_taken < LiveSession.capacity,
                        LiveSession.status == SessionStatus.SCHEDULED,
                    )
                    .values(seats_taken=LiveSession.seats_taken + 1)
                    .execution_options(synchronize_session=False)
                )
            )
            if not taken and live_session.format is SessionFormat.INDIVIDUAL:
                raise BookingError(Refusal.FULL, "This one-to-one session was just taken. Choose another time.")
            status = BookingStatus.CONFIRMED if taken else BookingStatus.WAITLISTED
            booking = Booking(
                session_id=live_session.id, learner_id=learner.id, status=status, confirmed_at=now if taken else None
            )
            session.add(booking)
            session.flush()
    except IntegrityError as error:
        raise BookingError(Refusal.ALREADY_BOOKED, Refusal.ALREADY_BOOKED.message()) from error
    session.refresh(live_session, ["seats_taken"])  # the only column changed behind the ORM: hosts stay loaded
    return booking


def cancel_booking(session: Session, learner: User, booking: Booking, now: datetime | None = None) -> None:
    """Give up a seat or a place in the queue; a freed seat goes to the first person waiting."""
    now = now or utcnow()
    live_session = _lock_session(session, booking.session_id)
    session.refresh(booking)
    if live_session is None or booking.status is BookingStatus.CANCELLED:
        return
    refusal = cancellation_refusal(facts_of(live_session), now, guard_time())
    if refusal is not None:
        raise BookingError(refusal, refusal.message(guard_time().total_seconds() / 3600))
    was_confirmed = booking.status is BookingStatus.CONFIRMED
    booking.status = BookingStatus.CANCELLED
    booking.cancelled_at = now
    session.flush()
    if was_confirmed:
        session.execute(
            update(LiveSession)
            .where(LiveSession.id == live_session.id, LiveSession.seats_taken > 0)
            .values(seats_taken=LiveSession.seats_taken - 1)
            .execution_options(synchronize_session=False)
        )
        tell(
            session,
            learner,
            Event.BOOKING_CANCELLED,
            live_session,
            "Your booking is cancelled. Your seat is free for a colleague.",
        )
        _promote_from_waiting_list(session, live_session, now)
    session.refresh(live_session, ["seats_taken"])  # the only column changed behind the ORM: hosts stay loaded


def _promote_from_waiting_list(session: Session, live_session: LiveSession, now: datetime) -> None:
    waiting = session.scalar(
        select(Booking)
        .where(Booking.session_id == live_session.id, Booking.status == BookingStatus.WAITLISTED)
        .order_by(Booking.created_at, Booking.id)
        .limit(1)
    )
    if waiting is None:
        return
    taken = rowcount(
        session.execute(
            update(LiveSession)
            .where(LiveSession.id == live_session.id, LiveSession.seats_taken < LiveSession.capacity)
            .values(seats_taken=LiveSession.seats_taken + 1)
            .execution_options(synchronize_session=False)
        )
    )
    if taken:
        waiting.status = BookingStatus.CONFIRMED
        waiting.confirmed_at = now
        session.flush()
        tell(session, waiting.learner, Event.PROMOTED, live_session, "A seat freed up and it is yours: you are now booked.")


@dataclass(frozen=True)
class SessionDetails:
    """What a mentor enters beside the checked draft."""

    draft: SessionDraft
    time_zone: str
    note: str | None


def publish_session(session: Session, mentor: User, details: SessionDetails) -> LiveSession:
    """Publish a new session led by `mentor` and any co-hosts."""
    draft = details.draft
    live_session = LiveSession(
        uid=f"{uuid.uuid4()}@speak-digital",
        theme_id=draft.theme_id,
        format=draft.format,
        capacity=1 if draft.format is SessionFormat.INDIVIDUAL else draft.seats,
        starts_at=draft.starts_at,
        duration_minutes=draft.duration_minutes,
        time_zone=details.time_zone,
        site=draft.site,
        room=draft.room if not draft.video_url else draft.room or None,
        video_url=draft.video_url,
        note=details.note,
        created_by_id=mentor.id,
        hosts=[SessionHost(mentor_id=host, position=index) for index, host in enumerate(draft.host_ids)],
    )
    session.add(live_session)
    session.flush()
    return live_session


def change_session(session: Session, live_session: LiveSession, details: SessionDetails) -> list[str]:
    """Change time, place or note; learners who booked are told. Returns what changed, for the mentor."""
    draft = details.draft
    changes = []
    if draft.starts_at != live_session.starts_at or draft.duration_minutes != live_session.duration_minutes:
        changes.append("time")
    if (draft.site, draft.room, draft.video_url) != (live_session.site, live_session.room, live_session.video_url):
        changes.append("place")
    if details.note != live_session.note:
        changes.append("note")
    if not changes:
        return []
    live_session.starts_at = draft.starts_at
    live_session.duration_minutes = draft.duration_minutes
    live_session.site, live_session.room, live_session.video_url = draft.site, draft.room, draft.video_url
    live_session.note = details.note
    live_session.sequence += 1
    live_session.updated_at = utcnow()
    session.flush()
    session_figures.refresh(session, [live_session.id])  # learners reached are counted on the session's day
    for booking in _active_bookings(session, live_session):
        tell(
            session,
            booking.learner,
            Event.SESSION_CHANGED,
            live_session,
            f"Your session has changed ({', '.join(changes)}). The updated invitation is attached.",
        )
    return changes


def cancel_session(session: Session, live_session: LiveSession) -> int:
    """Cancel a session; everyone booked or waiting is told. Returns how many people were told."""
    if live_session.status is SessionStatus.CANCELLED:
        return 0
    live_session.status = SessionStatus.CANCELLED
    live_session.sequence += 1
    live_session.updated_at = utcnow()
    session.flush()
    session_figures.refresh(session, [live_session.id])  # a cancelled session reached nobody
    bookings = _active_bookings(session, live_session)
    for booking in bookings:
        tell(
            session,
            booking.learner,
            Event.SESSION_CANCELLED,
            live_session,
            "This session has been cancelled by its mentor. Please choose another one.",
        )
    return len(bookings)


def _active_bookings(session: Session, live_session: LiveSession) -> list[Booking]:
    return list(
        session.scalars(
            select(Booking)
            .where(Booking.session_id == live_session.id, Booking.status.in_(ACTIVE))
            .order_by(Booking.created_at, Booking.id)
        )
    )


def record_attendance(session: Session, live_session: LiveSession, marks: Mapping[int, Attendance]) -> int:
    """Mark confirmed attendees as attended or no-show; ids of other bookings are ignored. Returns how many were marked."""
    _lock_session(session, live_session.id)  # co-hosts marking at once each recount after the other
    confirmed = {
        b.id: b
        for b in session.scalars(
            select(Booking).where(Booking.session_id == live_session.id, Booking.status == BookingStatus.CONFIRMED)
        )
    }
    for booking_id, mark in marks.items():
        if booking_id in confirmed:
            confirmed[booking_id].attendance = mark
    session.flush()
    session_figures.refresh(session, [live_session.id])
    return sum(booking_id in confirmed for booking_id in marks)


@dataclass(frozen=True)
class FeedbackAnswers:
    """The programme's questionnaire."""

    satisfaction: int
    format_best_suited: bool
    changed_daily_usage: bool
    would_recommend: bool
    comment: str | None


def record_feedback(session: Session, booking: Booking, answers: FeedbackAnswers) -> SessionFeedback:
    """Store one questionnaire answer for an attended booking; a second answer is refused."""
    feedback = SessionFeedback(
        booking_id=booking.id,
        satisfaction=answers.satisfaction,
        format_best_suited=answers.format_best_suited,
        changed_daily_usage=answers.changed_daily_usage,
        would_recommend=answers.would_recommend,
        comment=answers.comment,
    )
    try:
        with session.begin_nested():
            session.add(feedback)
            session.flush()
    except IntegrityError as error:
        raise BookingError(
            Refusal.ALREADY_BOOKED, "You have already answered the questionnaire for this session. Thank you!"
        ) from error
    return feedback
