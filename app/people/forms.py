"""The administrator's and HR's forms about people; every one carries a CSRF token."""

from __future__ import annotations

from typing import Any

from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import (
    EmailField,
    SelectChoice,
    SelectField,
    StringField,
)
from wtforms.validators import DataRequired, Optional

from ..bounds import FitsIn
from ..forms import (
    DEPARTMENT_MAX,
    EMAIL_MAX,
    choices,
)


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


class PersonForm(FlaskForm):
    """An administrator edits a person's place in the organisation."""

    site = SelectField("Site", validators=[DataRequired()])
    department = StringField("Department", validators=[Optional(), FitsIn(DEPARTMENT_MAX)])
    manager_email = EmailField("Manager's e-mail address (empty for none)", validators=[Optional(), FitsIn(EMAIL_MAX)])

    def __init__(self, sites: tuple[str, ...], *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.site.choices = choices([(s, s) for s in sites])
