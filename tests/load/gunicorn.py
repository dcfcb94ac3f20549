"""What the load tests share: gunicorn started as production runs it, its worker processes, and HTTP clients."""

from __future__ import annotations

import http.client
import http.cookiejar
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

import pytest

from ..conftest import PASSWORD, csrf_token

# What a client sees when the server closes or resets its connection instead of answering.
CONNECTION_ERRORS = (OSError, http.client.HTTPException)
# A process may end, or a file vanish, between listing /proc and reading it.
GONE = (FileNotFoundError, ProcessLookupError, PermissionError)


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


@dataclass(frozen=True)
class Answer:
    """A response as a client received it."""

    status: int
    page: str
    headers: dict[str, str]


class Browser:
    """A minimal client with its own cookies, talking HTTP to the server."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()), NoRedirect())

    def fetch(self, path: str, data: dict[str, str] | None = None, timeout: float = 60) -> Answer:
        """GET `path`, or POST `data` to it; raises one of CONNECTION_ERRORS when no answer came."""
        body = urllib.parse.urlencode(data, doseq=True).encode() if data is not None else None
        try:
            with self.opener.open(self.base + path, body, timeout=timeout) as response:
                return Answer(response.status, response.read().decode(), dict(response.headers))
        except urllib.error.HTTPError as error:
            with error:
                return Answer(error.code, error.read().decode(), dict(error.headers))

    def request(self, path: str, data: dict[str, str] | None = None) -> tuple[int, str]:
        """The status and page of `path`."""
        answer = self.fetch(path, data)
        return answer.status, answer.page

    def login(self, email: str) -> None:
        """Sign in through the login form."""
        _, page = self.request("/login")
        status, answer = self.request("/login", {"email": email, "password": PASSWORD, "csrf_token": csrf_token(page)})
        assert status == 302, answer[answer.find("<main") :][:600]


def free_port() -> int:
    """A TCP port nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Gunicorn:
    """A running gunicorn: its address, its master process and its log."""

    base: str
    process: subprocess.Popen[bytes]
    log: Path

    def worker_pids(self) -> list[int]:
        """The pids of the master's worker processes, as `ps` would list its children."""
        return sorted(pid for pid in _all_pids() if _parent_of(pid) == self.process.pid)

    def worker_holding(self, local_port: int, timeout: float = 5) -> int | None:
        """The worker whose TCP connection leaves from `local_port` (a database connection, say)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            # /proc/net/tcp is read in pieces while sockets come and go, so one reading may miss a line: look again.
            sockets = {f"socket:[{inode}]" for inode in _socket_inodes(local_port)}
            pid = next((pid for pid in self.worker_pids() if sockets & _open_files(pid)), None)
            if pid is not None:
                return pid
            time.sleep(0.05)
        return None


@contextmanager
def running_gunicorn(database_url: str, log: Path, workers: int, threads: int = 4, env: dict[str, str] | None = None) -> Iterator[Gunicorn]:
    """gunicorn serving the platform on `database_url`, in testing mode, until the block ends."""
    port = free_port()
    environment = os.environ | {"SPEAK_DIGITAL_ENV": "testing", "DATABASE_URL": database_url, "SECRET_KEY": "load-test-" + "x" * 40}
    gunicorn = Path(sys.executable).with_name("gunicorn")
    arguments = [str(gunicorn), "--workers", str(workers), "--threads", str(threads), "--bind", f"127.0.0.1:{port}", "app.wsgi:application"]
    with log.open("w") as output:
        process = subprocess.Popen(arguments, env=environment | (env or {}), stdout=subprocess.DEVNULL, stderr=output)  # noqa: S603
    server = Gunicorn(f"http://127.0.0.1:{port}", process, log)
    try:
        _wait_until_answering(server, workers)
        yield server
    finally:
        process.terminate()
        process.wait(timeout=30)


def _wait_until_answering(server: Gunicorn, workers: int) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(server.base + "/healthz", timeout=1):  # noqa: S310 - our own server on loopback
                if len(server.worker_pids()) >= workers:
                    return
        except CONNECTION_ERRORS:
            pass
        time.sleep(0.2)
    pytest.fail("gunicorn did not start: " + server.log.read_text()[-2000:])


def _all_pids() -> list[int]:
    return [int(entry.name) for entry in Path("/proc").iterdir() if entry.name.isdigit()]


def _parent_of(pid: int) -> int | None:
    with suppress(*GONE):
        # The command name, in parentheses, may hold spaces: the fields that follow it are after the last ")".
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
        return int(fields[1])
    return None


def _open_files(pid: int) -> set[str]:
    names = set()
    with suppress(*GONE):
        for descriptor in Path(f"/proc/{pid}/fd").iterdir():
            with suppress(*GONE):  # a thread may close a file while we look
                names.add(os.readlink(descriptor))
    return names


def _socket_inodes(local_port: int) -> set[str]:
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with suppress(*GONE):
            for line in Path(table).read_text().splitlines()[1:]:
                fields = line.split()
                # An earlier connection from the same port may linger in TIME_WAIT, owned by nobody (inode 0).
                if int(fields[1].rpartition(":")[2], 16) == local_port and fields[9] != "0":
                    inodes.add(fields[9])
    return inodes
