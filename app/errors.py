"""Friendly error pages: what happened, in plain words, and a way back. Never a traceback.

The pages never need the database, so that they still render after a failed flush or while the database is down:
each handler first discards the request's session, and the error layout leaves out the signed-in navigation, which
would load the account. A database that cannot be reached or is too busy gets a 503 asking to try again shortly.
"""

from __future__ import annotations

import logging

from flask import Flask, current_app, render_template, request
from flask.typing import ResponseReturnValue
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import DBAPIError
from werkzeug.exceptions import HTTPException, InternalServerError

from .db import is_database_unavailable
from .extensions import db

log = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = 5

TITLES = {
    400: "Something in the request was not right",
    403: "This page is not for your role",
    404: "Page not found",
    405: "This action is not possible here",
    413: "What you sent is too large",
    429: "Too many attempts",
    503: "The platform cannot answer right now",
    500: "Something went wrong on our side",
}
DEFAULT_MESSAGES = {
    403: "Your account does not give access to this page. If you think it should, ask your programme coordinator.",
    404: "The page you asked for does not exist, or no longer does. Check the address, or go back to your home page.",
    405: "This address does not accept that kind of request. Go back and use the buttons on the page.",
    413: "What you sent is larger than the 1 MB a form can carry. Send something smaller: a module's source, for one, holds at most 200,000 characters.",
    500: "The platform could not finish what you asked. Nothing was saved. Please try again in a moment.",
    503: "It is very busy or restarting. Nothing was saved. Please try again in a few seconds.",
}
CSRF_MESSAGE = "For your security, this form had expired. Go back, reload the page and send it again."


def render_error(status: int, message: str | None = None) -> tuple[str, int]:
    """The error page for `status`, with `message` or the usual one; it reads nothing from the database."""
    text = message or DEFAULT_MESSAGES.get(status) or TITLES.get(status, "Error")
    # Only a GET is safe to send again as it is.
    offer_retry = status == 503 and request.method == "GET"
    page = render_template("error.html", status=status, title=TITLES.get(status, "Error"), message=text, offer_retry=offer_retry)
    return page, status


def render_expired_form() -> ResponseReturnValue:
    """The 400 page for a form whose CSRF token had expired or was missing."""
    db.discard_session()
    return render_error(400, CSRF_MESSAGE)


def render_failure(error: BaseException, *, already_logged: bool = False) -> ResponseReturnValue:
    """The page for a request that failed on `error`: 503 while the database is unavailable, 500 otherwise."""
    db.discard_session()
    if is_database_unavailable(error):
        if not already_logged:
            log.warning("Database unavailable on %s %s: %s", request.method, request.path, _summary(error))
        page, status = render_error(503)
        return page, status, {"Retry-After": str(RETRY_AFTER_SECONDS)}
    if not already_logged:
        log.exception("Unhandled error on %s %s", request.method, request.path, exc_info=error)
    return render_error(InternalServerError.code)


def _summary(error: BaseException) -> str:
    # The driver's first line says what happened; the statement and its parameters stay out of the log.
    cause = error.orig if isinstance(error, DBAPIError) else error
    lines = str(cause).strip().splitlines()
    return f"{type(cause).__name__}: {lines[0] if lines else ''}"


def _headers_of(error: HTTPException) -> list[tuple[str, str]]:
    # Allow for a 405, Retry-After when set; the page brings its own Content-Type.
    return [(name, value) for name, value in error.get_headers() if name.lower() != "content-type"]


def register(app: Flask) -> None:
    """Install the handlers."""
    db.failed_commit_page = lambda error: current_app.make_response(render_failure(error))

    @app.errorhandler(CSRFError)
    def csrf_error(_error: CSRFError) -> ResponseReturnValue:
        return render_expired_form()

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException) -> ResponseReturnValue:
        if isinstance(error, InternalServerError) and error.original_exception is not None:
            # Raised outside the view (an after_request function): Flask has logged it already.
            return render_failure(error.original_exception, already_logged=True)
        db.discard_session()
        status = error.code or 500
        # A view's own words say what to do (any status); Werkzeug's stock descriptions give way to the platform's.
        description = error.description if error.description != type(error).description else None
        page, status = render_error(status, description)
        return page, status, _headers_of(error)

    @app.errorhandler(Exception)
    def unexpected_error(error: Exception) -> ResponseReturnValue:
        return render_failure(error)
