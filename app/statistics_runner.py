"""Moving learners to a new version of the course in the background, once the change of course is committed.

A change of course (a module published for the first time, moved or withdrawn) only records a new version at once
(see statistics.ensure_current); learners are then moved to it a committed batch at a time, so that nobody waits:
not the mentor who published, not HR, not the learners, whose progress is recorded meanwhile under the version they
are at. Each process runs one such job at a time; several processes share the work safely, because each batch locks
its learners and skips those another process moved first.
"""

from __future__ import annotations

import logging
import threading

from flask import Flask, current_app
from sqlalchemy.orm import sessionmaker

from . import statistics
from .extensions import db

log = logging.getLogger(__name__)
_running = threading.Lock()


def catch_up_after_commit() -> None:
    """Once this request's changes are committed, move learners to the course they published."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]

    def start_job() -> None:
        start(app)

    db.after_commit(start_job)


def start(app: Flask) -> threading.Thread | None:
    """Move learners to the current course in a background thread (inline when the app is configured so)."""
    if app.config["STATISTICS_CATCH_UP"] == "inline":
        run(app)
        return None
    thread = threading.Thread(target=run, args=(app,), name="statistics-catch-up", daemon=True)
    thread.start()
    return thread


def run(app: Flask) -> int:
    """Move every learner to the current course, unless this process is already doing it; the number moved."""
    if not _running.acquire(blocking=False):
        return 0  # the job already running re-reads the current version before each batch
    try:
        with app.app_context():
            if db.engine is None:
                raise RuntimeError("Database.init_app was not called")
            moved = statistics.catch_up(sessionmaker(db.engine, expire_on_commit=False))
            log.info("HR statistics: %d people moved to the current course", moved)
            return moved
    except Exception:
        # Nobody waits for this thread to report to: the dashboard keeps saying the figures are being brought up to
        # date, and its next view starts the job again.
        log.exception("HR statistics: moving learners to the current course failed")
        return 0
    finally:
        _running.release()
