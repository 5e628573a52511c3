"""Auto mode's search for a column page's list: the (parent, child tag) group of
link-holding children with the most dated ones.

The page is searched top-down from <body>: each element's children, grouped by tag, form a
group; a child is entered only when its text has a date hint or it holds a link whose URL
carries a date, so menus, footers and hidden link blocks - most of a big page's links -
cost one C-level `text()` and one regex call each, not a Python walk per link. The
winner has the most dated children (ties: the fewest undated ones). Children of an element
that are page chrome (navigation, footers, sidebars, link menus: `probes.pages.chrome`)
are never entered, and a group headed as a link menu (友情链接, 下属单位) never wins: a
column's own list wins whatever their count of dated links, and a blank or undated
column must not borrow their dates. A child holds a link when it has a followable href
or an `onclick` that opens one (`probes.pages.text.script_link`). `probes.pages.listing`
reads the winning group's items; board pages find their message rows with the same search
(`probes.boards.parse`).

A list that prints no dates is found by `find_rows` instead, as same-tag row-shaped
siblings; for boards only with evidence in (nearly) every row, as a dateless group alone
looks much like a block of navigation links.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable

from selectolax.lexbor import LexborNode

from probes.pages.chrome import is_chrome, labelled_chrome
from probes.pages.dates import DateMatch, find_dates, url_date
from probes.pages.text import SKIP_HREF, followable, is_link, script_call, script_link

# How far above a link an item's element may be (a > span > div.title > div.item).
MAX_LEVELS = 4
# How deep below <body> the list may be. Real templates nest 10-30 levels; the limit keeps
# a page of thousands of nested (or unclosed) elements linear, as each level's text is
# read again.
MAX_DEPTH = 64
# A list's child longer than this is a page section, not an item: its dates are not one
# item's date, and reading them would make auto mode quadratic on huge pages.
MAX_ITEM_CHARS = 800
# Cheap tests run before the full date engine: most texts and links of a page hold no
# date at all (menus, footers), and these reject them at C speed.
DATE_HINT = re.compile(r"\d\s?[-/.年月－／．]\s?\d|[〇○零]")
URL_HINT = re.compile(r"/t?20\d\d")
# Links that can make an item (lexbor selects them in C; the Python side sees only these).
_LINK = 'a[href]:not([href=""])' + "".join(f':not([href^="{p}"])' for p in SKIP_HREF)
# Links whose URL may carry a date (`URL_HINT` and `url_date` decide); one plain
# selector, as each alternative of a selector list is another walk of the tree.
_URL_LINK = 'a[href*="20"]'
# A list that prints no dates has at least this many rows (fewer is a menu or a pager).
MIN_ROWS = 3
# Share of a dateless group's row-shaped members that must show the caller's evidence.
EVIDENCE_SHARE = 0.75
# Elements that are never an item.
_NOT_ITEM = frozenset({"script", "style", "noscript", "template", "head", "-text", "_comment"})


def find_list(root: LexborNode, dates: DateCache) -> list[LexborNode]:
    """The (parent, child tag) group of link-holding children with the most dated ones.

    Top-down: only children whose text has a date hint (or that hold a link whose URL
    carries a date) are descended into, so menus, footers and hidden link blocks - most of
    a large page's links - are rejected by one C-level text and regex call per subtree
    instead of a Python walk per link."""
    url_dated, wanted = _url_dated(root, dates)
    best: list[LexborNode] = []
    best_score = (0, 0)
    stack = [(root, 0)]
    while stack:
        parent, depth = stack.pop()
        # child tag -> [(child, dated)]; dict order is page order.
        groups: dict[str, list[tuple[LexborNode, bool]]] = {}
        below: list[LexborNode] = []
        for child in parent.iter():
            tag = child.tag or ""
            if tag in _NOT_ITEM or is_chrome(child):
                continue
            mem_id = child.mem_id
            text = child.text(separator=" ")
            hinted = DATE_HINT.search(text) is not None
            short = len(text) <= MAX_ITEM_CHARS
            found = dates.find(text) if hinted and short else []
            in_url = url_dated.get(mem_id, 0)
            dated = in_url > 0 or bool(found)
            groups.setdefault(tag, []).append((child, dated))
            # An item-sized child with a single date (in its text or its links' URLs)
            # cannot hold a group of two dated children: its own group already counts it.
            if (hinted or mem_id in wanted) and not (
                dated and short and len(found) <= 1 and in_url <= 1
            ):
                below.append(child)
        if depth < MAX_DEPTH:
            stack.extend((node, depth + 1) for node in reversed(below))
        labelled: bool | None = None
        for members in groups.values():
            # Only children holding a link are items; asked only of groups that can win,
            # as it costs a selector query per child.
            if not any(dated for _, dated in members):
                continue
            if labelled is None:
                labelled = _in_menu(parent)
            if labelled:
                continue
            # A node dated by a URL holds that link already.
            held = [
                (node, dated)
                for node, dated in members
                if node.mem_id in url_dated or holds_link(node)
            ]
            nodes = [node for node, _ in held]
            n_dated = sum(dated for _, dated in held)
            if n_dated == 0:
                continue
            # Most dated children wins; on a tie the tighter group (fewer undated children,
            # which also prefers the inner level of nested wrappers) wins.
            score = (n_dated, -(len(nodes) - n_dated))
            if score > best_score:
                best, best_score = nodes, score
    return best


def _url_dated(root: LexborNode, dates: DateCache) -> tuple[dict[int, int], set[int]]:
    """Nodes dated by links whose URL carries a date (the link and up to MAX_LEVELS - 1
    levels above it) with the number of such links, and every ancestor of such a link
    (worth descending into)."""
    dated: dict[int, int] = {}
    wanted: set[int] = set()
    for a in root.css(_URL_LINK):
        href = (a.attributes.get("href") or "").strip()
        if not followable(href) or not URL_HINT.search(href):
            continue
        if dates.url("/" + href.lstrip("./")) is None:
            continue
        node: LexborNode | None = a
        level = 0
        while node is not None and (level < MAX_LEVELS or node.mem_id not in wanted):
            if level < MAX_LEVELS:
                dated[node.mem_id] = dated.get(node.mem_id, 0) + 1
            wanted.add(node.mem_id)
            node, level = node.parent, level + 1
    return dated, wanted


def holds_link(node: LexborNode) -> bool:
    """True when `node` is or holds a link: a followable href, or an `onclick` that opens
    one (韶关's rows: `<a href="javascript:void(0);" onclick="window.open('…')">`) or that
    calls a page function with an item's id (梧州: `onclick="showInquiry('7582')"`)."""
    if node.tag == "a" and is_link(node):
        return True
    # A plain "a" query compiles far faster than `_LINK`; the full one only when the
    # first anchor is not a link (a "#" or javascript: anchor before the title link).
    first = node.css_first("a")
    if first is not None and (is_link(first) or node.css_first(_LINK) is not None):
        return True
    # The query includes `node` itself (a `<tr onclick=…>` row).
    return any(
        script_link(n) is not None or script_call(n) is not None for n in node.css("[onclick]")
    )


def _in_menu(parent: LexborNode) -> bool:
    """True when the group's parent (or its parent) is headed as a link menu (友情链接,
    下属单位, 相关阅读 …): however dated its links, it is not the page's list."""
    node: LexborNode | None = parent
    for _ in range(2):
        if node is None or node.tag in ("body", "html"):
            return False
        if labelled_chrome(node):
            return True
        node = node.parent
    return False


def find_rows(
    root: LexborNode, evidence: Callable[[LexborNode], bool] | None = None, *, above: int = 0
) -> list[LexborNode]:
    """The page's largest group of undated rows, for a list that prints no dates (a
    registry table of ids and names): same-tag siblings outside page chrome that each
    hold an anchor (a `javascript:` one too: such tables open rows by script) and at least
    two elements with text, as table rows and record blocks do and menu entries do not.
    At least `MIN_ROWS` of them, or none.

    With `evidence` (what a caller knows makes a row one of its records: a board's status
    word or message number), only rows with evidence count, and a group counts only when
    at least `EVIDENCE_SHARE` of its row-shaped members have it: a menu of rich entries or
    a block of navigation links has none, a list of messages has it in every row but a
    header or a pager. Only groups of more than `above` rows are looked at (a caller that
    has a list of that size already)."""
    best: list[LexborNode] = []
    floor = max(MIN_ROWS, above + 1)
    stack = [(root, 0)]
    while stack:
        parent, depth = stack.pop()
        groups: dict[str, list[LexborNode]] = {}
        for child in parent.iter():
            tag = child.tag or ""
            if tag in _NOT_ITEM or is_chrome(child):
                continue
            groups.setdefault(tag, []).append(child)
            if depth < MAX_DEPTH:
                stack.append((child, depth + 1))
        for members in groups.values():
            least = max(floor, len(best) + 1)
            if len(members) < least:
                continue
            rows = [m for m in members if _is_row(m)]
            if len(rows) < least:
                continue
            if evidence is not None:
                shaped = len(rows)
                rows = [m for m in rows if evidence(m)]
                if len(rows) < EVIDENCE_SHARE * shaped:
                    continue
            if len(rows) >= least and not _in_menu(parent):
                best = rows
    return best


def _is_row(node: LexborNode) -> bool:
    if node.css_first("a") is None:
        return False
    cells = 0
    for child in node.iter():
        if child.tag not in _NOT_ITEM and child.text(separator=" ").strip():
            cells += 1
            if cells >= 2:
                return True
    return False


class DateCache:
    """`find_dates` of one page's texts, each distinct text read once (an item's text is
    read when scoring its group and again when reading the winning items)."""

    def __init__(self, now: dt.datetime) -> None:
        self.now = now
        self._seen: dict[str, list[DateMatch]] = {}
        self._urls: dict[str, DateMatch | None] = {}

    def find(self, text: str) -> list[DateMatch]:
        found = self._seen.get(text)
        if found is None:
            found = self._seen[text] = find_dates(text, now=self.now)
        return found

    def url(self, path: str) -> DateMatch | None:
        if path in self._urls:
            return self._urls[path]
        found = self._urls[path] = url_date(path, now=self.now)
        return found
