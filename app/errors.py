"""Friendly error pages: what happened, in plain words, and a way back. Never a traceback."""

from __future__ import annotations

import logging

from flask import Flask, render_template, request
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import OperationalError
from werkzeug.exceptions import HTTPException, InternalServerError

log = logging.getLogger(__name__)

TITLES = {
    400: "Something in the request was not right",
    403: "This page is not for your role",
    404: "Page not found",
    405: "This action is not possible here",
    413: "What you sent is too large",
    429: "Too many attempts",
    503: "The platform is busy",
    500: "Something went wrong on our side",
}
DEFAULT_MESSAGES = {
    403: "Your account does not give access to this page. If you think it should, ask your programme coordinator.",
    404: "The page you asked for does not exist, or no longer does. Check the address, or go back to your home page.",
    405: "This address does not accept that kind of request. Go back and use the buttons on the page.",
    413: "What you sent is larger than the platform accepts (1 MB). Send something smaller.",
    500: "The platform could not finish what you asked. Nothing was saved. Please try again in a moment.",
}
CSRF_MESSAGE = "For your security, this form had expired. Go back, reload the page and send it again."
CSRF_QUIZ_MESSAGE = "For your security, the page had expired. Your answers are kept below: check them and submit the quiz again."


def render_error(status: int, message: str | None = None) -> tuple[str, int]:
    """The error page for `status`, with `message` or the usual one."""
    text = message or DEFAULT_MESSAGES.get(status) or TITLES.get(status, "Error")
    return render_template("error.html", status=status, title=TITLES.get(status, "Error"), message=text), status


def register(app: Flask) -> None:
    """Install the handlers."""

    @app.errorhandler(CSRFError)
    def csrf_error(_error: CSRFError) -> tuple[str, int]:
        if request.endpoint == "learn.submit" and request.view_args:
            from .learn import render_module_with_kept_answers

            args = request.view_args
            try:
                return render_module_with_kept_answers(args["module_id"], args["quiz_id"], CSRF_QUIZ_MESSAGE, []), 400
            except HTTPException:
                pass  # an unknown module: the plain message below says what to do
        return render_error(400, CSRF_MESSAGE)

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException) -> tuple[str, int]:
        status = error.code or 500
        description = error.description if status in (400, 404) and error.description != type(error).description else None
        return render_error(status, description)

    @app.errorhandler(OperationalError)
    def database_busy(error: OperationalError) -> tuple[str, int]:
        # SQLite answers "database is locked" when many people write at once: ask to try again.
        log.warning("Database unavailable on %s %s: %s", request.method, request.path, error)
        return render_error(503, "The platform is very busy right now. Nothing was saved. Please try again in a moment.")

    @app.errorhandler(Exception)
    def unexpected_error(error: Exception) -> tuple[str, int]:
        log.exception("Unhandled error on %s %s", request.method, request.path, exc_info=error)
        return render_error(InternalServerError.code)
