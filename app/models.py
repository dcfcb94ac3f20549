"""SQLAlchemy models.

Progress and attempts point at content by its stable ids (module and quiz ids), so content can be
re-imported or edited without touching what learners did.
"""

from __future__ import annotations

import enum
from datetime import UTC, datetime
from typing import Annotated, Any, ClassVar

from flask_login import UserMixin
from sqlalchemy import (
    JSON,
    CheckConstraint,
    DateTime,
    Enum,
    ForeignKey,
    Index,
    LargeBinary,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Text,
    UniqueConstraint,
    text,
    types,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from course.progress import ModuleStatus
from course.sessions import SessionFormat

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    """The current time, timezone-aware, in UTC."""
    return datetime.now(UTC)


class UTCDateTime(types.TypeDecorator[datetime]):
    """Stores UTC without a zone on every database and always gives back an aware UTC datetime."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are ambiguous: pass an aware datetime")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


def enum_column(enum_type: type[enum.Enum]) -> Enum:
    """An enum stored as its lowercase value in a plain string column, readable in SQL and reports."""
    return Enum(enum_type, native_enum=False, length=20, validate_strings=True, values_callable=lambda e: [m.value for m in e])


ContentId = Annotated[str, mapped_column(String(60))]
Timestamp = Annotated[datetime, mapped_column(UTCDateTime(), default=utcnow)]
OptionalTimestamp = Annotated[datetime | None, mapped_column(UTCDateTime())]
# When a row was last written, by any ORM insert or update, bulk ones included: the HR figures' refresh finds the
# learners who changed by it. Rows written before the column existed have none; the full refresh counts them.
ChangedAt = Annotated[datetime | None, mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow, index=True)]


class Base(DeclarativeBase):
    """The declarative base, with named constraints so that migrations can refer to them."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {dict[str, Any]: JSON, list[Any]: JSON}


class Role(enum.StrEnum):
    """What a person may do on the platform."""

    LEARNER = "learner"
    MENTOR = "mentor"
    HR = "hr"
    ADMIN = "admin"


class User(UserMixin, Base):
    """A person with an account; every role can also take the course."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    password_hash: Mapped[str] = mapped_column(String(255))
    site: Mapped[str] = mapped_column(String(80))
    department: Mapped[str | None] = mapped_column(String(120))
    manager_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    birth_year: Mapped[int | None]
    role: Mapped[Role] = mapped_column(enum_column(Role), default=Role.LEARNER)
    active: Mapped[bool] = mapped_column(default=True)
    # Raised when the password changes, so that every other session and remember-me cookie stops working.
    auth_version: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[Timestamp]
    last_login_at: Mapped[OptionalTimestamp]
    updated_at: Mapped[ChangedAt]

    @property
    def is_active(self) -> bool:
        """Deactivated accounts cannot log in."""
        return self.active

    def get_id(self) -> str:
        """The session's reference to this user, which a password change invalidates."""
        return f"{self.id}.{self.auth_version}"

    def has_role(self, *roles: Role) -> bool:
        """True when the user holds one of `roles`."""
        return self.role in roles


class ThemeRecord(Base):
    """A theme as imported from content."""

    __tablename__ = "themes"

    id: Mapped[ContentId] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    position: Mapped[int]
    summary: Mapped[str] = mapped_column(Text)
    live_session: Mapped[list[Any]]
    introduction_html: Mapped[str] = mapped_column(Text)
    # The theme file as imported, so that the course can be exported back to Markdown unchanged.
    source: Mapped[str] = mapped_column(Text, default="")
    updated_at: Mapped[Timestamp]


class ModuleRecord(Base):
    """A module: what the catalog shows of its current revision, and that revision."""

    __tablename__ = "modules"

    id: Mapped[ContentId] = mapped_column(primary_key=True)
    theme_id: Mapped[ContentId] = mapped_column(ForeignKey("themes.id"), index=True)
    position: Mapped[int]
    title: Mapped[str] = mapped_column(String(200))
    minutes: Mapped[int]
    summary: Mapped[str] = mapped_column(Text)
    objectives: Mapped[list[Any]]
    pass_mark: Mapped[int]
    quiz_ids: Mapped[list[Any]]
    current_revision_id: Mapped[int | None] = mapped_column(ForeignKey("module_revisions.id", use_alter=True))
    updated_at: Mapped[Timestamp]

    current_revision: Mapped[ModuleRevision | None] = relationship(foreign_keys=[current_revision_id], post_update=True)


class RevisionOrigin(enum.StrEnum):
    """Where a revision came from: the content folder, or the editor in the browser."""

    IMPORT = "import"
    EDITOR = "editor"


class ModuleRevision(Base):
    """One version of a module's source, with its rendering made once when the revision was created.

    The module's published revision is `ModuleRecord.current_revision`; a later revision is a draft.
    A draft with problems keeps them in `problems` and an empty rendering, and can never be published.
    """

    __tablename__ = "module_revisions"
    __table_args__ = (UniqueConstraint("module_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    module_id: Mapped[ContentId] = mapped_column(ForeignKey("modules.id"), index=True)
    number: Mapped[int]
    source: Mapped[str] = mapped_column(Text)
    source_sha256: Mapped[str] = mapped_column(String(64))
    rendered: Mapped[dict[str, Any]]
    problems: Mapped[list[Any]] = mapped_column(default=list)
    origin: Mapped[RevisionOrigin] = mapped_column(enum_column(RevisionOrigin), default=RevisionOrigin.IMPORT)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    published_at: Mapped[OptionalTimestamp]
    created_at: Mapped[Timestamp]

    author: Mapped[User | None] = relationship()


class ModuleProgress(Base):
    """Where one learner stands in one module; `completed_at` is written once and never rewritten."""

    __tablename__ = "module_progress"
    __table_args__ = (
        UniqueConstraint("user_id", "module_id"),
        # Completions by period and month on the HR dashboard.
        Index("ix_module_progress_completed_at", "completed_at"),
        # The progress of the learners whose contribution is counted (see app.hr.rollups.contributions()): one learner
        # whose progress changes, the learners a refresh recounts, everyone at a full refresh; read from the index alone.
        Index("ix_module_progress_user_covering", "user_id", postgresql_include=["module_id", "status", "first_opened_at", "completed_at"]),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    module_id: Mapped[ContentId] = mapped_column(index=True)
    status: Mapped[ModuleStatus] = mapped_column(enum_column(ModuleStatus))
    first_opened_at: Mapped[Timestamp]
    last_viewed_at: Mapped[Timestamp]
    completed_at: Mapped[OptionalTimestamp]
    best_score: Mapped[int | None]
    updated_at: Mapped[ChangedAt]


class QuizAttempt(Base):
    """One submitted attempt at a quiz, stored whole with the revision and pass mark it was judged by."""

    __tablename__ = "quiz_attempts"
    __table_args__ = (
        # Also the attempts of the learners whose contribution is counted, read from the index alone.
        Index("ix_quiz_attempts_user_module", "user_id", "module_id", postgresql_include=["created_at", "score", "passed", "first_try"]),
        # First attempts per learner and quiz on the HR dashboard.
        Index("ix_quiz_attempts_user_quiz", "user_id", "quiz_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    module_id: Mapped[ContentId]
    quiz_id: Mapped[ContentId]
    revision_id: Mapped[int] = mapped_column(ForeignKey("module_revisions.id"), index=True)
    question_ids: Mapped[list[Any]]
    answers: Mapped[dict[str, Any]]
    results: Mapped[list[Any]]
    score: Mapped[int]
    pass_mark: Mapped[int]
    passed: Mapped[bool]
    # The learner's first attempt at this quiz: the first-try pass rate counts these.
    first_try: Mapped[bool] = mapped_column(default=False, server_default=text("false"))
    created_at: Mapped[Timestamp]
    # Its answers (QuestionAnswer) are written with it and never alone: this marks the learner for both.
    updated_at: Mapped[ChangedAt]


class LoginFailure(Base):
    """A failed login, counted per account and per address to throttle guessing."""

    __tablename__ = "login_failures"
    __table_args__ = (Index("ix_login_failures_key_at", "key", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(300))
    at: Mapped[Timestamp]


class MentorProfile(Base):
    """What learners see of a mentor before booking: themes led, sites, languages, a short introduction."""

    __tablename__ = "mentor_profiles"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    themes: Mapped[list[Any]]
    sites: Mapped[list[Any]]
    languages: Mapped[list[Any]]
    introduction: Mapped[str] = mapped_column(Text, default="")


class SessionStatus(enum.StrEnum):
    """A live session is scheduled until it is cancelled."""

    SCHEDULED = "scheduled"
    CANCELLED = "cancelled"


class LiveSession(Base):
    """A live mentor session. `uid` never changes and `sequence` rises with every change, for calendars."""

    __tablename__ = "live_sessions"
    __table_args__ = (
        CheckConstraint("seats_taken >= 0 AND seats_taken <= capacity", name="seats_within_capacity"),
        CheckConstraint("capacity >= 1 AND capacity <= 15", name="capacity_range"),
        Index("ix_live_sessions_theme_starts", "theme_id", "starts_at"),
        Index("ix_live_sessions_status_starts", "status", "starts_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    uid: Mapped[str] = mapped_column(String(100), unique=True)
    theme_id: Mapped[ContentId] = mapped_column(ForeignKey("themes.id"))
    format: Mapped[SessionFormat] = mapped_column(enum_column(SessionFormat))
    capacity: Mapped[int]
    seats_taken: Mapped[int] = mapped_column(default=0)
    # Kept by app.sessions.figures as attendance is recorded, so that the HR dashboard sums sessions without their bookings.
    seats_attended: Mapped[int] = mapped_column(default=0, server_default=text("0"))
    no_shows: Mapped[int] = mapped_column(default=0, server_default=text("0"))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    duration_minutes: Mapped[int]
    time_zone: Mapped[str] = mapped_column(String(60), default="Europe/Paris")
    site: Mapped[str | None] = mapped_column(String(80))
    room: Mapped[str | None] = mapped_column(String(120))
    video_url: Mapped[str | None] = mapped_column(String(500))
    note: Mapped[str | None] = mapped_column(Text)
    status: Mapped[SessionStatus] = mapped_column(enum_column(SessionStatus), default=SessionStatus.SCHEDULED)
    sequence: Mapped[int] = mapped_column(default=0)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[Timestamp]
    updated_at: Mapped[Timestamp]

    hosts: Mapped[list[SessionHost]] = relationship(back_populates="session", cascade="all, delete-orphan", order_by="SessionHost.position")
    # Read-only: the theme is set through `theme_id`; this only loads its title for e-mail and invitations.
    theme: Mapped[ThemeRecord] = relationship(viewonly=True)

    @property
    def host_ids(self) -> frozenset[int]:
        """The mentors who lead the session."""
        return frozenset(host.mentor_id for host in self.hosts)


class SessionHost(Base):
    """A mentor leading a session; the first is the organiser."""

    __tablename__ = "session_hosts"

    session_id: Mapped[int] = mapped_column(ForeignKey("live_sessions.id"), primary_key=True)
    mentor_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True, index=True)
    position: Mapped[int] = mapped_column(default=0)

    session: Mapped[LiveSession] = relationship(back_populates="hosts")
    mentor: Mapped[User] = relationship()


class BookingStatus(enum.StrEnum):
    """A seat held, a place in the queue, or given up."""

    CONFIRMED = "confirmed"
    WAITLISTED = "waitlisted"
    CANCELLED = "cancelled"


class Attendance(enum.StrEnum):
    """What the mentor recorded after the session."""

    ATTENDED = "attended"
    NO_SHOW = "no_show"


class Booking(Base):
    """A learner's seat (or place on the waiting list) in a session; one active booking per learner and session."""

    __tablename__ = "bookings"
    __table_args__ = (
        # A cancelled booking does not stop the learner from booking the same session again.
        Index(
            "uq_bookings_active_learner_session",
            "session_id",
            "learner_id",
            unique=True,
            sqlite_where=text("status != 'cancelled'"),
            postgresql_where=text("status != 'cancelled'"),
        ),
        Index("ix_bookings_learner_status", "learner_id", "status"),
        Index("ix_bookings_session_status", "session_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("live_sessions.id"), index=True)
    learner_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    status: Mapped[BookingStatus] = mapped_column(enum_column(BookingStatus))
    attendance: Mapped[Attendance | None] = mapped_column(enum_column(Attendance))
    created_at: Mapped[Timestamp]
    confirmed_at: Mapped[OptionalTimestamp]
    cancelled_at: Mapped[OptionalTimestamp]
    updated_at: Mapped[ChangedAt]

    session: Mapped[LiveSession] = relationship()
    learner: Mapped[User] = relationship()


class ReachedLearner(Base):
    """A learner who attended a held session, once per site of the session's mentors (see app.sessions.figures).

    The HR dashboard counts the distinct learners each site's mentors reached from this narrow table alone.
    """

    __tablename__ = "reached_learners"
    __table_args__ = (
        PrimaryKeyConstraint("site", "learner_id", "session_id", postgresql_include=["starts_at", "theme_id"]),
        Index("ix_reached_learners_session", "session_id"),
    )

    site: Mapped[str] = mapped_column(String(80), primary_key=True)
    learner_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("live_sessions.id"), primary_key=True)
    theme_id: Mapped[ContentId]
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Notification(Base):
    """A message for one person, shown in the app whether or not e-mail is configured."""

    __tablename__ = "notifications"
    __table_args__ = (Index("ix_notifications_user_created", "user_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    session_id: Mapped[int | None] = mapped_column(ForeignKey("live_sessions.id"))
    kind: Mapped[str] = mapped_column(String(40))
    message: Mapped[str] = mapped_column(Text)
    created_at: Mapped[Timestamp]
    read_at: Mapped[OptionalTimestamp]


class ReminderSent(Base):
    """A reminder recorded before it is sent, so that a rerun never sends it twice."""

    __tablename__ = "reminders_sent"
    __table_args__ = (UniqueConstraint("booking_id", "kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    booking_id: Mapped[int] = mapped_column(ForeignKey("bookings.id"))
    kind: Mapped[str] = mapped_column(String(20))
    sent_at: Mapped[Timestamp]


class SessionFeedback(Base):
    """The programme's questionnaire, answered once per attended booking."""

    __tablename__ = "session_feedback"
    __table_args__ = (
        CheckConstraint("satisfaction BETWEEN 1 AND 5", name="satisfaction_range"),
        Index("ix_session_feedback_created_at", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    booking_id: Mapped[int] = mapped_column(ForeignKey("bookings.id"), unique=True)
    satisfaction: Mapped[int]
    format_best_suited: Mapped[bool]
    changed_daily_usage: Mapped[bool]
    would_recommend: Mapped[bool]
    comment: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[Timestamp]
    updated_at: Mapped[ChangedAt]


class QuestionAnswer(Base):
    """One answer to one question in an attempt, kept as a row so that statistics are SQL aggregates.

    `answer_key` names what was answered in words (the chosen choices' text, or the folded typed text), so that
    the same wrong answer is counted together across revisions.
    """

    __tablename__ = "question_answers"
    __table_args__ = (
        Index("ix_question_answers_module_question", "module_id", "question_id"),
        # First-try answers of the learners whose contribution is counted, read from the index alone.
        Index(
            "ix_question_answers_first_try",
            "user_id",
            postgresql_include=["module_id", "question_id", "correct", "created_at"],
            postgresql_where=text("first_try"),
            sqlite_where=text("first_try"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    attempt_id: Mapped[int] = mapped_column(ForeignKey("quiz_attempts.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    module_id: Mapped[ContentId]
    quiz_id: Mapped[ContentId]
    question_id: Mapped[ContentId]
    answer_key: Mapped[str] = mapped_column(String(300))
    correct: Mapped[bool]
    first_try: Mapped[bool]
    created_at: Mapped[Timestamp]


class MediaFile(Base):
    """An image uploaded for a module, stored with the type read from its content."""

    __tablename__ = "media_files"

    id: Mapped[int] = mapped_column(primary_key=True)
    module_id: Mapped[ContentId] = mapped_column(index=True)
    filename: Mapped[str] = mapped_column(String(200))
    content_type: Mapped[str] = mapped_column(String(40))
    size: Mapped[int]
    sha256: Mapped[str] = mapped_column(String(64))
    data: Mapped[bytes] = mapped_column(LargeBinary)
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[Timestamp]


class ImportStatus(enum.StrEnum):
    """Where a people import stands: waiting for a worker, being checked, being applied, then finished one way or another."""

    QUEUED = "queued"
    CHECKING = "checking"
    IMPORTING = "importing"
    DONE = "done"
    REFUSED = "refused"
    FAILED = "failed"

    @property
    def is_finished(self) -> bool:
        """True once nothing more will happen to the import."""
        return self in (ImportStatus.DONE, ImportStatus.REFUSED, ImportStatus.FAILED)

    @property
    def label(self) -> str:
        """The status in words."""
        return IMPORT_STATUS_LABELS[self]


IMPORT_STATUS_LABELS = {
    ImportStatus.QUEUED: "Waiting to start",
    ImportStatus.CHECKING: "Checking the file",
    ImportStatus.IMPORTING: "Importing",
    ImportStatus.DONE: "Imported",
    ImportStatus.REFUSED: "Refused: problems to correct",
    ImportStatus.FAILED: "Could not finish",
}


class PeopleImport(Base):
    """A people file sent by HR, checked and applied by a background job; the file is dropped once it is done.

    `problems` holds the reasons a refused file was not imported, as [line, field, message] lists; `awaiting_ids`
    the accounts the import left without a password, who each need a set-password link.
    """

    __tablename__ = "people_imports"
    __table_args__ = (Index("ix_people_imports_created_by_created_at", "created_by_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    filename: Mapped[str] = mapped_column(String(200))
    allow_admin: Mapped[bool]
    status: Mapped[ImportStatus] = mapped_column(enum_column(ImportStatus), default=ImportStatus.QUEUED)
    data: Mapped[bytes | None] = mapped_column(LargeBinary)
    people_total: Mapped[int] = mapped_column(default=0)
    people_applied: Mapped[int] = mapped_column(default=0)
    created_count: Mapped[int] = mapped_column(default=0)
    updated_count: Mapped[int] = mapped_column(default=0)
    problems: Mapped[list[Any] | None]
    problem_count: Mapped[int] = mapped_column(default=0)
    awaiting_ids: Mapped[list[Any] | None]
    created_at: Mapped[Timestamp]
    updated_at: Mapped[Timestamp]
    finished_at: Mapped[OptionalTimestamp]


class EmailStatus(enum.StrEnum):
    """Where an e-mail stands: waiting to be sent (again), being handed to the server, sent, or given up."""

    QUEUED = "queued"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"


class OutboundEmail(Base):
    """An e-mail recorded in the transaction that calls for it, then sent by a job, once, under its idempotency key."""

    __tablename__ = "outbound_emails"
    __table_args__ = (Index("ix_outbound_emails_status_created_at", "status", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(120), unique=True)
    recipient: Mapped[str] = mapped_column(String(400))
    subject: Mapped[str] = mapped_column(String(300))
    text: Mapped[str] = mapped_column(Text)
    calendar: Mapped[bytes | None] = mapped_column(LargeBinary)
    calendar_method: Mapped[str | None] = mapped_column(String(10))
    status: Mapped[EmailStatus] = mapped_column(enum_column(EmailStatus), default=EmailStatus.QUEUED)
    attempts: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[Timestamp]
    claimed_at: Mapped[OptionalTimestamp]
    sent_at: Mapped[OptionalTimestamp]


class EmailAttempt(Base):
    """One try at handing an e-mail to the mail server, and how it went."""

    __tablename__ = "email_attempts"

    id: Mapped[int] = mapped_column(primary_key=True)
    email_id: Mapped[int] = mapped_column(ForeignKey("outbound_emails.id"), index=True)
    succeeded: Mapped[bool]
    error: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[Timestamp]
