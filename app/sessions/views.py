"""Learners and live sessions: find one, book it, cancel it, add it to a calendar, say how it went."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from flask import Blueprint, Response, abort, current_app, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session, contains_eager

from ..bounds import database_int
from ..extensions import db
from ..forms import EmptyForm
from ..models import (
    Attendance,
    Booking,
    BookingStatus,
    LiveSession,
    MentorProfile,
    SessionFeedback,
    SessionStatus,
    ThemeRecord,
    User,
    utcnow,
)
from ..notifications.calendar import invitation
from ..notifications.inbox import latest_notifications, mark_read
from ..security import signed_in_user
from .booking import ACTIVE, BookingError, FeedbackAnswers, book_seat, cancel_booking, record_feedback
from .forms import FeedbackForm
from .listing import listed_sessions, my_booking_of, session_filters

blueprint = Blueprint("sessions", __name__)
STATUS_FOR_REFUSAL = {"full": 409, "already_booked": 409, "overlap": 409, "too_many_bookings": 409}


def get_session_or_404(session_id: int) -> LiveSession:
    """A live session, or a 404 page."""
    live_session = db.session.get(LiveSession, session_id)
    if live_session is None:
        abort(404, description="There is no such live session. Choose one from the list of sessions.")
    return live_session


def get_booking_or_404(booking_id: int, owner: User) -> Booking:
    """One of `owner`'s bookings; anybody else's is reported as not found."""
    booking = db.session.get(Booking, booking_id)
    if booking is None or booking.learner_id != owner.id:
        abort(404, description="There is no such booking.")
    return booking


def site_zone() -> ZoneInfo:
    """The time zone times are shown in."""
    return ZoneInfo(current_app.config["TIME_ZONE"])


@blueprint.route("/sessions")
def index() -> str:
    """Every live session in the coming weeks, filtered by theme, site and format."""
    theme_id = request.args.get("theme") or None
    site, session_format = session_filters()
    themes = list(db.session.scalars(select(ThemeRecord).order_by(ThemeRecord.position)))
    weeks = current_app.config["SESSION_LISTING_WEEKS"]
    sessions, mine = listed_sessions(db.session, signed_in_user().id, utcnow(), weeks, theme_id, site, session_format)
    return render_template(
        "sessions/index.html",
        sessions=sessions,
        themes=themes,
        theme_titles={t.id: t.title for t in themes},
        mine=mine,
        selected={"theme": theme_id or "", "site": site or "", "format": session_format.value if session_format else ""},
        sites=current_app.config["SITES"],
        form=EmptyForm(),
    )


def _render_detail(live_session: LiveSession, error: str | None = None) -> str:
    profiles = {p.user_id: p for p in db.session.scalars(select(MentorProfile).where(MentorProfile.user_id.in_(live_session.host_ids)))}
    return render_template(
        "sessions/detail.html",
        live_session=live_session,
        theme=db.session.get(ThemeRecord, live_session.theme_id),
        profiles=profiles,
        mine=my_booking_of(db.session, signed_in_user().id, live_session.id),
        error=error,
        form=EmptyForm(),
    )


@blueprint.route("/sessions/<int:session_id>")
def detail(session_id: int) -> str:
    """One session: what, when, where, who leads it, seats left, and the button to book."""
    return _render_detail(get_session_or_404(session_id))


@blueprint.route("/sessions/<int:session_id>/book", methods=["POST"])
def book(session_id: int) -> ResponseReturnValue:
    """Book a seat, or join the waiting list of a full group session."""
    live_session = get_session_or_404(session_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    try:
        booking = book_seat(db.session, signed_in_user(), live_session.id)
    except BookingError as refusal:
        db.session.rollback()
        return _render_detail(get_session_or_404(session_id), refusal.message), STATUS_FOR_REFUSAL.get(refusal.refusal.value, 403)
    if booking.status is BookingStatus.CONFIRMED:
        flash("Your seat is booked. Add it to your calendar with the invitation below.", "success")
    else:
        flash("The last seat was just taken: you are on the waiting list. If a seat frees up, it is yours and we tell you.", "info")
    return redirect(url_for("sessions.mine"))


def my_bookings(session: Session, learner_id: int, now: datetime) -> tuple[list[Booking], list[Booking]]:
    """The learner's bookings still to come (soonest first) and the sessions they held a seat in (latest booked first).

    Cancelled bookings and cancelled sessions are left out in the query: a learner who booked and cancelled often
    has a long history that this page never shows.
    """
    rows = session.scalars(
        select(Booking)
        .join(LiveSession, LiveSession.id == Booking.session_id)
        .where(
            Booking.learner_id == learner_id,
            LiveSession.status == SessionStatus.SCHEDULED,
            or_(
                and_(Booking.status.in_(ACTIVE), LiveSession.starts_at > now),
                and_(Booking.status == BookingStatus.CONFIRMED, LiveSession.starts_at <= now),
            ),
        )
        .options(contains_eager(Booking.session))
        .order_by(Booking.created_at.desc())
    ).all()
    upcoming = sorted((b for b in rows if b.session.starts_at > now), key=lambda b: b.session.starts_at)
    past = [b for b in rows if b.session.starts_at <= now]
    return upcoming, past


@blueprint.route("/my-sessions")
def mine() -> str:
    """The learner's bookings, coming and past, and what changed lately; reading it changes nothing."""
    user = signed_in_user()
    upcoming, past = my_bookings(db.session, user.id, utcnow())
    themes: dict[str, str] = dict(db.session.execute(select(ThemeRecord.id, ThemeRecord.title)).all())
    answered = set(
        db.session.scalars(select(SessionFeedback.booking_id).join(Booking, Booking.id == SessionFeedback.booking_id).where(Booking.learner_id == user.id))
    )
    return render_template(
        "sessions/mine.html",
        upcoming=upcoming,
        past=past,
        notifications=latest_notifications(db.session, user.id),
        themes=themes,
        answered=answered,
    )


@blueprint.route("/notifications/read", methods=["POST"])
def read_notifications() -> ResponseReturnValue:
    """Mark the notifications the page showed as read, so that the home page stops listing them."""
    if not EmptyForm().validate_on_submit():
        abort(400)
    through = request.form.get("through", type=database_int)
    if through is None:
        abort(400, description="Reload the page and press the button again.")
    mark_read(db.session, signed_in_user().id, through)
    back = url_for("learn.home") if request.form.get("back") == "home" else url_for("sessions.mine")
    return redirect(back, 303)


@blueprint.route("/bookings/<int:booking_id>/cancel", methods=["POST"])
def cancel(booking_id: int) -> ResponseReturnValue:
    """Give up a seat or a place on the waiting list."""
    booking = get_booking_or_404(booking_id, signed_in_user())
    if not EmptyForm().validate_on_submit():
        abort(400)
    try:
        cancel_booking(db.session, signed_in_user(), booking)
    except BookingError as refusal:
        db.session.rollback()
        flash(refusal.message, "error")
        return redirect(url_for("sessions.mine")), 303
    flash("Your booking is cancelled.", "success")
    return redirect(url_for("sessions.mine"))


@blueprint.route("/bookings/<int:booking_id>/invitation.ics")
def invitation_file(booking_id: int) -> Response:
    """The booking's calendar invitation: a request, or a cancellation once the booking or session is cancelled."""
    booking = get_booking_or_404(booking_id, signed_in_user())
    live_session = booking.session
    cancelled = booking.status is BookingStatus.CANCELLED or live_session.status is SessionStatus.CANCELLED
    method = "CANCEL" if cancelled else "REQUEST"
    theme = db.session.get(ThemeRecord, live_session.theme_id)
    body = invitation(live_session, theme.title if theme else live_session.theme_id, signed_in_user(), method)
    return Response(
        body,
        mimetype="text/calendar",
        headers={
            "Content-Type": f"text/calendar; charset=utf-8; method={method}",
            "Content-Disposition": f'attachment; filename="speak-digital-session-{live_session.id}.ics"',
        },
    )


@blueprint.route("/bookings/<int:booking_id>/feedback", methods=["GET", "POST"])
def feedback(booking_id: int) -> ResponseReturnValue:
    """The programme's questionnaire, once per attended session."""
    booking = get_booking_or_404(booking_id, signed_in_user())
    if booking.attendance is not Attendance.ATTENDED:
        abort(403, description="The questionnaire opens once your mentor has recorded that you attended the session.")
    form = FeedbackForm()
    if not form.validate_on_submit():
        return render_template("sessions/feedback.html", form=form, booking=booking), 400 if request.method == "POST" else 200
    answers = FeedbackAnswers(
        satisfaction=int(form.satisfaction.data or 0),
        format_best_suited=form.format_best_suited.data == "yes",
        changed_daily_usage=form.changed_daily_usage.data == "yes",
        would_recommend=form.would_recommend.data == "yes",
        comment=(form.comment.data or "").strip() or None,
    )
    try:
        record_feedback(db.session, booking, answers)
    except BookingError as refusal:
        db.session.rollback()
        flash(refusal.message, "info")
        return redirect(url_for("sessions.mine")), 303
    flash("Thank you for your answers: they help the programme.", "success")
    return redirect(url_for("sessions.mine"))
