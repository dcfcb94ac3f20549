"""Configuration from the environment, with no insecure default outside development, demo and testing."""

from __future__ import annotations

import os
import secrets
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

MODES = ("production", "development", "demo", "testing")
MEDIA_MAX_BYTES = 2 * 1024 * 1024
DEFAULT_SITES = (
    "Paris - Head office",
    "Lyon",
    "Lille",
    "Marseille",
    "Bordeaux",
    "Nantes",
    "Strasbourg",
    "Toulouse",
    "Rennes",
    "Nice",
    "Montpellier",
    "Grenoble",
    "Rouen",
    "Dijon",
    "Tours",
    "Clermont-Ferrand",
    "Orleans",
    "Reims",
    "Metz",
    "Remote",
)


class ConfigError(RuntimeError):
    """The environment does not allow the platform to start safely."""


def load_config(instance_path: Path, mode: str | None = None, env: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Build the Flask configuration for `mode` (default: SPEAK_DIGITAL_ENV, else production) from `env`."""
    env = os.environ if env is None else env
    mode = mode or env.get("SPEAK_DIGITAL_ENV", "production")
    if mode not in MODES:
        raise ConfigError(f"SPEAK_DIGITAL_ENV must be one of {', '.join(MODES)}, not '{mode}'.")
    secure_cookies = env.get("SPEAK_DIGITAL_HTTPS", "1" if mode == "production" else "0") == "1"
    sites = tuple(s.strip() for s in env.get("SPEAK_DIGITAL_SITES", "").split(",") if s.strip()) or DEFAULT_SITES
    return {
        "MODE": mode,
        "TESTING": mode == "testing",
        "SECRET_KEY": _secret_key(mode, instance_path, env),
        "DATABASE_URL": env.get("DATABASE_URL") or f"sqlite:///{instance_path / f'speak-digital-{mode}.sqlite'}",
        "CONTENT_DIR": Path(env.get("SPEAK_DIGITAL_CONTENT", Path(__file__).resolve().parent.parent / "content")),
        "SITES": sites,
        "QUEUE_URL": _queue_url(mode, instance_path, env),
        "MAX_CONTENT_LENGTH": 1024 * 1024,
        # Image uploads alone may be larger: up to this, plus the form around the file (app/authoring/media.py).
        "MEDIA_MAX_BYTES": MEDIA_MAX_BYTES,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": secure_cookies,
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_SECURE": secure_cookies,
        "REMEMBER_COOKIE_DURATION": 14 * 24 * 3600,
        "PERMANENT_SESSION_LIFETIME": 12 * 3600,
        # A learner may read a module for a long while before submitting its quiz: the token lives as long as
        # the session, and an expired one re-shows the answers instead of losing them.
        "WTF_CSRF_TIME_LIMIT": None,
        "BOOKING_GUARD_HOURS": float(env.get("SPEAK_DIGITAL_BOOKING_GUARD_HOURS", "2")),
        "BOOKING_MAX_UPCOMING": int(env.get("SPEAK_DIGITAL_BOOKING_MAX_UPCOMING", "5")),
        "SESSION_LISTING_WEEKS": int(env.get("SPEAK_DIGITAL_SESSION_LISTING_WEEKS", "8")),
        "TIME_ZONE": env.get("SPEAK_DIGITAL_TIME_ZONE", "Europe/Paris"),
        # How far behind the records the HR figures may be, in seconds: the refresh job runs often enough to keep to it.
        "FIGURES_MAX_AGE": int(env.get("SPEAK_DIGITAL_FIGURES_MAX_AGE", "120")),
        "LOGIN_MAX_FAILURES_PER_ACCOUNT": int(env.get("SPEAK_DIGITAL_LOGIN_MAX_FAILURES", "5")),
        "LOGIN_MAX_FAILURES_PER_ADDRESS": int(env.get("SPEAK_DIGITAL_LOGIN_MAX_FAILURES_PER_ADDRESS", "30")),
        "LOGIN_FAILURE_WINDOW_SECONDS": int(env.get("SPEAK_DIGITAL_LOGIN_WINDOW", "900")),
        # Argon2id at OWASP's recommended cost; tests use the cheapest valid parameters to stay fast.
        "ARGON2_PARAMETERS": {"time_cost": 1, "memory_cost": 8, "parallelism": 1}
        if mode == "testing"
        else {"time_cost": 1, "memory_cost": 47104, "parallelism": 1},
        **_mail_settings(mode, instance_path, env),
    }


def _queue_url(mode: str, instance_path: Path, env: Mapping[str, str]) -> str:
    """Where background jobs wait: Redis in production, a SQLite file beside the embedded database.

    Tests run each job at once, whatever the environment says; a test that wants a real queue overrides this.
    """
    if mode == "testing":
        return "immediate"
    return env.get("SPEAK_DIGITAL_QUEUE_URL") or f"sqlite:///{instance_path / f'jobs-{mode}.sqlite'}"


def _mail_settings(mode: str, instance_path: Path, env: Mapping[str, str]) -> dict[str, Any]:
    """Where e-mail goes: an SMTP server when SPEAK_DIGITAL_SMTP_HOST is set, otherwise .eml files in a folder.

    Tests never reach a real server through the environment: in testing mode the SMTP host is only taken from
    explicit overrides, and the mail folder is a temporary one.
    """
    testing = mode == "testing"
    default_folder = Path(tempfile.gettempdir()) / "speak-digital-test-mail" if testing else instance_path / "mail"
    return {
        "SMTP_HOST": None if testing else env.get("SPEAK_DIGITAL_SMTP_HOST") or None,
        "SMTP_PORT": int(env.get("SPEAK_DIGITAL_SMTP_PORT", "25")),
        "SMTP_STARTTLS": env.get("SPEAK_DIGITAL_SMTP_STARTTLS", "0") == "1",
        "SMTP_USERNAME": env.get("SPEAK_DIGITAL_SMTP_USERNAME") or None,
        "SMTP_PASSWORD": env.get("SPEAK_DIGITAL_SMTP_PASSWORD") or None,
        "MAIL_FROM": env.get("SPEAK_DIGITAL_MAIL_FROM") or "Speak Digital <no-reply@speak-digital.invalid>",
        "MAIL_FOLDER": Path(env.get("SPEAK_DIGITAL_MAIL_FOLDER") or default_folder),
    }


def _secret_key(mode: str, instance_path: Path, env: Mapping[str, str]) -> str:
    key = env.get("SECRET_KEY", "")
    if key:
        return key
    if mode == "production":
        raise ConfigError("SECRET_KEY is not set. Set it to a long random value (python -c 'import secrets; print(secrets.token_hex(32))').")
    if mode == "testing":
        return secrets.token_hex(32)
    # Development and demo keep one random key in the instance folder, so sessions survive a restart.
    key_file = instance_path / "secret_key"
    if not key_file.exists():
        instance_path.mkdir(parents=True, exist_ok=True)
        key_file.write_text(secrets.token_hex(32), encoding="utf-8")
        key_file.chmod(0o600)
    return key_file.read_text(encoding="utf-8").strip()
