"""Importing the course from its Markdown folder into the database, one new revision per changed module."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from course import Catalog, Module, Theme, render_markdown, render_module

from .models import ModuleRecord, ModuleRevision, ThemeRecord, utcnow

MODULE_HREF = "/modules/{id}"


@dataclass
class ImportReport:
    """What an import did, module by module."""

    themes: int = 0
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)

    def summary(self) -> str:
        """One line for people."""
        return (
            f"{self.themes} themes; modules: {len(self.created)} created, {len(self.updated)} updated, "
            f"{len(self.unchanged)} unchanged."
        )


def source_digest(source: str) -> str:
    """The SHA-256 of a module's source, to tell a changed file from an unchanged one."""
    return hashlib.sha256(source.encode("utf-8")).hexdigest()


def import_catalog(session: Session, catalog: Catalog) -> ImportReport:
    """Bring the database in line with `catalog`: upsert themes, add a revision to every changed module."""
    report = ImportReport(themes=len(catalog.themes))
    for theme in catalog.themes:
        _upsert_theme(session, theme)
    session.flush()
    for module in catalog.modules:
        outcome = _import_module(session, module)
        getattr(report, outcome).append(module.id)
    session.flush()
    return report


def _upsert_theme(session: Session, theme: Theme) -> None:
    record = session.get(ThemeRecord, theme.id) or ThemeRecord(id=theme.id)
    record.title = theme.title
    record.position = theme.order
    record.summary = theme.summary
    record.live_session = list(theme.live_session)
    record.introduction_html = render_markdown(theme.introduction, {"module_href": MODULE_HREF}).html
    record.updated_at = utcnow()
    session.add(record)


def _import_module(session: Session, module: Module) -> str:
    digest = source_digest(module.source)
    record = session.get(ModuleRecord, module.id)
    current = record.current_revision if record else None
    if current is not None and current.source_sha256 == digest:
        return "unchanged"
    outcome = "created" if record is None else "updated"
    record = record or ModuleRecord(id=module.id)
    _copy_outline(record, module)
    session.add(record)
    session.flush()
    number = (session.scalar(select(func.max(ModuleRevision.number)).where(ModuleRevision.module_id == module.id)) or 0) + 1
    revision = ModuleRevision(
        module_id=module.id,
        number=number,
        source=module.source,
        source_sha256=digest,
        rendered=render_module(module, MODULE_HREF).to_dict(),
    )
    session.add(revision)
    session.flush()
    record.current_revision = revision
    return outcome


def _copy_outline(record: ModuleRecord, module: Module) -> None:
    record.theme_id = module.theme
    record.position = module.order
    record.title = module.title
    record.minutes = module.minutes
    record.summary = module.summary
    record.objectives = list(module.objectives)
    record.pass_mark = module.pass_mark
    record.quiz_ids = [quiz.id for quiz in module.quizzes]
    record.updated_at = utcnow()
