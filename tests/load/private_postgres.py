"""A PostgreSQL cluster of the test's own, in a temporary folder on a free port, that a test may stop and restart.

The machine's PostgreSQL is shared: a test that restarts a database restarts this one. PostgreSQL refuses to run
as root, so when the tests do, every server command runs as the `postgres` account, which owns the folder.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import create_engine, text

from .gunicorn import free_port

SERVER_ACCOUNT = "postgres"
# A throwaway cluster: durability is not what is tested, and a small cache is kinder to a shared machine.
SETTINGS = ("-c fsync=off", "-c full_page_writes=off", "-c shared_buffers=32MB", "-c max_connections=60")


def server_binaries() -> Path | None:
    """The folder of the newest installed PostgreSQL server's programs, if any."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda path: int(Path(path).parts[-3]))
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


@dataclass
class PrivateCluster:
    """A cluster in `folder`, listening on 127.0.0.1:`port` and on a socket in `folder`."""

    binaries: Path
    folder: Path
    port: int

    @property
    def data(self) -> Path:
        """The cluster's data directory."""
        return self.folder / "data"

    def url(self, database: str = "postgres") -> str:
        """The SQLAlchemy URL of `database` on this cluster."""
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def pg_ctl(self, *arguments: str) -> None:
        """Run pg_ctl on this cluster and wait for it to finish (-w)."""
        self.run("pg_ctl", "-D", str(self.data), "-w", "-t", "60", *arguments)

    def start(self) -> None:
        """Start the server."""
        options = " ".join((f"-p {self.port}", f"-k {self.folder}", "-c listen_addresses=127.0.0.1", *SETTINGS))
        self.pg_ctl("-l", str(self.folder / "server.log"), "-o", options, "start")

    def stop(self) -> None:
        """Stop the server, ending every session at once, as an operator would before maintenance."""
        self.pg_ctl("-m", "fast", "stop")

    def restart(self) -> None:
        """Restart the server the way an operator does (`pg_ctl restart -m fast`)."""
        self.pg_ctl("-l", str(self.folder / "server.log"), "-m", "fast", "restart")

    def log_tail(self, characters: int = 3000) -> str:
        """The end of the server's log."""
        path = self.folder / "server.log"
        return path.read_text(errors="replace")[-characters:] if path.exists() else ""

    def run(self, program: str, *arguments: str) -> None:
        """Run one of the server programs on this cluster's behalf; raise with its output and the log if it fails."""
        as_server = ["runuser", "-u", SERVER_ACCOUNT, "--"] if os.geteuid() == 0 else []
        command = [*as_server, str(self.binaries / program), *arguments]
        result = subprocess.run(command, capture_output=True, text=True, check=False)  # noqa: S603 - our own arguments
        if result.returncode != 0:
            raise RuntimeError(f"{program} failed: {result.stdout}{result.stderr}\n{self.log_tail()}")


@contextmanager
def private_cluster(binaries: Path, database: str) -> Iterator[PrivateCluster]:
    """A new cluster with trust authentication and an empty `database`, removed with everything in it afterwards."""
    folder = Path(tempfile.mkdtemp(prefix="speak-digital-pg-"))
    if os.geteuid() == 0:
        shutil.chown(folder, SERVER_ACCOUNT, SERVER_ACCOUNT)
    cluster = PrivateCluster(binaries, folder, free_port())
    try:
        cluster.run("initdb", "-D", str(cluster.data), "-A", "trust", "-U", "postgres", "-E", "UTF8", "--no-sync")
        cluster.start()
        engine = create_engine(cluster.url(), isolation_level="AUTOCOMMIT")
        with engine.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{database}"'))
        engine.dispose()
        yield cluster
    finally:
        if (cluster.data / "postmaster.pid").exists():
            cluster.pg_ctl("-m", "immediate", "stop")
        shutil.rmtree(folder, ignore_errors=True)
