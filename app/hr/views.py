"""HR pages: the dashboard with its charts, the CSV exports and the per-person export."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask import Blueprint, Response, abort, current_app, render_template, request
from flask_login import current_user

from ..bounds import report_date_problem
from ..csv_export import csv_response
from ..extensions import db
from ..forms import EmptyForm
from ..models import Role, ThemeRecord
from ..security import role_required
from . import refresh, stats
from .charts import BarChart, LineChart, bar_chart, line_chart
from .jobs import prepare_figures_after_commit

blueprint = Blueprint("hr", __name__, url_prefix="/hr")
HR_ROLES = (Role.HR, Role.ADMIN)
FILTER_NAMES = ("from", "to", "site", "department", "theme")


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
PREPARING = "The figures are being prepared for the first time. Try again in a few minutes."


@blueprint.route("/")
@role_required(*HR_ROLES)
def dashboard() -> str:
    """The programme's figures, filtered by period, site, department and theme."""
    filters = parse_filters()
    as_of = _figures_as_of()
    sections = stats.dashboard(db.session, filters) if as_of else []
    tables = {table.name: table for _title, section in sections for table in section}
    return render_template(
        "hr/dashboard.html",
        as_of=as_of_label(as_of) if as_of else None,
        sections=sections,
        charts=charts_for(tables) if tables else {},
        choices=stats.filter_choices(db.session),
        selected={name: request.args.get(name, "") for name in FILTER_NAMES},
        filter_args=_filter_args(),
    )


def _figures_as_of() -> datetime | None:
    """When the figures were last brought up to date; before the first refresh ever, a worker is asked to prepare them."""
    as_of = refresh.figures_as_of(db.session)
    if as_of is None:
        prepare_figures_after_commit()
    return as_of


def as_of_label(moment: datetime, now: datetime | None = None) -> str:
    """The moment figures are as of, in the platform's time zone: 14:02 today, else 2 December 2026, 14:02."""
    zone = ZoneInfo(current_app.config["TIME_ZONE"])
    local, today = moment.astimezone(zone), (now or datetime.now(zone)).astimezone(zone).date()
    return f"{local:%H:%M}" if local.date() == today else f"{local.day} {local:%B %Y}, {local:%H:%M}"


@blueprint.route("/export/<name>.csv")
@role_required(*HR_ROLES)
def export(name: str) -> Response:
    """One table of the dashboard as CSV, with the same filters."""
    build = stats.TABLE_NAMES.get(name)
    if build is None:
        abort(404, description="There is no such table.")
    filters = parse_filters()
    if _figures_as_of() is None:
        abort(503, description=PREPARING)
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
