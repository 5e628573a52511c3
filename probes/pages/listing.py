"""Finding a column page's list of dated items: what was published, when, under which title.

Auto mode needs no selectors. A list page is a parent whose same-tag children each carry a
link and a date (`ul > li`, `tbody > tr`, `div.list > div.item`); the (parent, child tag)
group with the most dated link-holding children is the column's list (`probes.pages.listsearch`
owns that search). Dates outside that list (the "today is …" header widget, a sidebar,
the footer's copyright and 备案 numbers) therefore never count, and the date engine
(`probes.pages.dates`) refuses the same traps inside the list too.

Within an item the date is looked for outside the title first (a title such as
"关于2024年11月3日停电的通知" names a date that is not the publication date), then in the
title, then in the item's URL (`/t20241103_1.html`); a month-day date (`[11-03]`) takes its
year from the URL when the URL has the same month and day.

Selector mode (`item_selector`, optional `date_selector` and `title_selector`) scopes the
items and the date for odd sites. RSS and Atom feeds are read by `probes.pages.feeds`.

When no item is found, `Listing.empty` tells a blank column's empty list from a page whose
layout cannot be read (`probes.pages.emptylist` owns that rule).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal
from urllib.parse import urljoin, urlsplit

from selectolax.lexbor import LexborHTMLParser, LexborNode

from probes.pages import emptylist
from probes.pages.dates import DateMatch, url_date
from probes.pages.emptylist import scripted
from probes.pages.listsearch import (
    DATE_HINT,
    MAX_ITEM_CHARS,
    URL_HINT,
    DateCache,
    find_list,
)
from probes.pages.text import is_link, visible_text

# A blank column (空白栏目) says so in place of its list.
PLACEHOLDERS = (
    "暂无信息",
    "暂无数据",
    "暂无内容",
    "暂无记录",
    "暂无相关信息",
    "内容正在建设中",
    "栏目正在建设中",
    "正在建设中",
    "建设中，敬请期待",
    "敬请期待",
    "没有找到相关信息",
    "暂时没有内容",
)
# Non-content blocks cut before parsing: their openers, and each one's closer.
_NOT_CONTENT_OPEN = re.compile(r"<(?:(script|style|noscript|template)\b|!--)", re.I)
_NOT_CONTENT_CLOSE = {
    tag: re.compile(rf"</{tag}\s*>", re.I) for tag in ("script", "style", "noscript", "template")
}
Source = Literal["text", "title", "url"]


@dataclass(frozen=True, slots=True)
class Item:
    """One entry of a column's list.

    title: the link's title attribute or text, whitespace collapsed.
    url: absolute link of the item ("" when the item has no link).
    when: its publication time (aware, CN_TZ), None when no date could be found.
    date_text: the date as written on the page (or the URL path part it came from).
    source: where the date came from: the item's text, its title, or its URL.
    url_when: the date the item's URL carries at day precision, if any (a shown date far
        later than it, on most items, is fake freshness: see `probes.kinds.freshness`).
    """

    title: str
    url: str
    when: dt.datetime | None
    date_text: str = ""
    source: Source = "text"
    url_when: dt.datetime | None = None


@dataclass(frozen=True, slots=True)
class Listing:
    """The items found on a column page.

    items: the list's items in page order, dated or not.
    placeholder: the blank-column phrase the page shows (暂无信息 …), if any.
    mode: how the items were found (auto, selector, feed).
    empty: when no item was found, the column's list element the page shows empty
        (`ul.news-list`, or the configured selector's container): the column is blank.
        None when the page's layout cannot be read (see `probes.pages.emptylist`).
    """

    items: tuple[Item, ...]
    placeholder: str | None = None
    mode: Literal["auto", "selector", "feed"] = "auto"
    empty: str | None = None

    @property
    def dated(self) -> tuple[Item, ...]:
        return tuple(i for i in self.items if i.when is not None)


def newest(items: Iterable[Item]) -> Item | None:
    """The item with the latest date (the first of equals), None when none is dated."""
    dated = [i for i in items if i.when is not None]
    return max(dated, key=lambda i: i.when or _EPOCH) if dated else None


_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


def extract(
    html: str,
    base_url: str,
    *,
    now: dt.datetime,
    item_selector: str | None = None,
    date_selector: str | None = None,
    title_selector: str | None = None,
) -> Listing:
    """The list of items of the HTML column page `html` fetched from `base_url`."""
    # Scripts and styles go before parsing (cutting them out of the string is far cheaper
    # than removing the nodes afterwards): their text is not the page's, and "暂无数据"
    # in a JS template must not make a column blank.
    tree = LexborHTMLParser(strip_non_content(html))
    root = tree.body or tree.root
    visible = visible_text(tree)
    placeholder = next((p for p in PLACEHOLDERS if p in visible), None)
    dates = DateCache(now)
    if item_selector:
        nodes = tree.css(item_selector)
        items = tuple(
            _item(n, base_url, dates, date_selector=date_selector, title_selector=title_selector)
            for n in nodes
        )
        empty = None
        if not items and not scripted(html):
            empty = emptylist.empty_container(tree, item_selector)
        return Listing(items, placeholder, "selector", empty)
    group = find_list(root, dates) if root is not None else []
    items = tuple(
        i for i in (_item(n, base_url, dates, title_selector=title_selector) for n in group)
        if i.title or i.when
    )  # fmt: skip
    empty = None
    if not items and root is not None and not scripted(html):
        empty = emptylist.empty_list(root)
    return Listing(items, placeholder, "auto", empty)


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


def _item(
    node: LexborNode,
    base_url: str,
    dates: DateCache,
    *,
    date_selector: str | None = None,
    title_selector: str | None = None,
) -> Item:
    now = dates.now
    # A plain "a" query and a Python filter: a `:not()` selector costs more to compile
    # than to run.
    anchors = [a for a in ([node] if node.tag == "a" else node.css("a")) if is_link(a)]
    title_node: LexborNode | None = node.css_first(title_selector) if title_selector else None
    link, title = _title_anchor(anchors)
    if title_node is not None:
        title = _title(title_node)
    else:
        title_node = link
    title_text = title_node.text(separator=" ") if title_node is not None else ""
    href = (link.attributes.get("href") or "").strip() if link is not None else ""
    url = _join(base_url, href) if href else ""
    from_url: DateMatch | None = None
    if url and URL_HINT.search(url):
        # A root-relative or absolute href dates as its path alone (read once already
        # while finding the list); a relative one needs the joined URL's path.
        absolute = href.startswith(("http://", "https://")) or (
            href.startswith("/") and not href.startswith("//")
        )
        from_url = dates.url("/" + href.lstrip("./")) if absolute else url_date(url, now=now)
    url_when = from_url.when if from_url is not None and from_url.precision == "day" else None

    text = node.text(separator=" ")
    if date_selector:
        date_node = node.css_first(date_selector)
        text = date_node.text(separator=" ") if date_node is not None else ""
        title_text = ""
    found, source = _pick_date(text[:MAX_ITEM_CHARS], title_text, dates)
    if found is not None:
        when = found.when
        written = text[found.start : found.end].strip()
        # [11-03] beside /t20241103_1.html: the URL knows the year.
        if (
            found.year_inferred
            and url_when is not None
            and (url_when.month, url_when.day) == (when.month, when.day)
        ):
            when = when.replace(year=url_when.year)
        if source == "title" and written:
            # The date styled inside the link is not part of the title.
            title = " ".join(title.replace(written, " ").split()).strip(" -|[]()（）")
        return Item(title, url, when, written, source, url_when)
    if from_url is not None:
        return Item(title, url, from_url.when, urlsplit(url).path, "url", url_when)
    return Item(title, url, None, "", "text", url_when)


def _join(base_url: str, href: str) -> str:
    # Fast paths for the two common forms; urljoin for the rest (./x, ../x, x).
    if href.startswith(("http://", "https://")):
        return href
    if href.startswith("/") and not href.startswith("//"):
        scheme, _, rest = base_url.partition("://")
        return f"{scheme}://{rest.split('/', 1)[0]}{href}"
    return urljoin(base_url, href)


def _pick_date(text: str, title_text: str, cache: DateCache) -> tuple[DateMatch | None, Source]:
    dates = cache.find(text) if DATE_HINT.search(text) else []
    if not dates:
        return None, "text"
    lo = text.find(title_text) if title_text.strip() else -1
    hi = lo + len(title_text)
    outside = [m for m in dates if lo < 0 or m.end <= lo or m.start >= hi]
    if outside:
        # Several dates beside the title (成文日期 and 发布日期): the newest is when the
        # item was last published.
        return max(outside, key=lambda m: m.when), "text"
    # Only dates inside the link: a date span styled within the <a> usually trails it.
    return dates[-1], "title"


def _title_anchor(anchors: list[LexborNode]) -> tuple[LexborNode | None, str]:
    # The item's title link is its longest one ("[通知公告]" category links are short).
    best, best_title = None, ""
    for a in anchors:
        title = _title(a)
        if best is None or len(title) > len(best_title):
            best, best_title = a, title
    return best, best_title


def _title(node: LexborNode) -> str:
    attr = (node.attributes.get("title") or "").strip()
    text = " ".join(node.text(separator=" ").split())
    # The title attribute holds the untruncated title ("关于开展…" shown, full one in it).
    return attr if attr and (len(attr) >= len(text) or text.endswith(("…", "..."))) else text
