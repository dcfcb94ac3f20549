"""How many SQL statements the learner's pages send, and which of them write: counted on SQLAlchemy's cursor hook.

Counts, never timings: the same on SQLite and PostgreSQL, on a fast machine or a busy one.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import event

from app.extensions import db
from app.models import Role

from ..conftest import add_live_session, csrf_token
from .test_learning import answers_for, quiz_of

MODULE = "search-like-a-pro"
WRITE_RE = re.compile(
    r"^\s*(INSERT|UPDATE|DELETE|LOCK|MERGE|TRUNCATE)\b|\bFOR\s+(NO\s+KEY\s+)?UPDATE\b|\bFOR\s+(KEY\s+)?SHARE\b", re.IGNORECASE
)


class Statements(list[str]):
    """The statements sent inside a `counted()` block, in order."""

    @property
    def writes(self) -> list[str]:
        """Those that write or lock rows."""
        return [sql for sql in self if WRITE_RE.search(sql)]


@contextmanager
def counted() -> Iterator[Statements]:
    """Every statement the application's engine sends inside the block (savepoints included, COMMIT not)."""
    statements = Statements()

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(" ".join(statement.split()))

    engine = db.engine
    assert engine is not None
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", record)


@pytest.fixture
def upcoming_sessions(db_session, people):
    """Seven sessions to come on the module's theme, more than a module page lists."""
    mentor = people.create(Role.MENTOR, name="Sam Mentor")
    start = datetime.now(UTC) + timedelta(days=3)
    return [add_live_session(db_session, [mentor], start + timedelta(days=index)) for index in range(7)]


def test_a_module_page_seen_before_sends_at_most_six_statements_and_one_write(learner_client, upcoming_sessions):
    learner_client.get(f"/modules/{MODULE}")
    with counted() as statements:
        page = learner_client.get(f"/modules/{MODULE}")
    assert page.status_code == 200
    assert len(statements) <= 6, statements
    assert len(statements.writes) == 1, statements.writes
    assert statements.writes[0].startswith("UPDATE module_progress")


def test_a_module_page_reads_only_the_five_sessions_it_lists(learner_client, upcoming_sessions):
    with counted() as statements:
        page = learner_client.get(f"/modules/{MODULE}").get_data(as_text=True)
    assert page.count('class="session-card"') == 5
    listing = [sql for sql in statements if "FROM (SELECT live_sessions" in sql or "FROM live_sessions" in sql]
    assert listing
    assert all(" LIMIT " in sql for sql in listing), listing


def test_home_and_course_pages_read_in_a_few_statements_and_write_nothing(learner_client, upcoming_sessions):
    learner_client.get(f"/modules/{MODULE}")
    for path, most in (("/", 5), ("/themes", 3)):
        with counted() as statements:
            assert learner_client.get(path).status_code == 200
        assert len(statements) <= most, (path, statements)
        assert statements.writes == [], (path, statements.writes)


def test_a_quiz_sent_from_a_module_opened_before_inserts_no_progress_row(learner_client, db_session):
    quiz = quiz_of(db_session)
    token = csrf_token(learner_client.get(f"/modules/{MODULE}").get_data(as_text=True))
    with counted() as statements:
        answer = learner_client.post(f"/modules/{MODULE}/quizzes/{quiz.id}", data=answers_for(quiz) | {"csrf_token": token})
    assert answer.status_code == 302
    assert not [sql for sql in statements if sql.startswith("INSERT INTO module_progress")], statements.writes
