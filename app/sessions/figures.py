"""What the HR dashboard sums about live sessions, kept beside them so that it never reads every booking.

Each session carries its seats attended and no-shows, and `reached_learners` holds every learner who attended a
session, once per site of its mentors. Both are refreshed from the bookings of the sessions that change, in the
transaction that changes them: attendance recorded, a session cancelled or moved, a mentor moving to another site.
"""

from __future__ import annotations

from collections.abc import Collection

from sqlalchemy import ScalarSelect, case, delete, func, insert, select, update
from sqlalchemy.orm import Session

from ..models import Attendance, Booking, LiveSession, ReachedLearner, SessionHost, SessionStatus, User


def _tally(mark: Attendance, session_id: object) -> ScalarSelect[int]:
    attended = case((Booking.attendance == mark, 1), else_=0)
    return select(func.coalesce(func.sum(attended), 0)).where(Booking.session_id == session_id).scalar_subquery()


def refresh(session: Session, session_ids: Collection[int] | None = None) -> None:
    """Recount the attendance of `session_ids` (every session when None) and the learners they reached per site."""
    if session_ids is not None and not session_ids:
        return
    tallies = update(LiveSession).values(
        seats_attended=_tally(Attendance.ATTENDED, LiveSession.id), no_shows=_tally(Attendance.NO_SHOW, LiveSession.id)
    )
    forget = delete(ReachedLearner)
    reached = (
        select(User.site, Booking.learner_id, LiveSession.id, LiveSession.theme_id, LiveSession.starts_at)
        .join(LiveSession, LiveSession.id == Booking.session_id)
        .join(SessionHost, SessionHost.session_id == LiveSession.id)
        .join(User, User.id == SessionHost.mentor_id)
        .where(Booking.attendance == Attendance.ATTENDED, LiveSession.status == SessionStatus.SCHEDULED)
        .distinct()  # co-hosts of one site reach each learner once
    )
    if session_ids is not None:
        chosen = sorted(session_ids)
        tallies = tallies.where(LiveSession.id.in_(chosen))
        forget = forget.where(ReachedLearner.session_id.in_(chosen))
        reached = reached.where(LiveSession.id.in_(chosen))
    session.execute(tallies.execution_options(synchronize_session="fetch"))
    session.execute(forget)
    columns = ["site", "learner_id", "session_id", "theme_id", "starts_at"]
    session.execute(insert(ReachedLearner).from_select(columns, reached))


def refresh_for_mentors(session: Session, mentor_ids: Collection[int]) -> None:
    """After mentors moved to another site: the learners their sessions reached now count for their new site."""
    if not mentor_ids:
        return
    hosted = select(SessionHost.session_id).where(SessionHost.mentor_id.in_(sorted(mentor_ids)))
    refresh(session, set(session.scalars(hosted)))

