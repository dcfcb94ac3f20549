"""Input bounds in one place: what the database can hold and what makes sense, checked before anything is used.

PostgreSQL refuses an INTEGER outside 32 bits, a string longer than its VARCHAR(n) and any NUL character, with
an error that would end the request in a 500; SQLite stores all three without a word. The checks here hold both
databases to PostgreSQL's limits and answer in the visitor's terms: a 404 for an id in the address that no row
can have, a 400 naming the field and the real limit for anything typed or sent.
"""

from __future__ import annotations

import builtins
import functools
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

from flask import Flask, abort, current_app, request
from flask_wtf import FlaskForm
from sqlalchemy import BigInteger, Integer, String, event
from sqlalchemy.orm import InstrumentedAttribute
from werkzeug.routing import IntegerConverter, Map, UnicodeConverter
from wtforms import TextAreaField
from wtforms.fields.core import UnboundField
from wtforms.validators import ValidationError as FieldValidationError

from course.characters import CONTROL_CHARACTER_CLASS, code_point, forbidden_control_character

from .errors import render_error
from .models import Base, utcnow

DATABASE_INT_MIN = -(2**31)
DATABASE_INT_MAX = 2**31 - 1
# The HR figures begin with the programme; a period may reach as far ahead as sessions can be planned.
FIRST_REPORT_DAY = date(2000, 1, 1)
PLANNING_YEARS = 2
# Views that raise the upload limit before they read their form (the people import): reading it here first
# would apply the platform's 1 MB limit to them. Their files are checked by their own parsers.
OWN_UPLOAD_LIMIT_ENDPOINTS = frozenset({"imports.upload"})
# Markdown sources go through the course parser, which names each line holding a control character.
MARKDOWN_FIELDS = frozenset({("authoring.save", "source"), ("authoring.live_preview", "source")})
# Fields of hand-written HTML forms (not FlaskForm classes), by name, as their pages label them.
HTML_FIELD_LABELS = {"title": "Title", "module_id": "Id", "theme_id": "Theme", "source": "Markdown source"}


# Ids in the address ------------------------------------------------------------------------------------------


class DatabaseIdConverter(IntegerConverter):
    """Flask's `int` converter held to what an INTEGER column holds: a larger id matches no page, so it is a 404."""

    regex = r"[0-9]+"  # ASCII digits only: `\d` would also take other scripts' digits

    def __init__(self, map: Map, fixed_digits: int = 0, min: int | None = None, max: int | None = None, signed: bool = False) -> None:
        lowest = DATABASE_INT_MIN if signed else 0
        super().__init__(
            map,
            fixed_digits,
            min=lowest if min is None else builtins.max(min, lowest),
            max=DATABASE_INT_MAX if max is None else builtins.min(max, DATABASE_INT_MAX),
            signed=signed,
        )


class PathTextConverter(UnicodeConverter):
    """Flask's default path converter, except that a segment holding a control character matches no page (a 404)."""

    def __init__(self, map: Map, minlength: int = 1, maxlength: int | None = None, length: int | None = None) -> None:
        super().__init__(map, minlength, maxlength, length)
        # In the pattern rather than in to_python: a refusal there would make a sibling rule's method a 405.
        self.regex = self.regex.replace("[^/]", f"[^/{CONTROL_CHARACTER_CLASS}]", 1)


def database_int(text: str) -> int:
    """A whole number an INTEGER column can hold, read from a form or query value; ValueError otherwise.

    Made for `request.args.get(name, type=database_int)`, which then gives None for anything else.
    """
    number = int(text)
    if not DATABASE_INT_MIN <= number <= DATABASE_INT_MAX:
        raise ValueError(f"{number} is beyond what the database holds")
    return number


# Control characters in query strings and forms -----------------------------------------------------------


@dataclass(frozen=True)
class FieldNames:
    """What the forms call their fields, and which of them hold several lines of text."""

    labels: dict[str, str]
    multi_line: frozenset[str]


@functools.cache
def field_names() -> FieldNames:
    """Every field of the platform's forms, with its label, and the multi-line ones (text areas)."""
    labels = dict(HTML_FIELD_LABELS)
    multi_line: set[str] = set()
    for form_class in _form_classes():
        for name, unbound in vars(form_class).items():
            if isinstance(unbound, UnboundField):
                labels.setdefault(name, str(unbound.args[0] if unbound.args else unbound.kwargs.get("label", name)))
                if issubclass(unbound.field_class, TextAreaField):
                    multi_line.add(name)
    return FieldNames(labels, frozenset(multi_line))


def _form_classes() -> Iterator[type[FlaskForm]]:
    """Every form class of the platform: each area's forms module is imported with its views, before any request."""
    pending = list(FlaskForm.__subclasses__())
    while pending:
        form_class = pending.pop()
        pending.extend(form_class.__subclasses__())
        if form_class.__module__.startswith("app."):
            yield form_class


def control_character_refusal() -> str | None:
    """Why the request cannot be used, when a query-string value or form field holds a control character."""
    for name, found in _query_string_control_characters():
        return (
            f"The address holds an invisible control character ({code_point(found)}) in “{name}”. "
            "Go back and use the page's links and filters, or correct the address."
        )
    for name, found in _form_control_characters():
        label = field_names().labels.get(name, name)
        return (
            f"The field “{label}” holds an invisible control character ({code_point(found)}), which cannot be saved. "
            "Delete it (or retype the text) and send the form again."
        )
    return None


def _query_string_control_characters() -> Iterator[tuple[str, str]]:
    for name, values in request.args.lists():
        for text in (name, *values):
            found = forbidden_control_character(text)
            if found is not None:
                yield _printable(name), found


def _form_control_characters() -> Iterator[tuple[str, str]]:
    if request.method in ("GET", "HEAD", "OPTIONS") or request.endpoint in OWN_UPLOAD_LIMIT_ENDPOINTS:
        return
    multi_line = field_names().multi_line
    for name, values in request.form.lists():
        if (request.endpoint, name) in MARKDOWN_FIELDS:
            continue
        found = forbidden_control_character(name) or next(
            (f for value in values if (f := forbidden_control_character(value, multi_line=name in multi_line))), None
        )
        if found is not None:
            yield _printable(name), found


def _printable(name: str) -> str:
    """A field's name as it can be shown, control characters replaced by their code points, at most 40 characters."""
    shown = "".join(code_point(c) if forbidden_control_character(c) else c for c in name)
    return shown if len(shown) <= 40 else shown[:39] + "…"


def refuse_control_characters() -> None:
    """Answer 400 to a request whose query string or form holds a control character, naming the field."""
    if request.routing_exception is not None:
        return  # no such page (404) or method (405): that answer comes next, whatever the request holds
    refusal = control_character_refusal()
    if refusal is not None:
        abort(400, description=refusal)


# Form validators -----------------------------------------------------------------------------------------


def column_length(attribute: InstrumentedAttribute[Any]) -> int:
    """The number of characters a String(n) column of the models holds."""
    length = attribute.property.columns[0].type.length
    if length is None:
        raise TypeError(f"{attribute} has no length")
    return int(length)


class FitsIn:
    """At most `max_chars` characters (a column's length, or a sensible limit); the message names the field and the figure."""

    def __init__(self, max_chars: int) -> None:
        self.max_chars = max_chars
        self.field_flags = {"maxlength": max_chars}  # WTForms renders it, so browsers stop the typing there too

    def __call__(self, _form: Any, field: Any) -> None:
        length = len(field.data or "")
        if length > self.max_chars:
            raise FieldValidationError(f"“{field.label.text}” holds at most {self.max_chars:,} characters, and this one has {length:,}. Shorten it.")


class DateWithin:
    """The date lies from `earliest()` to `latest()`, asked at each check so that 'today' is today."""

    def __init__(self, earliest: Callable[[], date], latest: Callable[[], date], too_early: str, too_late: str) -> None:
        self.earliest, self.latest = earliest, latest
        self.too_early, self.too_late = too_early, too_late

    def __call__(self, _form: Any, field: Any) -> None:
        day: date | None = field.data
        if day is None:
            return  # not a date at all: the field's own parsing already said so
        if day < self.earliest():
            raise FieldValidationError(self.too_early.format(earliest=day_in_words(self.earliest())))
        if day > self.latest():
            raise FieldValidationError(self.too_late.format(latest=day_in_words(self.latest())))


def day_in_words(day: date) -> str:
    """A date as people write it: 14 May 2028."""
    return f"{day.day} {day:%B %Y}"


def years_after(day: date, years: int) -> date:
    """The same day `years` later; 29 February becomes 28 February in a common year."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


def today_at_site() -> date:
    """Today in the time zone sessions are entered in."""
    return utcnow().astimezone(ZoneInfo(current_app.config["TIME_ZONE"])).date()


def last_planning_day() -> date:
    """The last day a session can be planned for, or a period can reach: two years from today."""
    return years_after(today_at_site(), PLANNING_YEARS)


def report_date_problem(raw: str, day: date) -> str | None:
    """Why a date typed as an HR filter is beyond the figures' range, or None."""
    latest = last_planning_day()
    if FIRST_REPORT_DAY <= day <= latest:
        return None
    return f"The date “{raw}” is outside the range of the figures: choose a date from {day_in_words(FIRST_REPORT_DAY)} to {day_in_words(latest)}."


SESSION_DAY = DateWithin(
    today_at_site,
    last_planning_day,
    too_early="The start must be in the future. Choose {earliest} or a later day.",
    too_late=f"Sessions are planned at most {PLANNING_YEARS} years ahead: choose a day up to {{latest}}.",
)


# The safety net: values beyond their column, whatever set them -------------------------------------------


class ValueOutOfBoundsError(ValueError):
    """A value the database cannot hold (too long, out of range, a NUL character), refused before it is stored."""

    def __init__(self, field: str, message: str) -> None:
        self.field = field
        super().__init__(message)


@dataclass(frozen=True)
class ColumnBound:
    """What one mapped column holds: at most `max_chars` characters, or a 32-bit whole number."""

    field: str
    max_chars: int | None
    is_text: bool
    is_integer: bool

    def problem(self, value: object) -> str | None:
        """Why `value` cannot be stored in this column, or None."""
        if isinstance(value, str) and self.is_text:
            if "\x00" in value:
                return f"The {self.field} holds a NUL character, which cannot be saved. Delete it and send it again."
            if self.max_chars is not None and len(value) > self.max_chars:
                return f"The {self.field} holds {len(value):,} characters; at most {self.max_chars:,} can be saved. Shorten it and send it again."
        if isinstance(value, int) and self.is_integer and not DATABASE_INT_MIN <= value <= DATABASE_INT_MAX:
            return f"The {self.field} is {value:,}; it must be from {DATABASE_INT_MIN:,} to {DATABASE_INT_MAX:,}."
        return None


def _bound_of(table: str, column: Any) -> ColumnBound | None:
    column_type = column.type
    is_text = isinstance(column_type, String)
    is_integer = isinstance(column_type, Integer) and not isinstance(column_type, BigInteger)
    if not (is_text or is_integer):
        return None
    thing = table.replace("_", " ")
    thing = thing[:-1] if thing.endswith("s") and not thing.endswith("ss") else thing
    field = f"{column.name.replace('_', ' ')} of this {thing}"
    return ColumnBound(field, column_type.length if is_text else None, is_text, is_integer)


@functools.cache
def column_bounds() -> dict[tuple[type, str], ColumnBound]:
    """Every mapped column's bound, by model class and attribute name."""
    bounds: dict[tuple[type, str], ColumnBound] = {}
    for mapper in Base.registry.mappers:
        for attribute in mapper.column_attrs:
            bound = _bound_of(str(mapper.local_table.description), attribute.columns[0])
            if bound is not None:
                bounds[(mapper.class_, attribute.key)] = bound
    return bounds


def refuse_value_beyond_column(target: object, value: object, _old: object, initiator: Any) -> None:
    """Raise ValueOutOfBoundsError when a model attribute is set to a value its column cannot hold."""
    bound = column_bounds().get((type(target), initiator.key))
    problem = bound.problem(value) if bound is not None else None
    if bound is not None and problem is not None:
        raise ValueOutOfBoundsError(bound.field, problem)


def guard_columns() -> None:
    """Check every value set on a model against its column, on SQLite as on PostgreSQL; installed once per process."""
    for model, key in column_bounds():
        attribute = getattr(model, key)
        if not event.contains(attribute, "set", refuse_value_beyond_column):
            event.listen(attribute, "set", refuse_value_beyond_column)


# Installation --------------------------------------------------------------------------------------------


def register_converters(app: Flask) -> None:
    """Path ids within the database's range, path text without control characters; before any blueprint."""
    app.url_map.converters["int"] = DatabaseIdConverter
    app.url_map.converters["default"] = PathTextConverter
    app.url_map.converters["string"] = PathTextConverter


def register(app: Flask) -> None:
    """Install the checks: the converters, the control-character check on every request, the column guard."""
    register_converters(app)
    app.before_request(refuse_control_characters)
    guard_columns()

    @app.errorhandler(ValueOutOfBoundsError)
    def value_out_of_bounds(error: ValueOutOfBoundsError) -> tuple[str, int]:
        return render_error(400, str(error))
