"""Reading a board's pages: the messages of a list page (id, title, link, posted time,
status, reply time) and, from a message's own page, its reply text and reply time.

Selectors come from config; whatever is not configured is auto-detected: message rows are
repeated sibling blocks holding a link and a date (the columns' list detector,
`probes.pages.listsearch`), the status is the first status word in the row
(`probes.boards.status`), the posted time the first date outside the title
(`probes.pages.dates`), the reply time a second date in an answered row. A row without a
link or a posted date is skipped and counted, so the caller can tell a changed layout from an
empty board.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from urllib.parse import urldefrag, urljoin

from selectolax.lexbor import LexborHTMLParser, LexborNode

from probes.boards.status import classify
from probes.config.board import BoardSelectors, DetailPage
from probes.model import ParsedMessage
from probes.pages.dates import find_dates, parse_datetime
from probes.pages.listsearch import DateCache, find_list
from probes.pages.text import followable, visible_text

MAX_TITLE = 200
MAX_REPLY = 20_000


@dataclass(frozen=True, slots=True)
class ListPage:
    """The messages of one list page, the next page's URL, and what could not be read.

    rows: elements taken as message rows (parsed or not); skipped: why rows were dropped.
    """

    messages: tuple[ParsedMessage, ...]
    next_url: str | None
    rows: int
    skipped: tuple[str, ...] = ()
    item_selector: str = ""


@dataclass(frozen=True, slots=True)
class Detail:
    """What a message's own page says: answered or not (None: cannot tell), reply time
    and reply text when found."""

    answered: bool | None
    replied: float | None = None
    reply_text: str | None = None


def parse_list(
    html: str,
    page_url: str,
    selectors: BoardSelectors,
    *,
    now: dt.datetime,
    id_pattern: str | None = None,
    next_page: str | None = None,
) -> ListPage:
    """The messages on one list page."""
    tree = LexborHTMLParser(html)
    if selectors.item is not None:
        rows, item_selector = tree.css(selectors.item), selectors.item
    else:
        rows, item_selector = _auto_rows(tree, now)
    messages: list[ParsedMessage] = []
    skipped: list[str] = []
    for row in rows:
        parsed = _row(row, page_url, selectors, now, id_pattern)
        if isinstance(parsed, str):
            skipped.append(parsed)
        else:
            messages.append(parsed)
    return ListPage(
        tuple(messages), _next_url(tree, page_url, next_page), len(rows), tuple(skipped),
        item_selector,
    )  # fmt: skip


def parse_detail(html: str, detail: DetailPage | None, *, now: dt.datetime) -> Detail:
    """A message page's reply. With `detail` selectors the reply block decides (present
    and not empty: answered); without, the page's status words do."""
    tree = LexborHTMLParser(html)
    if detail is not None:
        node = tree.css_first(detail.reply)
        text = " ".join(node.text(separator=" ").split()) if node is not None else ""
        if text:
            when: dt.datetime | None = None
            if detail.reply_date is not None:
                date_node = tree.css_first(detail.reply_date)
                if date_node is not None:
                    when = parse_datetime(date_node.text(), now=now)
            elif node is not None:
                when = parse_datetime(text, now=now)
            return Detail(True, when.timestamp() if when else None, text[:MAX_REPLY])
    return Detail(classify(visible_text(tree)))


def _row(
    row: LexborNode,
    page_url: str,
    sel: BoardSelectors,
    now: dt.datetime,
    id_pattern: str | None,
) -> ParsedMessage | str:
    link = row.css_first(sel.link or "a[href]")
    href = link.attributes.get("href") if link is not None else None
    if link is None or not href or not followable(href):
        return "a row without a message link"
    url = urldefrag(urljoin(page_url, href.strip())).url
    title_node = row.css_first(sel.title) if sel.title else link
    title = " ".join((title_node.text() if title_node is not None else "").split())
    title = title or (link.attributes.get("title") or "").strip()
    row_text = " ".join(row.text(separator=" ").split())
    # Dates written in the title (关于2024年3月停水的问题) are not the posting date.
    dated_text = row_text.replace(title, " ") if title else row_text
    dates = [d.when for d in find_dates(dated_text, now=now)]
    posted = _selected_date(row, sel.date, now) if sel.date else (dates[0] if dates else None)
    if posted is None:
        return f"no posting date in row {title[:30]!r}"
    status_node = row.css_first(sel.status) if sel.status else None
    answered = classify(status_node.text() if status_node is not None else row_text)
    replied: dt.datetime | None = None
    if sel.reply_date:
        replied = _selected_date(row, sel.reply_date, now)
    elif answered and len(dates) > 1:
        replied = max(dates[1:])
    if replied is not None and answered is None:
        answered = True  # a reply time is an answer even without a status word
    return ParsedMessage(
        id=_message_id(url, id_pattern),
        title=title[:MAX_TITLE],
        url=url,
        posted=posted.timestamp(),
        answered=answered,
        replied=replied.timestamp() if replied is not None else None,
    )


def _selected_date(row: LexborNode, selector: str, now: dt.datetime) -> dt.datetime | None:
    node = row.css_first(selector)
    return parse_datetime(node.text(), now=now) if node is not None else None


def _message_id(url: str, id_pattern: str | None) -> str:
    if id_pattern is not None and (m := re.search(id_pattern, url)):
        return m.group(1)[:200]
    return url[:500]


def _auto_rows(tree: LexborHTMLParser, now: dt.datetime) -> tuple[list[LexborNode], str]:
    """The page's list of dated link-holding rows, found as the columns' lists are
    (`probes.pages.listsearch`): repeated sibling blocks of any element."""
    root = tree.body or tree.root
    rows = find_list(root, DateCache(now)) if root is not None else []
    return rows, f"auto: {rows[0].tag}" if rows else ""


def _next_url(tree: LexborHTMLParser, page_url: str, selector: str | None) -> str | None:
    if selector is None:
        return None
    node = tree.css_first(selector)
    href = node.attributes.get("href") if node is not None else None
    if not href or not followable(href):
        return None
    url = urldefrag(urljoin(page_url, href.strip())).url
    return None if url == page_url else url
