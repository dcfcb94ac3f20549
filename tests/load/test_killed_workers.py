"""Processes killed mid-work leave whole changes or none: a gunicorn worker SIGKILLed while quiz submissions are in
flight, and a background worker SIGKILLed in the middle of a people import batch.

A quiz submission is one transaction (app/learning/services.py, committed once by the request): the attempt, one
answer row per question it asked, and the learner's progress in the module (best score, completion). "Whole" means
all of these agree; "absent" means none of them changed. A people import commits each batch of 1,000 people with
its progress: the people in the database are always whole batches, and the import's count says how many.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

import pytest
from redis import Redis
from sqlalchemy import Connection, Engine, func, select, text, update
from sqlalchemy.orm import Session

from app import create_app
from app.models import ImportStatus, ModuleProgress, ModuleRecord, PeopleImport, QuestionAnswer, QuizAttempt, Role, User
from app.people.importing import BATCH_SIZE
from course.progress import ModuleStatus

from ..conftest import csrf_token
from ..web.test_jobs import REDIS_URL, redis_is_up
from ..web.test_learning import MODULE, answers_for, quiz_of
from ..web.test_people_import import upload
from .gunicorn import CONNECTION_ERRORS, Browser, Gunicorn, running_gunicorn

pytestmark = pytest.mark.skipif(
    not os.environ.get("TEST_DATABASE_URL", "").startswith("postgresql"),
    reason="kills processes holding PostgreSQL transactions; CI runs it with TEST_DATABASE_URL",
)
LEARNERS = 10
SUBMISSIONS_EACH = 8
IMPORT_PEOPLE = 3 * BATCH_SIZE
HEADER = "Email;First name;Last name;Site;Department;Manager email;Birth year;Role"


@pytest.fixture
def server(database_url: str, engine, tmp_path) -> Iterator[Gunicorn]:
    """gunicorn on the run's database, 2 workers of 4 threads."""
    with running_gunicorn(database_url, tmp_path / "gunicorn.log", workers=2, threads=4) as gunicorn:
        yield gunicorn


@contextmanager
def watching(engine: Engine) -> Iterator[Connection]:
    """A connection outside transactions: PostgreSQL's activity view is a snapshot kept for a whole transaction."""
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        yield connection


def blocked_by(admin: Connection, holder_pid: int, timeout: float = 30) -> tuple[int, int]:
    """The backend pid and client port of the first session waiting for a lock that `holder_pid` holds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        row = admin.execute(
            text("SELECT pid, client_port FROM pg_stat_activity WHERE :holder = ANY(pg_blocking_pids(pid))"), {"holder": holder_pid}
        ).first()
        if row is not None:
            return int(row.pid), int(row.client_port)
        time.sleep(0.05)
    pytest.fail("nothing came to wait for the lock the test holds")


def wait_until_gone(admin: Connection, backend_pid: int, timeout: float = 30) -> None:
    """Until PostgreSQL has ended the session `backend_pid` (its client died: it rolls back and goes)."""
    deadline = time.monotonic() + timeout
    while admin.scalar(text("SELECT count(*) FROM pg_stat_activity WHERE pid = :pid"), {"pid": backend_pid}):
        assert time.monotonic() < deadline, f"PostgreSQL still runs session {backend_pid}"
        time.sleep(0.05)


def assert_every_attempt_whole(session: Session, user_ids: list[int]) -> int:
    """Each attempt has its answers, and each learner's progress agrees with their attempts; how many attempts."""
    module = session.get(ModuleRecord, MODULE)
    attempts = list(session.scalars(select(QuizAttempt).where(QuizAttempt.user_id.in_(user_ids))))
    answers = Counter[tuple[int, str]]()
    for answer in session.scalars(select(QuestionAnswer).where(QuestionAnswer.user_id.in_(user_ids))):
        answers[(answer.attempt_id, answer.question_id)] += 1
    for attempt in attempts:
        assert {q: answers[(attempt.id, q)] for q in attempt.question_ids} == dict.fromkeys(attempt.question_ids, 1), attempt.id
    assert sum(answers.values()) == sum(len(a.question_ids) for a in attempts), "no answer outside an attempt"
    for user_id in user_ids:
        mine = [a for a in attempts if a.user_id == user_id]
        progress = session.scalar(select(ModuleProgress).where(ModuleProgress.user_id == user_id, ModuleProgress.module_id == MODULE))
        best = {quiz: max((a.score for a in mine if a.quiz_id == quiz), default=0) for quiz in module.quiz_ids}
        assert progress.best_score == (sum(best.values()) // len(best) if mine else None), user_id
        passed_all = all(any(a.passed for a in mine if a.quiz_id == quiz) for quiz in module.quiz_ids)
        assert (progress.status is ModuleStatus.COMPLETED) == passed_all, user_id
        assert sum(a.first_try for a in mine) == len({a.quiz_id for a in mine}), user_id
    return len(attempts)


def test_a_web_worker_killed_during_quiz_submissions_leaves_each_attempt_and_its_progress_whole_or_absent(
    server, people, db_session, engine
):
    quiz = quiz_of(db_session)
    path = f"/modules/{MODULE}/quizzes/{quiz.id}"
    learners, forms = [], []
    for number in range(LEARNERS + 1):
        learner = people.create(Role.LEARNER, email=f"killed{number}@example.test")
        browser = Browser(server.base)
        browser.login(learner.email)
        token = csrf_token(browser.request(f"/modules/{MODULE}")[1])  # opens the module: a progress row to update
        learners.append(learner)
        forms.append((browser, token))
    held = learners[0]
    statuses: Counter[str] = Counter()
    counting = threading.Lock()

    def submit(number: int, times: int) -> None:
        browser, token = forms[number]
        for turn in range(times):
            try:
                status = str(browser.fetch(path, answers_for(quiz, right=turn % 2 == 1) | {"csrf_token": token}, timeout=60).status)
            except CONNECTION_ERRORS:
                status = "no answer"
            with counting:
                statuses[status] += 1

    with watching(engine) as admin, engine.connect() as holder:
        # The held learner's progress row is locked: their submission waits inside its transaction, attempt written.
        holder.execute(select(ModuleProgress).where(ModuleProgress.user_id == held.id).with_for_update())
        threads = [threading.Thread(target=submit, args=(0, 1))]
        threads += [threading.Thread(target=submit, args=(number, SUBMISSIONS_EACH)) for number in range(1, LEARNERS + 1)]
        for thread in threads:
            thread.start()
        backend, port = blocked_by(admin, holder.scalar(text("SELECT pg_backend_pid()")))
        victim = server.worker_holding(port)
        assert victim is not None, "the waiting transaction belongs to a gunicorn worker"
        deadline = time.monotonic() + 60
        while sum(statuses.values()) < LEARNERS and time.monotonic() < deadline:  # the others' submissions are in flight on both workers
            time.sleep(0.01)
        os.kill(victim, signal.SIGKILL)
        holder.rollback()
        wait_until_gone(admin, backend)
        for thread in threads:
            thread.join(timeout=120)

    print(f"submissions answered: {dict(statuses)}")
    assert statuses["no answer"] >= 1, "the held submission lost its worker"
    assert set(statuses) <= {"302", "no answer"}, statuses
    db_session.expire_all()
    attempts = assert_every_attempt_whole(db_session, [learner.id for learner in learners])
    assert statuses["302"] <= attempts <= statuses["302"] + statuses["no answer"] - 1
    assert db_session.scalar(select(func.count()).select_from(QuizAttempt).where(QuizAttempt.user_id == held.id)) == 0
    workers = server.worker_pids()
    assert len(workers) == 2, "gunicorn replaced the killed worker"
    assert victim not in workers
    browser, token = forms[0]
    assert browser.fetch(path, answers_for(quiz) | {"csrf_token": token}).status == 302, "the held learner can submit again"
    db_session.expire_all()
    assert assert_every_attempt_whole(db_session, [held.id]) == 1


def people_file(count: int) -> bytes:
    """`count` new people, one learner a line, with no managers, so that each batch is only its own people."""
    lines = [HEADER] + [f"kill{i:05}@import.test;First{i};Last{i};Lyon;Claims;;1980;learner" for i in range(count)]
    return ("\r\n".join(lines) + "\r\n").encode()


@contextmanager
def running_worker(database_url: str, log: Path) -> Iterator[subprocess.Popen[bytes]]:
    """A `speak-digital worker` on Redis and the run's database, as production runs it."""
    env = os.environ | {
        "SPEAK_DIGITAL_ENV": "development",
        "DATABASE_URL": database_url,
        "SPEAK_DIGITAL_QUEUE_URL": REDIS_URL,
        "SECRET_KEY": "worker-test-key",
    }
    command = Path(sys.executable).with_name("speak-digital")
    with log.open("ab") as output:
        process = subprocess.Popen([str(command), "worker", "--workers", "1"], env=env, stdout=output, stderr=subprocess.STDOUT)  # noqa: S603
    try:
        yield process
    finally:
        if process.poll() is None:
            process.terminate()
        process.wait(timeout=30)


def imported(session: Session) -> int:
    """How many of the file's people have an account."""
    return session.scalar(select(func.count()).select_from(User).where(User.email.like("%@import.test"))) or 0


def wait_until_finished(session: Session, import_id: int, timeout: float = 120) -> PeopleImport:
    """The import once its worker finished it."""
    deadline = time.monotonic() + timeout
    while True:
        session.expire_all()
        record = session.get(PeopleImport, import_id)
        if record.status.is_finished or time.monotonic() > deadline:
            return record
        time.sleep(0.2)


@pytest.mark.skipif(not redis_is_up() and not os.environ.get("CI"), reason="no Redis on 127.0.0.1:6379 (CI starts one)")
def test_a_background_worker_killed_mid_batch_leaves_whole_batches_and_the_import_says_it_stalled(
    database_url, people, db_session, engine, tmp_path
):
    Redis.from_url(REDIS_URL).flushdb()
    web = create_app("testing", {"DATABASE_URL": database_url, "QUEUE_URL": REDIS_URL, "SECRET_KEY": "worker-test-key"})
    hr = web.test_client()
    people.login(hr, people.create(Role.HR))
    data = people_file(IMPORT_PEOPLE)
    log = tmp_path / "worker.log"
    # Someone of the second batch is being created elsewhere, uncommitted: that batch's insert waits for it.
    in_second_batch = f"kill{BATCH_SIZE + BATCH_SIZE // 2:05}@import.test"
    with watching(engine) as admin, Session(engine) as holder, running_worker(database_url, log) as worker:
        holder.add(User(email=in_second_batch, name="Elsewhere", site="Lyon", role=Role.LEARNER, password_hash="!unset"))
        holder.flush()
        response = upload(hr, data, filename="killed.csv", follow_redirects=False)
        assert response.status_code == 303
        record = db_session.scalar(select(PeopleImport).where(PeopleImport.filename == "killed.csv"))
        backend, _ = blocked_by(admin, holder.scalar(text("SELECT pg_backend_pid()")), timeout=120)
        os.kill(worker.pid, signal.SIGKILL)
        worker.wait(timeout=30)
        holder.rollback()
        wait_until_gone(admin, backend)

    db_session.expire_all()
    record = db_session.get(PeopleImport, record.id)
    print(f"killed at {record.people_applied} of {record.people_total} people applied; {imported(db_session)} accounts")
    assert (record.status, record.people_applied, record.people_total) == (ImportStatus.IMPORTING, BATCH_SIZE, IMPORT_PEOPLE)
    assert imported(db_session) == BATCH_SIZE, "the first batch whole, nothing of the second"
    page = hr.get(f"/hr/people/imports/{record.id}").get_data(as_text=True)
    assert "has not moved for more than ten minutes" not in page
    db_session.execute(update(PeopleImport).where(PeopleImport.id == record.id).values(updated_at=record.updated_at - timedelta(minutes=11)))
    db_session.commit()
    page = hr.get(f"/hr/people/imports/{record.id}").get_data(as_text=True)
    assert "has not moved for more than ten minutes" in page

    with running_worker(database_url, log):
        again = upload(hr, data, filename="again.csv", follow_redirects=False)
        finished = wait_until_finished(db_session, int(again.headers["Location"].rsplit("/", 1)[1]))
    assert (finished.status, finished.created_count, finished.updated_count) == (ImportStatus.DONE, IMPORT_PEOPLE - BATCH_SIZE, BATCH_SIZE)
    assert imported(db_session) == IMPORT_PEOPLE, "everyone once, nobody twice"
