"""The people import's pages: upload the HR system's file, follow the background import, read its report and links."""

from __future__ import annotations

from flask import Blueprint, Response, abort, current_app, jsonify, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from werkzeug.exceptions import RequestEntityTooLarge

from ..accounts.tokens import password_token
from ..csv_export import csv_response
from ..extensions import csrf, db
from ..models import ImportStatus, PeopleImport, Role, User
from ..security import role_required, signed_in_user
from .forms import ImportForm
from .import_jobs import import_or_404, is_stale, problems_of, recent_imports, start_import
from .importing import (
    MAX_BYTES,
    MAX_PEOPLE,
    ImportRefusedError,
    Problem,
    accounts_awaiting_password,
    check_file,
    too_large_problem,
)

# The URLs stay under /hr/: HR people send the file, from their dashboard.
blueprint = Blueprint("imports", __name__, url_prefix="/hr/people")
HR_ROLES = (Role.HR, Role.ADMIN)


def _read_upload() -> tuple[ImportForm | None, str, bytes | None, list[Problem]]:
    # The import accepts files up to 20 MB while every other form stays at the platform's 1 MB limit; that is
    # why this view is exempt from the global CSRF check and the form checks its token itself, after the limit is raised.
    request.max_content_length = MAX_BYTES + 64 * 1024
    try:
        form = ImportForm()
    except RequestEntityTooLarge:
        return None, "", None, [too_large_problem()]
    if not form.validate_on_submit():
        return form, "", None, [Problem(0, "form", "For your security, this form had expired. Reload the page and send the file again.")]
    upload = form.file.data
    if upload is None or not getattr(upload, "filename", ""):
        return form, "", None, [Problem(0, "file", "Choose the CSV file to import.")]
    data: bytes = upload.read(MAX_BYTES + 1)
    try:
        check_file(data)
    except ImportRefusedError as refused:
        return form, upload.filename, None, refused.problems
    return form, upload.filename, data, []


def _import_page(form: ImportForm, problems: list[Problem]) -> str:
    user = signed_in_user()
    return render_template("hr/import.html", form=form, problems=problems, imports=recent_imports(db.session, user), limits=IMPORT_LIMITS)


IMPORT_LIMITS = {"people": MAX_PEOPLE, "megabytes": MAX_BYTES // (1024 * 1024)}


@blueprint.route("/import", methods=["GET", "POST"])
@role_required(*HR_ROLES)
def upload() -> ResponseReturnValue:
    """Upload the HR system's people file; it is checked and imported in the background, then reported on."""
    if request.method == "GET":
        return _import_page(ImportForm(), [])
    form, filename, data, problems = _read_upload()
    if data is None:
        return _import_page(form or ImportForm(formdata=None), problems), 400
    user = signed_in_user()
    record = start_import(db.session, user, filename, data, allow_admin=user.has_role(Role.ADMIN))
    return redirect(url_for("imports.report", import_id=record.id), code=303)


csrf.exempt(f"{__name__}.upload")  # the form checks its own token once the upload limit is raised (see _read_upload)

LINKS_SHOWN = 200


@blueprint.route("/imports/<int:import_id>")
@role_required(*HR_ROLES)
def report(import_id: int) -> str:
    """Where an import stands: waiting, its progress, its problems line by line, or what it did and the links."""
    record = import_or_404(import_id, signed_in_user())
    links = _links(record, limit=LINKS_SHOWN) if record.status is ImportStatus.DONE else []
    return render_template(
        "hr/import_report.html",
        record=record,
        problems=problems_of(record),
        links=links,
        more_links=len(record.awaiting_ids or []) > len(links),
        stale=is_stale(record),
    )


@blueprint.route("/imports/<int:import_id>/progress.json")
@role_required(*HR_ROLES)
def progress(import_id: int) -> Response:
    """The import's state for the page to follow it without reloading."""
    record = import_or_404(import_id, signed_in_user())
    return jsonify(status=record.status.value, finished=record.status.is_finished, applied=record.people_applied, total=record.people_total)


@blueprint.route("/imports/<int:import_id>/links.csv")
@role_required(*HR_ROLES)
def links(import_id: int) -> Response:
    """Every set-password link the import produced that has not been used yet, as CSV for a mail merge."""
    record = import_or_404(import_id, signed_in_user())
    if record.status is not ImportStatus.DONE:
        abort(404, description="This import has no links: it has not finished, or it imported nobody.")
    rows = ((user.name, user.email, link) for user, link in _links(record))
    return csv_response(["Name", "E-mail", "Set-password link"], rows, f"speak-digital-import-{record.id}-links.csv")


def _links(record: PeopleImport, limit: int | None = None) -> list[tuple[User, str]]:
    """The set-password link of each account the import left without a password, that still has none."""
    secret = current_app.config["SECRET_KEY"]
    ids = (record.awaiting_ids or [])[:limit]
    return [(user, url_for("auth.set_password", token=password_token(user, secret), _external=True)) for user in accounts_awaiting_password(db.session, ids)]
