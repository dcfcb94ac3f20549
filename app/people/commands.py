"""`speak-digital people import FILE`: the same import as the HR page, for a file on the server."""

from __future__ import annotations

from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

from ..accounts.tokens import password_token
from ..extensions import db
from .importing import MAX_BYTES, accounts_awaiting_password, import_people


@click.group("people")
def people_group() -> None:
    """People from the HR system."""


@people_group.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--base-url", default="", help="The platform's address, put before each set-password link (e.g. https://speak.example.com).")
@with_appcontext
def people_import_command(file: Path, base_url: str) -> None:
    """Import people from FILE (the HR system's CSV); nothing is imported if any line is wrong.

    The whole file is checked first; then people are applied and committed a thousand at a time.
    """
    with file.open("rb") as handle:
        data = handle.read(MAX_BYTES + 1)
    progress = _Progress()
    result = import_people(db.session, data, allow_admin=True, after_batch=progress.commit)
    if not result.ok:
        for problem in result.problems:
            click.echo(f"{file}: line {problem.line}, {problem.field}: {problem.message}", err=True)
        db.session.rollback()
        raise SystemExit(1)
    db.session.commit()
    click.echo(f"Imported {len(result.created)} new and {len(result.updated)} updated people.")
    secret = current_app.config["SECRET_KEY"]
    for user in accounts_awaiting_password(db.session, result.awaiting_password):
        click.echo(f"{user.email}\t{base_url.rstrip('/')}/set-password/{password_token(user, secret)}")


class _Progress:
    """Commits each batch the import applied and says how far it is, on standard error."""

    def __init__(self) -> None:
        self.applied = 0

    def commit(self, people: int) -> None:
        db.session.commit()
        db.session.expunge_all()
        if people:
            self.applied += people
            click.echo(f"{self.applied:,} people applied…", err=True)
