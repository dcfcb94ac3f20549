"""Live session forms: publishing a session, the programme's questionnaire, a mentor's profile."""

from __future__ import annotations

from typing import Any

from flask_wtf import FlaskForm
from wtforms import (
    DateField,
    IntegerField,
    RadioField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
    TimeField,
)
from wtforms.validators import DataRequired, InputRequired, NumberRange, Optional

from ..bounds import SESSION_DAY, FitsIn, column_length
from ..forms import (
    INTRODUCTION_MAX,
    LANGUAGES_MAX,
    NOTE_MAX,
    choices,
)
from ..models import LiveSession


class MentorsField(SelectMultipleField):
    """Mentors chosen from a list, by id; anything that is not an id says to choose from the list."""

    def process_formdata(self, valuelist: list[Any]) -> None:
        """The chosen ids, or a plain message when one of them is not a number."""
        try:
            super().process_formdata(valuelist)
        except ValueError as error:
            raise ValueError("Choose the co-hosts from the list of mentors.") from error


class SessionForm(FlaskForm):
    """A mentor publishes or changes a live session; times are entered in the site's time zone."""

    theme_id = SelectField("Theme", validators=[DataRequired(message="Choose a theme.")])
    format = RadioField(
        "Format",
        choices=choices([("collective", "Group session (2 to 15 people)"), ("individual", "One to one (a mentor and one mentee)")]),
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
    # No Optional(): it would clear the error of a value that is not a mentor, and leave no list at all.
    co_hosts = MentorsField("Co-hosting mentors (group sessions, up to two)", coerce=int)

    def __init__(self, themes: list[tuple[str, str]], sites: tuple[str, ...], mentors: list[tuple[int, str]], *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.theme_id.choices = choices([("", "Choose a theme"), *themes])
        self.site.choices = choices([("", "No site: online session"), *((s, s) for s in sites)])
        self.co_hosts.choices = [SelectChoice(mentor_id, name) for mentor_id, name in mentors]


class FeedbackForm(FlaskForm):
    """The programme's questionnaire after a session."""

    satisfaction = RadioField(
        "Overall, how satisfied are you with this session?",
        choices=choices([("5", "5 - Very satisfied"), ("4", "4"), ("3", "3"), ("2", "2"), ("1", "1 - Not satisfied")]),
        validators=[DataRequired(message="Choose a score from 1 to 5.")],
    )
    format_best_suited = RadioField(
        "Is this mentoring format the best suited for me?", choices=choices([("yes", "Yes"), ("no", "No")]), validators=[DataRequired(message="Answer yes or no.")]
    )
    changed_daily_usage = RadioField(
        "Have I changed my daily digital usage?", choices=choices([("yes", "Yes"), ("no", "No")]), validators=[DataRequired(message="Answer yes or no.")]
    )
    would_recommend = RadioField(
        "Would I recommend it to a colleague?", choices=choices([("yes", "Yes"), ("no", "No")]), validators=[DataRequired(message="Answer yes or no.")]
    )
    comment = TextAreaField("Comment (optional)", validators=[Optional(), FitsIn(NOTE_MAX)])


class MentorProfileForm(FlaskForm):
    """What learners see of a mentor."""

    themes = SelectMultipleField("Themes I lead", validators=[Optional()])
    sites = SelectMultipleField("Sites where I meet people", validators=[Optional()])
    languages = StringField("Languages (comma-separated)", default="English", validators=[Optional(), FitsIn(LANGUAGES_MAX)])
    introduction = TextAreaField("A short introduction", validators=[Optional(), FitsIn(INTRODUCTION_MAX)])

    def __init__(self, themes: list[tuple[str, str]], sites: tuple[str, ...], *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.themes.choices = choices(themes)
        self.sites.choices = choices([(s, s) for s in sites])
