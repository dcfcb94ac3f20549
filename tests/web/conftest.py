"""Fixtures for the web tests beyond the shared ones in tests/conftest.py."""

import pytest

from app.hr import privacy


@pytest.fixture
def figures_unsuppressed(monkeypatch):
    """No group counts as small, so that a test can check the HR figures of a tiny organisation; privacy is tested apart."""
    monkeypatch.setattr(privacy, "MIN_GROUP", 1)
