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

from probes.pages import datastore, emptylist
from probes.pages.chrome import is_chrome
from probes.pages.dates import DateMatch, url_date
from probes.pages.emptylist import scripted
from probes.pages.listsearch import (
    DATE_HINT,
    MAX_ITEM_CHARS,
    MIN_ROWS,
    URL_HINT,
    DateCache,
    find_list,
    find_rows,
)
from probes.pages.text import (
    anchors,
    followable,
    node_text,
    script_link,
    strip_non_content,
    visible_text,
)

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
Source = Literal["text", "title", "url"]
MAX_TITLE = 200
# A date element's text: a date and its label, never a sentence.
_MAX_DATE_TEXT = 40
_NOT_DATE_TAGS = frozenset({"script", "style", "select", "option", "textarea"})
_DATE_LABEL = re.compile(
    r"[\s:：\[\]【】()（）<>《》|/\-·]|发布|公开|公布|成文|发文|印发|更新|日期|时间|时|间"
)


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
    mode: how the items were found (auto, selector, feed, datastore: 大汉 JCMS records, or
        api: a JSON list API's items, `probes.kinds.freshness_api`).
    empty: when no item was found, the column's list element the page shows empty
        (`ul.news-list`, or the configured selector's container): the column is blank.
        None when the page's layout cannot be read (see `probes.pages.emptylist`).
    script: why the list is rendered by script in the browser (a client-side item
        template; a page without items that loads its content by script), else None.
        Such a list is not in the HTML: no date elsewhere on the page speaks for it.
    total: the column's record count when the page states it (JCMS `totalrecord`).
    """

    items: tuple[Item, ...]
    placeholder: str | None = None
    mode: Literal["auto", "selector", "feed", "datastore", "api"] = "auto"
    empty: str | None = None
    script: str | None = None
    total: int | None = None

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
    dates = DateCache(now)
    if not item_selector and (island := datastore.records(html)) is not None:
        return _records(island, base_url, dates, title_selector)
    # Scripts and styles go before parsing: their text is not the page's, and "暂无数据"
    # in a JS template must not make a column blank.
    tree = LexborHTMLParser(strip_non_content(html))
    root = tree.body or tree.root
    visible = visible_text(tree)
    placeholder = next((p for p in PLACEHOLDERS if p in visible), None)
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
    items = _items(group, base_url, dates, title_selector)
    if len(items) < MIN_ROWS and (script := _rendered_by_script(html, root)) is not None:
        # The list is the script's; a date or two found elsewhere is not its date.
        return Listing((), placeholder, "auto", script=script)
    if not items and root is not None:
        items = _items(find_rows(root), base_url, dates, title_selector)
    if items:
        return Listing(items, placeholder, "auto")
    if scripted(html):
        return Listing((), placeholder, "auto", script="the page loads its content by script")
    empty = emptylist.empty_list(root) if root is not None else None
    return Listing((), placeholder, "auto", empty)


def _rendered_by_script(html: str, root: LexborNode | None) -> str | None:
    """Why the page's list is drawn by script (a client-side item template, or an empty
    list element on a page that loads content by script), or None."""
    if (template := emptylist.item_template(html)) is not None:
        return template
    if root is not None and scripted(html) and (empty := emptylist.empty_list(root)):
        return f"the list {empty} is empty and the page fills it by script"
    return None


def _items(
    nodes: list[LexborNode], base_url: str, dates: DateCache, title_selector: str | None
) -> tuple[Item, ...]:
    found = (_item(n, base_url, dates, title_selector=title_selector) for n in nodes)
    return tuple(i for i in found if i.title or i.when)


def _records(
    island: datastore.Records, base_url: str, dates: DateCache, title_selector: str | None
) -> Listing:
    """The items of 大汉 JCMS records, one per record, in the records' order."""
    wrapped = "".join(f"<jcms-record>{m}</jcms-record>" for m in island.markup)
    tree = LexborHTMLParser(f"<html><body>{strip_non_content(wrapped)}</body></html>")
    nodes = [n for n in tree.css("jcms-record") if n.parent is not None and n.parent.tag == "body"]
    items = _items(nodes, base_url, dates, title_selector)
    return Listing(items, mode="datastore", total=island.total)


def _item(
    node: LexborNode,
    base_url: str,
    dates: DateCache,
    *,
    date_selector: str | None = None,
    title_selector: str | None = None,
) -> Item:
    now = dates.now
    title_node: LexborNode | None = node.css_first(title_selector) if title_selector else None
    link, title, href, title_text = _title_link(node)
    if link is None and (opener := _opener(node)) is not None:
        # Opened by script: onclick="window.open('…')" names the item's page; the element
        # holding it is the title, unless it is the whole item.
        href = script_link(opener) or ""
        if opener.mem_id != node.mem_id:
            link, title = opener, _title(opener)
            title_text = opener.text(separator=" ")
    if link is None and title_node is None:
        # A row opened by script (every anchor `javascript:`): its text names it.
        title = node_text(node)[:MAX_TITLE]
    if title_node is not None:
        title = _title(title_node)
        title_text = title_node.text(separator=" ")
    url = _join(base_url, href) if href else ""
    from_url: DateMatch | None = None
    if url:
        # A root-relative or absolute href dates as its path alone (read once already
        # while finding the list); a relative one needs the joined URL's path. A URL
        # without a `URL_HINT` carries no date.
        if href.startswith(("http://", "https://")) or (
            href.startswith("/") and not href.startswith("//")
        ):
            from_url = dates.url("/" + href.lstrip("./"))
        elif URL_HINT.search(url):
            from_url = url_date(url, now=now)
    url_when = from_url.when if from_url is not None and from_url.precision == "day" else None

    text = dates.text(node)
    if date_selector:
        date_node = node.css_first(date_selector)
        text = date_node.text(separator=" ") if date_node is not None else ""
        title_text = ""
    elif _ambiguous(text, dates) and (own := _date_element(node, dates)) is not None:
        text, title_text = own, ""
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
        if written and (source == "title" or written in title):
            # The date styled inside the link is not part of the title.
            title = " ".join(title.replace(written, " ").split()).strip(" -|[]()（）")
        return Item(title, url, when, written, source, url_when)
    if from_url is not None:
        return Item(title, url, from_url.when, urlsplit(url).path, "url", url_when)
    return Item(title, url, None, "", "text", url_when)


def _opener(node: LexborNode) -> LexborNode | None:
    """The item itself or its first element whose `onclick` opens a page, if any (the
    query includes `node`)."""
    return next((n for n in node.css("[onclick]") if script_link(n) is not None), None)


def _ambiguous(text: str, dates: DateCache) -> bool:
    """True when the item's text does not settle its date by itself: several dates, or
    more text than is read (a search result's snippet)."""
    return len(text) > MAX_ITEM_CHARS or len(dates.find(text)) > 1


def _date_element(node: LexborNode, dates: DateCache) -> str | None:
    """The text of the item's date element: an element that holds one date and nothing
    else but a label (`<span>2024-11-03</span>`, `<td>发布日期：2024年11月3日</td>`), the
    newest when there are several (成文日期 and 发布日期). Dates in nested lists or chrome
    inside the item (a result's "相似文章") and dates inside prose (a snippet, a title
    naming a day) are not it."""
    best: tuple[dt.datetime, str] | None = None
    for el in node.css("*"):
        if el.tag in _NOT_DATE_TAGS:
            continue
        text = node_text(el)
        if not text or len(text) > _MAX_DATE_TEXT or not DATE_HINT.search(text):
            continue
        found = dates.find(text)
        if len(found) != 1:
            continue
        rest = text[: found[0].start] + text[found[0].end :]
        if _DATE_LABEL.sub("", rest).strip() or _nested(el, node):
            continue
        if best is None or found[0].when > best[0]:
            best = (found[0].when, text)
    return best[1] if best is not None else None


def _nested(el: LexborNode, item: LexborNode) -> bool:
    parent = el.parent
    while parent is not None and parent.mem_id != item.mem_id:
        if parent.tag in ("ul", "ol", "li", "dl") or is_chrome(parent):
            return True
        parent = parent.parent
    return False


def _join(base_url: str, href: str) -> str:
    # Fast paths for the two common forms; urljoin for the rest (./x, ../x, x).
    if href.startswith(("http://", "https://")):
        return href
    if href.startswith("/") and not href.startswith("//"):
        scheme, _, rest = base_url.partition("://")
        return f"{scheme}://{rest.split('/', 1)[0]}{href}"
    return urljoin(base_url, href)


def _pick_date(text: str, title_text: str, cache: DateCache) -> tuple[DateMatch | None, Source]:
    dates = cache.find(text)
    if not dates:
        return None, "text"
    lo = text.find(title_text) if title_text.strip() else -1
    hi = lo + len(title_text)
    if len(dates) == 1:
        # The common item: one date, beside its title or inside it.
        only = dates[0]
        return (only, "text") if lo < 0 or only.end <= lo or only.start >= hi else (only, "title")
    outside = [m for m in dates if lo < 0 or m.end <= lo or m.start >= hi]
    if outside:
        # Several dates beside the title (成文日期 and 发布日期): the newest is when the
        # item was last published.
        return max(outside, key=lambda m: m.when), "text"
    # Only dates inside the link: a date span styled within the <a> usually trails it.
    return dates[-1], "title"


def _title_link(node: LexborNode) -> tuple[LexborNode | None, str, str, str]:
    """The item's title link with its title, href (stripped) and text as read (parts
    joined by spaces): its longest link ("[通知公告]" category links are short), the first
    of equals. (None, "", "", "") when the item holds no link."""
    best: LexborNode | None = None
    best_title = best_href = best_text = ""
    for a in anchors(node):
        attrs = a.attrs
        href = attrs.get("href")
        if not followable(href):
            continue
        text = a.text(separator=" ")
        title = _title_of(attrs.get("title"), text)
        if best is None or len(title) > len(best_title):
            best, best_title, best_href, best_text = a, title, (href or "").strip(), text
    return best, best_title, best_href, best_text


def _title(node: LexborNode) -> str:
    return _title_of(node.attributes.get("title"), node.text(separator=" "))


def _title_of(attr: str | None, raw_text: str) -> str:
    """An element's title from its title attribute and its text as read."""
    parts = raw_text.split()
    text = " ".join(parts)
    attr = (attr or "").strip()
    if not attr:
        return text
    # The title attribute holds the untruncated title ("关于开展…" shown, full one in it).
    shown = len(text) - len(parts) + 1 if parts else 0  # its characters without spaces
    return attr if len(attr) >= shown or text.endswith(("…", "...")) else text
