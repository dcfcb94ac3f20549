"""Sign-in, registration and password forms, validated on the server; every one carries a CSRF token."""

from __future__ import annotations

from typing import Any

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    EmailField,
    PasswordField,
    SelectChoice,
    SelectField,
    StringField,
)
from wtforms.validators import DataRequired, EqualTo, Length, Optional, ValidationError

from ..bounds import FitsIn
from ..forms import (
    DEPARTMENT_MAX,
    EMAIL_MAX,
    NAME_MAX,
    PASSWORD_MAX,
    PASSWORD_MIN,
    is_email_address,
)


class LoginForm(FlaskForm):
    """E-mail and password."""

    email = EmailField("E-mail address", validators=[DataRequired(), FitsIn(EMAIL_MAX)])
    password = PasswordField("Password", validators=[DataRequired(), FitsIn(PASSWORD_MAX)])
    remember = BooleanField("Keep me signed in on this computer")


class RegisterForm(FlaskForm):
    """A new learner's account."""

    name = StringField("Full name", validators=[DataRequired(message="Please enter your name."), FitsIn(NAME_MAX)])
    email = EmailField(
        "Work e-mail address",
        validators=[DataRequired(message="Please enter your e-mail address."), FitsIn(EMAIL_MAX)],
    )
    site = SelectField("Site", validators=[DataRequired(message="Please choose your site.")])
    department = StringField("Department (optional)", validators=[Optional(), FitsIn(DEPARTMENT_MAX)])
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

    current = PasswordField("Current password", validators=[DataRequired(), FitsIn(PASSWORD_MAX)])
    password = PasswordField(
        "New password",
        description=f"At least {PASSWORD_MIN} characters.",
        validators=[DataRequired(), Length(min=PASSWORD_MIN, max=PASSWORD_MAX, message=f"Use {PASSWORD_MIN} to {PASSWORD_MAX} characters.")],
    )
    confirm = PasswordField("New password again", validators=[DataRequired(), EqualTo("password", message="The two passwords differ.")])


class SetPasswordForm(FlaskForm):
    """Choose a first password from the link HR gave."""

    password = PasswordField(
        "New password",
        description=f"At least {PASSWORD_MIN} characters. A few unrelated words make a strong, memorable password.",
        validators=[DataRequired(), Length(min=PASSWORD_MIN, max=PASSWORD_MAX, message=f"Use {PASSWORD_MIN} to {PASSWORD_MAX} characters.")],
    )
    confirm = PasswordField("New password again", validators=[DataRequired(), EqualTo("password", message="The two passwords differ.")])
