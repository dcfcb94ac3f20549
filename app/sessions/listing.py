"""What learners see of live sessions: the upcoming ones, filtered by site and format, their bookings and news."""

from __future__ import annotations

import functools
from datetime import datetime, timedelta

from flask import abort, request
from sqlalchemy import Select, and_, bindparam, select
from sqlalchemy.orm import Session, contains_eager, joinedload

from course.sessions import SessionFormat

from ..models import Booking, LiveSession, Notification, SessionHost, SessionStatus, User, utcnow
from .booking import ACTIVE


def listed_sessions(
    session: Session,
    learner_id: int,
    now: datetime,
    weeks: int,
    theme_id: str | None = None,
    site: str | None = None,
    session_format: SessionFormat | None = None,
    limit: int | None = None,
) -> tuple[list[LiveSession], dict[int, Booking]]:
    """Scheduled sessions from now to `weeks` ahead, soonest first, and the learner's active booking of each, by session id.

    One query: the hosts and their names are joined in, and so is the learner's booking (at most one active booking
    per learner and session, by a partial unique index).
    """
    statement = _listing(bool(theme_id), bool(site), session_format is not None, limit)
    parameters = {"learner_id": learner_id, "now": now, "until": now + timedelta(weeks=weeks)}
    parameters |= {"theme_id": theme_id, "site": site, "format": session_format}
    rows = session.execute(statement, parameters).unique().all()
    return [live_session for live_session, _ in rows], {live_session.id: booking for live_session, booking in rows if booking is not None}


@functools.cache
def _listing(by_theme: bool, by_site: bool, by_format: bool, limit: int | None) -> Select[LiveSession, Booking]:
    """The listing's statement for one combination of filters, built once: the values are bound at each run."""
    query = (
        select(LiveSession, Booking)
        .outerjoin(
            Booking, and_(Booking.session_id == LiveSession.id, Booking.learner_id == bindparam("learner_id"), Booking.status.in_(ACTIVE))
        )
        .where(LiveSession.status == SessionStatus.SCHEDULED, LiveSession.starts_at > bindparam("now"), LiveSession.starts_at <= bindparam("until"))
        .options(joinedload(LiveSession.hosts).joinedload(SessionHost.mentor).load_only(User.id, User.name))
        .order_by(LiveSession.starts_at, LiveSession.id)
        .limit(limit)
    )
    if by_theme:
        query = query.where(LiveSession.theme_id == bindparam("theme_id"))
    if by_site:
        query = query.where(LiveSession.site == bindparam("site"))
    if by_format:
        query = query.where(LiveSession.format == bindparam("format"))
    return query


def session_filters() -> tuple[str | None, SessionFormat | None]:
    """The site and format a listing is filtered by; an unknown format is a 400."""
    site = request.args.get("site") or None
    raw_format = request.args.get("format") or None
    if raw_format is not None and raw_format not in {f.value for f in SessionFormat}:
        abort(400, description="The format must be 'individual' or 'collective'.")
    return site, SessionFormat(raw_format) if raw_format else None


def my_booking_of(session: Session, learner_id: int, session_id: int) -> Booking | None:
    """The learner's active booking of one session, to show 'booked' or 'on the waiting list'."""
    return session.scalar(
        select(Booking).where(Booking.learner_id == learner_id, Booking.session_id == session_id, Booking.status.in_(ACTIVE))
    )


# Built once: pages run these on every view, and building a statement costs about as much as running it.
UPCOMING_BOOKINGS = (
    select(Booking)
    .join(LiveSession, LiveSession.id == Booking.session_id)
    .where(
        Booking.learner_id == bindparam("learner_id"),
        Booking.status.in_(ACTIVE),
        LiveSession.status == SessionStatus.SCHEDULED,
        LiveSession.starts_at > bindparam("now"),
    )
    .options(contains_eager(Booking.session))
    .order_by(LiveSession.starts_at)
)
UNREAD_NOTIFICATIONS = (
    select(Notification)
    .where(Notification.user_id == bindparam("user_id"), Notification.read_at.is_(None))
    .order_by(Notification.created_at.desc())
    .limit(5)
)


def upcoming_bookings(session: Session, learner_id: int) -> list[Booking]:
    """The learner's seats and waiting-list places in sessions still to come, soonest first."""
    return list(session.scalars(UPCOMING_BOOKINGS, {"learner_id": learner_id, "now": utcnow()}))


def unread_notifications(session: Session, user_id: int) -> list[Notification]:
    """What changed for this person since they last looked at their sessions."""
    return list(session.scalars(UNREAD_NOTIFICATIONS, {"user_id": user_id}))
