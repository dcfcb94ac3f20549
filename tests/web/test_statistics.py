"""The HR rollups stay exactly what a rebuild from the recorded progress gives, whatever learners do and however they race."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app import statistics, statistics_runner
from app.hr import stats
from app.learning.services import open_module
from app.models import Attendance, Booking, BookingStatus, DailyCount, ModuleRecord, Role, StatisticsState, User

from ..conftest import add_live_session, csrf_token, run_at_once
from .test_learning import MODULE, answers_for, quiz_of, submit


def rollups(db_session):
    """Everything the rollups hold, comparable across a rebuild."""
    db_session.expire_all()
    counts = {
        (row.site, row.department, row.measure, row.subject, row.detail, row.day): (row.n, row.total)
        for row in db_session.scalars(select(DailyCount))
        if (row.n, row.total) != (0, 0)
    }
    learners = {
        user.id: (user.first_opened_at, user.last_viewed_at, user.modules_done, user.last_completed_at)
        for user in db_session.scalars(select(User).where(User.first_opened_at.is_not(None)))
    }
    return counts, learners


def rebuilt(db_session):
    statistics.rebuild(db_session)
    db_session.commit()
    return rollups(db_session)


def measure_total(db_session, measure, subject=None, site="", department=""):
    """The count of `measure` for everyone, or for one site or department."""
    counts, _ = rollups(db_session)
    return sum(
        n
        for (row_site, row_department, m, s, _d, _day), (n, _t) in counts.items()
        if (row_site, row_department, m) == (site, department, measure) and (subject is None or s == subject)
    )


def test_learning_through_the_pages_keeps_the_rollups_equal_to_a_rebuild(app, people, db_session):
    quiz = quiz_of(db_session)
    clients = []
    for index in range(3):
        client = app.test_client()
        people.login(client, people.create(Role.LEARNER, email=f"learner{index}@example.test"))
        clients.append(client)
    first, second, third = clients
    first.get(f"/modules/{MODULE}")
    submit(first, quiz, answers_for(quiz, right=False))
    submit(first, quiz, answers_for(quiz, right=True))
    submit(second, quiz, answers_for(quiz, right=True))
    second.get(f"/modules/{MODULE}")  # a later visit
    third.get(f"/modules/{MODULE}")
    third.get("/modules/use-the-news-feeds-that-matter")
    incremental = rollups(db_session)
    assert measure_total(db_session, statistics.MODULE_OPENED, MODULE) == 3
    assert measure_total(db_session, statistics.MODULE_COMPLETED, MODULE) == 2
    assert measure_total(db_session, statistics.ATTEMPTS, MODULE) == 3
    assert measure_total(db_session, statistics.FIRST_TRIES, MODULE) == 2
    assert len(incremental[1]) == 3
    assert rebuilt(db_session) == incremental


def test_a_learner_who_becomes_a_mentor_leaves_the_figures_and_comes_back(app, people, db_session):
    admin = app.test_client()
    people.login(admin, people.create(Role.ADMIN, email="admin@example.test"))
    learner = people.create(Role.LEARNER, email="moving@example.test")
    client = app.test_client()
    people.login(client, learner)
    client.get(f"/modules/{MODULE}")
    assert measure_total(db_session, statistics.MODULE_OPENED, MODULE) == 1
    token = csrf_token(admin.get("/admin/users").get_data(as_text=True))
    for role, expected in ((Role.MENTOR, 0), (Role.LEARNER, 1)):
        response = admin.post(f"/admin/users/{learner.id}/role", data={f"user-{learner.id}-role": role.value, "csrf_token": token})
        assert response.status_code == 302
        assert measure_total(db_session, statistics.MODULE_OPENED, MODULE) == expected
        assert rebuilt(db_session)[0] == rollups(db_session)[0]


def learner_at(app, people, db_session, email, site, department):
    """A signed-in client for a new learner of `site` and `department`, and the learner."""
    user = people.create(Role.LEARNER, email=email, site=site, department=department)
    client = app.test_client()
    people.login(client, user)
    return client, user


def live_totals(db_session, site, department):
    """Every measure counted live from the recorded rows, for the learners of a site and department."""
    counted = statistics.contributions(statistics.learners(site=site, department=department)).subquery()
    return _totals(db_session, counted)


def rollup_totals(db_session, site, department):
    """Every measure as the dashboard reads it for that filter: from the rollup, or live for both filters."""
    return _totals(db_session, statistics.counts_source(statistics.MEASURES, site, department))


def _totals(db_session, counts):
    query = select(counts.c.measure, counts.c.subject, counts.c.detail, counts.c.day, func.sum(counts.c.n), func.sum(counts.c.total))
    rows = db_session.execute(query.group_by(counts.c.measure, counts.c.subject, counts.c.detail, counts.c.day))
    return {(m, s, d, str(day)): (int(n), int(total or 0)) for m, s, d, day, n, total in rows if (n, total) != (0, 0)}


def test_each_site_and_department_rollup_counts_what_its_learners_did(app, people, db_session):
    quiz = quiz_of(db_session)
    places = [("Lyon", "Claims"), ("Lyon", "Sales"), ("Nice", "Claims"), ("Nice", None)]
    for index, (site, department) in enumerate(places):
        client, _user = learner_at(app, people, db_session, f"p{index}@example.test", site, department)
        client.get(f"/modules/{MODULE}")
        submit(client, quiz, answers_for(quiz, right=index % 2 == 0))
    db_session.expire_all()
    for site, department in [(None, None), ("Lyon", None), ("Nice", None), (None, "Claims"), (None, "Sales"), ("Lyon", "Claims")]:
        expected = live_totals(db_session, site, department)
        assert expected, (site, department)
        assert rollup_totals(db_session, site, department) == expected, (site, department)
    assert measure_total(db_session, statistics.MODULE_OPENED, MODULE, department="Claims") == 2
    assert measure_total(db_session, statistics.FIRST_TRIES, MODULE, site="Nice") == 2


def new_learners_this_month(db_session, **filters):
    month = datetime.now(UTC).strftime("%Y-%m")
    trends = stats.trends(db_session, stats.Filters(**filters))
    return next((row[1] for row in trends.rows if row[0] == month), 0)


@pytest.mark.usefixtures("figures_unsuppressed")  # figures of one to three learners: privacy is tested in test_hr_privacy.py
def test_a_learner_who_registers_counts_as_a_new_learner_at_once(app, people, db_session):
    before = new_learners_this_month(db_session), new_learners_this_month(db_session, site="Nice")
    client = app.test_client()
    token = csrf_token(client.get("/register").get_data(as_text=True))
    form = {"name": "New Comer", "email": "new@example.test", "site": "Nice", "department": "Claims", "password": "four random words here"}
    assert client.post("/register", data={**form, "confirm": form["password"], "csrf_token": token}).status_code == 302
    db_session.expire_all()
    after = new_learners_this_month(db_session), new_learners_this_month(db_session, site="Nice")
    assert after == (before[0] + 1, before[1] + 1)
    assert new_learners_this_month(db_session, department="Claims") >= 1
    assert rebuilt(db_session) == rollups(db_session)


def test_a_learner_who_moves_takes_their_figures_to_their_new_site_and_department(app, people, db_session):
    admin = app.test_client()
    people.login(admin, people.create(Role.ADMIN, email="admin@example.test"))
    client, learner = learner_at(app, people, db_session, "mover@example.test", "Lyon", "Claims")
    client.get(f"/modules/{MODULE}")
    assert measure_total(db_session, statistics.MODULE_OPENED, MODULE, site="Lyon") == 1
    token = csrf_token(admin.get(f"/admin/users/{learner.id}").get_data(as_text=True))
    form = {"site": "Nice", "department": "Sales", "manager_email": "", "csrf_token": token}
    assert admin.post(f"/admin/users/{learner.id}", data=form).status_code == 302
    assert measure_total(db_session, statistics.MODULE_OPENED, MODULE, site="Lyon") == 0
    assert measure_total(db_session, statistics.MODULE_OPENED, MODULE, department="Claims") == 0
    assert measure_total(db_session, statistics.MODULE_OPENED, MODULE, site="Nice") == 1
    assert measure_total(db_session, statistics.MODULE_OPENED, MODULE, department="Sales") == 1
    assert measure_total(db_session, statistics.MODULE_OPENED, MODULE) == 1
    assert rebuilt(db_session) == rollups(db_session)


@pytest.mark.usefixtures("figures_unsuppressed")  # figures of one to three learners: privacy is tested in test_hr_privacy.py
def test_a_questionnaire_answered_through_the_page_counts_in_the_evaluation(app, people, db_session):
    mentor = people.create(Role.MENTOR, email="mentor@example.test")
    client, learner = learner_at(app, people, db_session, "came@example.test", "Nice", "Claims")
    starts_at = datetime.now(UTC).replace(microsecond=0) - timedelta(days=1)
    live_session = add_live_session(db_session, [mentor], starts_at)
    booking = Booking(session_id=live_session.id, learner_id=learner.id, status=BookingStatus.CONFIRMED, attendance=Attendance.ATTENDED)
    db_session.add(booking)
    db_session.commit()
    answers = {"satisfaction": "4", "format_best_suited": "yes", "changed_daily_usage": "no", "would_recommend": "yes"}
    token = csrf_token(client.get(f"/bookings/{booking.id}/feedback").get_data(as_text=True))
    assert client.post(f"/bookings/{booking.id}/feedback", data={**answers, "csrf_token": token}).status_code == 302
    for filters in (stats.Filters(), stats.Filters(site="Nice"), stats.Filters(department="Claims"), stats.Filters(site="Nice", department="Claims")):
        rows = stats.evaluation(db_session, filters).rows
        assert [row[1:] for row in rows] == [(100.0, 1), (0.0, 1), (100.0, 1), (4.0, 1)], filters
    assert [row[2] for row in stats.evaluation(db_session, stats.Filters(site="Lyon")).rows] == [0, 0, 0, 0]
    assert rebuilt(db_session) == rollups(db_session)


@pytest.mark.usefixtures("figures_unsuppressed")  # figures of one to three learners: privacy is tested in test_hr_privacy.py
def test_sites_add_up_to_everyone_in_every_learning_table(app, people, db_session):
    quiz = quiz_of(db_session)
    for index, site in enumerate(("Lyon", "Lyon", "Nice")):
        client = app.test_client()
        user = people.create(Role.LEARNER, email=f"s{index}@example.test")
        user.site = site
        db_session.merge(user)
        db_session.commit()
        people.login(client, user)
        submit(client, quiz, answers_for(quiz, right=index != 1))
    everyone = stats.Filters()
    lyon, nice = stats.Filters(site="Lyon"), stats.Filters(site="Nice")
    for build in (stats.modules, stats.quizzes, stats.hardest_questions, stats.funnel, stats.themes):
        whole = build(db_session, everyone)
        parts = [build(db_session, f) for f in (lyon, nice)]
        assert whole.columns == parts[0].columns
        count_column = 2 if build in (stats.modules, stats.hardest_questions) else 1
        assert sum(_as_int(row[count_column]) for row in whole.rows) == sum(
            _as_int(row[count_column]) for part in parts for row in part.rows
        ), build.__name__
    assert stats.quizzes(db_session, lyon).rows[0][1:3] == (2, 50.0)


def _as_int(value):
    return int(value or 0)


def withdraw(db_session, module_id):
    """Take a module out of the published course, as a change of course made outside the application would."""
    record = db_session.get(ModuleRecord, module_id)
    record.current_revision_id = None
    db_session.commit()


def test_a_change_of_course_moves_learners_to_it_in_batches_while_they_keep_learning(app, people, db_session):
    quiz = quiz_of(db_session)
    clients = []
    for index in range(3):
        client, _user = learner_at(app, people, db_session, f"batch{index}@example.test", "Lyon", "Claims")
        client.get(f"/modules/{MODULE}")
        submit(client, quiz, answers_for(quiz, right=True))
        client.get("/modules/keeping-informed")
        clients.append(client)
    before = statistics.counted_version(db_session)
    withdraw(db_session, "keeping-informed")
    assert statistics.ensure_current(db_session)
    db_session.commit()
    assert statistics.counted_version(db_session) == before + 1
    assert statistics.lagging_learners(db_session) >= 3
    assert statistics.catch_up_batch(db_session, size=1) == 1
    db_session.commit()
    clients[2].get("/modules/checking-sources-and-facts")  # counted under the course as it was for this learner
    moved = statistics.catch_up(lambda: Session(db_session.get_bind()), size=1)
    assert moved >= 2
    assert statistics.lagging_learners(db_session) == 0
    assert measure_total(db_session, statistics.MODULE_OPENED, "keeping-informed") == 0
    assert measure_total(db_session, statistics.MODULE_OPENED, MODULE) == 3
    names = set(db_session.scalars(select(StatisticsState.name)))
    assert names == {statistics.VERSION_STATE, f"course_{before + 1}"}  # the old course is forgotten once nobody uses it
    assert rollups(db_session) == rebuilt(db_session)


def test_the_dashboard_says_figures_are_moving_and_moves_them_after_a_change_of_course(app, people, db_session):
    learner_client, _learner = learner_at(app, people, db_session, "mover@example.test", "Nice", None)
    learner_client.get("/modules/keeping-informed")
    client = app.test_client()
    people.login(client, people.create(Role.HR))
    assert "being brought up to date" not in client.get("/hr/").get_data(as_text=True)
    withdraw(db_session, "keeping-informed")
    page = client.get("/hr/").get_data(as_text=True)
    assert "being brought up to date" in page  # this view saw the old course; the job ran after it
    db_session.expire_all()
    assert statistics.is_current(db_session)
    assert statistics.lagging_learners(db_session) == 0
    assert "being brought up to date" not in client.get("/hr/").get_data(as_text=True)
    assert rollups(db_session) == rebuilt(db_session)


def test_the_background_job_moves_learners_without_the_request_waiting(app, people, db_session):
    client, _learner = learner_at(app, people, db_session, "bg@example.test", "Lyon", None)
    client.get("/modules/keeping-informed")
    withdraw(db_session, "keeping-informed")
    assert statistics.ensure_current(db_session)
    db_session.commit()
    app.config["STATISTICS_CATCH_UP"] = "background"
    thread = statistics_runner.start(app)
    assert thread is not None
    thread.join(timeout=60)
    db_session.expire_all()
    assert statistics.lagging_learners(db_session) == 0
    assert rollups(db_session) == rebuilt(db_session)


@pytest.mark.parametrize(
    ("histogram", "median"),
    [([], None), ([(10, 1)], 1.0), ([(10, 1), (30, 1)], 2.0), ([(5, 2), (100, 1)], 0.5), ([(1, 1), (2, 1), (4, 1), (40, 1)], 0.3)],
)
def test_the_median_is_read_from_the_histogram(histogram, median):
    assert stats.median_of_histogram(histogram) == median


@pytest.mark.parametrize(
    ("days", "tenths"), [(0.04, 0), (0.26, 3), (2.94, 29), (3.2, 30), (6.8, 70), (12.4, 120), (29.6, 300), (45, 420), (100, 980)]
)
def test_durations_are_rounded_to_what_matters_at_their_scale(db_session, days, tenths):
    assert db_session.scalar(select(statistics.duration_bucket(days))) == tenths


def test_simultaneous_first_visits_by_many_learners_are_all_counted_once(app, people, database_url, engine):
    if not database_url.startswith("postgresql"):
        pytest.skip("SQLite writes one at a time; the race needs PostgreSQL")
    learners = [people.create(Role.LEARNER, email=f"racer{i}@example.test").id for i in range(12)]
    # Each learner opens the module in two tabs at once: 24 transactions updating the same rollup rows.
    def visit(user_id):
        with Session(engine) as session:
            open_module(session, user_id, MODULE)
            session.commit()

    assert run_at_once([lambda user_id=user_id: visit(user_id) for user_id in learners * 2]) == []
    with Session(engine) as session:
        everyone = (DailyCount.site == statistics.EVERYONE, DailyCount.department == statistics.EVERYONE)
        today = DailyCount.day == datetime.now(UTC).date()
        opened = session.scalars(select(DailyCount.n).where(*everyone, DailyCount.measure == statistics.MODULE_OPENED, today))
        assert sum(opened) == len(learners)
        assert rollups(session) == rebuilt(session)


def test_learners_keep_learning_while_a_change_of_course_moves_them(app, people, database_url, engine, db_session):
    if not database_url.startswith("postgresql"):
        pytest.skip("SQLite writes one at a time; the race needs PostgreSQL")
    learners = [people.create(Role.LEARNER, email=f"mover{i}@example.test").id for i in range(10)]
    for user_id in learners:
        open_module(db_session, user_id, "keeping-informed")
    db_session.commit()
    withdraw(db_session, "keeping-informed")
    assert statistics.ensure_current(db_session)
    db_session.commit()
    # The move, in batches of 2, races every learner opening two modules in separate transactions.
    def learn(user_id):
        for module_id in (MODULE, "checking-sources-and-facts"):
            with Session(engine) as session:
                open_module(session, user_id, module_id)
                session.commit()

    def move():
        statistics.catch_up(lambda: Session(engine), size=2)

    assert run_at_once([*(lambda user_id=user_id: learn(user_id) for user_id in learners), move]) == []
    with Session(engine) as session:
        assert statistics.lagging_learners(session) == 0
        assert measure_total(session, statistics.MODULE_OPENED, MODULE) == len(learners)
        assert measure_total(session, statistics.MODULE_OPENED, "keeping-informed") == 0
        assert rollups(session) == rebuilt(session)
