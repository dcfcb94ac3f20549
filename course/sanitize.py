"""The one place where HTML written by mentors is made safe to show to learners.

Every piece of HTML rendered from course content passes through `sanitize`. It keeps an explicit
allowlist of elements, attributes and URL schemes; everything else is escaped or dropped. bleach is
used behind this single function only, so that it can be replaced without touching anything else.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import bleach
from bleach.html5lib_shim import Filter  # type: ignore[attr-defined]  # re-exported at run time, absent from the stubs

ANCHOR_PREFIX = "sec-"
ALLOWED_TAGS = frozenset(
    {
        "a", "abbr", "b", "blockquote", "br", "caption", "cite", "code", "dd", "del", "details", "dl", "dt",
        "em", "figcaption", "figure", "h2", "h3", "h4", "h5", "h6", "hr", "i", "img", "kbd", "li", "mark",
        "ol", "p", "pre", "q", "s", "samp", "small", "strong", "sub", "summary", "sup", "table", "tbody",
        "td", "tfoot", "th", "thead", "tr", "u", "ul",
    }
)  # fmt: skip
ALLOWED_PROTOCOLS = frozenset({"http", "https", "mailto"})
_CLASS_PATTERNS = {
    "code": re.compile(r"^language-[A-Za-z0-9_+-]{1,30}$"),
    "td": re.compile(r"^align-(left|center|right)$"),
    "th": re.compile(r"^align-(left|center|right)$"),
}
_ID_RE = re.compile(rf"^{ANCHOR_PREFIX}[a-z0-9-]{{1,80}}$")
_SIMPLE_ATTRIBUTES = {
    "a": {"href", "title"},
    "abbr": {"title"},
    "img": {"src", "alt", "title", "width", "height"},
    "ol": {"start"},
    "td": {"colspan", "rowspan"},
    "th": {"colspan", "rowspan", "scope"},
}
_HEADINGS = {"h2", "h3", "h4", "h5", "h6"}
_NUMBER_RE = re.compile(r"^[0-9]{1,4}$")
_NUMERIC_ATTRIBUTES = {"width", "height", "start", "colspan", "rowspan"}


def _allow_attribute(tag: str, name: str, value: str) -> bool:
    """Decide one attribute: ids only as prefixed anchors, classes only from fixed patterns, numbers as numbers."""
    if name == "id":
        return tag in _HEADINGS and _ID_RE.match(value) is not None
    if name == "class":
        pattern = _CLASS_PATTERNS.get(tag)
        return pattern is not None and pattern.match(value) is not None
    if name in _NUMERIC_ATTRIBUTES:
        return name in _SIMPLE_ATTRIBUTES.get(tag, set()) and _NUMBER_RE.match(value) is not None
    return name in _SIMPLE_ATTRIBUTES.get(tag, set())


class _ExternalLinkFilter(Filter):  # type: ignore[misc]
    """Adds rel="noopener noreferrer" to every link that leaves the site."""

    def __iter__(self) -> Iterator[dict[str, Any]]:
        for token in super().__iter__():
            if token["type"] == "StartTag" and token["name"] == "a":
                attrs = token["data"]
                href = attrs.get((None, "href"), "")
                if is_external_url(href):
                    attrs[(None, "rel")] = "noopener noreferrer"
            yield token


def is_external_url(url: str) -> bool:
    """True for an absolute http(s) URL or a scheme-relative one: both leave the site."""
    lowered = url.strip().lower()
    return lowered.startswith(("http:", "https:", "//"))


_CLEANER = bleach.sanitizer.Cleaner(
    tags=ALLOWED_TAGS,
    attributes=_allow_attribute,
    protocols=ALLOWED_PROTOCOLS,
    strip=True,
    strip_comments=True,
    filters=[_ExternalLinkFilter],
)


def sanitize(html: str) -> str:
    """Return `html` with every element, attribute and URL outside the allowlist removed."""
    return _CLEANER.clean(html)
