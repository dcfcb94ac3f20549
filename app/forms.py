"""What every form shares: the CSRF-only form, e-mail and length rules, choices. Each area keeps its own forms."""

from __future__ import annotations

import re

from flask_wtf import FlaskForm
from wtforms import (
    SelectChoice,
)

from .bounds import column_length
from .models import User

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


def choices(pairs: list[tuple[str, str]]) -> list[SelectChoice]:
    """Select or radio choices from (value, label) pairs."""
    return [SelectChoice(value, label) for value, label in pairs]


