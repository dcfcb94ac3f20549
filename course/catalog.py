"""The catalog: a content folder to its ordered themes and modules, checked as a whole.

Layout: one sub-folder per theme holding `theme.md` and one file per module; a translation of a module
sits beside it as `NAME.LANG.md` and shares its ids. `load_catalog` returns a Catalog or raises a
ContentError listing every problem of every file: bad files, duplicate ids, modules of unknown themes,
order clashes, broken `module:` links and translations that drift from their original.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from .errors import ContentError, Problem
from .model import Module, Prose, Quiz, Theme
from .parse import parse_module, parse_theme

THEME_FILE = "theme.md"
TRANSLATION_RE = re.compile(r"^(?P<stem>.+)\.(?P<lang>[a-z]{2})\.md$")
# A `module:` link target, inline `[text](module:id)` or as a reference definition `[ref]: module:id`.
MODULE_LINK_RE = re.compile(r"(?:\]\(\s*<?|^ {0,3}\[[^\]]+\]:\s*<?)module:([^\s)#\"'>]*)", re.MULTILINE)
T = TypeVar("T")
K = TypeVar("K", bound=Hashable)


@dataclass(frozen=True)
class Catalog:
    """The whole course: themes in order, modules in order within each theme, and their translations."""

    themes: tuple[Theme, ...]
    modules: tuple[Module, ...]
    translations: tuple[Module, ...] = ()

    def theme(self, theme_id: str) -> Theme | None:
        """The theme with this id, or None."""
        return next((theme for theme in self.themes if theme.id == theme_id), None)

    def module(self, module_id: str) -> Module | None:
        """The module with this id, or None."""
        return next((module for module in self.modules if module.id == module_id), None)

    def modules_of(self, theme_id: str) -> tuple[Module, ...]:
        """The modules of one theme, in order."""
        return tuple(module for module in self.modules if module.theme == theme_id)

    def translation(self, module_id: str, lang: str) -> Module | None:
        """The translation of a module into `lang`, or None."""
        return next((m for m in self.translations if m.id == module_id and m.lang == lang), None)

    @property
    def question_count(self) -> int:
        """How many questions the whole course asks."""
        return sum(module.question_count for module in self.modules)

    @property
    def total_minutes(self) -> int:
        """The estimated study time of the whole course."""
        return sum(module.minutes for module in self.modules)


def load_catalog(root: Path | str) -> Catalog:
    """Read and check every theme and module below `root`; raise ContentError listing all problems."""
    root = Path(root)
    if not root.is_dir():
        raise ContentError([Problem(str(root), 0, "This folder does not exist.", "Give the path of the content folder.")])
    problems: list[Problem] = []
    themes: list[Theme] = []
    modules: list[Module] = []
    translations: list[Module] = []
    folder_theme: dict[Path, str] = {}
    for folder in sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")):
        theme_path = folder / THEME_FILE
        if not theme_path.is_file():
            problems.append(Problem(str(folder), 0, "This folder has no theme.md.", "Every theme folder needs a theme.md file."))
            continue
        theme = _load(theme_path, parse_theme, problems)
        if theme is not None:
            themes.append(theme)
            folder_theme[folder] = theme.id
        for path in sorted(folder.glob("*.md")):
            if path.name == THEME_FILE:
                continue
            module = _load(path, parse_module, problems)
            if module is None:
                continue
            (translations if TRANSLATION_RE.match(path.name) else modules).append(module)
            problems += _check_placement(module, path, folder_theme.get(folder))
    themes.sort(key=lambda t: t.order)
    theme_order = {theme.id: theme.order for theme in themes}
    modules.sort(key=lambda m: (theme_order.get(m.theme, 0), m.order))
    problems += _check_themes(themes)
    problems += _check_modules(modules, themes)
    problems += _check_links(modules + translations, {m.id for m in modules})
    problems += _check_translations(translations, {m.id: m for m in modules})
    if problems:
        raise ContentError(problems)
    return Catalog(tuple(themes), tuple(modules), tuple(translations))


def _load(path: Path, parse: Callable[[str, str], T], problems: list[Problem]) -> T | None:
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as error:
        problems.append(Problem(str(path), 1, f"The file is not UTF-8 text (byte {error.start}).", "Save it again as UTF-8."))
        return None
    try:
        return parse(text, str(path))
    except ContentError as error:
        problems.extend(error.problems)
        return None


def _check_placement(module: Module, path: Path, folder_theme: str | None) -> list[Problem]:
    problems = []
    translated = TRANSLATION_RE.match(path.name)
    if translated and module.lang != translated.group("lang"):
        problems.append(
            Problem(str(path), 1, f"The file name says '{translated.group('lang')}' but the field 'lang' says '{module.lang}'.", "Make them agree.")
        )
    if folder_theme is not None and module.theme != folder_theme:
        problems.append(
            Problem(
                str(path),
                1,
                f"The module says theme '{module.theme}' but sits in the folder of theme '{folder_theme}'.",
                "Move the file to its theme's folder, or correct the field 'theme'.",
            )
        )
    return problems


def _check_themes(themes: list[Theme]) -> list[Problem]:
    problems = [
        Problem(t.path, 1, f"The theme id '{t.id}' is already used by {first.path}.", "Give each theme its own id.")
        for t, first in _duplicates(themes, lambda t: t.id)
    ]
    problems += [
        Problem(t.path, 1, f"The theme order {t.order} is already used by {first.path}.", "Give each theme its own order.")
        for t, first in _duplicates(themes, lambda t: t.order)
    ]
    return problems


def _check_modules(modules: list[Module], themes: list[Theme]) -> list[Problem]:
    theme_ids = [theme.id for theme in themes]
    problems = [
        Problem(m.path, 1, f"The module id '{m.id}' is already used by {first.path}.", "Give each module its own id.")
        for m, first in _duplicates(modules, lambda m: m.id)
    ]
    problems += [
        Problem(m.path, 1, f"The module order {m.order} is already used in this theme by {first.path}.", "Give each module of a theme its own order.")
        for m, first in _duplicates(modules, lambda m: (m.theme, m.order))
    ]
    for module in modules:
        if module.theme not in theme_ids:
            close = difflib.get_close_matches(module.theme, theme_ids, n=1)
            hint = f"Did you mean '{close[0]}'?" if close else "The themes are: " + ", ".join(theme_ids) + "."
            problems.append(Problem(module.path, 1, f"The theme '{module.theme}' does not exist.", hint))
    return problems


def _duplicates(items: Iterable[T], key: Callable[[T], K]) -> list[tuple[T, T]]:
    """Each item whose key an earlier item already has, paired with that earlier item."""
    first: dict[K, T] = {}
    pairs = []
    for item in items:
        value = key(item)
        if value in first:
            pairs.append((item, first[value]))
        else:
            first[value] = item
    return pairs


def _check_links(modules: list[Module], known_ids: set[str]) -> list[Problem]:
    """Every `module:ID` link must name a module of the course."""
    problems = []
    for module in modules:
        for line, target in _module_links(module):
            if target not in known_ids:
                close = difflib.get_close_matches(target, sorted(known_ids), n=1)
                hint = f"Did you mean 'module:{close[0]}'?" if close else "Link to a module by its id, as in 'module:search-like-a-pro'."
                problems.append(Problem(module.path, line, f"The link 'module:{target}' points to no module.", hint))
    return problems


def _module_links(module: Module) -> Iterable[tuple[int, str]]:
    for block in module.blocks:
        if isinstance(block, Prose):
            for offset, text in enumerate(block.markdown.split("\n")):
                for match in MODULE_LINK_RE.finditer(text):
                    yield block.line + offset, match.group(1)
        elif isinstance(block, Quiz):
            for question in block.questions:
                texts = [question.prompt, question.explanation, *(c.text for c in question.choices), *(c.feedback for c in question.choices)]
                for match in MODULE_LINK_RE.finditer("\n".join(texts)):
                    yield question.line, match.group(1)


def _check_translations(translations: list[Module], originals: dict[str, Module]) -> list[Problem]:
    """A translation shares its original's id, theme and quiz structure, so progress carries across languages."""
    problems = []
    for translation in translations:
        original = originals.get(translation.id)
        if original is None:
            problems.append(
                Problem(translation.path, 1, f"This translation has no original module with id '{translation.id}'.", "Use the id of the module it translates.")
            )
            continue
        if translation.theme != original.theme:
            problems.append(Problem(translation.path, 1, f"This translation's theme differs from {original.path}.", "Use the same theme."))
        if _structure(translation) != _structure(original):
            problems.append(
                Problem(
                    translation.path,
                    1,
                    f"This translation's quizzes differ from {original.path}.",
                    "Keep the same quiz ids, question ids, kinds of question and number of choices as the original.",
                )
            )
    return problems


def _structure(module: Module) -> tuple[tuple[str, tuple[tuple[str, str, int], ...]], ...]:
    return tuple((q.id, tuple((x.id, x.kind.value, len(x.choices)) for x in q.questions)) for q in module.quizzes)
