"""How long the people import takes for a large HR file, on the database of your choice (PostgreSQL by default).

Run: .venv/bin/python benchmarks/people_import.py [--url postgresql+psycopg://postgres@127.0.0.1:5432/bench_import]
     [--people 100000] [--depth 8]
Creates the database if it is missing, migrates it and imports the course; then builds a file of PEOPLE people in an
organisation of management chains DEPTH deep (plus one chain as deep as a tenth of the file, the worst case for the
loop check) and imports it twice, as the background job does: checked whole, then applied and committed a batch at a
time. It prints the file's size, the time of the check and of the apply, for a first import (everyone new) and for
a second one (everyone updated, a tenth of them moved to another site), with a baseline measured in the same run:
one INSERT ... SELECT of as many rows into a scratch table.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app import create_app
from app.authoring.content import import_catalog
from app.config import DEFAULT_SITES
from app.db import make_engine
from app.migrate import drop_every_table, upgrade
from app.people.importing import BATCH_SIZE, apply_people, validate
from course import load_catalog

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/bench_import"
HEADER = "Email;First name;Last name;Site;Department;Manager email;Birth year;Role"


def people_file(count: int, depth: int, moved: bool = False) -> bytes:
    """A file of `count` people: chains `depth` deep, and one chain of a tenth of the file."""
    deep = count // 10
    lines = [HEADER]
    for i in range(count):
        if i < deep:
            manager = f"person{i - 1}@bench.test" if i else ""
        else:
            manager = f"person{i - 1}@bench.test" if (i - deep) % depth else ""
        site = DEFAULT_SITES[(i + (1 if moved and i % 10 == 0 else 0)) % len(DEFAULT_SITES)]
        role = "mentor" if i % 25 == 0 else "learner"
        lines.append(f"person{i}@bench.test;Firstname{i};Lastname-Family {i};{site};Department {i % 12};{manager};{1960 + i % 45};{role}")
    return ("\r\n".join(lines) + "\r\n").encode("utf-8")


def ensure_database(url: str) -> None:
    """Create the benchmark's PostgreSQL database when it does not exist."""
    parsed = make_url(url)
    if not parsed.drivername.startswith("postgresql"):
        return
    admin = create_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        if not connection.scalar(text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": parsed.database}):
            connection.execute(text(f'CREATE DATABASE "{parsed.database}"'))
    admin.dispose()


def baseline(session: Session, count: int) -> float:
    """Seconds for one INSERT ... SELECT of `count` rows into a scratch table: what the database itself costs."""
    session.execute(text("CREATE TEMPORARY TABLE scratch (id integer, email text, site text)"))
    started = time.perf_counter()
    session.execute(
        text("INSERT INTO scratch SELECT i, 'person' || i || '@bench.test', 'Lyon' FROM generate_series(1, :n) AS i"),
        {"n": count},
    )
    session.commit()
    elapsed = time.perf_counter() - started
    session.execute(text("DROP TABLE scratch"))
    session.commit()
    return elapsed


def run_import(session: Session, data: bytes) -> tuple[float, float, int, int]:
    """(check seconds, apply seconds, created, updated) for one import committed batch by batch."""
    started = time.perf_counter()
    rows, ids = validate(session, data, allow_admin=True)
    checked = time.perf_counter()

    def commit(_people: int) -> None:
        session.commit()
        session.expunge_all()

    result = apply_people(session, rows, ids, after_batch=commit)
    session.commit()
    return checked - started, time.perf_counter() - checked, len(result.created), len(result.updated)


def main() -> None:
    """Parse the arguments, prepare the database, import twice and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL))
    parser.add_argument("--people", type=int, default=100_000)
    parser.add_argument("--depth", type=int, default=8)
    arguments = parser.parse_args()
    ensure_database(arguments.url)
    engine = make_engine(arguments.url)
    drop_every_table(engine)
    upgrade(engine)
    app = create_app("testing", {"DATABASE_URL": arguments.url})
    print(f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, {engine.dialect.name}")
    with app.app_context(), Session(engine, expire_on_commit=False) as session:
        import_catalog(session, load_catalog(ROOT / "content"))
        session.commit()
        base = baseline(session, arguments.people)
        print(f"Baseline: INSERT ... SELECT of {arguments.people:,} rows: {base:.2f} s")
        for label, data in (("first import (all new)", people_file(arguments.people, arguments.depth)),
                            ("second import (all updated, a tenth moved)", people_file(arguments.people, arguments.depth, moved=True))):  # fmt: skip
            check, apply, created, updated = run_import(session, data)
            print(
                f"{label}: {len(data) / 1e6:.1f} MB, {created:,} created, {updated:,} updated; check {check:.1f} s, "
                f"apply {apply:.1f} s in batches of {BATCH_SIZE:,}; total {check + apply:.1f} s = {(check + apply) / base:.0f} x baseline"
            )
    engine.dispose()


if __name__ == "__main__":
    main()
