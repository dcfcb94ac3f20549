from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from app.models import ModuleProgress, ModuleRecord, QuizAttempt, ThemeRecord
from course.progress import ModuleStatus

from ..conftest import csrf_token

MODULE = "search-like-a-pro"


def quiz_of(db_session, module_id=MODULE):
    """The first quiz of a module, parsed from its current revision."""
    from app.learning.services import parsed_revision

    record = db_session.get(ModuleRecord, module_id)
    return parsed_revision(record.current_revision).quizzes[0]


def answers_for(quiz, right=True):
    """Form data answering every question of `quiz`, all right or all wrong."""
    data = {}
    for question in quiz.questions:
        key = f"q-{question.id}"
        if question.kind.value == "text":
            data[key] = question.accepted[0] if right else "no idea"
        elif question.kind.value == "multiple":
            chosen = question.correct_choice_ids if right else {c.id for c in question.choices} - question.correct_choice_ids
            data[key] = sorted(chosen)
        else:
            wrong = next(c.id for c in question.choices if not c.correct)
            data[key] = next(iter(question.correct_choice_ids)) if right else wrong
    return data


def submit(client, quiz, data, module_id=MODULE):
    token = csrf_token(client.get(f"/modules/{module_id}").get_data(as_text=True))
    return client.post(f"/modules/{module_id}/quizzes/{quiz.id}", data=data | {"csrf_token": token})


def progress_of(db_session, user, module_id=MODULE):
    db_session.expire_all()
    return db_session.scalar(select(ModuleProgress).where(ModuleProgress.user_id == user.id, ModuleProgress.module_id == module_id))


def attempts_count(db_session):
    return db_session.scalar(select(func.count()).select_from(QuizAttempt))


def test_catalog_lists_the_five_themes_in_programme_order(learner_client, db_session):
    page = learner_client.get("/themes").get_data(as_text=True)
    titles = [t.title for t in db_session.scalars(select(ThemeRecord).order_by(ThemeRecord.position))]
    assert len(titles) == 5
    positions = [page.index(title) for title in titles]
    assert positions == sorted(positions)


def test_theme_page_lists_modules_with_duration_and_status(learner_client):
    page = learner_client.get("/themes/information-management").get_data(as_text=True)
    assert "Search like a professional" in page
    assert "20 min" in page
    assert "Not started" in page
    assert "Book a live session on this theme" in page


def test_opening_a_module_puts_it_in_progress_and_shows_content_toc_and_booking_link(learner_client, learner, db_session):
    page = learner_client.get(f"/modules/{MODULE}").get_data(as_text=True)
    assert 'href="/themes/information-management/sessions"' in page
    assert "Book a live session on this theme" in page
    assert "On this page" in page
    assert 'id="sec-try-it-now"' in page
    assert progress_of(db_session, learner).status is ModuleStatus.IN_PROGRESS


def test_the_rendered_module_is_served_from_its_revision_not_rendered_per_request(learner_client, monkeypatch):
    import course.render

    class NoRendering:
        def render(self, *_args, **_kwargs):
            raise AssertionError("Markdown rendered during a request")

        renderInline = render  # noqa: N815 - markdown-it's own method name

    monkeypatch.setattr(course.render, "_MD", NoRendering())
    page = learner_client.get(f"/modules/{MODULE}")
    assert page.status_code == 200
    assert 'id="sec-try-it-now"' in page.get_data(as_text=True)


def test_a_wrong_then_right_quiz_is_graded_stored_whole_and_completes_the_module(learner_client, learner, db_session):
    quiz = quiz_of(db_session)
    wrong = submit(learner_client, quiz, answers_for(quiz, right=False))
    assert wrong.status_code == 302
    result = learner_client.get(wrong.headers["Location"]).get_data(as_text=True)
    assert "Not passed yet: 0%" in result
    assert "Not quite" in result
    assert progress_of(db_session, learner).status is ModuleStatus.IN_PROGRESS

    right = submit(learner_client, quiz, answers_for(quiz, right=True))
    result = learner_client.get(right.headers["Location"]).get_data(as_text=True)
    assert "Passed with 100%" in result
    progress = progress_of(db_session, learner)
    assert progress.status is ModuleStatus.COMPLETED
    assert progress.best_score == 100
    attempt = db_session.scalars(select(QuizAttempt).order_by(QuizAttempt.id.desc())).first()
    assert attempt.question_ids == [q.id for q in quiz.questions]
    assert attempt.revision_id == db_session.get(ModuleRecord, MODULE).current_revision_id
    assert set(attempt.answers) == set(attempt.question_ids)
    assert (attempt.score, attempt.passed, attempt.pass_mark) == (100, True, db_session.get(ModuleRecord, MODULE).pass_mark)


def test_the_best_score_is_kept_and_the_completion_date_never_rewritten(learner_client, learner, db_session):
    quiz = quiz_of(db_session)
    submit(learner_client, quiz, answers_for(quiz, right=True))
    first_completion = progress_of(db_session, learner).completed_at
    submit(learner_client, quiz, answers_for(quiz, right=False))
    submit(learner_client, quiz, answers_for(quiz, right=True))
    progress = progress_of(db_session, learner)
    assert progress.best_score == 100
    assert progress.completed_at == first_completion
    assert attempts_count(db_session) == 3


def test_missing_answers_give_400_keep_the_answers_and_save_nothing(learner_client, learner, db_session):
    quiz = quiz_of(db_session)
    data = answers_for(quiz)
    first_question, *_ = quiz.questions
    del data[f"q-{first_question.id}"]
    response = submit(learner_client, quiz, data)
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "Please answer every question before submitting" in page
    assert f'href="#question-{first_question.id}"' in page
    text_question = next(q for q in quiz.questions if q.kind.value == "text")
    assert f'value="{text_question.accepted[0]}"' in page
    assert attempts_count(db_session) == 0


@pytest.mark.parametrize(
    "tamper",
    [
        lambda data, quiz: data | {"q-no-such-question": "a"},
        lambda data, quiz: data | {f"q-{quiz.questions[0].id}": "zz"},
        lambda data, quiz: data | {"unexpected": "1"},
        lambda data, quiz: data | {next(f"q-{q.id}" for q in quiz.questions if q.kind.value == "text"): "x" * 500},
        lambda data, quiz: data | {next(f"q-{q.id}" for q in quiz.questions if q.kind.value == "single"): ["a", "b"]},
    ],
    ids=["unknown question", "unknown choice", "foreign field", "oversized answer", "two answers to one choice"],
)
def test_tampered_quiz_forms_give_400_and_save_nothing(learner_client, db_session, tamper):
    quiz = quiz_of(db_session)
    response = submit(learner_client, quiz, tamper(answers_for(quiz), quiz))
    assert response.status_code == 400
    assert "do not fit this quiz" in response.get_data(as_text=True)
    assert attempts_count(db_session) == 0


def test_an_expired_csrf_token_on_a_quiz_keeps_the_answers(learner_client, db_session):
    quiz = quiz_of(db_session)
    data = answers_for(quiz) | {"csrf_token": "expired-or-forged"}
    response = learner_client.post(f"/modules/{MODULE}/quizzes/{quiz.id}", data=data)
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "Your answers are kept below" in page
    single = next(q for q in quiz.questions if q.kind.value == "single")
    right = next(iter(single.correct_choice_ids))
    assert f'id="answer-{single.id}-{right}" name="q-{single.id}" value="{right}" checked' in page
    assert attempts_count(db_session) == 0


@pytest.mark.parametrize("path", ["/modules/no-such-module", "/themes/no-such-theme", "/themes/no-such-theme/sessions", "/attempts/999999"])
def test_unknown_ids_give_a_friendly_404(learner_client, path):
    response = learner_client.get(path)
    assert response.status_code == 404
    assert "Go to my home page" in response.get_data(as_text=True)


def test_a_quiz_that_does_not_exist_gives_404(learner_client):
    token = csrf_token(learner_client.get(f"/modules/{MODULE}").get_data(as_text=True))
    assert learner_client.post(f"/modules/{MODULE}/quizzes/nope", data={"csrf_token": token}).status_code == 404


def test_nobody_reads_another_learner_s_attempt_by_changing_its_id(app, learner_client, people, db_session):
    quiz = quiz_of(db_session)
    location = submit(learner_client, quiz, answers_for(quiz)).headers["Location"]
    other = app.test_client()
    people.login(other, people.create(name="Someone Else"))
    assert other.get(location).status_code == 404
    assert learner_client.get(location).status_code == 200


def test_a_module_with_a_quiz_cannot_be_marked_done(learner_client, learner, db_session):
    token = csrf_token(learner_client.get(f"/modules/{MODULE}").get_data(as_text=True))
    assert learner_client.post(f"/modules/{MODULE}/done", data={"csrf_token": token}).status_code == 400
    assert progress_of(db_session, learner).status is ModuleStatus.IN_PROGRESS


def test_home_shows_progress_continue_next_and_recent(learner_client, learner, db_session):
    quiz = quiz_of(db_session, "keeping-informed")
    submit(learner_client, quiz, answers_for(quiz), module_id="keeping-informed")
    learner_client.get(f"/modules/{MODULE}")
    page = learner_client.get("/").get_data(as_text=True)
    assert "The whole course: 6% complete" in page
    assert "1 of 3 modules completed" in page
    continue_section = page[page.index("Continue where you left off") : page.index("Suggested next")]
    assert "Search like a professional" in continue_section
    suggested = page[page.index("Suggested next") : page.index("The five themes")]
    assert "Checking sources and facts" in suggested
    recent = page[page.index("Recently completed") :]
    assert "Keeping informed without drowning" in recent


def test_certificate_appears_when_every_module_is_complete(learner_client, learner, db_session):
    assert "Here is what remains" in learner_client.get("/certificate").get_data(as_text=True)
    now = datetime.now(UTC)
    modules = db_session.scalars(select(ModuleRecord)).all()
    for index, module in enumerate(modules):
        completed = now - timedelta(days=len(modules) - index)
        db_session.add(
            ModuleProgress(
                user_id=learner.id, module_id=module.id, status=ModuleStatus.COMPLETED, first_opened_at=completed, last_viewed_at=completed, completed_at=completed
            )
        )
    db_session.commit()
    page = learner_client.get("/certificate").get_data(as_text=True)
    assert "Certificate of completion" in page
    assert learner.name in page
    hours = round(sum(m.minutes for m in modules) / 60, 1)
    assert f"about {hours} hours of study" in page
    assert all(theme.title in page for theme in db_session.scalars(select(ThemeRecord)))


def test_every_page_carries_a_content_security_policy_without_inline_script(learner_client):
    response = learner_client.get("/")
    policy = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in policy
    assert "unsafe-inline" not in policy
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "<script>" not in response.get_data(as_text=True)


@pytest.fixture
def reading_module(db_session):
    """A module without a quiz in theme 1, removed after the test."""
    from app.models import ModuleRevision
    from course import parse_module, render_module

    source = (
        "---\nid: a-reading\ntitle: A reading\ntheme: information-management\norder: 9\nminutes: 10\n"
        "summary: Read only.\nobjectives:\n  - Read\n---\nJust reading.\n"
    )
    module = parse_module(source)
    record = ModuleRecord(
        id=module.id, theme_id=module.theme, position=9, title=module.title, minutes=10, summary="Read only.",
        objectives=["Read"], pass_mark=70, quiz_ids=[],
    )  # fmt: skip
    db_session.add(record)
    db_session.flush()
    revision = ModuleRevision(module_id=module.id, number=1, source=source, source_sha256="x", rendered=render_module(module).to_dict())
    db_session.add(revision)
    db_session.flush()
    record.current_revision_id = revision.id
    db_session.commit()
    yield record
    db_session.execute(ModuleProgress.__table__.delete().where(ModuleProgress.module_id == "a-reading"))
    record.current_revision_id = None
    db_session.flush()
    db_session.delete(revision)
    db_session.flush()
    db_session.delete(record)
    db_session.commit()


def test_a_module_without_quiz_is_completed_by_marking_it_done_once(learner_client, learner, db_session, reading_module):
    page = learner_client.get("/modules/a-reading").get_data(as_text=True)
    assert "Mark as done" in page
    token = csrf_token(page)
    assert learner_client.post("/modules/a-reading/done", data={"csrf_token": token}).status_code == 302
    first = progress_of(db_session, learner, "a-reading")
    assert first.status is ModuleStatus.COMPLETED
    learner_client.post("/modules/a-reading/done", data={"csrf_token": token})
    assert progress_of(db_session, learner, "a-reading").completed_at == first.completed_at
    assert "Mark as done" not in learner_client.get("/modules/a-reading").get_data(as_text=True)


def test_the_home_page_makes_the_same_number_of_queries_however_much_is_completed(app, learner_client, db_session):
    from sqlalchemy import event

    from app.extensions import db

    def queries_for_home() -> int:
        statements: list[str] = []
        listener = lambda *args: statements.append(args[2])  # noqa: E731 - a one-line recorder
        event.listen(db.engine, "before_cursor_execute", listener)
        try:
            assert learner_client.get("/").status_code == 200
        finally:
            event.remove(db.engine, "before_cursor_execute", listener)
        return len(statements)

    with app.app_context():
        queries_for_home()  # the first request after signing in also refreshes the session
        before = queries_for_home()
        for module_id in ("keeping-informed", "search-like-a-pro", "checking-sources-and-facts", "moocs"):
            quiz = quiz_of(db_session, module_id)
            submit(learner_client, quiz, answers_for(quiz), module_id=module_id)
        after = queries_for_home()
    assert after == before
    assert before <= 5
