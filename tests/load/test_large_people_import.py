"""A people file of 100,000 lines, the most the import takes, sent from the HR page and imported on PostgreSQL."""

from __future__ import annotations

import os
import time

import pytest
from sqlalchemy import func, select

from app.models import ImportStatus, PeopleImport, Role, User
from app.people.importing import MAX_BYTES, MAX_PEOPLE

from ..web.test_people_import import upload

pytestmark = pytest.mark.skipif(
    not os.environ.get("TEST_DATABASE_URL", "").startswith("postgresql"),
    reason="the large import runs against PostgreSQL, the production database; CI runs it with TEST_DATABASE_URL",
)
HEADER = "Email;First name;Last name;Site;Department;Manager email;Birth year;Role"


def hundred_thousand_people() -> bytes:
    """The largest file the import takes: 100,000 people with long names, under chains of managers ten deep."""
    lines = [HEADER]
    for i in range(MAX_PEOPLE):
        manager = f"person{i - 1}@large-import.test" if i % 10 else ""
        lines.append(f"person{i}@large-import.test;Marie-Christine{i};de La Fontaine-Dupont {i};Lyon;Department {i % 12};{manager};{1960 + i % 45};learner")
    return ("\r\n".join(lines) + "\r\n").encode("utf-8")


def test_a_file_of_a_hundred_thousand_people_is_imported_from_the_page(app, people, db_session):
    data = hundred_thousand_people()
    assert len(data) < MAX_BYTES
    hr = app.test_client()
    people.login(hr, people.create(Role.HR))
    started = time.perf_counter()
    page = upload(hr, data, filename="everyone.csv")
    elapsed = time.perf_counter() - started
    print(f"100,000 people imported in {elapsed:.1f} s")
    assert page.status_code == 200
    assert "Imported: 100,000 new, 0 updated." in page.get_data(as_text=True)
    record = db_session.scalar(select(PeopleImport).where(PeopleImport.filename == "everyone.csv"))
    assert (record.status, record.people_applied, record.people_total, len(record.awaiting_ids)) == (ImportStatus.DONE, MAX_PEOPLE, MAX_PEOPLE, MAX_PEOPLE)
    linked = select(func.count()).select_from(User).where(User.email.like("%@large-import.test"), User.manager_id.is_not(None))
    assert db_session.scalar(linked) == MAX_PEOPLE - MAX_PEOPLE // 10
