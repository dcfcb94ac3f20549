"""People import from the HR system's CSV: validate the whole file, then upsert by e-mail, or import nothing.

Accepts what Excel writes: UTF-8 with or without a byte-order mark, `;` or `,` between fields, header names in
any case and spacing. Managers may be later in the file or already have an account; a management loop is refused.
New accounts get a one-time link to choose their password (signed, valid 7 days, dead once used).

A file holds up to 100,000 people. Every check is linear in the number of people, and a valid file is applied
in batches that the caller commits one by one (the background job and the command both do), so that a large file
never holds locks for long; the upsert is idempotent, so a file applied again after an interruption finishes the work.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date
from itertools import islice
from typing import Any, TypeVar

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from ..accounts.tokens import UNSET_PASSWORD
from ..forms import is_email_address
from ..models import Role, User
from .services import people_moved

T = TypeVar("T")
MAX_PEOPLE = 100_000
# 100,000 people with long names and addresses: about 20 MB, as the HR system exports them.
MAX_BYTES = 20 * 1024 * 1024
BATCH_SIZE = 1_000
# A cell longer than any field the import stores, with room for spaces; the csv module's own limit is larger.
MAX_CELL_CHARS = 1_000
# The csv module refuses a cell over 128 KB with no line to show; cells up to the file's size are read, then
# reported with their line and column by the import's own limit.
csv.field_size_limit(MAX_BYTES)
CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f]")
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
    """What an import did, or why it did nothing: the ids of the accounts it created and updated."""

    problems: list[Problem] = field(default_factory=list)
    created: list[int] = field(default_factory=list)
    updated: list[int] = field(default_factory=list)
    # New accounts, and earlier imports that have not chosen a password yet: each needs a link.
    awaiting_password: list[int] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when the file was imported."""
        return not self.problems


class ImportRefusedError(Exception):
    """The file cannot be imported; `problems` says why, line by line."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__(f"{len(problems)} problem(s)")
        self.problems = problems


def batched(items: Sequence[T], size: int) -> Iterator[Sequence[T]]:
    """`items` in consecutive slices of at most `size` (itertools.batched arrives with Python 3.12)."""
    iterator = iter(items)
    while batch := list(islice(iterator, size)):
        yield batch


def normalise_header(name: str) -> str:
    """A header as compared: lowercase, single spaces, underscores and dashes between words as spaces."""
    words = " ".join(name.replace("_", " ").strip().lower().split())
    return ALIASES.get(words, words)


def too_large_problem() -> Problem:
    """The problem of a file over the size limit, in the terms HR uses."""
    return Problem(0, "file", f"The file is larger than {MAX_BYTES // (1024 * 1024)} MB. Split it into files of at most {MAX_PEOPLE:,} people.")


def _looks_binary(start: bytes) -> bool:
    """True for a spreadsheet, an image or UTF-16 text: many NUL bytes. A stray one is reported with its cell."""
    return start.startswith((b"\xff\xfe", b"\xfe\xff")) or start.count(b"\x00") > len(start) // 4


def decode(data: bytes) -> str:
    """The file's text: UTF-8, with or without a byte-order mark; anything else is refused."""
    if len(data) > MAX_BYTES:
        raise ImportRefusedError([too_large_problem()])
    if _looks_binary(data[:4096]):
        raise ImportRefusedError([Problem(0, "file", "This is not a CSV file. Export the people list from Excel as “CSV UTF-8”.")])
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise ImportRefusedError([Problem(0, "file", "The file is not UTF-8 text. Save it from Excel as “CSV UTF-8 (comma delimited)”.")]) from error


def _delimiter(text: str) -> str:
    first_line = text.split("\n", 1)[0]
    if not first_line.strip():
        raise ImportRefusedError([Problem(1, "header", "The file is empty: the first line must name the columns.")])
    return ";" if first_line.count(";") > first_line.count(",") else ","


def read_header(text: str) -> list[str]:
    """The file's column names, normalised; raises ImportRefusedError when a required one is missing."""
    try:
        names = next(csv.reader(io.StringIO(text), delimiter=_delimiter(text)))
    except (csv.Error, StopIteration) as error:
        raise ImportRefusedError([Problem(1, "header", "The first line cannot be read as CSV. Export the file from Excel again.")]) from error
    header = [normalise_header(name) for name in names]
    missing = [name for name in REQUIRED if name not in header]
    if missing:
        found = ", ".join(h for h in header if h) or "nothing"
        raise ImportRefusedError([Problem(1, name, f"The column “{name}” is missing (found: {found}).") for name in missing])
    return header


def check_file(data: bytes) -> None:
    """The checks that need no database and take no time: size, encoding and columns; raises ImportRefusedError."""
    read_header(decode(data))


def read_rows(text: str) -> list[tuple[int, dict[str, str]]]:
    """The lines of the file as (line number, values by normalised header), after checking the header."""
    header = read_header(text)
    reader = csv.reader(io.StringIO(text), delimiter=_delimiter(text))
    next(reader)
    rows: list[tuple[int, dict[str, str]]] = []
    problems: list[Problem] = []
    for line, values in _records(reader):
        if not any(v.strip() for v in values):
            continue
        if len(rows) == MAX_PEOPLE:
            raise ImportRefusedError([Problem(line, "file", f"The file holds more than {MAX_PEOPLE:,} people. Split it into files of at most {MAX_PEOPLE:,} people.")])
        raw = {name: (values[i] if i < len(values) else "") for i, name in enumerate(header)}
        problems.extend(_cell_problems(line, raw))
        rows.append((line, {name: value.strip() for name, value in raw.items()}))
    if problems:
        raise ImportRefusedError(problems)
    return rows


def _records(reader: Any) -> Iterator[tuple[int, list[str]]]:
    """Each record with the line it starts on; a record the csv module cannot read is refused with its line."""
    line = 2
    while True:
        try:
            values = next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            raise ImportRefusedError(
                [Problem(line, "file", "This line cannot be read as CSV (a cell far too long, or a quote never closed). Correct it and export the file again.")]
            ) from error
        yield line, values
        line = reader.line_num + 1


def _cell_problems(line: int, cells: dict[str, str]) -> Iterator[Problem]:
    """Invisible control characters and cells far longer than anything the import keeps."""
    for name, value in cells.items():
        if len(value) > MAX_CELL_CHARS:
            yield Problem(line, name or "column without a name", f"This cell holds {len(value):,} characters; no field is longer than {MAX_CELL_CHARS:,}.")
        elif "\n" in value or "\r" in value:
            yield Problem(line, name or "column without a name", "This cell runs over several lines: a quote (\") is probably never closed. Correct it and export the file again.")
        elif CONTROL_CHARACTERS.search(value):
            yield Problem(line, name or "column without a name", "This cell holds an invisible control character. Retype the cell in Excel and export the file again.")


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
    in_loops = people_in_management_loops(managers)
    for row in rows:
        if row.manager_email is None:
            continue
        if row.manager_email == row.email:
            problems.append(Problem(row.line, "manager email", "A person cannot be their own manager."))
        elif row.manager_email not in managers:
            problems.append(Problem(row.line, "manager email", f"Nobody has the e-mail address {row.manager_email}, in the file or on the platform."))
        elif row.email in in_loops:
            problems.append(Problem(row.line, "manager email", f"{row.email} would end up managing themselves: the management chain loops."))
    return problems


def people_in_management_loops(managers: dict[str, str | None]) -> set[str]:
    """Everyone whose chain of managers comes back to them, found in one walk over each chain (linear time).

    Each person has at most one manager, so every walk ends at the top of a chain, at someone already walked, or
    back on its own path: only the last case is a loop, made of the people from that point of the path on.
    """
    walked: set[str] = set()
    in_loops: set[str] = set()
    for start in managers:
        path: dict[str, int] = {}
        current: str | None = start
        while current is not None and current not in walked and current not in path:
            path[current] = len(path)
            current = managers.get(current)
        if current is not None and current in path:
            in_loops.update(list(path)[path[current] :])
        walked.update(path)
    return in_loops


def validate(session: Session, data: bytes, allow_admin: bool) -> tuple[list[PersonRow], dict[str, int]]:
    """Every line of the file, checked, and the accounts the platform has by e-mail; raises ImportRefusedError."""
    problems: list[Problem] = []
    rows = [parse_line(line, values, allow_admin, problems) for line, values in read_rows(decode(data))]
    if not rows and not problems:
        problems.append(Problem(2, "file", "The file has a header but no people."))
    existing = _existing(session) if not problems else {}
    if not problems:
        problems = check_people(rows, existing, allow_admin)
    if problems:
        raise ImportRefusedError(sorted(problems, key=lambda p: (p.line, p.field)))
    return rows, {email: user_id for email, (user_id, _boss, _role) in existing.items()}


def import_people(
    session: Session, data: bytes, allow_admin: bool = False, after_batch: Callable[[int], None] | None = None
) -> ImportResult:
    """Validate the whole file, then create or update everyone in it; nothing changes when any line is wrong."""
    try:
        rows, ids = validate(session, data, allow_admin)
    except ImportRefusedError as refused:
        return ImportResult(problems=refused.problems)
    return apply_people(session, rows, ids, after_batch)


def apply_people(
    session: Session, rows: Sequence[PersonRow], ids: dict[str, int], after_batch: Callable[[int], None] | None = None
) -> ImportResult:
    """Create or update the people of a validated file, a batch at a time, then link everyone to their manager.

    `after_batch(people)` is called after each batch with the number of people it applied (0 for a batch of
    managers), so that the caller can commit it.
    """
    result = ImportResult()
    for batch in batched(rows, BATCH_SIZE):
        _upsert(session, batch, ids, result)
        if after_batch is not None:
            after_batch(len(batch))
    for batch in batched(rows, BATCH_SIZE):
        _link_managers(session, batch, ids)
        if after_batch is not None:
            after_batch(0)
    return result


def _upsert(session: Session, rows: Sequence[PersonRow], ids: dict[str, int], result: ImportResult) -> None:
    """Create or update these people, managers aside; new accounts' ids are added to `ids`."""
    known = [ids[row.email] for row in rows if row.email in ids]
    users = {u.email.lower(): u for u in session.scalars(select(User).where(User.id.in_(known)))} if known else {}
    # A mentor who moves takes the learners they reached to their new site.
    moving = [
        users[row.email].id
        for row in rows
        if row.email in users and (users[row.email].role, users[row.email].site, users[row.email].department) != (row.role, row.site, row.department)
    ]
    created: list[User] = []
    for row in rows:
        user = users.get(row.email)
        if user is None:
            user = User(email=row.email, password_hash=UNSET_PASSWORD, auth_version=1, active=True)
            session.add(user)
            users[row.email] = user
            created.append(user)
        user.name, user.site, user.department, user.birth_year, user.role = row.name, row.site, row.department, row.birth_year, row.role
    session.flush()
    people_moved(session, moving)
    ids.update((user.email, user.id) for user in created)
    new = {user.id for user in created}
    result.created.extend(user.id for user in created)
    result.updated.extend(user.id for user in users.values() if user.id not in new)
    result.awaiting_password.extend(user.id for user in users.values() if user.password_hash == UNSET_PASSWORD)


def _link_managers(session: Session, rows: Sequence[PersonRow], ids: dict[str, int]) -> None:
    """Set these people's managers, once everyone in the file has an account, in one statement."""
    links = [{"id": ids[row.email], "manager_id": ids[row.manager_email] if row.manager_email else None} for row in rows]
    session.execute(update(User), links)


def accounts_awaiting_password(session: Session, user_ids: Sequence[int]) -> Iterator[User]:
    """Those of these accounts that still have no password, read a batch at a time, in the order given."""
    for batch in batched(user_ids, BATCH_SIZE):
        users = {u.id: u for u in session.scalars(select(User).where(User.id.in_(batch), User.password_hash == UNSET_PASSWORD, User.active))}
        yield from (users[user_id] for user_id in batch if user_id in users)
