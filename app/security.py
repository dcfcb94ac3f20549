"""Passwords, safe redirects, role checks and login throttling."""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from datetime import timedelta
from typing import Any, TypeVar, cast
from urllib.parse import urlsplit

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import abort, current_app
from flask_login import current_user
from sqlalchemy import delete, func, select

from .extensions import db
from .models import LoginFailure, Role, User, utcnow

F = TypeVar("F", bound=Callable[..., Any])
# Never a real hash: compared against when the e-mail is unknown, so both paths take the same time.
_DUMMY_HASH_PASSWORD = "speak-digital-timing-equaliser"  # noqa: S105 - not a credential


def _hasher_for(parameters: dict[str, int]) -> PasswordHasher:
    return PasswordHasher(
        time_cost=parameters["time_cost"], memory_cost=parameters["memory_cost"], parallelism=parameters["parallelism"]
    )


def _hasher() -> PasswordHasher:
    return _hasher_for(current_app.config["ARGON2_PARAMETERS"])


@functools.lru_cache(maxsize=4)
def _dummy_hash(parameters: tuple[tuple[str, int], ...]) -> str:
    return _hasher_for(dict(parameters)).hash(_DUMMY_HASH_PASSWORD)


def hash_password(password: str) -> str:
    """An Argon2id hash of `password` at the configured cost."""
    return _hasher().hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """True when `password` matches; an unknown account (no hash) costs the same time as a wrong password."""
    hasher = _hasher()
    parameters = tuple(sorted(current_app.config["ARGON2_PARAMETERS"].items()))
    try:
        return hasher.verify(password_hash or _dummy_hash(parameters), password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    """True when a stored hash was made at a lower cost than the current one."""
    return _hasher().check_needs_rehash(password_hash)


_SCHEME_RE = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:")


def is_safe_next(target: str | None) -> bool:
    r"""True only for a path on this site: '/x' yes; '//host', '/\host', 'https:...', '  /x' no."""
    if not target or not target.startswith("/") or target.startswith(("//", "/\\")):
        return False
    if "\\" in target or any(ord(ch) < 0x21 or ord(ch) == 0x7F for ch in target):
        return False
    parts = urlsplit(target)
    return not parts.scheme and not parts.netloc and not _SCHEME_RE.match(target)


def signed_in_user() -> User:
    """The person making the request; only called behind the login wall, so never anonymous."""
    user: User = current_user
    return user


def role_required(*roles: Role) -> Callable[[F], F]:
    """Let a logged-in user with one of `roles` through; answer 403 to anyone else."""

    def decorate(view: F) -> F:
        @functools.wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            if not current_user.is_authenticated or not current_user.has_role(*roles):
                abort(403)
            return view(*args, **kwargs)

        return cast(F, wrapped)

    return decorate


def throttle_keys(email: str, address: str | None) -> tuple[str, str]:
    """The counters a login attempt is checked against: one for the account, one for the address."""
    return f"account:{email.strip().lower()}", f"address:{address or 'unknown'}"


def is_login_throttled(email: str, address: str | None) -> bool:
    """True when the account or the address failed too often within the window."""
    config = current_app.config
    since = utcnow() - timedelta(seconds=config["LOGIN_FAILURE_WINDOW_SECONDS"])
    account_key, address_key = throttle_keys(email, address)
    counts = dict(
        db.session.execute(
            select(LoginFailure.key, func.count())
            .where(LoginFailure.key.in_([account_key, address_key]), LoginFailure.at >= since)
            .group_by(LoginFailure.key)
        ).all()
    )
    return bool(
        counts.get(account_key, 0) >= config["LOGIN_MAX_FAILURES_PER_ACCOUNT"]
        or counts.get(address_key, 0) >= config["LOGIN_MAX_FAILURES_PER_ADDRESS"]
    )


def record_login_failure(email: str, address: str | None) -> None:
    """Count a failed login against the account and the address, kept even though the request fails."""
    now = utcnow()
    db.session.add_all([LoginFailure(key=key, at=now) for key in throttle_keys(email, address)])
    db.keep_changes_on_error()


def clear_login_failures(email: str) -> None:
    """Forget an account's failures after a successful login."""
    account_key, _ = throttle_keys(email, None)
    db.session.execute(delete(LoginFailure).where(LoginFailure.key == account_key))
