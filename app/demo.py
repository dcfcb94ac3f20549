"""Demo accounts: a learner with some progress, a mentor, an HR user and an administrator."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from course import QuestionKind, Quiz
from course.grade import Answer
from course.sessions import SessionDraft, SessionFormat, local_to_utc

from .learning.services import load_outline, open_module, parsed_revision, progress_records, submit_quiz
from .models import LiveSession, MentorProfile, ModuleRecord, Role, SessionHost, User
from .security import hash_password
from .sessions.booking import SessionDetails, publish_session


@dataclass(frozen=True)
class DemoAccount:
    """A demo account's credentials, printed when the demo starts."""

    role: Role
    name: str
    email: str
    password: str
    site: str


DEMO_ACCOUNTS = (
    DemoAccount(Role.LEARNER, "Martine Dubois", "learner@demo.speak-digital.test", "learner-demo-2026", "Lyon"),
    DemoAccount(Role.MENTOR, "Yanis Benali", "mentor@demo.speak-digital.test", "mentor-demo-2026", "Lyon"),
    DemoAccount(Role.HR, "Claire Martin", "hr@demo.speak-digital.test", "hr-demo-2026", "Paris - Head office"),
    DemoAccount(Role.ADMIN, "Admin Demo", "admin@demo.speak-digital.test", "admin-demo-2026", "Paris - Head office"),
)


def ensure_demo_accounts(session: Session) -> list[DemoAccount]:
    """Create the demo accounts that do not exist yet, and reset the passwords of those that do."""
    people = []
    for account in DEMO_ACCOUNTS:
        user = session.scalar(select(User).where(User.email == account.email))
        if user is None:
            user = User(email=account.email, name=account.name, site=account.site, role=account.role, password_hash="")
            session.add(user)
        user.password_hash = hash_password(account.password)
        user.active = True
        people.append(user)
    session.flush()
    _give_learner_some_progress(session)
    _publish_demo_sessions(session)
    return list(DEMO_ACCOUNTS)


def _publish_demo_sessions(session: Session) -> None:
    """The demo mentor has a profile and leads three upcoming sessions, so that booking can be tried at once."""
    mentor = session.scalar(select(User).where(User.email == DEMO_ACCOUNTS[1].email))
    if mentor is None:
        return
    if session.get(MentorProfile, mentor.id) is None:
        session.add(
            MentorProfile(
                user_id=mentor.id,
                themes=["information-management", "collaboration-and-networking", "personal-branding-and-data"],
                sites=["Lyon"],
                languages=["English", "French"],
                introduction="Claims analyst by day, I love showing colleagues the shortcuts that save me an hour a week.",
            )
        )
    now = datetime.now(UTC)
    upcoming = session.scalar(select(LiveSession.id).join(SessionHost).where(SessionHost.mentor_id == mentor.id, LiveSession.starts_at > now).limit(1))
    if upcoming is not None:
        return
    zone = ZoneInfo("Europe/Paris")
    plans = [
        (3, "information-management", SessionFormat.COLLECTIVE, 12, "Room 2.14", None),
        (5, "collaboration-and-networking", SessionFormat.INDIVIDUAL, 1, "Room 1.03", None),
        (8, "personal-branding-and-data", SessionFormat.COLLECTIVE, 8, None, "https://video.example.com/speak-digital"),
    ]
    for days, theme_id, session_format, seats, room, video in plans:
        day = (now + timedelta(days=days)).astimezone(zone).date()
        draft = SessionDraft(
            theme_id=theme_id,
            format=session_format,
            seats=seats,
            starts_at=local_to_utc(day, time(14, 0), zone),
            duration_minutes=90,
            host_ids=(mentor.id,),
            site="Lyon" if room else None,
            room=room,
            video_url=video,
        )
        publish_session(session, mentor, SessionDetails(draft, zone.key, "Bring a laptop or a phone you use for work."))


def _give_learner_some_progress(session: Session) -> None:
    """The demo learner has passed the course's first module and opened the second, once."""
    learner = session.scalar(select(User).where(User.email == DEMO_ACCOUNTS[0].email))
    outline = load_outline(session)
    if learner is None or len(outline.modules) < 2 or progress_records(session, learner.id):
        return
    first, second = (session.get(ModuleRecord, m.id) for m in outline.modules[:2])
    if first is None or second is None or first.current_revision is None:
        return
    open_module(session, learner.id, first.id)
    for quiz in parsed_revision(first.current_revision).quizzes:
        submit_quiz(session, learner.id, first, first.current_revision, quiz.id, right_answers(quiz))
    open_module(session, learner.id, second.id)


def right_answers(quiz: Quiz) -> dict[str, Answer]:
    """The right answer to every question of `quiz`."""
    answers: dict[str, Answer] = {}
    for question in quiz.questions:
        if question.kind is QuestionKind.TEXT:
            answers[question.id] = question.accepted[0]
        elif question.kind is QuestionKind.MULTIPLE:
            answers[question.id] = sorted(question.correct_choice_ids)
        else:
            answers[question.id] = next(iter(question.correct_choice_ids))
    return answers
