"""The mentors' editor: the modules of each theme, editing with a live preview, publishing, history and diffs."""

from __future__ import annotations

from flask import Blueprint, abort, flash, jsonify, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from course import Problem, RenderedModule
from course.parse import MAX_SOURCE_CHARS, prepare_source

from ..bounds import database_int
from ..extensions import db
from ..learning.services import parsed_revision
from ..models import ModuleRecord, ModuleRevision, Role, ThemeRecord
from ..security import role_required, signed_in_user
from .services import (
    EMPTY_RENDERING,
    AuthoringError,
    create_module,
    diff_lines,
    latest_revision,
    preview,
    publish,
    question_insights,
    restore,
    revision_pair,
    save_draft,
)

blueprint = Blueprint("authoring", __name__, url_prefix="/authoring")
AUTHORS = (Role.MENTOR, Role.ADMIN)


def get_module_or_404(module_id: str) -> ModuleRecord:
    """Any module, published or not, or a 404 page."""
    record = db.session.get(ModuleRecord, module_id)
    if record is None:
        abort(404, description="There is no such module. Choose one from the list of modules.")
    return record


def _source_from_form() -> str:
    # Browsers send a text area's line breaks as CRLF: the limit counts characters as the mentor typed them.
    return request.form.get("source", "").replace("\r\n", "\n")


def _as_shown(problems: tuple[Problem, ...] | list[Problem]) -> list[dict[str, object]]:
    return [{"line": p.line, "message": f"{p.message} {p.hint}".strip()} for p in problems]


def _refuse_unsaveable(record: ModuleRecord, source: str) -> tuple[str, int] | None:
    """The editor again, nothing saved, when the source is too long or holds control characters, which no revision may keep."""
    _, problems = prepare_source(source, f"{record.id}.md")
    if not problems:
        return None
    flash("Not saved: fix the problems listed beside the source, then save again.", "error")
    return _render_editor(record, source, EMPTY_RENDERING, _as_shown(problems), 413 if len(source) > MAX_SOURCE_CHARS else 400)


@blueprint.route("/")
@role_required(*AUTHORS)
def index() -> str:
    """Every module of every theme, with its state, last editor and date, and a form to create one."""
    themes = list(db.session.scalars(select(ThemeRecord).order_by(ThemeRecord.position)))
    records = list(db.session.scalars(select(ModuleRecord).order_by(ModuleRecord.theme_id, ModuleRecord.position)))
    newest = (
        select(ModuleRevision.module_id, func.max(ModuleRevision.number).label("number")).group_by(ModuleRevision.module_id).subquery()
    )
    latest = {
        r.module_id: r
        for r in db.session.scalars(
            select(ModuleRevision)
            .join(newest, (ModuleRevision.module_id == newest.c.module_id) & (ModuleRevision.number == newest.c.number))
            .options(selectinload(ModuleRevision.author))
        )
    }
    return render_template("authoring/index.html", themes=themes, records=records, latest=latest)


@blueprint.route("/modules", methods=["POST"])
@role_required(*AUTHORS)
def create() -> ResponseReturnValue:
    """Create a module from its theme, id and title, with a first draft to write over."""
    try:
        record = create_module(
            db.session, signed_in_user(), request.form.get("theme_id", ""), request.form.get("module_id", "").strip(), request.form.get("title", "").strip() or "Untitled"
        )
    except AuthoringError as error:
        flash(str(error), "error")
        return redirect(url_for("authoring.index")), 303
    flash("Your new module is ready to write. It stays a draft until you publish it.", "success")
    return redirect(url_for("authoring.edit", module_id=record.id))


def _render_editor(record: ModuleRecord, source: str, rendering: dict[str, object], problems: list[dict[str, object]], status: int = 200) -> tuple[str, int]:
    from .media import images_of

    latest = latest_revision(db.session, record.id)
    insights = []
    if record.current_revision is not None:
        question_ids = [q.id for quiz in parsed_revision(record.current_revision).quizzes for q in quiz.questions]
        insights = question_insights(db.session, record.id, question_ids)
    return render_template(
        "authoring/edit.html",
        record=record,
        source=source,
        rendered=RenderedModule.from_dict(rendering),
        problems=problems,
        latest=latest,
        unpublished=latest is not None and latest.id != record.current_revision_id,
        images=images_of(db.session, record.id),
        insights=insights,
    ), status


@blueprint.route("/modules/<module_id>", methods=["GET"])
@role_required(*AUTHORS)
def edit(module_id: str) -> ResponseReturnValue:
    """The editor: the latest source beside its preview, with its problems by line."""
    record = get_module_or_404(module_id)
    latest = latest_revision(db.session, record.id)
    if latest is None:
        abort(404, description="This module has no revision yet.")
    return _render_editor(record, latest.source, latest.rendered, latest.problems)


@blueprint.route("/modules/<module_id>", methods=["POST"])
@role_required(*AUTHORS)
def save(module_id: str) -> ResponseReturnValue:
    """Preview, save as a draft, or save and publish, as the button pressed says."""
    record = get_module_or_404(module_id)
    source = _source_from_form()
    action = request.form.get("action", "save")
    if action == "preview":
        rendering, problems = preview(db.session, record.id, source)
        return _render_editor(record, source, rendering, _as_shown(problems))
    if action not in {"save", "publish"}:
        abort(400, description="Use the Preview, Save draft or Publish button.")
    refused = _refuse_unsaveable(record, source)
    if refused is not None:
        return refused
    revision, created = save_draft(db.session, signed_in_user(), record, source)
    if action == "save":
        flash(f"Draft saved as revision {revision.number}." if created else "Nothing changed since the last save.", "success")
        if revision.problems:
            flash("The draft has problems, listed beside the source. It cannot be published until they are fixed.", "error")
        return redirect(url_for("authoring.edit", module_id=record.id)), 303
    try:
        publish(db.session, record, revision)
    except AuthoringError as error:
        db.keep_changes_on_error()  # the draft is the mentor's work: keep it, refuse only the publishing
        flash(f"Saved as a draft, not published: {error}", "error")
        return _render_editor(record, source, revision.rendered, revision.problems, 400)
    flash(f"Published: learners now see revision {revision.number}.", "success")
    return redirect(url_for("authoring.edit", module_id=record.id)), 303


@blueprint.route("/preview", methods=["POST"])
@role_required(*AUTHORS)
def live_preview() -> ResponseReturnValue:
    """The preview and problems of a source as the mentor types, as JSON for the editor's script."""
    record = get_module_or_404(request.form.get("module_id", ""))
    rendering, problems = preview(db.session, record.id, _source_from_form())
    html = render_template("authoring/_preview.html", rendered=RenderedModule.from_dict(rendering))
    return jsonify(html=html, problems=_as_shown(problems))


@blueprint.route("/modules/<module_id>/history")
@role_required(*AUTHORS)
def history(module_id: str) -> str:
    """Every revision with who and when, and a form to compare any two."""
    record = get_module_or_404(module_id)
    revisions = list(
        db.session.scalars(
            select(ModuleRevision).where(ModuleRevision.module_id == record.id).options(selectinload(ModuleRevision.author)).order_by(ModuleRevision.number.desc())
        )
    )
    return render_template("authoring/history.html", record=record, revisions=revisions)


@blueprint.route("/modules/<module_id>/diff")
@role_required(*AUTHORS)
def diff(module_id: str) -> str:
    """The differences between two revisions."""
    record = get_module_or_404(module_id)
    first, second = request.args.get("a", type=database_int), request.args.get("b", type=database_int)
    pair = revision_pair(db.session, record.id, first or 0, second or 0) if first and second else None
    if pair is None:
        abort(404, description="Choose two revisions of this module to compare.")
    return render_template("authoring/diff.html", record=record, old=pair[0], new=pair[1], lines=diff_lines(pair[0].source, pair[1].source))


@blueprint.route("/modules/<module_id>/restore/<int:number>", methods=["POST"])
@role_required(*AUTHORS)
def restore_revision(module_id: str, number: int) -> ResponseReturnValue:
    """Start a new draft from an earlier revision."""
    record = get_module_or_404(module_id)
    try:
        revision = restore(db.session, signed_in_user(), record, number)
    except LookupError:
        abort(404, description="This module has no such revision.")
    flash(f"Revision {number} is restored as draft {revision.number}. Publish it when you are ready.", "success")
    return redirect(url_for("authoring.edit", module_id=record.id)), 303
