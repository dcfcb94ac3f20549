"""HR pages: the dashboard with its charts, the CSV exports, the per-person export and the people import."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from datetime import date
from typing import Any

from flask import Blueprint, Response, abort, current_app, jsonify, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user
from werkzeug.exceptions import RequestEntityTooLarge

from .. import statistics, statistics_runner
from ..bounds import report_date_problem
from ..extensions import csrf, db
from ..forms import EmptyForm, ImportForm
from ..models import ImportStatus, PeopleImport, Role, ThemeRecord, User
from ..people.import_jobs import import_or_404, is_stale, problems_of, recent_imports, start_import
from ..people.importing import (
    MAX_BYTES,
    MAX_PEOPLE,
    ImportRefusedError,
    Problem,
    accounts_awaiting_password,
    check_file,
    password_token,
    too_large_problem,
)
from ..security import role_required, signed_in_user
from . import stats
from .charts import BarChart, LineChart, bar_chart, line_chart

blueprint = Blueprint("hr", __name__, url_prefix="/hr")
HR_ROLES = (Role.HR, Role.ADMIN)
FILTER_NAMES = ("from", "to", "site", "department", "theme")
# Spreadsheets run a cell starting with one of these as a formula: such text is prefixed with an apostrophe.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _date(name: str) -> date | None:
    raw = request.args.get(name, "").strip()
    if not raw:
        return None
    try:
        day = date.fromisoformat(raw)
    except ValueError:
        abort(400, description=f"The date “{raw}” is not a date: use the form YYYY-MM-DD.")
    problem = report_date_problem(raw, day)
    if problem is not None:
        abort(400, description=problem)
    return day


def parse_filters() -> stats.Filters:
    """The dashboard's filters from the query string; a bad date or an unknown theme is a 400."""
    date_from, date_to = _date("from"), _date("to")
    if date_from and date_to and date_from > date_to:
        abort(400, description="The start of the period is after its end.")
    theme = request.args.get("theme", "").strip() or None
    if theme and db.session.get(ThemeRecord, theme) is None:
        abort(400, description="There is no such theme. Choose one from the list.")
    site = request.args.get("site", "").strip() or None
    department = request.args.get("department", "").strip() or None
    return stats.Filters(date_from, date_to, site, department, theme)


def _filter_args() -> dict[str, str]:
    return {name: request.args[name] for name in FILTER_NAMES if request.args.get(name)}


def charts_for(tables: dict[str, stats.Table]) -> dict[str, BarChart | LineChart]:
    """A bar chart of completion per theme and a line chart of the monthly trends, drawn from the tables as shown."""
    themes = tables["themes"]
    trend = tables["trends"]
    months = [str(row[0]) for row in trend.rows]
    # The trends table has no learners' columns when the view's learners are hidden: the chart draws what it has.
    series = [(name, [int(row[i] or 0) for row in trend.rows]) for i, name in enumerate(trend.columns[1:], start=1)]
    drawn = ", ".join(name for name, _values in series).capitalize()
    return {
        "themes": bar_chart(
            "Completion rate per theme", "Share of learners who started a theme and completed every module of it.",
            [(str(row[0]), _rate(row)) for row in themes.rows],
        ),
        "trends": line_chart("Trends by month", f"{drawn}, month by month.", months, series),
    }  # fmt: skip


def _rate(row: tuple[Any, ...]) -> float | str | None:
    """A theme's completion rate, or the words its row says instead of figures (see app.hr.privacy)."""
    if isinstance(row[1], str):
        return NOT_SHOWN
    return None if row[3] is None else float(row[3])


NOT_SHOWN = "not shown, to protect privacy"


@blueprint.route("/")
@role_required(*HR_ROLES)
def dashboard() -> str:
    """The programme's figures, filtered by period, site, department and theme."""
    filters = parse_filters()
    moving = _bring_statistics_up_to_date()
    sections = stats.dashboard(db.session, filters)
    tables = {table.name: table for _title, section in sections for table in section}
    return render_template(
        "hr/dashboard.html",
        moving=moving,
        sections=sections,
        charts=charts_for(tables),
        choices=stats.filter_choices(db.session),
        selected={name: request.args.get(name, "") for name in FILTER_NAMES},
        filter_args=_filter_args(),
    )


def _bring_statistics_up_to_date() -> int:
    """Start moving learners to the published course if it changed; how many are still counted under an older one."""
    # The course may have changed outside the application (an upgrade, a content import), or a job may have stopped.
    changed = statistics.ensure_current(db.session)
    moving = statistics.lagging_learners(db.session)
    if changed or moving:
        statistics_runner.catch_up_after_commit()
    return moving


def _cells(values: Sequence[Any]) -> list[Any]:
    """A row as written: None left empty, text a spreadsheet would run as a formula prefixed with an apostrophe."""
    # One comprehension per row, not a call per cell: the per-person export writes two million cells.
    return ["" if v is None else "'" + v if isinstance(v, str) and v.startswith(FORMULA_STARTS) else v for v in values]


def csv_response(header: Sequence[str], rows: Iterable[Sequence[Any]], filename: str) -> Response:
    """A CSV download Excel opens as it is: UTF-8 with a byte-order mark, numbers left as numbers."""
    buffer = io.StringIO()
    buffer.write("\ufeff")
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(_cells(header))
    writer.writerows(map(_cells, rows))
    return Response(
        buffer.getvalue().encode("utf-8"),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{filename}"', "Content-Type": "text/csv; charset=utf-8"},
    )


@blueprint.route("/export/<name>.csv")
@role_required(*HR_ROLES)
def export(name: str) -> Response:
    """One table of the dashboard as CSV, with the same filters."""
    build = stats.TABLE_NAMES.get(name)
    if build is None:
        abort(404, description="There is no such table.")
    filters = parse_filters()
    _bring_statistics_up_to_date()
    table = stats.one_table(db.session, build, filters)
    return csv_response(table.columns, table.rows, f"speak-digital-{name}.csv")


@blueprint.route("/learner-status", methods=["GET"])
@role_required(*HR_ROLES)
def learner_status() -> str:
    """The warning before the per-person export: it holds personal data."""
    return render_template("hr/learner_status.html", form=EmptyForm(), filter_args=_filter_args())


@blueprint.route("/learner-status", methods=["POST"])
@role_required(*HR_ROLES)
def learner_status_export() -> Response:
    """Every learner's status in every module, as CSV: a deliberate, CSRF-protected action."""
    if not EmptyForm().validate_on_submit():
        abort(400, description="For your security, this form had expired. Go back, reload the page and send it again.")
    header, rows = stats.learner_status_rows(db.session, parse_filters())
    current_app.logger.info("per-person export by user %s", current_user.id)
    return csv_response(header, rows, "speak-digital-learner-status.csv")


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


@blueprint.route("/people/import", methods=["GET", "POST"])
@role_required(*HR_ROLES)
def people_import() -> ResponseReturnValue:
    """Upload the HR system's people file; it is checked and imported in the background, then reported on."""
    if request.method == "GET":
        return _import_page(ImportForm(), [])
    form, filename, data, problems = _read_upload()
    if data is None:
        return _import_page(form or ImportForm(formdata=None), problems), 400
    user = signed_in_user()
    record = start_import(db.session, user, filename, data, allow_admin=user.has_role(Role.ADMIN))
    return redirect(url_for("hr.people_import_report", import_id=record.id), code=303)


csrf.exempt(f"{__name__}.people_import")  # the form checks its own token once the upload limit is raised (see _read_upload)

LINKS_SHOWN = 200


@blueprint.route("/people/imports/<int:import_id>")
@role_required(*HR_ROLES)
def people_import_report(import_id: int) -> str:
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


@blueprint.route("/people/imports/<int:import_id>/progress.json")
@role_required(*HR_ROLES)
def people_import_progress(import_id: int) -> Response:
    """The import's state for the page to follow it without reloading."""
    record = import_or_404(import_id, signed_in_user())
    return jsonify(status=record.status.value, finished=record.status.is_finished, applied=record.people_applied, total=record.people_total)


@blueprint.route("/people/imports/<int:import_id>/links.csv")
@role_required(*HR_ROLES)
def people_import_links(import_id: int) -> Response:
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
