"""Live sessions: publishing, every booking rule, cancellation and the waiting list, attendance and feedback."""

import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.hr import stats
from app.models import (
    Attendance,
    Booking,
    BookingStatus,
    LiveSession,
    Notification,
    ReachedLearner,
    Role,
    SessionFeedback,
    SessionStatus,
)
from app.sessions import figures as session_figures
from app.sessions.booking import record_attendance
from course.sessions import SessionFormat

from ..conftest import add_live_session, csrf_token

THEME = "information-management"


def make_session(db_session, mentor, *, starts_in=timedelta(days=3), fmt=SessionFormat.COLLECTIVE, capacity=5, co_hosts=(), minutes=90):
    starts_at = datetime.now(UTC).replace(microsecond=0) + starts_in
    return add_live_session(db_session, [mentor, *co_hosts], starts_at, fmt=fmt, capacity=capacity, minutes=minutes)


@pytest.fixture
def mentor(people):
    return people.create(Role.MENTOR, name="Yanis Mentor")


def signed_in(app, people, user):
    client = app.test_client()
    people.login(client, user)
    return client


def post(client, path, data=None):
    token = csrf_token(client.get("/").get_data(as_text=True))
    return client.post(path, data={"csrf_token": token, **(data or {})})


def book(client, live_session):
    return post(client, f"/sessions/{live_session.id}/book")


def bookings_of(db_session, live_session, status=None):
    db_session.expire_all()
    query = select(Booking).where(Booking.session_id == live_session.id)
    if status is not None:
        query = query.where(Booking.status == status)
    return list(db_session.scalars(query.order_by(Booking.id)))


def seats_taken(db_session, live_session):
    db_session.expire_all()
    return db_session.get(LiveSession, live_session.id).seats_taken


def test_a_learner_books_a_seat_and_is_told(app, people, mentor, learner, db_session):
    live_session = make_session(db_session, mentor)
    response = book(signed_in(app, people, learner), live_session)
    assert response.status_code == 302
    assert response.headers["Location"] == "/my-sessions"
    (booking,) = bookings_of(db_session, live_session)
    assert booking.status is BookingStatus.CONFIRMED
    assert seats_taken(db_session, live_session) == 1
    kinds = db_session.scalars(select(Notification.kind).where(Notification.user_id == learner.id)).all()
    assert kinds == ["booked"]


def test_booking_twice_is_refused_with_409_and_keeps_one_seat(app, people, mentor, learner, db_session):
    live_session = make_session(db_session, mentor)
    client = signed_in(app, people, learner)
    book(client, live_session)
    second = book(client, live_session)
    assert second.status_code == 409
    assert "You already have a seat in this session." in second.get_data(as_text=True)
    assert len(bookings_of(db_session, live_session)) == 1
    assert seats_taken(db_session, live_session) == 1


def test_an_individual_session_taken_by_someone_else_is_just_taken(app, people, mentor, db_session):
    live_session = make_session(db_session, mentor, fmt=SessionFormat.INDIVIDUAL)
    assert book(signed_in(app, people, people.create(name="First")), live_session).status_code == 302
    late = book(signed_in(app, people, people.create(name="Second")), live_session)
    assert late.status_code == 409
    assert "was just taken" in late.get_data(as_text=True)
    assert seats_taken(db_session, live_session) == 1


def test_a_full_group_session_puts_the_learner_on_its_waiting_list(app, people, mentor, db_session):
    live_session = make_session(db_session, mentor, capacity=2)
    for name in ("A", "B"):
        book(signed_in(app, people, people.create(name=name)), live_session)
    waiting = people.create(name="Waiting")
    response = book(signed_in(app, people, waiting), live_session)
    assert response.status_code == 302
    statuses = [b.status for b in bookings_of(db_session, live_session)]
    assert statuses == [BookingStatus.CONFIRMED, BookingStatus.CONFIRMED, BookingStatus.WAITLISTED]
    assert seats_taken(db_session, live_session) == 2


def test_a_freed_seat_goes_to_the_first_on_the_waiting_list_who_is_told(app, people, mentor, db_session):
    live_session = make_session(db_session, mentor, capacity=2)
    first = people.create(name="First")
    first_client = signed_in(app, people, first)
    book(first_client, live_session)
    book(signed_in(app, people, people.create(name="Second")), live_session)
    queued = [people.create(name=f"Queued {i}") for i in range(2)]
    for person in queued:
        book(signed_in(app, people, person), live_session)
    first_booking = bookings_of(db_session, live_session)[0]
    assert post(first_client, f"/bookings/{first_booking.id}/cancel").status_code == 302
    by_learner = {b.learner_id: b.status for b in bookings_of(db_session, live_session)}
    assert by_learner[first.id] is BookingStatus.CANCELLED
    assert by_learner[queued[0].id] is BookingStatus.CONFIRMED
    assert by_learner[queued[1].id] is BookingStatus.WAITLISTED
    assert seats_taken(db_session, live_session) == 2
    told = db_session.scalars(select(Notification.kind).where(Notification.user_id == queued[0].id)).all()
    assert "promoted" in told


def test_a_cancelled_booking_does_not_stop_booking_again(app, people, mentor, learner, db_session):
    live_session = make_session(db_session, mentor)
    client = signed_in(app, people, learner)
    book(client, live_session)
    post(client, f"/bookings/{bookings_of(db_session, live_session)[0].id}/cancel")
    assert book(client, live_session).status_code == 302
    assert [b.status for b in bookings_of(db_session, live_session)] == [BookingStatus.CANCELLED, BookingStatus.CONFIRMED]
    assert seats_taken(db_session, live_session) == 1


@pytest.mark.parametrize(("line", "individual_refused"), [("mentor_above", True), ("learner_above", True), ("unrelated", False)])
def test_an_individual_session_never_pairs_two_people_of_one_management_line(app, people, db_session, line, individual_refused):
    top = people.create(Role.LEARNER, name="Top")
    middle = people.create(Role.LEARNER, name="Middle")
    bottom = people.create(Role.LEARNER, name="Bottom")
    outsider = people.create(Role.MENTOR, name="Outsider")
    middle.manager_id, bottom.manager_id = top.id, middle.id
    db_session.commit()
    mentor, learner = {"mentor_above": (top, bottom), "learner_above": (bottom, top), "unrelated": (outsider, bottom)}[line]
    mentor.role = Role.MENTOR
    db_session.commit()
    individual = make_session(db_session, mentor, fmt=SessionFormat.INDIVIDUAL)
    response = book(signed_in(app, people, learner), individual)
    assert (response.status_code == 403) is individual_refused
    if individual_refused:
        assert "management line" in response.get_data(as_text=True)
        assert bookings_of(db_session, individual) == []


def test_the_management_rule_is_checked_again_at_booking_time(app, people, mentor, learner, db_session):
    individual = make_session(db_session, mentor, fmt=SessionFormat.INDIVIDUAL)
    learner.manager_id = mentor.id  # the organisation changed after the session was published
    db_session.commit()
    assert book(signed_in(app, people, learner), individual).status_code == 403


def test_a_group_session_may_gather_people_of_one_line(app, people, mentor, learner, db_session):
    learner.manager_id = mentor.id
    db_session.commit()
    assert book(signed_in(app, people, learner), make_session(db_session, mentor)).status_code == 302


@pytest.mark.parametrize("starts_in", [timedelta(hours=1), timedelta(minutes=-30)], ids=["within the guard time", "already started"])
def test_a_session_starting_within_the_guard_time_or_started_cannot_be_booked(app, people, mentor, learner, db_session, starts_in):
    live_session = make_session(db_session, mentor, starts_in=starts_in)
    response = book(signed_in(app, people, learner), live_session)
    assert response.status_code == 403
    assert "can no longer be booked" in response.get_data(as_text=True)
    assert bookings_of(db_session, live_session) == []


def test_nobody_books_a_session_they_lead(app, people, mentor, db_session):
    co_host = people.create(Role.MENTOR, name="Co Host")
    live_session = make_session(db_session, mentor, co_hosts=(co_host,))
    response = book(signed_in(app, people, co_host), live_session)
    assert response.status_code == 403
    assert "You lead this session" in response.get_data(as_text=True)


def test_two_overlapping_bookings_are_refused(app, people, mentor, learner, db_session):
    other_mentor = people.create(Role.MENTOR, name="Other")
    first = make_session(db_session, mentor, starts_in=timedelta(days=3))
    overlapping = make_session(db_session, other_mentor, starts_in=timedelta(days=3, minutes=60))
    after = make_session(db_session, other_mentor, starts_in=timedelta(days=3, minutes=90))
    client = signed_in(app, people, learner)
    book(client, first)
    assert book(client, overlapping).status_code == 409
    assert book(client, after).status_code == 302  # it starts when the first one ends


def test_the_cap_on_upcoming_bookings_holds(app, people, mentor, learner, db_session):
    app.config["BOOKING_MAX_UPCOMING"] = 2
    client = signed_in(app, people, learner)
    sessions = [make_session(db_session, mentor, starts_in=timedelta(days=3 + i)) for i in range(3)]
    assert [book(client, s).status_code for s in sessions] == [302, 302, 409]
    assert "the most at one time" in book(client, sessions[2]).get_data(as_text=True)


def test_cancelling_within_the_guard_time_is_refused(app, people, mentor, learner, db_session):
    live_session = make_session(db_session, mentor, starts_in=timedelta(days=3))
    client = signed_in(app, people, learner)
    book(client, live_session)
    live_session = db_session.get(LiveSession, live_session.id)
    live_session.starts_at = datetime.now(UTC) + timedelta(minutes=90)
    db_session.commit()
    response = post(client, f"/bookings/{bookings_of(db_session, live_session)[0].id}/cancel")
    assert response.status_code == 303
    assert bookings_of(db_session, live_session)[0].status is BookingStatus.CONFIRMED
    assert "can no longer be cancelled" in client.get("/my-sessions").get_data(as_text=True)


def test_nobody_reaches_another_person_s_booking_by_changing_its_id(app, people, mentor, learner, db_session):
    live_session = make_session(db_session, mentor)
    book(signed_in(app, people, learner), live_session)
    booking_id = bookings_of(db_session, live_session)[0].id
    intruder = signed_in(app, people, people.create(name="Intruder"))
    assert post(intruder, f"/bookings/{booking_id}/cancel").status_code == 404
    assert intruder.get(f"/bookings/{booking_id}/invitation.ics").status_code == 404
    assert intruder.get(f"/bookings/{booking_id}/feedback").status_code == 404
    assert bookings_of(db_session, live_session)[0].status is BookingStatus.CONFIRMED


def test_a_mentor_cannot_touch_another_mentor_s_session(app, people, mentor, db_session):
    live_session = make_session(db_session, mentor)
    other = signed_in(app, people, people.create(Role.MENTOR, name="Other mentor"))
    assert other.get(f"/mentor/sessions/{live_session.id}/edit").status_code == 404
    assert post(other, f"/mentor/sessions/{live_session.id}/cancel").status_code == 404
    db_session.expire_all()
    assert db_session.get(LiveSession, live_session.id).status is SessionStatus.SCHEDULED


def test_unknown_session_ids_give_404(app, people, learner):
    client = signed_in(app, people, learner)
    assert client.get("/sessions/999999").status_code == 404
    assert post(client, "/sessions/999999/book").status_code == 404


def test_module_page_lists_its_theme_s_sessions_with_a_book_button(app, people, mentor, learner, db_session):
    live_session = make_session(db_session, mentor)
    page = signed_in(app, people, learner).get("/modules/search-like-a-pro").get_data(as_text=True)
    assert f'action="/sessions/{live_session.id}/book"' in page
    filtered = signed_in(app, people, learner).get("/modules/search-like-a-pro?format=individual").get_data(as_text=True)
    assert f'action="/sessions/{live_session.id}/book"' not in filtered


def test_an_unknown_format_filter_is_a_400(app, people, learner):
    assert signed_in(app, people, learner).get("/sessions?format=weekly").status_code == 400


def test_booked_sessions_appear_on_the_learner_s_home_page(app, people, mentor, learner, db_session):
    live_session = make_session(db_session, mentor)
    client = signed_in(app, people, learner)
    book(client, live_session)
    home = client.get("/").get_data(as_text=True)
    assert f'href="/sessions/{live_session.id}"' in home
    assert "Your seat is booked" in home


# --- Mentors publish, change and cancel -------------------------------------------------------------------


def session_form(**overrides):
    day = (datetime.now(UTC) + timedelta(days=10)).date().isoformat()
    return {
        "theme_id": THEME,
        "format": "collective",
        "seats": "8",
        "day": day,
        "start_time": "14:00",
        "duration_minutes": "90",
        "site": "Lyon",
        "room": "Room 4.01",
        "video_url": "",
        "note": "Bring your laptop.",
    } | overrides


def count_sessions(db_session):
    db_session.expire_all()
    return db_session.scalar(select(func.count()).select_from(LiveSession))


def test_a_mentor_publishes_a_session_entered_in_paris_time_and_stored_in_utc(app, people, mentor, db_session):
    client = signed_in(app, people, mentor)
    response = post(client, "/mentor/sessions/new", session_form(day="2026-12-15", start_time="14:00"))
    assert response.status_code == 302, response.get_data(as_text=True)[:3000]
    live_session = db_session.scalars(select(LiveSession)).one()
    assert live_session.starts_at == datetime(2026, 12, 15, 13, 0, tzinfo=UTC)  # Paris is UTC+1 in December
    assert (live_session.capacity, live_session.host_ids, live_session.sequence) == (8, frozenset({mentor.id}), 0)
    assert "Tuesday 15 December 2026 at 14:00" in client.get(f"/sessions/{live_session.id}").get_data(as_text=True)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"day": "2020-01-01"}, "The start must be in the future."),
        ({"seats": "16"}, "A group session has from 2 to 15 seats."),
        ({"theme_id": "astrology"}, "Not a valid choice"),
        ({"duration_minutes": "200"}, "A session lasts from 60 to 120 minutes."),
        ({"day": "2027-03-28", "start_time": "02:30"}, "does not exist on 28 March 2027"),
        ({"site": "", "room": ""}, "Give a site and a room, or a video link."),
        ({"video_url": "javascript:alert(1)", "site": "", "room": ""}, "A video link starts with https://."),
        ({"day": "not a date"}, "Not a valid date value."),
        ({"co_hosts": ""}, "Choose the co-hosts from the list of mentors."),
    ],
)
def test_bad_session_data_gives_400_with_a_clear_message_and_saves_nothing(app, people, mentor, db_session, overrides, message):
    response = post(signed_in(app, people, mentor), "/mentor/sessions/new", session_form(**overrides))
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert count_sessions(db_session) == 0


def test_learners_cannot_publish_sessions(app, people, learner, db_session):
    assert post(signed_in(app, people, learner), "/mentor/sessions/new", session_form()).status_code == 403
    assert count_sessions(db_session) == 0


def test_changing_the_time_raises_the_sequence_and_tells_the_booked(app, people, mentor, learner, db_session):
    live_session = make_session(db_session, mentor)
    book(signed_in(app, people, learner), live_session)
    new_day = (datetime.now(UTC) + timedelta(days=12)).date().isoformat()
    response = post(signed_in(app, people, mentor), f"/mentor/sessions/{live_session.id}/edit", session_form(day=new_day, start_time="10:00"))
    assert response.status_code == 302
    db_session.expire_all()
    changed = db_session.get(LiveSession, live_session.id)
    assert changed.sequence == 1
    assert changed.uid == live_session.uid
    kinds = db_session.scalars(select(Notification.kind).where(Notification.user_id == learner.id)).all()
    assert "session_changed" in kinds


def test_cancelling_a_session_tells_everyone_booked(app, people, mentor, learner, db_session):
    live_session = make_session(db_session, mentor)
    book(signed_in(app, people, learner), live_session)
    assert post(signed_in(app, people, mentor), f"/mentor/sessions/{live_session.id}/cancel").status_code == 302
    db_session.expire_all()
    assert db_session.get(LiveSession, live_session.id).status is SessionStatus.CANCELLED
    assert "session_cancelled" in db_session.scalars(select(Notification.kind).where(Notification.user_id == learner.id)).all()
    assert book(signed_in(app, people, people.create()), live_session).status_code == 403


# --- After the session --------------------------------------------------------------------------------------


def past_session_with(db_session, mentor, learners, co_hosts=()):
    live_session = make_session(db_session, mentor, starts_in=timedelta(days=3), co_hosts=co_hosts)
    for person in learners:
        db_session.add(Booking(session_id=live_session.id, learner_id=person.id, status=BookingStatus.CONFIRMED))
    live_session.seats_taken = len(learners)
    live_session.starts_at = datetime.now(UTC) - timedelta(days=1)
    db_session.commit()
    return live_session


def test_mentor_records_attendance_then_attendees_answer_the_questionnaire_once(app, people, mentor, db_session):
    came, absent = people.create(name="Came"), people.create(name="Absent")
    live_session = past_session_with(db_session, mentor, [came, absent])
    mentor_client = signed_in(app, people, mentor)
    assert "Record attendance" in mentor_client.get("/mentor/").get_data(as_text=True)
    came_booking, absent_booking = bookings_of(db_session, live_session)
    marks = {f"attendance-{came_booking.id}": "attended", f"attendance-{absent_booking.id}": "no_show"}
    assert post(mentor_client, f"/mentor/sessions/{live_session.id}/attendance", marks).status_code == 302
    home = mentor_client.get("/mentor/").get_data(as_text=True)
    assert "1.5" in home  # hours mentored
    assert "Record attendance" not in home

    refused = signed_in(app, people, absent).get(f"/bookings/{absent_booking.id}/feedback")
    assert refused.status_code == 403
    assert "The questionnaire opens once your mentor has recorded that you attended the session." in refused.get_data(as_text=True)
    learner_client = signed_in(app, people, came)
    answers = {"satisfaction": "5", "format_best_suited": "yes", "changed_daily_usage": "no", "would_recommend": "yes", "comment": "Very useful."}
    assert post(learner_client, f"/bookings/{came_booking.id}/feedback", answers).status_code == 302
    again = post(learner_client, f"/bookings/{came_booking.id}/feedback", answers)
    assert again.status_code == 303
    feedback = db_session.scalars(select(SessionFeedback)).one()
    assert (feedback.satisfaction, feedback.format_best_suited, feedback.changed_daily_usage, feedback.would_recommend) == (5, True, False, True)


def session_figures_of(db_session, live_session):
    """The tallies and learners reached kept for a session, read back from the database."""
    db_session.expire_all()
    kept = db_session.get(LiveSession, live_session.id)
    reached = db_session.execute(
        select(ReachedLearner.site, ReachedLearner.learner_id).where(ReachedLearner.session_id == live_session.id).order_by(ReachedLearner.site, ReachedLearner.learner_id)
    ).all()
    return kept.seats_attended, kept.no_shows, [tuple(row) for row in reached]


def assert_figures_equal_a_recount(db_session, live_session):
    kept = session_figures_of(db_session, live_session)
    session_figures.refresh(db_session)
    assert session_figures_of(db_session, live_session) == kept
    db_session.rollback()


@pytest.mark.usefixtures("figures_unsuppressed")  # figures of one to three learners: privacy is tested in test_hr_privacy.py
def test_session_figures_follow_attendance_a_mentor_s_move_and_cancellation(app, people, mentor, db_session):
    co_host = people.create(Role.MENTOR, name="Co Host", site="Nice")
    came, late, absent = (people.create(name=name) for name in ("Came", "Late", "Absent"))
    live_session = past_session_with(db_session, mentor, [came, late, absent], co_hosts=[co_host])
    mentor_client = signed_in(app, people, mentor)
    by_learner = {b.learner_id: b.id for b in bookings_of(db_session, live_session)}
    marks = {f"attendance-{by_learner[came.id]}": "attended", f"attendance-{by_learner[late.id]}": "attended", f"attendance-{by_learner[absent.id]}": "no_show"}
    assert post(mentor_client, f"/mentor/sessions/{live_session.id}/attendance", marks).status_code == 302
    assert session_figures_of(db_session, live_session) == (
        2, 1, [("Lyon", came.id), ("Lyon", late.id), ("Nice", came.id), ("Nice", late.id)]
    )  # fmt: skip
    assert_figures_equal_a_recount(db_session, live_session)

    marks[f"attendance-{by_learner[late.id]}"] = "no_show"  # corrected by the co-host
    assert post(signed_in(app, people, co_host), f"/mentor/sessions/{live_session.id}/attendance", marks).status_code == 302
    assert session_figures_of(db_session, live_session) == (1, 2, [("Lyon", came.id), ("Nice", came.id)])
    now = datetime.now(UTC)
    assert stats.learners_reached(db_session, stats.Filters(now=now)) == {"Lyon": 1, "Nice": 1}
    assert dict(stats.live_sessions(db_session, stats.Filters(now=now)).rows)["No-show rate (%)"] == 66.7

    admin = signed_in(app, people, people.create(Role.ADMIN, name="Admin"))
    token = csrf_token(admin.get(f"/admin/users/{co_host.id}").get_data(as_text=True))
    form = {"site": "Lyon", "department": "", "manager_email": "", "csrf_token": token}
    assert admin.post(f"/admin/users/{co_host.id}", data=form).status_code == 302
    assert session_figures_of(db_session, live_session) == (1, 2, [("Lyon", came.id)])  # both mentors of Lyon reach them once
    assert stats.learners_reached(db_session, stats.Filters(now=now)) == {"Lyon": 1}
    assert_figures_equal_a_recount(db_session, live_session)

    assert post(mentor_client, f"/mentor/sessions/{live_session.id}/cancel").status_code == 302
    assert session_figures_of(db_session, live_session)[2] == []  # a cancelled session reached nobody
    assert stats.learners_reached(db_session, stats.Filters(now=now)) == {}


def test_a_loaded_session_shows_its_new_tallies_once_attendance_is_recorded(people, mentor, db_session):
    came, absent = people.create(name="Came"), people.create(name="Absent")
    live_session = past_session_with(db_session, mentor, [came, absent])
    assert (live_session.seats_attended, live_session.no_shows) == (0, 0)
    by_learner = {b.learner_id: b.id for b in bookings_of(db_session, live_session)}
    live_session = db_session.get(LiveSession, live_session.id)
    record_attendance(db_session, live_session, {by_learner[came.id]: Attendance.ATTENDED, by_learner[absent.id]: Attendance.NO_SHOW})
    assert (live_session.seats_attended, live_session.no_shows) == (1, 1)  # read again, not the values loaded before
    db_session.rollback()


def test_co_hosts_recording_attendance_at_once_are_both_counted(app, people, mentor, db_session, database_url, engine):
    if not database_url.startswith("postgresql"):
        pytest.skip("SQLite writes one at a time; the race needs PostgreSQL")
    co_host = people.create(Role.MENTOR, name="Co Host", site="Nice")
    first, second = people.create(name="First"), people.create(name="Second")
    live_session = past_session_with(db_session, mentor, [first, second], co_hosts=[co_host])
    by_learner = {b.learner_id: b.id for b in bookings_of(db_session, live_session)}
    errors = []

    def mark(learner_id):
        try:
            with Session(engine) as session:
                record_attendance(session, session.get(LiveSession, live_session.id), {by_learner[learner_id]: Attendance.ATTENDED})
                session.commit()
        except Exception as error:  # reported by the assertion below
            errors.append(error)

    # The first mentor's marks are written but not committed when the co-host sends theirs: the co-host's
    # recount must wait for them, or it would count only its own mark.
    with Session(engine) as session:
        record_attendance(session, session.get(LiveSession, live_session.id), {by_learner[first.id]: Attendance.ATTENDED})
        co_host_marking = threading.Thread(target=mark, args=(second.id,))
        co_host_marking.start()
        co_host_marking.join(timeout=0.5)
        assert co_host_marking.is_alive()  # waiting for the session's row
        session.commit()
    co_host_marking.join()
    assert errors == []
    expected = [("Lyon", first.id), ("Lyon", second.id), ("Nice", first.id), ("Nice", second.id)]
    assert session_figures_of(db_session, live_session) == (2, 0, sorted(expected))


def test_questionnaire_answers_out_of_range_give_400(app, people, mentor, db_session):
    came = people.create(name="Came")
    live_session = past_session_with(db_session, mentor, [came])
    booking = bookings_of(db_session, live_session)[0]
    booking.attendance = "attended"
    db_session.commit()
    response = post(signed_in(app, people, came), f"/bookings/{booking.id}/feedback", {"satisfaction": "9", "format_best_suited": "maybe"})
    assert response.status_code == 400
    assert db_session.scalar(select(func.count()).select_from(SessionFeedback)) == 0


def test_attendance_cannot_be_recorded_before_the_session(app, people, mentor, db_session):
    live_session = make_session(db_session, mentor)
    assert signed_in(app, people, mentor).get(f"/mentor/sessions/{live_session.id}/attendance").status_code == 400


# --- People ------------------------------------------------------------------------------------------------


def test_an_administrator_sets_a_manager_and_a_cycle_is_refused(app, people, db_session):
    admin = people.create(Role.ADMIN, name="Admin")
    boss, report = people.create(name="Boss"), people.create(name="Report")
    client = signed_in(app, people, admin)
    assert post(client, f"/admin/users/{report.id}", {"site": "Lyon", "department": "Claims", "manager_email": boss.email}).status_code == 302
    cycle = post(client, f"/admin/users/{boss.id}", {"site": "Lyon", "manager_email": report.email})
    assert cycle.status_code == 400
    assert "loop in the management chain" in cycle.get_data(as_text=True)
    unknown = post(client, f"/admin/users/{boss.id}", {"site": "Lyon", "manager_email": "ghost@example.test"})
    assert unknown.status_code == 400
    db_session.expire_all()
    assert (db_session.get(type(report), report.id).manager_id, db_session.get(type(boss), boss.id).manager_id) == (boss.id, None)
