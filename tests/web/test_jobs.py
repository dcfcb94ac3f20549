"""Background jobs: a real worker process on Redis runs what the pages enqueue; the worker command and its configuration."""

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from redis import Redis

from app import create_app
from app.cli import main as cli
from app.config import ConfigError, load_config
from app.jobs import queue, storage_for
from app.models import Role

from .test_people_import import GOOD, csv_bytes, upload

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


def redis_is_up() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=1):
            return True
    except OSError:
        return False


@pytest.fixture
def worker(database_url, tmp_path):
    """A `speak-digital worker` process on Redis and the run's database, as production runs it."""
    Redis.from_url(REDIS_URL).flushdb()
    env = os.environ | {
        "SPEAK_DIGITAL_ENV": "development",
        "DATABASE_URL": database_url,
        "SPEAK_DIGITAL_QUEUE_URL": REDIS_URL,
        "SECRET_KEY": "worker-test-key",
    }
    log = (tmp_path / "worker.log").open("wb")
    command = Path(sys.executable).with_name("speak-digital")
    process = subprocess.Popen([str(command), "worker", "--workers", "1"], env=env, stdout=log, stderr=subprocess.STDOUT)  # noqa: S603
    yield process
    process.terminate()
    process.wait(timeout=30)
    log.close()
    print((tmp_path / "worker.log").read_text(errors="replace"))  # shown by pytest when the test failed


@pytest.mark.skipif(not redis_is_up() and not os.environ.get("CI"), reason="no Redis on 127.0.0.1:6379 (CI starts one)")
def test_a_worker_on_redis_imports_the_file_sent_from_the_page(app, database_url, people, db_session, worker):
    web = create_app("testing", {"DATABASE_URL": database_url, "QUEUE_URL": REDIS_URL, "SECRET_KEY": "worker-test-key"})
    client = web.test_client()
    people.login(client, people.create(Role.HR))
    response = upload(client, csv_bytes(GOOD), follow_redirects=False)
    assert response.status_code == 303
    progress = response.headers["Location"] + "/progress.json"
    deadline = time.monotonic() + 60
    state = client.get(progress).get_json()
    while not state["finished"] and time.monotonic() < deadline and worker.poll() is None:
        time.sleep(0.2)
        state = client.get(progress).get_json()
    assert state == {"status": "done", "finished": True, "applied": 4, "total": 4}
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Imported: 4 new, 0 updated." in page
    assert page.count("/set-password/") == 4


def test_the_worker_refuses_to_start_where_jobs_run_at_once(app):
    result = app.test_cli_runner().invoke(cli, ["worker"])
    assert result.exit_code != 0
    assert "no queue to work on" in result.output


@pytest.mark.parametrize(("arguments", "periodic"), [([], True), (["--no-periodic"], False)])
def test_a_worker_starts_the_periodic_jobs_unless_told_not_to(app, monkeypatch, tmp_path, arguments, periodic):
    started = []

    class Consumer:
        def run(self) -> None:
            started.append("run")

    monkeypatch.setattr(queue, "url", f"sqlite:///{tmp_path / 'jobs.sqlite'}")
    monkeypatch.setattr(queue, "create_consumer", lambda **options: started.append(options) or Consumer())
    result = app.test_cli_runner().invoke(cli, ["worker", "--workers", "3", *arguments])
    assert result.exit_code == 0, result.output
    assert started == [{"workers": 3, "worker_type": "thread", "periodic": periodic, "max_delay": 1.0, "check_worker_health": True}, "run"]


def test_the_queue_is_in_redis_in_production_and_beside_the_embedded_database_otherwise(tmp_path):
    production = load_config(tmp_path, "production", {"SECRET_KEY": "k", "SPEAK_DIGITAL_QUEUE_URL": "redis://queue.internal:6379/0"})
    assert production["QUEUE_URL"] == "redis://queue.internal:6379/0"
    assert load_config(tmp_path, "demo", {})["QUEUE_URL"] == f"sqlite:///{tmp_path / 'jobs-demo.sqlite'}"
    assert load_config(tmp_path, "testing", {"SPEAK_DIGITAL_QUEUE_URL": "redis://elsewhere"})["QUEUE_URL"] == "immediate"


def test_an_unknown_queue_url_is_refused_with_what_to_write():
    with pytest.raises(ConfigError, match="must start with redis:// or sqlite:///"):
        storage_for("speak-digital", "amqp://guest@localhost")
