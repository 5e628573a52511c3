"""How the `board` check reads a board's list, page by page: HTML list pages (next link
or URL template) or a JSON list API (page number, row offset or cursor), at most
`max_pages` per run. A first page that cannot be read is the run's failure; a later one
ends the reading with a note for the evidence. Rows that show no date at all (徐州 12345
公示) are dated by their own page, once: later runs take the tracked posting time.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, replace
from functools import partial

from probes.boards.apilist import api_page
from probes.boards.parse import ListPage, parse_detail, parse_list
from probes.boards.status import board_words
from probes.boards.summary import interim_rule
from probes.config.board import BoardApi, BoardSpec
from probes.kinds.apipages import ApiError, fetch_page, readable, warm_up
from probes.kinds.context import CheckContext
from probes.model import Failure, ParsedMessage
from probes.pages.jsonlist import next_value
from probes.state import board as tracked_store


@dataclass(slots=True)
class Read:
    """What the list pages of one run gave: messages by id, the first page, pages read,
    notes for the evidence, or why the first page could not be read."""

    seen: dict[str, ParsedMessage] = field(default_factory=dict)
    first: ListPage | None = None
    pages: int = 0
    message_pages: int = 0  # read to date rows without a date
    notes: list[str] = field(default_factory=list)
    failure: tuple[str, Failure | None] | None = None

    def add(self, page: ListPage) -> None:
        self.pages += 1
        self.first = self.first or page
        for message in page.messages:
            self.seen.setdefault(message.id, message)

    def stop(self, where: str, line: str, failure: Failure | None) -> None:
        """A page that could not be read: the run's failure if it is the first."""
        if self.first is None:
            self.failure = (f"{where}: {line}", failure)
        else:
            self.notes.append(f"{where}: {line}; later pages not read")


async def read_pages(spec: BoardSpec, ctx: CheckContext, url: str, now: dt.datetime) -> Read:
    """The HTML list pages from `url`, by next link or URL template, at most `max_pages`."""
    read = Read()
    page_url: str | None = url
    visited: set[str] = set()
    while page_url is not None and read.pages < spec.max_pages and page_url not in visited:
        visited.add(page_url)
        got = readable(await ctx.fetch(page_url))
        if isinstance(got, tuple):
            where = f"list page {page_url}" if read.first is None else (
                f"list page {read.pages + 1} ({page_url})")  # fmt: skip
            read.stop(where, *got)
            break
        page = await ctx.read(got.content, partial(
            parse_list, got.text, got.url, spec.selectors, now=now, id_pattern=spec.id_pattern,
            next_page=spec.next_page, words=board_words(spec),
        ))  # fmt: skip
        read.add(await _date_rows(spec, ctx, page, now, read))
        if not page.messages:
            break
        page_url = _next_page(spec, page, read.pages + 1)
    return read


async def read_api(spec: BoardSpec, api: BoardApi, ctx: CheckContext, now: dt.datetime) -> Read:
    """The list API's pages, by page number, offset or cursor, at most `max_pages`."""
    read = Read()
    words, interim = board_words(spec), interim_rule(spec)
    paging = api.paging
    value: str | int | None = paging.start if paging else None
    asked: set[str] = set()
    cookies, note = await warm_up(api, ctx)
    if note is not None:
        read.notes.append(note)
    while value is not None and read.pages < spec.max_pages and str(value) not in asked:
        asked.add(str(value))
        got = await fetch_page(api, ctx, value, cookies, read.pages + 1)
        if isinstance(got, ApiError):
            read.stop(got.where, got.line, got.failure)
            break
        answer, cookies = got.answer, got.cookies
        page = api_page(answer.items, api, now=now, words=words, interim=interim)
        read.add(page)
        if not page.messages or paging is None:
            break
        value = next_value(
            paging.by, value, step=paging.step, last_item=answer.items[-1],
            document=answer.document, cursor=paging.cursor,
            cursor_in_response=paging.cursor_in_response,
        )  # fmt: skip
    return read


async def _date_rows(
    spec: BoardSpec, ctx: CheckContext, page: ListPage, now: dt.datetime, read: Read
) -> ListPage:
    """`page` with its undated rows dated: by the state for messages already tracked, else
    by their own page (within `max_detail_pages`); those that stay undated are skipped."""
    if not page.undated:
        return page
    known = tracked_store.posted_times(ctx.store, ctx.channel.name, (u.id for u in page.undated))
    messages, skipped = list(page.messages), list(page.skipped)
    words, interim = board_words(spec), interim_rule(spec)
    for row in page.undated:
        if row.id in known:
            messages.append(row.dated(known[row.id]))
            continue
        if read.message_pages >= spec.max_detail_pages or ctx.remaining() <= 0:
            skipped.append(f"no posting date in row {row.title[:30]!r} (page not read yet)")
            continue
        read.message_pages += 1
        got = readable(await ctx.fetch(row.url))
        detail = (
            None if isinstance(got, tuple)
            else await ctx.read(got.content, partial(
                parse_detail, got.text, spec.detail, now=now, words=words, interim=interim))
        )  # fmt: skip
        if detail is None or detail.posted is None:
            skipped.append(f"no posting date in row {row.title[:30]!r} nor on its page")
            continue
        answered = row.answered if row.answered is not None else detail.answered
        messages.append(
            ParsedMessage(row.id, row.title, row.url, detail.posted, answered,
                          row.replied or detail.replied, detail.reply_text)
        )  # fmt: skip
    return replace(page, messages=tuple(messages), skipped=tuple(skipped), undated=())


def api_pages(spec: BoardSpec) -> bool:
    """True when the board's list API pages on (it reads more than page 1)."""
    return spec.api is not None and spec.api.paging is not None


def _next_page(spec: BoardSpec, page: ListPage, number: int) -> str | None:
    if spec.page_url_template is not None:
        offset = (number - 1) * (spec.page_size or 0)
        return spec.page_url_template.replace("{page}", str(number)).replace(
            "{offset}", str(offset)
        )
    return page.next_url
