"""Forms, validated on the server; every one carries a CSRF token."""

from __future__ import annotations

import re
from typing import Any

from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, PasswordField, SelectChoice, SelectField, StringField
from wtforms.validators import DataRequired, EqualTo, Length, Optional, ValidationError

PASSWORD_MIN = 10
# One @, no spaces, a dot in the domain: what a mistyped address breaks. Intranet domains are accepted as they are.
EMAIL_RE = re.compile(r"^[^@\s]{1,64}@[^@\s.]+(\.[^@\s.]+)+$")
PASSWORD_MAX = 128


def is_email_address(text: str) -> bool:
    """True when `text` has the shape of an e-mail address."""
    return EMAIL_RE.match(text.strip()) is not None


class EmptyForm(FlaskForm):
    """A form with only its CSRF token, for one-button actions."""


class LoginForm(FlaskForm):
    """E-mail and password."""

    email = EmailField("E-mail address", validators=[DataRequired(), Length(max=254)])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=PASSWORD_MAX)])
    remember = BooleanField("Keep me signed in on this computer")


class RegisterForm(FlaskForm):
    """A new learner's account."""

    name = StringField("Full name", validators=[DataRequired(message="Please enter your name."), Length(max=120)])
    email = EmailField(
        "Work e-mail address",
        validators=[DataRequired(message="Please enter your e-mail address."), Length(max=254)],
    )
    site = SelectField("Site", validators=[DataRequired(message="Please choose your site.")])
    department = StringField("Department (optional)", validators=[Optional(), Length(max=120)])
    password = PasswordField(
        "Password",
        description=f"At least {PASSWORD_MIN} characters. A few unrelated words make a strong, memorable password.",
        validators=[
            DataRequired(message="Please choose a password."),
            Length(min=PASSWORD_MIN, max=PASSWORD_MAX, message=f"Use {PASSWORD_MIN} to {PASSWORD_MAX} characters."),
        ],
    )
    confirm = PasswordField(
        "Password again", validators=[DataRequired(message="Please type the password again."), EqualTo("password", message="The two passwords differ.")]
    )

    def __init__(self, sites: tuple[str, ...], *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.site.choices = [SelectChoice("", "Choose your site"), *(SelectChoice(s, s) for s in sites)]

    def validate_email(self, field: EmailField) -> None:
        """An address of the form name@domain.example."""
        if not is_email_address(field.data or ""):
            raise ValidationError("This is not a valid e-mail address. It looks like name@company.com.")

    def validate_site(self, field: SelectField) -> None:
        """Only a listed site is accepted."""
        if not field.data or field.data not in {choice.value for choice in field.choices or []}:
            raise ValidationError("Please choose your site from the list.")


class PasswordChangeForm(FlaskForm):
    """Change one's own password."""

    current = PasswordField("Current password", validators=[DataRequired(), Length(max=PASSWORD_MAX)])
    password = PasswordField(
        "New password",
        description=f"At least {PASSWORD_MIN} characters.",
        validators=[DataRequired(), Length(min=PASSWORD_MIN, max=PASSWORD_MAX, message=f"Use {PASSWORD_MIN} to {PASSWORD_MAX} characters.")],
    )
    confirm = PasswordField("New password again", validators=[DataRequired(), EqualTo("password", message="The two passwords differ.")])


class RoleForm(FlaskForm):
    """An administrator gives someone a role."""

    role = SelectField(
        "Role",
        choices=[
            SelectChoice("learner", "Learner"),
            SelectChoice("mentor", "Mentor"),
            SelectChoice("hr", "HR"),
            SelectChoice("admin", "Administrator"),
        ],
    )
