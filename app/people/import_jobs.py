"""People imports sent from the HR page: kept as a row, checked and applied by a background job, reported on.

The request only stores the file and enqueues the job; the job checks the whole file, then applies it in
committed batches, recording its progress after each, and finally drops the file (it holds personal data) and
keeps the report. A job that fails is tried again; the import is idempotent, so a retry finishes the work.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import abort
from sqlalchemy import select
from sqlalchemy.orm import Session

from ..extensions import db
from ..jobs import enqueue_after_commit, job
from ..models import ImportStatus, PeopleImport, User, utcnow
from .importing import ImportRefusedError, ImportResult, Problem, apply_people, validate

# At most this many problems are kept with a refused import: enough to correct a file, never a copy of it.
MAX_PROBLEMS_KEPT = 1_000
# An import that has not moved for this long was probably cut short (a worker stopped): the page says so.
STALE_AFTER = timedelta(minutes=10)
RECENT_IMPORTS = 10


def start_import(session: Session, user: User, filename: str, data: bytes, allow_admin: bool) -> PeopleImport:
    """Record the file sent by `user` and have it imported in the background once this request commits."""
    record = PeopleImport(created_by_id=user.id, filename=filename[:200] or "people.csv", data=data, allow_admin=allow_admin)
    session.add(record)
    session.flush()
    enqueue_after_commit(run_people_import, record.id)
    return record


def import_or_404(import_id: int, owner: User) -> PeopleImport:
    """The import `owner` sent with this id; anyone else's, or none, is a 404 (its links open accounts)."""
    record = db.session.get(PeopleImport, import_id)
    if record is None or record.created_by_id != owner.id:
        abort(404)
    return record


def recent_imports(session: Session, owner: User) -> list[PeopleImport]:
    """The last imports `owner` sent, newest first."""
    query = select(PeopleImport).where(PeopleImport.created_by_id == owner.id).order_by(PeopleImport.id.desc()).limit(RECENT_IMPORTS)
    return list(session.scalars(query))


def is_stale(record: PeopleImport) -> bool:
    """True when an unfinished import has not moved for a long while."""
    return not record.status.is_finished and utcnow() - record.updated_at > STALE_AFTER


def problems_of(record: PeopleImport) -> list[Problem]:
    """The problems kept with a refused import."""
    return [Problem(line, field, message) for line, field, message in record.problems or []]


@job(retries=2, retry_delay=30, context=True)
def run_people_import(import_id: int, task: Any = None) -> None:
    """Check and apply one import, committing after each batch; the last failed try marks it failed."""
    session = db.session
    record = session.get(PeopleImport, import_id)
    if record is None or record.status.is_finished or record.data is None:
        return  # already done by an earlier delivery of the same job
    _advance(session, record, ImportStatus.CHECKING)
    try:
        try:
            rows, ids = validate(session, record.data, record.allow_admin)
        except ImportRefusedError as refused:
            _finish(session, import_id, ImportStatus.REFUSED, ImportResult(problems=refused.problems))
            return
        record.people_total = len(rows)
        _advance(session, record, ImportStatus.IMPORTING)
        result = apply_people(session, rows, ids, after_batch=lambda people: _record_progress(session, import_id, people))
    except Exception:
        session.rollback()
        if task is None or not task.retries:
            _finish(session, import_id, ImportStatus.FAILED)
        raise
    _finish(session, import_id, ImportStatus.DONE, result)


def _advance(session: Session, record: PeopleImport, status: ImportStatus) -> None:
    record.status, record.updated_at = status, utcnow()
    session.commit()


def _record_progress(session: Session, import_id: int, people: int) -> None:
    """Commit the batch just applied with the import's progress, and let go of the people it loaded."""
    record = session.get(PeopleImport, import_id)
    if record is None:
        return
    record.people_applied += people
    record.updated_at = utcnow()
    session.commit()
    session.expunge_all()  # a large file would otherwise keep every account it touched in memory


def _finish(session: Session, import_id: int, status: ImportStatus, result: ImportResult | None = None) -> None:
    record = session.get(PeopleImport, import_id)
    if record is None:
        return
    record.status, record.data = status, None
    record.finished_at = record.updated_at = utcnow()
    if result is not None:
        record.created_count, record.updated_count = len(result.created), len(result.updated)
        record.awaiting_ids = result.awaiting_password
        record.problem_count = len(result.problems)
        record.problems = [[p.line, p.field, p.message] for p in result.problems[:MAX_PROBLEMS_KEPT]]
    session.commit()
