"""Reading one message row of a board's list: its link, title, posting date, status and
reply date, each from its own element.

Text is never joined across element boundaries: a row is read as the separate texts of its
text nodes, so a status cell 已办理 followed by a title starting with 中 is not 办理中, and a
date cell next to a time cell in another element is not one timestamp by accident. Where
selectors are configured they decide; otherwise:

- the message link is the link with the longest `title` attribute (platforms put the
  full title there; a department link may have a short one), else the first whose text
  is not a status word, a date, a message number or a one-word category (大连's rows are
  five links: 编号, 标题, 类型, 状态, 单位), taking across the page's rows the position whose
  texts differ most (a department link repeats, titles do not); a link written only as
  `onclick="window.open('…')"` counts too;
- the title is that link's text, or its `title` attribute when the text is cut
  (`关于…`, `...`) or empty; when one link wraps the whole row, its first plain cell;
- the status is the first text that is nothing but a status word (`[已回复]`, `状态：办理中`),
  else the first short text holding one (`probes.boards.status`), else an icon's `alt` or
  `title` that is one (links' titles are message titles, never statuses);
- the posted time is the first date outside the title, from a short text (a date cell)
  before any inside a content snippet; the reply time a later date of an
  answered row, or the date under a table's reply-time header (回复时间, 办结时间 …: a date
  there is an answer, an empty cell none, for lists without a status column). A row with
  no date but a message number that starts with the receipt day (`G20190102-0011`) is
  dated by that day.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from urllib.parse import urldefrag, urljoin

from selectolax.lexbor import LexborNode

from probes.boards.status import Status, StatusWords, compact
from probes.config.board import BoardSelectors
from probes.model import ParsedMessage
from probes.pages.dates import find_dates, parse_datetime
from probes.pages.text import followable

MAX_TITLE = 200
# A text this short that holds a status word is a status cell, even with other words
# around it (城建 已办理); longer texts are titles or content snippets.
STATUS_CELL = 16
# A text this long or shorter that holds a date is a date cell (留言时间：2023-05-06 10:22).
DATE_CELL = 40
_CUT = ("…", "...", "..", "。。。", "‥")
_ONCLICK = re.compile(r"""(?:window\.open|location(?:\.href)?\s*=)\s*\(?\s*['"]([^'"]+)['"]""")
# Texts of links next to the message link that name no message.
_GENERIC = frozenset(
    ("查看", "详情", "查看详情", "详细", "详细信息", "更多", "点击查看", "回复", "评价", "查看回复")
)
_NUMBER = re.compile(r"^[A-Za-z0-9_\-#]+$")
_CATEGORY = re.compile(r"^[\[【(（].{1,6}[\]】)）]$")
_RECEIPT_DAY = re.compile(r"^[A-Za-z]{0,4}[-_]?(20\d\d)(\d\d)(\d\d)(?:[-_]?\d+)?$")
_SKIPPED_TAGS = ("script", "style", "noscript", "template")
_ICONS = "img[alt], span[title], i[title], em[title], font[title], td[title], div[title]"
# Table headers of a reply-time column: a date there is the reply, an empty cell no reply.
REPLY_LABELS = frozenset(
    ("回复时间", "答复时间", "办结时间", "反馈时间", "结束时间", "回复日期", "答复日期", "办结日期")
)


@dataclass(frozen=True, slots=True)
class Undated:
    """A message row without any date: its own page must tell when it was posted."""

    id: str
    title: str
    url: str
    answered: bool | None

    def dated(self, posted: float) -> ParsedMessage:
        return ParsedMessage(self.id, self.title, self.url, posted, self.answered)


def read_row(
    row: LexborNode,
    page_url: str,
    sel: BoardSelectors,
    *,
    now: dt.datetime,
    id_pattern: str | None,
    words: StatusWords,
    column: int = 0,
) -> ParsedMessage | Undated | str:
    """One message of a list row, or why the row was skipped (`column`: which plain link
    is the message's, from `title_column`)."""
    found = _message_link(row, page_url, sel, words, now, column)
    if found is None:
        return "a row without a message link"
    link, url = found
    title_node = row.css_first(sel.title) if sel.title else _title_cell(link, words, now)
    title = title_text(title_node, link) if title_node is not None else ""
    reply_cell = None if sel.reply_date else _reply_cell(row)
    segments = texts(row, title_node, reply_cell)
    # Dates of date cells; a date inside a longer text (a content snippet: 我家自2023年5月
    # 起停水…) is the row's date only when no cell holds one.
    dated = [(len(seg) <= DATE_CELL, d.when) for seg in segments for d in find_dates(seg, now=now)]
    dates = [when for cell, when in dated if cell] or [when for _, when in dated]
    if sel.date:
        posted = _selected_date(row, sel.date, now)
    else:
        posted = dates[0] if dates else _receipt_day(segments, now)
    status = _status(row, sel, segments, words)
    answered = None if status is None else status.answered
    if posted is None:
        if sel.date or status is None:
            return f"no posting date in row {title[:30]!r}"
        # A row with a link and a status but no date at all (徐州 12345 公示)
        return Undated(message_id(url, id_pattern), title[:MAX_TITLE], url, answered)
    replied: dt.datetime | None = None
    if sel.reply_date:
        replied = _selected_date(row, sel.reply_date, now)
    elif reply_cell is not None:
        replied = parse_datetime(reply_cell.text(separator=" "), now=now)
        if answered is None and replied is None:
            answered = False  # an empty 办结时间 cell: not closed
    elif answered and len(dates) > 1:
        replied = max(dates[1:])
    if replied is not None and answered is None:
        answered = True  # a reply time is an answer even without a status word
    return ParsedMessage(
        id=message_id(url, id_pattern),
        title=title[:MAX_TITLE],
        url=url,
        posted=posted.timestamp(),
        answered=answered,
        replied=replied.timestamp() if replied is not None else None,
    )


def title_text(node: LexborNode, link: LexborNode | None = None) -> str:
    """An element's text, or its (or its link's) `title` attribute when the text is empty
    or cut short."""
    text = " ".join(node.text(separator=" ").split())
    full = node.attributes.get("title") or (link.attributes.get("title") if link else None)
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


def message_id(url: str, id_pattern: str | None) -> str:
    """A message's id: group 1 of `id_pattern` on its URL, else the URL."""
    if id_pattern is not None and (m := re.search(id_pattern, url)):
        return m.group(1)[:200]
    return url[:500]


def _message_link(
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
        return (node, urldefrag(urljoin(page_url, target)).url) if node and target else None
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
    return node, urldefrag(urljoin(page_url, target)).url


def _links(row: LexborNode) -> list[tuple[LexborNode, str]]:
    return [(n, t) for n in row.css("a, [onclick]") if (t := _target(n))]


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
    href = node.attributes.get("href")
    if followable(href):
        return (href or "").strip()
    if m := _ONCLICK.search(node.attributes.get("onclick") or ""):
        return m.group(1)
    return None


def _plain(text: str, words: StatusWords, now: dt.datetime) -> bool:
    """A text that can be a title: not a status word, date, number or bracketed category."""
    bare = compact(text)
    if len(bare) <= 2 or _NUMBER.match(bare) or _CATEGORY.match(bare) or bare in _GENERIC:
        return False
    if words.exact(bare) is not None:
        return False
    return not any(d.end - d.start >= len(bare) - 2 for d in find_dates(bare, now=now))


def _title_cell(link: LexborNode, words: StatusWords, now: dt.datetime) -> LexborNode:
    """The link itself, or, when it wraps several cells (咸宁: `a > li` × 7), its first
    cell that can be a title."""
    cells = [c for c in link.iter() if c.text(separator=" ").strip()]
    if len(cells) < 2:
        return link
    return next((c for c in cells if _plain(c.text(separator=" "), words, now)), link)


def _reply_cell(row: LexborNode) -> LexborNode | None:
    """The cell of a table row under a reply-time header (回复时间, 办结时间 …)."""
    if row.tag != "tr":
        return None
    table = row.parent
    while table is not None and table.tag != "table":
        table = table.parent
    header = next((tr for tr in table.css("tr") if tr.css_first("th")), None) if table else None
    if header is None or header.mem_id == row.mem_id:
        return None
    labels = [compact(c.text()) for c in header.iter() if c.tag in ("th", "td")]
    cells = [c for c in row.iter() if c.tag in ("th", "td")]
    if len(labels) != len(cells):
        return None
    return next((c for c, label in zip(cells, labels, strict=True) if label in REPLY_LABELS), None)


def texts(row: LexborNode, *skip: LexborNode | None) -> list[str]:
    """The row's texts, one per text node, without those of `skip` and of scripts."""
    skipped: set[int] = set()
    for node in [*skip, *row.css(", ".join(_SKIPPED_TAGS))]:
        if node is not None:
            skipped.update(n.mem_id for n in node.traverse(include_text=True))
    out = []
    for node in row.traverse(include_text=True):
        if node.tag == "-text" and node.mem_id not in skipped:
            text = " ".join((node.text_content or "").split())
            if text:
                out.append(text)
    return out


def _status(
    row: LexborNode, sel: BoardSelectors, segments: list[str], words: StatusWords
) -> Status | None:
    if sel.status:
        node = row.css_first(sel.status)
        return words.status(node.text(separator=" ")) if node is not None else None
    found = stated_status(segments, words)
    if found is None:  # a status shown as an icon: <img alt="已办结">, <span title="办理中">
        icons = (
            n.attributes.get("alt") or n.attributes.get("title") or "" for n in row.css(_ICONS)
        )
        found = next((s for text in icons if (s := words.exact(text)) is not None), None)
    return found


def stated_status(segments: list[str], words: StatusWords) -> Status | None:
    """The first text that is only a status word, else the first short one holding one."""
    for seg in segments:
        if (status := words.exact(seg)) is not None:
            return status
    for seg in segments:
        if len(compact(seg)) <= STATUS_CELL and (status := words.status(seg)) is not None:
            return status
    return None


def _receipt_day(segments: list[str], now: dt.datetime) -> dt.datetime | None:
    for seg in segments:
        if m := _RECEIPT_DAY.match(compact(seg)):
            try:
                day = dt.datetime(int(m[1]), int(m[2]), int(m[3]), tzinfo=now.tzinfo)
            except ValueError:
                continue
            if day <= now:
                return day
    return None


def _selected_date(row: LexborNode, selector: str, now: dt.datetime) -> dt.datetime | None:
    node = row.css_first(selector)
    return parse_datetime(node.text(separator=" "), now=now) if node is not None else None
