"""The shape of app/: one package per area, no import circle, and no view reaching into another area's views."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

APP = Path(__file__).resolve().parents[2] / "app"
AREAS = ("accounts", "learning", "sessions", "authoring", "people", "notifications", "hr")


def module_name(path: Path, root: Path = APP) -> str:
    """The dotted name of a module of app/ from its file."""
    parts = list(path.relative_to(root.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path: Path, modules: set[str], root: Path = APP) -> set[str]:
    """The modules of app/ that a file imports, wherever the import stands (functions included)."""
    name = module_name(path, root)
    package = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names if alias.name in modules}
        elif isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else []
            source = ".".join(base + ([node.module] if node.module else []))
            for alias in node.names:
                candidate = f"{source}.{alias.name}"
                found.add(candidate if candidate in modules else source)
    return {module for module in found if module in modules and module != name}


def import_graph(root: Path = APP) -> dict[str, set[str]]:
    """Each module of app/ (migrations aside) and the modules of app/ it imports."""
    files = [path for path in root.rglob("*.py") if "migrations" not in path.parts]
    modules = {module_name(path, root) for path in files}
    return {module_name(path, root): imports_of(path, modules, root) for path in files}


def circles(graph: dict[str, set[str]]) -> Iterator[list[str]]:
    """Every import circle, each found from its first module in a depth-first walk."""
    done: set[str] = set()

    def walk(module: str, path: list[str]) -> Iterator[list[str]]:
        for imported in sorted(graph.get(module, ())):
            if imported in path:
                yield [*path[path.index(imported) :], imported]
            elif imported not in done:
                done.add(imported)
                yield from walk(imported, [*path, imported])

    for module in sorted(graph):
        yield from walk(module, [module])


def area_of(module: str) -> str | None:
    """The area a module belongs to, or None for what the areas share."""
    parts = module.split(".")
    return parts[1] if len(parts) > 2 and parts[1] in AREAS else None


def is_view_module(module: str) -> bool:
    """Whether a module holds an area's pages (a blueprint)."""
    return module.rsplit(".", 1)[-1].endswith("views")


def test_every_area_is_a_package() -> None:
    assert [area for area in AREAS if not (APP / area / "__init__.py").is_file()] == []


def test_no_module_of_app_is_in_an_import_circle() -> None:
    assert list(circles(import_graph())) == []


def test_no_view_imports_another_areas_views() -> None:
    graph = import_graph()
    crossings = {
        (module, imported)
        for module, imported_modules in graph.items()
        for imported in imported_modules
        if is_view_module(imported) and area_of(imported) != area_of(module) and module != "app"
    }
    assert crossings == set()


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        ({"a.py": "from . import b\n", "b.py": "def f():\n    from .a import x\n"}, ["app.a", "app.b", "app.a"]),
        ({"a.py": "from . import b\n", "b.py": "import os\n"}, None),
    ],
)
def test_the_circle_check_sees_a_circle(tmp_path: Path, files: dict[str, str], expected: list[str] | None) -> None:
    root = tmp_path / "app"
    root.mkdir()
    (root / "__init__.py").write_text("")
    for name, text in files.items():
        (root / name).write_text(text)
    assert next(circles(import_graph(root)), None) == expected
