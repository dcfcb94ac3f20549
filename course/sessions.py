"""Live-session rules: what makes a session valid, and whether a learner may book or cancel a seat.

Pure functions over plain values; the web layer loads the facts, calls these, and enforces seat limits
and uniqueness in the database. Each refusal is a named reason with a sentence for people.
"""

from __future__ import annotations

import enum
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

MIN_DURATION = 60
MAX_DURATION = 120
DEFAULT_DURATION = 90
MAX_COLLECTIVE_SEATS = 15
MIN_COLLECTIVE_SEATS = 2
MAX_HOSTS = 3


class SessionFormat(enum.StrEnum):
    """A mentor and one mentee, or a group."""

    INDIVIDUAL = "individual"
    COLLECTIVE = "collective"

    @property
    def label(self) -> str:
        """The format in words."""
        return "One to one" if self is SessionFormat.INDIVIDUAL else "Group session"


class Refusal(enum.StrEnum):
    """Why a booking or a cancellation is refused."""

    CANCELLED = "cancelled"
    TOO_LATE = "too_late"
    OWN_SESSION = "own_session"
    SAME_MANAGEMENT_LINE = "same_management_line"
    ALREADY_BOOKED = "already_booked"
    OVERLAP = "overlap"
    TOO_MANY_BOOKINGS = "too_many_bookings"
    FULL = "full"
    CANCEL_TOO_LATE = "cancel_too_late"

    def message(self, guard_hours: float = 2, cap: int = 0) -> str:
        """The refusal in words, saying what to do instead."""
        return {
            "cancelled": "This session has been cancelled. Choose another one.",
            "too_late": f"This session starts in less than {guard_hours:g} hours, or has started: it can no longer be booked.",
            "own_session": "You lead this session, so you cannot book a seat in it.",
            "same_management_line": "This one-to-one session is led by someone in your management line. Choose a session with another mentor.",
            "already_booked": "You already have a seat in this session.",
            "overlap": "You already have a session booked at that time. Cancel it first, or choose another time.",
            "too_many_bookings": f"You already have {cap} upcoming sessions booked, the most at one time. Attend or cancel one first.",
            "full": "The last seat was just taken.",
            "cancel_too_late": f"This session starts in less than {guard_hours:g} hours: it can no longer be cancelled here. Tell your mentor directly.",
        }[self.value]


@dataclass(frozen=True)
class SessionFacts:
    """What the booking rules need to know about a session."""

    starts_at: datetime
    duration_minutes: int
    format: SessionFormat
    host_ids: frozenset[int]
    cancelled: bool = False

    @property
    def ends_at(self) -> datetime:
        """When the session ends."""
        return self.starts_at + timedelta(minutes=self.duration_minutes)


def management_chain(person_id: int, managers: Mapping[int, int | None]) -> list[int]:
    """Everyone above `person_id`, nearest first; a cycle in the data stops the walk instead of looping."""
    chain: list[int] = []
    current = managers.get(person_id)
    while current is not None and current not in chain and current != person_id:
        chain.append(current)
        current = managers.get(current)
    return chain


def in_same_management_line(first: int, second: int, managers: Mapping[int, int | None]) -> bool:
    """True when one of the two is anywhere above the other."""
    return second in management_chain(first, managers) or first in management_chain(second, managers)


def overlaps(first_start: datetime, first_end: datetime, second_start: datetime, second_end: datetime) -> bool:
    """True when two time ranges share any moment (touching ends do not overlap)."""
    return first_start < second_end and second_start < first_end


def booking_refusal(
    learner_id: int,
    session: SessionFacts,
    now: datetime,
    guard: timedelta,
    managers: Mapping[int, int | None],
    learner_sessions: Iterable[SessionFacts],
    upcoming_count: int,
    cap: int,
    already_booked: bool,
) -> Refusal | None:
    """The first rule a booking breaks, or None when it may go ahead (seats are the database's to count)."""
    if session.cancelled:
        return Refusal.CANCELLED
    if session.starts_at - now < guard:
        return Refusal.TOO_LATE
    if learner_id in session.host_ids:
        return Refusal.OWN_SESSION
    if already_booked:
        return Refusal.ALREADY_BOOKED
    if session.format is SessionFormat.INDIVIDUAL and any(
        in_same_management_line(learner_id, host, managers) for host in session.host_ids
    ):
        return Refusal.SAME_MANAGEMENT_LINE
    if any(overlaps(session.starts_at, session.ends_at, other.starts_at, other.ends_at) for other in learner_sessions):
        return Refusal.OVERLAP
    if upcoming_count >= cap:
        return Refusal.TOO_MANY_BOOKINGS
    return None


def cancellation_refusal(session: SessionFacts, now: datetime, guard: timedelta) -> Refusal | None:
    """Why a learner may not cancel now, or None."""
    if session.starts_at - now < guard:
        return Refusal.CANCEL_TOO_LATE
    return None


@dataclass(frozen=True)
class SessionDraft:
    """What a mentor enters to publish or change a session, already in UTC."""

    theme_id: str
    format: SessionFormat
    seats: int
    starts_at: datetime
    duration_minutes: int
    host_ids: tuple[int, ...]
    site: str | None
    room: str | None
    video_url: str | None


def session_draft_problems(draft: SessionDraft, now: datetime, theme_ids: Collection[str]) -> dict[str, str]:
    """Every problem of a session draft, by form field."""
    problems: dict[str, str] = {}
    if draft.theme_id not in theme_ids:
        problems["theme_id"] = "Choose one of the five themes."
    if draft.starts_at <= now:
        problems["starts_at"] = "The start must be in the future."
    if not MIN_DURATION <= draft.duration_minutes <= MAX_DURATION:
        problems["duration_minutes"] = f"A session lasts from {MIN_DURATION} to {MAX_DURATION} minutes."
    if draft.format is SessionFormat.COLLECTIVE and not MIN_COLLECTIVE_SEATS <= draft.seats <= MAX_COLLECTIVE_SEATS:
        problems["seats"] = f"A group session has from {MIN_COLLECTIVE_SEATS} to {MAX_COLLECTIVE_SEATS} seats."
    if not 1 <= len(draft.host_ids) <= MAX_HOSTS:
        problems["co_hosts"] = f"A session is led by one to {MAX_HOSTS} mentors."
    if draft.format is SessionFormat.INDIVIDUAL and len(draft.host_ids) > 1:
        problems["co_hosts"] = "A one-to-one session has a single mentor."
    if not draft.video_url and not (draft.site and draft.room):
        problems["room"] = "Give a site and a room, or a video link."
    if draft.video_url and not draft.video_url.startswith("https://"):
        problems["video_url"] = "A video link starts with https://."
    return problems


class NonexistentLocalTimeError(ValueError):
    """A local time that the clocks skip when they go forward."""


def local_to_utc(day: date, time_of_day: time, zone: ZoneInfo) -> datetime:
    """A wall-clock time at a site, as an aware UTC datetime; a time skipped by daylight saving is refused."""
    local = datetime.combine(day, time_of_day, tzinfo=zone)
    as_utc = local.astimezone(UTC)
    if as_utc.astimezone(zone).replace(tzinfo=None) != local.replace(tzinfo=None):
        raise NonexistentLocalTimeError(f"{time_of_day:%H:%M} does not exist on {day:%d %B %Y} in {zone.key}: the clocks go forward.")
    return as_utc


def utc_to_local(moment: datetime, zone: ZoneInfo) -> datetime:
    """An aware UTC datetime as wall-clock time at a site."""
    return moment.astimezone(zone)
