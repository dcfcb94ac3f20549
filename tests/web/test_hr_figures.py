"""The HR figures are brought up to date by jobs from what is recorded, and always equal a computation from scratch."""

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import create_engine, make_url, select, text, update
from sqlalchemy.orm import Session

from app.cli import main
from app.db import make_engine
from app.hr import jobs as hr_jobs
from app.hr import refresh, rollups
from app.hr.models import CountedLearner, DailyCount
from app.hr.views import as_of_label
from app.models import Booking, ModuleProgress, ModuleRecord, QuizAttempt, Role, SessionFeedback, User

from ..conftest import csrf_token
from .test_auth import register_form
from .test_authoring import post_editor, source_of
from .test_booking import book, make_session, past_session_with, post, signed_in
from .test_learning import MODULE, answers_for, quiz_of, submit
from .test_people_import import GOOD, csv_bytes, upload


def stored(session):
    """What the HR tables hold: the rollup rows (without the emptied ones) and each counted learner."""
    session.expire_all()
    counts = {
        (row.site, row.department, row.measure, row.subject, row.detail, str(row.day)): (row.n, row.total)
        for row in session.scalars(select(DailyCount))
        if (row.n, row.total) != (0, 0)
    }
    learners = {
        row.user_id: (row.site, row.department, row.birth_year, row.joined_at, row.first_opened_at, row.last_viewed_at, row.modules_done, row.last_completed_at)
        for row in session.scalars(select(CountedLearner))
    }
    return counts, learners


def from_scratch(session):
    """The same figures computed here from the recorded rows alone, summed in Python into the three families."""
    session.expire_all()
    course = rollups.published_course(session)
    people = rollups.learners()
    places = {user_id: (site, department) for user_id, site, department in session.execute(select(people.c.user_id, people.c.site, people.c.department))}
    counts: dict = {}
    for user_id, measure, subject, detail, day, n, total in session.execute(rollups.contributions(people, course=course)):
        site, department = places[user_id]
        for family in [("", ""), (site, "")] + ([("", department)] if department else []):
            key = (*family, measure, subject, detail, str(day))
            n0, total0 = counts.get(key, (0, 0))
            counts[key] = (n0 + int(n), total0 + int(total or 0))
    learners = {row[0]: tuple(row[1:]) for row in session.execute(rollups.learner_summaries(people, course))}
    return {key: value for key, value in counts.items() if value != (0, 0)}, learners


def assert_up_to_date(session, refresh_figures, full=False):
    refresh_figures(full=full)
    assert stored(session) == from_scratch(session)


def client_of(app, people, user):
    return signed_in(app, people, user)


def test_a_change_through_every_write_path_is_in_the_figures_after_a_refresh(app, people, db_session, refresh_figures):
    assert refresh_figures().full  # the first refresh ever builds everything
    quiz = quiz_of(db_session)
    admin = client_of(app, people, people.create(Role.ADMIN, email="admin@example.test"))
    hr = client_of(app, people, people.create(Role.HR, email="hr@example.test"))
    mentor = people.create(Role.MENTOR, email="mentor@example.test")

    registered = app.test_client()  # registration
    assert register_form(registered).status_code == 302
    assert_up_to_date(db_session, refresh_figures)

    registered.get(f"/modules/{MODULE}")  # module opened, quiz tried, failed, then passed: module completed
    submit(registered, quiz, answers_for(quiz, right=False))
    submit(registered, quiz, answers_for(quiz, right=True))
    registered.get("/modules/keeping-informed")
    assert_up_to_date(db_session, refresh_figures)

    upload(hr, csv_bytes(GOOD))  # people import: created
    assert_up_to_date(db_session, refresh_figures)
    moved = [*GOOD[:2], GOOD[2].replace("mentor", "learner"), GOOD[3], GOOD[4].replace("Nice,Sales", "Lyon,Claims")]
    assert upload(hr, csv_bytes(moved)).status_code == 200  # updated: a mentor becomes a learner, a learner moves
    assert_up_to_date(db_session, refresh_figures)

    person = db_session.scalar(select(User).where(User.email == "jeanne.martin@example.test"))
    token = csrf_token(admin.get("/admin/users").get_data(as_text=True))
    edit = {"site": "Nice", "department": "Audit", "manager_email": "", "csrf_token": token}
    assert admin.post(f"/admin/users/{person.id}", data=edit).status_code == 302  # an administrator moves them
    assert_up_to_date(db_session, refresh_figures)
    for role in (Role.MENTOR, Role.LEARNER):  # out of the figures and back
        assert admin.post(f"/admin/users/{person.id}/role", data={f"user-{person.id}-role": role.value, "csrf_token": token}).status_code == 302
        assert_up_to_date(db_session, refresh_figures)

    learner = people.create(Role.LEARNER, email="booker@example.test", site="Nice", department="Sales")
    learner_client = client_of(app, people, learner)
    upcoming = make_session(db_session, mentor)
    assert book(learner_client, upcoming).status_code == 302  # booking, then cancelling
    booking = db_session.scalar(select(Booking).where(Booking.learner_id == learner.id))
    assert post(learner_client, f"/bookings/{booking.id}/cancel").status_code == 302
    held = past_session_with(db_session, mentor, [learner])
    attended = db_session.scalar(select(Booking).where(Booking.session_id == held.id))
    mentor_client = client_of(app, people, mentor)
    assert post(mentor_client, f"/mentor/sessions/{held.id}/attendance", {f"attendance-{attended.id}": "attended"}).status_code == 302
    answers = {"satisfaction": "4", "format_best_suited": "yes", "changed_daily_usage": "no", "would_recommend": "yes"}
    assert post(learner_client, f"/bookings/{attended.id}/feedback", answers).status_code == 302  # the questionnaire
    assert_up_to_date(db_session, refresh_figures)
    assert stored(db_session)[0][("", "", rollups.FEEDBACK_SATISFACTION, held.theme_id, "", str(datetime.now(UTC).date()))] == (1, 4)

    db_session.execute(update(ModuleRecord).where(ModuleRecord.id == MODULE).values(current_revision_id=None))  # withdrawn
    db_session.commit()
    assert refresh_figures().full  # a change of course recounts everything
    assert stored(db_session) == from_scratch(db_session)
    editor = client_of(app, people, people.create(Role.MENTOR, email="author@example.test"))
    source = db_session.get(ModuleRecord, "keeping-informed").current_revision.source
    moved_source = source.replace("theme: information-management", "theme: collaboration-and-networking", 1)
    assert post_editor(editor, "publish", moved_source, module_id="keeping-informed").status_code == 303  # moved to another theme
    db_session.expire_all()
    assert db_session.get(ModuleRecord, "keeping-informed").theme_id == "collaboration-and-networking"
    assert refresh_figures().full
    assert stored(db_session) == from_scratch(db_session)
    assert post_editor(editor, "publish", source, module_id="keeping-informed").status_code == 303  # and back, for the next tests
    assert refresh_figures().full

    _age_everything(db_session)  # past the window the incremental refresh looks back over
    with db_session.get_bind().begin() as connection:  # a change made outside the application, which sets no updated_at
        connection.execute(text("UPDATE users SET site = 'Paris' WHERE email = 'booker@example.test'"))
    refresh_figures()
    assert stored(db_session) != from_scratch(db_session)  # no timestamp tells the incremental refresh
    assert_up_to_date(db_session, refresh_figures, full=True)  # the nightly refresh corrects it


def test_publishing_a_withdrawn_module_again_calls_for_a_full_refresh(app, people, db_session, refresh_figures):
    learner = people.create(Role.LEARNER)
    client_of(app, people, learner).get(f"/modules/{MODULE}")
    source = source_of(db_session)
    db_session.execute(update(ModuleRecord).where(ModuleRecord.id == MODULE).values(current_revision_id=None))
    db_session.commit()
    refresh_figures()
    author = client_of(app, people, people.create(Role.MENTOR))
    assert post_editor(author, "publish", source.replace("## Try it now", "## One more tip\n\n## Try it now", 1)).status_code == 303
    outcome = refresh_figures()
    assert outcome.full
    assert stored(db_session) == from_scratch(db_session)
    assert stored(db_session)[1][learner.id][6] == 0  # opened, not completed


def _age_everything(session, by=timedelta(hours=1)):
    """Make every recorded change look an hour old, as if the figures had long been up to date."""
    past = datetime.now(UTC) - by
    for model in (User, ModuleProgress, QuizAttempt, Booking, SessionFeedback):
        session.execute(update(model).values(updated_at=past), execution_options={"synchronize_session": False})
    session.commit()


def test_the_incremental_refresh_recounts_only_the_learners_who_changed(app, people, db_session, refresh_figures, monkeypatch):
    learners = [people.create(Role.LEARNER, email=f"l{index}@example.test", department="Claims") for index in range(6)]
    clients = [client_of(app, people, learner) for learner in learners]
    for client in clients:
        client.get(f"/modules/{MODULE}")
    _age_everything(db_session)
    refresh_figures(full=True)
    with Session(db_session.get_bind()) as session:
        session.execute(update(refresh.StatisticsState).where(refresh.StatisticsState.name == refresh.AS_OF).values(value=(datetime.now(UTC) - timedelta(minutes=30)).isoformat()))
        session.commit()
    before = stored(db_session)
    clients[1].get("/modules/keeping-informed")
    submit(clients[4], quiz_of(db_session), answers_for(quiz_of(db_session), right=True))
    recounted: list[list[int]] = []
    original = refresh.recount
    monkeypatch.setattr(refresh, "recount", lambda session, ids, course: (recounted.append(list(ids)), original(session, ids, course))[1])
    outcome = refresh_figures()
    assert (outcome.full, outcome.learners) == (False, 2)
    assert recounted == [[learners[1].id, learners[4].id]]
    after = stored(db_session)
    assert {i: row for i, row in after[1].items() if i not in (learners[1].id, learners[4].id)} == {
        i: row for i, row in before[1].items() if i not in (learners[1].id, learners[4].id)
    }
    assert after == from_scratch(db_session)


def test_a_refresh_never_runs_twice_at_once(app, people, db_session, refresh_figures):
    people.create(Role.LEARNER)
    with app.app_context():
        assert hr_jobs.claim_lease(db_session, "another worker", datetime.now(UTC))
        assert hr_jobs.run_once(refresh.refresh) is None  # another worker holds the lease: this run does nothing
        hr_jobs.refresh_figures_job.call_local()
        hr_jobs.full_refresh_job.call_local()
        result = app.test_cli_runner().invoke(main, ["statistics", "refresh"])
        assert result.exit_code != 0
        assert "already under way" in result.output
        assert refresh.figures_as_of(db_session) is None
        hr_jobs.release_lease(db_session, "another worker")
        outcome = hr_jobs.run_once(refresh.refresh)
    assert outcome is not None
    assert outcome.learners == 1


def test_a_refresh_killed_midway_blocks_the_figures_only_until_its_lease_lapses(app, people, db_session):
    people.create(Role.LEARNER)
    killed_at = datetime.now(UTC) - hr_jobs.LEASE_TIME - timedelta(seconds=1)
    with app.app_context():
        assert hr_jobs.claim_lease(db_session, "a worker killed since", killed_at)  # never released
        outcome = hr_jobs.run_once(refresh.refresh)
        assert outcome is not None
        assert outcome.learners == 1
        assert hr_jobs.claim_lease(db_session, "the next run", datetime.now(UTC))  # run_once gave the lease back


def test_a_failed_refresh_gives_its_lease_back(app, people, db_session):
    def failing(_session: Session) -> refresh.Outcome:
        raise RuntimeError("the refresh failed")

    with app.app_context():
        with pytest.raises(RuntimeError):
            hr_jobs.run_once(failing)
        assert hr_jobs.claim_lease(db_session, "the next run", datetime.now(UTC))


def test_the_command_refreshes_from_scratch(app, people, db_session):
    people.create(Role.LEARNER)
    result = app.test_cli_runner().invoke(main, ["statistics", "refresh"])
    assert result.exit_code == 0, result.output
    assert "Full refresh of the HR figures: 1 learner(s) counted" in result.output
    assert stored(db_session) == from_scratch(db_session)


def test_the_periodic_job_refreshes_only_when_the_figures_would_grow_too_old(app, db_session, refresh_figures):
    refresh_figures()
    as_of = refresh.figures_as_of(db_session)
    limit, period = timedelta(seconds=120), hr_jobs.PERIOD
    assert not refresh.is_due(db_session, timedelta(minutes=10), period, now=as_of + timedelta(minutes=5))
    assert refresh.is_due(db_session, timedelta(minutes=10), period, now=as_of + timedelta(minutes=9))
    assert refresh.is_due(db_session, limit, period, now=as_of + timedelta(seconds=59))  # every minute by default


def test_the_dashboard_prepares_its_first_figures_in_the_background_then_says_how_fresh_they_are(app, people, db_session, refresh_figures, monkeypatch):
    asked: list[bool] = []
    monkeypatch.setattr("app.hr.views.prepare_figures_after_commit", lambda: asked.append(True))
    client = client_of(app, people, people.create(Role.HR))
    page = client.get("/hr/").get_data(as_text=True)
    assert "The figures are being prepared for the first time" in page
    assert asked == [True]
    assert refresh.figures_as_of(db_session) is None  # nothing computed in the request
    export = client.get("/hr/export/modules.csv")
    assert export.status_code == 503
    assert "The figures are being prepared for the first time. Try again in a few minutes." in export.get_data(as_text=True)
    outcome = refresh_figures()
    page = client.get("/hr/").get_data(as_text=True)
    with app.app_context():
        assert f"Figures as of {as_of_label(outcome.as_of)}." in page
    assert "being prepared" not in page
    assert asked == [True, True]  # the dashboard, then the export, asked; once figures exist nobody does


def test_the_moment_of_the_figures_is_shown_in_the_platform_s_time_zone(app):
    with app.app_context():
        as_of = datetime(2026, 12, 3, 13, 2, tzinfo=UTC)
        assert as_of_label(as_of, now=as_of + timedelta(hours=1)) == "14:02"  # Paris is an hour ahead in winter
        assert as_of_label(as_of, now=as_of + timedelta(days=1)) == "3 December 2026, 14:02"


@pytest.mark.parametrize("path", ["/modules/search-like-a-pro"])
def test_a_module_page_view_writes_only_its_own_progress_row(app, people, db_session, path):
    from sqlalchemy import event

    learner = people.create(Role.LEARNER)
    client = client_of(app, people, learner)
    client.get(path)
    from app.extensions import db

    writes: list[str] = []
    with app.app_context():
        engine = db.engine
    listener = lambda _conn, _cursor, statement, *_: writes.append(statement) if statement.split()[0].upper() in {"INSERT", "UPDATE", "DELETE", "LOCK"} else None  # noqa: E731
    event.listen(engine, "before_cursor_execute", listener)
    try:
        assert client.get(path).status_code == 200
    finally:
        event.remove(engine, "before_cursor_execute", listener)
    assert len(writes) == 1, writes
    assert "module_progress" in writes[0]


WRITE_PATHS = ("learning", "sessions", "people", "accounts", "authoring", "notifications")


def test_no_write_path_imports_the_hr_wing():
    root = Path(__file__).resolve().parents[2] / "app"
    for area in WRITE_PATHS:
        for path in (root / area).rglob("*.py"):
            source = path.read_text(encoding="utf-8")
            assert not re.search(r"^\s*(from|import)\s+(\.\.hr|app\.hr)\b", source, re.MULTILINE), path


def _round_trip(url):
    from alembic import command

    from app.migrate import alembic_config, current_revision, drop_every_table, upgrade

    engine = make_engine(url)
    drop_every_table(engine)
    upgrade(engine)
    config = alembic_config(url)
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0009")
    assert current_revision(engine) == "0009"
    upgrade(engine)
    assert current_revision(engine) == "0010"
    engine.dispose()


def test_the_hr_wing_migration_goes_down_and_up_again(tmp_path, database_url):
    _round_trip(f"sqlite:///{tmp_path / 'round-trip.sqlite'}")
    if database_url.startswith("postgresql"):  # on PostgreSQL too, in a scratch database beside the run's
        scratch = make_url(database_url).set(database="hrbench_migrations")
        admin = create_engine(scratch.set(database="postgres"), isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            if connection.scalar(text("SELECT 1 FROM pg_database WHERE datname = 'hrbench_migrations'")) is None:
                connection.execute(text('CREATE DATABASE "hrbench_migrations"'))
        admin.dispose()
        _round_trip(scratch.render_as_string(hide_password=False))
