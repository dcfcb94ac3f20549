"""Background jobs on a task queue (Huey): work too slow or too fallible for a web request.

The queue lives in Redis in production (`SPEAK_DIGITAL_QUEUE_URL=redis://...`) and in a SQLite file of the
instance folder for the embedded platform; `speak-digital worker` runs the jobs, any number of workers on any
number of hosts sharing the queue. In testing mode jobs run at once, in the process that enqueues them.

A job runs in an application context of its own, with its own database session: it commits what it does itself
(in batches where it is long), and is enqueued only once the request that asked for it has committed, so that it
never looks for a row that is not there yet.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

from flask import Flask
from huey import Huey
from huey.api import TaskWrapper
from huey.storage import MemoryStorage, RedisStorage, SqliteStorage

from .config import ConfigError
from .extensions import db

P = ParamSpec("P")
R = TypeVar("R")
IMMEDIATE = "immediate"


class PlatformQueue(Huey):  # type: ignore[misc]  # huey ships no type information
    """The platform's one queue; its storage is chosen when the application is created, from its configuration."""

    app: Flask | None = None
    url: str = IMMEDIATE

    def use(self, app: Flask) -> None:
        """Store jobs where `app`'s configuration says, and run them in `app`."""
        self.app, self.url = app, app.config["QUEUE_URL"]
        self._immediate = self.url == IMMEDIATE  # huey's setter would build a storage before the URL is known
        self.storage = self.create_storage()

    def get_storage(self, **_options: Any) -> Any:
        """The storage behind the configured URL (huey calls this outside immediate mode)."""
        return storage_for(self.name, self.url)


def storage_for(name: str, url: str) -> Any:
    """The Huey storage behind `url`: `immediate` (in memory), `redis://...` or `sqlite:///path`."""
    if url == IMMEDIATE:
        return MemoryStorage(name)
    if url.startswith(("redis://", "rediss://", "unix://")):
        return RedisStorage(name, url=url)
    if url.startswith("sqlite:///"):
        path = Path(url.removeprefix("sqlite:///"))
        path.parent.mkdir(parents=True, exist_ok=True)
        return SqliteStorage(name, filename=str(path))
    raise ConfigError(f"SPEAK_DIGITAL_QUEUE_URL must start with redis:// or sqlite:///, not “{url}”.")


queue = PlatformQueue("speak-digital", results=False, immediate=True)


def job(**options: Any) -> Callable[[Callable[P, R]], TaskWrapper]:
    """A queued job: `f(...)` enqueues it; the body runs in the app with a fresh session."""

    def decorate(function: Callable[P, R]) -> TaskWrapper:
        return queue.task(**options)(_in_app(function))

    return decorate


def periodic_job(schedule: Callable[[Any], bool], **options: Any) -> Callable[[Callable[P, R]], TaskWrapper]:
    """A job the workers run by themselves on `schedule` (a `huey.crontab`), in the app with a fresh session."""

    def decorate(function: Callable[P, R]) -> TaskWrapper:
        return queue.periodic_task(schedule, **options)(_in_app(function))

    return decorate


def _in_app(function: Callable[P, R]) -> Callable[P, R]:
    @functools.wraps(function)
    def run_in_app(*args: P.args, **kwargs: P.kwargs) -> R:
        if queue.app is None:
            raise RuntimeError("the queue is not configured: create the application first")
        # A context of its own, so that the job's session is never the request's (immediate mode runs it inside one).
        with queue.app.app_context():
            return function(*args, **kwargs)

    return run_in_app


def enqueue_after_commit(task: TaskWrapper, *args: Any) -> None:
    """Enqueue `task(*args)` once the current request has committed; never when it rolls back."""
    db.after_commit(lambda: task(*args))
