"""The course between its folder and the database: imports never overwrite browser edits silently, exports round-trip."""

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.authoring.content import ExportError, export_course, import_catalog, source_digest
from app.cli import main
from app.db import make_engine
from app.hr import refresh, rollups
from app.hr.models import DailyCount
from app.learning.services import open_module
from app.models import ModuleRecord, ModuleRevision, RevisionOrigin, Role, ThemeRecord, User, utcnow
from course import load_catalog

from ..conftest import CONTENT, prepare_database

MODULE = "search-like-a-pro"


@pytest.fixture
def session(tmp_path):
    """A session on a database of this test's own, with the course imported."""
    engine = prepare_database(f"sqlite:///{tmp_path / 'exchange.sqlite'}")
    with Session(engine) as session:
        yield session
    engine.dispose()


def _edit_in_browser(session: Session, module_id: str = MODULE, publish: bool = True, source: str | None = None) -> ModuleRevision:
    """What the editor does: a new revision by a mentor, published or left as a draft."""
    record = session.get(ModuleRecord, module_id)
    latest = session.scalar(select(func.max(ModuleRevision.number)).where(ModuleRevision.module_id == module_id))
    source = source if source is not None else record.current_revision.source.replace("## Try it now", "## Edited in the browser\n\nNew.\n\n## Try it now", 1)
    revision = ModuleRevision(
        module_id=module_id,
        number=latest + 1,
        source=source,
        source_sha256=source_digest(source),
        rendered=record.current_revision.rendered,
        problems=[],
        origin=RevisionOrigin.EDITOR,
        published_at=utcnow() if publish else None,
    )
    session.add(revision)
    session.flush()
    if publish:
        record.current_revision = revision
    session.commit()
    return revision


def _revisions(session: Session, module_id: str = MODULE) -> list[ModuleRevision]:
    return list(session.scalars(select(ModuleRevision).where(ModuleRevision.module_id == module_id).order_by(ModuleRevision.number)))


def test_imported_revisions_are_published_as_imports(session):
    (revision,) = _revisions(session)
    assert revision.origin is RevisionOrigin.IMPORT
    assert revision.published_at is not None
    assert session.get(ModuleRecord, MODULE).current_revision_id == revision.id


@pytest.mark.parametrize("publish", [True, False], ids=["published", "draft"])
def test_a_module_edited_in_the_browser_is_skipped_and_reported(session, publish):
    edited = _edit_in_browser(session, publish=publish)
    published_before = session.get(ModuleRecord, MODULE).current_revision_id
    report = import_catalog(session, load_catalog(CONTENT))
    assert report.conflicts == [MODULE]
    assert (report.created, report.updated, len(report.unchanged)) == ([], [], 15)
    assert MODULE not in report.unchanged
    summary = report.summary()
    assert "1 skipped" in summary
    assert MODULE in summary
    assert "--force" in summary
    assert session.get(ModuleRecord, MODULE).current_revision_id == published_before
    assert [r.id for r in _revisions(session)][-1] == edited.id
    again = import_catalog(session, load_catalog(CONTENT))
    assert again.conflicts == [MODULE]
    assert len(_revisions(session)) == 2
    forced = import_catalog(session, load_catalog(CONTENT), force=True)
    assert forced.updated == [MODULE]
    newest = _revisions(session)[-1]
    assert (newest.number, newest.origin, newest.source) == (3, RevisionOrigin.IMPORT, _revisions(session)[0].source)
    assert session.get(ModuleRecord, MODULE).current_revision_id == newest.id
    assert import_catalog(session, load_catalog(CONTENT)).unchanged == import_catalog(session, load_catalog(CONTENT), force=True).unchanged


def test_force_imports_the_file_as_a_new_published_revision(session):
    _edit_in_browser(session)
    report = import_catalog(session, load_catalog(CONTENT), force=True)
    assert (report.updated, report.conflicts, len(report.unchanged)) == ([MODULE], [], 15)
    revisions = _revisions(session)
    assert [(r.number, r.origin) for r in revisions] == [(1, RevisionOrigin.IMPORT), (2, RevisionOrigin.EDITOR), (3, RevisionOrigin.IMPORT)]
    newest = revisions[-1]
    assert newest.source == revisions[0].source
    assert newest.published_at is not None
    assert newest.author_id is None
    assert session.get(ModuleRecord, MODULE).current_revision_id == newest.id
    assert "conflict" not in report.summary().lower()
    forced_again = import_catalog(session, load_catalog(CONTENT), force=True)
    assert (forced_again.updated, len(forced_again.unchanged)) == ([], 16)
    assert import_catalog(session, load_catalog(CONTENT)).unchanged == forced_again.unchanged


def test_a_file_equal_to_the_browser_s_published_version_is_no_conflict(session, tmp_path):
    edited = _edit_in_browser(session)
    export_course(session, tmp_path / "exported")
    report = import_catalog(session, load_catalog(tmp_path / "exported"))
    assert (report.conflicts, report.updated, len(report.unchanged)) == ([], [], 16)
    assert session.get(ModuleRecord, MODULE).current_revision_id == edited.id


def test_a_later_import_of_a_changed_file_after_a_browser_edit_that_was_imported_over_is_a_plain_update(session, tmp_path):
    _edit_in_browser(session)
    import_catalog(session, load_catalog(CONTENT), force=True)
    changed = tmp_path / "changed"
    export_course(session, changed)
    path = changed / "1-information-management" / "02-search-like-a-pro.md"
    path.write_text(path.read_text(encoding="utf-8").replace("## Try it now", "## New in the file\n\nText.\n\n## Try it now", 1), encoding="utf-8")
    report = import_catalog(session, load_catalog(changed))
    assert (report.updated, report.conflicts) == ([MODULE], [])


def _files(root: Path) -> dict[str, bytes]:
    return {str(path.relative_to(root)): path.read_bytes() for path in sorted(root.rglob("*")) if path.is_file()}


def test_export_then_import_round_trips_byte_for_byte(tmp_path):
    first = prepare_database(f"sqlite:///{tmp_path / 'first.sqlite'}")
    with Session(first) as session:
        report = export_course(session, tmp_path / "one")
    assert (report.themes, report.modules, report.unpublished, report.others) == (5, 16, [], [])
    catalog = load_catalog(tmp_path / "one")
    assert (len(catalog.themes), len(catalog.modules)) == (5, 16)
    exported = _files(tmp_path / "one")
    assert len(exported) == 21
    shipped = {name: data for name, data in _files(CONTENT).items() if name.endswith(".md") and "/" in name}
    assert sorted(exported.values()) == sorted(shipped.values())
    second = prepare_database(f"sqlite:///{tmp_path / 'second.sqlite'}", content=tmp_path / "one")
    with Session(second) as session:
        export_course(session, tmp_path / "two")
    assert _files(tmp_path / "two") == exported
    with Session(first) as session:
        back = import_catalog(session, load_catalog(tmp_path / "one"))
        session.commit()
    assert (len(back.unchanged), back.created, back.updated, back.conflicts) == (16, [], [], [])
    first.dispose()
    second.dispose()


def test_export_writes_the_published_revision_not_a_later_draft(session, tmp_path):
    published = _edit_in_browser(session)
    _edit_in_browser(session, publish=False, source=published.source + "\nA draft line.\n")
    export_course(session, tmp_path / "out")
    text = (tmp_path / "out" / "1-information-management" / "02-search-like-a-pro.md").read_bytes()
    assert text == published.source.encode("utf-8")
    # The draft is newer than the exported file: importing the export does not bury it.
    assert import_catalog(session, load_catalog(tmp_path / "out")).conflicts == [MODULE]


def test_export_lists_files_it_did_not_write_and_modules_never_published(session, tmp_path):
    out = tmp_path / "out"
    (out / "1-information-management").mkdir(parents=True)
    (out / "1-information-management" / "09-old-name.md").write_text("old", encoding="utf-8")
    session.add(ModuleRecord(id="brand-new", theme_id="information-management", position=9, title="New", minutes=15, summary="", objectives=[], pass_mark=70, quiz_ids=[]))
    session.commit()
    report = export_course(session, out)
    assert report.unpublished == ["brand-new"]
    assert report.others == ["1-information-management/09-old-name.md"]
    assert "brand-new" in report.summary()
    assert "09-old-name.md" in report.summary()


def test_export_refuses_a_theme_without_its_source(session, tmp_path):
    session.get(ThemeRecord, "information-management").source = ""
    session.commit()
    with pytest.raises(ExportError, match="information-management"):
        export_course(session, tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_cli_reports_conflicts_then_forces_and_exports(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'cli.sqlite'}"
    monkeypatch.setenv("SPEAK_DIGITAL_ENV", "development")
    monkeypatch.setenv("DATABASE_URL", url)
    runner = CliRunner()
    runner.invoke(main, ["db", "upgrade"])
    assert "16 created" in runner.invoke(main, ["content", "import"]).output
    engine = make_engine(url)
    with Session(engine) as session:
        _edit_in_browser(session)
    skipped = runner.invoke(main, ["content", "import"])
    assert skipped.exit_code == 0, skipped.output
    assert "15 unchanged, 1 skipped" in skipped.output
    assert MODULE in skipped.output
    assert "content import --force" in skipped.output
    forced = runner.invoke(main, ["content", "import", "--force"])
    assert forced.exit_code == 0, forced.output
    assert "1 updated, 15 unchanged." in forced.output
    exported = runner.invoke(main, ["content", "export", str(tmp_path / "out")])
    assert exported.exit_code == 0, exported.output
    assert f"Exported 5 themes and 16 modules to {tmp_path / 'out'}." in exported.output
    assert (tmp_path / "out" / "1-information-management" / "02-search-like-a-pro.md").read_bytes() == (
        CONTENT / "1-information-management" / "02-search-like-a-pro.md"
    ).read_bytes()
    with Session(engine) as session:
        session.get(ThemeRecord, "information-management").source = ""
        session.commit()
    refused = runner.invoke(main, ["content", "export", str(tmp_path / "again")])
    assert refused.exit_code == 1
    assert "Import the course again" in refused.output
    engine.dispose()


def test_importing_a_new_module_recounts_everyone_s_figures_for_the_new_course(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'course-change.sqlite'}"
    monkeypatch.setenv("SPEAK_DIGITAL_ENV", "development")
    monkeypatch.setenv("DATABASE_URL", url)
    runner = CliRunner()
    assert runner.invoke(main, ["db", "upgrade"]).exit_code == 0
    runner.invoke(main, ["content", "import"])
    engine = make_engine(url)
    with Session(engine) as session:
        learner = User(email="l@example.test", name="L", password_hash="!unset", site="Lyon", role=Role.LEARNER)
        session.add(learner)
        session.flush()
        for module_id in ("keeping-informed", MODULE, "checking-sources-and-facts"):
            open_module(session, learner.id, module_id)
        session.commit()
    assert runner.invoke(main, ["statistics", "refresh"]).exit_code == 0
    content = tmp_path / "content"
    shutil.copytree(CONTENT, content)
    theme = content / "1-information-management"
    extra = (theme / "01-keeping-informed.md").read_text(encoding="utf-8").replace("id: keeping-informed", "id: keeping-informed-again")
    (theme / "04-keeping-informed-again.md").write_text(extra.replace("order: 1", "order: 4"), encoding="utf-8")
    imported = runner.invoke(main, ["content", "import", str(content)])
    assert imported.exit_code == 0, imported.output
    changed = runner.invoke(main, ["statistics", "refresh", "--changed"])
    assert "Full refresh of the HR figures: 1 learner(s) counted" in changed.output  # the course changed: everything is recounted
    with Session(engine) as session:
        assert refresh.counted_course(session) == rollups.published_course(session)
        counted = _daily_counts(session)
        assert counted[("", "", rollups.MODULE_OPENED, "keeping-informed")] == 1
        assert ("", "", rollups.THEME_COMPLETED, "information-management") not in counted
        refresh.full_refresh(session)
        assert _daily_counts(session) == counted
    engine.dispose()


def _daily_counts(session: Session) -> dict[tuple[str, str, str, str], int]:
    rows = session.execute(
        select(DailyCount.site, DailyCount.department, DailyCount.measure, DailyCount.subject, func.sum(DailyCount.n))
        .group_by(DailyCount.site, DailyCount.department, DailyCount.measure, DailyCount.subject)
    )
    return {(site, department, measure, subject): int(n) for site, department, measure, subject, n in rows if n}
