"""The database: one engine per application and one session per request, committed once at its end.

Views and services only add and flush; `after_request` commits when the response succeeded and rolls back
otherwise, so a request that fails leaves nothing half-saved.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Flask, Response, g
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

SQLITE_BUSY_TIMEOUT_MS = 10_000


def make_engine(url: str) -> Engine:
    """An engine for `url`: SQLite in WAL mode with a busy timeout and foreign keys; PostgreSQL with pre-ping."""
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    return create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=5)


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
        """Commit this request's changes even though it answers with an error (a failed login is recorded)."""
        g.db_keep_changes = True

    def _finish_request(self, response: Response) -> Response:
        session: Session | None = g.get("db_session")
        if session is not None:
            if response.status_code < 400 or g.get("db_keep_changes"):
                session.commit()
                for callback in g.pop("db_after_commit", []):
                    callback()
            else:
                session.rollback()
        return response

    def _close(self, _error: BaseException | None) -> None:
        session: Session | None = g.pop("db_session", None)
        if session is not None:
            session.rollback()
            session.close()


def rowcount(result: Any) -> int:
    """How many rows an UPDATE or DELETE touched (typed results do not declare the attribute)."""
    return int(getattr(result, "rowcount", 0))
