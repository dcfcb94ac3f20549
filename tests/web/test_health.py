"""Health checks: /healthz answers while the process runs; /readyz says whether the database and the queue answer."""

from app import create_app
from app.jobs import queue


def test_readiness_is_ok_when_the_database_and_the_queue_answer(client):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.get_json() == {"database": "ok", "queue": "ok"}


def test_readiness_says_which_part_is_missing(database_url, monkeypatch, engine):
    broken = create_app("testing", {"DATABASE_URL": "postgresql+psycopg://postgres@127.0.0.1:9/test?connect_timeout=1"})

    def no_queue():
        raise ConnectionError("Redis is restarting")

    monkeypatch.setattr(queue.storage, "queue_size", no_queue)
    response = broken.test_client().get("/readyz")
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "5"
    assert response.get_json() == {"database": "unavailable", "queue": "unavailable"}


def test_liveness_needs_neither_the_database_nor_a_sign_in():
    broken = create_app("testing", {"DATABASE_URL": "postgresql+psycopg://postgres@127.0.0.1:9/test?connect_timeout=1"})
    response = broken.test_client().get("/healthz")
    assert (response.status_code, response.get_data(as_text=True)) == (200, "ok")
