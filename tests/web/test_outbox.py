"""The e-mail outbox: messages survive a mail server outage, are tried again, and are never sent twice."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from app.models import EmailAttempt, EmailStatus, OutboundEmail, Role
from app.notifications.mail import OutgoingMessage
from app.notifications.outbox import (
    CLAIM_EXPIRES,
    NEVER_TRIED_AFTER,
    RETRIES,
    claim,
    record_email,
    send_email,
    send_left_behind_job,
)
from app.notifications.reminders import send_reminders_job

from ..conftest import csrf_token
from . import test_mail
from .test_mail import book, free_port, make_session, parts

smtp_server = test_mail.smtp_server  # the fixture: a real SMTP server on a free port

MESSAGE = OutgoingMessage("Martine <martine@example.test>", "Booked: a session", "Hello Martine,\n", None, None)


@pytest.fixture
def mentor(people):
    return people.create(Role.MENTOR, email="yanis@example.test", name="Yanis Mentor")


@pytest.fixture
def martine(people):
    return people.create(Role.LEARNER, email="martine@example.test", name="Martine Lé")


def emails(db_session):
    db_session.expire_all()
    return db_session.scalars(select(OutboundEmail).order_by(OutboundEmail.id)).all()


def attempts(db_session, email):
    return db_session.execute(select(EmailAttempt.succeeded, EmailAttempt.error).where(EmailAttempt.email_id == email.id).order_by(EmailAttempt.id)).all()


def book_through_the_site(app, people, learner, live_session):
    client = app.test_client()
    people.login(client, learner)
    token = csrf_token(client.get("/").get_data(as_text=True))
    return client.post(f"/sessions/{live_session.id}/book", data={"csrf_token": token})


def test_a_booking_made_while_the_mail_server_is_down_is_kept_and_its_email_goes_out_once_it_is_back(
    app, people, db_session, mentor, martine, smtp_server
):
    controller, collector = smtp_server
    app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=free_port())  # nothing listens there
    live_session = make_session(db_session, mentor, datetime.now(UTC) + timedelta(days=3))

    assert book_through_the_site(app, people, martine, live_session).status_code == 302
    (email,) = emails(db_session)
    assert (email.status, email.attempts) == (EmailStatus.QUEUED, 1)  # waiting for the queue's next try
    [(succeeded, error)] = attempts(db_session, email)
    assert not succeeded
    assert "Connection refused" in error or "ConnectionRefusedError" in error

    app.config["SMTP_PORT"] = controller.port  # the server is back
    send_email.call_local(email.id)  # what the queue's retry does
    send_email.call_local(email.id)  # a second delivery of the same job
    assert len(collector.envelopes) == 1
    (email,) = emails(db_session)
    assert (email.status, email.attempts) == (EmailStatus.SENT, 2)
    assert [succeeded for succeeded, _ in attempts(db_session, email)] == [False, True]
    sent = parts(collector.envelopes[0].content)[0]
    assert sent["Subject"].startswith("Booked: Information management")


def test_an_email_whose_last_try_fails_is_given_up_as_failed(app, db_session, monkeypatch):
    app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=free_port())
    monkeypatch.setattr(send_email.task_class, "default_retries", 0)
    email = record_email(db_session, MESSAGE, "test:given-up")
    db_session.commit()
    send_email(email.id)
    (email,) = emails(db_session)
    assert (email.status, email.attempts, email.sent_at) == (EmailStatus.FAILED, 1, None)


def test_recording_the_same_message_twice_records_it_once(db_session):
    assert record_email(db_session, MESSAGE, "notification:42") is not None
    assert record_email(db_session, MESSAGE, "notification:42") is None
    db_session.commit()
    assert db_session.scalar(select(func.count()).select_from(OutboundEmail)) == 1


def test_only_one_of_two_workers_claims_a_message(app, engine, db_session):
    email = record_email(db_session, MESSAGE, "test:claim")
    db_session.commit()
    with app.app_context():
        from sqlalchemy.orm import Session

        with Session(engine, expire_on_commit=False) as first, Session(engine, expire_on_commit=False) as second:
            assert claim(first, email.id) is not None
            assert claim(second, email.id) is None


def test_a_claim_left_by_a_worker_that_died_is_sent_again_with_the_same_message_id(app, db_session, tmp_path):
    app.config.update(SMTP_HOST=None, MAIL_FOLDER=tmp_path)
    email = record_email(db_session, MESSAGE, "test:died")
    email.status, email.claimed_at, email.attempts = EmailStatus.SENDING, datetime.now(UTC) - CLAIM_EXPIRES / 2, 1
    db_session.commit()
    send_email(email.id)
    assert list(tmp_path.iterdir()) == []  # another worker may still be sending it
    email.claimed_at = datetime.now(UTC) - CLAIM_EXPIRES - timedelta(minutes=1)
    db_session.commit()
    send_email(email.id)
    send_email(email.id)
    (written,) = tmp_path.iterdir()
    first_id = parts(written.read_bytes())[0]["Message-ID"]
    assert first_id.endswith("@speak-digital.invalid>")
    (email,) = emails(db_session)
    assert (email.status, email.attempts) == (EmailStatus.SENT, 2)


def test_the_workers_send_due_reminders_by_themselves(app, db_session, mentor, martine, tmp_path):
    app.config.update(SMTP_HOST=None, MAIL_FOLDER=tmp_path)
    book(db_session, make_session(db_session, mentor, datetime.now(UTC) + timedelta(hours=40)), martine)
    send_reminders_job.call_local()
    send_reminders_job.call_local()
    (written,) = tmp_path.iterdir()
    assert parts(written.read_bytes())[0]["Subject"].startswith("Reminder: Information management")
    assert [e.key.split(":")[0] for e in emails(db_session)] == ["reminder"]


def test_messages_no_job_will_send_are_sent_by_the_sweep_once(app, db_session, tmp_path):
    app.config.update(SMTP_HOST=None, MAIL_FOLDER=tmp_path)
    lost = record_email(db_session, MESSAGE, "test:queue-was-down")  # recorded, but its job never reached the queue
    lost.created_at = datetime.now(UTC) - NEVER_TRIED_AFTER - timedelta(minutes=1)
    died = record_email(db_session, MESSAGE, "test:worker-died")
    died.status, died.claimed_at, died.attempts = EmailStatus.SENDING, datetime.now(UTC) - CLAIM_EXPIRES - timedelta(minutes=1), 1
    record_email(db_session, MESSAGE, "test:just-recorded")  # its job may be on its way: left alone
    db_session.commit()
    send_left_behind_job.call_local()
    send_left_behind_job.call_local()
    assert len(list(tmp_path.iterdir())) == 2
    assert [(e.key, e.status) for e in emails(db_session)] == [
        ("test:queue-was-down", EmailStatus.SENT),
        ("test:worker-died", EmailStatus.SENT),
        ("test:just-recorded", EmailStatus.QUEUED),
    ]


def test_a_message_whose_worker_died_on_its_last_try_is_given_up(app, db_session, tmp_path):
    app.config.update(SMTP_HOST=None, MAIL_FOLDER=tmp_path)
    email = record_email(db_session, MESSAGE, "test:last-try")
    email.status, email.claimed_at, email.attempts = EmailStatus.SENDING, datetime.now(UTC) - CLAIM_EXPIRES - timedelta(minutes=1), RETRIES + 1
    db_session.commit()
    send_left_behind_job.call_local()
    assert list(tmp_path.iterdir()) == []
    assert [e.status for e in emails(db_session)] == [EmailStatus.FAILED]
