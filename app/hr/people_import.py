"""People import from the HR system's CSV: validate the whole file, then upsert by e-mail, or import nothing.

Accepts what Excel writes: UTF-8 with or without a byte-order mark, `;` or `,` between fields, header names in
any case and spacing. Managers may be later in the file or already have an account; a management loop is refused.
New accounts get a one-time link to choose their password (signed, valid 7 days, dead once used).
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from itsdangerous import BadData, URLSafeTimedSerializer
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from .. import session_figures, statistics
from ..forms import is_email_address
from ..models import Role, User

MAX_BYTES = 5 * 1024 * 1024
TOKEN_MAX_AGE = 7 * 24 * 3600
TOKEN_SALT = "speak-digital.set-password"  # noqa: S105 - a signing namespace, not a credential
# The password of an account nobody has chosen a password for yet: not an Argon2 hash, so nothing matches it.
UNSET_PASSWORD = "!unset"  # noqa: S105 - a marker, not a credential
REQUIRED = ("email", "first name", "last name", "site", "department", "manager email", "role")
OPTIONAL = ("birth year",)
ALIASES = {"e-mail": "email", "mail": "email", "manager e-mail": "manager email", "firstname": "first name", "lastname": "last name"}


@dataclass(frozen=True)
class Problem:
    """One reason the file cannot be imported: where (line 0 for the whole file), which field, and what."""

    line: int
    field: str
    message: str


@dataclass(frozen=True)
class PersonRow:
    """One valid line of the file."""

    line: int
    email: str
    name: str
    site: str
    department: str | None
    manager_email: str | None
    birth_year: int | None
    role: Role


@dataclass
class ImportResult:
    """What an import did, or why it did nothing."""

    problems: list[Problem] = field(default_factory=list)
    created: list[User] = field(default_factory=list)
    updated: list[User] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when the file was imported."""
        return not self.problems

    @property
    def awaiting_password(self) -> list[User]:
        """New accounts, and earlier imports that have not chosen a password yet: each needs a link."""
        return [user for user in [*self.created, *self.updated] if user.password_hash == UNSET_PASSWORD]


class ImportRefusedError(Exception):
    """The file cannot be imported; `problems` says why, line by line."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__(f"{len(problems)} problem(s)")
        self.problems = problems


def normalise_header(name: str) -> str:
    """A header as compared: lowercase, single spaces, underscores and dashes between words as spaces."""
    words = " ".join(name.replace("_", " ").strip().lower().split())
    return ALIASES.get(words, words)


def decode(data: bytes) -> str:
    """The file's text: UTF-8, with or without a byte-order mark; anything else is refused."""
    if len(data) > MAX_BYTES:
        raise ImportRefusedError([Problem(0, "file", f"The file is larger than {MAX_BYTES // (1024 * 1024)} MB. Split it into smaller files.")])
    if b"\x00" in data[:4096]:
        raise ImportRefusedError([Problem(0, "file", "This is not a CSV file. Export the people list from Excel as “CSV UTF-8”.")])
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise ImportRefusedError([Problem(0, "file", "The file is not UTF-8 text. Save it from Excel as “CSV UTF-8 (comma delimited)”.")]) from error


def read_rows(text: str) -> list[tuple[int, dict[str, str]]]:
    """The lines of the file as (line number, values by normalised header), after checking the header."""
    lines = text.splitlines()
    if not lines or not lines[0].strip():
        raise ImportRefusedError([Problem(1, "header", "The file is empty: the first line must name the columns.")])
    delimiter = ";" if lines[0].count(";") > lines[0].count(",") else ","
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    header = [normalise_header(name) for name in next(reader)]
    missing = [name for name in REQUIRED if name not in header]
    if missing:
        found = ", ".join(h for h in header if h) or "nothing"
        raise ImportRefusedError([Problem(1, name, f"The column “{name}” is missing (found: {found}).") for name in missing])
    rows = []
    for values in reader:
        if any(v.strip() for v in values):
            rows.append((reader.line_num, {name: (values[i].strip() if i < len(values) else "") for i, name in enumerate(header)}))
    return rows


def _birth_year(raw: str, line: int, problems: list[Problem]) -> int | None:
    if not raw:
        return None
    if not raw.isdigit() or not 1900 <= int(raw) <= date.today().year - 14:
        problems.append(Problem(line, "birth year", f"“{raw}” is not a birth year (four digits, 1900 to {date.today().year - 14})."))
        return None
    return int(raw)


def _role(raw: str, line: int, allow_admin: bool, problems: list[Problem]) -> Role:
    value = raw.lower() or Role.LEARNER.value
    allowed = [r.value for r in Role if allow_admin or r is not Role.ADMIN]
    if value not in allowed:
        problems.append(Problem(line, "role", f"“{raw}” is not a role that can be imported: use {', '.join(allowed)}."))
        return Role.LEARNER
    return Role(value)


def _text(values: dict[str, str], name: str, line: int, limit: int, problems: list[Problem], required: bool = True) -> str:
    value = values.get(name, "")
    if required and not value:
        problems.append(Problem(line, name, f"The {name} is empty."))
    elif len(value) > limit:
        problems.append(Problem(line, name, f"The {name} is longer than {limit} characters."))
    return value


def parse_line(line: int, values: dict[str, str], allow_admin: bool, problems: list[Problem]) -> PersonRow:
    """One line's values checked field by field; problems are added to `problems`."""
    email = values.get("email", "").lower()
    if not is_email_address(email) or len(email) > 254:
        problems.append(Problem(line, "email", f"“{values.get('email', '')}” is not an e-mail address."))
    manager = values.get("manager email", "").lower() or None
    if manager is not None and not is_email_address(manager):
        problems.append(Problem(line, "manager email", f"“{manager}” is not an e-mail address."))
    first = _text(values, "first name", line, 59, problems)
    last = _text(values, "last name", line, 60, problems)
    return PersonRow(
        line=line,
        email=email,
        name=f"{first} {last}".strip(),
        site=_text(values, "site", line, 80, problems),
        department=_text(values, "department", line, 120, problems, required=False) or None,
        manager_email=manager,
        birth_year=_birth_year(values.get("birth year", ""), line, problems),
        role=_role(values.get("role", ""), line, allow_admin, problems),
    )


def _existing(session: Session) -> dict[str, tuple[int, str | None, Role]]:
    """Every account's e-mail with its id, its manager's e-mail and its role, in one query."""
    manager = User.__table__.alias("manager")
    rows = session.execute(
        select(func.lower(User.email), User.id, manager.c.email, User.role).outerjoin(manager, manager.c.id == User.manager_id)
    )
    return {email: (user_id, boss.lower() if boss else None, role) for email, user_id, boss, role in rows}


def check_people(rows: list[PersonRow], existing: dict[str, tuple[int, str | None, Role]], allow_admin: bool) -> list[Problem]:
    """Duplicates, unknown managers, self-management, loops, and administrators that only an administrator may change."""
    problems: list[Problem] = []
    first_line: dict[str, int] = {}
    for row in rows:
        if row.email in first_line:
            problems.append(Problem(row.line, "email", f"{row.email} is already on line {first_line[row.email]}."))
        first_line.setdefault(row.email, row.line)
        known = existing.get(row.email)
        if known and known[2] is Role.ADMIN and row.role is not Role.ADMIN and not allow_admin:
            problems.append(Problem(row.line, "role", f"{row.email} is an administrator: only an administrator can change that."))
    managers = {email: boss for email, (_id, boss, _role) in existing.items()} | {row.email: row.manager_email for row in rows}
    for row in rows:
        if row.manager_email is None:
            continue
        if row.manager_email == row.email:
            problems.append(Problem(row.line, "manager email", "A person cannot be their own manager."))
        elif row.manager_email not in managers:
            problems.append(Problem(row.line, "manager email", f"Nobody has the e-mail address {row.manager_email}, in the file or on the platform."))
        elif _in_loop(row.email, managers):
            problems.append(Problem(row.line, "manager email", f"{row.email} would end up managing themselves: the management chain loops."))
    return problems


def _in_loop(email: str, managers: dict[str, str | None]) -> bool:
    seen = {email}
    current = managers.get(email)
    while current is not None:
        if current in seen:
            return current == email
        seen.add(current)
        current = managers.get(current)
    return False


def validate(session: Session, data: bytes, allow_admin: bool) -> list[PersonRow]:
    """Every line of the file, checked; raises ImportRefusedError with every problem found."""
    problems: list[Problem] = []
    rows = [parse_line(line, values, allow_admin, problems) for line, values in read_rows(decode(data))]
    if not rows and not problems:
        problems.append(Problem(2, "file", "The file has a header but no people."))
    if not problems:
        problems = check_people(rows, _existing(session), allow_admin)
    if problems:
        raise ImportRefusedError(sorted(problems, key=lambda p: (p.line, p.field)))
    return rows


def import_people(session: Session, data: bytes, allow_admin: bool = False) -> ImportResult:
    """Validate the whole file, then create or update everyone in it; nothing changes when any line is wrong."""
    try:
        rows = validate(session, data, allow_admin)
    except ImportRefusedError as refused:
        return ImportResult(problems=refused.problems)
    users = {u.email.lower(): u for u in session.scalars(select(User).where(func.lower(User.email).in_([r.email for r in rows])))}
    result = ImportResult()
    # Someone who becomes, or stops being, a learner enters or leaves the programme's figures; someone who moves
    # takes their figures to their new site and department.
    moving = [
        users[row.email].id
        for row in rows
        if row.email in users and (users[row.email].role, users[row.email].site, users[row.email].department) != (row.role, row.site, row.department)
    ]
    with statistics.tracking(session, moving):
        for row in rows:
            user = users.get(row.email)
            if user is None:
                user = User(email=row.email, password_hash=UNSET_PASSWORD, auth_version=1, active=True)
                session.add(user)
                users[row.email] = user
                result.created.append(user)
            else:
                result.updated.append(user)
            user.name, user.site, user.department, user.birth_year, user.role = row.name, row.site, row.department, row.birth_year, row.role
        session.flush()
    session_figures.refresh_for_mentors(session, moving)  # the learners mentors reached count for their new site
    statistics.count_new_people(session, [user.id for user in result.created])
    _link_managers(session, rows, users)
    return result


def _link_managers(session: Session, rows: list[PersonRow], users: dict[str, User]) -> None:
    wanted = {row.manager_email for row in rows if row.manager_email and row.manager_email not in users}
    if wanted:
        users |= {u.email.lower(): u for u in session.scalars(select(User).where(func.lower(User.email).in_(wanted)))}
    for row in rows:
        users[row.email].manager_id = users[row.manager_email].id if row.manager_email else None
    session.flush()


def _serializer(secret_key: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret_key, salt=TOKEN_SALT)


def password_token(user: User, secret_key: str) -> str:
    """A signed token naming the account and its current auth version: it dies when the password is set."""
    return _serializer(secret_key).dumps({"id": user.id, "v": user.auth_version})


def user_for_token(session: Session, token: str, secret_key: str) -> User | None:
    """The account a set-password token is for, if it is genuine, under 7 days old and not used yet."""
    try:
        payload: Any = _serializer(secret_key).loads(token, max_age=TOKEN_MAX_AGE)
    except BadData:
        return None
    if not isinstance(payload, dict) or not isinstance(payload.get("id"), int):
        return None
    user = session.get(User, payload["id"])
    if user is None or not user.active or user.auth_version != payload.get("v"):
        return None
    return user
