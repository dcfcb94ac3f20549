"""The one sanitize function against known XSS vectors, checked by the structure of its output."""

import re
from html.parser import HTMLParser

import pytest

from course import render_markdown, sanitize
from course.sanitize import ALLOWED_PROTOCOLS, ALLOWED_TAGS

# Vectors from bleach's own regression tests, OWASP's XSS filter-evasion cheat sheet, the mutation-XSS
# advisories (CVE-2020-6802, CVE-2020-6816, CVE-2021-23980) and Markdown-specific tricks.
HTML_VECTORS = [
    "<script>alert(1)</script>",
    "<SCRIPT SRC=http://xss.example/xss.js></SCRIPT>",
    '<IMG SRC="javascript:alert(\'XSS\');">',
    "<IMG SRC=javascript:alert('XSS')>",
    "<IMG SRC=JaVaScRiPt:alert('XSS')>",
    "<IMG SRC=`javascript:alert(\"RSnake says, 'XSS'\")`>",
    '<a onmouseover="alert(document.cookie)">xxs link</a>',
    "<IMG \"\"\"><SCRIPT>alert(\"XSS\")</SCRIPT>\">",
    "<IMG SRC=/ onerror=\"alert(String.fromCharCode(88,83,83))\"></img>",
    "<img src=x onerror=\"&#0000106&#0000097&#0000118&#0000097&#0000115&#0000099&#0000114&#0000105&#0000112&#0000116&#0000058&#0000097&#0000108&#0000101&#0000114&#0000116&#0000040&#0000039&#0000088&#0000083&#0000083&#0000039&#0000041\">",
    "<IMG SRC=&#106;&#97;&#118;&#97;&#115;&#99;&#114;&#105;&#112;&#116;&#58;&#97;&#108;&#101;&#114;&#116;&#40;&#39;&#88;&#83;&#83;&#39;&#41;>",
    "<IMG SRC=&#x6A&#x61&#x76&#x61&#x73&#x63&#x72&#x69&#x70&#x74&#x3A&#x61&#x6C&#x65&#x72&#x74&#x28&#x27&#x58&#x53&#x53&#x27&#x29>",
    '<IMG SRC="jav\tascript:alert(\'XSS\');">',
    '<IMG SRC="jav&#x09;ascript:alert(\'XSS\');">',
    '<IMG SRC="jav&#x0A;ascript:alert(\'XSS\');">',
    '<IMG SRC=" &#14;  javascript:alert(\'XSS\');">',
    "<SCRIPT/XSS SRC=\"http://xss.example/xss.js\"></SCRIPT>",
    "<BODY onload!#$%&()*~+-_.,:;?@[/|\\]^`=alert(\"XSS\")>",
    "<<SCRIPT>alert(\"XSS\");//<</SCRIPT>",
    "<SCRIPT SRC=http://xss.example/xss.js?< B >",
    "<IMG SRC=\"`<javascript:alert>`('XSS')\"",
    "<iframe src=http://xss.example/scriptlet.html <",
    "</TITLE><SCRIPT>alert(\"XSS\");</SCRIPT>",
    '<INPUT TYPE="IMAGE" SRC="javascript:alert(\'XSS\');">',
    '<BODY BACKGROUND="javascript:alert(\'XSS\')">',
    '<svg/onload=alert("XSS")>',
    '<svg><script>alert(1)</script></svg>',
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
    "<noscript><p title=\"</noscript><img src=x onerror=alert(1)>\">",
    "<style>@import 'http://xss.example/xss.css';</style>",
    '<STYLE>li {list-style-image: url("javascript:alert(\'XSS\')");}</STYLE><UL><LI>XSS</br>',
    '<DIV STYLE="background-image: url(javascript:alert(\'XSS\'))">',
    '<p style="width: expression(alert(\'XSS\'));">x</p>',
    '<LINK REL="stylesheet" HREF="javascript:alert(\'XSS\');">',
    '<META HTTP-EQUIV="refresh" CONTENT="0;url=javascript:alert(\'XSS\');">',
    '<TABLE BACKGROUND="javascript:alert(\'XSS\')">',
    '<TABLE><TD BACKGROUND="javascript:alert(\'XSS\')">',
    '<OBJECT TYPE="text/x-scriptlet" DATA="http://xss.example/scriptlet.html"></OBJECT>',
    '<EMBED SRC="data:image/svg+xml;base64,PHN2ZyB4bWxuczpzdmc9Imh0dH A6Ly93d3cudzMub3JnLzIwMDAvc3ZnIiB4bWxucz0iaHR0cDovL3d3dy53My5vcmcv MjAwMC9zdmciIHhtbG5zOnhsaW5rPSJodHRwOi8vd3d3LnczLm9yZy8xOTk5L3hs aW5rIiB2ZXJzaW9uPSIxLjAiIHg9IjAiIHk9IjAiIHdpZHRoPSIxOTQiIGhlaWdodD0iMjAw IiBpZD0ieHNzIj48c2NyaXB0IHR5cGU9InRleHQvZWNtYXNjcmlwdCI+YWxlcnQoIlh TUyIpOzwvc2NyaXB0Pjwvc3ZnPg==" type="image/svg+xml" AllowScriptAccess="always"></EMBED>',
    '<form action="javascript:alert(1)"><input type="submit"></form>',
    '<button formaction="javascript:alert(1)">x</button>',
    '<a href="javascript:alert(1)">x</a>',
    '<a href="JAVASCRIPT:alert(1)">x</a>',
    '<a href="  javascript:alert(1)">x</a>',
    '<a href="java\nscript:alert(1)">x</a>',
    '<a href="&#x6A;avascript:alert(1)">x</a>',
    '<a href="javascript&colon;alert(1)">x</a>',
    '<a href="vbscript:msgbox(1)">x</a>',
    '<a href="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==">x</a>',
    '<a href="file:///etc/passwd">x</a>',
    '<img src="data:image/svg+xml,<svg onload=alert(1)>">',
    '<a href="#" id="__proto__" name="location">clobber</a>',
    '<h2 id="cookie">clobber</h2>',
    '<img name="getElementById" src="/x.png">',
    "<!--<img src=x onerror=alert(1)>-->",
    "<!--[if gte IE 4]><SCRIPT>alert('XSS');</SCRIPT><![endif]-->",
    '<details open ontoggle="alert(1)"><summary>x</summary></details>',
    '<video><source onerror="alert(1)"></video>',
    '<audio src=x onerror=alert(1)>',
    '<base href="javascript:alert(1)//">',
    '<isindex action="javascript:alert(1)" type=image>',
    '<marquee onstart=alert(1)>x</marquee>',
    '<template><script>alert(1)</script></template>',
    '<a href="https://example.org" target="_blank" rel="opener">x</a>',
    '<img src=x:alert(alt) onerror=eval(src) alt=0>',
    '<select><style></select><img src=x onerror=alert(1)>',
    '<table><td><iframe srcdoc="<script>alert(1)</script>"></iframe></td></table>',
]

MARKDOWN_VECTORS = [
    "[click](javascript:alert(1))",
    "[click](JAVASCRIPT:alert(1))",
    "[click](javascript&#58;alert(1))",
    "[click](&#x6A;avascript:alert(1))",
    "[click]( javascript:alert(1) )",
    "[click](<javascript:alert(1)>)",
    "[click](vbscript:alert(1))",
    "[click](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "![image](javascript:alert(1))",
    '![image](x" onerror="alert(1))',
    "![image](data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+)",
    "[ref]\n\n[ref]: javascript:alert(1)",
    "<javascript:alert(1)>",
    "[a](https://example.org \"title\" onmouseover=alert(1))",
    "# Heading <img src=x onerror=alert(1)>",
    "| a |\n|---|\n| <script>alert(1)</script> |",
    "```\n</code></pre><script>alert(1)</script>\n```",
    "<div>\n\n[x](javascript:alert(1))\n\n</div>",
    "*<img src=x onerror=alert(1)>*",
]

SCHEME_RE = re.compile(r"^([a-z][a-z0-9+.-]*):", re.IGNORECASE)
URL_ATTRIBUTES = {"href", "src", "action", "formaction", "background", "data", "srcdoc", "poster", "xlink:href"}


class _Collector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, list[tuple[str, str | None]]]] = []

    def handle_starttag(self, tag, attrs):
        self.elements.append((tag, attrs))

    def handle_startendtag(self, tag, attrs):
        self.elements.append((tag, attrs))


def dangers_in(output: str) -> list[str]:
    """Every element, attribute or URL in `output` that could run script or escape the allowlist."""
    collector = _Collector()
    collector.feed(output)
    collector.close()
    found = []
    for tag, attrs in collector.elements:
        if tag not in ALLOWED_TAGS:
            found.append(f"element <{tag}>")
        for name, value in attrs:
            if name.startswith("on") or name in {"style", "srcdoc", "name", "formaction", "background"}:
                found.append(f"attribute {name} on <{tag}>")
            if name == "id" and not (value or "").startswith("sec-"):
                found.append(f"unprefixed id {value!r}")
            if name in URL_ATTRIBUTES and value is not None:
                # The parser has already decoded character references, as a browser does; browsers also
                # drop ASCII whitespace and control characters before reading a scheme.
                url = re.sub(r"[\x00-\x20]", "", value)
                scheme = SCHEME_RE.match(url)
                if scheme and scheme.group(1).lower() not in ALLOWED_PROTOCOLS:
                    found.append(f"{name}={value!r} on <{tag}>")
    return found


@pytest.mark.parametrize("vector", HTML_VECTORS)
def test_html_vector_leaves_nothing_that_can_run(vector):
    assert dangers_in(sanitize(vector)) == []


@pytest.mark.parametrize("vector", HTML_VECTORS + MARKDOWN_VECTORS)
def test_markdown_rendering_of_vector_leaves_nothing_that_can_run(vector):
    assert dangers_in(render_markdown(vector).html) == []


@pytest.mark.parametrize("vector", HTML_VECTORS)
def test_vector_is_not_turned_into_a_script_element_when_sanitized_twice(vector):
    assert dangers_in(sanitize(sanitize(vector))) == []


def test_comments_are_removed():
    assert sanitize("a<!-- ADAPT: note for the content owner -->b") == "ab"


def test_the_checker_itself_sees_danger():
    assert dangers_in('<script>x</script><a href=" java\tscript:x" onclick="y">z</a>') == [
        "element <script>",
        "href=' java\\tscript:x' on <a>",
        "attribute onclick on <a>",
    ]


# --- Safe controls survive -------------------------------------------------------------------------------


def test_a_link_survives_with_its_text():
    assert sanitize('<a href="/modules/x" title="T">go</a>') == '<a href="/modules/x" title="T">go</a>'


def test_external_links_get_noopener_noreferrer():
    out = render_markdown("[site](https://example.org/page)").html
    assert out == '<p><a href="https://example.org/page" rel="noopener noreferrer">site</a></p>\n'


def test_mailto_links_survive():
    assert 'href="mailto:dpo@example.org"' in render_markdown("[write](mailto:dpo@example.org)").html


def test_an_image_survives_with_alt_text():
    out = render_markdown('![A storm photo](/media/storm.png "Storm")').html
    assert '<img src="/media/storm.png" alt="A storm photo" title="Storm">' in out


def test_a_table_survives_with_alignment_as_classes():
    out = render_markdown("| a | b |\n|:--|--:|\n| 1 | 2 |").html
    assert '<th class="align-left">a</th>' in out
    assert '<td class="align-right">2</td>' in out
    assert "style" not in out


def test_a_code_block_survives_escaped_with_its_language():
    out = render_markdown('```python\nprint("<b>")\n```').html
    assert out == '<pre><code class="language-python">print(&quot;&lt;b&gt;&quot;)\n</code></pre>\n'


def test_a_class_outside_the_known_patterns_is_dropped():
    assert sanitize('<code class="x onclick">a</code>') == "<code>a</code>"
