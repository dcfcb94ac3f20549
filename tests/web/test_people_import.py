"""People import: the whole file is checked first, line by line; then an idempotent upsert with one-time password links."""

import io
import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from app.cli import main as cli
from app.hr import refresh, rollups
from app.hr.models import DailyCount
from app.learning.services import open_module
from app.models import ImportStatus, PeopleImport, Role, User
from app.people.importing import MAX_BYTES

from ..conftest import csrf_token

HEADER = "Email,First Name,Last Name,Site,Department,Manager Email,Birth Year,Role"
GOOD = [
    HEADER,
    "ana@example.test,Ana,Boss,Lyon,Claims,,1970,hr",
    "bob@example.test,Bob,Middle,Lyon,Claims,ana@example.test,1980,mentor",
    "cleo@example.test,Cléo,Learner,Nice,Sales,dan@example.test,,learner",  # manager further down the file
    "dan@example.test,Dan,Later,Nice,Sales,bob@example.test,1990,learner",
]


def csv_bytes(lines, separator=",", bom=False):
    text = "\r\n".join(line.replace(",", separator) for line in lines) + "\r\n"
    return (b"\xef\xbb\xbf" if bom else b"") + text.encode("utf-8")


@pytest.fixture
def hr(app, people):
    client = app.test_client()
    people.login(client, people.create(Role.HR))
    return client


def upload(client, data, filename="people.csv", follow_redirects=True):
    """Send a file as the import page does; the job runs at once in tests, so the report that follows is final."""
    token = csrf_token(client.get("/hr/people/import").get_data(as_text=True))
    # Encoded in memory: the test client would spool a large body to a temporary file that it never closes.
    boundary, body = encode_multipart({"csrf_token": token, "file": FileStorage(io.BytesIO(data), filename)})
    return client.post(
        "/hr/people/import", data=body, content_type=f"multipart/form-data; boundary={boundary}", follow_redirects=follow_redirects
    )


def imported(db_session):
    db_session.expire_all()
    return {u.email: u for u in db_session.scalars(select(User).where(User.email.like("%@example.test"), User.password_hash == "!unset"))}


def problems(response):
    """(line, field) pairs from the report table."""
    html = response.get_data(as_text=True)
    return re.findall(r'<tr><th scope="row">([^<]+)</th><td>([^<]+)</td>', html)


@pytest.mark.parametrize(("separator", "bom"), [(",", False), (";", False), (",", True), (";", True)])
def test_excel_files_with_either_separator_and_with_or_without_bom_import(hr, db_session, separator, bom):
    response = upload(hr, csv_bytes(GOOD, separator, bom))
    assert response.status_code == 200, problems(response)
    people = imported(db_session)
    assert set(people) == {"ana@example.test", "bob@example.test", "cleo@example.test", "dan@example.test"}
    assert people["cleo@example.test"].name == "Cléo Learner"
    assert people["cleo@example.test"].manager_id == people["dan@example.test"].id
    assert people["dan@example.test"].manager_id == people["bob@example.test"].id
    assert people["bob@example.test"].role is Role.MENTOR
    assert people["ana@example.test"].birth_year == 1970
    assert response.get_data(as_text=True).count("/set-password/") == 4


def test_headers_are_case_and_space_insensitive_and_birth_year_is_optional(hr, db_session):
    lines = ["  EMAIL ; first  name;LAST_NAME;site;Department;manager email;ROLE", "eve@example.test;Eve;Ng;Lyon;;;learner"]
    assert upload(hr, csv_bytes(lines)).status_code == 200
    assert imported(db_session)["eve@example.test"].department is None


def test_import_is_an_idempotent_upsert_by_email(hr, db_session):
    upload(hr, csv_bytes(GOOD))
    changed = [*GOOD[:3], GOOD[3].replace("Nice,Sales", "Lyon,Claims"), GOOD[4]]
    response = upload(hr, csv_bytes(changed))
    assert response.status_code == 200
    assert "0 new, 4 updated" in response.get_data(as_text=True)
    assert response.get_data(as_text=True).count("/set-password/") == 4  # nobody has chosen a password yet
    assert imported(db_session)["cleo@example.test"].site == "Lyon"
    assert db_session.scalar(select(func.count()).select_from(User).where(User.email.like("%@example.test"))) == 5  # the HR user too


def test_a_learner_moved_by_the_import_takes_their_figures_along(app, hr, db_session, people):
    upload(hr, csv_bytes(GOOD))
    dan = imported(db_session)["dan@example.test"]
    open_module(db_session, dan.id, "search-like-a-pro")
    db_session.commit()
    assert opened_on(db_session, site="Nice") == opened_on(db_session, department="Sales") == 1
    moved = [*GOOD[:4], GOOD[4].replace("Nice,Sales", "Lyon,Claims")]
    assert upload(hr, csv_bytes(moved)).status_code == 200
    assert opened_on(db_session, site="Nice") == opened_on(db_session, department="Sales") == 0
    assert opened_on(db_session, site="Lyon") == opened_on(db_session, department="Claims") == 1
    assert opened_on(db_session) == 1


def joined(db_session, site="", department=""):
    """Learners the rollup counts as joined, for everyone or one site or department, once the figures are refreshed."""
    refresh.refresh(db_session)
    counts = select(func.sum(DailyCount.n)).where(
        DailyCount.measure == rollups.LEARNER_JOINED, DailyCount.site == site, DailyCount.department == department
    )
    return db_session.scalar(counts) or 0


def test_imported_learners_count_as_new_learners_at_once_and_move_with_their_role_and_site(hr, db_session):
    before = joined(db_session)
    upload(hr, csv_bytes(GOOD))
    assert joined(db_session) == before + 2  # Cléo and Dan; Ana (hr) and Bob (mentor) are not learners
    assert joined(db_session, site="Nice") == joined(db_session, department="Sales") == 2
    changed = [*GOOD[:2], GOOD[2].replace("mentor", "learner"), GOOD[3], GOOD[4].replace("Nice,Sales", "Lyon,Claims")]
    assert upload(hr, csv_bytes(changed)).status_code == 200
    assert joined(db_session) == before + 3  # Bob became a learner
    assert joined(db_session, site="Nice") == 1
    assert joined(db_session, site="Lyon") == joined(db_session, department="Claims") == 2
    assert upload(hr, csv_bytes(changed)).status_code == 200  # importing again changes nothing
    assert joined(db_session) == before + 3


def opened_on(db_session, site="", department=""):
    """Modules opened by the learners of a site or department (everyone by default), as the refreshed rollup counts them."""
    refresh.refresh(db_session)
    counts = select(func.sum(DailyCount.n)).where(
        DailyCount.measure == rollups.MODULE_OPENED, DailyCount.site == site, DailyCount.department == department
    )
    return db_session.scalar(counts) or 0


def test_a_manager_who_already_has_an_account_is_found(hr, db_session, people):
    people.create(Role.LEARNER, email="Existing.Boss@example.test")
    assert upload(hr, csv_bytes([HEADER, "fay@example.test,Fay,X,Lyon,Claims,existing.boss@example.test,,learner"])).status_code == 200


BAD_LINES = [
    ("not-an-email,A,B,Lyon,Claims,,,learner", "email"),
    ("x@example.test,,B,Lyon,Claims,,,learner", "first name"),
    ("x@example.test,A,B,,Claims,,,learner", "site"),
    ("x@example.test,A,B,Lyon,Claims,nobody@example.test,,learner", "manager email"),
    ("x@example.test,A,B,Lyon,Claims,bad manager,,learner", "manager email"),
    ("x@example.test,A,B,Lyon,Claims,x@example.test,,learner", "manager email"),
    ("x@example.test,A,B,Lyon,Claims,,19x0,learner", "birth year"),
    ("x@example.test,A,B,Lyon,Claims,,,emperor", "role"),
    ("x@example.test,A,B,Lyon,Claims,,,admin", "role"),
    ("ana@example.test,A,B,Lyon,Claims,,,learner", "email"),  # the same person twice
]


@pytest.mark.parametrize(("line", "field"), BAD_LINES)
def test_a_bad_line_is_reported_with_its_number_and_nothing_is_imported(hr, db_session, line, field):
    response = upload(hr, csv_bytes([*GOOD, line]))
    assert response.status_code == 200
    assert "Nothing was imported: 1 problem to correct" in response.get_data(as_text=True)
    assert problems(response) == [("6", field)]
    assert imported(db_session) == {}


def test_a_management_loop_is_refused_on_every_line_of_the_loop(hr, db_session):
    lines = [HEADER, "a@example.test,A,A,Lyon,X,b@example.test,,learner", "b@example.test,B,B,Lyon,X,c@example.test,,learner",
             "c@example.test,C,C,Lyon,X,a@example.test,,learner", "d@example.test,D,D,Lyon,X,a@example.test,,learner"]  # fmt: skip
    response = upload(hr, csv_bytes(lines))
    assert problems(response) == [("2", "manager email"), ("3", "manager email"), ("4", "manager email")]
    assert imported(db_session) == {}


@pytest.mark.parametrize(
    ("data", "field"),
    [
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00", "file"),
        ("Email,Nom\r\néé,1\r\n".encode("latin-1"), "file"),
        (csv_bytes(["email,first name,last name,site,department,role", "x@example.test,A,B,Lyon,,learner"]), "manager email"),
        (b"", "header"),
        (b"x" * (MAX_BYTES + 10), "file"),
    ],
    ids=["not a csv", "not utf-8", "missing column", "empty", "over 20 MB"],
)
def test_a_file_that_is_not_a_people_list_is_a_400_report_at_once(hr, db_session, data, field):
    response = upload(hr, data)
    assert response.status_code == 400
    assert [f for _line, f in problems(response)] == [field]
    assert imported(db_session) == {}
    assert db_session.scalar(select(func.count()).select_from(PeopleImport)) == 0


def test_a_file_far_over_the_limit_is_a_400_report_too(hr):
    response = upload(hr, b"x" * (MAX_BYTES + 200_000))
    assert response.status_code == 400
    assert "larger than 20 MB. Split it into files of at most 100,000 people." in response.get_data(as_text=True)


def test_a_header_without_people_is_refused_in_the_report(hr, db_session):
    response = upload(hr, csv_bytes([HEADER]))
    assert problems(response) == [("2", "file")]


def test_hr_cannot_import_over_an_administrator(hr, people, db_session):
    people.create(Role.ADMIN, email="root@example.test")
    response = upload(hr, csv_bytes([HEADER, "root@example.test,R,Oot,Lyon,IT,,,learner"]))
    assert problems(response) == [("2", "role")]


def test_the_import_needs_its_csrf_token(hr):
    response = hr.post("/hr/people/import", data={"file": (io.BytesIO(csv_bytes(GOOD)), "p.csv")}, content_type="multipart/form-data")
    assert response.status_code == 400


def set_password_link(response):
    match = re.search(r"(/set-password/[A-Za-z0-9_.\-]+)", response.get_data(as_text=True))
    assert match
    return match.group(1)


def test_the_set_password_link_works_once(app, hr, db_session):
    link = set_password_link(upload(hr, csv_bytes([HEADER, "gus@example.test,Gus,New,Lyon,Claims,,,learner"])))
    visitor = app.test_client()
    page = visitor.get(link)
    assert page.status_code == 200
    token = csrf_token(page.get_data(as_text=True))
    response = visitor.post(link, data={"csrf_token": token, "password": "a long new password", "confirm": "a long new password"})
    assert response.status_code == 302
    assert response.headers["Location"] == "/login"
    login = visitor.get("/login")
    signed_in = visitor.post(
        "/login", data={"email": "gus@example.test", "password": "a long new password", "csrf_token": csrf_token(login.get_data(as_text=True))}
    )
    assert signed_in.status_code == 302
    assert app.test_client().get(link).status_code == 400


def test_a_tampered_link_is_refused(client):
    assert client.get("/set-password/not-a-token").status_code == 400


def test_the_cli_imports_and_prints_the_links(app, db_session, tmp_path):
    path = tmp_path / "people.csv"
    path.write_bytes(csv_bytes(GOOD, ";", bom=True))
    result = app.test_cli_runner().invoke(cli, ["people", "import", str(path)])
    assert result.exit_code == 0, result.output
    assert result.output.count("/set-password/") == 4
    assert len(imported(db_session)) == 4


def test_the_cli_reports_bad_lines_and_imports_nothing(app, db_session, tmp_path):
    path = tmp_path / "people.csv"
    path.write_bytes(csv_bytes([*GOOD, BAD_LINES[0][0]]))
    result = app.test_cli_runner().invoke(cli, ["people", "import", str(path)])
    assert result.exit_code == 1
    assert "line 6, email" in result.output
    assert imported(db_session) == {}


def report_of(db_session, filename="people.csv"):
    db_session.expire_all()
    return db_session.scalars(select(PeopleImport).where(PeopleImport.filename == filename).order_by(PeopleImport.id.desc())).first()


def test_the_upload_answers_at_once_with_the_report_page_of_its_import(hr, db_session):
    response = upload(hr, csv_bytes(GOOD), follow_redirects=False)
    assert response.status_code == 303
    record = report_of(db_session)
    assert response.headers["Location"] == f"/hr/people/imports/{record.id}"
    assert record.status is ImportStatus.DONE
    assert (record.people_total, record.people_applied, record.created_count, record.updated_count) == (4, 4, 4, 0)
    assert record.data is None  # the file holds personal data: it is not kept once imported
    page = hr.get("/hr/people/import").get_data(as_text=True)
    assert f"/hr/people/imports/{record.id}" in page  # listed among my recent imports
    assert "Imported" in page


def test_the_progress_of_an_import_can_be_followed(hr, db_session):
    upload(hr, csv_bytes(GOOD))
    record = report_of(db_session)
    state = hr.get(f"/hr/people/imports/{record.id}/progress.json").get_json()
    assert state == {"status": "done", "finished": True, "applied": 4, "total": 4}


def test_an_import_in_progress_shows_how_far_it_is_and_says_when_it_has_stopped_moving(hr, db_session, people):
    owner = db_session.scalar(select(User).where(User.role == Role.HR))
    record = PeopleImport(created_by_id=owner.id, filename="big.csv", allow_admin=False, status=ImportStatus.IMPORTING, data=b"x",
                          people_total=80_000, people_applied=12_000)  # fmt: skip
    db_session.add(record)
    db_session.commit()
    page = hr.get(f"/hr/people/imports/{record.id}").get_data(as_text=True)
    assert "Importing: 12,000 of 80,000 people done." in page
    assert 'value="15"' in page  # the progress bar
    assert "has not moved" not in page
    record.updated_at = record.updated_at - timedelta(minutes=11)
    db_session.commit()
    assert "has not moved for more than ten minutes" in hr.get(f"/hr/people/imports/{record.id}").get_data(as_text=True)


def test_an_import_is_seen_only_by_the_person_who_sent_it(app, hr, db_session, people):
    upload(hr, csv_bytes(GOOD))
    record = report_of(db_session)
    other = app.test_client()
    people.login(other, people.create(Role.HR, email="other.hr@example.test"))
    for path in (f"/hr/people/imports/{record.id}", f"/hr/people/imports/{record.id}/progress.json", f"/hr/people/imports/{record.id}/links.csv"):
        assert other.get(path).status_code == 404
    learner = app.test_client()
    people.login(learner, people.create(Role.LEARNER, email="someone@example.test"))
    assert learner.get(f"/hr/people/imports/{record.id}").status_code == 403
    assert hr.get("/hr/people/imports/99999999999/progress.json").status_code == 404


def test_every_link_is_in_the_download_while_the_page_shows_the_first_ones(hr, db_session, monkeypatch):
    from app.people import import_views as views

    monkeypatch.setattr(views, "LINKS_SHOWN", 2)
    page = upload(hr, csv_bytes(GOOD))
    assert page.get_data(as_text=True).count("/set-password/") == 2
    assert "The first 2 are shown below; the download has them all." in page.get_data(as_text=True)
    record = report_of(db_session)
    download = hr.get(f"/hr/people/imports/{record.id}/links.csv")
    assert download.headers["Content-Type"].startswith("text/csv")
    lines = download.get_data(as_text=True).lstrip("\ufeff").splitlines()
    assert lines[0] == "Name,E-mail,Set-password link"
    assert sorted(line.split(",")[1] for line in lines[1:]) == ["ana@example.test", "bob@example.test", "cleo@example.test", "dan@example.test"]


def test_a_link_that_was_used_is_no_longer_listed(app, hr, db_session):
    link = set_password_link(upload(hr, csv_bytes([HEADER, "gus@example.test,Gus,New,Lyon,Claims,,,learner"])))
    visitor = app.test_client()
    token = csrf_token(visitor.get(link).get_data(as_text=True))
    visitor.post(link, data={"csrf_token": token, "password": "a long new password", "confirm": "a long new password"})
    record = report_of(db_session)
    assert "/set-password/" not in hr.get(f"/hr/people/imports/{record.id}").get_data(as_text=True)


@pytest.mark.parametrize(
    ("line", "field", "message"),
    [
        ("x@example.test,A\x00,B,Lyon,Claims,,,learner", "first name", "invisible control character"),
        ("x@example.test,A,B,Lyon,Cla\x1bims,,,learner", "department", "invisible control character"),
        ("x@example.test,A,B,Lyon," + "C" * 200_000 + ",,,learner", "department", "This cell holds 200,000 characters"),
        ('x@example.test,A,B,Lyon,"Claims' + ",,,learner", "department", "a quote (&#34;) is probably never closed"),
    ],
    ids=["nul", "escape", "long cell", "a quote never closed"],
)
def test_cells_no_field_can_hold_are_refused_with_their_line(hr, db_session, line, field, message):
    response = upload(hr, csv_bytes([*GOOD, line]))
    assert response.status_code == 200
    assert problems(response) == [("6", field)]
    assert message in response.get_data(as_text=True)
    assert imported(db_session) == {}


def test_a_file_of_more_people_than_the_import_takes_is_refused(hr, db_session, monkeypatch):
    from app.people import importing as people_import

    monkeypatch.setattr(people_import, "MAX_PEOPLE", 3)
    response = upload(hr, csv_bytes(GOOD))
    assert "The file holds more than 3 people." in response.get_data(as_text=True)
    assert imported(db_session) == {}


def fail_linking_managers(monkeypatch):
    from app.people import importing as people_import

    def fail(*args):
        raise RuntimeError("the database went away")

    monkeypatch.setattr(people_import, "BATCH_SIZE", 2)
    monkeypatch.setattr(people_import, "_link_managers", fail)


def test_an_import_that_fails_midway_keeps_its_file_for_the_next_try_which_finishes_the_work(hr, db_session, monkeypatch):
    from app.people import importing as people_import
    from app.people.import_jobs import run_people_import

    real_link = people_import._link_managers
    fail_linking_managers(monkeypatch)
    page = upload(hr, csv_bytes(GOOD)).get_data(as_text=True)
    assert "Importing: 4 of 4 people done." in page  # the job will be tried again
    record = report_of(db_session)
    assert (record.status, record.people_applied) == (ImportStatus.IMPORTING, 4)
    assert record.data is not None
    assert len(imported(db_session)) == 4  # committed batch by batch
    monkeypatch.setattr(people_import, "_link_managers", real_link)
    run_people_import.call_local(record.id)  # what the queue's retry does
    record = report_of(db_session)
    assert (record.status, record.created_count, record.updated_count, record.data) == (ImportStatus.DONE, 0, 4, None)
    people = imported(db_session)
    assert people["cleo@example.test"].manager_id == people["dan@example.test"].id


def test_an_import_whose_last_try_fails_says_so_and_can_be_sent_again(hr, db_session, monkeypatch):
    from app.people.import_jobs import run_people_import

    monkeypatch.setattr(run_people_import.task_class, "default_retries", 0)
    fail_linking_managers(monkeypatch)
    response = upload(hr, csv_bytes(GOOD))
    assert response.status_code == 200
    assert "The import could not finish" in response.get_data(as_text=True)
    record = report_of(db_session)
    assert (record.status, record.people_applied, record.data) == (ImportStatus.FAILED, 4, None)


def test_large_files_are_applied_in_committed_batches(hr, db_session, monkeypatch):
    from app.people import importing as people_import

    monkeypatch.setattr(people_import, "BATCH_SIZE", 3)
    lines = [HEADER] + [f"p{i}@example.test,P,{i},Lyon,Claims,{f'p{i - 1}@example.test' if i else ''},,learner" for i in range(10)]
    response = upload(hr, csv_bytes(lines))
    assert "Imported: 10 new, 0 updated." in response.get_data(as_text=True)
    people = imported(db_session)
    assert all(people[f"p{i}@example.test"].manager_id == people[f"p{i - 1}@example.test"].id for i in range(1, 10))


def test_loops_are_found_in_a_chain_of_a_hundred_thousand_managers_in_one_walk():
    from app.people.importing import people_in_management_loops

    chain = {f"p{i}": f"p{i + 1}" for i in range(100_000)} | {"p100000": None}
    assert people_in_management_loops(chain) == set()
    looped = chain | {"p100000": "p50000"}
    assert people_in_management_loops(looped) == {f"p{i}" for i in range(50_000, 100_001)}
    assert people_in_management_loops({"a": "a", "b": "a", "c": None}) == {"a"}


def test_the_cli_commits_in_batches_and_says_how_far_it_is(app, db_session, tmp_path, monkeypatch):
    from app.people import importing as people_import

    monkeypatch.setattr(people_import, "BATCH_SIZE", 2)
    path = tmp_path / "people.csv"
    path.write_bytes(csv_bytes(GOOD))
    result = app.test_cli_runner().invoke(cli, ["people", "import", str(path)])
    assert result.exit_code == 0, result.output
    assert "2 people applied…" in result.output
    assert "4 people applied…" in result.output
    assert len(imported(db_session)) == 4
