"""Each input bound with its message: ids in the address, control characters, lengths, dates, positions, the safety net."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from app.bounds import DATABASE_INT_MAX, ValueOutOfBoundsError, column_length, day_in_words, last_planning_day, years_after
from app.models import LiveSession, MentorProfile, ModuleRecord, Role, ThemeRecord, User
from course.parse import MAX_ORDER, MAX_SOURCE_CHARS, MAX_TITLE_CHARS

from ..conftest import csrf_token
from .test_authoring import post_editor, revisions, source_of
from .test_booking import count_sessions, post, session_form, signed_in

MODULE = "search-like-a-pro"
THEME = "information-management"


@pytest.fixture
def mentor(people):
    return people.create(Role.MENTOR, name="Mona Mentor")


@pytest.fixture
def mentor_client(app, people, mentor):
    client = app.test_client()
    people.login(client, mentor)
    return client


def page_of(response):
    return response.get_data(as_text=True)


# Ids in the address


def test_an_id_within_the_database_range_reaches_the_view_and_one_past_it_matches_no_page(learner_client):
    within = learner_client.get(f"/sessions/{DATABASE_INT_MAX}")
    assert within.status_code == 404
    assert "There is no such live session" in page_of(within)
    for past in (DATABASE_INT_MAX + 1, 10**20, "9" * 5000):
        response = learner_client.get(f"/sessions/{past}")
        assert response.status_code == 404
        assert "The page you asked for does not exist" in page_of(response)


def test_digits_of_other_scripts_are_not_ids(learner_client):
    assert learner_client.get("/attempts/\u0661").status_code == 404  # ARABIC-INDIC DIGIT ONE


def test_a_control_character_in_the_address_matches_no_page(learner_client):
    assert learner_client.get("/modules/search-like-a-pro%00").status_code == 404
    assert learner_client.post("/modules/search%1b/done").status_code == 404


# Control characters in query strings and forms


def test_a_control_character_in_a_query_string_is_a_400_naming_the_parameter(learner_client):
    response = learner_client.get("/sessions?site=Lyon%00")
    assert response.status_code == 400
    assert "The address holds an invisible control character (U+0000) in “site”." in page_of(response)


def test_a_control_character_in_a_form_field_is_a_400_naming_the_field_and_nothing_is_saved(mentor_client, db_session):
    token = csrf_token(page_of(mentor_client.get("/mentor/profile")))
    response = mentor_client.post("/mentor/profile", data={"csrf_token": token, "languages": "English\x07", "introduction": "Hello"})
    assert response.status_code == 400
    assert "The field “Languages (comma-separated)” holds an invisible control character (U+0007), which cannot be saved." in page_of(response)
    assert db_session.scalar(select(func.count()).select_from(MentorProfile)) == 0


def test_text_areas_keep_tabs_and_line_breaks_but_single_line_fields_refuse_them(mentor_client, mentor, db_session):
    token = csrf_token(page_of(mentor_client.get("/mentor/profile")))
    kept = mentor_client.post("/mentor/profile", data={"csrf_token": token, "languages": "English", "introduction": "Hello,\r\n\tI lead searches."})
    assert kept.status_code == 302
    assert db_session.get(MentorProfile, mentor.id).introduction == "Hello,\r\n\tI lead searches."
    refused = mentor_client.post("/mentor/profile", data={"csrf_token": token, "languages": "English\nFrench", "introduction": "Hi"})
    assert refused.status_code == 400
    assert "(U+000A)" in page_of(refused)


def test_the_people_import_reads_its_own_form_under_its_own_limit(app, people):
    client = app.test_client()
    people.login(client, people.create(Role.HR))
    token = csrf_token(page_of(client.get("/hr/people/import")))
    # Over the platform's 1 MB: read here first, the form would be refused before the import raises its limit.
    big = b"email,first name\n" + b"x" * (1024 * 1024 + 10)
    # The body is built here: the test client would spool it to a temporary file it never closes.
    body = b"\r\n".join(
        [
            b"--sweep",
            b'Content-Disposition: form-data; name="csrf_token"',
            b"",
            token.encode(),
            b"--sweep",
            b'Content-Disposition: form-data; name="file"; filename="people.csv"',
            b"Content-Type: text/csv",
            b"",
            big,
            b"--sweep--",
            b"",
        ]
    )
    response = client.post("/hr/people/import", data=body, content_type="multipart/form-data; boundary=sweep")
    assert response.status_code != 413


# Lengths


def test_a_field_longer_than_its_column_is_refused_with_the_field_and_the_figures(app, people, mentor, db_session):
    limit = column_length(LiveSession.room)
    response = post(signed_in(app, people, mentor), "/mentor/sessions/new", session_form(room="R" * (limit + 1)))
    assert response.status_code == 400
    assert f"“Room” holds at most {limit} characters, and this one has {limit + 1}. Shorten it." in page_of(response)
    assert count_sessions(db_session) == 0


def test_titles_in_markdown_and_in_the_database_have_one_length():
    assert column_length(ModuleRecord.title) == column_length(ThemeRecord.title) == MAX_TITLE_CHARS


def test_a_module_title_longer_than_its_column_is_refused_and_no_module_is_made(mentor_client, db_session):
    token = csrf_token(page_of(mentor_client.get("/authoring/")))
    data = {"csrf_token": token, "theme_id": "information-management", "module_id": "long-title", "title": "T" * (MAX_TITLE_CHARS + 1)}
    assert mentor_client.post("/authoring/modules", data=data).status_code == 303
    assert f"The title holds {MAX_TITLE_CHARS + 1} characters; a title holds at most {MAX_TITLE_CHARS}. Shorten it." in page_of(mentor_client.get("/authoring/"))
    assert db_session.get(ModuleRecord, "long-title") is None


def test_the_safety_net_refuses_a_value_beyond_its_column_with_a_400_naming_it(app, people, client, db_session):
    user = people.create(Role.LEARNER, department="Claims")

    def rename_department():
        from app.extensions import db

        db.session.get(User, user.id).department = "D" * 121
        return "saved"

    app.add_url_rule("/too-long", "too_long", rename_department)
    people.login(client, user)
    response = client.get("/too-long")
    assert response.status_code == 400
    assert "The department of this user holds 121 characters; at most 120 can be saved. Shorten it and send it again." in page_of(response)
    db_session.expire_all()
    assert db_session.get(User, user.id).department == "Claims"


@pytest.mark.parametrize(
    ("attribute", "value", "message"),
    [
        ("name", "N" * 121, "The name of this user holds 121 characters; at most 120 can be saved."),
        ("name", "Ann\x00", "The name of this user holds a NUL character, which cannot be saved."),
        ("birth_year", 2**31, "The birth year of this user is 2,147,483,648; it must be from -2,147,483,648 to 2,147,483,647."),
    ],
)
def test_the_safety_net_holds_sqlite_to_what_postgresql_stores(app, attribute, value, message):
    with pytest.raises(ValueOutOfBoundsError) as refused:
        setattr(User(), attribute, value)
    assert str(refused.value).startswith(message)


# Dates


def test_a_session_more_than_two_years_ahead_is_refused_with_the_last_day_allowed(app, people, mentor, db_session):
    client = signed_in(app, people, mentor)
    with app.app_context():
        last = last_planning_day()
    for day in ("9999-12-31", (last + timedelta(days=1)).isoformat()):
        response = post(client, "/mentor/sessions/new", session_form(day=day))
        assert response.status_code == 400
        assert f"Sessions are planned at most 2 years ahead: choose a day up to {day_in_words(last)}." in page_of(response)
    assert count_sessions(db_session) == 0
    assert post(client, "/mentor/sessions/new", session_form(day=last.isoformat())).status_code == 302


def test_a_session_in_the_far_past_is_refused_before_any_time_is_computed(app, people, mentor, db_session):
    response = post(signed_in(app, people, mentor), "/mentor/sessions/new", session_form(day="0001-01-01"))
    assert response.status_code == 400
    assert "The start must be in the future. Choose" in page_of(response)


@pytest.mark.parametrize("query", ["from=0001-01-01", "to=9999-12-31", "from=1999-12-31"])
def test_hr_filter_dates_outside_the_figures_range_are_a_400_with_the_range(app, people, query):
    client = app.test_client()
    people.login(client, people.create(Role.HR))
    response = client.get(f"/hr/?{query}")
    assert response.status_code == 400
    assert "is outside the range of the figures: choose a date from 1 January 2000 to " in page_of(response)
    assert client.get("/hr/?from=2000-01-01").status_code == 200


def test_two_years_after_29_february_is_28_february():
    assert years_after(datetime(2028, 2, 29, tzinfo=UTC).date(), 2).isoformat() == "2030-02-28"


# Numbers in forms and query strings


def test_revision_numbers_past_the_database_range_are_no_revision(mentor_client):
    response = mentor_client.get(f"/authoring/modules/{MODULE}/diff?a={10**20}&b=1")
    assert response.status_code == 404
    assert "Choose two revisions of this module to compare." in page_of(response)


# Markdown sources in the editor


def test_a_source_with_a_control_character_is_not_saved_and_the_editor_names_its_line(mentor_client, db_session):
    before = len(revisions(db_session))
    lines = source_of(db_session).split("\n")
    lines[11] += "\x00"
    response = post_editor(mentor_client, "save", "\n".join(lines))
    assert response.status_code == 400
    page = page_of(response)
    assert "Line 12: This line holds an invisible control character (U+0000), which cannot be saved." in page
    assert "Not saved: fix the problems listed beside the source, then save again." in page
    assert len(revisions(db_session)) == before


def test_the_live_preview_lists_the_line_of_a_control_character(mentor_client, db_session):
    token = csrf_token(page_of(mentor_client.get(f"/authoring/modules/{MODULE}")))
    source = source_of(db_session).replace("## Try it now", "## Try\x0c it now", 1)
    response = mentor_client.post("/authoring/preview", data={"module_id": MODULE, "source": source}, headers={"X-CSRFToken": token})
    assert response.status_code == 200
    assert any("(U+000C)" in problem["message"] for problem in response.get_json()["problems"])


def test_a_source_over_the_limit_is_refused_with_the_real_figure(mentor_client, db_session):
    before = len(revisions(db_session))
    response = post_editor(mentor_client, "save", "x" * (MAX_SOURCE_CHARS + 1))
    assert response.status_code == 413
    assert f"The file is too long ({MAX_SOURCE_CHARS + 1:,} characters). Split it into modules of at most {MAX_SOURCE_CHARS:,} characters." in page_of(response)
    assert len(revisions(db_session)) == before


def test_the_limit_counts_line_breaks_as_typed_not_as_browsers_send_them(mentor_client, db_session):
    source = source_of(db_session)
    padded = source + "\n" * (MAX_SOURCE_CHARS - len(source))  # exactly the limit with LF line breaks
    token = csrf_token(page_of(mentor_client.get(f"/authoring/modules/{MODULE}")))
    data = {"csrf_token": token, "action": "save", "source": padded.replace("\n", "\r\n")}
    response = mentor_client.post(f"/authoring/modules/{MODULE}", data=data, content_type="multipart/form-data")  # as the editor sends it
    assert response.status_code == 303
    assert revisions(db_session)[-1].source == padded


def test_a_request_over_one_megabyte_is_told_both_real_limits(mentor_client):
    token = csrf_token(page_of(mentor_client.get(f"/authoring/modules/{MODULE}")))
    response = mentor_client.post(f"/authoring/modules/{MODULE}", data={"csrf_token": token, "action": "save", "source": "x" * (1024 * 1024 + 1)})
    assert response.status_code == 413
    page = page_of(response)
    assert "larger than the 1 MB a form can carry" in page
    assert f"holds at most {MAX_SOURCE_CHARS:,} characters" in page


def test_the_editor_sends_its_source_as_multipart_so_that_every_allowed_source_fits_in_one_megabyte(mentor_client):
    assert MAX_SOURCE_CHARS * 4 < 1024 * 1024  # four bytes at most per character in UTF-8
    page = page_of(mentor_client.get(f"/authoring/modules/{MODULE}"))
    assert 'enctype="multipart/form-data" class="editor"' in page


# Positions


def test_a_theme_whose_last_position_is_taken_refuses_a_new_module(mentor_client, db_session):
    # An unpublished module at the last position; the fixtures remove modules the course does not hold.
    db_session.add(ModuleRecord(id="at-the-end", theme_id=THEME, position=MAX_ORDER, title="At the end", minutes=5, summary="", objectives=[], pass_mark=70, quiz_ids=[]))
    db_session.commit()
    token = csrf_token(page_of(mentor_client.get("/authoring/")))
    data = {"csrf_token": token, "theme_id": THEME, "module_id": "one-too-many", "title": "One too many"}
    assert mentor_client.post("/authoring/modules", data=data).status_code == 303
    assert f"already has a module at position {MAX_ORDER}, the last position a theme has." in page_of(mentor_client.get("/authoring/"))
    assert db_session.get(ModuleRecord, "one-too-many") is None
