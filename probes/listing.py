"""Finding a column page's list of dated items: what was published, when, under which title.

Auto mode needs no selectors. A list page is a parent whose same-tag children each carry a
link and a date (`ul > li`, `tbody > tr`, `div.list > div.item`); every link's ancestors
(a few levels up) propose (parent, child tag) groups, and the group with the most dated
children is the column's list. Dates outside that list (the "today is …" header widget, a
sidebar, the footer's copyright and 备案 numbers) therefore never count, and the date
engine (`probes.dates`) refuses the same traps inside the list too.

Within an item the date is looked for outside the title first (a title such as
"关于2024年11月3日停电的通知" names a date that is not the publication date), then in the
title, then in the item's URL (`/t20241103_1.html`); a month-day date (`[11-03]`) takes its
year from the URL when the URL has the same month and day.

Selector mode (`item_selector`, optional `date_selector` and `title_selector`) scopes the
items and the date for odd sites. RSS and Atom feeds are read by `probes.feeds`.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal
from urllib.parse import urljoin, urlsplit

from selectolax.lexbor import LexborHTMLParser, LexborNode

from probes.dates import DateMatch, find_dates, url_date

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
# How far above a link an item's element may be (a > span > div.title > div.item).
MAX_LEVELS = 4
# A list's child longer than this is a page section, not an item: its dates are not one
# item's date, and reading them would make auto mode quadratic on huge pages.
MAX_ITEM_CHARS = 800
# A list inside an element marked as a sidebar (热点, 排行, 推荐, 相关) is never the
# column's own list: a blank or undated column must not borrow its sidebar's dates.
_ASIDE = re.compile(r"side|hot|rank|redian|tuijian|recommend|related|xgxx|paihang", re.I)
# Cheap tests run before the full date engine: most texts and links of a page hold no
# date at all (menus, footers), and these reject them at C speed.
_DATE_HINT = re.compile(r"\d\s?[-/.年月－／．]\s?\d|[〇○零]")
_URL_HINT = re.compile(r"/t?20\d\d")
_NOT_CONTENT = re.compile(
    r"<(script|style|noscript|template)\b[^>]*>.*?</\1\s*>|<!--.*?-->", re.S | re.I
)
# Tags that are never an item's parent group of interest on their own.
_SKIP_PARENTS = frozenset({"html", "head", "#document"})
_SKIP_HREF = ("javascript:", "mailto:", "tel:", "#", "data:")

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
    """

    items: tuple[Item, ...]
    placeholder: str | None = None
    mode: Literal["auto", "selector", "feed"] = "auto"

    @property
    def dated(self) -> tuple[Item, ...]:
        return tuple(i for i in self.items if i.when is not None)

    @property
    def newest(self) -> Item | None:
        dated = self.dated
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
    # Scripts and styles go before parsing (a regex pass is far cheaper than removing the
    # nodes afterwards): their text is not the page's, and "暂无数据" in a JS template
    # must not make a column blank.
    tree = LexborHTMLParser(_NOT_CONTENT.sub(" ", html))
    root = tree.body or tree.root
    visible = root.text(separator=" ") if root is not None else ""
    placeholder = next((p for p in PLACEHOLDERS if p in visible), None)
    if item_selector:
        nodes = tree.css(item_selector)
        items = tuple(
            _item(n, base_url, now, date_selector=date_selector, title_selector=title_selector)
            for n in nodes
        )
        return Listing(items, placeholder, "selector")
    group = _best_group(tree.css("a[href]"), now)
    items = tuple(_item(n, base_url, now, title_selector=title_selector) for n in group)
    return Listing(tuple(i for i in items if i.title or i.when), placeholder, "auto")


def _best_group(anchors: Iterable[LexborNode], now: dt.datetime) -> list[LexborNode]:
    # (parent id, child tag) -> {child id: child}; insertion order is page order.
    groups: dict[tuple[int, str], dict[int, LexborNode]] = {}
    # Nodes holding a link whose URL carries a date: dated even without a date in text.
    url_dated: set[int] = set()
    for a in anchors:
        href = (a.attributes.get("href") or "").strip()
        if not href or href.startswith(_SKIP_HREF):
            continue
        has_url_date = _URL_HINT.search(href) is not None and (
            url_date("/" + href.lstrip("./"), now=now) is not None
        )
        child, parent = a, a.parent
        for _ in range(MAX_LEVELS):
            if parent is None or parent.tag in _SKIP_PARENTS:
                break
            child_id = child.mem_id
            if has_url_date:
                url_dated.add(child_id)
            key = (parent.mem_id, child.tag or "")
            groups.setdefault(key, {}).setdefault(child_id, child)
            child, parent = parent, parent.parent
    dated_cache: dict[int, bool] = {mem_id: True for mem_id in url_dated}
    aside_cache: dict[int, bool] = {}
    best: list[LexborNode] = []
    best_score = (0, 0)
    # Largest groups first: a group smaller than the best dated count cannot win, which
    # skips the many one-link groups of menus without reading their text.
    for children in sorted(groups.values(), key=len, reverse=True):
        if len(children) < best_score[0] or (len(children) == best_score[0] and best_score[1] == 0):
            break
        nodes = [n for n in children.values() if not _in_aside(n, aside_cache)]
        dated = sum(1 for n in nodes if _is_dated(n, now, dated_cache))
        if dated == 0:
            continue
        # Most dated children wins; on a tie the tighter group (fewer undated children,
        # which also prefers the inner level of nested wrappers) wins.
        score = (dated, -(len(nodes) - dated))
        if score > best_score:
            best, best_score = nodes, score
    return best


def _in_aside(node: LexborNode | None, cache: dict[int, bool]) -> bool:
    seen: list[int] = []
    result = False
    while node is not None and node.tag not in _SKIP_PARENTS:
        hit = cache.get(node.mem_id)
        if hit is not None:
            result = hit
            break
        seen.append(node.mem_id)
        attrs = node.attributes
        marks = f"{attrs.get('class') or ''} {attrs.get('id') or ''}"
        if node.tag == "aside" or _ASIDE.search(marks):
            result = True
            break
        node = node.parent
    for mem_id in seen:
        cache[mem_id] = result
    return result


def _is_dated(node: LexborNode, now: dt.datetime, cache: dict[int, bool]) -> bool:
    known = cache.get(node.mem_id)
    if known is not None:
        return known
    text = node.text(separator=" ")
    result = (
        len(text) <= MAX_ITEM_CHARS
        and _DATE_HINT.search(text) is not None
        and bool(find_dates(text, now=now))
    )
    cache[node.mem_id] = result
    return result


def _anchors(node: LexborNode) -> list[LexborNode]:
    if node.tag == "a":
        return [node]
    return node.css("a[href]")


def _item(
    node: LexborNode,
    base_url: str,
    now: dt.datetime,
    *,
    date_selector: str | None = None,
    title_selector: str | None = None,
) -> Item:
    anchors = [
        a
        for a in _anchors(node)
        if not (a.attributes.get("href") or "").strip().startswith(_SKIP_HREF)
    ]
    title_node: LexborNode | None = node.css_first(title_selector) if title_selector else None
    link = _title_anchor(anchors)
    if title_node is None:
        title_node = link
    title_text = title_node.text(separator=" ") if title_node is not None else ""
    title = _title(title_node) if title_node is not None else ""
    href = (link.attributes.get("href") or "").strip() if link is not None else ""
    url = _join(base_url, href) if href else ""
    from_url = url_date(url, now=now) if url else None
    url_when = from_url.when if from_url is not None and from_url.precision == "day" else None

    text = node.text(separator=" ")
    if date_selector:
        date_node = node.css_first(date_selector)
        text = date_node.text(separator=" ") if date_node is not None else ""
        title_text = ""
    found, source = _pick_date(text[:MAX_ITEM_CHARS], title_text, now)
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


def _pick_date(text: str, title_text: str, now: dt.datetime) -> tuple[DateMatch | None, Source]:
    dates = find_dates(text, now=now)
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


def _title_anchor(anchors: list[LexborNode]) -> LexborNode | None:
    # The item's title link is its longest one ("[通知公告]" category links are short).
    best, best_len = None, -1
    for a in anchors:
        length = len(_title(a))
        if length > best_len:
            best, best_len = a, length
    return best


def _title(node: LexborNode) -> str:
    attr = (node.attributes.get("title") or "").strip()
    text = " ".join(node.text(separator=" ").split())
    # The title attribute holds the untruncated title ("关于开展…" shown, full one in it).
    return attr if attr and (len(attr) >= len(text) or text.endswith(("…", "..."))) else text
