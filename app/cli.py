"""The `speak-digital` command: Flask's CLI over the application factory, with the platform's own commands."""

from __future__ import annotations

import logging
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import FlaskGroup, with_appcontext
from sqlalchemy import Engine
from werkzeug.serving import run_simple

from course import ContentError, load_catalog

from . import create_app
from .authoring.content import ExportError, export_course, import_catalog
from .config import ConfigError
from .demo import ensure_demo_accounts
from .extensions import db
from .hr import jobs as hr_jobs
from .hr import refresh as hr_refresh
from .jobs import IMMEDIATE, queue
from .migrate import current_revision, upgrade
from .models import Role, User
from .notifications.reminders import send_reminders_command
from .people.commands import people_group
from .security import hash_password


def _factory() -> Flask:
    try:
        return create_app()
    except ConfigError as error:
        raise click.ClickException(str(error)) from error


@click.group(cls=FlaskGroup, create_app=_factory, add_version_option=False, load_dotenv=False)
def main() -> None:
    """Speak Digital: the digital-literacy course and its reverse-mentoring companion."""


def _engine() -> Engine:
    if db.engine is None:
        raise click.ClickException("The database is not configured.")
    return db.engine


def _import_content(directory: Path, force: bool = False) -> str:
    try:
        catalog = load_catalog(directory)
    except ContentError as error:
        raise click.ClickException("The course has problems; nothing was imported:\n" + str(error)) from error
    report = import_catalog(db.session, catalog, force=force)
    db.session.commit()
    return report.summary()


@main.group("db")
def db_group() -> None:
    """Database schema."""


@db_group.command("upgrade")
@with_appcontext
def db_upgrade() -> None:
    """Bring the database schema up to date."""
    upgrade(_engine())
    click.echo(f"Database schema at revision {current_revision(_engine())}.")


@main.group("content")
def content_group() -> None:
    """Course content."""


@content_group.command("import")
@click.argument("directory", required=False, type=click.Path(file_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="Also replace modules changed in the browser since their last import.")
@with_appcontext
def content_import(directory: Path | None, force: bool) -> None:
    """Import the course from DIRECTORY (default: the shipped content/ folder)."""
    click.echo(_import_content(directory or current_app.config["CONTENT_DIR"], force))


@content_group.command("export")
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
@with_appcontext
def content_export(directory: Path) -> None:
    """Write the published course to DIRECTORY as Markdown files, in the content folder's layout."""
    try:
        report = export_course(db.session, directory)
    except ExportError as error:
        raise click.ClickException(str(error)) from error
    click.echo(report.summary())


@main.group("users")
def users_group() -> None:
    """People and their accounts."""


@users_group.command("create")
@click.option("--email", required=True)
@click.option("--name", required=True)
@click.option("--site", required=True)
@click.option("--department", default=None)
@click.option("--role", type=click.Choice([r.value for r in Role]), default=Role.LEARNER.value, show_default=True)
@click.password_option(help="Asked for when not given.")
@with_appcontext
def users_create(email: str, name: str, site: str, department: str | None, role: str, password: str) -> None:
    """Create an account with a role."""
    email = email.strip().lower()
    if db.session.query(User).filter(User.email == email).first() is not None:
        raise click.ClickException(f"An account with the e-mail address {email} already exists.")
    if len(password) < 10:
        raise click.ClickException("The password must have at least 10 characters.")
    user = User(email=email, name=name, site=site, department=department, role=Role(role), password_hash=hash_password(password))
    db.session.add(user)
    db.session.commit()
    click.echo(f"Created {role} account for {name} <{email}>.")


@main.group("statistics")
def statistics_group() -> None:
    """The HR figures."""


@statistics_group.command("refresh")
@click.option("--changed", is_flag=True, help="Only recompute the learners who changed since the last refresh.")
@with_appcontext
def statistics_refresh(changed: bool) -> None:
    """Recompute the HR figures from what is recorded, from scratch (the nightly job does the same)."""
    outcome = hr_jobs.run_once(hr_refresh.refresh if changed else hr_refresh.full_refresh)
    if outcome is None:
        raise click.ClickException("A refresh of the HR figures is already under way: try again once it is done.")
    kind = "Full refresh" if outcome.full else "Refresh"
    click.echo(f"{kind} of the HR figures: {outcome.learners} learner(s) counted, figures as of {outcome.as_of:%Y-%m-%d %H:%M:%S} UTC.")


main.add_command(send_reminders_command)
main.add_command(people_group)


@main.command("demo", with_appcontext=False)
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--reset", is_flag=True, help="Start again from an empty demo database.")
def demo(host: str, port: int, reset: bool) -> None:
    """Start the platform with its demo database, the course imported and demo accounts."""
    os.environ["SPEAK_DIGITAL_ENV"] = "demo"
    app = create_app("demo")
    database_file = Path(app.instance_path) / "speak-digital-demo.sqlite"
    if reset and database_file.exists() and app.config["DATABASE_URL"].endswith(database_file.name):
        for suffix in ("", "-wal", "-shm"):
            Path(f"{database_file}{suffix}").unlink(missing_ok=True)
    with app.app_context():
        upgrade(_engine())
        click.echo("Course: " + _import_content(app.config["CONTENT_DIR"]))
        accounts = ensure_demo_accounts(db.session)
        db.session.commit()
    click.echo(f"\nSpeak Digital is running at http://{host}:{port}/  (press Ctrl+C to stop)\n")
    click.echo("Demo accounts (e-mail / password):")
    for account in accounts:
        click.echo(f"  {account.role.value:<8} {account.email:<36} {account.password}")
    click.echo("")
    worker = _start_worker()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))  # stopped by a service manager: stop the worker too
    try:
        run_simple(host, port, app, use_reloader=False, use_debugger=False, threaded=True)
    finally:
        worker.terminate()
        worker.wait(timeout=30)


def _command(name: str) -> str:
    """The path of one of this environment's commands (speak-digital, gunicorn), installed beside Python."""
    return shutil.which(name) or str(Path(sys.executable).with_name(name))


def _start_worker() -> subprocess.Popen[bytes]:
    """The demo's background worker, in a process of its own, with the demo's environment."""
    return subprocess.Popen([_command("speak-digital"), "worker", "--workers", "1"])  # noqa: S603 - our own command, no user input


@main.command("worker")
@click.option("--workers", default=2, show_default=True, type=int, help="How many jobs this process runs at once.")
@click.option(
    "--periodic/--no-periodic",
    default=True,
    show_default=True,
    help="Also start the periodic jobs (reminders, e-mails left behind, HR figures). They are safe on several workers; one is enough.",
)
@with_appcontext
def worker(workers: int, periodic: bool) -> None:
    """Run the background jobs (people imports, e-mail, reminders, HR figures) until stopped; run as many as you like, on any host."""
    if queue.url == IMMEDIATE:
        raise click.ClickException("This configuration runs every job at once, in the process that asks for it: there is no queue to work on.")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # Thread workers share the application and its connection pool; a job waits at most a second to be picked up.
    consumer = queue.create_consumer(workers=workers, worker_type="thread", periodic=periodic, max_delay=1.0, check_worker_health=True)
    consumer.run()


@main.command("serve", with_appcontext=False, context_settings={"ignore_unknown_options": True})
@click.option("--bind", default="127.0.0.1:8000", show_default=True)
@click.option("--workers", default=4, show_default=True, type=int)
@click.argument("gunicorn_args", nargs=-1, type=click.UNPROCESSED)
def serve(bind: str, workers: int, gunicorn_args: tuple[str, ...]) -> None:
    """Run the production server (gunicorn) with the configuration from the environment."""
    gunicorn = _command("gunicorn")
    arguments = [gunicorn, "--bind", bind, "--workers", str(workers), "--access-logfile", "-", *gunicorn_args, "app.wsgi:application"]
    os.execv(gunicorn, arguments)  # noqa: S606 - replaces this process with the server, arguments are ours
