"""Small-group suppression on the HR dashboard: no figure about 1 to 4 learners is shown, or can be worked out.

One organisation reaches one-person and three-person groups through every filter (site, department, both, theme,
period) and every breakdown; each is checked in the tables, the page, its charts and the CSV exports, and every
learner count the dashboard shows in every place view is checked to let no small group be computed. The policy's
own properties, on random organisations, are in test_hr_privacy_policy.py.
"""

import itertools
from datetime import date, timedelta

import pytest
from sqlalchemy import event, select, update

from app.hr import refresh, stats
from app.hr.privacy import ALL, SMALL, WITHHELD
from app.models import Attendance, Booking, BookingStatus, Role, SessionFeedback
from app.sessions import figures as session_figures

from .test_hr import NOW, THEME, ago, hr_client, live, parse_csv, person, progress, published_modules, seat
from .test_hr_privacy_policy import derivable_small_groups, leaves_in

LEARNER_TABLES = (
    stats.learning_summary,
    stats.themes,
    stats.funnel,
    stats.modules,
    stats.quizzes,
    stats.hardest_questions,
    stats.evaluation,
    stats.by_site,
    stats.by_department,
    stats.by_age_band,
)
LABEL_COLUMNS = {"modules": 2, "hardest-questions": 2}
SMALL_VIEWS = {  # one-person and three-person groups, reached through each place filter
    "one-person site": {"site": "Nice"},
    "three-person site": {"site": "Bordeaux"},
    "one-person department": {"department": "Legal"},
    "three-person department": {"department": "Audit"},
    "one-person site and department": {"site": "Lyon", "department": "Legal"},
    "three-person site and department": {"site": "Paris", "department": "Audit"},
    "one-person site, with a period and a theme": {"site": "Nice", "date_from": date(2000, 1, 1), "theme": THEME},
}


@pytest.fixture
def org(db_session):
    """32 learners: four groups of 6 in Lyon and Paris, and groups of 1 and 3 reached by site, department, age, theme and period."""
    modules = published_modules(db_session)
    theme_one = [m for m in modules if m.theme_id == THEME]
    theme_two = [m for m in modules if m.theme_id == modules[len(theme_one)].theme_id]
    mentor = person(db_session, "mentor@example.test", "Lyon", "IT", role=Role.MENTOR)
    places = [("Lyon", "Claims")] * 6 + [("Lyon", "Sales")] * 6 + [("Paris", "Claims")] * 6 + [("Paris", "Sales")] * 6
    places += [("Nice", "Claims")] + [("Bordeaux", "Sales")] * 3 + [("Lyon", "Legal")] + [("Paris", "Audit")] * 3
    learners = [person(db_session, f"p{i}@example.test", site, department, 25 if i == 0 else 35) for i, (site, department) in enumerate(places)]
    for learner in learners:
        progress(db_session, learner, theme_one[0], ago(60), done=ago(50))
    paris_claims, paris_sales = learners[12:18], learners[18:24]
    for learner in paris_sales[:3]:  # only three learners ever opened the second theme
        progress(db_session, learner, theme_two[0], ago(30))
    for learner in paris_claims:
        progress(db_session, learner, theme_one[1], ago(40))
    progress(db_session, paris_sales[0], theme_one[1], ago(5))  # the one learner who opened it in the last ten days
    held = live(db_session, mentor, "held@t", ago(20), capacity=10, site="Paris")
    for learner in paris_claims:
        seat(db_session, held, learner, attendance=Attendance.ATTENDED, feedback=(4, True, True, True))
    other = live(db_session, mentor, "other@t", ago(15), capacity=4, site="Paris")
    other.theme_id = theme_two[0].theme_id  # the one answer given after a session of the second theme
    seat(db_session, other, paris_sales[0], attendance=Attendance.ATTENDED, feedback=(1, False, False, False))
    db_session.flush()
    early = select(Booking.id).where(Booking.session_id == other.id)
    db_session.execute(update(SessionFeedback).where(SessionFeedback.booking_id.in_(early)).values(created_at=ago(15)))
    nice = live(db_session, mentor, "nice@t", NOW + timedelta(days=5), capacity=2, site="Nice")
    seat(db_session, nice, paris_sales[1])
    seat(db_session, nice, paris_sales[2])
    seat(db_session, nice, paris_sales[3], status=BookingStatus.WAITLISTED)
    refresh.full_refresh(db_session)
    session_figures.refresh(db_session)
    db_session.commit()
    return {"theme_one": theme_one, "theme_two": theme_two}


def table(db_session, build, **filters):
    return build(db_session, stats.Filters(now=NOW, **filters))


def figures_of(result):
    """Every cell of the table that is not a label, a marker or empty."""
    labels = LABEL_COLUMNS.get(result.name, 1)
    return [cell for row in result.rows for cell in row[labels:] if isinstance(cell, int | float) and not isinstance(cell, bool)]


@pytest.mark.parametrize("filters", SMALL_VIEWS.values(), ids=SMALL_VIEWS.keys())
def test_one_and_three_person_groups_show_no_learner_figure_through_each_filter(db_session, org, filters):
    for build in LEARNER_TABLES:
        result = table(db_session, build, **filters)
        assert figures_of(result) == [], (build.__name__, result.rows)
        assert any(SMALL in row or WITHHELD in row for row in result.rows) or not result.rows, build.__name__
    learning = dict(table(db_session, stats.learning_summary, **filters).rows)
    assert learning["Learners registered"] == SMALL  # each of these groups has 1 or 3 learners
    trends = table(db_session, stats.trends, **filters)
    assert trends.columns == ("Month", "Sessions held")
    assert SMALL in trends.note


@pytest.mark.parametrize("filters", SMALL_VIEWS.values(), ids=SMALL_VIEWS.keys())
def test_csv_exports_of_a_small_group_carry_no_figure(app, people, org, filters):
    client = hr_client(app, people)
    query = "&".join(f"{'from' if name == 'date_from' else name}={value}" for name, value in filters.items())
    for build in (*LEARNER_TABLES, stats.trends):
        name = build(people.session, stats.Filters(now=NOW)).name
        rows = parse_csv(client.get(f"/hr/export/{name}.csv?{query}"))
        labels = LABEL_COLUMNS.get(name, 1)
        figure_columns = [i for i, column in enumerate(rows[0]) if column != "Sessions held"][labels:]
        for row in rows[1:]:
            assert all(row[i] in ("", SMALL, WITHHELD) for i in figure_columns), (name, row)
    page = client.get(f"/hr/?{query}").get_data(as_text=True)
    assert SMALL in page
    assert "a group of fewer than 5 learners shows no figure, under any filter" in page
    assert "</svg> New learners</li>" not in page  # the trends chart draws no learners' series
    assert "</svg> Sessions held</li>" in page
    assert "Sessions held, month by month." in page


def test_breakdowns_hide_small_groups_and_give_the_groups_not_shown_together(db_session, org):
    by_site = {row[0]: row for row in table(db_session, stats.by_site).rows}
    assert by_site["Nice"][1:] == (SMALL, None, None, None)
    assert by_site["Bordeaux"][1] == SMALL
    assert by_site["Lyon"][1] == WITHHELD  # 13 learners, hidden so that Bordeaux's 3 cannot be worked out from the total
    assert by_site["Paris"][1] == 15
    assert by_site[stats.HIDDEN_TOGETHER][1:3] == (1 + 3 + 13, 1 + 3 + 13)
    by_department = {row[0]: row[1] for row in table(db_session, stats.by_department).rows}
    assert (by_department["Legal"], by_department["Audit"]) == (SMALL, SMALL)
    by_age = {row[0]: row[1] for row in table(db_session, stats.by_age_band).rows}
    assert by_age["under 30"] == SMALL
    assert by_age["30-44"] == WITHHELD  # with a total of 32 shown, 31 would give the one learner under 30
    assert table(db_session, stats.learning_summary, site="Lyon").rows[0][1] == WITHHELD


def test_a_site_total_minus_its_other_departments_does_not_recover_a_hidden_department(db_session, org):
    registered = dict(table(db_session, stats.learning_summary, site="Paris").rows)["Learners registered"]
    rows = {row[0]: row[1] for row in table(db_session, stats.by_department, site="Paris").rows}
    assert registered == 15
    assert rows["Audit"] == SMALL
    assert rows["Claims"] == WITHHELD  # Paris's 6 in Claims hide with Audit's 3
    shown = sum(n for name, n in rows.items() if isinstance(n, int) and name != stats.HIDDEN_TOGETHER)
    assert registered - shown == rows[stats.HIDDEN_TOGETHER] == 9
    assert table(db_session, stats.learning_summary, department="Claims").rows[0][1] == WITHHELD  # nor through Claims's total


def test_no_small_group_follows_from_every_learner_count_of_every_place_view(db_session, org):
    leaves = {}
    for site, department, band in (("Lyon", "Claims", "30-44"), ("Lyon", "Sales", "30-44"), ("Paris", "Claims", "30-44"), ("Paris", "Sales", "30-44")):
        leaves[(site, department, band)] = 6
    leaves |= {("Lyon", "Claims", "30-44"): 5, ("Lyon", "Claims", "under 30"): 1, ("Nice", "Claims", "30-44"): 1}
    leaves |= {("Bordeaux", "Sales", "30-44"): 3, ("Lyon", "Legal", "30-44"): 1, ("Paris", "Audit", "30-44"): 3}
    published = []
    for site, department in itertools.product((None, "Lyon", "Paris", "Nice", "Bordeaux"), (None, "Claims", "Sales", "Legal", "Audit")):
        registered = dict(table(db_session, stats.learning_summary, site=site, department=department).rows)["Learners registered"]
        if isinstance(registered, int) and registered:
            published.append((leaves_in((site, department, ALL), leaves), registered))
        for build, dimension in ((stats.by_site, 0), (stats.by_department, 1), (stats.by_age_band, 2)):
            hidden = set()
            for row in table(db_session, build, site=site, department=department).rows:
                cell = [site, department, ALL]
                cell[dimension] = row[0]
                if row[0] == stats.HIDDEN_TOGETHER:
                    published.append((frozenset(hidden), row[1]))
                elif isinstance(row[1], int):
                    published.append((leaves_in(tuple(cell), leaves), row[1]))
                else:
                    hidden |= leaves_in(tuple(cell), leaves)
    for cells, learners in published:
        assert sum(leaves[leaf] for leaf in cells) == learners  # the dashboard counts what the test thinks it counts
    assert derivable_small_groups(leaves, [cells for cells, _learners in published]) == []


def test_a_theme_or_a_period_that_leaves_a_small_base_shows_no_row(db_session, org):
    second = org["theme_two"][0]
    (theme_row,) = table(db_session, stats.themes, theme=second.theme_id).rows
    assert theme_row[1:] == (SMALL, None, None)  # three learners started the second theme
    modules = {row[0]: row[2] for row in table(db_session, stats.modules, theme=second.theme_id).rows}
    assert modules[second.title] == SMALL
    module = org["theme_one"][1].title
    recent = {row[0]: row[2] for row in table(db_session, stats.modules, date_from=ago(10).date()).rows}
    assert recent[module] == SMALL  # one learner opened it in the last ten days
    before = {row[0]: row[2] for row in table(db_session, stats.modules, date_to=ago(20).date()).rows}
    assert before[module] == WITHHELD  # 6 before, 7 in all: the whole time minus this period would show the one
    assert {row[0]: row[2] for row in table(db_session, stats.modules).rows}[module] == 7


def test_the_evaluation_obeys_the_same_rule_under_every_filter(db_session, org):
    assert table(db_session, stats.evaluation).rows[0][1:] == (85.7, 7)
    assert table(db_session, stats.evaluation, theme=org["theme_two"][0].theme_id).rows[0][1:] == (SMALL, None)  # one answer
    assert table(db_session, stats.evaluation, theme=THEME).rows[0][1:] == (WITHHELD, None)  # everyone minus this theme is one
    assert table(db_session, stats.evaluation, site="Paris").rows[0][1:] == (85.7, 7)
    assert table(db_session, stats.evaluation, site="Paris", date_to=ago(10).date()).rows[0][1] == SMALL  # the one early answer
    assert table(db_session, stats.evaluation, site="Paris", date_from=ago(10).date()).rows[0][1] == WITHHELD  # all time minus it


def test_seats_and_waiting_lists_of_a_small_group_show_no_figure(db_session, org):
    nice = dict(table(db_session, stats.live_sessions, site="Nice").rows)
    assert (nice["Upcoming"], nice["Seats offered"]) == (1, 2)  # the sessions themselves are not learners
    assert nice["Seats booked"] == nice["Fill rate (%)"] == SMALL
    assert table(db_session, stats.waiting_lists).rows[0][2] == SMALL
    reached = {row[0]: row[4] for row in table(db_session, stats.mentors).rows}
    assert reached == {"Lyon": 7}  # per the mentor's site: the seven learners who attended


def test_the_evaluation_needs_five_learners_who_answered(db_session):
    mentor = person(db_session, "mentor@example.test", "Lyon", "IT", role=Role.MENTOR)
    learners = [person(db_session, f"e{i}@example.test", "Lyon", "Claims", 35) for i in range(6)]
    sessions = [live(db_session, mentor, f"e{i}@t", ago(20 + i), capacity=6) for i in range(5)]

    def evaluation():
        refresh.full_refresh(db_session)
        db_session.commit()
        return table(db_session, stats.evaluation).rows[0][1:]

    for learner in learners[:4]:
        seat(db_session, sessions[0], learner, attendance=Attendance.ATTENDED, feedback=(5, True, True, True))
    assert evaluation() == (SMALL, None)
    for live_session in sessions[1:]:  # one learner answering after four more sessions is still one learner
        seat(db_session, live_session, learners[0], attendance=Attendance.ATTENDED, feedback=(5, True, True, True))
    assert evaluation() == (SMALL, None)
    seat(db_session, sessions[1], learners[4], attendance=Attendance.ATTENDED, feedback=(5, False, True, True))
    assert evaluation() == (88.9, 9)


def test_the_dashboard_states_the_rule_and_its_charts_draw_only_what_the_tables_show(app, people, org):
    html = hr_client(app, people).get("/hr/").get_data(as_text=True)
    assert "fewer than 5 learners: not shown, to protect privacy" in html
    assert "it would reveal a group of fewer than 5 learners" in html
    assert stats.HIDDEN_TOGETHER in html
    second = org["theme_two"][0]
    title = next(row[0] for row in stats.themes(people.session, stats.Filters(now=NOW, theme=second.theme_id)).rows)
    assert f"{title}: not shown, to protect privacy." in html  # three learners started it: no bar, no rate
    assert "New learners, module completions, sessions held, month by month." in html


@pytest.mark.parametrize("filters", [{}, {"site": "Paris", "date_from": date(2020, 1, 1)}, {"site": "Paris", "department": "Sales", "theme": THEME}])
def test_suppression_reads_grouped_counts_never_a_query_per_row(engine, db_session, org, filters):
    statements = []
    event.listen(engine, "before_cursor_execute", lambda *_args: statements.append(1))
    for build in stats.TABLE_NAMES.values():
        statements.clear()
        result = stats.one_table(db_session, build, stats.Filters(now=NOW, **filters))
        assert len(statements) <= 6, (result.name, len(statements), len(result.rows))
