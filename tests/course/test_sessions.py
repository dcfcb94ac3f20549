from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from course.sessions import (
    NonexistentLocalTimeError,
    Refusal,
    SessionDraft,
    SessionFacts,
    SessionFormat,
    booking_refusal,
    cancellation_refusal,
    in_same_management_line,
    local_to_utc,
    management_chain,
    overlaps,
    session_draft_problems,
)

NOW = datetime(2026, 11, 21, 9, 0, tzinfo=UTC)
PARIS = ZoneInfo("Europe/Paris")
GUARD = timedelta(hours=2)
MANAGERS = {1: None, 2: 1, 3: 2, 4: 3, 10: None}  # 1 manages 2, who manages 3, who manages 4


def facts(starts_in=timedelta(days=2), fmt=SessionFormat.INDIVIDUAL, hosts=(10,), minutes=90, cancelled=False):
    return SessionFacts(NOW + starts_in, minutes, fmt, frozenset(hosts), cancelled)


def refusal(learner=4, session=None, others=(), upcoming=0, cap=5, already=False):
    return booking_refusal(learner, session or facts(), NOW, GUARD, MANAGERS, others, upcoming, cap, already)


def test_management_chain_walks_up_nearest_first():
    assert management_chain(4, MANAGERS) == [3, 2, 1]
    assert management_chain(1, MANAGERS) == []


def test_a_cycle_in_the_data_ends_the_walk():
    assert management_chain(1, {1: 2, 2: 3, 3: 1}) == [2, 3]


@pytest.mark.parametrize(("first", "second", "same"), [(4, 1, True), (1, 4, True), (2, 3, True), (4, 10, False), (3, 3, False)])
def test_same_management_line_in_both_directions(first, second, same):
    assert in_same_management_line(first, second, MANAGERS) is same


def test_a_valid_booking_is_not_refused():
    assert refusal() is None


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        ({"session": facts(cancelled=True)}, Refusal.CANCELLED),
        ({"session": facts(starts_in=timedelta(hours=1, minutes=59))}, Refusal.TOO_LATE),
        ({"session": facts(starts_in=timedelta(minutes=-5))}, Refusal.TOO_LATE),
        ({"session": facts(hosts=(4,))}, Refusal.OWN_SESSION),
        ({"already": True}, Refusal.ALREADY_BOOKED),
        ({"session": facts(hosts=(1,))}, Refusal.SAME_MANAGEMENT_LINE),
        ({"learner": 1, "session": facts(hosts=(3,))}, Refusal.SAME_MANAGEMENT_LINE),
        ({"session": facts(hosts=(10, 2), fmt=SessionFormat.INDIVIDUAL)}, Refusal.SAME_MANAGEMENT_LINE),
        ({"others": [facts(starts_in=timedelta(days=2, minutes=30))]}, Refusal.OVERLAP),
        ({"upcoming": 5}, Refusal.TOO_MANY_BOOKINGS),
    ],
)
def test_each_rule_refuses_with_its_reason(kwargs, expected):
    assert refusal(**kwargs) is expected


def test_a_group_session_may_include_the_learner_s_manager():
    assert refusal(session=facts(hosts=(1,), fmt=SessionFormat.COLLECTIVE)) is None


def test_exactly_the_guard_time_ahead_can_still_be_booked():
    assert refusal(session=facts(starts_in=GUARD)) is None


def test_sessions_that_touch_do_not_overlap():
    start = NOW
    assert overlaps(start, start + timedelta(minutes=90), start + timedelta(minutes=90), start + timedelta(minutes=180)) is False
    assert overlaps(start, start + timedelta(minutes=90), start + timedelta(minutes=89), start + timedelta(minutes=180)) is True


def test_cancelling_closes_at_the_guard_time():
    assert cancellation_refusal(facts(starts_in=timedelta(hours=3)), NOW, GUARD) is None
    assert cancellation_refusal(facts(starts_in=timedelta(hours=1)), NOW, GUARD) is Refusal.CANCEL_TOO_LATE


def test_every_refusal_has_a_message_that_says_what_to_do():
    assert all(r.message(2, 5).endswith(".") for r in Refusal)
    assert "5 upcoming sessions" in Refusal.TOO_MANY_BOOKINGS.message(2, 5)


@pytest.mark.parametrize(
    ("day", "at", "expected_utc"),
    [
        (date(2026, 3, 29), time(10, 0), datetime(2026, 3, 29, 8, 0, tzinfo=UTC)),  # after the spring change: UTC+2
        (date(2026, 3, 28), time(10, 0), datetime(2026, 3, 28, 9, 0, tzinfo=UTC)),  # the day before: UTC+1
        (date(2026, 10, 25), time(10, 0), datetime(2026, 10, 25, 9, 0, tzinfo=UTC)),  # after the autumn change: UTC+1
        (date(2026, 10, 24), time(10, 0), datetime(2026, 10, 24, 8, 0, tzinfo=UTC)),  # the day before: UTC+2
        (date(2026, 10, 25), time(2, 30), datetime(2026, 10, 25, 0, 30, tzinfo=UTC)),  # the repeated hour: first pass
    ],
)
def test_paris_wall_clock_times_become_utc_across_daylight_saving(day, at, expected_utc):
    assert local_to_utc(day, at, PARIS) == expected_utc


def test_a_time_skipped_when_clocks_go_forward_is_refused():
    with pytest.raises(NonexistentLocalTimeError, match="does not exist"):
        local_to_utc(date(2026, 3, 29), time(2, 30), PARIS)


def draft(**overrides):
    values = {
        "theme_id": "t",
        "format": SessionFormat.COLLECTIVE,
        "seats": 8,
        "starts_at": NOW + timedelta(days=3),
        "duration_minutes": 90,
        "host_ids": (10,),
        "site": "Lyon",
        "room": "4.01",
        "video_url": None,
    } | overrides
    return SessionDraft(**values)


def test_a_valid_draft_has_no_problem():
    assert session_draft_problems(draft(), NOW, {"t"}) == {}


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"theme_id": "x"}, "theme_id"),
        ({"starts_at": NOW - timedelta(minutes=1)}, "starts_at"),
        ({"duration_minutes": 59}, "duration_minutes"),
        ({"duration_minutes": 121}, "duration_minutes"),
        ({"seats": 16}, "seats"),
        ({"seats": 1}, "seats"),
        ({"host_ids": (1, 2, 3, 4)}, "co_hosts"),
        ({"format": SessionFormat.INDIVIDUAL, "host_ids": (1, 2)}, "co_hosts"),
        ({"site": None, "room": None}, "room"),
        ({"video_url": "http://insecure.example"}, "video_url"),
    ],
)
def test_each_draft_problem_is_reported_on_its_field(overrides, field):
    assert field in session_draft_problems(draft(**overrides), NOW, {"t"})
