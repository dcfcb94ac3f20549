"""The learner's pages: home, catalog, themes, modules, quizzes, results and the certificate."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_wtf.csrf import CSRFError
from markupsafe import Markup
from sqlalchemy import bindparam, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import defer
from werkzeug.datastructures import MultiDict
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response

from course import AnswerError, MissingAnswersError, Quiz
from course.grade import MAX_TEXT_ANSWER, Answer
from course.progress import (
    ModuleStatus,
    can_mark_done,
    completion_date,
    continue_module,
    is_course_complete,
    next_module,
    overall_percent,
    recently_completed,
    status_of,
    study_minutes,
    theme_progress,
)
from course.render import RenderedQuiz

from ..bounds import database_int
from ..errors import render_expired_form, render_failure
from ..extensions import db
from ..forms import EmptyForm
from ..models import ModuleRecord, ModuleRevision, QuizAttempt, ThemeRecord, User, utcnow
from ..security import signed_in_user
from ..sessions.listing import listed_sessions, session_filters, unread_notifications, upcoming_bookings
from .services import (
    CourseOutline,
    RevisionCache,
    latest_attempts,
    load_outline,
    mark_done,
    open_module,
    parsed_revision,
    progress_records,
    rendered_revision,
    submit_quiz,
)

blueprint = Blueprint("learn", __name__)
CSRF_QUIZ_MESSAGE = "For your security, the page had expired. Your answers are kept below: check them and submit the quiz again."
ANSWER_PREFIX = "q-"
NON_ANSWER_FIELDS = frozenset({"csrf_token", "revision"})
MODULE_PAGE_SESSIONS = 5


# Built once, as every module page and quiz submission runs it.
PUBLISHED_MODULE = (
    select(ModuleRecord, ModuleRevision)
    .join(ModuleRevision, ModuleRevision.id == ModuleRecord.current_revision_id)
    .where(ModuleRecord.id == bindparam("module_id"))
    .options(defer(ModuleRevision.source), defer(ModuleRevision.rendered))
)


def get_theme_or_404(theme_id: str) -> ThemeRecord:
    """The theme with this id, or a 404 page."""
    theme = db.session.get(ThemeRecord, theme_id)
    if theme is None:
        abort(404, description="There is no such theme. Choose one from the course page.")
    return theme


def get_module_or_404(module_id: str) -> tuple[ModuleRecord, ModuleRevision]:
    """The published module with this id and its current revision, or a 404 page; one query.

    The revision's source and rendering are read only when this process has not parsed or rendered it yet.
    """
    row = db.session.execute(PUBLISHED_MODULE, {"module_id": module_id}).first()
    if row is None:
        abort(404, description="There is no such module. Choose one from the course page.")
    module, revision = row
    return module, revision


def get_attempt_or_404(attempt_id: int, owner: User) -> QuizAttempt:
    """One of `owner`'s attempts; anybody else's is reported as not found."""
    attempt = db.session.get(QuizAttempt, attempt_id)
    if attempt is None or attempt.user_id != owner.id:
        abort(404, description="There is no such quiz result.")
    return attempt


@blueprint.route("/healthz")
def health() -> tuple[str, int]:
    """A cheap answer for load balancers and monitoring."""
    return "ok", 200


@blueprint.route("/")
def home() -> str:
    """Overall progress, where to continue, what to do next, recent completions and live sessions."""
    outline = load_outline(db.session)
    records = progress_records(db.session, signed_in_user().id)
    themes = [(theme, theme_progress(theme.id, outline.modules, records)) for theme in outline.themes]
    return render_template(
        "learn/home.html",
        themes=themes,
        overall=overall_percent(outline.modules, records),
        continue_at=continue_module(outline.modules, records),
        suggested=next_module(outline.modules, records),
        recent=recently_completed(outline.modules, records),
        course_complete=is_course_complete([t.id for t in outline.themes], outline.modules, records),
        bookings=upcoming_bookings(db.session, signed_in_user().id),
        notifications=unread_notifications(db.session, signed_in_user().id),
    )


@blueprint.route("/themes")
def catalog() -> str:
    """The five themes in order, each with its progress."""
    outline = load_outline(db.session)
    records = progress_records(db.session, signed_in_user().id)
    themes = [(theme, theme_progress(theme.id, outline.modules, records)) for theme in outline.themes]
    return render_template("learn/catalog.html", themes=themes)


@blueprint.route("/themes/<theme_id>")
def theme(theme_id: str) -> str:
    """A theme's introduction and its modules with duration, status and best score."""
    record = get_theme_or_404(theme_id)
    outline = load_outline(db.session)
    records = progress_records(db.session, signed_in_user().id)
    modules = [(m, status_of(m.id, records), records.get(m.id)) for m in outline.modules_of(theme_id)]
    summaries = {m.id: m.summary for m in db.session.scalars(select(ModuleRecord).where(ModuleRecord.theme_id == theme_id))}
    return render_template(
        "learn/theme.html",
        theme=record,
        modules=modules,
        summaries=summaries,
        progress=theme_progress(theme_id, outline.modules, records),
    )


@blueprint.route("/themes/<theme_id>/sessions")
def theme_sessions(theme_id: str) -> str:
    """What a live mentor session on this theme covers, and the sessions open for booking."""
    theme = get_theme_or_404(theme_id)
    site, session_format = session_filters()
    weeks = current_app.config["SESSION_LISTING_WEEKS"]
    sessions, mine = listed_sessions(db.session, signed_in_user().id, utcnow(), weeks, theme_id, site, session_format)
    return render_template(
        "learn/sessions.html",
        theme=theme,
        sessions=sessions,
        mine=mine,
        selected={"site": site or "", "format": session_format.value if session_format else ""},
        sites=current_app.config["SITES"],
        form=EmptyForm(),
    )


def _render_questions(revision: ModuleRevision) -> dict[str, Markup]:
    """Each quiz's questions as shown with nothing answered: the same for every learner, so made once per revision."""
    quizzes = [part for part in rendered_revision(revision).parts if isinstance(part, RenderedQuiz)]
    template = "learn/_quiz_questions.html"
    # A rendered template: Jinja has escaped everything in it already.
    return {quiz.id: Markup(render_template(template, quiz=quiz, kept={}, quiz_error=None)) for quiz in quizzes}  # noqa: S704


_questions_html = RevisionCache(_render_questions)


def _neighbours(outline: CourseOutline, module_id: str) -> tuple[Any, Any]:
    modules = outline.modules
    index = next((i for i, m in enumerate(modules) if m.id == module_id), None)
    if index is None:
        return None, None
    previous = modules[index - 1] if index > 0 else None
    following = modules[index + 1] if index + 1 < len(modules) else None
    return previous, following


def _render_module_page(
    module: ModuleRecord,
    revision: ModuleRevision,
    *,
    kept_answers: dict[str, dict[str, Any]] | None = None,
    quiz_error: tuple[str, str, list[str]] | None = None,
) -> str:
    learner_id = signed_in_user().id
    site, session_format = session_filters()
    progress = open_module(db.session, learner_id, module.id)
    outline = load_outline(db.session)
    previous, following = _neighbours(outline, module.id)
    weeks = current_app.config["SESSION_LISTING_WEEKS"]
    sessions, mine = listed_sessions(db.session, learner_id, utcnow(), weeks, module.theme_id, site, session_format, MODULE_PAGE_SESSIONS)
    return render_template(
        "learn/module.html",
        module=module,
        theme=db.session.get(ThemeRecord, module.theme_id),  # loaded with the outline: no query
        rendered=rendered_revision(revision),
        questions_html=_questions_html.get(revision),
        progress=progress,
        attempts=latest_attempts(db.session, learner_id, module.id),
        kept_answers=kept_answers or {},
        quiz_error=quiz_error,
        can_mark_done=not module.quiz_ids and progress.status is not ModuleStatus.COMPLETED,
        previous=previous,
        following=following,
        sessions=sessions,
        mine=mine,
        selected={"site": site or "", "format": session_format.value if session_format else ""},
        sites=current_app.config["SITES"],
    )


@blueprint.route("/modules/<module_id>")
def module(module_id: str) -> str:
    """A module: its content, table of contents, quizzes, and the way to a live session on its theme."""
    record, revision = get_module_or_404(module_id)
    return _render_module_page(record, revision)


def answers_from_form(form: MultiDict[str, str], quiz: Quiz) -> dict[str, Answer]:
    """The answers a quiz form carries; fields that are not answers are refused."""
    answers: dict[str, Answer] = {}
    for key in form:
        if key in NON_ANSWER_FIELDS:
            continue
        if not key.startswith(ANSWER_PREFIX):
            raise AnswerError([f"the form holds an unexpected field '{key[:40]}'"])
        question_id = key.removeprefix(ANSWER_PREFIX)
        values = form.getlist(key)
        question = quiz.question(question_id)
        many = question is None or question.kind.value == "multiple" or len(values) > 1
        answers[question_id] = values if many else values[0]
    return answers


def kept_answers_from_form(form: MultiDict[str, str], quiz_id: str) -> dict[str, dict[str, Any]]:
    """What the learner had answered, to show it again when the form must be sent a second time."""
    kept: dict[str, Any] = {}
    for key in form:
        if key.startswith(ANSWER_PREFIX):
            kept[key.removeprefix(ANSWER_PREFIX)] = [value[:MAX_TEXT_ANSWER] for value in form.getlist(key)[:10]]
    return {quiz_id: kept}


def render_module_with_kept_answers(module_id: str, quiz_id: str, message: str, unanswered: list[str]) -> str:
    """The module page again, with the learner's answers filled in and a message above the quiz."""
    record, revision = get_module_or_404(module_id)
    return _render_module_page(
        record, revision, kept_answers=kept_answers_from_form(request.form, quiz_id), quiz_error=(quiz_id, message, unanswered)
    )


def _revision_seen(record: ModuleRecord, current: ModuleRevision) -> ModuleRevision:
    """The published revision the learner answered: a quiz opened before a mentor published an edit is graded as shown."""
    seen_id = request.form.get("revision", type=database_int)
    if seen_id is None or seen_id == current.id:
        return current
    seen = db.session.get(ModuleRevision, seen_id)
    return seen if seen is not None and seen.module_id == record.id and seen.published_at is not None else current


@blueprint.errorhandler(CSRFError)
def expired_quiz(_error: CSRFError) -> ResponseReturnValue:
    """An expired quiz page shows the module again with the learner's answers kept; other forms get the usual page."""
    if request.endpoint != "learn.submit" or not request.view_args:
        return render_expired_form()
    args = request.view_args
    try:
        return render_module_with_kept_answers(args["module_id"], args["quiz_id"], CSRF_QUIZ_MESSAGE, []), 400
    except HTTPException:
        return render_expired_form()  # an unknown module: the plain message says what to do
    except SQLAlchemyError as error:
        return render_failure(error)


@blueprint.route("/modules/<module_id>/quizzes/<quiz_id>", methods=["POST"])
def submit(module_id: str, quiz_id: str) -> Response | tuple[str, int]:
    """Grade a quiz on the server, store the attempt, and show its result."""
    record, revision = get_module_or_404(module_id)
    revision = _revision_seen(record, revision)
    quiz = parsed_revision(revision).quiz(quiz_id)
    if quiz is None:
        abort(404, description="This module has no such quiz. Open the module again to see its quizzes.")
    try:
        attempt, _ = submit_quiz(db.session, signed_in_user().id, record, revision, quiz.id, answers_from_form(request.form, quiz))
    except MissingAnswersError as missing:
        db.session.rollback()
        message = "Please answer every question before submitting. Your answers are kept. Still to answer:"
        return render_module_with_kept_answers(module_id, quiz.id, message, list(missing.question_ids)), 400
    except AnswerError as error:
        db.session.rollback()
        abort(400, description=f"These answers do not fit this quiz ({error}). Open the module again and answer the quiz.")
    return redirect(url_for("learn.attempt", attempt_id=attempt.id))


@blueprint.route("/attempts/<int:attempt_id>")
def attempt(attempt_id: int) -> str:
    """The result of one of your attempts: each question right or wrong, with feedback and explanation."""
    stored = get_attempt_or_404(attempt_id, signed_in_user())
    module, _ = get_module_or_404(stored.module_id)
    revision = db.session.get(ModuleRevision, stored.revision_id)
    if revision is None:  # pragma: no cover - revisions are never deleted
        abort(404)
    rendered = rendered_revision(revision)
    quiz = next((p for p in rendered.parts if isinstance(p, RenderedQuiz) and p.id == stored.quiz_id), None)
    if quiz is None:  # pragma: no cover - an attempt always names a quiz of its revision
        abort(404)
    parsed_quiz = parsed_revision(revision).quiz(stored.quiz_id)
    progress = progress_records(db.session, signed_in_user().id).get(module.id)
    _, following = _neighbours(load_outline(db.session), module.id)
    return render_template(
        "learn/result.html",
        attempt=stored,
        module=module,
        quiz=quiz,
        parsed_quiz=parsed_quiz,
        results={r["question_id"]: r for r in stored.results},
        module_completed=progress is not None and progress.status is ModuleStatus.COMPLETED,
        following=following,
    )


@blueprint.route("/modules/<module_id>/done", methods=["POST"])
def done(module_id: str) -> Response:
    """Mark a module without a quiz as done."""
    record, _ = get_module_or_404(module_id)
    outline = next((m for m in load_outline(db.session).modules if m.id == module_id), None)
    if outline is None or not can_mark_done(outline):
        abort(400, description="This module is completed by passing its quiz, not by marking it done.")
    if EmptyForm().validate_on_submit():
        mark_done(db.session, signed_in_user().id, record)
        flash(f"“{record.title}” is marked as done.", "success")
    return redirect(url_for("learn.module", module_id=module_id))


@blueprint.route("/certificate")
def certificate() -> str:
    """A printable certificate once every theme is complete; until then, what remains."""
    outline = load_outline(db.session)
    records = progress_records(db.session, signed_in_user().id)
    complete = is_course_complete([t.id for t in outline.themes], outline.modules, records)
    themes = [(theme, theme_progress(theme.id, outline.modules, records)) for theme in outline.themes]
    return render_template(
        "learn/certificate.html",
        complete=complete,
        themes=themes,
        completed_on=completion_date(records),
        hours=round(study_minutes(outline.modules, records) / 60, 1),
    )
