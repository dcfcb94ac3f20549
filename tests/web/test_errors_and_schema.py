from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from click.testing import CliRunner
from sqlalchemy import select

from app import create_app
from app.authoring.content import import_catalog
from app.cli import main
from app.db import make_engine
from app.migrate import alembic_config, current_revision, drop_every_table, upgrade
from app.models import Base, ModuleRecord, ModuleRevision, Role, User
from course import load_catalog

from ..conftest import CONTENT


def test_upgrading_an_empty_database_to_head_gives_the_models_schema(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'fresh.sqlite'}")
    upgrade(engine)
    with engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert differences == []
    assert current_revision(engine) is not None
    engine.dispose()


def test_the_run_s_database_migrated_from_empty_has_the_models_schema(engine):
    with engine.connect() as connection:
        assert compare_metadata(MigrationContext.configure(connection), Base.metadata) == []


def test_an_unexpected_error_gives_500_with_a_plain_message(app, people, client):
    def explode():
        raise RuntimeError("secret internals")

    app.add_url_rule("/explode", "explode", explode)
    people.login(client, people.create())
    response = client.get("/explode")
    page = response.get_data(as_text=True)
    assert response.status_code == 500
    assert "Something went wrong on our side" in page
    assert "secret internals" not in page
    assert "Traceback" not in page


def test_an_oversized_request_gives_413(learner_client):
    response = learner_client.post("/modules/search-like-a-pro/quizzes/x", data={"q-x": "x" * (2 * 1024 * 1024)})
    assert response.status_code == 413


def test_a_wrong_method_gives_405_page(learner_client):
    response = learner_client.post("/themes")
    assert response.status_code == 405
    assert "This action is not possible here" in response.get_data(as_text=True)


def _write_course(root: Path, extra_body: str = "") -> None:
    for path in CONTENT.rglob("*.md"):
        target = root / path.relative_to(CONTENT)
        target.parent.mkdir(parents=True, exist_ok=True)
        text = path.read_text(encoding="utf-8")
        if path.name.startswith("02-search-like-a-pro"):
            text = text.replace("## Try it now", extra_body + "## Try it now", 1)
        target.write_text(text, encoding="utf-8")


def test_importing_twice_changes_nothing_and_a_changed_file_becomes_a_new_revision(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'import.sqlite'}")
    drop_every_table(engine)
    upgrade(engine)
    from sqlalchemy.orm import Session

    with Session(engine) as session:
        first = import_catalog(session, load_catalog(CONTENT))
        second = import_catalog(session, load_catalog(CONTENT))
        assert (len(first.created), len(second.unchanged), second.created, second.updated) == (16, 16, [], [])
        _write_course(tmp_path / "changed", "## A new section\n\nNew text.\n\n")
        third = import_catalog(session, load_catalog(tmp_path / "changed"))
        assert third.updated == ["search-like-a-pro"]
        record = session.get(ModuleRecord, "search-like-a-pro")
        assert record.current_revision.number == 2
        revisions = session.scalars(select(ModuleRevision).where(ModuleRevision.module_id == "search-like-a-pro")).all()
        assert [r.number for r in revisions] == [1, 2]
        assert "sec-a-new-section" in str(record.current_revision.rendered)
    engine.dispose()


def test_cli_upgrades_imports_and_creates_users(tmp_path, monkeypatch):
    monkeypatch.setenv("SPEAK_DIGITAL_ENV", "development")
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'cli.sqlite'}")
    runner = CliRunner()
    head = ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()
    assert f"Database schema at revision {head}." in runner.invoke(main, ["db", "upgrade"]).output
    assert "16 created" in runner.invoke(main, ["content", "import"]).output
    assert "16 unchanged" in runner.invoke(main, ["content", "import"]).output
    result = runner.invoke(
        main, ["users", "create", "--email", "HR@Example.test", "--name", "Hana R", "--site", "Lyon", "--role", "hr", "--password", "a long passphrase"]
    )
    assert "Created hr account" in result.output, result.output
    again = runner.invoke(main, ["users", "create", "--email", "hr@example.test", "--name", "x", "--site", "Lyon", "--password", "a long passphrase"])
    assert again.exit_code != 0
    assert "already exists" in again.output
    engine = make_engine(f"sqlite:///{tmp_path / 'cli.sqlite'}")
    from sqlalchemy.orm import Session

    with Session(engine) as session:
        user = session.scalar(select(User).where(User.email == "hr@example.test"))
        assert user is not None
        assert user.role is Role.HR
    engine.dispose()


def test_cli_refuses_a_broken_course_and_imports_nothing(tmp_path, monkeypatch):
    monkeypatch.setenv("SPEAK_DIGITAL_ENV", "development")
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'cli.sqlite'}")
    broken = tmp_path / "broken"
    _write_course(broken)
    (broken / "1-information-management" / "02-search-like-a-pro.md").write_text("no front matter", encoding="utf-8")
    runner = CliRunner()
    runner.invoke(main, ["db", "upgrade"])
    result = runner.invoke(main, ["content", "import", str(broken)])
    assert result.exit_code == 1
    assert "02-search-like-a-pro.md:1: The file must start with a front-matter block." in result.output


def test_production_refuses_to_start_without_a_secret_key(monkeypatch):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    from app.config import ConfigError

    with pytest.raises(ConfigError):
        create_app("production")
