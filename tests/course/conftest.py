from pathlib import Path

import pytest

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"


@pytest.fixture
def valid_source() -> str:
    return (FIXTURES / "valid_module.md").read_text(encoding="utf-8")
