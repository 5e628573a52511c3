"""Reading a board's pages: the messages of a list page (id, title, link, posted time,
status, reply time) and, from a message's own page, its reply text and reply time.

Selectors come from config; whatever is not configured is auto-detected: message rows are
repeated sibling blocks holding a link and a date (the columns' list detector,
`probes.pages.listsearch`), or, on lists that print no date, holding a link and a status
word or a dated message number; each row's cells are read element by element
(`probes.boards.cells`: link, title, status, posted and reply time). A list's header row
names what its time cells are and a pager row is no message: neither is a row
(`probes.boards.headers`). A 大汉 record-range answer (莱芜's `dataproxy_…action`, or a page's
`<datastore>` data island) is read as the page of its records' markup. A row without a
link or a posted date is skipped and counted, so the caller can tell a changed layout from
an empty board.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from urllib.parse import urldefrag, urljoin

from selectolax.lexbor import LexborHTMLParser, LexborNode

from probes.boards.boilerplate import Acknowledgement
from probes.boards.cells import Undated, read_row, receipt_day, shown_status, stated_status, texts
from probes.boards.headers import POSTED_LABELS, split_header
from probes.boards.links import title_column, titled
from probes.boards.status import DEFAULT_WORDS, StatusWords
from probes.config.board import BoardSelectors, DetailPage
from probes.model import ParsedMessage
from probes.pages import datastore
from probes.pages.dates import find_dates, parse_datetime
from probes.pages.listsearch import EVIDENCE_SHARE, DateCache, find_list, find_rows
from probes.pages.text import followable

MAX_REPLY = 20_000
# Texts of a pager row: page link words and page or record counts.
_PAGER_LINK = re.compile(
    r"首页|尾页|末页|最后一页|第一页|[上下前后]一?页|跳转|跳至|转到|GO|[<>«»‹›]", re.I
)
_PAGER_REST = re.compile(
    r"当前|共|第|每页|页次|页码|总数|确定|显示|\d+|[/页条项篇记录到至总计每\[\]【】()（）.…:：,，|\s]"
)


@dataclass(frozen=True, slots=True)
class ListPage:
    """The messages of one list page, the next page's URL, and what could not be read.

    rows: elements taken as message rows (parsed or not); skipped: why rows were dropped;
    undated: rows read but for their posting time, which only their own page can give.
    """

    messages: tuple[ParsedMessage, ...]
    next_url: str | None
    rows: int
    skipped: tuple[str, ...] = ()
    item_selector: str = ""
    undated: tuple[Undated, ...] = ()


@dataclass(frozen=True, slots=True)
class Detail:
    """What a message's own page says: answered or not (None: cannot tell), reply time
    and reply text when found (an interim reply's text with answered False), and its
    posting time when found."""

    answered: bool | None
    replied: float | None = None
    reply_text: str | None = None
    posted: float | None = None


def parse_list(
    html: str,
    page_url: str,
    selectors: BoardSelectors,
    *,
    now: dt.datetime,
    id_pattern: str | None = None,
    next_page: str | None = None,
    words: StatusWords = DEFAULT_WORDS,
) -> ListPage:
    """The messages on one list page (an HTML page, or a 大汉 record-range answer)."""
    if (island := datastore.records(html)) is not None:
        html = _records_page(island.markup)
    tree = LexborHTMLParser(html)
    if selectors.item is not None:
        found, item_selector = tree.css(selectors.item), selectors.item
    else:
        found, item_selector = _auto_rows(tree, now, words)
    # A header row (长沙's first) names the cells and a pager row (its last) is no message:
    # neither is a row, so neither counts as one skipped.
    rows, columns = split_header([r for r in found if not is_pager(r)])
    messages: list[ParsedMessage] = []
    skipped: list[str] = []
    undated: list[Undated] = []
    column = 0 if selectors.link else title_column(rows, now=now, words=words)
    for row in rows:
        parsed = read_row(
            row, page_url, selectors, now=now, id_pattern=id_pattern, words=words,
            column=column, columns=columns,
        )  # fmt: skip
        if isinstance(parsed, str):
            skipped.append(parsed)
        elif isinstance(parsed, Undated):
            undated.append(parsed)
        else:
            messages.append(parsed)
    return ListPage(
        tuple(messages), _next_url(tree, page_url, next_page), len(rows), tuple(skipped),
        item_selector, tuple(undated),
    )  # fmt: skip


def parse_detail(
    html: str,
    detail: DetailPage | None,
    *,
    now: dt.datetime,
    words: StatusWords = DEFAULT_WORDS,
    interim: Acknowledgement | None = None,
) -> Detail:
    """A message page's reply. With `detail` selectors the reply blocks decide: the first
    block that says something is the answer, with its time; blocks that only acknowledge
    or forward (`interim`) leave the message in progress. Without selectors, the page's
    status field does (a text that is only a status word, else a short one holding one)."""
    tree = LexborHTMLParser(html)
    posted = _posted(tree, detail, now)
    if detail is not None and detail.reply is not None:
        blocks = [" ".join(n.text(separator=" ").split()) for n in tree.css(detail.reply)]
        times = tree.css(detail.reply_date) if detail.reply_date is not None else []
        said = [(i, text) for i, text in enumerate(blocks) if text]
        for index, text in said:
            if interim is not None and interim.only(text):
                continue
            when: dt.datetime | None
            if detail.reply_date is not None:
                # The n-th reply time belongs to the n-th reply; one time for several
                # blocks is the first answer's.
                node = times[index] if index < len(times) else (times[0] if times else None)
                when = parse_datetime(node.text(), now=now) if node is not None else None
            else:
                when = parse_datetime(text, now=now)
            return Detail(True, when.timestamp() if when else None, text[:MAX_REPLY], posted)
        if said:  # only interim replies: in progress, the text kept for the detector
            return Detail(False, None, said[0][1][:MAX_REPLY], posted)
    # The page's status field, read per element: the letter itself may well say 未处理.
    status = stated_status(texts(tree.body), words) if tree.body is not None else None
    return Detail(None if status is None else status.answered, posted=posted)


def _posted(tree: LexborHTMLParser, detail: DetailPage | None, now: dt.datetime) -> float | None:
    """A message page's posting time: by selector, else the first date in or right after
    a posting-time label (the page header's "today" widget is no posting time)."""
    when: dt.datetime | None = None
    if detail is not None and detail.posted is not None:
        node = tree.css_first(detail.posted)
        when = parse_datetime(node.text(separator=" "), now=now) if node is not None else None
    elif tree.body is not None:
        segments = texts(tree.body)
        for i, seg in enumerate(segments):
            if any(label in seg for label in POSTED_LABELS):
                dates = [d for s in segments[i : i + 3] for d in find_dates(s, now=now)]
                if dates:
                    when = dates[0].when
                    break
    return when.timestamp() if when is not None else None


def _auto_rows(
    tree: LexborHTMLParser, now: dt.datetime, words: StatusWords
) -> tuple[list[LexborNode], str]:
    """The page's message rows, found as the columns' lists are (`probes.pages.listsearch`):
    repeated sibling blocks of any element holding a link (in an href or an onclick) and a
    date. Rows that print no date (徐州 12345 公示; 大连, dated by its message numbers) are
    found as row-shaped siblings with a link that can be a title and a status (a word or an
    icon) or a message number starting with a day (`find_rows` with that evidence); such a
    group is taken when it has more rows than the dated list (a sidebar of dated notices
    beside the messages is not the board) and that list's rows show no status."""
    root = tree.body or tree.root
    if root is None:
        return [], ""
    rows = find_list(root, DateCache(now))

    def evidence(row: LexborNode) -> bool:
        segments = texts(row)
        shown = shown_status(row, segments, words) is not None or receipt_day(segments, now)
        return bool(shown) and titled(row, words, now)

    dateless = find_rows(root, evidence, above=len(rows))
    # A dated list whose rows show statuses is the board's, whatever else the page lists.
    if len(dateless) > len(rows) and sum(map(evidence, rows)) < EVIDENCE_SHARE * max(1, len(rows)):
        return dateless, f"auto (no dates): {dateless[0].tag}"
    return rows, f"auto: {rows[0].tag}" if rows else ""


def is_pager(row: LexborNode) -> bool:
    """True for a pager row (`共57108条记录 第1/4759页 首页 下一页 尾页`, `[1] [2] 下一页`):
    nothing but page link words and page or record counts, one page link word at least."""
    text = " ".join(texts(row))
    return bool(_PAGER_LINK.search(text)) and not _PAGER_REST.sub("", _PAGER_LINK.sub("", text))


def _records_page(records: tuple[str, ...]) -> str:
    """A page of 大汉 records' markup: table rows (莱芜 `tr.tr_css`) inside a table, as an
    HTML parser drops rows outside one; other records inside a block."""
    inner = "".join(records)
    if records[0].lstrip()[:3].lower() == "<tr":
        return f"<html><body><table>{inner}</table></body></html>"
    return f"<html><body><div>{inner}</div></body></html>"


def _next_url(tree: LexborHTMLParser, page_url: str, selector: str | None) -> str | None:
    if selector is None:
        return None
    node = tree.css_first(selector)
    href = node.attributes.get("href") if node is not None else None
    if not href or not followable(href):
        return None
    url = urldefrag(urljoin(page_url, href.strip())).url
    return None if url == page_url else url
