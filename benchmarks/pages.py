"""How fast the learner's pages answer under load: gunicorn on PostgreSQL driven by wrk, against /healthz in the same run.

Run: .venv/bin/python benchmarks/pages.py [--url postgresql+psycopg://postgres@127.0.0.1:5432/bench_pages]
     [--duration 10] [--connections 20,100] [--learners 3000] [--warmup 2] [--workers 2] [--show-sql] [--log FILE]
     [--queue-url redis://127.0.0.1:6379/15]
Needs wrk (the Debian package) and a PostgreSQL server. Creates the database if it is missing, empties it, migrates it
to head, imports the course and fills it with bulk INSERT ... SELECT: learners with progress, quiz attempts and
answers, mentors, past sessions with bookings, attendance and questionnaire answers, and upcoming group sessions with
seats free, then brings the session figures up to date and runs VACUUM ANALYZE.

It counts the SQL statements of the learner's requests in-process (Flask test client, production mode, same
database, an SQLAlchemy `before_cursor_execute` listener): how many, how many write, and the slowest. Then it starts
gunicorn as `speak-digital serve` does (`--workers 2 --access-logfile -`, production mode) on a free loopback port,
signs in one learner per connection and page through the real login form (CSRF token read from the page), and drives
each page with wrk, one thread per connection, through a generated Lua script that carries that learner's cookie and
CSRF token: /healthz (the baseline), the home page, the course page, a module page, a quiz submission (right answers)
and bookings (each connection books five upcoming sessions, the most one learner may hold, reads /my-sessions for
the bookings' ids and cancels them, over and over; bookings left over are cancelled before each run), at 20 and at
100 connections for --duration seconds each, after a warm-up. It prints requests/s, p50 and p99 latency, answers
outside 2xx/3xx, 5xx answers in gunicorn's access log and the ratio to /healthz beside the targets of issue 13, and
stops gunicorn at the end, also on Ctrl+C or an error. Loads go to 127.0.0.1 only.
"""

from __future__ import annotations

import argparse
import http.cookiejar
import json
import math
import os
import platform
import re
import secrets
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import textwrap
import time
import urllib.error
import urllib.parse
import urllib.request
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from importlib import metadata
from pathlib import Path
from typing import Any, NoReturn

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Engine, create_engine, event, func, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app import create_app
from app.authoring.content import import_catalog
from app.config import DEFAULT_SITES
from app.db import make_engine
from app.migrate import drop_every_table, upgrade
from app.models import ModuleRecord, ModuleRevision
from app.security import hash_password
from app.sessions import figures as session_figures
from course import load_catalog

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/bench_pages"
PASSWORD = "bench pages password"  # noqa: S105 - the accounts of a throwaway benchmark database
USER_AGENT = "speak-digital-bench/1"  # the same for signing in and under load: Flask-Login ties the session to it
DOMAIN = "bench-pages.test"
ACCOUNT_KINDS = ("reader", "quizzer", "booker")  # one set per kind of page, so that quizzing never slows the reading
BOOKINGS_PER_CYCLE = 5  # the platform's default cap on a learner's upcoming bookings
CAPACITY = 15  # the largest group session
PREBOOKED = 3  # seats of each upcoming session already held by other learners
MODULE_ORDER = 4  # the module page measured: the fourth in course order, the first three completed
WRK_TIMEOUT_S = 20  # wrk's per-request timeout: slow answers are measured rather than dropped
START_TIMEOUT_S = 60
CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="csrf_token"')
WRITE_RE = re.compile(
    r"^\s*(INSERT|UPDATE|DELETE|LOCK|MERGE|TRUNCATE)\b|\bFOR\s+(NO\s+KEY\s+)?UPDATE\b|\bFOR\s+(KEY\s+)?SHARE\b"
    r"|^\s*WITH\b.*\b(INSERT|UPDATE|DELETE)\b",
    re.IGNORECASE | re.DOTALL,
)
ACCESS_STATUS_RE = re.compile(r'" (\d{3}) ')
STATEMENT_TARGETS = {"module page, opened before": (6, 1)}

# Each statement is one bulk INSERT ... SELECT. :n learners, :mentors mentors, :accounts signed-in accounts per kind.
GENERATE = [
    # Learners on 20 sites and 12 departments, who joined 90 to 540 days ago.
    """
    INSERT INTO users (email, name, password_hash, site, department, birth_year, role, active, auth_version, created_at)
    SELECT 'learner' || i || '@' || :domain, 'Learner ' || i, '!unset',
           (CAST(:sites AS text[]))[1 + abs(hashtext('site ' || i)) % 20], 'Department ' || abs(hashtext('department ' || i)) % 12,
           CASE WHEN i % 17 = 0 THEN NULL ELSE 1961 + abs(hashtext('born ' || i)) % 45 END, 'learner', true, 1,
           now() AT TIME ZONE 'UTC' - make_interval(days => 90 + abs(hashtext('joined ' || i)) % 450)
    FROM generate_series(1, :n) AS i
    """,
    # Mentors, each reporting to a learner.
    """
    INSERT INTO users (email, name, password_hash, site, department, role, active, auth_version, created_at, manager_id)
    SELECT 'mentor' || i || '@' || :domain, 'Mentor ' || i, '!unset', (CAST(:sites AS text[]))[1 + i % 20], 'Department ' || (i % 12),
           'mentor', true, 1, now() AT TIME ZONE 'UTC' - interval '600 days', (SELECT min(id) FROM users) + (i * 7) % :n
    FROM generate_series(1, :mentors) AS i
    """,
    # The accounts that sign in: readers, quizzers and bookers, with a real password.
    """
    INSERT INTO users (email, name, password_hash, site, department, birth_year, role, active, auth_version, created_at)
    SELECT kind || i || '@' || :domain, initcap(kind) || ' ' || i, :hash, 'Lyon', 'Department ' || i % 12, 1975 + i % 25,
           'learner', true, 1, now() AT TIME ZONE 'UTC' - interval '60 days'
    FROM unnest(CAST(:kinds AS text[])) AS kind CROSS JOIN generate_series(1, :accounts) AS i
    """,
    """
    CREATE TEMP TABLE bench_modules AS
    SELECT m.id, m.theme_id, m.current_revision_id, m.quiz_ids ->> 0 AS quiz_id,
           row_number() OVER (ORDER BY t.position, m.position) AS ord
    FROM modules m JOIN themes t ON t.id = m.theme_id WHERE m.current_revision_id IS NOT NULL
    """,
    # Progress: each learner reaches a module (0 to all): those before it completed, that one in progress. The accounts
    # that sign in have completed the modules before the one measured and are reading it.
    """
    INSERT INTO module_progress (user_id, module_id, status, first_opened_at, last_viewed_at, completed_at, best_score)
    SELECT u.id, m.id,
           CASE WHEN m.ord < r.reach THEN 'completed' ELSE 'in_progress' END,
           u.created_at + make_interval(days => m.ord::int * 4),
           u.created_at + make_interval(days => m.ord::int * 4 + 1 + u.id % 9),
           CASE WHEN m.ord < r.reach THEN u.created_at + make_interval(days => m.ord::int * 4 + 1 + u.id % 9) END,
           CASE WHEN m.ord < r.reach THEN 70 + u.id % 31 END
    FROM users u
    CROSS JOIN LATERAL (SELECT CASE WHEN u.email LIKE 'learner%' THEN GREATEST(0, LEAST(:k + 1, (u.id * 37) % (:k + 6) - 2))
                                    ELSE :reach END AS reach) r
    JOIN bench_modules m ON m.ord <= LEAST(r.reach, :k)
    WHERE u.role = 'learner' AND u.email LIKE '%@' || :domain
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
    """
    INSERT INTO question_answers (attempt_id, user_id, module_id, quiz_id, question_id, answer_key, correct, first_try, created_at)
    SELECT a.id, a.user_id, a.module_id, a.quiz_id, 'question-' || q, 'answer', a.passed OR (a.id + q) % (CASE WHEN q = 3 THEN 5 ELSE 2 END) = 0,
           a.attempt = 1, a.created_at
    FROM (SELECT *, row_number() OVER (PARTITION BY user_id, quiz_id ORDER BY id) AS attempt FROM quiz_attempts) a
    CROSS JOIN generate_series(1, 4) AS q
    """,
    # Past sessions over the last year, one in four individual, one in twenty cancelled.
    """
    INSERT INTO live_sessions (uid, theme_id, format, capacity, seats_taken, starts_at, duration_minutes, time_zone, site, room,
                               status, sequence, created_by_id, created_at, updated_at)
    SELECT 'bench-past-' || i || '@speak-digital', t.id, CASE WHEN i % 4 = 0 THEN 'individual' ELSE 'collective' END,
           CASE WHEN i % 4 = 0 THEN 1 ELSE 8 END, 0,
           now() AT TIME ZONE 'UTC' - interval '365 days' + make_interval(mins => i * :past_spacing),
           CASE WHEN i % 3 = 0 THEN 60 ELSE 90 END, 'Europe/Paris', (CAST(:sites AS text[]))[1 + i % 20], 'Room ' || i % 9,
           CASE WHEN i % 20 = 0 THEN 'cancelled' ELSE 'scheduled' END, 0,
           (SELECT min(id) FROM users WHERE role = 'mentor') + i % :mentors, now() AT TIME ZONE 'UTC', now() AT TIME ZONE 'UTC'
    FROM generate_series(1, :past) AS i
    JOIN (SELECT id, row_number() OVER (ORDER BY position) - 1 AS k FROM themes) t ON t.k = i % 5
    """,
    # Upcoming group sessions, one every :spacing minutes from tomorrow, all inside the listing's eight weeks.
    """
    INSERT INTO live_sessions (uid, theme_id, format, capacity, seats_taken, starts_at, duration_minutes, time_zone, site, room,
                               status, sequence, created_by_id, created_at, updated_at)
    SELECT 'bench-next-' || i || '@speak-digital', t.id, 'collective', :capacity, 0,
           date_trunc('hour', now() AT TIME ZONE 'UTC') + interval '1 day' + make_interval(mins => (i - 1) * :spacing),
           90, 'Europe/Paris', (CAST(:sites AS text[]))[1 + i % 20], 'Room ' || i % 9, 'scheduled', 0,
           (SELECT min(id) FROM users WHERE role = 'mentor') + (i * 7) % :mentors, now() AT TIME ZONE 'UTC', now() AT TIME ZONE 'UTC'
    FROM generate_series(1, :upcoming) AS i
    JOIN (SELECT id, row_number() OVER (ORDER BY position) - 1 AS k FROM themes) t ON t.k = i % 5
    """,
    "INSERT INTO session_hosts (session_id, mentor_id, position) SELECT id, created_by_id, 0 FROM live_sessions",
    # Seven of eight seats booked in past group sessions, with attendance; a few seats held in every upcoming one.
    """
    INSERT INTO bookings (session_id, learner_id, status, attendance, created_at, confirmed_at)
    SELECT s.id, (SELECT min(id) FROM users) + (s.id * 97 + j * 1013) % :n, 'confirmed',
           CASE WHEN s.starts_at < now() AT TIME ZONE 'UTC' AND s.status = 'scheduled'
                THEN CASE WHEN (s.id + j) % 7 = 0 THEN 'no_show' ELSE 'attended' END END,
           s.starts_at - interval '10 days', s.starts_at - interval '10 days'
    FROM live_sessions s CROSS JOIN generate_series(1, 7) AS j
    WHERE j <= CASE WHEN s.uid LIKE 'bench-next-%' THEN :prebooked ELSE LEAST(s.capacity, 7) END
    """,
    """
    UPDATE live_sessions s SET seats_taken = b.n
    FROM (SELECT session_id, count(*) AS n FROM bookings WHERE status = 'confirmed' GROUP BY session_id) b WHERE b.session_id = s.id
    """,
    """
    INSERT INTO session_feedback (booking_id, satisfaction, format_best_suited, changed_daily_usage, would_recommend, created_at)
    SELECT b.id, 2 + (b.id * 3) % 4, b.id % 4 <> 0, b.id % 3 <> 0, b.id % 5 <> 0, b.confirmed_at + interval '11 days'
    FROM bookings b WHERE b.attendance = 'attended' AND b.id % 3 <> 0
    """,
]
RESET_BOOKINGS = [
    """
    UPDATE bookings SET status = 'cancelled', cancelled_at = now() AT TIME ZONE 'UTC'
    WHERE status <> 'cancelled' AND learner_id IN (SELECT id FROM users WHERE email LIKE 'booker%@' || :domain)
    """,
    """
    UPDATE live_sessions s SET seats_taken = (SELECT count(*) FROM bookings b WHERE b.session_id = s.id AND b.status = 'confirmed')
    WHERE s.uid LIKE 'bench-next-%'
    """,
]

# One connection's learner per wrk thread (wrk runs as many threads as connections): the globals are that connection's
# cookie, what it does next and what it measured. done() gathers the threads' flat tables (wrk cannot copy nested ones).
LUA = r"""
local ffi = require("ffi")
ffi.cdef[[
typedef struct { long tv_sec; long tv_nsec; } bench_timespec;
int clock_gettime(int clk_id, bench_timespec *tp);
]]
local clock = ffi.new("bench_timespec")
local function now_us()
  ffi.C.clock_gettime(1, clock)  -- CLOCK_MONOTONIC
  return tonumber(clock.tv_sec) * 1000000 + tonumber(clock.tv_nsec) / 1000
end

local MODE = __MODE__
local PATH = __PATH__
local USER_AGENT = __USER_AGENT__
local ACCOUNTS = __ACCOUNTS__
local KINDS = {"page", "book", "list", "cancel"}
local threads, created = {}, 0

function setup(thread)
  created = created + 1
  thread:set("number", created)
  threads[#threads + 1] = thread
end

function init(args)
  account = ACCOUNTS[number]
  cookie = account and account.cookie
  statuses = {}
  lat_page, lat_book, lat_list, lat_cancel = {}, {}, {}, {}
  phase, index, cancels, kind, started = "book", 1, {}, "page", 0
end

function request()
  local headers = {["User-Agent"] = USER_AGENT}
  if cookie then headers["Cookie"] = cookie end
  local method, path, body = "GET", PATH, nil
  kind = "page"
  if MODE == "post" then
    method, body = "POST", account.body
  elseif MODE == "booking" then
    if phase == "book" then
      kind, method, path, body = "book", "POST", "/sessions/" .. account.sessions[index] .. "/book", account.body
    elseif phase == "list" then
      kind, path = "list", "/my-sessions"
    else
      kind, method, path, body = "cancel", "POST", "/bookings/" .. cancels[index] .. "/cancel", account.body
    end
  end
  if body then headers["Content-Type"] = "application/x-www-form-urlencoded" end
  started = now_us()
  return wrk.format(method, path, headers, body)
end

function response(status, headers, body)
  local elapsed = now_us() - started
  local key = kind .. " " .. status
  statuses[key] = (statuses[key] or 0) + 1
  local samples = _G["lat_" .. kind]
  samples[#samples + 1] = elapsed
  local set_cookie = headers["Set-Cookie"]
  if cookie and set_cookie then  -- as a browser keeps the session cookie the server sends back
    local value = set_cookie:match("^(session=[^;]+)")
    if value then cookie = value end
  end
  if MODE ~= "booking" then return end
  if phase == "book" then
    index = index + 1
    if index > #account.sessions then phase = "list" end
  elseif phase == "list" then
    cancels, index = {}, 1
    local seen = {}
    for id in (body or ""):gmatch("/bookings/(%d+)/cancel") do
      if not seen[id] then seen[id] = true; cancels[#cancels + 1] = id end
    end
    if #cancels > 0 then phase = "cancel" else phase = "book" end
  else
    index = index + 1
    if index > #cancels then phase, index = "book", 1 end
  end
end

local function percentile(sorted, p)
  if #sorted == 0 then return 0 end
  return sorted[math.max(1, math.ceil(p / 100 * #sorted))]
end

function done(summary, latency, requests)
  local counts, samples = {}, {}
  for _, k in ipairs(KINDS) do samples[k] = {} end
  for _, thread in ipairs(threads) do
    for key, n in pairs(thread:get("statuses")) do counts[key] = (counts[key] or 0) + n end
    for _, k in ipairs(KINDS) do
      local list = samples[k]
      for _, v in ipairs(thread:get("lat_" .. k)) do list[#list + 1] = v end
    end
  end
  local parts, steps = {}, {}
  for key, n in pairs(counts) do parts[#parts + 1] = string.format('"%s": %.0f', key, n) end
  for _, k in ipairs(KINDS) do
    local list = samples[k]
    if #list > 0 then
      table.sort(list)
      steps[#steps + 1] = string.format('"%s": {"count": %.0f, "p50_us": %.0f, "p99_us": %.0f}', k, #list, percentile(list, 50), percentile(list, 99))
    end
  end
  local e = summary.errors
  io.write(string.format(
    'BENCH_JSON {"requests": %.0f, "duration_us": %.0f, "p50_us": %.0f, "p99_us": %.0f, "max_us": %.0f, ' ..
    '"errors": {"connect": %.0f, "read": %.0f, "write": %.0f, "status": %.0f, "timeout": %.0f}, "statuses": {%s}, "steps": {%s}}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99), latency.max,
    e.connect, e.read, e.write, e.status, e.timeout, table.concat(parts, ", "), table.concat(steps, ", ")))
end
"""


@dataclass(frozen=True)
class Account:
    """A signed-in learner: the session cookie to send and the CSRF token of its forms."""

    email: str
    cookie: str
    csrf: str


@dataclass(frozen=True)
class Course:
    """What the benchmark reads and answers: the module measured, its first quiz and that quiz's right answers."""

    module_id: str
    unopened_module_ids: tuple[str, str]
    quiz_id: str
    revision_id: int
    answers: tuple[tuple[str, str], ...]
    upcoming_sessions: tuple[int, ...]


@dataclass(frozen=True)
class Page:
    """One page under load: how wrk asks for it, whose account it needs and what it is measured against."""

    key: str
    label: str
    mode: str  # "get", "post" or "booking"
    path: str
    accounts: str | None
    target: float | None


@dataclass
class Result:
    """What wrk measured for one page at one number of connections."""

    page: Page
    connections: int
    requests: int
    seconds: float
    p50_ms: float
    p99_ms: float
    max_ms: float
    non_2xx_3xx: int
    socket_errors: int
    server_5xx: int
    statuses: dict[str, int]
    steps: dict[str, dict[str, float]]

    @property
    def per_second(self) -> float:
        """Requests answered per second."""
        return self.requests / self.seconds if self.seconds else 0.0


@dataclass
class Statements:
    """The SQL statements of one request, with how long each took in the database driver."""

    executed: list[tuple[str, float]] = field(default_factory=list)

    @property
    def writes(self) -> list[str]:
        """The statements that write or lock."""
        return [sql for sql, _ in self.executed if WRITE_RE.search(sql)]


def stop_on_sigterm() -> None:
    """Turn SIGTERM into SystemExit, so that the server is stopped on the way out as on Ctrl+C."""

    def leave(_signum: int, _frame: object) -> NoReturn:
        raise SystemExit(143)

    signal.signal(signal.SIGTERM, leave)


def normalized_url(url: str) -> str:
    """The database URL with the psycopg driver; only PostgreSQL is benchmarked."""
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    if not url.startswith("postgresql+psycopg://"):
        raise SystemExit(f"benchmarks/pages.py measures PostgreSQL; {url!r} is not a postgresql+psycopg:// URL")
    return url


def ensure_database(url: str) -> None:
    """Create the benchmark database when it does not exist yet."""
    target = make_url(url)
    admin = create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        if connection.scalar(text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": target.database}) is None:
            connection.execute(text(f'CREATE DATABASE "{target.database}"'))
    admin.dispose()


def vacuum(engine: Engine) -> None:
    """VACUUM ANALYZE, as autovacuum would do before a production server sees its traffic."""
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text("VACUUM ANALYZE"))


def generate(app: Flask, engine: Engine, learners: int, accounts: int, max_connections: int) -> None:
    """An empty schema at head, the course, the synthetic learners and sessions, the session figures brought up to date."""
    drop_every_table(engine)
    upgrade(engine)
    with Session(engine) as session:
        import_catalog(session, load_catalog(ROOT / "content"))
        session.commit()
        modules = session.scalar(
            select(func.count()).select_from(ModuleRecord).where(ModuleRecord.current_revision_id.is_not(None))
        )
    with app.app_context():
        password_hash = hash_password(PASSWORD)  # production's Argon2 cost, so that signing in costs what it costs
    # Enough upcoming sessions that every connection's five bookings find a free seat: at most 12 bookers a session.
    upcoming = max(40, math.ceil(max_connections * BOOKINGS_PER_CYCLE / (CAPACITY - PREBOOKED)))
    spacing = (54 * 24 * 60) // upcoming
    if spacing < 90:
        raise SystemExit(f"{max_connections} connections need {upcoming} sessions, more than eight weeks hold without overlaps")
    past = max(100, learners // 8)
    parameters: dict[str, Any] = {
        "n": learners,
        "mentors": max(20, learners // 50),
        "accounts": accounts,
        "kinds": list(ACCOUNT_KINDS),
        "hash": password_hash,
        "sites": list(DEFAULT_SITES),
        "k": int(modules or 0),
        "reach": MODULE_ORDER,
        "past": past,
        "past_spacing": (365 * 24 * 60) // past,
        "upcoming": upcoming,
        "spacing": spacing,
        "capacity": CAPACITY,
        "prebooked": PREBOOKED,
        "domain": DOMAIN,
    }
    with engine.begin() as connection:
        for statement in GENERATE:
            start = time.perf_counter()
            connection.execute(text(statement), {k: v for k, v in parameters.items() if re.search(rf":{k}\b", statement)})
            print(f"  {' '.join(statement.split())[:70]}... {time.perf_counter() - start:.1f} s", flush=True)
    with Session(engine) as session:
        start = time.perf_counter()
        session_figures.refresh(session)  # the bookings were inserted in bulk, not through the booking service
        session.commit()
        print(f"  session figures rebuilt... {time.perf_counter() - start:.1f} s", flush=True)
    vacuum(engine)


def course_facts(app: Flask) -> Course:
    """The module measured, a module the readers never opened, the quiz and its right answers, the upcoming sessions."""
    from app.extensions import db
    from app.learning.services import load_outline, parsed_revision

    with app.app_context():
        modules = load_outline(db.session).modules
        measured = next((m for m in modules[MODULE_ORDER - 1 :] if m.quiz_ids), None)
        if measured is None:
            raise SystemExit(f"no module with a quiz from position {MODULE_ORDER} of the course")
        record = db.session.get(ModuleRecord, measured.id)
        revision = db.session.get(ModuleRevision, record.current_revision_id) if record else None
        if record is None or revision is None:
            raise SystemExit(f"module {measured.id} is not published")
        quiz = parsed_revision(revision).quiz(str(record.quiz_ids[0]))
        if quiz is None:
            raise SystemExit(f"module {measured.id} has no quiz {record.quiz_ids[0]}")
        answers: list[tuple[str, str]] = []
        for question in quiz.questions:
            if question.kind.has_choices:
                answers.extend((f"q-{question.id}", choice) for choice in sorted(question.correct_choice_ids))
            else:
                answers.append((f"q-{question.id}", question.accepted[0]))
        sessions = db.session.scalars(text("SELECT id FROM live_sessions WHERE uid LIKE 'bench-next-%' ORDER BY starts_at, id"))
        return Course(
            measured.id, (modules[-1].id, modules[-2].id), quiz.id, revision.id, tuple(answers), tuple(int(s) for s in sessions)
        )


def sessions_of(course: Course, connection: int) -> list[int]:
    """The five upcoming sessions connection number `connection` (from 0) books: consecutive, so never at one time."""
    upcoming = course.upcoming_sessions
    return [upcoming[(connection * BOOKINGS_PER_CYCLE + k) % len(upcoming)] for k in range(BOOKINGS_PER_CYCLE)]


def reset_bookings(engine: Engine) -> None:
    """Cancel every booking the bookers still hold and recount the seats, so that each run starts with seats free."""
    with engine.begin() as connection:
        for statement in RESET_BOOKINGS:
            connection.execute(text(statement), {"domain": DOMAIN} if ":domain" in statement else {})


def csrf_token(html: str) -> str:
    """The CSRF token of the first form in a page."""
    match = CSRF_RE.search(html)
    if not match:
        raise RuntimeError("the page has no CSRF token: " + html[:300])
    return match.group(1) or match.group(2)


# Counting statements in-process.


@contextmanager
def recorded_statements(engine: Engine) -> Iterator[Statements]:
    """Record every statement sent to the database inside the block, with its driver time."""
    recorded = Statements()

    def before(_conn: Any, _cursor: Any, statement: str, _parameters: Any, context: Any, _executemany: bool) -> None:
        context._bench_started = time.perf_counter()

    def after(_conn: Any, _cursor: Any, statement: str, _parameters: Any, context: Any, _executemany: bool) -> None:
        recorded.executed.append((" ".join(statement.split()), (time.perf_counter() - context._bench_started) * 1000))

    event.listen(engine, "before_cursor_execute", before)
    event.listen(engine, "after_cursor_execute", after)
    try:
        yield recorded
    finally:
        event.remove(engine, "before_cursor_execute", before)
        event.remove(engine, "after_cursor_execute", after)


def signed_in_client(app: Flask, email: str) -> tuple[FlaskClient, str]:
    """A test client signed in through the login form, and a CSRF token of its session."""
    client = app.test_client()
    client.environ_base["HTTP_USER_AGENT"] = USER_AGENT
    token = csrf_token(client.get("/login").get_data(as_text=True))
    answer = client.post("/login", data={"email": email, "password": PASSWORD, "csrf_token": token})
    if answer.status_code != 302:
        raise RuntimeError(f"signing in {email} in-process answered {answer.status_code}")
    return client, csrf_token(client.get("/sessions").get_data(as_text=True))


def write_summary(statement: str) -> str:
    """A write in a few words: its verb and table."""
    verb = re.match(
        r"\s*(INSERT\s+INTO|UPDATE|DELETE\s+FROM|LOCK\s+TABLE|MERGE\s+INTO|TRUNCATE)\s+(\w+)", statement, re.IGNORECASE
    )
    if verb:
        return f"{verb.group(1).split()[0].upper()} {verb.group(2)}"
    table = re.search(r"\bFROM\s+(\w+)", statement, re.IGNORECASE)
    return f"SELECT {table.group(1) if table else '?'} FOR UPDATE"


Case = tuple[str | None, FlaskClient, str, list[tuple[str, str]] | None]


def count_statements(app: Flask, course: Course, show_sql: bool, after_load: bool = False) -> None:
    """Print how many statements, writes among them, each of the learner's requests sends, and the slowest.

    After the load, the same accounts have a long history (attempts, cancelled bookings): what it costs them now.
    """
    from app.extensions import db

    if db.engine is None:
        raise RuntimeError("the application has no engine")
    reader, _ = signed_in_client(app, f"reader1@{DOMAIN}")
    quizzer, quiz_token = signed_in_client(app, f"quizzer1@{DOMAIN}")
    booker, book_token = signed_in_client(app, f"booker1@{DOMAIN}")
    quiz = (
        f"/modules/{course.module_id}/quizzes/{course.quiz_id}",
        [("csrf_token", quiz_token), ("revision", str(course.revision_id)), *course.answers],
    )
    book = (f"/sessions/{course.upcoming_sessions[0]}/book", [("csrf_token", book_token)])
    module, first, other = (f"/modules/{m}" for m in (course.module_id, *course.unopened_module_ids))
    # (label or None for an uncounted warm-up, client, path, form): each request counted is made once uncounted
    # before, where it can be, so that what a worker does only once is left out.
    cases: list[Case] = [
        (None, reader, "/", None),
        ("home page", reader, "/", None),
        (None, reader, "/themes", None),
        ("course page", reader, "/themes", None),
        (None, reader, module, None),
        ("module page, opened before", reader, module, None),
        (None, reader, other, None),
        ("module page, first opening", reader, first, None),
        ("quiz submission, first pass", quizzer, *quiz),
        ("quiz submission, again", quizzer, *quiz),
        ("booking", booker, *book),
    ]
    title = "SQL statements per request (one signed-in learner, in-process, same database; COMMIT not counted):"
    if after_load:
        with db.engine.connect() as connection:
            attempts = connection.scalar(
                text("SELECT count(*) FROM quiz_attempts a JOIN users u ON u.id = a.user_id WHERE u.email = :email"),
                {"email": f"quizzer1@{DOMAIN}"},
            )
            bookings = connection.scalar(
                text("SELECT count(*) FROM bookings b JOIN users u ON u.id = b.learner_id WHERE u.email = :email"),
                {"email": f"booker1@{DOMAIN}"},
            )
        cases = [
            ("module page, opened before", reader, module, None),
            ("quiz submission, again", quizzer, *quiz),
            ("booking", booker, *book),
            ("my sessions page", booker, "/my-sessions", None),
        ]
        title = f"After the load, the same requests of accounts with a history ({attempts:,} attempts; {bookings:,} bookings, cancelled):"
    print("\n" + title)
    print(f"  {'Request':<30}{'request':>9}{'statements':>11}{'writes':>8}{'target':>14}{'slowest':>10}  slowest statement")
    for label, client, path, form in cases:
        print_counted(db.engine, label, client, path, form, show_sql)


def print_counted(
    engine: Engine, label: str | None, client: FlaskClient, path: str, form: list[tuple[str, str]] | None, show_sql: bool
) -> None:
    """Make one request in-process and print its time, statements, writes and slowest statement (nothing for a warm-up)."""
    started = time.perf_counter()
    with recorded_statements(engine) as recorded:
        if form is None:
            answer = client.get(path)
        else:
            answer = client.post(path, data=urllib.parse.urlencode(form), content_type="application/x-www-form-urlencoded")
    took_ms = (time.perf_counter() - started) * 1000
    expected = 200 if form is None else 302
    if answer.status_code != expected:
        print(f"  {label or path}: answered {answer.status_code}, expected {expected}")
    if label is None:
        return
    target = STATEMENT_TARGETS.get(label)
    goal = f"<= {target[0]}, <= {target[1]}" if target else ""
    sql, ms = max(recorded.executed, key=lambda item: item[1], default=("", 0.0))
    print(
        f"  {label:<30}{took_ms:>7.1f}ms{len(recorded.executed):>11}{len(recorded.writes):>8}{goal:>14}{ms:>8.1f}ms  {sql[:62]}"
    )
    if recorded.writes:
        summary = ", ".join(write_summary(statement) for statement in recorded.writes)
        print(textwrap.fill(summary, width=128, initial_indent=" " * 41 + "writes: ", subsequent_indent=" " * 49))
    if show_sql:
        for statement, took in recorded.executed:
            print(f"  {'':<30}{took:6.2f} ms  {statement[:110]}")


# The server and the load.


def free_port() -> int:
    """A TCP port free on the loopback interface now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def gunicorn_command(port: int, workers: int) -> list[str]:
    """What `speak-digital serve --bind 127.0.0.1:PORT --workers N` runs (app/cli.py)."""
    gunicorn = ROOT / ".venv" / "bin" / "gunicorn"
    if not gunicorn.exists():
        gunicorn = Path(sys.executable).with_name("gunicorn")
    return [
        str(gunicorn),
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        str(workers),
        "--access-logfile",
        "-",
        "app.wsgi:application",
    ]


@contextmanager
def running_server(port: int, workers: int, env: dict[str, str], log_path: Path) -> Iterator[str]:
    """Gunicorn serving the platform on 127.0.0.1:`port` until the block ends, however it ends."""
    base = f"http://127.0.0.1:{port}"
    with log_path.open("ab") as log:
        process = subprocess.Popen(  # noqa: S603 - our own server, arguments built here
            gunicorn_command(port, workers), cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            if process.poll() is not None:
                raise RuntimeError(
                    f"gunicorn stopped at start (status {process.returncode}):\n" + log_path.read_text(errors="replace")[-3000:]
                )
            try:
                with urllib.request.urlopen(base + "/healthz", timeout=2) as answer:  # noqa: S310 - our own server on loopback
                    if answer.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(
                    f"/healthz did not answer within {START_TIMEOUT_S} s:\n" + log_path.read_text(errors="replace")[-3000:]
                )
            time.sleep(0.2)
        yield base
    finally:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)  # the group of the server started above, and nothing else
                process.wait(timeout=10)


class NoRedirect(urllib.request.HTTPRedirectHandler):
    """Answers 3xx as they are, as the tests' browsers do."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def sign_in(base: str, email: str) -> Account:
    """Sign `email` in through the login form over HTTP; its cookie and a CSRF token read from the sessions page."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar), NoRedirect())
    opener.addheaders = [("User-Agent", USER_AGENT)]

    def fetch(path: str, form: dict[str, str] | None = None) -> tuple[int, str]:
        body = urllib.parse.urlencode(form).encode() if form is not None else None
        try:
            with opener.open(base + path, body, timeout=60) as answer:
                return int(answer.status), answer.read().decode()
        except urllib.error.HTTPError as error:
            return int(error.code), error.read().decode()

    _, page = fetch("/login")
    status, _ = fetch("/login", {"email": email, "password": PASSWORD, "csrf_token": csrf_token(page)})
    if status != 302:
        raise RuntimeError(f"signing in {email} answered {status}")
    status, page = fetch("/sessions")
    if status != 200:
        raise RuntimeError(f"/sessions answered {status} to {email}")
    token = csrf_token(page)
    cookie = next((c for c in jar if c.name == "session"), None)
    if cookie is None or not cookie.value:
        raise RuntimeError(f"no session cookie for {email}")
    return Account(email, f"session={cookie.value}", token)


def sign_in_everyone(base: str, accounts: int) -> dict[str, list[Account]]:
    """Each kind's accounts signed in, four at a time (each sign-in is an Argon2 verification)."""
    emails = {kind: [f"{kind}{i}@{DOMAIN}" for i in range(1, accounts + 1)] for kind in ACCOUNT_KINDS}
    start = time.perf_counter()
    with ThreadPoolExecutor(max_workers=4) as pool:
        signed = {kind: list(pool.map(lambda email: sign_in(base, email), addresses)) for kind, addresses in emails.items()}
    print(
        f"Signed in {accounts * len(ACCOUNT_KINDS)} learners through the login form in {time.perf_counter() - start:.1f} s",
        flush=True,
    )
    return signed


def lua_string(value: str) -> str:
    """A Lua string literal; the values are cookies, tokens, paths and form bodies, printable ASCII."""
    if not value.isascii() or not value.isprintable():
        raise ValueError(f"not printable ASCII: {value[:40]!r}")
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def lua_accounts(page: Page, accounts: list[Account], course: Course) -> str:
    """The Lua table of the accounts wrk's threads use, one per connection, with their form bodies."""
    rows = []
    for number, account in enumerate(accounts):
        fields = [f"cookie = {lua_string(account.cookie)}"]
        if page.mode == "post":
            form = [("csrf_token", account.csrf), ("revision", str(course.revision_id)), *course.answers]
            fields.append(f"body = {lua_string(urllib.parse.urlencode(form))}")
        if page.mode == "booking":
            fields.append(f"body = {lua_string(urllib.parse.urlencode({'csrf_token': account.csrf}))}")
            fields.append("sessions = {" + ", ".join(str(s) for s in sessions_of(course, number)) + "}")
        rows.append("  {" + ", ".join(fields) + "}")
    return "{\n" + ",\n".join(rows) + "\n}"


def lua_script(page: Page, accounts: list[Account], course: Course) -> str:
    """The wrk script for `page` with these accounts."""
    return (
        LUA.replace("__MODE__", lua_string(page.mode))
        .replace("__PATH__", lua_string(page.path))
        .replace("__USER_AGENT__", lua_string(USER_AGENT))
        .replace("__ACCOUNTS__", lua_accounts(page, accounts, course))
    )


def server_statuses(log_path: Path, offset: int) -> Counter[str]:
    """The statuses gunicorn logged for requests after `offset` bytes of its log."""
    with log_path.open("rb") as log:
        log.seek(offset)
        lines = log.read().decode(errors="replace").splitlines()
    return Counter(match.group(1) for line in lines if (match := ACCESS_STATUS_RE.search(line)))


def wait_until_idle(log_path: Path, quiet_s: float = 1.5, limit_s: float = 180) -> None:
    """Wait until gunicorn has answered the requests still queued when wrk stopped: its access log stops growing.

    Otherwise the next page would be measured on a server still busy with the previous one.
    """
    start = since = time.monotonic()
    size = -1
    while time.monotonic() - start < limit_s:
        current = log_path.stat().st_size
        if current != size:
            size, since = current, time.monotonic()
        elif time.monotonic() - since >= quiet_s:
            return
        time.sleep(0.1)
    print(f"  (gunicorn was still answering {limit_s:g} s after wrk stopped)", flush=True)


def run_wrk(
    page: Page, connections: int, seconds: float, base: str, accounts: list[Account], course: Course, folder: Path, log_path: Path
) -> Result:
    """Drive `page` with wrk, one thread per connection, for `seconds`, and read its figures."""
    script = folder / f"{page.key}-{connections}.lua"
    script.write_text(lua_script(page, accounts[:connections], course), encoding="ascii")
    offset = log_path.stat().st_size
    wrk = shutil.which("wrk") or "wrk"
    command = [
        wrk,
        "-t",
        str(connections),
        "-c",
        str(connections),
        "-d",
        f"{seconds:g}s",
        "--timeout",
        f"{WRK_TIMEOUT_S}s",
        "--latency",
        "-s",
        str(script),
        base + page.path,
    ]
    finished = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 120, check=False)  # noqa: S603 - wrk on our own server
    line = next((line for line in finished.stdout.splitlines() if line.startswith("BENCH_JSON ")), None)
    if finished.returncode != 0 or line is None:
        raise RuntimeError(
            f"wrk failed on {page.path} (status {finished.returncode}):\n{finished.stdout[-2000:]}\n{finished.stderr[-2000:]}"
        )
    figures = json.loads(line.removeprefix("BENCH_JSON "))
    errors = figures["errors"]
    wait_until_idle(log_path)
    logged = server_statuses(log_path, offset)
    return Result(
        page=page,
        connections=connections,
        requests=int(figures["requests"]),
        seconds=figures["duration_us"] / 1e6,
        p50_ms=figures["p50_us"] / 1000,
        p99_ms=figures["p99_us"] / 1000,
        max_ms=figures["max_us"] / 1000,
        non_2xx_3xx=int(errors["status"]),
        socket_errors=int(errors["connect"] + errors["read"] + errors["write"] + errors["timeout"]),
        server_5xx=sum(n for status, n in logged.items() if status.startswith("5")),
        statuses={key: int(n) for key, n in figures["statuses"].items()},
        steps=figures["steps"],
    )


def pages_of(course: Course) -> list[Page]:
    """The pages measured, /healthz first: the baseline of each number of connections."""
    return [
        Page("healthz", "/healthz (baseline)", "get", "/healthz", None, None),
        Page("home", "home page /", "get", "/", "reader", 0.30),
        Page("course", "course page /themes", "get", "/themes", "reader", 0.30),
        Page("module", "module page", "get", f"/modules/{course.module_id}", "reader", 0.20),
        Page("quiz", "quiz submission (POST)", "post", f"/modules/{course.module_id}/quizzes/{course.quiz_id}", "quizzer", 0.10),
        Page(
            "booking", "booking (book/cancel POSTs)", "booking", f"/sessions/{course.upcoming_sessions[0]}/book", "booker", 0.10
        ),
    ]


def print_table(results: list[Result]) -> None:
    """Requests/s, latency, failures and the ratio to /healthz of the same number of connections, beside the targets."""
    print(
        f"\n{'Page':<30}{'conns':>6}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}{'non-2xx/3xx':>13}{'sock err':>10}{'5xx':>6}{'ratio':>8}{'target':>8}  met"
    )
    baselines = {r.connections: r.per_second for r in results if r.page.key == "healthz"}
    for result in results:
        base = baselines.get(result.connections, 0.0)
        ratio = result.per_second / base if base else 0.0
        target = result.page.target
        met = "" if target is None else ("yes" if ratio >= target else "NO")
        print(
            f"{result.page.label:<30}{result.connections:>6}{result.per_second:>9.0f}{result.p50_ms:>9.1f}{result.p99_ms:>9.1f}"
            f"{result.non_2xx_3xx:>13}{result.socket_errors:>10}{result.server_5xx:>6}{ratio:>8.2f}{'' if target is None else f'{target:.2f}':>8}  {met}"
        )
    print(
        "ratio: requests/s over /healthz's at the same number of connections in this run; target: issue 13. non-2xx/3xx and"
        "\nsocket errors (connect, read, write, timeout after"
        f" {WRK_TIMEOUT_S} s) as wrk counts them; 5xx from gunicorn's access log, also for requests wrk gave up at the end."
        "\nbooking: book POSTs, one GET /my-sessions for every five, and cancel POSTs, each step below on its own."
    )
    if any(r.p99_ms > r.seconds * 500 for r in results):
        print("Where p99 nears the run's duration, latency covers only the answers received before the run ended.")
    print("\nAnswers by step (status: count) and each step's own latency:")
    for result in results:
        if result.page.key == "healthz":
            continue
        for step, figures in result.steps.items():
            codes = ", ".join(f"{key.split()[1]}: {n}" for key, n in sorted(result.statuses.items()) if key.split()[0] == step)
            name = {
                "page": result.page.path,
                "book": "POST /sessions/<id>/book",
                "list": "GET /my-sessions",
                "cancel": "POST /bookings/<id>/cancel",
            }[step]
            per_second = figures["count"] / result.seconds if result.seconds else 0.0
            print(
                f"  {result.connections:>3} conns  {name[:42]:<42}{per_second:>8.0f}/s  p50 {figures['p50_us'] / 1000:7.1f} ms"
                f"  p99 {figures['p99_us'] / 1000:7.1f} ms  ({codes})"
            )


def print_server_log(log_path: Path) -> None:
    """What gunicorn's log says went wrong: tracebacks, worker timeouts, 5xx answers."""
    content = log_path.read_text(errors="replace")
    statuses = Counter(match.group(1) for line in content.splitlines() if (match := ACCESS_STATUS_RE.search(line)))
    tracebacks = content.count("Traceback (most recent call last)")
    timeouts = content.count("WORKER TIMEOUT")
    exceptions = Counter(
        line.strip() for line in content.splitlines() if re.match(r"^[A-Za-z_][\w.]*(Error|Exception|Exit)\b", line)
    )
    print(
        f"\nGunicorn's log: {sum(statuses.values()):,} requests logged, "
        + ", ".join(f"{status}: {n:,}" for status, n in sorted(statuses.items()))
        + f"; {tracebacks} tracebacks, {timeouts} worker timeouts"
    )
    for line, n in exceptions.most_common(5):
        print(f"  {n} x {line[:160]}")


def machine_lines(url: str) -> list[str]:
    """The machine, software and moment the figures come from, to quote them."""
    cpuinfo = Path("/proc/cpuinfo").read_text(errors="replace") if Path("/proc/cpuinfo").exists() else ""
    model = next(
        (line.split(":", 1)[1].strip() for line in cpuinfo.splitlines() if line.startswith("model name")),
        platform.processor() or "unknown",
    )
    meminfo = Path("/proc/meminfo").read_text() if Path("/proc/meminfo").exists() else ""
    memory = next((int(line.split()[1]) / 1024 / 1024 for line in meminfo.splitlines() if line.startswith("MemTotal:")), 0.0)
    load = " ".join(Path("/proc/loadavg").read_text().split()[:3]) if Path("/proc/loadavg").exists() else "unknown"
    engine = create_engine(url)
    with engine.connect() as connection:
        postgresql = connection.scalar(text("SHOW server_version"))
    engine.dispose()
    wrk = subprocess.run([shutil.which("wrk") or "wrk", "-v"], capture_output=True, text=True, check=False)  # noqa: S603 - prints its version
    wrk_version = (wrk.stdout + wrk.stderr).splitlines()[0] if (wrk.stdout + wrk.stderr) else "unknown"
    git = subprocess.run(  # noqa: S603 - reads the commit only, without taking git's index lock
        [shutil.which("git") or "git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
        capture_output=True,
        text=True,
        check=False,
        env=os.environ | {"GIT_OPTIONAL_LOCKS": "0"},
    )
    dirty = subprocess.run(  # noqa: S603 - as above
        [shutil.which("git") or "git", "-C", str(ROOT), "status", "--porcelain", "--untracked-files=no"],
        capture_output=True,
        text=True,
        check=False,
        env=os.environ | {"GIT_OPTIONAL_LOCKS": "0"},
    )
    return [
        f"Machine: {os.cpu_count()} cores, {model}, {memory:.1f} GiB RAM; load average at start {load}",
        f"Software: {platform.python_implementation()} {platform.python_version()}, PostgreSQL {postgresql}, gunicorn {metadata.version('gunicorn')}, {wrk_version.split(' Copyright')[0]}",
        f"Code: commit {git.stdout.strip() or 'unknown'}{' with uncommitted changes' if dirty.stdout.strip() else ''}",
        f"Date: {datetime.now().astimezone().isoformat(timespec='seconds')}",
        f"Command: {shlex.join(sys.orig_argv)}",
    ]


def main() -> None:
    """Prepare the database, count statements, then serve and load each page at each number of connections."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL))
    parser.add_argument("--duration", type=float, default=10, help="Seconds of load per page and number of connections.")
    parser.add_argument("--warmup", type=float, default=2, help="Seconds of load per page before measuring.")
    parser.add_argument("--connections", default="20,100", help="Comma-separated numbers of connections.")
    parser.add_argument("--learners", type=int, default=3000)
    parser.add_argument("--workers", type=int, default=2, help="Gunicorn workers.")
    parser.add_argument("--show-sql", action="store_true", help="Print every statement of each counted request.")
    parser.add_argument("--queue-url", help="The job queue, e.g. redis://127.0.0.1:6379/15 (default: a SQLite file of this run).")
    parser.add_argument("--log", type=Path, help="Keep gunicorn's log in this file (by default it is deleted).")
    arguments = parser.parse_args()
    levels = sorted({int(n) for n in arguments.connections.split(",") if n.strip()})
    if not levels or min(levels) < 1 or max(levels) > 500 or not 0 < arguments.duration <= 600 or not 0 <= arguments.warmup <= 60:
        parser.error("connections must be 1 to 500, --duration up to 600 s and --warmup up to 60 s")
    if shutil.which("wrk") is None:
        parser.error("wrk is not installed (apt-get install wrk)")
    stop_on_sigterm()
    url = normalized_url(arguments.url)
    ensure_database(url)
    print("\n".join(machine_lines(url)), flush=True)

    with tempfile.TemporaryDirectory(prefix="bench-pages-") as temporary:
        folder = Path(temporary)
        env = {k: v for k, v in os.environ.items() if not k.startswith("SPEAK_DIGITAL_")} | {
            "SPEAK_DIGITAL_ENV": "production",
            "SECRET_KEY": secrets.token_hex(32),
            "DATABASE_URL": url,
            "SPEAK_DIGITAL_HTTPS": "0",
            "SPEAK_DIGITAL_MAIL_FOLDER": str(folder / "mail"),  # booking confirmations, as .eml files, away from instance/
            # E-mail jobs wait in a queue of this run's own (no worker takes them): never another engineer's Redis.
            "SPEAK_DIGITAL_QUEUE_URL": arguments.queue_url or f"sqlite:///{folder / 'jobs.sqlite'}",
        }
        os.environ.update(env)  # the in-process application is configured as the server is
        app = create_app("production", {"DATABASE_URL": url})
        engine = make_engine(url)
        print(f"\nPreparing {url} with {arguments.learners:,} learners...", flush=True)
        start = time.perf_counter()
        generate(app, engine, arguments.learners, max(levels), max(levels))
        with engine.connect() as connection:
            rows = {
                t: connection.scalar(text(f"SELECT count(*) FROM {t}"))  # noqa: S608 - fixed names
                for t in ("users", "module_progress", "quiz_attempts", "live_sessions", "bookings")
            }
            upcoming = connection.scalar(text("SELECT count(*) FROM live_sessions WHERE starts_at > now() AT TIME ZONE 'UTC'"))
        print(
            f"Prepared in {time.perf_counter() - start:.0f} s: "
            + ", ".join(f"{t} {n:,}" for t, n in rows.items())
            + f" ({upcoming} sessions to come)"
        )
        course = course_facts(app)
        count_statements(app, course, arguments.show_sql)

        log_path = arguments.log or folder / "gunicorn.log"
        log_path.write_bytes(b"")
        results = serve_and_load(arguments, levels, env, engine, course, folder, log_path)
        print_table(results)
        print_server_log(log_path)
        reset_bookings(engine)
        count_statements(app, course, arguments.show_sql, after_load=True)
        reset_bookings(engine)
        engine.dispose()


def serve_and_load(
    arguments: argparse.Namespace,
    levels: list[int],
    env: dict[str, str],
    engine: Engine,
    course: Course,
    folder: Path,
    log_path: Path,
) -> list[Result]:
    """Start gunicorn, sign the learners in, warm up, then load each page at each number of connections; stop gunicorn."""
    results: list[Result] = []
    with running_server(free_port(), arguments.workers, env, log_path) as base:
        print(
            f"\nGunicorn: {arguments.workers} workers on {base}, production mode; wrk: one thread per connection, {arguments.duration:g} s a page",
            flush=True,
        )
        signed = sign_in_everyone(base, max(levels))
        pages = pages_of(course)
        if arguments.warmup:
            for page in pages:
                reset_bookings(engine)
                run_wrk(page, levels[0], arguments.warmup, base, signed.get(page.accounts or "", []), course, folder, log_path)
            print(f"Warmed up: {arguments.warmup:g} s a page at {levels[0]} connections", flush=True)
        for connections in levels:
            for page in pages:
                if page.mode == "booking":
                    reset_bookings(engine)
                result = run_wrk(
                    page, connections, arguments.duration, base, signed.get(page.accounts or "", []), course, folder, log_path
                )
                results.append(result)
                print(f"  {page.label:<30} {connections:>4} connections: {result.per_second:8.0f} req/s", flush=True)
    return results


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        print("\nInterrupted: gunicorn is stopped.", file=sys.stderr)
        sys.exit(130)
