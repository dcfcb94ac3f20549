"""How fast the HR dashboard answers and its figures are refreshed over a synthetic organisation on PostgreSQL.

Run: .venv/bin/python benchmarks/hr.py [--url postgresql+psycopg://postgres@127.0.0.1:5432/hrbench_100k] [--learners 100000]
     [--runs 7] [--reuse] [--per-table] [--dashboard-only]
Creates the database if it is missing, migrates it, imports the course and fills it with bulk INSERT ... SELECT over
generate_series (no ORM objects): learners on 20 sites with departments and birth years, progress through the
course, quiz attempts and their answers per question, live sessions with bookings, attendance and questionnaire
answers. `--reuse` keeps the data of a previous run. Then it times a full refresh of the HR figures from scratch (as
the nightly job and `speak-digital statistics refresh` do), the incremental refresh of 1,000 changed learners (as the
job every minute does), and the median server time of the dashboard unfiltered and filtered, each against a baseline
measured in the same run: a bare COUNT(*) over users. `--per-table` also times each table of the dashboard on its own.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.orm import Session

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app import create_app
from app.authoring.content import import_catalog
from app.config import DEFAULT_SITES
from app.db import make_engine
from app.hr import refresh
from app.migrate import drop_every_table, upgrade
from app.sessions import figures as session_figures
from course import load_catalog

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/hrbench_100k"
CHANGED = 1_000  # learners changed between two incremental refreshes
MENTORS = 600
SESSIONS = 12_000

# Each statement is one bulk INSERT ... SELECT; :n is the number of learners.
GENERATE = [
    # Learners: 20 sites, 12 departments, birth years 1961-2005 (one in 17 unknown), joined over the last 18 months.
    # Site, department, birth year and day of joining are drawn independently (hashtext), as in a real organisation:
    # every site and department has learners joining, learning and answering on every day.
    """
    INSERT INTO users (email, name, password_hash, site, department, birth_year, role, active, auth_version, created_at)
    SELECT 'learner' || i || '@bench.test', 'Learner ' || i, '!unset',
           (CAST(:sites AS text[]))[1 + abs(hashtext('site ' || i)) % 20], 'Department ' || abs(hashtext('department ' || i)) % 12,
           CASE WHEN i % 17 = 0 THEN NULL ELSE 1961 + abs(hashtext('born ' || i)) % 45 END, 'learner', true, 1,
           now() AT TIME ZONE 'UTC' - make_interval(days => abs(hashtext('joined ' || i)) % 540)
    FROM generate_series(1, :n) AS i
    """,
    # Mentors, each reporting to a learner (their manager).
    """
    INSERT INTO users (email, name, password_hash, site, department, role, active, auth_version, created_at, manager_id)
    SELECT 'mentor' || i || '@bench.test', 'Mentor ' || i, '!unset', (CAST(:sites AS text[]))[1 + i % 20], 'Department ' || (i % 12), 'mentor', true, 1,
           now() AT TIME ZONE 'UTC' - interval '600 days', (SELECT min(id) FROM users) + (i * 7) % :n
    FROM generate_series(1, :mentors) AS i
    """,
    """
    CREATE TEMP TABLE bench_modules AS
    SELECT m.id, m.theme_id, m.current_revision_id, m.quiz_ids ->> 0 AS quiz_id,
           row_number() OVER (ORDER BY t.position, m.position) AS ord
    FROM modules m JOIN themes t ON t.id = m.theme_id WHERE m.current_revision_id IS NOT NULL
    """,
    # Progress: each learner reaches module `reach` (0 to 17): the modules before it completed, that one in progress.
    """
    INSERT INTO module_progress (user_id, module_id, status, first_opened_at, last_viewed_at, completed_at, best_score)
    SELECT u.id, m.id,
           CASE WHEN m.ord < r.reach OR r.reach = 17 THEN 'completed' ELSE 'in_progress' END,
           u.created_at + make_interval(days => m.ord::int * 4),
           u.created_at + make_interval(days => m.ord::int * 4 + 1 + u.id % 9),
           CASE WHEN m.ord < r.reach OR r.reach = 17 THEN u.created_at + make_interval(days => m.ord::int * 4 + 1 + u.id % 9) END,
           CASE WHEN m.ord < r.reach OR r.reach = 17 THEN 70 + u.id % 31 END
    FROM users u
    CROSS JOIN LATERAL (SELECT GREATEST(0, LEAST(17, (u.id * 37) % 21 - 2)) AS reach) r
    JOIN bench_modules m ON m.ord <= r.reach
    WHERE u.role = 'learner'
    """,
    # Quiz attempts: one per module with a quiz; one in five completions needed a second try.
    """
    INSERT INTO quiz_attempts (user_id, module_id, quiz_id, revision_id, question_ids, answers, results, score, pass_mark, passed,
                               first_try, created_at)
    SELECT p.user_id, p.module_id, m.quiz_id, m.current_revision_id, '[]', '{}', '[]',
           CASE WHEN p.status = 'completed' AND (p.id % 5 <> 0 OR a.n = 2) THEN 70 + p.id % 31 ELSE 30 + p.id % 39 END,
           70, p.status = 'completed' AND (p.id % 5 <> 0 OR a.n = 2), a.n = 1, p.first_opened_at + make_interval(hours => a.n)
    FROM module_progress p JOIN bench_modules m ON m.id = p.module_id
    CROSS JOIN generate_series(1, 2) AS a(n)
    WHERE m.quiz_id IS NOT NULL AND (a.n = 1 OR (p.status = 'completed' AND p.id % 5 = 0))
    """,
    # Four answers per attempt; question 3 is the hard one.
    """
    INSERT INTO question_answers (attempt_id, user_id, module_id, quiz_id, question_id, answer_key, correct, first_try, created_at)
    SELECT a.id, a.user_id, a.module_id, a.quiz_id, 'question-' || q, 'answer', a.passed OR (a.id + q) % (CASE WHEN q = 3 THEN 5 ELSE 2 END) = 0,
           a.attempt = 1, a.created_at
    FROM (SELECT *, row_number() OVER (PARTITION BY user_id, quiz_id ORDER BY id) AS attempt FROM quiz_attempts) a
    CROSS JOIN generate_series(1, 4) AS q
    """,
    # Sessions over the last 18 months and the next two, one in four individual, one in twenty cancelled.
    """
    INSERT INTO live_sessions (uid, theme_id, format, capacity, seats_taken, starts_at, duration_minutes, time_zone, site, room,
                               status, sequence, created_by_id, created_at, updated_at)
    SELECT 'bench-' || i || '@speak-digital', t.id, CASE WHEN i % 4 = 0 THEN 'individual' ELSE 'collective' END,
           CASE WHEN i % 4 = 0 THEN 1 ELSE 8 END, 0,
           now() AT TIME ZONE 'UTC' - make_interval(days => 540) + make_interval(hours => i * 6 / 5),
           CASE WHEN i % 3 = 0 THEN 60 ELSE 90 END, 'Europe/Paris', (CAST(:sites AS text[]))[1 + i % 20], 'Room ' || i % 9,
           CASE WHEN i % 20 = 0 THEN 'cancelled' ELSE 'scheduled' END, 0,
           (SELECT min(id) FROM users WHERE role = 'mentor') + i % :mentors, now() AT TIME ZONE 'UTC', now() AT TIME ZONE 'UTC'
    FROM generate_series(1, :sessions) AS i
    JOIN (SELECT id, row_number() OVER (ORDER BY position) - 1 AS k FROM themes) t ON t.k = i % 5
    """,
    "INSERT INTO session_hosts (session_id, mentor_id, position) SELECT id, created_by_id, 0 FROM live_sessions",
    # Seven of eight seats booked in group sessions; attendance for the sessions held; a waiting list in one in ten.
    """
    INSERT INTO bookings (session_id, learner_id, status, attendance, created_at, confirmed_at)
    SELECT s.id, (SELECT min(id) FROM users) + (s.id * 97 + j * 1013) % :n,
           CASE WHEN j <= LEAST(s.capacity, 7) THEN 'confirmed' ELSE 'waitlisted' END,
           CASE WHEN j <= LEAST(s.capacity, 7) AND s.starts_at < now() AT TIME ZONE 'UTC' AND s.status = 'scheduled'
                THEN CASE WHEN (s.id + j) % 7 = 0 THEN 'no_show' ELSE 'attended' END END,
           s.starts_at - interval '10 days', s.starts_at - interval '10 days'
    FROM live_sessions s CROSS JOIN generate_series(1, 10) AS j
    WHERE j <= LEAST(s.capacity, 7) OR (s.id % 10 = 0 AND s.capacity > 1)
    """,
    """
    UPDATE live_sessions s SET seats_taken = b.n
    FROM (SELECT session_id, count(*) AS n FROM bookings WHERE status = 'confirmed' GROUP BY session_id) b WHERE b.session_id = s.id
    """,
    # Questionnaire answers from two thirds of those who attended.
    """
    INSERT INTO session_feedback (booking_id, satisfaction, format_best_suited, changed_daily_usage, would_recommend, created_at)
    SELECT b.id, 2 + (b.id * 3) % 4,
           b.id % 4 <> 0, b.id % 3 <> 0, b.id % 5 <> 0, b.confirmed_at + interval '11 days'
    FROM bookings b WHERE b.attendance = 'attended' AND b.id % 3 <> 0
    """,
]


def ensure_database(url: str) -> None:
    """Create the benchmark database when it does not exist yet."""
    target = make_url(url)
    admin = create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        if connection.scalar(text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": target.database}) is None:
            connection.execute(text(f'CREATE DATABASE "{target.database}"'))
    admin.dispose()


def vacuum(engine: Engine) -> None:
    """VACUUM ANALYZE, as autovacuum does on a production server (the server here may run with autovacuum off)."""
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text("VACUUM ANALYZE"))


def generate(engine: Engine, learners: int) -> None:
    """An empty schema at head, the course, then the synthetic organisation."""
    drop_every_table(engine)
    upgrade(engine)
    with Session(engine) as session:
        import_catalog(session, load_catalog(ROOT / "content"))
        session.commit()
    parameters = {"n": learners, "sites": list(DEFAULT_SITES), "mentors": MENTORS, "sessions": SESSIONS}
    with engine.begin() as connection:
        for statement in GENERATE:
            start = time.perf_counter()
            connection.execute(text(statement), {k: v for k, v in parameters.items() if f":{k}" in statement})
            print(f"  {' '.join(statement.split())[:70]}... {time.perf_counter() - start:.1f} s", flush=True)
    with Session(engine) as session:
        start = time.perf_counter()
        session_figures.refresh(session)  # the bookings were inserted in bulk, not through the booking service
        session.commit()
        print(f"  session figures: attendance tallies and learners reached... {time.perf_counter() - start:.1f} s", flush=True)
    vacuum(engine)


def full_refresh(engine: Engine) -> float:
    """Recompute every HR figure from scratch, as the nightly job does; the seconds it took."""
    upgrade(engine)
    with Session(engine) as session:
        start = time.perf_counter()
        outcome = refresh.full_refresh(session)
        seconds = time.perf_counter() - start
    vacuum(engine)  # as autovacuum would after so many rows rewritten
    with engine.connect() as connection:
        sizes = {t: connection.scalar(text(f"SELECT count(*) FROM {t}")) for t in ("hr_learners", "hr_contributions", "daily_counts")}  # noqa: S608 - fixed names
    print(f"Full refresh of {outcome.learners:,} learners in {seconds:.1f} s: " + ", ".join(f"{t} {n:,}" for t, n in sizes.items()), flush=True)
    return seconds


CHANGES = [
    # A thousand learners each open a module again, and one in four of them tries a quiz: what a busy minute looks like.
    """
    UPDATE module_progress p SET last_viewed_at = now() AT TIME ZONE 'UTC', updated_at = now() AT TIME ZONE 'UTC'
    FROM (SELECT min(id) AS id FROM module_progress WHERE user_id IN (
        SELECT user_id FROM (SELECT DISTINCT user_id FROM module_progress) learning ORDER BY md5(user_id::text || :round) LIMIT :changed
    ) GROUP BY user_id) chosen
    WHERE p.id = chosen.id
    """,
    """
    INSERT INTO quiz_attempts (user_id, module_id, quiz_id, revision_id, question_ids, answers, results, score, pass_mark, passed,
                               first_try, created_at, updated_at)
    SELECT a.user_id, a.module_id, a.quiz_id, a.revision_id, '[]', '{}', '[]', 90, 70, true, false,
           now() AT TIME ZONE 'UTC', now() AT TIME ZONE 'UTC'
    FROM (SELECT DISTINCT ON (q.user_id) q.* FROM quiz_attempts q
          JOIN module_progress p ON p.user_id = q.user_id AND p.updated_at IS NOT NULL AND p.updated_at > now() AT TIME ZONE 'UTC' - interval '5 seconds'
          WHERE q.user_id % 4 = 0 ORDER BY q.user_id, q.id) a
    """,
]


def incremental_refreshes(engine: Engine, rounds: int = 5) -> list[tuple[int, float]]:
    """Change 1,000 learners, then bring the figures up to date as the job every minute does: (learners, seconds) per round."""
    results = []
    for number in range(rounds):
        with engine.begin() as connection:
            for statement in CHANGES:
                connection.execute(text(statement), {"changed": CHANGED, "round": str(number)} if ":changed" in statement else {})
        with Session(engine) as session:
            start = time.perf_counter()
            outcome = refresh.refresh(session)
            seconds = time.perf_counter() - start
        results.append((outcome.learners, seconds))
        print(f"  incremental refresh: {outcome.learners:,} learners recomputed in {seconds:.2f} s", flush=True)
        with engine.begin() as connection:  # as if the next round came minutes later: past the window the refresh looks back over
            for table in ("module_progress", "quiz_attempts"):
                connection.execute(text(f"UPDATE {table} SET updated_at = updated_at - interval '10 minutes' WHERE updated_at > now() AT TIME ZONE 'UTC' - interval '5 minutes'"))  # noqa: S608 - fixed names
    vacuum(engine)
    return results


def median_ms(action: Callable[[], object], runs: int) -> float:
    """The median wall time of `runs` runs of `action` (after one warm-up), in milliseconds."""
    action()
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        action()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def measure(url: str, runs: int) -> None:
    """Time the dashboard, filtered views and exports through the application, against a bare COUNT(*)."""
    app = create_app("testing", {"DATABASE_URL": url})
    engine = make_engine(url)
    with engine.begin() as connection:
        hr_id = connection.scalar(
            text("""INSERT INTO users (email, name, password_hash, site, role, active, auth_version, created_at)
                    VALUES ('hr@bench.test', 'Bench HR', '!unset', 'Lyon', 'hr', true, 1, now())
                    ON CONFLICT (email) DO UPDATE SET role = 'hr' RETURNING id""")
        )  # fmt: skip
        counts = {t: connection.scalar(text(f"SELECT count(*) FROM {t}")) for t in ("users", "module_progress", "quiz_attempts", "question_answers", "live_sessions", "bookings", "session_feedback")}  # noqa: S608 - fixed names
    print("Rows: " + ", ".join(f"{table} {n:,}" for table, n in counts.items()))
    client = app.test_client()
    with client.session_transaction() as session:
        session["_user_id"], session["_fresh"] = f"{hr_id}.1", True

    def get(path: str) -> Callable[[], object]:
        def fetch() -> object:
            response = client.get(path)
            if response.status_code != 200:
                raise RuntimeError(f"{path} answered {response.status_code}")
            return response

        return fetch

    warning = client.get("/hr/learner-status").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"|value="([^"]+)"', warning)
    form = {"csrf_token": (token.group(1) or token.group(2)) if token else ""}

    def export_people() -> object:
        response = client.post("/hr/learner-status", data=form)
        if response.status_code != 200:
            raise RuntimeError(f"the learner-status export answered {response.status_code}")
        return response

    def baseline() -> object:
        with engine.connect() as connection:
            return connection.scalar(text("SELECT count(*) FROM users"))

    base = median_ms(baseline, runs)
    print(f"\nMedian of {runs} runs, {platform.python_implementation()} {platform.python_version()}, {os.cpu_count()} cores\n")
    print(f"{'What':<58}{'ms':>10}{'x baseline':>12}")
    baseline_label = "Baseline: a bare COUNT(*) over users"
    print(f"{baseline_label:<58}{base:>10.1f}{1:>12.0f}")
    cases = [
        ("Dashboard, unfiltered (target < 300 ms)", get("/hr/")),
        ("Dashboard, one site (target < 300 ms)", get("/hr/?site=Lyon")),
        ("Dashboard, one site + department (target < 300 ms)", get("/hr/?site=Lyon&department=Department+3")),
        ("Dashboard, one department", get("/hr/?department=Department+3")),
        ("Dashboard, one theme", get("/hr/?theme=information-management")),
        ("Dashboard, last 90 days", get("/hr/?from=" + time.strftime("%Y-%m-%d", time.gmtime(time.time() - 90 * 86400)))),
        ("Dashboard, site + department + theme", get("/hr/?site=Lyon&department=Department+3&theme=information-management")),
        ("Export: modules table CSV", get("/hr/export/modules.csv")),
        ("Export: learner-by-module CSV, all learners", export_people),
    ]
    for label, action in cases:
        ms = median_ms(action, runs)
        print(f"{label:<58}{ms:>10.1f}{ms / base:>12.0f}")


PER_TABLE_FILTERS = {
    "unfiltered": {},
    "one department": {"department": "Department 3"},
    "one site": {"site": "Lyon"},
}


def measure_per_table(url: str, runs: int) -> None:
    """Where a dashboard's time goes: the median time of each table, and of the filter choices, per filter."""
    from app.extensions import db
    from app.hr import stats

    app = create_app("testing", {"DATABASE_URL": url})
    builders: list[tuple[str, Callable[[Session, stats.Filters], object]]] = list(stats.TABLE_NAMES.items())
    builders.append(("filter choices", lambda session, _filters: stats.filter_choices(session)))
    print(f"\n{'Table (ms, median of ' + str(runs) + ')':<28}" + "".join(f"{name:>16}" for name in PER_TABLE_FILTERS))
    with app.app_context():
        for name, build in builders:
            figures = []
            for values in PER_TABLE_FILTERS.values():
                filters = stats.Filters(**values)
                figures.append(median_ms(lambda: build(db.session, filters), runs))  # noqa: B023 - called at once
                db.session.rollback()
            print(f"{name:<28}" + "".join(f"{ms:>16.1f}" for ms in figures))


def machine() -> str:
    """The machine the figures were measured on: cores, CPU model, Python and PostgreSQL versions."""
    cores = subprocess.run(["nproc"], capture_output=True, text=True, check=False).stdout.strip()  # noqa: S607 - coreutils
    model = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines() if line.startswith("model name")), "unknown CPU")
    return f"{cores} cores (nproc), {model}, {platform.python_implementation()} {platform.python_version()}"


def main() -> None:
    """Generate (unless --reuse) and measure."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL))
    parser.add_argument("--learners", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--reuse", action="store_true", help="Keep the data generated by a previous run.")
    parser.add_argument("--per-table", action="store_true", help="Also time each table of the dashboard on its own.")
    parser.add_argument("--dashboard-only", action="store_true", help="With --reuse: time the dashboard on the figures already there.")
    arguments = parser.parse_args()
    print("Command: " + " ".join(["python", *sys.argv]))
    print("Machine: " + machine(), flush=True)
    ensure_database(arguments.url)
    if not arguments.reuse:
        print(f"Generating {arguments.learners:,} learners...", flush=True)
        start = time.perf_counter()
        generate(make_engine(arguments.url), arguments.learners)
        print(f"Generated in {time.perf_counter() - start:.0f} s", flush=True)
    engine = make_engine(arguments.url)
    if not arguments.dashboard_only:
        full = full_refresh(engine)
        changed = incremental_refreshes(engine)
    measure(arguments.url, arguments.runs)
    if arguments.per_table:
        measure_per_table(arguments.url, arguments.runs)
    if not arguments.dashboard_only:
        seconds = sorted(s for _n, s in changed)
        print(f"\nFull refresh: {full:.1f} s (target < 60 s); 1,000 changed learners brought up to date: median {seconds[len(seconds) // 2]:.2f} s (target < 2 s)")


if __name__ == "__main__":
    main()
