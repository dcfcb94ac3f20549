"""Health checks for load balancers and monitoring: `/healthz` says the process answers, `/readyz` that it can work.

Neither renders a page nor needs a signed-in user; `/readyz` asks the database and the job queue each one cheap
question, so that a load balancer stops sending requests to a process that cannot serve them.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from flask import Blueprint, Response, jsonify
from sqlalchemy import text

from .extensions import db
from .jobs import queue

blueprint = Blueprint("health", __name__)
log = logging.getLogger(__name__)


@blueprint.route("/readyz")
def ready() -> tuple[Response, int]:
    """200 when the database and the queue both answer; 503, saying which did not, otherwise."""
    checks = {"database": _check(_database_answers), "queue": _check(_queue_answers)}
    status = 200 if all(state == "ok" for state in checks.values()) else 503
    response = jsonify(checks)
    if status == 503:
        response.headers["Retry-After"] = "5"
    return response, status


def _check(probe: Callable[[], None]) -> str:
    try:
        probe()
    except Exception as error:  # whatever the cause, the answer is "not ready"; the log says why
        log.warning("Readiness check %s failed: %s", getattr(probe, "__name__", probe), error)
        return "unavailable"
    return "ok"


def _database_answers() -> None:
    db.session.execute(text("SELECT 1"))


def _queue_answers() -> None:
    queue.storage.queue_size()
