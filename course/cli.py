"""The `python -m course` command line: validate content and print the course's outline."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from .catalog import THEME_FILE, Catalog, load_catalog
from .errors import ContentError
from .parse import parse_module, parse_theme

DEFAULT_CONTENT = Path("content")


def main(argv: Sequence[str] | None = None, out: TextIO = sys.stdout) -> int:
    """Run the command line; return the exit status (0 valid, 1 problems found, 2 usage)."""
    parser = argparse.ArgumentParser(prog="python -m course", description="Check and outline the Speak Digital course.")
    commands = parser.add_subparsers(dest="command", required=True)
    for name, help_text in (("validate", "check every file and print a summary"), ("outline", "check, then print themes and modules")):
        command = commands.add_parser(name, help=help_text)
        command.add_argument("path", nargs="?", type=Path, default=DEFAULT_CONTENT, help="a content folder or one file")
    args = parser.parse_args(argv)
    try:
        if args.path.is_file():
            return _validate_file(args.path, out)
        catalog = load_catalog(args.path)
    except ContentError as error:
        for problem in error.problems:
            print(problem, file=out)
        print(f"{len(error.problems)} problem(s) found.", file=out)
        return 1
    print(summary(catalog), file=out)
    if args.command == "outline":
        print(outline(catalog), file=out)
    return 0


def _validate_file(path: Path, out: TextIO) -> int:
    text = path.read_text(encoding="utf-8", errors="replace")
    if path.name == THEME_FILE:
        theme = parse_theme(text, str(path))
        print(f"{path}: theme '{theme.id}' is valid.", file=out)
    else:
        module = parse_module(text, str(path))
        print(f"{path}: module '{module.id}' is valid ({module.question_count} questions, {module.minutes} minutes).", file=out)
    return 0


def summary(catalog: Catalog) -> str:
    """One line: how many themes, modules, questions and minutes the course holds."""
    return (
        f"Valid: {len(catalog.themes)} themes, {len(catalog.modules)} modules, "
        f"{catalog.question_count} questions, {catalog.total_minutes} minutes of study."
    )


def outline(catalog: Catalog) -> str:
    """The themes and their modules, in order, with each module's minutes and questions."""
    lines = []
    for theme in catalog.themes:
        lines.append(f"\n{theme.order}. {theme.title}")
        for module in catalog.modules_of(theme.id):
            lines.append(f"   {theme.order}.{module.order} {module.title} ({module.minutes} min, {module.question_count} questions)")
    return "\n".join(lines)
