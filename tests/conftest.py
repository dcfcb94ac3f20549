"""Fixtures shared by the web and browser tests: one migrated database per run, emptied of people after each test.

The database is SQLite in a temporary folder, or the one named by TEST_DATABASE_URL (PostgreSQL in CI).
The course is imported once per run; tests that change content use a database of their own.
"""

from __future__ import annotations

import os
import re
import threading
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Connection, Engine, delete, func, select, update
from sqlalchemy.orm import Session

from app import create_app
from app.authoring.content import import_catalog
from app.db import make_engine
from app.hr import refresh
from app.hr.models import Contribution, CountedLearner, DailyCount, StatisticsState
from app.migrate import drop_every_table, upgrade
from app.models import (
    Booking,
    EmailAttempt,
    LiveSession,
    LoginFailure,
    MediaFile,
    MentorProfile,
    ModuleProgress,
    ModuleRecord,
    ModuleRevision,
    Notification,
    OutboundEmail,
    PeopleImport,
    QuestionAnswer,
    QuizAttempt,
    ReachedLearner,
    ReminderSent,
    RevisionOrigin,
    Role,
    SessionFeedback,
    SessionHost,
    SessionStatus,
    User,
)
from app.security import hash_password
from course import load_catalog
from course.sessions import SessionFormat

ROOT = Path(__file__).resolve().parent.parent
CONTENT = ROOT / "content"
PASSWORD = "correct horse battery"
# In an order that respects foreign keys.
PEOPLE_TABLES = (
    EmailAttempt,
    OutboundEmail,
    SessionFeedback,
    ReminderSent,
    Notification,
    Booking,
    ReachedLearner,
    SessionHost,
    LiveSession,
    MentorProfile,
    QuestionAnswer,
    QuizAttempt,
    ModuleProgress,
    DailyCount,
    Contribution,
    CountedLearner,
    StatisticsState,
    MediaFile,
    LoginFailure,
    PeopleImport,
    User,  # last: everything above may refer to people
)
CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="csrf_token"')


def prepare_database(url: str, content: Path = CONTENT) -> Engine:
    """A database at `url` migrated to head with the course at `content` imported."""
    engine = make_engine(url)
    drop_every_table(engine)
    upgrade(engine)
    with Session(engine) as session:
        import_catalog(session, load_catalog(content))
        session.commit()
    return engine


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The run's database: TEST_DATABASE_URL, or a fresh SQLite file."""
    url = os.environ.get("TEST_DATABASE_URL") or f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.sqlite'}"
    engine = prepare_database(url)
    yield url
    engine.dispose()


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    """An engine on the run's database; people and their records are removed after the test."""
    engine = make_engine(database_url)
    yield engine
    with engine.begin() as connection:
        for table in PEOPLE_TABLES[:-1]:
            connection.execute(delete(table))
        restore_imported_content(connection)  # editor revisions name their authors: gone before the people
        connection.execute(delete(User))
    engine.dispose()


def restore_imported_content(connection: Connection) -> None:
    """Undo what the editor or a test did: every module back on its newest imported revision, editor revisions and new modules gone."""
    imported = dict(
        connection.execute(
            select(ModuleRevision.module_id, func.max(ModuleRevision.id))
            .where(ModuleRevision.origin == RevisionOrigin.IMPORT)
            .group_by(ModuleRevision.module_id)
        ).all()
    )
    current = dict(connection.execute(select(ModuleRecord.id, ModuleRecord.current_revision_id)).all())
    for module_id in [m for m, revision in current.items() if revision != imported.get(m)]:
        connection.execute(update(ModuleRecord).where(ModuleRecord.id == module_id).values(current_revision_id=imported.get(module_id)))
    connection.execute(delete(ModuleRevision).where(ModuleRevision.origin == RevisionOrigin.EDITOR))
    connection.execute(delete(ModuleRecord).where(ModuleRecord.id.not_in(list(imported))))


@pytest.fixture
def app(engine: Engine, database_url: str) -> Iterator[Flask]:
    """The application in testing mode on the run's database."""
    application = create_app("testing", {"DATABASE_URL": database_url})
    yield application
    from app.extensions import db

    if db.engine is not None:
        db.engine.dispose()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    """A browser-like client."""
    return app.test_client()


@pytest.fixture
def refresh_figures(engine: Engine) -> Callable[..., refresh.Outcome]:
    """Bring the HR figures up to date as the refresh job does; tests call it before they read figures."""

    def run(full: bool = False) -> refresh.Outcome:
        with Session(engine) as session:
            return (refresh.full_refresh if full else refresh.refresh)(session)

    return run


@pytest.fixture
def db_session(engine: Engine) -> Iterator[Session]:
    """A session for arranging and checking data outside requests."""
    with Session(engine, expire_on_commit=False) as session:
        yield session


def csrf_token(html: str) -> str:
    """The CSRF token of the first form in a page."""
    match = CSRF_RE.search(html)
    assert match, "the page has no CSRF token"
    return match.group(1) or match.group(2)


@dataclass
class People:
    """Creates accounts and signs them in through the real login form."""

    app: Flask
    session: Session

    def create(
        self,
        role: Role = Role.LEARNER,
        email: str | None = None,
        name: str = "Pat Example",
        password: str = PASSWORD,
        site: str = "Lyon",
        department: str | None = None,
    ) -> User:
        """An account with `role`."""
        with self.app.app_context():
            password_hash = hash_password(password)
        count = self.session.query(User).count()
        email = email or f"{role.value}{count}@example.test"
        user = User(email=email, name=name, site=site, department=department, role=role, password_hash=password_hash)
        self.session.add(user)
        self.session.commit()
        return user

    def login(self, client: FlaskClient, user: User, password: str = PASSWORD) -> None:
        """Sign `user` in on `client` through the login form with its CSRF token."""
        page = client.get("/login")
        response = client.post(
            "/login", data={"email": user.email, "password": password, "csrf_token": csrf_token(page.get_data(as_text=True))}
        )
        assert response.status_code == 302, response.get_data(as_text=True)[:500]


def run_at_once(actions: list[Callable[[], object]]) -> list[Exception]:
    """Run each action on its own thread, all released together by a barrier; the errors they raised."""
    barrier = threading.Barrier(len(actions))
    errors: list[Exception] = []

    def run(action: Callable[[], object]) -> None:
        try:
            barrier.wait()
            action()
        except Exception as error:  # returned to the test, which asserts there is none
            errors.append(error)

    threads = [threading.Thread(target=run, args=(action,)) for action in actions]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return errors


def add_live_session(
    db_session: Session,
    hosts: list[User],
    starts_at: datetime,
    *,
    fmt: SessionFormat = SessionFormat.COLLECTIVE,
    capacity: int = 5,
    minutes: int = 90,
    site: str | None = "Lyon",
    room: str | None = "Room 4.01",
    video_url: str | None = None,
    note: str | None = None,
    status: SessionStatus = SessionStatus.SCHEDULED,
    uid: str | None = None,
) -> LiveSession:
    """A saved live session on theme 1 led by `hosts`, the first of them organising it."""
    live_session = LiveSession(
        uid=uid or f"test-{uuid.uuid4()}@speak-digital",
        theme_id="information-management",
        format=fmt,
        capacity=1 if fmt is SessionFormat.INDIVIDUAL else capacity,
        starts_at=starts_at,
        duration_minutes=minutes,
        time_zone="Europe/Paris",
        site=site,
        room=room,
        video_url=video_url,
        note=note,
        status=status,
        created_by_id=hosts[0].id,
        hosts=[SessionHost(mentor_id=host.id, position=index) for index, host in enumerate(hosts)],
    )
    db_session.add(live_session)
    db_session.commit()
    return live_session


@pytest.fixture
def people(app: Flask, db_session: Session) -> People:
    """Account helpers bound to this test's app and database."""
    return People(app, db_session)


@pytest.fixture
def learner(people: People) -> User:
    """A learner account."""
    return people.create(Role.LEARNER, name="Martine Learner")


@pytest.fixture
def learner_client(client: FlaskClient, people: People, learner: User) -> FlaskClient:
    """A client signed in as the learner."""
    people.login(client, learner)
    return client
