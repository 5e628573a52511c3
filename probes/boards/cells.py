"""Reading one message row of a board's list: its link, title, posting date, status and
reply date, each from its own element.

Text is never joined across element boundaries: a row is read as the separate texts of its
text nodes, so a status cell 已办理 followed by a title starting with 中 is not 办理中, and a
date cell next to a time cell in another element is not one timestamp by accident. Where
selectors are configured they decide; otherwise:

- the message link and the title: `probes.boards.links`;
- the status is the first text that is nothing but a status word (`[已回复]`, `状态：办理中`),
  else the first short text holding one (`probes.boards.status`), else an icon's `alt` or
  `title` that is one (links' titles are message titles, never statuses);
- the posted time is the date under a posted-time header (`probes.boards.headers`), else
  the first date outside the title, from a short text (a date cell) before any inside a
  content snippet; the reply time the date under a reply-time header (回复时间, 办结时间,
  处理时间 …), else a later date of an answered row. A row without a status word is
  answered when its reply-time cell holds a date and not answered when that cell is empty
  (lists without a status column: 银川, 长沙, 宿州). A row with no date but a message number
  that starts with the receipt day (`G20190102-0011`) is dated by that day;
- a row with no posting date but with a status, or a reply-time cell, is `Undated` (徐州
  12345 公示, 长沙, 宿州): its own page must tell when it was posted.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from urllib.parse import quote, urljoin

from selectolax.lexbor import LexborNode

from probes.boards.headers import Columns
from probes.boards.links import message_link, title_cell, title_text
from probes.boards.status import Status, StatusWords, compact
from probes.config.board import BoardSelectors
from probes.model import ParsedMessage
from probes.pages.dates import find_dates, parse_datetime
from probes.pages.text import script_call

MAX_TITLE = 200
# A text this short that holds a status word is a status cell, even with other words
# around it (城建 已办理); longer texts are titles or content snippets.
STATUS_CELL = 16
# A text this long or shorter that holds a date is a date cell (留言时间：2023-05-06 10:22).
DATE_CELL = 40
_RECEIPT_DAY = re.compile(r"^[A-Za-z]{0,4}[-_]?(20\d\d)(\d\d)(\d\d)(?:[-_]?\d+)?$")
_SKIPPED_TAGS = ("script", "style", "noscript", "template")
_ICONS = "img[alt], span[title], i[title], em[title], font[title], td[title], div[title]"


@dataclass(frozen=True, slots=True)
class Undated:
    """A message row without a posting date: its own page must tell when it was posted.
    `replied`: the time its reply-time cell shows."""

    id: str
    title: str
    url: str
    answered: bool | None
    replied: float | None = None

    def dated(self, posted: float) -> ParsedMessage:
        return ParsedMessage(self.id, self.title, self.url, posted, self.answered, self.replied)


def read_row(
    row: LexborNode,
    page_url: str,
    sel: BoardSelectors,
    *,
    now: dt.datetime,
    id_pattern: str | None,
    words: StatusWords,
    column: int = 0,
    columns: Columns | None = None,
) -> ParsedMessage | Undated | str:
    """One message of a list row, or why the row was skipped (`column`: which plain link
    is the message's, from `title_column`; `columns`: what the list's header names)."""
    found = message_link(row, page_url, sel, words, now, column)
    if found is None:
        return "a row without a message link"
    link, url = found
    # A link that calls a page function names its message by the call's arguments.
    mid = message_id(url or script_call(link) or "", id_pattern)
    if not url and sel.link_template:
        url = urljoin(page_url, sel.link_template.replace("{id}", quote(mid, safe=",")))
    title_node = row.css_first(sel.title) if sel.title else title_cell(link, words, now)
    title = title_text(title_node, link) if title_node is not None else ""
    reply_cell = None if sel.reply_date or columns is None else columns.cell(row, columns.reply)
    posted_cell = None if sel.date or columns is None else columns.cell(row, columns.posted)
    segments = texts(row, title_node, reply_cell)
    # Dates of date cells; a date inside a longer text (a content snippet: 我家自2023年5月
    # 起停水…) is the row's date only when no cell holds one.
    dated = [(len(seg) <= DATE_CELL, d.when) for seg in segments for d in find_dates(seg, now=now)]
    dates = [when for cell, when in dated if cell] or [when for _, when in dated]
    if sel.date:
        posted = _selected_date(row, sel.date, now)
    elif posted_cell is not None:
        posted = parse_datetime(posted_cell.text(separator=" "), now=now)
    else:
        posted = dates[0] if dates else receipt_day(segments, now)
    status = _status(row, sel, segments, words)
    answered = None if status is None else status.answered
    replied: dt.datetime | None = None
    if sel.reply_date:
        replied = _selected_date(row, sel.reply_date, now)
    elif reply_cell is not None:
        replied = parse_datetime(reply_cell.text(separator=" "), now=now)
        if answered is None:
            # No status column: a reply time is the answer, an empty cell none (银川 办结时间).
            answered = replied is not None
    elif answered and len(dates) > 1 and posted is not None:
        replied = max(dates[1:])
    if replied is not None and answered is None:
        answered = True  # a reply time is an answer even without a status word
    stamp = replied.timestamp() if replied is not None and answered else None
    if posted is None:
        if sel.date or answered is None:
            return f"no posting date in row {title[:30]!r}"
        # A row that tells its state but not when it was posted (徐州 12345 公示; 长沙,
        # 宿州: only a reply time): its own page dates it.
        return Undated(mid, title[:MAX_TITLE], url, answered, stamp)
    return ParsedMessage(
        id=mid,
        title=title[:MAX_TITLE],
        url=url,
        posted=posted.timestamp(),
        answered=answered,
        replied=stamp,
    )


def message_id(url: str, id_pattern: str | None) -> str:
    """A message's id: group 1 of `id_pattern` on its URL (or on the arguments of the page
    function its link calls), else that text."""
    if id_pattern is not None and (m := re.search(id_pattern, url)):
        return m.group(1)[:200]
    return url[:500]


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
    return shown_status(row, segments, words)


def shown_status(row: LexborNode, segments: list[str], words: StatusWords) -> Status | None:
    """The status a row shows: in its texts (`segments`), else as an icon."""
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


def receipt_day(segments: list[str], now: dt.datetime) -> dt.datetime | None:
    """The receipt day a message number starts with (大连 `G20190102-0011`), not after now."""
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
