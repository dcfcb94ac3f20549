"""Default deny: every page needs a signed-in user unless it is public, and role pages refuse other roles."""

from urllib.parse import parse_qs, urlsplit

import pytest
from werkzeug.exceptions import HTTPException

from app.access import PUBLIC_ENDPOINTS
from app.models import Role

from ..conftest import csrf_token

PAGES = [
    "/",
    "/themes",
    "/themes/information-management",
    "/themes/information-management/sessions",
    "/modules/search-like-a-pro",
    "/certificate",
    "/attempts/1",
    "/account/password",
    "/sessions",
    "/sessions/1",
    "/my-sessions",
    "/bookings/1/invitation.ics",
    "/bookings/1/feedback",
    "/mentor/",
    "/mentor/sessions/new",
    "/mentor/sessions/1/edit",
    "/mentor/sessions/1/attendance",
    "/mentor/profile",
    "/authoring/",
    "/authoring/modules/search-like-a-pro",
    "/authoring/modules/search-like-a-pro/history",
    "/authoring/modules/search-like-a-pro/diff?a=1&b=1",
    "/admin/users",
    "/admin/users/999999",
    "/media/999999/picture.png",
    "/hr/",
    "/hr/export/learning.csv",
    "/hr/learner-status",
    "/hr/people/import",
    "/hr/people/imports/1",
    "/hr/people/imports/1/progress.json",
    "/hr/people/imports/1/links.csv",
]
ACTIONS = [
    "/logout",
    "/modules/search-like-a-pro/quizzes/check-search",
    "/modules/search-like-a-pro/done",
    "/admin/users/1/role",
    "/sessions/1/book",
    "/bookings/1/cancel",
    "/notifications/read",
    "/mentor/sessions/1/cancel",
    "/authoring/modules/search-like-a-pro/images",
    "/authoring/modules",
    "/authoring/modules/search-like-a-pro",
    "/authoring/preview",
    "/authoring/modules/search-like-a-pro/restore/1",
    "/hr/learner-status",
    "/hr/people/import",
]
ADMIN_ONLY = {"/admin/users", "/admin/users/999999"}
MENTOR_ONLY = {p for p in PAGES if p.startswith(("/mentor/", "/authoring/"))}
HR_ONLY = {p for p in PAGES if p.startswith("/hr/")}
# Pages about one object that the sweep's fresh users do not have: they exist, but not for them.
NOT_THEIRS = {"/hr/people/imports/1", "/hr/people/imports/1/progress.json", "/hr/people/imports/1/links.csv", "/media/999999/picture.png", "/admin/users/999999", "/attempts/1", "/sessions/1", "/bookings/1/invitation.ics", "/bookings/1/feedback", "/mentor/sessions/1/edit", "/mentor/sessions/1/attendance"}


@pytest.mark.parametrize("path", PAGES)
def test_anonymous_visitor_of_a_page_is_sent_to_login_with_the_page_to_come_back_to(client, path):
    response = client.get(path)
    assert response.status_code == 302
    location = urlsplit(response.headers["Location"])
    assert location.path == "/login"
    assert parse_qs(location.query)["next"] == [path]


@pytest.mark.parametrize("path", ACTIONS)
def test_anonymous_post_is_sent_to_login_and_changes_nothing(client, path):
    response = client.post(path)
    assert response.status_code == 302
    assert response.headers["Location"] == "/login"


def _endpoint_of(adapter, path: str, method: str) -> str | None:
    try:
        return adapter.match(path.split("?", 1)[0], method=method)[0]
    except HTTPException:
        return None


def test_every_endpoint_is_public_or_covered_by_the_sweep(app):
    adapter = app.url_map.bind("localhost")
    swept = {_endpoint_of(adapter, path, "GET") for path in PAGES} | {_endpoint_of(adapter, path, "POST") for path in ACTIONS}
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()}
    assert endpoints - PUBLIC_ENDPOINTS - swept == set()


@pytest.mark.parametrize("role", [Role.LEARNER, Role.MENTOR, Role.HR, Role.ADMIN])
@pytest.mark.parametrize("path", PAGES)
def test_each_role_reaches_its_pages_and_gets_403_elsewhere(client, people, refresh_figures, role, path):
    people.login(client, people.create(role))
    refresh_figures()  # the HR exports answer 503 until the figures exist
    if (
        (path in ADMIN_ONLY and role is not Role.ADMIN)
        or (path in MENTOR_ONLY and role not in (Role.MENTOR, Role.ADMIN))
        or (path in HR_ONLY and role not in (Role.HR, Role.ADMIN))
    ):
        expected = 403
    elif path in NOT_THEIRS:
        expected = 404
    else:
        expected = 200
    assert client.get(path).status_code == expected


@pytest.mark.parametrize("role", [Role.LEARNER, Role.MENTOR, Role.HR])
def test_a_non_administrator_cannot_change_roles(client, people, role):
    user = people.create(role)
    people.login(client, user)
    token = csrf_token(client.get("/").get_data(as_text=True))
    response = client.post(f"/admin/users/{user.id}/role", data={"csrf_token": token, f"user-{user.id}-role": "admin"})
    assert response.status_code == 403
    people.session.refresh(user)
    assert user.role is role


@pytest.mark.parametrize("path", ["/login", "/register", "/healthz"])
def test_public_pages_need_no_sign_in(client, path):
    assert client.get(path).status_code == 200


@pytest.mark.parametrize(("role", "expected"), [(Role.LEARNER, 403), (Role.HR, 403), (Role.MENTOR, 400), (Role.ADMIN, 400)])
def test_only_mentors_and_administrators_may_upload_images(client, people, role, expected):
    people.login(client, people.create(role))
    token = csrf_token(client.get("/").get_data(as_text=True))
    # No file: mentors and administrators are told to choose one (400); other roles never get that far.
    response = client.post("/authoring/modules/search-like-a-pro/images", data={"csrf_token": token})
    assert response.status_code == expected
