"""The e-mail outbox: every message is recorded in the transaction that calls for it, then sent by a job.

A message is recorded under an idempotency key (the notification or reminder it carries), so that recording it
twice records it once. The job claims it with a conditional UPDATE before handing it to the mail server, and marks it
sent after: two deliveries of the job, or two workers, never send it twice. A failure is recorded with its reason and
the job is tried again with growing delays (1, 2, 4 ... minutes, about four hours in all) before the message is
given up as failed. A message left behind, because its job never reached the queue (the queue was down at commit)
or its worker died while sending, is found by `send_left_behind_job` every five minutes and sent then. One case
stays open, as with any mail client: a worker that dies after the server accepted the
message and before it was marked sent; the message is then sent again after `CLAIM_EXPIRES`, with the same
Message-ID, which lets mail servers and clients recognise the duplicate.
"""

from __future__ import annotations

import hashlib
import logging
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from huey import crontab
from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import Session

from ..db import rowcount
from ..extensions import db
from ..jobs import job, periodic_job
from ..models import EmailAttempt, EmailStatus, OutboundEmail, utcnow
from .mail import OutgoingMessage, deliver

log = logging.getLogger(__name__)
# A claim older than this belongs to a worker that died while sending: the message may be tried again.
CLAIM_EXPIRES = timedelta(minutes=15)
# A message never tried this long after it was recorded lost its job: the queue did not take it.
NEVER_TRIED_AFTER = timedelta(minutes=10)
SWEEP_BATCH = 500
RETRIES = 8
ERROR_CHARS = 500


def record_email(session: Session, message: OutgoingMessage, key: str) -> OutboundEmail | None:
    """Record `message` to be sent once under `key`; None when a message with that key was recorded already."""
    if session.scalar(select(OutboundEmail.id).where(OutboundEmail.key == key)) is not None:
        return None
    email = OutboundEmail(
        key=key,
        recipient=message.to,
        subject=message.subject,
        text=message.text,
        calendar=message.calendar,
        calendar_method=message.calendar_method,
    )
    session.add(email)
    session.flush()
    return email


def send_after_commit(email: OutboundEmail | None) -> None:
    """Have the job send `email` once the current request has committed."""
    if email is not None:
        email_id = email.id
        db.after_commit(lambda: send_email(email_id))


def message_id(email: OutboundEmail, sender: str) -> str:
    """The same Message-ID at every try, so that a duplicate can be recognised."""
    domain = sender.rpartition("@")[2].rstrip(">") or "speak-digital.invalid"
    return f"<{hashlib.sha256(email.key.encode()).hexdigest()[:32]}@{domain}>"


@job(retries=RETRIES, retry_delay=60, retry_backoff=2, context=True)
def send_email(email_id: int, task: Any = None) -> None:
    """Send one recorded e-mail unless it was sent already; a failure is recorded and raised, so the queue tries again."""
    session = db.session
    email = claim(session, email_id)
    if email is None:
        return
    config = current_app.config
    outgoing = OutgoingMessage(email.recipient, email.subject, email.text, email.calendar, email.calendar_method)
    try:
        deliver(outgoing, config, message_id=message_id(email, config["MAIL_FROM"]))
    except Exception as error:
        last_try = task is None or not task.retries
        log.warning("Could not send e-mail %s (try %s): %s", email_id, email.attempts, error)
        _record_attempt(session, email, EmailStatus.FAILED if last_try else EmailStatus.QUEUED, f"{type(error).__name__}: {error}")
        raise
    _record_attempt(session, email, EmailStatus.SENT)


def claim(session: Session, email_id: int) -> OutboundEmail | None:
    """Mark the e-mail as being sent, in one conditional UPDATE committed at once; None when it is not ours to send."""
    now = utcnow()
    claimable = or_(
        OutboundEmail.status == EmailStatus.QUEUED,
        (OutboundEmail.status == EmailStatus.SENDING) & (OutboundEmail.claimed_at < now - CLAIM_EXPIRES),
    )
    claimed = session.execute(
        update(OutboundEmail)
        .where(OutboundEmail.id == email_id, claimable)
        .values(status=EmailStatus.SENDING, claimed_at=now, attempts=OutboundEmail.attempts + 1)
        .execution_options(synchronize_session=False)
    )
    session.commit()
    if not rowcount(claimed):
        return None
    return session.get(OutboundEmail, email_id, populate_existing=True)


def _record_attempt(session: Session, email: OutboundEmail, status: EmailStatus, error: str | None = None) -> None:
    session.add(EmailAttempt(email_id=email.id, succeeded=status is EmailStatus.SENT, error=error[:ERROR_CHARS] if error else None))
    email.status = status
    if status is EmailStatus.SENT:
        email.sent_at = utcnow()
    session.commit()


def left_behind(session: Session, now: datetime) -> list[int]:
    """Messages no job will send: never tried long after they were recorded, or claimed by a worker that died."""
    never_tried = and_(OutboundEmail.status == EmailStatus.QUEUED, OutboundEmail.attempts == 0, OutboundEmail.created_at < now - NEVER_TRIED_AFTER)
    claim_lapsed = and_(OutboundEmail.status == EmailStatus.SENDING, OutboundEmail.claimed_at < now - CLAIM_EXPIRES)
    query = select(OutboundEmail.id).where(or_(never_tried, claim_lapsed)).order_by(OutboundEmail.id).limit(SWEEP_BATCH)
    return list(session.scalars(query))


def give_up_exhausted(session: Session, now: datetime) -> int:
    """Messages whose worker died on their last try are given up as failed, as a last failed try would be."""
    exhausted = update(OutboundEmail).where(
        OutboundEmail.status == EmailStatus.SENDING, OutboundEmail.claimed_at < now - CLAIM_EXPIRES, OutboundEmail.attempts > RETRIES
    )
    return rowcount(session.execute(exhausted.values(status=EmailStatus.FAILED).execution_options(synchronize_session=False)))


@periodic_job(crontab(minute="*/5"))
def send_left_behind_job() -> None:
    """Every five minutes, on the workers: send again what no job will send (see `left_behind`)."""
    now = utcnow()
    given_up = give_up_exhausted(db.session, now)
    ids = left_behind(db.session, now)
    db.session.commit()
    for email_id in ids:
        send_email(email_id)  # the claim decides: a message another worker took meanwhile is not sent twice
    if ids or given_up:
        log.info("E-mails left behind: %s queued again, %s given up.", len(ids), given_up)
