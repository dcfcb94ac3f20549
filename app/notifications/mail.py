"""E-mail about live sessions: a friendly text, the calendar invitation beside it, and the way it leaves.

With an SMTP server configured (SPEAK_DIGITAL_SMTP_HOST) messages are sent to it; without one they are
written as .eml files into the mail folder, so that development, demos and tests can read what would have
been sent. The invitation travels as a `text/calendar` alternative whose MIME `method` matches the
calendar's METHOD (RFC 6047 §2.4): that is the form Outlook shows as an invitation rather than a file.
"""

from __future__ import annotations

import secrets
import smtplib
import ssl
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from email import policy
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid, parseaddr
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from ..models import LiveSession, User, utcnow
from .calendar import invitation
from .kinds import Event

SMTP_TIMEOUT_SECONDS = 10
SUBJECT_PREFIX = {
    Event.BOOKED: "Booked",
    Event.WAITLISTED: "On the waiting list",
    Event.PROMOTED: "A seat is yours",
    Event.BOOKING_CANCELLED: "Booking cancelled",
    Event.SESSION_CHANGED: "Session changed",
    Event.SESSION_CANCELLED: "Session cancelled",
    Event.REMINDER_2_DAYS: "Reminder",
    Event.REMINDER_2_HOURS: "Starting soon",
}
KEEP_YOUR_SEAT = (
    "Can't come after all? Cancel your booking in Speak Digital, under “My sessions”, so that a colleague can have your seat."
)
WHAT_NEXT = {
    Event.BOOKED: KEEP_YOUR_SEAT,
    Event.WAITLISTED: "No longer interested? Leave the waiting list in Speak Digital, under “My sessions”.",
    Event.PROMOTED: KEEP_YOUR_SEAT,
    Event.BOOKING_CANCELLED: "Changed your mind? Book again under “Live sessions” while seats are left.",
    Event.SESSION_CHANGED: KEEP_YOUR_SEAT,
    Event.SESSION_CANCELLED: "Other sessions on this theme are listed in Speak Digital, under “Live sessions”.",
    Event.REMINDER_2_DAYS: KEEP_YOUR_SEAT,
    Event.REMINDER_2_HOURS: "Can't come after all? Please tell your mentor.",
}


@dataclass(frozen=True)
class OutgoingMessage:
    """An e-mail ready to leave: recipient, subject, plain text, and the invitation with its method, if any."""

    to: str
    subject: str
    text: str
    calendar: bytes | None
    calendar_method: str | None


def session_message(event: Event, live_session: LiveSession, person: User, message: str) -> OutgoingMessage:
    """The e-mail telling `person` about `event`: what happened, when and where, what to do next, and the invitation."""
    theme_title = live_session.theme.title
    zone = ZoneInfo(live_session.time_zone)
    starts = live_session.starts_at.astimezone(zone)
    ends = (live_session.starts_at + timedelta(minutes=live_session.duration_minutes)).astimezone(zone)
    day = f"{starts:%A} {starts.day} {starts:%B %Y}"
    hosts = ", ".join(host.mentor.name for host in live_session.hosts)
    lines = [
        f"Hello {person.name},",
        "",
        message,
        "",
        f"{theme_title} ({live_session.format.label.lower()})",
        f"When: {day}, {starts:%H:%M} to {ends:%H:%M} ({_zone_name(zone)} time)",
        f"Where: {_place(live_session)}",
    ]
    if hosts:
        lines.append(f"Led by: {hosts}")
    if live_session.note:
        lines += ["", "A word from your mentor:", live_session.note]
    method = event.calendar_method
    sign_off = "Best wishes," if method == "CANCEL" else "See you soon,"
    lines += ["", WHAT_NEXT[event], "", sign_off, "Speak Digital"]
    return OutgoingMessage(
        to=str(Address(display_name=person.name, addr_spec=person.email)),
        subject=f"{SUBJECT_PREFIX[event]}: {theme_title}, {day} at {starts:%H:%M}",
        text="\n".join(lines) + "\n",
        calendar=invitation(live_session, theme_title, person, method) if method else None,
        calendar_method=method,
    )


def _zone_name(zone: ZoneInfo) -> str:
    return zone.key.rsplit("/", 1)[-1].replace("_", " ")


def _place(live_session: LiveSession) -> str:
    in_person = ", ".join(part for part in (live_session.site, live_session.room) if part)
    if not live_session.video_url:
        return in_person
    if live_session.room:
        return f"{in_person}, or online: {live_session.video_url}"
    return f"Online: {live_session.video_url}"


def email_message(message: OutgoingMessage, config: Mapping[str, Any], message_id: str | None = None) -> EmailMessage:
    """`message` as MIME: text/plain, with the invitation as a text/calendar alternative when there is one."""
    sender = config["MAIL_FROM"]
    email = EmailMessage()
    email["Subject"] = message.subject
    email["From"] = sender
    email["To"] = message.to
    email["Date"] = format_datetime(utcnow())
    email["Message-ID"] = message_id or make_msgid(domain=parseaddr(sender)[1].rpartition("@")[2] or "speak-digital.invalid")
    email.set_content(message.text, cte="quoted-printable")
    if message.calendar is not None:
        if message.calendar_method not in ("REQUEST", "CANCEL"):
            raise ValueError(f"an invitation needs the method REQUEST or CANCEL, not {message.calendar_method!r}")
        email.add_alternative(
            message.calendar, maintype="text", subtype="calendar", params={"charset": "utf-8", "method": message.calendar_method}
        )
    return email


def deliver(message: OutgoingMessage, config: Mapping[str, Any], message_id: str | None = None) -> Path | None:
    """Send `message` through the configured SMTP server, or write it into the mail folder and return the file."""
    email = email_message(message, config, message_id)
    if config.get("SMTP_HOST"):
        _send(email, config)
        return None
    return _write(email, Path(config.get("MAIL_FOLDER") or "instance/mail"))


def _send(email: EmailMessage, config: Mapping[str, Any]) -> None:
    with smtplib.SMTP(config["SMTP_HOST"], int(config.get("SMTP_PORT") or 25), timeout=SMTP_TIMEOUT_SECONDS) as smtp:
        if config.get("SMTP_STARTTLS"):
            smtp.starttls(context=ssl.create_default_context())
        if config.get("SMTP_USERNAME"):
            smtp.login(config["SMTP_USERNAME"], config.get("SMTP_PASSWORD") or "")
        smtp.send_message(email)


def _write(email: EmailMessage, folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    # Named by the time it was written, so that a listing shows messages in the order they were sent.
    path = folder / f"{utcnow():%Y%m%dT%H%M%S%fZ}-{secrets.token_hex(4)}.eml"
    with path.open("xb") as file:
        file.write(email.as_bytes(policy=policy.default))
    return path
