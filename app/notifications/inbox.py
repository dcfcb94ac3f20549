"""The in-app notifications a person reads: the latest ones, and marking them read, which only a POST does."""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from ..db import rowcount
from ..models import Notification, utcnow

LATEST = 10


def latest_notifications(session: Session, user_id: int, limit: int = LATEST) -> list[Notification]:
    """A person's latest notifications, read or not, newest first."""
    return list(
        session.scalars(
            select(Notification)
            .where(Notification.user_id == user_id)
            .order_by(Notification.created_at.desc(), Notification.id.desc())
            .limit(limit)
        )
    )


def mark_read(session: Session, user_id: int, through_id: int) -> int:
    """Mark a person's unread notifications up to `through_id` as read: one told after the page was shown stays unread."""
    result = session.execute(
        update(Notification)
        .where(Notification.user_id == user_id, Notification.read_at.is_(None), Notification.id <= through_id)
        .values(read_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    return rowcount(result)
