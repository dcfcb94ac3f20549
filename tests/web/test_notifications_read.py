"""Notifications are read by an explicit POST: showing them, on /my-sessions or the home page, writes nothing."""

from __future__ import annotations

from sqlalchemy import select

from app.models import Notification

from ..conftest import csrf_token
from .test_statement_counts import counted


def notify(db_session, user, message="Your session has changed (time)."):
    """A notification for `user`, as the booking service records them."""
    note = Notification(user_id=user.id, kind="session_changed", message=message)
    db_session.add(note)
    db_session.commit()
    return note


def unread_messages(db_session, user):
    db_session.expire_all()
    return db_session.scalars(select(Notification.message).where(Notification.user_id == user.id, Notification.read_at.is_(None))).all()


def test_my_sessions_page_writes_nothing_and_leaves_notifications_unread(learner_client, learner, db_session):
    notify(db_session, learner)
    with counted() as statements:
        page = learner_client.get("/my-sessions").get_data(as_text=True)
    assert "Your session has changed (time)." in page
    assert statements.writes == []
    assert unread_messages(db_session, learner) == ["Your session has changed (time)."]
    assert "Your session has changed (time)." in learner_client.get("/").get_data(as_text=True)


def test_mark_as_read_hides_them_from_home_but_keeps_one_told_after_the_page(learner_client, learner, db_session):
    shown = notify(db_session, learner, "Shown on the page.")
    page = learner_client.get("/").get_data(as_text=True)
    later = notify(db_session, learner, "Told after the page was shown.")
    answer = learner_client.post("/notifications/read", data={"csrf_token": csrf_token(page), "through": str(shown.id), "back": "home"})
    assert answer.status_code == 303
    assert answer.headers["Location"] == "/"
    assert unread_messages(db_session, learner) == [later.message]
    home = learner_client.get("/").get_data(as_text=True)
    assert "Shown on the page." not in home
    assert "Told after the page was shown." in home


def test_mark_as_read_needs_the_csrf_token_and_touches_only_ones_own(learner_client, learner, people, db_session):
    other = people.create(email="other@example.test")
    notify(db_session, other, "Not yours.")
    mine = notify(db_session, learner, "Yours.")
    assert learner_client.post("/notifications/read", data={"through": str(mine.id + 1)}).status_code == 400
    assert unread_messages(db_session, learner) == ["Yours."]
    token = csrf_token(learner_client.get("/my-sessions").get_data(as_text=True))
    assert learner_client.post("/notifications/read", data={"csrf_token": token, "through": str(mine.id + 1)}).status_code == 303
    assert unread_messages(db_session, learner) == []
    assert unread_messages(db_session, other) == ["Not yours."]
