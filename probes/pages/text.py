"""What a reader sees of a parsed page: its visible text and its followable links.

Visible text is the text of `<body>` (or of the whole document when there is none)
without scripts, styles, noscript and template blocks, whitespace collapsed. Link text can
be left out too: a page's own message (a maintenance notice) is told from the headlines it
links to that way.

A followable link is an href that leads to another document: empty hrefs, in-page anchors
and `javascript:`, `mailto:`, `tel:` and `data:` URLs are skipped everywhere links are read
(list items, board rows, dead-link checks, blank-column detection). A link written as
script (`onclick="window.open('…')"`, `location.href='…'`) is the element's
`script_link`: rows of board platforms (韶关, 徐州 12345) open their messages that way; one
that calls a page function with the item's id instead (`showDetail('3720','440200')`)
names the item by its `script_call`, without a URL.

Pages read for their content have their scripts, styles, noscript and template blocks and
comments cut out of the source before parsing (`strip_non_content`): cutting the string
is far cheaper than removing the nodes afterwards.
"""

from __future__ import annotations

import re

from selectolax.lexbor import LexborHTMLParser, LexborNode

# hrefs that are not another document.
SKIP_HREF = ("javascript:", "mailto:", "tel:", "#", "data:")
_HIDDEN = "script, style, noscript, template"
# A page function called with the item's id instead of a URL: showDetail('3720','440200')
# (韶关 网络问政, read by W shaoguan.py), 梧州's letter list (W wuzhou.py takes the digits).
_SCRIPT_CALL = re.compile(r"""[A-Za-z_$][\w$.]*\s*\(([^()]{1,200})\)""")
_CALL_ARG = re.compile(r"""^\s*(?:'([^'"]{1,64})'|"([^'"]{1,64})"|(\d{1,20}))\s*$""")
_SCRIPT_LINK = re.compile(r"""(?:window\.open|location(?:\.href)?\s*=)\s*\(?\s*['"]([^'"]+)['"]""")
# Non-content blocks cut before parsing: their openers, and each one's closer.
_NOT_CONTENT_OPEN = re.compile(r"<(?:(script|style|noscript|template)\b|!--)", re.I)
_NOT_CONTENT_CLOSE = {
    tag: re.compile(rf"</{tag}\s*>", re.I) for tag in ("script", "style", "noscript", "template")
}


def followable(href: str | None) -> bool:
    """True when `href` (as written in the page) leads to another document."""
    value = (href or "").strip()
    return bool(value) and not value.lower().startswith(SKIP_HREF)


def is_link(a: LexborNode) -> bool:
    """True when the anchor `a` has a followable href."""
    return followable(a.attributes.get("href"))


def script_link(node: LexborNode) -> str | None:
    """The URL an element opens by script in its `onclick`, as written, or None."""
    onclick = node.attributes.get("onclick")
    if not onclick or not (m := _SCRIPT_LINK.search(onclick)):
        return None
    return m.group(1) if followable(m.group(1)) else None


def script_call(node: LexborNode) -> str | None:
    """The arguments, comma-joined, of the page function an element's `onclick` calls to
    open an item by its id (`showDetail('3720','440200')` gives `3720,440200`), or None:
    for an onclick that opens a URL (`script_link`), or whose arguments are not quoted
    texts or numbers with an id's digits among them (`toggle(this)`, `sort('date')`)."""
    onclick = node.attributes.get("onclick")
    if not onclick or _SCRIPT_LINK.search(onclick):
        return None
    # The first call whose arguments are an id (`this.blur(); return showDetail('12')`).
    for call in _SCRIPT_CALL.finditer(onclick[:1000]):
        args = [_CALL_ARG.match(part) for part in call.group(1).split(",")]
        values = [next(g for g in a.groups() if g is not None).strip() for a in args if a]
        if len(values) == len(args) and any(ch.isdigit() for v in values for ch in v):
            return ",".join(values)
    return None


def visible_text(tree: LexborHTMLParser, *, links: bool = True) -> str:
    """The page's visible text, whitespace collapsed (without link text when `links` is
    False).

    Hidden blocks (and anchors, when left out) are removed from `tree` itself: removing
    them costs less than copying the tree, and every caller is done with those nodes."""
    hidden = _HIDDEN if links else _HIDDEN + ", a"
    for node in tree.css(hidden):
        node.decompose()
    root = tree.body if tree.body is not None else tree.root
    return " ".join(root.text(separator=" ").split()) if root is not None else ""


def node_text(node: LexborNode) -> str:
    """The text of one element, its parts joined by spaces, whitespace collapsed."""
    return " ".join(node.text(separator=" ").split())


def page_title(tree: LexborHTMLParser) -> str:
    """The document's `<title>`, whitespace collapsed."""
    node = tree.css_first("title")
    return " ".join(node.text().split()) if node is not None else ""


def strip_non_content(html: str) -> str:
    """`html` without its scripts, styles, noscript and template blocks and comments.

    A scan from opener to closer with C-level searches: a regex with a lazy `.*?` and a
    back-reference costs more than parsing the page. A block without a closer is kept (as
    the parser would show it as text anyway), and its kind is not searched for again, which
    keeps a page of thousands of unclosed `<script` openers linear."""
    pieces: list[str] = []
    pos = 0
    unclosed: set[str] = set()
    while True:
        opener = _NOT_CONTENT_OPEN.search(html, pos)
        if opener is None:
            break
        tag = (opener.group(1) or "!--").lower()
        end = -1
        if tag not in unclosed:
            if tag == "!--":
                close = html.find("-->", opener.end())
                end = close + 3 if close >= 0 else -1
            else:
                found = _NOT_CONTENT_CLOSE[tag].search(html, opener.end())
                end = found.end() if found is not None else -1
        if end < 0:
            unclosed.add(tag)
            pieces.append(html[pos : opener.end()])
            pos = opener.end()
            continue
        pieces.append(html[pos : opener.start()])
        pieces.append(" ")
        pos = end
    if not pieces:
        return html
    pieces.append(html[pos:])
    return "".join(pieces)
