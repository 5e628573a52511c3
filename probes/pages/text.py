"""What a reader sees of a parsed page: its visible text and its followable links.

Visible text is the text of `<body>` (or of the whole document when there is none)
without scripts, styles, noscript and template blocks, whitespace collapsed. Link text can
be left out too: a page's own message (a maintenance notice) is told from the headlines it
links to that way.

A followable link is an href that leads to another document: empty hrefs, in-page anchors
and `javascript:`, `mailto:`, `tel:` and `data:` URLs are skipped everywhere links are read
(list items, board rows, dead-link checks, blank-column detection).
"""

from __future__ import annotations

from selectolax.lexbor import LexborHTMLParser, LexborNode

# hrefs that are not another document.
SKIP_HREF = ("javascript:", "mailto:", "tel:", "#", "data:")
_HIDDEN = "script, style, noscript, template"


def followable(href: str | None) -> bool:
    """True when `href` (as written in the page) leads to another document."""
    value = (href or "").strip()
    return bool(value) and not value.lower().startswith(SKIP_HREF)


def is_link(a: LexborNode) -> bool:
    """True when the anchor `a` has a followable href."""
    return followable(a.attributes.get("href"))


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


def page_title(tree: LexborHTMLParser) -> str:
    """The document's `<title>`, whitespace collapsed."""
    node = tree.css_first("title")
    return " ".join(node.text().split()) if node is not None else ""
