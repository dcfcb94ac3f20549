"""Bad input swept over every route, method and role, built from the URL map: never a 5xx, never half-saved.

Every rule of `app.url_map` is requested with every method it accepts, by a signed-in user of each role that
reaches it and by an anonymous visitor, with what a careless or hostile user sends: ids past the database's range
in the path, extreme dates, control characters, over-long text, wrong types, duplicated and unknown fields. Field
names come from the forms of app/forms.py and each area's forms.py, and from the HTML forms of the pages themselves, whose values give each
form a baseline to spoil one field at a time; so a new route or field is swept without being listed here.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from html.parser import HTMLParser
from urllib.parse import quote, urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient
from flask_wtf import FlaskForm
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, func, select
from werkzeug.datastructures import MultiDict
from werkzeug.exceptions import HTTPException
from werkzeug.routing import Rule
from werkzeug.test import TestResponse
from wtforms import TextAreaField
from wtforms.fields.core import UnboundField

from app import forms
from app.accounts import forms as account_forms
from app.authoring.media import Upload, store_image
from app.bounds import DATABASE_INT_MAX, DATABASE_INT_MIN
from app.hr.stats import TABLE_NAMES
from app.models import Attendance, Base, Booking, BookingStatus, ModuleRecord, Role, User
from app.people import forms as people_forms
from app.sessions import forms as session_forms

from ..conftest import PASSWORD, People, add_live_session, csrf_token

ROLES = (Role.LEARNER, Role.MENTOR, Role.HR, Role.ADMIN)
ANONYMOUS = "anonymous"
IGNORED_METHODS = frozenset({"HEAD", "OPTIONS"})
PARAMETER_RE = re.compile(r"<(?:(?P<converter>[^:<>]+):)?(?P<name>[^<>]+)>")
MODULE = "search-like-a-pro"
CONTROL_CHARACTERS = [chr(c) for c in (*range(0x00, 0x20), *range(0x7F, 0xA0))]
TABS_AND_LINE_BREAKS = "\t\n\r"
# Markdown sources go to the course parser, which lists the lines holding control characters beside the source;
# the people import checks its own file (not part of this sweep's promises, see OWN_CHECKS).
MARKDOWN_FIELDS = frozenset({("authoring.save", "source"), ("authoring.live_preview", "source")})
OWN_CHECKS = frozenset({"imports.upload"})
# Refusals that keep something on purpose: a failed sign-in is counted, a draft that cannot be published is kept.
KEPT_ON_REFUSAL = {"auth.login": {"login_failures"}, "authoring.save": {"module_revisions"}, "imports.upload": {"people_imports"}}
# Values for fields a page leaves empty, so that a form's baseline is valid and each spoiled field is the only fault.
FIELD_HINTS = {
    "room": "Room 4.01",
    "title": "A module from the sweep",
    "module_id": "module-from-the-sweep",
    "name": "Sweep Person",
    "email": "sweep.person@example.test",
}
QUERY_EXAMPLES = 150
FORM_EXAMPLES = 250
SWEEP_SETTINGS = settings(max_examples=QUERY_EXAMPLES, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


# What is sent ------------------------------------------------------------------------------------------------

OUT_OF_RANGE_NUMBERS = st.one_of(
    st.sampled_from([DATABASE_INT_MAX + 1, DATABASE_INT_MIN - 1, 2**63, 2**64, 10**20, 10**40]),
    st.integers(min_value=DATABASE_INT_MAX + 1, max_value=10**30),
    st.integers(min_value=-(10**30), max_value=DATABASE_INT_MIN - 1),
).map(str)
EXTREME_DATES = st.one_of(
    st.sampled_from(["0001-01-01", "9999-12-31", "0000-01-01", "10000-01-01", "2026-02-30", "-2026-01-01", "99991231", "1-1-1"]),
    st.dates(max_value=date(1999, 12, 31)).map(date.isoformat),
    st.dates(min_value=date(2100, 1, 1)).map(date.isoformat),
)
# NUL as often as all the others together: it is the one PostgreSQL refuses outright.
CONTROL_TEXT = st.builds(
    lambda before, control, after: before + control + after,
    st.text("ab ", max_size=3),
    st.just("\x00") | st.sampled_from(CONTROL_CHARACTERS),
    st.text("ab", max_size=3),
)
OVER_LONG_TEXT = st.sampled_from([61, 81, 121, 201, 255, 301, 501, 1001, 2001, 5000]).map(lambda n: "x" * n)
WRONG_TYPES = st.sampled_from(["", " ", "abc", "1.5", "1e9", "-1", "0", "0x1F", "true", "[]", "{}", "null", "NaN", "１２", "😀", "%00", "'; --", "<b>"])
# A kind drawn first, then a value of it: every kind turns up as often as the others.
BAD_VALUES = st.sampled_from([OUT_OF_RANGE_NUMBERS, EXTREME_DATES, CONTROL_TEXT, OVER_LONG_TEXT, WRONG_TYPES]).flatmap(lambda kind: kind)
# One of each kind, sent to every rule and role so that none is left to chance; the longest String column holds 500.
EVERY_KIND = {
    "number": str(10**20),
    "past": "0001-01-01",
    "future": "9999-12-31",
    "control": "a\x00b",
    "long": "x" * 501,
    "type": "abc",
}
ID_VALUES = (str(DATABASE_INT_MAX + 1), str(2**63), str(10**20), "9" * 5000)
PATH_TEXTS = ("a\x00b", "\x1b[2J", "é" * 2000, "..", "%25", "１")


FORM_MODULES = (forms, account_forms, people_forms, session_forms)


def form_field_names() -> tuple[frozenset[str], frozenset[str]]:
    """Every field of the forms in app/forms.py and each area's forms.py, and those that hold several lines (text areas)."""
    names: set[str] = set()
    multi_line: set[str] = set()
    form_classes = [value for module in FORM_MODULES for value in vars(module).values()]
    for form_class in form_classes:
        if isinstance(form_class, type) and issubclass(form_class, FlaskForm):
            for name, unbound in vars(form_class).items():
                if isinstance(unbound, UnboundField):
                    names.add(name)
                    if issubclass(unbound.field_class, TextAreaField):
                        multi_line.add(name)
    return frozenset(names), frozenset(multi_line)


FORM_FIELDS, MULTI_LINE_FIELDS = form_field_names()


def holds_forbidden_character(name: str, value: str) -> bool:
    """Whether a field (by its name) may not hold this value: control characters, save tabs and line breaks in text areas."""
    allowed = TABS_AND_LINE_BREAKS if name in MULTI_LINE_FIELDS else ""
    return any(c in CONTROL_CHARACTERS and c not in allowed for c in value)


# The pages' own forms ---------------------------------------------------------------------------------------


@dataclass
class PageForm:
    """A form as a page shows it: where it goes, how, and the values a visitor would send without typing."""

    action: str
    method: str
    fields: list[tuple[str, str]] = field(default_factory=list)


class FormReader(HTMLParser):
    """Reads the forms of a page with the values they would send: checked boxes, selected options, the first button."""

    def __init__(self, page_path: str) -> None:
        super().__init__(convert_charrefs=True)
        self.page_path = page_path
        self.forms: list[PageForm] = []
        self._form: PageForm | None = None
        self._choices: dict[str, str] = {}  # the first radio, checkbox or option of a name nothing is checked for
        self._chosen: set[str] = set()
        self._select: tuple[str, bool] | None = None
        self._textarea: str | None = None
        self._text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self._form = PageForm(a.get("action") or self.page_path, (a.get("method") or "get").upper())
            self._choices, self._chosen = {}, set()
        elif self._form is None:
            return
        elif tag == "input" and a.get("name"):
            self._input(a)
        elif tag == "button" and a.get("name") and (a.get("type") or "submit") == "submit":
            self._choices.setdefault(a["name"], a.get("value", ""))
        elif tag == "select" and a.get("name"):
            self._select = (a["name"], "multiple" in a)
        elif tag == "option" and self._select is not None:
            name, _ = self._select
            if "selected" in a:
                self._add(name, a.get("value", ""))
            elif a.get("value"):
                self._choices.setdefault(name, a["value"])
        elif tag == "textarea" and a.get("name"):
            self._textarea, self._text = a["name"], []

    def _input(self, a: dict[str, str]) -> None:
        name, kind = a["name"], a.get("type", "text")
        if kind in ("file", "image", "reset", "button"):
            return
        if kind == "submit":
            self._choices.setdefault(name, a.get("value", ""))
        elif kind in ("radio", "checkbox"):
            if "checked" in a:
                self._add(name, a.get("value", "on"))
            else:
                self._choices.setdefault(name, a.get("value", "on"))
        else:
            self._add(name, a.get("value") or _filler(name, kind, a))

    def _add(self, name: str, value: str) -> None:
        assert self._form is not None
        self._form.fields.append((name, value))
        self._chosen.add(name)

    def handle_data(self, data: str) -> None:
        if self._textarea is not None:
            self._text.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "select":
            if self._select is not None and self._select[1]:
                self._chosen.add(self._select[0])  # a multiple select may rightly send nothing
            self._select = None
        elif tag == "textarea" and self._textarea is not None:
            self._add(self._textarea, "".join(self._text).removeprefix("\n"))
            self._textarea = None
        elif tag == "form" and self._form is not None:
            self._form.fields += [(name, value) for name, value in self._choices.items() if name not in self._chosen]
            self.forms.append(self._form)
            self._form = None


def _filler(name: str, kind: str, attrs: dict[str, str]) -> str:
    if name in FIELD_HINTS:
        return FIELD_HINTS[name]
    if kind == "date":
        return (datetime.now(UTC) + timedelta(days=14)).date().isoformat()
    if kind == "time":
        return "14:00"
    if kind == "number":
        return attrs.get("min") or "1"
    if kind == "password":
        return PASSWORD
    return "" if kind in ("url", "search", "hidden") else "some text"


def forms_of(page_path: str, html: str) -> list[PageForm]:
    """The forms of a page."""
    reader = FormReader(page_path)
    reader.feed(html)
    return reader.forms


# The visitors and the world they act in ------------------------------------------------------------------


@dataclass
class Visitor:
    """A browser: signed in with a role, or anonymous; it signs in again whenever a request signed it out."""

    name: str
    app: Flask
    people: People
    user: User | None
    client: FlaskClient = field(init=False)
    _token: str = field(init=False, default="")

    def __post_init__(self) -> None:
        self.start_afresh()

    @property
    def is_signed_in(self) -> bool:
        """Whether this visitor acts as a signed-in user."""
        return self.user is not None

    def start_afresh(self) -> None:
        """A new browser, signed in again if the visitor has an account."""
        self.client = self.app.test_client()
        if self.user is not None:
            self.people.login(self.client, self.user)
        self._token = csrf_token(self.client.get("/login" if self.user is None else "/account/password").get_data(as_text=True))

    def token(self) -> str:
        """A CSRF token of this browser's session."""
        return self._token

    def send(self, method: str, path: str, query: MultiDict[str, str] | None = None, form: MultiDict[str, str] | None = None) -> TestResponse:
        """One request; afterwards the visitor is as it was (signed in, or anonymous), whatever the request did."""
        response = self.client.open(path, method=method, query_string=query, data=form)
        location = urlsplit(response.headers.get("Location", "")).path
        signed_out = self.user is not None and location == "/login" and response.status_code in (302, 303)
        signed_in = self.user is None and method == "POST" and response.status_code in (302, 303) and location not in ("/login", "")
        if signed_out or signed_in:
            self.start_afresh()
        return response


@dataclass
class World:
    """The people, the sessions, bookings and objects every path id can point at, and the baselines of every form."""

    app: Flask
    engine: Engine
    visitors: list[Visitor]
    ids: dict[str, object]
    ids_by_endpoint: dict[str, dict[str, object]]
    ids_by_visitor: dict[str, dict[str, object]]
    baselines: dict[tuple[str, str], list[tuple[str, str]]] = field(default_factory=dict)
    query_names: set[str] = field(default_factory=set)
    query_names_by_endpoint: dict[str, set[str]] = field(default_factory=dict)

    def rules(self) -> Iterator[tuple[Rule, str]]:
        """Every rule of the URL map with each method it answers."""
        for rule in sorted(self.app.url_map.iter_rules(), key=lambda r: (r.rule, r.endpoint)):
            for method in sorted((rule.methods or set()) - IGNORED_METHODS):
                yield rule, method

    def path_of(self, rule: Rule, visitor: Visitor, spoiled: dict[str, str] | None = None) -> str:
        """The rule's path with the world's ids for this visitor, some of them replaced by `spoiled` values."""
        values = self.ids | self.ids_by_endpoint.get(rule.endpoint, {}) | self.ids_by_visitor.get(visitor.name, {}) | (spoiled or {})

        def value_of(match: re.Match[str]) -> str:
            default = 1 if match.group("converter") == "int" else "x"
            return quote(str(values.get(match.group("name"), default)), safe="")

        return PARAMETER_RE.sub(value_of, rule.rule)

    def counts(self) -> dict[str, int]:
        """How many rows every table holds."""
        tables = Base.metadata.sorted_tables
        with self.engine.connect() as connection:
            row = connection.execute(select(*(select(func.count()).select_from(t).scalar_subquery() for t in tables))).one()
        return {t.name: n for t, n in zip(tables, row, strict=True)}

    def baseline(self, endpoint: str, visitor: Visitor) -> MultiDict[str, str]:
        """The fields a page of this visitor sends to `endpoint`, with a fresh CSRF token; just the token without one."""
        fields = [(n, v) for n, v in self.baselines.get((endpoint, visitor.name), []) if n != "csrf_token"]
        return MultiDict([("csrf_token", visitor.token()), *fields])


def build_world(app: Flask, engine: Engine, people: People) -> World:
    """People of every role, a session to come and one held, bookings, an attempt and an image, all reachable by id."""
    session = people.session
    users = {role: people.create(role, name=f"Sweep {role.value}", department="Claims") for role in ROLES}
    learner, mentor, admin = users[Role.LEARNER], users[Role.MENTOR], users[Role.ADMIN]
    now = datetime.now(UTC)
    coming = add_live_session(session, [mentor, admin], now + timedelta(days=14), capacity=10)
    held = add_live_session(session, [mentor, admin], now - timedelta(days=3), capacity=10)
    doomed = add_live_session(session, [mentor, admin], now + timedelta(days=21), capacity=10)  # for the cancel button
    held_booking = Booking(session_id=held.id, learner_id=learner.id, status=BookingStatus.CONFIRMED, confirmed_at=now, attendance=Attendance.ATTENDED)
    session.add(held_booking)
    held.seats_taken = 1
    media = store_image(session, MODULE, Upload("sweep.png", "image/png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 16), mentor)
    session.commit()
    visitors = [Visitor(role.value, app, people, user) for role, user in users.items()] + [Visitor(ANONYMOUS, app, people, None)]
    ids_by_visitor: dict[str, dict[str, object]] = {}
    for visitor in visitors[:-1]:
        response = visitor.client.post(f"/sessions/{coming.id}/book", data={"csrf_token": visitor.token()})
        assert response.status_code in (302, 403), response.status_code  # the hosts cannot book their own session
    for visitor, user in zip(visitors[:-1], users.values(), strict=True):
        booking = session.scalar(select(Booking).where(Booking.learner_id == user.id, Booking.session_id == coming.id))
        ids_by_visitor[visitor.name] = {"booking_id": booking.id} if booking else {}
    record = session.get(ModuleRecord, MODULE)
    draft = {"csrf_token": visitors[1].token(), "source": record.current_revision.source + "\nOne more line.\n", "action": "save"}
    assert visitors[1].client.post(f"/authoring/modules/{MODULE}", data=draft).status_code == 303  # a second revision to compare
    world = World(
        app,
        engine,
        visitors,
        ids={
            "session_id": coming.id,
            "booking_id": held_booking.id,
            "attempt_id": 1,
            "user_id": learner.id,
            "file_id": media.id,
            "filename": media.filename,
            "number": 1,
            "module_id": MODULE,
            "quiz_id": record.quiz_ids[0],
            "theme_id": "information-management",
            "name": next(iter(TABLE_NAMES)),
            "token": "not-a-token",
        },
        ids_by_endpoint={
            "mentor.attendance": {"session_id": held.id},
            "mentor.cancel": {"session_id": doomed.id},
            "sessions.feedback": {"booking_id": held_booking.id},
        },
        ids_by_visitor=ids_by_visitor,
    )
    read_pages(world)
    return world


def read_pages(world: World) -> None:
    """Every page each visitor can open, read for its forms: the baselines of POST forms, the names of GET ones."""
    adapter = world.app.url_map.bind("localhost")
    for visitor in world.visitors:
        for rule, method in world.rules():
            if method != "GET" or rule.endpoint == "static":
                continue
            path = world.path_of(rule, visitor)
            response = visitor.send("GET", path)
            if response.status_code != 200 or not response.mimetype.startswith("text/html"):
                continue
            for page_form in forms_of(path, response.get_data(as_text=True)):
                try:
                    endpoint = adapter.match(urlsplit(page_form.action).path, method=page_form.method)[0]
                except HTTPException:
                    continue
                if page_form.method == "GET":
                    names = {name for name, _ in page_form.fields}
                    world.query_names |= names
                    world.query_names_by_endpoint.setdefault(endpoint, set()).update(names)
                else:
                    world.baselines.setdefault((endpoint, visitor.name), page_form.fields)


@pytest.fixture
def world(app: Flask, engine: Engine, people: People) -> World:
    """The sweep's world, on the run's database (SQLite, or PostgreSQL with TEST_DATABASE_URL)."""
    return build_world(app, engine, people)


# What must hold ---------------------------------------------------------------------------------------------


def send_and_check(world: World, visitor: Visitor, rule: Rule, method: str, path: str, query: MultiDict[str, str], form: MultiDict[str, str] | None) -> TestResponse:
    """Send a request and check the promises: no 5xx; control characters refused with a 400; a refusal saves nothing."""
    before = world.counts() if method == "POST" else None
    response = visitor.send(method, path, query, form)
    described = f"{visitor.name} {method} {path} {dict(query.lists())} {dict(form.lists()) if form else ''}"[:600]
    assert response.status_code < 500, f"{response.status_code} for {described}"
    if visitor.is_signed_in and (_spoils_query(query) or (form is not None and rule.endpoint not in OWN_CHECKS and _spoils_form(rule, form))):
        assert response.status_code == 400, f"{response.status_code} instead of 400 for a control character: {described}"
    if before is not None and response.status_code >= 400:
        after = world.counts()
        kept = KEPT_ON_REFUSAL.get(rule.endpoint, set())
        changed = {t: (before[t], after[t]) for t in before if before[t] != after[t] and t not in kept}
        assert changed == {}, f"refused with {response.status_code} but saved {changed}: {described}"
    return response


def _spoils_query(query: MultiDict[str, str]) -> bool:
    return any(holds_forbidden_character("", name) or any(holds_forbidden_character("", v) for v in values) for name, values in query.lists())


def _spoils_form(rule: Rule, form: MultiDict[str, str]) -> bool:
    return any(
        holds_forbidden_character("", name) or ((rule.endpoint, name) not in MARKDOWN_FIELDS and any(holds_forbidden_character(name, v) for v in values))
        for name, values in form.lists()
    )


def reachable(world: World) -> list[tuple[Visitor, Rule, str]]:
    """Each rule and method with each visitor it answers with more than a 'sign in' or 'not for your role'."""
    found = []
    for rule, method in world.rules():
        for visitor in world.visitors:
            form = world.baseline(rule.endpoint, visitor) if method == "POST" else None
            response = visitor.send(method, world.path_of(rule, visitor), None, form)
            assert response.status_code < 500, f"{response.status_code} for {visitor.name} {method} {rule.rule} with its page's own values"
            signed_out = urlsplit(response.headers.get("Location", "")).path == "/login" and not visitor.is_signed_in
            if response.status_code != 403 and not signed_out:
                found.append((visitor, rule, method))
    return found


# The sweep -----------------------------------------------------------------------------------------------------


def test_path_ids_past_the_database_range_are_404_and_control_characters_in_path_text_too(world):
    for rule, method in world.rules():
        for match in PARAMETER_RE.finditer(rule.rule):
            is_id = match.group("converter") == "int"
            for value in ID_VALUES if is_id else PATH_TEXTS:
                for visitor in world.visitors:
                    path = world.path_of(rule, visitor, {match.group("name"): value})
                    form = world.baseline(rule.endpoint, visitor) if method == "POST" else None
                    response = send_and_check(world, visitor, rule, method, path, MultiDict(), form)
                    if is_id or holds_forbidden_character("", value):
                        assert response.status_code == 404, f"{response.status_code} for {visitor.name} {method} {path[:80]}"


def test_every_kind_of_bad_value_in_the_query_string_and_form_of_every_rule_for_every_role(world):
    combos = reachable(world)
    every = {(rule.rule, method) for rule, method in world.rules()}
    assert every - {(rule.rule, method) for _, rule, method in combos} <= {("/static/<path:filename>", "GET")}  # no file is named 'x'
    assert {("mentor.new_session", Role.MENTOR.value), ("learn.submit", Role.LEARNER.value)} <= set(world.baselines)
    assert {"from", "to", "site", "department", "theme", "format", "a", "b"} <= world.query_names
    names = sorted(world.query_names | FORM_FIELDS - {"csrf_token"})
    for visitor, rule, method in combos:
        path = world.path_of(rule, visitor)
        for value in EVERY_KIND.values():
            baseline = world.baseline(rule.endpoint, visitor) if method == "POST" else None
            send_and_check(world, visitor, rule, method, path, MultiDict([(n, value) for n in names]), baseline)
            if baseline is not None:
                spoiled = MultiDict([(n, v if n == "csrf_token" else value) for n, v in baseline.items(multi=True)])
                send_and_check(world, visitor, rule, method, path, MultiDict(), spoiled)


def test_random_query_strings_never_give_5xx(world):
    combos = reachable(world)
    every_name = sorted(world.query_names | FORM_FIELDS)
    # Half the examples go to the pages that have a filter form, which read their query strings; half to any rule.
    filtered = [combo for combo in combos if combo[1].endpoint in world.query_names_by_endpoint]

    @st.composite
    def requests(draw):
        visitor, rule, method = draw(st.sampled_from(filtered) | st.sampled_from(combos))
        own = sorted(world.query_names_by_endpoint.get(rule.endpoint, ())) or every_name
        names = st.sampled_from(own) | st.sampled_from(every_name) | st.text("abcxyz_-", min_size=1, max_size=12)
        return visitor, rule, method, draw(st.lists(st.tuples(names, BAD_VALUES), min_size=1, max_size=5))

    @SWEEP_SETTINGS
    @given(case=requests())
    def sweep(case):
        visitor, rule, method, parameters = case
        form = world.baseline(rule.endpoint, visitor) if method == "POST" else None
        send_and_check(world, visitor, rule, method, world.path_of(rule, visitor), MultiDict(parameters), form)

    sweep()


@dataclass(frozen=True)
class Spoil:
    """One fault put in a form: a field's value replaced, a field sent twice, an unknown field added, or a field left out."""

    how: str
    name: str
    value: str

    def apply(self, form: MultiDict[str, str]) -> MultiDict[str, str]:
        """The form with this fault."""
        items = [(n, v) for n, v in form.items(multi=True)]
        if self.how == "replace":
            items = [(n, v) for n, v in items if n != self.name] + [(self.name, self.value)]
        elif self.how in ("twice", "unknown"):
            items.append((self.name, self.value))
        elif self.how == "drop":
            items = [(n, v) for n, v in items if n != self.name]
        return MultiDict(items)


def test_random_spoiled_forms_never_give_5xx_nor_save_half(world):
    posts = [combo for combo in reachable(world) if combo[2] == "POST"]

    @st.composite
    def spoiled(draw):
        visitor, rule, _ = draw(st.sampled_from(posts))
        form = world.baseline(rule.endpoint, visitor)
        own = [n for n in form if n != "csrf_token"] or ["csrf_token"]
        name = draw(st.sampled_from(own) | st.sampled_from(sorted(FORM_FIELDS)))
        how = draw(st.sampled_from(["replace", "replace", "replace", "twice", "unknown", "drop"]))
        if how == "unknown":
            name = "x-" + draw(st.text("abcxyz_-", min_size=1, max_size=12))
        faults = [Spoil(how, name, draw(BAD_VALUES))]
        return visitor, rule, faults

    @settings(SWEEP_SETTINGS, max_examples=FORM_EXAMPLES)
    @given(case=spoiled())
    def sweep(case):
        visitor, rule, faults = case
        form = world.baseline(rule.endpoint, visitor)
        for fault in faults:
            form = fault.apply(form)
        send_and_check(world, visitor, rule, "POST", world.path_of(rule, visitor), MultiDict(), form)

    sweep()
