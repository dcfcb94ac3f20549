"""XSS vectors pushed through whole pages, and a checker for what could run script in a page."""

import re
from html.parser import HTMLParser

from tests.course.test_sanitize import HTML_VECTORS, MARKDOWN_VECTORS

VECTORS = HTML_VECTORS[::4] + MARKDOWN_VECTORS[::2]
SCRIPT_CAPABLE = {"script", "iframe", "object", "embed", "style", "svg", "math", "base", "frame", "template", "noscript", "meta"}
URL_ATTRIBUTES = {"href", "src", "action", "formaction", "background", "data", "poster", "xlink:href"}
SAFE_SCHEMES = {"http", "https", "mailto"}
OWN_ASSET = re.compile(r"^/static/[a-z]+\.(js|css|svg)$")


class _Elements(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[tuple[str, list[tuple[str, str | None]]]] = []

    def handle_starttag(self, tag, attrs):
        self.found.append((tag, attrs))

    handle_startendtag = handle_starttag


def script_vectors_in(page: str) -> list[str]:
    """Everything in a whole page that could run script: the platform's own static scripts aside."""
    parser = _Elements()
    parser.feed(page)
    dangers = []
    for tag, attrs in parser.found:
        values = dict(attrs)
        own_script = tag in {"script", "link", "meta"} and OWN_ASSET.match(values.get("src") or values.get("href") or "")
        if tag in SCRIPT_CAPABLE and not own_script and not (tag == "meta" and set(values) <= {"charset", "name", "content"}):
            dangers.append(f"element <{tag}>")
        for name, value in attrs:
            if name.startswith("on") or name in {"style", "srcdoc", "formaction"}:
                dangers.append(f"attribute {name} on <{tag}>")
            if name in URL_ATTRIBUTES and value:
                scheme = re.match(r"^([a-z][a-z0-9+.-]*):", re.sub(r"[\x00-\x20]", "", value), re.IGNORECASE)
                if scheme and scheme.group(1).lower() not in SAFE_SCHEMES:
                    dangers.append(f"{name}={value!r} on <{tag}>")
    return dangers
