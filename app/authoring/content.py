"""The course between its Markdown folder and the database: import (one new revision per changed module) and export.

An import never silently overwrites work done in the browser: a module whose newest revision was made in the
editor, and whose file differs from it, is skipped and reported as a conflict unless the import is forced.
An export writes every theme's source and every module's published source back as the folder they came from.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from course import Catalog, Module, Theme, render_markdown, render_module
from course.catalog import THEME_FILE

from ..models import ModuleRecord, ModuleRevision, RevisionOrigin, ThemeRecord, utcnow

MODULE_HREF = "/modules/{id}"


@dataclass
class ImportReport:
    """What an import did, module by module."""

    themes: int = 0
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    # Modules edited in the browser since their last import whose file differs: left as they are.
    conflicts: list[str] = field(default_factory=list)

    def summary(self) -> str:
        """One line for people, and the conflicts, if any, with what to do about them."""
        line = (
            f"{self.themes} themes; modules: {len(self.created)} created, {len(self.updated)} updated, "
            f"{len(self.unchanged)} unchanged"
        )
        if not self.conflicts:
            return line + "."
        return (
            f"{line}, {len(self.conflicts)} skipped.\n"
            f"Skipped because they were changed in the browser since their last import, and their file differs: "
            f"{', '.join(self.conflicts)}.\n"
            "Copy those changes into the files (speak-digital content export writes them out), or run "
            "'speak-digital content import --force' to replace the browser's version with the files."
        )


def source_digest(source: str) -> str:
    """The SHA-256 of a module's source, to tell a changed file from an unchanged one."""
    return hashlib.sha256(source.encode("utf-8")).hexdigest()


def import_catalog(session: Session, catalog: Catalog, force: bool = False) -> ImportReport:
    """Bring the database in line with `catalog`: upsert themes, add a published revision to every changed module.

    A module changed in the browser since its last import is skipped and reported as a conflict, unless `force`.
    """
    report = ImportReport(themes=len(catalog.themes))
    for theme in catalog.themes:
        _upsert_theme(session, theme)
    session.flush()
    for module in catalog.modules:
        outcome = _import_module(session, module, force)
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
    record.source = theme.source
    record.updated_at = utcnow()
    session.add(record)


def _latest_revision(session: Session, module_id: str) -> ModuleRevision | None:
    return session.scalar(select(ModuleRevision).where(ModuleRevision.module_id == module_id).order_by(ModuleRevision.number.desc()).limit(1))


def _import_module(session: Session, module: Module, force: bool) -> str:
    digest = source_digest(module.source)
    record = session.get(ModuleRecord, module.id)
    current = record.current_revision if record else None
    latest = _latest_revision(session, module.id) if record is not None else None
    # The newest revision was made in the browser and the file says something else: never overwritten silently.
    edited_in_browser = latest is not None and latest.origin is RevisionOrigin.EDITOR and latest.source_sha256 != digest
    if edited_in_browser and not force:
        return "conflicts"
    if not edited_in_browser and current is not None and current.source_sha256 == digest:
        return "unchanged"
    outcome = "created" if record is None else "updated"
    record = record or ModuleRecord(id=module.id)
    copy_outline(record, module)
    session.add(record)
    session.flush()
    now = utcnow()
    revision = ModuleRevision(
        module_id=module.id,
        number=(latest.number if latest is not None else 0) + 1,
        source=module.source,
        source_sha256=digest,
        rendered=render_module(module, MODULE_HREF).to_dict(),
        problems=[],
        origin=RevisionOrigin.IMPORT,
        author_id=None,
        published_at=now,
        created_at=now,
    )
    session.add(revision)
    session.flush()
    record.current_revision = revision
    return outcome


def copy_outline(record: ModuleRecord, module: Module) -> None:
    """Copy what the catalog shows of a module from its parsed source onto its record."""
    record.theme_id = module.theme
    record.position = module.order
    record.title = module.title
    record.minutes = module.minutes
    record.summary = module.summary
    record.objectives = list(module.objectives)
    record.pass_mark = module.pass_mark
    record.quiz_ids = [quiz.id for quiz in module.quizzes]
    record.updated_at = utcnow()


class ExportError(Exception):
    """The course cannot be exported as it stands; the message says why and what to do."""


@dataclass
class ExportReport:
    """What an export wrote."""

    directory: Path
    themes: int = 0
    modules: int = 0
    # Modules that were never published (only drafts in the browser): they have nothing to export.
    unpublished: list[str] = field(default_factory=list)
    # Markdown files already in the folder that the export did not write (translations, old names).
    others: list[str] = field(default_factory=list)

    def summary(self) -> str:
        """A few lines for people."""
        lines = [f"Exported {self.themes} themes and {self.modules} modules to {self.directory}."]
        if self.unpublished:
            lines.append(f"Not exported, never published: {', '.join(self.unpublished)}.")
        if self.others:
            lines.append(f"Left as they were, not written by this export: {', '.join(self.others)}. Remove any that no longer belong.")
        return "\n".join(lines)


def theme_folder(theme: ThemeRecord) -> str:
    """The folder name of a theme in the content folder, such as `1-information-management`."""
    return f"{theme.position}-{theme.id}"


def module_filename(record: ModuleRecord) -> str:
    """The file name of a module in its theme's folder, such as `02-search-like-a-pro.md`."""
    # Two digits, because a position never passes MAX_ORDER (99): the files of a theme sort in their order.
    return f"{record.position:02d}-{record.id}.md"


def export_course(session: Session, directory: Path | str) -> ExportReport:
    """Write every theme's source and every module's published source to `directory`, as the content folder holds them."""
    directory = Path(directory)
    themes = list(session.scalars(select(ThemeRecord).order_by(ThemeRecord.position, ThemeRecord.id)))
    missing = [theme.id for theme in themes if not theme.source]
    if missing:
        raise ExportError(f"The source of these themes was never recorded: {', '.join(missing)}. Import the course again, then export.")
    folders = {theme.id: directory / theme_folder(theme) for theme in themes}
    records = list(session.scalars(select(ModuleRecord).order_by(ModuleRecord.theme_id, ModuleRecord.position, ModuleRecord.id)))
    report = ExportReport(directory)
    files: dict[Path, str] = {folders[theme.id] / THEME_FILE: theme.source for theme in themes}
    for record in records:
        if record.current_revision is None:
            report.unpublished.append(record.id)
            continue
        if record.theme_id not in folders:
            raise ExportError(f"The module '{record.id}' belongs to the theme '{record.theme_id}', which does not exist. Import the course again.")
        files[folders[record.theme_id] / module_filename(record)] = record.current_revision.source
        report.modules += 1
    report.themes = len(themes)
    for path, source in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(source.encode("utf-8"))
    report.others = sorted(str(p.relative_to(directory)) for p in directory.glob("*/*.md") if p not in files)
    return report
