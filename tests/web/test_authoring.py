"""Mentors author modules in the browser: drafts, preview, validation, publishing, history, diff, restore."""

import pytest
from sqlalchemy import select

from app.models import ModuleRecord, ModuleRevision, RevisionOrigin, Role

from ..conftest import csrf_token
from .test_learning import answers_for, quiz_of, submit
from .xss import VECTORS, script_vectors_in

MODULE = "search-like-a-pro"


@pytest.fixture
def mentor_client(app, people):
    client = app.test_client()
    people.login(client, people.create(Role.MENTOR, name="Mona Mentor"))
    return client


def source_of(db_session, module_id=MODULE):
    db_session.expire_all()
    return db_session.get(ModuleRecord, module_id).current_revision.source


def post_editor(client, action, source, module_id=MODULE):
    token = csrf_token(client.get(f"/authoring/modules/{module_id}").get_data(as_text=True))
    return client.post(f"/authoring/modules/{module_id}", data={"csrf_token": token, "action": action, "source": source})


def revisions(db_session, module_id=MODULE):
    db_session.expire_all()
    return list(db_session.scalars(select(ModuleRevision).where(ModuleRevision.module_id == module_id).order_by(ModuleRevision.number)))


def test_the_module_list_shows_every_theme_s_modules_with_their_state(mentor_client):
    page = mentor_client.get("/authoring/").get_data(as_text=True)
    assert "Search like a professional" in page
    assert "Published" in page
    assert "(imported)" in page


def test_saving_a_draft_keeps_learners_on_the_published_revision(mentor_client, db_session):
    published = source_of(db_session)
    changed = published.replace("## Try it now", "## A new tip\n\nAlways check the date.\n\n## Try it now", 1)
    response = post_editor(mentor_client, "save", changed)
    assert response.status_code == 303
    latest = revisions(db_session)[-1]
    assert (latest.origin, latest.problems, latest.published_at) == (RevisionOrigin.EDITOR, [], None)
    assert source_of(db_session) == published
    assert "sec-a-new-tip" in str(latest.rendered)


def test_publishing_makes_the_learners_see_the_change(app, mentor_client, learner_client, db_session):
    changed = source_of(db_session).replace("## Try it now", "## A new tip\n\nAlways check the date.\n\n## Try it now", 1)
    assert post_editor(mentor_client, "publish", changed).status_code == 303
    assert "Always check the date." in learner_client.get(f"/modules/{MODULE}").get_data(as_text=True)
    assert revisions(db_session)[-1].published_at is not None


def test_an_invalid_draft_is_saved_with_its_problems_by_line_and_never_published(mentor_client, db_session):
    published = source_of(db_session)
    broken = published.replace("(x) ", "( ) ", 1)
    response = post_editor(mentor_client, "publish", broken)
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "has no right choice" in page
    assert "Line " in page
    draft = revisions(db_session)[-1]
    assert draft.problems
    assert draft.problems[0]["line"] > 10
    assert source_of(db_session) == published


def test_the_module_id_cannot_change_in_the_editor(mentor_client, db_session):
    response = post_editor(mentor_client, "publish", source_of(db_session).replace(f"id: {MODULE}", "id: another-id", 1))
    assert response.status_code == 400
    assert "The id must stay" in response.get_data(as_text=True)


def test_a_link_to_a_missing_module_is_a_problem(mentor_client, db_session):
    response = post_editor(mentor_client, "preview", source_of(db_session) + "\nSee [x](module:no-such-module).\n")
    assert "The link &#39;module:no-such-module&#39; points to no module." in response.get_data(as_text=True)


def test_the_preview_button_renders_without_saving(mentor_client, db_session):
    before = len(revisions(db_session))
    response = post_editor(mentor_client, "preview", source_of(db_session).replace("## Try it now", "## Fresh heading\n\n## Try it now", 1))
    assert response.status_code == 200
    assert 'id="sec-fresh-heading"' in response.get_data(as_text=True)
    assert len(revisions(db_session)) == before


def test_the_live_preview_answers_json_with_html_and_problems(mentor_client, db_session):
    token = csrf_token(mentor_client.get(f"/authoring/modules/{MODULE}").get_data(as_text=True))
    source = source_of(db_session).replace("(x) ", "( ) ", 1)
    response = mentor_client.post("/authoring/preview", data={"module_id": MODULE, "source": source}, headers={"X-CSRFToken": token})
    data = response.get_json()
    assert response.status_code == 200
    assert any("has no right choice" in p["message"] for p in data["problems"])
    valid = mentor_client.post("/authoring/preview", data={"module_id": MODULE, "source": source_of(db_session)}, headers={"X-CSRFToken": token})
    assert valid.get_json()["problems"] == []
    assert 'id="sec-try-it-now"' in valid.get_json()["html"]


def test_the_live_preview_needs_the_csrf_token(mentor_client, db_session):
    assert mentor_client.post("/authoring/preview", data={"module_id": MODULE, "source": "x"}).status_code == 400


@pytest.mark.parametrize("vector", VECTORS)
def test_no_vector_in_a_source_survives_into_preview_or_published_page(mentor_client, learner_client, db_session, vector):
    source = source_of(db_session).replace("## Try it now", f"{vector}\n\n## Try it now", 1)
    token = csrf_token(mentor_client.get(f"/authoring/modules/{MODULE}").get_data(as_text=True))
    live = mentor_client.post("/authoring/preview", data={"module_id": MODULE, "source": source}, headers={"X-CSRFToken": token}).get_json()
    assert script_vectors_in(live["html"]) == []
    post_editor(mentor_client, "publish", source)
    assert script_vectors_in(learner_client.get(f"/modules/{MODULE}").get_data(as_text=True)) == []
    assert script_vectors_in(post_editor(mentor_client, "preview", source).get_data(as_text=True)) == []


def test_the_page_checker_sees_a_script():
    assert script_vectors_in('<p><script>x</script><a href="javascript:x" onclick="y">z</a></p>') == [
        "element <script>",
        "href='javascript:x' on <a>",
        "attribute onclick on <a>",
    ]


def test_history_diff_and_restore(mentor_client, db_session):
    original = source_of(db_session)
    post_editor(mentor_client, "publish", original.replace("## Try it now", "## Tip one\n\n## Try it now", 1))
    first_number = revisions(db_session)[0].number
    history = mentor_client.get(f"/authoring/modules/{MODULE}/history").get_data(as_text=True)
    assert "Mona Mentor" in history
    assert "Imported from the content folder" in history
    latest_number = revisions(db_session)[-1].number
    diff = mentor_client.get(f"/authoring/modules/{MODULE}/diff?a={first_number}&b={latest_number}").get_data(as_text=True)
    assert "Added: </span>+ ## Tip one" in diff
    token = csrf_token(history)
    assert mentor_client.post(f"/authoring/modules/{MODULE}/restore/{first_number}", data={"csrf_token": token}).status_code == 303
    restored = revisions(db_session)[-1]
    assert restored.source == original
    assert restored.published_at is None


def test_diff_of_unknown_revisions_is_a_404(mentor_client):
    assert mentor_client.get(f"/authoring/modules/{MODULE}/diff?a=1&b=999").status_code == 404


def test_a_mentor_creates_a_module_writes_a_quiz_publishes_and_a_learner_takes_it(mentor_client, learner_client, db_session):
    token = csrf_token(mentor_client.get("/authoring/").get_data(as_text=True))
    response = mentor_client.post(
        "/authoring/modules", data={"csrf_token": token, "theme_id": "information-management", "module_id": "video-meetings", "title": "Video meetings"}
    )
    assert response.headers["Location"] == "/authoring/modules/video-meetings"
    assert learner_client.get("/modules/video-meetings").status_code == 404  # a draft is not for learners
    draft = revisions(db_session, "video-meetings")[-1].source
    assert post_editor(mentor_client, "publish", draft, "video-meetings").status_code == 303
    assert learner_client.get("/modules/video-meetings").status_code == 200
    quiz = quiz_of(db_session, "video-meetings")
    result = submit(learner_client, quiz, answers_for(quiz), module_id="video-meetings")
    assert "Passed with 100%" in learner_client.get(result.headers["Location"]).get_data(as_text=True)


@pytest.mark.parametrize(
    ("module_id", "message"),
    [("Bad Id", "lowercase letters"), (MODULE, "already exists")],
)
def test_creating_a_module_with_a_bad_or_taken_id_is_refused(mentor_client, db_session, module_id, message):
    token = csrf_token(mentor_client.get("/authoring/").get_data(as_text=True))
    response = mentor_client.post("/authoring/modules", data={"csrf_token": token, "theme_id": "information-management", "module_id": module_id, "title": "T"})
    assert response.status_code == 303
    assert message in mentor_client.get("/authoring/").get_data(as_text=True)


def test_an_oversized_source_is_refused(mentor_client):
    response = post_editor(mentor_client, "save", "x" * 300_000)
    assert response.status_code == 413


def test_attempts_made_before_an_edit_keep_their_revision_and_progress_survives(mentor_client, learner_client, learner, db_session):
    quiz = quiz_of(db_session)
    before = db_session.get(ModuleRecord, MODULE).current_revision_id
    submit(learner_client, quiz, answers_for(quiz))
    post_editor(mentor_client, "publish", source_of(db_session).replace("## Try it now", "## Extra\n\n## Try it now", 1))
    from app.models import ModuleProgress, QuizAttempt

    attempt = db_session.scalars(select(QuizAttempt)).one()
    assert attempt.revision_id == before
    db_session.expire_all()
    progress = db_session.scalar(select(ModuleProgress).where(ModuleProgress.user_id == learner.id, ModuleProgress.module_id == MODULE))
    assert progress.status.value == "completed"
    assert learner_client.get(f"/attempts/{attempt.id}").status_code == 200


def test_question_insights_show_first_try_share_and_most_chosen_wrong_answer(app, mentor_client, people, db_session):
    quiz = quiz_of(db_session)
    for index, right in enumerate((True, False, False)):
        client = app.test_client()
        people.login(client, people.create(name=f"Learner {index}"))
        submit(client, quiz, answers_for(quiz, right=right))
    page = mentor_client.get(f"/authoring/modules/{MODULE}").get_data(as_text=True)
    assert "33% of 3" in page
    single = next(q for q in quiz.questions if q.kind.value == "single")
    wrong_text = next(c.text for c in single.choices if not c.correct)
    assert f"“{wrong_text}” (2)" in page.replace("&#34;", '"').replace("&#39;", "'").replace("&quot;", '"')


def test_learners_cannot_author(learner_client):
    assert learner_client.get("/authoring/").status_code == 403
    assert learner_client.get(f"/authoring/modules/{MODULE}").status_code == 403


def test_a_quiz_opened_before_a_publish_is_graded_on_the_revision_shown(mentor_client, learner_client, db_session):
    page = learner_client.get(f"/modules/{MODULE}").get_data(as_text=True)
    quiz = quiz_of(db_session)
    old_id = quiz.questions[0].id
    post_editor(mentor_client, "publish", source_of(db_session).replace(f"[question {old_id}]", "[question renamed-question]", 1))
    shown_revision = page.split('name="revision" value="', 1)[1].split('"', 1)[0]
    response = learner_client.post(
        f"/modules/{MODULE}/quizzes/{quiz.id}", data=answers_for(quiz) | {"csrf_token": csrf_token(page), "revision": shown_revision}
    )
    assert response.status_code == 302
    from app.models import QuizAttempt

    attempt = db_session.scalars(select(QuizAttempt)).one()
    assert str(attempt.revision_id) == shown_revision
    assert old_id in attempt.question_ids
