"""Front matter: the `---` block that opens every content file, read with line numbers.

`split_front_matter` separates the block from the body; `read_fields` checks each field against a
schema of typed field specs and reports every problem with the line it stands on.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import yaml

from .errors import Problem

FENCE = "---"
SLUG_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
SLUG_MAX = 60
SLUG_HINT = "Use lowercase letters, digits and single hyphens, for example 'search-like-a-pro'."


@dataclass(frozen=True)
class FrontMatter:
    """The raw fields of a front-matter block and where the body starts."""

    nodes: tuple[tuple[yaml.ScalarNode, yaml.Node], ...]
    body: str
    body_line: int


@dataclass(frozen=True)
class FieldSpec:
    """How to read one field: a converter from a YAML node to a value, and whether it is required."""

    read: Callable[[yaml.Node, str], Any]
    required: bool = True
    default: Any = None
    hint: str = ""


class FieldError(ValueError):
    """A field's value cannot be used; the message says why."""


def split_front_matter(text: str, path: str) -> tuple[FrontMatter | None, list[Problem]]:
    """Split `text` into its front-matter fields and its body, or explain why it cannot be done."""
    lines = text.split("\n")
    if not lines or lines[0].strip() != FENCE:
        return None, [
            Problem(
                path,
                1,
                "The file must start with a front-matter block.",
                "Put a line '---' first, then the fields (id, title...), then another '---' line.",
            )
        ]
    closing = next((i for i in range(1, len(lines)) if lines[i].rstrip() == FENCE), None)
    if closing is None:
        return None, [
            Problem(path, 1, "The front-matter block is never closed.", "Add a line '---' after the last field.")
        ]
    # The opening fence becomes an empty line, so YAML's 0-based line marks plus one are file lines.
    yaml_text = "\n".join(["", *lines[1:closing]])
    try:
        root = yaml.compose(yaml_text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        line = mark.line + 1 if mark is not None else 1
        reason = getattr(error, "problem", None) or "it is not valid"
        hint = "Write each field as 'name: value', and list items as '  - item'."
        if "mapping values" in reason:
            hint = "A value that contains ': ' must be put in quotes, for example: title: \"Search: the basics\"."
        return None, [Problem(path, line, f"The front matter cannot be read: {reason}.", hint)]
    body = "\n".join(lines[closing + 1 :])
    if root is None:
        return FrontMatter((), body, closing + 2), []
    if not isinstance(root, yaml.MappingNode):
        return None, [
            Problem(path, 2, "The front matter must be a list of fields.", "Write each field as 'name: value'.")
        ]
    pairs = tuple((key, value) for key, value in root.value if isinstance(key, yaml.ScalarNode))
    return FrontMatter(pairs, body, closing + 2), []


def read_fields(front: FrontMatter, schema: Mapping[str, FieldSpec], path: str) -> tuple[dict[str, Any], list[Problem]]:
    """Read every field of `schema` from the front matter; report unknown, duplicate, missing and bad fields."""
    values: dict[str, Any] = {}
    problems: list[Problem] = []
    seen: set[str] = set()
    for key_node, value_node in front.nodes:
        name = str(key_node.value)
        line = key_node.start_mark.line + 1
        if name in seen:
            problems.append(Problem(path, line, f"The field '{name}' is given twice.", "Keep only one."))
            continue
        seen.add(name)
        spec = schema.get(name)
        if spec is None:
            problems.append(Problem(path, line, f"Unknown field '{name}'.", _did_you_mean(name, schema)))
            continue
        try:
            values[name] = spec.read(value_node, name)
        except FieldError as error:
            problems.append(Problem(path, value_node.start_mark.line + 1, str(error), spec.hint))
    for name, spec in schema.items():
        if name in values or name in seen:
            continue
        if spec.required:
            problems.append(Problem(path, 1, f"The field '{name}' is missing.", f"Add a line '{name}: ...'."))
        else:
            values[name] = spec.default
    return values, problems


def _did_you_mean(name: str, schema: Mapping[str, FieldSpec]) -> str:
    close = difflib.get_close_matches(name, list(schema), n=1)
    if close:
        return f"Did you mean '{close[0]}'?"
    return "The fields are: " + ", ".join(schema) + "."


def text_field(node: yaml.Node, name: str) -> str:
    """A single line or paragraph of text, never empty."""
    if isinstance(node, yaml.MappingNode):
        raise FieldError(f"The field '{name}' holds a colon followed by a space, so it cannot be read as text: put it in double quotes.")
    if not isinstance(node, yaml.ScalarNode) or not str(node.value).strip():
        raise FieldError(f"The field '{name}' must be some text.")
    return " ".join(str(node.value).split())


def short_text_field(max_chars: int) -> Callable[[yaml.Node, str], str]:
    """A single line of text, never empty, of at most `max_chars` characters."""

    def read(node: yaml.Node, name: str) -> str:
        value = text_field(node, name)
        if len(value) > max_chars:
            raise FieldError(f"The field '{name}' holds {len(value):,} characters; it may hold at most {max_chars:,}. Shorten it.")
        return value

    return read


def slug_field(node: yaml.Node, name: str) -> str:
    """An identifier: lowercase letters, digits and hyphens."""
    value = text_field(node, name)
    if not is_slug(value):
        raise FieldError(f"The field '{name}' is '{value}', which is not a valid id.")
    return value


def is_slug(value: str) -> bool:
    """True when `value` can serve as a stable id."""
    return len(value) <= SLUG_MAX and SLUG_RE.match(value) is not None


def int_field(low: int, high: int) -> Callable[[yaml.Node, str], int]:
    """A whole number from `low` to `high`."""

    def read(node: yaml.Node, name: str) -> int:
        raw = str(node.value).strip() if isinstance(node, yaml.ScalarNode) else ""
        if not re.fullmatch(r"[0-9]{1,6}", raw):
            raise FieldError(f"The field '{name}' must be a whole number from {low} to {high}, not '{raw}'.")
        number = int(raw)
        if not low <= number <= high:
            raise FieldError(f"The field '{name}' must be from {low} to {high}, not {number}.")
        return number

    return read


def text_list_field(low: int, high: int) -> Callable[[yaml.Node, str], tuple[str, ...]]:
    """A list of `low` to `high` lines of text, written as '  - item' lines."""

    def read(node: yaml.Node, name: str) -> tuple[str, ...]:
        if not isinstance(node, yaml.SequenceNode):
            raise FieldError(f"The field '{name}' must be a list, one '  - item' per line.")
        items = tuple(text_field(item, name) for item in node.value)
        if not low <= len(items) <= high:
            raise FieldError(f"The field '{name}' must list {low} to {high} items, not {len(items)}.")
        return items

    return read


def lang_field(node: yaml.Node, name: str) -> str:
    """A two-letter language code such as en or fr."""
    value = text_field(node, name)
    if not re.fullmatch(r"[a-z]{2}", value):
        raise FieldError(f"The field '{name}' must be a two-letter language code such as 'en' or 'fr', not '{value}'.")
    return value
