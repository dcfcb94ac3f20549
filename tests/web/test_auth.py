from pathlib import Path

import pytest
from sqlalchemy import func, select

from app import create_app
from app.accounts.views import LOGIN_FAILED
from app.config import ConfigError, load_config
from app.models import LoginFailure, Role, User
from app.security import hash_password, is_safe_next

from ..conftest import PASSWORD, csrf_token


def register_form(client, **overrides):
    token = csrf_token(client.get("/register").get_data(as_text=True))
    data = {
        "name": "Jeanne Martin",
        "email": "Jeanne.Martin@Example.test",
        "site": "Lyon",
        "department": "Claims",
        "password": "four random words here",
        "confirm": "four random words here",
        "csrf_token": token,
    } | overrides
    return client.post("/register", data=data)


def count_users(db_session):
    return db_session.scalar(select(func.count()).select_from(User))


def login(client, email, password):
    token = csrf_token(client.get("/login").get_data(as_text=True))
    return client.post("/login", data={"email": email, "password": password, "csrf_token": token})


def test_registration_creates_a_signed_in_learner_with_an_argon2id_hash(client, db_session):
    response = register_form(client)
    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    user = db_session.scalar(select(User).where(User.email == "jeanne.martin@example.test"))
    assert user is not None
    assert (user.role, user.site, user.department) == (Role.LEARNER, "Lyon", "Claims")
    assert user.password_hash.startswith("$argon2id$")
    assert "Hello, Jeanne Martin" in client.get("/").get_data(as_text=True)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"email": "not-an-address"}, "This is not a valid e-mail address."),
        ({"name": ""}, "Please enter your name."),
        ({"site": "Atlantis"}, "Please choose your site from the list."),
        ({"password": "short", "confirm": "short"}, "Use 10 to 128 characters."),
        ({"confirm": "something else entirely"}, "The two passwords differ."),
        ({"name": "x" * 121}, "“Full name” holds at most 120 characters, and this one has 121. Shorten it."),
    ],
)
def test_bad_registration_data_gives_400_with_a_clear_message_and_saves_nothing(client, db_session, overrides, message):
    before = count_users(db_session)
    response = register_form(client, **overrides)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert count_users(db_session) == before


def test_registering_an_existing_email_is_refused(client, people, db_session):
    people.create(email="jeanne.martin@example.test")
    response = register_form(client)
    assert response.status_code == 400
    assert "already exists" in response.get_data(as_text=True)
    assert count_users(db_session) == 1


def test_login_succeeds_with_any_case_of_email_and_goes_home(client, learner):
    response = login(client, learner.email.upper(), PASSWORD)
    assert response.status_code == 302
    assert response.headers["Location"] == "/"


def test_wrong_password_and_unknown_email_give_the_same_generic_message(client, learner):
    wrong_password = login(client, learner.email, "not the password")
    unknown_email = login(client, "nobody@example.test", PASSWORD)
    assert wrong_password.status_code == unknown_email.status_code == 401
    assert LOGIN_FAILED in wrong_password.get_data(as_text=True)
    assert LOGIN_FAILED in unknown_email.get_data(as_text=True)


def test_repeated_failures_on_one_account_are_throttled_with_429_even_with_the_right_password(client, learner, db_session):
    for _ in range(5):
        assert login(client, learner.email, "wrong password!").status_code == 401
    response = login(client, learner.email, PASSWORD)
    assert response.status_code == 429
    assert "Too many unsuccessful attempts" in response.get_data(as_text=True)
    assert response.headers["Retry-After"] == "900"


def test_failures_from_one_address_across_accounts_are_throttled(app, client, people):
    app.config["LOGIN_MAX_FAILURES_PER_ADDRESS"] = 3
    target = people.create()
    for index in range(3):
        login(client, f"someone{index}@example.test", "guess guess guess")
    assert login(client, target.email, PASSWORD).status_code == 429


def test_a_successful_login_clears_the_account_s_failures(client, learner, db_session):
    login(client, learner.email, "wrong password!")
    assert login(client, learner.email, PASSWORD).status_code == 302
    remaining = db_session.scalar(select(func.count()).select_from(LoginFailure).where(LoginFailure.key == f"account:{learner.email}"))
    assert remaining == 0


def test_a_deactivated_account_cannot_sign_in(client, people, db_session):
    user = people.create()
    user.active = False
    db_session.commit()
    assert login(client, user.email, PASSWORD).status_code == 401


@pytest.mark.parametrize(
    "target",
    [
        "//evil.example",
        "/\\evil.example",
        "////evil.example",
        "https://evil.example/",
        "https:/\\evil.example",
        "javascript:alert(1)",
        " /home",
        "\t//evil.example",
        "",
        "evil.example",
        "/ok\\..\\evil",
    ],
)
def test_unsafe_next_targets_are_refused(target):
    assert is_safe_next(target) is False


@pytest.mark.parametrize("target", ["/", "/themes", "/modules/search-like-a-pro?x=1#sec-try-it-now"])
def test_same_site_paths_are_accepted_as_next(target):
    assert is_safe_next(target) is True


def test_login_follows_a_safe_next_and_ignores_an_unsafe_one(client, learner):
    token = csrf_token(client.get("/login").get_data(as_text=True))
    response = client.post("/login?next=/themes", data={"email": learner.email, "password": PASSWORD, "csrf_token": token})
    assert response.headers["Location"] == "/themes"
    client.post("/logout", data={"csrf_token": csrf_token(client.get("/").get_data(as_text=True))})
    token = csrf_token(client.get("/login").get_data(as_text=True))
    response = client.post("/login?next=//evil.example", data={"email": learner.email, "password": PASSWORD, "csrf_token": token})
    assert response.headers["Location"] == "/"


def test_session_cookie_is_httponly_and_samesite_lax(client, learner):
    response = login(client, learner.email, PASSWORD)
    cookie = next(value for value in response.headers.getlist("Set-Cookie") if value.startswith("session="))
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie


def test_production_cookies_are_secure_and_a_secret_key_is_required(tmp_path: Path):
    with pytest.raises(ConfigError, match="SECRET_KEY is not set"):
        load_config(tmp_path, "production", {})
    config = load_config(tmp_path, "production", {"SECRET_KEY": "x" * 64})
    assert config["SESSION_COOKIE_SECURE"] is True
    assert config["REMEMBER_COOKIE_SECURE"] is True
    assert config["REMEMBER_COOKIE_SAMESITE"] == "Lax"


def test_production_password_hashes_use_owasp_argon2id_parameters(monkeypatch):
    monkeypatch.setenv("SECRET_KEY", "x" * 64)
    application = create_app("production", {"DATABASE_URL": "sqlite://", "SECRET_KEY": "x" * 64})
    with application.app_context():
        assert hash_password("a passphrase of words").startswith("$argon2id$v=19$m=47104,t=1,p=1$")


def test_logout_needs_a_post_with_its_csrf_token(learner_client):
    assert learner_client.get("/logout").status_code == 405
    assert learner_client.post("/logout").status_code == 400
    assert learner_client.get("/").status_code == 200  # still signed in
    token = csrf_token(learner_client.get("/").get_data(as_text=True))
    assert learner_client.post("/logout", data={"csrf_token": token}).status_code == 302
    assert learner_client.get("/").status_code == 302


def test_a_post_without_csrf_token_is_refused_with_a_friendly_page(learner_client):
    response = learner_client.post("/account/password", data={"current": PASSWORD, "password": "x" * 12, "confirm": "x" * 12})
    assert response.status_code == 400
    assert "this form had expired" in response.get_data(as_text=True)


def test_password_change_signs_out_other_sessions(app, learner, people):
    first, second = app.test_client(), app.test_client()
    people.login(first, learner)
    people.login(second, learner)
    token = csrf_token(first.get("/account/password").get_data(as_text=True))
    new = "a brand new passphrase"
    response = first.post("/account/password", data={"current": PASSWORD, "password": new, "confirm": new, "csrf_token": token})
    assert response.status_code == 302
    assert first.get("/").status_code == 200
    assert second.get("/").status_code == 302
    assert login(app.test_client(), learner.email, new).status_code == 302


def test_password_change_with_a_wrong_current_password_is_refused(learner_client):
    token = csrf_token(learner_client.get("/account/password").get_data(as_text=True))
    response = learner_client.post(
        "/account/password", data={"current": "wrong", "password": "x" * 12, "confirm": "x" * 12, "csrf_token": token}
    )
    assert response.status_code == 400
    assert "This is not your current password." in response.get_data(as_text=True)
