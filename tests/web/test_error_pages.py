"""Error pages that cannot fail: every error page renders without the database, and a database that is down or
cut off answers the platform's 503 page, never the server's bare one; the platform recovers by itself."""

from __future__ import annotations

import logging
import os
import sqlite3
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field

import pytest
from flask import abort
from flask_login import current_user
from sqlalchemy import event, func, make_url, select, text
from sqlalchemy.exc import IntegrityError, OperationalError, PendingRollbackError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from sqlalchemy.orm import sessionmaker

from app import create_app
from app.db import is_database_unavailable, make_engine
from app.errors import DEFAULT_MESSAGES, RETRY_AFTER_SECONDS, TITLES
from app.extensions import db
from app.models import Role, User

from ..conftest import csrf_token, run_at_once
from .test_learning import answers_for, quiz_of

# Nothing listens on the discard port: connecting is refused at once, as while PostgreSQL restarts.
CLOSED_PORT_URL = "postgresql+psycopg://postgres@127.0.0.1:9/test?connect_timeout=2"
APPLICATION_NAME = f"speak-digital-error-pages-{os.getpid()}"
BARE_PAGE = "<h1>Internal Server Error</h1>"  # what Werkzeug answers when the platform's handlers fail
postgresql_only = pytest.mark.skipif(
    not os.environ.get("TEST_DATABASE_URL", "").startswith("postgresql"),
    reason="cuts PostgreSQL connections; CI runs it with TEST_DATABASE_URL",
)


def named_url(url: str) -> str:
    """`url` with this module's application name on PostgreSQL, so that a test cuts only this app's connections."""
    if not url.startswith("postgresql"):
        return url
    return make_url(url).update_query_dict({"application_name": APPLICATION_NAME}).render_as_string(hide_password=False)


@pytest.fixture
def app(engine, database_url):
    """The application as production runs it: an exception that no handler takes becomes a page, not a test error."""
    application = create_app("testing", {"DATABASE_URL": named_url(database_url), "PROPAGATE_EXCEPTIONS": False})
    application.add_url_rule("/test/abort/<int:status>", "abort_after_reading", abort_after_reading)
    application.add_url_rule("/test/duplicate-account", "duplicate_account", duplicate_account)
    application.add_url_rule("/test/keep-going-after-failed-flush", "keep_going", keep_going_after_failed_flush)
    application.add_url_rule("/test/database-locked", "database_locked", database_locked)
    application.add_url_rule("/test/rename", "rename", rename_signed_in_user)
    yield application
    if db.engine is not None:
        db.engine.dispose()


def abort_after_reading(status: int) -> str:
    """Read the signed-in account, then fail with `status`."""
    assert current_user.name
    db.session.scalar(select(func.count(User.id)))
    abort(status)


def duplicate_account() -> str:
    """A flush that fails: a second account with the signed-in person's e-mail address."""
    me = current_user
    db.session.add(User(email=me.email, name="Twin", site=me.site, role=Role.LEARNER, password_hash=me.password_hash))
    db.session.flush()
    return "unreachable"


def keep_going_after_failed_flush() -> str:
    """A service that swallows a failed flush and uses the broken session again."""
    with suppress(IntegrityError):
        duplicate_account()
    db.session.scalar(select(func.count(User.id)))
    return "unreachable"


def database_locked() -> str:
    """Read the account, then meet SQLite's "database is locked" from another writer."""
    assert current_user.name
    raise OperationalError("UPDATE users SET name=?", {}, LOCKED_ERRORS[0])


def rename_signed_in_user() -> str:
    """A change committed in after_request."""
    current_user.name = "Renamed"
    return "renamed"


LOCKED_ERRORS: list[sqlite3.OperationalError] = []


@pytest.fixture(scope="module", autouse=True)
def sqlite_locked_error(tmp_path_factory) -> sqlite3.OperationalError:
    """A real "database is locked" from SQLite: a second writer while another holds the file."""
    path = tmp_path_factory.mktemp("locked") / "locked.sqlite"
    holder = sqlite3.connect(path, timeout=0, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    other = sqlite3.connect(path, timeout=0, isolation_level=None)
    with pytest.raises(sqlite3.OperationalError) as caught:
        other.execute("BEGIN EXCLUSIVE")
    holder.close()
    other.close()
    LOCKED_ERRORS[:] = [caught.value]
    return caught.value


@dataclass
class StatementsAfterError:
    """The SQL statements the app sends once it starts handling an error, until the response is sent."""

    handling: bool = False
    sent: list[str] = field(default_factory=list)

    def record(self, _connection, _cursor, statement, *_args) -> None:
        """An engine listener: keep `statement` if an error is being handled."""
        if self.handling:
            self.sent.append(statement)


@pytest.fixture
def statements_after_error(app, monkeypatch) -> Iterator[StatementsAfterError]:
    """Counts the statements sent from the moment Flask hands an exception to the error handlers."""
    recorder = StatementsAfterError()
    for name in ("handle_user_exception", "handle_exception"):
        original = getattr(app, name)

        def marked(error, _original=original):
            recorder.handling = True
            return _original(error)

        monkeypatch.setattr(app, name, marked)
    event.listen(db.engine, "before_cursor_execute", recorder.record)
    yield recorder
    event.remove(db.engine, "before_cursor_execute", recorder.record)


@contextmanager
def database_down() -> Iterator[list[object]]:
    """Inside, the running app's database is a closed port, as if it had just stopped; yields the connection attempts."""
    dead = make_engine(CLOSED_PORT_URL)
    attempts: list[object] = []
    event.listen(dead, "do_connect", lambda *_args: attempts.append(1))
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(db, "engine", dead)
        patch.setattr(db, "_sessions", sessionmaker(dead, expire_on_commit=False))
        yield attempts
    dead.dispose()


def assert_platform_error_page(response, status: int) -> str:
    """`response` is the platform's own error page for `status`, in its layout and without the signed-in navigation."""
    page = response.get_data(as_text=True)
    assert response.status_code == status, page[:400]
    assert BARE_PAGE not in page
    for landmark in (
        'class="skip-link" href="#main"',
        '<header class="site-header">',
        '<main id="main"',
        '<footer class="site-footer">',
    ):
        assert landmark in page
    assert f"<h1>{TITLES[status]}</h1>" in page
    assert f"Error {status}" in page
    assert "Go to my home page" in page
    assert "Sign out" not in page  # the navigation would load the account
    assert "Traceback" not in page
    return page


def assert_unavailable_page(response) -> str:
    """`response` is the friendly 503: try again in a few seconds, nothing was saved."""
    page = assert_platform_error_page(response, 503)
    assert response.headers["Retry-After"] == str(RETRY_AFTER_SECONDS)
    assert "Nothing was saved" in page
    assert DEFAULT_MESSAGES[503] in page
    return page


def warnings_and_errors(caplog) -> list[logging.LogRecord]:
    """What the request logged at WARNING or above."""
    return [record for record in caplog.records if record.levelno >= logging.WARNING]


# Each error a signed-in person can meet, caused the way it happens on the platform where one can.
ERROR_REQUESTS = [
    pytest.param(400, "post", "/account/password", {"current": "x"}, id="400-expired-form"),
    pytest.param(403, "get", "/hr/", None, id="403-not-for-this-role"),
    pytest.param(404, "get", "/no-such-page", None, id="404-unknown-address"),
    pytest.param(404, "get", "/modules/no-such-module", None, id="404-unknown-module"),
    pytest.param(405, "post", "/themes", {}, id="405-wrong-method"),
    pytest.param(413, "post", "/modules/search-like-a-pro/quizzes/x", {"q-x": "x" * (2 * 1024 * 1024)}, id="413-too-large"),
    pytest.param(429, "get", "/test/abort/429", None, id="429-too-many"),
    pytest.param(500, "get", "/test/duplicate-account", None, id="500-failed-flush"),
    pytest.param(500, "get", "/test/keep-going-after-failed-flush", None, id="500-broken-session-used-again"),
    pytest.param(503, "get", "/test/database-locked", None, id="503-database-locked"),
]


@pytest.mark.parametrize(("status", "method", "url", "data"), ERROR_REQUESTS)
def test_each_error_page_renders_for_a_signed_in_person_without_any_sql(
    client, people, learner, statements_after_error, status, method, url, data
):
    people.login(client, learner)
    response = getattr(client, method)(url, data=data)
    assert_platform_error_page(response, status)
    assert statements_after_error.handling
    assert statements_after_error.sent == []


def test_a_405_page_says_which_methods_the_address_takes(learner_client):
    response = learner_client.post("/themes")
    assert_platform_error_page(response, 405)
    assert "GET" in response.headers["Allow"]


def test_a_failed_flush_gives_the_500_page_logged_once_and_saves_nothing(client, people, learner, db_session, caplog):
    people.login(client, learner)
    response = client.get("/test/duplicate-account")
    page = assert_platform_error_page(response, 500)
    assert "Nothing was saved" in page
    assert "IntegrityError" not in page
    logged = warnings_and_errors(caplog)
    assert len(logged) == 1
    assert logged[0].exc_info is not None  # the traceback goes to the log, not the page
    assert db_session.scalar(select(func.count(User.id)).where(User.email == learner.email)) == 1
    assert client.get("/").status_code == 200


def test_a_database_that_is_down_when_the_platform_starts_gives_visitors_the_503_page(engine):
    application = create_app("testing", {"DATABASE_URL": CLOSED_PORT_URL, "PROPAGATE_EXCEPTIONS": False})
    client = application.test_client()
    sign_in = client.get("/login")  # needs no database
    assert sign_in.status_code == 200
    token = csrf_token(sign_in.get_data(as_text=True))
    started = time.monotonic()
    response = client.post("/login", data={"email": "someone@example.test", "password": "a long passphrase", "csrf_token": token})
    assert_unavailable_page(response)
    assert time.monotonic() - started < 5
    register = client.get("/register")
    form = {"name": "New Person", "email": "new@example.test", "password": "a long passphrase", "confirm": "a long passphrase"}
    assert_unavailable_page(
        client.post("/register", data=form | {"site": "Lyon", "csrf_token": csrf_token(register.get_data(as_text=True))})
    )
    assert client.get("/healthz").get_data(as_text=True) == "ok"
    db.engine.dispose()


def test_a_database_that_goes_down_gives_signed_in_people_the_503_page_logged_once(client, people, learner, caplog):
    people.login(client, learner)
    module_page = client.get("/modules/search-like-a-pro").get_data(as_text=True)
    with database_down() as attempts:
        for method, url, data in [
            ("get", "/", None),
            ("get", "/themes", None),
            ("get", "/my-sessions", None),
            ("post", "/modules/search-like-a-pro/done", {"csrf_token": csrf_token(module_page)}),
        ]:
            caplog.clear()
            page = assert_unavailable_page(getattr(client, method)(url, data=data))
            assert ("Try again" in page) == (method == "get")  # a form is not sent again behind the person's back
            logged = warnings_and_errors(caplog)
            assert [(record.name, record.exc_info) for record in logged] == [("app.errors", None)], logged
        assert attempts
    assert client.get("/").status_code == 200  # back by itself, same application


def test_healthz_answers_without_touching_the_database(client, people, learner):
    people.login(client, learner)
    anonymous = client.application.test_client()
    with database_down() as attempts:
        for visitor in (client, anonymous):
            response = visitor.get("/healthz")
            assert (response.status_code, response.get_data(as_text=True)) == (200, "ok")
    assert attempts == []


def test_a_commit_that_fails_in_after_request_gives_the_503_page_and_saves_nothing(client, people, learner, db_session, caplog):
    people.login(client, learner)

    def locked_on_update(_connection, _cursor, statement, parameters, *_args):
        if statement.startswith("UPDATE users"):
            raise OperationalError(statement, parameters, LOCKED_ERRORS[0])

    event.listen(db.engine, "before_cursor_execute", locked_on_update)
    caplog.clear()
    response = client.get("/test/rename")
    event.remove(db.engine, "before_cursor_execute", locked_on_update)
    assert_unavailable_page(response)
    assert len(warnings_and_errors(caplog)) == 1  # the failed commit is logged once, by the page that answers it
    assert db_session.scalar(select(User.name).where(User.id == learner.id)) == learner.name
    assert client.get("/").status_code == 200


def test_only_an_unreachable_or_busy_database_counts_as_unavailable(sqlite_locked_error, tmp_path):
    with pytest.raises(OperationalError) as refused:
        make_engine(CLOSED_PORT_URL).connect()
    no_table = sqlite3.connect(tmp_path / "empty.sqlite")
    with pytest.raises(sqlite3.OperationalError) as mistake:
        no_table.execute("SELECT * FROM nowhere")
    no_table.close()
    assert is_database_unavailable(refused.value)
    assert is_database_unavailable(OperationalError("COMMIT", {}, sqlite_locked_error))
    assert is_database_unavailable(PoolTimeoutError("QueuePool limit reached"))
    assert not is_database_unavailable(OperationalError("SELECT * FROM nowhere", {}, mistake.value))
    assert not is_database_unavailable(IntegrityError("INSERT", {}, sqlite3.IntegrityError("UNIQUE constraint failed")))
    assert not is_database_unavailable(PendingRollbackError("rolled back"))
    assert not is_database_unavailable(RuntimeError("database"))


def terminate_app_connections(connection, only_pid: int | None = None) -> int:
    """End this app's PostgreSQL connections (only `only_pid`, if given), waiting until they are gone; how many."""
    pids = connection.scalars(
        text(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() AND application_name = :name"
        ),
        {"name": APPLICATION_NAME},
    ).all()
    ended = sum(
        bool(connection.scalar(text("SELECT pg_terminate_backend(:pid, 5000)"), {"pid": pid}))
        for pid in pids
        if only_pid in (None, pid)
    )
    connection.commit()
    return ended


@postgresql_only
def test_a_connection_cut_mid_request_gives_the_503_page_and_the_next_request_succeeds(
    app, client, people, learner, engine, db_session, caplog
):
    def cut_mid_request() -> str:
        current_user.name = "Renamed"
        db.session.flush()
        with engine.connect() as admin:
            assert terminate_app_connections(admin, db.session.scalar(text("SELECT pg_backend_pid()"))) == 1
        return "renamed"  # the commit in after_request finds its connection gone

    app.add_url_rule("/test/cut", "cut", cut_mid_request)
    people.login(client, learner)
    caplog.clear()
    assert_unavailable_page(client.get("/test/cut"))
    assert len(warnings_and_errors(caplog)) == 1  # Flask logs what the commit raised; ending the dead session adds nothing
    assert db_session.scalar(select(User.name).where(User.id == learner.id)) == learner.name
    for _ in range(3):
        assert client.get("/").status_code == 200


@postgresql_only
def test_cutting_the_app_s_connections_while_requests_run_gives_pages_or_the_503_then_recovers(app, people, db_session, engine):
    quiz = quiz_of(db_session)
    clients = []
    for number in range(3):
        client = app.test_client()
        people.login(client, people.create(email=f"busy{number}-{uuid.uuid4().hex[:6]}@example.test"))
        token = csrf_token(client.get("/modules/search-like-a-pro").get_data(as_text=True))
        clients.append((client, answers_for(quiz) | {"csrf_token": token}))
    answers: Counter[int] = Counter()
    unfriendly: list[str] = []
    browsing = threading.Event()
    browsing.set()
    cut = 0

    def browse(client, quiz_answers) -> None:
        for _ in range(15):
            for response in (
                client.get("/"),
                client.get("/themes"),
                client.post(f"/modules/search-like-a-pro/quizzes/{quiz.id}", data=quiz_answers),
            ):
                answers[response.status_code] += 1
                page = response.get_data(as_text=True)
                friendly_503 = response.status_code == 503 and DEFAULT_MESSAGES[503] in page and "Retry-After" in response.headers
                if response.status_code not in (200, 302) and not friendly_503:
                    unfriendly.append(f"{response.status_code}: {page[:200]}")

    def cut_connections() -> None:
        nonlocal cut
        with engine.connect() as admin:
            while browsing.is_set():
                cut += terminate_app_connections(admin)
                time.sleep(0.03)

    cutter = threading.Thread(target=cut_connections)
    cutter.start()
    try:
        assert run_at_once([lambda c=c, a=a: browse(c, a) for c, a in clients]) == []
    finally:
        browsing.clear()
        cutter.join()
    assert unfriendly == []
    assert cut > 0, answers
    for client, _ in clients:
        assert [client.get("/").status_code for _ in range(3)] == [200, 200, 200], answers
    print(f"connections cut: {cut}; answers: {dict(answers)}")
