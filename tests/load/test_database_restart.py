"""PostgreSQL restarted or stopped under load: while it is away every request that fails answers the platform's 503
page with Retry-After, and once it is back requests succeed again by themselves, with the same gunicorn workers.

Each test drives gunicorn (2 workers, 4 threads) from several signed-in learners going round the module page, the
home page and a quiz submission, against a PostgreSQL cluster of its own that it restarts or stops mid-load.
The figures (how many requests failed, over how long) are printed and recorded as test properties.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest
from sqlalchemy.orm import Session

from app import create_app
from app.db import make_engine
from app.errors import DEFAULT_MESSAGES, RETRY_AFTER_SECONDS
from app.extensions import db
from app.models import Role

from ..conftest import People, csrf_token, prepare_database
from ..web.test_learning import MODULE, answers_for, quiz_of
from .gunicorn import CONNECTION_ERRORS, Answer, Browser, Gunicorn, running_gunicorn
from .private_postgres import PrivateCluster, private_cluster, server_binaries

pytestmark = pytest.mark.skipif(
    not os.environ.get("TEST_DATABASE_URL", "").startswith("postgresql"),
    reason="restarts a PostgreSQL cluster of its own; CI runs it with TEST_DATABASE_URL",
)
DATABASE = "speak_digital"
CLIENTS = 6
WORKERS = 2
THREADS = 4
# Generous: the pool finds its dead connections when it hands them out (pre-ping) and opens new ones at once.
RECOVERY_SECONDS = 10
DOWN_SECONDS = 3


@pytest.fixture(scope="module")
def cluster() -> Iterator[PrivateCluster]:
    """A cluster of this module's own, migrated, with the course imported and a few learners."""
    binaries = server_binaries()
    if binaries is None:
        pytest.skip("no PostgreSQL server programs on this machine to start a cluster with")
    with private_cluster(binaries, DATABASE) as cluster:
        prepare_database(cluster.url(DATABASE)).dispose()
        yield cluster


@pytest.fixture(scope="module")
def learners(cluster: PrivateCluster) -> tuple[list[str], dict[str, object]]:
    """The learners' e-mail addresses, and the answers that pass the module's first quiz with its path."""
    app = create_app("testing", {"DATABASE_URL": cluster.url(DATABASE)})
    engine = make_engine(cluster.url(DATABASE))
    with Session(engine, expire_on_commit=False) as session:
        people = People(app, session)
        emails = [people.create(Role.LEARNER, email=f"restart{i}@example.test", name=f"Learner {i}").email for i in range(CLIENTS)]
        quiz = quiz_of(session)
    engine.dispose()
    if db.engine is not None:
        db.engine.dispose()
    return emails, {"path": f"/modules/{MODULE}/quizzes/{quiz.id}", "answers": answers_for(quiz)}


@pytest.fixture
def server(cluster: PrivateCluster, tmp_path) -> Iterator[Gunicorn]:
    """gunicorn on the cluster, as production runs it."""
    with running_gunicorn(cluster.url(DATABASE), tmp_path / "gunicorn.log", workers=WORKERS, threads=THREADS) as gunicorn:
        yield gunicorn


@dataclass(frozen=True)
class Outcome:
    """One request of the load: when it ran, and what came back (status None: no answer, the connection dropped)."""

    client: int
    path: str
    started: float
    ended: float
    status: int | None
    clean: bool
    detail: str = ""

    @property
    def succeeded(self) -> bool:
        """A page or a redirect."""
        return self.status in (200, 302)


def judge(client: int, path: str, started: float, answer: Answer) -> Outcome:
    """A success, the platform's own 503 page with Retry-After, or anything else (not clean)."""
    ended = time.monotonic()
    friendly_503 = (
        answer.status == 503
        and DEFAULT_MESSAGES[503] in answer.page
        and answer.headers.get("Retry-After") == str(RETRY_AFTER_SECONDS)
        and "Traceback" not in answer.page
    )
    clean = answer.status in (200, 302) or friendly_503
    detail = "" if clean else f"{answer.status} on {path}: {answer.page[answer.page.find('<main') :][:300] or answer.page[:300]}"
    return Outcome(client, path, started, ended, answer.status, clean, detail)


@dataclass
class Load:
    """Signed-in learners, one thread each, going round the module page, home and a quiz submission until stopped."""

    server: Gunicorn
    emails: list[str]
    quiz: dict[str, object]
    outcomes: list[Outcome] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _threads: list[threading.Thread] = field(default_factory=list)

    def __enter__(self) -> Load:
        for number, email in enumerate(self.emails):
            browser = Browser(self.server.base)
            browser.login(email)
            token = csrf_token(browser.request(f"/modules/{MODULE}")[1])
            answers = dict(self.quiz["answers"]) | {"csrf_token": token}  # type: ignore[call-overload]
            thread = threading.Thread(target=self._go_round, args=(number, browser, answers), daemon=True)
            self._threads.append(thread)
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=60)

    def _go_round(self, number: int, browser: Browser, answers: dict[str, object]) -> None:
        rounds = [(f"/modules/{MODULE}", None), ("/", None), (str(self.quiz["path"]), answers)]
        while not self._stop.is_set():
            for path, data in rounds:
                started = time.monotonic()
                try:
                    outcome = judge(number, path, started, browser.fetch(path, data, timeout=30))  # type: ignore[arg-type]
                except CONNECTION_ERRORS as error:
                    outcome = Outcome(number, path, started, time.monotonic(), None, False, f"no answer on {path}: {error!r}")
                self.outcomes.append(outcome)

    def wait_for(self, successes: int, timeout: float = 60) -> None:
        """Until the load has had `successes` successful requests since it started."""
        deadline = time.monotonic() + timeout
        while sum(o.succeeded for o in list(self.outcomes)) < successes:
            assert time.monotonic() < deadline, self.outcomes[-5:]
            time.sleep(0.05)

    def run_until(self, moment: float) -> None:
        """Let the load go on until `moment` (time.monotonic)."""
        time.sleep(max(0.0, moment - time.monotonic()))


@dataclass(frozen=True)
class Figures:
    """What a disruption cost, in seconds from the moment the database came back."""

    requests: int
    failed: int
    dropped: int
    first_failure: float | None
    last_failure: float | None
    outage: float

    def line(self, what: str) -> str:
        """The figures in one sentence."""
        window = "" if self.first_failure is None else f" from {self.first_failure:+.2f} s to {self.last_failure:+.2f} s"
        return (
            f"{what}: {self.requests} requests, {self.failed} answered the 503 page{window} (relative to the database being back "
            f"after {self.outage:.2f} s away), {self.dropped} without an answer"
        )


def figures_of(outcomes: list[Outcome], away: float, back: float) -> Figures:
    """Count the failed requests and say when they ran, relative to `back`; `away` is when the database went."""
    failed = [o for o in outcomes if not o.succeeded]
    return Figures(
        requests=len(outcomes),
        failed=sum(o.status == 503 for o in failed),
        dropped=sum(o.status is None for o in failed),
        first_failure=round(min(o.started for o in failed) - back, 2) if failed else None,
        last_failure=round(max(o.ended for o in failed) - back, 2) if failed else None,
        outage=back - away,
    )


def assert_clean_then_recovered(outcomes: list[Outcome], back: float) -> None:
    """Every failure is the 503 page and none lost its connection; every request sent once recovered succeeds."""
    assert [o.detail for o in outcomes if not o.clean] == []
    recovered = [o for o in outcomes if o.started > back + RECOVERY_SECONDS]
    assert [o for o in recovered if not o.succeeded] == []
    assert {o.client for o in recovered} == set(range(CLIENTS)), "every learner goes on after the restart"


def readiness(server: Gunicorn) -> tuple[int, dict[str, str], str | None]:
    """What /readyz answers: its status, its checks and its Retry-After."""
    answer = Browser(server.base).fetch("/readyz", timeout=30)
    return answer.status, json.loads(answer.page), answer.headers.get("Retry-After")


def test_postgresql_restarted_under_load_gives_only_the_503_page_then_requests_succeed_again(
    cluster, learners, server, record_property
):
    emails, quiz = learners
    workers = server.worker_pids()
    with Load(server, emails, quiz) as load:
        load.wait_for(successes=3 * CLIENTS)
        away = time.monotonic()
        cluster.restart()
        back = time.monotonic()
        load.run_until(back + RECOVERY_SECONDS + 3)

    figures = figures_of(load.outcomes, away, back)
    print(figures.line("pg_ctl restart -m fast under load"))
    record_property("restart_figures", figures.line("restart"))
    assert_clean_then_recovered(load.outcomes, back)
    assert server.worker_pids() == workers, "the same gunicorn workers serve before and after"


def test_while_postgresql_is_stopped_pages_and_readyz_answer_503_and_both_recover_once_it_is_back(
    cluster, learners, server, record_property
):
    emails, quiz = learners
    workers = server.worker_pids()
    assert readiness(server) == (200, {"database": "ok", "queue": "ok"}, None)
    with Load(server, emails, quiz) as load:
        load.wait_for(successes=3 * CLIENTS)
        away = time.monotonic()
        cluster.stop()
        time.sleep(DOWN_SECONDS)
        while_down = readiness(server)
        pages_while_down = [o for o in list(load.outcomes) if o.started > away + 1]
        cluster.start()
        back = time.monotonic()
        ready_again = None
        while ready_again is None and time.monotonic() < back + RECOVERY_SECONDS:
            if readiness(server)[0] == 200:
                ready_again = time.monotonic() - back
            time.sleep(0.1)
        load.run_until(back + RECOVERY_SECONDS + 3)

    figures = figures_of(load.outcomes, away, back)
    ready = "never" if ready_again is None else f"after {ready_again:.2f} s"
    print(figures.line(f"PostgreSQL stopped for {DOWN_SECONDS} s under load") + f"; /readyz 200 again {ready}")
    record_property("stop_figures", figures.line("stop"))
    assert while_down == (503, {"database": "unavailable", "queue": "ok"}, str(RETRY_AFTER_SECONDS))
    assert pages_while_down, "the learners went on asking while the database was down"
    assert {o.status for o in pages_while_down} == {503}
    assert ready_again is not None, f"/readyz still answers {readiness(server)} {RECOVERY_SECONDS} s after the database is back"
    assert_clean_then_recovered(load.outcomes, back)
    assert server.worker_pids() == workers, "the same gunicorn workers serve before and after"
