"""The `board` check kind: read a message board's list pages (bounded pagination), record
every message in the state store, follow up on waiting messages through their own pages
(so one that left page 1 is still followed until answered), and measure the board from
everything tracked: answered / unanswered / overdue counts, the oldest unanswered
posting, reply latency and the boilerplate share.

Missing evidence is never "all answered": a first page that cannot be fetched, that shows
no messages, or whose rows cannot be read gives success=None with the reason. A parsed
board gives success=True: its findings (overdue, 3-month veto, boilerplate, silence) are
the verdict's to weigh (`probes.verdict.board`).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Sequence
from functools import partial

from probes.boards.parse import ListPage, parse_detail
from probes.boards.status import board_words
from probes.boards.summary import (
    BoardSummary,
    BoilerplateCounts,
    Counter,
    count_boilerplate,
    evidence,
    interim_rule,
    summarise,
)
from probes.config.board import BoardSpec
from probes.findings.board import BoardFindings
from probes.http.fetcher import FetchFailure
from probes.kinds.board_lists import read_api, read_pages
from probes.kinds.context import CheckContext
from probes.model import Failure, Measurement, ParsedMessage, Report
from probes.pages.dates import CN_TZ
from probes.state import board as tracked_store
from probes.state.store import Store


async def check(spec: BoardSpec, ctx: CheckContext) -> Report:
    started = ctx.clock.now()
    now = dt.datetime.fromtimestamp(started, CN_TZ)
    channel = ctx.channel.name
    url = str(spec.url or ctx.channel.url or "")

    def unknown(error: str, failure: Failure | None = None) -> Report:
        return Report(None, failure=failure, error=error, evidence=(error,))

    if not url:
        return unknown("no url: set checks.board.url or the channel's url")
    read = await (
        read_api(spec, spec.api, ctx, now) if spec.api else read_pages(spec, ctx, url, now)
    )
    if read.failure is not None:
        return unknown(*read.failure)
    seen, first, pages, notes = read.seen, read.first, read.pages, read.notes
    if spec.api is not None:
        url = str(spec.api.url)
    assert first is not None
    if not first.messages:
        return unknown(_no_messages(first, tracked_store.count(ctx.store, channel), url),
                       Failure.PARSE_ERROR)  # fmt: skip
    skipped = len(first.skipped)
    if skipped > len(first.messages):
        return unknown(
            f"layout changed? {skipped} of {first.rows} rows on {url} unreadable "
            f"({first.skipped[0]})", Failure.PARSE_ERROR,
        )  # fmt: skip
    new = tracked_store.upsert(ctx.store, channel, seen.values(), started)
    followed = read.message_pages + await _follow_up(
        spec, ctx, seen, now, spec.max_detail_pages - read.message_pages
    )
    messages = tracked_store.messages(ctx.store, channel)
    summary = summarise(messages, spec, started, _cached_counter(ctx.store, channel))
    told = [m for m in messages if m.id in seen]
    if sum(m.answered is None for m in told) * 2 > len(told):
        return unknown(
            f"cannot tell which messages are answered on {url}: no status words in "
            f"{sum(m.answered is None for m in told)} of {len(told)} rows; set "
            "selectors.status or detail.reply",
            Failure.PARSE_ERROR,
        )  # fmt: skip
    head = (
        f"read {pages} list page(s): {len(seen)} messages ({new} new); tracking "
        f"{len(messages)}; {followed} message page(s) read"
    )
    if not spec.paginated:
        notes.append(
            "only list page 1 read: no pagination configured (set next_page, "
            "page_url_template, page_form, postback or api.paging to read older messages)"
        )
    lines = [head, *evidence(summary, spec, started), *notes]
    if skipped:
        lines.append(f"{skipped} row(s) skipped: {first.skipped[0]}")
    return Report(
        True, _findings(summary), evidence=tuple(lines), measurements=_measurements(summary)
    )


def _cached_counter(store: Store, channel: str) -> Counter:
    """`count_boilerplate` behind the state store's cache of its last result."""

    def count(
        texts: Sequence[str], owners: Sequence[str], titles: Sequence[str], spec: BoardSpec
    ) -> BoilerplateCounts:
        digest = hashlib.sha256(spec.model_dump_json().encode())
        for owner, title, text in zip(owners, titles, texts, strict=True):
            digest.update(f"\0{owner}\0{title}\0{text}".encode())
        fingerprint = digest.hexdigest()
        if (hit := tracked_store.boilerplate_cached(store, channel, fingerprint)) is not None:
            return BoilerplateCounts(*hit)
        counts = count_boilerplate(texts, owners, titles, spec)
        tracked_store.boilerplate_store(
            store, channel, fingerprint, counts.replies, counts.flagged, counts.example
        )
        return counts

    return count


def _no_messages(first: ListPage, tracked: int, url: str) -> str:
    auto = not first.item_selector or first.item_selector.startswith("auto:")
    where = "auto-detection" if auto else f"selector {first.item_selector!r}"
    if first.item_selector.startswith("api:"):
        where = f"the list API's item list ({first.item_selector[4:].strip()})"
    if first.rows == 0:
        found = f"{where} matched no message rows on {url}"
    else:
        found = f"{first.rows} rows on {url} but none readable ({first.skipped[0]})"
    if tracked:
        return f"layout changed? {found}, where {tracked} messages were tracked"
    return f"no messages found: {found}; check the selectors"


async def _follow_up(
    spec: BoardSpec,
    ctx: CheckContext,
    seen: dict[str, ParsedMessage],
    now: dt.datetime,
    budget: int,
) -> int:
    """Read message pages, within `budget` (what `max_detail_pages` leaves): first
    messages whose status the list did not tell, then tracked waiting messages no longer
    on the pages read (least recently read first), then (with `detail` configured)
    answered ones whose reply text is not known or only interim."""
    words, interim = board_words(spec), interim_rule(spec)
    tracked = tracked_store.messages(ctx.store, ctx.channel.name)
    todo = [m for m in tracked if m.id in seen and m.answered is None]
    # Least recently read first, so with more waiting messages than max_detail_pages
    # every one is still read in turn.
    gone = [m for m in tracked if m.id not in seen and m.answered is False]
    todo += sorted(gone, key=lambda m: m.last_seen)
    if spec.detail is not None and spec.detail.reply is not None:
        # Answered ones without a known reply, or whose reply was only interim: the
        # first real answer is what counts.
        todo += [
            m
            for m in tracked
            if m.answered and (m.reply_text is None or interim.only(m.reply_text))
        ]
    done = 0
    todo = [m for m in todo if m.url]  # a message of a list API without a page has none
    for m in todo[: max(budget, 0)]:
        if ctx.remaining() <= 0:
            break
        got = await ctx.fetch(m.url)
        done += 1
        if isinstance(got, FetchFailure) or got.status >= 400:
            ctx.log.info("board %s: message page %s unreadable", ctx.channel.name, m.url)
            continue
        detail = await ctx.read(got.content, partial(
            parse_detail, got.text, spec.detail, now=now, words=words, interim=interim
        ))  # fmt: skip
        tracked_store.update_reply(
            ctx.store, ctx.channel.name, m.id, answered=detail.answered,
            replied=detail.replied, reply_text=detail.reply_text, now=now.timestamp(),
        )  # fmt: skip
    return done


def _measurements(s: BoardSummary) -> tuple[Measurement, ...]:
    out = [
        Measurement("board_messages", float(s.answered), (("state", "answered"),)),
        Measurement("board_messages", float(s.answered_late), (("state", "answered_late"),)),
        Measurement("board_messages", float(s.unanswered), (("state", "unanswered"),)),
        Measurement("board_messages", float(s.unknown), (("state", "unknown"),)),
        Measurement("board_overdue_messages", float(s.overdue)),
    ]
    if s.waiting:
        out.append(Measurement("board_oldest_unanswered_timestamp_seconds", s.waiting[0].posted))
    if s.latency.count:
        out.append(
            Measurement("board_reply_latency_seconds", s.latency.p50, (("percentile", "50"),))
        )
        out.append(
            Measurement("board_reply_latency_seconds", s.latency.p90, (("percentile", "90"),))
        )
    if (ratio := s.boilerplate_ratio) is not None:
        out.append(Measurement("board_boilerplate_ratio", ratio))
    return tuple(out)


def _findings(s: BoardSummary) -> BoardFindings:
    return BoardFindings(
        unanswered=s.unanswered,
        overdue=s.overdue,
        vetoed=len(s.vetoed),
        answered_late=s.answered_late,
        replies_with_text=s.replies_with_text,
        boilerplate=s.boilerplate,
        silent=s.silent,
        posted_in_silent_window=s.posted_in_silent_window,
        oldest_unanswered=s.waiting[0].posted if s.waiting else None,
        oldest_vetoed_title=s.vetoed[0].title if s.vetoed else None,
        oldest_overdue_title=next((w.title for w in s.waiting if w.overdue), None),
        deadline_estimated=s.deadline_estimated,
        reposts=len(s.reposts),
        repost_example=s.reposts[0].evidence if s.reposts else None,
    )
