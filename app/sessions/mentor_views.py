"""Mentors: their home, publishing and changing sessions, attendance, and their profile."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from course.sessions import (
    NonexistentLocalTimeError,
    SessionDraft,
    SessionFormat,
    local_to_utc,
    session_draft_problems,
    utc_to_local,
)

from ..extensions import db
from ..forms import EmptyForm
from ..models import (
    Attendance,
    Booking,
    BookingStatus,
    LiveSession,
    MentorProfile,
    Role,
    SessionHost,
    SessionStatus,
    ThemeRecord,
    User,
    utcnow,
)
from ..security import role_required, signed_in_user
from .booking import SessionDetails, cancel_session, change_session, publish_session, record_attendance
from .forms import MentorProfileForm, SessionForm

blueprint = Blueprint("mentor", __name__, url_prefix="/mentor")
MENTORING_ROLES = (Role.MENTOR, Role.ADMIN)


def get_hosted_session_or_404(session_id: int, mentor: User) -> LiveSession:
    """A session the mentor leads; anybody else's is reported as not found."""
    live_session = db.session.get(LiveSession, session_id)
    if live_session is None or mentor.id not in live_session.host_ids:
        abort(404, description="There is no such session among the sessions you lead.")
    return live_session


def _theme_choices() -> list[tuple[str, str]]:
    return [(t.id, t.title) for t in db.session.scalars(select(ThemeRecord).order_by(ThemeRecord.position))]


def _mentor_choices(excluding: int) -> list[tuple[int, str]]:
    mentors = db.session.scalars(select(User).where(User.role.in_(MENTORING_ROLES), User.id != excluding, User.active).order_by(User.name))
    return [(m.id, f"{m.name} ({m.site})") for m in mentors]


def _session_form(live_session: LiveSession | None = None) -> SessionForm:
    form = SessionForm(_theme_choices(), current_app.config["SITES"], _mentor_choices(signed_in_user().id))
    if live_session is not None and request.method == "GET":
        local = utc_to_local(live_session.starts_at, ZoneInfo(live_session.time_zone))
        form.theme_id.data = live_session.theme_id
        form.format.data = live_session.format.value
        form.seats.data = live_session.capacity
        form.day.data, form.start_time.data = local.date(), local.time()
        form.duration_minutes.data = live_session.duration_minutes
        form.site.data, form.room.data = live_session.site or "", live_session.room or ""
        form.video_url.data, form.note.data = live_session.video_url or "", live_session.note or ""
        form.co_hosts.data = [h.mentor_id for h in live_session.hosts if h.mentor_id != signed_in_user().id]
    return form


def _details_from(form: SessionForm, hosts: list[int]) -> tuple[SessionDetails | None, dict[str, str]]:
    """The session a valid form describes, or the problems by field."""
    zone = ZoneInfo(current_app.config["TIME_ZONE"])
    try:
        starts_at = local_to_utc(form.day.data, form.start_time.data, zone)
    except NonexistentLocalTimeError as gap:
        return None, {"start_time": str(gap)}
    session_format = SessionFormat(form.format.data)
    draft = SessionDraft(
        theme_id=form.theme_id.data or "",
        format=session_format,
        seats=1 if session_format is SessionFormat.INDIVIDUAL else int(form.seats.data or 0),
        starts_at=starts_at,
        duration_minutes=int(form.duration_minutes.data or 0),
        host_ids=tuple(hosts),
        site=form.site.data or None,
        room=(form.room.data or "").strip() or None,
        video_url=(form.video_url.data or "").strip() or None,
    )
    problems = session_draft_problems(draft, utcnow(), {theme_id for theme_id, _ in _theme_choices()})
    return (None, problems) if problems else (SessionDetails(draft, zone.key, (form.note.data or "").strip() or None), {})


# The rules name what is wrong; the form shows it beside the field a mentor fills in.
PROBLEM_FIELDS = {"starts_at": "day", "co_hosts": "co_hosts", "theme_id": "theme_id", "seats": "seats"}


def _show_problems(form: SessionForm, problems: dict[str, str]) -> None:
    for name, message in problems.items():
        field = getattr(form, PROBLEM_FIELDS.get(name, name))
        field.errors = [*field.errors, message]


@blueprint.route("/")
@role_required(*MENTORING_ROLES)
def home() -> str:
    """Upcoming sessions with their attendees, sessions waiting for attendance, hours mentored, learners reached."""
    mentor = signed_in_user()
    now = utcnow()
    hosted = list(
        db.session.scalars(
            select(LiveSession)
            .join(SessionHost, SessionHost.session_id == LiveSession.id)
            .where(SessionHost.mentor_id == mentor.id)
            .options(selectinload(LiveSession.hosts).selectinload(SessionHost.mentor))
            .order_by(LiveSession.starts_at)
        )
    )
    ids = [s.id for s in hosted]
    bookings = list(
        db.session.scalars(
            select(Booking).where(Booking.session_id.in_(ids), Booking.status != BookingStatus.CANCELLED).options(selectinload(Booking.learner))
        )
    )
    by_session: dict[int, list[Booking]] = {}
    for booking in bookings:
        by_session.setdefault(booking.session_id, []).append(booking)
    held = [s for s in hosted if s.status is SessionStatus.SCHEDULED and s.starts_at <= now]
    reached = db.session.scalar(
        select(func.count(func.distinct(Booking.learner_id))).where(Booking.session_id.in_([s.id for s in held]), Booking.attendance == Attendance.ATTENDED)
    )
    return render_template(
        "mentor/home.html",
        upcoming=[s for s in hosted if s.starts_at > now and s.status is SessionStatus.SCHEDULED],
        awaiting=[s for s in held if any(b.status is BookingStatus.CONFIRMED and b.attendance is None for b in by_session.get(s.id, []))],
        by_session=by_session,
        hours=round(sum(s.duration_minutes for s in held) / 60, 1),
        reached=reached or 0,
        themes={t.id: t.title for t in db.session.scalars(select(ThemeRecord))},
        form=EmptyForm(),
    )


@blueprint.route("/sessions/new", methods=["GET", "POST"])
@role_required(*MENTORING_ROLES)
def new_session() -> ResponseReturnValue:
    """Publish a session."""
    form = _session_form()
    if not form.validate_on_submit():
        return render_template("mentor/session_form.html", form=form, live_session=None), 400 if request.method == "POST" else 200
    details, problems = _details_from(form, [signed_in_user().id, *form.co_hosts.data])
    if details is None:
        _show_problems(form, problems)
        return render_template("mentor/session_form.html", form=form, live_session=None), 400
    live_session = publish_session(db.session, signed_in_user(), details)
    flash("Your session is published. Learners can book it now.", "success")
    return redirect(url_for("sessions.detail", session_id=live_session.id))


@blueprint.route("/sessions/<int:session_id>/edit", methods=["GET", "POST"])
@role_required(*MENTORING_ROLES)
def edit_session(session_id: int) -> ResponseReturnValue:
    """Change a session's time, place or note; the learners who booked are told."""
    live_session = get_hosted_session_or_404(session_id, signed_in_user())
    if live_session.status is SessionStatus.CANCELLED:
        abort(400, description="This session is cancelled and can no longer be changed. Publish a new one.")
    form = _session_form(live_session)
    form.theme_id.data, form.format.data, form.seats.data = live_session.theme_id, live_session.format.value, live_session.capacity
    if not form.validate_on_submit():
        return render_template("mentor/session_form.html", form=form, live_session=live_session), 400 if request.method == "POST" else 200
    details, problems = _details_from(form, [h.mentor_id for h in live_session.hosts])
    if details is None:
        _show_problems(form, problems)
        return render_template("mentor/session_form.html", form=form, live_session=live_session), 400
    changes = change_session(db.session, live_session, details)
    flash(f"Saved. Changed: {', '.join(changes)}. Everyone booked has been told." if changes else "Nothing changed.", "success")
    return redirect(url_for("mentor.home"))


@blueprint.route("/sessions/<int:session_id>/cancel", methods=["POST"])
@role_required(*MENTORING_ROLES)
def cancel(session_id: int) -> ResponseReturnValue:
    """Cancel a session; everyone booked is told."""
    live_session = get_hosted_session_or_404(session_id, signed_in_user())
    if not EmptyForm().validate_on_submit():
        abort(400)
    told = cancel_session(db.session, live_session)
    flash(f"The session is cancelled; {told} participant(s) told.", "success")
    return redirect(url_for("mentor.home"))


@blueprint.route("/sessions/<int:session_id>/attendance", methods=["GET", "POST"])
@role_required(*MENTORING_ROLES)
def attendance(session_id: int) -> ResponseReturnValue:
    """Mark who attended and who did not come, once the session has started."""
    live_session = get_hosted_session_or_404(session_id, signed_in_user())
    if live_session.starts_at > utcnow():
        abort(400, description="Attendance can be recorded once the session has started.")
    confirmed = list(
        db.session.scalars(
            select(Booking).where(Booking.session_id == live_session.id, Booking.status == BookingStatus.CONFIRMED).options(selectinload(Booking.learner))
        )
    )
    form = EmptyForm()
    if request.method == "POST":
        if not form.validate_on_submit():
            abort(400)
        marks: dict[int, Attendance] = {}
        for booking in confirmed:
            value = request.form.get(f"attendance-{booking.id}")
            if value not in {a.value for a in Attendance}:
                abort(400, description="Choose 'attended' or 'did not come' for every participant.")
            marks[booking.id] = Attendance(value)
        record_attendance(db.session, live_session, marks)
        flash("Attendance saved. Those who attended are asked for their feedback.", "success")
        return redirect(url_for("mentor.home"))
    return render_template("mentor/attendance.html", live_session=live_session, bookings=confirmed, form=form)


@blueprint.route("/profile", methods=["GET", "POST"])
@role_required(*MENTORING_ROLES)
def profile() -> ResponseReturnValue:
    """The mentor's profile, shown to learners on the sessions they lead."""
    mentor = signed_in_user()
    record = db.session.get(MentorProfile, mentor.id) or MentorProfile(user_id=mentor.id, themes=[], sites=[mentor.site], languages=["English"], introduction="")
    form = MentorProfileForm(_theme_choices(), current_app.config["SITES"])
    if request.method == "GET":
        form.themes.data, form.sites.data = record.themes, record.sites
        form.languages.data, form.introduction.data = ", ".join(record.languages), record.introduction
    if not form.validate_on_submit():
        return render_template("mentor/profile.html", form=form), 400 if request.method == "POST" else 200
    record.themes = list(form.themes.data or [])
    record.sites = list(form.sites.data or [])
    record.languages = [language.strip() for language in (form.languages.data or "").split(",") if language.strip()][:10]
    record.introduction = (form.introduction.data or "").strip()
    db.session.add(record)
    flash("Your profile is saved.", "success")
    return redirect(url_for("mentor.home"))
