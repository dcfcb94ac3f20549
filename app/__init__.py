"""Speak Digital's web application: the factory that assembles configuration, extensions and blueprints."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Flask

from .config import load_config

ROOT = Path(__file__).resolve().parent.parent


def create_app(mode: str | None = None, overrides: dict[str, Any] | None = None) -> Flask:
    """Build the application for `mode` (production, development, demo or testing)."""
    app = Flask(__name__, template_folder=str(ROOT / "templates"), instance_path=str(ROOT / "instance"))
    app.config.update(load_config(Path(app.instance_path), mode))
    app.config.update(overrides or {})
    register_security(app)  # first, so that anonymous visitors are sent to sign in before any other check
    register_extensions(app)
    register_bounds(app)  # before the blueprints: their routes' ids are read by its converters
    register_blueprints(app)
    register_errorhandlers(app)
    register_template_helpers(app)
    return app


def register_extensions(app: Flask) -> None:
    """Database, CSRF protection and logins."""
    from .accounts.views import load_user
    from .extensions import csrf, db, login_manager
    from .jobs import queue

    db.init_app(app)
    queue.use(app)
    csrf.init_app(app)
    login_manager.init_app(app, add_context_processor=False)  # templates get a lazy one (templating.py)
    login_manager.user_loader(load_user)
    login_manager.login_view = "auth.login"
    login_manager.login_message = "Please sign in to continue."
    login_manager.session_protection = "basic"


def register_bounds(app: Flask) -> None:
    """What the database can hold and what makes sense: ids in the address, control characters, column lengths."""
    from .bounds import register

    register(app)


def register_blueprints(app: Flask) -> None:
    """One blueprint per area."""
    from .accounts.views import blueprint as auth
    from .authoring.media import blueprint as media
    from .authoring.views import blueprint as authoring
    from .health import blueprint as health
    from .hr.views import blueprint as hr
    from .learning.views import blueprint as learn
    from .people.import_views import blueprint as imports
    from .people.views import blueprint as admin
    from .sessions.mentor_views import blueprint as mentor
    from .sessions.views import blueprint as sessions

    app.register_blueprint(health)
    app.register_blueprint(auth)
    app.register_blueprint(learn)
    app.register_blueprint(sessions)
    app.register_blueprint(mentor)
    app.register_blueprint(authoring)
    app.register_blueprint(media)
    app.register_blueprint(admin)
    app.register_blueprint(hr)
    app.register_blueprint(imports)


def register_security(app: Flask) -> None:
    """Default deny for anonymous visitors, and protective headers on every response."""
    from .access import require_login_unless_public, set_security_headers

    app.before_request(require_login_unless_public)
    app.after_request(set_security_headers)


def register_errorhandlers(app: Flask) -> None:
    """Friendly pages for every error a visitor can cause."""
    from .errors import register

    register(app)


def register_template_helpers(app: Flask) -> None:
    """Filters and globals the templates share."""
    from .templating import register

    register(app)
