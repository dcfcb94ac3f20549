"""The WSGI entry point for production servers: `gunicorn app.wsgi:application`."""

from . import create_app

application = create_app()
