"""The database: one engine per application and one session per request, committed once at its end.

Views and services only add and flush; `after_request` commits when the response succeeded and rolls back
otherwise, so a request that fails leaves nothing half-saved. Ending a session never raises, even when the
connection under it is already gone, so that the error page of a failed request can always be sent.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Callable
from typing import Any

from flask import Flask, Response, g
from sqlalchemy import Engine, create_engine, event, exc, make_url
from sqlalchemy.orm import Session, sessionmaker

log = logging.getLogger(__name__)

SQLITE_BUSY_TIMEOUT_MS = 10_000
# While PostgreSQL is unreachable, a request waits this long for a connection before its 503 page.
POSTGRESQL_CONNECT_TIMEOUT_S = 5
# The SQLite errors that trying again later may cure: another writer holds the file, or it cannot be opened.
SQLITE_UNAVAILABLE = ("SQLITE_BUSY", "SQLITE_LOCKED", "SQLITE_CANTOPEN")


def make_engine(url: str) -> Engine:
    """An engine for `url`: SQLite in WAL mode with a busy timeout and foreign keys; PostgreSQL with pre-ping."""
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    connect_args = {} if "connect_timeout" in make_url(url).query else {"connect_timeout": POSTGRESQL_CONNECT_TIMEOUT_S}
    return create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=5, connect_args=connect_args)


def is_database_unavailable(error: BaseException) -> bool:
    """Whether `error` says the database cannot be reached or is too busy right now, so trying again shortly may work."""
    if isinstance(error, exc.TimeoutError):  # every pooled connection stayed in use
        return True
    if isinstance(error, exc.DBAPIError) and error.connection_invalidated:
        return True
    if not isinstance(error, exc.OperationalError):
        return False
    if isinstance(error.orig, sqlite3.Error):
        # SQLite also reports mistakes in SQL ("no such table") as operational errors.
        return str(getattr(error.orig, "sqlite_errorname", "")).startswith(SQLITE_UNAVAILABLE)
    # PostgreSQL's are all about the server: refused or lost connections, a restart, no connection slot left,
    # a lock or deadlock given up.
    return True


def _sqlite_pragmas(connection: Any, _record: Any) -> None:
    cursor = connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


class Database:
    """Holds the engine and hands each request its own session."""

    def __init__(self) -> None:
        self.engine: Engine | None = None
        self._sessions: sessionmaker[Session] | None = None
        # The page for a request whose commit failed (set by app.errors): answered here, in after_request, since an
        # exception raised there would skip the error handlers wherever Flask propagates exceptions (testing mode).
        self.failed_commit_page: Callable[[BaseException], Response] | None = None

    def init_app(self, app: Flask) -> None:
        """Create the engine and tie the session's lifetime to the request."""
        self.engine = make_engine(app.config["DATABASE_URL"])
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        app.after_request(self._finish_request)
        app.teardown_appcontext(self._close)

    @property
    def session(self) -> Session:
        """The current request's session, opened on first use."""
        if "db_session" not in g:
            if self._sessions is None:
                raise RuntimeError("Database.init_app was not called")
            g.db_session = self._sessions()
        session: Session = g.db_session
        return session

    def after_commit(self, callback: Callable[[], None]) -> None:
        """Run `callback` once this request's changes are committed (to send e-mail only for what was saved)."""
        g.setdefault("db_after_commit", []).append(callback)

    def keep_changes_on_error(self) -> None:
        """Commit this request's changes even though the view answers with an error (a failed login is recorded).

        An exception raised afterwards still discards them: its error page rolls the session back.
        """
        g.db_keep_changes = True

    def discard_session(self) -> None:
        """Roll back and close this request's session, forgetting its changes; never raises."""
        session: Session | None = g.pop("db_session", None)
        g.pop("db_after_commit", None)
        g.pop("db_keep_changes", None)
        if session is not None:
            _without_raising(session.rollback)
            _without_raising(session.close)

    def _finish_request(self, response: Response) -> Response:
        session: Session | None = g.get("db_session")
        if session is None:
            return response
        if response.status_code >= 400 and not g.get("db_keep_changes"):
            self.discard_session()
            return response
        try:
            session.commit()
        except Exception as error:
            self.discard_session()
            if self.failed_commit_page is None:
                raise  # Flask hands it to the error handlers as an InternalServerError: they find a clean slate
            return self.failed_commit_page(error)
        for callback in g.pop("db_after_commit", []):
            callback()
        return response

    def _close(self, _error: BaseException | None) -> None:
        self.discard_session()


def _without_raising(step: Callable[[], object]) -> None:
    try:
        step()
    except Exception as error:  # a lost connection has nothing left to undo, and must not break the response
        log.warning("Could not end a database session cleanly: %s", error)


def rowcount(result: Any) -> int:
    """How many rows an UPDATE or DELETE touched (typed results do not declare the attribute)."""
    return int(getattr(result, "rowcount", 0))
