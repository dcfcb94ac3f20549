"""What can happen to a person's sessions: the kinds of notification, each with what its e-mail carries."""

from __future__ import annotations

import enum


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
