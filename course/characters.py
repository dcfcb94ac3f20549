"""Control characters: which ones a text may hold, and how to name the first one it may not.

Contract: pure functions over strings. Tab, line feed and carriage return belong in multi-line text (Markdown
sources, notes); every other C0 or C1 control character, NUL first of all (PostgreSQL refuses it), only comes
from a broken file, a bad copy and paste or a hostile request, and is refused wherever text comes in.
"""

from __future__ import annotations

import re

# The C0 and C1 control characters, as the inside of a regular expression's character class.
CONTROL_CHARACTER_CLASS = r"\x00-\x1f\x7f-\x9f"
_ANY_CONTROL_RE = re.compile(f"[{CONTROL_CHARACTER_CLASS}]")
_CONTROL_BUT_TABS_AND_LINE_BREAKS_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def forbidden_control_character(text: str, *, multi_line: bool = False) -> str | None:
    """The first control character `text` may not hold, or None; multi-line text may hold tabs and line breaks."""
    match = (_CONTROL_BUT_TABS_AND_LINE_BREAKS_RE if multi_line else _ANY_CONTROL_RE).search(text)
    return match.group() if match else None


def code_point(character: str) -> str:
    """A character as people can look it up, such as U+0000."""
    return f"U+{ord(character):04X}"
