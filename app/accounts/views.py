"""Accounts: registration, sign-in with throttling, sign-out and password change."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_user, logout_user
from sqlalchemy import func, select
from werkzeug.wrappers import Response

from ..extensions import db
from ..forms import EmptyForm
from ..models import Role, User, utcnow
from ..security import (
    clear_login_failures,
    hash_password,
    is_login_throttled,
    is_safe_next,
    needs_rehash,
    record_login_failure,
    verify_password,
)
from .forms import LoginForm, PasswordChangeForm, RegisterForm, SetPasswordForm
from .tokens import user_for_token

blueprint = Blueprint("auth", __name__)
LOGIN_FAILED = "The e-mail address or the password is not right. Please check both and try again."
THROTTLED = (
    "Too many unsuccessful attempts to sign in. For your security, please wait 15 minutes before trying again, "
    "or ask your programme coordinator to help you."
)


def load_user(user_id: str) -> User | None:
    """The user a session refers to, unless the account is inactive or its password changed since."""
    raw_id, _, version = user_id.partition(".")
    if not raw_id.isdigit() or not version.isdigit():
        return None
    user = db.session.get(User, int(raw_id))
    if user is None or user.auth_version != int(version) or not user.active:
        return None
    return user


def find_user_by_email(email: str) -> User | None:
    """The account with this e-mail address, whatever its case."""
    return db.session.scalar(select(User).where(func.lower(User.email) == email.strip().lower()))


def _next_page() -> str:
    target = request.args.get("next")
    return target if target and is_safe_next(target) else url_for("learn.home")


@blueprint.route("/login", methods=["GET", "POST"])
def login() -> ResponseReturnValue:
    """Sign in with e-mail and password."""
    if current_user.is_authenticated:
        return redirect(_next_page())
    form = LoginForm()
    if not form.validate_on_submit():
        status = 400 if request.method == "POST" else 200
        return render_template("auth/login.html", form=form), status
    email, address = form.email.data or "", request.remote_addr
    if is_login_throttled(email, address):
        return render_template("auth/login.html", form=form, error=THROTTLED), 429, {"Retry-After": "900"}
    user = find_user_by_email(email)
    if not verify_password(user.password_hash if user else None, form.password.data or "") or user is None or not user.active:
        record_login_failure(email, address)
        return render_template("auth/login.html", form=form, error=LOGIN_FAILED), 401
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(form.password.data or "")
    clear_login_failures(email)
    user.last_login_at = utcnow()
    session.clear()  # a fresh session at sign-in: nothing planted before it survives
    login_user(user, remember=bool(form.remember.data))
    return redirect(_next_page())


@blueprint.route("/register", methods=["GET", "POST"])
def register() -> ResponseReturnValue:
    """Create a learner account."""
    if current_user.is_authenticated:
        return redirect(url_for("learn.home"))
    form = RegisterForm(current_app.config["SITES"])
    if not form.validate_on_submit():
        return render_template("auth/register.html", form=form), 400 if request.method == "POST" else 200
    email = (form.email.data or "").strip().lower()
    if find_user_by_email(email) is not None:
        form.email.errors = [*form.email.errors, "An account with this e-mail address already exists. Sign in instead."]
        return render_template("auth/register.html", form=form), 400
    user = User(
        email=email,
        name=(form.name.data or "").strip(),
        password_hash=hash_password(form.password.data or ""),
        site=form.site.data or "",
        department=(form.department.data or "").strip() or None,
        role=Role.LEARNER,
    )
    db.session.add(user)
    db.session.flush()
    session.clear()
    login_user(user)
    flash(f"Welcome, {user.name}! Your account is ready. Start with the first theme below.", "success")
    return redirect(url_for("learn.home"))


@blueprint.route("/logout", methods=["POST"])
def logout() -> Response:
    """Sign out (a POST with its CSRF token, so that no other site can sign you out)."""
    form = EmptyForm()
    if form.validate_on_submit():
        logout_user()
        session.clear()
        flash("You are signed out.", "info")
    return redirect(url_for("auth.login"))


@blueprint.route("/account/password", methods=["GET", "POST"])
def change_password() -> ResponseReturnValue:
    """Change one's own password; every other session is signed out."""
    form = PasswordChangeForm()
    if not form.validate_on_submit():
        return render_template("auth/password.html", form=form), 400 if request.method == "POST" else 200
    user: User = current_user
    if not verify_password(user.password_hash, form.current.data or ""):
        form.current.errors = [*form.current.errors, "This is not your current password."]
        return render_template("auth/password.html", form=form), 400
    user.password_hash = hash_password(form.password.data or "")
    user.auth_version += 1
    db.session.flush()
    login_user(user)  # keep this session, with the new version
    flash("Your password has been changed. Other devices where you were signed in are now signed out.", "success")
    return redirect(url_for("learn.home"))


@blueprint.route("/set-password/<token>", methods=["GET", "POST"])
def set_password(token: str) -> ResponseReturnValue:
    """Choose a first password from the link HR gave; the link works once, for 7 days."""
    user = user_for_token(db.session, token, current_app.config["SECRET_KEY"])
    if user is None:
        abort(400, description="This link is not valid: it has expired or was already used. Ask HR for a new one, or sign in.")
    form = SetPasswordForm()
    if not form.validate_on_submit():
        return render_template("auth/set_password.html", form=form, user=user), 400 if request.method == "POST" else 200
    user.password_hash = hash_password(form.password.data or "")
    user.auth_version += 1  # the link is dead from now on, and so is any session opened before
    flash("Your password is set. Sign in with your e-mail address and your new password.", "success")
    return redirect(url_for("auth.login"))
