"""The figures' refresh jobs: every minute the learners who changed, every night everything from scratch.

Every refresh runs under one lease, a row of `statistics_state` claimed by a conditional UPDATE: a run that finds
another one under way, on any worker of any host, or `speak-digital statistics refresh`, does nothing; the next
minute's run picks up what changed meanwhile. A lease lives in the database rather than on the queue so that a
worker killed during a refresh cannot block the figures for good: its lease lapses after LEASE_TIME, longer than
any refresh takes (a full one at 300,000 learners takes about 4 minutes), and the next run takes over.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta

from flask import current_app
from huey import crontab
from sqlalchemy import or_, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..db import rowcount
from ..extensions import db
from ..jobs import enqueue_after_commit, job, periodic_job
from ..models import utcnow
from . import refresh
from .models import StatisticsState

log = logging.getLogger(__name__)
LEASE = "refresh_lease"  # the statistics_state row; its value names the holder, empty when free
LEASE_TIME = timedelta(minutes=15)
PERIOD = timedelta(minutes=1)  # how often the workers look for changes (see refresh_figures_job)


def _ensure_lease_row(session: Session) -> None:
    if session.get(StatisticsState, LEASE) is not None:
        return
    try:
        with session.begin_nested():
            session.add(StatisticsState(name=LEASE, value="", updated_at=utcnow()))
    except IntegrityError:
        pass  # another worker created it at the same moment


def claim_lease(session: Session, holder: str, now: datetime) -> bool:
    """Take the refresh lease for `holder` when nobody holds it or its holder's time ran out; committed at once."""
    _ensure_lease_row(session)
    free = or_(StatisticsState.value == "", StatisticsState.updated_at < now - LEASE_TIME)
    claimed = session.execute(update(StatisticsState).where(StatisticsState.name == LEASE, free).values(value=holder, updated_at=now))
    session.commit()
    return rowcount(claimed) == 1


def release_lease(session: Session, holder: str) -> None:
    """Give the lease back, if `holder` still holds it."""
    session.execute(update(StatisticsState).where(StatisticsState.name == LEASE, StatisticsState.value == holder).values(value=""))
    session.commit()


def run_once(work: Callable[[Session], refresh.Outcome]) -> refresh.Outcome | None:
    """Run `work` on the job's session unless a refresh is already under way somewhere; None when it is."""
    holder = uuid.uuid4().hex
    if not claim_lease(db.session, holder, utcnow()):
        log.info("HR figures: a refresh is already under way")
        return None
    try:
        return work(db.session)
    finally:
        db.session.rollback()  # what the work left uncommitted, if it failed
        release_lease(db.session, holder)


def max_age() -> timedelta:
    """How far behind the records the figures may be (SPEAK_DIGITAL_FIGURES_MAX_AGE, in seconds)."""
    return timedelta(seconds=current_app.config["FIGURES_MAX_AGE"])


@periodic_job(crontab(minute="*"))
def refresh_figures_job() -> None:
    """Every minute, on the workers: bring the figures up to date when they would otherwise grow older than allowed."""
    if refresh.is_due(db.session, max_age(), PERIOD):
        db.session.rollback()  # the check's snapshot is not the refresh's
        run_once(refresh.refresh)


@periodic_job(crontab(minute="17", hour="3"))
def full_refresh_job() -> None:
    """Every night: every figure recomputed from scratch, correcting what was changed outside the application."""
    run_once(refresh.full_refresh)


@job()
def prepare_figures_job() -> None:
    """Asked for by the dashboard when it has no figures yet: the first refresh, unless one is under way."""
    run_once(refresh.refresh)


def prepare_figures_after_commit() -> None:
    """Have the figures prepared by a worker once this request is over; nothing is computed in the request."""
    enqueue_after_commit(prepare_figures_job)
