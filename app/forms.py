"""Forms, validated on the server; every one carries a CSRF token."""

from __future__ import annotations

import re
from typing import Any

from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import (
    BooleanField,
    DateField,
    EmailField,
    IntegerField,
    PasswordField,
    RadioField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
    TimeField,
)
from wtforms.validators import DataRequired, EqualTo, InputRequired, Length, NumberRange, Optional, ValidationError

from .bounds import SESSION_DAY, FitsIn, column_length
from .models import LiveSession, User

PASSWORD_MIN = 10
# One @, no spaces, a dot in the domain: what a mistyped address breaks. Intranet domains are accepted as they are.
EMAIL_RE = re.compile(r"^[^@\s]{1,64}@[^@\s.]+(\.[^@\s.]+)+$")
PASSWORD_MAX = 128
EMAIL_MAX = column_length(User.email)
NAME_MAX = column_length(User.name)
DEPARTMENT_MAX = column_length(User.department)
# Free text kept in unbounded columns: long enough for what it is for, short enough to read.
NOTE_MAX = 2000
INTRODUCTION_MAX = 1000
LANGUAGES_MAX = 200


def is_email_address(text: str) -> bool:
    """True when `text` has the shape of an e-mail address."""
    return EMAIL_RE.match(text.strip()) is not None


class EmptyForm(FlaskForm):
    """A form with only its CSRF token, for one-button actions."""


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


class ImportForm(FlaskForm):
    """The HR system's people file."""

    file = FileField("CSV file exported from the HR system")


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


def _choices(pairs: list[tuple[str, str]]) -> list[SelectChoice]:
    return [SelectChoice(value, label) for value, label in pairs]


class SessionForm(FlaskForm):
    """A mentor publishes or changes a live session; times are entered in the site's time zone."""

    theme_id = SelectField("Theme", validators=[DataRequired(message="Choose a theme.")])
    format = RadioField(
        "Format",
        choices=_choices([("collective", "Group session (2 to 15 people)"), ("individual", "One to one (a mentor and one mentee)")]),
        default="collective",
        validators=[DataRequired(message="Choose a format.")],
    )
    seats = IntegerField("Seats (group sessions)", default=8, validators=[Optional(), NumberRange(min=2, max=15, message="A group session has from 2 to 15 seats.")])
    day = DateField("Date", validators=[InputRequired(message="Enter the date."), SESSION_DAY])
    start_time = TimeField("Start time", validators=[InputRequired(message="Enter the start time.")])
    duration_minutes = IntegerField(
        "Duration in minutes", default=90, validators=[InputRequired(), NumberRange(min=60, max=120, message="A session lasts from 60 to 120 minutes.")]
    )
    site = SelectField("Site", validators=[Optional()])
    room = StringField("Room", validators=[Optional(), FitsIn(column_length(LiveSession.room))])
    video_url = StringField("Video link (instead of a room)", validators=[Optional(), FitsIn(column_length(LiveSession.video_url))])
    note = TextAreaField("Note for participants (optional)", validators=[Optional(), FitsIn(NOTE_MAX)])
    co_hosts = SelectMultipleField("Co-hosting mentors (group sessions, up to two)", coerce=int, validators=[Optional()])

    def __init__(self, themes: list[tuple[str, str]], sites: tuple[str, ...], mentors: list[tuple[int, str]], *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.theme_id.choices = _choices([("", "Choose a theme"), *themes])
        self.site.choices = _choices([("", "No site: online session"), *((s, s) for s in sites)])
        self.co_hosts.choices = [SelectChoice(mentor_id, name) for mentor_id, name in mentors]


class FeedbackForm(FlaskForm):
    """The programme's questionnaire after a session."""

    satisfaction = RadioField(
        "Overall, how satisfied are you with this session?",
        choices=_choices([("5", "5 - Very satisfied"), ("4", "4"), ("3", "3"), ("2", "2"), ("1", "1 - Not satisfied")]),
        validators=[DataRequired(message="Choose a score from 1 to 5.")],
    )
    format_best_suited = RadioField(
        "Is this mentoring format the best suited for me?", choices=_choices([("yes", "Yes"), ("no", "No")]), validators=[DataRequired(message="Answer yes or no.")]
    )
    changed_daily_usage = RadioField(
        "Have I changed my daily digital usage?", choices=_choices([("yes", "Yes"), ("no", "No")]), validators=[DataRequired(message="Answer yes or no.")]
    )
    would_recommend = RadioField(
        "Would I recommend it to a colleague?", choices=_choices([("yes", "Yes"), ("no", "No")]), validators=[DataRequired(message="Answer yes or no.")]
    )
    comment = TextAreaField("Comment (optional)", validators=[Optional(), FitsIn(NOTE_MAX)])


class PersonForm(FlaskForm):
    """An administrator edits a person's place in the organisation."""

    site = SelectField("Site", validators=[DataRequired()])
    department = StringField("Department", validators=[Optional(), FitsIn(DEPARTMENT_MAX)])
    manager_email = EmailField("Manager's e-mail address (empty for none)", validators=[Optional(), FitsIn(EMAIL_MAX)])

    def __init__(self, sites: tuple[str, ...], *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.site.choices = _choices([(s, s) for s in sites])


class MentorProfileForm(FlaskForm):
    """What learners see of a mentor."""

    themes = SelectMultipleField("Themes I lead", validators=[Optional()])
    sites = SelectMultipleField("Sites where I meet people", validators=[Optional()])
    languages = StringField("Languages (comma-separated)", default="English", validators=[Optional(), FitsIn(LANGUAGES_MAX)])
    introduction = TextAreaField("A short introduction", validators=[Optional(), FitsIn(INTRODUCTION_MAX)])

    def __init__(self, themes: list[tuple[str, str]], sites: tuple[str, ...], *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.themes.choices = _choices(themes)
        self.sites.choices = _choices([(s, s) for s in sites])
