"""E-mail about sessions (through a real SMTP server, or into .eml files) and reminders sent once."""

import socket
import threading
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy
from zoneinfo import ZoneInfo

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult
from icalendar import Calendar
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import Booking, BookingStatus, Notification, ReminderSent, Role, SessionStatus
from app.notifications.kinds import Event
from app.notifications.mail import deliver, session_message
from app.notifications.reminders import TWO_DAYS, TWO_HOURS, claim_reminder, send_due_reminders, send_reminders_command

from ..conftest import add_live_session, csrf_token

THEME = "information-management"
PARIS = ZoneInfo("Europe/Paris")
SENDER = "Speak Digital <no-reply@speak-digital.invalid>"


class Collector:
    """An SMTP handler that keeps every envelope it receives, and who logged in to send it."""

    def __init__(self):
        self.envelopes = []
        self.logins = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - the name aiosmtpd calls
        self.envelopes.append(envelope)
        self.logins.append(session.auth_data.login if session.authenticated else None)
        return "250 Message accepted for delivery"


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def check_password(server, session, envelope, mechanism, auth_data):
    return AuthResult(success=(auth_data.login, auth_data.password) == (b"speak", b"digital"), auth_data=auth_data)


@pytest.fixture
def smtp_server():
    collector = Collector()
    controller = Controller(
        collector, hostname="127.0.0.1", port=free_port(), authenticator=check_password, auth_require_tls=False
    )
    controller.start()
    yield controller, collector
    controller.stop()


@pytest.fixture
def smtp_config(smtp_server):
    controller, _ = smtp_server
    return {"SMTP_HOST": controller.hostname, "SMTP_PORT": controller.port, "SMTP_STARTTLS": False, "MAIL_FROM": SENDER}


@pytest.fixture
def mail_config(app, tmp_path):
    """The app's mail settings, writing into a folder of this test's: the outbox's job reads the app's configuration."""
    app.config.update(SMTP_HOST=None, MAIL_FOLDER=tmp_path / "mail")
    return app.config


@pytest.fixture
def mentor(people):
    return people.create(Role.MENTOR, email="yanis@example.test", name="Yanis Mentor")


@pytest.fixture
def martine(people):
    return people.create(Role.LEARNER, email="martine@example.test", name="Martine Lé")


def make_session(db_session, mentor, starts_at, minutes=90, **fields):
    return add_live_session(db_session, [mentor], starts_at, minutes=minutes, **fields)


def book(db_session, live_session, learner, status=BookingStatus.CONFIRMED):
    booking = Booking(session_id=live_session.id, learner_id=learner.id, status=status, confirmed_at=datetime.now(UTC))
    db_session.add(booking)
    db_session.commit()
    return booking


def subject(message):
    # Python folds a subject that fits on one line onto the next ("Subject:\n Booked: ..."), which clients
    # unfold to the same thing; its own parser keeps the folding space.
    return str(message["Subject"]).strip()


def parts(raw):
    message = message_from_bytes(raw, policy=policy.default)
    found = {part.get_content_type(): part for part in message.walk() if not part.is_multipart()}
    return message, found


def calendar_of(part):
    body = part.get_content()
    return body, Calendar.from_ical(body)


# Messages


def test_a_booking_message_says_what_when_and_where_in_local_time_and_carries_a_request(db_session, mentor, martine):
    live_session = make_session(
        db_session, mentor, datetime(2026, 3, 29, 1, 30, tzinfo=PARIS).astimezone(UTC), note="Bring your phone."
    )
    outgoing = session_message(Event.BOOKED, live_session, martine, "Your seat is booked.")

    assert outgoing.to == "Martine Lé <martine@example.test>"
    assert outgoing.subject == "Booked: Information management, Sunday 29 March 2026 at 01:30"
    assert "Hello Martine Lé," in outgoing.text
    assert "Your seat is booked." in outgoing.text
    assert "When: Sunday 29 March 2026, 01:30 to 04:00 (Paris time)" in outgoing.text
    assert "Where: Lyon, Room 4.01" in outgoing.text
    assert "Led by: Yanis Mentor" in outgoing.text
    assert "Bring your phone." in outgoing.text
    assert "Cancel your booking in Speak Digital, under “My sessions”" in outgoing.text
    assert outgoing.calendar_method == "REQUEST"
    assert outgoing.calendar is not None
    assert str(Calendar.from_ical(outgoing.calendar)["METHOD"]) == "REQUEST"


@pytest.mark.parametrize(
    ("event", "method"),
    [
        (Event.BOOKED, "REQUEST"),
        (Event.PROMOTED, "REQUEST"),
        (Event.SESSION_CHANGED, "REQUEST"),
        (Event.BOOKING_CANCELLED, "CANCEL"),
        (Event.SESSION_CANCELLED, "CANCEL"),
        (Event.WAITLISTED, None),
        (Event.REMINDER_2_DAYS, None),
        (Event.REMINDER_2_HOURS, None),
    ],
)
def test_every_event_has_a_subject_and_the_invitation_its_method_calls_for(db_session, mentor, martine, event, method):
    live_session = make_session(db_session, mentor, datetime.now(UTC) + timedelta(days=3))
    outgoing = session_message(event, live_session, martine, "What happened.")
    local = live_session.starts_at.astimezone(PARIS)
    assert outgoing.subject.endswith(f"Information management, {local:%A} {local.day} {local:%B %Y} at {local:%H:%M}")
    assert "What happened." in outgoing.text
    assert outgoing.calendar_method == method
    assert (outgoing.calendar is None) == (method is None)


def test_an_online_session_gives_its_link(db_session, mentor, martine):
    link = "https://meet.example.test/abc"
    live_session = make_session(db_session, mentor, datetime.now(UTC) + timedelta(days=3), site=None, room=None, video_url=link)
    outgoing = session_message(Event.BOOKED, live_session, martine, "Booked.")
    assert f"Where: Online: {link}" in outgoing.text


# Delivery through SMTP


def test_a_confirmation_and_a_cancellation_arrive_with_a_calendar_part_whose_method_matches(
    db_session, mentor, martine, smtp_server, smtp_config
):
    _, collector = smtp_server
    live_session = make_session(db_session, mentor, datetime.now(UTC) + timedelta(days=3))

    deliver(session_message(Event.BOOKED, live_session, martine, "Your seat is booked."), smtp_config)
    deliver(session_message(Event.BOOKING_CANCELLED, live_session, martine, "Your booking is cancelled."), smtp_config)

    assert len(collector.envelopes) == 2
    for envelope, method, words in zip(
        collector.envelopes, ("REQUEST", "CANCEL"), ("Your seat is booked.", "Your booking is cancelled."), strict=True
    ):
        assert envelope.mail_from == "no-reply@speak-digital.invalid"
        assert envelope.rcpt_tos == ["martine@example.test"]
        message, found = parts(envelope.original_content)
        assert message.get_content_type() == "multipart/alternative"
        assert message["From"] == SENDER
        assert message["To"] == "Martine Lé <martine@example.test>"
        assert message["Message-ID"].endswith("@speak-digital.invalid>")
        assert message["Date"]
        assert subject(message).startswith(
            ("Booked: " if method == "REQUEST" else "Booking cancelled: ") + "Information management, "
        )

        text = found["text/plain"].get_content()
        assert words in text
        assert "When: " in text

        calendar_part = found["text/calendar"]
        assert calendar_part.get_content_type() == "text/calendar"
        assert calendar_part.get_param("method") == method
        assert calendar_part.get_content_charset() == "utf-8"
        body, calendar = calendar_of(calendar_part)
        assert f"\r\nMETHOD:{method}\r\n" in body
        assert str(calendar["METHOD"]) == calendar_part.get_param("method")
        (event,) = calendar.walk("VEVENT")
        assert str(event["UID"]) == live_session.uid
        assert str(event["STATUS"]) == ("CONFIRMED" if method == "REQUEST" else "CANCELLED")
        assert str(event["ATTENDEE"]) == "mailto:martine@example.test"
    assert collector.logins == [None, None]


def test_a_message_without_invitation_is_plain_text(db_session, mentor, martine, smtp_server, smtp_config):
    _, collector = smtp_server
    live_session = make_session(db_session, mentor, datetime.now(UTC) + timedelta(days=3))
    deliver(session_message(Event.WAITLISTED, live_session, martine, "You are on the waiting list."), smtp_config)
    message, found = parts(collector.envelopes[0].original_content)
    assert message.get_content_type() == "text/plain"
    assert list(found) == ["text/plain"]
    assert "You are on the waiting list." in message.get_content()


def test_the_server_is_logged_in_to_when_a_username_is_configured(db_session, mentor, martine, smtp_server, smtp_config):
    _, collector = smtp_server
    live_session = make_session(db_session, mentor, datetime.now(UTC) + timedelta(days=3))
    deliver(
        session_message(Event.BOOKED, live_session, martine, "Booked."),
        {**smtp_config, "SMTP_USERNAME": "speak", "SMTP_PASSWORD": "digital"},
    )
    assert collector.logins == [b"speak"]


# Delivery into a folder


def test_without_an_smtp_host_the_message_lands_as_an_eml_file(db_session, mentor, martine, tmp_path):
    folder = tmp_path / "not-yet-there"
    live_session = make_session(db_session, mentor, datetime.now(UTC) + timedelta(days=3))
    config = {"SMTP_HOST": None, "MAIL_FROM": SENDER, "MAIL_FOLDER": folder}

    first = deliver(session_message(Event.BOOKED, live_session, martine, "Your seat is booked."), config)
    second = deliver(session_message(Event.SESSION_CANCELLED, live_session, martine, "This session has been cancelled."), config)

    assert sorted(folder.iterdir()) == [first, second]
    assert first.suffix == ".eml"
    message, found = parts(first.read_bytes())
    assert message["To"] == "Martine Lé <martine@example.test>"
    assert "Your seat is booked." in found["text/plain"].get_content()
    assert found["text/calendar"].get_param("method") == "REQUEST"
    _, found = parts(second.read_bytes())
    assert found["text/calendar"].get_param("method") == "CANCEL"
    assert str(calendar_of(found["text/calendar"])[1]["METHOD"]) == "CANCEL"


def test_booking_through_the_site_writes_the_confirmation_once_committed(app, people, mentor, martine, db_session, tmp_path):
    app.config["MAIL_FOLDER"] = tmp_path
    live_session = make_session(db_session, mentor, datetime.now(UTC).replace(microsecond=0) + timedelta(days=3))
    client = app.test_client()
    people.login(client, martine)
    token = csrf_token(client.get("/").get_data(as_text=True))
    assert client.post(f"/sessions/{live_session.id}/book", data={"csrf_token": token}).status_code == 302

    (written,) = tmp_path.iterdir()
    message, found = parts(written.read_bytes())
    assert subject(message).startswith("Booked: Information management")
    assert found["text/calendar"].get_param("method") == "REQUEST"


# Reminders


def now_utc():
    return datetime.now(UTC).replace(microsecond=0)


def reminder_kinds(db_session):
    db_session.expire_all()
    rows = db_session.execute(
        select(ReminderSent.booking_id, ReminderSent.kind).order_by(ReminderSent.booking_id, ReminderSent.kind)
    )
    return sorted((booking_id, kind) for booking_id, kind in rows)


def test_due_reminders_are_sent_once_each_and_a_rerun_sends_nothing(db_session, people, mentor, martine, mail_config):
    now = now_utc()
    other = people.create(Role.LEARNER, email="paul@example.test", name="Paul Learner")
    in_47_hours = make_session(db_session, mentor, now + timedelta(hours=47), note="47h")
    in_90_minutes = make_session(db_session, mentor, now + timedelta(minutes=90), note="90min")
    in_3_days = make_session(db_session, mentor, now + timedelta(days=3), note="3d")
    cancelled = make_session(db_session, mentor, now + timedelta(hours=20), note="cancelled", status=SessionStatus.CANCELLED)
    started = make_session(db_session, mentor, now - timedelta(minutes=10), note="started")
    two_days = book(db_session, in_47_hours, martine)
    two_hours = book(db_session, in_90_minutes, martine)
    book(db_session, in_3_days, martine)
    book(db_session, cancelled, martine)
    book(db_session, started, martine)
    book(db_session, in_47_hours, other, BookingStatus.WAITLISTED)
    book(db_session, in_90_minutes, other, BookingStatus.CANCELLED)

    assert send_due_reminders(db_session, now) == 2

    assert reminder_kinds(db_session) == sorted([(two_days.id, "2_days"), (two_hours.id, "2_hours")])
    notifications = db_session.execute(select(Notification.user_id, Notification.session_id, Notification.kind)).all()
    assert sorted(notifications) == sorted(
        [(martine.id, in_47_hours.id, "reminder_2_days"), (martine.id, in_90_minutes.id, "reminder_2_hours")]
    )
    subjects = sorted(subject(parts(path.read_bytes())[0]) for path in mail_config["MAIL_FOLDER"].iterdir())
    assert subjects[0].startswith("Reminder: Information management")
    assert subjects[1].startswith("Starting soon: Information management")
    texts = [parts(path.read_bytes())[1]["text/plain"].get_content() for path in mail_config["MAIL_FOLDER"].iterdir()]
    assert any("your live session starts in two days" in text for text in texts)
    assert any("your live session starts in 90 minutes" in text for text in texts)

    assert send_due_reminders(db_session, now) == 0
    assert send_due_reminders(db_session, now + timedelta(minutes=5)) == 0
    assert len(list(mail_config["MAIL_FOLDER"].iterdir())) == 2

    # Later, the 47-hour session is two hours away and the 3-day one within two days.
    later = now + timedelta(hours=45, minutes=30)
    assert send_due_reminders(db_session, later) == 2
    assert [kind for _, kind in reminder_kinds(db_session)].count("2_hours") == 2
    assert [kind for _, kind in reminder_kinds(db_session)].count("2_days") == 2
    assert send_due_reminders(db_session, later) == 0


def test_a_session_booked_an_hour_before_gets_only_the_two_hour_reminder(db_session, mentor, martine, mail_config):
    now = now_utc()
    soon = make_session(db_session, mentor, now + timedelta(hours=1))
    booking = book(db_session, soon, martine)

    assert send_due_reminders(db_session, now) == 1
    for minutes in (1, 30, 59):
        assert send_due_reminders(db_session, now + timedelta(minutes=minutes)) == 0
    assert reminder_kinds(db_session) == [(booking.id, "2_hours")]


def test_a_reminder_is_claimed_only_once(engine, db_session, mentor, martine):
    booking = book(db_session, make_session(db_session, mentor, now_utc() + timedelta(hours=30)), martine)
    with Session(engine) as first, Session(engine) as second:
        assert claim_reminder(first, first.get(Booking, booking.id), TWO_DAYS, "A reminder.")
        first.commit()
        assert not claim_reminder(second, second.get(Booking, booking.id), TWO_DAYS, "A reminder.")
        second.commit()
        assert claim_reminder(second, second.get(Booking, booking.id), TWO_HOURS, "A reminder.")
        second.commit()
    assert reminder_kinds(db_session) == [(booking.id, "2_days"), (booking.id, "2_hours")]
    assert db_session.scalars(select(Notification.kind).order_by(Notification.id)).all() == [
        "reminder_2_days",
        "reminder_2_hours",
    ]


def test_concurrent_runs_never_send_a_reminder_twice(engine, db_session, people, mentor, mail_config):
    now = now_utc()
    learners = [people.create(Role.LEARNER, email=f"learner{i}@example.test") for i in range(6)]
    sessions = [make_session(db_session, mentor, now + timedelta(hours=hours), note=str(hours)) for hours in (1, 30)]
    for live_session in sessions:
        for learner in learners:
            book(db_session, live_session, learner)
    start = threading.Barrier(3)
    results, errors = [], []

    def run():
        try:
            with Session(engine, expire_on_commit=False) as session:
                start.wait()
                results.append(send_due_reminders(session, now))
        except Exception as error:  # reported below
            errors.append(error)

    threads = [threading.Thread(target=run) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert errors == []
    assert sum(results) == 12
    assert len(reminder_kinds(db_session)) == 12
    assert len(list(mail_config["MAIL_FOLDER"].iterdir())) == 12


def test_the_command_sends_what_is_due(app, db_session, mentor, martine, tmp_path):
    app.config["MAIL_FOLDER"] = tmp_path
    book(db_session, make_session(db_session, mentor, now_utc() + timedelta(hours=40)), martine)
    runner = app.test_cli_runner()

    result = runner.invoke(send_reminders_command)
    assert result.exit_code == 0, result.output
    assert result.output == "Sent 1 reminder(s).\n"
    assert runner.invoke(send_reminders_command).output == "Sent 0 reminder(s).\n"
    assert len(list(tmp_path.iterdir())) == 1
