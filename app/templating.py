"""What every template may use: dates and durations for people, and the enums the pages test against."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask import Flask, current_app
from flask_login import current_user

from course.progress import ModuleStatus

from .models import Role

DISPLAY_ZONE = ZoneInfo("Europe/Paris")


def human_date(value: datetime | None) -> str:
    """A date as people write it, in the platform's time zone: 21 November 2026."""
    if value is None:
        return ""
    local = value.astimezone(DISPLAY_ZONE)
    return f"{local.day} {local:%B %Y}"


def local_datetime(value: datetime | None) -> str:
    """A moment as people read it in the platform's time zone: Tuesday 24 November 2026 at 14:00."""
    if value is None:
        return ""
    local = value.astimezone(ZoneInfo(current_app.config["TIME_ZONE"]))
    return f"{local:%A} {local.day} {local:%B %Y} at {local:%H:%M}"


def duration(minutes: int) -> str:
    """Minutes as people say them: 20 min, 1 h 15 min."""
    hours, rest = divmod(int(minutes), 60)
    if not hours:
        return f"{rest} min"
    return f"{hours} h {rest} min" if rest else f"{hours} h"


def register(app: Flask) -> None:
    """Install filters and globals."""
    app.add_template_filter(human_date)
    app.add_template_filter(duration)
    app.add_template_filter(local_datetime)

    @app.context_processor
    def shared() -> dict[str, Any]:
        return {
            "Role": Role,
            "ModuleStatus": ModuleStatus,
            # The proxy, not the account: only a page that reads it loads the account, so error pages never do.
            "current_user": current_user,
        }
