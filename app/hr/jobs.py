"""The figures' refresh jobs: every minute the learners who changed, every night everything from scratch.

Both run under one lock on the queue (Huey's `lock_task`, kept in Redis in production): a run that finds another one
under way, on any worker of any host, or `speak-digital statistics refresh`, does nothing; the next minute's run picks
up what changed meanwhile.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta

from flask import current_app
from huey import crontab
from huey.exceptions import TaskLockedException
from sqlalchemy.orm import Session

from ..extensions import db
from ..jobs import enqueue_after_commit, job, periodic_job, queue
from . import refresh

log = logging.getLogger(__name__)
LOCK = "hr-figures-refresh"
PERIOD = timedelta(minutes=1)  # how often the workers look for changes (see refresh_figures_job)


def run_once(work: Callable[[Session], refresh.Outcome]) -> refresh.Outcome | None:
    """Run `work` on the job's session unless a refresh is already under way somewhere; None when it is."""
    try:
        with queue.lock_task(LOCK):
            return work(db.session)
    except TaskLockedException:
        log.info("HR figures: a refresh is already under way")
        return None


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
