"""Which link of a board's list row is the message's, and the message's title.

The message link is the link with the longest `title` attribute (platforms put the full
title there; a department link may carry a short one), else a link whose text can be a
title (not a status word, a date, a message number, a one-word category or 查看详情), at the
position whose texts differ most from row to row across the page (大连's rows are five
links: 编号, 标题, 类型, 状态, 单位; a department link before the title repeats). Links
written only as `onclick="window.open('…')"` count, on the row itself too (a selector
query includes the row), and so do links that call a page function with the message's id
(`onclick="showInquiry('7582')"`, 梧州): its id is the call's arguments and its page is
`selectors.link_template` with that id, else it has none to follow. The title is the
link's text, or its `title` attribute (or its cell's: 长沙 `td[title] > a`) when the text
is cut (`关于…`, `...`) or empty; when one link wraps all of a row's cells (咸宁, or a row
opening its message itself), its first cell that can be a title.
"""

from __future__ import annotations

import datetime as dt
import re
from urllib.parse import urldefrag, urljoin

from selectolax.lexbor import LexborNode

from probes.boards.status import StatusWords, compact
from probes.config.board import BoardSelectors
from probes.pages.dates import find_dates
from probes.pages.text import followable, script_call, script_link

_CUT = ("…", "...", "..", "。。。", "‥")
# Texts of links next to the message link that name no message.
_GENERIC = frozenset(
    ("查看", "详情", "查看详情", "详细", "详细信息", "更多", "点击查看", "回复", "评价", "查看回复")
)
_NUMBER = re.compile(r"^[A-Za-z0-9_\-#]+$")
_CATEGORY = re.compile(r"^[\[【(（].{1,6}[\]】)）]$")


def message_link(
    row: LexborNode,
    page_url: str,
    sel: BoardSelectors,
    words: StatusWords,
    now: dt.datetime,
    column: int,
) -> tuple[LexborNode, str] | None:
    if sel.link:
        node = row.css_first(sel.link)
        target = _target(node) if node is not None else None
        return (node, _url(page_url, target)) if node and target is not None else None
    links = _links(row)
    if not links:
        return None
    titled = [(n, t) for n, t in links if _plain(n.attributes.get("title") or "", words, now)]
    plain = [(n, t) for n, t in links if _plain(n.text(separator=" "), words, now)]
    if titled:  # a department link may carry a title too: the message's is the longest
        node, target = max(titled, key=lambda link: len(link[0].attributes.get("title") or ""))
    elif len(plain) > column:
        node, target = plain[column]
    else:
        node, target = (plain or links)[0]
    return node, _url(page_url, target)


def _url(page_url: str, target: str) -> str:
    """The message's URL; none ("") for a link that calls a page function."""
    return urldefrag(urljoin(page_url, target)).url if target else ""


def titled(row: LexborNode, words: StatusWords, now: dt.datetime) -> bool:
    """True when one of the row's links can be a message's: its text or `title` is not
    a status word, a date, a number or a category (a filter tab 已回复 (120) is none)."""
    return any(
        _plain(n.text(separator=" "), words, now)
        or _plain(n.attributes.get("title") or "", words, now)
        for n, _ in _links(row)
    )


def _links(row: LexborNode) -> list[tuple[LexborNode, str]]:
    return [(n, t) for n in row.css("a, [onclick]") if (t := _target(n)) is not None]


def title_column(rows: list[LexborNode], *, now: dt.datetime, words: StatusWords) -> int:
    """Which of the rows' plain links (not numbers, statuses, categories) is the message's:
    the position whose texts differ most from row to row (a department repeats, titles do
    not); the first on a tie or with fewer than 3 rows."""
    if len(rows) < 3:
        return 0
    texts_at: dict[int, set[str]] = {}
    for row in rows:
        plain = [n for n, _ in _links(row) if _plain(n.text(separator=" "), words, now)]
        for position, node in enumerate(plain):
            texts_at.setdefault(position, set()).add(compact(node.text(separator=" ")))
    if not texts_at:
        return 0
    return max(sorted(texts_at), key=lambda p: len(texts_at[p]))


def _target(node: LexborNode) -> str | None:
    """Where a link leads: its href or the URL its onclick opens, "" when it opens its
    page by calling a page function (no URL), None for no link."""
    href = node.attributes.get("href")
    if followable(href):
        return (href or "").strip()
    opened = script_link(node)
    if opened is None and script_call(node) is not None:
        return ""
    return opened


def _plain(text: str, words: StatusWords, now: dt.datetime) -> bool:
    """A text that can be a title: not a status word, date, number or bracketed category."""
    bare = compact(text)
    if len(bare) <= 2 or _NUMBER.match(bare) or _CATEGORY.match(bare) or bare in _GENERIC:
        return False
    if words.exact(bare) is not None:
        return False
    return not any(d.end - d.start >= len(bare) - 2 for d in find_dates(bare, now=now))


def title_cell(link: LexborNode, words: StatusWords, now: dt.datetime) -> LexborNode:
    """The link itself, or, when it wraps several cells (咸宁: `a > li` × 7), its first
    cell that can be a title."""
    cells = [c for c in link.iter() if c.text(separator=" ").strip()]
    if len(cells) < 2:
        return link
    return next((c for c in cells if _plain(c.text(separator=" "), words, now)), link)


def title_text(node: LexborNode, link: LexborNode | None = None) -> str:
    """An element's text, or its (or its link's) `title` attribute when the text is empty
    or cut short."""
    text = " ".join(node.text(separator=" ").split())
    # The full title may sit on the link's cell instead (长沙 2020: `td[title] > a`).
    cell = link.parent if link is not None else None
    full = (
        node.attributes.get("title")
        or (link.attributes.get("title") if link else None)
        or (cell.attributes.get("title") if cell is not None else None)
    )
    full = " ".join((full or "").split())
    if not full or full == text:
        return text
    if not text:
        return full
    shown = text.rstrip("".join(_CUT)).rstrip()
    # Cut text: the full title is longer and holds the start of what is shown.
    if (text.endswith(_CUT) or shown != text) and len(full) > len(shown) and shown[:4] in full:
        return full
    return text
