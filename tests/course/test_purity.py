"""course/ is plain Python: it never imports the web or database layers."""

import ast
from pathlib import Path

FORBIDDEN = {"flask", "flask_login", "flask_wtf", "sqlalchemy", "alembic", "werkzeug", "app"}
COURSE = Path(__file__).resolve().parents[2] / "course"


def imported_roots(path: Path) -> set[str]:
    roots = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            roots |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            roots.add(node.module.split(".")[0])
    return roots


def test_course_package_imports_neither_flask_nor_sqlalchemy():
    offenders = {str(p.name): imported_roots(p) & FORBIDDEN for p in COURSE.rglob("*.py")}
    assert {name: found for name, found in offenders.items() if found} == {}


def test_the_check_sees_a_forbidden_import(tmp_path):
    sample = tmp_path / "x.py"
    sample.write_text("import os\nfrom sqlalchemy.orm import Session\n")
    assert imported_roots(sample) & FORBIDDEN == {"sqlalchemy"}
