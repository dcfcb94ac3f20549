"""Set-password links: signed, valid for 7 days, and dead once the password is set."""

from __future__ import annotations

from typing import Any

from itsdangerous import BadData, URLSafeTimedSerializer
from sqlalchemy.orm import Session

from ..models import User

TOKEN_MAX_AGE = 7 * 24 * 3600
TOKEN_SALT = "speak-digital.set-password"  # noqa: S105 - a signing namespace, not a credential
# The password of an account nobody has chosen a password for yet: not an Argon2 hash, so nothing matches it.
UNSET_PASSWORD = "!unset"  # noqa: S105 - a marker, not a credential


def _serializer(secret_key: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret_key, salt=TOKEN_SALT)


def password_token(user: User, secret_key: str) -> str:
    """A signed token naming the account and its current auth version: it dies when the password is set."""
    return _serializer(secret_key).dumps({"id": user.id, "v": user.auth_version})


def user_for_token(session: Session, token: str, secret_key: str) -> User | None:
    """The account a set-password token is for, if it is genuine, under 7 days old and not used yet."""
    try:
        payload: Any = _serializer(secret_key).loads(token, max_age=TOKEN_MAX_AGE)
    except BadData:
        return None
    if not isinstance(payload, dict) or not isinstance(payload.get("id"), int):
        return None
    user = session.get(User, payload["id"])
    if user is None or not user.active or user.auth_version != payload.get("v"):
        return None
    return user
