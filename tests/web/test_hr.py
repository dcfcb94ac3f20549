"""The HR dashboard: every figure against a small hand-built organisation, filters, charts and exports.

The organisation is too small to show anything under small-group suppression, so the figure tests turn it off
(`figures_unsuppressed`); tests/web/test_hr_privacy.py tests the suppression.
"""

import csv
import io
from collections import Counter
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from app.hr import refresh, stats
from app.models import (
    Attendance,
    Booking,
    BookingStatus,
    LiveSession,
    ModuleProgress,
    ModuleRecord,
    QuestionAnswer,
    QuizAttempt,
    Role,
    SessionFeedback,
    SessionHost,
    SessionStatus,
    ThemeRecord,
    User,
)
from app.sessions import figures as session_figures
from course.progress import ModuleStatus
from course.sessions import SessionFormat

from ..conftest import csrf_token

NOW = datetime.now(UTC).replace(microsecond=0)
THEME = "information-management"


def ago(days):
    return NOW - timedelta(days=days)


def person(db_session, email, site, department, age=None, role=Role.LEARNER, created=None, manager=None):
    user = User(
        email=email, name=email.split("@")[0].title(), password_hash="!unset", site=site, department=department,
        birth_year=None if age is None else date.today().year - age, role=role, created_at=created or ago(100),
        manager_id=manager.id if manager else None,
    )  # fmt: skip
    db_session.add(user)
    db_session.flush()
    return user


def progress(db_session, user, module, opened, done=None, viewed=None):
    db_session.add(
        ModuleProgress(
            user_id=user.id, module_id=module.id, status=ModuleStatus.COMPLETED if done else ModuleStatus.IN_PROGRESS,
            first_opened_at=opened, last_viewed_at=viewed or done or opened, completed_at=done,
        )
    )  # fmt: skip


def attempt(db_session, user, module, score, answers, when, first_try=True):
    record = QuizAttempt(
        user_id=user.id, module_id=module.id, quiz_id="q1", revision_id=module.current_revision_id, question_ids=list(answers),
        answers={}, results=[], score=score, pass_mark=70, passed=score >= 70, first_try=first_try, created_at=when,
    )  # fmt: skip
    db_session.add(record)
    db_session.flush()
    return record


def answer(db_session, record, question, correct, first_try):
    db_session.add(
        QuestionAnswer(
            attempt_id=record.id, user_id=record.user_id, module_id=record.module_id, quiz_id="q1", question_id=question,
            answer_key="x", correct=correct, first_try=first_try, created_at=record.created_at,
        )
    )  # fmt: skip


def live(db_session, mentor, uid, starts, fmt=SessionFormat.COLLECTIVE, capacity=5, site="Lyon", minutes=90, status=SessionStatus.SCHEDULED):
    session = LiveSession(
        uid=uid, theme_id=THEME, format=fmt, capacity=capacity, starts_at=starts, duration_minutes=minutes, site=site,
        room="1.01", created_by_id=mentor.id, status=status, hosts=[SessionHost(mentor_id=mentor.id, position=0)],
    )  # fmt: skip
    db_session.add(session)
    db_session.flush()
    return session


def seat(db_session, live_session, learner, status=BookingStatus.CONFIRMED, attendance=None, feedback=None):
    booking = Booking(session_id=live_session.id, learner_id=learner.id, status=status, attendance=attendance)
    db_session.add(booking)
    if status is BookingStatus.CONFIRMED:
        live_session.seats_taken += 1
    db_session.flush()
    if feedback:
        satisfaction, suited, changed, recommend = feedback
        db_session.add(
            SessionFeedback(booking_id=booking.id, satisfaction=satisfaction, format_best_suited=suited, changed_daily_usage=changed, would_recommend=recommend)
        )


def published_modules(db_session):
    query = (
        select(ModuleRecord)
        .join(ThemeRecord, ThemeRecord.id == ModuleRecord.theme_id)
        .where(ModuleRecord.current_revision_id.is_not(None))
        .order_by(ThemeRecord.position, ModuleRecord.position)
    )
    return list(db_session.scalars(query))


@pytest.fixture
def org(db_session):
    """Eight learners on two sites, a mentor and their manager, progress, quizzes, sessions and answers."""
    modules = published_modules(db_session)
    theme_one = [m for m in modules if m.theme_id == THEME]
    theme_two = [m for m in modules if m.theme_id == modules[len(theme_one)].theme_id]
    boss = person(db_session, "boss@example.test", "Lyon", "Claims", role=Role.HR)
    mentor = person(db_session, "mentor@example.test", "Lyon", "IT", role=Role.MENTOR, manager=boss)
    l1 = person(db_session, "l1@example.test", "Lyon", "Claims", 27)
    l2 = person(db_session, "l2@example.test", "Lyon", "Claims", 36)
    l3 = person(db_session, "l3@example.test", "Lyon", "Claims", 41)
    l4 = person(db_session, "l4@example.test", "Lyon", "Claims", 38)
    l5 = person(db_session, "l5@example.test", "Lyon", "Claims", 34)
    person(db_session, "l6@example.test", "Lyon", "Sales")
    n1 = person(db_session, "n1@example.test", "Nice", "Sales", 44, created=ago(10))
    n2 = person(db_session, "n2@example.test", "Nice", "Sales", created=ago(10))
    for module in modules:
        progress(db_session, l1, module, ago(60), done=ago(50), viewed=ago(2))
    for module in theme_one:
        progress(db_session, l2, module, ago(70), done=ago(64))
    progress(db_session, l2, theme_two[0], ago(45), viewed=ago(40))
    progress(db_session, l3, theme_one[0], ago(6), viewed=ago(5))
    progress(db_session, l4, theme_one[0], ago(62), done=ago(61))
    first = theme_one[0]
    for learner, score, right in ((l1, 100, True), (l2, 40, False), (l3, 50, False), (l4, 90, True)):
        record = attempt(db_session, learner, first, score, ["a", "b"], ago(55))
        answer(db_session, record, "a", right, True)
        answer(db_session, record, "b", True, True)
    retry = attempt(db_session, l2, first, 80, ["a", "b"], ago(54), first_try=False)
    answer(db_session, retry, "a", True, False)
    s1 = live(db_session, mentor, "s1@t", ago(20))
    s2 = live(db_session, mentor, "s2@t", ago(10), fmt=SessionFormat.INDIVIDUAL, capacity=1, minutes=60)
    s3 = live(db_session, mentor, "s3@t", NOW + timedelta(days=5), capacity=2, site="Nice")
    live(db_session, mentor, "s4@t", ago(5), capacity=8, status=SessionStatus.CANCELLED)
    seat(db_session, s1, l1, attendance=Attendance.ATTENDED, feedback=(5, True, True, True))
    seat(db_session, s1, l2, attendance=Attendance.ATTENDED, feedback=(4, False, True, True))
    seat(db_session, s1, l3, attendance=Attendance.NO_SHOW)
    seat(db_session, s2, l4, attendance=Attendance.ATTENDED, feedback=(3, True, False, True))
    seat(db_session, s3, n1)
    seat(db_session, s3, n2)
    seat(db_session, s3, l5, status=BookingStatus.WAITLISTED)
    refresh.full_refresh(db_session)  # the rows above were written directly, not through the learning services
    session_figures.refresh(db_session)  # nor through the booking service
    db_session.commit()
    return {"modules": modules, "first": first, "mentor": mentor, "boss": boss, "theme_one": theme_one}


def table(db_session, build, **filters):
    return build(db_session, stats.Filters(now=NOW, **filters))


def column(result, name):
    return {row[0]: row[result.columns.index(name)] for row in result.rows}


@pytest.mark.usefixtures("figures_unsuppressed")
def test_learning_summary_counts_registered_active_started_completed_and_at_risk(db_session, org):
    assert table(db_session, stats.learning_summary).rows == (
        ("Learners registered", 8),
        ("Active in the last 30 days", 2),
        ("Started the course", 4),
        ("Completed all five themes", 1),
        ("At risk: started, not completed, inactive for 30 days", 2),
        ("Median days from opening a module to completing it", 10.0),
    )


@pytest.mark.usefixtures("figures_unsuppressed")
def test_themes_count_who_started_and_completed_every_module(db_session, org):
    result = table(db_session, stats.themes)
    assert len(result.rows) == 5
    assert result.rows[0][1:] == (4, 2, 50.0)
    assert result.rows[1][1:] == (2, 1, 50.0)
    assert [row[1:] for row in result.rows[2:]] == [(1, 1, 100.0)] * 3


@pytest.mark.usefixtures("figures_unsuppressed")
def test_modules_and_funnel_per_theme(db_session, org):
    modules = table(db_session, stats.modules)
    assert modules.rows[0][2:] == (4, 3, 75.0)
    assert modules.rows[1][2:] == (2, 2, 100.0)
    assert len(modules.rows) == len(org["modules"])
    funnel = table(db_session, stats.funnel)
    assert funnel.rows[0][1:] == (4, 4, 3)
    assert funnel.rows[1][1:] == (2, 0, 0)


@pytest.mark.usefixtures("figures_unsuppressed")
def test_quizzes_average_score_first_try_pass_rate_and_hardest_questions(db_session, org):
    assert table(db_session, stats.quizzes).rows == ((org["first"].title, 5, 72.0, 50.0),)
    assert table(db_session, stats.hardest_questions).rows == ((org["first"].title, "a", 4, 50.0), (org["first"].title, "b", 4, 100.0))


@pytest.mark.usefixtures("figures_unsuppressed")
def test_live_sessions_figures_and_waiting_lists(db_session, org):
    assert dict(table(db_session, stats.live_sessions).rows) == {
        "Held": 2, "Upcoming": 1, "Cancelled": 1, "Individual (held and upcoming)": 1, "Collective (held and upcoming)": 2,
        "Seats offered": 8, "Seats booked": 6, "Seats attended": 3, "Fill rate (%)": 75.0, "No-show rate (%)": 25.0,
    }  # fmt: skip
    title = db_session.get(ThemeRecord, THEME).title
    assert table(db_session, stats.waiting_lists).rows == ((title, "Nice", 1),)


@pytest.mark.usefixtures("figures_unsuppressed")
def test_mentors_per_site_and_recognition_report(db_session, org):
    assert table(db_session, stats.mentors).rows == (("Lyon", 1, 2, 2.5, 3),)
    mentor, boss = org["mentor"], org["boss"]
    assert table(db_session, stats.mentor_recognition).rows == ((mentor.name, mentor.email, boss.name, 2, 2.5),)


@pytest.mark.usefixtures("figures_unsuppressed")
def test_programme_evaluation_shares_and_mean_with_their_answers(db_session, org):
    assert table(db_session, stats.evaluation).rows == (
        ("Find the format best suited to them (%)", 66.7, 3),
        ("Changed their daily digital usage (%)", 66.7, 3),
        ("Would recommend it to a colleague (%)", 100.0, 3),
        ("Mean satisfaction (1 to 5)", 4.0, 3),
    )


@pytest.mark.usefixtures("figures_unsuppressed")
def test_breakdowns_count_learners_who_started_and_completed_per_group(db_session, org):
    assert table(db_session, stats.by_site).rows == (("Lyon", 6, 4, 1, 16.7), ("Nice", 2, 0, 0, 0.0))
    assert table(db_session, stats.by_department).rows == (("Claims", 5, 4, 1, 20.0), ("Sales", 3, 0, 0, 0.0))
    assert table(db_session, stats.by_age_band).rows == (("under 30", 1, 1, 1, 100.0), ("30-44", 5, 3, 0, 0.0), ("unknown", 2, 0, 0, 0.0))


@pytest.mark.usefixtures("figures_unsuppressed")
def test_trends_by_month(db_session, org):
    month = lambda moment: moment.strftime("%Y-%m")  # noqa: E731
    learners = Counter([month(ago(100))] * 6 + [month(ago(10))] * 2)
    completions = Counter([month(ago(50))] * len(org["modules"]) + [month(ago(64))] * 3 + [month(ago(61))])
    held = Counter([month(ago(20)), month(ago(10))])
    months = sorted(set(learners) | set(completions) | set(held))
    expected = tuple((m, learners[m], completions[m], held[m]) for m in months)
    assert table(db_session, stats.trends).rows == expected


@pytest.mark.usefixtures("figures_unsuppressed")
def test_filters_narrow_every_figure(db_session, org):
    nice = dict(table(db_session, stats.learning_summary, site="Nice").rows)
    assert nice["Learners registered"] == 2
    assert nice["Started the course"] == 0
    assert dict(table(db_session, stats.live_sessions, site="Nice").rows)["Upcoming"] == 1
    recent = dict(table(db_session, stats.learning_summary, date_from=ago(30).date()).rows)
    assert recent["Learners registered"] == 2
    assert recent["Completed all five themes"] == 0
    assert recent["Started the course"] == 1
    assert len(table(db_session, stats.themes, theme=THEME).rows) == 1
    assert dict(table(db_session, stats.learning_summary, department="Nobody").rows)["Learners registered"] == 0


def hr_client(app, people):
    client = app.test_client()
    people.login(client, people.create(Role.HR))
    return client


def test_dashboard_shows_every_section_with_charts_and_tables(app, people, org):
    page = hr_client(app, people).get("/hr/")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    for title in ("Learning", "Quizzes", "Live sessions", "Mentors", "Programme evaluation", "Breakdowns", "Trends"):
        assert f">{title}</h2>" in html
    assert html.count('role="img"') == 2
    assert "<title id=\"chart-themes-title\">" in html
    assert "fewer than 5 learners: not shown, to protect privacy" in html  # eight learners in groups of 1 to 4: all hidden
    assert " style=" not in html


@pytest.mark.parametrize("query", ["?from=yesterday", "?theme=no-such-theme", f"?from={date.today()}&to=2000-01-01"])
def test_bad_filters_are_a_400_not_an_error_page(app, people, query):
    assert hr_client(app, people).get("/hr/" + query).status_code == 400


def test_unknown_site_gives_an_empty_dashboard(app, people, org):
    assert hr_client(app, people).get("/hr/?site=Atlantis&department=Nobody").status_code == 200


def parse_csv(response):
    body = response.get_data()
    assert body.startswith(b"\xef\xbb\xbf")
    return list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))


@pytest.mark.parametrize("name", sorted(stats.TABLE_NAMES))
def test_every_table_exports_as_csv_that_parses_back(app, people, org, name):
    response = hr_client(app, people).get(f"/hr/export/{name}.csv")
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/csv")
    rows = parse_csv(response)
    assert tuple(rows[0]) == stats.TABLE_NAMES[name](people.session, stats.Filters()).columns


@pytest.mark.usefixtures("figures_unsuppressed")
def test_exported_numbers_stay_numbers(app, people, org):
    rows = parse_csv(hr_client(app, people).get("/hr/export/by-site.csv"))
    assert rows[1] == ["Lyon", "6", "4", "1", "16.7"]
    assert rows[2] == ["Nice", "2", "0", "0", "0.0"]


def test_unknown_export_is_404(app, people):
    assert hr_client(app, people).get("/hr/export/nothing.csv").status_code == 404


def test_learner_status_export_warns_then_exports_on_a_deliberate_post(app, people, org):
    client = hr_client(app, people)
    page = client.get("/hr/learner-status")
    assert "personal data" in page.get_data(as_text=True)
    response = client.post("/hr/learner-status", data={"csrf_token": csrf_token(page.get_data(as_text=True))})
    rows = parse_csv(response)
    assert rows[0][:4] == ["E-mail", "Name", "Site", "Department"]
    assert len(rows[0]) == 4 + len(org["modules"])
    by_email = {row[0]: row for row in rows[1:]}
    assert len(by_email) == 8
    assert set(by_email["l1@example.test"][4:]) == {"completed"}
    assert by_email["l3@example.test"][4:6] == ["in_progress", "not_started"]


@pytest.mark.parametrize("role", [Role.LEARNER, Role.MENTOR])
@pytest.mark.parametrize("path", ["/hr/", "/hr/export/learning.csv", "/hr/learner-status", "/hr/people/import"])
def test_learners_and_mentors_get_403(app, people, role, path):
    client = app.test_client()
    people.login(client, people.create(role))
    assert client.get(path).status_code == 403
    assert client.post("/hr/learner-status").status_code in (400, 403)


def test_hr_link_in_navigation_only_for_hr_and_admin(app, people):
    for role, shown in ((Role.LEARNER, False), (Role.HR, True), (Role.ADMIN, True)):
        client = app.test_client()
        people.login(client, people.create(role))
        assert ('href="/hr/"' in client.get("/").get_data(as_text=True)) is shown
