"""What learners see of live sessions: the upcoming ones, filtered by site and format, their bookings and news."""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import abort, request
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from course.sessions import SessionFormat

from ..models import Booking, BookingStatus, LiveSession, Notification, SessionHost, SessionStatus, utcnow


def upcoming_sessions(
    session: Session, now: datetime, weeks: int, theme_id: str | None = None, site: str | None = None, session_format: SessionFormat | None = None
) -> list[LiveSession]:
    """Scheduled sessions from now to `weeks` ahead, soonest first, with their hosts loaded in one more query."""
    query = (
        select(LiveSession)
        .where(LiveSession.status == SessionStatus.SCHEDULED, LiveSession.starts_at > now, LiveSession.starts_at <= now + timedelta(weeks=weeks))
        .options(selectinload(LiveSession.hosts).selectinload(SessionHost.mentor))
        .order_by(LiveSession.starts_at, LiveSession.id)
    )
    if theme_id:
        query = query.where(LiveSession.theme_id == theme_id)
    if site:
        query = query.where(LiveSession.site == site)
    if session_format:
        query = query.where(LiveSession.format == session_format)
    return list(session.scalars(query))


def session_filters() -> tuple[str | None, SessionFormat | None]:
    """The site and format a listing is filtered by; an unknown format is a 400."""
    site = request.args.get("site") or None
    raw_format = request.args.get("format") or None
    if raw_format is not None and raw_format not in {f.value for f in SessionFormat}:
        abort(400, description="The format must be 'individual' or 'collective'.")
    return site, SessionFormat(raw_format) if raw_format else None


def my_bookings_by_session(session: Session, learner_id: int) -> dict[int, Booking]:
    """The learner's active bookings, by session id, to show 'booked' or 'on the waiting list' in listings."""
    rows = session.scalars(
        select(Booking).where(Booking.learner_id == learner_id, Booking.status.in_((BookingStatus.CONFIRMED, BookingStatus.WAITLISTED)))
    )
    return {booking.session_id: booking for booking in rows}


def upcoming_bookings(session: Session, learner_id: int) -> list[Booking]:
    """The learner's seats and waiting-list places in sessions still to come, soonest first."""
    return list(
        session.scalars(
            select(Booking)
            .join(LiveSession, LiveSession.id == Booking.session_id)
            .where(
                Booking.learner_id == learner_id,
                Booking.status.in_((BookingStatus.CONFIRMED, BookingStatus.WAITLISTED)),
                LiveSession.status == SessionStatus.SCHEDULED,
                LiveSession.starts_at > utcnow(),
            )
            .options(selectinload(Booking.session))
            .order_by(LiveSession.starts_at)
        )
    )


def unread_notifications(session: Session, user_id: int) -> list[Notification]:
    """What changed for this person since they last looked at their sessions."""
    return list(
        session.scalars(
            select(Notification).where(Notification.user_id == user_id, Notification.read_at.is_(None)).order_by(Notification.created_at.desc()).limit(5)
        )
    )
