"""Telling a blank column's empty list from a page whose layout cannot be read.

A column page without items is blank (空白栏目) when it says so (暂无信息 …, see
`probes.pages.listing.PLACEHOLDERS`) or when it shows the place its items go and that place is
empty. Anything else - a list filled in the browser by script, a changed template, an
error page served with status 200 - is a page whose layout cannot be read, and the column
is UNKNOWN: a false blank is as bad as a false stale.

The rule for "the place its items go is empty":

- selector mode: the configured `item_selector` matches nothing, but its container - the
  selector before its last child or descendant step (`ul.list` for `ul.list > li`,
  `#content table.lb` for `#content table.lb tr`) - is on the page. A selector without
  such a step, or whose container is missing too, proves nothing;
- auto mode: an element whose class or id marks it as the column's list (`list`,
  `liebiao`, `lb`: `ul.news-list`, `div#infoList`, `table.lb`), that is not page chrome
  (neither it nor an ancestor is marked nav, menu, header, footer, sidebar, links …),
  holding no link and no row text (at most a header row: no digit, a few characters);
- in both modes the page must not load its content by script (ajax, fetch,
  XMLHttpRequest, jsonp, Vue/template markup, "加载中"): such a list is empty in the HTML
  whatever the column holds.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from selectolax.lexbor import LexborHTMLParser, LexborNode

from probes.pages.chrome import is_chrome
from probes.pages.text import is_link, node_text

# Elements the column template marks as its list.
_LIST_CSS = '[class*="list" i], [id*="list" i], [class*="liebiao" i], [class~="lb"], [id="lb"]'
# Pagers, tab bars, page heads and link lists hold list-marked elements that are not the
# column's list either (besides page chrome: `probes.pages.chrome`); an empty one of them
# proves nothing, so these marks count anywhere in a class or id.
_NOT_COLUMN = re.compile(r"head|tab|page|link", re.I)
# Bounds that keep a page of thousands of nested list elements linear: list elements
# looked at, and ancestors read for chrome marks.
_MAX_CANDIDATES = 50
_MAX_ANCESTORS = 64
# A header row ("标题 发布日期") at most: longer text or any digit is content.
_MAX_HEADER_CHARS = 30
# Signs that a page fills its lists in the browser: in its inline scripts, and in its
# markup (client-side templates, a "loading" message).
_SCRIPT_SIGNS = re.compile(
    r"ajax|\$\.(?:get|post|getJSON)\s*\(|\bfetch\s*\(|XMLHttpRequest|axios|jsonp"
    r"|\.load\s*\(|new\s+Vue|createApp|template\s*\(",
    re.I,
)
_MARKUP_SIGNS = re.compile(
    r"v-for|ng-repeat|\{\{|<script[^>]+type\s*=\s*[\"']?text/(?:html|template|x-)"
    r"|加载中|正在加载",
    re.I,
)
_SCRIPT = re.compile(r"<script\b[^>]*>(.*?)</script\s*>", re.S | re.I)
# Client-side list templates (see `item_template`).
_TEMPLATE_BLOCK = re.compile(
    r"<(script)\b[^>]*\btype\s*=\s*[\"']?text/(?:html|template|x-[\w-]+)[^>]*>|<(template)\b[^>]*>",
    re.I,
)
_TEMPLATE_CLOSE = {
    "script": re.compile(r"</script\s*>", re.I),
    "template": re.compile(r"</template\s*>", re.I),
}
_TEMPLATE_HINT = re.compile(r"text/(?:html|template|x-)|<template", re.I)
_REPEAT_WORDS = ("v-for", "ng-repeat", "x-for", "wx:for")
_TEMPLATE_LINK = re.compile(r"<a\b[^>]*\bhref", re.I)
_REPEAT = re.compile(
    r"<[a-z][\w-]*\b[^>]*\s(?:v-for|ng-repeat|x-for|wx:for)\s*=\s*[\"'][^\"']*[\"']", re.I
)
_TEMPLATED_HREF = re.compile(r"\shref\s*=\s*[\"'][^\"']*(?:\{\{|\$\{|<%=)[^\"']*[\"']", re.I)


def item_template(html: str) -> str | None:
    """The client-side template of a list the page renders by script, if it has one: a
    `<script type="text/html">` (art-template, Handlebars, Mustache) or `<template>` block
    holding a link, a Vue/Angular/Alpine repeat (`v-for`, `ng-repeat`, `x-for`), or a
    link whose URL is a template expression (`href="/news/{{id}}"`). Such a list is not in
    the HTML however the column is doing, so no date on the page speaks for it."""
    # Literal searches first: a regex that tries every `<` of a 300 KB page costs more
    # than the rest of the page's reading.
    blocks = _TEMPLATE_BLOCK.finditer(html) if _TEMPLATE_HINT.search(html) else iter(())
    for block in blocks:
        close = _TEMPLATE_CLOSE[(block.group(1) or block.group(2)).lower()].search(
            html, block.end()
        )
        if close is None:
            break
        body = html[block.end() : close.start()]
        if _TEMPLATE_LINK.search(body):
            return f"a client-side template ({_short(block.group(0))}) holds the list's links"
    if any(w in html for w in _REPEAT_WORDS) and (m := _REPEAT.search(html)):
        return f"a client-side repeat ({_short(m.group(0))}) renders the list"
    if any(w in html for w in ("{{", "${", "<%=")) and (m := _TEMPLATED_HREF.search(html)):
        return f"links are template expressions ({_short(m.group(0))})"
    return None


def _short(text: str, limit: int = 60) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def scripted(html: str) -> bool:
    """True when the page (its inline scripts or its markup) loads content by script."""
    if _MARKUP_SIGNS.search(html):
        return True
    # Script calls count only inside inline scripts: an article's text may say "ajax".
    return any(_SCRIPT_SIGNS.search(body) for body in _SCRIPT.findall(html))


def container_selector(item_selector: str) -> str | None:
    """`item_selector` without its last child or descendant step, or None when it has
    none (a selector list only when every alternative has one)."""
    parts = [_container_of(p.strip()) for p in _split_top(item_selector, ",")]
    if not parts or any(p is None for p in parts):
        return None
    return ", ".join(p for p in parts if p is not None)


def empty_container(tree: LexborHTMLParser, item_selector: str) -> str | None:
    """The container of `item_selector` when it is on the page (the caller found no item
    in it), as a description, or None."""
    container = container_selector(item_selector)
    if container is None:
        return None
    try:
        found = tree.css_first(container)
    except (ValueError, RuntimeError):
        # A container selector lexbor cannot read proves nothing.
        return None
    return container if found is not None else None


def empty_list(root: LexborNode) -> str | None:
    """The column's list element when the page shows it empty, as `tag.class`/`tag#id`,
    or None."""
    for node in root.css(_LIST_CSS)[:_MAX_CANDIDATES]:
        if node.tag in ("body", "html") or _is_chrome(node):
            continue
        if _holds_link(node):
            continue
        text = node_text(node)
        if len(text) > _MAX_HEADER_CHARS or any(c.isdigit() for c in text):
            continue
        return _describe(node)
    return None


def _is_chrome(node: LexborNode | None) -> bool:
    for _ in range(_MAX_ANCESTORS):
        if node is None or node.tag in ("body", "html", "#document"):
            break
        attrs = node.attributes
        if is_chrome(node) or _NOT_COLUMN.search(
            f"{attrs.get('class') or ''} {attrs.get('id') or ''}"
        ):
            return True
        node = node.parent
    return False


def _holds_link(node: LexborNode) -> bool:
    return any(is_link(a) for a in node.css("a"))


def _describe(node: LexborNode) -> str:
    attrs = node.attributes
    if attrs.get("id"):
        return f"{node.tag}#{attrs['id']}"
    classes = (attrs.get("class") or "").split()
    return f"{node.tag}.{'.'.join(classes)}" if classes else str(node.tag)


def _top_level(text: str) -> Iterator[tuple[int, str]]:
    """(index, character) of the characters of a selector outside quotes and brackets."""
    depth, quote = 0, ""
    for i, ch in enumerate(text):
        if quote:
            quote = "" if ch == quote else quote
        elif ch in "\"'":
            quote = ch
        elif ch in "([":
            depth += 1
        elif ch in ")]":
            depth -= 1
        elif depth == 0:
            yield i, ch


def _split_top(text: str, sep: str) -> list[str]:
    out, start = [], 0
    for i, ch in _top_level(text):
        if ch == sep:
            out.append(text[start:i])
            start = i + 1
    out.append(text[start:])
    return out


def _container_of(selector: str) -> str | None:
    # The last top-level combinator; sibling steps (+, ~) have no container.
    cut = -1
    for i, ch in _top_level(selector):
        if ch.isspace() or ch in ">+~":
            cut = i
    if cut < 0:
        return None
    head = selector[:cut].rstrip()
    tail = selector[cut:]
    if head.endswith(("+", "~")) or tail.lstrip().startswith(("+", "~")):
        return None
    head = head.rstrip(">").rstrip()
    return head or None
