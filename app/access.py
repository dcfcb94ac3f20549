"""Who may see what: the explicit list of public endpoints, and the headers every response carries."""

from __future__ import annotations

from flask import Response, redirect, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response as BaseResponse

# Every other endpoint requires a signed-in user.
PUBLIC_ENDPOINTS = frozenset({"auth.login", "auth.register", "auth.set_password", "static", "learn.health", "health.ready"})

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self'",
        "font-src 'self'",
        "connect-src 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
        "object-src 'none'",
    ]
)


def require_login_unless_public() -> BaseResponse | None:
    """Send anonymous visitors of a non-public page to the login page, remembering where they were going."""
    if request.endpoint in PUBLIC_ENDPOINTS or request.endpoint is None or current_user.is_authenticated:
        return None
    target = request.full_path.rstrip("?") if request.method == "GET" else None
    return redirect(url_for("auth.login", next=target))


def set_security_headers(response: Response) -> Response:
    """A strict Content-Security-Policy and the usual protective headers."""
    response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    response.headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
    if request.endpoint != "static":
        response.headers.setdefault("Cache-Control", "no-store")
    return response
